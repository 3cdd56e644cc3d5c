"""Passes over what the equations are about: fields, learned parameters, observations.

`fields` reads the `field` lines and fills `State.fields`; `params` reads the `param`
lines: a scalar fills `State.params` (name -> (lo, hi, guess)), kept in [lo, hi] by
construction (compiler/params.py), and an unknown coefficient field fills
`State.param_fields` (name -> bounds or None) and joins `State.fields` (a field with a
model but no equation of its own); `data` reads the `data` lines and fills `State.data`.
All three need `State.cnames` (pass `domains`)."""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import did_you_mean
from .state import State


def fields(st: State):
    d, cnames = st.diag, st.cnames
    for group in st.program.of(A.FieldDecl):
        if st.define(group.name, group.span, "field"):
            st.fields[group.name] = group
            seen = set()
            for a, sp in zip(group.args, group.arg_spans):
                if a not in cnames and a not in st.poisoned:
                    d.error("E101", f"`{a}` is not a declared coordinate", sp, hint=did_you_mean(a, cnames))
                if a in seen:
                    d.error("E102", f"`{a}` appears twice in the arguments of `{group.name}`", sp)
                seen.add(a)
    if not st.fields:
        d.error("E307", "no `field` is declared", None, hint="add a line such as `field u(x, t)`")


def params(st: State):
    d, ce = st.diag, st.ce
    for s in st.program.of(A.Param):
        if s.args is not None:
            _param_field(st, s)
            continue
        if st.define(s.name, s.name_span, "parameter"):
            lohi = st.interval(s.bounds, s.name)
            guess = ce(s.guess, "the initial guess") if s.guess is not None else None
            if lohi:
                st.params[s.name] = (lohi[0], lohi[1], guess if guess is not None else 0.5 * (lohi[0] + lohi[1]))
                if guess is not None and not (lohi[0] < guess < lohi[1]):
                    d.error("E302", f"initial guess {guess:g} lies "
                            f"{'on the edge of' if lohi[0] <= guess <= lohi[1] else 'outside'} "
                                    f"[{lohi[0]:g}, {lohi[1]:g}]", s.guess.span,
                            hint="the parameter is lo + (hi − lo)·sigmoid(θ): it reaches neither end, so start strictly inside")
            else:
                st.poisoned.add(s.name)


def _param_field(st, s):
    d = st.diag
    if not st.define(s.name, s.name_span, "parameter field"):
        return
    seen = set()
    for a, sp in zip(s.args, s.arg_spans):
        if a not in st.cnames and a not in st.poisoned:
            d.error("E101", f"`{a}` is not a declared coordinate", sp, hint=did_you_mean(a, st.cnames))
        if a in seen:
            d.error("E102", f"`{a}` appears twice in the arguments of `{s.name}`", sp)
        seen.add(a)
    bounds = None
    if s.bounds is not None:
        bounds = st.interval(s.bounds, s.name)
    st.fields[s.name] = A.FieldDecl(s.span, s.name, list(s.args), list(s.arg_spans))
    st.param_fields[s.name] = bounds


def data(st: State):
    d, cnames = st.diag, st.cnames
    for s in st.program.of(A.Data):
        if not st.define(s.name, s.name_span, "set of observations"):
            continue
        seen = {}
        for c in s.columns:
            if c.name in seen:
                d.error("E102", f"column `{c.name}` is named twice", c.span, related=[(seen[c.name], "first named here")])
            seen[c.name] = c.span
        if not any(c.name in cnames for c in s.columns) and not any(c.name in st.poisoned for c in s.columns):
            d.error("E311", f"the observations `{s.name}` give no coordinate column", s.span,
                    hint=f"name the columns that hold the coordinates, such as `columns ({', '.join(cnames)}, u)`")
        st.data[s.name] = s
