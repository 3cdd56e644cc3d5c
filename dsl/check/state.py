"""`State`: what the checker's passes share. The driver (`dsl/check/__init__.py`) makes
one per `check` call and hands it to every pass in `PASSES` order; a pass reads the
fields earlier passes filled and fills its own (each field says which pass fills it).
Also the helpers every pass uses: defining a name, reading an interval, `hard` options."""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import ast as A
from ..diagnostics import Collector, Span, did_you_mean
from .consteval import CONSTANTS, MATH_FUNCS, ConstEval
from .result import Coord

RESERVED = set(MATH_FUNCS) | set(CONSTANTS) | {"d", "lap", "grad", "div", "dn", "periodic", "inputs", "outputs"}


@dataclass
class State:
    program: A.Program
    library: tuple | list = ()                 # programs of the stdlib modules `use`d
    diag: Collector = field(default_factory=Collector)
    defined: dict[str, Span | None] = field(default_factory=dict)   # every name declared so far
    poisoned: set[str] = field(default_factory=set)  # declared, but the declaration was wrong: no follow-on errors
    # names.problem, names.architectures
    name: str = "problem"
    archs: dict[str, A.Architecture] = field(default_factory=dict)
    # constants.constants
    consts: dict[str, float] = field(default_factory=dict)
    const_exprs: dict[str, A.Expr] = field(default_factory=dict)
    ce: ConstEval | None = None                # folds constant expressions against `consts`
    # domains.domains
    coords: list[Coord] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)
    geometry: object = None                    # dsl.geometry.Geometry of a shaped domain
    # fields.fields, fields.params, fields.data (a parameter field is a field too)
    fields: dict[str, A.FieldDecl] = field(default_factory=dict)
    params: dict[str, tuple] = field(default_factory=dict)
    param_fields: dict[str, tuple | None] = field(default_factory=dict)
    data: dict[str, A.Data] = field(default_factory=dict)
    # operators.inputs, operators.operators
    inputs: dict = field(default_factory=dict)        # name -> InputFn
    grid: dict[str, int] = field(default_factory=dict)
    given: dict[str, list] = field(default_factory=dict)   # field -> its input functions
    pairs: dict | None = None
    # equations.equations
    orders: dict[str, dict[str, int]] = field(default_factory=dict)
    # conditions.conditions
    conditions: list[tuple] = field(default_factory=list)
    periodic: list[tuple] = field(default_factory=list)
    fits: list[tuple] = field(default_factory=list)
    # solutions.exact
    exact: dict[str, A.Exact] = field(default_factory=dict)
    param_truth: dict[str, float] = field(default_factory=dict)
    # train.train
    train: dict = field(default_factory=dict)

    @property
    def time(self):
        return next((c for c in self.coords if c.is_time), None)

    @property
    def spatial(self):
        return [c for c in self.coords if not c.is_time]

    def define(self, name, span, kind):
        if name in RESERVED:
            self.diag.error("E103", f"`{name}` is a built-in name and cannot be redefined as a {kind}", span)
            return False
        if name in self.defined:
            self.diag.error("E102", f"`{name}` is defined twice", span,
                            related=[(self.defined[name], "first defined here")] if self.defined[name] else [])
            return False
        self.defined[name] = span
        return True

    def interval(self, e, name):
        if not isinstance(e, A.Interval):
            self.diag.error("E204", f"expected an interval `[lo, hi]` for `{name}`", e.span)
            return None
        lo, hi = self.ce(e.lo, "an interval end"), self.ce(e.hi, "an interval end")
        if lo is None or hi is None:
            return None
        if not lo < hi:
            self.diag.error("E305", f"empty interval [{lo:g}, {hi:g}] for `{name}`", e.span,
                            hint="the lower end must be below the upper end")
            return None
        return lo, hi

    # -- hard forms: the options are checked here, the algebra in compiler/hard
    def hard_options(self, hard, allowed):
        """`hard(name = value)`: names from `allowed` (name -> set of words, or None for a whole number)."""
        for k in hard.options:
            if k.name not in allowed:
                self.diag.error("E130", f"`hard` has no option `{k.name}` here", k.span,
                                hint=did_you_mean(k.name, allowed)
                                or (f"its options here: {', '.join(sorted(allowed))}" if allowed else "write plain `hard`"))
                continue
            words = allowed[k.name]
            if words is None:
                if not (isinstance(k.value, A.Num) and k.value.value == int(k.value.value) and 1 <= k.value.value <= 64):
                    self.diag.error("E209", f"`{k.name}` must be a whole number from 1 to 64", k.value.span)
            elif not (isinstance(k.value, A.Name) and k.value.id in words):
                self.diag.error("E143", f"`{k.name}` must be one of {', '.join(sorted(words))}", k.value.span)
