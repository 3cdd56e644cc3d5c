"""The Python front door: pure JAX functions that compose with jit, grad and vmap."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pdeforge

POISSON = """
problem p
domain x in [0, 1]
field u(x)
equation: -d(u, x, 2) = pi^2 * sin(pi * x)
condition: u = 0 on x = 0, x = 1
exact u = sin(pi * x)
model u = mlp(width = 16, depth = 2)
train:
  points interior = 64, boundary = 2
  adam(lr = 3e-3) for 200 steps
"""


@pytest.fixture(scope="module")
def prob():
    return pdeforge.loads(POISSON)


def test_pure_functions_compose(prob):
    params = prob.init(jax.random.PRNGKey(0))
    batch = prob.sample(0)
    assert set(batch) == {"interior", "x_lo", "x_hi"}
    l1 = prob.loss(params, batch)
    l2 = jax.jit(prob.loss)(params, batch)
    np.testing.assert_allclose(l1, l2, rtol=1e-5)
    g = jax.grad(prob.loss)(params, batch)
    assert all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(g))
    # vmap over a stack of two parameter sets
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a, 2 * a]), params)
    ls = jax.vmap(prob.loss, in_axes=(0, None))(stacked, batch)
    assert ls.shape == (2,)
    np.testing.assert_allclose(ls[0], l1, rtol=1e-5)


def test_residual_matches_hand_derivative(prob):
    """The residual of the compiled equation equals −u'' − π² sin πx computed by nested grad."""
    params = prob.init(jax.random.PRNGKey(1))
    X = jnp.linspace(0.05, 0.95, 7)[:, None]
    r = prob.residuals(params, {"interior": X})
    (name,) = r
    u = lambda x: prob.predict(params, x.reshape(1, 1))["u"][0]
    upp = jax.vmap(jax.grad(jax.grad(u)))(X[:, 0])
    expect = -upp - np.pi ** 2 * np.sin(np.pi * X[:, 0])
    np.testing.assert_allclose(r[name], expect, rtol=1e-4, atol=1e-4)


def test_user_driven_optax_loop(prob):
    params = prob.init(jax.random.PRNGKey(0))
    batch = prob.sample(0)
    opt = optax.adam(3e-3)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        l, g = jax.value_and_grad(prob.loss)(params, batch)
        up, state = opt.update(g, state)
        return optax.apply_updates(params, up), state, l

    l0 = None
    for _ in range(300):
        params, state, l = step(params, state)
        l0 = l0 if l0 is not None else float(l)
    assert float(l) < 0.05 * l0


def test_train_convenience_reports_errors(prob):
    from pdeforge.runtime.evaluate import make_evaluation
    res = prob.train(evaluation=make_evaluation(prob), progress="quiet")
    assert res.steps == 200
    assert res.history and res.history[-1]["loss"] < res.history[0]["loss"]
    assert 0 < res.errors["u"] < 0.5


def test_exact_is_a_jax_function(prob):
    X = jnp.array([[0.5], [0.25]])
    np.testing.assert_allclose(prob.exact(X)["u"], np.sin(np.pi * np.array([0.5, 0.25])), rtol=1e-6)
