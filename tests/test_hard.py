"""Hard conditions and constraints hold by construction: at 10,000 random points of
the constrained region, before and after (short) training, to 1e-6 relative in float32
and 1e-12 in float64; projections leave feasible outputs alone; derivatives and
parameter gradients through every layer are finite and match finite differences;
contradictory or unsupported forms are compile errors naming both statements."""
from functools import lru_cache
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdeforge
from pdeforge.compiler.derivatives import Plan, evaluate
from pdeforge.compiler.emit import ir_text
from pdeforge.dsl import PdeError

EX = Path(__file__).resolve().parent.parent / "examples"
N = 10_000
KOVASZNAY_SHORT = 0.4        # velocity relative L2 after --steps 200: measured 1.7e-1 (9.4e-2 at 300; ~1 untrained)
TOL = {True: 1e-12, False: 1e-6}      # float64?

WAVE = """
problem wave
domain x in [0, 1]
time   t in [0, 1]
field u(x, t)
equation wave:     d(u, t, 2) = 4 * d(u, x, 2)
condition ends:    u = 0 on x = 0, x = 1 hard
condition shape:   u = sin(pi * x) + 0.5 * sin(4 * pi * x) on t = 0 hard
condition at_rest: dt(u) = 0 on t = 0 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

# face data that varies along every face: the transfinite interpolant must match each
BOX = """
problem box
domain (x, y) in rectangle([0, 1], [-1, 2])
field u(x, y)
equation: -lap(u) = 1
condition left:   u = y^2          on x = 0 hard
condition right:  u = y^2 + sin(y) on x = 1 hard
condition bottom: u = 1 + x * sin(-1)    on y = -1 hard
condition top:    u = 4 + x * sin(2)     on y = 2 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

PERIODIC = """
problem ac
domain x in [-1, 1]
time t in [0, 1]
field u(x, t)
equation: dt(u) = 0.0001 * d(u, x, 2) + 5 * (u - u^3)
condition: periodic(u, x) hard(modes = 2)
condition start: u = x^2 * cos(pi * x) on t = 0
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256, initial = 64
  adam(lr = 1e-2) for 20 steps
"""

MIX = """
problem mix
domain (x, t) in rectangle([0, 1], [0, 1])
field a(x, t), b(x, t), c(x, t), p(x, t), q(x, t), r(x, t), s(x, t)
equation: d(a, x, 2) + d(b, x, 2) + d(c, x, 2) + d(p, x, 2) + d(q, x, 2) + d(r, x, 2) + d(s, t, 2) = 1
constraint sum:  a + b + c = 1 + x hard
constraint tied: a - x * b = t hard
constraint box:  p >= -1, p + q <= x * t hard
constraint soft: 0 <= r <= 2 hard(method = sigmoid)
constraint pos:  s >= x hard(method = softplus)
model (a, b, c, p, q, r, s) = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

SIMPLEX = """
problem species
domain x in [0, 1]
time t in [0, 1]
field c1(x, t), c2(x, t), c3(x, t)
equation: dt(c1) = 0.1 * d(c1, x, 2) - c1
equation: dt(c2) = 0.1 * d(c2, x, 2) + c1 - 2 * c2
equation: dt(c3) = 0.1 * d(c3, x, 2) + 2 * c2
condition: c1 = sin(pi * x) on t = 0
condition: c2 = 0 on t = 0
condition: c3 = 1 - sin(pi * x) on t = 0
constraint total: c1 + c2 + c3 = 1 hard
constraint: c1 >= 0, c2 >= 0, c3 >= 0 hard
model (c1, c2, c3) = mlp(width = 16, depth = 2)
train:
  points interior = 256, initial = 64
  adam(lr = 1e-2) for 20 steps
"""

STREAM = """
problem stream
const nu = 0.05
domain (x, y) in rectangle([-0.5, 1], [-0.5, 1.5])
field u(x, y), v(x, y), p(x, y)
equation mass: div(u, v) = 0 hard
equation mx: u * dx(u) + v * dy(u) + dx(p) = nu * lap(u)
equation my: u * dx(v) + v * dy(v) + dy(p) = nu * lap(v)
condition: u = 1 on boundary
condition: v = 0 on boundary
condition: p = 0 on x = 1
model (u, v, p) = mlp(width = 16, depth = 2)
train:
  points interior = 256, boundary = 64
  adam(lr = 1e-2) for 20 steps
"""


# Neumann on one x face, Robin on the other, a held value on y = -1 (compatible at the
# corners: u_x = 1 there from both)
FLUX = """
problem flux
domain (x, y) in rectangle([0, 1], [-1, 2])
field u(x, y)
equation: -lap(u) = 1
condition left:   dn(u) = y on x = 0 hard
condition right:  dn(u) + 2 * u = 3 + sin(y + 1) on x = 1 hard
condition bottom: u = x on y = -1 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

