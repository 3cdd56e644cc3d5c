"""The generic route, taken after the fused pass met a primitive it does not know: one
`jax.experimental.jet` tower per coordinate (pure derivatives, and the exact Laplacian
as the sum of second-order towers), STDE as second-order towers along random
directions, nested `jax.jvp` for mixed partials."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.experimental import jet

from .plan import Plan, stde_directions


def _onehot(X, i):
    return jnp.zeros_like(X).at[:, i].set(1.0)


def _tower(fn, X, E, k):
    if k == 1:
        primal, t = jax.jvp(fn, (X,), (E,))
        return primal, [t]
    zeros = jnp.zeros_like(X)
    return jet.jet(fn, (X,), ([E] + [zeros] * (k - 1),))


def _evaluate_generic(fn, X, plan: Plan, key):
    D = plan.dims
    out = {}
    primal = None
    towers = dict(plan.towers)
    if 0 in plan.laps:
        for i in plan.spatial:
            towers[i] = max(towers.get(i, 0), 2)
    second = {}
    for i, k in sorted(towers.items()):
        primal, series = _tower(fn, X, _onehot(X, i), k)
        for j, s in enumerate(series, 1):
            a = [0] * D
            a[i] = j
            out[tuple(a)] = s
        if k >= 2:
            second[i] = series[1]
    if plan.value:
        out[(0,) * D] = primal if primal is not None else fn(X)
    for a in plan.mixed:
        out[a] = _nested(fn, a)(X)
    keys = jax.random.split(key, len(plan.laps)) if plan.needs_key else [None] * len(plan.laps)
    for k, kk in zip(plan.laps, keys):
        if k == 0:
            out[("lap", 0)] = sum(second[i] for i in plan.spatial)
        else:
            V = stde_directions(kk, X.shape[0], list(plan.spatial), D, k, X.dtype)
            acc = 0.0
            for r in range(k):
                acc = acc + _tower(fn, X, V[:, r, :], 2)[1][1]
            out[("lap", k)] = acc / k
    # keep only what was asked for
    wanted = {("lap", k) for k in plan.laps} | set(plan.mixed) | ({(0,) * D} if plan.value else set())
    for i, k in plan.towers.items():
        for j in range(1, k + 1):
            a = [0] * D
            a[i] = j
            wanted.add(tuple(a))
    return {k: v for k, v in out.items() if k in wanted}


def _nested(fn, a):
    g = fn
    for i, k in enumerate(a):
        for _ in range(k):
            g = (lambda g, i: lambda X: jax.jvp(g, (X,), (_onehot(X, i),))[1])(g, i)
    return g
