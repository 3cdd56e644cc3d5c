"""Kinds with trained weight matrices: `dense` (with its initialisers, random weight
factorisation and sign constraints), `grouped_dense` (independent dense maps side by
side: the branch nets of a stacked DeepONet), the Lipschitz layers of Wang & Manchester 2023
(`sandwich_dense`, `lipschitz_dense`) and Kolmogorov–Arnold layers (`kan_layer`)."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error

from ..graph import Fn
from .elementwise import ACTIVATIONS
from .registry import Kind, register

__all__ = ["INITS", "cayley", "bspline_basis"]

# `dense(h, n, init = NAME)` or `init = siren(w0)`; weights are (fan_in, fan_out)
INITS = ("glorot", "he", "lecun", "zeros", "siren_first", "siren")


# ---- dense ------------------------------------------------------------------------
def _parse_init(b, e, env):
    if e is None:
        return "glorot", None
    if isinstance(e, A.Name) and e.id in INITS and e.id != "siren":
        return e.id, None
    if isinstance(e, A.Call) and e.func == "siren" and len(e.args) == 1 and not e.kwargs:
        w0 = b.scalar(e.args[0], env)
        if not w0 > 0:
            raise error("E228", "SIREN's w0 must be positive", e.args[0].span)
        return "siren", w0
    raise error("E228", "unknown initialiser", e.span,
                hint="use glorot, he, lecun, zeros, siren_first or siren(w0)")


def _dense_build(b, e, env, arch):
    b.args(e, 2, 2, "a layer and a width: `dense(h, 32)`", ("init", "rwf", "rwf_std", "sign", "bias"))
    h = b.layer(e.args[0], env, arch, "dense")
    w = b.width(e.args[1], env, arch)
    init, omega = _parse_init(b, e.kwarg("init"), env)
    attrs = dict(fan_in=h.width, init=init, omega=omega)
    rwf = e.kwarg("rwf")
    if rwf is not None:   # random weight factorisation W = V diag(exp(s)), s ~ N(mean, std)
        attrs.update(rwf=b.scalar(rwf, env), rwf_std=b.opt(e, "rwf_std", env, 0.1))
    if e.kwarg("sign") is not None:   # sign-constrained rows: +1 → |W|, -1 → -|W|, 0 → W
        s = b.value(e.kwarg("sign"), env, arch)
        s = (s,) * h.width if isinstance(s, float) else s
        if not isinstance(s, tuple) or len(s) != h.width or any(v not in (-1.0, 0.0, 1.0) for v in s):
            raise error("E227", f"`sign` must be -1, 0 or 1, or a tuple of {h.width} of them (one per input)",
                        e.kwarg("sign").span)
        attrs["sign"] = tuple(s)
    if e.kwarg("bias") is not None:
        attrs["bias"] = bool(b.scalar(e.kwarg("bias"), env))
    return b.add("dense", w, [h], e.span, **attrs)


def _dense_shapes(a):
    fi, fo = a["fan_in"], a["width"]
    shapes = {"V": (fi, fo), "s": (fo,)} if "rwf" in a else {"W": (fi, fo)}
    if a.get("bias", True):
        shapes["b"] = (fo,)
    return shapes


def _weights(key, a, fi, fo, dtype):
    init = a.get("init", "glorot")
    if init == "zeros":
        return jnp.zeros((fi, fo), dtype)
    if init == "siren_first":     # Sitzmann et al. 2020: U(-1/n, 1/n) for the first layer
        return jax.random.uniform(key, (fi, fo), dtype, -1.0 / fi, 1.0 / fi)
    if init == "siren":           # U(-sqrt(6/n)/w0, sqrt(6/n)/w0) for the layers after it
        r = math.sqrt(6.0 / fi) / a["omega"]
        return jax.random.uniform(key, (fi, fo), dtype, -r, r)
    std = {"he": math.sqrt(2.0 / fi), "lecun": math.sqrt(1.0 / fi)}.get(init, math.sqrt(2.0 / (fi + fo)))
    return std * jax.random.normal(key, (fi, fo), dtype)


def _dense_init(key, a, dtype):
    fi, fo = a["fan_in"], a["width"]
    k1, k2 = jax.random.split(key)
    W = _weights(k1, a, fi, fo, dtype)
    p = {}
    if "rwf" in a:   # Wang et al. 2022, "Random weight factorization …"
        s = a["rwf"] + a["rwf_std"] * jax.random.normal(k2, (fo,), dtype)
        p.update(V=W / jnp.exp(s), s=s)
    else:
        p["W"] = W
    if a.get("bias", True):
        p["b"] = jnp.zeros((fo,), dtype)
    return p


def _dense_apply(a, p, args):
    W = p["V"] * jnp.exp(p["s"]) if "s" in p else p["W"]
    if "sign" in a:
        s = jnp.asarray(a["sign"], W.dtype)[:, None]
        W = jnp.where(s == 0, W, s * jnp.abs(W))
    y = args[0] @ W
    return y + p["b"] if "b" in p else y


def _dense_describe(a):
    bits = [f"{a['fan_in']} -> {a['width']}", a.get("init", "glorot")]
    if "rwf" in a:
        bits.append(f"rwf N({a['rwf']:g}, {a['rwf_std']:g})")
    if "sign" in a:
        bits.append("sign " + ",".join(f"{s:+.0f}" for s in a["sign"]))
    return ", ".join(bits)


register(Kind("dense", _dense_apply, _dense_shapes, init=_dense_init, describe=_dense_describe,
              surface="dense", build=_dense_build))


# ---- grouped_dense: G independent dense maps side by side (a block-diagonal weight) -----
def _grouped_build(b, e, env, arch):
    b.args(e, 2, 2, "a layer, a width per group and `groups`: `grouped_dense(h, 32, groups = 8)`", ("groups",))
    h = b.layer(e.args[0], env, arch, "grouped_dense")
    w = b.width(e.args[1], env, arch)
    if e.kwarg("groups") is None:
        raise error("E218", "`grouped_dense` needs its number of groups: `groups = G`", e.span)
    g = b.width(e.kwarg("groups"), env, arch)
    if h.width % g:
        raise error("E218", f"width {h.width} does not split into {g} equal groups", e.span)
    return b.add("grouped_dense", g * w, [h], e.span, groups=g, fan_in=h.width // g, per=w)


def _grouped_shapes(a):
    return {"W": (a["groups"], a["fan_in"], a["per"]), "b": (a["groups"], a["per"])}


def _grouped_init(key, a, dtype):   # Glorot normal per group, as `dense`
    g, fi, fo = a["groups"], a["fan_in"], a["per"]
    return {"W": math.sqrt(2.0 / (fi + fo)) * jax.random.normal(key, (g, fi, fo), dtype),
            "b": jnp.zeros((g, fo), dtype)}


def _grouped_apply(a, p, args):     # (..., G·k) -> (..., G·w): group j's k columns to its w columns
    h = args[0]
    x = h.reshape(h.shape[:-1] + (a["groups"], a["fan_in"]))
    y = jnp.einsum("...gk,gkw->...gw", x, p["W"]) + p["b"]
    return y.reshape(h.shape[:-1] + (a["groups"] * a["per"],))


register(Kind("grouped_dense", _grouped_apply, _grouped_shapes, init=_grouped_init,
              describe=lambda a: f"{a['groups']} groups of {a['fan_in']} -> {a['per']}", surface="grouped_dense",
              build=_grouped_build))


# ---- Lipschitz layers (Wang & Manchester 2023, sandwich and linear layers) -------------
def cayley(W):
    """Cayley transform of a tall (p+q, q) matrix to one with orthonormal columns
    (Trockman & Kolter 2021, as used by Wang & Manchester 2023)."""
    q = W.shape[1]
    U, V = W[:q], W[q:]
    I = jnp.eye(q, dtype=W.dtype)
    Am = U - U.T + V.T @ V
    M = jnp.linalg.inv(I + Am)
    return jnp.concatenate([M @ (I - Am), -2.0 * V @ M], axis=0)


def _sandwich_build(b, e, env, arch):
    b.args(e, 2, 2, "a layer and a width: `sandwich_dense(h, 64, scale = 1, activation = relu)`", ("scale", "activation"))
    h = b.layer(e.args[0], env, arch, "sandwich_dense")
    w = b.width(e.args[1], env, arch)
    act = e.kwarg("activation")
    fn = b.argument(act, env, arch) if act is not None else Fn("relu")
    if not isinstance(fn, Fn) or fn.name not in ("relu", "tanh", "sigmoid", "softplus", "identity"):
        raise error("E228", "a sandwich layer needs an activation with slope in [0, 1]", act.span if act else e.span,
                    hint="relu, tanh, sigmoid or softplus")
    return b.add("sandwich", w, [h], e.span, fan_in=h.width, scale=b.opt(e, "scale", env, 1.0), fn=fn.name)


def _lipschitz_build(b, e, env, arch):
    b.args(e, 2, 2, "a layer and a width: `lipschitz_dense(h, 1, scale = 1)`", ("scale",))
    h = b.layer(e.args[0], env, arch, "lipschitz_dense")
    w = b.width(e.args[1], env, arch)
    return b.add("lipschitz", w, [h], e.span, fan_in=h.width, scale=b.opt(e, "scale", env, 1.0))


def _lipschitz_init(key, a, dtype):
    fi, fo = a["fan_in"], a["width"]
    W = math.sqrt(2.0 / (fi + 2 * fo)) * jax.random.normal(key, (fi + fo, fo), dtype)
    return {"W": W, "alpha": jnp.linalg.norm(W), "b": jnp.zeros((fo,), dtype)}


def _sandwich_init(key, a, dtype):
    return {**_lipschitz_init(key, a, dtype), "psi": jnp.zeros((a["width"],), dtype)}


def _orthogonal_part(a, p, x):
    """Q from the Cayley transform, and B x with B the bottom block (Q[fo:])."""
    Q = cayley(p["alpha"] * p["W"] / jnp.linalg.norm(p["W"]))
    return Q, (a["scale"] * x) @ Q[a["width"]:]


def _lipschitz_apply(a, p, args):
    _, x = _orthogonal_part(a, p, args[0])
    return x + p["b"]


def _sandwich_apply(a, p, args):
    Q, x = _orthogonal_part(a, p, args[0])
    x = math.sqrt(2.0) * x * jnp.exp(-p["psi"]) + p["b"]
    x = ACTIVATIONS[a["fn"]](x) * jnp.exp(p["psi"])
    return math.sqrt(2.0) * x @ Q[:a["width"]].T


register(Kind("sandwich", _sandwich_apply,
              lambda a: {"W": (a["fan_in"] + a["width"], a["width"]), "alpha": (), "psi": (a["width"],), "b": (a["width"],)},
              init=_sandwich_init, describe=lambda a: f"{a['fan_in']} -> {a['width']}, scale {a['scale']:g}, {a['fn']}",
              surface="sandwich_dense", build=_sandwich_build))
register(Kind("lipschitz", _lipschitz_apply,
              lambda a: {"W": (a["fan_in"] + a["width"], a["width"]), "alpha": (), "b": (a["width"],)},
              init=_lipschitz_init, describe=lambda a: f"{a['fan_in']} -> {a['width']}, scale {a['scale']:g}",
              surface="lipschitz_dense", build=_lipschitz_build))


# ---- KAN (Liu et al. 2024) ---------------------------------------------------------------
def bspline_basis(x, grid: int, order: int):
    """B-spline basis of `order` on `grid` equal intervals of [-1, 1], extended by `order`
    knots each side (Cox–de Boor): (..., d) -> (..., d, grid + order)."""
    h = 2.0 / grid
    t = jnp.asarray([-1.0 + h * i for i in range(-order, grid + order + 1)], x.dtype)
    x = x[..., None]
    B = ((x >= t[:-1]) & (x < t[1:])).astype(x.dtype)
    for k in range(1, order + 1):
        B = ((x - t[:-(k + 1)]) / (t[k:-1] - t[:-(k + 1)]) * B[..., :-1]
             + (t[k + 1:] - x) / (t[k + 1:] - t[1:-k]) * B[..., 1:])
    return B


def _kan_build(b, e, env, arch):
    b.args(e, 2, 2, "a layer and a width: `kan_layer(h, 16, grid = 5, order = 3)`", ("grid", "order"))
    h = b.layer(e.args[0], env, arch, "kan_layer")
    w = b.width(e.args[1], env, arch)
    grid, order = b.opt(e, "grid", env, 5.0), b.opt(e, "order", env, 3.0)
    if grid != int(grid) or not 1 <= grid <= 1000 or order != int(order) or not 0 <= order <= 10:
        raise error("E229", "`grid` must be a whole number from 1 to 1000 and `order` one from 0 to 10", e.span)
    return b.add("kan", w, [h], e.span, fan_in=h.width, grid=int(grid), order=int(order))


def _kan_init(key, a, dtype):      # as efficient-kan: a base branch and small spline coefficients
    fi, fo = a["fan_in"], a["width"]
    k1, k2 = jax.random.split(key)
    return {"W": math.sqrt(2.0 / (fi + fo)) * jax.random.normal(k1, (fi, fo), dtype),
            "C": (0.1 / math.sqrt(fi)) * jax.random.normal(k2, (fi, a["grid"] + a["order"], fo), dtype)}


def _kan_apply(a, p, args):        # y_j = Σ_i w_ij silu(x_i) + Σ_i spline_ij(x_i)
    B = bspline_basis(args[0], a["grid"], a["order"])
    return jax.nn.silu(args[0]) @ p["W"] + jnp.einsum("...ik,iko->...o", B, p["C"])


register(Kind("kan", _kan_apply,
              lambda a: {"W": (a["fan_in"], a["width"]), "C": (a["fan_in"], a["grid"] + a["order"], a["width"])},
              init=_kan_init, describe=lambda a: f"{a['fan_in']} -> {a['width']}, {a['grid']} intervals, order {a['order']}",
              surface="kan_layer", build=_kan_build))
