"""The front door for operator programs (a field `given` an input function): `loads`
returns an `OperatorProblem` for them. Its `predict(params, inputs)` maps input functions
on the grid to the fields on the grid, a pure JAX function of `params` once `norm` is
set; `pairs()` gives the paired data (read from the file, or made by the reference
solver through `pdeforge.datasets`, cached); `train()` fits the operator to them."""
from __future__ import annotations

import hashlib

import numpy as np

from pdeforge.api import Compiled
from pdeforge.dsl import PdeError

__all__ = ["OperatorProblem", "DEFAULT_SOLVER_PAIRS", "DATA_SEED"]

DEFAULT_SOLVER_PAIRS = {"train": 1000, "test": 200}     # the FNO paper's Burgers split
DATA_SEED = 0       # the data do not change with the training seed


class OperatorProblem(Compiled):
    """A compiled operator program.

    Attributes:
        checked: the `Checked` program; `lowered` its `compiler.operator.OperatorLowered`.
        settings, float64, dtype, spec_hash: as `Problem`.
        norm: the `Normaliser` of the training pairs (set by `pairs()`, saved with a run).
    """

    is_operator = True

    def __init__(self, checked, text: str, file: str = "<input>", float64: bool | None = None, allow_path=()):
        from pdeforge.api import precision
        from pdeforge.compiler.operator import OperatorLowered
        from pdeforge.compiler.operator_points import PointOperatorLowered, is_pointwise
        self.text, self.file, self.allow_path = text, file, tuple(allow_path)
        self.checked = checked
        self.settings = dict(checked.train["settings"])
        self.float64, self.dtype = precision(self.settings, float64)
        try:
            # a model that maps one point at a time (a DeepONet) runs on sampled points
            lowering = PointOperatorLowered if is_pointwise(checked) else OperatorLowered
            self.lowered = lowering(checked, self.dtype)
            if lowering is PointOperatorLowered:
                from pdeforge.runtime.sampling import region_counts
                self.lowered.region_n = region_counts(self.lowered, self.lowered.counts)
        except PdeError as e:
            e.file, e.source = e.file or file, e.source or text
            raise
        self.spec_hash = hashlib.sha256(text.encode()).hexdigest()
        self.norm = None
        self._data = None

    @property
    def inputs(self) -> list[str]:
        """The input functions, in the order of the network's input channels."""
        return list(self.lowered.inputs)

    def init(self, key) -> dict:
        """Args: a JAX PRNG key. Returns: fresh network parameters."""
        return self.lowered.init(key)

    def pairs(self) -> dict:
        """The training and test pairs: {"a_train", "u_train", "a_test", "u_test"}, inputs
        (N, *grid, n_inputs) and fields (N, *grid, n_fields); sets `norm` from the training set."""
        if self._data is None:
            from pdeforge.compiler.operator import Normaliser
            from pdeforge.runtime import pairs as P
            ch, low = self.checked, self.lowered
            labels = low.weights["pairs"] > 0
            try:
                if "solver" in ch.pairs and not labels:
                    self._data = self._label_free()
                else:
                    if "solver" in ch.pairs:
                        a, u = self._solve()
                    else:
                        a, u = P.stack(low, P.from_file(ch, low, self.file, self.allow_path))
                    self._data = P.split(ch, a, u, ch.pairs["span"])
            except PdeError as e:
                e.file, e.source = e.file or self.file, e.source or self.text
                raise
            if not labels:      # physics alone: the training outputs are never read, not even for scaling
                self._data["u_train"] = None
            if self.norm is None:
                d = self._data
                self.norm = Normaliser.of(d["a_train"], d["u_train"])
        return self._data

    def _label_free(self):
        """Training inputs drawn from the input's source, never solved for; held-out pairs
        from another stream of the same source, solved, to measure the error."""
        from pdeforge import datasets
        counts = {**DEFAULT_SOLVER_PAIRS, **self.checked.train.get("pairs", {})}
        name, params, s = self._solver_args()
        a = datasets.inputs(name, counts["train"], s, seed=DATA_SEED, **params)
        test = datasets.generate(name, counts["test"], s, seed=DATA_SEED + 1, **params)
        return {"a_train": a[..., None], "u_train": None, "a_test": test["a"][..., None], "u_test": test["u"][..., None]}

    def _solver_args(self):
        ch, low = self.checked, self.lowered
        fn = ch.inputs[low.inputs[0]]
        params = dict(ch.pairs["options"])
        if fn.kind == "rbf":
            params.update(length=fn.length, variance=fn.variance)
            t = ch.time
            if t is not None and t.name in ch.grid:       # the fields' time nodes
                params["nt"] = ch.grid[t.name]
        else:
            params.update(sigma=fn.sigma, tau=fn.tau, gamma=fn.gamma)
        if "fine" in params:
            params["fine"] = int(params["fine"]) or None      # 0: solve at the grid itself
        if fn.kind == "threshold":
            params.update(high=fn.high, low=fn.low)
        return ch.pairs["solver"], params, ch.grid[fn.coords[0]]

    def _solve(self):
        from pdeforge import datasets
        counts = {**DEFAULT_SOLVER_PAIRS, **self.checked.train.get("pairs", {})}
        name, params, s = self._solver_args()
        d = datasets.generate(name, counts["train"] + counts["test"], s, seed=DATA_SEED, **params)
        return d["a"][..., None], d["u"][..., None]

    def predict(self, params, inputs):
        """Args: params; inputs, an array (N, *grid) for one input function or (N, *grid,
        n_inputs), or {input name: (N, *grid)}. Returns: {field: (N, *grid)}."""
        import jax.numpy as jnp
        if self.norm is None:
            raise ValueError("no normaliser yet: call pairs() or load a run's norm first")
        if isinstance(inputs, dict):
            a = jnp.stack([jnp.asarray(inputs[n], self.dtype) for n in self.inputs], axis=-1)
        else:
            a = jnp.asarray(inputs, self.dtype)
            if a.ndim == len(getattr(self.lowered, "in_shape", self.lowered.shape)) + 1:
                a = a[..., None]
        shape = tuple(a.shape[1:-1])
        sensors = getattr(self.lowered, "in_shape", None)    # point-sampled: the inputs are fixed sensors
        if sensors is not None:
            if shape != tuple(sensors):
                raise ValueError(f"inputs of shape {shape}; this operator's sensors are {tuple(sensors)}")
            shape = tuple(self.lowered.shape)
        feats = None if shape == tuple(self.lowered.shape) else self.lowered.features_for(shape)
        y = self.lowered.apply(params, a, self.norm, feats)
        return {f: y[..., j] for j, f in enumerate(self.fields)}

    def train(self, **kw):
        """Train on `pairs()`; keywords as `runtime.operator_train.train_operator`."""
        from pdeforge.runtime.operator_train import train_operator
        return train_operator(self, self.pairs(), **kw)


def norm_arrays(problem) -> dict:
    """The normaliser as arrays, for a run's params.npz (`norm/...`)."""
    return {f"norm/{k}": np.asarray(v) for k, v in problem.norm.arrays().items()}
