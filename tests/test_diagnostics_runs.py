"""Codes of runs and their files: data files (E408, E410), saved parameters (E411,
E412), checkpoints (E413-E416), a diverging run (E501, exit status 3) and an output
directory that cannot be written (E502)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from diagnostics_common import POISSON, cli_run


def test_e408_data_file_too_large(tmp_path, capsys, monkeypatch):
    from pdeforge.runtime import data
    monkeypatch.setattr(data, "MAX_DATA_BYTES", 100)
    np.savez(tmp_path / "ref.npz", x=np.linspace(0, 1, 50), u=np.zeros(50))
    f = tmp_path / "p.pde"
    f.write_text(POISSON + 'reference u from "ref.npz" (x = x, u = u)\n')
    rc, _, err = cli_run(capsys, ["run", f, "--out", tmp_path / "out", "--quiet"])
    assert rc == 2 and f"{f}:10:18: error[E408]" in err


@pytest.fixture
def params_dir(tmp_path):
    """A params.npz of the right names for POISSON's model, but not trained."""
    from pdeforge.api import loads
    from pdeforge.runtime import io
    import jax
    prob = loads(POISSON)
    d = tmp_path / "run"
    d.mkdir()
    io.write_npz(d / "params.npz", io.flatten(jax.device_get(prob.init(jax.random.PRNGKey(0)))))
    return d


def test_e411_eval_without_exact_or_reference(tmp_path, capsys, params_dir):
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("exact u = x * (1 - x) / 2\n", ""))
    rc, _, err = cli_run(capsys, ["eval", f, "--params", params_dir])
    assert rc == 2 and "error[E411]" in err


def test_e412_parameters_of_another_model(tmp_path, capsys, params_dir):
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("width = 4, depth = 1", "width = 6, depth = 2"))
    rc, _, err = cli_run(capsys, ["eval", f, "--params", params_dir])
    assert rc == 2 and "error[E412]" in err and "Traceback" not in err
    f.write_text(POISSON)
    rc, out, err = cli_run(capsys, ["eval", f, "--params", params_dir])
    assert rc == 0 and "relative L2 error of u" in out


def test_e413_resume_without_checkpoint(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    (tmp_path / "empty").mkdir()
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "empty", "--quiet"])
    assert rc == 2 and "error[E413]" in err


def test_e414_unreadable_checkpoint(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "checkpoint.npz").write_bytes(b"not a zip file")
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "ck", "--quiet"])
    assert rc == 2 and "error[E414]" in err


def _fake_checkpoint(d: Path, text: str, leaves, **meta):
    import hashlib
    from pdeforge.api import loads
    from pdeforge.runtime import checkpoint
    import jax
    prob = loads(text)
    m = {"spec_hash": hashlib.sha256(text.encode()).hexdigest(), "seed": 0, "total": 10,
         "done": 5, "stage": 0, "in_stage": 5, "history": []}
    m.update(meta)
    d.mkdir()
    checkpoint.save(d, prob.init(jax.random.PRNGKey(0)), leaves, m)


def test_e415_checkpoint_optimiser_mismatch(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    _fake_checkpoint(tmp_path / "ck", POISSON, [np.zeros(3)])
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "ck", "--quiet"])
    assert rc == 2 and "error[E415]" in err


def test_e416_checkpoint_of_another_file(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    _fake_checkpoint(tmp_path / "ck", POISSON, [np.zeros(3)], spec_hash="0" * 64)
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "ck", "--quiet"])
    assert rc == 2 and "error[E416]" in err


def test_e501_diverging_run_names_term_and_step(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("equation: -d(u, x, 2) = 1", "equation pde: -d(u, x, 2) = log(x - 2)"))
    rc, out, err = cli_run(capsys, ["run", f, "--out", tmp_path / "out"])
    assert rc == 3, err
    assert "error[E501]" in err and "at step 1" in err and "`pde`" in err and "Traceback" not in err + out
    assert (tmp_path / "out" / "metrics.json").exists()
    json.loads((tmp_path / "out" / "metrics.json").read_text())


def test_e502_output_directory_not_writable(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    (tmp_path / "afile").write_text("")
    rc, _, err = cli_run(capsys, ["run", f, "--out", tmp_path / "afile" / "sub", "--quiet"])
    assert rc == 2 and "error[E502]" in err


@pytest.mark.parametrize("name, write", [
    ("empty.npz", lambda p: np.savez(p, x=np.zeros(0), u=np.zeros(0))),
    ("header_only.csv", lambda p: p.write_text("x,u\n")),
])
def test_e410_empty_reference_is_refused(name, write, tmp_path, capsys):
    """An empty reference used to pass and report a relative error of 0."""
    write(tmp_path / name)
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("exact u = x * (1 - x) / 2\n", "") + f'reference u from "{name}" (x = x, u = u)\n')
    rc, _, err = cli_run(capsys, ["run", f, "--out", tmp_path / "out", "--steps", "0", "--quiet"])
    assert rc == 2 and f"{f}:9:1: error[E410]" in err and "holds no values" in err
    assert "Warning" not in err
