"""The derivative engine against reverse-mode references (used here only, as the
independent check): pure and mixed partials to 4th order, the forward Laplacian
against trace(jax.hessian), STDE in expectation, and a .pde with lap(u) training
through the forward Laplacian with the same gradients as the generic route."""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

jax.config.update("jax_enable_x64", True)

import pdeforge  # noqa: E402
from pdeforge.compiler.derivatives import Plan, evaluate  # noqa: E402
from pdeforge.compiler.symbolic import Lap  # noqa: E402
from pdeforge.dsl import PdeError  # noqa: E402

D = 3
EX = Path(__file__).resolve().parent.parent / "examples"


def _net(key, D=D, width=12, m=2):
    ks = jax.random.split(key, 4)
    Ws = [jax.random.normal(k, s, jnp.float64) / np.sqrt(s[0])
          for k, s in zip(ks, [(D, width), (width, width), (width, width), (width, m)])]

    def F(X):                          # batched pointwise: (N, D) → (N, m)
        h = X
        for W in Ws[:-1]:
            h = jnp.tanh(h @ W + 0.1)
        h = jax.nn.gelu(h[..., :1]) * h + jnp.sin(h)          # products of two input-dependent values
        return (h / (2.0 + h ** 2)) @ Ws[-1]
    return F


def _reference(F, X, a, j):
    """∂^a F_j by nested reverse mode, pointwise (jitted: eager dispatch is slow)."""
    g = lambda x: F(x[None])[0, j]
    for i, k in enumerate(a):
        for _ in range(k):
            g = (lambda g, i: lambda x: jax.grad(g)(x)[i])(g, i)
    return jax.jit(jax.vmap(g))(X)


def _trace_hessian(F, X):
    return jax.jit(jax.vmap(lambda x: jnp.trace(jax.hessian(lambda y: F(y[None])[0, 0])(x))))(X)


KEYS = [(0, 0, 0), (1, 0, 0), (0, 2, 0), (3, 0, 0), (0, 0, 4), (1, 1, 0), (0, 1, 1), (1, 1, 2)]


def _nested_grad(F, a, j):
    g = lambda x: F(x[None])[0, j]
    for i, k in enumerate(a):
        for _ in range(k):
            g = (lambda g, i: lambda x: jax.grad(g)(x)[i])(g, i)
    return jax.vmap(g)


def test_pure_and_mixed_partials_match_nested_grad():
    F = _net(jax.random.PRNGKey(1), width=8)
    X = jax.random.normal(jax.random.PRNGKey(2), (6, D), jnp.float64)
    plan = Plan.of(KEYS, D, spatial=(0, 1))
    both = jax.jit(lambda X: [[evaluate(F, X, plan, rowwise=r)[k][:, 1] for k in KEYS] for r in (False, True)])(X)
    assert plan.fused                     # no fallback happened
    refs = jax.jit(lambda X: [_nested_grad(F, a, 1)(X) for a in KEYS])(X)
    for out in both:                      # traced on a batch of one and on one point
        for a, got, ref in zip(KEYS, out, refs):
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-11, err_msg=str(a))


def _count(jaxpr, name):
    n = 0
    for e in jaxpr.eqns:
        n += e.primitive.name == name
        for p in e.params.values():
            for sub in p if isinstance(p, (list, tuple)) else [p]:
                if hasattr(sub, "eqns"):
                    n += _count(sub, name)
                elif hasattr(sub, "jaxpr"):
                    n += _count(sub.jaxpr, name)
    return n


def test_a_branch_on_a_face_carries_no_tower_along_its_normal():
    """G(X) = F(X) + F(X·(1 − e_x) + a·e_x), the shape of a hard flux or curvature layer: the
    seed along x is zero on the face branch, known at trace time, so that branch costs what
    F with the y-tangent alone costs (counted in matrix products); the mask passed as data
    instead (not known) costs the full towers. Derivatives match nested grad either way."""
    F = _net(jax.random.PRNGKey(1), width=8)
    e = np.eye(D)[0]
    G = lambda X: F(X) + F(X * (1.0 - e) + 0.5 * e)
    keys = [(2, 0, 0), (0, 1, 0), (1, 0, 0)]
    plan = Plan.of(keys, D)
    X = jax.random.normal(jax.random.PRNGKey(2), (5, D), jnp.float64)
    def n(fn, p):      # fn(X) gives the function to differentiate, X the traced batch
        return _count(jax.make_jaxpr(lambda X: evaluate(fn(X), X, p))(X).jaxpr, "dot_general")
    data = lambda X: lambda Y: F(Y) + F(Y * (1.0 - X[0, 0] / X[0, 0] * e) + 0.5 * e)   # the mask, traced
    face = n(lambda _: G, plan) - n(lambda _: F, plan)
    assert face == n(lambda _: F, Plan.of([(0, 1, 0)], D))
    assert face < n(data, plan) - n(lambda _: F, plan)
    out = jax.jit(lambda X: evaluate(G, X, plan))(X)
    assert plan.fused
    for a in keys:
        np.testing.assert_allclose(out[a][:, 1], _nested_grad(G, a, 1)(X), rtol=1e-9, atol=1e-11, err_msg=str(a))


