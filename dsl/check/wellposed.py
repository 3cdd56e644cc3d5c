"""Pass `wellposed`: the last one, run on a program with no errors so far. Reports E304
(no equation), then counts (the compiler checks the rest): initial conditions against
time-derivative orders (E310, W102), boundary conditions against spatial orders (W103),
fields seen only through derivatives (W104), fields in no equation (W101), and inverse
problems' parts nothing uses (W105, W106). Reads `State.orders`, `State.conditions`,
`State.periodic`, `State.fits`, the fields, params and data; adds only diagnostics."""
from __future__ import annotations

from .. import ast as A
from .expressions import bare, fields_in, value_columns
from .state import State


def wellposed(st: State):
    d = st.diag
    if not st.program.of(A.Equation) and not d.errors and st.pairs is None:
        d.error("E304", "no `equation` is given", None, hint="add a line such as `equation: -lap(u) = 1`")
    if not d.errors:
        _well_posed(st)
        _unused_inverse(st)


def _well_posed(st):
    d = st.diag
    t = st.time
    # observations pin a fitted field where they lie: no initial or boundary data is required of it
    fitted = {f for cond, _, _ in st.fits for f in fields_in(st, cond)}
    for fname, decl in st.fields.items():
        if fname in st.param_fields or fname in fitted:
            continue
        if fname in st.given and st.pairs is not None:     # paired data pin it, as observations do
            continue
        o = st.orders.get(fname, {})
        if not o and not any(fname in fields_in(st, e) for e in st.program.of(A.Equation)):
            d.warn("W101", f"field `{fname}` appears in no equation", decl.span)
        if t is not None and o.get(t.name, 0) > 0:
            k = o[t.name]
            ics = [c for c, faces in st.conditions if any(f.coord == t.name and f.side == "lo" for f in faces)
                   and fname in fields_in(st, c)]
            if not ics:
                d.error("E310", f"`{fname}` is first order or more in `{t.name}` but has no initial condition", decl.span,
                        hint=f"add `condition: {fname} = ... on {t.name} = {t.lo:g}`")
            elif len(ics) < k:
                d.warn("W102", f"`{fname}` is order {k} in `{t.name}` but has {len(ics)} initial condition(s)", decl.span,
                       hint=f"add one on `d({fname}, {t.name})` as well, such as "
                            f"`condition: d{t.name}({fname}) = 0 on {t.name} = {t.lo:g}`")
        if t is None and o:
            # a steady field seen only through its derivatives everywhere (pure Neumann):
            # u + C solves it as well as u, and the loss cannot choose
            stmts = [e for e in st.program.of(A.Equation) if fname in fields_in(st, e)] + \
                    [c for c, _ in st.conditions if fname in fields_in(st, c)]
            in_constraint = any(isinstance(x, A.Name) and x.id == fname for c in st.program.of(A.Constraint) for r in c.relations
                                for p in r.parts if isinstance(p, A.Expr) for x in A.walk(p))
            pinned = in_constraint or any(bare(st, fname, s) for s in stmts)
            if stmts and not pinned:
                d.warn("W104", f"`{fname}` appears only through its derivatives, "
                       "so it is determined only up to an added constant",
                       decl.span, hint=f"fix its value somewhere, e.g. `condition: {fname} = 0 on ...`, "
                                       f"or give the equation a term in `{fname}` itself")
        if st.geometry is not None:      # a shaped domain has no faces per coordinate: any boundary condition
            if any(o.get(c.name, 0) for c in st.spatial) and not any(
                    f.coord is None and fname in fields_in(st, cond) for cond, faces in st.conditions for f in faces):
                d.warn("W103", f"`{fname}` has spatial derivatives but no condition on the domain's boundary", decl.span,
                       hint=f"add `condition: {fname} = ... on boundary`")
            continue
        for c in st.spatial:
            p = o.get(c.name, 0)
            if p == 0:
                continue
            if any(pf == fname and px == c.name for _, pf, px in st.periodic):
                continue
            n = sum(1 for cond, faces in st.conditions for f in faces if f.coord == c.name and fname in fields_in(st, cond))
            if n < p:
                d.warn("W103", f"`{fname}` is order {p} in `{c.name}` but has {n} boundary condition(s) "
                       f"on the faces of `{c.name}`",
                       decl.span,
                       hint=f"add conditions on `{c.name} = {c.lo:g}` and `{c.name} = {c.hi:g}`, "
                            f"or `periodic({fname}, {c.name})`")


def _unused_inverse(st):
    """A parameter no term uses cannot be learned; observations no fit uses are never read."""
    used = set()
    stmts = list(st.program.of(A.Equation)) + [c for c, _ in st.conditions] + [c for c, _, _ in st.fits]
    exprs = [e for s in stmts for e in (s.lhs, s.rhs) if e is not None]
    exprs += [x for s in st.program.of(A.Constraint) for r in s.relations for x in r.parts if isinstance(x, A.Expr)]
    for e in exprs:
        used |= {sub.id for sub in A.walk(e) if isinstance(sub, A.Name)}
    for s in st.program.of(A.Param):
        if s.args is None and s.name in st.params and s.name not in used:
            st.diag.warn("W106", f"the parameter `{s.name}` appears in no equation, condition or fit, so nothing can learn it",
                         s.name_span, hint=f"use it, such as `equation: ... = {s.name} * ...`, or make it a `const`")
    fitted = {dn for _, dn, _ in st.fits}
    for n, s in st.data.items():
        if n not in fitted:
            st.diag.warn("W105", f"the observations `{n}` are used by no fit, so they are not read", s.name_span,
                         hint=f"fit them: `condition: u = {n}.{value_columns(st, n)[0] if value_columns(st, n) else 'u'} at {n}`")
