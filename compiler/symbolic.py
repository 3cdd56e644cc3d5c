"""AST expressions → sympy, built node by node (user text never reaches sympify)."""
from __future__ import annotations

import sympy as sp

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error
from pdeforge.dsl.vocabulary import FUNCTIONS

__all__ = ["FUNCS", "Dn", "Lap", "expand_lap", "Symbols", "on_face", "normal_symbols", "on_piece"]

# the language's math functions (dsl/vocabulary.py) as sympy functions
FUNCS = {name: getattr(sp, f.sympy) for name, f in FUNCTIONS.items()}


class Dn(sp.Function):
    """Outward normal derivative; resolved to ±∂/∂x on each face of a condition."""
    nargs = 1


class Lap(sp.Function):
    """lap(u) of a field u, kept whole so the derivative planner can use a forward
    Laplacian instead of a sum of second derivatives. Lap(u, k, *spatial): k = 0 exact,
    k > 0 the STDE estimate with k random directions per point; `spatial` are the
    coordinates it sums over, so it expands (and differentiates) on its own."""

    @property
    def field(self):
        return self.args[0]

    @property
    def estimate(self):
        return int(self.args[1])

    @property
    def coords(self):
        return self.args[2:]

    def expanded(self):
        return sp.Add(*[sp.diff(self.field, x, 2) for x in self.coords])

    def _eval_derivative(self, s):
        return self.expanded().diff(s)

    def _sympystr(self, printer):
        k = self.estimate
        return f"lap({printer._print(self.field)}" + (f", estimate={k})" if k else ")")

    def _latex(self, printer):
        inner = printer._print(self.field)
        return rf"\Delta {inner}" if not self.estimate else rf"\widehat{{\Delta}}_{{{self.estimate}}} {inner}"


def expand_lap(expr, keep_fields=False):
    """Replace Lap by its sum of second derivatives; with keep_fields, only those whose
    argument is no longer a bare field (e.g. after a hard-constraint substitution)."""
    return expr.replace(lambda e: isinstance(e, Lap) and not (keep_fields and isinstance(e.field, sp.core.function.AppliedUndef)),
                        lambda e: e.expanded())


