"""Pass `models`: reads the `model` lines against `State.archs` (pass `names`) and
`State.fields`: each model names a known architecture with arguments it takes, every
field has exactly one model, and the fields of one model share their arguments.
Adds nothing (the `Checked` program keeps the statements)."""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import Span, did_you_mean
from .state import State


def models(st: State):
    d, fields, archs = st.diag, st.fields, st.archs
    owner = {}
    for m in st.program.of(A.Model):
        if m.arch not in archs:
            d.error("E110", f"unknown architecture `{m.arch}`", m.call.func_span,
                    hint=did_you_mean(m.arch, archs) or f"known: {', '.join(sorted(archs)) or 'none'}")
        else:
            _arch_args(st, m.call, archs[m.arch])
        args0 = None
        for t, sp in m.targets:
            if t not in fields:
                d.error("E101", f"`{t}` is not a declared field", sp, hint=did_you_mean(t, fields))
                continue
            if t in owner:
                d.error("E121", f"`{t}` has two models", sp, related=[(owner[t], "first model here")])
            owner[t] = sp
            if args0 is None:
                args0 = fields[t].args
            elif fields[t].args != args0:
                d.error("E208", f"fields of one model must share their arguments: `{t}` has ({', '.join(fields[t].args)}), "
                                f"not ({', '.join(args0)})", sp, hint="give each field its own `model` line")
    for f, decl in fields.items():
        if f not in owner:
            d.error("E120", f"field `{f}` has no model", decl.span,
                    hint=f"add a line such as `model {f} = mlp(width = 32, depth = 4)`")


def _arch_args(st, call, arch):
    names = [p.name for p in arch.params]
    if len(call.args) > len(names):
        sp = call.func_span or call.span
        if sp is not None and call.span is not None:
            sp = Span(sp.line, sp.col, call.span.end_line, call.span.end_col)
        st.diag.error("E131", f"`{arch.name}` takes {len(names)} parameters, {len(call.args)} given", sp,
                      hint=f"its parameters: {', '.join(names)}")
    for k in call.kwargs:
        if k.name not in names:
            st.diag.error("E130", f"`{arch.name}` has no parameter `{k.name}`", k.span,
                          hint=did_you_mean(k.name, names) or f"its parameters: {', '.join(names)}")
