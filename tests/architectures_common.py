"""Helpers shared by the architecture tests (test_architectures*.py): building the layer
graph of a model line over the stdlib, perturbing initial weights, counting dense
parameters, and a small problem for diagnostics and whole-program tests."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import pdeforge
from pdeforge import modules
from pdeforge.compiler import network
from pdeforge.dsl import PdeError, parse
from pdeforge.dsl import ast as A

X64 = jax.enable_x64   # float64 only inside these blocks: other tests keep float32


def build(model_line: str, n_in: int, n_out: int, extra: str = "", optimise=True):
    """The layer graph of `model u = ...` (plus `extra` definitions) over the stdlib."""
    prog = parse(extra + "\nmodel u = " + model_line + "\n", "<test>")
    modules._own(prog)
    archs = {}
    for lib in [modules._stdlib_module("nets")] + [prog]:
        archs.update({a.name: a for a in lib.of(A.Architecture)})
    m = prog.of(A.Model)[0]
    return network.build_graph(archs[m.arch], m.call, n_in, n_out, archs=archs, file="<test>", optimise=optimise)


def perturbed(params, key, scale=0.3):
    """Init weights plus noise, so zero biases and α = 0 do not hide mistakes."""
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree_util.tree_unflatten(
        tree, [p + scale * jax.random.normal(k, jnp.shape(p), p.dtype) for p, k in zip(leaves, keys)])


def dense_count(*sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


PROBLEM = """problem p
domain x in [0, 1]
time t in [0, 1]
field u(x, t)
equation: dt(u) = d(u, x, 2)
condition: u = sin(pi * x) on t = 0
condition: u = 0 on x = 0, x = 1
"""


def codes(text, file="<input>"):
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text, file)
    return e.value

