"""Operator programs lowered to JAX: a field `given` input functions is one network that
maps the inputs sampled on the grid to the field on the same grid.

The network sees, at every grid point, the input functions' values there (normalised)
and the point's coordinates scaled to [-1, 1] (Li et al. 2021 concatenate the grid the
same way); an FNO mixes along the grid through its spectral layers, a pointwise network
does not. Outputs are de-normalised with the training pairs' statistics, which the
runtime computes once and passes in (`Normaliser`): fixed, never trained.

With equations and conditions in the file, each is a loss term too: its residual on the
predicted grid (compiler/grid_residual.py: spectral derivatives on periodic axes, second-
order differences on the others), the mean square over the interior nodes (equations)
or the face nodes (conditions): physics-informed training, PINO (Li et al. 2024), with
or without the paired data (`weights pairs = 0`: label-free).

Not here yet (each raised as E353 with what to write instead): several models, fields of
time, `hard` conditions, constraints and fits on an operator."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import PdeError, error
from pdeforge.dsl.vocabulary import SOLVERS

from . import network
from .grid_residual import evaluate, residual
from .grid_stencils import GridSpec, axis_points, interior_mask
from .network.layers.spectral import check_grid
from .lower import _attribute

__all__ = ["OperatorLowered", "Normaliser", "grid_points", "rel_l2"]


def rel_l2(pred, truth):
    """(B, *grid, F) arrays → (B, F) relative L2 errors over the grid."""
    ax = tuple(range(1, pred.ndim - 1))
    num = jnp.sqrt(jnp.sum((pred - truth) ** 2, axis=ax))
    return num / jnp.maximum(jnp.sqrt(jnp.sum(truth ** 2, axis=ax)), 1e-30)


@dataclass(frozen=True)
class Normaliser:
    """Scalar mean and standard deviation of the inputs (per input function) and of the
    outputs (per field), from the training pairs: the network sees (a − mean) / std."""
    a_mean: np.ndarray
    a_std: np.ndarray
    u_mean: np.ndarray
    u_std: np.ndarray

    @staticmethod
    def of(a, u=None):
        """From training pairs a (N, *grid, n_inputs), u (N, *grid, n_fields); without `u`
        (physics alone: the outputs are not known) the outputs are not rescaled."""
        ax = tuple(range(a.ndim - 1))
        if u is None:
            return Normaliser(a.mean(ax), a.std(ax) + 1e-12, np.zeros(1), np.ones(1))
        return Normaliser(a.mean(ax), a.std(ax) + 1e-12, u.mean(ax), u.std(ax) + 1e-12)

    def arrays(self) -> dict:
        return {"a_mean": self.a_mean, "a_std": self.a_std, "u_mean": self.u_mean, "u_std": self.u_std}

    @staticmethod
    def from_arrays(d: dict):
        return Normaliser(*(np.asarray(d[k]) for k in ("a_mean", "a_std", "u_mean", "u_std")))


def grid_points(checked, layout: str, sizes=None) -> np.ndarray:
    """The grid's points, shape (*sizes, d), coordinates in the domain's order
    (`grid_stencils.axis_points`); `sizes` another number of points per axis than the file's."""
    cs = [c for c in checked.spatial if c.name in checked.grid]
    sizes = sizes or [checked.grid[c.name] for c in cs]
    axes = [axis_points(c.lo, c.hi, s, layout) for c, s in zip(cs, sizes)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)


