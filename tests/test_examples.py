"""Every shipped example: a fast smoke run through the CLI, and an accuracy run
with the file's own recipe against the exact solution or the reference data."""
import json
from pathlib import Path

import numpy as np
import pytest

from pdeforge.cli import main

EX = Path(__file__).resolve().parent.parent / "examples"

# example -> relative L2 target with the recipe written in the file
TARGETS = {
    "poisson1d": 1e-4,
    "heat1d": 1e-3,
    "poisson2d": 1e-3,
    "poisson_neumann": 1e-3,      # hard value and flux conditions; 3.1e-4 measured (soft: 5.1e-3)
}
# too long for the normal suite on 2 cores: the full recipe runs with `-m long`, and the
# normal suite checks what a shorter budget reliably reaches
# (poisson_nd measured 7.4e-5 with L-BFGS 18000; L-BFGS 12000 gave 9.5e-5 on one machine and
# 1.08e-4 on another, hence the longer recipe)
LONG = {"burgers": 1e-3, "burgers_hard": 1e-3, "wave1d": 5e-3, "poisson_nd": 1e-4, "allen_cahn": 5e-3, "heat2d_ms": 1e-2}
# measured at these short budgets: burgers 3.7e-2 (seeds 1 and 2: 6.1e-2, 1.4e-2), burgers_hard
# 2.0e-2 (seeds 1 and 2: 1.2e-2, 9.2e-3; tests/test_hard.py compares the two over seeds), wave1d 4.9e-3,
# allen_cahn 2.9e-2, heat2d_ms 3.2e-2, poisson_nd 2.0e-3 (a plain MLP stalls near 0.5 on allen_cahn;
# PINNacle's best on Wave1d-C is 9.79e-2, on Heat2d-MS 1.73e-2, on PNd 4.58e-4).
# L-BFGS in float32 amplifies the last bit: the same recipe on another CPU has landed 4x off
# (burgers: 1.3e-3 here, 5.8e-3 in CI), hence the margins.
SHORT = {"burgers": ("2000", 0.15), "burgers_hard": ("2000", 6e-2), "wave1d": ("2000", 2e-2), "allen_cahn": ("1500", 6e-2),
         "heat2d_ms": ("600", 7e-2), "poisson_nd": ("400", 5e-3)}


def _run(tmp_path, name, *extra):
    out = tmp_path / name
    rc = main(["run", str(EX / f"{name}.pde"), "--out", str(out), "--quiet", *extra])
    assert rc == 0
    return json.loads((out / "metrics.json").read_text()), out


def _error(tmp_path, name, *extra):
    """Relative L2 of u after a CLI run of the example (with `extra` CLI arguments), after
    checking what every run must leave: a finite, falling loss history, finite predictions
    on the reference's points, the run record, and a `pdeforge eval` of the saved run."""
    m, out = _run(tmp_path, name, *extra)
    hist = m["history"]
    assert all(np.isfinite(h["loss"]) for h in hist) and hist[-1]["loss"] < hist[0]["loss"]
    with np.load(out / "prediction.npz", allow_pickle=False) as z:
        assert np.all(np.isfinite(z["u"])) and z["u"].shape == z["u_ref"].shape
    run = json.loads((out / "run.json").read_text())
    assert len(run["spec_hash"]) == 64 and run["versions"]["jax"]
    assert main(["eval", str(EX / f"{name}.pde"), "--params", str(out)]) == 0
    err = m["final"]["relative_l2"]["u"]
    print(f"{name} {' '.join(extra)}: relative L2 {err:.3e} in {m['run']['wall_s']:.1f} s")
    return err


def test_smoke(tmp_path):
    """The one example run outside `slow`: the cheapest, for a quick `-m 'not slow'`."""
    assert _error(tmp_path, "poisson1d", "--steps", "150") < 1


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_accuracy(tmp_path, name):
    assert _error(tmp_path, name) <= TARGETS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHORT))
def test_accuracy_short_budget(tmp_path, name):
    steps, target = SHORT[name]
    assert _error(tmp_path, name, "--steps", steps) <= target


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(LONG))
def test_accuracy_full(tmp_path, name):
    assert _error(tmp_path, name) <= LONG[name]
