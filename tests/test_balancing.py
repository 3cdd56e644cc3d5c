"""NTK loss balancing (`balance = ntk`) against an independent computation of the traces
and weights: Wang, Yu & Perdikaris (2022), "When and why PINNs fail to train: a neural
tangent kernel perspective", λ_i = Σ_j tr K_j / tr K_i, with jaxpi's per-point
normalisation (the mean of K_i's diagonal, i.e. its trace over the number of points) on
the first 64 points of each region (runtime/objective.py), and the moving average
λ ← 0.9 λ + 0.1 λ_new. The residuals here are written by hand (nested jax.grad of the
model function, not the derivative engine), the Jacobian taken over the flattened
parameters: K_i's diagonal at a point is the squared norm of ∂r_i/∂θ there."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import pdeforge
from pdeforge.runtime.objective import Objective

# three terms on regions of different sizes (interior 256, each wall 16, initial 64), so a
# sum in place of the mean, or the wrong subset, changes the weights
HEAT = """
problem heat
domain x in [0, 1]
time t in [0, 1]
field u(x, t)
equation pde: dt(u) = 0.1 * d(u, x, 2)
condition ends: u = 0 on x = 0, x = 1
condition init: u = sin(pi * x) on t = 0
model u = mlp(width = 12, depth = 2)
train:
  points interior = 256, boundary = 32, initial = 64
  adam(lr = 3e-3) for 120 steps
  balance = ntk
  balance_every = 10
"""
SUBSET = 64


@pytest.fixture(scope="module")
def setup():
    """The problem, its objective, initial weights, one batch and the independent traces
    (computed once: the hand-written Jacobians take most of this file's time)."""
    p = pdeforge.loads(HEAT, "<test>", float64=True)
    obj = Objective(p.lowered, p.checked.train)
    params = p.init(jax.random.PRNGKey(0))
    b = p.sample(0)
    return p, obj, params, b, _traces(p, params, b)


def _traces(p, params, batch):
    """{term: mean over its first-64-per-region points of |∂r/∂θ|²}, residuals by hand."""
    theta, unravel = ravel_pytree(params)
    m = p.ir.models[0]

    def u_of(th):
        f = p.lowered.model_fn(unravel(th), m)
        return lambda x, t: f(jnp.stack([x, t]))[0]

    def pde(th, X):
        u = u_of(th)
        r = lambda x, t: jax.grad(u, 1)(x, t) - 0.1 * jax.grad(jax.grad(u, 0), 0)(x, t)
        return jax.vmap(r)(X[:, 0], X[:, 1])

    def ends(th, X):
        return jax.vmap(u_of(th))(X[:, 0], X[:, 1])

    def init(th, X):
        return jax.vmap(u_of(th))(X[:, 0], X[:, 1]) - jnp.sin(jnp.pi * X[:, 0])

    sub = {k: v[:SUBSET] for k, v in batch.items()}
    walls = jnp.concatenate([sub["x_lo"], sub["x_hi"]])
    out = {}
    for name, r, X in (("pde", pde, sub["interior"]), ("ends", ends, walls), ("init", init, sub["t_lo"])):
        J = np.asarray(jax.jacrev(r)(theta, X))            # (points, parameters)
        assert J.shape == (X.shape[0], theta.size)
        out[name] = float(np.sum(J ** 2) / X.shape[0])
    return out


def test_ntk_traces_match_an_independent_jacobian(setup):
    p, obj, params, b, expect = setup
    got = np.asarray(obj._ntk_traces(params, b))
    np.testing.assert_allclose(got, [expect[n] for n in obj.names], rtol=1e-8)
    assert max(expect.values()) > 2 * min(expect.values())       # distinct traces: equal weights would be wrong


def test_ntk_weights_follow_the_paper(setup):
    p, obj, params, b, traces = setup
    tr = np.array([traces[n] for n in obj.names])
    target = tr.sum() / tr
    upd = jax.jit(obj.update)
    st = obj.init_state()
    for k in range(1, 61):              # λ_k = target + 0.9^k (1 − target): the moving average from λ_0 = 1
        st = upd(params, b, st)
        if k in (1, 2, 60):
            np.testing.assert_allclose(st["lam"], target + 0.9 ** k * (1 - target), rtol=1e-8)
    lam = np.asarray(st["lam"])
    np.testing.assert_allclose(lam * tr, np.full(3, tr.sum()), rtol=1e-2)   # near balance: each weighted trace ≈ Σ tr
    assert np.ptp(lam) > 0.5 * lam.min()             # distinct weights: traces forced to 1 would give (3, 3, 3)
