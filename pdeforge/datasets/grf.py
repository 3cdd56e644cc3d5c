"""Gaussian random fields by spectral synthesis (FNO data settings, Li et al. 2021, arXiv 2010.08895).

1-D periodic on [0, 1): N(0, sigma^2 (-Delta + tau^2 I)^-gamma); FNO Burgers uses 625 (-Delta + 25 I)^-2,
i.e. sigma=25, tau=5, gamma=2. Fourier mode k (wavenumber 2 pi k) gets standard deviation
sigma (4 pi^2 k^2 + tau^2)^(-gamma/2). Hand-written: no maintained library ships this sampler.
"""
import numpy as np


def _check(sigma, tau, gamma):
    if not (sigma > 0 and tau > 0 and gamma > 0):
        raise ValueError(f"GRF covariance must be positive: need sigma > 0, tau > 0, gamma > 0 (got {sigma}, {tau}, {gamma})")


def mode_std_1d(s, sigma=25.0, tau=5.0, gamma=2.0):
    """Standard deviation of each rfft mode (integer wavenumbers 0..s//2) of the field."""
    _check(sigma, tau, gamma)
    k = np.arange(s // 2 + 1)
    return sigma * (4 * np.pi ** 2 * k ** 2 + tau ** 2) ** (-gamma / 2)


def grf_1d(n, s, sigma=25.0, tau=5.0, gamma=2.0, seed=0):
    """n samples on s periodic grid points x_j = j/s, shape (n, s)."""
    std = mode_std_1d(s, sigma, tau, gamma)
    rng = np.random.default_rng(seed)
    m = s // 2 + 1
    c = (rng.standard_normal((n, m)) + 1j * rng.standard_normal((n, m))) / np.sqrt(2)
    c[:, 0] = rng.standard_normal(n)  # the mean mode is real
    if s % 2 == 0:
        c[:, -1] = rng.standard_normal(n)  # so is the Nyquist mode
    # u(x) = sum_{k in Z} xi_k std_k e^{2 pi i k x} with xi_{-k} = conj(xi_k), E|xi_k|^2 = 1; irfft divides by s
    return np.fft.irfft(c * std, n=s) * s
