"""Reference-data generators (issue 18). Every number is checked against an independent computation: GRF moments
against the covariance operator's eigenvalues and eigenfunctions written out here (not the sampler's own mode_std),
Burgers against Cole-Hopf and against itself at other s and dt, Darcy against a manufactured solution and against
itself on nested grids; the cache against hand-written bad files."""
import os
import warnings

import numpy as np
import pytest

from pdeforge import datasets
from pdeforge.datasets import cache
from pdeforge.datasets.burgers import solve_burgers
from pdeforge.datasets.darcy import solve_darcy
from pdeforge.datasets.grf import grf_1d, grf_2d


def _lam_periodic(k, sigma=25.0, tau=5.0, gamma=2.0):
    """Eigenvalues of 625 (-Delta + 25)^-2 on periodic [0, 1]: -Delta e^{2 pi i k x} = 4 pi^2 k^2 e^{2 pi i k x}."""
    return sigma ** 2 * ((2 * np.pi * k) ** 2 + tau ** 2) ** (-gamma)


# ---- Gaussian random fields --------------------------------------------------------------------------------------
def test_grf_1d_pointwise_variance_is_the_sum_of_eigenvalues():
    n, s = 20000, 64
    u = grf_1d(n, s, seed=1)
    k = np.arange(1, s // 2)                       # 0 < |k| < s/2, both signs
    lam = _lam_periodic(k)
    want = 2 * lam.sum()
    # per sample, the grid mean of u^2 is sum_k lam_k (xi_k^2 + xi'_k^2): variance 4 sum lam^2, so the mean over n
    # samples has standard error sqrt(4 sum lam^2 / n) (0.6 % of want here); allow 5 of them
    se = np.sqrt(4 * (lam ** 2).sum() / n)
    assert abs(np.mean(u ** 2) - want) < 5 * se, (np.mean(u ** 2), want, se)
    # stationary: every point has that variance; one point's estimate has standard error want * sqrt(2/n)
    assert np.abs(np.mean(u ** 2, axis=0) - want).max() < 5 * want * np.sqrt(2 / n)
    assert np.abs(u.mean(axis=1)).max() < 1e-13    # the constant mode is dropped, as in the FNO generators


def test_grf_1d_mode_variances():
    n, s = 4000, 64
    c = np.fft.rfft(grf_1d(n, s, seed=2), axis=1) / s   # coefficient of e^{2 pi i k x}, E|c_k|^2 = lam_k
    k = np.arange(1, 10)
    emp = np.mean(np.abs(c[:, 1:10]) ** 2, axis=0)
    # |c_k|^2 / lam_k is chi^2_2 / 2: relative standard error 1/sqrt(n) = 1.6 %; allow 5 of them
    assert np.allclose(emp, _lam_periodic(k), rtol=5 / np.sqrt(n), atol=0)
    assert np.abs(c[:, [0, -1]]).max() < 1e-15        # constant and Nyquist modes are absent


def _neumann(s, kmax):
    """Nodes x_i = i/(s-1), orthonormal Neumann eigenfunctions phi_k (1, sqrt2 cos(pi k x)), eigenvalues of
    (-Delta + 9)^-2 for 0 <= k1, k2 <= kmax without (0, 0)."""
    x = np.linspace(0, 1, s)
    k = np.arange(kmax + 1)
    phi = np.cos(np.pi * np.outer(x, k)) * np.where(k == 0, 1.0, np.sqrt(2))
    lam = (np.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2) + 9.0) ** -2.0
    lam[0, 0] = 0.0
    return x, phi, lam


