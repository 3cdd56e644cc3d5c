"""Algebraic constraints: hard equalities and bounds (projection, sigmoid, softplus) and
the simplex hold at N random points before and after training; the projection leaves
feasible outputs unchanged and moves infeasible ones onto the set; a constraint
without `hard` is a loss term."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdeforge
from hard_cases import BASE, MIX, SIMPLEX
from hard_common import N, TOL, _load, _params, _rng


def _mix_check(pb, p, X, tol):
    v = {k: np.asarray(a, np.float64) for k, a in pb.predict(p, X).items()}
    x, t = X[:, 0], X[:, 1]
    scale = 1 + np.abs(v["a"]) + np.abs(v["b"]) + np.abs(v["c"])
    assert np.max(np.abs(v["a"] + v["b"] + v["c"] - 1 - x) / scale) <= tol
    assert np.max(np.abs(v["a"] - x * v["b"] - t) / (1 + np.abs(v["a"]) + np.abs(v["b"]))) <= tol
    assert np.min(v["p"] + 1) >= -tol * (1 + np.abs(v["p"]).max())
    assert np.max(v["p"] + v["q"] - x * t) <= tol * (1 + np.abs(v["p"]).max() + np.abs(v["q"]).max())
    assert v["r"].min() >= 0 and v["r"].max() <= 2 * (1 + tol)
    assert np.min(v["s"] - x) >= -tol


@pytest.mark.parametrize("f64", [True, False])
def test_projection_bounds_hold(f64):
    pb = _load(MIX, f64)
    kinds = sorted(l.kind for l in pb.ir.hard.layers)
    assert kinds == ["bounds", "projection"]
    X = _rng(4).random((N, 2))
    for steps in (0, 20):
        p = _params(pb, steps)
        _mix_check(pb, p, X, TOL[f64])


def test_projection_leaves_feasible_outputs_unchanged_and_projects_others():
    pb = _load(MIX, True)
    lay = next(l for l in pb.ir.hard.layers if l.kind == "projection")
    X = jnp.asarray(_rng(5).random((500, 2)))
    env = pb.lowered._coord_env(X)
    from pdeforge.compiler.lower import to_jax
    x, t = np.asarray(X[:, 0]), np.asarray(X[:, 1])
    r = _rng(6)
    b = r.normal(size=500)
    a = t + x * b
    c = 1 + x - a - b
    p = -1 + r.random(500)               # p >= -1
    q = x * t - p - r.random(500)        # p + q <= x t
    Y = np.stack([a, b, c, p, q, r.normal(size=500), r.normal(size=500)], 1)
    out = np.asarray(lay.jax(X, jnp.asarray(Y), env, to_jax))
    np.testing.assert_allclose(out, Y, rtol=0, atol=1e-12)
    # an infeasible output moves onto the constraint set, minimally for an active bound
    Y2 = Y.copy()
    Y2[:, 3] = -5.0                       # violates p >= -1 only (rows are independent)
    out2 = np.asarray(lay.jax(X, jnp.asarray(Y2), env, to_jax))
    assert np.all(out2[:, 3] >= -1 - 1e-12)
    np.testing.assert_allclose(out2[:, :3], Y[:, :3], atol=1e-12)   # equalities held already


@pytest.mark.parametrize("f64", [True, False])
def test_simplex_holds(f64):
    pb = _load(SIMPLEX, f64)
    assert [l.kind for l in pb.ir.hard.layers] == ["simplex"]
    X = _rng(7).random((N, 2))
    for steps in (0, 20):
        p = _params(pb, steps)
        v = pb.predict(p, X)
        c = np.stack([np.asarray(v[k], np.float64) for k in ("c1", "c2", "c3")], 1)
        assert c.min() >= 0
        assert np.max(np.abs(c.sum(1) - 1)) <= TOL[f64]


def test_soft_constraint_is_a_loss_term():
    pb = pdeforge.loads(BASE + "condition: u = 0 on t = 0\nconstraint pos: u >= 0\n", "<t>", float64=True)
    assert "pos" in pb.lowered.term_names
    p = pb.init(jax.random.PRNGKey(0))
    res = pb.residuals(p, pb.sample(0, {"interior": 32, "initial": 8, "boundary": 8}))["pos"]
    assert np.all(np.asarray(res) >= 0)
