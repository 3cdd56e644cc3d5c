"""Hard Dirichlet and initial conditions on box faces: `u = g + φ·N`.

φ is a product of normalised distance factors that vanish on the constrained faces
(Sukumar & Srivastava 2022, for a box): (c − lo)(hi − c)·4/L² when both faces of c are
held, (c − lo)/L or (hi − c)/L for one face, s²/(1 + s²) with s = 10(t − t0)/T when
the initial rate dt(u) is held as well. g is the transfinite (Coons / boolean-sum) interpolant of the
face data: g = Σ_{S ≠ ∅} (−1)^{|S|+1} Π_{c∈S} P_c[u], where P_c interpolates linearly
between the two faces of c (or copies one face; with an initial rate it is the
first-order Taylor polynomial in t). It matches every face's data exactly, so
u = g + φ·N does too, for any network N — and so do its derivatives along the faces.
Where faces meet, their data must agree: that is checked here, at compile time."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from pdeforge.dsl.diagnostics import error
from ..symbolic import Dn
from . import probe


# With the initial rate held, φ_t = s²/(1 + s²), s = 10 (t − t0)/T: second order at t0 as
# it must be, but saturating to 1 after a tenth of the interval. A plain ((t − t0)/T)²
# makes N ≈ ½ u_tt T² near t0 — large for fast waves, and a tanh network learns it poorly.
RATE_SCALE = 10.0


@dataclass
class Axis:
    """One constrained coordinate of a field: which faces hold data, and whether the rate does."""
    coord: str
    index: int               # column in the problem's coordinates
    lo: float
    hi: float
    sides: set = field(default_factory=set)   # {"lo", "hi"}
    rate: bool = False       # dt(u) held on the lo face (time only)

    @property
    def length(self):
        return self.hi - self.lo

    def weights(self):
        """P_c as [(side, derivative order, weight kind)]."""
        if self.rate:
            return [("lo", 0, "one"), ("lo", 1, "rate")]
        if self.sides == {"lo", "hi"}:
            return [("lo", 0, "lin_lo"), ("hi", 0, "lin_hi")]
        return [(next(iter(self.sides)), 0, "one")]


@dataclass
class Rewrite:
    """u = g + φ·N for one field; `terms` spell g out, `axes` give φ."""
    field: str
    axes: list               # [Axis]
    terms: list              # [(sign, [(Axis, weight kind)], data expr)]
    sources: list            # the condition statements it replaces
    g: sp.Expr = None        # symbolic, for --emit ir
    phi: sp.Expr = None

    def jax(self, X, N, env, to_jax):
        """The constrained field at X (problem coordinates) from the network output N (n,)."""
        g, phi = self.parts(X, env, to_jax)
        return g + phi * N

    def vanishes_on(self, coord, side) -> bool:
        """Whether φ is zero on the face `coord` = lo/hi (that face's value is held)."""
        return any(ax.coord == coord and side in ax.sides and not ax.rate for ax in self.axes)

    def parts(self, X, env, to_jax):
        """(g, φ) at X."""
        g = 0.0
        for sign, ws, data in self.terms:
            v = to_jax(data, env)
            for ax, kind in ws:
                v = v * _weight(X[..., ax.index], ax, kind)
            g = g + sign * v
        phi = 1.0
        for ax in self.axes:
            phi = phi * _factor(X[..., ax.index], ax)
        return g, phi


def _weight(c, ax, kind):
    if kind == "one":
        return 1.0
    if kind == "rate":
        return c - ax.lo
    s = (c - ax.lo) / ax.length          # exactly 0 on the lo face, so lin_lo is exactly 1 there
    return s if kind == "lin_hi" else 1.0 - s


def _factor(c, ax):
    L = ax.length
    if ax.rate:
        s = (c - ax.lo) * (RATE_SCALE / L)
        s2 = s * s
        return s2 / (1.0 + s2)
    if ax.sides == {"lo", "hi"}:
        return (c - ax.lo) * (ax.hi - c) * (4.0 / (L * L))
    return (c - ax.lo) / L if "lo" in ax.sides else (ax.hi - c) / L


def _sym_weight(c, ax, kind):
    lo, hi = sp.nsimplify(ax.lo), sp.nsimplify(ax.hi)
    return {"one": sp.Integer(1), "rate": c - lo, "lin_lo": (hi - c) / (hi - lo), "lin_hi": (c - lo) / (hi - lo)}[kind]


def _sym_factor(c, ax):
    lo, hi = sp.nsimplify(ax.lo), sp.nsimplify(ax.hi)
    if ax.rate:
        s2 = (sp.nsimplify(RATE_SCALE) * (c - lo) / (hi - lo)) ** 2
        return s2 / (1 + s2)
    if ax.sides == {"lo", "hi"}:
        return 4 * (c - lo) * (hi - c) / (hi - lo) ** 2
    return (c - lo) / (hi - lo) if "lo" in ax.sides else (hi - c) / (hi - lo)


def classify(cond, S, checked):
    """(field name, 'value' | 'rate') for a hard condition, or a PdeError saying why it cannot be hard."""
    lhs = S.to_sympy(cond.lhs)
    rhs = S.to_sympy(cond.rhs)
    if rhs.atoms(AppliedUndef):
        raise error("E323", "the value of a hard condition cannot involve a field", cond.rhs.span,
                    hint="a hard condition gives a field's value as a function of the coordinates; "
                         "remove `hard` to train it as a loss term")
    if lhs.has(Dn) or isinstance(lhs, sp.Derivative) and not _is_time(lhs, checked, S):
        raise error("E324", "a hard Neumann or Robin condition is not supported: "
                    "only values (and the initial rate dt(u)) can be built in",
                    cond.span, hint="remove `hard` to train this condition as a loss term")
    if isinstance(lhs, AppliedUndef):
        return lhs.func.__name__, "value"
    if isinstance(lhs, sp.Derivative) and isinstance(lhs.expr, AppliedUndef):
        return lhs.expr.func.__name__, "rate"
    raise error("E323", "a hard condition must set a field itself, such as `u = 0`, or its initial rate, `dt(u) = 0`",
                cond.lhs.span,
                hint="rewrite it as `u = ...`, or remove `hard` to train it as a loss term")


def _is_time(d, checked, S):
    t = checked.time
    return t is not None and isinstance(d.expr, AppliedUndef) and tuple(d.variable_count) == ((S.coord[t.name], 1),)


def synthesize(ctx) -> dict:
    """{field: Rewrite} for the hard value conditions `ctx.values` [(Condition, [Face])]."""
    checked, S, conds = ctx.checked, ctx.S, ctx.values
    consts = S.const_values()
    names = [c.name for c in checked.coords]
    data = {}     # field -> {(coord, side, order): (expr, cond)}
    for cond, faces in conds:
        fname, kind = classify(cond, S, checked)
        rhs = S.to_sympy(cond.rhs)
        args = checked.fields[fname].args
        for f in faces:
            if f.coord not in args:
                raise error("E323", f"`{fname}` does not depend on `{f.coord}`, so it has no face `{f.coord} = {f.value:g}`",
                            cond.span)
            if kind == "rate" and not (checked.coord(f.coord).is_time and f.side == "lo"):
                raise error("E324", "a hard rate condition `dt(u) = ...` is supported on the initial time only", cond.span,
                            hint="remove `hard` to train it as a loss term")
            order = 1 if kind == "rate" else 0
            h = rhs.xreplace({S.coord[f.coord]: sp.nsimplify(f.value)})
            key = (f.coord, f.side, order)
            slot = data.setdefault(fname, {})
            if key in slot:
                prev, pcond = slot[key]
                free = _free_box(checked, S, args, {f.coord})
                ok, _ = probe.agree(prev, h, free, consts)
                if not ok:
                    raise error("E325", f"two hard conditions give `{fname}` different values on `{f.coord} = {f.value:g}`",
                                cond.span, related=[(pcond.span, "the other condition")])
                continue
            slot[key] = (h, cond)
    out = {}
    for fname, slot in data.items():
        axes = {}
        for (c, side, order), _ in slot.items():
            co = checked.coord(c)
            ax = axes.setdefault(c, Axis(c, names.index(c), co.lo, co.hi))
            if order:
                ax.rate = True
            else:
                ax.sides.add(side)
        for ax in axes.values():
            if ax.rate and ax.sides != {"lo"}:
                cond = slot[(ax.coord, "lo", 1)][1]
                if "lo" not in ax.sides:
                    raise error("E323", f"a hard initial rate needs a hard initial value of `{fname}` as well", cond.span,
                                hint=f"mark the condition `{fname} = ... on {ax.coord} = {ax.lo:g}` hard too, "
                                     "or remove `hard` here")
                raise error("E324", f"hard conditions on both ends of `{ax.coord}` together with a hard initial rate "
                            "are not supported", cond.span,
                            hint="remove `hard` from the condition at the final time")
        axes = [axes[c] for c in names if c in axes]
        _check_corners(fname, axes, slot, checked, S, consts)
        rw = _build(fname, axes, slot, S)
        rw.sources = list({id(c): c for _, c in slot.values()}.values())
        out[fname] = rw
    return out


def _free_box(checked, S, args, fixed):
    return {S.coord[a]: (checked.coord(a).lo, checked.coord(a).hi) for a in args if a not in fixed}


def _source(slot, fixed, S):
    """∂^k u on the intersection of the faces in `fixed` [(Axis, side, order)], from one condition's data."""
    rate = [(ax, side) for ax, side, k in fixed if k]
    if rate:
        ax0, side0 = rate[0]
        key = (ax0.coord, side0, 1)
    else:
        ax0, side0, _ = fixed[0]
        key = (ax0.coord, side0, 0)
    expr, cond = slot[key]
    sub = {S.coord[ax.coord]: sp.nsimplify(ax.lo if side == "lo" else ax.hi) for ax, side, _ in fixed if ax is not ax0}
    return expr.xreplace(sub), cond


def _build(fname, axes, slot, S):
    terms, g = [], sp.Integer(0)
    for r in range(1, len(axes) + 1):
        for subset in itertools.combinations(axes, r):
            sign = 1 if r % 2 else -1
            for choice in itertools.product(*[ax.weights() for ax in subset]):
                fixed = [(ax, side, k) for ax, (side, k, _) in zip(subset, choice)]
                data, _ = _source(slot, fixed, S)
                if data == 0:
                    continue
                ws = [(ax, kind) for ax, (_, _, kind) in zip(subset, choice) if kind != "one"]
                terms.append((sign, ws, data))
                sym = data
                for ax, kind in ws:
                    sym = sym * _sym_weight(S.coord[ax.coord], ax, kind)
                g += sign * sym
    phi = sp.Integer(1)
    for ax in axes:
        phi = phi * _sym_factor(S.coord[ax.coord], ax)
    return Rewrite(fname, axes, terms, [], g, phi)


def _check_corners(fname, axes, slot, checked, S, consts):
    """Face data must agree where faces meet: values on edges, and the initial rate
    against the time derivative of the spatial face data."""
    args = checked.fields[fname].args
    keys = list(slot)
    for (c1, s1, k1), (c2, s2, k2) in itertools.combinations(keys, 2):
        if c1 == c2:
            continue
        a1 = next(a for a in axes if a.coord == c1)
        a2 = next(a for a in axes if a.coord == c2)
        v1 = sp.nsimplify(a1.lo if s1 == "lo" else a1.hi)
        v2 = sp.nsimplify(a2.lo if s2 == "lo" else a2.hi)
        e1, cond1 = slot[(c1, s1, k1)]
        e2, cond2 = slot[(c2, s2, k2)]
        if k1 and k2:
            continue
        # bring both to the same quantity on the edge c1 = v1, c2 = v2
        if k1:
            e2 = sp.diff(e2, S.coord[c1])
        if k2:
            e1 = sp.diff(e1, S.coord[c2])
        lhs = e1.xreplace({S.coord[c2]: v2})
        rhs = e2.xreplace({S.coord[c1]: v1})
        free = _free_box(checked, S, args, {c1, c2})
        ok, bad = probe.agree(lhs, rhs, free, consts)
        if not ok:
            what = f"d{checked.coord(c1 if k1 else c2).name}({fname})" if k1 or k2 else fname
            at = f"{c1} = {float(v1):g}, {c2} = {float(v2):g}" + (f", {probe.where(bad['at'])}" if bad["at"] else "")
            first, second = (cond1, cond2) if cond1.span.line <= cond2.span.line else (cond2, cond1)
            raise error("E326", f"hard conditions{_label(first)} and{_label(second)} disagree where they meet: "
                        f"{what} = {bad['a']:.6g} from one and {bad['b']:.6g} from the other at {at}",
                        second.span, related=[(first.span, "the other condition")],
                        hint="a field with both conditions hard must take one value at the corner; "
                             "fix the data, or remove `hard` from one of them")


def _label(cond):
    return f" `{cond.label}`" if cond.label else ""