def test_grf_2d_variance_covariance_and_modes():
    n, s = 4000, 17
    psi = grf_2d(n, s, seed=3)
    x, phi, lam = _neumann(s, s - 2)               # the sampler keeps modes below the DCT-I Nyquist mode s - 1

    def cov(p, q):                                 # C(p, q) = sum_k lam_k phi_k(p) phi_k(q), p = (i, j) node indices
        return np.einsum("ab,a,b,a,b->", lam, phi[p[0]], phi[p[1]], phi[q[0]], phi[q[1]])

    for p, q in [((0, 0), (0, 0)), ((8, 8), (8, 8)), ((3, 11), (3, 11)), ((8, 8), (9, 8)), ((2, 5), (6, 5))]:
        c, cpp, cqq = cov(p, q), cov(p, p), cov(q, q)
        emp = np.mean(psi[:, p[0], p[1]] * psi[:, q[0], q[1]])
        se = np.sqrt((cpp * cqq + c * c) / n)      # standard error of a mean of products of two normals
        assert abs(emp - c) < 5 * se, (p, q, emp, c, se)
    # trapezoid-weighted domain mean of the variance: sum of all eigenvalues (the phi are orthonormal in that rule)
    w = np.full(s, 1.0 / (s - 1))
    w[[0, -1]] /= 2
    var = np.mean(psi ** 2, axis=0)
    assert abs(w @ var @ w - lam.sum()) < 0.05 * lam.sum()
    # each mode coefficient, by discrete projection on phi_k1 phi_k2, has variance lam_k (relative s.e. sqrt(2/n))
    coef = np.einsum("i,j,ia,jb,nij->nab", w, w, phi, phi, psi, optimize=True)
    for k1, k2 in [(0, 1), (1, 0), (1, 1), (2, 3), (4, 0)]:
        assert abs(np.var(coef[:, k1, k2]) / lam[k1, k2] - 1) < 5 * np.sqrt(2 / n), (k1, k2)
    assert np.abs(coef[:, 0, 0]).max() < 1e-13


@pytest.mark.parametrize("bad", [dict(sigma=0.0), dict(tau=-1.0), dict(gamma=0.0)])
def test_grf_bad_covariance(bad):
    with pytest.raises(ValueError, match="must be positive"):
        grf_1d(2, 16, **bad)
    with pytest.raises(ValueError, match="must be positive"):
        grf_2d(2, 9, **bad)


# ---- Burgers -----------------------------------------------------------------------------------------------------
def _cole_hopf(x, t, nu):
    # u0 = sin(2 pi x): phi0 = exp(cos(2 pi x) / (4 pi nu)), heat flow by its Fourier series (fine grid, exact to ~1e-14)
    m = 256
    xf = np.arange(m) / m
    ph = np.fft.fft(np.exp(np.cos(2 * np.pi * xf) / (4 * np.pi * nu))) / m
    kk = 2 * np.pi * np.fft.fftfreq(m, d=1.0 / m)
    ph = ph * np.exp(-nu * kk ** 2 * t)
    e = np.exp(1j * np.outer(x, kk))
    return (-2 * nu * (e @ (1j * kk * ph)) / (e @ ph)).real


@pytest.mark.parametrize("scheme", ["ifrk4", "etdrk4"])
def test_burgers_cole_hopf_fourth_order(scheme):
    s, nu = 128, 0.1
    x = np.arange(s) / s
    errs = [np.abs(solve_burgers(np.sin(2 * np.pi * x), [1.0], nu=nu, dt=dt, scheme=scheme)[0, 0]
                   - _cole_hopf(x, 1.0, nu)).max() for dt in (4e-3, 2e-3)]
    # measured: ifrk4 2.4e-11, 1.5e-12 (ratio 16.2); etdrk4 4.8e-12, 3.2e-13 (15.0)
    assert errs[0] < 5e-11 and 12 < errs[0] / errs[1] < 20, errs


def test_burgers_grf_self_convergence_in_dt():
    """On GRF data both integrators agree, and halving dt divides the change by about 16 once the initial layer of
    the rough high modes has decayed (from t = 0 the observed order drops to about 3: ratio 7.8 here, 6.0 and 6.7
    against a dt = 1e-4 solve at s = 256; order reduction on non-smooth data; the error is 3e-11 at dt = 1e-3)."""
    u0 = grf_1d(4, 128, seed=5)
    u1 = solve_burgers(u0, [0.1], dt=1e-3)[:, 0]
    sol = [solve_burgers(u1, [0.9], dt=dt)[:, 0] for dt in (2e-2, 1e-2, 5e-3)]
    d = [np.abs(sol[0] - sol[1]).max(), np.abs(sol[1] - sol[2]).max()]
    assert 12 < d[0] / d[1] < 20, d                 # measured 14.7
    full = [solve_burgers(u0, [1.0], dt=dt)[:, 0] for dt in (1e-2, 5e-3, 2.5e-3)]
    d = [np.abs(full[0] - full[1]).max(), np.abs(full[1] - full[2]).max()]
    assert d[0] / d[1] > 4.5 and d[1] < 1e-8, d     # measured 7.8, 3.8e-9
    other = solve_burgers(u0, [1.0], dt=2.5e-3, scheme="etdrk4")[:, 0]
    assert np.abs(other - full[2]).max() < 1e-10     # measured 1.6e-11