# insulated ends with a held initial state: the cosine data satisfy u_x = 0 at both ends
HEAT_FLUX = """
problem heat_flux
domain x in [0, 1]
time   t in [0, 0.5]
field u(x, t)
equation: dt(u) = 0.1 * d(u, x, 2)
condition insulated: dn(u) = 0 on x = 0, x = 1 hard
condition start:     u = 1 + cos(pi * x) on t = 0 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

VECTOR_POTENTIAL = """
problem beltrami
domain (x, y, z) in box([0, 1], [0, 2], [-1, 1])
field u(x, y, z), v(x, y, z), w(x, y, z), p(x, y, z)
equation mass: div(u, v, w) = 0 hard
equation mx: u * dx(u) + v * dy(u) + w * dz(u) + dx(p) = 0.1 * lap(u)
equation my: u * dx(v) + v * dy(v) + w * dz(v) + dy(p) = 0.1 * lap(v)
equation mz: u * dx(w) + v * dy(w) + w * dz(w) + dz(p) = 0.1 * lap(w)
condition: u = 1 on boundary
condition: v = 0 on boundary
condition: w = 0 on boundary
model (u, v, w, p) = mlp(width = 16, depth = 2)
train:
  points interior = 256, boundary = 64
  adam(lr = 1e-2) for 20 steps
