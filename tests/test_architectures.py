"""Architectures written in the language: every stdlib network against a hand-written JAX
reference of the same design with the same weights (float64, 1e-12), the layer graph and
its passes, shape diagnostics, modules and imports, sandwich's Lipschitz bound and
monotone_mlp's monotonicity."""
from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdeforge
from pdeforge import modules
from pdeforge.compiler import emit, network
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


# ---- hand-written references ------------------------------------------------------
def dense(p, h):
    return h @ p["W"] + p["b"]


def rwf_dense(p, h):
    return h @ (p["V"] * jnp.exp(p["s"])) + p["b"]


def ref_mlp(P, x, depth, act=jnp.tanh):
    h = x
    for i in range(depth):
        h = act(dense(P[f"dense_{i}"], h))
    return dense(P[f"dense_{depth}"], h)


def ref_resnet(P, x, depth):
    h = jnp.tanh(dense(P["dense_0"], x))
    for i in range(1, depth + 1):
        h = h + jnp.tanh(dense(P[f"dense_{i}"], h))
    return dense(P[f"dense_{depth + 1}"], h)


def ref_modified(P, x, depth, first=0):
    d = lambda i: P[f"dense_{first + i}"]
    U, V = jnp.tanh(dense(d(0), x)), jnp.tanh(dense(d(1), x))
    h = x
    for i in range(depth):
        z = jnp.tanh(dense(d(2 + i), h))
        h = z * U + (1 - z) * V
    return dense(d(2 + depth), h)


def fourier_features(P, x):
    z = x @ P["fourier_0"]["B"]
    return jnp.concatenate([jnp.cos(z), jnp.sin(z)], -1)


def ref_siren(P, x, depth, w0):
    h = x
    for i in range(depth):
        h = jnp.sin(w0 * dense(P[f"dense_{i}"], h))
    return dense(P[f"dense_{depth}"], h)


def ref_pirate(P, x, blocks):
    h = fourier_features(P, x)
    U = jnp.tanh(rwf_dense(P["dense_0"], h))
    V = jnp.tanh(rwf_dense(P["dense_1"], h))
    for k in range(blocks):
        f = jnp.tanh(rwf_dense(P[f"dense_{2 + 3 * k}"], h))
        z = f * U + (1 - f) * V
        g = jnp.tanh(rwf_dense(P[f"dense_{3 + 3 * k}"], z))
        z = g * U + (1 - g) * V
        r = jnp.tanh(rwf_dense(P[f"dense_{4 + 3 * k}"], z))
        a = P[f"scalar_{k}"]["a"]
        h = a * r + (1 - a) * h
    return rwf_dense(P[f"dense_{2 + 3 * blocks}"], h)


def torch_cayley(W):
    """`cayley` of the LBDN code (acfr/LBDN), on a (cout, cin) torch-layout weight."""
    cout, cin = W.shape
    if cin > cout:
        return torch_cayley(W.T).T
    U, V = W[:cin], W[cin:]
    I = jnp.eye(cin)
    A_ = U - U.T + V.T @ V
    iIpA = jnp.linalg.inv(I + A_)
    return jnp.concatenate([iIpA @ (I - A_), -2 * V @ iIpA], axis=0)


def ref_sandwich_fc(p, x, scale, act):
    weight = p["W"].T                                   # torch layout (fout, fin + fout)
    fout = weight.shape[0]
    Q = torch_cayley(p["alpha"] * weight / jnp.linalg.norm(weight))
    x = (scale * x) @ Q[:, fout:].T                     # B x
    x = x * jnp.exp(-p["psi"]) * 2 ** 0.5 + p["b"]
    x = act(x) * jnp.exp(p["psi"])
    return 2 ** 0.5 * x @ Q[:, :fout]                   # √2 Aᵀ Ψ z


def ref_sandwich_lin(p, x, scale):
    weight = p["W"].T
    fout = weight.shape[0]
    Q = torch_cayley(p["alpha"] * weight / jnp.linalg.norm(weight))
    return (scale * x) @ Q[:, fout:].T + p["b"]


