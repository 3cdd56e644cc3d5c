"""What the checker hands on: `Checked` (the program with its names resolved) and the
pieces it is made of (`Coord`, `Face` of a box, `Piece` of a shaped boundary).

`Checked` is frozen and built once, by keyword, by the driver in `dsl/check/__init__.py`
after every pass has run: the compiler and runtime read it, nothing changes it."""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import ast as A
from ..diagnostics import Diagnostic, Span


@dataclass
class Coord:
    name: str
    lo: float
    hi: float
    is_time: bool
    span: Span | None


@dataclass
class Face:
    coord: str
    side: str          # "lo" | "hi"
    value: float

    @property
    def key(self):
        return f"{self.coord}_{self.side}"


@dataclass
class Piece:
    """A part of a shaped domain's boundary (dsl/geometry.py): `boundary`, `on NAME`
    for a named shape, or a straight piece `x = v`; its points carry outward normals."""
    key: str
    sel: tuple         # ("boundary",) | ("named", NAME) | ("face", coordinate index, value)
    coord = None       # not a box face
    side = None


@dataclass(frozen=True, kw_only=True)
class InputFn:
    """A checked `input NAME(coords) from SOURCE`: samples of N(0, sigma² (−Δ + tau² I)^−gamma)
    (periodic on one coordinate, zero Neumann on two: pdeforge/datasets/grf.py), and for
    `threshold` the two values it takes where the field is ≥ 0 (`high`) and < 0 (`low`);
    kind "rbf": the Gaussian process with covariance variance·exp(−|x − x'|²/(2 length²))
    at the grid's nodes (sigma, tau, gamma unused)."""
    name: str
    coords: tuple
    kind: str                  # "grf" | "threshold" | "rbf"
    sigma: float
    tau: float
    gamma: float
    high: float | None = None
    low: float | None = None
    length: float | None = None
    variance: float | None = None
    span: Span | None = None


@dataclass(frozen=True, kw_only=True)
class Checked:
    """A program whose names all resolve and whose statements are consistent."""
    program: A.Program
    name: str
    coords: list[Coord]                        # spatial first (declared order), then time
    consts: dict[str, float]
    const_exprs: dict[str, A.Expr]
    fields: dict[str, A.FieldDecl]
    equations: list[A.Equation]
    conditions: list[tuple]                    # [(Condition, [Face | Piece])]
    periodic: list[tuple]                      # [(Condition, field, coord)]
    constraints: list[A.Constraint]
    exact: dict[str, A.Exact]                  # field -> Exact
    models: list[A.Model]
    references: list[A.Reference]
    architectures: dict[str, A.Architecture]
    train: dict
    orders: dict[str, dict[str, int]]          # field -> {coord: max derivative order}
    warnings: list[Diagnostic] = field(default_factory=list)
    # inverse problems (compiler/params.py, runtime/observations.py)
    params: dict[str, tuple] = field(default_factory=dict)        # scalar `param`: name -> (lo, hi, guess)
    param_fields: dict[str, tuple | None] = field(default_factory=dict)  # `param a(x, y) [in [lo, hi]]`: name -> (lo, hi) or None
    param_truth: dict[str, float] = field(default_factory=dict)   # `exact C = 1` for a scalar param: name -> value
    data: dict[str, A.Data] = field(default_factory=dict)         # name -> A.Data (observations)
    fits: list[tuple] = field(default_factory=list)               # [(Condition, data name, noise σ or None)]
    geometry: object = None                                       # dsl.geometry.Geometry of a shaped domain
    # operator learning (dsl/check/operators.py)
    inputs: dict[str, InputFn] = field(default_factory=dict)      # input functions, declared order
    grid: dict[str, int] = field(default_factory=dict)            # coordinate -> grid points
    given: dict[str, list] = field(default_factory=dict)          # field -> the input functions it is given
    pairs: dict | None = None          # {"path", "mapping", "span"} or {"solver", "options", "span"}

    @property
    def is_operator(self) -> bool:
        """Whether the program learns an operator (some field is given an input function)."""
        return bool(self.given)

    @property
    def spatial(self):
        return [c for c in self.coords if not c.is_time]

    @property
    def time(self):
        return next((c for c in self.coords if c.is_time), None)

    def coord(self, name):
        return next((c for c in self.coords if c.name == name), None)
