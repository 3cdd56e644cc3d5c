"""The derivative engine: every partial derivative a region needs, computed
together in forward mode, sharing the primal and lower orders. Never nested
reverse-mode `grad`.

Works on batched pointwise functions F: X (N, D) → Y (N, m) (row n of Y depends on
row n of X only). The main method is one *fused Taylor pass*: F is traced for a
single point and its jaxpr is re-interpreted, carrying along with every value

  * Taylor towers: for a group of M directions, the directional derivatives of
    orders 1..K (all directions of a group share the primal and each other's code);
  * a forward Laplacian (Li et al., "Forward Laplacian"): the Jacobian along P
    directions and the *sum* of the second directional derivatives, so that
    Σ_p ∂²F/∂v_p² costs O(P) instead of O(P²). With unit vectors along the spatial
    coordinates it is Δu exactly; with random Rademacher/Gaussian vectors scaled by
    1/P it is the unbiased Stochastic Taylor Derivative Estimator (Shi et al. 2024).

The per-point pass is then `jax.vmap`ped over the batch: seeds that are the same at
every point (unit directions) stay unbatched, so e.g. the first layer's Jacobian is
`W` itself, computed once — what a hand-written forward Laplacian does.

A primitive the pass does not know makes it fall back, for that plan, to the generic
route: one `jax.experimental.jet` tower per coordinate (pure derivatives and the
Laplacian as the sum of second-order towers), nested `jax.jvp` for mixed partials."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.experimental import jet

MAX_FUSED_ORDER = 6
FOLD = True        # fold constant seeds and masks at trace time (_now); off only to benchmark against


# ---- the plan ----------------------------------------------------------------
@dataclass
class Plan:
    """For one function on one region: which derivatives, and how each is computed.
    Keys: multi-indices (tuples of D ints) and ("lap", estimate) for Laplacians over
    `spatial` (estimate 0 = exact forward Laplacian, k > 0 = STDE with k directions)."""
    dims: int
    spatial: tuple = ()
    towers: dict = field(default_factory=dict)   # coord index -> max order
    mixed: list = field(default_factory=list)    # multi-indices with ≥ 2 coordinates
    laps: list = field(default_factory=list)     # estimates: 0 exact, k > 0 STDE
    value: bool = False
    fused: bool = True                           # False after a fallback: jet towers + nested jvp

    @staticmethod
    def of(keys, dims, spatial=()) -> "Plan":
        p = Plan(dims, tuple(spatial))
        for a in sorted(set(keys), key=str):
            if a[0] == "lap":
                if a[1] not in p.laps:
                    p.laps.append(a[1])
                continue
            nz = [i for i in range(dims) if a[i]]
            if not nz:
                p.value = True
            elif len(nz) == 1:
                p.towers[nz[0]] = max(p.towers.get(nz[0], 0), a[nz[0]])
            else:
                p.mixed.append(a)
        p.mixed.sort()
        return p

    @property
    def only_value(self):
        return not (self.towers or self.mixed or self.laps)

    @property
    def needs_key(self):
        return any(k > 0 for k in self.laps)

    # which towers the fused pass runs (a first-order spatial derivative rides on the
    # exact Laplacian's Jacobian; a mixed second derivative ∂i∂j needs e_i, e_j and
    # e_i + e_j to order 2: u_ij = (D²_{ei+ej} − D²_ei − D²_ej) / 2)
    def _fused_layout(self):
        orders = dict(self.towers)
        pairs = [a for a in self.mixed if sum(a) == 2]
        for a in pairs:
            for i in (i for i in range(self.dims) if a[i]):
                orders[i] = max(orders.get(i, 0), 2)
        from_lap = set()
        if 0 in self.laps:
            from_lap = {i for i, k in orders.items() if k == 1 and i in self.spatial}
        groups = {}
        for i, k in sorted(orders.items()):
            if i not in from_lap:
                groups.setdefault(k, []).append(i)
        return groups, pairs, [a for a in self.mixed if sum(a) > 2], from_lap

    def describe(self, names) -> list[str]:
        out = []
        if self.value:
            out.append("value")
        sp_names = ", ".join(names[i] for i in self.spatial)
        if not self.fused:
            for i, k in sorted(self.towers.items()):
                out.append(f"d/d{names[i]} orders 1..{k}: {'jvp' if k == 1 else f'Taylor tower (jet) to order {k}'}")
            for a in self.mixed:
                out.append(f"mixed d({_mi(a, names)}): nested jvp")
            for k in self.laps:
                what = "sum of second-order jet towers" if k == 0 else f"STDE, {k} random directions per point (jet)"
                out.append(f"lap over ({sp_names}): {what}")
            return out
        groups, pairs, high, from_lap = self._fused_layout()
        if not self.only_value:
            out.append("one fused forward Taylor pass (shared primal) computes:")
        for k, coords in sorted(groups.items()):
            d = ", ".join(names[i] for i in coords)
            out.append(f"  d/d{d}: first-order tangent" if k == 1 and len(coords) == 1 else
                       f"  d/d{{{d}}}: first-order tangents, {len(coords)} directions batched" if k == 1 else
                       f"  d/d{{{d}}} orders 1..{k}: Taylor tower, {len(coords)} direction(s) batched")
        for i in sorted(from_lap):
            out.append(f"  d/d{names[i]}: from the forward Laplacian's Jacobian")
        for a in pairs:
            out.append(f"  mixed d({_mi(a, names)}): polarisation of order-2 towers along e_i, e_j, e_i+e_j")
        for k in self.laps:
            if k == 0:
                out.append(f"  lap over ({sp_names}): forward Laplacian ({len(self.spatial)} directions, cost linear in dimension)")
            else:
                out.append(f"  lap over ({sp_names}): STDE forward Laplacian, {k} random Rademacher directions per point")
        for a in high:
            out.append(f"mixed d({_mi(a, names)}): jvp of the fused pass")
        return out


def _mi(a, names):
    return " ".join(f"{names[i]}^{a[i]}" if a[i] > 1 else names[i] for i in range(len(a)) if a[i])


# ---- the fused Taylor pass (a jaxpr interpreter) -----------------------------
class Unsupported(Exception):
    """The fused pass cannot handle a primitive; the caller falls back."""


class _T:
    """A value that depends on the input, with its Taylor data. `tow[g]` is a list
    [c1..cK] (None = zero) of arrays of shape (M_g,) + v.shape; `lap[l]` is (J, L)
    with J (P_l,) + v.shape and L v.shape (None = zero)."""
    __slots__ = ("v", "tow", "lap")

    def __init__(self, v, tow, lap):
        self.v, self.tow, self.lap = v, tow, lap


def _zero_like_tow(t: _T):
    return [[None] * len(c) for c in t.tow], [(None, None) for _ in t.lap]


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


def _const(*xs):
    """Whether every operand is known at trace time (a unit seed, a mask, a literal)."""
    return all(not isinstance(x, jax.core.Tracer) for x in xs)


def _now(f, *xs):
    """f(*xs) on constant operands, evaluated at trace time rather than staged, so that a
    coefficient that comes out exactly zero is known to be zero (None) and skipped: the
    seed along x of a face point X·(1 − e_x) + a·e_x, whose whole branch of the model
    (a hard Neumann or curvature correction) then costs no Taylor tower along x."""
    with jax.ensure_compile_time_eval():
        out = f(*xs)
    return None if not np.any(np.asarray(out)) else out


def _vm(f, c, v, const=False):
    """Apply a linear map f (written for one array like the primal v) to a coefficient:
    stacked (M, ...) for a group of M directions, or unstacked (shape of v) for a group
    of one — no size-1 axis, which would make XLA copy every (N, 1, w) tensor. `const`:
    f's other operands are constants, so a constant coefficient is mapped at trace time."""
    if c is None:
        return None
    g = (lambda c: jax.vmap(f)(c)) if jnp.ndim(c) > jnp.ndim(v) else f
    return _now(g, c) if const and FOLD and _const(c) else g(c)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _scale(c, s):
    return None if c is None else c * s


