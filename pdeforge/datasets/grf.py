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


def grf_2d(n, s, tau=3.0, gamma=2.0, sigma=1.0, seed=0):
    """n samples of N(0, sigma^2 (-Delta + tau^2 I)^-gamma) on the unit square with zero Neumann BC (FNO Darcy:
    tau=3, gamma=2), on the s x s node grid x_j = j/(s-1), shape (n, s, s): a cosine series, mode (k1, k2) with
    eigenvalue pi^2 (k1^2 + k2^2) + tau^2 and orthonormal basis functions c_k1(x) c_k2(y), c_0 = 1, c_k = sqrt2 cos(pi k x)."""
    _check(sigma, tau, gamma)
    k = np.arange(s)
    std = sigma * (np.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2) + tau ** 2) ** (-gamma / 2)
    x = np.linspace(0.0, 1.0, s)
    basis = np.cos(np.pi * x[:, None] * k[None, :]) * np.where(k == 0, 1.0, np.sqrt(2))
    xi = np.random.default_rng(seed).standard_normal((n, s, s)) * std
    return np.einsum("ia,nab,jb->nij", basis, xi, basis, optimize=True)


def darcy_coefficient(psi, high=12.0, low=3.0):
    """FNO's two-valued permeability: high where psi >= 0, low where psi < 0."""
    return np.where(psi >= 0, high, low)
