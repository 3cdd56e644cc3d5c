"""The fused Taylor pass: `taylor_point` traces a function at one point and re-interprets
its jaxpr, dispatching every equation to the rule for its primitive (rules.py); calls
(pjit, custom_jvp, …) are interpreted recursively. A primitive it does not know raises
`Unsupported`, and the caller falls back to the generic route."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from . import folding
from .folding import _const
from .rules import _T, _add, _joint_linear, _linear, _mul, _scale, _unary

__all__ = ["Unsupported", "taylor_point"]


class Unsupported(Exception):
    """The fused pass cannot handle a primitive; the caller falls back."""


_LINEAR_STRUCT = {"reshape", "broadcast_in_dim", "transpose", "squeeze", "expand_dims", "slice", "rev",
                  "convert_element_type", "reduce_sum", "copy", "copy_p", "reduce_precision", "cumsum",
                  "real", "imag"}
_ELEMENTWISE = {"tanh", "sin", "cos", "tan", "exp", "exp2", "log", "log1p", "expm1", "logistic", "integer_pow",
                "sqrt", "rsqrt", "cbrt", "pow", "abs", "sinh", "cosh", "asinh", "acosh", "atanh", "atan", "asin",
                "acos", "erf", "erfc", "erf_inv", "square", "max", "min", "sign", "floor", "ceil", "round",
                "stop_gradient"}


def _read(env, x):
    if type(x).__name__ == "Literal":
        return x.val
    return env[x]


def _eval_jaxpr(jaxpr, consts, args):
    env = {}
    for var, val in zip(jaxpr.constvars, consts):
        env[var] = val
    for var, val in zip(jaxpr.invars, args):
        env[var] = val
    for eqn in jaxpr.eqns:
        ins = [_read(env, x) for x in eqn.invars]
        outs = _eqn(eqn, ins)
        for var, val in zip(eqn.outvars, outs):
            env[var] = val
    return [_read(env, x) for x in jaxpr.outvars]


def _primal(x):
    return x.v if isinstance(x, _T) else x


def _eqn(eqn, ins):
    prim, params = eqn.primitive, eqn.params
    tracked = [i for i, x in enumerate(ins) if isinstance(x, _T)]
    prims = [_primal(x) for x in ins]
    name = prim.name
    if name in ("pjit", "jit", "closed_call", "core_call", "remat", "checkpoint", "custom_jvp_call", "custom_vjp_call",
                "custom_vjp_call_jaxpr"):
        sub = params.get("jaxpr") or params.get("call_jaxpr") or params.get("fun_jaxpr")
        if sub is None:
            raise Unsupported(name)
        if not tracked:
            return prim.bind(*prims, **params) if prim.multiple_results else [prim.bind(*prims, **params)]
        closed = sub if hasattr(sub, "jaxpr") else None
        if closed is not None:
            return _eval_jaxpr(closed.jaxpr, closed.consts, ins[: len(closed.jaxpr.invars)] if name.startswith("custom") else ins)
        return _eval_jaxpr(sub, [], ins)
    if not tracked:
        if folding.FOLD and _const(*prims):      # masks and seeds stay constants (see _now)
            with jax.ensure_compile_time_eval():
                out = prim.bind(*prims, **params)
        else:
            out = prim.bind(*prims, **params)
        return out if prim.multiple_results else [out]
    if prim.multiple_results:
        raise Unsupported(name)
    v_out = prim.bind(*prims, **params)
    const = _const(*(p for i, p in enumerate(prims) if i not in tracked))
    if name in ("add", "add_any", "sub"):
        if len(tracked) == 1:
            t = ins[tracked[0]]
            if name == "sub" and tracked[0] == 1:
                return [_linear(lambda x: -x, t, v_out, True)]
            return [_T(v_out, t.tow, t.lap)]
        a, b = ins
        sgn = -1 if name == "sub" else 1
        tow = [[_add(x, _scale(y, sgn) if sgn < 0 else y) for x, y in zip(ca, cb)] for ca, cb in zip(a.tow, b.tow)]
        lap = [(_add(Ja, _scale(Jb, sgn) if sgn < 0 else Jb), _add(La, _scale(Lb, sgn) if sgn < 0 else Lb))
               for (Ja, La), (Jb, Lb) in zip(a.lap, b.lap)]
        return [_T(v_out, tow, lap)]
    if name == "neg":
        return [_linear(lambda x: -x, ins[0], v_out, True)]
    if name == "mul":
        if len(tracked) == 2:
            return [_mul(ins[0], ins[1], v_out)]
        c = prims[1 - tracked[0]]
        return [_linear(lambda x: x * c, ins[tracked[0]], v_out, const)]
    if name == "div":
        if tracked == [0]:
            c = prims[1]
            return [_linear(lambda x: x / c, ins[0], v_out, const)]
        # a / b = a · (1/b)
        rec = _unary(lax.integer_pow_p, [prims[1]], 0, {"y": -1}, ins[1], 1 / prims[1])
        if tracked == [1]:
            c = prims[0]
            return [_linear(lambda x: x * c, rec, v_out)]
        return [_mul(ins[0], rec, v_out)]
    if name == "dot_general":
        if len(tracked) == 2:
            raise Unsupported("dot_general of two input-dependent operands")
        i = tracked[0]

        def f(x):
            a = list(prims)
            a[i] = x
            return prim.bind(*a, **params)
        return [_linear(f, ins[i], v_out, const)]
    if name in _LINEAR_STRUCT or name in ("gather", "dynamic_slice", "select_n", "concatenate", "stack", "pad",
                                          "dynamic_update_slice"):
        if name in ("gather", "dynamic_slice") and tracked != [0]:
            raise Unsupported(f"{name} with input-dependent indices")
        if name == "select_n" and 0 in tracked:
            raise Unsupported("select_n with an input-dependent predicate")
        if name in _LINEAR_STRUCT and len(tracked) > 1:
            raise Unsupported(name)
        if name in ("pad",) and tracked != [0]:
            raise Unsupported(name)
        if name == "dynamic_update_slice" and any(i > 1 for i in tracked):
            raise Unsupported(name)
        # linear in the tracked operands jointly; untracked data operands contribute zero
        data = set(range(len(ins))) if name in ("concatenate", "stack", "dynamic_update_slice") else \
            (set(range(1, len(ins))) if name == "select_n" else set(tracked))
        if name == "pad":
            data = {0}
        if name == "dynamic_update_slice":
            data = {0, 1}
        return [_joint_linear(prim, params, ins, prims, tracked, data, v_out, const)]
    if name in _ELEMENTWISE:
        if len(tracked) != 1:
            raise Unsupported(f"{name} of two input-dependent operands")
        if name in ("floor", "ceil", "round", "sign", "stop_gradient"):
            return [v_out]          # piecewise constant: all derivatives vanish
        return [_unary(prim, prims, tracked[0], params, ins[tracked[0]], v_out)]
    raise Unsupported(name)


def taylor_point(fn, x, towers, laps, rowwise=False):
    """The fused pass at one point x (D,). `towers`: [(dirs (M, D), K)]; `laps`:
    [dirs (P, D)]. Returns (value (m,), [[c1..cK] each (M, m)], [(J (P, m), lap (m,))]).
    rowwise: fn also maps one point (D,) → (m,) (checked by the caller); tracing it so
    avoids a batch-of-one axis that makes XLA copy every (N, P, 1, w) tensor."""
    closed = jax.make_jaxpr(fn if rowwise else (lambda y: fn(y[None, :])[0]))(x)
    # a group of one direction travels unstacked (see _vm) and is stacked again at the end
    seed = _T(x, [[d[0] if d.shape[0] == 1 else d] + [None] * (K - 1) for d, K in towers], [(d, None) for d in laps])
    out, = _eval_jaxpr(closed.jaxpr, closed.consts, [seed])
    if not isinstance(out, _T):
        z = jnp.zeros_like(out)
        return out, [[jnp.zeros((d.shape[0],) + z.shape, z.dtype)] * K for d, K in towers], \
            [(jnp.zeros((d.shape[0],) + z.shape, z.dtype), z) for d in laps]
    tows = [[jnp.zeros((d.shape[0],) + out.v.shape, out.v.dtype) if c is None else (c[None] if d.shape[0] == 1 else c)
             for c in cs] for cs, (d, K) in zip(out.tow, towers)]
    ls = [(J if J is not None else jnp.zeros((d.shape[0],) + out.v.shape, out.v.dtype),
           L if L is not None else jnp.zeros_like(out.v)) for (J, L), d in zip(out.lap, laps)]
    return out.v, tows, ls
