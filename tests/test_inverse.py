"""Inverse problems: learned parameters (`param`), observations (`data`) and fits
(`condition ... at DATA`). Accuracy against exact solutions; bounds by construction;
resume with a parameter; diagnostics of bad lines."""
from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdeforge import cli
from pdeforge.api import loads
from pdeforge.dsl import PdeError

ROOT = Path(__file__).resolve().parent.parent


# ---- diagnostics of data files (the catalogue's E417 has no runnable example)
def test_e417_observations_outside_the_domain(tmp_path, capsys):
    x = np.linspace(0, 1, 5)
    np.savetxt(tmp_path / "obs.csv", np.stack([x, 1000 * x, x], 1), delimiter=",", header="x,t,u", comments="")
    f = tmp_path / "example.pde"
    f.write_text('problem p\ndomain x in [0, 1]\ntime t in [0, 1]\nfield u(x, t)\n'
                 'data obs from "obs.csv" columns (x, t, u)\n'
                 'equation: dt(u) = d(u, x, 2)\ncondition: u = 0 on x = 0, x = 1, t = 0\n'
                 'condition: u = obs.u at obs\nmodel u = mlp()\n')
    rc = cli.main(["check", str(f)])
    err = capsys.readouterr().err
    code = "E417"
    assert rc == 2 and f"{f}:5:37: error[{code}]" in err, err
    assert "units" in err


# ---- a small inverse problem: u = A + e^(-t) sin(pi x), the offset A learned from 8 observations
SMALL = """problem offset
domain x in [0, 1]
time t in [0, 0.5]
param A in [0, 2] = 1.2
exact A = 0.5
field u(x, t)
data obs from "obs.csv" columns (x, t, u)
equation: dt(u) = d(u, x, 2) / pi^2
condition wall: u = A on x = 0, x = 1{wall_hard}
condition: u = A + sin(pi * x) on t = 0 hard
condition fit: u = obs.u at obs
exact u = A0 + exp(-t) * sin(pi * x)
const A0 = 0.5
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256, boundary = 64
  adam(lr = 1e-2, decay = 0.7, decay_every = 500) for 3000 steps
  log_every = 750
"""


def _small(tmp_path, wall_hard=""):
    x = np.linspace(0.05, 0.95, 8)
    t = np.full(8, 0.3)
    np.savetxt(tmp_path / "obs.csv", np.stack([x, t, 0.5 + np.exp(-t) * np.sin(np.pi * x)], 1),
               delimiter=",", header="x,t,u", comments="")
    return SMALL.replace("{wall_hard}", wall_hard)


@pytest.mark.parametrize("wall_hard", ["", " hard"], ids=["soft_wall", "hard_wall"])
def test_param_in_boundary_and_hard_conditions_trains(tmp_path, wall_hard):
    """A appears in a boundary condition (soft, or hard with the hard initial condition:
    their corner check must hold for any A) and in a hard initial condition."""
    prob = loads(_small(tmp_path, wall_hard), str(tmp_path / "offset.pde"))
    res = prob.train(progress="quiet")
    assert abs(res.param_values["A"] - 0.5) < 1e-2, res.param_values
    assert res.param_errors["A"] == pytest.approx(abs(res.param_values["A"] - 0.5))
    # the hard initial condition holds exactly with the learned A, not with its initial guess
    X = jnp.stack([jnp.linspace(0, 1, 7), jnp.zeros(7)], 1)
    u0 = np.asarray(prob.predict(res.params, X)["u"])
    np.testing.assert_allclose(u0, res.param_values["A"] + np.sin(np.pi * np.linspace(0, 1, 7)), atol=1e-5)
    # the learned value over training, per log step
    assert [h["step"] for h in res.history] == [750, 1500, 2250, 3000]
    assert res.history[0]["params"]["A"] != res.history[-1]["params"]["A"]


def test_bounds_hold_by_construction_with_a_huge_learning_rate(tmp_path):
    src = _small(tmp_path).replace("param A in [0, 2] = 1.2", "param A in [0.25, 0.75] = 0.3") \
        .replace("adam(lr = 1e-2, decay = 0.7, decay_every = 500) for 3000 steps", "sgd(lr = 1e6) for 40 steps") \
        .replace("log_every = 750", "log_every = 1")
    src = src.replace("field u(x, t)", "field u(x, t)\nparam k(x) in [1, 3]").replace(
        "equation: dt(u) = d(u, x, 2) / pi^2", "equation: dt(u) = k * d(u, x, 2) / pi^2 / 2").replace(
        "model u = mlp(width = 16, depth = 2)", "model u = mlp(width = 16, depth = 2)\nmodel k = mlp(width = 8, depth = 1)")
    prob = loads(src, str(tmp_path / "huge.pde"))
    res = prob.train(progress="quiet")
    seen = [h["params"]["A"] for h in res.history]
    assert seen and all(0.25 <= a <= 0.75 for a in seen), seen
    theta = float(res.params["param"]["A"])     # the unconstrained value the optimiser moved: far out
    assert abs(theta) > 50, theta
    X = np.stack([np.linspace(0, 1, 50), np.zeros(50)], 1)
    k = np.asarray(prob.predict(res.params, X)["k"])
    assert np.all((k >= 1) & (k <= 3)), k


