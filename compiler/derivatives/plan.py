"""The derivative plan: for one function on one region, which partial derivatives are
needed and by which route (the fused Taylor pass or the generic fallback), the layout
of the fused pass's towers, and the words `pdeforge compile --emit plan` prints; and the
random directions of a stochastic (STDE) Laplacian."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

__all__ = ["Plan", "stde_directions"]


@dataclass
class Plan:
    """For one function on one region: which derivatives, and how each is computed.
    Keys: multi-indices (tuples of D ints) and ("lap", estimate) for Laplacians over
    `spatial` (estimate 0 = exact forward Laplacian, k > 0 = STDE with k directions)."""
    dims: int
    spatial: tuple = ()
    towers: dict = field(default_factory=dict)   # coord index -> max order
    mixed: list = field(default_factory=list)    # multi-indices with ≥ 2 coordinates
    laps: list = field(default_factory=list)     # estimates: 0 exact, k > 0 STDE
    value: bool = False
    fused: bool = True                           # False after a fallback: jet towers + nested jvp

    @staticmethod
    def of(keys, dims, spatial=()) -> "Plan":
        p = Plan(dims, tuple(spatial))
        for a in sorted(set(keys), key=str):
            if a[0] == "lap":
                if a[1] not in p.laps:
                    p.laps.append(a[1])
                continue
            nz = [i for i in range(dims) if a[i]]
            if not nz:
                p.value = True
            elif len(nz) == 1:
                p.towers[nz[0]] = max(p.towers.get(nz[0], 0), a[nz[0]])
            else:
                p.mixed.append(a)
        p.mixed.sort()
        return p

    @property
    def only_value(self):
        return not (self.towers or self.mixed or self.laps)

    @property
    def needs_key(self):
        return any(k > 0 for k in self.laps)

    # which towers the fused pass runs (a first-order spatial derivative rides on the
    # exact Laplacian's Jacobian; a mixed second derivative ∂i∂j needs e_i, e_j and
    # e_i + e_j to order 2: u_ij = (D²_{ei+ej} − D²_ei − D²_ej) / 2)
    def _fused_layout(self):
        orders = dict(self.towers)
        pairs = [a for a in self.mixed if sum(a) == 2]
        for a in pairs:
            for i in (i for i in range(self.dims) if a[i]):
                orders[i] = max(orders.get(i, 0), 2)
        from_lap = set()
        if 0 in self.laps:
            from_lap = {i for i, k in orders.items() if k == 1 and i in self.spatial}
        groups = {}
        for i, k in sorted(orders.items()):
            if i not in from_lap:
                groups.setdefault(k, []).append(i)
        return groups, pairs, [a for a in self.mixed if sum(a) > 2], from_lap

    def describe(self, names) -> list[str]:
        out = []
        if self.value:
            out.append("value")
        sp_names = ", ".join(names[i] for i in self.spatial)
        if not self.fused:
            for i, k in sorted(self.towers.items()):
                out.append(f"d/d{names[i]} orders 1..{k}: {'jvp' if k == 1 else f'Taylor tower (jet) to order {k}'}")
            for a in self.mixed:
                out.append(f"mixed d({_mi(a, names)}): nested jvp")
            for k in self.laps:
                what = "sum of second-order jet towers" if k == 0 else f"STDE, {k} random directions per point (jet)"
                out.append(f"lap over ({sp_names}): {what}")
            return out
        groups, pairs, high, from_lap = self._fused_layout()
        if not self.only_value:
            out.append("one fused forward Taylor pass (shared primal) computes:")
        for k, coords in sorted(groups.items()):
            d = ", ".join(names[i] for i in coords)
            out.append(f"  d/d{d}: first-order tangent" if k == 1 and len(coords) == 1 else
                       f"  d/d{{{d}}}: first-order tangents, {len(coords)} directions batched" if k == 1 else
                       f"  d/d{{{d}}} orders 1..{k}: Taylor tower, {len(coords)} direction(s) batched")
        for i in sorted(from_lap):
            out.append(f"  d/d{names[i]}: from the forward Laplacian's Jacobian")
        for a in pairs:
            out.append(f"  mixed d({_mi(a, names)}): polarisation of order-2 towers along e_i, e_j, e_i+e_j")
        for k in self.laps:
            if k == 0:
                out.append(f"  lap over ({sp_names}): forward Laplacian "
                           f"({len(self.spatial)} directions, cost linear in dimension)")
            else:
                out.append(f"  lap over ({sp_names}): STDE forward Laplacian, {k} random Rademacher directions per point")
        for a in high:
            out.append(f"mixed d({_mi(a, names)}): jvp of the fused pass")
        return out


def _mi(a, names):
    return " ".join(f"{names[i]}^{a[i]}" if a[i] > 1 else names[i] for i in range(len(a)) if a[i])


def stde_directions(key, n, spatial, dims, k, dtype):
    """(n, k, dims) Rademacher directions on the spatial coordinates (zero elsewhere)."""
    r = jax.random.rademacher(key, (n, k, len(spatial)), dtype=dtype)
    return jnp.zeros((n, k, dims), dtype).at[:, :, jnp.asarray(spatial)].set(r)