@lru_cache(maxsize=None)
def _bell_terms(n):
    """Faà di Bruno in derivative convention: d^n f(x(s)) = Σ_k f^(k) Σ coef Π x_j^{m_j}.
    Returns [(k, coef, ((j, m_j), ...))]."""
    out = []

    def parts(n, maxj):
        if n == 0:
            yield []
            return
        for j in range(min(n, maxj), 0, -1):
            for rest in parts(n - j, j):
                yield [j] + rest
    for p in parts(n, n):
        mult = {}
        for j in p:
            mult[j] = mult.get(j, 0) + 1
        coef = math.factorial(n)
        for j, m in mult.items():
            coef //= math.factorial(m) * math.factorial(j) ** m
        out.append((len(p), coef, tuple(sorted(mult.items()))))
    return out


def _elementwise_derivs(prim, args, idx, params, v, K, out=None):
    """f^(1..K) at v of the elementwise map x ↦ prim(args with x at idx); `out` = f(v),
    reused so that the primal and its derivatives share one tanh/exp (also backwards)."""
    name = prim.name
    if name == "tanh":
        t = out if out is not None else jnp.tanh(v)
        s = 1 - t * t
        ds = [s]
        if K >= 2:
            ds.append(-2 * t * s)
        if K >= 3:
            ds.append(s * (6 * t * t - 2))
        if K >= 4:
            ds.append(s * t * (16 - 24 * t * t))
        if K >= 5:
            # generic from here on
            return ds[:4] + _nested_elementwise(lambda x: jnp.tanh(x), v, K)[4:]
        return ds
    if name in ("sin", "cos"):
        s, c = jnp.sin(v), jnp.cos(v)
        cyc = [c, -s, -c, s] if name == "sin" else [-s, -c, s, c]
        return [cyc[k % 4] for k in range(K)]
    if name == "exp":
        e = out if out is not None else jnp.exp(v)
        return [e] * K

    def g(x):
        a = list(args)
        a[idx] = x
        return prim.bind(*a, **params)
    return _nested_elementwise(g, v, K)


