"""Contract tests over the layer-kind registry (`compiler/network/layers`), one shared
test for every entry of `KINDS`, the way optax tests every optimiser: each kind is
built from a small architecture that uses it (`EXAMPLES`, which must name every
registered kind), and then, for every node of that kind,

  * its initial arrays have exactly the declared `shapes` + `fixed` names, shapes and
    the requested dtype (float32 and float64);
  * its `apply` gives a finite (N, width) value on a batch;
  * its first and second derivatives through the Taylor-mode engine
    (`compiler.derivatives.evaluate`) equal jax.jacfwd / jax.hessian, per point;
  * `describe` returns a string; a kind called by name has its `build`.

The whole network built from each example passes the same derivative check. A new
kind added by a test fixture (test_layers_new_kind.py) passes the same contract."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from architectures_common import build

from pdeforge.compiler.derivatives import Plan, evaluate
from pdeforge.compiler import network
from pdeforge.compiler.network import ACTIVATIONS, KINDS, make_apply, make_init

X64 = jax.enable_x64
N, D = 5, 2           # points in a batch, inputs of every example network
KEYS = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), ("lap", 0)]


def arch(body: str) -> str:
    """An architecture `k()` with `body` (lines of its own, `return` included)."""
    return "architecture k():\n" + "".join(f"  {line}\n" for line in body.strip().split("\n"))


def ret(layer: str) -> str:
    return arch(f"return dense({layer}, outputs)")


# op -> the architectures that make a node of that kind (built without the graph passes,
# so that elementwise nodes stay themselves; `fused` is the passes' own node). Every key of
# KINDS must be here: a kind registered without an example fails `test_every_kind_has_an_example`
# and its own `test_kind_contract[op]`.
EXAMPLES = {
    "input": [ret("inputs")],
    "output": [ret("inputs")],
    "dense": [ret("dense(inputs, 3)"), ret("dense(inputs, 3, init = he, bias = 0)"),
              ret("dense(inputs, 3, rwf = 0.5, rwf_std = 0.2)"), ret("dense(inputs, 3, sign = (1, -1))"),
              ret("dense(inputs, 3, init = siren(30))"), ret("dense(inputs, 3, init = siren_first)")],
    "sandwich": [ret("sandwich_dense(inputs, 3, scale = 2, activation = tanh)"), ret("sandwich_dense(inputs, 3)")],
    "lipschitz": [ret("lipschitz_dense(inputs, 3, scale = 0.5)")],
    "kan": [ret("kan_layer(inputs, 3, grid = 4, order = 3)")],
    "act": [ret(f"{fn}(dense(inputs, 3))") for fn in ACTIVATIONS],
    "add": [ret("dense(inputs, 3) + dense(inputs, 3)"), ret("dense(inputs, 3) + dense(inputs, 1)")],
    "sub": [ret("dense(inputs, 3) - dense(inputs, 3)")],
    "mul": [ret("dense(inputs, 3) * dense(inputs, 3)")],
    "div": [ret("dense(inputs, 3) / (dense(inputs, 3) * dense(inputs, 3) + 1)")],
    "scale": [ret("2 * dense(inputs, 3)"), ret("-dense(inputs, 3)")],
    "shift": [ret("dense(inputs, 3) + 1"), ret("1 - dense(inputs, 3)")],
    "power": [ret("dense(inputs, 3) ^ 2"), ret("dense(inputs, 3) ^ 0.5"), ret("2 / dense(inputs, 3)")],
    "fused": [ret("tanh(dense(inputs, 3)) * 2 + 1"), ret("sin(dense(inputs, 3)) * dense(inputs, 3) ^ 2")],
    "fourier": [ret("fourier(inputs, 3, 1.5)")],
    "gaussian": [ret("gaussian_features(inputs, 4, 0.5)")],
    "periodic": [ret("periodic(inputs, 2, 3)")],
    "scalar": [ret("dense(inputs, 3) * scalar(0.5)"), ret("scalar()")],
    "bias": [ret("bias(dense(inputs, 3))")],
    "concat": [ret("concat(inputs, dense(inputs, 2))")],
    "slice": [arch("a, b = split(inputs, 2)\nreturn dense(concat(b, a), outputs)"),
              arch("a, b = split(dense(inputs, 5), 2, 3)\nreturn dense(a, outputs) + dense(b, outputs)")],
    "group_sum": [ret("group_sum(dense(inputs, 6), 3)")],
    "width_of": [ret("dense(inputs, width_of(inputs) * 2)")],
}


# kinds the engine's fused Taylor pass cannot carry, so it falls back to its generic route
# (still checked for the same derivatives); any other kind must take the fused pass
GENERIC_ROUTE = {"kan": "the B-spline basis is built from comparisons of x with the knots"}


def test_every_kind_has_an_example():
    assert sorted(EXAMPLES) == sorted(KINDS), "add an entry to EXAMPLES for each new layer kind (and only for those)"


# ---- the contract, shared with the new-kind fixture ----------------------------------------------
def perturb(arrays, key, scale=0.3):
    """Initial arrays plus noise, so zero biases and zero ψ do not hide a wrong derivative."""
    leaves, tree = jax.tree_util.tree_flatten(arrays)
    ks = jax.random.split(key, max(len(leaves), 1))
    return jax.tree_util.tree_unflatten(tree, [p + scale * jax.random.normal(k, p.shape, p.dtype) for p, k in zip(leaves, ks)])


def engine_matches_jax(F, X, width):
    """F: (N, D) -> (N, width). Every derivative in KEYS through the engine against
    jax.jacfwd / jax.hessian at each point. Returns whether the fused pass ran (else the
    engine fell back to jet towers and nested jvp) and the largest first derivative."""
    plan = Plan.of(KEYS, D, spatial=(0, 1))
    got = evaluate(F, X, plan)
    f = lambda x: F(x[None])[0]
    J = jax.vmap(jax.jacfwd(f))(X)                    # (N, width, D)
    H = jax.vmap(jax.hessian(f))(X)                   # (N, width, D, D)
    want = {(0, 0): F(X), (1, 0): J[..., 0], (0, 1): J[..., 1], (2, 0): H[..., 0, 0], (1, 1): H[..., 0, 1],
            (0, 2): H[..., 1, 1], ("lap", 0): H[..., 0, 0] + H[..., 1, 1]}
    for k in KEYS:
        assert got[k].shape == (N, width), k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-10, err_msg=str(k))
    return plan.fused, float(jnp.abs(J).max())


def node_inputs(widths, key):
    """Smooth maps from X (N, D) in [-1, 1]^D to each input of a node, with values in
    [0.3, 0.9]: positive for sqrt/log/x^0.5, away from the kinks of relu and abs."""
    Ms = [jax.random.uniform(k, (D, w), jnp.float64, -0.5, 0.5) / D * 2 for k, w in
          zip(jax.random.split(key, max(len(widths), 1)), widths)]
    return lambda X: [0.6 + 0.3 * (X @ M) for M in Ms]


def check_kind(op, sources, optimise=False):
    """The contract of kind `op`, over the architectures `sources` (each defining `k()`)."""
    k = KINDS[op]
    if k.surface is not None:
        assert callable(k.build)
        assert any(k.surface + "(" in s for s in sources), f"no example calls `{k.surface}`"
    seen = 0
    for src in sources:
        g = build("k()", D, 1, extra=src, optimise=optimise or op == "fused")
        nodes = [(n, a) for n, a in g.nodes(data=True) if a["op"] == op]
        if k.apply is None:       # no per-point value: only the graph's source, seeded with x, or no node at all
            assert [n for n, _ in nodes] in ([], [g.graph["input"]]), src
        else:
            assert nodes, f"{src!r} makes no `{op}` node"
        seen += len(nodes)
        with X64(True):
            X = jax.random.uniform(jax.random.PRNGKey(3), (N, D), jnp.float64, -1, 1)
            for i, (n, a) in enumerate(nodes):
                assert isinstance(k.describe(a), str)
                declared = {**k.shapes(a), **k.fixed(a)}
                assert len(declared) == len(k.shapes(a)) + len(k.fixed(a)), "a name both trained and fixed"
                if declared:
                    assert k.init is not None, f"`{op}` declares arrays but has no init"
                for dtype in (jnp.float32, jnp.float64):
                    arrays = k.init(jax.random.PRNGKey(i), a, dtype) if k.init is not None else {}
                    got = {m: (v.shape, v.dtype) for m, v in arrays.items()}
                    assert got == {m: (tuple(s), dtype) for m, s in declared.items()}
                    assert all(bool(jnp.all(jnp.isfinite(v))) for v in arrays.values())
                if k.apply is None:
                    continue
                p = perturb(k.init(jax.random.PRNGKey(i), a, jnp.float64), jax.random.PRNGKey(7)) if declared else None
                ins = node_inputs([g.nodes[m]["width"] for m in a["args"]], jax.random.PRNGKey(11 + i))
                F = lambda X: jnp.broadcast_to(k.apply(a, p, ins(X)), (X.shape[0], a["width"]))
                y = F(X)
                assert y.shape == (N, a["width"]) and y.dtype == jnp.float64 and bool(jnp.all(jnp.isfinite(y)))
                fused, slope = engine_matches_jax(F, X, a["width"])
                assert fused == (op not in GENERIC_ROUTE), "the engine's fused pass ran" if fused else "it fell back"
                assert slope > 1e-6 or not a["args"], "the value does not depend on the inputs: the check means nothing"
            # and the whole network around the node(s)
            P = perturb(make_init(g, jnp.float64)(jax.random.PRNGKey(1)), jax.random.PRNGKey(5))
            apply = make_apply(g)
            engine_matches_jax(lambda X: apply(P, X), X, 1)
    return seen


@pytest.mark.parametrize("op", sorted(KINDS), ids=str)
def test_kind_contract(op):
    assert op in EXAMPLES, f"layer kind `{op}` has no example in tests/test_layers.py EXAMPLES"
    seen = check_kind(op, EXAMPLES[op])
    assert seen > 0 or KINDS[op].apply is None


def test_param_shapes_are_what_init_draws_for_every_stdlib_network():
    """The registry's counts (what `--emit graph` and E222 use) agree with the arrays."""
    for line in ("pirate(width = 8, blocks = 1, features = 3)", "kan(width = 4, depth = 1)",
                 "sandwich(width = 6, depth = 2)", "fourier_mlp(width = 6, depth = 1, features = 3)"):
        g = build(line, D, 1)
        P = network.make_init(g, jnp.float32)(jax.random.PRNGKey(0))
        n_fixed = network.fixed_count(g)
        total = sum(math.prod(v.shape) for v in jax.tree_util.tree_leaves(P))
        assert total == network.param_count(g) + n_fixed, line
