"""Operator learning end to end (issue 18): input functions in the language, pairs made by
the reference solver (pdeforge/datasets, itself tested against Cole–Hopf in
tests/test_datasets.py) or read from a file, an FNO trained on them from the CLI, held-out
errors in metrics.json, `pdeforge eval` with new inputs on a finer grid, plots.

Sizes are CI sizes (grid 64, 200 training pairs, a few hundred steps); the full FNO paper
settings are `examples/operator_burgers_fno.pde`, run with `-m long`."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import pdeforge
from pdeforge.cli import main
from pdeforge.datasets import generate
from pdeforge.dsl import PdeError

SRC = """problem burgers_op
domain x in [0, 1]
grid x = 64
input u0(x) from grf(covariance = 625 * (-lap + 25)^-2)
field u(x) given u0
{pairs}
model u = {model}
train:
  pairs train = {train}, test = {test}
  batch = 10
  adam(lr = 2e-3, decay = 0.5, decay_every = 300) for {steps} steps
"""
SOLVER = "pairs from burgers(nu = 0.1, t = 1)"
FNO = "fno(modes = 12, width = 32, layers = 3)"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    """One dataset cache for the module's tests, never the user's home."""
    monkeypatch.setenv("PDEFORGE_CACHE", str(tmp_path_factory.getbasetemp() / "datasets"))


def _src(pairs=SOLVER, model=FNO, train=200, test=40, steps=600):
    return SRC.format(pairs=pairs, model=model, train=train, test=test, steps=steps)


def test_checked_program_holds_the_operator():
    ch = pdeforge.api.check_text(_src())
    assert ch.is_operator and ch.given == {"u": ["u0"]} and ch.grid == {"x": 64}
    fn = ch.inputs["u0"]
    assert (fn.kind, fn.sigma, fn.tau, fn.gamma) == ("grf", 25.0, 5.0, 2.0)   # 625 (−Δ + 25)^−2
    assert ch.pairs["solver"] == "burgers" and ch.pairs["options"]["nu"] == 0.1
    assert ch.train["pairs"] == {"train": 200, "test": 40} and ch.train["settings"]["batch"] == 10


def test_pairs_follow_the_input_distribution_and_the_solver():
    """The pairs a program makes are the solver's pairs for the declared GRF (same seed,
    same arrays), split into the first `train` and the next `test`."""
    p = pdeforge.loads(_src(train=30, test=10))
    d = p.pairs()
    ref = generate("burgers", 40, 64, seed=0, nu=0.1, t=1.0, sigma=25.0, tau=5.0, gamma=2.0)
    np.testing.assert_array_equal(d["a_train"][..., 0], ref["a"][:30])
    np.testing.assert_array_equal(d["u_test"][..., 0], ref["u"][30:])
    assert np.allclose(p.norm.a_mean, ref["a"][:30].mean(), atol=1e-12)


def test_fno_learns_burgers_and_beats_a_pointwise_network(tmp_path):
    """An FNO trained from the CLI on 200 pairs reaches a held-out mean relative L2 error
    below 6e-2 at grid 64 (measured 2.3e-2 to 3.0e-2 with 400-600 steps); a pointwise MLP of
    (u0(x), x), which cannot see the whole input, stays near 0.5 with the same budget —
    so the error measures the operator, not the data's scale."""
    (tmp_path / "fno.pde").write_text(_src())
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "fno.pde"), "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    mean, worst = m["final"]["relative_l2"]["u"], m["final"]["worst_relative_l2"]["u"]
    print(f"FNO grid 64: held-out mean {mean:.3e}, worst {worst:.3e} in {m['run']['wall_s']:.1f} s")
    assert mean < 6e-2 and mean <= worst < 0.3
    assert m["run"]["pairs"] == {"train": 200, "test": 40} and m["history"][-1]["loss"] < m["history"][0]["loss"]
    with np.load(out / "prediction.npz", allow_pickle=False) as z:
        assert z["u"].shape == z["u_ref"].shape == z["input_u0"].shape == (8, 64)
        e = np.linalg.norm(z["u"] - z["u_ref"], axis=1) / np.linalg.norm(z["u_ref"], axis=1)
        assert np.all(e <= worst * (1 + 1e-5))
    # `eval` recomputes the held-out errors from the saved parameters
    assert main(["eval", str(tmp_path / "fno.pde"), "--params", str(out)]) == 0
    # zero-shot on a grid twice as fine: the same functions (restrictions of one fine solve)
    fine = generate("burgers", 240, 64, seed=0, fine=128, nu=0.1, t=1.0, sigma=25.0, tau=5.0, gamma=2.0)
    fine128 = generate("burgers", 240, 128, seed=0, fine=128, nu=0.1, t=1.0, sigma=25.0, tau=5.0, gamma=2.0)
    np.testing.assert_array_equal(fine["a"], fine128["a"][:, ::2])
    np.savez(tmp_path / "new.npz", u0=fine128["a"][200:])
    assert main(["eval", str(tmp_path / "fno.pde"), "--params", str(out), "--input", str(tmp_path / "new.npz"),
                 "--out", str(tmp_path / "pred128.npz")]) == 0
    with np.load(tmp_path / "pred128.npz", allow_pickle=False) as z:
        u128 = z["u"]
    ref = fine128["u"][200:]
    e128 = np.mean(np.linalg.norm(u128 - ref, axis=1) / np.linalg.norm(ref, axis=1))
    print(f"zero-shot at grid 128: mean {e128:.3e}")
    assert e128 < 2 * max(mean, 1e-2)
    assert main(["plot", str(out)]) == 0 and (out / "u.png").exists()

    (tmp_path / "mlp.pde").write_text(_src(model="mlp(width = 32, depth = 2)"))
    assert main(["run", str(tmp_path / "mlp.pde"), "--out", str(tmp_path / "mlp"), "--quiet"]) == 0
    m2 = json.loads((tmp_path / "mlp" / "metrics.json").read_text())
    assert m2["final"]["relative_l2"]["u"] > 5 * mean


