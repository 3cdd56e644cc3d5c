"""The derivative engine: every partial derivative a region needs, computed
together in forward mode, sharing the primal and lower orders. Never nested
reverse-mode `grad`.

Works on batched pointwise functions F: X (N, D) → Y (N, m) (row n of Y depends on
row n of X only). The main method is one *fused Taylor pass*: F is traced for a
single point and its jaxpr is re-interpreted, carrying along with every value

  * Taylor towers: for a group of M directions, the directional derivatives of
    orders 1..K (all directions of a group share the primal and each other's code);
  * a forward Laplacian (Li et al., "Forward Laplacian"): the Jacobian along P
    directions and the *sum* of the second directional derivatives, so that
    Σ_p ∂²F/∂v_p² costs O(P) instead of O(P²). With unit vectors along the spatial
    coordinates it is Δu exactly; with random Rademacher/Gaussian vectors scaled by
    1/P it is the unbiased Stochastic Taylor Derivative Estimator (Shi et al. 2024).

The per-point pass is then `jax.vmap`ped over the batch: seeds that are the same at
every point (unit directions) stay unbatched, so e.g. the first layer's Jacobian is
`W` itself, computed once — what a hand-written forward Laplacian does.

A primitive the pass does not know makes it fall back, for that plan, to the generic
route: one `jax.experimental.jet` tower per coordinate (pure derivatives and the
Laplacian as the sum of second-order towers), nested `jax.jvp` for mixed partials.

The package, in the order of the computation:

  plan.py         `Plan`: which derivatives, which route, the fused pass's layout
  fused.py        the fused route over a batch: seeds, vmap, reading the towers
  interpreter.py  `taylor_point`: the jaxpr interpreter, one rule per primitive
  rules.py        the Taylor rules (Faà di Bruno, Leibniz, linear maps) on `_T`
  folding.py      trace-time folding of constant coefficients (`FOLD`)
  generic.py      the fallback: jet towers and nested jvp"""

from __future__ import annotations

from pdeforge.dsl.diagnostics import error

from .fused import _evaluate_fused
from .generic import _evaluate_generic
from .interpreter import Unsupported, taylor_point
from .plan import Plan, stde_directions

__all__ = ["Plan", "Unsupported", "evaluate", "stde_directions", "taylor_point"]


def evaluate(fn, X, plan: Plan, key=None, rowwise=False) -> dict:
    """Return {key: fn's derivative at X (N, m)} for every key of `plan`; `key` is a
    jax.random key, needed when the plan holds a STDE Laplacian; `rowwise`: fn may be
    applied to one point (D,) → (m,) as well (faster fused pass)."""
    if plan.needs_key and key is None:
        raise error("E233", "a stochastic Laplacian (`lap(u, estimate = k)`) draws random directions: `evaluate` needs a `key`",
                    hint="pass key = jax.random.PRNGKey(step)")
    if plan.only_value:
        return {(0,) * plan.dims: fn(X)}
    if plan.fused:
        try:
            return _evaluate_fused(fn, X, plan, key, rowwise)
        except Unsupported:
            plan.fused = False
    return _evaluate_generic(fn, X, plan, key)
