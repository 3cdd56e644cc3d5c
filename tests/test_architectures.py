"""Every stdlib network against a hand-written JAX reference of the same design with the
same weights (float64, 1e-12), and its parameter count. (The layer graph and its passes,
layer properties, diagnostics, modules and imports: test_architectures_*.py.)"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from architectures_common import X64, build, dense_count, perturbed

from pdeforge.compiler import network


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

