"""Pass `equations`: reads the `equation` lines and every statement's label.

Walks both sides of each equation (`expressions.Walker`) and fills `State.orders`
(field -> {coordinate: highest derivative order}), which the well-posedness warnings
and the compiler read; checks a `hard` equation's options (its form, div(u, v) = 0, is
checked in compiler/hard/stream.py) and that no label is used twice."""
from __future__ import annotations

from .. import ast as A
from .expressions import Walker
from .state import State


def equations(st: State):
    p, d = st.program, st.diag
    st.orders = orders = {f: {} for f in st.fields}
    walker = Walker(st)
    for s in p.of(A.Equation):
        for side in (s.lhs, s.rhs):
            walker.expr(side, "equation", orders)
        if s.hard is not None:
            st.hard_options(s.hard, {})
    labels = {}
    for s in p.of(A.Equation) + p.of(A.Condition) + p.of(A.Constraint):
        if s.label:
            if s.label in labels:
                d.error("E102", f"label `{s.label}` is used twice", s.span, related=[(labels[s.label], "first used here")])
            labels[s.label] = s.span
