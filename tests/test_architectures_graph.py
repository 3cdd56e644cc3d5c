"""The layer graph of architectures: its passes keep the function and shrink the graph,
constant folding, the layers of the sub-language, SIREN's initialisation, sandwich's
Lipschitz bound, monotone_mlp's monotonicity, Taylor mode through its layers, several
fields with shared and separate networks and the graph dump."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from architectures_common import X64, build, dense_count, perturbed

import pdeforge
from pdeforge.compiler import emit, network


def test_passes_keep_outputs_and_shrink_graph():
    for line in ("modified_mlp(width = 8, depth = 3)", "pirate(width = 8, blocks = 2, features = 3)",
                 "mlp(width = 6, depth = 2, activation = snake)"):
        g0, g1 = build(line, 2, 1, optimise=False), build(line, 2, 1)
        assert g1.number_of_nodes() < g0.number_of_nodes() and g1.graph["fused"] > 0
        with X64(True):
            P = perturbed(network.make_init(g0, jnp.float64)(jax.random.PRNGKey(0)), jax.random.PRNGKey(1))
            x = jax.random.uniform(jax.random.PRNGKey(2), (16, 2), jnp.float64, -1, 1)
            np.testing.assert_allclose(network.make_apply(g1)(P, x), network.make_apply(g0)(P, x), atol=1e-13)


def test_constant_folding():
    g = build("f()", 1, 1, optimise=False,
              extra="architecture f():\n  h = 2 * (3 * (dense(inputs, 4) + 1) + 0) * 1\n  return dense(h, outputs)\n")
    network.fold_constants(g)
    ops = sorted(a["op"] for _, a in g.nodes(data=True))
    assert ops == ["dense", "dense", "input", "output", "scale", "shift"]
    assert [a["factor"] for _, a in g.nodes(data=True) if a["op"] == "scale"] == [6.0]


def test_layers_of_the_sub_language():
    extra = """
activation wave(x, k = 2) = x + sin(k * x)^2
architecture parts():
  x, t = split(inputs, 1, 1)
  px = periodic(x, 2, 3)
  h = concat(px, t, gaussian_features(t, 5, 0.5))
  a = scalar(0.5)
  return dense(a * wave(dense(h, 4, init = he), k = 3) + fourier(t, 2, 1.0), outputs)
