"""AST of a .pde program. Every node carries the `Span` of its source text."""
from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Span

__all__ = ["Expr", "Num", "Name", "Kwarg", "Call", "BinOp", "Neg", "Attr", "Tuple", "Interval", "walk", "Stmt",
           "Problem", "Use", "Const", "Domain", "Shape", "Time", "Param", "Column", "Data", "FieldDecl", "Hard",
           "Equation", "Region", "Condition", "Relation", "Constraint", "Exact", "Model", "Reference", "Points",
           "Weights", "Stage", "Setting", "Train", "ArchParam", "Assign", "Repeat", "Return", "Architecture",
           "Program", "Input", "Grid", "Pairs", "PairCounts"]


# ---- expressions -------------------------------------------------------------
@dataclass
class Expr:
    span: Span | None


@dataclass
class Num(Expr):
    value: float
    text: str


@dataclass
class Name(Expr):
    id: str


@dataclass
class Kwarg:
    name: str
    value: Expr
    span: Span | None


@dataclass
class Call(Expr):
    func: str
    args: list
    kwargs: list          # [Kwarg]
    func_span: Span | None = None

    def kwarg(self, name, default=None):
        for k in self.kwargs:
            if k.name == name:
                return k.value
        return default


@dataclass
class BinOp(Expr):
    op: str               # + - * / ^, and & (shapes only)
    left: Expr
    right: Expr


@dataclass
class Neg(Expr):
    operand: Expr


@dataclass
class Attr(Expr):
    """`obs.u`: the column `u` of the observations `obs` (in a fit condition)."""
    obj: str
    attr: str


@dataclass
class Tuple(Expr):
    items: list


@dataclass
class Interval(Expr):
    lo: Expr
    hi: Expr


def walk(e):
    """Yield every sub-expression, parents first."""
    yield e
    if isinstance(e, Call):
        for a in e.args:
            yield from walk(a)
        for k in e.kwargs:
            yield from walk(k.value)
    elif isinstance(e, BinOp):
        yield from walk(e.left)
        yield from walk(e.right)
    elif isinstance(e, Neg):
        yield from walk(e.operand)
    elif isinstance(e, (Tuple,)):
        for a in e.items:
            yield from walk(a)
    elif isinstance(e, Interval):
        yield from walk(e.lo)
        yield from walk(e.hi)


# ---- statements --------------------------------------------------------------
@dataclass
class Stmt:
    span: Span | None


@dataclass
class Problem(Stmt):
    name: str


@dataclass
class Use(Stmt):
    target: str
    is_path: bool


@dataclass
class Const(Stmt):
    name: str
    value: Expr
    name_span: Span | None = None


@dataclass
class Domain(Stmt):
    names: list
    shape: Expr             # Interval, or a shape call such as rectangle(...)
    name_spans: list = field(default_factory=list)


@dataclass
class Shape(Stmt):
    """`shape NAME = SHAPE`: a named piece of the geometry, for `domain ... in` and `on NAME`."""
    name: str
    shape: Expr
    name_span: Span | None = None


@dataclass
class Time(Stmt):
    name: str
    interval: Expr
    name_span: Span | None = None


@dataclass
class Param(Stmt):
    name: str
    bounds: Expr | None     # scalar: required; field: optional bounds on its output
    guess: Expr | None
    name_span: Span | None = None
    args: list | None = None        # `param a(x, y)`: an unknown coefficient field of these coordinates
    arg_spans: list = field(default_factory=list)


@dataclass
class Column:
    name: str               # our name: a coordinate, or a value column read as `DATA.name`
    source: str             # its name in the file
    span: Span | None = None


@dataclass
class Data(Stmt):
    """`data obs from "obs.csv" columns (x, t, u = "u_noisy")`: observations."""
    name: str
    path: str
    columns: list           # [Column]
    name_span: Span | None = None
    path_span: Span | None = None