@pytest.mark.parametrize("d", [2, 7])
def test_forward_laplacian_is_trace_of_hessian(d):
    F = _net(jax.random.PRNGKey(3), D=d, width=16, m=1)
    X = jax.random.uniform(jax.random.PRNGKey(4), (5, d), jnp.float64)
    plan = Plan.of([("lap", 0), (1,) + (0,) * (d - 1)], d, spatial=tuple(range(d)))
    keys = [("lap", 0), (1,) + (0,) * (d - 1)]
    out = dict(zip(keys, jax.jit(lambda X: [evaluate(F, X, plan)[k] for k in keys])(X)))
    ref = _trace_hessian(F, X)
    np.testing.assert_allclose(out[("lap", 0)][:, 0], ref, rtol=1e-12, atol=1e-12)
    # the first derivative rides on the Laplacian's Jacobian
    np.testing.assert_allclose(out[(1,) + (0,) * (d - 1)][:, 0], _reference(F, X, (1,) + (0,) * (d - 1), 0), rtol=1e-12)


def test_laplacian_over_spatial_coordinates_only():
    F = _net(jax.random.PRNGKey(5), D=3, m=1)
    X = jax.random.normal(jax.random.PRNGKey(6), (4, 3), jnp.float64)
    out = {("lap", 0): jax.jit(lambda X: evaluate(F, X, Plan.of([("lap", 0)], 3, spatial=(0, 2)))[("lap", 0)])(X)}
    ref = _reference(F, X, (2, 0, 0), 0) + _reference(F, X, (0, 0, 2), 0)
    np.testing.assert_allclose(out[("lap", 0)][:, 0], ref, rtol=1e-12)


def test_stde_is_unbiased_within_three_standard_errors():
    d, k, R = 6, 3, 400
    F = _net(jax.random.PRNGKey(7), D=d, width=8, m=1)
    X = jax.random.uniform(jax.random.PRNGKey(8), (3, d), jnp.float64)
    plan = Plan.of([("lap", k)], d, spatial=tuple(range(d)))
    draws = jax.jit(jax.vmap(lambda key: evaluate(F, X, plan, key)[("lap", k)][:, 0]))(
        jax.random.split(jax.random.PRNGKey(9), R))                       # (R, N)
    exact = _trace_hessian(F, X)
    mean, se = draws.mean(0), draws.std(0) / np.sqrt(R)
    assert np.all(se > 0)                                  # it is an estimate, not the exact value
    assert np.all(np.abs(mean - exact) < 3 * se), (mean, exact, se)


def test_stde_without_a_key_is_a_coded_error():
    """The engine called from Python (not through a problem's loss) without the key a
    STDE Laplacian draws its directions from: E233, as for a batch without a key."""
    F = _net(jax.random.PRNGKey(7), D=2, width=4, m=1)
    X = jax.random.uniform(jax.random.PRNGKey(8), (3, 2), jnp.float64)
    with pytest.raises(PdeError) as e:
        evaluate(F, X, Plan.of([("lap", 4)], 2, spatial=(0, 1)))
    assert e.value.codes == ["E233"] and "key" in str(e.value)


