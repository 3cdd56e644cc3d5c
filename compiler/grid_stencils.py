"""The grid operator programs run on, and derivatives along one of its axes, for the
residuals of compiler/grid_residual.py (PINO).

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

Pure jax.numpy: jit-able with the grid static, differentiable in the arrays."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax.numpy as jnp
from jax import lax
import numpy as np


__all__ = ["axis_points", "GridSpec", "LAYOUTS", "ENDS", "derivative", "flux_derivative", "interior_mask", "stencils",
           "fd_weights"]

LAYOUTS = ("periodic", "nodes")
ENDS = ("matched", "gradient")     # end rows of the nodes stencils (`stencils`)


def axis_points(lo, hi, s, layout) -> np.ndarray:
    """s points from lo to hi: `periodic` x_j = lo + (hi − lo) j/s (the right end is the
    left one), `nodes` both ends included. The one definition of an operator's grid."""
    t = np.arange(s) / s if layout == "periodic" else np.linspace(0.0, 1.0, s)
    return lo + (hi - lo) * t


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
        """The 1-D coordinates of axis i (float64): `axis_points` of its bounds and layout."""
        return axis_points(self.lo[i], self.hi[i], self.sizes[i], self.layouts[i])

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
