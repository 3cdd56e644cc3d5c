"""Divergence-free velocity by construction: `equation: div(u, v) = 0 hard` (2-D)
makes the model learn a stream function ψ in place of (u, v), and
u = ∂ψ/∂y, v = −∂ψ/∂x, so ∂u/∂x + ∂v/∂y = ψ_yx − ψ_xy = 0 identically. In 3-D,
`div(u, v, w) = 0 hard` makes it learn a vector potential A and (u, v, w) = curl A,
whose divergence vanishes identically too. The derivatives are forward-mode jvps
inside the model function, so the derivative engine differentiates through them like
through any other layer."""
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
    fields: tuple            # (u, v) or (u, v, w): the velocity components, in the order of div(...)
    axes: tuple              # their coordinates' columns in X (problem order): (i_x, i_y[, i_z])
    coords: tuple            # their coordinate names
    source: object           # the equation statement

    def outputs(self, m):
        """Network outputs: ψ (or A1, A2, A3) first, then the model's other fields in order."""
        pot = ["psi"] if len(self.fields) == 2 else ["A1", "A2", "A3"]
        return pot + [f for f in m.fields if f not in self.fields]

    def wrap(self, m, net):
        others = [f for f in m.fields if f not in self.fields]
        k = 1 if len(self.fields) == 2 else 3     # potential outputs

        def F(X):
            d = []
            for i in self.axes:
                Y, di = jax.jvp(net, (X,), (jnp.zeros_like(X).at[..., i].set(1.0),))
                d.append(di)
            if k == 1:
                dx, dy = d
                col = {self.fields[0]: dy[..., 0], self.fields[1]: -dx[..., 0]}
            else:     # curl A: (∂y A3 − ∂z A2, ∂z A1 − ∂x A3, ∂x A2 − ∂y A1)
                dx, dy, dz = d
                col = {self.fields[0]: dy[..., 2] - dz[..., 1], self.fields[1]: dz[..., 0] - dx[..., 2],
                       self.fields[2]: dx[..., 1] - dy[..., 0]}
            for j, f in enumerate(others, k):
                col[f] = Y[..., j]
            return jnp.stack([col[f] for f in m.fields], axis=-1)
        return F

    def describe(self, S):
        args = S.field[self.fields[0]].args
        if len(self.fields) == 3:
            x, y, z = (S.coord[c] for c in self.coords)
            A1, A2, A3 = (sp.Function(f"A{i}")(*args) for i in (1, 2, 3))
            u, v, w = (S.field[f] for f in self.fields)
            return [f"  {u} = {sp.diff(A3, y) - sp.diff(A2, z)},  {v} = {sp.diff(A1, z) - sp.diff(A3, x)},  "
                    f"{w} = {sp.diff(A2, x) - sp.diff(A1, y)}  "
                    f"(vector potential: div = 0 identically; from {_name(self.source)})"]
        x, y = (S.coord[c] for c in self.coords)
        psi = sp.Function("psi")(*args)
        return [f"  {S.field[self.fields[0]]} = {sp.diff(psi, y)},  {S.field[self.fields[1]]} = {-sp.diff(psi, x)}"
                f"  (stream function: div = 0 identically; from {_name(self.source)})"]


def _name(stmt):
    return f"`{stmt.label}`" if stmt.label else f"line {stmt.span.line}"


def synthesize(ctx) -> dict:
    """{model name: Stream} for the hard equations `ctx.equations` (each must be `div(u, v) = 0`)."""
    checked, equations, models = ctx.checked, ctx.equations, ctx.models
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
            raise error("E303", "only `div(u, v) = 0` or `div(u, v, w) = 0` (a divergence-free velocity) "
                        "can be built in as a hard equation",
                        eq.span, hint="remove `hard` to train this equation as a loss term")
        if len(spatial) not in (2, 3) or len(lhs.args) != len(spatial):
            raise error("E303", "a hard `div(...) = 0` is built in for 2-D velocities (a stream function) and 3-D ones "
                        f"(a vector potential); this problem has {len(spatial)} spatial coordinate(s)", eq.span,
                        hint="remove `hard` to train the continuity equation as a loss term")
        names_ = [a.id for a in lhs.args]
        u = names_[0]
        m = next(m for m in models if u in m.fields)
        pot = "one stream function" if len(names_) == 2 else "one vector potential"
        for v in names_[1:]:
            if v not in m.fields:
                raise error("E329", f"`{u}` and `{v}` must share one model to come from {pot}", eq.span,
                            hint=f"write `model ({', '.join(names_)}, ...) = mlp(...)`")
        for c in spatial:
            if c not in m.inputs:
                raise error("E329", f"`{u}` must depend on `{c}` to be divergence-free in {len(spatial)}-D", eq.span)
        if m.name in out:
            raise error("E331", "one model can hold one stream function", eq.span,
                        related=[(out[m.name].source.span, "the other one")])
        out[m.name] = Stream(m.name, tuple(names_), tuple(names.index(c) for c in spatial), tuple(spatial), eq)
    return out
