"""A PDE's residual evaluated on grid values, for physics-informed operator training (PINO,
Li et al. 2021/2024, "Physics-informed neural operator for learning partial differential
equations"): the equation of the .pde file is walked over its AST and every derivative is
taken on the grid the operator predicts, so the mean square of `residual(...)` is a loss.

The grid and the derivatives along one axis (spectral on periodic axes, second-order
stencils on nodes, the compact flux stencil) are compiler/grid_stencils.py's.

Nested derivative calls of one operand are merged before differentiating (`dx(dx(u))` is
`d(u, x, 2)`, `div(grad(u))` is `lap(u)`, as the language defines them), so they get the
one-stencil form. The flux form `d(p * d(w, x), x)` (and `div(p * grad(w))`) on `nodes`
axes takes the compact conservative stencil `flux_derivative` (face fluxes with the
harmonic mean of p: the scheme of the Darcy reference solver, so its solutions have zero
residual). With `GridSpec(flux="wide")` it differentiates the product's grid values with
the stencils of grid_stencils.py instead, as PINO's Darcy loss does (FDM_Darcy in the authors'
physics_informed repository, DarcyEqnLoss in neuraloperator: a · (central ∇u), then
central differences again): at every jump of a two-valued `a` that leaves an O(1)
residual on the exact solution, growing as h^-1/2. Either way the flux a·∇u is
differenced, never the jumps of `a` by the product rule.

Pure jax.numpy: jit-able with the expression and the grid static, differentiable in the
arrays. The DSL's meaning of each call is dsl/check/expressions.py's; math functions come
from dsl/vocabulary.py FUNCTIONS (their `jnp` names)."""
from __future__ import annotations

import jax.numpy as jnp

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error
from pdeforge.dsl.vocabulary import CONSTANTS, FUNCTIONS

from .grid_stencils import GridSpec, derivative, flux_derivative

__all__ = ["evaluate", "residual"]


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