def test_burgers_grf_self_convergence_in_s():
    """The same band-limited u0 (s = 32 modes) solved at s, 2s, 4s: the change at common points falls spectrally
    (measured 7.0e-9 from 32 to 64, 5.3e-15 from 64 to 128), not like a power of s."""
    u0 = grf_1d(3, 32, seed=7)
    sol = {s: solve_burgers(np.fft.irfft(np.fft.rfft(u0), n=s) * (s / 32), [1.0], dt=4e-3)[:, 0] for s in (32, 64, 128)}
    d = [np.abs(sol[32] - sol[64][:, ::2]).max(), np.abs(sol[64] - sol[128][:, ::2]).max()]
    assert d[0] < 1e-7 and d[1] < 1e-13 and d[0] / d[1] > 1e4, d


def test_burgers_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown scheme"):
        solve_burgers(np.zeros((1, 8)), [1.0], scheme="euler")
    with pytest.raises(ValueError, match="nu > 0"):
        solve_burgers(np.zeros((1, 8)), [1.0], nu=0.0)
    with pytest.raises(ValueError, match="non-decreasing"):
        solve_burgers(np.zeros((1, 8)), [1.0, 0.5])


# ---- Darcy -------------------------------------------------------------------------------------------------------
def test_darcy_manufactured_second_order():
    errs = []
    for s in (17, 33, 65):
        x = np.linspace(0, 1, s)
        X, Y = np.meshgrid(x, x, indexing="ij")
        a = 1 + 0.5 * X  # -div(a grad u) for u = sin(pi x) sin(pi y)
        u = np.sin(np.pi * X) * np.sin(np.pi * Y)
        f = 2 * np.pi ** 2 * a * u - 0.5 * np.pi * np.cos(np.pi * X) * np.sin(np.pi * Y)
        errs.append(np.abs(solve_darcy(a, f) - u).max())
    ratios = [errs[0] / errs[1], errs[1] / errs[2]]
    assert all(3.5 < r < 4.5 for r in ratios), (errs, ratios)


def test_darcy_thresholded_self_convergence_on_nested_grids():
    """The same two-valued coefficient (12 / 3 by the sign of a fixed smooth psi) at s and 2s - 1 nodes: the RMS change
    of u at the common nodes falls about first order (a is discontinuous, so no second order). Measured over these
    three psi: RMS 8.8e-5, 4.1e-5, 1.3e-5, ratios 2.17 and 3.02 (single psi ranged 1.8 to 3.6; the max-norm change
    falls less regularly, 1.4 to 3.0 per halving, so the RMS is what is asserted)."""
    rms = np.zeros(3)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        k = np.arange(6)
        c = rng.standard_normal((6, 6)) / (1 + np.add.outer(k ** 2, k ** 2))
        c[0, 0] = 0.0
        us = {}
        for s in (17, 33, 65, 129):
            B = np.cos(np.pi * np.outer(np.linspace(0, 1, s), k))
            us[s] = solve_darcy(np.where(B @ c @ B.T >= 0, 12.0, 3.0))
        rms += [np.mean((us[s] - us[2 * s - 1][::2, ::2]) ** 2) for s in (17, 33, 65)]
    rms = np.sqrt(rms / 3)
    assert rms[0] / rms[1] > 2.0 and rms[1] / rms[2] > 2.0 and rms[2] < 2e-5, rms


def test_darcy_rejects_nonpositive_coefficient():
    with pytest.raises(ValueError, match="positive"):
        solve_darcy(np.zeros((5, 5)))


# ---- generate / cache --------------------------------------------------------------------------------------------
def test_generate_shapes_grid_and_solver_agree(tmp_path):
    b = datasets.generate("burgers", 3, 64, seed=4, cache_dir=tmp_path, dt=1e-2)
    assert b["a"].shape == b["u"].shape == (3, 64) and b["a"].dtype == b["u"].dtype == np.float64
    assert np.array_equal(datasets.solve("burgers", b["a"], dt=1e-2), b["u"])
    d = datasets.generate("darcy", 2, 9, seed=4, cache_dir=tmp_path)
    assert d["a"].shape == d["u"].shape == (2, 9, 9) and set(np.unique(d["a"])) <= {3.0, 12.0}
    assert np.array_equal(datasets.solve("darcy", d["a"]), d["u"]) and np.all(d["u"][:, [0, -1], :] == 0)
    # sample i comes from the stream (seed, i): the first samples do not depend on n
    assert np.array_equal(datasets.generate("darcy", 1, 9, seed=4, cache_dir=tmp_path)["u"], d["u"][:1])


