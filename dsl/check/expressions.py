"""The expression walk every pass that reads an equation, condition, constraint, exact
solution or fit shares (it is a helper, not a pass): names resolve, calls have the
right arity, derivatives are taken by coordinates the fields depend on, and each field's
highest derivative order per coordinate is accumulated into `orders` (pass `equations`
fills `State.orders` so). Reads `State` fields, coordinates, constants, params and data.

Also `fields_in` and `bare`, which the well-posedness warnings use."""
from __future__ import annotations

import math

from .. import ast as A
from ..diagnostics import did_you_mean
from .consteval import CONSTANTS, MATH_FUNCS, quiet_value


class Walker:
    """Walks expressions against a `State`; `fit_data` names the observations of the fit
    being walked (their columns may be read only there)."""

    def __init__(self, st, fit_data=None):
        self.st, self.d, self.fit_data = st, st.diag, fit_data

    def expr(self, e, ctx, orders, allowed_coords=None):
        """Check names and calls in an expression; accumulate derivative orders per field."""
        self.walk(e, ctx, orders, {}, allowed_coords)

    def walk(self, e, ctx, orders, acc, allowed_coords):
        d = self.d
        if isinstance(e, A.Num):
            if not math.isfinite(e.value):
                d.error("E201", f"the number {e.text} is too large", e.span, hint="numbers must be below about 1.8e308")
            return set()
        if isinstance(e, A.Name):
            n = e.id
            if n in self.st.fields:
                if ctx == "exact":
                    d.error("E105", f"an exact solution cannot use the field `{n}`", e.span)
                    return set()
                if orders is not None:
                    o = orders.setdefault(n, {})
                    for c, k in acc.items():
                        if c in self.st.fields[n].args:
                            o[c] = max(o.get(c, 0), k)
                return {n}
            if n in self.st.cnames:
                if allowed_coords is not None and n not in allowed_coords:
                    d.error("E104", f"`{n}` is not an argument of this field", e.span)
                return set()
            if n in self.st.params and ctx == "exact":
                d.error("E105", f"an exact solution cannot use the learned parameter `{n}`", e.span,
                        hint=f"write its true value: `exact {n} = VALUE`")
                return set()
            if n in self.st.data:
                d.error("E109", f"`{n}` is a set of observations, not a value", e.span,
                        hint=f"take one of its columns, such as "
                             f"`{n}.{value_columns(self.st, n)[0] if value_columns(self.st, n) else 'u'}`, "
                             f"in a condition `at {n}`")
                return set()
            if n in self.st.inputs:
                if ctx == "exact":
                    d.error("E105", f"an exact solution cannot use the input function `{n}`", e.span)
                elif allowed_coords is not None and not set(self.st.inputs[n].coords) <= set(allowed_coords):
                    d.error("E104", f"`{n}` depends on coordinates this field does not", e.span)
                return set()
            if n in self.st.consts or n in CONSTANTS or n in self.st.params or n in self.st.poisoned:
                return set()
            known = (list(self.st.fields) + self.st.cnames + list(self.st.consts) + list(self.st.params) + list(CONSTANTS)
                     + list(self.st.inputs))
            d.error("E101", f"`{n}` is not defined", e.span, hint=did_you_mean(n, known))
            return set()
        if isinstance(e, A.Neg):
            return self.walk(e.operand, ctx, orders, acc, allowed_coords)
        if isinstance(e, A.BinOp):
            if e.op == "&":
                d.error("E210", "`&` intersects shapes; it cannot appear in an equation", e.span)
                return set()
            if e.op == "/" and quiet_value(self.st.consts, e.right) == 0.0:
                # sympy would fold it to `zoo` and training would only show NaN
                d.error("E201", "division by zero: the denominator is the constant 0", e.right.span)
            return self.walk(e.left, ctx, orders, acc, allowed_coords) | self.walk(e.right, ctx, orders, acc, allowed_coords)
        if isinstance(e, A.Attr):
            self.attr(e, ctx)
            return set()
        if isinstance(e, (A.Tuple, A.Interval)):
            d.error("E210", "a tuple or interval cannot appear in an equation", e.span)
            return set()
        if isinstance(e, A.Call):
            return self.call(e, ctx, orders, acc, allowed_coords)
        return set()

    def call(self, e, ctx, orders, acc, allowed_coords):
        d, f = self.d, e.func
        if e.kwargs and f not in ("lap",):
            d.error("E130", f"`{f}` takes no named arguments", e.kwargs[0].span)
        spatial = [c.name for c in self.st.coords if not c.is_time]

        def need(n):
            if len(e.args) != n:
                d.error("E131", f"`{f}` takes {n} argument{'s' if n != 1 else ''}, {len(e.args)} given", e.span)
                return False
            return True

        def bump(c, k=1):
            a = dict(acc)
            a[c] = a.get(c, 0) + k
            return a

        if f in MATH_FUNCS:
            return self.walk(e.args[0], ctx, orders, acc, allowed_coords) if need(1) else set()
        if ctx == "exact" and (f in ("d", "lap", "grad", "div", "dn") or f.startswith("d") and f[1:] in self.st.cnames):
            d.error("E105", "an exact solution cannot take derivatives", e.span)
            return set()
        if f == "d":
            if len(e.args) < 2:
                d.error("E131", "`d` takes an expression and a coordinate: `d(u, x)`, `d(u, x, 2)` or `d(u, x, y)`", e.span)
                return set()
            wrt = []
            rest = e.args[1:]
            if len(rest) == 2 and isinstance(rest[1], A.Num):
                n = rest[1].value
                if n != int(n) or n < 1 or n > 8:
                    d.error("E211", "derivative order must be a whole number from 1 to 8", rest[1].span)
                    return set()
                rest = [rest[0]] * int(n)
            for a in rest:
                if not isinstance(a, A.Name) or a.id not in self.st.cnames:
                    name = a.id if isinstance(a, A.Name) else None
                    d.error("E106", f"`{name or 'this'}` is not a coordinate to differentiate by", a.span,
                            hint=did_you_mean(name, self.st.cnames) if name else None)
                    return set()
                wrt.append(a.id)
            a2 = dict(acc)
            for c in wrt:
                a2[c] = a2.get(c, 0) + 1
            fs = self.walk(e.args[0], ctx, orders, a2, allowed_coords)
            self.depends(e, fs, set(wrt))
            return fs
        if f.startswith("d") and f[1:] in self.st.cnames and f not in self.st.fields:
            if not need(1):
                return set()
            fs = self.walk(e.args[0], ctx, orders, bump(f[1:]), allowed_coords)
            self.depends(e, fs, {f[1:]})
            return fs
        if f == "lap":
            if not need(1):
                return set()
            fs = set()
            for c in spatial:
                fs |= self.walk(e.args[0], ctx, orders, bump(c, 2), allowed_coords)
            for k in e.kwargs:
                if k.name != "estimate":
                    d.error("E130", f"`lap` has no option `{k.name}`", k.span)
            return fs
        if f == "grad":
            d.error("E212", "`grad(u)` is a vector; use it inside `div(...)`, or take one component with `dx(u)`", e.span)
            return set()
        if f == "div":
            args = e.args
            if len(args) == 1 and isinstance(args[0], A.Call) and args[0].func == "grad":
                g = args[0]
                if len(g.args) != 1:
                    d.error("E131", "`grad` takes 1 argument", g.span)
                    return set()
                fs = set()
                for c in spatial:
                    fs |= self.walk(g.args[0], ctx, orders, bump(c, 2), allowed_coords)
                return fs
            if len(args) != len(spatial):
                d.error("E131", f"`div` takes {len(spatial)} components here (one per spatial coordinate), "
                                f"{len(args)} given", e.span)
                return set()
            fs = set()
            for c, a in zip(spatial, args):
                fs |= self.walk(a, ctx, orders, bump(c), allowed_coords)
            return fs
        if f == "dn":
            if ctx != "condition":
                d.error("E107", "`dn` (the outward normal derivative) is defined on boundaries only: "
                                "use it in a `condition`", e.span)
                return set()
            if not need(1):
                return set()
            fs = set()
            for c in spatial:
                fs |= self.walk(e.args[0], ctx, orders, bump(c), allowed_coords)
            return fs
        if f == "periodic":
            d.error("E207", "`periodic(u, x)` is a whole condition on its own: `condition: periodic(u, x)`", e.span)
            return set()
        known = list(MATH_FUNCS) + ["d", "lap", "div", "dn"] + ["d" + c for c in self.st.cnames]
        d.error("E108", f"unknown function `{f}`", e.func_span or e.span, hint=did_you_mean(f, known))
        return set()

    def depends(self, e, fs, wrt):
        for f in fs:
            missing = wrt - set(self.st.fields[f].args)
            if missing and isinstance(e.args[0], A.Name):
                c = sorted(missing)[0]
                self.d.error("E104", f"`{f}` does not depend on `{c}`: `{f}({', '.join(self.st.fields[f].args)})`", e.span,
                             hint=f"declare `field {f}({', '.join(self.st.fields[f].args + [c])})` if it should")

    def attr(self, e, ctx):
        d = self.d
        if e.obj not in self.st.data:
            if e.obj not in self.st.poisoned:
                d.error("E101", f"`{e.obj}` is not a set of observations (`data {e.obj} from ...`)", e.span,
                        hint=did_you_mean(e.obj, self.st.data))
            return
        cols = value_columns(self.st, e.obj)
        if e.attr not in cols:
            coords = e.attr in self.st.cnames
            d.error("E101", f"`{e.obj}` has no value column `{e.attr}`" + (" (it is a coordinate)" if coords else ""), e.span,
                    hint=(f"write the coordinate `{e.attr}` itself" if coords else did_you_mean(e.attr, cols))
                    or f"its value columns: {', '.join(cols) or 'none'}")
            return
        if ctx != "fit" or self.fit_data != e.obj:
            d.error("E312", f"`{e.obj}.{e.attr}` is known only at the points of `{e.obj}`", e.span,
                    hint=f"use it in a condition `at {e.obj}`, such as `condition: u = {e.obj}.{e.attr} at {e.obj}`")


