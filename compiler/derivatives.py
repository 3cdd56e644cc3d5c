"""The derivative engine: every partial derivative a region needs, computed
together in forward mode. Pure derivatives along one coordinate come from one
Taylor tower (`jax.experimental.jet`, all orders at once); mixed partials from
nested `jax.jvp`. Never nested reverse-mode `grad`.

Works on batched pointwise functions F: X (N, D) → Y (N, m): since row n of Y
depends only on row n of X, a directional derivative along the one-hot column
e_i of the whole batch gives ∂_i at every point at once."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
from jax.experimental import jet


@dataclass
class Plan:
    """For one function on one region: which multi-indices, and how each is computed."""
    dims: int
    towers: dict = field(default_factory=dict)   # coord index -> max order (one jet each)
    mixed: list = field(default_factory=list)    # multi-indices with ≥ 2 coordinates (nested jvp)
    value: bool = False

    @staticmethod
    def of(indices, dims) -> "Plan":
        p = Plan(dims)
        for a in sorted(set(indices)):
            nz = [i for i in range(dims) if a[i]]
            if not nz:
                p.value = True
            elif len(nz) == 1:
                p.towers[nz[0]] = max(p.towers.get(nz[0], 0), a[nz[0]])
            else:
                p.mixed.append(a)
        return p

    def describe(self, names) -> list[str]:
        out = []
        if self.value:
            out.append("value")
        for i, k in sorted(self.towers.items()):
            method = "jvp" if k == 1 else f"Taylor tower (jet) to order {k}"
            out.append(f"d/d{names[i]} orders 1..{k}: {method}")
        for a in self.mixed:
            term = " ".join(f"{names[i]}^{a[i]}" if a[i] > 1 else names[i] for i in range(self.dims) if a[i])
            out.append(f"mixed d({term}): nested jvp")
        return out


def _onehot(X, i):
    return jnp.zeros_like(X).at[:, i].set(1.0)


def evaluate(fn, X, plan: Plan) -> dict:
    """Return {multi-index: fn's derivative at X}, computing each tower once."""
    D = plan.dims
    out = {}
    primal = None
    for i, k in sorted(plan.towers.items()):
        E = _onehot(X, i)
        if k == 1:
            primal, t = jax.jvp(fn, (X,), (E,))
            series = [t]
        else:
            zeros = jnp.zeros_like(X)
            primal, series = jet.jet(fn, (X,), ([E] + [zeros] * (k - 1),))
        for j, s in enumerate(series, 1):
            a = [0] * D
            a[i] = j
            out[tuple(a)] = s
    if plan.value:
        out[(0,) * D] = primal if primal is not None else fn(X)
    for a in plan.mixed:
        out[a] = _nested(fn, a)(X)
    return out


def _nested(fn, a):
    g = fn
    for i, k in enumerate(a):
        for _ in range(k):
            g = (lambda g, i: lambda X: jax.jvp(g, (X,), (_onehot(X, i),))[1])(g, i)
    return g
