"""Reference-data generators (issue 18): GRF spectrum matches the covariance formula; bad covariance raises."""
import numpy as np
import pytest

from pdeforge.datasets.grf import grf_1d, mode_std_1d


def test_grf_1d_spectrum_matches_formula():
    n, s = 4000, 64
    c = np.fft.rfft(grf_1d(n, s, seed=1), axis=1) / s
    emp = np.mean(np.abs(c[:, 1:10]) ** 2, axis=0)
    want = mode_std_1d(s)[1:10] ** 2
    # mean of n |complex normal|^2 has relative standard error 1/sqrt(n) ~ 1.6%; allow 5 sigma
    assert np.allclose(emp, want, rtol=0.08)


@pytest.mark.parametrize("bad", [dict(sigma=0.0), dict(tau=-1.0), dict(gamma=0.0)])
def test_grf_bad_covariance(bad):
    with pytest.raises(ValueError, match="must be positive"):
        grf_1d(2, 16, **bad)


def test_grf_2d_shape_and_variance():
    from pdeforge.datasets.grf import grf_2d
    psi = grf_2d(200, 17, seed=2)
    assert psi.shape == (200, 17, 17) and np.isfinite(psi).all()


def test_darcy_manufactured_second_order():
    from pdeforge.datasets.darcy import solve_darcy
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


def _cole_hopf(x, t, nu):
    # u0 = sin(2 pi x): phi0 = exp(cos(2 pi x) / (4 pi nu)), heat flow by its Fourier series (fine grid, exact to ~1e-14)
    m = 256
    xf = np.arange(m) / m
    ph = np.fft.fft(np.exp(np.cos(2 * np.pi * xf) / (4 * np.pi * nu))) / m
    kk = 2 * np.pi * np.fft.fftfreq(m, d=1.0 / m)
    ph = ph * np.exp(-nu * kk ** 2 * t)
    e = np.exp(1j * np.outer(x, kk))
    return (-2 * nu * (e @ (1j * kk * ph)) / (e @ ph)).real


def test_burgers_cole_hopf():
    from pdeforge.datasets.burgers import solve_burgers
    s, nu = 128, 0.1
    x = np.arange(s) / s
    u = solve_burgers(np.sin(2 * np.pi * x), [0.5, 1.0], nu=nu, dt=1e-3)
    err = max(np.abs(u[0, i] - _cole_hopf(x, t, nu)).max() for i, t in enumerate([0.5, 1.0]))
    assert err < 1e-6, err


def test_cache_reads_file_and_keys_params(tmp_path, monkeypatch):
    from pdeforge.datasets import cache
    a = cache.generate("darcy", 2, 9, seed=1, cache_dir=str(tmp_path))
    monkeypatch.setitem(cache.GENERATORS, "darcy", (lambda *a, **k: 1 / 0, 2))
    b = cache.generate("darcy", 2, 9, seed=1, cache_dir=str(tmp_path))
    assert np.array_equal(a["u"], b["u"])
    with pytest.raises(ZeroDivisionError):
        cache.generate("darcy", 2, 9, seed=2, cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="out of range"):
        cache.generate("darcy", 10 ** 6, 1000, cache_dir=str(tmp_path))