def _write_pairs(tmp_path, n=30, s=64, **extra):
    d = generate("burgers", n, s, seed=3)
    np.savez(tmp_path / "pairs.npz", a=d["a"], sol=d["u"], **extra)
    return d


def test_pairs_from_a_file(tmp_path):
    d = _write_pairs(tmp_path)
    text = _src(pairs='pairs from "pairs.npz" (u0 = a, u = sol)', train=20, test=10, steps=20)
    p = pdeforge.loads(text, str(tmp_path / "f.pde"))
    data = p.pairs()
    np.testing.assert_array_equal(data["a_test"][..., 0], d["a"][20:])
    np.testing.assert_array_equal(data["u_train"][..., 0], d["u"][:20])
    res = p.train(progress="quiet")
    assert res.steps == 20 and np.isfinite(res.final_loss) and set(res.errors) == {"mean", "worst"}


@pytest.mark.parametrize("mapping, npz, code", [
    ("(u0 = a, u = nope)", {}, "E418"),                                 # no such array
    ("(u0 = a, u = sol)", {"sol": np.zeros((30, 32))}, "E419"),          # grid 32, not 64
    ("(u0 = a, u = sol)", {"sol": np.zeros((29, 64))}, "E419"),          # 29 solutions for 30 inputs
    ("(u0 = a, u = b)", {"b": np.zeros((30, 64), dtype="U1")}, "E419"),  # not numbers
])
def test_bad_pair_files(tmp_path, mapping, npz, code):
    d = generate("burgers", 30, 64, seed=3)
    np.savez(tmp_path / "pairs.npz", a=d["a"], **({"sol": d["u"]} | npz))
    text = _src(pairs=f'pairs from "pairs.npz" {mapping}', train=20, test=10, steps=5)
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text, str(tmp_path / "f.pde")).pairs()
    assert e.value.diagnostics[0].code == code
    assert e.value.diagnostics[0].span.line == 6      # the `pairs` line


def test_too_many_pairs_asked_for(tmp_path):
    _write_pairs(tmp_path)
    text = _src(pairs='pairs from "pairs.npz" (u0 = a, u = sol)', train=25, test=10, steps=5)
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text, str(tmp_path / "f.pde")).pairs()
    assert e.value.diagnostics[0].code == "E419" and "35" in e.value.diagnostics[0].message


