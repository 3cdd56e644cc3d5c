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

Kinds with `grid=True` (the spectral convolution, pad, crop) mix values along the grid
axes: a point's value depends on the whole grid, so there is no per-point derivative for
the Taylor engine to match against jacfwd (and the engine is not meant to see them). For
them the contract checks the arrays as above and that `apply`, and the whole network,
give a finite value of the right shape on an (N, s, c) or (N, s1, s2, c) batch.

The whole network built from each example passes the same derivative check.

A new kind, `chebyshev`, added by a fixture as ONE registry entry (`register`, removed
again after the test), passes the same contract, and a `.pde` architecture calls it by
name: it checks its arguments, compiles, matches an independent reference, trains, and
`pdeforge compile --emit graph` describes it."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from architectures_common import PROBLEM, build

from pdeforge.compiler.derivatives import Plan, evaluate
from pdeforge.compiler import network
import pdeforge
from pdeforge import cli
from pdeforge.compiler.network import ACTIVATIONS, KINDS, Kind, make_apply, make_init, register
from pdeforge.dsl import PdeError
from pdeforge.dsl.diagnostics import error

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
    "grouped_dense": [ret("grouped_dense(dense(inputs, 6), 2, groups = 3)")],
    "width_of": [ret("dense(inputs, width_of(inputs) * 2)")],
    "spectral": [ret("spectral(inputs, 3, 4)"), ret("spectral(dense(inputs, 2), 3, (2, 3))")],
    "pad": [ret("crop(dense(pad(inputs, 2), 3), 2)"), ret("crop(pad(inputs, 1, dims = 2), 1, dims = 2)")],
    "crop": [ret("crop(dense(pad(inputs, 2), 3), 2)"), ret("crop(pad(inputs, 1, dims = 2), 1, dims = 2)")],
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


GRID = {1: (8,), 2: (8, 6)}       # grid points a `grid` kind is applied on, by its `dims`


def grid_batch(shape_of, dims, key):
    """Random values (N, *GRID[dims], w) for each width in `shape_of`."""
    ks = jax.random.split(key, max(len(shape_of), 1))
    return [jax.random.normal(k, (N, *GRID[dims], w), jnp.float64) for k, w in zip(ks, shape_of)]


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
                if k.grid:      # no per-point value: a finite one of the right shape on a grid batch
                    p = k.init(jax.random.PRNGKey(i), a, jnp.float64) if declared else None
                    ins = grid_batch([g.nodes[m]["width"] for m in a["args"]], a["dims"], jax.random.PRNGKey(11 + i))
                    y = jax.jit(lambda p, ins: k.apply(a, p, ins))(p, ins)     # one compile, not one per op
                    grid = tuple(v + {"pad": a.get("n", 0), "crop": -a.get("n", 0)}.get(op, 0) for v in GRID[a["dims"]])
                    assert y.shape == (N, *grid, a["width"]) and y.dtype == jnp.float64, (src, y.shape)
                    assert bool(jnp.all(jnp.isfinite(y))) and float(jnp.abs(y).max()) > 0
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
            dims = {a["dims"] for _, a in g.nodes(data=True) if KINDS[a["op"]].grid}
            if dims:
                (d,) = dims
                y = jax.jit(apply)(P, grid_batch([D], d, jax.random.PRNGKey(4))[0])
                assert y.shape == (N, *GRID[d], 1) and bool(jnp.all(jnp.isfinite(y)))
            else:
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


# ---- a new kind in one entry --------------------------------------------------------------------
def _chebyshev_build(b, e, env, arch):
    b.args(e, 2, 2, "a layer and a width: `chebyshev(h, 8, degree = 3)`", ("degree",))
    h = b.layer(e.args[0], env, arch, "chebyshev")
    w = b.width(e.args[1], env, arch)
    degree = b.opt(e, "degree", env, 3.0)
    if degree != int(degree) or not 0 <= degree <= 20:
        raise error("E229", "`degree` must be a whole number from 0 to 20", e.span)
    return b.add("chebyshev", w, [h], e.span, fan_in=h.width, degree=int(degree))


