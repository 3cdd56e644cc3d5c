"""Hard algebraic constraints on a model's outputs, as closed-form layers.

- Linear equalities and affine inequalities `l(x) <= C(x)·y <= u(x)` with independent
  rows: the HardNet-Aff projection (Min & Azizan 2024)
      y ← y + C⁺ (relu(l − C y) − relu(C y − u)),   C⁺ = Cᵀ(C Cᵀ)⁻¹,
  which for equalities alone is the KKT-hPINN orthogonal projection
  y ← y − Cᵀ(C Cᵀ)⁻¹(C y − b). C⁺ is derived symbolically (sympy) at compile time, so
  coefficients may depend on the coordinates, and the layer is plain arithmetic that
  the forward-mode derivative engine differentiates to any order. A feasible output
  is left unchanged.
- Bounds by smooth reparameterisation, by choice: `hard(method = softplus)` for one
  bound (u = lo + softplus(n)), `hard(method = sigmoid)` for two (u = lo + (hi − lo)σ(n)).
- Mixtures that sum to a positive total, `Σ w_i c_i = b` with every `c_i >= 0` (the rows
  are dependent, so no affine projection exists in closed form): c_i = b·s_i / Σ w_j s_j,
  s = softplus(n) — `hard(method = simplex)`, chosen automatically for that pattern.
Contradictory rows (`u >= 1` with `u <= 0`, `u = 0` with `u = 1`) and dependent rows are
compile errors naming both. The statements are read into rows by `rows.py`."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
import sympy as sp

from pdeforge.dsl.diagnostics import error
from . import probe
from .rows import Row, rows_of


@dataclass
class Layer:
    model: str
    fields: list             # the model's fields, in output order
    kind: str                # "projection" | "bounds" | "simplex"
    rows: list = field(default_factory=list)
    # projection
    C: object = None         # sympy Matrix r×n
    P: object = None         # sympy Matrix n×r, C⁺
    # bounds: {field index: (lo, hi, method)}; simplex: (indices, weights, total)
    bounds: dict = field(default_factory=dict)
    simplex: tuple = None

    @property
    def sources(self):
        return list({id(r.stmt): r.stmt for r in self.rows}.values())

    def jax(self, X, Y, env, to_jax):
        cols = [Y[..., j] for j in range(Y.shape[-1])]
        if self.kind == "bounds":
            for j, (lo, hi, method) in self.bounds.items():
                n = cols[j]
                if method == "sigmoid":
                    l, h = to_jax(lo, env), to_jax(hi, env)
                    cols[j] = l + (h - l) * _sigmoid(n)
                elif lo is not None:
                    cols[j] = to_jax(lo, env) + _softplus(n)
                else:
                    cols[j] = to_jax(hi, env) - _softplus(n)
        elif self.kind == "simplex":
            idx, w, total = self.simplex
            s = {j: _softplus(cols[j]) for j in idx}
            den = sum(float(wj) * s[j] for j, wj in zip(idx, w))
            b = to_jax(total, env)
            for j in idx:
                cols[j] = b * s[j] / den
        else:
            r, n = self.C.shape
            corr = []
            for k, row in enumerate(self.rows):
                cy = 0.0
                for i in range(n):
                    if self.C[k, i] != 0:
                        cy = cy + to_jax(self.C[k, i], env) * cols[i]
                if row.equality:
                    corr.append(to_jax(row.lo, env) - cy)
                    continue
                c = 0.0
                if row.lo is not None:
                    c = c + jnp.maximum(to_jax(row.lo, env) - cy, 0.0)
                if row.hi is not None:
                    c = c - jnp.maximum(cy - to_jax(row.hi, env), 0.0)
                corr.append(c)
            cols = [cols[i] + sum(to_jax(self.P[i, k], env) * corr[k] for k in range(r) if self.P[i, k] != 0)
                    for i in range(n)]
        return jnp.stack([jnp.broadcast_to(jnp.asarray(c, Y.dtype), Y.shape[:-1]) for c in cols], axis=-1)

    def describe(self):
        ys = [sp.Symbol(f"N_{f}") for f in self.fields]
        out = []
        if self.kind == "bounds":
            for j, (lo, hi, method) in self.bounds.items():
                if method == "sigmoid":
                    out.append(f"{self.fields[j]} = {lo} + ({hi} - ({lo}))*sigmoid(N_{self.fields[j]})")
                elif lo is not None:
                    out.append(f"{self.fields[j]} = {lo} + softplus(N_{self.fields[j]})")
                else:
                    out.append(f"{self.fields[j]} = {hi} - softplus(N_{self.fields[j]})")
        elif self.kind == "simplex":
            idx, w, total = self.simplex
            den = " + ".join(f"{wj}*softplus(N_{self.fields[j]})" if wj != 1 else f"softplus(N_{self.fields[j]})"
                             for j, wj in zip(idx, w))
            for j in idx:
                out.append(f"{self.fields[j]} = ({total})*softplus(N_{self.fields[j]}) / ({den})")
        else:
            y = sp.Matrix(ys)
            cy = self.C * y
            for k, row in enumerate(self.rows):
                lo = row.lo if row.lo is not None else '-oo'
                hi = row.hi if row.hi is not None else 'oo'
                rng = f"= {row.lo}" if row.equality else f"in [{lo}, {hi}]"
                out.append(f"row {k + 1}: {cy[k]} {rng}")
            out.append(f"(fields) = N + C⁺·(relu(l - C·N) - relu(C·N - u)), C⁺ = {self.P.tolist()}")
        return out


def _softplus(z):
    # max(z, 0) + log1p(exp(−|z|)): stable, and made of primitives that jet differentiates
    return jnp.maximum(z, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(z)))


def _sigmoid(z):
    return 1.0 / (1.0 + jnp.exp(-z))


# ---- rows → layers (the rows come from `rows.rows_of`)

def synthesize(ctx) -> list:
    """[Layer] for the hard constraint statements `ctx.constraints`."""
    constraints, S, models, checked = ctx.constraints, ctx.S, ctx.models, ctx.checked
    consts = S.const_values()
    per_model = {}
    for stmt in constraints:
        m, rows = rows_of(stmt, S, models)
        per_model.setdefault(m.name, (m, []))[1].extend(rows)
    layers = []
    for m, rows in per_model.values():
        box = {S.coord[a]: (checked.coord(a).lo, checked.coord(a).hi) for a in m.inputs}
        names = m.fields
        bounds_rows = [r for r in rows if r.method in ("sigmoid", "softplus")]
        rest = [r for r in rows if r not in bounds_rows]
        used = {}
        if bounds_rows:
            layers.append(_bounds_layer(m, bounds_rows, box, consts, used))
        simplex, rest = _simplex_layers(m, rest, box, consts, used)
        layers += simplex
        if rest:
            for r in rest:
                if r.method == "simplex":
                    raise error("E330", "`hard(method = simplex)` needs `c1 + c2 + ... = b` (positive constant weights) "
                                "with every `ci >= 0`",
                                r.span)
                _claim(used, r, names)
            layers.append(_projection_layer(m, rest, box, consts))
    return layers


def _claim(used, r, names):
    for f in r.fields(names):
        if f in used and used[f][0] is not r.stmt and used[f][1] != "projection":
            raise error("E331", f"`{f}` is kept by two different hard layers", r.span,
                        related=[(used[f][0].span, "the other constraint")],
                        hint="use one method for all constraints on a field")
        used[f] = (r.stmt, "projection")


def _single(r, names):
    nz = [(j, a) for j, a in enumerate(r.coeffs) if a != 0]
    if len(nz) != 1 or not nz[0][1].is_number:
        return None
    j, a = nz[0]
    lo, hi = r.lo, r.hi
    if a < 0:
        lo, hi = (None if hi is None else hi / a), (None if lo is None else lo / a)
    else:
        lo, hi = (None if lo is None else lo / a), (None if hi is None else hi / a)
    return j, lo, hi


def _bounds_layer(m, rows, box, consts, used):
    per = {}
    for r in rows:
        s = _single(r, m.fields)
        if s is None or r.equality:
            raise error("E330", f"`hard(method = {r.method})` keeps a single field within bounds, "
                        "such as `u >= 0` or `0 <= u <= 1`",
                        r.span, hint="remove the method to use the projection layer")
        j, lo, hi = s
        f = m.fields[j]
        if f in used and used[f][0] is not r.stmt:
            raise error("E331", f"`{f}` is kept by two different hard layers", r.span,
                        related=[(used[f][0].span, "the other constraint")])
        used[f] = (r.stmt, r.method)
        cur = per.setdefault(j, [None, None, r.method, r])
        if lo is not None:
            if cur[0] is not None:
                raise error("E332", f"`{f}` is given two lower bounds", r.span, related=[(cur[3].span, "the other bound")])
            cur[0] = lo
        if hi is not None:
            if cur[1] is not None:
                raise error("E332", f"`{f}` is given two upper bounds", r.span, related=[(cur[3].span, "the other bound")])
            cur[1] = hi
    out = {}
    for j, (lo, hi, method, r) in per.items():
        f = m.fields[j]
        if lo is not None and hi is not None:
            _feasible(lo, hi, box, consts, r, r, f)
            if method != "sigmoid":
                raise error("E330", f"`{f}` has two bounds: use `hard(method = sigmoid)`, or the default projection", r.span)
        elif method == "sigmoid":
            raise error("E330", f"`hard(method = sigmoid)` needs both bounds of `{f}`, such as `0 <= {f} <= 1`", r.span,
                        hint="use `hard(method = softplus)` for a single bound")
        out[j] = (lo, hi, method)
    return Layer(m.name, m.fields, "bounds", rows, bounds=out)


def _feasible(lo, hi, box, consts, r1, r2, what):
    for at in probe.points(box):
        a, b = probe.value(lo, at, consts), probe.value(hi, at, consts)
        if a > b + 1e-12 * (1 + abs(a) + abs(b)):
            raise error("E333", f"contradictory hard constraints on {what}: "
                        f"the lower bound {a:.6g} exceeds the upper bound {b:.6g}"
                        + (f" at {probe.where(at)}" if at else ""), r2.span,
                        related=[(r1.span, "the other constraint")] if r1 is not r2 else [],
                        hint="no value satisfies both; fix or remove one of them")


def _simplex_layers(m, rows, box, consts, used):
    names = m.fields
    layers, taken = [], set()
    for r in rows:
        if not r.equality or r.method not in (None, "simplex", "projection") or id(r) in taken:
            continue
        idx = [j for j, a in enumerate(r.coeffs) if a != 0]
        w = [r.coeffs[j] for j in idx]
        if not all(a.is_number and a > 0 for a in w) or len(idx) < 2:
            continue
        nonneg = {}
        for q in rows:
            s = _single(q, names) if q is not r else None
            if s and s[0] in idx and s[1] == 0 and s[2] is None:
                nonneg[s[0]] = q
        if set(nonneg) != set(idx) or r.method == "projection":
            continue
        others = [q for q in rows if q is not r and q not in nonneg.values() and set(q.fields(names)) & {names[j] for j in idx}]
        if others:
            continue
        total = r.lo
        for at in probe.points(box):
            if probe.value(total, at, consts) < 0:
                raise error("E333", "contradictory hard constraints: "
                            f"non-negative fields cannot sum to {probe.value(total, at, consts):.6g}",
                            r.span, related=[(next(iter(nonneg.values())).span, "non-negativity here")])
        group = [r] + list(nonneg.values())
        taken |= {id(q) for q in group}
        for j in idx:
            used[names[j]] = (r.stmt, "simplex")
        layers.append(Layer(m.name, names, "simplex", group, simplex=(idx, w, total)))
    return layers, [q for q in rows if id(q) not in taken]


def _projection_layer(m, rows, box, consts):
    rows = _merge_parallel(rows, box, consts, m.fields)
    C = sp.Matrix([r.coeffs for r in rows])
    r, n = C.shape
    for at in probe.points(box, n=3):
        Cn = np.array([[probe.value(a, at, consts) for a in row] for row in C.tolist()], float)
        if np.linalg.matrix_rank(Cn) < r:
            raise error("E330", f"these {r} hard constraints on {n} field(s) are not independent, "
                        "so no closed-form projection exists",
                        rows[-1].span, related=[(q.span, "one of them") for q in rows[:-1]],
                        hint="drop the redundant ones; "
                             "for c1 + ... = b with every ci >= 0 write exactly that (the simplex layer)")
    M = C * C.T
    P = C.T * (M.inv() if r > 1 or M.free_symbols else M.applyfunc(lambda v: 1 / v))
    if P.free_symbols:
        P = P.applyfunc(sp.cancel)
    return Layer(m.name, m.fields, "projection", rows, C=C, P=P)


def _merge_parallel(rows, box, consts, names):
    """Rows with proportional constant coefficients collapse into one (a range); an
    empty range is a contradiction, reported with both spans."""
    out = []
    for r in rows:
        if not all(a.is_number for a in r.coeffs):
            out.append(r)
            continue
        for k, q in enumerate(out):
            if not all(a.is_number for a in q.coeffs):
                continue
            j = next(i for i, a in enumerate(q.coeffs) if a != 0)
            if r.coeffs[j] == 0:
                continue
            lam = r.coeffs[j] / q.coeffs[j]          # r = lam·q ?
            if any(sp.simplify(a - lam * b) != 0 for a, b in zip(r.coeffs, q.coeffs)):
                continue
            lo, hi = (r.lo, r.hi) if lam > 0 else (r.hi, r.lo)
            lo = None if lo is None else lo / lam
            hi = None if hi is None else hi / lam
            nlo = _pick(q.lo, lo, box, consts, max)
            nhi = _pick(q.hi, hi, box, consts, min)
            what = " and ".join(f"`{f}`" for f in q.fields(names))
            if nlo is not None and nhi is not None:
                _feasible(nlo, nhi, box, consts, q, r, what)
            if q.equality and r.equality:
                ok, bad = probe.agree(q.lo, lo, box, consts)
                if not ok:
                    raise error("E333", f"contradictory hard constraints on {what}: {bad['a']:.6g} and {bad['b']:.6g}", r.span,
                                related=[(q.span, "the other constraint")],
                                hint="no value satisfies both; fix or remove one of them")
            out[k] = Row(q.coeffs, nlo, nhi, q.method, q.stmt, q.span)
            break
        else:
            out.append(r)
    return out


def _pick(a, b, box, consts, which):
    if a is None:
        return b
    if b is None:
        return a
    if a == b:
        return a
    va = [probe.value(a, at, consts) for at in probe.points(box)]
    vb = [probe.value(b, at, consts) for at in probe.points(box)]
    if all(x >= y for x, y in zip(va, vb)):
        return a if which is max else b
    if all(x <= y for x, y in zip(va, vb)):
        return b if which is max else a
    return sp.Max(a, b) if which is max else sp.Min(a, b)
