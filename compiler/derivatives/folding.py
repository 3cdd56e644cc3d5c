"""Folding at trace time: a Taylor coefficient whose operands are all constants (a unit
seed, a mask, a literal) is computed while tracing rather than staged, so that one that
comes out exactly zero is known to be zero (None) and everything downstream of it is
skipped. `FOLD` turns this off, only to benchmark against (bench/hard_cost.py)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FOLD"]

FOLD = True        # fold constant seeds and masks at trace time (_now); off only to benchmark against


def _const(*xs):
    """Whether every operand is known at trace time (a unit seed, a mask, a literal)."""
    return all(not isinstance(x, jax.core.Tracer) for x in xs)


def _now(f, *xs):
    """f(*xs) on constant operands, evaluated at trace time rather than staged, so that a
    coefficient that comes out exactly zero is known to be zero (None) and skipped: the
    seed along x of a face point X·(1 − e_x) + a·e_x, whose whole branch of the model
    (a hard Neumann or curvature correction) then costs no Taylor tower along x."""
    with jax.ensure_compile_time_eval():
        out = f(*xs)
    return None if not np.any(np.asarray(out)) else out


def _vm(f, c, v, const=False):
    """Apply a linear map f (written for one array like the primal v) to a coefficient:
    stacked (M, ...) for a group of M directions, or unstacked (shape of v) for a group
    of one — no size-1 axis, which would make XLA copy every (N, 1, w) tensor. `const`:
    f's other operands are constants, so a constant coefficient is mapped at trace time."""
    if c is None:
        return None
    g = (lambda c: jax.vmap(f)(c)) if jnp.ndim(c) > jnp.ndim(v) else f
    return _now(g, c) if const and FOLD and _const(c) else g(c)
