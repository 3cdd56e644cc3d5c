"""Passes over the program's top-level names.

`problem` reads the `problem` lines and fills `State.name`; `architectures` reads the
`architecture` definitions of the `use`d library modules and of the file and fills
`State.archs` (library first, then the file's own, which may shadow the library's)."""
from __future__ import annotations

from .. import ast as A
from .state import State


def problem(st: State):
    p, d = st.program, st.diag
    st.name = next((s.name for s in p.of(A.Problem)), "problem")
    if len(p.of(A.Problem)) > 1:
        d.error("E102", "`problem` is given twice", p.of(A.Problem)[1].span)


def architectures(st: State):
    archs = {}
    for lib in st.library:
        for a in lib.of(A.Architecture):
            archs[a.name] = a
    own = {}
    for a in st.program.of(A.Architecture):
        if a.name in own:
            st.diag.error("E102", f"architecture `{a.name}` is defined twice", a.span,
                          related=[(own[a.name].span, "first defined here")])
        own[a.name] = a
    archs.update(own)
    st.archs = archs
