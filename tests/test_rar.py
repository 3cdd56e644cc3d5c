"""Adaptive sampling picks the right points: RAR adds the candidates with the LARGEST
residual, R3 keeps the points at or above the mean residual, and the residual score is
the squared residual summed over the equations. Each is checked against an independent
computation: a numpy residual with known peaks, and for the whole pipeline residuals
taken by nested `jax.grad` of the model function (not the derivative engine)."""
import jax
import jax.numpy as jnp
import numpy as np

import pdeforge
from pdeforge.runtime.objective import point_scores, r3_resample, rar_add
from pdeforge.runtime.train import _Sampler

# two equations, so the score must sum both; no hard layers, so the model function is the field
TWO = """
problem two
domain x in [0, 1]
field u(x), v(x)
equation a: d(u, x, 2) = sin(pi * x)
equation b: dx(v) + u = x
condition: u = 0 on x = 0, x = 1
condition: v = 0 on x = 0
model (u, v) = mlp(width = 8, depth = 2)
train:
  points interior = 200, boundary = 2
  adam(lr = 1e-3) for 10 steps
  resample_every = 5
  adaptive = MODE
  adaptive_fraction = 0.05
"""


def _bumps(x):
    """A residual with known peaks: the highest values sit nearest x = 0.7 (up to 1);
    a second, lower bump at x = 0.2 (up to 0.5) must lose to them."""
    return np.exp(-200 * (x - 0.7) ** 2) + 0.5 * np.exp(-200 * (x - 0.2) ** 2)


def _rows(A):
    return {tuple(np.round(np.asarray(r, np.float64), 12)) for r in np.asarray(A)}


def test_rar_adds_the_highest_residual_candidates():
    pool = np.random.default_rng(0).random((200, 1))
    X = np.linspace(0, 1, 11)[:, None]
    m = 10
    Y = rar_add(_bumps(pool[:, 0]) ** 2, pool, X, m)
    assert Y.shape == (len(X) + m, 1)
    np.testing.assert_array_equal(Y[:len(X)], X)                 # the current points all stay, first
    nearest = pool[np.argsort(np.abs(pool[:, 0] - 0.7))[:m]]      # the known peak: closest to x = 0.7
    assert _rows(Y[len(X):]) == _rows(nearest)
    added = _bumps(Y[len(X):, 0])
    rest = np.setdiff1d(pool[:, 0], Y[len(X):, 0])
    assert added.min() > _bumps(rest).max()                       # no lower point was taken instead


def test_r3_keeps_the_points_at_or_above_the_mean_residual():
    X = np.random.default_rng(1).random((100, 1))
    fresh = 10 + np.arange(100.0)[:, None]
    s = _bumps(X[:, 0]) ** 2
    Y = r3_resample(s, X, fresh)
    high = s >= s.mean()
    assert 0 < high.sum() < len(X) and Y.shape == X.shape
    assert _rows(Y[:high.sum()]) == _rows(X[high])                # retained: exactly the high ones
    np.testing.assert_array_equal(Y[high.sum():], fresh[:len(X) - high.sum()])   # the rest: fresh points


def _problem(mode):
    return pdeforge.loads(TWO.replace("MODE", mode), "<test>", float64=True)


def _independent_scores(pb, params, X):
    """(u'' − sin πx)² + (v' + u − x)² at each row of X, by nested jax.grad of the model function."""
    f = pb.lowered.model_fn(params, pb.ir.models[0])
    u = lambda x: f(jnp.reshape(x, (1,)))[0]
    v = lambda x: f(jnp.reshape(x, (1,)))[1]
    uxx = jax.vmap(jax.grad(jax.grad(u)))
    vx = jax.vmap(jax.grad(v))
    x = jnp.asarray(X[:, 0])
    ra = uxx(x) - jnp.sin(jnp.pi * x)
    rb = vx(x) + jax.vmap(u)(x) - x
    return np.asarray(ra ** 2 + rb ** 2)


def test_point_scores_sum_the_squared_equation_residuals():
    pb = _problem("rar")
    params = pb.init(jax.random.PRNGKey(3))
    X = np.random.default_rng(2).random((50, 1))
    expect = _independent_scores(pb, params, X)
    got = np.asarray(point_scores(pb.lowered, params, jnp.asarray(X)))
    np.testing.assert_allclose(got, expect, rtol=1e-9, atol=1e-12)
    assert expect.max() > 4 * expect.min()                        # the scores do separate the points


def test_training_refresh_adds_the_highest_residual_points():
    """The training loop's RAR round: the batch keeps its points and gains the m = 5% of a
    fresh pool of candidates with the largest independent residual score."""
    pb = _problem("rar")
    params = pb.init(jax.random.PRNGKey(4))
    s = _Sampler(pb, 0)
    batch = s.initial(0)
    pool = np.asarray(s.fresh(1)["interior"])
    new = s.refresh(params, batch, 1)
    n, m = batch["interior"].shape[0], 10
    Y = np.asarray(new["interior"])
    assert Y.shape == (n + m, 1)
    np.testing.assert_array_equal(Y[:n], np.asarray(batch["interior"]))
    sc = _independent_scores(pb, params, pool)
    assert _rows(Y[n:]) == _rows(pool[np.argsort(-sc)[:m]])
    assert np.sort(sc)[-m] > np.median(sc)                        # the top m stand out from the rest


def test_training_refresh_r3_retains_the_high_residual_points():
    pb = _problem("r3")
    params = pb.init(jax.random.PRNGKey(4))
    s = _Sampler(pb, 0)
    batch = s.initial(0)
    X = np.asarray(batch["interior"])
    new = np.asarray(s.refresh(params, batch, 1)["interior"])
    sc = _independent_scores(pb, params, X)
    high = sc >= sc.mean()
    assert new.shape == X.shape and 0 < high.sum() < len(X)
    assert _rows(new[:high.sum()]) == _rows(X[high])
    fresh = np.asarray(s.fresh(1)["interior"])
    np.testing.assert_array_equal(new[high.sum():], fresh[:len(X) - high.sum()])
