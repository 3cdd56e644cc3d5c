"""Passes for operator learning: input functions, the fields given them, the grid, pairs.

`inputs` reads the `input` lines (after `domains`, before `fields`, so that a field and
an input cannot share a name) and fills `State.inputs` (name -> `InputFn`): each input's
coordinates are spatial coordinates of the domain, and its source is a Gaussian random
field `grf(covariance = C * (-lap + T)^-G)` (E350 unless C > 0, T > 0 and G > d/2: the
covariance operator must be positive and trace class for samples to be continuous), a
squared-exponential one `grf(covariance = rbf(length = L, variance = V))` (L, V > 0), or
`threshold(grf(...), high = H, low = L)` (H where the field is ≥ 0, L where it is < 0,
the FNO paper's Darcy coefficient).

`operators` reads what depends on the inputs (after `fields` and `data`): every name in
a field's `given` list is an input declared above it (E160, E101), whose coordinates are
among the field's (E162); `grid` lines fill `State.grid` (coordinate -> points) and every
coordinate of an input needs one (E163); `pairs` lines fill `State.pairs`: a file maps
every input and every given field to an array (E351), a solver of `SOLVERS` takes its
known options and must match the inputs (E352). Reads `State.cnames`, `State.fields`."""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import did_you_mean
from ..vocabulary import SOLVERS
from .result import InputFn
from .state import State

SOURCES = ("grf", "threshold")
MAX_GRID = 65536


def inputs(st: State):
    d = st.diag
    for s in st.program.of(A.Input):
        if not st.define(s.name, s.name_span, "input function"):
            continue
        spatial = [c.name for c in st.spatial]
        ok = True
        for a, sp in zip(s.args, s.arg_spans):
            if a not in spatial and a not in st.poisoned:
                t = st.time
                d.error("E161", f"`{a}` is not a spatial coordinate of the domain", sp,
                        hint="an input function is a function of space: its samples live on the grid"
                        if t is not None and a == t.name else did_you_mean(a, spatial))
                ok = False
        if len(set(s.args)) != len(s.args):
            d.error("E102", f"a coordinate appears twice in the arguments of `{s.name}`", s.span)
            ok = False
        src = _source(st, s.source, len(s.args))
        if ok and src is not None:
            st.inputs[s.name] = InputFn(name=s.name, coords=tuple(s.args), span=s.name_span, **src)
        else:
            st.poisoned.add(s.name)


def _source(st, e, dims):
    """{"kind", "sigma", "tau", "gamma", "high", "low"} of a checked source, else None."""
    d = st.diag
    if not isinstance(e, A.Call) or e.func not in SOURCES:
        name = e.func if isinstance(e, A.Call) else None
        d.error("E101", f"unknown input source `{name}`" if name else "an input comes from a source such as `grf(...)`",
                e.span, hint=(did_you_mean(name, SOURCES) if name else None)
                or "sources: grf(covariance = C * (-lap + T)^-G), threshold(grf(...), high = H, low = L)")
        return None
    if e.func == "threshold":
        if len(e.args) != 1 or not (isinstance(e.args[0], A.Call) and e.args[0].func == "grf"):
            d.error("E131", "`threshold` takes one field to threshold: `threshold(grf(...), high = H, low = L)`", e.span)
            return None
        for k in e.kwargs:
            if k.name not in ("high", "low"):
                d.error("E130", f"`threshold` has no option `{k.name}`", k.span, hint="its options: high, low")
        inner = _source(st, e.args[0], dims)
        vals = {k.name: st.ce(k.value, f"`{k.name}`") for k in e.kwargs if k.name in ("high", "low")}
        for k in ("high", "low"):
            if k not in vals:
                d.error("E131", f"`threshold` needs `{k} = ...`", e.span)
                return None
        if inner is None or None in vals.values():
            return None
        return {**inner, "kind": "threshold", "high": vals["high"], "low": vals["low"]}
    cov = e.kwarg("covariance")
    if isinstance(cov, A.Call) and cov.func == "rbf" and not e.args and len(e.kwargs) == 1:
        return _rbf(st, cov)
    for k in e.kwargs:
        if k.name != "covariance":
            d.error("E130", f"`grf` has no option `{k.name}`", k.span, hint="its option: covariance")
    if cov is None or e.args:
        d.error("E131", "`grf` takes its covariance by name: `grf(covariance = C * (-lap + T)^-G)`", e.span)
        return None
    parts = _covariance(st, cov)
    if parts is None:
        return None
    c, t, g = parts
    if not (c > 0 and t > 0 and g > dims / 2):
        why = (f"its scale {c:g} is not positive" if not c > 0 else f"its shift {t:g} is not positive" if not t > 0
               else f"its power {g:g} is not above d/2 = {dims / 2:g}, so samples would not be continuous")
        d.error("E350", f"the covariance is not positive and trace class: {why}", cov.span,
                hint="write C * (-lap + T)^-G with C > 0, T > 0 and G > d/2, such as 625 * (-lap + 25)^-2")
        return None
    return {"kind": "grf", "sigma": c ** 0.5, "tau": t ** 0.5, "gamma": g, "high": None, "low": None}


