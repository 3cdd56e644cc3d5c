"""Physics-informed DeepONets (issue 18; Wang, Wang & Perdikaris 2021): operator programs
whose model maps one point at a time, lowered on sampled points (compiler/operator_points.py).

The residuals are checked against autodiff of the network and numpy's interpolation of
the sensors; training runs from the CLI are CI-sized (a few hundred steps) with bounds
from measured runs; the paper's full recipes are the examples, run with `-m long`."""
from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdeforge
from pdeforge.cli import main
from pdeforge.compiler.operator import Normaliser
from pdeforge.compiler.operator_points import PointOperatorLowered, _interp
from pdeforge.datasets import generate
from pdeforge.dsl import PdeError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

ANTI = """problem anti
domain x in [0, 1]
grid x = {s}
input f(x) from grf(covariance = rbf(length = 0.2))
field s(x) given f
equation: dx(s) = f
condition start: s = 0 on x = 0 {hard}
pairs from antiderivative()
model s = {model}
train:
  pairs train = {train}, test = 50
  weights pairs = {w}
  batch = {batch}
  points interior = 50
  adam(lr = 5e-3, decay = 0.5, decay_every = 300) for {steps} steps
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PDEFORGE_CACHE", str(tmp_path_factory.getbasetemp() / "datasets"))


def _anti(s=40, hard="hard", model="deeponet(width = 32, depth = 3, basis = 32)", train=500, w=0, batch=50,
          steps=600):
    return ANTI.format(s=s, hard=hard, model=model, train=train, w=w, batch=batch, steps=steps)


def test_a_deeponet_is_lowered_on_points_with_its_branch_on_the_sensors():
    p = pdeforge.loads(_anti())
    low = p.lowered
    assert isinstance(low, PointOperatorLowered) and low.M == 40 and low.shape == (40,)
    # branch [40 → 32 × 3 → 32], trunk [1 → 32 × 3 → 32], one bias
    branch = 40 * 32 + 32 + 2 * (32 * 32 + 32) + 32 * 32 + 32
    trunk = 1 * 32 + 32 + 2 * (32 * 32 + 32) + 32 * 32 + 32
    assert low.param_count == branch + trunk + 1
    # an FNO on the same program stays on the grid
    fno = pdeforge.loads(_anti(model="fno(modes = 8, width = 8, layers = 1)").replace("deeponet", "fno"))
    assert not isinstance(fno.lowered, PointOperatorLowered)


def test_interpolation_is_exact_for_piecewise_linear_inputs():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(11)
    x = rng.random(200)
    got = np.asarray(_interp(jnp.asarray(v), jnp.asarray(x[:, None]), np.array([0.0]), np.array([1.0]), (11,)))
    np.testing.assert_allclose(got, np.interp(x, np.linspace(0, 1, 11), v), atol=2e-6)     # float32
    # two axes: bilinear, exact for a x + b y + c x y
    g = np.linspace(0, 2, 5)
    V = (1 + 2 * g[:, None] - g[None, :] + 0.5 * g[:, None] * g[None, :]).ravel()
    X = rng.random((100, 2)) * 2
    got = np.asarray(_interp(jnp.asarray(V), jnp.asarray(X), np.zeros(2), 2 * np.ones(2), (5, 5)))
    np.testing.assert_allclose(got, 1 + 2 * X[:, 0] - X[:, 1] + 0.5 * X[:, 0] * X[:, 1], atol=1e-5)


def test_the_residual_is_the_networks_derivative_minus_the_interpolated_input():
    """ds/dx − f at sampled points, per input: against jax.grad of the predicted field and
    np.interp of that input's sensors."""
    jax.config.update("jax_enable_x64", True)
    try:
        p = pdeforge.loads(_anti(s=20), float64=True)
        low = p.lowered
        rng = np.random.default_rng(1)
        a = rng.standard_normal((3, 20, 1))
        norm = Normaliser(np.array([0.1]), np.array([1.3]), np.array([0.2]), np.array([0.7]))
        params = low.init(jax.random.PRNGKey(0))
        low._norm = norm
        X = rng.random((3, 7, 1))
        rows = low._rows_of(jnp.asarray(a))
        for b in range(3):
            with low._bound(rows[b]):
                r = low.residuals(params, {"interior": jnp.asarray(X[b])})["equation1"]
            s = lambda x: low._predict(params, x.reshape(1, 1), rows[b])[0, 0]     # noqa: E731
            ds = np.array([float(jax.grad(s)(jnp.asarray(x))) for x in X[b, :, 0]])
            f = np.interp(X[b, :, 0], np.linspace(0, 1, 20), a[b, :, 0])
            np.testing.assert_allclose(np.asarray(r), ds - f, rtol=1e-9, atol=1e-12)
            # the hard condition holds exactly for every input
            assert float(low._predict(params, jnp.zeros((1, 1)), rows[b])[0, 0]) == 0.0
    finally:
        jax.config.update("jax_enable_x64", False)


