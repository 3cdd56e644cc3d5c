"""Learned parameters of inverse problems.

A scalar `param k in [lo, hi] = guess` is stored unconstrained, as θ in
params["param"][k], and read as k = lo + (hi − lo)·sigmoid(θ): it stays strictly
inside its bounds whatever an optimiser does to θ, and θ starts at
logit((guess − lo)/(hi − lo)). A parameter field `param a(x, y) in [lo, hi]` is a
model output passed through the same map. Living in the params pytree, both are
trained, checkpointed and resumed with the networks."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = ["KEY", "bounded", "unbounded", "init", "values", "report"]

KEY = "param"


def bounded(theta, lo, hi):
    return lo + (hi - lo) * jax.nn.sigmoid(theta)


def unbounded(value, lo, hi):
    """θ with bounded(θ) = value (value strictly inside (lo, hi))."""
    s = (value - lo) / (hi - lo)
    return math.log(s) - math.log1p(-s)


def init(checked, dtype):
    """The `param` entry of the params pytree: θ per scalar parameter, or {} when there are none."""
    if not checked.params:
        return {}
    return {KEY: {n: jnp.asarray(unbounded(g, lo, hi), dtype) for n, (lo, hi, g) in checked.params.items()}}


def values(params, checked) -> dict:
    """{name: value} of the scalar parameters (traceable)."""
    th = params.get(KEY, {}) if isinstance(params, dict) else {}
    return {n: bounded(th[n], lo, hi) for n, (lo, hi, _) in checked.params.items() if n in th}


def report(params, checked) -> dict:
    """Host floats of the learned scalars, and their absolute errors against `exact k = ...` where given."""
    vals = {n: float(v) for n, v in values(params, checked).items()}
    errs = {n: abs(vals[n] - t) for n, t in checked.param_truth.items() if n in vals}
    return {"values": vals, "errors": errs}
