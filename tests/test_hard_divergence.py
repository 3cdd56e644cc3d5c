"""Divergence-free velocities by construction: `div(u, v) = 0 hard` as a stream function
in 2-D and `div(u, v, w) = 0 hard` as a vector potential in 3-D; the divergence vanishes
to 1e-12 relative in float64 and 1e-6 in float32, before and after training."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hard_cases import STREAM, VECTOR_POTENTIAL
from hard_common import N, TOL, _derivs, _load, _params, _params_for, _rel, _rng


@pytest.mark.parametrize("f64", [True, False])
def test_stream_function_is_divergence_free(f64):
    pb = _load(STREAM, f64)
    assert "mass" not in pb.lowered.term_names
    X = _rng(9).random((N, 2)) * np.array([1.5, 2.0]) + np.array([-0.5, -0.5])
    for steps in (0, 20):
        p = _params(pb, steps)
        d = _derivs(pb, p, X, [(1, 0), (0, 1)])
        ux, vy = np.asarray(d[(1, 0)])[:, 0], np.asarray(d[(0, 1)])[:, 1]
        assert _rel(ux + vy, ux) <= TOL[f64]



@pytest.mark.parametrize("f64", [True, False])
def test_vector_potential_is_divergence_free(f64):
    """div(u, v, w) from jax.jacfwd of the model function at each point (not the derivative engine)."""
    pb = _load(VECTOR_POTENTIAL, f64)
    assert "mass" not in pb.lowered.term_names
    X = jnp.asarray(_rng(10).random((N, 3)) * np.array([1.0, 2.0, 2.0]) + np.array([0.0, 0.0, -1.0]), pb.dtype)
    m = pb.ir.models[0]
    for steps in (0, 20):
        p = _params_for(VECTOR_POTENTIAL, f64, steps)
        J = np.asarray(jax.jit(jax.vmap(jax.jacfwd(pb.lowered.model_fn(p, m))))(X), np.float64)   # (N, fields, coords)
        div = J[:, 0, 0] + J[:, 1, 1] + J[:, 2, 2]
        assert _rel(div, np.abs(J[:, :3, :3]).max(axis=(1, 2))) <= TOL[f64]
        assert np.abs(J[:, :3, :3]).max() > 1e-3          # not divergence-free by being zero
