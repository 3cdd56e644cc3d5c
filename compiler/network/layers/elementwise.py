"""Elementwise kinds: activations (`act`, one per name in `ACTIVATIONS`), the arithmetic
the builder makes from `+ - * / ^` (`add`, `sub`, `mul`, `div` between layers; `scale`,
`shift`, `power` with a number) and `fused`, the node the fusion pass makes from a chain
of them. None has arrays; all but `fused` may be fused."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .registry import KINDS, Kind, register

__all__ = ["ACTIVATIONS"]


def _softplus(x):
    # log(1 + e^x) in a stable form built from primitives that Taylor-mode (jet) knows;
    # jax.nn.softplus is a custom_jvp, which jet cannot carry
    return jnp.log1p(jnp.exp(-jnp.abs(x))) + jnp.maximum(x, jnp.zeros_like(x))


ACTIVATIONS = {
    "tanh": jnp.tanh, "sin": jnp.sin, "cos": jnp.cos, "exp": jnp.exp, "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu, "gelu": jax.nn.gelu, "swish": jax.nn.swish, "silu": jax.nn.silu,
    "softplus": _softplus, "identity": lambda x: x, "abs": jnp.abs, "sqrt": jnp.sqrt,
    "log": jnp.log, "sinh": jnp.sinh, "cosh": jnp.cosh,
}


def _power(a, p, args):
    e = a["exponent"]
    return lax.integer_pow(args[0], int(e)) if e == int(e) else args[0] ** e


register(Kind("act", lambda a, p, args: ACTIVATIONS[a["fn"]](args[0]), describe=lambda a: a["fn"], elementwise=True))
register(Kind("add", lambda a, p, args: args[0] + args[1], elementwise=True))
register(Kind("sub", lambda a, p, args: args[0] - args[1], elementwise=True))
register(Kind("mul", lambda a, p, args: args[0] * args[1], elementwise=True))
register(Kind("div", lambda a, p, args: args[0] / args[1], elementwise=True))
register(Kind("scale", lambda a, p, args: args[0] * a["factor"], describe=lambda a: f"× {a['factor']:g}", elementwise=True))
register(Kind("shift", lambda a, p, args: args[0] + a["offset"], describe=lambda a: f"+ {a['offset']:g}", elementwise=True))
register(Kind("power", _power, describe=lambda a: f"^ {a['exponent']:g}", elementwise=True))


def _fused(a, p, args):
    # a["steps"]: (op, attrs, refs) in order; a ref is ("in", i), the node's i-th input,
    # or ("t", j), the j-th step's result
    t = []
    for op, sa, refs in a["steps"]:
        t.append(KINDS[op].apply(sa, None, [args[i] if k == "in" else t[i] for k, i in refs]))
    return t[-1]


register(Kind("fused", _fused, describe=lambda a: " ∘ ".join(a["ops"])))