def test_fit_noise_weights_the_term_by_one_over_sigma_squared(tmp_path):
    base = _small(tmp_path)
    a = loads(base, str(tmp_path / "a.pde"))
    b = loads(base.replace("at obs\n", "at obs, noise = 0.1\n"), str(tmp_path / "b.pde"))
    params = a.init(jax.random.PRNGKey(0))
    batch = a.sample(0)
    _, ta = jax.jit(a.loss_terms)(params, batch)
    _, tb = jax.jit(b.loss_terms)(params, b.sample(0))
    assert float(tb["fit"]) == pytest.approx(100 * float(ta["fit"]), rel=1e-5)
    # the fit's points are the observations' own, with their values after the coordinates
    obs = np.loadtxt(tmp_path / "obs.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(np.asarray(batch["data_obs"]), obs, rtol=1e-6)
    r = a.residuals(params, batch)["fit"]
    u = a.predict(params, jnp.asarray(obs[:, :2]))["u"]
    np.testing.assert_allclose(np.asarray(r), np.asarray(u) - obs[:, 2], atol=1e-5)


def test_data_points_survive_resampling_and_resume_is_bit_identical(tmp_path):
    from pdeforge.runtime import checkpoint
    from pdeforge.runtime.train import train
    src = _small(tmp_path).replace("adam(lr = 1e-2, decay = 0.7, decay_every = 500) for 3000 steps",
                                   "adam(lr = 1e-2) for 40 steps\n  sgd(lr = 1e-3) for 20 steps") \
        .replace("log_every = 750", "log_every = 10\n  resample_every = 20")
    prob = loads(src, str(tmp_path / "r.pde"))
    full = train(prob, progress="quiet", out=tmp_path / "a")

    def interrupt(rec):
        if rec["step"] == 50:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train(prob, progress="quiet", out=tmp_path / "b", on_log=interrupt)
    ck = checkpoint.load(tmp_path / "b")
    assert "A" in ck["params"]["param"]
    obs = np.loadtxt(tmp_path / "obs.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(ck["extra"]["batch"]["data_obs"], obs, rtol=1e-6)      # fixed, never resampled
    resumed = train(prob, progress="quiet", out=tmp_path / "b", resume=tmp_path / "b")
    for x, y in zip(jax.tree_util.tree_leaves(full.params), jax.tree_util.tree_leaves(resumed.params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert [h["params"]["A"] for h in full.history] == [h["params"]["A"] for h in resumed.history]


@pytest.mark.parametrize("fmt", ["csv", "npz", "mat", "h5"])
def test_observation_formats(tmp_path, fmt):
    src = _small(tmp_path).replace('data obs from "obs.csv" columns (x, t, u)',
                                   f'data obs from "obs.{fmt}" columns (x = xx, t = "tt", u = uu)')
    x = np.linspace(0.05, 0.95, 8)
    cols = {"xx": x, "tt": np.full(8, 0.3), "uu": 0.5 + np.exp(-0.3) * np.sin(np.pi * x)}
    f = tmp_path / f"obs.{fmt}"
    if fmt == "csv":
        np.savetxt(f, np.stack(list(cols.values()), 1), delimiter=",", header="xx,tt,uu", comments="")
    elif fmt == "npz":
        np.savez(f, **cols)
    elif fmt == "mat":
        from scipy.io import savemat
        savemat(f, {k: v[:, None] for k, v in cols.items()})
    else:
        h5py = pytest.importorskip("h5py")
        with h5py.File(f, "w") as h:
            for k, v in cols.items():
                h[k] = v
    prob = loads(src, str(tmp_path / "f.pde"))
    np.testing.assert_allclose(prob.lowered.data["data_obs"], np.stack(list(cols.values()), 1))


# ---- diagnostics of bad param / data / fit lines
def _err(tmp_path, src):
    with pytest.raises(PdeError) as ex:
        loads(src, str(tmp_path / "bad.pde"))
    return [d.code for d in ex.value.diagnostics], ex


@pytest.mark.parametrize("old, new, code", [
    ("param A in [0, 2] = 1.2", "param A in [0, 2] = 3", "E302"),
    ("param A in [0, 2] = 1.2", "param A in [0, 2] = 2", "E302"),           # on the edge: sigmoid never reaches it
    ("param A in [0, 2] = 1.2", "param A in [2, 0] = 1", "E305"),
    ("param A in [0, 2] = 1.2", "param A = 1.2", "E002"),
    ("exact A = 0.5", "exact A = x", "E109"),
    ("at obs\n", "at obs, noise = 0\n", "E209"),
    ("at obs\n", "at obs, nois = 0.1\n", "E130"),
    ("at obs\n", "at obz\n", "E101"),
    ("u = obs.u at obs", "u = obs.v at obs", "E101"),
    ("u = obs.u at obs", "u = obs.x at obs", "E101"),
    ("equation: dt(u) = d(u, x, 2) / pi^2", "equation: dt(u) = d(u, x, 2) / pi^2 + obs.u", "E312"),
    ("equation: dt(u) = d(u, x, 2) / pi^2", "equation: dt(u) = d(u, x, 2) / pi^2 + obs", "E109"),
    ("columns (x, t, u)", "columns (x, u)", "E311"),
    ("columns (x, t, u)", "columns (u)", "E311"),
    ("columns (x, t, u)", "columns (x, t, u, u)", "E102"),
    ("at obs\n", "at obs hard\n", "E308"),
    ("field u(x, t)", "field u(x, t)\nparam k(x)", "E120"),
    ("field u(x, t)", "field u(x, t)\nparam k(z)", "E101"),
    ("exact u = A0", "exact u = A", "E105"),
])
def test_static_diagnostics(tmp_path, old, new, code):
    src = _small(tmp_path)
    assert old in src
    codes, _ = _err(tmp_path, src.replace(old, new, 1))
    assert code in codes, codes


def _write(tmp_path, name, **cols):
    np.savez(tmp_path / name, **cols)


@pytest.mark.parametrize("case, code", [
    ("missing_file", "E402"), ("missing_column", "E405"), ("text_column", "E406"), ("nan", "E409"),
    ("lengths", "E410"), ("empty", "E410"), ("outside", "E417"), ("outside_tree", "E407"), ("xlsx", "E404"),
])
def test_data_file_diagnostics(tmp_path, case, code):
    x = np.linspace(0.1, 0.9, 5)
    t = np.full(5, 0.2)
    u = np.sin(x)
    path = "obs.npz"
    if case == "missing_column":
        _write(tmp_path, path, x=x, t=t, v=u)
    elif case == "text_column":
        _write(tmp_path, path, x=x, t=np.array([str(v) for v in t]), u=u)
    elif case == "nan":
        u[2] = np.nan
        _write(tmp_path, path, x=x, t=t, u=u)
    elif case == "lengths":
        _write(tmp_path, path, x=x, t=t, u=u[:3])
    elif case == "empty":
        _write(tmp_path, path, x=x[:0], t=t[:0], u=u[:0])
    elif case == "outside":
        _write(tmp_path, path, x=x, t=t * 1000, u=u)
    elif case == "outside_tree":
        path = "../obs.npz"
        _write(tmp_path.parent, "obs.npz", x=x, t=t, u=u)
    elif case == "xlsx":
        path = "obs.xlsx"
        (tmp_path / path).write_bytes(b"PK\x03\x04")
    src = _small(tmp_path).replace('"obs.csv"', f'"{path}"')
    codes, ex = _err(tmp_path, src)
    assert codes == [code], codes
    d = ex.value.diagnostics[0]
    assert d.span is not None and d.span.line == 7       # the data line


def test_undeclared_field_in_a_fit_is_a_diagnostic(tmp_path):
    codes, _ = _err(tmp_path, _small(tmp_path).replace("u = obs.u at obs", "w = obs.u at obs"))
    assert "E101" in codes


# ---- the examples: accuracy against the truth
@pytest.mark.slow
def test_diffusion_inverse_learns_C_from_the_cli(tmp_path, capsys):
    """DeepXDE's diffusion_1d_inverse: C within 1e-3 of 1; the learned C per log step in
    metrics.json, its final value and error in the summary, and `pdeforge eval` reports it."""
    f = ROOT / "examples" / "diffusion_inverse.pde"
    rc = cli.main(["run", str(f), "--out", str(tmp_path), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    m = json.loads((tmp_path / "metrics.json").read_text())
    C = m["final"]["params"]["C"]
    assert abs(C - 1.0) < 1e-3, C
    assert m["final"]["param_errors"]["C"] == pytest.approx(abs(C - 1.0))
    assert all("C" in h["params"] for h in m["history"]) and m["history"][0]["params"]["C"] != C
    assert m["run"]["params"]["C"] == C
    capsys.readouterr()
    assert cli.main(["eval", str(f), "--params", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"learned C = {C:.6g} (exact 1, error" in out
    assert m["final"]["param_truth"] == {"C": 1.0}
    assert cli.main(["plot", str(tmp_path)]) == 0 and (tmp_path / "params.png").stat().st_size > 0


def _generator():
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen", ROOT / "examples" / "data" / "make_heat_inverse_obs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_heat_inverse_source_is_the_derived_one():
    """The .pde's equation holds for the true u and a: its f is u_t − div(a grad u), derived with sympy."""
    import sympy as sp
    from pdeforge.api import load
    from pdeforge.compiler.symbolic import expand_lap
    prob = load(ROOT / "examples" / "heat_inverse.pde")
    S, eq = prob.ir.symbols, prob.checked.equations[0]
    (x, y, t), f = _generator().source()
    X, Y, T = S.coord["x"], S.coord["y"], S.coord["t"]
    u = sp.exp(-T) * sp.sin(sp.pi * X) * sp.sin(sp.pi * Y)
    a = 2 + sp.sin(sp.pi * X) * sp.sin(sp.pi * Y)
    r = expand_lap(S.to_sympy(eq.lhs) - S.to_sympy(eq.rhs)).subs({S.field["u"]: u, S.field["a"]: a}).doit()
    assert sp.simplify(r) == 0
    # and the generator's f is the same function
    expected = sp.diff(u, T) - sp.diff(a * sp.diff(u, X), X) - sp.diff(a * sp.diff(u, Y), Y)
    assert sp.simplify(f.subs({x: X, y: Y, t: T}) - expected) == 0


@pytest.mark.slow
def test_heat_inverse_recovers_the_conductivity(tmp_path):
    """PINNacle HInv: 2,500 noisy observations (σ = 0.01, seeded), generated here;
    relative L2 error of a ≤ 5e-2 (PINNacle: 1.57 vanilla PINN, 1.19e-2 best)."""
    obs = _generator().observations()
    exact = np.exp(-obs["t"]) * np.sin(np.pi * obs["x"]) * np.sin(np.pi * obs["y"])
    assert np.std(obs["u"] - exact) == pytest.approx(0.01, rel=0.1)
    err, _ = _heat_inverse_error(tmp_path, obs)
    assert err <= 5e-2, err


def _heat_inverse_error(tmp_path, obs):
    """Train heat_inverse.pde on these observations; relative L2 of the learned a on a 41² grid at t = 0."""
    from pdeforge.api import load
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "heat_inverse_obs.npz", **obs)
    f = tmp_path / "heat_inverse.pde"
    f.write_text((ROOT / "examples" / "heat_inverse.pde").read_text())
    prob = load(f)
    res = prob.train(progress="quiet")
    g = np.linspace(-1, 1, 41)
    gx, gy = np.meshgrid(g, g, indexing="ij")
    X = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)], 1)
    a = np.asarray(prob.predict(res.params, X)["a"], np.float64)
    truth = 2 + np.sin(np.pi * gx.ravel()) * np.sin(np.pi * gy.ravel())
    return np.linalg.norm(a - truth) / np.linalg.norm(truth), res


@pytest.mark.long
def test_heat_inverse_at_pinnacles_noise_level(tmp_path):
    """HInv with PINNacle's own noise, σ = 0.1 (ten times the example's): the file's
    recipe, data regenerated at that level. Measured number in docs/accuracy.md."""
    err, res = _heat_inverse_error(tmp_path, _generator().observations(noise=0.1))
    print(f"HInv at σ = 0.1: relative L2 of a {err:.3e} in {res.wall_s:.0f} s")
    assert err <= 5e-2, err         # measured 2.8e-2


def test_h5_without_h5py_says_so(tmp_path):
    try:
        import h5py  # noqa: F401
        pytest.skip("h5py is installed")
    except ImportError:
        pass
    (tmp_path / "obs.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    codes, ex = _err(tmp_path, _small(tmp_path).replace('"obs.csv"', '"obs.h5"'))
    assert codes == ["E404"] and "h5py" in ex.value.diagnostics[0].message