@dataclass
class FieldDecl(Stmt):
    name: str
    args: list
    arg_spans: list = field(default_factory=list)
    given: list = field(default_factory=list)        # `u(x) given u0`: the input functions it depends on
    given_spans: list = field(default_factory=list)


@dataclass
class Input(Stmt):
    """`input u0(x) from grf(covariance = 625 * (-lap + 25)^-2)`: an input function of an
    operator, and the distribution its samples are drawn from."""
    name: str
    args: list
    source: Expr
    name_span: Span | None = None
    arg_spans: list = field(default_factory=list)


@dataclass
class Grid(Stmt):
    """`grid x = 256`: the grid operator models run on (points per coordinate)."""
    sizes: list             # [Kwarg]


@dataclass
class Pairs(Stmt):
    """`pairs from "file.npz" (u0 = a, u = u)` or `pairs from burgers(nu = 0.1, t = 1)`:
    input/output pairs, read from a file or made by a reference solver."""
    path: str | None
    mapping: dict           # file: our name -> array name in the file
    solver: Call | None
    path_span: Span | None = None


@dataclass
class PairCounts(Stmt):
    """`pairs train = 1000, test = 200` in a `train:` block."""
    counts: list            # [Kwarg]


@dataclass
class Hard:
    span: Span | None
    options: list           # [Kwarg]


@dataclass
class Equation(Stmt):
    label: str | None
    lhs: Expr
    rhs: Expr
    hard: Hard | None


@dataclass
class Region:
    span: Span | None
    coord: str | None       # face `coord = value`, or None for a named region
    value: Expr | None
    name: str | None = None  # `boundary`, ...


@dataclass
class Condition(Stmt):
    label: str | None
    lhs: Expr
    rhs: Expr | None        # None: a constraint-like call such as periodic(u, x)
    regions: list
    hard: Hard | None
    data: str | None = None         # `... at obs`: a fit to the observations `obs`
    data_span: Span | None = None
    options: list = field(default_factory=list)   # [Kwarg] after `at obs`: noise = σ


@dataclass
class Relation:
    span: Span | None
    parts: list             # [Expr, op, Expr, (op, Expr)]


@dataclass
class Constraint(Stmt):
    label: str | None
    relations: list
    hard: Hard | None


@dataclass
class Exact(Stmt):
    field: str
    expr: Expr
    name_span: Span | None = None


@dataclass
class Model(Stmt):
    targets: list
    arch: str
    call: Call


@dataclass
class Reference(Stmt):
    fields: list
    path: str
    mapping: dict           # our name -> name in the file
    path_span: Span | None = None


@dataclass
class Points(Stmt):
    counts: list            # [Kwarg]


@dataclass
class Weights(Stmt):
    values: list            # [Kwarg]: term label = weight


@dataclass
class Stage(Stmt):
    optimizer: str
    args: list
    kwargs: list
    steps: Expr


@dataclass
class Setting(Stmt):
    name: str
    value: object           # Expr or str


@dataclass
class Train(Stmt):
    items: list


@dataclass
class ArchParam:
    name: str
    default: Expr | None
    span: Span | None


@dataclass
class Assign(Stmt):
    name: str
    value: Expr
    names: list = field(default_factory=list)   # `a, b = split(h)`: every target, in order


@dataclass
class Repeat(Stmt):
    count: Expr
    body: list


@dataclass
class Return(Stmt):
    value: Expr


@dataclass
class Architecture(Stmt):
    name: str
    params: list            # [ArchParam]
    body: list
    doc: str = ""
    origin: str = "<input>"  # file it was defined in
    kind: str = "architecture"   # or "activation": `activation NAME(x, ...) = expr`
    source: str = ""         # text of `origin`, for diagnostics raised while building it


@dataclass
class Program:
    statements: list
    file: str = "<input>"
    source: str = ""

    def of(self, kind):
        return [s for s in self.statements if isinstance(s, kind)]
