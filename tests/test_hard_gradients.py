"""Parameter gradients through every hard layer kind are finite and match central finite
differences of the loss along a random direction (float64)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hard_cases import BOX, CURVE, CURVE_ROBIN, FLUX, HEAT_FLUX, MIX, PERIODIC, SIMPLEX, STREAM, VECTOR_POTENTIAL, WAVE
from hard_common import _load


@pytest.mark.parametrize("text", [WAVE, BOX, PERIODIC, MIX, SIMPLEX, STREAM, FLUX, HEAT_FLUX, VECTOR_POTENTIAL,
                                  CURVE, CURVE_ROBIN],
                         ids=["dirichlet", "box", "periodic", "projection", "simplex", "stream", "flux", "heat_flux",
                              "vector_potential", "curvature", "curvature_robin"])
def test_parameter_gradients_through_layers_match_finite_differences(text):
    pb = _load(text, True)
    p = pb.init(jax.random.PRNGKey(2))
    batch = pb.sample(0, {"interior": 64, "initial": 16, "boundary": 16})
    L = jax.jit(pb.loss)
    g = jax.grad(pb.loss)(p, batch)
    leaves = jax.tree_util.tree_leaves(g)
    assert all(np.all(np.isfinite(np.asarray(l))) for l in leaves)
    d = jax.tree_util.tree_map(lambda a: jnp.asarray(np.random.default_rng(8).normal(size=a.shape)), p)
    h = 1e-6
    plus = jax.tree_util.tree_map(lambda a, b: a + h * b, p, d)
    minus = jax.tree_util.tree_map(lambda a, b: a - h * b, p, d)
    fd = (float(L(plus, batch)) - float(L(minus, batch))) / (2 * h)
    an = sum(float(jnp.vdot(a, b)) for a, b in zip(leaves, jax.tree_util.tree_leaves(d)))
    assert abs(fd - an) <= 1e-5 * max(1.0, abs(an))
