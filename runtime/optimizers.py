"""The optimiser stages as optax transformations: `BUILDERS` holds one builder per entry of
`STAGES` in dsl/vocabulary.py, under the same name. The table owns each stage's options and
their defaults; a builder receives them all filled in (`stage_options`) and reads them by
key, so an option the table lacks fails loudly instead of taking a default of its own.

The training loop calls `build`; how it steps a stage (per-term gradients, line search)
comes from the stage's flags in the table, not from here."""
from __future__ import annotations

from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import optax

from pdeforge.dsl.diagnostics import error
from pdeforge.dsl.vocabulary import stage_options
from .multiadam import multiadam

__all__ = ["BUILDERS", "build", "schedule", "decay_mask"]

# the decay rate of `schedule = exponential` given without `decay`; the table's `decay`
# default stays None because leaving it out is what makes the schedule constant
EXPONENTIAL_DECAY = 0.9


def schedule(stage: Mapping) -> optax.Schedule:
    """The learning-rate schedule of a stage (given options, or a checked stage): constant,
    exponential (`decay` every `decay_every` steps) or cosine over the stage's steps,
    after a linear `warmup` from 0."""
    o = stage_options(stage)
    lr = float(o["lr"])
    warm = int(o["warmup"] or 0)
    kind = o["schedule"] or ("exponential" if o["decay"] else "constant")
    if kind == "cosine":
        sched = optax.cosine_decay_schedule(lr, max(1, int(o["steps"]) - warm))
    elif kind == "exponential":
        sched = optax.exponential_decay(lr, int(o["decay_every"]),
                                        float(EXPONENTIAL_DECAY if o["decay"] is None else o["decay"]))
    else:
        sched = optax.constant_schedule(lr)
    if warm:
        sched = optax.join_schedules([optax.linear_schedule(0.0, lr, warm), sched], [warm])
    return sched


def decay_mask(lowered):
    """False for the fixed random arrays (Fourier, Gaussian features): weight decay
    must not shrink what is never trained."""
    from pdeforge.compiler.network import fixed_shapes
    fixed = {(m, n, k) for m, g in lowered.graphs.items() for n, a in g.nodes(data=True) for k in fixed_shapes(a)}

    def mask(params):
        return {"nets": {m: {n: {k: (m, n, k) not in fixed for k in leaves} for n, leaves in layers.items()}
                         for m, layers in params["nets"].items()},
                **{k: jax.tree_util.tree_map(lambda _: True, v) for k, v in params.items() if k != "nets"}}
    return mask


def _clipped(opt, o):
    """Gradient clipping by global norm first, where the stage asks for it."""
    return optax.chain(optax.clip_by_global_norm(o["clip"]), opt) if o["clip"] else opt


def _adam(o, obj):
    return _clipped(optax.adam(schedule(o), b1=o["b1"], b2=o["b2"]), o)


def _adamw(o, obj):
    return _clipped(optax.adamw(schedule(o), b1=o["b1"], b2=o["b2"], weight_decay=o["weight_decay"],
                                mask=decay_mask(obj.lowered)), o)


def _sgd(o, obj):
    # sgd has no schedule options: a constant schedule, which (unlike a bare number) keeps a
    # step count in the state, as checkpoints written so far expect
    return _clipped(optax.sgd(optax.constant_schedule(float(o["lr"])), momentum=o["momentum"]), o)


def _lbfgs(o, obj):
    # optax's L-BFGS with its zoom line search: every requested iteration runs
    return optax.lbfgs(learning_rate=o["lr"], memory_size=int(o["memory"]))


def _multiadam(o, obj):
    # one moment pair per loss term; the terms' fixed weights weigh their normalised updates
    n = len(obj.names)
    return multiadam(schedule(o), n, b1=o["b1"], b2=o["b2"], eps=o["eps"], weights=obj.fixed / n)


# name -> builder(options, objective); tests/test_stages.py checks these names are STAGES'
BUILDERS: Mapping[str, Callable[[dict, object], optax.GradientTransformation]] = {
    "adam": _adam, "adamw": _adamw, "sgd": _sgd, "lbfgs": _lbfgs, "multiadam": _multiadam}


def _strongly_typed(opt):
    """`opt` whose `init` gives every leaf the type `update` returns it with. optax.lbfgs
    starts its line-search info as weakly typed scalars that its update makes strong, so
    the training loop's jitted chunk, compiled for the first chunk's state, compiled again
    for the second's. The values are unchanged (a restored checkpoint is strong already)."""
    def init(params):
        return jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.asarray(x).dtype), opt.init(params))
    return opt._replace(init=init)


def build(stage: Mapping, obj) -> optax.GradientTransformation:
    """The optax transformation of one checked stage (`{"optimizer": name, "steps": n, ...}`),
    for the objective `obj` (`runtime/objective.Objective`: its terms and lowered program)."""
    name = stage["optimizer"]
    if name not in BUILDERS:
        raise error("E141", f"unknown optimiser `{name}`")
    return _strongly_typed(BUILDERS[name](stage_options(stage), obj))
