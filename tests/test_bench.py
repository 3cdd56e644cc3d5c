"""The bench refuses to time programs that compute different things: every hand-written
baseline's loss and gradient must agree with the compiled problem's (bench/run.py,
LOSS_RTOL and GRAD_RTOL), or the run stops with a message naming the case and method.
Checked on a tiny Burgers case (the bench's Burgers baselines, a 2 → 2×4 → 1 network),
once as it is and once with a mismatch injected into a baseline."""
import jax
import jax.numpy as jnp
import pytest

from bench import baselines, run

TINY = """
problem burgers_tiny
const nu = 0.01 / pi
domain x in [-1, 1]
time   t in [0, 0.99]
field u(x, t)
equation momentum: dt(u) + u * dx(u) = nu * d(u, x, 2)
condition walls:   u = 0            on x = -1, x = 1
condition start:   u = -sin(pi * x) on t = 0
model u = mlp(width = 4, depth = 2, activation = tanh)
train:
  points interior = 64, boundary = 8, initial = 16
  adam(lr = 1e-3) for 10 steps
"""
METHODS = "compiled,taylor,nested_grad"


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The case name `burgers-tiny` (a Burgers case: the bench picks its Burgers baselines)."""
    f = tmp_path / "burgers_tiny.pde"
    f.write_text(TINY)
    monkeypatch.setitem(run.CASES, "burgers-tiny", str(f))       # an absolute path: HERE / "cases" / it is itself
    return ["burgers-tiny", "--methods", METHODS, "--repeats", "1", "--out", str(tmp_path / "out.json")]


def _res(loss, grad):
    return {"case": "c", "methods": {"compiled": {"rel_loss_diff": 0.0, "max_rel_grad_diff": 0.0},
                                     "taylor": {"rel_loss_diff": loss, "max_rel_grad_diff": grad}}}


def test_agreement_tolerances():
    run.check_agreement(_res(3.2e-7, 2.4e-5))           # the largest differences bench/results.json records
    for loss, grad, what in ((1e-3, 0.0, "loss differs by 1.00e-03"), (0.0, 1e-3, "gradient by 1.00e-03"),
                             (float("nan"), 0.0, "loss differs by nan")):
        with pytest.raises(run.Disagreement) as e:
            run.check_agreement(_res(loss, grad))
        assert "case c" in str(e.value) and "taylor:" in str(e.value) and what in str(e.value)
        assert "compiled:" not in str(e.value)


def test_bench_agrees_on_a_tiny_case(tiny, capsys):
    out = run.main(tiny)
    (case,) = out["cases"]
    assert set(case["methods"]) == set(METHODS.split(","))
    for v in case["methods"].values():
        assert v["rel_loss_diff"] <= run.LOSS_RTOL and v["max_rel_grad_diff"] <= run.GRAD_RTOL
    text = capsys.readouterr().out
    assert "compiled / best hand-written forward (taylor):" in text and "c/nested" in text


def test_bench_fails_on_a_wrong_loss(tiny, monkeypatch, capsys):
    taylor = baselines.Burgers.taylor
    monkeypatch.setattr(baselines.Burgers, "taylor", lambda self, p, b: taylor(self, p, b) * (1 + 1e-3))
    with pytest.raises(SystemExit) as e:
        run.main(tiny)
    msg = str(e.value.code)
    assert e.value.code != 0 and msg.startswith("bench: case burgers-tiny:") and "taylor: loss differs by 1.00e-03" in msg
    assert "nested_grad" not in msg                      # the agreeing baseline is not blamed
    assert "compiled / nested grad" not in capsys.readouterr().out     # stopped before timing


def test_bench_fails_on_a_wrong_gradient_with_the_right_loss(tiny, monkeypatch):
    """Same value, gradient off by 1e-2 · a direction: only the gradient check can see it."""
    nested = baselines.Burgers.nested_grad

    def off(self, p, b):
        w = jax.tree_util.tree_leaves(p)[0]
        extra = 1e-2 * jnp.sum(w)
        return nested(self, p, b) + extra - jax.lax.stop_gradient(extra)
    monkeypatch.setattr(baselines.Burgers, "nested_grad", off)
    with pytest.raises(run.Disagreement,
                       match=r"nested_grad: loss differs by \S+ \(tolerance 1e-05\), gradient by \d\.\d\de-0[1-3] "):
        run.run_case("burgers-tiny", 1, 0.1, ["compiled", "nested_grad"])


def test_operator_inference_bench_times_both_on_the_same_inputs():
    from bench.operators import time_case
    r = time_case("burgers", n=4, rounds=1)
    assert r["n"] == 4 and r["grid"] == [256] and r["operator_s"] > 0 and r["solver_s"] > 0
    assert abs(r["solver_over_operator"] - r["solver_s"] / r["operator_s"]) < 1e-9
