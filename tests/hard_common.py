"""Helpers of the hard-constraint tests (tests/test_hard_*.py): loading and (cached)
training of the problems in hard_cases.py, derivatives by the derivative engine,
the relative error and tolerances every check uses, and compile errors."""
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdeforge
from pdeforge.compiler.derivatives import Plan, evaluate
from pdeforge.dsl import PdeError

N = 10_000
TOL = {True: 1e-12, False: 1e-6}      # float64?


@lru_cache(maxsize=None)
def _load(text, f64):
    return pdeforge.loads(text, "<test>", float64=f64)


def _params(pb, steps):
    if steps == 0:
        return pb.init(jax.random.PRNGKey(1))
    return pb.train(steps=steps, progress=False, log_every=steps).params


@lru_cache(maxsize=None)
def _trained64(text, steps):
    return _params(_load(text, True), steps)


def _params_for(text, f64, steps):
    """Initial weights, or weights trained once in float64 (cast for the float32 check:
    the constraint must hold for trained weights, whatever precision trained them)."""
    if steps == 0:
        return _params(_load(text, f64), 0)
    p = _trained64(text, steps)
    return p if f64 else jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), p)


def _rng(seed=0):
    return np.random.default_rng(seed)


_RUNS = {}


def _derivs(pb, params, X, indices, model=0):
    key = (id(pb), tuple(indices), model)       # problems are cached, so one compile per plan
    if key not in _RUNS:
        m = pb.ir.models[model]
        plan = Plan.of(indices, pb.lowered.D)
        _RUNS[key] = jax.jit(lambda p, X: evaluate(pb.lowered.model_fn(p, m), X, plan))
    return _RUNS[key](params, jnp.asarray(X, pb.dtype))


def _rel(err, scale):
    return float(np.max(np.abs(err)) / max(1.0, float(np.max(np.abs(scale)))))


def _err(text):
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text, "<t>")
    return e.value
