"""Operator programs lowered to JAX: a field `given` input functions is one network that
maps the inputs sampled on the grid to the field on the same grid.

The network sees, at every grid point, the input functions' values there (normalised)
and the point's coordinates scaled to [-1, 1] (Li et al. 2021 concatenate the grid the
same way); an FNO mixes along the grid through its spectral layers, a pointwise network
does not. Outputs are de-normalised with the training pairs' statistics, which the
runtime computes once and passes in (`Normaliser`): fixed, never trained.

Not here yet (each raised as E353 with what to write instead): physics-informed operator
training (equations on a field given an input), several models, fields of time."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from pdeforge.dsl.diagnostics import PdeError, error
from pdeforge.dsl.vocabulary import SOLVERS

from . import network
from .network.layers.spectral import check_grid
from .lower import _attribute

__all__ = ["OperatorLowered", "Normaliser", "grid_points"]


@dataclass(frozen=True)
class Normaliser:
    """Scalar mean and standard deviation of the inputs (per input function) and of the
    outputs (per field), from the training pairs: the network sees (a − mean) / std."""
    a_mean: np.ndarray
    a_std: np.ndarray
    u_mean: np.ndarray
    u_std: np.ndarray

    @staticmethod
    def of(a, u):
        """From training pairs a (N, *grid, n_inputs), u (N, *grid, n_fields)."""
        ax = tuple(range(a.ndim - 1))
        return Normaliser(a.mean(ax), a.std(ax) + 1e-12, u.mean(ax), u.std(ax) + 1e-12)

    def arrays(self) -> dict:
        return {"a_mean": self.a_mean, "a_std": self.a_std, "u_mean": self.u_mean, "u_std": self.u_std}

    @staticmethod
    def from_arrays(d: dict):
        return Normaliser(*(np.asarray(d[k]) for k in ("a_mean", "a_std", "u_mean", "u_std")))


def grid_points(checked, layout: str) -> np.ndarray:
    """The grid's points, shape (*sizes, d), coordinates in the domain's order. `periodic`:
    x_j = lo + (hi − lo) j / s (the right end is the left one); `nodes`: both ends."""
    axes = []
    for c in checked.spatial:
        if c.name in checked.grid:
            s = checked.grid[c.name]
            t = np.arange(s) / s if layout == "periodic" else np.linspace(0.0, 1.0, s)
            axes.append(c.lo + (c.hi - c.lo) * t)
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)


class OperatorLowered:
    """Pure functions of an operator program: `init(key)`, `apply(params, a, norm)`."""

    def __init__(self, checked, dtype=jnp.float32):
        self.checked, self.dtype = checked, dtype
        p = checked.program
        models = checked.models
        eqs = checked.equations + [c for c, _ in checked.conditions]
        if eqs:
            raise error("E353", "physics-informed operator training (equations and conditions on a field given an "
                        "input function) is not built yet", eqs[0].span,
                        hint="train on paired data: remove the equations and conditions, keep `pairs from ...`")
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
        lo = np.array([c.lo for c in checked.spatial if c.name in checked.grid])
        hi = np.array([c.hi for c in checked.spatial if c.name in checked.grid])
        self.features = jnp.asarray((self.points - lo) * (2.0 / (hi - lo)) - 1.0, dtype)
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
        return y * jnp.asarray(norm.u_std, self.dtype) + jnp.asarray(norm.u_mean, self.dtype)

    def features_for(self, shape) -> jax.Array:
        """Scaled coordinates of a grid of `shape` over the same domain and layout."""
        ch = self.checked
        grid = dict(zip(ch.grid, shape))
        pts = grid_points(_Regrid(ch, grid), self.layout)
        lo = np.array([c.lo for c in ch.spatial if c.name in grid])
        hi = np.array([c.hi for c in ch.spatial if c.name in grid])
        return jnp.asarray((pts - lo) * (2.0 / (hi - lo)) - 1.0, self.dtype)


class _Regrid:
    """A checked program seen with another grid (only what `grid_points` reads)."""

    def __init__(self, checked, grid):
        self.spatial, self.grid = checked.spatial, grid