class OperatorLowered:
    """Pure functions of an operator program: `init(key)`, `apply(params, a, norm)`."""

    # label-free training fits the output scale to the physics (runtime/operator_train.py's
    # physics_scale): measured to help PINO Darcy (held-out 0.045 against 0.23 unscaled)
    fit_scale = True

    def __init__(self, checked, dtype=jnp.float32):
        self.checked, self.dtype = checked, dtype
        p = checked.program
        models = checked.models
        if checked.pairs is None:
            raise error("E353", "an operator program needs paired data", None, hint="add `pairs from ...`")
        if len(models) != 1 or {t for t, _ in models[0].targets} != set(checked.fields):
            raise error("E353", "an operator program has one model for all its fields", models[0].span if models else None)
        self.fields = list(checked.fields)
        inputs = [g for f in self.fields for g in checked.given.get(f, [])]
        self.inputs = list(dict.fromkeys(inputs))
        for f in self.fields:
            if checked.given.get(f) != self.inputs:
                raise error("E353", f"every field of an operator program is given the same inputs; `{f}` is not",
                            checked.fields[f].span)
            if set(checked.fields[f].args) != set(checked.grid):
                raise error("E353", f"`{f}` must depend on exactly the grid's coordinates "
                            f"({', '.join(checked.grid)}): fields of time are not built yet", checked.fields[f].span)
        self.layout = SOLVERS[checked.pairs["solver"]].grid if "solver" in checked.pairs else "nodes"
        self.points = grid_points(checked, self.layout)              # (*grid, d)
        self.shape = self.points.shape[:-1]
        self.features = self._scaled(self.points)
        m = models[0]
        self.model = m
        arch = checked.architectures[m.arch]
        try:
            g = network.build_graph(arch, m.call, len(self.inputs) + self.points.shape[-1], len(self.fields),
                                    archs=checked.architectures, file=p.file, consts=checked.consts)
            check_grid(g, self.shape)       # spectral modes the grid holds, pad/crop that match (E241–E244)
        except PdeError as e:
            _attribute(e, arch, m, p)
            raise
        self.graphs = {"model": g}
        self._init = network.make_init(g, dtype)
        self._apply = network.make_apply(g)
        self.param_count = network.param_count(g)
        self.hard = {}                              # field -> {grid axis: {"lo", "hi"}} held at 0 exactly
        self.terms = self._physics_terms()          # [(name, kind, fn(fields, inputs) -> mean square)]
        self.weights = {"pairs": float(checked.train["weights"].get("pairs", 1.0)),
                        **{n: float(checked.train["weights"].get(n, 1.0)) for n, _, _ in self.terms}}

    # ---- physics: the file's equations and conditions on the predicted grid (PINO)
    def _physics_terms(self):
        ch = self.checked
        if not (ch.equations or ch.conditions or ch.periodic or ch.constraints or ch.fits):
            return []
        for s in ch.constraints + [c for c, _, _ in ch.fits]:
            raise error("E353", "constraints and fits on an operator's fields are not built yet", s.span)
        for c, *_ in ch.periodic:
            if self.layout != "periodic":
                raise error("E353", "a periodic condition on an operator needs a periodic grid (a periodic solver's)",
                            c.span)
        self.grid = GridSpec.of(ch, self.layout)
        self.interior = jnp.asarray(interior_mask(self.grid))
        consts = dict(ch.consts)
        terms = []
        for i, eq in enumerate(ch.equations):
            if eq.hard is not None:
                raise error("E353", "a `hard` equation on an operator is not built yet", eq.hard.span)
            terms.append((eq.label or f"equation{i + 1}", "equation", self._equation_fn(eq, consts)))
        for i, (cond, faces) in enumerate(ch.conditions):
            if cond.hard is not None:
                self._hard_zero(cond, faces)
                continue
            terms.append((cond.label or f"condition{i + 1}", "condition", self._condition_fn(cond, faces, consts)))
        # the periodic solvers' grids are periodic by construction: `periodic(u, x)` holds exactly
        return terms

    def _hard_zero(self, cond, faces):
        """`u = 0 on FACES hard`: u = φ·N with φ = Π sin(π t) over the axes held at both
        ends (sin(πt/2), cos(πt/2) at one end; t the coordinate scaled to [0, 1]), zero on
        those faces for every input and every grid — PINO's mollifier for Darcy (Li et al.
        2024 multiply by sin(πx) sin(πy)). A non-zero value is not built yet."""
        f = cond.lhs.id if isinstance(cond.lhs, A.Name) else None
        if f not in self.fields or not (isinstance(cond.rhs, A.Num) and cond.rhs.value == 0) or cond.hard.options:
            raise error("E353", "a `hard` condition on an operator is `FIELD = 0 on FACES hard` for now", cond.span,
                        hint="write other conditions without `hard`: they become loss terms")
        sides = self.hard.setdefault(f, {})
        for ax, side in self._face_axes(cond, faces):
            sides.setdefault(ax, set()).add(side)

    def _face_axes(self, cond, faces):
        """[(grid axis, "lo" | "hi")] of a condition's faces; E353 for what is not a face of
        a `nodes` axis (a shaped boundary, a periodic axis)."""
        out = []
        for face in faces:
            if getattr(face, "side", None) is None or face.coord not in self.grid.coords:
                raise error("E353", "conditions on an operator's grid are on faces of a box (`x = 0`, `boundary`)",
                            cond.span)
            ax = self.grid.coords.index(face.coord)
            if self.grid.layouts[ax] == "periodic":
                raise error("E353", f"`{face.coord}` is periodic on this grid: it has no faces to hold a condition on",
                            cond.span, hint="drop the condition: a periodic solver's fields are periodic already")
            out.append((ax, face.side))
        return out

    def _mollifier(self, f, feats):
        """φ of field `f` on the grid whose scaled coordinates are `feats` (*grid, d)."""
        phi = 1.0
        for ax, s in self.hard.get(f, {}).items():
            t = (feats[..., ax] + 1.0) / 2.0
            phi = phi * (jnp.sin(jnp.pi * t) if s == {"lo", "hi"} else
                         jnp.sin(jnp.pi * t / 2) if s == {"lo"} else jnp.cos(jnp.pi * t / 2))
        return phi

    def _equation_fn(self, eq, consts):
        grid, mask = self.grid, self.interior

        def fn(fields, inputs):
            r = residual(eq, {**fields, **inputs}, grid, consts)
            r = sum(q ** 2 for q in r) if isinstance(r, tuple) else r ** 2
            return jnp.sum(r * mask) / (r.shape[0] * jnp.sum(mask))
        return fn

    def _condition_fn(self, cond, faces, consts):
        grid = self.grid
        mask = np.zeros(tuple(grid.sizes), bool)
        for ax, side in self._face_axes(cond, faces):
            idx = [slice(None)] * len(grid.sizes)
            idx[ax] = 0 if side == "lo" else grid.sizes[ax] - 1
            mask[tuple(idx)] = True
        mask = jnp.asarray(mask)

        def fn(fields, inputs):
            env = {**fields, **inputs}
            r = evaluate(cond.lhs, env, grid, consts) - evaluate(cond.rhs, env, grid, consts)
            return jnp.sum(r ** 2 * mask) / (r.shape[0] * jnp.sum(mask))
        return fn

    def loss_terms(self, params, a, u, norm: Normaliser, key=None) -> dict:
        """{term: value} on a batch: "pairs", the mean relative L2 error against `u` (when
        `u` is given), and each equation's and condition's mean square residual on the grid
        (`key` unused: the grid is fixed; point-sampled operators draw points with it)."""
        y = self.apply(params, a, norm)
        out = {}
        if u is not None:
            out["pairs"] = jnp.mean(rel_l2(y, u))
        if self.terms:
            fields = {f: y[..., j] for j, f in enumerate(self.fields)}
            inputs = {n: a[..., j] for j, n in enumerate(self.inputs)}
            for name, _, fn in self.terms:
                out[name] = fn(fields, inputs)
        return out

    def loss(self, params, a, u, norm: Normaliser, key=None):
        """The weighted sum of `loss_terms` (weights from the file's `weights`, default 1)."""
        terms = self.loss_terms(params, a, u, norm)
        return sum(self.weights[k] * v for k, v in terms.items()), terms

    def init(self, key) -> dict:
        return {"nets": {"model": self._init(key)}}

    def apply(self, params, a, norm: Normaliser, features=None):
        """a: (B, *grid, n_inputs) input samples → (B, *grid, n_fields) predicted fields.
        `features`: the grid's scaled coordinates, if not this program's own grid (zero-shot
        evaluation on a finer grid)."""
        f = self.features if features is None else features
        z = (a - jnp.asarray(norm.a_mean, self.dtype)) / jnp.asarray(norm.a_std, self.dtype)
        x = jnp.broadcast_to(f, a.shape[:-1] + f.shape[-1:])
        y = self._apply(params["nets"]["model"], jnp.concatenate([z, x.astype(z.dtype)], axis=-1))
        y = y * jnp.asarray(norm.u_std, self.dtype) + jnp.asarray(norm.u_mean, self.dtype)
        if self.hard:
            y = jnp.stack([y[..., j] * self._mollifier(fl, f) for j, fl in enumerate(self.fields)], axis=-1)
        return y

    def features_for(self, shape) -> jax.Array:
        """Scaled coordinates of a grid of `shape` over the same domain and layout."""
        return self._scaled(grid_points(self.checked, self.layout, shape))

    def _scaled(self, points):
        """Grid points (*grid, d) → the network's coordinate features, scaled to [−1, 1]."""
        cs = [c for c in self.checked.spatial if c.name in self.checked.grid]
        lo, hi = np.array([c.lo for c in cs]), np.array([c.hi for c in cs])
        return jnp.asarray((points - lo) * (2.0 / (hi - lo)) - 1.0, self.dtype)