def _nested_elementwise(g, v, K):
    ones = jnp.ones_like(v)
    fs = [g]
    for _ in range(K):
        f = fs[-1]
        fs.append((lambda f: lambda x: jax.jvp(f, (x,), (ones,))[1])(f))
    return [f(v) for f in fs[1:]]


def _unary(prim, args, idx, params, t: _T, v_out):
    K = max([len(c) for c in t.tow] + [2 if t.lap else 0] + [0])
    if K == 0:
        return _T(v_out, [], [])
    d = _elementwise_derivs(prim, args, idx, params, t.v, K, v_out)
    tow = []
    for cs in t.tow:
        out = []
        for n in range(1, len(cs) + 1):
            acc = None
            for k, coef, mono in _bell_terms(n):
                prod = None
                zero = False
                for j, m in mono:
                    x = cs[j - 1]
                    if x is None:
                        zero = True
                        break
                    p = x if m == 1 else x ** m
                    prod = p if prod is None else prod * p
                if zero:
                    continue
                term = d[k - 1] * prod
                acc = _add(acc, term if coef == 1 else coef * term)
            out.append(acc)
        tow.append(out)
    lap = []
    for J, L in t.lap:
        Jn = None if J is None else d[0] * J
        Ln = None if L is None else d[0] * L
        if J is not None:
            Ln = _add(Ln, d[1] * jnp.sum(J * J, axis=0))
        lap.append((Jn, Ln))
    return _T(v_out, tow, lap)


def _mul(a, b, v_out):
    """Leibniz for the product of two tracked values (derivative convention)."""
    tow = []
    for ca, cb in zip(a.tow, b.tow):
        A = [a.v] + ca
        B = [b.v] + cb
        out = []
        for n in range(1, len(ca) + 1):
            acc = None
            for j in range(n + 1):
                x, y = A[j], B[n - j]
                if x is None or y is None:
                    continue
                term = x * y
                c = math.comb(n, j)
                acc = _add(acc, term if c == 1 else c * term)
            out.append(acc)
        tow.append(out)
    lap = []
    for (Ja, La), (Jb, Lb) in zip(a.lap, b.lap):
        J = _add(None if Jb is None else a.v * Jb, None if Ja is None else b.v * Ja)
        L = _add(None if Lb is None else a.v * Lb, None if La is None else b.v * La)
        if Ja is not None and Jb is not None:
            L = _add(L, 2 * jnp.sum(Ja * Jb, axis=0))
        lap.append((J, L))
    return _T(v_out, tow, lap)


def _linear(f, t: _T, v_out, const=False):
    """A map that is linear in the tracked value (other operands already bound into f;
    `const`: they are all constants)."""
    return _T(v_out, [[_vm(f, c, t.v, const) for c in cs] for cs in t.tow],
              [(_vm(f, J, t.v, const), _vm(f, L, L, const)) for J, L in t.lap])


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
        if FOLD and _const(*prims):      # masks and seeds stay constants (see _now)
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