class Symbols:
    """The sympy objects that stand for a checked program's names."""

    def __init__(self, checked):
        self.checked = checked
        self.coord = {c.name: sp.Symbol(c.name, real=True) for c in checked.coords}
        self.const = {n: sp.Symbol(n, real=True) for n in checked.consts}
        # learned scalars stay symbols through lowering; their values come from the params pytree
        self.param = {n: sp.Symbol(n, real=True) for n in getattr(checked, "params", {})}
        # observed values `obs.u`: one symbol per value column, bound to the data points' column
        self.data = {(d, c.name): sp.Symbol(f"{d}.{c.name}", real=True)
                     for d, stmt in getattr(checked, "data", {}).items() for c in stmt.columns
                     if c.name not in self.coord}
        self.field_fn = {f: sp.Function(f) for f in checked.fields}
        self.field = {f: self.field_fn[f](*[self.coord[a] for a in decl.args]) for f, decl in checked.fields.items()}
        self.spatial = [self.coord[c.name] for c in checked.spatial]
        # input functions of an operator (`input f(x) from ...`): applied functions like the
        # fields, but given, not learned (compiler/operator_points.py binds their values)
        self.input = {n: sp.Function(n)(*[self.coord[c] for c in fn.coords])
                      for n, fn in getattr(checked, "inputs", {}).items()}

    def const_values(self):
        """{Symbol: sympy Float}: sympy numbers, not Python floats, so that `xreplace` on a
        residual that is one constant alone (`(pi + k) = pi`) still returns a sympy expression."""
        return {self.const[n]: sp.Float(v) for n, v in self.checked.consts.items()}

    def to_sympy(self, e):
        S = self
        if isinstance(e, A.Num):
            # exact rationals keep the algebra exact (0.4 → 2/5); the text matched NUMBER already
            return sp.Rational(e.text) if len(e.text) < 40 else sp.Float(e.value)
        if isinstance(e, A.Name):
            n = e.id
            if n in S.field:
                return S.field[n]
            if n in S.coord:
                return S.coord[n]
            if n in S.const:
                return S.const[n]
            if n in S.param:
                return S.param[n]
            if n in S.input:
                return S.input[n]
            if n == "pi":
                return sp.pi
            if n == "e":
                return sp.E
            raise error("E101", f"`{n}` is not defined", e.span)
        if isinstance(e, A.Attr):
            if (e.obj, e.attr) in S.data:
                return S.data[(e.obj, e.attr)]
            raise error("E101", f"`{e.obj}.{e.attr}` is not defined", e.span)
        if isinstance(e, A.Neg):
            return -S.to_sympy(e.operand)
        if isinstance(e, A.BinOp):
            a, b = S.to_sympy(e.left), S.to_sympy(e.right)
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                    "/": lambda: a / b, "^": lambda: a ** b}[e.op]()
        if isinstance(e, A.Call):
            return S._call(e)
        raise error("E210", "this expression cannot appear here", e.span)

    def _call(self, e):
        f, args = e.func, e.args
        if f in FUNCS:
            return FUNCS[f](self.to_sympy(args[0]))
        if f == "d":
            inner = self.to_sympy(args[0])
            rest = args[1:]
            if len(rest) == 2 and isinstance(rest[1], A.Num):
                return sp.diff(inner, self.coord[rest[0].id], int(rest[1].value))
            return sp.diff(inner, *[self.coord[a.id] for a in rest])
        if f.startswith("d") and f[1:] in self.coord:
            return sp.diff(self.to_sympy(args[0]), self.coord[f[1:]])
        if f == "lap":
            u = self.to_sympy(args[0])
            est = e.kwarg("estimate")
            k = 0
            if est is not None:
                if not isinstance(est, A.Num) or est.value != int(est.value) or not 1 <= est.value <= 100_000:
                    raise error("E232", "`estimate` must be a whole number of random directions, from 1 to 100000",
                                est.span, hint="for example `lap(u, estimate = 16)`")
                k = int(est.value)
            if isinstance(u, sp.core.function.AppliedUndef):
                return Lap(u, sp.Integer(k), *self.spatial)
            if k:
                raise error("E232", "`lap(..., estimate = k)` needs a field as its argument, as in `lap(u, estimate = 16)`",
                            e.span, hint="write the Laplacian of a field, or drop `estimate`")
            # Δ is linear: Δ(2u + v + 1) = 2Δu + Δv keeps fields whole; anything else expands
            out = 0
            for t in sp.Add.make_args(sp.expand(u)):
                c, f_ = t.as_coeff_Mul()
                if isinstance(f_, sp.core.function.AppliedUndef):
                    out += c * Lap(f_, sp.Integer(0), *self.spatial)
                elif t.free_symbols:
                    break
            else:
                return out
            return sp.Add(*[sp.diff(u, x, 2) for x in self.spatial])
        if f == "div":
            if len(args) == 1 and isinstance(args[0], A.Call) and args[0].func == "grad":
                u = self.to_sympy(args[0].args[0])
                if isinstance(u, sp.core.function.AppliedUndef):
                    return Lap(u, sp.Integer(0), *self.spatial)
                return sp.Add(*[sp.diff(u, x, 2) for x in self.spatial])
            return sp.Add(*[sp.diff(self.to_sympy(a), x) for a, x in zip(args, self.spatial)])
        if f == "dn":
            return Dn(self.to_sympy(args[0]))
        raise error("E108", f"unknown function `{f}`", e.span)


def on_face(expr, coord_sym, side):
    """Resolve dn(·) on a face: the outward normal of `coord = lo` is −e_coord, of `coord = hi` is +e_coord."""
    sign = -1 if side == "lo" else 1
    return expr.replace(Dn, lambda a: sign * sp.diff(a, coord_sym))


def normal_symbols(S):
    """n_x, n_y, …: the outward unit normal's components at a boundary point of a shaped domain."""
    return [sp.Symbol(f"_n_{c.name}", real=True) for c in S.checked.spatial]


def on_piece(expr, S):
    """Resolve dn(·) on a shaped boundary: Σ n_i ∂/∂x_i, the normals coming with the points."""
    ns = normal_symbols(S)
    return expr.replace(Dn, lambda a: sp.Add(*[n * sp.diff(a, x) for n, x in zip(ns, S.spatial)]))