"""
    g = build("parts()", 2, 1, extra)
    widths = {a["op"]: a["width"] for _, a in g.nodes(data=True)}
    assert widths["periodic"] == 6 and widths["concat"] == 6 + 1 + 5 and widths["fourier"] == 4
    init, apply = network.make_init(g, jnp.float32), network.make_apply(g)
    P = init(jax.random.PRNGKey(0))
    x = jnp.array([[-0.7, 0.3], [1.3, 0.3]])         # x and x + period: same output
    y = apply(P, x)
    assert abs(float(y[0, 0] - y[1, 0])) < 1e-5 * (1 + abs(float(y[0, 0])))
    # fixed random features are not trained: zero gradient
    gP = jax.grad(lambda P: jnp.sum(apply(P, x) ** 2))(P)
    assert float(jnp.abs(gP["fourier_0"]["B"]).max()) == 0 and float(jnp.abs(gP["gaussian_0"]["C"]).max()) == 0
    assert float(jnp.abs(gP["dense_0"]["W"]).max()) > 0 and float(jnp.abs(gP["scalar_0"]["a"]).max()) > 0


def test_siren_initialisation():
    g = build("siren(width = 64, depth = 2, w0 = 30)", 2, 1)
    P = network.make_init(g, jnp.float32)(jax.random.PRNGKey(0))
    assert float(jnp.abs(P["dense_0"]["W"]).max()) <= 1 / 2          # U(-1/n, 1/n), n = 2
    r = math.sqrt(6 / 64) / 30
    w = P["dense_1"]["W"]
    assert float(jnp.abs(w).max()) <= r and float(jnp.abs(w).max()) > 0.9 * r


def test_sandwich_is_gamma_lipschitz():
    gamma = 2.5
    g = build(f"sandwich(width = 16, depth = 3, gamma = {gamma}, activation = relu)", 2, 1)
    apply = network.make_apply(g)
    # any weights at all: random ones, far from the initial values
    P = perturbed(network.make_init(g, jnp.float32)(jax.random.PRNGKey(0)), jax.random.PRNGKey(1), scale=0.5)

    def grad_norm(apply, P):     # ‖∇f‖ per point, by one forward-mode pass per input direction
        def gnorm(x):
            cols = [jax.jvp(lambda x: apply(P, x), (x,), (jnp.zeros_like(x).at[:, i].set(1.0),))[1] for i in range(2)]
            return jnp.sqrt(sum(c[:, 0] ** 2 for c in cols))
        return gnorm

    gnorm = grad_norm(apply, P)

    x = jax.random.uniform(jax.random.PRNGKey(2), (10_000, 2), minval=-3, maxval=3)
    g0 = jax.jit(gnorm)(x)
    # adversarial refinement: gradient ascent on ‖∇f‖ from the 256 steepest points
    x = x[jnp.argsort(-g0)[:256]]
    ascend = jax.jit(lambda x: x + 0.05 * jax.grad(lambda x: jnp.sum(gnorm(x)))(x))
    for _ in range(20):
        x = ascend(x)
    worst = max(float(g0.max()), float(jax.jit(gnorm)(x).max()))
    assert worst <= gamma * (1 + 1e-5)
    assert worst > 0.05 * gamma          # a flat network would meet the bound trivially
    # the same search finds a plain network of that size with such weights far steeper
    g = build("mlp(width = 16, depth = 3, activation = relu)", 2, 1)
    apply = network.make_apply(g)
    P = perturbed(network.make_init(g, jnp.float32)(jax.random.PRNGKey(0)), jax.random.PRNGKey(1), scale=0.5)
    assert float(jax.jit(grad_norm(apply, P))(x).max()) > 2 * gamma


def test_monotone_mlp_is_monotone():
    g = build("monotone_mlp(width = 12, depth = 3, monotone = (1, -1, 0))", 3, 1)
    apply = network.make_apply(g)
    P = perturbed(network.make_init(g, jnp.float32)(jax.random.PRNGKey(0)), jax.random.PRNGKey(1), scale=1.0)
    k1, k2 = jax.random.split(jax.random.PRNGKey(2))
    x = jax.random.uniform(k1, (10_000, 3), minval=-2, maxval=2)
    d = jax.random.uniform(k2, (10_000,), minval=0, maxval=2)
    up0 = apply(P, x.at[:, 0].add(d)) - apply(P, x)
    up1 = apply(P, x.at[:, 1].add(d)) - apply(P, x)
    assert float(up0.min()) >= -1e-5 and float(up1.max()) <= 1e-5
    free = apply(P, x.at[:, 2].add(d)) - apply(P, x)
    assert float(jnp.abs(free).max()) > 1e-2        # the output does depend on the free input
    # a 0 in `monotone` leaves that input unconstrained (either sign of effect allowed): its row
    # of the first layer is used as it is, so negating that row mirrors the network in that
    # input, while negating a constrained row changes nothing (the layer uses ±|W| there)
    W0 = P["dense_0"]["W"]
    flip = lambda i: {**P, "dense_0": {**P["dense_0"], "W": W0.at[i].multiply(-1.0)}}
    np.testing.assert_allclose(apply(flip(2), x), apply(P, x * jnp.array([1.0, 1.0, -1.0])), rtol=1e-5, atol=1e-4)
    for i in (0, 1):
        np.testing.assert_array_equal(apply(flip(i), x), apply(P, x))


# ---- several fields, the graph dump -------------------------------------------------------
def test_several_fields_mixing_shared_and_separate_networks():
    text = """problem stokes
domain (x, y) in rectangle([0, 1], [0, 1])
field u(x, y), v(x, y), p(x, y)
equation: dx(u) + dy(v) = 0
equation: -lap(u) + dx(p) = 0
equation: -lap(v) + dy(p) = 0
condition: u = 0 on boundary
condition: v = 0 on boundary
model (u, v) = modified_mlp(width = 8, depth = 2)
model p = siren(width = 8, depth = 2)
"""
    prob = pdeforge.loads(text)
    assert prob.lowered.param_count == (2 * dense_count(2, 8) + dense_count(2, 8, 8, 2)) + dense_count(2, 8, 8, 1)
    P = prob.init(jax.random.PRNGKey(0))
    out = prob.predict(P, jnp.full((7, 2), 0.5))
    assert set(out) == {"u", "v", "p"} and all(out[k].shape == (7,) for k in out)
    dump = emit.graph_text(prob.lowered)
    assert "digraph" in dump and "parameters" in dump and "fused" in dump


def test_taylor_mode_runs_through_softplus_split_concat_sign():
    """Residuals use Taylor-mode (jet) derivatives: layers must be made of primitives that
    jet can carry (softplus is rebuilt from log1p/exp/abs/max for this). Checked against
    nested forward-mode jvp for the second derivative along x."""
    from jax.experimental import jet
    x = jax.random.uniform(jax.random.PRNGKey(0), (8, 2), minval=-0.9, maxval=0.9)
    e = jnp.zeros_like(x).at[:, 0].set(1.0)
    for line in ("monotone_mlp(width = 6, depth = 2, monotone = (1, 0))",):   # softplus, split, concat, sign
        g = build(line, 2, 1)
        apply = network.make_apply(g)
        P = network.make_init(g, jnp.float32)(jax.random.PRNGKey(1))
        f = lambda x: apply(P, x)
        _, (d1, d2) = jax.jit(lambda x: jet.jet(f, (x,), ((e, jnp.zeros_like(x)),)))(x)
        dd = jax.jit(lambda x: jax.jvp(lambda x: jax.jvp(f, (x,), (e,))[1], (x,), (e,))[1])(x)
        np.testing.assert_allclose(d2, dd, rtol=1e-3, atol=1e-4)