RBF_OPTIONS = {"length": None, "variance": 1.0}


def _rbf(st, e):
    """`rbf(length = L, variance = V)`: the squared-exponential covariance V exp(−|x − x'|²/(2L²))
    (Wang, Wang & Perdikaris 2021 draw their PI-DeepONet inputs from it with L = 0.2, V = 1)."""
    d = st.diag
    vals = dict(RBF_OPTIONS)
    if e.args:
        d.error("E131", "`rbf` takes its options by name: `rbf(length = 0.2)`", e.span)
        return None
    for k in e.kwargs:
        if k.name not in RBF_OPTIONS:
            d.error("E130", f"`rbf` has no option `{k.name}`", k.span, hint="its options: length, variance")
            return None
        vals[k.name] = st.ce(k.value, f"`{k.name}`")
        if vals[k.name] is None:
            return None
        if not vals[k.name] > 0:
            d.error("E350", f"the covariance is not positive: its {k.name} {vals[k.name]:g} is not above 0",
                    k.value.span, hint="such as rbf(length = 0.2, variance = 1)")
            return None
    if vals["length"] is None:
        d.error("E131", "`rbf` needs its correlation length: `rbf(length = 0.2)`", e.span)
        return None
    return {"kind": "rbf", "sigma": 0.0, "tau": 0.0, "gamma": 0.0, "high": None, "low": None,
            "length": vals["length"], "variance": vals["variance"]}


def _covariance(st, e):
    """(C, T, G) of `C * (-lap + T)^-G` (also `(T - lap)^-G`, C = 1 when absent), else None."""
    c = 1.0
    if isinstance(e, A.BinOp) and e.op == "*":
        c = st.ce(e.left, "the covariance's scale")
        e = e.right
    if not (isinstance(e, A.BinOp) and e.op == "^"):
        return _bad_cov(st, e)
    g = st.ce(e.right, "the covariance's power")
    base, t = e.left, None
    if isinstance(base, A.BinOp) and base.op == "+" and _is_neg_lap(base.left):
        t = st.ce(base.right, "the covariance's shift")
    elif isinstance(base, A.BinOp) and base.op == "+" and _is_neg_lap(base.right):
        t = st.ce(base.left, "the covariance's shift")
    elif isinstance(base, A.BinOp) and base.op == "-" and isinstance(base.right, A.Name) and base.right.id == "lap":
        t = st.ce(base.left, "the covariance's shift")
    else:
        return _bad_cov(st, base)
    if None in (c, t, g):
        return None
    return c, t, -g


def _is_neg_lap(e):
    return isinstance(e, A.Neg) and isinstance(e.operand, A.Name) and e.operand.id == "lap"


def _bad_cov(st, e):
    st.diag.error("E350", "a covariance is written C * (-lap + T)^-G", e.span,
                  hint="such as 625 * (-lap + 25)^-2: the FNO paper's N(0, 625 (−Δ + 25 I)^−2)")
    return None


def operators(st: State):
    d = st.diag
    line_of = {s.name: s.span.line if s.span else 0 for s in st.program.of(A.Input)}
    for f, decl in st.fields.items():
        for g, sp in zip(decl.given, decl.given_spans):
            if g not in line_of:
                if g not in st.poisoned:
                    d.error("E101", f"`{g}` is not a declared input function", sp,
                            hint=did_you_mean(g, list(line_of))
                            or f"declare it: `input {g}({', '.join(decl.args)}) from grf(...)`")
                continue
            if decl.span and line_of[g] > decl.span.line:
                d.error("E160", f"the input function `{g}` is used before it is declared (line {line_of[g]})", sp,
                        hint="move its `input` line above this one")
                continue
            fn = st.inputs.get(g)
            if fn is not None and not set(fn.coords) <= set(decl.args):
                d.error("E162", f"`{f}` is given `{g}({', '.join(fn.coords)})` but does not depend on all of its coordinates",
                        sp, hint=f"declare `field {f}({', '.join(dict.fromkeys(decl.args + list(fn.coords)))})`")
                continue
            st.given.setdefault(f, []).append(g)
    _grid(st)
    _pairs(st)


def _fine_ok(st, spec, v):
    """Whether the solver's points at `fine` include every point of the declared grid."""
    if v != int(v):
        return False
    v = int(v)
    space = {c.name for c in st.spatial}       # `fine` refines space; time has its own steps
    for s in (s for c, s in st.grid.items() if c in space):
        if v < s or (spec.grid == "periodic" and v % s) or (spec.grid == "nodes" and (v - 1) % (s - 1)):
            return False
    return True


