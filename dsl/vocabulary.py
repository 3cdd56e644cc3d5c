"""The language's fixed vocabularies, one table each, read by every stage that needs them.

- `FUNCTIONS`: the math functions an expression may call. Each entry names the function
  in every stage: `math` evaluates constants here in the checker (and in architecture
  arguments), `sympy` names the sympy function the compiler builds, `jnp` the
  `jax.numpy` function it lowers to. The DSL imports neither sympy nor JAX, so the last
  two are attribute names that `compiler/symbolic.py` and `compiler/lower.py` resolve.
- `CONSTANTS`: the named constants.
- `STAGES`: the optimiser stages of a `train:` block: each stage's options with their
  defaults, and the flags the training loop branches on. The checker reads the option
  names (E141, E130); `runtime/optimizers.py` builds the optax transformation from the
  options with these defaults filled in.

- `SOLVERS`: the reference solvers `pairs from NAME(...)` may name (pdeforge/datasets
  makes the pairs): options with defaults, the grid's dimension, the input's source.

Adding a math function, an optimiser stage or a reference solver starts with one entry here
(docs/architecture.md has the recipes)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping

__all__ = ["Function", "FUNCTIONS", "CONSTANTS", "Stage", "STAGES", "stage_options", "Solver", "SOLVERS"]


@dataclass(frozen=True)
class Function:
    """One math function of the language (all take one argument)."""
    math: Callable[[float], float]
    sympy: str
    jnp: str


FUNCTIONS: Mapping[str, Function] = MappingProxyType({
    "sin": Function(math.sin, "sin", "sin"),
    "cos": Function(math.cos, "cos", "cos"),
    "tan": Function(math.tan, "tan", "tan"),
    "exp": Function(math.exp, "exp", "exp"),
    "log": Function(math.log, "log", "log"),
    "sqrt": Function(math.sqrt, "sqrt", "sqrt"),
    "tanh": Function(math.tanh, "tanh", "tanh"),
    "sinh": Function(math.sinh, "sinh", "sinh"),
    "cosh": Function(math.cosh, "cosh", "cosh"),
    "abs": Function(abs, "Abs", "abs"),
})

CONSTANTS: Mapping[str, float] = MappingProxyType({"pi": math.pi, "e": math.e})

# options every first-order stage with a learning-rate schedule shares (runtime/optimizers.py `schedule`)
_SCHEDULE = {"lr": 1e-3, "decay": None, "decay_every": 1000, "warmup": 0, "schedule": None}


@dataclass(frozen=True)
class Stage:
    """One optimiser stage: `options` maps each option the file may give to its default
    (None: unset, the builder decides); `per_term` means the step needs one gradient per
    loss term (MultiAdam); `line_search` means the step evaluates the loss itself (the
    loop passes value and gradient and watches for a stall: its `patience` option)."""
    options: Mapping[str, object] = field(default_factory=dict)
    per_term: bool = False
    line_search: bool = False


STAGES: Mapping[str, Stage] = MappingProxyType({
    "adam": Stage({**_SCHEDULE, "b1": 0.9, "b2": 0.999, "clip": None}),
    "adamw": Stage({**_SCHEDULE, "b1": 0.9, "b2": 0.999, "weight_decay": 1e-4, "clip": None}),
    "sgd": Stage({"lr": 1e-3, "momentum": None, "clip": None}),
    "lbfgs": Stage({"memory": 10, "lr": None, "patience": 100}, line_search=True),
    "multiadam": Stage({**_SCHEDULE, "b1": 0.99, "b2": 0.99, "eps": 1e-20}, per_term=True),
})


def stage_options(stage: Mapping) -> dict:
    """A checked stage (`{"optimizer": name, "steps": n, **given}`) with every option of its
    kind present: the given value, else the table's default."""
    spec = STAGES[stage["optimizer"]]
    return {**spec.options, **{k: v for k, v in stage.items() if k not in ("optimizer", "steps")},
            "optimizer": stage["optimizer"], "steps": stage["steps"]}


@dataclass(frozen=True)
class Solver:
    """A reference solver that makes input/output pairs (`pairs from NAME(...)`): `options`
    maps each option to its default; `dims` is the number of spatial coordinates of its
    grid; `source` the kind of input it solves for (`grf`: a periodic field on [0, 1];
    `threshold`: a two-valued coefficient on the unit square; `rbf`: a squared-exponential
    Gaussian process at the nodes of [0, 1]); `grid` how its grid is laid
    out (`periodic`: x_j = j/s; `nodes`: x_i = i/(s-1), boundary included)."""
    options: Mapping[str, float]     # `fine` (0: none): solve at this finer grid and restrict to `grid`
    dims: int
    source: str
    grid: str
    cite: str = ""


SOLVERS: Mapping[str, Solver] = MappingProxyType({
    "burgers": Solver({"nu": 0.1, "t": 1.0, "dt": 1e-3, "fine": 0}, 1, "grf", "periodic",
                      "u_t + u u_x = nu u_xx, periodic on [0, 1], pseudo-spectral (pdeforge/datasets/burgers.py)"),
    "antiderivative": Solver({}, 1, "rbf", "nodes",
                             "ds/dx = f, s(0) = 0 on [0, 1], f piecewise linear between the grid's nodes "
                             "(pdeforge/datasets/antiderivative.py)"),
    "diffusion_reaction": Solver({"diffusion": 0.01, "reaction": 0.01, "fine": 0}, 1, "rbf", "nodes",
                                 "s_t = diffusion s_xx + reaction s^2 + f(x) on [0, 1]^2, s = 0 at t = 0 and "
                                 "x = 0, 1; TR-BDF2 (pdeforge/datasets/diffusion_reaction.py)"),
    "darcy": Solver({"fine": 0}, 2, "threshold", "nodes",
                    "-div(a grad u) = 1 on the unit square, u = 0 on the boundary (pdeforge/datasets/darcy.py)"),
})