def ref_sandwich(P, x, depth, gamma):
    h = ref_sandwich_fc(P["sandwich_0"], x, math.sqrt(gamma), jnp.tanh)
    for i in range(1, depth):
        h = ref_sandwich_fc(P[f"sandwich_{i}"], h, 1.0, jnp.tanh)
    return ref_sandwich_lin(P["lipschitz_0"], h, math.sqrt(gamma))


def ref_monotone(P, x, depth, signs):
    s = jnp.asarray(signs, x.dtype)[:, None]
    W0 = P["dense_0"]["W"]
    h = x @ jnp.where(s == 0, W0, s * jnp.abs(W0)) + P["dense_0"]["b"]
    for i in range(1, depth + 1):
        k = h.shape[-1] // 3
        h = jnp.concatenate([jax.nn.softplus(h[:, :k]), -jax.nn.softplus(-h[:, k:2 * k]), jnp.tanh(h[:, 2 * k:])], -1)
        h = h @ jnp.abs(P[f"dense_{i}"]["W"]) + P[f"dense_{i}"]["b"]
    return h


def scipy_bspline_basis(x, grid, order):
    """Each B-spline basis function from scipy's own `basis_element` (zero off its support)."""
    from scipy.interpolate import BSpline
    h = 2.0 / grid
    t = np.array([-1.0 + h * i for i in range(-order, grid + order + 1)])
    x = np.asarray(x)
    cols = [np.nan_to_num(BSpline.basis_element(t[k:k + order + 2], extrapolate=False)(x), nan=0.0)
            for k in range(grid + order)]
    return jnp.asarray(np.stack(cols, -1))


def ref_kan(P, x, depth, grid, order):
    h = x
    for i in range(depth + 1):
        p = P[f"kan_{i}"]
        B = scipy_bspline_basis(h, grid, order)                      # (N, d, grid + order)
        h = jax.nn.silu(h) @ p["W"] + jnp.einsum("nik,iko->no", B, p["C"])
    return h


def ref_deeponet(P, x, depth, basis, n_out, branch=1):
    def net(first, h):
        for i in range(depth):
            h = jnp.tanh(dense(P[f"dense_{first + i}"], h))
        return dense(P[f"dense_{first + depth}"], h)
    b = net(0, x[:, :branch])
    t = jnp.tanh(net(depth + 1, x[:, branch:]))
    return (b * t).reshape(x.shape[0], n_out, basis).sum(-1) + P["bias_0"]["b"]


