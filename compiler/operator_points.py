"""Operator programs whose network maps one point at a time (a DeepONet, or any pointwise
architecture), lowered on sampled points: physics-informed DeepONets (Wang, Wang &
Perdikaris 2021, "Learning the solution operator of parametric partial differential
equations with physics-informed DeepONets").

An input function is known by its M sensor values: the input sampled at the grid's
nodes. At a point, the network sees [normalised sensors, coordinates scaled to [−1, 1]]:
a `deeponet`'s branch takes the first M columns (its `branch` is set to M here), its
trunk the coordinates. Residuals are the problem's own (compiler/ir.py, lowered by
compiler/lower.py) for one input at a time, vmapped over the batch's inputs: the sensors
are a constant of the points' derivative pass, so the branch costs no Taylor towers and
is evaluated once per input, not once per point. An input's value at a point between
nodes is the piecewise-linear (multilinear) interpolant of its sensor values; the
reference solvers (pdeforge/datasets) solve for that same interpolant.

Each step draws, for every input function of the batch, `points REGION` fresh points of
every region (uniform in the box, with jax.random, so inside the jitted step); held-out
inputs are compared on the grid's nodes. Not here yet (E353): shaped domains,
derivatives of an input, inputs in `hard` conditions, several models."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import PdeError, error

from . import network
from .ir import build_ir
from .lower import Lowered, _attribute
from .grid_stencils import axis_points
from .operator import Normaliser

__all__ = ["PointOperatorLowered", "POINT_COUNTS", "is_pointwise"]

# points per input function and region in one step (the paper: Q = 100 residual points and
# P = 100 per boundary or initial face for each input function)
POINT_COUNTS = {"interior": 100, "boundary": 100, "initial": 100, "periodic": 100}
EVAL_ROWS = 2 ** 14       # rows of one held-out prediction chunk (memory: rows × network width)


def is_pointwise(checked) -> bool:
    """Whether the operator's model maps one point at a time (no grid layer): then it is
    lowered on sampled points here, else on the grid (compiler/operator.py)."""
    if len(checked.models) != 1:
        return False
    m = checked.models[0]
    inputs = {g for gs in checked.given.values() for g in gs}
    M = sum(int(np.prod([checked.grid.get(c, 1) for c in checked.inputs[n].coords])) for n in inputs
            if n in checked.inputs)
    call = replace(m.call, kwargs=[k for k in m.call.kwargs if k.name != "branch"])    # the width is checked later
    try:
        g = network.build_graph(checked.architectures[m.arch], _with_branch(checked, replace(m, call=call), M),
                                M + len(checked.coords), 1, archs=checked.architectures,
                                file=checked.program.file, consts=checked.consts)
    except (PdeError, KeyError):
        return False        # the grid lowering reports what is wrong with the model
    return not any(network.KINDS[a["op"]].grid for _, a in g.nodes(data=True))


def _with_branch(checked, m, width):
    """The model's call with `branch = width` when its architecture has a `branch` input
    (a DeepONet: the sensors); a different `branch` in the file is an error."""
    arch = checked.architectures[m.arch]
    if "branch" not in {p.name for p in getattr(arch, "params", [])}:
        return m.call
    given = m.call.kwarg("branch")
    if given is not None:
        v = given.value if isinstance(given, A.Num) else None
        if v != width:
            raise error("E354", f"the branch sees the {width} sensor values of the inputs, not `branch = "
                        f"{getattr(given, 'text', '?')}`", given.span, hint="leave `branch` out: the grid sets it")
        return m.call
    return replace(m.call, kwargs=m.call.kwargs + [A.Kwarg("branch", A.Num(None, float(width), str(width)), None)])


class PointOperatorLowered(Lowered):
    """Pure functions of a point-sampled operator program: `init(key)`, `loss(params, a,
    u, norm, key)`, `apply(params, a, norm)` → the fields on the grid's nodes."""

    layout = "nodes"
    # no fitted output scale (physics_scale): for the antiderivative its fit lands at the
    # bottom of the range (a network scaled by 1e-6 does not learn), and for
    # diffusion-reaction the fitted 0.32 ended at 2.80e-2 held-out against 2.06e-2
    # unscaled (the example, 10000 steps); Wang, Wang & Perdikaris scale nothing either
    fit_scale = False

    def __init__(self, checked, dtype=jnp.float32):
        if checked.pairs is None:
            raise error("E353", "an operator program needs paired data", None, hint="add `pairs from ...`")
        if len(checked.models) != 1 or {t for t, _ in checked.models[0].targets} != set(checked.fields):
            raise error("E353", "an operator program has one model for all its fields",
                        checked.models[0].span if checked.models else None)
        if checked.geometry is not None:
            raise error("E353", "an operator on a shaped domain is not built yet", checked.program.span,
                        hint="use a box domain")
        self.checked = checked
        self.fields = list(checked.fields)
        self.inputs = list(dict.fromkeys(g for f in self.fields for g in checked.given.get(f, [])))
        for f in self.fields:
            if checked.given.get(f) != self.inputs:
                raise error("E353", f"every field of an operator program is given the same inputs; `{f}` is not",
                            checked.fields[f].span)
        fns = [checked.inputs[n] for n in self.inputs]
        if len({fn.coords for fn in fns}) != 1:
            raise error("E353", "the inputs of a point-sampled operator share their coordinates", fns[-1].span)
        self.in_coords = list(fns[0].coords)
        self.in_shape = tuple(checked.grid[c] for c in self.in_coords)
        self.M = int(np.prod(self.in_shape)) * len(self.inputs)
        # the input in hand (`_bound`) and the normaliser; fixed defaults outside a batch
        self._sensors = jnp.zeros(self.M, dtype)
        self._norm = Normaliser(np.zeros(len(self.inputs)), np.ones(len(self.inputs)), np.zeros(1), np.ones(1))
        self._hard_inputs(checked)
        ir = build_ir(checked)
        for m in ir.models:
            m.call = _with_branch(checked, m, self.M)
        self.in_syms = {n: sp.Symbol(f"_input_{n}", real=True) for n in self.inputs}
        self._bind_inputs(ir)
        try:
            super().__init__(ir, dtype)
        except PdeError as e:
            _attribute(e, checked.architectures[ir.models[0].arch], ir.models[0], checked.program)
            raise
        self.model = checked.models[0]
        for m in ir.models:     # whether the fused pass may map one point: decided on the default sensors,
            self._rowwise(m)    # not inside the batch's vmap (a check that jits cannot see its values)
        self.out_coords = [c for c in self.coords if c in set(checked.fields[self.fields[0]].args)]
        self.shape = tuple(checked.grid[c] for c in self.out_coords)
        self.points = np.stack(np.meshgrid(*[axis_points(*self._span(c), checked.grid[c], "nodes")
                                             for c in self.out_coords], indexing="ij"), -1)
        self.terms = [(t.name, t.kind, None) for t in ir.terms]
        w = checked.train["weights"]
        self.weights = {"pairs": float(w.get("pairs", 1.0)), **{n: float(w.get(n, 1.0)) for n, _, _ in self.terms}}
        self.counts = {**POINT_COUNTS, **checked.train["points"]}
        # points per region and input: set by the front door (runtime/sampling.py's
        # region_counts shares `boundary` over the faces; the compiler does not import it)
        self.region_n = {k: self.counts["interior"] for k in self.ir.regions}

    def _span(self, c):
        i = self.coords.index(c)
        return float(self.lo[i]), float(self.hi[i])

    def _hard_inputs(self, checked):
        for cond, _ in checked.conditions:
            if cond.hard is not None and _names(cond.rhs) & set(self.inputs):
                raise error("E353", "a `hard` condition with an input function's values is not built yet", cond.span,
                            hint="write it without `hard`: it becomes a loss term")

    def _bind_inputs(self, ir):
        """Input functions in the residuals become symbols bound per row (`_extra_env`)."""
        S = ir.symbols
        apps = {S.input[n]: self.in_syms[n] for n in self.inputs}
        for t in ir.terms:
            for _, r in t.parts:
                for d in r.atoms(sp.Derivative):
                    if d.expr in apps:
                        raise error("E353", f"a derivative of the input `{d.expr.func.__name__}` is not built yet "
                                    "(inputs are known at their sensors only)", t.span)
            t.parts = [(k, r.xreplace(apps)) for k, r in t.parts]

    # ---- the hooks of compiler/lower.py: one input's sensors into the network and residuals
    @contextmanager
    def _bound(self, sensors):
        """Within: the model and the residuals are those of the input whose sensor values
        are `sensors` (M,), a value of the vmap over the batch's inputs."""
        before, self._sensors = self._sensors, sensors
        try:
            yield
        finally:
            self._sensors = before

    def _input_width(self, m):
        return super()._input_width(m) + self.M

    def _net_in(self, X, Z):
        n, k = self._norm, self.M // len(self.inputs)
        z = (self._sensors - jnp.repeat(jnp.asarray(n.a_mean, Z.dtype), k)) / jnp.repeat(jnp.asarray(n.a_std, Z.dtype), k)
        return (z.astype(Z.dtype), Z)     # parts of the input: the sensors stay one row (network/lowering.py)

    def _net_out(self, Y):
        n = self._norm
        return Y * jnp.asarray(n.u_std, Y.dtype) + jnp.asarray(n.u_mean, Y.dtype)

    def _extra_env(self, X):
        k = int(np.prod(self.in_shape))
        cols = [self.coords.index(c) for c in self.in_coords]
        return {self.in_syms[n]: _interp(self._sensors[j * k:(j + 1) * k], X[:, cols], self.lo[cols], self.hi[cols],
                                         self.in_shape)
                for j, n in enumerate(self.inputs)}

    def _rows_of(self, a):
        """(B, *in_grid, n_inputs) → (B, M) sensor values, input by input."""
        return jnp.moveaxis(a, -1, 1).reshape(a.shape[0], -1)

    # ---- the interface of compiler/operator.py's OperatorLowered
    def sample(self, key, B):
        """{region: (B, n, D) points}: `points REGION` uniform points per input function."""
        out = {}
        for j, (k, n) in enumerate(sorted(self.region_n.items())):
            r = self.ir.regions[k]
            u = jax.random.uniform(jax.random.fold_in(key, j), (B, n, self.D), self.dtype)
            X = jnp.asarray(self.lo, self.dtype) + jnp.asarray(self.hi - self.lo, self.dtype) * u
            if r.kind != "interior":
                X = X.at[..., self.coords.index(r.coord)].set(r.value)
            out[k] = X
        return out

    def loss_terms(self, params, a, u, norm: Normaliser, key=None) -> dict:
        """{term: value}: each equation's and condition's mean square residual at fresh
        points for every input of the batch `a` (B, *in_grid, n_inputs), and with `u` (B,
        *grid, n_fields), "pairs": Σ(pred − u)² / Σu² at `points interior` random nodes.
        The batch's inputs are a vmap: each input's branch is evaluated once for all its
        points (they share its sensors), not once per point."""
        self._norm = norm
        key = jax.random.PRNGKey(0) if key is None else key
        rows = self._rows_of(a)
        B = rows.shape[0]
        k_lap = jax.random.fold_in(key, 7919)

        def one(r, pts):
            with self._bound(r):
                return self.residuals(params, {**pts, "key": k_lap})
        res = jax.vmap(one)(rows, self.sample(key, B))
        out = {k: jnp.mean(v ** 2) for k, v in res.items()}
        if u is not None:
            n = self.counts["interior"]
            flat = u.reshape(B, -1, u.shape[-1])
            idx = jax.random.randint(jax.random.fold_in(key, 104729), (B, n), 0, flat.shape[1])
            X = jnp.asarray(self.points.reshape(-1, len(self.out_coords)), self.dtype)[idx]
            y = jax.vmap(lambda x, r: self._predict(params, x, r))(self._full(X), rows)
            t = jnp.take_along_axis(flat, idx[..., None], 1)
            out["pairs"] = jnp.mean(jnp.sum((y - t) ** 2, (1, 2)) / jnp.maximum(jnp.sum(t ** 2, (1, 2)), 1e-30))
        return out

    def loss(self, params, a, u, norm: Normaliser, key=None):
        terms = self.loss_terms(params, a, u, norm, key)
        return sum(self.weights[k] * v for k, v in terms.items()), terms

    def _full(self, X):
        """(…, d_out) points of the fields' coordinates → (…, D), other coordinates at lo."""
        full = jnp.broadcast_to(jnp.asarray(self.lo, self.dtype), X.shape[:-1] + (self.D,))
        return full.at[..., [self.coords.index(c) for c in self.out_coords]].set(X)

    def _predict(self, params, X, sensors):
        """(n, D) points of one input with these sensor values → (n, n_fields)."""
        with self._bound(sensors):
            return self.model_fn(params, self.ir.models[0])(X)

    def apply(self, params, a, norm: Normaliser, features=None):
        """a: (B, *in_grid, n_inputs) → (B, *grid, n_fields) on the grid's nodes (`features`:
        other points (*shape, d_out) of the fields' coordinates). One input at a time,
        in chunks of EVAL_ROWS points (memory stays bounded on large output grids)."""
        self._norm = norm
        P = self.points if features is None else features
        shape = P.shape[:-1]
        X = self._full(jnp.asarray(P, self.dtype).reshape(-1, P.shape[-1]))
        rows = self._rows_of(jnp.asarray(a, self.dtype))
        c = min(X.shape[0], EVAL_ROWS)
        pad = (-X.shape[0]) % c
        Xc = jnp.concatenate([X, jnp.broadcast_to(X[:1], (pad, self.D))]).reshape(-1, c, self.D)

        def one(r):
            y = jax.lax.map(lambda x: self._predict(params, x, r), Xc)
            return y.reshape(-1, y.shape[-1])[:X.shape[0]]
        y = jax.lax.map(one, rows)
        return y.reshape((rows.shape[0],) + tuple(shape) + (y.shape[-1],))

    def features_for(self, shape):
        """The fields' nodes on a grid of `shape` over the same domain."""
        return np.stack(np.meshgrid(*[axis_points(*self._span(c), s, "nodes")
                                      for c, s in zip(self.out_coords, shape)], indexing="ij"), -1)


