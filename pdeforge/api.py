"""The Python front door: `load`/`loads` give a `Problem` of pure JAX functions."""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from pdeforge import modules
from pdeforge.dsl import PdeError, parse
from pdeforge.dsl.check import check
from pdeforge.dsl.source import read_source

if TYPE_CHECKING:       # only for annotations: importing JAX here would slow `pdeforge check`
    import jax
    from pdeforge.dsl.check import Checked
    from pdeforge.operator import OperatorProblem
    from pdeforge.runtime.train import Result

__all__ = ["Problem", "load", "loads", "check_text"]

Params = dict           # the pytree `Problem.init` returns: {"nets": {...}, and learned parameters}


def check_text(text: str, file: str = "<input>", allow_path=()) -> Checked:
    """Parse and check without compiling (no JAX needed).

    Args:
        text: the .pde source.
        file: names the source in diagnostics; relative `use` paths resolve against its directory.
        allow_path: directories outside the file's own from which modules may be read.
    Returns:
        The `Checked` program.
    Raises:
        PdeError: with every diagnostic the parser and checker found.
    """
    prog = parse(text, file)
    lib = modules.resolve(prog, allow_path)      # `use` lines: stdlib modules and local files
    return check(prog, lib)


def precision(settings: dict, float64: bool | None):
    """(float64, dtype): the caller's choice, else the file's `precision`; double precision
    switches JAX's x64 mode on (for the process: JAX has no per-array switch)."""
    import jax
    if float64 is None:
        float64 = settings.get("precision") == "float64"
    if float64:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return bool(float64), (jnp.float64 if float64 else jnp.float32)


class Compiled:
    """What every compiled program shows: its fields and the checker's warnings."""

    checked: Checked

    @property
    def fields(self) -> list[str]:
        """The field names, in declared order."""
        return list(self.checked.fields)

    @property
    def warnings(self) -> list:
        """The checker's warnings (`Diagnostic`s; the CLI prints them)."""
        return self.checked.warnings


class Problem(Compiled):
    """A compiled problem. `init`, `residuals`, `loss`, `loss_terms`, `predict` and
    `exact` are pure JAX functions: they compose with jax.jit, jax.grad and jax.vmap.
    Build one with `load` or `loads`.

    Attributes:
        checked: the `Checked` program; `ir` its symbolic IR; `lowered` the JAX kernels.
        settings: the `train` block's settings (precision, sampler, seed, ...).
        float64: whether it computes in double precision; `dtype` the matching JAX dtype.
        spec_hash: SHA-256 of the source text, recorded in every run.
    """

    def __init__(self, text: str, file: str = "<input>", float64: bool | None = None, allow_path=(), _checked=None):
        """Args: as `loads`. Raises: PdeError for any mistake in the source or its data."""
        from pdeforge.compiler import Lowered, build_ir
        self.text, self.file = text, file
        self.checked = _checked or check_text(text, file, allow_path)
        self.settings = dict(self.checked.train["settings"])
        self.float64, self.dtype = precision(self.settings, float64)
        try:
            self.ir = build_ir(self.checked)
            self.lowered = Lowered(self.ir, self.dtype)
            if self.checked.fits:       # observations: fixed points of their own region
                from pdeforge.runtime.observations import load_observations
                self.lowered.data = load_observations(self.lowered, file, allow_path)
        except PdeError as e:
            e.file, e.source = e.file or file, e.source or text
            raise
        self.spec_hash = hashlib.sha256(text.encode()).hexdigest()

    # pure functions
    def init(self, key: jax.Array) -> Params:
        """Args: key, a JAX PRNG key. Returns: fresh parameters (a pytree)."""
        return self.lowered.init(key)

    def residuals(self, params: Params, points: dict) -> dict:
        """Args: params; points, a batch as `sample` returns ({region: (n, d) array}).
        Returns: {term name: its residual at each of its points}."""
        return self.lowered.residuals(params, points)

    def loss(self, params: Params, batch: dict) -> jax.Array:
        """Args: params; batch as `sample` returns. Returns: the total loss, a scalar
        (the sum of the terms' mean squared residuals)."""
        return self.lowered.loss(params, batch)[0]

    def loss_terms(self, params: Params, batch: dict) -> tuple[jax.Array, dict]:
        """Args: as `loss`. Returns: (total, {term name: mean squared residual})."""
        return self.lowered.loss(params, batch)

    def predict(self, params: Params, coords) -> dict:
        """Args: params; coords, an (n, d) array with columns in `self.coords` order.
        Returns: {field name: (n,) array} of the models' values (hard constraints applied)."""
        return self.lowered.predict(params, coords)

    def exact(self, coords) -> dict:
        """Args: coords as in `predict`. Returns: {field: (n,) array} of the file's `exact` solutions."""
        return self.lowered.exact(coords)

    # conveniences
    @property
    def coords(self) -> list[str]:
        """The coordinate names, spatial first (declared order), then time."""
        return self.lowered.coords

    def sample(self, key, counts: dict | None = None) -> dict:
        """Args: key, an int seed or a JAX key; counts, {region: points} (default: the
        file's `points`). Returns: a batch, {region: (n, d) array}."""
        from pdeforge.runtime.sampling import sample_batch
        return sample_batch(self, key, counts)

    def train(self, **kw) -> Result:
        """Train with the file's recipe; keywords override it (those of
        `runtime.train.train`: steps, seed, out, resume, progress, ...).
        Returns: a `runtime.train.Result` (params, history, errors, ...)."""
        from pdeforge.runtime.train import train
        return train(self, **kw)


def loads(text: str, file: str = "<input>", float64: bool | None = None, allow_path=()) -> Problem | OperatorProblem:
    """Compile .pde source text: a `Problem`, or an `OperatorProblem` (pdeforge/operator.py)
    when a field is `given` an input function.

    Args:
        text: the source.
        file: names the source in error messages; relative paths in it (`use "net.pde"`,
            data files) resolve against its directory when one is named, else the current one.
        float64: compute in double precision; None (default) follows the file's `precision`.
        allow_path: directories outside the file's own from which modules and data may be read.
    Returns:
        The compiled `Problem` (or `OperatorProblem`).
    Raises:
        PdeError: for any mistake in the source, its modules or its data.
    """
    checked = check_text(text, file, allow_path)
    if checked.is_operator:
        from pdeforge.operator import OperatorProblem
        return OperatorProblem(checked, text, file, float64, allow_path)
    return Problem(text, file, float64, allow_path, _checked=checked)


def load(path, float64: bool | None = None, allow_path=()) -> Problem | OperatorProblem:
    """Compile a .pde file.

    Args:
        path: the file (str or Path); it must be a regular file of at most 1 MB.
        float64, allow_path: as `loads`.
    Returns:
        The compiled `Problem` (or `OperatorProblem`).
    Raises:
        PdeError: E402 when the file is missing or not a regular file, E005 when too
            large, else as `loads`.
    """
    return loads(read_source(path), str(path), float64, allow_path)
