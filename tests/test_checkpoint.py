"""Checkpoints: atomic, pickle-free, and resuming is bit-identical."""
import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

import pdeforge
from pdeforge.runtime import checkpoint, io
from pdeforge.runtime.train import train

SRC = """
problem ck
domain x in [0, 1]
time t in [0, 1]
field u(x, t)
equation: dt(u) = 0.1 * d(u, x, 2)
condition: u = 0 on x = 0, x = 1
condition: u = sin(pi * x) on t = 0
model u = mlp(width = 12, depth = 2)
train:
  points interior = 128, boundary = 32, initial = 32
  adam(lr = 2e-3) for 60 steps
  lbfgs for 40 steps
  log_every = 10
"""


def _leaves(p):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(p)]


def test_resume_is_bit_identical(tmp_path):
    prob = pdeforge.loads(SRC)
    full = train(prob, progress="quiet", out=tmp_path / "a", checkpoint_every=20)

    def interrupt(rec):
        if rec["step"] == 70:     # inside the L-BFGS stage
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(prob, progress="quiet", out=tmp_path / "b", on_log=interrupt)
    meta = checkpoint.load(tmp_path / "b")["meta"]
    assert meta["done"] == 70 and meta["stage"] == 1
    resumed = train(prob, progress="quiet", out=tmp_path / "b", resume=tmp_path / "b")
    assert resumed.steps == 100
    for a, b in zip(_leaves(full.params), _leaves(resumed.params)):
        np.testing.assert_array_equal(a, b)
    assert [h["loss"] for h in full.history] == [h["loss"] for h in resumed.history]


@pytest.mark.parametrize("seconds, expect", [(0.0, True), (1e9, False)])
def test_without_checkpoint_every_a_run_saves_on_a_timer(tmp_path, monkeypatch, seconds, expect):
    """A long run without `checkpoint_every` still leaves checkpoints behind as it goes."""
    train_mod = sys.modules[train.__module__]
    monkeypatch.setattr(train_mod, "CHECKPOINT_SECONDS", seconds)
    seen = {}

    def look(rec):
        if rec["step"] == 50:
            seen["file"] = (tmp_path / "checkpoint.npz").exists()

    adam_only = SRC.replace("  adam(lr = 2e-3) for 60 steps\n  lbfgs for 40 steps", "  adam(lr = 2e-3) for 100 steps")
    assert adam_only != SRC                   # (no L-BFGS stage to compile: the timer is all this tests)
    train(pdeforge.loads(adam_only), progress="quiet", out=tmp_path, on_log=look)
    assert seen["file"] is expect
    if expect:
        assert checkpoint.load(tmp_path)["meta"]["done"] == 100      # the final one replaces it


def test_checkpoint_has_no_pickle(tmp_path):
    prob = pdeforge.loads(SRC)
    train(prob, progress="quiet", out=tmp_path, steps=20)
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_resume_rejects_another_file(tmp_path):
    prob = pdeforge.loads(SRC)
    train(prob, progress="quiet", out=tmp_path, steps=20)
    other = pdeforge.loads(SRC.replace("0.1 *", "0.2 *"))
    with pytest.raises(pdeforge.PdeError) as e:
        train(other, progress="quiet", resume=tmp_path, steps=20)
    assert "E416" in e.value.codes


def test_sigkill_never_leaves_a_truncated_file(tmp_path):
    """SIGKILL a CLI run at several moments: every file left is complete, and --resume finishes the run."""
    spec = tmp_path / "ck.pde"
    spec.write_text(SRC.replace("60 steps", "400 steps"))
    out = tmp_path / "run"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    base = [sys.executable, "-m", "pdeforge", "run", str(spec), "--out", str(out), "--quiet", "--checkpoint-every", "10"]
    kills = 0
    for delay in (1.0, 2.5, 4.0):
        cmd = base + (["--resume", str(out)] if (out / "checkpoint.npz").exists() else [])
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while p.poll() is None and not ((out / "checkpoint.npz").exists() and time.time() - t0 > delay):
            time.sleep(0.02)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        for f in out.glob("*.npz"):
            io.read_npz(f)                          # complete and readable
        for f in out.glob("*.json"):
            json.loads(f.read_text())
    assert kills >= 1
    r = subprocess.run(base + ["--resume", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert m["run"]["steps"] == 440