def _names(e) -> set:
    """The names an AST expression mentions."""
    if isinstance(e, A.Name):
        return {e.id}
    out = set()
    for v in getattr(e, "__dict__", {}).values():
        for x in (v if isinstance(v, list) else [v]):
            if isinstance(x, A.Kwarg):
                x = x.value
            if isinstance(x, A.Expr):
                out |= _names(x)
    return out


def _interp(vals, X, lo, hi, shape):
    """Multilinear interpolation of one input's node values `vals` (prod(shape),) on the
    nodes of the box [lo, hi] at the points X (N, k): the piecewise-linear input between
    its sensors (hand-written: jnp.interp is one-dimensional)."""
    k = len(shape)
    t = (X - jnp.asarray(lo, X.dtype)) / jnp.asarray(hi - lo, X.dtype) * jnp.asarray(np.array(shape) - 1, X.dtype)
    i0 = jnp.clip(jnp.floor(t), 0, jnp.asarray(np.array(shape) - 2, X.dtype)).astype(jnp.int32)
    w = t - i0
    strides = np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1]
    out = 0.0
    for corner in range(2 ** k):
        bits = [(corner >> a) & 1 for a in range(k)]
        flat = sum((i0[:, a] + bits[a]) * int(strides[a]) for a in range(k))
        wt = 1.0
        for a in range(k):
            wt = wt * (w[:, a] if bits[a] else 1.0 - w[:, a])
        out = out + wt * jnp.take(vals, flat)
    return out