"""

@lru_cache(maxsize=None)
def _load(text, f64):
    return pdeforge.loads(text, "<test>", float64=f64)


def _params(pb, steps):
    if steps == 0:
        return pb.init(jax.random.PRNGKey(1))
    return pb.train(steps=steps, progress=False, log_every=steps).params


@lru_cache(maxsize=None)
def _trained64(text, steps):
    return _params(_load(text, True), steps)


def _params_for(text, f64, steps):
    """Initial weights, or weights trained once in float64 (cast for the float32 check:
    the constraint must hold for trained weights, whatever precision trained them)."""
    if steps == 0:
        return _params(_load(text, f64), 0)
    p = _trained64(text, steps)
    return p if f64 else jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), p)


def _rng(seed=0):
    return np.random.default_rng(seed)


_RUNS = {}


def _derivs(pb, params, X, indices, model=0):
    key = (id(pb), tuple(indices), model)       # problems are cached, so one compile per plan
    if key not in _RUNS:
        m = pb.ir.models[model]
        plan = Plan.of(indices, pb.lowered.D)
        _RUNS[key] = jax.jit(lambda p, X: evaluate(pb.lowered.model_fn(p, m), X, plan))
    return _RUNS[key](params, jnp.asarray(X, pb.dtype))


def _rel(err, scale):
    return float(np.max(np.abs(err)) / max(1.0, float(np.max(np.abs(scale)))))


# ---------------------------------------------------------------- Dirichlet + initial rate

@pytest.mark.parametrize("f64", [True, False])
def test_dirichlet_and_initial_rate_hold(f64):
    pb = _load(WAVE, f64)
    assert pb.lowered.regions.keys() == {"interior"}       # no loss terms for the built-in conditions
    r = _rng()
    for steps in (0, 20):
        p = _params(pb, steps)
        x = r.random(N)
        X0 = np.stack([x, np.zeros(N)], 1)
        g = np.sin(np.pi * x) + 0.5 * np.sin(4 * np.pi * x)
        d = _derivs(pb, p, X0, [(0, 0), (0, 1)])
        assert _rel(np.asarray(d[(0, 0)])[:, 0] - g, g) <= TOL[f64]
        assert _rel(np.asarray(d[(0, 1)])[:, 0], 1.0) <= TOL[f64]
        t = r.random(N)
        for xv in (0.0, 1.0):
            u = pb.predict(p, np.stack([np.full(N, xv), t], 1))["u"]
            assert _rel(u, 1.0) <= TOL[f64]


@pytest.mark.parametrize("f64", [True, False])
def test_transfinite_box_matches_every_face(f64):
    pb = _load(BOX, f64)
    r = _rng(1)
    for steps in (0, 20):
        p = _params(pb, steps)
        for (i, v, fn) in [(0, 0.0, lambda y: y ** 2), (0, 1.0, lambda y: y ** 2 + np.sin(y)),
                           (1, -1.0, lambda x: 1 + x * np.sin(-1)), (1, 2.0, lambda x: 4 + x * np.sin(2))]:
            s = r.random(N) * (3.0 if i == 0 else 1.0) + (-1.0 if i == 0 else 0.0)
            X = np.empty((N, 2))
            X[:, i], X[:, 1 - i] = v, s
            g = fn(s)
            assert _rel(np.asarray(pb.predict(p, X)["u"]) - g, g) <= TOL[f64]


def test_rewrite_is_shown_in_the_ir():
    pb = _load(WAVE, True)
    text = ir_text(pb.ir, pb.lowered)
    assert "hard (built into the models" in text
    assert "u(x, t) = 400*t**2*x*(1 - x)*N_u(x, t)/(100*t**2 + 1) + sin(pi*x) + sin(4*pi*x)/2" in text
    assert "ends [condition]" not in text and "shape [condition]" not in text


def test_residual_derivatives_go_through_the_rewrite():
    """u_t, u_xx, u_tt of the constrained field from the engine match finite differences
    of predict (float64): the residuals see the rewritten field."""
    pb = _load(WAVE, True)
    p = _params(pb, 0)
    X = _rng(2).random((64, 2)) * 0.8 + 0.1
    d = _derivs(pb, p, X, [(0, 1), (2, 0), (0, 2), (1, 1)])
    u = lambda Y: np.asarray(pb.predict(p, Y)["u"])
    h = 1e-4
    e = np.eye(2)
    fd_t = (u(X + h * e[1]) - u(X - h * e[1])) / (2 * h)
    fd_xx = (u(X + h * e[0]) - 2 * u(X) + u(X - h * e[0])) / h ** 2
    fd_tt = (u(X + h * e[1]) - 2 * u(X) + u(X - h * e[1])) / h ** 2
    fd_xt = (u(X + h * (e[0] + e[1])) - u(X + h * (e[0] - e[1])) - u(X - h * (e[0] - e[1])) + u(X - h * (e[0] + e[1]))) / (4 * h * h)
    np.testing.assert_allclose(np.asarray(d[(0, 1)])[:, 0], fd_t, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(d[(2, 0)])[:, 0], fd_xx, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.asarray(d[(0, 2)])[:, 0], fd_tt, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.asarray(d[(1, 1)])[:, 0], fd_xt, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------- periodic

@pytest.mark.parametrize("f64", [True, False])
def test_periodic_embedding_value_and_derivatives(f64):
    pb = _load(PERIODIC, f64)
    assert not any(k.startswith("periodic") for k in pb.lowered.regions)
    assert pb.lowered.graphs["u"].nodes  # network input: 2·modes features + t
    r = _rng(3)
    for steps in (0, 20):
        p = _params(pb, steps)
        t = r.random(N)
        lo = _derivs(pb, p, np.stack([np.full(N, -1.0), t], 1), [(0, 0), (1, 0), (2, 0), (3, 0)])
        hi = _derivs(pb, p, np.stack([np.full(N, 1.0), t], 1), [(0, 0), (1, 0), (2, 0), (3, 0)])
        for k in lo:
            a, b = np.asarray(lo[k])[:, 0], np.asarray(hi[k])[:, 0]
            # float32: the phase 2π(x − lo)/L at x = hi rounds to 2π ± ulp; scale by the derivative's size
            assert _rel(a - b, a) <= (TOL[f64] if f64 else 2e-6 * 4 ** sum(k)), k


# ---------------------------------------------------------------- stream function

@pytest.mark.parametrize("f64", [True, False])
def test_stream_function_is_divergence_free(f64):
    pb = _load(STREAM, f64)
    assert "mass" not in pb.lowered.term_names
    X = _rng(9).random((N, 2)) * np.array([1.5, 2.0]) + np.array([-0.5, -0.5])
    for steps in (0, 20):
        p = _params(pb, steps)
        d = _derivs(pb, p, X, [(1, 0), (0, 1)])
        ux, vy = np.asarray(d[(1, 0)])[:, 0], np.asarray(d[(0, 1)])[:, 1]
        assert _rel(ux + vy, ux) <= TOL[f64]



@pytest.mark.parametrize("f64", [True, False])
def test_vector_potential_is_divergence_free(f64):
    """div(u, v, w) from jax.jacfwd of the model function at each point (not the derivative engine)."""
    pb = _load(VECTOR_POTENTIAL, f64)
    assert "mass" not in pb.lowered.term_names
    X = jnp.asarray(_rng(10).random((N, 3)) * np.array([1.0, 2.0, 2.0]) + np.array([0.0, 0.0, -1.0]), pb.dtype)
    m = pb.ir.models[0]
    for steps in (0, 20):
        p = _params_for(VECTOR_POTENTIAL, f64, steps)
        J = np.asarray(jax.jit(jax.vmap(jax.jacfwd(pb.lowered.model_fn(p, m))))(X), np.float64)   # (N, fields, coords)
        div = J[:, 0, 0] + J[:, 1, 1] + J[:, 2, 2]
        assert _rel(div, np.abs(J[:, :3, :3]).max(axis=(1, 2))) <= TOL[f64]
        assert np.abs(J[:, :3, :3]).max() > 1e-3          # not divergence-free by being zero


# ---------------------------------------------------------------- Neumann and Robin

def _flux_face_values(pb, p, X):
    d = _derivs(pb, p, X, [(0, 0), (1, 0)])
    return np.asarray(d[(0, 0)], np.float64)[:, 0], np.asarray(d[(1, 0)], np.float64)[:, 0]


@pytest.mark.parametrize("f64", [True, False])
def test_neumann_and_robin_hold_on_their_faces(f64):
    pb = _load(FLUX, f64)
    assert pb.lowered.regions.keys() == {"interior"}
    r = _rng(11)
    for steps in (0, 20):
        p = _params_for(FLUX, f64, steps)
        y = r.random(N) * 3 - 1
        u, ux = _flux_face_values(pb, p, np.stack([np.zeros(N), y], 1))
        assert _rel(-ux - y, np.abs(ux) + np.abs(y)) <= TOL[f64]                       # dn(u) = -u_x on x = 0
        u, ux = _flux_face_values(pb, p, np.stack([np.ones(N), y], 1))
        g = 3 + np.sin(y + 1)
        assert _rel(ux + 2 * u - g, np.abs(ux) + 2 * np.abs(u) + np.abs(g)) <= TOL[f64]
        x = r.random(N)
        assert _rel(np.asarray(pb.predict(p, np.stack([x, np.full(N, -1.0)], 1))["u"], np.float64) - x, x) <= TOL[f64]
        assert np.abs(ux).max() > 1e-3


@pytest.mark.parametrize("f64", [True, False])
def test_insulated_ends_with_initial_state(f64):
    pb = _load(HEAT_FLUX, f64)
    r = _rng(12)
    for steps in (0, 20):
        p = _params_for(HEAT_FLUX, f64, steps)
        t = r.random(N) * 0.5
        for xv in (0.0, 1.0):
            _, ux = _flux_face_values(pb, p, np.stack([np.full(N, xv), t], 1))
            assert _rel(ux, 1.0) <= TOL[f64]
        x = r.random(N)
        g = 1 + np.cos(np.pi * x)
        assert _rel(np.asarray(pb.predict(p, np.stack([x, np.zeros(N)], 1))["u"], np.float64) - g, g) <= TOL[f64]


def test_flux_rewrite_derivatives_match_finite_differences_and_show_in_ir():
    pb = _load(FLUX, True)
    text = ir_text(pb.ir, pb.lowered)
    assert "(from `left`: -dx(u) = y on x = 0)" in text and "left [condition]" not in text
    assert "x*(1 - x)**2" in text and "x**2*(x - 1)" in text
    p = _params(pb, 0)
    X = _rng(13).random((64, 2)) * np.array([0.8, 2.4]) + np.array([0.1, -0.7])
    d = _derivs(pb, p, X, [(1, 0), (0, 1), (2, 0), (0, 2)])
    u = lambda Y: np.asarray(pb.predict(p, Y)["u"])
    h, e = 1e-4, np.eye(2)
    for i in (0, 1):
        k1, k2 = [(1, 0), (0, 1)][i], [(2, 0), (0, 2)][i]
        fd1 = (u(X + h * e[i]) - u(X - h * e[i])) / (2 * h)
        fd2 = (u(X + h * e[i]) - 2 * u(X) + u(X - h * e[i])) / h ** 2
        np.testing.assert_allclose(np.asarray(d[k1])[:, 0], fd1, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(d[k2])[:, 0], fd2, rtol=1e-4, atol=1e-3)


FLUX_BASE = """
problem e
domain (x, y) in rectangle([0, 1], [0, 1])
field u(x, y), v(x, y)
equation: -lap(u) = 1
equation mass: div(u, v) = 0
model (u, v) = mlp(width = 8, depth = 1)
"""


def test_flux_forms_that_cannot_be_built_in():
    b = FLUX_BASE
    e = _err(b + "condition a: dn(u) = 0 on x = 0 hard\ncondition b: dn(u) = 0 on y = 0 hard\n")
    assert e.codes == ["E324"] and "two coordinates" in e.diagnostics[0].message and e.diagnostics[0].related
    e = _err(b + "condition a: u = 0 on x = 0 hard\ncondition b: dn(u) = 1 on x = 0 hard\n")
    assert e.codes == ["E324"] and "same face" in e.diagnostics[0].message
    assert _err(b + "condition: y * dn(u) + u = 0 on x = 1 hard\n").codes == ["E324"]      # variable coefficient
    assert _err(b + "condition: dy(u) = 0 on x = 1 hard\n").codes == ["E324"]              # tangential
    assert _err(b + "condition: d(u, y, 2) = 0 on x = 1 hard\n").codes == ["E324"]         # second order, tangential
    assert _err(b + "condition: d(u, x, 2) + u * dx(u) = 0 on x = 1 hard\n").codes == ["E324"]   # not affine
    assert _err(b + "condition: y * d(u, x, 2) + u = 0 on x = 1 hard\n").codes == ["E324"]       # variable γ
    assert _err(b + "condition: dn(u) = 0 on boundary hard\n").codes == ["E324"]           # adjacent faces
    assert _err(b + "condition: dn(u) = 0 on x = 0 hard\ncondition: dn(u) = 1 on x = 0 hard\n").codes == ["E325"]
    e = _err(b + "condition a: dn(u) = 1 on x = 0 hard\ncondition b: u = 0 on y = 0 hard\n")   # -u_x = 1 vs u_x = 0
    assert e.codes == ["E326"] and "`a`" in e.diagnostics[0].message and "`b`" in e.diagnostics[0].message
    stream = b.replace("equation mass: div(u, v) = 0", "equation mass: div(u, v) = 0 hard")
    assert _err(stream + "condition: dn(u) = 0 on x = 0 hard\n").codes == ["E331"]

CURVE = """
problem curve
domain x in [0, 1]
time   t in [0, 0.5]
field u(x, t)
equation: dt(u) + u * dx(u) = 0.01 * d(u, x, 2)
condition walls: u = 0 on x = 0, x = 1 hard
condition bent:  d(u, x, 2) = t on x = 0 hard
condition flat:  d(u, x, 2) = -2 * t on x = 1 hard
condition start: u = sin(pi * x) on t = 0 hard
model u = mlp(width = 8, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""


def _curvature_holds(text, f64, seed, check):
    """For the initial and the trained weights, at N random times: check(x, t, u, ux, uxx)
    on both faces x = 0, 1 (tolerances: CURV_TOL); the initial data sin(πx) stay exact."""
    pb = _load(text, f64)
    assert pb.lowered.term_names == ["equation1"]
    r = _rng(seed)
    for steps in (0, 20):
        p = _params_for(text, f64, steps)
        t = r.random(N) * 0.5
        for xv in (0.0, 1.0):
            d = _derivs(pb, p, np.stack([np.full(N, xv), t], 1), [(0, 0), (1, 0), (2, 0)])
            check(xv, t, *(np.asarray(d[k], np.float64)[:, 0] for k in ((0, 0), (1, 0), (2, 0))))
        x = r.random(N)
        g = np.sin(np.pi * x)
        assert _rel(np.asarray(pb.predict(p, np.stack([x, np.zeros(N)], 1))["u"], np.float64) - g, g) <= TOL[f64]
        d = _derivs(pb, p, r.random((N, 2)) * np.array([1.0, 0.5]), [(2, 0)])
        assert np.abs(np.asarray(d[(2, 0)])).max() > 1e-2        # curved inside: not held by being flat


# a second derivative taken in float32 by the derivative engine: 2.3e-6 measured, so 1e-5 there
CURV_TOL = {True: TOL[True], False: 1e-5}


@pytest.mark.parametrize("f64", [True, False])
def test_curvature_and_value_hold_on_the_same_face(f64):
    """`d(u, x, 2) = g` hard with `u = 0` hard on the same face (a simply supported end):
    χ = (x − a)²/2·(1 − s)³ corrects the curvature and leaves the value, the slope and the
    other face alone."""
    def check(xv, t, u, ux, uxx):
        g = t if xv == 0.0 else -2 * t
        assert _rel(u, 1.0) <= TOL[f64]
        assert _rel(uxx - g, np.abs(uxx) + np.abs(g)) <= CURV_TOL[f64]
    _curvature_holds(CURVE, f64, 14, check)


def test_curvature_rewrite_matches_finite_differences_and_shows_in_ir():
    pb = _load(CURVE, True)
    text = ir_text(pb.ir, pb.lowered)
    assert "(from `bent`: d(u, x, 2) = t on x = 0)" in text and "(from `flat`: d(u, x, 2) = -2*t on x = 1)" in text
    p = _params(pb, 0)
    X = _rng(15).random((64, 2)) * np.array([0.8, 0.4]) + np.array([0.1, 0.05])
    d = _derivs(pb, p, X, [(1, 0), (0, 1), (2, 0)])
    u = lambda Y: np.asarray(pb.predict(p, Y)["u"])
    h, e = 1e-4, np.eye(2)
    for i, k in ((0, (1, 0)), (1, (0, 1))):
        fd = (u(X + h * e[i]) - u(X - h * e[i])) / (2 * h)
        np.testing.assert_allclose(np.asarray(d[k])[:, 0], fd, rtol=1e-6, atol=1e-6)
    fd2 = (u(X + h * e[0]) - 2 * u(X) + u(X - h * e[0])) / h ** 2
    np.testing.assert_allclose(np.asarray(d[(2, 0)])[:, 0], fd2, rtol=1e-4, atol=1e-3)


def test_curvature_forms_that_cannot_be_built_in():
    base = CURVE.split("condition walls")[0] + "model u = mlp(width = 8, depth = 2)\n"
    e = _err(base + "condition a: d(u, x, 2) = 1 on x = 0 hard\ncondition b: u = x * (1 - x) on t = 0 hard\n")
    assert e.codes == ["E326"] and "`a`" in e.diagnostics[0].message and "`b`" in e.diagnostics[0].message   # −2 ≠ 1 at t = 0
    start = "condition s: u = sin(pi * x) on t = 0 hard\n"
    e = _err(base + start + "condition a: d(u, x, 2) = 0 on x = 0 hard\ncondition b: d(u, x, 2) = 1 on x = 0 hard\n")
    assert e.codes == ["E325"]


CURVE_FLUX = CURVE.split("condition walls")[0] + """condition start: u = sin(pi * x) on t = 0 hard
condition slope: dn(u) = -pi on x = 0 hard
condition bent:  d(u, x, 2) = -t on x = 0, x = 1 hard
model u = mlp(width = 8, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""


def _curve(conditions):
    return CURVE.split("condition walls")[0] + "condition start: u = sin(pi * x) on t = 0 hard\n" + conditions + \
        "model u = mlp(width = 8, depth = 2)\ntrain:\n  points interior = 256\n  adam(lr = 1e-2) for 20 steps\n"


CURVE_ROBIN = _curve("condition slope: dn(u) = -pi on x = 0 hard\n"
                     "condition a: d(u, x, 2) + 2 * u - t * dx(u) = t on x = 0 hard\n"
                     "condition b: d(u, x, 2) + u = 0 on x = 1 hard\n")
CURVE_FLUX = _curve("condition slope: dn(u) = -pi on x = 0 hard\n"
                    "condition bent:  d(u, x, 2) = -t on x = 0, x = 1 hard\n")


@pytest.mark.parametrize("f64", [True, False])
def test_curvature_combined_with_value_and_slope_holds(f64):
    """α·u + β·dx(u) + γ·d(u, x, 2) = g hard: χ keeps u and dx(u) on the face, so c = (g − αV − βV_x)/γ − V_xx
    holds it — with a slope held on the same face (its ψ' and ψ'' enter V_x and V_xx there)."""
    def check(xv, t, u, ux, uxx):
        lhs, g = (uxx + 2 * u - t * ux, t) if xv == 0.0 else (uxx + u, 0 * t)
        if xv == 0.0:
            assert _rel(ux - np.pi, np.pi) <= TOL[f64]
        assert _rel(lhs - g, np.abs(uxx) + np.abs(u) + np.abs(ux) + np.abs(g)) <= CURV_TOL[f64]
        assert np.abs(u).max() > 1e-3 and np.abs(uxx).max() > 1e-3      # not held by being zero
    _curvature_holds(CURVE_ROBIN, f64, 17, check)
    e = _err(CURVE_ROBIN.replace("2 * u - t * dx(u) = t", "2 * u - dx(u) = t"))     # −π ≠ 0 at t = 0
    assert e.codes == ["E326"] and "`a`" in e.diagnostics[0].message and "`start`" in e.diagnostics[0].message


@pytest.mark.parametrize("f64", [True, False])
def test_curvature_holds_with_a_flux_on_the_same_coordinate(f64):
    """A slope and curvatures on the faces of one coordinate: the curvature layer sees the
    flux correction made before it (ψ'' ≠ 0 on both faces), so both hold — on the flux's own
    face and on the opposite one."""
    def check(xv, t, u, ux, uxx):
        assert _rel(uxx + t, np.abs(uxx) + t) <= CURV_TOL[f64]
        if xv == 0.0:
            assert _rel(ux - np.pi, np.pi) <= TOL[f64]
        else:
            assert np.abs(ux - np.pi).max() > 1e-3          # the slope is held on x = 0 only
    _curvature_holds(CURVE_FLUX, f64, 16, check)


# ---------------------------------------------------------------- algebraic constraints

def _mix_check(pb, p, X, tol):
    v = {k: np.asarray(a, np.float64) for k, a in pb.predict(p, X).items()}
    x, t = X[:, 0], X[:, 1]
    scale = 1 + np.abs(v["a"]) + np.abs(v["b"]) + np.abs(v["c"])
    assert np.max(np.abs(v["a"] + v["b"] + v["c"] - 1 - x) / scale) <= tol
    assert np.max(np.abs(v["a"] - x * v["b"] - t) / (1 + np.abs(v["a"]) + np.abs(v["b"]))) <= tol
    assert np.min(v["p"] + 1) >= -tol * (1 + np.abs(v["p"]).max())
    assert np.max(v["p"] + v["q"] - x * t) <= tol * (1 + np.abs(v["p"]).max() + np.abs(v["q"]).max())
    assert v["r"].min() >= 0 and v["r"].max() <= 2 * (1 + tol)
    assert np.min(v["s"] - x) >= -tol


@pytest.mark.parametrize("f64", [True, False])
def test_projection_bounds_hold(f64):
    pb = _load(MIX, f64)
    kinds = sorted(l.kind for l in pb.ir.hard.layers)
    assert kinds == ["bounds", "projection"]
    X = _rng(4).random((N, 2))
    for steps in (0, 20):
        p = _params(pb, steps)
        _mix_check(pb, p, X, TOL[f64])


def test_projection_leaves_feasible_outputs_unchanged_and_projects_others():
    pb = _load(MIX, True)
    lay = next(l for l in pb.ir.hard.layers if l.kind == "projection")
    X = jnp.asarray(_rng(5).random((500, 2)))
    env = pb.lowered._coord_env(X)
    from pdeforge.compiler.lower import to_jax
    x, t = np.asarray(X[:, 0]), np.asarray(X[:, 1])
    r = _rng(6)
    b = r.normal(size=500)
    a = t + x * b
    c = 1 + x - a - b
    p = -1 + r.random(500)               # p >= -1
    q = x * t - p - r.random(500)        # p + q <= x t
    Y = np.stack([a, b, c, p, q, r.normal(size=500), r.normal(size=500)], 1)
    out = np.asarray(lay.jax(X, jnp.asarray(Y), env, to_jax))
    np.testing.assert_allclose(out, Y, rtol=0, atol=1e-12)
    # an infeasible output moves onto the constraint set, minimally for an active bound
    Y2 = Y.copy()
    Y2[:, 3] = -5.0                       # violates p >= -1 only (rows are independent)
    out2 = np.asarray(lay.jax(X, jnp.asarray(Y2), env, to_jax))
    assert np.all(out2[:, 3] >= -1 - 1e-12)
    np.testing.assert_allclose(out2[:, :3], Y[:, :3], atol=1e-12)   # equalities held already


@pytest.mark.parametrize("f64", [True, False])
def test_simplex_holds(f64):
    pb = _load(SIMPLEX, f64)
    assert [l.kind for l in pb.ir.hard.layers] == ["simplex"]
    X = _rng(7).random((N, 2))
    for steps in (0, 20):
        p = _params(pb, steps)
        v = pb.predict(p, X)
        c = np.stack([np.asarray(v[k], np.float64) for k in ("c1", "c2", "c3")], 1)
        assert c.min() >= 0
        assert np.max(np.abs(c.sum(1) - 1)) <= TOL[f64]


@pytest.mark.parametrize("text", [WAVE, BOX, PERIODIC, MIX, SIMPLEX, STREAM, FLUX, HEAT_FLUX, VECTOR_POTENTIAL, CURVE, CURVE_ROBIN],
                         ids=["dirichlet", "box", "periodic", "projection", "simplex", "stream", "flux", "heat_flux", "vector_potential",
                              "curvature", "curvature_robin"])
def test_parameter_gradients_through_layers_match_finite_differences(text):
    pb = _load(text, True)
    p = pb.init(jax.random.PRNGKey(2))
    batch = pb.sample(0, {"interior": 64, "initial": 16, "boundary": 16})
    L = jax.jit(pb.loss)
    g = jax.grad(pb.loss)(p, batch)
    leaves = jax.tree_util.tree_leaves(g)
    assert all(np.all(np.isfinite(np.asarray(l))) for l in leaves)
    d = jax.tree_util.tree_map(lambda a: jnp.asarray(np.random.default_rng(8).normal(size=a.shape)), p)
    h = 1e-6
    plus = jax.tree_util.tree_map(lambda a, b: a + h * b, p, d)
    minus = jax.tree_util.tree_map(lambda a, b: a - h * b, p, d)
    fd = (float(L(plus, batch)) - float(L(minus, batch))) / (2 * h)
    an = sum(float(jnp.vdot(a, b)) for a, b in zip(leaves, jax.tree_util.tree_leaves(d)))
    assert abs(fd - an) <= 1e-5 * max(1.0, abs(an))


# ---------------------------------------------------------------- errors

def _err(text):
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text, "<t>")
    return e.value


BASE = """
problem e
domain x in [0, 1]
time t in [0, 1]
field u(x, t), v(x, t)
equation: dt(u) = d(u, x, 2)
equation: dt(v) = d(v, x, 2)
condition: v = 0 on t = 0
model (u, v) = mlp(width = 8, depth = 1)
"""


def test_corner_mismatch_names_both_conditions():
    e = _err(BASE + "condition ic: u = 1 on t = 0 hard\ncondition bc: u = 0 on x = 0 hard\n")
    d = e.diagnostics[0]
    assert d.code == "E326" and "`ic`" in d.message and "`bc`" in d.message
    assert d.related and d.related[0][0].line != d.span.line


def test_initial_rate_mismatch_with_moving_wall():
    text = BASE.replace("dt(u) = d(u, x, 2)", "d(u, t, 2) = d(u, x, 2)")
    e = _err(text + "condition ic: u = 0 on t = 0 hard\ncondition rate: dt(u) = 0 on t = 0 hard\ncondition bc: u = t on x = 0 hard\n")
    assert e.codes == ["E326"]


def test_unsupported_and_contradictory_forms():
    ok = BASE + "condition: u = 0 on t = 0\n"
    assert _err(ok + "condition: d(u, x, 3) = 0 on x = 0 hard\n").codes == ["E324"]          # third order
    assert _err(ok + "condition: u * u = 1 on x = 0 hard\n").codes == ["E323"]
    e = _err(ok + "condition a: u = 0 on x = 0 hard\ncondition b: u = 1 on x = 0 hard\n")
    assert e.codes == ["E325"] and e.diagnostics[0].related
    e = _err(ok + "constraint lo: u >= 1 hard\nconstraint hi: u <= 0 hard\n")
    assert e.codes == ["E333"] and e.diagnostics[0].related
    e = _err(ok + "constraint: u + v = 0 hard\nconstraint: 2 * u + 2 * v = 1 hard\n")
    assert e.codes == ["E333"]
    assert _err(ok + "constraint: u * v = 1 hard\n").codes == ["E329"]
    assert _err(ok + "constraint: u + v = 1, u - v = 0, 2 * u = 1 hard\n").codes == ["E330"]
    assert _err(ok + "constraint: u >= 0 hard(method = sigmoid)\n").codes == ["E330"]
    assert _err(ok + "constraint: u > 0 hard\n").codes == ["E322"]
    assert _err(ok + "constraint: u >= 0 hard(method = relu)\n").codes == ["E143"]
    assert _err(ok + "equation: u = v hard\n").codes == ["E303"]
    assert _err(ok + "equation: div(u) = 0 hard\n").codes == ["E303"]       # 1-D: no stream function


def test_soft_constraint_is_a_loss_term():
    pb = pdeforge.loads(BASE + "condition: u = 0 on t = 0\nconstraint pos: u >= 0\n", "<t>", float64=True)
    assert "pos" in pb.lowered.term_names
    p = pb.init(jax.random.PRNGKey(0))
    res = pb.residuals(p, pb.sample(0, {"interior": 32, "initial": 8, "boundary": 8}))["pos"]
    assert np.all(np.asarray(res) >= 0)


def test_examples_compile():
    for name in ("wave1d", "burgers_hard", "allen_cahn", "species", "kovasznay", "poisson_neumann"):
        pb = pdeforge.load(EX / f"{name}.pde")
        assert pb.ir.hard


# ---------------------------------------------------------------- accuracy (select with -m long)

def _run_example(tmp_path, path, *extra):
    import json
    from pdeforge.cli import main
    out = tmp_path / Path(path).stem
    assert main(["run", str(path), "--out", str(out), "--quiet", *extra]) == 0
    m = json.loads((out / "metrics.json").read_text())
    with np.load(out / "prediction.npz", allow_pickle=False) as z:
        pred = {k: z[k] for k in z.files}
    return m, pred


@pytest.mark.long       # six runs of 2000 steps: about 12 min on one core
def test_burgers_hard_beats_soft_over_seeds(tmp_path):
    """Same network, points and 2000-step budget (Adam 1111 + L-BFGS 889), seeds 0-2.
    Measured: hard 2.0e-2, 1.2e-2, 9.2e-3; soft 3.7e-2, 6.1e-2, 1.4e-2 (an earlier CPU gave
    soft 8.1e-3 on seed 2, below hard: float32 L-BFGS is chaotic across machines), so the
    claim is about the spread: hard is better on average and in the worst case. At the
    files' full budget it is not (docs/accuracy.md): both stall near the same loss."""
    errs = {"hard": [], "soft": []}
    for seed in ("0", "1", "2"):
        for kind, path in (("hard", EX / "burgers_hard.pde"), ("soft", EX / "burgers.pde")):
            m, _ = _run_example(tmp_path / f"{kind}{seed}", path, "--steps", "2000", "--seed", seed)
            errs[kind].append(m["final"]["relative_l2"]["u"])
    print(f"burgers, 2000 steps, seeds 0-2: hard {errs['hard']}, soft {errs['soft']}")
    assert np.mean(errs["hard"]) < np.mean(errs["soft"]) and max(errs["hard"]) < max(errs["soft"])


def _velocity_error(pred):
    u, v, ur, vr = (pred[k].astype(np.float64).ravel() for k in ("u", "v", "u_ref", "v_ref"))
    return float(np.sqrt(((u - ur) ** 2 + (v - vr) ** 2).sum() / (ur ** 2 + vr ** 2).sum()))


@pytest.mark.long     # ~100 s of mostly compilation; the stream-function layer's exactness is tested above
def test_kovasznay_short_budget(tmp_path):
    """What the normal suite can afford: 200 of the file's 4000 steps (50 Adam + 150 L-BFGS)."""
    m, pred = _run_example(tmp_path, EX / "kovasznay.pde", "--steps", "200")
    err = _velocity_error(pred)
    print(f"kovasznay (200 steps): velocity relative L2 {err:.3e}, {m['final']['relative_l2']}")
    assert err <= KOVASZNAY_SHORT


@pytest.mark.long
def test_kovasznay_accuracy(tmp_path):
    m, pred = _run_example(tmp_path, EX / "kovasznay.pde")
    err = _velocity_error(pred)
    print(f"kovasznay: velocity relative L2 {err:.3e}, {m['final']['relative_l2']} in {m['run']['wall_s']:.0f} s")
    assert err <= 1e-3 and m["final"]["relative_l2"]["u"] <= 1e-3


@pytest.mark.long
def test_poisson_neumann_hard_beats_soft(tmp_path):
    """The same recipe with the value and flux conditions hard, and as loss terms."""
    soft_file = tmp_path / "poisson_neumann_soft.pde"
    soft_file.write_text((EX / "poisson_neumann.pde").read_text().replace(" hard\n", "\n"))
    hard, _ = _run_example(tmp_path, EX / "poisson_neumann.pde")
    soft, _ = _run_example(tmp_path, soft_file)
    eh, es = hard["final"]["relative_l2"]["u"], soft["final"]["relative_l2"]["u"]
    print(f"poisson_neumann: hard {eh:.3e}, soft {es:.3e}")
    assert eh <= 1e-3 and eh < es


@pytest.mark.long
def test_species_hard_never_leaves_the_simplex(tmp_path):
    text = (EX / "species.pde").read_text()
    soft_file = tmp_path / "species_soft.pde"
    soft_file.write_text(text.replace(" hard\n", "\n"))
    for path, hard in ((EX / "species.pde", True), (soft_file, False)):
        m, pred = _run_example(tmp_path, path)
        c = np.stack([pred[f].astype(np.float64).ravel() for f in ("c1", "c2", "c3")], 1)
        neg, drift = int((c < 0).sum()), float(np.abs(c.sum(1) - 1).max())
        print(f"species {'hard' if hard else 'soft'}: {m['final']['relative_l2']}, negative values {neg}, max |sum - 1| {drift:.2e}")
        if hard:
            assert neg == 0 and drift <= 1e-6
        else:
            assert neg > 0 or drift > 1e-4          # the penalty alone does not keep them


@pytest.mark.long
def test_wave1d_hard_accuracy(tmp_path):
    m, _ = _run_example(tmp_path, EX / "wave1d.pde")
    err = m["final"]["relative_l2"]["u"]
    print(f"wave1d_hard: relative L2 {err:.3e}")
    assert err <= 1e-2


@pytest.mark.long
@pytest.mark.xfail(reason="hard constraints alone stall on Allen–Cahn; needs causal training and Fourier features", strict=False)
def test_allen_cahn_accuracy(tmp_path):
    m, _ = _run_example(tmp_path, EX / "allen_cahn.pde")
    err = m["final"]["relative_l2"]["u"]
    print(f"allen_cahn: relative L2 {err:.3e}")
    assert err <= 1e-2
