"""Contract tests over the optimiser stage table (`STAGES` in dsl/vocabulary.py), the way
optax tests every optimiser with one shared test: every stage has a builder, trains a tiny
problem with its table defaults, and resumes mid-stage bit-identically."""
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pdeforge
from pdeforge.dsl.vocabulary import STAGES, stage_options
from pdeforge.runtime import checkpoint
from pdeforge.runtime.objective import Objective
from pdeforge.runtime.optimizers import BUILDERS, build
from pdeforge.runtime.train import train

# 1-D Poisson (examples/poisson1d.pde), small: two loss terms, so per-term stages have terms to split
SRC = """
problem stages
domain x in [-1, 1]
field u(x)
equation pde:   -d(u, x, 2) = pi^2 * sin(pi * x)
condition ends: u = 0 on x = -1, x = 1
model u = mlp(width = 8, depth = 2)
train:
  points interior = 64, boundary = 2
  STAGE for 12 steps
  log_every = 3
  checkpoint_every = 6
"""


def test_every_stage_has_a_builder_and_every_builder_a_stage():
    assert set(BUILDERS) == set(STAGES)


def test_stage_options_fill_the_table_defaults_under_what_is_given():
    for name, spec in STAGES.items():
        o = stage_options({"optimizer": name, "steps": 5})
        assert o == {**spec.options, "optimizer": name, "steps": 5}
        first = next(iter(spec.options))
        assert stage_options({"optimizer": name, "steps": 5, first: 7})[first] == 7


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_state_keeps_its_types_across_a_step(name):
    """`init` gives every leaf the type (and weak type) one `update` returns it with, so the
    training loop's jitted chunk compiles once per stage (optax.lbfgs alone did not)."""
    prob = pdeforge.loads(SRC.replace("STAGE", name))
    obj = Objective(prob.lowered, prob.checked.train)
    opt = build({"optimizer": name, "steps": 4}, obj)
    params = prob.init(jax.random.PRNGKey(0))
    state = opt.init(params)
    batch = prob.sample(0)

    @jax.jit
    def step(params, state):
        if STAGES[name].per_term:
            L, vjp = jax.vjp(lambda p: obj.terms(p, batch)[0], params)
            grads, = jax.vmap(vjp)(jnp.eye(L.shape[0], dtype=L.dtype))
            return opt.update(grads, state, params)[1]
        f = lambda p: obj.total(p, batch, obj.init_state())
        if STAGES[name].line_search:
            value, grad = optax.value_and_grad_from_state(f)(params, state=state)
            return opt.update(grad, state, params, value=value, grad=grad, value_fn=f)[1]
        return opt.update(jax.grad(f)(params), state, params)[1]

    after = step(params, state)
    kinds = lambda s: [(x.dtype, x.shape, x.weak_type) for x in map(jnp.asarray, jax.tree_util.tree_leaves(s))]
    assert jax.tree_util.tree_structure(after) == jax.tree_util.tree_structure(state)
    assert kinds(after) == kinds(state)


def _leaves(p):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(p)]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_trains_and_resumes_bit_identically(name, tmp_path):
    """Every stage, with its table defaults: a finite loss that falls, and a run resumed from
    the checkpoint written halfway through the stage ends exactly where the uninterrupted
    run does (parameters and every logged loss)."""
    prob = pdeforge.loads(SRC.replace("STAGE", name))
    half = tmp_path / "half"

    def keep_halfway(rec):
        if rec["step"] == 9:        # the checkpoint of step 6 (written after its log) is on disk
            half.mkdir()
            shutil.copy(tmp_path / "full" / checkpoint.NAME, half / checkpoint.NAME)

    full = train(prob, progress="quiet", out=tmp_path / "full", on_log=keep_halfway)
    assert full.steps == 12 and full.stopped is None
    losses = [h["loss"] for h in full.history]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]

    meta = checkpoint.load(half)["meta"]
    assert meta["done"] == 6 and meta["stage"] == 0 and meta["in_stage"] == 6
    resumed = train(prob, progress="quiet", out=half, resume=half)
    assert resumed.steps == 12
    for a, b in zip(_leaves(full.params), _leaves(resumed.params)):
        np.testing.assert_array_equal(a, b)
    assert [h["loss"] for h in resumed.history] == losses
