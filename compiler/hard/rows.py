"""Hard constraint statements → rows: each relation of a `constraint ... hard` line,
linear (affine) in the fields of one model, read as a `Row` `lo <= C·y <= hi` with
sympy coefficients (coordinate-dependent allowed). Reads the statement and the symbol
table; `projection.py` builds the layers from these rows."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error

__all__ = ["Row", "rows_of"]


@dataclass
class Row:
    coeffs: list             # sympy, one per model field
    lo: object               # sympy expr, or None for −∞
    hi: object               # sympy expr, or None for +∞
    method: str | None
    stmt: object
    span: object

    @property
    def equality(self):
        return self.lo is not None and self.hi is not None and self.lo == self.hi

    def fields(self, names):
        return [f for f, a in zip(names, self.coeffs) if a != 0]


def rows_of(stmt, S, models):
    """The rows of one hard constraint statement, with the model they act on."""
    method = next((k.value.id for k in stmt.hard.options if k.name == "method"), None)
    out = []
    model = None
    for rel in stmt.relations:
        exprs = [p for p in rel.parts if isinstance(p, A.Expr)]
        ops = [p for p in rel.parts if isinstance(p, str)]
        sy = [S.to_sympy(e) for e in exprs]
        fs = set()
        for e in sy:
            fs |= {a.func.__name__ for a in e.atoms(AppliedUndef)}
        if sy and any(isinstance(d, sp.Derivative) for e in sy for d in e.atoms(sp.Derivative)):
            raise error("E329", "a hard constraint relates field values; it cannot involve derivatives", rel.span,
                        hint="remove `hard` to train it as a loss term")
        owners = {m.name for m in models for f in fs if f in m.fields}
        if len(owners) > 1:
            raise error("E329", "a hard constraint must involve the fields of one model only", rel.span,
                        hint=f"give {', '.join(f'`{f}`' for f in sorted(fs))} one model: "
                             f"`model ({', '.join(sorted(fs))}) = mlp(...)`")
        m = next(m for m in models if m.name in owners)
        if model is not None and m is not model:
            raise error("E329", "a hard constraint must involve the fields of one model only", stmt.span)
        model = m
        if len(sy) == 2:
            a, b = sy
            op = ops[0]
            if op == "=":
                out.append(_row(a - b, "eq", m, S, method, stmt, rel))
            elif op in ("<=",):
                out.append(_row(a - b, "le", m, S, method, stmt, rel))
            else:
                out.append(_row(b - a, "le", m, S, method, stmt, rel))
        else:
            a, b, c = sy
            lo, hi = (a, c) if ops[0] == "<=" else (c, a)
            if not (lo.atoms(AppliedUndef) or hi.atoms(AppliedUndef)):
                r = _row(b, "le", m, S, method, stmt, rel)
                off = r.hi            # b = C·y + const  ⇒  C·y ≤ −const; lo ≤ b ≤ hi ⇒ lo + off ≤ C·y ≤ hi + off
                out.append(Row(r.coeffs, lo + off, hi + off, method, stmt, rel.span))
            else:
                out.append(_row(lo - b, "le", m, S, method, stmt, rel))
                out.append(_row(b - hi, "le", m, S, method, stmt, rel))
    return model, out


def _row(expr, kind, m, S, method, stmt, rel):
    """expr (= 0 or <= 0), linear in the model's fields ⇒ Row."""
    ys = {S.field[f]: sp.Dummy(f) for f in m.fields}
    e = expr.xreplace(ys)
    coeffs = []
    for f in m.fields:
        a = sp.diff(e, ys[S.field[f]])
        if a.has(*ys.values()):
            raise error("E329", "a hard constraint must be linear (affine) in the fields", rel.span,
                        hint="for a nonlinear relation remove `hard` and train it as a loss term")
        coeffs.append(sp.simplify(a) if a.free_symbols else a)
    const = e.xreplace({y: 0 for y in ys.values()})
    if all(a == 0 for a in coeffs):
        raise error("E321", "this constraint involves no field", rel.span)
    rhs = -const
    return Row(coeffs, rhs if kind == "eq" else None, rhs, method, stmt, rel.span)