def test_fine_grid_subsampling_is_one_solve(tmp_path):
    """Train at 256, test at 1024 (zero-shot super-resolution): both restrictions of one fine solve, exactly."""
    kw = dict(seed=9, cache_dir=tmp_path, fine=1024, dt=1e-2)
    lo, hi = datasets.generate("burgers", 2, 256, **kw), datasets.generate("burgers", 2, 1024, **kw)
    assert np.array_equal(lo["a"], hi["a"][:, ::4]) and np.array_equal(lo["u"], hi["u"][:, ::4])
    direct = datasets.generate("burgers", 2, 256, seed=9, cache_dir=tmp_path, dt=1e-2)
    assert not np.array_equal(direct["a"], lo["a"])          # fine is part of the key and of the data
    lo, hi = (datasets.generate("darcy", 2, s, seed=9, cache_dir=tmp_path, fine=33) for s in (9, 33))
    assert np.array_equal(lo["a"], hi["a"][:, ::4, ::4]) and np.array_equal(lo["u"], hi["u"][:, ::4, ::4])
    with pytest.raises(ValueError, match="multiple of s - 1"):
        datasets.generate("darcy", 2, 9, fine=30, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="multiple of s"):
        datasets.generate("burgers", 2, 256, fine=1000, cache_dir=tmp_path)


def test_cache_reads_file_and_keys_every_parameter(tmp_path, monkeypatch):
    a = cache.generate("darcy", 2, 9, seed=1, cache_dir=tmp_path)
    monkeypatch.setattr(cache, "_make", lambda *a, **k: 1 / 0)
    b = cache.generate("darcy", 2, 9, seed=1, cache_dir=tmp_path, tau=3, high=12.0)   # defaults written out: same key
    assert np.array_equal(a["u"], b["u"])
    for other in (dict(seed=2), dict(tau=4.0), dict(low=4.0), dict(fine=17)):
        with pytest.raises(ZeroDivisionError):
            cache.generate("darcy", 2, 9, **{"seed": 1, "cache_dir": tmp_path, **other})
    monkeypatch.setenv("PDEFORGE_CACHE", str(tmp_path))
    assert np.array_equal(cache.generate("darcy", 2, 9, seed=1)["u"], a["u"])


