"""Hard Neumann and Robin conditions on box faces, in closed form.

On the face x = a, the condition α·u + γ·∂u/∂x = g (a Neumann condition has α = 0;
`dn(u)` is −∂/∂x on a lower face, +∂/∂x on an upper one, so γ = ±β) is built in as

    u = V + ψ_a(x)·c,   c = (g − α·V(a, ·))/γ − ∂V/∂x(a, ·),

where V is the field before this layer (the network, or its Dirichlet rewrite g + φ·N on
the faces of other coordinates) and V(a, ·), ∂V/∂x(a, ·) are taken at the point
projected onto the face (a forward-mode jvp). ψ_a vanishes on x = a with unit slope:
ψ_lo = (x − lo)(1 − s)², s = (x − lo)/L, and ψ_hi = (x − hi)(1 − r)², r = (hi − x)/L.
Each also vanishes with zero slope on the opposite face, so the two faces of one
coordinate are corrected independently, and a held value on the opposite face stays.
A curvature condition α·u + β·∂u/∂x + γ·∂²u/∂x² = g on x = a is built in after the fluxes as
u = V + χ_a(x)·c, c = (g − α·V − β·∂V/∂x)/γ − ∂²V/∂x² (at (a, ·); V here includes the flux
corrections), χ_a = (x − a)²/2·(1 − s)³ (s the distance from the face over L): zero value and
slope with unit curvature on its face, zero to second order on the opposite one, so values and
fluxes set before it stay (a simply supported end), and so do the u and ∂u/∂x that c uses.
Since ψ_a and c depend on different coordinates, Dirichlet data on the faces of other
coordinates (and initial data) survive the correction exactly when they satisfy the
condition where the faces meet — checked here, at compile time.

Not built in (E324, with the reason): a flux on faces of two different coordinates
(the two corrections would each disturb the other's face), a flux and a value on the
same face, a non-constant coefficient γ of the normal derivative, a flux on the time
axis, a flux together with a hard periodic condition, a stream function or an output
constraint on the same field."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdeforge.dsl.diagnostics import error
from ..symbolic import Dn, on_face
from . import probe

_HINT = "remove `hard` to train this condition as a loss term"


@dataclass
class FluxFace:
    """α·u + γ·∂u/∂x = g (order 1) or α·u + β·∂u/∂x + γ·∂²u/∂x² = g (order 2) on one face;
    α, β, g are sympy expressions free of x, γ a number."""
    coord: str
    index: int               # column in the problem's coordinates
    lo: float
    hi: float
    side: str                # "lo" | "hi"
    alpha: sp.Expr
    gamma: float
    g: sp.Expr
    source: object           # the condition statement
    order: int = 1           # 2: a curvature condition, γ the coefficient of ∂²u/∂x²
    beta: sp.Expr = sp.Integer(0)     # order 2: the coefficient of ∂u/∂x

    @property
    def value(self):
        return self.lo if self.side == "lo" else self.hi

    def psi(self, c):
        L = self.hi - self.lo
        if self.order == 2:       # χ: zero value and slope on its face, unit curvature; flat to second order on the other
            s = (c - self.lo) / L if self.side == "lo" else (self.hi - c) / L
            a = c - self.value
            return 0.5 * a * a * (1.0 - s) ** 3
        if self.side == "lo":
            s = (c - self.lo) / L
            return (c - self.lo) * (1.0 - s) ** 2
        r = (self.hi - c) / L
        return (c - self.hi) * (1.0 - r) ** 2

    def psi_d(self, a, n) -> float:
        """∂ⁿψ(a): what this face's correction adds per unit c to the n-th derivative at x = a
        (closed form: ψ is a cubic in x, and a an end of [lo, hi])."""
        L, y = self.hi - self.lo, (a - self.lo if self.side == "lo" else self.hi - a)
        d = 1 - 4 * y / L + 3 * y * y / (L * L) if n == 1 else (-4 / L + 6 * y / (L * L))
        return d if n == 1 or self.side == "lo" else -d

    def sym_psi(self, c):
        lo, hi = sp.nsimplify(self.lo), sp.nsimplify(self.hi)
        if self.order == 2:
            s = (c - lo) / (hi - lo) if self.side == "lo" else (hi - c) / (hi - lo)
            return (c - sp.nsimplify(self.value)) ** 2 / 2 * (1 - s) ** 3
        if self.side == "lo":
            return (c - lo) * ((hi - c) / (hi - lo)) ** 2
        return (c - hi) * ((c - lo) / (hi - lo)) ** 2


@dataclass
class Flux:
    """The hard Neumann/Robin faces of one field (all faces of one coordinate)."""
    field: str
    faces: list = field(default_factory=list)    # [FluxFace]

    @property
    def sources(self):
        return [f.source for f in self.faces]

    def jax(self, X, u, taylor, env, to_jax):
        """The constrained field at X from u = V(X) (n,); taylor(face, Xa, e, k) gives
        [V, ∂V/∂x, …, ∂ᵏV/∂xᵏ] at the face points Xa, x along e."""
        fluxes = []          # (face, c): their ψ'' adds to the curvature on this coordinate's faces
        for f in self.faces:
            e = jnp.asarray(np.eye(X.shape[-1])[f.index], X.dtype)
            Xa = X * (1.0 - e) + f.value * e       # not X.at[].set: jet (the Taylor pass) has no scatter rule
            e = jnp.broadcast_to(e, X.shape)
            g = to_jax(f.g, env)
            if f.order == 2:
                # the field before this layer is V + Σ ψ_b·c_b (flux faces sorted first); each c_b is
                # free of x, so its n-th derivative on this face is Σ ∂ⁿψ_b(a)·c_b (ψ_b(a) = 0)
                va, dva, d2va = taylor(f, Xa, e, 2)
                for b, cb in fluxes:
                    dva = dva + b.psi_d(f.value, 1) * cb
                    d2va = d2va + b.psi_d(f.value, 2) * cb
                rhs = g
                if f.alpha != 0:
                    rhs = rhs - to_jax(f.alpha, env) * va
                if f.beta != 0:
                    rhs = rhs - to_jax(f.beta, env) * dva
                c = rhs * (1.0 / f.gamma) - d2va
            else:
                va, dva = taylor(f, Xa, e, 1)
                alpha = to_jax(f.alpha, env)
                c = (g - alpha * va) * (1.0 / f.gamma) - dva
                fluxes.append((f, c))
            u = u + f.psi(X[..., f.index]) * c
        return u

    def describe(self, S, rewrite=None):
        u = S.field[self.field]
        args = u.args
        V = sp.Function(f"N_{self.field}")(*args)
        base = rewrite.g + rewrite.phi * V if rewrite is not None else V
        out = [f"  {u} = {base} + corrections:"]
        fluxed = base          # the field with the flux corrections made so far (curvature comes after them)
        for f in self.faces:
            x = S.coord[f.coord]
            a = sp.nsimplify(f.value)
            V = base if f.order == 1 else fluxed
            Va, dVa, d2Va = (sp.diff(V, x, n).subs(x, a) for n in range(3))
            if f.order == 1:
                c = (f.g - f.alpha * Va) / sp.nsimplify(f.gamma) - dVa
                fluxed = fluxed + f.sym_psi(x) * c
            else:
                c = (f.g - f.alpha * Va - f.beta * dVa) / sp.nsimplify(f.gamma) - d2Va
            out.append(f"      + ({f.sym_psi(x)})*({c})")
            out.append(f"      (from {_name(f.source)}: {_cond_text(f, x)} on {f.coord} = {f.value:g})")
        return out


def _cond_text(f, x):
    U = sp.Symbol("u")
    if f.order == 2:
        lhs = sp.nsimplify(f.alpha) * U + f.beta * sp.Symbol(f"d{x}(u)") + sp.nsimplify(f.gamma) * sp.Symbol(f"d(u, {x}, 2)")
        return f"{lhs} = {f.g}"
    return f"{sp.nsimplify(f.alpha) * U + sp.nsimplify(f.gamma) * sp.Symbol(f'd{x}(u)')} = {f.g}"


def _name(stmt):
    return f"`{stmt.label}`" if getattr(stmt, "label", None) else f"line {stmt.span.line}" if stmt.span else "a statement"


def is_flux(cond, S, checked) -> bool:
    """Whether a condition involves a derivative other than the initial rate `dt(u) = g`."""
    lhs, rhs = S.to_sympy(cond.lhs), S.to_sympy(cond.rhs)
    expr = lhs - rhs
    if expr.has(Dn):
        return True
    if not expr.atoms(sp.Derivative):
        return False
    t = checked.time
    rate = (t is not None and isinstance(lhs, sp.Derivative) and isinstance(lhs.expr, AppliedUndef)
            and tuple(lhs.variable_count) == ((S.coord[t.name], 1),) and not rhs.atoms(sp.Derivative))
    return not rate


def _form(cond, face, S, checked):
    """(field, α, β, γ, g, order) of α·u + γ·∂u/∂x = g (order 1, β = 0) or
    α·u + β·∂u/∂x + γ·∂²u/∂x² = g (order 2) on `face`, or a PdeError saying why it is no such form."""
    if getattr(face, "coord", None) is None:
        raise error("E324", "a hard derivative condition is built in on the faces of a box only, "
                    "where the normal is a coordinate axis", cond.span, hint=_HINT)
    x = S.coord[face.coord]
    expr = on_face(S.to_sympy(cond.lhs) - S.to_sympy(cond.rhs), x, face.side)
    fields = {a.func.__name__ for a in expr.atoms(AppliedUndef)}
    if len(fields) != 1:
        raise error("E324", "a hard Neumann or Robin condition must involve exactly one field", cond.span, hint=_HINT)
    fname = fields.pop()
    u = S.field[fname]
    if face.coord not in checked.fields[fname].args:
        raise error("E323", f"`{fname}` does not depend on `{face.coord}`, so it has no face `{face.coord} = {face.value:g}`",
                    cond.span)
    if checked.coord(face.coord).is_time:
        raise error("E324", "a hard derivative condition is built in on spatial faces only (the initial rate `dt(u) = g` aside)",
                    cond.span, hint=_HINT)
    U0, U1, U2 = sp.Dummy("u"), sp.Dummy("ux"), sp.Dummy("uxx")
    e = expr.xreplace({sp.Derivative(u, (x, 2)): U2, sp.Derivative(u, x): U1})
    e = e.xreplace({u: U0})
    if e.atoms(sp.Derivative) or e.atoms(AppliedUndef) or e.has(Dn):
        raise error("E324", f"only the derivatives of `{fname}` normal to the face (`dn({fname})`, `d{face.coord}({fname})` "
                    f"or `d({fname}, {face.coord}, 2)`) can be built in on `{face.coord} = {face.value:g}`: a tangential, "
                    "mixed or third derivative has no closed form here", cond.span, hint=_HINT)
    order = 2 if e.has(U2) else 1
    alpha = sp.expand(sp.diff(e, U0))
    beta = sp.expand(sp.diff(e, U1)) if order == 2 else sp.Integer(0)
    gamma = sp.expand(sp.diff(e, U2 if order == 2 else U1))
    if any(q.has(U0, U1, U2) for q in (alpha, beta, gamma)):
        raise error("E324", f"a hard Robin or curvature condition must be affine in `{fname}` and its normal derivatives",
                    cond.span, hint=_HINT)
    g = sp.expand(-e.xreplace({U0: 0, U1: 0, U2: 0}))
    a = sp.nsimplify(face.value)
    alpha, beta, gamma, g = (q.xreplace({x: a}) for q in (alpha, beta, gamma, g))
    gnum = gamma.xreplace(S.const_values())
    if gnum.free_symbols or not gnum.is_number:
        raise error("E324", "the coefficient of the normal derivative in a hard Robin condition must be a constant",
                    cond.span, hint="divide the condition by it, if it never vanishes, or " + _HINT)
    if gnum == 0:
        raise error("E324", "this hard condition has no normal derivative left on the face", cond.span,
                    hint=f"write it as a value, `{fname} = ...`")
    return fname, alpha, beta, float(gnum), g, order


def synthesize(ctx) -> dict:
    """{field: Flux} for the hard derivative conditions `ctx.fluxes` [(Condition, [Face])];
    the hard value conditions `ctx.values` (already built by dirichlet.py) are checked
    against these where faces meet."""
    checked, S, flux_conds, value_conds, pers = ctx.checked, ctx.S, ctx.fluxes, ctx.values, ctx.periodic
    names = [c.name for c in checked.coords]
    out = {}
    for cond, faces in flux_conds:
        for face in faces:
            fname, alpha, beta, gamma, g, order = _form(cond, face, S, checked)
            co = checked.coord(face.coord)
            fl = out.setdefault(fname, Flux(fname))
            for other in fl.faces:
                if other.coord != face.coord:
                    raise error("E324", "hard derivative conditions on faces of two coordinates "
                                f"(`{other.coord}` and `{face.coord}`) are not built in: "
                                "each face's correction changes the field's derivative on the other face, "
                                "so both hold only where the data happen to agree at the shared edge",
                                cond.span, related=[(other.source.span, "the other condition")],
                                hint="keep one of them hard and remove `hard` from the other, to train it as a loss term")
                if other.side == face.side and other.order == order:
                    raise error("E325", f"two hard conditions set the derivative of `{fname}` on `{face.coord} = {face.value:g}`",
                                cond.span, related=[(other.source.span, "the other condition")], hint="keep one of them")
            fl.faces.append(FluxFace(face.coord, names.index(face.coord), co.lo, co.hi, face.side,
                                     alpha, gamma, g, cond, order, beta))
    consts = S.const_values()
    for fname, fl in out.items():
        fl.faces.sort(key=lambda f: f.order)     # curvature last: χ keeps every value and slope set before it
        _check_values(fl, checked, S, value_conds, consts)
        src = fl.faces[0].source
        for cond, f, x in pers:
            if f == fname:
                raise error("E324", f"`{fname}` has a hard derivative condition and a hard periodic condition; "
                            "they are not built in together",
                            src.span, related=[(cond.span, "periodic here")], hint=_HINT)
    return out


def _check_values(fl, checked, S, value_conds, consts):
    """Held values of the same field: not on a flux face; elsewhere they must satisfy the
    flux condition where the faces meet (for a held initial rate, its time derivative)."""
    args = checked.fields[fl.field].args
    t = checked.time
    values, rates = {}, {}
    for cond, faces in value_conds:
        lhs = S.to_sympy(cond.lhs)
        rate = isinstance(lhs, sp.Derivative)
        fn = (lhs.expr if rate else lhs)
        if not isinstance(fn, AppliedUndef) or fn.func.__name__ != fl.field:
            continue
        for face in faces:
            (rates if rate else values)[(face.coord, face.side)] = (S.to_sympy(cond.rhs), cond, face)
    for f in fl.faces:
        x, a = S.coord[f.coord], sp.nsimplify(f.value)
        for (c2, side2), (data, cond, face2) in values.items():
            if c2 == f.coord:
                if side2 == f.side and f.order == 1:
                    raise error("E324", f"`{fl.field}` has a hard value and a hard derivative condition on the same face "
                                f"`{f.coord} = {f.value:g}`: the value fixes the field there, so only a Robin condition "
                                "combining both could hold", f.source.span, related=[(cond.span, "the value condition")],
                                hint="keep the value hard and remove `hard` from the derivative condition")
                continue     # the opposite face: ψ vanishes there, with its slope
            y, b = S.coord[c2], sp.nsimplify(face2.value)
            w = data.xreplace({y: b})
            rate = rates.get((c2, side2))
            if rate is not None and t is not None and c2 == t.name:
                w = w + (y - b) * rate[0].xreplace({y: b})
            resid = f.alpha * w + f.beta * sp.diff(w, x) + f.gamma * sp.diff(w, x, f.order) - f.g
            checks = [resid.xreplace({x: a, y: b})]
            if rate is not None and t is not None and c2 == t.name:
                checks.append(sp.diff(resid, y).xreplace({x: a, y: b}))
            free = {S.coord[n]: (checked.coord(n).lo, checked.coord(n).hi) for n in args if n not in (f.coord, c2)}
            for k, r in enumerate(checks):
                ok, bad = probe.agree(r, sp.Integer(0), free, consts)
                if not ok:
                    at = f"{f.coord} = {f.value:g}, {c2} = {face2.value:g}" + (f", {probe.where(bad['at'])}" if bad["at"] else "")
                    what = "its time derivative" if k else "the condition"
                    raise error("E326", f"hard conditions{_label(f.source)} and{_label(cond)} disagree where they meet: "
                                "the value "
                                f"data do not satisfy the derivative condition ({what} is off by {bad['a']:.6g}) at {at}",
                                f.source.span, related=[(cond.span, "the value condition")],
                                hint="make the data agree at the edge, or remove `hard` from one of them")


def _label(cond):
    return f" `{cond.label}`" if getattr(cond, "label", None) else ""
