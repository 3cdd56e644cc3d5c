"""Hard Dirichlet conditions on shaped domains (dsl/geometry.py): u = g + φ·N with
approximate distance functions (Sukumar & Srivastava 2022, "Exact imposition of
boundary conditions with distance functions in PINNs").

Each boundary piece of a primitive has a normalised distance φ_k that vanishes on it
(a trimmed segment's φ, a circle's (|x − c|² − r²)/2r, ...). The pieces of one condition
are joined by R-equivalence, φ = (Σ φ_k⁻²)^(−1/2) = φ1 φ2 / √(φ1² + φ2²), which vanishes
exactly where any of them does. Conditions with different data are blended
transfinitely: g = Σ g_i w_i, w_i = Π_{j≠i} φ_j² / Σ_k Π_{j≠k} φ_j², so w_i = 1 exactly on
condition i's pieces, and u = g + φ·N with φ the R-equivalence of all of them."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from pdeforge.dsl.diagnostics import error
from .dirichlet import classify

_TINY = 1e-30     # keeps 0/0 away at corners, where two φ vanish together


def r_equiv(phis, xp):
    """φ1 φ2 / √(φ1² + φ2²), folded: zero exactly where any φ_k is zero."""
    out = phis[0]
    for p in phis[1:]:
        out = out * p / xp.sqrt(out * out + p * p + _TINY)
    return out


def _product(xs):
    out = xs[0]                  # plain multiplications: jet (the fused derivative pass) has no reduce_prod rule
    for x in xs[1:]:
        out = out * x
    return out


@dataclass
class ShapeRewrite:
    field: str
    conds: list              # [(data sympy expr, [boundary piece])]
    sources: list
    coord_index: list        # columns of the spatial coordinates in X
    axes: list = field(default_factory=list)    # no box faces (the periodic checks look here)
    g: sp.Expr = None
    phi: sp.Expr = None

    def _phi(self, pieces, X, xp):
        Xs = xp.stack([X[..., i] for i in self.coord_index], axis=-1)
        return r_equiv([p.phi(Xs, xp) for p in pieces], xp)

    def jax(self, X, N, env, to_jax):
        import jax.numpy as jnp
        phis = [self._phi(pcs, X, jnp) for _, pcs in self.conds]
        datas = [to_jax(d, env) for d, _ in self.conds]
        if len(phis) == 1:
            g = datas[0]
        else:
            sq = phis        # μ = 1: each φ is ≥ 0 in the domain (oriented), so the weights are too
            ws = [_product([sq[j] for j in range(len(sq)) if j != i]) for i in range(len(sq))]
            tot = sum(ws)
            g = sum(d * w for d, w in zip(datas, ws)) / tot
        return g + r_equiv(phis, jnp) * N


def synthesize(ctx) -> dict:
    """{field: ShapeRewrite} for hard conditions `ctx.values` [(Condition, [Piece])] on a shaped domain."""
    checked, S, conds = ctx.checked, ctx.S, ctx.values
    geo = checked.geometry
    names = [c.name for c in checked.coords]
    idx = [names.index(c) for c in geo.coords]
    per = {}
    for cond, pieces in conds:
        fname, kind = classify(cond, S, checked)
        if kind != "value" or any(p.coord is not None for p in pieces):
            raise error("E346", "on a shaped domain, `hard` holds values on its boundary pieces only "
                                "(not together with hard conditions on time faces)", cond.span,
                        hint="remove `hard` from one of the conditions")
        prims = []
        for p in pieces:
            for piece, sign, _ in geo.pieces(p.sel):
                _check_piece(geo, piece, cond)
                if _used(geo, piece) and all(piece is not q and getattr(q, "seg", None) is not piece for q in prims):
                    prims.append(_oriented(_line_if_safe(geo, piece, sign), sign))
        per.setdefault(fname, []).append((S.to_sympy(cond.rhs), prims, cond))
    out = {}
    for fname, items in per.items():
        xs = [S.coord[c] for c in geo.coords]
        phis = [sp.Function(f"phi_{i + 1}")(*xs) for i in range(len(items))]
        if len(items) == 1:
            g = items[0][0]
        else:
            ws = [sp.Mul(*[phis[j] for j in range(len(items)) if j != i]) for i in range(len(items))]
            g = sp.Add(*[d * w for (d, _, _), w in zip(items, ws)]) / sp.Add(*ws)
        phi = sp.Function("phi")(*xs) if len(items) > 1 else phis[0]
        out[fname] = ShapeRewrite(fname, [(d, pcs) for d, pcs, _ in items], [c for _, _, c in items], idx, [], g, phi)
    return out


class Line:
    """The distance to a segment's whole line, (a − x)·n: linear, so it adds no curvature
    (the trimmed segment's φ has singular second derivatives at its ends, which a strong-form
    residual sees). Used where the domain lies on one side of the line."""

    def __init__(self, seg, sign):
        self.seg, self.a, self.n = seg, seg.a, sign * seg.normal

    def phi(self, X, xp):
        return (self.a[0] - X[..., 0]) * self.n[0] + (self.a[1] - X[..., 1]) * self.n[1]


class _Flipped:
    """A piece's φ with the sign that makes it positive on the domain's side."""

    def __init__(self, piece, s):
        self.seg = getattr(piece, "seg", piece)
        self.piece, self.s = piece, s

    def phi(self, X, xp):
        return self.s * self.piece.phi(X, xp)


def _oriented(piece, sign):
    from pdeforge.dsl.geometry import Arc, Face3, Sphere
    if isinstance(piece, (Arc, Sphere)):      # (|x − c|² − r²)/2r: positive outside, so flip for an outer circle
        return _Flipped(piece, -sign)
    if isinstance(piece, Face3):              # positive inside the box
        return _Flipped(piece, sign)
    return piece                              # trimmed segments (≥ 0) and lines (oriented already)


def _line_if_safe(geo, piece, sign):
    from pdeforge.dsl.geometry import Segment
    if not isinstance(piece, Segment):
        return piece
    if "_pilot" not in geo.__dict__:
        from scipy.stats import qmc
        U = qmc.Halton(geo.dim, scramble=True, seed=11).random(8192)
        P = geo.lo + U * (geo.hi - geo.lo)
        geo._pilot = P[geo.inside(P)]
    side = (geo._pilot - piece.a) @ (sign * piece.normal)
    return Line(piece, sign) if np.all(side <= geo.tol) else piece


def _sample(geo, piece, n=512):
    from scipy.stats import qmc
    U = qmc.Halton(max(1, geo.dim - 1), scramble=True, seed=3).random(n)
    return piece.sample(U)


def _used(geo, piece):
    """Whether any of this primitive piece lies on the domain's boundary."""
    P, N = _sample(geo, piece)
    return bool(np.any(geo._on_boundary(P, N) | geo._on_boundary(P, -N)))


def _check_piece(geo, piece, cond):
    """φ of a primitive piece vanishes on all of it: none of it may cross the domain's inside."""
    P, _ = _sample(geo, piece)
    if np.any(geo.shape.sdf(P) < -10 * geo.eps):
        raise error("E346", "a `hard` condition needs a distance function that vanishes on its boundary only, "
                            "but a shape's outline used here passes through the inside of the domain", cond.span,
                    hint="this happens with unions (`+`); remove `hard` to train the condition as a loss term")