def test_unsupported_primitive_falls_back_to_jet_towers():
    def F(X):
        return jnp.maximum(jnp.tanh(X @ jnp.ones((D, 2))), jnp.sin(X[:, :2]))   # max of two tracked values
    X = jax.random.normal(jax.random.PRNGKey(10), (5, D), jnp.float64)
    plan = Plan.of([(2, 0, 0), (1, 1, 0), ("lap", 0)], D, spatial=(0, 1))
    out = jax.jit(lambda X: [evaluate(F, X, plan)[k] for k in [(2, 0, 0), ("lap", 0)]])(X)
    out = {(2, 0, 0): out[0], ("lap", 0): out[1]}
    assert not plan.fused
    assert "jet" in " ".join(plan.describe(["x", "y", "t"]))
    np.testing.assert_allclose(out[(2, 0, 0)][:, 0], _reference(F, X, (2, 0, 0), 0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[("lap", 0)][:, 1], _reference(F, X, (2, 0, 0), 1) + _reference(F, X, (0, 2, 0), 1),
                               rtol=1e-9, atol=1e-12)


POISSON = """
problem p
domain (x, y) in rectangle([0, 1], [0, 1])
field u(x, y)
equation pde: -lap(u) + 0.5 * u = sin(pi * x) * sin(pi * y)
condition wall: u = 0 on boundary
model u = mlp(width = 16, depth = 2)
train:
  points interior = 64, boundary = 32
  precision = float64
"""


def _grads(prob, params, batch):
    return jax.jit(jax.value_and_grad(prob.loss))(params, batch)


def test_pde_with_lap_trains_through_forward_laplacian():
    prob = pdeforge.loads(POISSON)
    text = prob.lowered.plan_text()
    assert "forward Laplacian" in text
    code = prob.lowered.regions["interior"]
    assert ("u", ("lap", 0)) in code.atoms.values()          # lap(u) stayed whole
    params, batch = prob.init(jax.random.PRNGKey(0)), prob.sample(0)
    v1, g1 = _grads(prob, params, batch)
    for c in prob.lowered.regions.values():                   # the generic route: jet towers
        for plan in c.plans.values():
            plan.fused = False
    v2, g2 = _grads(prob, params, batch)
    assert np.isfinite(float(v1))
    np.testing.assert_allclose(float(v1), float(v2), rtol=1e-12)
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_pde_with_stde_needs_a_key_and_estimates():
    prob = pdeforge.loads(POISSON.replace("-lap(u)", "-lap(u, estimate = 8)"))
    assert "STDE" in prob.lowered.plan_text()
    params, batch = prob.init(jax.random.PRNGKey(0)), prob.sample(0)
    with pytest.raises(PdeError) as e:
        prob.loss(params, batch)
    assert "E233" in str(e.value) or any(d.code == "E233" for d in e.value.diagnostics)
    batch["key"] = jax.random.PRNGKey(3)
    v, g = _grads(prob, params, batch)
    assert np.isfinite(float(v)) and all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(g))


def test_lap_symbolics():
    prob = pdeforge.loads(POISSON.replace("-lap(u)", "-lap(2 * u + 1) + lap(u^2)"))
    r = prob.ir.terms[0].parts[0][1]
    laps = r.atoms(Lap)
    assert len(laps) == 1 and next(iter(laps)).estimate == 0                   # lap(2u + 1) → 2 lap(u)
    x, y = prob.ir.symbols.coord["x"], prob.ir.symbols.coord["y"]
    assert r.has(sp.Derivative(prob.ir.symbols.field["u"], (x, 2)))            # lap(u²) expanded
    L = next(iter(laps))
    assert sp.simplify(L.diff(x) - (L.field.diff(x, 3) + L.field.diff(x, y, y))) == 0
    with pytest.raises(PdeError):
        pdeforge.loads(POISSON.replace("-lap(u)", "-lap(u, estimate = 0)"))


def test_emit_plan_names_methods():
    prob = pdeforge.load("examples/burgers.pde")
    text = prob.lowered.plan_text()
    assert "Taylor tower" in text and "d/dt" in text


def test_every_example_takes_the_fused_pass():
    """No shipped example falls back to the slower jet towers (jax's `stack` primitive
    once sent every hard-constrained model there: tracing shapes is enough to see it),
    and through the hard layers the fused values equal the fallback's."""
    def plans(pb):
        return [plan for code in pb.lowered.regions.values() for plan in code.plans.values()]
    for path in sorted(EX.glob("*.pde")):
        pb = pdeforge.load(path)
        if getattr(pb, "is_operator", False):     # operators differentiate on their grid (compiler/grid_stencils.py)
            continue
        pb.lowered._probe_plans()
        assert all(plan.fused for plan in plans(pb)), path.name

    def residuals(name, fused):
        pb = pdeforge.load(EX / f"{name}.pde", float64=True)
        for plan in plans(pb):
            plan.fused = fused                         # False: the fallback, as after an unsupported primitive
        batch = {k: (v[:32] if getattr(v, "ndim", 0) == 2 else v) for k, v in pb.sample(0).items()}
        return pb.residuals(pb.init(jax.random.PRNGKey(0)), batch)
    fused, generic = residuals("burgers_hard", True), residuals("burgers_hard", False)   # box ansatz with an IC
    for k in fused:
        np.testing.assert_allclose(np.asarray(fused[k]), np.asarray(generic[k]), rtol=1e-10,
                                   atol=1e-10 * float(np.max(np.abs(generic[k]))))
