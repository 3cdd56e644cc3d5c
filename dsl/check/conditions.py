"""Pass `conditions`: reads the `condition` and `constraint` lines.

Fills `State.conditions` ([(Condition, [Face | Piece])]: the faces of a box, or the
pieces of a shaped boundary, `State.geometry`), `State.periodic` ([(Condition, field,
coordinate)]) and `State.fits` ([(Condition, data name, noise σ or None)], a condition
`at DATA`, see `fits.py`); checks constraints and the `hard` options of each. Needs the
coordinates, fields, parameter fields and data of the passes before."""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import did_you_mean
from .expressions import Walker
from .fits import fit
from .result import Face, Piece
from .state import State

HARD_CONDITION_METHODS = {"transfinite"}
HARD_CONSTRAINT_METHODS = {"projection", "sigmoid", "softplus", "simplex"}


def conditions(st: State):
    p, d = st.program, st.diag
    for s in p.of(A.Condition):
        if s.data is not None:
            fit(st, s)
            continue
        _condition(st, s)
    for s in p.of(A.Constraint):
        _constraint(st, s)
    for s, _ in st.conditions:      # a bounded parameter field is lo + (hi − lo)·sigmoid(N): no room for g + φ·N too
        if s.hard is not None and isinstance(s.lhs, A.Name) and st.param_fields.get(s.lhs.id):
            d.error("E313", f"`{s.lhs.id}` is bounded by construction, so a `hard` condition cannot be built into it as well",
                    s.hard.span, hint=f"drop `in [lo, hi]` from `param {s.lhs.id}(...)`, or `hard` from this condition")


def _condition(st, s):
    d = st.diag
    if s.rhs is None:
        c = s.lhs
        if isinstance(c, A.Call) and c.func == "periodic":
            _periodic(st, s, c)
            return
        d.error("E207", "a condition needs `= value on REGION`", s.lhs.span,
                hint="for example `condition: u = 0 on x = 0`, or `condition: periodic(u, x)`")
        return
    walker = Walker(st)
    for side in (s.lhs, s.rhs):
        walker.expr(side, "condition", None)
    if s.hard is not None:
        st.hard_options(s.hard, {"method": HARD_CONDITION_METHODS})
    faces = []
    for r in s.regions:
        faces.extend(_region(st, r))
    t = st.time
    if t is not None and any(f.coord == t.name for f in faces):
        # dn is the outward normal over the spatial coordinates: on a time face it would silently mean ∂/∂x
        for side in (s.lhs, s.rhs):
            for sub in A.walk(side):
                if isinstance(sub, A.Call) and sub.func == "dn":
                    d.error("E107", f"`dn` is the outward normal derivative on spatial faces, not on `{t.name} = ...`",
                            sub.span, hint=f"on the initial face write the rate itself: `d{t.name}(...)`")
    st.conditions.append((s, faces))


def _periodic(st, s, c):
    """`condition: periodic(u, x)`."""
    d = st.diag
    if len(c.args) != 2 or not all(isinstance(a, A.Name) for a in c.args):
        d.error("E131", "`periodic` takes a field and a coordinate: `periodic(u, x)`", c.span)
        return
    f, x = c.args[0].id, c.args[1].id
    if f not in st.fields:
        d.error("E101", f"`{f}` is not a declared field", c.args[0].span, hint=did_you_mean(f, st.fields))
        return
    co = next((k for k in st.coords if k.name == x), None)
    if co is None or co.is_time:
        if co is None:
            d.error("E101", f"`{x}` is not a declared coordinate", c.args[1].span, hint=did_you_mean(x, st.cnames))
        else:
            d.error("E109", f"`{x}` is the time coordinate; only a spatial coordinate can be periodic", c.args[1].span)
        return
    if x not in st.fields[f].args:
        d.error("E104", f"`{f}` does not depend on `{x}`", c.args[1].span)
        return
    if s.hard is not None:
        st.hard_options(s.hard, {"modes": None})
    st.periodic.append((s, f, x))


def _constraint(st, s):
    d = st.diag
    walker = Walker(st)
    for r in s.relations:
        exprs = [x for x in r.parts if isinstance(x, A.Expr)]
        ops = [x for x in r.parts if isinstance(x, str)]
        fs = set()
        for e in exprs:
            fs |= walker.walk(e, "constraint", None, {}, None)
        if not fs:
            d.error("E321", "this constraint involves no field", r.span,
                    hint="a constraint relates fields, such as `c1 + c2 = 1` or `u >= 0`")
        if any(o in ("<", ">") for o in ops):
            d.error("E322", "strict inequalities cannot be enforced exactly; use `>=` or `<=`", r.span)
        if "=" in ops and len(ops) > 1 or "==" in ops:
            d.error("E322", "write an equality constraint as `lhs = rhs`, on its own", r.span)
        if len(ops) == 2 and ops[0][0] != ops[1][0]:
            d.error("E322", "a chained constraint must run one way, such as `0 <= c <= 1`", r.span)
    if s.hard is not None:
        st.hard_options(s.hard, {"method": HARD_CONSTRAINT_METHODS})


def _region(st, r):
    d, ce = st.diag, st.ce
    geo = st.geometry
    if geo is not None and (r.coord is None or r.coord in geo.coords):
        return _piece(st, r, geo)
    if r.coord is None:
        if r.name == "boundary":
            return [f for c in st.coords if not c.is_time for f in (Face(c.name, "lo", c.lo), Face(c.name, "hi", c.hi))]
        d.error("E101", f"unknown region `{r.name}`", r.span,
                hint="write a face such as `x = 0`, or `boundary` for every spatial face")
        return []
    c = next((k for k in st.coords if k.name == r.coord), None)
    if c is None:
        d.error("E101", f"`{r.coord}` is not a declared coordinate", r.span, hint=did_you_mean(r.coord, st.cnames))
        return []
    v = ce(r.value, "a face position")
    if v is None:
        return []
    tol = 1e-12 * max(1.0, abs(c.lo), abs(c.hi))
    if abs(v - c.lo) <= tol:
        return [Face(c.name, "lo", c.lo)]
    if abs(v - c.hi) <= tol:
        return [Face(c.name, "hi", c.hi)]
    d.error("E306", f"`{r.coord} = {v:g}` is not a boundary of the domain", r.span,
            hint=f"`{r.coord}` ranges over [{c.lo:g}, {c.hi:g}]; its faces are `{r.coord} = {c.lo:g}` and `{r.coord} = {c.hi:g}`")
    return []


def _piece(st, r, geo):
    """A boundary region of a shaped domain, selected by a predicate on its points."""
    d = st.diag
    if r.coord is None:
        if r.name == "boundary":
            return [Piece("boundary", ("boundary",))]
        if r.name not in geo.named:
            d.error("E101", f"unknown region `{r.name}`", r.span,
                    hint=did_you_mean(r.name, list(geo.named) + ["boundary"])
                    or "name a shape with `shape NAME = ...`, or write `boundary`")
            return []
        p = Piece(f"on_{r.name}", ("named", r.name))
        what = f"`on {r.name}`"
    else:
        v = st.ce(r.value, "a face position")
        if v is None:
            return []
        i = geo.coords.index(r.coord)
        p = Piece(f"on_{r.coord}_{v:g}".replace("-", "m").replace(".", "p").replace("+", ""), ("face", i, v))
        what = f"`{r.coord} = {v:g}`"
    if geo.measure(p.sel) <= 0:
        d.error("E341", f"{what} selects no part of the domain's boundary", r.span,
                hint="a named shape whose boundary is covered by other shapes, or a line the boundary has no straight piece on")
        return []
    return [p]
