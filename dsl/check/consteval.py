"""`ConstEval`: folds constant expressions (numbers, `const`s, `pi`, `e`, math functions)
to floats, reporting E101/E109/E201/E202 through the checker's collector. Its
`MATH_FUNCS` and `CONSTANTS` are views of dsl/vocabulary.py's tables, not copies."""
from __future__ import annotations

import math

from .. import ast as A
from ..diagnostics import Collector, did_you_mean
from ..vocabulary import CONSTANTS as VOCAB_CONSTANTS
from ..vocabulary import FUNCTIONS

# the language's math functions and constants: one table, dsl/vocabulary.py
MATH_FUNCS = {name: f.math for name, f in FUNCTIONS.items()}
CONSTANTS = dict(VOCAB_CONSTANTS)


class ConstEval:
    """Folds constant expressions (numbers, consts, pi, e, math functions) to floats."""

    def __init__(self, consts, diag: Collector, defined=None, poisoned=None):
        self.consts, self.diag = consts, diag
        self.defined = defined if defined is not None else {}
        self.poisoned = poisoned if poisoned is not None else set()   # names whose own declaration failed

    def __call__(self, e, what="a constant expression"):
        try:
            v = self._ev(e, what)
            if not math.isfinite(v):      # 1e400, 1e400 - 1e400: would reach sampling as inf or nan
                self.diag.error("E201", f"cannot evaluate {what}: the number is too large", e.span)
                return None
            return v
        except _NotConst:
            return None
        except (ValueError, OverflowError, ZeroDivisionError) as ex:
            why = {ZeroDivisionError: "division by zero", OverflowError: "the number is too large"}.get(
                type(ex), "an argument is outside the function's domain (such as `log(0)` or `sqrt(-1)`)")
            self.diag.error("E201", f"cannot evaluate {what}: {why}", e.span)
            return None

    def _ev(self, e, what):
        if isinstance(e, A.Num):
            return e.value
        if isinstance(e, A.Name):
            if e.id in self.consts:
                return self.consts[e.id]
            if e.id in CONSTANTS:
                return CONSTANTS[e.id]
            if e.id in self.poisoned:       # already reported where it was declared
                raise _NotConst
            if e.id in self.defined:
                self.diag.error("E109", f"`{e.id}` is not a constant, so it cannot appear in {what}", e.span,
                                hint=f"{what} may use numbers, `const`s, `pi` and `e` only")
            else:
                self.diag.error("E101", f"`{e.id}` is not defined", e.span,
                                hint=did_you_mean(e.id, list(self.consts) + list(CONSTANTS))
                                or f"{what} may use numbers, earlier `const`s, `pi` and `e`")
            raise _NotConst
        if isinstance(e, A.Neg):
            return -self._ev(e.operand, what)
        if isinstance(e, A.BinOp):
            a, b = self._ev(e.left, what), self._ev(e.right, what)
            if e.op == "+": return a + b
            if e.op == "-": return a - b
            if e.op == "*": return a * b
            if e.op == "/": return a / b
            if e.op == "&":
                self.diag.error("E202", f"expected {what}, not a shape intersection", e.span)
                raise _NotConst
            return a ** b
        if isinstance(e, A.Call) and e.func in MATH_FUNCS and len(e.args) == 1 and not e.kwargs:
            return float(MATH_FUNCS[e.func](self._ev(e.args[0], what)))
        self.diag.error("E202", f"expected {what}", e.span)
        raise _NotConst


class _NotConst(Exception):
    pass



def quiet_value(consts, e):
    """The value of a constant sub-expression, or None (no diagnostics: the walk reports)."""
    try:
        return ConstEval(consts, Collector())._ev(e, "")
    except Exception:       # noqa: BLE001 - not constant, or not evaluable: not our concern here
        return None
