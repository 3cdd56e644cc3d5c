"""Passes over what a solution is compared against.

`exact` reads the `exact` lines: for a field it fills `State.exact` (field -> Exact;
the expression may use the field's own coordinates only), for a scalar parameter
`State.param_truth` (name -> its true value). `references` reads the `reference` lines
and checks that each names declared fields and gives a column or array for each; it
adds nothing (the `Checked` program keeps the statements)."""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import did_you_mean
from .expressions import Walker
from .state import State


def exact(st: State):
    d, fields, ce = st.diag, st.fields, st.ce
    walker = Walker(st)
    for s in st.program.of(A.Exact):
        if s.field in st.params:      # the true value of a learned scalar: reported against it
            if s.field in st.param_truth:
                d.error("E102", f"`exact {s.field}` is given twice", s.span)
            v = ce(s.expr, f"the true value of `{s.field}`")
            if v is not None:
                st.param_truth[s.field] = v
            continue
        if s.field not in fields:
            d.error("E101", f"`{s.field}` is not a declared field", s.name_span, hint=did_you_mean(s.field, fields))
            continue
        if s.field in st.exact:
            d.error("E102", f"`exact {s.field}` is given twice", s.span)
        st.exact[s.field] = s
        walker.expr(s.expr, "exact", None, allowed_coords=fields[s.field].args)


def references(st: State):
    d, fields, cnames = st.diag, st.fields, st.cnames
    for s in st.program.of(A.Reference):
        for f in s.fields:
            if f not in fields:
                d.error("E101", f"`{f}` is not a declared field", s.span, hint=did_you_mean(f, fields))
            elif f not in s.mapping:
                d.error("E401", f"the reference gives no column or array for `{f}`", s.span,
                        hint=f"add `{f} = NAME` inside the parentheses")
        for k in s.mapping:
            if k not in cnames and k not in s.fields:
                d.error("E101", f"`{k}` is neither a coordinate nor a referenced field", s.span,
                        hint=did_you_mean(k, cnames + list(s.fields)))