def _grid(st):
    d = st.diag
    # the time coordinate may have a grid too: where a field of time given an input is
    # evaluated on held-out inputs (inputs themselves are functions of space only, E161)
    spatial = [c.name for c in st.spatial] + ([st.time.name] if st.time is not None else [])
    grids = st.program.of(A.Grid)
    for s in grids[1:]:
        d.error("E102", "`grid` is given twice", s.span, hint="name every coordinate on one line: `grid x = 64, y = 64`")
    for s in grids[:1]:
        for k in s.sizes:
            if k.name not in spatial:
                d.error("E163", f"`{k.name}` is not a coordinate of the domain", k.span,
                        hint=did_you_mean(k.name, spatial))
                continue
            if k.name in st.grid:
                d.error("E102", f"`{k.name}` is given twice in `grid`", k.span)
                continue
            v = st.ce(k.value, "a grid size")
            if v is None:
                continue
            if v != int(v) or not 2 <= v <= MAX_GRID:
                d.error("E209", f"a grid size must be a whole number from 2 to {MAX_GRID:,}", k.value.span)
                continue
            st.grid[k.name] = int(v)
    for f, gs in st.given.items():
        for c in st.fields[f].args:
            if c not in st.grid and not any(k.name == c for s in grids for k in s.sizes):
                d.error("E163", f"`{f}` is given an input function but has no grid along `{c}`",
                        st.fields[f].span, hint=f"add `{c} = N` to the `grid` line: held-out inputs are "
                                                "compared with the reference there")
    for fn in st.inputs.values():
        for c in fn.coords:
            if c not in st.grid and not any(k.name == c for s in grids for k in s.sizes):
                d.error("E163", f"the input function `{fn.name}` needs a grid along `{c}`", fn.span,
                        hint=f"add a line such as `grid {c} = 64`: its samples live on that grid")


def _pairs(st):
    d = st.diag
    lines = st.program.of(A.Pairs)
    for s in lines[1:]:
        d.error("E102", "`pairs` is given twice", s.span)
    if not lines:
        return
    s = lines[0]
    given_inputs = list(dict.fromkeys(g for gs in st.given.values() for g in gs))
    if not any(decl.given for decl in st.fields.values()):
        d.error("E351", "`pairs` needs a field given an input function", s.span,
                hint="declare one such as `field u(x) given u0`")
        return
    if s.solver is None:
        ours = set(given_inputs) | set(st.given)
        for k in s.mapping:
            if k not in ours:
                d.error("E351", f"`{k}` is neither an input function nor a field given one", s.span,
                        hint=did_you_mean(k, ours) or f"name these: {', '.join(sorted(ours))}")
        missing = [n for n in given_inputs + list(st.given) if n not in s.mapping]
        if missing:
            d.error("E351", f"`pairs` does not say which array holds `{missing[0]}`", s.span,
                    hint=f"add `{missing[0]} = ARRAY` inside the parentheses")
        st.pairs = {"path": s.path, "mapping": dict(s.mapping), "span": s.path_span}
        return
    call = s.solver
    spec = SOLVERS.get(call.func)
    if spec is None:
        d.error("E101", f"unknown reference solver `{call.func}`", call.func_span,
                hint=did_you_mean(call.func, SOLVERS) or f"solvers: {', '.join(sorted(SOLVERS))}; or read a file")
        return
    opts = dict(spec.options)
    for k in call.kwargs:
        if k.name not in spec.options:
            d.error("E130", f"`{call.func}` has no option `{k.name}`", k.span,
                    hint=did_you_mean(k.name, spec.options) or f"its options: {', '.join(sorted(spec.options))}")
            continue
        v = st.ce(k.value, f"`{k.name}`")
        if v is not None:
            if not v > 0:
                d.error("E209", f"`{k.name}` must be positive", k.value.span)
            elif k.name == "fine" and not _fine_ok(st, spec, v):
                d.error("E352", f"`fine = {v:g}` is not a grid the solver can restrict to this one", k.value.span,
                        hint="a multiple of the grid's points (periodic), or with fine − 1 a multiple of "
                             "points − 1 (nodes): 1024 for 256, 421 for 85")
            opts[k.name] = v
    if call.args:
        d.error("E131", f"`{call.func}` takes named options only", call.args[0].span)
    if len(given_inputs) != 1 or len(st.given) != 1:
        d.error("E352", f"`{call.func}` maps one input function to one field", call.func_span,
                hint=f"give one field one input: `field u(...) given {given_inputs[0] if given_inputs else 'a'}`")
        return
    fn = st.inputs.get(given_inputs[0])
    if fn is not None and (len(fn.coords) != spec.dims or fn.kind != spec.source):
        want = {"grf": "a periodic `grf(...)`", "threshold": "`threshold(grf(...), high = H, low = L)`",
                "rbf": "`grf(covariance = rbf(length = L))`"}[spec.source]
        d.error("E352", f"`{call.func}` solves for an input of {spec.dims} coordinate(s) drawn from {want}",
                call.func_span, hint=f"declare `input {fn.name}(...)` accordingly")
        return
    st.pairs = {"solver": call.func, "options": opts, "span": call.func_span}
