"""Hard periodic conditions: the network sees cos(2πk(x − lo)/L), sin(2πk(x − lo)/L),
k = 1..K, in place of x. Any function of these features is L-periodic in x, and so is
every derivative of it: periodic by construction, to rounding."""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp

from pdeforge.dsl.diagnostics import error
from . import probe


@dataclass
class Embedding:
    coord: str
    index: int               # column in the problem's coordinates
    lo: float
    hi: float
    modes: int
    fields: list             # the fields declared periodic in `coord`
    sources: list            # the condition statements it replaces

    def features(self, X):
        theta = (X[..., self.index] - self.lo) * (2.0 * math.pi / (self.hi - self.lo))
        k = jnp.arange(1, self.modes + 1, dtype=X.dtype)
        a = theta[..., None] * k
        return jnp.concatenate([jnp.cos(a), jnp.sin(a)], axis=-1)

    def describe(self):
        k = "k" if self.modes > 1 else "1"
        return f"{self.coord} -> cos, sin(2*pi*{k}*({self.coord} - {self.lo:g})/{self.hi - self.lo:g})" + \
               (f", k = 1..{self.modes}" if self.modes > 1 else "")


def synthesize(ctx) -> dict:
    """{model name: [Embedding]} for the hard periodic conditions `ctx.periodic` [(Condition, field, coord)],
    checked against the value rewrites built before them (E328)."""
    checked, periodic_hard, models = ctx.checked, ctx.periodic, ctx.models
    names = [c.name for c in checked.coords]
    by_coord = {}
    for cond, f, x in periodic_hard:
        modes = next((int(k.value.value) for k in cond.hard.options if k.name == "modes"), 1)
        by_coord.setdefault(x, []).append((cond, f, modes))
    out = {}
    for m in models:
        for x, items in by_coord.items():
            mine = [(c, f, k) for c, f, k in items if f in m.fields]
            if not mine:
                continue
            missing = [f for f in m.fields if f not in {f for _, f, _ in mine}]
            if missing:
                raise error("E327", f"`{mine[0][1]}` is periodic in `{x}` by construction, but it shares a model with "
                            f"`{missing[0]}`, which is not", mine[0][0].span,
                            hint=f"give `{mine[0][1]}` its own `model` line, "
                                 f"or add `condition: periodic({missing[0]}, {x}) hard`")
            co = checked.coord(x)
            modes = max(k for _, _, k in mine)
            out.setdefault(m.name, []).append(
                Embedding(x, names.index(x), co.lo, co.hi, modes, [f for _, f, _ in mine], [c for c, _, _ in mine]))
    for cond, f, x in periodic_hard:
        rw = ctx.built["rewrites"].get(f)
        if rw is None:
            continue
        if any(ax.coord == x for ax in rw.axes):
            raise error("E328", f"`{f}` is periodic in `{x}` by construction, "
                        f"so it cannot also have hard values on the faces of `{x}`",
                        rw.sources[0].span, related=[(cond.span, "periodic here")], hint="remove one of the two")
        emb = next(e for es in out.values() for e in es if f in e.fields and e.coord == x)
        check_rewrite_periodic(rw, emb, checked, ctx.S, checked.orders.get(f, {}).get(x, 1))
    return out


def check_rewrite_periodic(rewrite, emb, checked, S, order):
    """A field both periodic by construction and rewritten u = g + φ·N (say, for a hard
    initial condition) stays periodic only if g is: check g and its derivatives below
    the equation's order across the period."""
    import sympy as sp
    x = S.coord[emb.coord]
    args = checked.fields[rewrite.field].args
    free = {S.coord[a]: (checked.coord(a).lo, checked.coord(a).hi) for a in args if a != emb.coord}
    for k in range(max(1, order)):
        gk = sp.diff(rewrite.g, x, k) if k else rewrite.g
        ok, bad = probe.agree(gk.xreplace({x: sp.nsimplify(emb.lo)}), gk.xreplace({x: sp.nsimplify(emb.hi)}),
                              free, S.const_values())
        if not ok:
            cond = rewrite.sources[0]
            what = f"its {k}-th derivative in {emb.coord}" if k else "its value"
            raise error("E328", f"the hard condition's data for `{rewrite.field}` is not periodic in `{emb.coord}` "
                        f"({what} differs across the period: {bad['a']:.6g} vs {bad['b']:.6g})", cond.span,
                        related=[(emb.sources[0].span, "periodic by construction here")],
                        hint="give periodic data, or remove `hard` from one of the two")
