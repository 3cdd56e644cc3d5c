"""Name resolution and static checks: AST → `Checked` program, or diagnostics.

Independent errors are all collected and reported together."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import ast as A
from .diagnostics import Collector, Diagnostic, PdeError, Span, did_you_mean

MATH_FUNCS = {"sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "log": math.log,
              "sqrt": math.sqrt, "tanh": math.tanh, "sinh": math.sinh, "cosh": math.cosh, "abs": abs}
CONSTANTS = {"pi": math.pi, "e": math.e}
OPTIMIZERS = {"adam": {"lr", "b1", "b2", "decay", "decay_every", "warmup", "schedule", "clip"},
              "adamw": {"lr", "b1", "b2", "weight_decay", "decay", "decay_every", "warmup", "schedule", "clip"},
              "sgd": {"lr", "momentum", "clip"},
              "lbfgs": {"memory", "lr", "patience"},
              "multiadam": {"lr", "b1", "b2", "eps", "decay", "decay_every", "warmup", "schedule"}}
SETTINGS = {"seed", "precision", "sampler", "log_every", "resample_every", "checkpoint_every",
            "balance", "balance_every", "causal", "causal_bins", "adaptive", "adaptive_fraction"}
SETTING_CHOICES = {"precision": {"float32", "float64"}, "sampler": {"uniform", "sobol", "halton", "lhs", "grid"},
                   "balance": {"none", "grad_norm", "ntk"}, "adaptive": {"none", "r3", "rar"}}
WHOLE_SETTINGS = {"seed", "log_every", "resample_every", "checkpoint_every", "balance_every", "causal_bins"}
MAX_SPATIAL = 1000
POINT_REGIONS = {"interior", "boundary", "initial", "periodic"}
RESERVED = set(MATH_FUNCS) | set(CONSTANTS) | {"d", "lap", "grad", "div", "dn", "periodic", "inputs", "outputs"}
HARD_CONDITION_METHODS = {"transfinite"}
HARD_CONSTRAINT_METHODS = {"projection", "sigmoid", "softplus", "simplex"}
MAX_POINTS = 5_000_000
MAX_STEPS = 100_000_000


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


@dataclass
class Checked:
    """A program whose names all resolve and whose statements are consistent."""
    program: A.Program
    name: str
    coords: list                      # [Coord], spatial first (declared order), then time
    consts: dict                      # name -> float
    const_exprs: dict                 # name -> Expr
    fields: dict                      # name -> FieldDecl
    equations: list
    conditions: list                  # [(Condition, [Face])]
    periodic: list                    # [(Condition, field, coord)]
    constraints: list
    exact: dict                       # field -> Exact
    models: list                      # [Model]
    references: list
    architectures: dict               # name -> Architecture
    train: dict
    orders: dict                      # field -> {coord: max derivative order}
    warnings: list = field(default_factory=list)
    # inverse problems (compiler/params.py, runtime/observations.py)
    params: dict = field(default_factory=dict)        # scalar `param`: name -> (lo, hi, guess)
    param_fields: dict = field(default_factory=dict)  # `param a(x, y) [in [lo, hi]]`: name -> (lo, hi) or None
    param_truth: dict = field(default_factory=dict)   # `exact C = 1` for a scalar param: name -> value
    data: dict = field(default_factory=dict)          # name -> A.Data (observations)
    fits: list = field(default_factory=list)          # [(Condition, data name, noise σ or None)]
    geometry: object = None                           # dsl.geometry.Geometry of a shaped domain

    @property
    def spatial(self):
        return [c for c in self.coords if not c.is_time]

    @property
    def time(self):
        return next((c for c in self.coords if c.is_time), None)

    def coord(self, name):
        return next((c for c in self.coords if c.name == name), None)


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


def check(program: A.Program, library=()) -> Checked:
    """Resolve names and check `program`; `library` holds programs of stdlib modules."""
    return _Checker(program, library).run()


class _Checker:
    def __init__(self, program, library):
        self.p = program
        self.lib = library
        self.d = Collector()
        self.defined: dict[str, Span | None] = {}
        self.poisoned: set[str] = set()      # declared, but the declaration was wrong: no follow-on errors
        self.params, self.param_fields, self.data, self._fit_data = {}, {}, {}, None
        self.geometry = None                 # set by a shaped `domain` (dsl/geometry.py)

    # -- helpers
    def define(self, name, span, kind):
        if name in RESERVED:
            self.d.error("E103", f"`{name}` is a built-in name and cannot be redefined as a {kind}", span)
            return False
        if name in self.defined:
            self.d.error("E102", f"`{name}` is defined twice", span,
                         related=[(self.defined[name], "first defined here")] if self.defined[name] else [])
            return False
        self.defined[name] = span
        return True

    def run(self) -> Checked:
        p, d = self.p, self.d
        name = next((s.name for s in p.of(A.Problem)), "problem")
        if len(p.of(A.Problem)) > 1:
            d.error("E102", "`problem` is given twice", p.of(A.Problem)[1].span)
        # architectures: library first, then the file's own (which may shadow the library's)
        archs = {}
        for lib in self.lib:
            for a in lib.of(A.Architecture):
                archs[a.name] = a
        own = {}
        for a in p.of(A.Architecture):
            if a.name in own:
                d.error("E102", f"architecture `{a.name}` is defined twice", a.span, related=[(own[a.name].span, "first defined here")])
            own[a.name] = a
        archs.update(own)
        # consts, in order
        consts, cexprs = {}, {}
        ce = ConstEval(consts, d, self.defined, self.poisoned)
        for s in p.of(A.Const):
            if self.define(s.name, s.name_span, "constant"):
                v = ce(s.value, f"the value of `{s.name}`")
                if v is not None:
                    consts[s.name] = v
                    cexprs[s.name] = s.value
                else:
                    self.poisoned.add(s.name)
        # coordinates
        coords = []
        for s in p.of(A.Domain):
            self._domain(s, ce, coords)
        times = p.of(A.Time)
        for s in times[1:]:
            d.error("E102", "only one `time` coordinate may be declared", s.span, related=[(times[0].span, "first declared here")])
        for s in times[:1]:
            lohi = self._interval(s.interval, ce, s.name)
            if self.define(s.name, s.name_span, "coordinate") and lohi:
                coords.append(Coord(s.name, *lohi, True, s.name_span))
            elif not lohi:
                self.poisoned.add(s.name)
        for s in p.of(A.Domain):     # a coordinate whose domain line failed was reported there
            self.poisoned.update(n for n in s.names if n not in [c.name for c in coords])
        if not p.of(A.Domain):
            d.error("E301", "no spatial coordinate is declared", None, hint="add a line such as `domain x in [0, 1]`")
        if len(coords) - (1 if times else 0) > MAX_SPATIAL:    # high-dimensional PDEs (poisson-nd) are in scope
            d.error("E203", f"at most {MAX_SPATIAL} spatial coordinates are supported", p.of(A.Domain)[-1].span)
        cnames = [c.name for c in coords]
        self.coords = coords
        # fields
        fields = {}
        for group in p.of(A.FieldDecl):
            if self.define(group.name, group.span, "field"):
                fields[group.name] = group
                seen = set()
                for a, sp in zip(group.args, group.arg_spans):
                    if a not in cnames and a not in self.poisoned:
                        d.error("E101", f"`{a}` is not a declared coordinate", sp, hint=did_you_mean(a, cnames))
                    if a in seen:
                        d.error("E102", f"`{a}` appears twice in the arguments of `{group.name}`", sp)
                    seen.add(a)
        if not fields:
            d.error("E307", "no `field` is declared", None, hint="add a line such as `field u(x, t)`")
        self.fields, self.consts, self.cnames = fields, consts, cnames
        # parameters: learned scalars, kept in [lo, hi] by construction (compiler/params.py),
        # and unknown coefficient fields, which are fields with a model but no equation of their own
        self.params, self.param_fields = {}, {}
        for s in p.of(A.Param):
            if s.args is not None:
                self._param_field(s, ce, fields)
                continue
            if self.define(s.name, s.name_span, "parameter"):
                lohi = self._interval(s.bounds, ce, s.name)
                guess = ce(s.guess, "the initial guess") if s.guess is not None else None
                if lohi:
                    self.params[s.name] = (lohi[0], lohi[1], guess if guess is not None else 0.5 * (lohi[0] + lohi[1]))
                    if guess is not None and not (lohi[0] < guess < lohi[1]):
                        d.error("E302", f"initial guess {guess:g} lies {'on the edge of' if lohi[0] <= guess <= lohi[1] else 'outside'} "
                                        f"[{lohi[0]:g}, {lohi[1]:g}]", s.guess.span,
                                hint="the parameter is lo + (hi − lo)·sigmoid(θ): it reaches neither end, so start strictly inside")
                else:
                    self.poisoned.add(s.name)
        # observations
        self.data = {}
        for s in p.of(A.Data):
            self._data(s)
        # equations
        orders = {f: {} for f in fields}
        for s in p.of(A.Equation):
            for side in (s.lhs, s.rhs):
                self._expr(side, "equation", orders)
            if s.hard is not None:
                self._hard_options(s.hard, {})      # the form (div(u, v) = 0) is checked in compiler/hard/stream.py
        labels = {}
        for s in p.of(A.Equation) + p.of(A.Condition) + p.of(A.Constraint):
            if s.label:
                if s.label in labels:
                    d.error("E102", f"label `{s.label}` is used twice", s.span, related=[(labels[s.label], "first used here")])
                labels[s.label] = s.span
        # conditions
        conditions, periodic = [], []
        self.fits = []
        for s in p.of(A.Condition):
            if s.data is not None:
                self._fit(s, ce)
                continue
            self._condition(s, ce, conditions, periodic)
        for s in p.of(A.Constraint):
            self._constraint(s)
        for s, _ in conditions:      # a bounded parameter field is lo + (hi − lo)·sigmoid(N): no room for g + φ·N too
            if s.hard is not None and isinstance(s.lhs, A.Name) and self.param_fields.get(s.lhs.id):
                d.error("E313", f"`{s.lhs.id}` is bounded by construction, so a `hard` condition cannot be built into it as well",
                        s.hard.span, hint=f"drop `in [lo, hi]` from `param {s.lhs.id}(...)`, or `hard` from this condition")
        # exact solutions
        exact = {}
        param_truth = {}
        for s in p.of(A.Exact):
            if s.field in self.params:      # the true value of a learned scalar: reported against it
                if s.field in param_truth:
                    d.error("E102", f"`exact {s.field}` is given twice", s.span)
                v = ce(s.expr, f"the true value of `{s.field}`")
                if v is not None:
                    param_truth[s.field] = v
                continue
            if s.field not in fields:
                d.error("E101", f"`{s.field}` is not a declared field", s.name_span, hint=did_you_mean(s.field, fields))
                continue
            if s.field in exact:
                d.error("E102", f"`exact {s.field}` is given twice", s.span)
            exact[s.field] = s
            self._expr(s.expr, "exact", None, allowed_coords=fields[s.field].args)
        # models
        self._models(p.of(A.Model), fields, archs)
        # references
        for s in p.of(A.Reference):
            for f in s.fields:
                if f not in fields:
                    d.error("E101", f"`{f}` is not a declared field", s.span, hint=did_you_mean(f, fields))
                elif f not in s.mapping:
                    d.error("E401", f"the reference gives no column or array for `{f}`", s.span, hint=f"add `{f} = NAME` inside the parentheses")
            for k in s.mapping:
                if k not in cnames and k not in s.fields:
                    d.error("E101", f"`{k}` is neither a coordinate nor a referenced field", s.span, hint=did_you_mean(k, cnames + list(s.fields)))
        # training recipe
        train = self._train(p.of(A.Train), ce)
        checked = Checked(p, name, coords, consts, cexprs, fields, p.of(A.Equation), conditions, periodic,
                          p.of(A.Constraint), exact, p.of(A.Model), p.of(A.Reference), archs, train, orders)
        checked.params, checked.param_fields, checked.param_truth = self.params, self.param_fields, param_truth
        checked.data, checked.fits = self.data, self.fits
        checked.geometry = self.geometry
        if not checked.equations and not d.errors:
            d.error("E304", "no `equation` is given", None, hint="add a line such as `equation: -lap(u) = 1`")
        if not d.errors:
            self._well_posed(checked)
            self._unused_inverse(checked)
        checked.warnings = d.warnings
        d.raise_if_errors(p.file, p.source)
        return checked

    # -- statements
    def _interval(self, e, ce, name):
        if not isinstance(e, A.Interval):
            self.d.error("E204", f"expected an interval `[lo, hi]` for `{name}`", e.span)
            return None
        lo, hi = ce(e.lo, "an interval end"), ce(e.hi, "an interval end")
        if lo is None or hi is None:
            return None
        if not lo < hi:
            self.d.error("E305", f"empty interval [{lo:g}, {hi:g}] for `{name}`", e.span, hint="the lower end must be below the upper end")
            return None
        return lo, hi

    def _domain(self, s, ce, coords):
        shape = s.shape
        if isinstance(shape, A.Interval):
            if len(s.names) != 1:
                self.d.error("E205", f"{len(s.names)} coordinates need a shape of that dimension, not an interval", shape.span,
                             hint=f"write `rectangle([lo, hi], [lo, hi])` or `box(...)`")
                return
            lohi = self._interval(shape, ce, s.names[0])
            if self.define(s.names[0], s.name_spans[0], "coordinate") and lohi:
                coords.append(Coord(s.names[0], *lohi, False, s.name_spans[0]))
            return
        if isinstance(shape, A.Call) and shape.func in ("rectangle", "box", "interval"):
            if len(shape.args) != len(s.names) or shape.kwargs:
                self.d.error("E131" if not shape.kwargs else "E130",
                             f"`{shape.func}` needs one interval per coordinate: {len(s.names)}, got {len(shape.args)}"
                             + (" and named arguments" if shape.kwargs else ""), shape.span,
                             hint="write `rectangle([lo, hi], [lo, hi])` for (x, y), `box([lo, hi], [lo, hi], [lo, hi])` for (x, y, z)")
                return
            for n, sp, iv in zip(s.names, s.name_spans, shape.args):
                lohi = self._interval(iv, ce, n)
                if self.define(n, sp, "coordinate") and lohi:
                    coords.append(Coord(n, *lohi, False, sp))
            return
        self._geometry_domain(s, ce, coords)

    def _geometry_domain(self, s, ce, coords):
        """Any other shape: constructive geometry (dsl/geometry.py); the coordinates'
        ranges are its bounding box, and `shape NAME = ...` lines name its pieces."""
        from . import geometry as G    # the shape algebra (numpy only)
        d, env, named = self.d, {}, {}
        try:
            for st in self.p.of(A.Shape):
                if self.define(st.name, st.name_span, "shape"):
                    env[st.name] = G.Builder(ce, env, len(s.names)).build(st.shape)
                    named[st.name] = env[st.name]
            shp = G.Builder(ce, env, len(s.names)).build(s.shape)
            if shp.dim != len(s.names):
                d.error("E344", f"a {shp.dim}-D shape for {len(s.names)} coordinate{'s' if len(s.names) > 1 else ''}", s.shape.span,
                        hint="a disk, ellipse, polygon or rectangle takes (x, y); a ball or box (x, y, z)")
                return
            G.validate(shp, s.shape.span)
        except G._Reported:
            return
        except PdeError as e:
            for dg in e.diagnostics:
                d.error(dg.code, dg.message, dg.span or s.shape.span, dg.hint)
            return
        self.geometry = G.Geometry(shp, s.names, named)
        for i, (n, sp) in enumerate(zip(s.names, s.name_spans)):
            if self.define(n, sp, "coordinate"):
                coords.append(Coord(n, float(self.geometry.lo[i]), float(self.geometry.hi[i]), False, sp))

    def _condition(self, s, ce, conditions, periodic):
        d = self.d
        if s.rhs is None:
            c = s.lhs
            if isinstance(c, A.Call) and c.func == "periodic":
                if len(c.args) != 2 or not all(isinstance(a, A.Name) for a in c.args):
                    d.error("E131", "`periodic` takes a field and a coordinate: `periodic(u, x)`", c.span)
                    return
                f, x = c.args[0].id, c.args[1].id
                if f not in self.fields:
                    d.error("E101", f"`{f}` is not a declared field", c.args[0].span, hint=did_you_mean(f, self.fields))
                    return
                co = next((k for k in self.coords if k.name == x), None)
                if co is None or co.is_time:
                    if co is None:
                        d.error("E101", f"`{x}` is not a declared coordinate", c.args[1].span, hint=did_you_mean(x, self.cnames))
                    else:
                        d.error("E109", f"`{x}` is the time coordinate; only a spatial coordinate can be periodic", c.args[1].span)
                    return
                if x not in self.fields[f].args:
                    d.error("E104", f"`{f}` does not depend on `{x}`", c.args[1].span)
                    return
                if s.hard is not None:
                    self._hard_options(s.hard, {"modes": None})
                periodic.append((s, f, x))
                return
            d.error("E207", "a condition needs `= value on REGION`", s.lhs.span,
                    hint="for example `condition: u = 0 on x = 0`, or `condition: periodic(u, x)`")
            return
        for side in (s.lhs, s.rhs):
            self._expr(side, "condition", None)
        if s.hard is not None:
            self._hard_options(s.hard, {"method": HARD_CONDITION_METHODS})
        faces = []
        for r in s.regions:
            faces.extend(self._region(r, ce))
        t = next((c for c in self.coords if c.is_time), None)
        if t is not None and any(f.coord == t.name for f in faces):
            # dn is the outward normal over the spatial coordinates: on a time face it would silently mean ∂/∂x
            for side in (s.lhs, s.rhs):
                for sub in A.walk(side):
                    if isinstance(sub, A.Call) and sub.func == "dn":
                        d.error("E107", f"`dn` is the outward normal derivative on spatial faces, not on `{t.name} = ...`",
                                sub.span, hint=f"on the initial face write the rate itself: `d{t.name}(...)`")
        conditions.append((s, faces))

    # -- hard forms: the options are checked here, the algebra in compiler/hard
    def _hard_options(self, hard, allowed):
        """`hard(name = value)`: names from `allowed` (name -> set of words, or None for a whole number)."""
        for k in hard.options:
            if k.name not in allowed:
                self.d.error("E130", f"`hard` has no option `{k.name}` here", k.span,
                             hint=did_you_mean(k.name, allowed) or (f"its options here: {', '.join(sorted(allowed))}" if allowed else "write plain `hard`"))
                continue
            words = allowed[k.name]
            if words is None:
                if not (isinstance(k.value, A.Num) and k.value.value == int(k.value.value) and 1 <= k.value.value <= 64):
                    self.d.error("E209", f"`{k.name}` must be a whole number from 1 to 64", k.value.span)
            elif not (isinstance(k.value, A.Name) and k.value.id in words):
                self.d.error("E143", f"`{k.name}` must be one of {', '.join(sorted(words))}", k.value.span)

    def _constraint(self, s):
        d = self.d
        for r in s.relations:
            exprs = [x for x in r.parts if isinstance(x, A.Expr)]
            ops = [x for x in r.parts if isinstance(x, str)]
            fs = set()
            for e in exprs:
                fs |= self._walk(e, "constraint", None, {}, None)
            if not fs:
                d.error("E321", "this constraint involves no field", r.span, hint="a constraint relates fields, such as `c1 + c2 = 1` or `u >= 0`")
            if any(o in ("<", ">") for o in ops):
                d.error("E322", "strict inequalities cannot be enforced exactly; use `>=` or `<=`", r.span)
            if "=" in ops and len(ops) > 1 or "==" in ops:
                d.error("E322", "write an equality constraint as `lhs = rhs`, on its own", r.span)
            if len(ops) == 2 and ops[0][0] != ops[1][0]:
                d.error("E322", "a chained constraint must run one way, such as `0 <= c <= 1`", r.span)
        if s.hard is not None:
            self._hard_options(s.hard, {"method": HARD_CONSTRAINT_METHODS})

    def _region(self, r, ce):
        d = self.d
        geo = self.geometry
        if geo is not None and (r.coord is None or r.coord in geo.coords):
            return self._piece(r, ce, geo)
        if r.coord is None:
            if r.name == "boundary":
                return [f for c in self.coords if not c.is_time for f in (Face(c.name, "lo", c.lo), Face(c.name, "hi", c.hi))]
            d.error("E101", f"unknown region `{r.name}`", r.span, hint="write a face such as `x = 0`, or `boundary` for every spatial face")
            return []
        c = next((k for k in self.coords if k.name == r.coord), None)
        if c is None:
            d.error("E101", f"`{r.coord}` is not a declared coordinate", r.span, hint=did_you_mean(r.coord, self.cnames))
            return []
        v = ce(r.value, "a face position")
        if v is None:
            return []
        tol = 1e-12 * max(1.0, abs(c.lo), abs(c.hi))
        if abs(v - c.lo) <= tol:
            return [Face(c.name, "lo", c.lo)]
        if abs(v - c.hi) <= tol:
            return [Face(c.name, "hi", c.hi)]
        d.error("E306", f"`{r.coord} = {v:g}` is not a boundary of the domain", r.span,
                hint=f"`{r.coord}` ranges over [{c.lo:g}, {c.hi:g}]; its faces are `{r.coord} = {c.lo:g}` and `{r.coord} = {c.hi:g}`")
        return []

    def _piece(self, r, ce, geo):
        """A boundary region of a shaped domain, selected by a predicate on its points."""
        d = self.d
        if r.coord is None:
            if r.name == "boundary":
                return [Piece("boundary", ("boundary",))]
            if r.name not in geo.named:
                d.error("E101", f"unknown region `{r.name}`", r.span,
                        hint=did_you_mean(r.name, list(geo.named) + ["boundary"]) or "name a shape with `shape NAME = ...`, or write `boundary`")
                return []
            p = Piece(f"on_{r.name}", ("named", r.name))
            what = f"`on {r.name}`"
        else:
            v = ce(r.value, "a face position")
            if v is None:
                return []
            i = geo.coords.index(r.coord)
            p = Piece(f"on_{r.coord}_{v:g}".replace("-", "m").replace(".", "p").replace("+", ""), ("face", i, v))
            what = f"`{r.coord} = {v:g}`"
        if geo.measure(p.sel) <= 0:
            d.error("E341", f"{what} selects no part of the domain's boundary", r.span,
                    hint="a named shape whose boundary is covered by other shapes, or a line the boundary has no straight piece on")
            return []
        return [p]

    def _models(self, models, fields, archs):
        d = self.d
        owner = {}
        for m in models:
            if m.arch not in archs:
                d.error("E110", f"unknown architecture `{m.arch}`", m.call.func_span,
                        hint=did_you_mean(m.arch, archs) or f"known: {', '.join(sorted(archs)) or 'none'}")
            else:
                self._arch_args(m.call, archs[m.arch])
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
                    d.error("E208", f"fields of one model must share their arguments: `{t}` has ({', '.join(fields[t].args)}), not ({', '.join(args0)})",
                            sp, hint="give each field its own `model` line")
        for f, decl in fields.items():
            if f not in owner:
                d.error("E120", f"field `{f}` has no model", decl.span, hint=f"add a line such as `model {f} = mlp(width = 32, depth = 4)`")

    def _arch_args(self, call, arch):
        names = [p.name for p in arch.params]
        if len(call.args) > len(names):
            sp = call.func_span or call.span
            if sp is not None and call.span is not None:
                sp = Span(sp.line, sp.col, call.span.end_line, call.span.end_col)
            self.d.error("E131", f"`{arch.name}` takes {len(names)} parameters, {len(call.args)} given", sp,
                         hint=f"its parameters: {', '.join(names)}")
        for k in call.kwargs:
            if k.name not in names:
                self.d.error("E130", f"`{arch.name}` has no parameter `{k.name}`", k.span,
                             hint=did_you_mean(k.name, names) or f"its parameters: {', '.join(names)}")

    def _train(self, blocks, ce):
        d = self.d
        cfg = {"stages": [], "points": {}, "settings": {}, "weights": {}, "spans": {}}
        if len(blocks) > 1:
            d.error("E102", "`train:` is given twice", blocks[1].span)
        for b in blocks[:1]:
            for it in b.items:
                if isinstance(it, A.Weights):
                    labels = self._term_labels()
                    hard = {st.label for st in self.p.of(A.Equation) + self.p.of(A.Condition) + self.p.of(A.Constraint)
                            if st.label and getattr(st, "hard", None) is not None}
                    for k in it.values:
                        if k.name in hard:
                            d.error("E145", f"`{k.name}` is `hard`: it holds exactly and is no loss term, so it takes no weight", k.span,
                                    hint=f"remove `{k.name} = …` from `weights`, or drop `hard` to train it as a weighted term")
                            continue
                        if k.name not in labels:
                            d.error("E144", f"no equation or condition is labelled `{k.name}`", k.span,
                                    hint=did_you_mean(k.name, labels) or f"labels: {', '.join(sorted(labels)) or 'none (add `equation NAME: ...`)'}")
                            continue
                        v = ce(k.value, "a weight")
                        if v is not None and not (v >= 0 and math.isfinite(v)):
                            d.error("E209", "a weight must be a finite number ≥ 0", k.value.span)
                        elif v is not None:
                            cfg["weights"][k.name] = v
                elif isinstance(it, A.Points):
                    for k in it.counts:
                        if k.name not in POINT_REGIONS:
                            d.error("E140", f"unknown point region `{k.name}`", k.span,
                                    hint=did_you_mean(k.name, POINT_REGIONS) or f"regions: {', '.join(sorted(POINT_REGIONS))}")
                            continue
                        v = ce(k.value, "a point count")
                        if v is None:
                            continue
                        if v != int(v) or v < 1 or v > MAX_POINTS:
                            d.error("E209", f"point count must be a whole number from 1 to {MAX_POINTS:,}", k.value.span)
                            continue
                        cfg["points"][k.name] = int(v)
                elif isinstance(it, A.Stage):
                    if it.optimizer not in OPTIMIZERS:
                        d.error("E141", f"unknown optimiser `{it.optimizer}`", it.span,
                                hint=did_you_mean(it.optimizer, OPTIMIZERS) or f"optimisers: {', '.join(sorted(OPTIMIZERS))}")
                        continue
                    opts = {}
                    for k in it.kwargs:
                        if k.name not in OPTIMIZERS[it.optimizer]:
                            d.error("E130", f"`{it.optimizer}` has no option `{k.name}`", k.span,
                                    hint=did_you_mean(k.name, OPTIMIZERS[it.optimizer]) or f"its options: {', '.join(sorted(OPTIMIZERS[it.optimizer]))}")
                            continue
                        if k.name == "schedule":
                            kinds = ("constant", "exponential", "cosine")
                            if not isinstance(k.value, A.Name) or k.value.id not in kinds:
                                d.error("E143", f"`schedule` must be one of {', '.join(kinds)}", k.value.span,
                                        hint=did_you_mean(k.value.id, kinds) if isinstance(k.value, A.Name) else None)
                            else:
                                opts[k.name] = k.value.id
                            continue
                        v = ce(k.value, f"option `{k.name}`")
                        if v is not None:
                            opts[k.name] = v
                    if it.args:
                        d.error("E131", f"`{it.optimizer}` takes named options only, such as `{it.optimizer}(lr = 1e-3)`", it.args[0].span)
                    n = ce(it.steps, "a step count")
                    if n is not None and (n != int(n) or n < 0 or n > MAX_STEPS):
                        d.error("E209", f"step count must be a whole number from 0 to {MAX_STEPS:,}", it.steps.span)
                        n = None
                    if n is not None:
                        cfg["stages"].append({"optimizer": it.optimizer, "steps": int(n), **opts})
                elif isinstance(it, A.Setting):
                    if it.name not in SETTINGS:
                        d.error("E142", f"unknown train setting `{it.name}`", it.span,
                                hint=did_you_mean(it.name, SETTINGS) or f"settings: {', '.join(sorted(SETTINGS))}")
                        continue
                    v = it.value
                    if isinstance(v, A.Name):
                        v = v.id
                    elif isinstance(v, A.Expr):
                        v = ce(v, f"setting `{it.name}`")
                        if v is None:
                            continue
                        if v == int(v) and it.name not in ("causal", "adaptive_fraction"):
                            v = int(v)
                    if it.name in SETTING_CHOICES and v not in SETTING_CHOICES[it.name]:
                        d.error("E143", f"`{it.name}` must be one of {', '.join(sorted(SETTING_CHOICES[it.name]))}", it.span)
                        continue
                    if it.name not in SETTING_CHOICES and not isinstance(v, (int, float)):
                        d.error("E143", f"`{it.name}` must be a number", it.span)
                        continue
                    if it.name in WHOLE_SETTINGS and not (isinstance(v, int) and 0 <= v <= MAX_STEPS):
                        d.error("E143", f"`{it.name}` must be a whole number from 0 to {MAX_STEPS:,}", it.value.span)
                        continue
                    cfg["settings"][it.name] = v
        return cfg

    def _term_labels(self):
        return {s.label for s in self.p.of(A.Equation) + self.p.of(A.Condition) + self.p.of(A.Constraint) if s.label}

    # -- expressions
    def _expr(self, e, ctx, orders, allowed_coords=None):
        """Check names and calls in an expression; accumulate derivative orders per field."""
        self._walk(e, ctx, orders, {}, allowed_coords)

    def _walk(self, e, ctx, orders, acc, allowed_coords):
        d = self.d
        if isinstance(e, A.Num):
            if not math.isfinite(e.value):
                d.error("E201", f"the number {e.text} is too large", e.span, hint="numbers must be below about 1.8e308")
            return set()
        if isinstance(e, A.Name):
            n = e.id
            if n in self.fields:
                if ctx == "exact":
                    d.error("E105", f"an exact solution cannot use the field `{n}`", e.span)
                    return set()
                if orders is not None:
                    o = orders.setdefault(n, {})
                    for c, k in acc.items():
                        if c in self.fields[n].args:
                            o[c] = max(o.get(c, 0), k)
                return {n}
            if n in self.cnames:
                if allowed_coords is not None and n not in allowed_coords:
                    d.error("E104", f"`{n}` is not an argument of this field", e.span)
                return set()
            if n in self.params and ctx == "exact":
                d.error("E105", f"an exact solution cannot use the learned parameter `{n}`", e.span,
                        hint=f"write its true value: `exact {n} = VALUE`")
                return set()
            if n in self.data:
                d.error("E109", f"`{n}` is a set of observations, not a value", e.span,
                        hint=f"take one of its columns, such as `{n}.{self._value_columns(n)[0] if self._value_columns(n) else 'u'}`, "
                             f"in a condition `at {n}`")
                return set()
            if n in self.consts or n in CONSTANTS or n in self.params or n in self.poisoned:
                return set()
            known = list(self.fields) + self.cnames + list(self.consts) + list(self.params) + list(CONSTANTS)
            d.error("E101", f"`{n}` is not defined", e.span, hint=did_you_mean(n, known))
            return set()
        if isinstance(e, A.Neg):
            return self._walk(e.operand, ctx, orders, acc, allowed_coords)
        if isinstance(e, A.BinOp):
            if e.op == "&":
                d.error("E210", "`&` intersects shapes; it cannot appear in an equation", e.span)
                return set()
            if e.op == "/" and self._quiet_const(e.right) == 0.0:
                # sympy would fold it to `zoo` and training would only show NaN
                d.error("E201", "division by zero: the denominator is the constant 0", e.right.span)
            return self._walk(e.left, ctx, orders, acc, allowed_coords) | self._walk(e.right, ctx, orders, acc, allowed_coords)
        if isinstance(e, A.Attr):
            self._attr(e, ctx)
            return set()
        if isinstance(e, (A.Tuple, A.Interval)):
            d.error("E210", "a tuple or interval cannot appear in an equation", e.span)
            return set()
        if isinstance(e, A.Call):
            return self._call(e, ctx, orders, acc, allowed_coords)
        return set()

    def _quiet_const(self, e):
        """The value of a constant sub-expression, or None (no diagnostics: the walk reports)."""
        try:
            return ConstEval(self.consts, Collector())._ev(e, "")
        except Exception:       # noqa: BLE001 - not constant, or not evaluable: not our concern here
            return None

    def _call(self, e, ctx, orders, acc, allowed_coords):
        d, f = self.d, e.func
        if e.kwargs and f not in ("lap",):
            d.error("E130", f"`{f}` takes no named arguments", e.kwargs[0].span)
        spatial = [c.name for c in self.coords if not c.is_time]

        def need(n):
            if len(e.args) != n:
                d.error("E131", f"`{f}` takes {n} argument{'s' if n != 1 else ''}, {len(e.args)} given", e.span)
                return False
            return True

        def bump(c, k=1):
            a = dict(acc)
            a[c] = a.get(c, 0) + k
            return a

        if f in MATH_FUNCS:
            return self._walk(e.args[0], ctx, orders, acc, allowed_coords) if need(1) else set()
        if ctx == "exact" and f in ("d", "lap", "grad", "div", "dn") or f.startswith("d") and f[1:] in self.cnames and ctx == "exact":
            d.error("E105", f"an exact solution cannot take derivatives", e.span)
            return set()
        if f == "d":
            if len(e.args) < 2:
                d.error("E131", "`d` takes an expression and a coordinate: `d(u, x)`, `d(u, x, 2)` or `d(u, x, y)`", e.span)
                return set()
            wrt = []
            rest = e.args[1:]
            if len(rest) == 2 and isinstance(rest[1], A.Num):
                n = rest[1].value
                if n != int(n) or n < 1 or n > 8:
                    d.error("E211", "derivative order must be a whole number from 1 to 8", rest[1].span)
                    return set()
                rest = [rest[0]] * int(n)
            for a in rest:
                if not isinstance(a, A.Name) or a.id not in self.cnames:
                    name = a.id if isinstance(a, A.Name) else None
                    d.error("E106", f"`{name or 'this'}` is not a coordinate to differentiate by", a.span,
                            hint=did_you_mean(name, self.cnames) if name else None)
                    return set()
                wrt.append(a.id)
            a2 = dict(acc)
            for c in wrt:
                a2[c] = a2.get(c, 0) + 1
            fs = self._walk(e.args[0], ctx, orders, a2, allowed_coords)
            self._depends(e, fs, set(wrt))
            return fs
        if f.startswith("d") and f[1:] in self.cnames and f not in self.fields:
            if not need(1):
                return set()
            fs = self._walk(e.args[0], ctx, orders, bump(f[1:]), allowed_coords)
            self._depends(e, fs, {f[1:]})
            return fs
        if f == "lap":
            if not need(1):
                return set()
            fs = set()
            for c in spatial:
                fs |= self._walk(e.args[0], ctx, orders, bump(c, 2), allowed_coords)
            for k in e.kwargs:
                if k.name != "estimate":
                    d.error("E130", f"`lap` has no option `{k.name}`", k.span)
            return fs
        if f == "grad":
            d.error("E212", "`grad(u)` is a vector; use it inside `div(...)`, or take one component with `dx(u)`", e.span)
            return set()
        if f == "div":
            args = e.args
            if len(args) == 1 and isinstance(args[0], A.Call) and args[0].func == "grad":
                g = args[0]
                if len(g.args) != 1:
                    d.error("E131", "`grad` takes 1 argument", g.span)
                    return set()
                fs = set()
                for c in spatial:
                    fs |= self._walk(g.args[0], ctx, orders, bump(c, 2), allowed_coords)
                return fs
            if len(args) != len(spatial):
                d.error("E131", f"`div` takes {len(spatial)} components here (one per spatial coordinate), {len(args)} given", e.span)
                return set()
            fs = set()
            for c, a in zip(spatial, args):
                fs |= self._walk(a, ctx, orders, bump(c), allowed_coords)
            return fs
        if f == "dn":
            if ctx != "condition":
                d.error("E107", "`dn` (the outward normal derivative) is defined on boundaries only: use it in a `condition`", e.span)
                return set()
            if not need(1):
                return set()
            fs = set()
            for c in spatial:
                fs |= self._walk(e.args[0], ctx, orders, bump(c), allowed_coords)
            return fs
        if f == "periodic":
            d.error("E207", "`periodic(u, x)` is a whole condition on its own: `condition: periodic(u, x)`", e.span)
            return set()
        known = list(MATH_FUNCS) + ["d", "lap", "div", "dn"] + ["d" + c for c in self.cnames]
        d.error("E108", f"unknown function `{f}`", e.func_span or e.span, hint=did_you_mean(f, known))
        return set()

    def _depends(self, e, fs, wrt):
        for f in fs:
            missing = wrt - set(self.fields[f].args)
            if missing and isinstance(e.args[0], A.Name):
                c = sorted(missing)[0]
                self.d.error("E104", f"`{f}` does not depend on `{c}`: `{f}({', '.join(self.fields[f].args)})`", e.span,
                             hint=f"declare `field {f}({', '.join(self.fields[f].args + [c])})` if it should")

    # -- well-posedness (counts only; the compiler checks the rest)
    def _well_posed(self, ch: Checked):
        d = self.d
        t = ch.time
        # observations pin a fitted field where they lie: no initial or boundary data is required of it
        fitted = {f for cond, _, _ in self.fits for f in self._fields_in(cond)}
        for fname, decl in ch.fields.items():
            if fname in ch.param_fields or fname in fitted:
                continue
            o = ch.orders.get(fname, {})
            if not o and not any(fname in self._fields_in(e) for e in ch.equations):
                d.warn("W101", f"field `{fname}` appears in no equation", decl.span)
            if t is not None and o.get(t.name, 0) > 0:
                k = o[t.name]
                ics = [c for c, faces in ch.conditions if any(f.coord == t.name and f.side == "lo" for f in faces)
                       and fname in self._fields_in(c)]
                if not ics:
                    d.error("E310", f"`{fname}` is first order or more in `{t.name}` but has no initial condition", decl.span,
                            hint=f"add `condition: {fname} = ... on {t.name} = {t.lo:g}`")
                elif len(ics) < k:
                    d.warn("W102", f"`{fname}` is order {k} in `{t.name}` but has {len(ics)} initial condition(s)", decl.span,
                           hint=f"add one on `d({fname}, {t.name})` as well, such as `condition: d{t.name}({fname}) = 0 on {t.name} = {t.lo:g}`")
            if t is None and o:
                # a steady field seen only through its derivatives everywhere (pure Neumann):
                # u + C solves it as well as u, and the loss cannot choose
                stmts = [e for e in ch.equations if fname in self._fields_in(e)] + \
                        [c for c, _ in ch.conditions if fname in self._fields_in(c)]
                in_constraint = any(isinstance(x, A.Name) and x.id == fname for c in ch.constraints for r in c.relations
                                    for p in r.parts if isinstance(p, A.Expr) for x in A.walk(p))
                pinned = in_constraint or any(self._bare(fname, s) for s in stmts)
                if stmts and not pinned:
                    d.warn("W104", f"`{fname}` appears only through its derivatives, so it is determined only up to an added constant",
                           decl.span, hint=f"fix its value somewhere, e.g. `condition: {fname} = 0 on ...`, "
                                           f"or give the equation a term in `{fname}` itself")
            if ch.geometry is not None:      # a shaped domain has no faces per coordinate: any boundary condition
                if any(o.get(c.name, 0) for c in ch.spatial) and not any(
                        f.coord is None and fname in self._fields_in(cond) for cond, faces in ch.conditions for f in faces):
                    d.warn("W103", f"`{fname}` has spatial derivatives but no condition on the domain's boundary", decl.span,
                           hint=f"add `condition: {fname} = ... on boundary`")
                continue
            for c in ch.spatial:
                p = o.get(c.name, 0)
                if p == 0:
                    continue
                if any(pf == fname and px == c.name for _, pf, px in ch.periodic):
                    continue
                n = sum(1 for cond, faces in ch.conditions for f in faces if f.coord == c.name and fname in self._fields_in(cond))
                if n < p:
                    d.warn("W103", f"`{fname}` is order {p} in `{c.name}` but has {n} boundary condition(s) on the faces of `{c.name}`",
                           decl.span, hint=f"add conditions on `{c.name} = {c.lo:g}` and `{c.name} = {c.hi:g}`, or `periodic({fname}, {c.name})`")

    # -- inverse problems: parameter fields, observations, fits
    def _unused_inverse(self, ch):
        """A parameter no term uses cannot be learned; observations no fit uses are never read."""
        used = set()
        stmts = list(ch.equations) + [c for c, _ in ch.conditions] + [c for c, _, _ in ch.fits]
        exprs = [e for s in stmts for e in (s.lhs, s.rhs) if e is not None]
        exprs += [x for s in ch.constraints for r in s.relations for x in r.parts if isinstance(x, A.Expr)]
        for e in exprs:
            used |= {sub.id for sub in A.walk(e) if isinstance(sub, A.Name)}
        for s in self.p.of(A.Param):
            if s.args is None and s.name in ch.params and s.name not in used:
                self.d.warn("W106", f"the parameter `{s.name}` appears in no equation, condition or fit, so nothing can learn it",
                            s.name_span, hint=f"use it, such as `equation: ... = {s.name} * ...`, or make it a `const`")
        fitted = {dn for _, dn, _ in ch.fits}
        for n, s in ch.data.items():
            if n not in fitted:
                self.d.warn("W105", f"the observations `{n}` are used by no fit, so they are not read", s.name_span,
                            hint=f"fit them: `condition: u = {n}.{self._value_columns(n)[0] if self._value_columns(n) else 'u'} at {n}`")

    def _param_field(self, s, ce, fields):
        d = self.d
        if not self.define(s.name, s.name_span, "parameter field"):
            return
        seen = set()
        for a, sp in zip(s.args, s.arg_spans):
            if a not in self.cnames and a not in self.poisoned:
                d.error("E101", f"`{a}` is not a declared coordinate", sp, hint=did_you_mean(a, self.cnames))
            if a in seen:
                d.error("E102", f"`{a}` appears twice in the arguments of `{s.name}`", sp)
            seen.add(a)
        bounds = None
        if s.bounds is not None:
            bounds = self._interval(s.bounds, ce, s.name)
        fields[s.name] = A.FieldDecl(s.span, s.name, list(s.args), list(s.arg_spans))
        self.param_fields[s.name] = bounds

    def _data(self, s):
        d = self.d
        if not self.define(s.name, s.name_span, "set of observations"):
            return
        seen = {}
        for c in s.columns:
            if c.name in seen:
                d.error("E102", f"column `{c.name}` is named twice", c.span, related=[(seen[c.name], "first named here")])
            seen[c.name] = c.span
        if not any(c.name in self.cnames for c in s.columns) and not any(c.name in self.poisoned for c in s.columns):
            d.error("E311", f"the observations `{s.name}` give no coordinate column", s.span,
                    hint=f"name the columns that hold the coordinates, such as `columns ({', '.join(self.cnames)}, u)`")
        self.data[s.name] = s

    def _value_columns(self, dname):
        return [c.name for c in self.data[dname].columns if c.name not in self.cnames] if dname in self.data else []

    def _attr(self, e, ctx):
        d = self.d
        if e.obj not in self.data:
            if e.obj not in self.poisoned:
                d.error("E101", f"`{e.obj}` is not a set of observations (`data {e.obj} from ...`)", e.span,
                        hint=did_you_mean(e.obj, self.data))
            return
        cols = self._value_columns(e.obj)
        if e.attr not in cols:
            coords = e.attr in self.cnames
            d.error("E101", f"`{e.obj}` has no value column `{e.attr}`" + (" (it is a coordinate)" if coords else ""), e.span,
                    hint=(f"write the coordinate `{e.attr}` itself" if coords else did_you_mean(e.attr, cols))
                    or f"its value columns: {', '.join(cols) or 'none'}")
            return
        if ctx != "fit" or self._fit_data != e.obj:
            d.error("E312", f"`{e.obj}.{e.attr}` is known only at the points of `{e.obj}`", e.span,
                    hint=f"use it in a condition `at {e.obj}`, such as `condition: u = {e.obj}.{e.attr} at {e.obj}`")

    def _fit(self, s, ce):
        d = self.d
        if s.data not in self.data:
            if s.data not in self.poisoned:
                d.error("E101", f"`{s.data}` is not a set of observations", s.data_span,
                        hint=did_you_mean(s.data, self.data) or f'declare it: `data {s.data} from "FILE" columns (...)`')
            return
        if s.hard is not None:
            d.error("E308", "a fit to observations cannot be `hard`: measured values carry noise, so they are fitted, "
                            "not imposed", s.hard.span, hint="remove `hard`; give `noise = SIGMA` to weigh the fit")
        self._fit_data = s.data
        fs = set()
        for side in (s.lhs, s.rhs):
            fs |= self._walk(side, "fit", None, {}, None)
        self._fit_data = None
        noise = None
        for k in s.options:
            if k.name != "noise":
                d.error("E130", f"a fit has no option `{k.name}`", k.span, hint=did_you_mean(k.name, ["noise"]) or "its option: noise")
                continue
            v = ce(k.value, "a noise level")
            if v is not None and not (v > 0 and math.isfinite(v)):
                d.error("E209", "a noise level must be a finite number > 0", k.value.span)
            elif v is not None:
                noise = v
        # the fit is evaluated at the observation points: every coordinate its fields depend on must be a column
        have = {c.name for c in self.data[s.data].columns}
        for f in sorted(fs):
            missing = [a for a in self.fields[f].args if a not in have]
            if missing:
                d.error("E311", f"`{f}` depends on `{missing[0]}`, but the observations `{s.data}` give no column for it",
                        s.data_span, hint=f"add `{missing[0]}` to the columns of `{s.data}`")
        self.fits.append((s, s.data, noise))

    def _bare(self, fname, stmt):
        """Whether `fname` appears in the statement outside every derivative."""
        def walk(e):
            if isinstance(e, A.Name):
                return e.id == fname
            if isinstance(e, A.Call):
                if e.func in ("d", "lap", "grad", "div", "dn") or e.func.startswith("d") and e.func[1:] in self.cnames:
                    return False
                return any(walk(a) for a in e.args)
            if isinstance(e, A.BinOp):
                return walk(e.left) or walk(e.right)
            if isinstance(e, A.Neg):
                return walk(e.operand)
            return isinstance(e, A.Expr) and any(walk(x) for x in A.walk(e) if x is not e)
        return any(walk(e) for e in (getattr(stmt, "lhs", None), getattr(stmt, "rhs", None)) if e is not None)

    def _fields_in(self, stmt):
        out = set()
        exprs = [stmt.lhs, stmt.rhs] if hasattr(stmt, "lhs") else []
        for e in exprs:
            if e is None:
                continue
            for sub in A.walk(e):
                if isinstance(sub, A.Name) and sub.id in self.fields:
                    out.add(sub.id)
        return out