def test_physics_alone_learns_the_antiderivative_from_the_cli(tmp_path):
    """No pair is solved for training; 600 steps on 500 drawn inputs take the held-out
    error (50 reference pairs) from 0.5 (step 30) to below 1e-1 (measured 8.5e-2)."""
    (tmp_path / "a.pde").write_text(_anti())
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "a.pde"), "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    mean, worst = m["final"]["relative_l2"]["s"], m["final"]["worst_relative_l2"]["s"]
    print(f"PI-DeepONet antiderivative CI size: mean {mean:.3e}, worst {worst:.3e}, {m['run']['wall_s']:.1f} s")
    assert set(m["history"][-1]["terms"]) == {"equation1"}
    assert mean < 0.13 and mean <= worst and m["history"][0]["error"] > 3 * mean
    with np.load(out / "prediction.npz", allow_pickle=False) as z:
        assert z["s"].shape == z["s_ref"].shape == z["input_f"].shape == (8, 40)
        assert np.all(z["s"][:, 0] == 0.0)
    assert main(["eval", str(tmp_path / "a.pde"), "--params", str(out)]) == 0
    # new inputs from the CLI: the sensors' values, (N, 40)
    d = generate("antiderivative", 5, 40, seed=9)
    np.savez(tmp_path / "new.npz", f=d["a"])
    assert main(["eval", str(tmp_path / "a.pde"), "--params", str(out), "--input", str(tmp_path / "new.npz"),
                 "--out", str(tmp_path / "pred.npz")]) == 0
    with np.load(tmp_path / "pred.npz", allow_pickle=False) as z:
        e = np.linalg.norm(z["s"] - d["u"], axis=1) / np.linalg.norm(d["u"], axis=1)
    assert e.mean() < 3 * max(mean, 1e-2)
    np.savez(tmp_path / "bad.npz", f=d["a"][:, :20])
    assert main(["eval", str(tmp_path / "a.pde"), "--params", str(out), "--input", str(tmp_path / "bad.npz")]) != 0
    assert main(["plot", str(out)]) == 0


def test_paired_data_train_a_deeponet_too(tmp_path):
    """The same DeepONet on the solver's pairs (`weights pairs` 1, no physics weight
    change): supervised training also reaches below 1e-1 (measured 9.0e-2)."""
    p = pdeforge.loads(_anti(w=1, hard=""))
    res = p.train(progress="quiet")
    err = res.errors["mean"]["s"]
    print(f"DeepONet antiderivative, pairs + physics: {err:.3e}")
    assert set(res.history[-1]["terms"]) == {"pairs", "equation1", "start"} and err < 0.13


def test_diffusion_reaction_holds_its_conditions_and_learns(tmp_path):
    """A field of (x, t) given f(x): the walls and the start hold exactly; 300 steps of
    physics alone bring the held-out error well below the untrained network's (measured
    5.6e-1 at step 15, 2.2e-1 at the end)."""
    src = (EXAMPLES / "operator_diffusion_reaction_pideeponet.pde").read_text()
    src = (src.replace("grid x = 100, t = 100", "grid x = 30, t = 20")
           .replace("train = 5000, test = 100", "train = 200, test = 20")
           .replace("batch = 100", "batch = 20").replace("points interior = 100", "points interior = 50")
           .replace("for 10000 steps", "for 300 steps").replace("lr = 1e-3", "lr = 3e-3")
           .replace("width = 50, depth = 4, basis = 50", "width = 32, depth = 3, basis = 32"))
    p = pdeforge.loads(src)
    assert p.lowered.shape == (30, 20) and p.lowered.in_shape == (30,)
    res = p.train(progress="quiet")
    d = p.pairs()
    pred = np.asarray(p.predict(res.params, d["a_test"])["s"])
    assert pred.shape == (20, 30, 20)
    assert np.all(pred[:, 0, :] == 0) and np.all(pred[:, -1, :] == 0) and np.all(pred[:, :, 0] == 0)
    first, last = res.history[0]["error"], res.errors["mean"]["s"]
    print(f"PI-DeepONet diffusion-reaction CI size: {first:.3e} -> {last:.3e}")
    assert last < 0.3 and last < 0.5 * first


