"""Pass `constants`: reads the `const` lines, in order (each may use the earlier ones).

Fills `State.consts` (name -> float), `State.const_exprs` (name -> Expr) and `State.ce`,
the `ConstEval` every later pass folds constant expressions with; a `const` whose value
fails is marked poisoned, so its uses report nothing more."""
from __future__ import annotations

from .. import ast as A
from .consteval import ConstEval
from .state import State


def constants(st: State):
    # ConstEval shares `consts`, `defined` and `poisoned`: later passes' names reach it too
    st.ce = ce = ConstEval(st.consts, st.diag, st.defined, st.poisoned)
    for s in st.program.of(A.Const):
        if st.define(s.name, s.name_span, "constant"):
            v = ce(s.value, f"the value of `{s.name}`")
            if v is not None:
                st.consts[s.name] = v
                st.const_exprs[s.name] = s.value
            else:
                st.poisoned.add(s.name)