def test_a_condition_on_a_periodic_grid_face_is_reported(tmp_path):
    text = _src().replace("field u(x) given u0\n", "field u(x) given u0\ncondition: u = 0 on x = 0\n")
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text)
    assert e.value.diagnostics[0].code == "E353" and "periodic" in e.value.diagnostics[0].message


def test_cli_eval_input_errors(tmp_path):
    _write_pairs(tmp_path)
    (tmp_path / "f.pde").write_text(_src(pairs='pairs from "pairs.npz" (u0 = a, u = sol)', train=20, test=10, steps=5))
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "f.pde"), "--out", str(out), "--quiet"]) == 0
    np.savez(tmp_path / "bad.npz", v0=np.zeros((2, 64)), w0=np.zeros((2, 64)))
    assert main(["eval", str(tmp_path / "f.pde"), "--params", str(out), "--input", str(tmp_path / "bad.npz")]) == 2
    np.savez(tmp_path / "bad2.npz", u0=np.zeros((2, 64, 3)))
    assert main(["eval", str(tmp_path / "f.pde"), "--params", str(out), "--input", str(tmp_path / "bad2.npz")]) == 2
    assert main(["eval", str(tmp_path / "f.pde"), "--params", str(out), "--input", str(tmp_path)]) == 2


def test_more_modes_than_the_grid_holds_is_reported_at_the_layer():
    text = _src().replace("grid x = 64", "grid x = 16")      # 12 modes, but 16 points hold 9
    with pytest.raises(PdeError) as e:
        pdeforge.loads(text, "op.pde")
    d = e.value.diagnostics[0]
    assert d.code == "E241" and "12 modes" in d.message


PINO = """problem darcy_pino
domain (x, y) in rectangle([0, 1], [0, 1])
grid x = {s}, y = {s}
input a(x, y) from threshold(grf(covariance = (-lap + 9)^-2), high = 12, low = 3)
field u(x, y) given a
equation darcy: -(dx(a * dx(u)) + dy(a * dy(u))) = 1
condition walls: u = 0 on boundary {hard}
pairs from darcy()
model u = fno(modes = (6, 6), width = 16, layers = 3, dims = 2, padding = 4)
train:
  pairs train = {train}, test = {test}
  weights pairs = {wp}
  batch = 10
  adam(lr = 1e-3) for {steps} steps
"""


def _pino(s=17, hard="hard", train=40, test=10, wp=0, steps=10):
    return PINO.format(s=s, hard=hard, train=train, test=test, wp=wp, steps=steps)


def test_physics_terms_are_small_on_the_reference_solution():
    """The Darcy term of the reference solver's own solution is far below that of a
    perturbed one, and the walls term is zero on it (it vanishes on the boundary)."""
    import jax.numpy as jnp
    p = pdeforge.loads(_pino(s=29, hard="", wp=1))
    d = p.pairs()
    a, u = jnp.asarray(d["a_test"][..., 0]), jnp.asarray(d["u_test"][..., 0])
    terms = {n: fn for n, _, fn in p.lowered.terms}
    ref = float(terms["darcy"]({"u": u}, {"a": a}))
    x = p.lowered.points[..., 0]
    bumped = float(terms["darcy"]({"u": u * (1 + 0.2 * np.sin(3 * x))}, {"a": a}))
    print(f"darcy term: reference {ref:.3e}, perturbed {bumped:.3e}")
    assert ref < 0.05 * bumped
    assert float(terms["walls"]({"u": u}, {"a": a})) < 1e-20 < float(terms["walls"]({"u": u + 1e-3}, {"a": a}))


def test_hard_zero_condition_holds_exactly_on_every_grid():
    import jax
    p = pdeforge.loads(_pino())
    p.pairs()
    params = p.init(jax.random.PRNGKey(0))
    for s in (17, 33):
        a = np.random.default_rng(0).uniform(3, 12, (2, s, s))
        u = np.asarray(p.predict(params, a)["u"])
        edge = np.concatenate([u[:, 0], u[:, -1], u[:, :, 0], u[:, :, -1]], axis=1)
        assert np.abs(edge).max() < 1e-6 * np.abs(u).max() and np.abs(u).max() > 0