def value_columns(st, dname):
    """The columns of the observations `dname` that are not coordinates."""
    return [c.name for c in st.data[dname].columns if c.name not in st.cnames] if dname in st.data else []


def fields_in(st, stmt):
    out = set()
    exprs = [stmt.lhs, stmt.rhs] if hasattr(stmt, "lhs") else []
    for e in exprs:
        if e is None:
            continue
        for sub in A.walk(e):
            if isinstance(sub, A.Name) and sub.id in st.fields:
                out.add(sub.id)
    return out


def bare(st, fname, stmt):
    """Whether `fname` appears in the statement outside every derivative."""
    def walk(e):
        if isinstance(e, A.Name):
            return e.id == fname
        if isinstance(e, A.Call):
            if e.func in ("d", "lap", "grad", "div", "dn") or e.func.startswith("d") and e.func[1:] in st.cnames:
                return False
            return any(walk(a) for a in e.args)
        if isinstance(e, A.BinOp):
            return walk(e.left) or walk(e.right)
        if isinstance(e, A.Neg):
            return walk(e.operand)
        return isinstance(e, A.Expr) and any(walk(x) for x in A.walk(e) if x is not e)
    return any(walk(e) for e in (getattr(stmt, "lhs", None), getattr(stmt, "rhs", None)) if e is not None)