def dense_count(*sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


CASES = {   # model line, inputs, outputs, reference(P, x), parameter count of the design
    "mlp": ("mlp(width = 8, depth = 3)", 2, 3, lambda P, x: ref_mlp(P, x, 3), dense_count(2, 8, 8, 8, 3)),
    "mlp_snake": ("mlp(width = 6, depth = 2, activation = snake)", 2, 1,
                  lambda P, x: ref_mlp(P, x, 2, lambda z: z + jnp.sin(z) ** 2), dense_count(2, 6, 6, 1)),
    "resnet": ("resnet(width = 8, depth = 2)", 2, 1, lambda P, x: ref_resnet(P, x, 2), dense_count(2, 8, 8, 8, 1)),
    "modified_mlp": ("modified_mlp(width = 8, depth = 3)", 2, 2, lambda P, x: ref_modified(P, x, 3),
                     2 * dense_count(2, 8) + dense_count(2, 8, 8, 8, 2)),
    "fourier_mlp": ("fourier_mlp(width = 8, depth = 2, features = 5, sigma = 2)", 2, 1,
                    lambda P, x: ref_mlp(P, fourier_features(P, x), 2), dense_count(10, 8, 8, 1)),
    "fourier_modified_mlp": ("fourier_modified_mlp(width = 8, depth = 2, features = 4)", 2, 1,
                             lambda P, x: ref_modified(P, fourier_features(P, x), 2),
                             2 * dense_count(8, 8) + dense_count(8, 8, 8, 1)),
    "siren": ("siren(width = 8, depth = 3, w0 = 30)", 2, 1, lambda P, x: ref_siren(P, x, 3, 30.0),
              dense_count(2, 8, 8, 8, 1)),
    "pirate": ("pirate(width = 8, blocks = 2, features = 3)", 2, 2, lambda P, x: ref_pirate(P, x, 2),
               # rwf dense: V, s, b; blocks: two gates of width 8 and one back to 2·features = 6; one α each
               2 * (6 * 8 + 16) + 2 * ((6 * 8 + 16) + (8 * 8 + 16) + (8 * 6 + 12) + 1) + (6 * 2 + 4)),
    "sandwich": ("sandwich(width = 8, depth = 3, gamma = 2)", 2, 1, lambda P, x: ref_sandwich(P, x, 3, 2.0),
                 (10 * 8 + 1 + 8 + 8) + 2 * (16 * 8 + 1 + 8 + 8) + (9 * 1 + 1 + 1)),
    "kan": ("kan(width = 5, depth = 1, grid = 4, order = 3)", 2, 1, lambda P, x: ref_kan(P, x, 1, 4, 3),
            (2 * 5 + 2 * 7 * 5) + (5 * 1 + 5 * 7 * 1)),
    "deeponet": ("deeponet(width = 8, depth = 2, basis = 4, branch = 1)", 3, 2,
                 lambda P, x: ref_deeponet(P, x, 2, 4, 2), dense_count(1, 8, 8, 8) + dense_count(2, 8, 8, 8) + 2),
    "monotone_mlp": ("monotone_mlp(width = 9, depth = 2, monotone = (1, 0))", 2, 1,
                     lambda P, x: ref_monotone(P, x, 2, (1, 0)), dense_count(2, 9, 9, 1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_stdlib_matches_reference(name):
    line, n_in, n_out, ref, count = CASES[name]
    g = build(line, n_in, n_out)
    assert network.param_count(g) == count
    with X64(True):
        P = perturbed(network.make_init(g, jnp.float64)(jax.random.PRNGKey(1)), jax.random.PRNGKey(2))
        x = jax.random.uniform(jax.random.PRNGKey(3), (64, n_in), jnp.float64, -1, 1)
        y = network.make_apply(g)(P, x)
        assert y.shape == (64, n_out) and y.dtype == jnp.float64
        np.testing.assert_allclose(y, ref(P, x), rtol=0, atol=1e-12)
        assert float(jnp.std(y)) > 1e-3        # not a constant: the comparison means something


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
    g = build("f()", 1, 1, extra="architecture f():\n  h = 2 * (3 * (dense(inputs, 4) + 1) + 0) * 1\n  return dense(h, outputs)\n",
              optimise=False)
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
    assert float(free.min()) < 0 < float(free.max()) or True     # unconstrained: either sign allowed


# ---- diagnostics ------------------------------------------------------------------
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


def test_shape_mismatch_is_a_diagnostic_with_span():
    e = codes(PROBLEM + "architecture bad(width = 4):\n  a = dense(inputs, width)\n  b = dense(inputs, 3)\n"
                        "  return dense(a + b, outputs)\nmodel u = bad()\n")
    assert e.codes == ["E218"]
    d = e.diagnostics[0]
    assert (d.span.line, d.span.col) == (11, 16) and "widths 4 and 3" in d.message
    assert codes(PROBLEM + "architecture two():\n  return dense(inputs, 2)\nmodel u = two()\n").codes == ["E215"]
    assert codes(PROBLEM + "architecture s():\n  a, b = split(inputs, 3)\n  return a\nmodel u = s()\n").codes == ["E218"]
    assert codes(PROBLEM + "model u = mlp(width = 0)\n").codes == ["E221"]
    assert codes(PROBLEM + "model u = mlp(activation = tanhh)\n").codes == ["E101"]
    assert codes(PROBLEM + "model u = snake()\n").codes == ["E223"]
    assert codes(PROBLEM + "model u = monotone_mlp(monotone = (1, 0, 1))\n").codes == ["E227"]
    assert codes(PROBLEM + "architecture r():\n  return r(inputs)\nmodel u = r()\n").codes == ["E224"]
    assert codes(PROBLEM + "architecture r():\n  return dense(inputs, outputs, init = siren(0))\nmodel u = r()\n").codes == ["E228"]
    assert codes(PROBLEM + "architecture r():\n  return dense(tanh, outputs)\nmodel u = r()\n").codes == ["E217"]
    assert codes(PROBLEM + "architecture r():\n  return dense(periodic(inputs, 1, 60000), outputs)\nmodel u = r()\n").codes == ["E221"]


def test_error_inside_library_names_both_places():
    e = codes(PROBLEM + "model u = pirate(features = 0)\n", "prob.pde")
    text = e.render()
    assert "nets.pde" in text and "prob.pde:8:1: note: in this use of `pirate`" in text


# ---- modules and imports -------------------------------------------------------------
def test_use_local_file_relative_to_importer(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mine.pde").write_text(
        'use "more.pde"\n# a small net\narchitecture tiny(width = 3):\n  return dense(act2(dense(inputs, width)), outputs)\n')
    (tmp_path / "lib" / "more.pde").write_text("activation act2(x) = tanh(x) + 0.1 * x\n")
    main = tmp_path / "main.pde"
    main.write_text('use nets\nuse "lib/mine.pde"\n' + PROBLEM + "model u = tiny(width = 5)\n")
    p = pdeforge.load(main)
    assert p.lowered.param_count == dense_count(2, 5, 1)
    assert p.checked.architectures["tiny"].doc == "a small net"


def test_import_errors(tmp_path):
    (tmp_path / "a.pde").write_text('use "b.pde"\narchitecture fa():\n  return dense(inputs, outputs)\n')
    (tmp_path / "b.pde").write_text('use "a.pde"\narchitecture mlp():\n  return dense(inputs, outputs)\n')
    (tmp_path / "c.pde").write_text("const k = 1\narchitecture fa():\n  return dense(inputs, outputs)\n")
    main = tmp_path / "main.pde"

    def err(head, tail="model u = mlp()\n"):
        main.write_text(head + PROBLEM + tail)
        with pytest.raises(PdeError) as e:
            pdeforge.load(main)
        return e.value

    e = err('use "a.pde"\n')
    assert e.codes == ["E152"]
    text = e.render()
    assert "b.pde:1:1: error[E152]" in text and "a.pde:1:1: note" in text
    e = err('use "a.pde"\nuse "c.pde"\n')         # cycle, clash of `fa`, statement not allowed in c
    assert sorted(e.codes) == ["E152", "E153", "E154"]
    clash = e.diagnostics[e.codes.index("E154")].render()
    assert "c.pde:2:1" in clash and "a.pde:2:1: note" in clash
    assert err("use nets\n", "architecture mlp():\n  return dense(inputs, outputs)\nmodel u = mlp()\n").codes == ["E154"]
    assert err("use netz\n").codes == ["E150"]
    assert err('use "nowhere.pde"\n').codes == ["E151"]
    assert err('use "/etc/passwd"\n').codes == ["E151"]
    # without `use nets`, a program may shadow the library's name
    main.write_text(PROBLEM + "architecture mlp():\n  return dense(inputs, outputs)\nmodel u = mlp()\n")
    assert pdeforge.load(main).lowered.param_count == 3


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


# ---- documentation --------------------------------------------------------------------
def test_docs_list_every_module_and_their_examples_build():
    import re
    import test_docs
    root = Path(__file__).resolve().parent.parent / "docs"
    stdlib_md = (root / "stdlib.md").read_text()
    for a in modules._stdlib_module("nets").of(A.Architecture):
        assert f"## `{a.name}`" in stdlib_md and a.doc, a.name
    lang = (root / "language.md").read_text()
    text = stdlib_md + lang[lang.index("## Architectures"):]
    blocks = re.findall(r"^```(pde(?:-fragment)?)[ \t]*\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) >= 15
    for kind, code in blocks:
        chk = pdeforge.api.check_text(code if kind == "pde" else test_docs.wrap(code))
        for m in chk.models:
            n_in = len(chk.fields[m.targets[0][0]].args)
            g = network.build_graph(chk.architectures[m.arch], m.call, n_in, len(m.targets), archs=chk.architectures)
            assert network.param_count(g) > 0


def test_model_line_may_use_consts():
    prob = pdeforge.loads(PROBLEM + "const w = 6\nconst layers = w / 3\nmodel u = mlp(width = w, depth = layers)\n")
    assert prob.lowered.param_count == dense_count(2, 6, 6, 1)


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