def _joint_linear(prim, params, ins, prims, tracked, data, v_out, const=False):
    """Coefficients of an op linear in its `data` operands (others fixed, e.g. indices,
    a predicate, a padding value — which becomes 0 for coefficients)."""
    t0 = ins[tracked[0]]

    def coef(getter):
        cs = {i: getter(ins[i]) for i in tracked}
        known = [(i, c) for i, c in cs.items() if c is not None]
        if not any(i in data for i, _ in known):
            return None
        i0, c0 = known[0]
        stacked = jnp.ndim(c0) > jnp.ndim(prims[i0])      # (M, ...) or one direction, unstacked

        def f(*xs):
            a = list(prims)
            for i, x in zip(sorted(data), xs):
                a[i] = x
            if prim.name == "pad":
                a[1] = jnp.zeros_like(a[1])
            return prim.bind(*a, **params)
        xs = []
        for i in sorted(data):
            c = cs.get(i)
            if c is None:
                z = jnp.zeros_like(prims[i])
                c = jnp.broadcast_to(z, (c0.shape[0],) + z.shape) if stacked else z
            xs.append(c)
        g = (lambda *xs: jax.vmap(f)(*xs)) if stacked else f
        return _now(g, *xs) if const and FOLD and _const(*xs) else g(*xs)

    tow = [[coef(lambda t, g=g, n=n: t.tow[g][n]) for n in range(len(cs))] for g, cs in enumerate(t0.tow)]
    lap = [(coef(lambda t, l=l: t.lap[l][0]), coef(lambda t, l=l: t.lap[l][1])) for l in range(len(t0.lap))]
    return _T(v_out, tow, lap)


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


# ---- evaluation --------------------------------------------------------------
def stde_directions(key, n, spatial, dims, k, dtype):
    """(n, k, dims) Rademacher directions on the spatial coordinates (zero elsewhere)."""
    r = jax.random.rademacher(key, (n, k, len(spatial)), dtype=dtype)
    return jnp.zeros((n, k, dims), dtype).at[:, :, jnp.asarray(spatial)].set(r)


def evaluate(fn, X, plan: Plan, key=None, rowwise=False) -> dict:
    """Return {key: fn's derivative at X (N, m)} for every key of `plan`; `key` is a
    jax.random key, needed when the plan holds a STDE Laplacian; `rowwise`: fn may be
    applied to one point (D,) → (m,) as well (faster fused pass)."""
    if plan.needs_key and key is None:
        raise ValueError("a stochastic Laplacian (lap(u, estimate = k)) needs a random key: pass batch['key']")
    if plan.only_value:
        return {(0,) * plan.dims: fn(X)}
    if plan.fused:
        try:
            return _evaluate_fused(fn, X, plan, key, rowwise)
        except Unsupported:
            plan.fused = False
    return _evaluate_generic(fn, X, plan, key)


def _unit(D, i, dtype):
    e = np.zeros((D,), dtype)
    e[i] = 1.0
    return e


def _fused_fn(fn, plan, dtype):
    """X ↦ (value, towers, laps) over the batch, and how to read the keys off it."""
    D = plan.dims
    groups, pairs, _, from_lap = plan._fused_layout()
    tower_specs, where = [], {}
    for g, (K, coords) in enumerate(sorted(groups.items())):
        dirs = [_unit(D, i, dtype) for i in coords]
        for r, i in enumerate(coords):
            where[i] = (g, r)
        if K == min((k for k in groups if k >= 2), default=None):      # the e_i + e_j of every pair ride here
            for a in pairs:
                i, j = [c for c in range(D) if a[c]]
                where[a] = (g, len(dirs))
                dirs.append(_unit(D, i, dtype) + _unit(D, j, dtype))
        tower_specs.append((np.stack(dirs), K))      # numpy: seeds stay trace-time constants (_now)
    lap_exact = np.stack([_unit(D, i, dtype) for i in plan.spatial]) if plan.laps and 0 in plan.laps else None
    return tower_specs, where, lap_exact, from_lap