def test_label_free_training_never_reads_outputs_and_learns(tmp_path):
    """`weights pairs = 0`: the training outputs are not even made (only inputs are drawn);
    physics alone takes the held-out error well below that of the untrained operator."""
    p = pdeforge.loads(_pino(steps=1600))
    d = p.pairs()
    assert d["u_train"] is None and d["a_train"].shape == (40, 17, 17, 1)
    res = p.train(progress="quiet")
    first, last = res.history[0]["error"], res.errors["mean"]["u"]
    print(f"PINO label-free 17x17: held-out mean {last:.3e} (after the first interval {first:.3e}), "
          f"output scale {float(p.norm.u_std[0]):.3g}")
    assert set(res.history[-1]["terms"]) == {"darcy"}
    # measured 4.5e-2 (4.4e-2 with the scale fixed by hand at 1e-2; 0.23 unscaled, the same steps)
    assert last < 0.08 and last < 0.3 * first
    assert 1e-3 < float(p.norm.u_std[0]) < 1e-1           # the physics' scale: Darcy's u is ~1e-2


def _superres(run, pde, name, fine_s, n_train, n_test, **kw):
    """Mean relative L2 of a saved run's predictions on the held-out inputs restricted to
    a grid of `fine_s` points (the same functions as its test set: one fine solve)."""
    d = generate(name, n_train + n_test, fine_s, seed=0, **kw)
    key = "u0" if name == "burgers" else "a"
    np.savez(run / "fine_inputs.npz", **{key: d["a"][n_train:]})
    assert main(["eval", str(pde), "--params", str(run), "--input", str(run / "fine_inputs.npz"),
                 "--out", str(run / "fine_pred.npz")]) == 0
    with np.load(run / "fine_pred.npz", allow_pickle=False) as z:
        u = z["u"]
    ref = d["u"][n_train:]
    ax = tuple(range(1, ref.ndim))
    return float(np.mean(np.sqrt(np.sum((u - ref) ** 2, axis=ax) / np.sum(ref ** 2, axis=ax))))


@pytest.mark.long
def test_burgers_fno_example_full_recipe(tmp_path):
    """examples/operator_burgers_fno.pde as written: the issue's target is a held-out mean
    relative L2 ≤ 5e-3 at 256 (measured 1.5e-3 in 15 min on 2 cores), and zero-shot at
    1024 within 1.5x of it."""
    pde = Path(__file__).resolve().parent.parent / "examples" / "operator_burgers_fno.pde"
    out = tmp_path / "run"
    assert main(["run", str(pde), "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    err = m["final"]["relative_l2"]["u"]
    sr = _superres(out, pde, "burgers", 1024, 1000, 200, fine=1024, nu=0.1, t=1.0)
    print(f"burgers FNO: 256 {err:.3e}, zero-shot 1024 {sr:.3e}, {m['run']['wall_s']:.0f} s")
    assert err <= 5e-3 and sr <= 1.5 * err


@pytest.mark.long
@pytest.mark.parametrize("name, target", [
    ("operator_darcy_fno", 1.5e-2),            # measured 1.36e-2
    # measured 1.76e-1 after the recipe's 3000 steps, still falling: the target is not
    # reached yet (docs/accuracy.md says what limits it); strict, so reaching it fails loudly
    pytest.param("operator_darcy_pino", 3e-2, marks=pytest.mark.xfail(strict=True, reason="target not reached yet")),
])
def test_darcy_examples_full_recipe(tmp_path, name, target):
    """The issue's targets: FNO Darcy ≤ 1.5e-2 (Li et al. 2021: 1.08e-2 at 85 x 85) and PINO
    on physics alone ≤ 3e-2; docs/accuracy.md has what the recipes reached."""
    pde = Path(__file__).resolve().parent.parent / "examples" / f"{name}.pde"
    out = tmp_path / "run"
    assert main(["run", str(pde), "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    err = m["final"]["relative_l2"]["u"]
    print(f"{name}: {err:.3e} in {m['run']['wall_s']:.0f} s")
    assert err <= target
