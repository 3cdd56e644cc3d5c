"""The Taylor rules of the fused pass, per kind of primitive: the tracked value `_T`
(a primal with its Taylor towers and forward-Laplacian data, None standing for zero),
Faà di Bruno for elementwise functions (closed forms for tanh, sin, cos, exp), Leibniz
for products, and maps linear in the tracked operands."""
from __future__ import annotations

import math
from functools import lru_cache

import jax
import jax.numpy as jnp

from . import folding
from .folding import _const, _now, _vm


class _T:
    """A value that depends on the input, with its Taylor data. `tow[g]` is a list
    [c1..cK] (None = zero) of arrays of shape (M_g,) + v.shape; `lap[l]` is (J, L)
    with J (P_l,) + v.shape and L v.shape (None = zero)."""
    __slots__ = ("v", "tow", "lap")

    def __init__(self, v, tow, lap):
        self.v, self.tow, self.lap = v, tow, lap


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
        return _now(g, *xs) if const and folding.FOLD and _const(*xs) else g(*xs)

    tow = [[coef(lambda t, g=g, n=n: t.tow[g][n]) for n in range(len(cs))] for g, cs in enumerate(t0.tow)]
    lap = [(coef(lambda t, l=l: t.lap[l][0]), coef(lambda t, l=l: t.lap[l][1])) for l in range(len(t0.lap))]
    return _T(v_out, tow, lap)
