"""Divergence-free velocity by construction: `equation: div(u, v) = 0 hard` (2-D)
makes the model learn a stream function ψ in place of (u, v), and
u = ∂ψ/∂y, v = −∂ψ/∂x, so ∂u/∂x + ∂v/∂y = ψ_yx − ψ_xy = 0 identically. The two
derivatives are forward-mode jvps inside the model function, so the derivative engine
differentiates through them like through any other layer."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import sympy as sp

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error


@dataclass
class Stream:
    model: str
    fields: tuple            # (u, v): the velocity components, in the order of div(...)
    axes: tuple              # their coordinates' columns in X (problem order): (i_x, i_y)
    coords: tuple            # their coordinate names
    source: object           # the equation statement

    def outputs(self, m):
        """Network outputs: ψ first, then the model's other fields in order."""
        return ["psi"] + [f for f in m.fields if f not in self.fields]

    def wrap(self, m, net):
        others = [f for f in m.fields if f not in self.fields]
        ix, iy = self.axes

        def F(X):
            ex = jnp.zeros_like(X).at[..., ix].set(1.0)
            ey = jnp.zeros_like(X).at[..., iy].set(1.0)
            Y, dy = jax.jvp(net, (X,), (ey,))
            _, dx = jax.jvp(net, (X,), (ex,))
            col = {self.fields[0]: dy[..., 0], self.fields[1]: -dx[..., 0]}
            for j, f in enumerate(others, 1):
                col[f] = Y[..., j]
            return jnp.stack([col[f] for f in m.fields], axis=-1)
        return F

    def describe(self, S):
        x, y = (S.coord[c] for c in self.coords)
        args = S.field[self.fields[0]].args
        psi = sp.Function("psi")(*args)
        return [f"  {S.field[self.fields[0]]} = {sp.diff(psi, y)},  {S.field[self.fields[1]]} = {-sp.diff(psi, x)}"
                f"  (stream function: div = 0 identically; from {_name(self.source)})"]


def _name(stmt):
    return f"`{stmt.label}`" if stmt.label else f"line {stmt.span.line}"


def synthesize(checked, equations, models) -> dict:
    """{model name: Stream} for the hard equations (each must be `div(u, v) = 0`)."""
    out = {}
    spatial = [c.name for c in checked.spatial]
    names = [c.name for c in checked.coords]
    for eq in equations:
        lhs, rhs = eq.lhs, eq.rhs
        if isinstance(rhs, A.Call) and rhs.func == "div":
            lhs, rhs = rhs, lhs
        ok = (isinstance(lhs, A.Call) and lhs.func == "div" and isinstance(rhs, A.Num) and rhs.value == 0
              and all(isinstance(a, A.Name) and a.id in checked.fields for a in lhs.args))
        if not ok:
            raise error("E303", "only `div(u, v) = 0` (a divergence-free velocity) can be built in as a hard equation",
                        eq.span, hint="remove `hard` to train this equation as a loss term")
        if len(spatial) != 2:
            raise error("E303", "a hard `div(...) = 0` is built in for 2-D velocities (a stream function); "
                        f"this problem has {len(spatial)} spatial coordinate(s)", eq.span,
                        hint="remove `hard` to train the continuity equation as a loss term")
        u, v = (a.id for a in lhs.args)
        m = next(m for m in models if u in m.fields)
        if v not in m.fields:
            raise error("E329", f"`{u}` and `{v}` must share one model to come from one stream function", eq.span,
                        hint=f"write `model ({u}, {v}, ...) = mlp(...)`")
        for c in spatial:
            if c not in m.inputs:
                raise error("E329", f"`{u}` must depend on `{c}` to be divergence-free in 2-D", eq.span)
        if m.name in out:
            raise error("E331", "one model can hold one stream function", eq.span, related=[(out[m.name].source.span, "the other one")])
        out[m.name] = Stream(m.name, (u, v), tuple(names.index(c) for c in spatial), tuple(spatial), eq)
    return out