def _chebyshev_apply(a, p, args):     # y_o = Σ_ik C_iko T_k(tanh x_i), T_k by the three-term recurrence
    z = jnp.tanh(args[0])
    T = [jnp.ones_like(z), z]
    while len(T) <= a["degree"]:
        T.append(2 * z * T[-1] - T[-2])
    return jnp.einsum("...ik,iko->...o", jnp.stack(T[:a["degree"] + 1], -1), p["C"])


def _chebyshev_shape(a):
    return (a["fan_in"], a["degree"] + 1, a["width"])


CHEBYSHEV = Kind("chebyshev", _chebyshev_apply, lambda a: {"C": _chebyshev_shape(a)},
                 init=lambda key, a, dtype: {"C": jax.random.normal(key, _chebyshev_shape(a), dtype) / a["fan_in"]},
                 describe=lambda a: f"{a['fan_in']} -> {a['width']}, Chebyshev degree {a['degree']}",
                 surface="chebyshev", build=_chebyshev_build)

CHEB_ARCH = arch("return dense(chebyshev(inputs, width, degree = 4), outputs)").replace("k()", "cheb(width = 4)")
CHEB_PROBLEM = PROBLEM + CHEB_ARCH + """model u = cheb(width = 5)
train:
  points interior = 64, boundary = 16, initial = 16
  adam(lr = 1e-2) for 40 steps
  log_every = 10
"""


@pytest.fixture
def chebyshev():
    """The registry with one more entry for the test's lifetime; nothing else is touched."""
    before = dict(KINDS)
    register(CHEBYSHEV)
    yield CHEBYSHEV
    del KINDS[CHEBYSHEV.op]
    assert KINDS == before


def test_a_new_kind_is_unknown_without_its_entry():
    with pytest.raises(PdeError) as e:
        pdeforge.loads(CHEB_PROBLEM)
    assert e.value.codes == ["E108"] and "chebyshev" in e.value.diagnostics[0].message


def test_a_new_kind_passes_the_contract(chebyshev):
    assert check_kind("chebyshev", [ret("chebyshev(inputs, 3)"), ret("chebyshev(inputs, 2, degree = 1)")]) == 2


def test_a_new_kind_is_called_by_name_compiles_and_trains(chebyshev, tmp_path, capsys):
    prob = pdeforge.loads(CHEB_PROBLEM)
    g = prob.lowered.graphs["u"]
    assert prob.lowered.param_count == 2 * 5 * 5 + (5 + 1)
    # the compiled network against an independent formula: T_k(cos θ) = cos(kθ)
    with X64(True):
        P = perturb(make_init(g, jnp.float64)(jax.random.PRNGKey(0)), jax.random.PRNGKey(1))
        x = jax.random.uniform(jax.random.PRNGKey(2), (16, 2), jnp.float64, -1, 1)
        theta = jnp.arccos(jnp.tanh(x))[..., None] * jnp.arange(5)
        h = jnp.einsum("nik,iko->no", jnp.cos(theta), P["chebyshev_0"]["C"])
        np.testing.assert_allclose(make_apply(g)(P, x), h @ P["dense_0"]["W"] + P["dense_0"]["b"], rtol=0, atol=1e-12)
    # the kind's own argument check, through the checker and compiler like any layer's
    with pytest.raises(PdeError) as e:
        pdeforge.loads(CHEB_PROBLEM.replace("degree = 4", "degree = 1.5"))
    assert e.value.codes == ["E229"]
    r = prob.train(progress="quiet")
    assert r.steps == 40 and np.isfinite(r.final_loss) and r.final_loss < r.history[0]["loss"]
    src = tmp_path / "cheb.pde"
    src.write_text(CHEB_PROBLEM)
    assert cli.main(["compile", str(src), "--emit", "graph"]) == 0
    out = capsys.readouterr().out
    assert "chebyshev_0" in out and "2 -> 5, Chebyshev degree 4" in out and "56 trained parameters" in out