@pytest.mark.parametrize("text, code, where", [
    (_anti(model="deeponet(branch = 7)"), "E354", "branch"),
    (_anti().replace("equation: dx(s) = f", "equation: dx(s) = dx(f)"), "E353", "derivative"),
    (_anti().replace("condition start: s = 0 on x = 0 hard", "condition start: s = f on x = 0 hard"), "E353",
     "hard"),
    (_anti().replace("rbf(length = 0.2)", "rbf(length = -1)"), "E350", "length"),
    (_anti().replace("rbf(length = 0.2)", "rbf(scale = 1)"), "E130", "scale"),
])
def test_bad_point_operator_programs_are_reported(text, code, where):
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text)
    d = e.value.diagnostics[0]
    assert d.code == code and where in (d.message + (d.hint or "")), d.message


def test_a_field_of_time_needs_a_grid_along_time():
    src = (EXAMPLES / "operator_diffusion_reaction_pideeponet.pde").read_text().replace("grid x = 100, t = 100",
                                                                                         "grid x = 100")
    with pytest.raises(PdeError) as e:
        pdeforge.loads(src)
    assert e.value.diagnostics[0].code == "E163" and "`t`" in e.value.diagnostics[0].message


@pytest.mark.long
@pytest.mark.parametrize("name, target", [
    # the paper's means: 2.49e-3 over 1000 test inputs after 40000 steps, 5.33e-3 over 100
    # after 120000. Measured here (CPU, float32): 1.86e-3 after the recipe's 80000 steps
    # (3207 s; 2.98e-3 after 40000) and 2.1e-2 after the diffusion-reaction recipe's 10000
    # (docs/accuracy.md). Strict: reaching the missed target fails loudly.
    ("operator_antiderivative_pideeponet", 2.49e-3),
    pytest.param("operator_diffusion_reaction_pideeponet", 5.33e-3,
                 marks=pytest.mark.xfail(strict=True, reason="target not reached yet")),
])
def test_pideeponet_examples_full_recipe(tmp_path, name, target):
    """The issue's target: at or below Wang, Wang & Perdikaris (2021)'s error."""
    out = tmp_path / "run"
    assert main(["run", str(EXAMPLES / f"{name}.pde"), "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    err = m["final"]["relative_l2"]["s"]
    print(f"{name}: {err:.3e} in {m['run']['wall_s']:.0f} s")
    assert err <= target


def test_a_stacked_deeponet_has_one_branch_net_per_basis_function():
    p = pdeforge.loads(_anti(s=100, model="stacked_deeponet()"))
    low = p.lowered
    # branch: one dense 100 → 32·16, then 32 independent nets 16 → 16 → 16 → 1; trunk [1 → 16 × 3 → 32]; bias
    branch = 100 * 512 + 512 + 2 * 32 * (16 * 16 + 16) + 32 * (16 + 1)
    trunk = 1 * 16 + 16 + 2 * (16 * 16 + 16) + 16 * 32 + 32
    assert low.param_count == branch + trunk + 1 == 70785
    # each group of grouped_dense is its own dense map: against a loop over the groups
    from pdeforge.compiler.network.layers import KINDS
    k = KINDS["grouped_dense"]
    a = {"groups": 3, "fan_in": 4, "per": 2}
    prm = k.init(jax.random.PRNGKey(0), a, jnp.float32)
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 12))
    y = k.apply(a, prm, [x])
    want = np.concatenate([np.asarray(x[:, 4 * g:4 * g + 4] @ prm["W"][g] + prm["b"][g]) for g in range(3)], 1)
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-6, atol=1e-6)
    with pytest.raises(PdeError) as e:
        pdeforge.loads(_anti(model="stacked_deeponet()").replace("problem anti", """architecture bad():
  return grouped_dense(inputs, 2, groups = 3)
problem anti""").replace("model s = stacked_deeponet()", "model s = bad()"))
    assert e.value.diagnostics[0].code == "E218"