@pytest.mark.parametrize("bad", ["truncated", "garbage", "object", "shape", "extra"])
def test_cache_bad_file_is_regenerated(tmp_path, bad):
    kw = dict(seed=3, cache_dir=tmp_path)
    good = cache.generate("darcy", 2, 9, **kw)
    path, _ = cache.cache_path("darcy", 2, 9, **kw)
    data = open(path, "rb").read()
    if bad == "truncated":
        open(path, "wb").write(data[: len(data) // 2])
    elif bad == "garbage":
        open(path, "wb").write(os.urandom(300))
    elif bad == "object":                                   # an object array: loading it would need unpickling
        np.savez(path, a=np.array([{"x": 1}], dtype=object), u=good["u"])
    elif bad == "shape":
        np.savez(path, a=good["a"][:1], u=good["u"][:1])
    else:
        np.savez(path, a=good["a"], u=good["u"], z=good["u"])
    with pytest.warns(RuntimeWarning, match="unusable.*regenerating"):
        again = cache.generate("darcy", 2, 9, **kw)
    assert np.array_equal(again["u"], good["u"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # the rewritten file reads back cleanly
        assert np.array_equal(cache.generate("darcy", 2, 9, **kw)["a"], good["a"])


@pytest.mark.skipif(not (hasattr(os, "symlink") and hasattr(os, "mkfifo")), reason="needs symlinks and FIFOs")
def test_cache_refuses_symlinks_and_special_files(tmp_path):
    kw = dict(seed=5, cache_dir=tmp_path)
    path, _ = cache.cache_path("darcy", 1, 9, **kw)
    target = tmp_path / "elsewhere.npz"
    np.savez(target, a=np.ones((1, 9, 9)), u=np.zeros((1, 9, 9)))
    os.symlink(target, path)
    with pytest.raises(ValueError, match="symlink"):
        cache.generate("darcy", 1, 9, **kw)
    os.unlink(path)
    os.mkfifo(path)                                         # must be refused without blocking on open
    with pytest.raises(ValueError, match="not a regular file"):
        cache.generate("darcy", 1, 9, **kw)


def test_sizes_and_parameters_are_checked_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "_make", lambda *a, **k: 1 / 0)
    for args, kw, msg in [(("burgers", 10 ** 6, 1024), {}, "MAX_VALUES"), (("darcy", 20, 64), {"fine": 4033}, "MAX_VALUES"),
                          (("darcy", 10 ** 5, 100), {}, "MAX_VALUES"), (("burgers", 2.5, 64), {}, "n must be an integer"),
                          (("burgers", 2, True), {}, "s must be an integer"), (("heat", 2, 64), {}, "unknown dataset"),
                          (("burgers", 2, 64), {"visc": 0.1}, "unknown parameter.*visc"),
                          (("darcy", 2, 9), {"tau": float("nan")}, "finite number"),
                          (("burgers", 2, 64), {"scheme": "euler"}, "scheme must be one of"),
                          (("burgers", 2, 64), {"seed": -1}, "seed must be")]:
        with pytest.raises(ValueError, match=msg):
            cache.generate(*args, cache_dir=tmp_path, **kw)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="unknown parameter"):
        datasets.solve("darcy", np.ones((1, 9, 9)), tau=3.0)


def test_unwritable_cache_dir_still_returns_the_data(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.warns(RuntimeWarning, match="could not write"):
        out = cache.generate("darcy", 1, 9, cache_dir=blocker / "sub")
    assert out["u"].shape == (1, 9, 9)


def test_solve_checks_its_input():
    for name, a in [("burgers", np.ones((2, 3))), ("burgers", np.ones((0, 8))), ("darcy", np.ones((2, 9))),
                    ("darcy", np.ones((1, 9, 8)))]:
        with pytest.raises(ValueError):
            datasets.solve(name, a)


def test_inputs_alone_are_the_inputs_generate_solves_for(tmp_path):
    """Label-free training draws only inputs: they must be exactly generate()'s."""
    from pdeforge.datasets import inputs
    for name, s, fine in (("darcy", 9, 17), ("burgers", 16, 32)):
        g = datasets.generate(name, 3, s, seed=4, cache_dir=tmp_path, fine=fine)
        np.testing.assert_array_equal(inputs(name, 3, s, seed=4, fine=fine), g["a"])


# physics-informed DeepONet benchmarks (Wang, Wang & Perdikaris 2021): RBF inputs, antiderivative, diffusion-reaction

from pdeforge.datasets import diffusion_reaction as dr  # noqa: E402
from pdeforge.datasets.antiderivative import solve_antiderivative  # noqa: E402
from pdeforge.datasets.grf import grf_rbf_1d  # noqa: E402


def test_grf_rbf_1d_covariance_is_the_kernel():
    s, n, length = 21, 4000, 0.2
    a = grf_rbf_1d(n, s, length=length, variance=2.0, seed=3)
    x = np.linspace(0, 1, s)
    K = 2.0 * np.exp(-np.subtract.outer(x, x) ** 2 / (2 * length ** 2))
    C = a.T @ a / n
    # each entry's standard error is sqrt((K_ii K_jj + K_ij^2) / n) <= 2 sqrt(2/n) = 0.045; 5 standard errors
    assert np.abs(C - K).max() < 0.23
    assert abs(a.mean()) < 0.1
    assert np.array_equal(grf_rbf_1d(5, s, length, 2.0, seed=3), a[:5])  # per-sample streams
    assert not np.array_equal(grf_rbf_1d(5, s, length, 2.0, seed=4), a[:5])


@pytest.mark.parametrize("bad", [dict(length=0.0), dict(variance=-1.0), dict(length=float("nan"))])
def test_grf_rbf_bad_kernel(bad):
    with pytest.raises(ValueError, match="RBF"):
        grf_rbf_1d(2, 10, **bad)


def test_antiderivative_is_exact_for_piecewise_linear_and_second_order_for_smooth():
    x = np.linspace(0, 1, 11)
    f = np.where(x < 0.5, x, 1 - x)[None]   # kink at a node: piecewise linear
    u = solve_antiderivative(f)[0]
    exact = np.where(x < 0.5, x ** 2 / 2, 0.125 + (x - 0.5) - (x ** 2 - 0.25) / 2)
    assert np.abs(u - exact).max() < 1e-15
    errs = []
    for s in (21, 41, 81):
        x = np.linspace(0, 1, s)
        errs.append(np.abs(solve_antiderivative(np.cos(3 * x)) - np.sin(3 * x) / 3).max())
    assert 3.8 < errs[0] / errs[1] < 4.2 and 3.8 < errs[1] / errs[2] < 4.2


def test_diffusion_reaction_manufactured_second_order():
    # s = sin(pi x) sin(t): zero initial and boundary values; f = 0 and the rest of the PDE as a source term
    D, k = 0.05, 0.5

    def source(x, t):
        s = np.sin(np.pi * x) * np.sin(t)
        return np.sin(np.pi * x) * np.cos(t) + D * np.pi ** 2 * s - k * s ** 2

    errs = []
    for fine, sub in ((21, 4), (41, 8), (81, 16)):
        out = dr._solve(np.zeros((1, 5)), 5, D, k, fine, sub, source=source)[0]
        x, t = np.linspace(0, 1, 5), np.linspace(0, 1, 5)
        errs.append(np.abs(out - np.sin(np.pi * x)[:, None] * np.sin(t)[None]).max())
    assert errs[-1] < 1e-4
    assert 3.5 < errs[0] / errs[1] < 4.5 and 3.5 < errs[1] / errs[2] < 4.5


def test_diffusion_reaction_data_zero_initial_and_boundary_and_self_convergence():
    f = grf_rbf_1d(3, 11, seed=0)
    u = dr.solve_diffusion_reaction(f, 6)
    assert u.shape == (3, 11, 6)
    assert np.all(u[:, :, 0] == 0) and np.all(u[:, 0] == 0) and np.all(u[:, -1] == 0)
    # at small t, s ~ t f in the interior (diffusion and reaction add O(t^2), larger at f's kinks): a check of the
    # forcing's sign and placement independent of the solver's own convergence (3.5% measured at t = 0.01)
    early = dr.solve_diffusion_reaction(f, 101)[:, 3:8, 1]
    assert np.abs(early - 0.01 * f[:, 3:8]).max() < 0.05 * np.abs(0.01 * f[:, 3:8]).max()
    coarse = dr.solve_diffusion_reaction(f, 6, fine=101, substeps=40)
    fine_ = dr.solve_diffusion_reaction(f, 6, fine=401, substeps=160)
    assert np.abs(coarse - fine_).max() < 1e-3 * np.abs(fine_).max()
    with pytest.raises(ValueError, match="multiple"):
        dr.solve_diffusion_reaction(f, 6, fine=102)


def test_generate_rbf_datasets_agree_with_their_solvers(tmp_path):
    g = datasets.generate("antiderivative", 4, 16, seed=2, cache_dir=tmp_path)
    assert g["a"].shape == g["u"].shape == (4, 16)
    assert np.array_equal(g["a"], grf_rbf_1d(4, 16, seed=2))
    assert np.array_equal(g["u"], solve_antiderivative(g["a"]))
    assert np.array_equal(datasets.inputs("antiderivative", 4, 16, seed=2), g["a"])
    h = datasets.generate("diffusion_reaction", 2, 11, seed=2, cache_dir=tmp_path, nt=5, fine=51)
    assert h["a"].shape == (2, 11) and h["u"].shape == (2, 11, 5)
    assert np.array_equal(h["u"], datasets.solve("diffusion_reaction", h["a"], nt=5, fine=51))
    again = datasets.generate("diffusion_reaction", 2, 11, seed=2, cache_dir=tmp_path, nt=5, fine=51)  # from the file
    assert np.array_equal(again["u"], h["u"])
    assert len(list(tmp_path.iterdir())) == 2
    with pytest.raises(ValueError, match="no fine grid"):
        datasets.generate("antiderivative", 4, 16, cache_dir=tmp_path, fine=31)
    with pytest.raises(ValueError, match="nt"):
        datasets.generate("diffusion_reaction", 2, 11, cache_dir=tmp_path, nt=1)
    with pytest.raises(ValueError, match="MAX_VALUES"):
        datasets.generate("diffusion_reaction", 10 ** 6, 100, cache_dir=tmp_path, nt=1000)
