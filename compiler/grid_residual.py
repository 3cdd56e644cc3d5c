"""A PDE's residual evaluated on grid values, for physics-informed operator training (PINO,
Li et al. 2021/2024, "Physics-informed neural operator for learning partial differential
equations"): the equation of the .pde file is walked over its AST and every derivative is
taken on the grid the operator predicts, so the mean square of `residual(...)` is a loss.

Derivatives along one grid axis, chosen by that axis's layout (`GridSpec.layout`):

- `periodic` (x_j = lo + (hi - lo) j/s): spectral, the k-th derivative as one multiplication
  of the rfft by (i 2πm/L)^k (not the first derivative k times: one rounding, not k). For odd
  k on an even grid the Nyquist mode is zeroed: its derivative is not a real grid function
  (its sine part is invisible on the grid), as in Trefethen, "Spectral Methods in MATLAB",
  ch. 3. Exact to rounding for band-limited data; spectrally accurate for smooth data.
- `nodes` (both ends included): second-order finite differences, one stencil per order k
  (`stencils`): centred inside (k = 1: (u₊ − u₋)/2h; k = 2: (u₋ − 2u + u₊)/h²), one-sided
  on the k//2 or (k+1)//2 outer nodes. Not the first derivative applied k times: that is a
  wider stencil whose O(h²) error, with another constant at the ends than inside, is
  differenced again: O(h) next to the boundary for k = 2 and 3, and no convergence there
  for k = 4 (measured on exp(sin(2x + 0.3)): end error 20.8, 22.4, 23.2 at 41, 81, 161 nodes). The end rows are
  `matched` by default: one point more than needed (k + 3) buys an end stencil whose h²
  error term equals the centred one, so the error is one smooth function over the grid,
  O(h³) apart. That matters for derivatives of derivatives' products, `div(a * grad(u))`:
  with numpy.gradient(edge_order=2)'s ends (`ends="gradient"`, and the 4-point
  (2u₀ − 5u₁ + 4u₂ − u₃)/h² for k = 2) its error is O(h) on the boundary nodes and on the
  first layer inside (the second difference of an error that jumps at the ends); matched,
  it is O(h²) everywhere (tests/test_grid_residual.py measures both). Derivatives along
  different axes commute exactly and are applied one axis after another.

Nested derivative calls of one operand are merged before differentiating (`dx(dx(u))` is
`d(u, x, 2)`, `div(grad(u))` is `lap(u)`, as the language defines them), so they get the
one-stencil form. The flux form `d(p * d(w, x), x)` (and `div(p * grad(w))`) on `nodes`
axes takes the compact conservative stencil `flux_derivative` (face fluxes with the
harmonic mean of p: the scheme of the Darcy reference solver, so its solutions have zero
residual). With `GridSpec(flux="wide")` it differentiates the product's grid values with
the stencils above instead, as PINO's Darcy loss does (FDM_Darcy in the authors'
physics_informed repository, DarcyEqnLoss in neuraloperator: a · (central ∇u), then
central differences again): at every jump of a two-valued `a` that leaves an O(1)
residual on the exact solution, growing as h^-1/2. Either way the flux a·∇u is
differenced, never the jumps of `a` by the product rule.

Pure jax.numpy: jit-able with the expression and the grid static, differentiable in the
arrays. The DSL's meaning of each call is dsl/check/expressions.py's; math functions come
from dsl/vocabulary.py FUNCTIONS (their `jnp` names)."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax.numpy as jnp
from jax import lax
import numpy as np

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error
from pdeforge.dsl.vocabulary import CONSTANTS, FUNCTIONS

__all__ = ["GridSpec", "evaluate", "residual", "interior_mask", "derivative", "stencils", "fd_weights", "flux_derivative"]

LAYOUTS = ("periodic", "nodes")
ENDS = ("matched", "gradient")     # end rows of the nodes stencils (`stencils`)


@dataclass(frozen=True)
class GridSpec:
    """A tensor grid: one axis per name of `coords`, in axis order, from `lo` to `hi` with
    `sizes` points. `layout` is one of LAYOUTS for every axis, or a tuple of one per axis (a
    space-time grid: periodic in x, nodes in t). `spatial` names the axes `lap`, `grad` and
    `div` act on (default: every axis). `ends`: the end rows of the nodes stencils, `matched`
    (default) or `gradient` (numpy.gradient's; module docstring, `stencils`). Hashable: a
    jit static argument."""
    coords: tuple
    lo: tuple
    hi: tuple
    sizes: tuple
    layout: str | tuple = "nodes"
    spatial: tuple | None = None
    ends: str = "matched"
    flux: str = "compact"       # `d(p * d(w, x), x)`, `div(p * grad(w))` on nodes: `flux_derivative`, or "wide"

    def __post_init__(self):
        for name, conv in (("coords", str), ("lo", float), ("hi", float), ("sizes", int)):
            object.__setattr__(self, name, tuple(conv(v) for v in getattr(self, name)))   # lists in: still hashable
        if not isinstance(self.layout, str):
            object.__setattr__(self, "layout", tuple(self.layout))
        if self.spatial is not None:
            object.__setattr__(self, "spatial", tuple(self.spatial))
        n = len(self.coords)
        if not (len(self.lo) == len(self.hi) == len(self.sizes) == len(self.layouts) == n and len(set(self.coords)) == n):
            raise ValueError(f"GridSpec: coords, lo, hi, sizes (and a layout tuple) need one entry per axis, coords "
                             f"distinct (got {self})")
        for c, s, lay in zip(self.coords, self.sizes, self.layouts):
            if lay not in LAYOUTS:
                raise ValueError(f"GridSpec: layout of `{c}` must be one of {LAYOUTS} (got {lay!r})")
            if s < (4 if lay == "nodes" else 2):
                raise ValueError(f"GridSpec: `{c}` needs at least {4 if lay == 'nodes' else 2} points (got {s})")
        if self.flux not in ("compact", "wide"):
            raise ValueError(f"GridSpec: flux must be compact or wide (got {self.flux!r})")
        if self.ends not in ENDS:
            raise ValueError(f"GridSpec: ends must be one of {ENDS} (got {self.ends!r})")
        if self.spatial is not None and not set(self.spatial) <= set(self.coords):
            raise ValueError(f"GridSpec: spatial {self.spatial} must be among the coords {self.coords}")

    @property
    def layouts(self) -> tuple:
        return (self.layout,) * len(self.coords) if isinstance(self.layout, str) else tuple(self.layout)

    @property
    def space(self) -> tuple:
        return tuple(self.coords) if self.spatial is None else tuple(self.spatial)

    @property
    def h(self) -> tuple:
        """Spacing per axis: (hi − lo)/s periodic, (hi − lo)/(s − 1) nodes."""
        return tuple((b - a) / (s if lay == "periodic" else s - 1)
                     for a, b, s, lay in zip(self.lo, self.hi, self.sizes, self.layouts))

    def axis_points(self, i) -> np.ndarray:
        """The 1-D coordinates of axis i (float64), as compiler/operator.py `grid_points` lays them out."""
        a, b, s = self.lo[i], self.hi[i], self.sizes[i]
        t = np.arange(s) / s if self.layouts[i] == "periodic" else np.linspace(0.0, 1.0, s)
        return a + (b - a) * t

    @staticmethod
    def of(checked, layout: str):
        """The grid of a checked operator program (its `grid` coordinates, in domain order)."""
        cs = [c for c in checked.spatial if c.name in checked.grid]
        return GridSpec(tuple(c.name for c in cs), tuple(float(c.lo) for c in cs), tuple(float(c.hi) for c in cs),
                        tuple(int(checked.grid[c.name]) for c in cs), layout)


# ---- derivatives along one axis --------------------------------------------------------------------------------
def _spectral(u, n, L, k):
    m = jnp.fft.rfft(u, axis=-1)
    w = 2 * np.pi * np.fft.rfftfreq(n, d=L / n)
    mult = (1j * w) ** k
    if k % 2 == 1 and n % 2 == 0:
        mult[-1] = 0.0
    return jnp.fft.irfft(m * jnp.asarray(mult, m.dtype), n=n, axis=-1)


def fd_weights(offsets, k, error=0.0):
    """Weights w with Σ w_j f(x + s_j h) = h^k f^(k)(x) + error·h^(k+2) f^(k+2)(x) + O(h^len)
    for the offsets s_j: the Taylor conditions Σ w_j s_j^m / m! = δ_mk (+ error at m = k + 2)
    for m < len(offsets), solved in float64 (Fornberg 1988 gets the error-free weights by a
    recursion; our stencils have at most 11 points, where the solve is exact to ~1e-12)."""
    s = np.asarray(offsets, float)
    m = np.arange(len(s))
    V = s[None, :] ** m[:, None] / np.array([math.factorial(int(i)) for i in m])[:, None]
    return np.linalg.solve(V, (m == k) + error * (m == k + 2))


@functools.lru_cache(maxsize=None)
def stencils(k: int, ends: str = "matched"):
    """(centred weights on −r..r, [end rows: weights on nodes 0..w−1 for node i < r]) of the
    k-th derivative on nodes. Centred: k + 1 points (k even) or k + 2 (k odd), O(h²) with
    error C·h² f^(k+2). Ends `gradient`: k + 2 one-sided points, O(h²) with another constant
    (k = 1: numpy.gradient(edge_order=2); k = 2: (2u₀ − 5u₁ + 4u₂ − u₃)/h²). Ends `matched`:
    k + 3 points whose h² error is the centred one, C·h² f^(k+2), so that the error of the
    derivative is one smooth function over the whole grid, O(h³) apart: a derivative of it
    (div(a * grad(u)), dx(u^2)) stays O(h²) up to the boundary instead of O(h) there."""
    r = k // 2 if k % 2 == 0 else (k + 1) // 2
    wc = fd_weights(np.arange(-r, r + 1), k)
    C = float(np.sum(wc * np.arange(-r, r + 1.0) ** (k + 2)) / math.factorial(k + 2))
    w, err = (k + 2, 0.0) if ends == "gradient" else (k + 3, C)
    rows = [fd_weights(np.arange(w) - i, k, err) for i in range(r)]
    return tuple(float(c) for c in wc), tuple(tuple(float(c) for c in row) for row in rows)


def _fd(u, h, k, ends):
    """k-th derivative along the last axis (nodes), O(h²) at every node (`stencils`)."""
    n = u.shape[-1]
    wc, rows = stencils(k, ends)
    r, w = len(rows), len(rows[0])
    if n < w:
        raise ValueError(f"a derivative of order {k} on nodes needs at least {w} points (got {n})")
    inner = sum(c * u[..., j:n - 2 * r + j] for j, c in enumerate(wc) if abs(c) > 1e-12)
    # the last nodes mirror the first: offsets negated, so odd derivatives change sign
    sign = -1.0 if k % 2 else 1.0
    left = [sum(c * u[..., j] for j, c in enumerate(row)) for row in rows]
    right = [sign * sum(c * u[..., n - 1 - j] for j, c in enumerate(row)) for row in reversed(rows)]
    return jnp.concatenate([jnp.stack(left, -1), inner, jnp.stack(right, -1)], axis=-1) / h ** k


def derivative(u, grid: GridSpec, i: int, k: int = 1):
    """∂^k u / ∂(coords[i])^k of grid values u (..., *sizes), by the axis's layout (module docstring)."""
    nd = len(grid.sizes)
    u = jnp.asarray(u)
    u = jnp.broadcast_to(u, jnp.broadcast_shapes(u.shape, tuple(grid.sizes)))
    if k == 0:
        return u
    ax = u.ndim - nd + i
    v = jnp.moveaxis(u, ax, -1)
    if grid.layouts[i] == "periodic":
        v = _spectral(v, grid.sizes[i], grid.hi[i] - grid.lo[i], k)
    else:
        v = _fd(v, grid.h[i], k, grid.ends)
    return jnp.moveaxis(v, -1, ax)


def flux_derivative(p, w, grid: GridSpec, i: int):
    """∂_i (p ∂_i w) on a `nodes` axis, compact and conservative: face fluxes
    p_{j+½} (w_{j+1} − w_j)/h, with p_{j+½} the harmonic mean of p_j and p_{j+1} (the
    arithmetic mean where they differ in sign), differenced back to the nodes. This is the
    5-point scheme of pdeforge/datasets/darcy.py (and the usual finite-volume choice for a
    coefficient that jumps): on its solution the Darcy residual vanishes to rounding,
    where the wide stencil of `derivative` applied to p·∂w leaves O(1) residuals at every
    jump of p (RMS 0.5-0.7 at s = 29, growing as h^-1/2). Second-order for smooth p. The
    end nodes repeat their neighbours' values: the stencil needs both sides, and residuals
    are read on the interior (`interior_mask`)."""
    w = jnp.asarray(w)
    p = jnp.broadcast_to(jnp.asarray(p, w.dtype), jnp.broadcast_shapes(jnp.shape(p), w.shape))
    w = jnp.broadcast_to(w, p.shape)
    ax = w.ndim + i - len(grid.sizes)
    h = grid.h[i]

    def lo(x):                                 # all but the last along the axis
        return lax.slice_in_dim(x, 0, x.shape[ax] - 1, axis=ax)

    def hi(x):                                 # all but the first
        return lax.slice_in_dim(x, 1, x.shape[ax], axis=ax)
    pl, pr = lo(p), hi(p)
    same = pl * pr > 0
    face = jnp.where(same, 2 * pl * pr / jnp.where(same, pl + pr, 1.0), (pl + pr) / 2)
    flux = face * (hi(w) - lo(w)) / h
    inner = (hi(flux) - lo(flux)) / h
    first, last = lax.slice_in_dim(inner, 0, 1, axis=ax), lax.slice_in_dim(inner, inner.shape[ax] - 1, inner.shape[ax], axis=ax)
    return jnp.concatenate([first, inner, last], axis=ax)


def interior_mask(grid: GridSpec) -> np.ndarray:
    """Boolean (*sizes): False on the first and last node of every `nodes` axis (one-sided
    stencils there are less accurate, and boundary values are the conditions' business);
    periodic axes have no boundary."""
    m = np.ones(tuple(grid.sizes), bool)
    for i, lay in enumerate(grid.layouts):
        if lay == "nodes":
            idx = [slice(None)] * len(grid.sizes)
            idx[i] = [0, grid.sizes[i] - 1]
            m[tuple(idx)] = False
    return m


# ---- the expression walk ------------------------------------------------------------------------------------------
def _unsupported(e, what, hint=None):
    return error("E353", f"{what} is not built yet for equations evaluated on an operator's grid", e.span, hint=hint)


class _Eval:
    def __init__(self, env, grid, consts):
        self.env, self.grid, self.consts = env, grid, dict(consts or {})
        arrays = [jnp.asarray(v) for v in env.values()]
        floats = [a.dtype for a in arrays if jnp.issubdtype(a.dtype, jnp.floating)]
        self.dtype = jnp.result_type(*floats) if floats else jnp.result_type(float)
        self.batch = max([a.shape[0] for a in arrays if a.ndim > len(grid.sizes)], default=1)
        self._coords = {}

    def coord(self, i):
        if i not in self._coords:
            g = self.grid
            shape = [1] * len(g.sizes)
            shape[i] = g.sizes[i]
            self._coords[i] = jnp.asarray(g.axis_points(i).reshape(shape), self.dtype)
        return self._coords[i]

    def axis(self, name_node):
        if not isinstance(name_node, A.Name) or name_node.id not in self.grid.coords:
            name = name_node.id if isinstance(name_node, A.Name) else "this"
            raise _unsupported(name_node, f"a derivative by `{name}`, which is not a coordinate of the grid",
                               hint=f"the grid's coordinates: {', '.join(self.grid.coords)}")
        return self.grid.coords.index(name_node.id)

    def orders(self, e):
        """Peel nested derivative calls off one operand: (operand, {axis: order})."""
        acc = {}
        while isinstance(e, A.Call) and not e.kwargs:
            if e.func == "d" and len(e.args) >= 2:
                rest = e.args[1:]
                if len(rest) == 2 and isinstance(rest[1], A.Num):
                    n = rest[1].value
                    if n != int(n) or not 1 <= n <= 8:
                        raise _unsupported(rest[1], f"a derivative of order {rest[1].text}")
                    rest = [rest[0]] * int(n)
                for a in rest:
                    i = self.axis(a)
                    acc[i] = acc.get(i, 0) + 1
            elif e.func[:1] == "d" and e.func[1:] in self.grid.coords and len(e.args) == 1:
                i = self.grid.coords.index(e.func[1:])
                acc[i] = acc.get(i, 0) + 1
            else:
                break
            e = e.args[0]
        return e, acc

    def scalar(self, e):
        v = self.ev(e)
        if isinstance(v, tuple):
            raise _unsupported(e, "a vector here (a vector may only be added, scaled or taken `div` of)")
        return v

    def ev(self, e):
        if isinstance(e, A.Num):
            return e.value
        if isinstance(e, A.Name):
            n = e.id
            if n in self.grid.coords:
                return self.coord(self.grid.coords.index(n))
            if n in self.env:
                return jnp.asarray(self.env[n])
            if n in self.consts:
                return self.consts[n]
            if n in CONSTANTS:
                return CONSTANTS[n]
            raise _unsupported(e, f"`{n}` (not a grid coordinate, a field, an input function or a constant)")
        if isinstance(e, A.Neg):
            v = self.ev(e.operand)
            return tuple(-c for c in v) if isinstance(v, tuple) else -v
        if isinstance(e, A.BinOp):
            return self.binop(e)
        if isinstance(e, A.Tuple):
            return tuple(self.scalar(a) for a in e.items)
        if isinstance(e, A.Call):
            return self.call(e)
        raise _unsupported(e, f"a `{type(e).__name__}` expression")

    def binop(self, e):
        a, b = self.ev(e.left), self.ev(e.right)
        op = e.op
        if op == "^":
            if isinstance(a, tuple) or isinstance(b, tuple):
                raise _unsupported(e, "a power of a vector")
            if isinstance(e.right, A.Num) and e.right.value == int(e.right.value) and abs(e.right.value) <= 64:
                return a ** int(e.right.value)
            return jnp.power(a, b)
        f = {"+": lambda p, q: p + q, "-": lambda p, q: p - q, "*": lambda p, q: p * q, "/": lambda p, q: p / q}.get(op)
        if f is None:
            raise _unsupported(e, f"the operator `{op}`")
        va, vb = isinstance(a, tuple), isinstance(b, tuple)
        if va and vb:
            if op not in "+-" or len(a) != len(b):
                raise _unsupported(e, f"`{op}` of two vectors")
            return tuple(f(p, q) for p, q in zip(a, b))
        if va or vb:
            if op in "+-" or (vb and op == "/"):
                raise _unsupported(e, f"`{op}` of a vector and a scalar")
            return tuple(f(p, b) for p in a) if va else tuple(f(a, q) for q in b)
        return f(a, b)

    def call(self, e):
        f, g = e.func, self.grid
        space = [g.coords.index(c) for c in g.space]
        if f in FUNCTIONS and len(e.args) == 1 and not e.kwargs:
            return getattr(jnp, FUNCTIONS[f].jnp)(self.scalar(e.args[0]))
        if f == "d" or (f[:1] == "d" and f[1:] in g.coords):
            inner, acc = self.orders(e)
            if inner is e:
                raise _unsupported(e, f"this form of `{f}`", hint="write `d(u, x)`, `d(u, x, 2)`, `d(u, x, y)` or `dx(u)`")
            flux = self.flux_form(inner, acc)
            if flux is not None:
                return flux
            v = self.scalar(inner)
            for i in sorted(acc):
                v = derivative(v, g, i, acc[i])
            return v
        if f == "lap" and len(e.args) == 1 and all(k.name == "estimate" for k in e.kwargs):
            return self.lap(e.args[0])
        if f == "grad" and len(e.args) == 1 and not e.kwargs:
            v = self.scalar(e.args[0])
            return tuple(derivative(v, g, i, 1) for i in space)
        if f == "div" and not e.kwargs and e.args:
            a = e.args
            if len(a) == 1 and isinstance(a[0], A.Call) and a[0].func == "grad" and len(a[0].args) == 1 and not a[0].kwargs:
                return self.lap(a[0].args[0])
            if len(a) == 1 and isinstance(a[0], A.BinOp) and a[0].op == "*":
                parts = [self._grad_factor(a[0].left, a[0].right), self._grad_factor(a[0].right, a[0].left)]
                coef, w = next((q for q in parts if q is not None), (None, None))
                if w is not None and g.flux == "compact" and all(g.layouts[i] == "nodes" for i in space):
                    p, wv = self.scalar(coef), self.scalar(w)
                    return sum(flux_derivative(p, wv, g, i) for i in space)
            comps = self.ev(a[0]) if len(a) == 1 else tuple(self.scalar(c) for c in a)
            if not isinstance(comps, tuple) or len(comps) != len(space):
                raise _unsupported(e, f"`div` of other than {len(space)} components (one per spatial coordinate)")
            return sum(derivative(c, g, i, 1) for c, i in zip(comps, space))
        raise _unsupported(e, f"the call `{f}(...)`" + (" (a boundary operator)" if f in ("dn", "periodic") else ""),
                           hint="on a grid: math functions, d, dX, lap, grad inside div, div")

    def flux_form(self, inner, acc):
        """`d(P * d(w, x), x)` on a nodes axis (the flux form of a coefficient times a
        gradient, Darcy's): the compact conservative stencil `flux_derivative`, else None."""
        if self.grid.flux != "compact" or len(acc) != 1 or not (isinstance(inner, A.BinOp) and inner.op == "*"):
            return None
        (i, k), = acc.items()
        if k != 1 or self.grid.layouts[i] != "nodes":
            return None
        for coef, other in ((inner.left, inner.right), (inner.right, inner.left)):
            w, acc2 = self.orders(other)
            if w is not other and acc2 == {i: 1}:
                return flux_derivative(self.scalar(coef), self.scalar(w), self.grid, i)
        return None

    @staticmethod
    def _grad_factor(coef, other):
        """(coef, w) when `other` is `grad(w)`, else None."""
        if isinstance(other, A.Call) and other.func == "grad" and len(other.args) == 1 and not other.kwargs:
            return coef, other.args[0]
        return None

    def lap(self, arg):
        v = self.scalar(arg)
        return sum(derivative(v, self.grid, self.grid.coords.index(c), 2) for c in self.grid.space)

    def full(self, v):
        shape = (self.batch,) + tuple(self.grid.sizes)
        if isinstance(v, tuple):
            return tuple(self.full(c) for c in v)
        return jnp.broadcast_to(jnp.asarray(v, self.dtype), shape)


def evaluate(expr, env, grid: GridSpec, consts=None):
    """The value of an AST expression on the grid: an array (B, *sizes), or a tuple of them
    for a vector (`grad(u)`, a scalar times it, a sum of vectors). `env` maps field and input
    names to arrays (B, *sizes) (or (*sizes)); the grid's coordinates are supplied here;
    `consts` maps constant names to numbers (pi and e are known). B is the largest batch in
    `env` (1 when it has none). Unknown names and calls raise PdeError E353 at their span."""
    ev = _Eval(env, grid, consts)
    return ev.full(ev.ev(expr))


def residual(eq, env, grid: GridSpec, consts=None):
    """evaluate(lhs) − evaluate(rhs) of an `A.Equation` (a tuple for a vector equation)."""
    ev = _Eval(env, grid, consts)
    lhs, rhs = ev.ev(eq.lhs), ev.ev(eq.rhs)
    if isinstance(lhs, tuple) != isinstance(rhs, tuple):
        raise _unsupported(eq, "an equation between a vector and a scalar")
    if isinstance(lhs, tuple):
        return ev.full(tuple(p - q for p, q in zip(lhs, rhs)))
    return ev.full(lhs - rhs)
