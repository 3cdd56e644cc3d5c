"""The fused route over a batch: the seed directions of a plan's towers (unit vectors,
e_i + e_j for mixed second derivatives, the spatial unit vectors or random STDE
directions of its Laplacians), the per-point pass `jax.vmap`ped over the points, and
the derivatives read off its towers; mixed partials above order 2 as nested jvps of
one fused tower."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .interpreter import taylor_point
from .plan import Plan, stde_directions


def _unit(D, i, dtype):
    e = np.zeros((D,), dtype)
    e[i] = 1.0
    return e


def _fused_fn(fn, plan, dtype):
    """X ↦ (value, towers, laps) over the batch, and how to read the keys off it."""
    D = plan.dims
    groups, pairs, _, from_lap = plan._fused_layout()
    tower_specs, where = [], {}
    for g, (K, coords) in enumerate(sorted(groups.items())):
        dirs = [_unit(D, i, dtype) for i in coords]
        for r, i in enumerate(coords):
            where[i] = (g, r)
        if K == min((k for k in groups if k >= 2), default=None):      # the e_i + e_j of every pair ride here
            for a in pairs:
                i, j = [c for c in range(D) if a[c]]
                where[a] = (g, len(dirs))
                dirs.append(_unit(D, i, dtype) + _unit(D, j, dtype))
        tower_specs.append((np.stack(dirs), K))      # numpy: seeds stay trace-time constants (_now)
    lap_exact = np.stack([_unit(D, i, dtype) for i in plan.spatial]) if plan.laps and 0 in plan.laps else None
    return tower_specs, where, lap_exact, from_lap


def _evaluate_fused(fn, X, plan: Plan, key, rowwise=False):
    D, N = plan.dims, X.shape[0]
    tower_specs, where, lap_exact, from_lap = _fused_fn(fn, plan, X.dtype)
    lap_order = list(plan.laps)
    lap_dirs, lap_axes = [], []
    keys = jax.random.split(key, len(lap_order)) if plan.needs_key else [None] * len(lap_order)
    for k, kk in zip(lap_order, keys):
        if k == 0:
            lap_dirs.append(lap_exact)
            lap_axes.append(None)
        else:
            lap_dirs.append(stde_directions(kk, N, list(plan.spatial), D, k, X.dtype))
            lap_axes.append(0)

    def point(x, lds):
        return taylor_point(fn, x, tower_specs, list(lds), rowwise)
    v, tows, laps = jax.vmap(point, in_axes=(0, lap_axes))(X, lap_dirs)
    out = {}
    if plan.value:
        out[(0,) * D] = v
    for i, K in plan.towers.items():
        if i in from_lap:
            continue
        g, r = where[i]
        for n in range(1, K + 1):
            a = [0] * D
            a[i] = n
            out[tuple(a)] = tows[g][n - 1][:, r]
    if from_lap:
        J = laps[lap_order.index(0)][0]          # (N, P, m): the exact Laplacian's Jacobian
        for i in from_lap:
            a = [0] * D
            a[i] = 1
            out[tuple(a)] = J[:, plan.spatial.index(i)]
    for a in plan.mixed:
        if sum(a) == 2:
            i, j = [c for c in range(D) if a[c]]
            g, r = where[a]
            gi, ri = where[i]
            gj, rj = where[j]
            out[a] = 0.5 * (tows[g][1][:, r] - tows[gi][1][:, ri] - tows[gj][1][:, rj])
        else:
            out[a] = _mixed_high(fn, X, a, rowwise)
    for k, (_, L) in zip(lap_order, laps):
        out[("lap", k)] = L / k if k else L
    return out


def _mixed_high(fn, X, a, rowwise=False):
    """∂^a for |a| > 2 with ≥ 2 coordinates: nested jvp (along the other coordinates)
    of one fused tower along the coordinate with the highest order."""
    D = len(a)
    i = max(range(D), key=lambda c: a[c])
    K = a[i]
    spec = [(_unit(D, i, X.dtype)[None, :], K)]

    def tower(Y):
        return jax.vmap(lambda y: taylor_point(fn, y, spec, [], rowwise)[1][0][K - 1][0])(Y)
    g = tower
    for c in range(D):
        if c == i:
            continue
        for _ in range(a[c]):
            g = (lambda g, c: lambda Y: jax.jvp(g, (Y,), (jnp.zeros_like(Y).at[:, c].set(1.0),))[1])(g, c)
    return g(X)