def _evaluate_fused(fn, X, plan: Plan, key, rowwise=False):
    D, N = plan.dims, X.shape[0]
    tower_specs, where, lap_exact, from_lap = _fused_fn(fn, plan, X.dtype)
    lap_order = list(plan.laps)
    lap_dirs, lap_axes = [], []
    keys = jax.random.split(key, len(lap_order)) if plan.needs_key else [None] * len(lap_order)
    for k, kk in zip(lap_order, keys):
        if k == 0:
            lap_dirs.append(lap_exact)
            lap_axes.append(None)
        else:
            lap_dirs.append(stde_directions(kk, N, list(plan.spatial), D, k, X.dtype))
            lap_axes.append(0)

    def point(x, lds):
        return taylor_point(fn, x, tower_specs, list(lds), rowwise)
    v, tows, laps = jax.vmap(point, in_axes=(0, lap_axes))(X, lap_dirs)
    out = {}
    if plan.value:
        out[(0,) * D] = v
    for i, K in plan.towers.items():
        if i in from_lap:
            continue
        g, r = where[i]
        for n in range(1, K + 1):
            a = [0] * D
            a[i] = n
            out[tuple(a)] = tows[g][n - 1][:, r]
    if from_lap:
        J = laps[lap_order.index(0)][0]          # (N, P, m): the exact Laplacian's Jacobian
        for i in from_lap:
            a = [0] * D
            a[i] = 1
            out[tuple(a)] = J[:, plan.spatial.index(i)]
    for a in plan.mixed:
        if sum(a) == 2:
            i, j = [c for c in range(D) if a[c]]
            g, r = where[a]
            gi, ri = where[i]
            gj, rj = where[j]
            out[a] = 0.5 * (tows[g][1][:, r] - tows[gi][1][:, ri] - tows[gj][1][:, rj])
        else:
            out[a] = _mixed_high(fn, X, a, rowwise)
    for k, (_, L) in zip(lap_order, laps):
        out[("lap", k)] = L / k if k else L
    return out


def _mixed_high(fn, X, a, rowwise=False):
    """∂^a for |a| > 2 with ≥ 2 coordinates: nested jvp (along the other coordinates)
    of one fused tower along the coordinate with the highest order."""
    D = len(a)
    i = max(range(D), key=lambda c: a[c])
    K = a[i]
    spec = [(_unit(D, i, X.dtype)[None, :], K)]

    def tower(Y):
        return jax.vmap(lambda y: taylor_point(fn, y, spec, [], rowwise)[1][0][K - 1][0])(Y)
    g = tower
    for c in range(D):
        if c == i:
            continue
        for _ in range(a[c]):
            g = (lambda g, c: lambda Y: jax.jvp(g, (Y,), (jnp.zeros_like(Y).at[:, c].set(1.0),))[1])(g, c)
    return g(X)


# ---- the generic route -------------------------------------------------------
def _onehot(X, i):
    return jnp.zeros_like(X).at[:, i].set(1.0)


def _tower(fn, X, E, k):
    if k == 1:
        primal, t = jax.jvp(fn, (X,), (E,))
        return primal, [t]
    zeros = jnp.zeros_like(X)
    return jet.jet(fn, (X,), ([E] + [zeros] * (k - 1),))


def _evaluate_generic(fn, X, plan: Plan, key):
    D = plan.dims
    out = {}
    primal = None
    towers = dict(plan.towers)
    if 0 in plan.laps:
        for i in plan.spatial:
            towers[i] = max(towers.get(i, 0), 2)
    second = {}
    for i, k in sorted(towers.items()):
        primal, series = _tower(fn, X, _onehot(X, i), k)
        for j, s in enumerate(series, 1):
            a = [0] * D
            a[i] = j
            out[tuple(a)] = s
        if k >= 2:
            second[i] = series[1]
    if plan.value:
        out[(0,) * D] = primal if primal is not None else fn(X)
    for a in plan.mixed:
        out[a] = _nested(fn, a)(X)
    keys = jax.random.split(key, len(plan.laps)) if plan.needs_key else [None] * len(plan.laps)
    for k, kk in zip(plan.laps, keys):
        if k == 0:
            out[("lap", 0)] = sum(second[i] for i in plan.spatial)
        else:
            V = stde_directions(kk, X.shape[0], list(plan.spatial), D, k, X.dtype)
            acc = 0.0
            for r in range(k):
                acc = acc + _tower(fn, X, V[:, r, :], 2)[1][1]
            out[("lap", k)] = acc / k
    # keep only what was asked for
    wanted = {("lap", k) for k in plan.laps} | set(plan.mixed) | ({(0,) * D} if plan.value else set())
    for i, k in plan.towers.items():
        for j in range(1, k + 1):
            a = [0] * D
            a[i] = j
            wanted.add(tuple(a))
    return {k: v for k, v in out.items() if k in wanted}


def _nested(fn, a):
    g = fn
    for i, k in enumerate(a):
        for _ in range(k):
            g = (lambda g, i: lambda X: jax.jvp(g, (X,), (_onehot(X, i),))[1])(g, i)
    return g
