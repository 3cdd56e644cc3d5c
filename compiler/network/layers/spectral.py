"""Grid kinds, for neural operators on a regular grid: the spectral convolution of the
Fourier neural operator (`spectral`, Li, Kovachki, Azizzadenesheli, Liu, Bhattacharya,
Stuart & Anandkumar 2021, "Fourier neural operator for parametric partial differential
equations", ICLR), and the zero padding FNO puts around its Fourier layers on
non-periodic domains (`pad`, `crop`); and `check_grid`, which checks a graph's grid
kinds against the grid a model runs on, once that grid is known.

The network sees x shaped (..., s, c) on a 1-D grid of s points or (..., s1, s2, c) on a
2-D grid: features last, as every kind; the grid axes are the `dims` axes before them;
what comes first is batch. All three kinds have `grid=True`: a point's value depends on
the whole grid, so the pointwise Taylor engine cannot differentiate through them.

How many grid axes a node mixes is one rule for all three kinds: the option `dims`
(1 or 2, default 1); `spectral` also takes it from `modes` (a tuple of two numbers
means dims = 2; a number with `dims = 2` is used on both axes). Read against the code of
Li et al. (zongyi-li/fourier_neural_operator, fourier_1d.py and fourier_2d.py,
`SpectralConv1d`/`SpectralConv2d`: weights `scale * rand(in, out, modes…, 2)` with
scale = 1/(in·out), real and imaginary parts uniform on [0, 1); in 2-D one weight block
for rows 0..m1-1 and one for the last m1 rows; Darcy padded at the high end of each axis
and cropped after the Fourier layers). Nothing is copied from it."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import networkx as nx
from jax import lax

from pdeforge.dsl.diagnostics import error

from .registry import KINDS, Kind, register

__all__ = ["check_grid"]

MAX_MODES = 10_000


def _dims(b, e, env, given=None):
    """The `dims` option of call `e`: 1 or 2 (E242 otherwise); `given` when absent."""
    d = e.kwarg("dims")
    if d is None:
        return given or 1
    v = b.scalar(d, env)
    if v not in (1.0, 2.0):
        raise error("E242", "`dims` (how many grid axes the layer mixes) must be 1 or 2", d.span)
    return int(v)


# ---- spectral ---------------------------------------------------------------------------
def _spectral_build(b, e, env, arch):
    b.args(e, 3, 3, "a layer, a width and the modes kept: `spectral(h, 64, 16)`, or `spectral(h, 32, (12, 12))` "
           "on a 2-D grid", ("dims",))
    h = b.layer(e.args[0], env, arch, "spectral")
    w = b.width(e.args[1], env, arch)
    m = b.value(e.args[2], env, arch)
    span = e.args[2].span
    if isinstance(m, float):
        m = (m,)
    if not isinstance(m, tuple) or not m or any(not isinstance(v, float) for v in m):
        raise error("E240", "`modes` must be a whole number, or a tuple of two on a 2-D grid", span)
    if len(m) > 2:
        raise error("E240", f"`modes` has {len(m)} entries; the spectral layer mixes along 1 or 2 grid axes", span,
                    hint="`modes = 16` on a 1-D grid, `modes = (12, 12)` on a 2-D grid")
    dims = _dims(b, e, env, len(m))
    if len(m) == 1:
        m = m * dims
    if len(m) != dims:
        raise error("E240", f"`modes` has {len(m)} entries but the layer mixes along {dims} grid axis(es) (`dims`)",
                    span, hint=f"one number per grid axis, or one number for all: `modes = {m[0]:g}`")
    if any(v != int(v) or not 1 <= v <= MAX_MODES for v in m):
        raise error("E240", f"the number of Fourier modes kept must be a whole number from 1 to {MAX_MODES:,}", span)
    return b.add("spectral", w, [h], e.span, fan_in=h.width, modes=tuple(int(v) for v in m), dims=dims)


def _spectral_shapes(a):
    """Two arrays, the real and imaginary parts Wr, Wi: (kept rows…, c, width). In 2-D the
    first axis holds the m1 lowest and the m1 highest (negative-frequency) rows of the
    first grid axis, so both of Li et al.'s weight blocks are one array and one
    contraction. (One (…, 2) array of both parts, sliced in apply, cost 1.4 % more bytes
    accessed per training step: bench/fno.py.)"""
    m = a["modes"]
    rows = (m[0],) if a["dims"] == 1 else (2 * m[0], m[1])
    shape = rows + (a["fan_in"], a["width"])
    return {"Wr": shape, "Wi": shape}


def _spectral_init(key, a, dtype):
    shape = _spectral_shapes(a)["Wr"]
    scale = 1.0 / (a["fan_in"] * a["width"])        # Li et al.: scale * U[0, 1) for Re and Im
    kr, ki = jax.random.split(key)
    return {"Wr": scale * jax.random.uniform(kr, shape, dtype), "Wi": scale * jax.random.uniform(ki, shape, dtype)}


def _spectral_apply(a, p, args):
    x = args[0]
    Wc = lax.complex(p["Wr"], p["Wi"])
    if a["dims"] == 1:
        (m,) = a["modes"]
        s = x.shape[-2]
        xf = jnp.fft.rfft(x, axis=-2)[..., :m, :]
        yf = jnp.einsum("...kc,kcw->...kw", xf, Wc)
        return jnp.fft.irfft(yf, n=s, axis=-2)      # the modes above m come back as zeros
    m1, m2 = a["modes"]
    s1, s2 = x.shape[-3], x.shape[-2]
    xf = jnp.fft.rfftn(x, axes=(-3, -2))
    xf = jnp.concatenate([xf[..., :m1, :m2, :], xf[..., s1 - m1:, :m2, :]], axis=-3)
    yf = jnp.einsum("...ijc,ijcw->...ijw", xf, Wc)
    gap = jnp.zeros(yf.shape[:-3] + (s1 - 2 * m1,) + yf.shape[-2:], yf.dtype)
    yf = jnp.concatenate([yf[..., :m1, :, :], gap, yf[..., m1:, :, :]], axis=-3)
    return jnp.fft.irfftn(yf, s=(s1, s2), axes=(-3, -2))    # pads the second axis's modes with zeros


def _spectral_describe(a):
    m = a["modes"]
    kept = f"{m[0]} modes, 1-D grid" if a["dims"] == 1 else f"{m[0]}x{m[1]} modes (rows ±{m[0]}), 2-D grid"
    return f"{a['fan_in']} -> {a['width']}, {kept}"


register(Kind("spectral", _spectral_apply, _spectral_shapes, init=_spectral_init, describe=_spectral_describe,
              surface="spectral", build=_spectral_build, grid=True))


# ---- pad and crop -----------------------------------------------------------------------
def _count(b, e, env, f):
    v = b.scalar(e.args[1], env)
    if v != int(v) or not 0 <= v <= MAX_MODES:
        raise error("E242", f"`{f}` needs a whole number of grid points from 0 to {MAX_MODES:,}", e.args[1].span)
    return int(v)


def _pad_crop_build(op):
    def build(b, e, env, arch):
        b.args(e, 2, 2, f"a layer and a number of grid points: `{op}(h, 8)`, `{op}(h, 8, dims = 2)`", ("dims",))
        h = b.layer(e.args[0], env, arch, op)
        n, dims = _count(b, e, env, op), _dims(b, e, env)
        if n == 0:               # nothing to add or drop: no node (fno(padding = 0) has none)
            return h
        return b.add(op, h.width, [h], e.span, n=n, dims=dims)
    return build


def _pad_apply(a, p, args):
    x = args[0]
    widths = [(0, 0)] * x.ndim
    for ax in range(-1 - a["dims"], -1):
        widths[ax] = (0, a["n"])
    return jnp.pad(x, widths)


def _crop_apply(a, p, args):
    x, n = args[0], a["n"]
    if a["dims"] == 1:
        return x[..., :x.shape[-2] - n, :]
    return x[..., :x.shape[-3] - n, :x.shape[-2] - n, :]


register(Kind("pad", _pad_apply, describe=lambda a: f"{a['n']} zeros at the end of each of {a['dims']} grid axis(es)",
              surface="pad", build=_pad_crop_build("pad"), grid=True))
register(Kind("crop", _crop_apply, describe=lambda a: f"drops the last {a['n']} points of {a['dims']} grid axis(es)",
              surface="crop", build=_pad_crop_build("crop"), grid=True))


# ---- the grid a model runs on -----------------------------------------------------------
def check_grid(graph, grid_shape):
    """Check the grid kinds of layer graph `graph` against the grid its input lives on,
    `grid_shape` = (s,) or (s1, s2) points. Follows the grid's size through the graph
    (`pad` adds points, `crop` drops them) and raises, at the layer's call:

      E241  a `spectral` node keeps more modes than its grid holds: on the last grid
            axis m <= s//2 + 1 (the rfft's bins), on the first axis of a 2-D grid
            2·m1 <= s1 (the m1 lowest and m1 highest rows must not overlap)
      E243  a grid node mixes along a number of grid axes other than the grid's, or a
            `crop` drops every point
      E244  a layer combines values on grids of different sizes, or the network's
            output is on a grid other than its input's (a `pad` with no `crop`)

    Returns None when everything fits."""
    grid = tuple(int(v) for v in grid_shape)
    shapes = {}
    for n in nx.topological_sort(graph):
        a = graph.nodes[n]
        if n == graph.graph["input"]:
            shapes[n] = grid
            continue
        ins = {shapes[i] for i in a["args"] if shapes[i] is not None}
        if len(ins) > 1:
            raise error("E244", "this combines layers on grids of different sizes ("
                        + " and ".join("x".join(map(str, s)) for s in sorted(ins)) + " points)", a["span"],
                        hint="`crop` what was padded before combining it with an unpadded layer")
        g = ins.pop() if ins else None
        k = KINDS[a["op"]]
        if k.grid and g is not None:
            if a["dims"] != len(g):
                raise error("E243", f"`{a['op']}` mixes along {a['dims']} grid axis(es), but the model's grid has "
                            f"{len(g)} ({'x'.join(map(str, g))} points)", a["span"], hint=f"`dims = {len(g)}`")
            if a["op"] == "pad":
                g = tuple(v + a["n"] for v in g)
            elif a["op"] == "crop":
                if min(g) <= a["n"]:
                    raise error("E243", f"`crop` drops {a['n']} of the {min(g)} points of a grid axis: none would be left",
                                a["span"])
                g = tuple(v - a["n"] for v in g)
            elif a["op"] == "spectral":
                _fits(a, g)
        shapes[n] = g
    out = shapes[graph.graph["output"]]
    if out is not None and out != grid:
        a = graph.nodes[graph.graph["output"]]
        src = graph.nodes[a["args"][0]] if a["args"] else a
        raise error("E244", f"the network's output is on a grid of {'x'.join(map(str, out))} points, its input on "
                    f"{'x'.join(map(str, grid))}", src["span"], hint="`crop(h, n)` what `pad(h, n)` added")
    return None


def _fits(a, g):
    m = a["modes"]
    last = g[-1] // 2 + 1
    if m[-1] > last:
        raise error("E241", f"the spectral layer keeps {m[-1]} modes along a grid axis of {g[-1]} points, which has "
                    f"only {last} (s//2 + 1)", a["span"], hint=f"at most `{last}` modes, or a finer grid")
    if len(g) == 2 and 2 * m[0] > g[0]:
        raise error("E241", f"the spectral layer keeps the {m[0]} lowest and {m[0]} highest rows of a grid axis of "
                    f"{g[0]} points, which has only {g[0]}", a["span"], hint=f"at most `{g[0] // 2}` modes on that axis")
