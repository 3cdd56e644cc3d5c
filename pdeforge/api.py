"""The Python front door: `load`/`loads` give a `Problem` of pure JAX functions."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pdeforge import modules, stdlib
from pdeforge.dsl import PdeError, parse
from pdeforge.dsl.check import check


def _library_module(name):
    return modules._stdlib_module(name)


def _check(text, file, allow=()):
    prog = parse(text, file)
    lib = modules.resolve(prog, allow)      # `use` lines: stdlib modules and local files
    return check(prog, lib)


def check_text(text: str, file: str = "<input>", allow_path=()):
    """Parse and check; return the `Checked` program (raises PdeError). Files outside
    the .pde file's directory (modules, data) are read only under `allow_path`."""
    return _check(text, file, allow_path)


class Problem:
    """A compiled problem. `init`, `residuals`, `loss`, `predict`, `exact` are pure
    JAX functions: they compose with jax.jit, jax.grad and jax.vmap."""

    def __init__(self, text: str, file: str = "<input>", float64: bool | None = None, allow_path=()):
        import jax
        from pdeforge.compiler import Lowered, build_ir
        self.text, self.file = text, file
        self.checked = _check(text, file, allow_path)
        self.settings = dict(self.checked.train["settings"])
        if float64 is None:
            float64 = self.settings.get("precision") == "float64"
        self.float64 = bool(float64)
        if self.float64:
            jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        self.dtype = jnp.float64 if self.float64 else jnp.float32
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
    def init(self, key):
        return self.lowered.init(key)

    def residuals(self, params, points):
        return self.lowered.residuals(params, points)

    def loss(self, params, batch):
        return self.lowered.loss(params, batch)[0]

    def loss_terms(self, params, batch):
        return self.lowered.loss(params, batch)

    def predict(self, params, coords):
        return self.lowered.predict(params, coords)

    def exact(self, coords):
        return self.lowered.exact(coords)

    # conveniences
    @property
    def coords(self):
        return self.lowered.coords

    @property
    def fields(self):
        return list(self.checked.fields)

    @property
    def warnings(self):
        return self.checked.warnings

    def sample(self, key, counts=None):
        from pdeforge.runtime.sampling import sample_batch
        return sample_batch(self, key, counts)

    def train(self, **kw):
        """Train with the file's recipe (overridable); returns a `runtime.train.Result`."""
        from pdeforge.runtime.train import train
        return train(self, **kw)


def loads(text: str, file: str = "<input>", float64: bool | None = None, allow_path=()) -> Problem:
    """Compile .pde source text. Relative paths in it (`use "net.pde"`, data files)
    resolve against the directory of `file` when one is named, else the current
    directory; `file` also names the source in error messages."""
    return Problem(text, file, float64, allow_path)


def load(path, float64: bool | None = None, allow_path=()) -> Problem:
    p = Path(path)
    return Problem(p.read_text(), str(p), float64, allow_path)
