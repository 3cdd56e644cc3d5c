"""Input feature maps: random Fourier features (`fourier`), Gaussian radial features
(`gaussian_features`), both with fixed (never trained) random arrays, and exact
periodic embeddings (`periodic`)."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax

from pdeforge.dsl.diagnostics import error

from .registry import Kind, register


def _fourier_build(b, e, env, arch):
    b.args(e, 3, 3, "a layer, a number of features and a scale: `fourier(inputs, 64, 1.0)`")
    h = b.layer(e.args[0], env, arch, "fourier")
    m = b.width(e.args[1], env, arch)
    sigma = b.scalar(e.args[2], env)
    return b.add("fourier", 2 * m, [h], e.span, fan_in=h.width, features=m, sigma=sigma)


def _fourier_apply(a, p, args):
    z = args[0] @ lax.stop_gradient(p["B"])
    return jnp.concatenate([jnp.cos(z), jnp.sin(z)], axis=-1)


register(Kind("fourier", _fourier_apply, fixed=lambda a: {"B": (a["fan_in"], a["features"])},
              init=lambda key, a, dtype: {"B": a["sigma"] * jax.random.normal(key, (a["fan_in"], a["features"]), dtype)},
              describe=lambda a: f"{a['fan_in']} -> {a['features']} cos + sin, sigma {a['sigma']:g} (fixed)",
              surface="fourier", build=_fourier_build))


def _gaussian_build(b, e, env, arch):
    b.args(e, 3, 3, "a layer, a number of centres and a width: `gaussian_features(inputs, 64, 0.2)`")
    h = b.layer(e.args[0], env, arch, "gaussian_features")
    m = b.width(e.args[1], env, arch)
    sigma = b.scalar(e.args[2], env)
    if sigma <= 0:
        raise error("E229", "the Gaussian width must be positive", e.args[2].span)
    return b.add("gaussian", m, [h], e.span, fan_in=h.width, sigma=sigma)


def _gaussian_apply(a, p, args):
    C = lax.stop_gradient(p["C"])
    d2 = jnp.sum((args[0][..., None, :] - C) ** 2, axis=-1)
    return jnp.exp(-d2 / (2.0 * a["sigma"] ** 2))


register(Kind("gaussian", _gaussian_apply, fixed=lambda a: {"C": (a["width"], a["fan_in"])},
              # centres in the scaled input box [-1, 1]^d
              init=lambda key, a, dtype: {"C": jax.random.uniform(key, (a["width"], a["fan_in"]), dtype, -1.0, 1.0)},
              describe=lambda a: f"{a['fan_in']} -> {a['width']} centres, sigma {a['sigma']:g} (fixed)",
              surface="gaussian_features", build=_gaussian_build))


def _periodic_build(b, e, env, arch):
    b.args(e, 3, 3, "a layer, a period and a number of harmonics: `periodic(x, 2, 4)`")
    h = b.layer(e.args[0], env, arch, "periodic")
    period = b.scalar(e.args[1], env)
    if period <= 0:
        raise error("E229", "the period must be positive", e.args[1].span)
    k = b.width(e.args[2], env, arch)
    return b.add("periodic", 2 * k * h.width, [h], e.span, period=period, harmonics=k)


def _periodic_apply(a, p, args):
    k = jnp.arange(1, a["harmonics"] + 1, dtype=args[0].dtype)
    z = (2.0 * math.pi / a["period"]) * args[0][..., :, None] * k          # (..., d, k)
    z = jnp.concatenate([jnp.cos(z), jnp.sin(z)], axis=-1)
    return z.reshape(z.shape[:-2] + (-1,))


register(Kind("periodic", _periodic_apply, describe=lambda a: f"period {a['period']:g}, {a['harmonics']} harmonics",
              surface="periodic", build=_periodic_build))
