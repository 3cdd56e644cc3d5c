"""Gaussian random fields by spectral (Karhunen-Loeve) synthesis, in the FNO data settings (Li et al. 2021,
arXiv 2010.08895): N(0, C) with C = sigma^2 (-Delta + tau^2 I)^-gamma on [0, 1] or [0, 1]^2.

Convention (checked against the FNO authors' generators, read, not copied): a field is the truncated KL series
u = sum_j sqrt(lambda_j) xi_j phi_j with xi_j iid N(0, 1), phi_j the L2([0,1]^d)-orthonormal eigenfunctions of -Delta
and lambda_j = sigma^2 (mu_j + tau^2)^-gamma, mu_j the eigenvalue of -Delta.

- 1-D periodic (Burgers): phi = sqrt2 cos(2 pi k x), sqrt2 sin(2 pi k x), mu = 4 pi^2 k^2. So each cosine and sine
  amplitude has standard deviation sqrt2 sigma (4 pi^2 k^2 + tau^2)^(-gamma/2), exactly as in
  neuraloperator/neuraloperator data_generation/burgers/GRF1.m (`my_eigs = sqrt(2)*(abs(sigma).*((2*pi*k).^2 +
  tau^2).^(-gamma/2))`, chebfun trig coefficients alpha/2, -beta/2) and data_generation/navier_stokes/random_fields.py
  (GaussianRF: `size*sqrt(2)*sigma*(4 pi^2 k^2 + tau^2)^(-alpha/2)` times a unit complex normal, then ifft(...).real:
  the factor `size` cancels the 1/size of the inverse FFT and sqrt2 makes up for keeping only the real part of a
  complex normal with E|z|^2 = 1). Pointwise variance: sum over 0 < |k| < s/2 of lambda_k. sigma is taken as given
  (FNO Burgers: sigma = 25, tau = 5, gamma = 2, i.e. 625 (-Delta + 25 I)^-2; GaussianRF's default
  sigma = tau^((2 gamma - d)/2) is not used). Like both FNO generators we drop the constant mode (the field has
  zero mean on the grid; keeping it would add variance sigma^2 tau^(-2 gamma) = 1 to the 0.35 of the other modes at
  the FNO setting). Unlike them we also drop the Nyquist mode k = s/2 (GaussianRF keeps it with variance lambda,
  GRF1 with 2 lambda): the sample is then a trigonometric polynomial of degree < s/2 that spectral interpolation
  reproduces exactly on any finer grid; the variance this removes is lambda_{s/2} < 1e-8 at s >= 64.
- 2-D zero-Neumann (Darcy): phi = c_k1(x) c_k2(y), c_0 = 1, c_k = sqrt2 cos(pi k x), mu = pi^2 (k1^2 + k2^2), as in
  data_generation/darcy/GRF.m (coefficients s * coef .* xi through the orthonormal idct2, i.e. the same orthonormal
  cosine basis, (0, 0) mode set to zero). GRF.m multiplies by tau^(gamma - 1) (covariance tau^(2 gamma - 2) C,
  demo.m) and evaluates at the s DCT-II cell midpoints; we take sigma = 1 (the paper's (-Delta + 9 I)^-2) and
  evaluate at the nodes x_i = i/(s-1), boundary included, which darcy.py solves on. Modes 0 <= k1, k2 <= s - 2
  (the DCT-I Nyquist mode s - 1 is dropped, as in 1-D). The thresholded coefficient a depends on sign(psi) only,
  so sigma does not change Darcy data.
- 1-D RBF kernel on [0, 1] (physics-informed DeepONet data, Wang, Wang & Perdikaris 2021): grf_rbf_1d samples
  N(0, K), K_ij = variance exp(-(x_i - x_j)^2 / (2 length^2)), at the nodes x_i = i/(s-1), by a symmetric
  eigendecomposition of K (see its docstring).

Hand-written (numpy + scipy.fft): no maintained library ships these samplers.
"""
import functools

import numpy as np
import scipy.fft


def _check(sigma, tau, gamma):
    if not (sigma > 0 and tau > 0 and gamma > 0):
        raise ValueError(f"GRF covariance must be positive: need sigma > 0, tau > 0, gamma > 0 (got {sigma}, {tau}, {gamma})")


def mode_std_1d(s, sigma=25.0, tau=5.0, gamma=2.0):
    """sqrt(lambda_k) for the rfft wavenumbers k = 0..s//2; 0 for the dropped constant and Nyquist modes."""
    _check(sigma, tau, gamma)
    k = np.arange(s // 2 + 1)
    std = sigma * (4 * np.pi ** 2 * k ** 2 + tau ** 2) ** (-gamma / 2)
    std[0] = 0.0
    if s % 2 == 0:
        std[-1] = 0.0
    return std


def grf_1d(n, s, sigma=25.0, tau=5.0, gamma=2.0, seed=0):
    """n samples on the s periodic grid points x_j = j/s, shape (n, s), float64."""
    std = mode_std_1d(s, sigma, tau, gamma)
    rng = np.random.default_rng(seed)
    m = s // 2 + 1
    # complex coefficient of e^{2 pi i k x}: sqrt(lambda_k / 2) (xi - i xi'), so that the real field has
    # amplitudes sqrt(2 lambda_k) xi on cos and sin; E|c_k|^2 = lambda_k. irfft divides by s, hence the factor s.
    c = (rng.standard_normal((n, m)) - 1j * rng.standard_normal((n, m))) * (std / np.sqrt(2))
    return np.fft.irfft(c, n=s) * s


def mode_std_2d(s, sigma=1.0, tau=3.0, gamma=2.0):
    """sqrt(lambda_k1k2) for the cosine modes 0 <= k1, k2 <= s-1, shape (s, s); 0 for (0, 0) and the Nyquist row/column."""
    _check(sigma, tau, gamma)
    k = np.arange(s)
    std = sigma * (np.pi ** 2 * (k[:, None] ** 2 + k[None, :] ** 2) + tau ** 2) ** (-gamma / 2)
    std[0, 0] = 0.0
    std[-1, :] = std[:, -1] = 0.0
    return std


def grf_2d(n, s, sigma=1.0, tau=3.0, gamma=2.0, seed=0):
    """n samples of N(0, sigma^2 (-Delta + tau^2 I)^-gamma) with zero Neumann BC on the s x s nodes
    (x_i, y_j) = (i, j)/(s-1), shape (n, s, s), float64 (FNO Darcy: tau = 3, gamma = 2)."""
    if s < 3:
        raise ValueError(f"grf_2d needs s >= 3 nodes per side (got {s})")
    xi = np.random.default_rng(seed).standard_normal((n, s, s)) * mode_std_2d(s, sigma, tau, gamma)
    # orthonormal basis weights (1 for k = 0, sqrt2 otherwise), then the cosine sums over both axes by DCT-I:
    # scipy's unnormalised DCT-I gives y_i = x_0 + (-1)^i x_{s-1} + 2 sum_{k=1}^{s-2} x_k cos(pi k i/(s-1)).
    w = np.where(np.arange(s) == 0, 1.0, np.sqrt(2) / 2)
    xi *= w[:, None] * w[None, :]
    return scipy.fft.dct(scipy.fft.dct(xi, type=1, axis=1), type=1, axis=2)


def darcy_coefficient(psi, high=12.0, low=3.0, threshold=0.0):
    """FNO's two-valued permeability: high where psi >= threshold, low where psi < threshold."""
    if not (high > 0 and low > 0):
        raise ValueError(f"darcy coefficient values must be positive (got high={high}, low={low})")
    return np.where(psi >= threshold, float(high), float(low))


@functools.lru_cache(maxsize=4)
def _rbf_factor(s, length, variance):
    """B (s, r), read-only, with B B^T = K up to rounding: the eigenvectors of the RBF kernel matrix K at the s nodes
    times the square roots of their eigenvalues, largest first, keeping the r eigenvalues above s * eps * max."""
    x = np.linspace(0.0, 1.0, s)
    K = variance * np.exp(-np.subtract.outer(x, x) ** 2 / (2 * length ** 2))
    lam, V = np.linalg.eigh(K)
    lam, V = lam[::-1], V[:, ::-1]
    # K is numerically singular for a smooth kernel (its eigenvalues fall below rounding after a few dozen), so
    # Cholesky fails. eigh is backward stable: eigenvalues under s * eps * max are rounding noise, negative ones
    # included; they are set to 0 (dropped), which changes the covariance by no more than eigh's own error.
    keep = lam > s * np.finfo(float).eps * lam[0]
    B = np.ascontiguousarray(V[:, keep] * np.sqrt(lam[keep]))
    B.setflags(write=False)
    return B


def grf_rbf_1d(n, s, length=0.2, variance=1.0, seed=0):
    """n samples of the zero-mean Gaussian process with k(x, x') = variance exp(-(x - x')^2 / (2 length^2)) at the
    nodes x_i = i/(s-1), i = 0..s-1, boundary included; shape (n, s), float64. Sample i is B xi_i with
    xi_i ~ N(0, I_r) from np.random.default_rng((seed, i)) (so the first m samples do not depend on n) and B the
    kernel matrix's eigenvector factor (_rbf_factor, computed once per (s, length, variance): O(s^3)). Each sample
    is its own matrix-vector product so that its bits do not depend on how many are drawn with it."""
    if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 2:
        raise ValueError(f"grf_rbf_1d needs an integer s >= 2 nodes (got {s!r})")
    if not (length > 0 and variance > 0 and np.isfinite(length) and np.isfinite(variance)):
        raise ValueError(f"RBF kernel must be positive: need length > 0, variance > 0 (got {length}, {variance})")
    B = _rbf_factor(int(s), float(length), float(variance))
    out = np.empty((n, s))
    for i in range(n):
        out[i] = B @ np.random.default_rng((seed, i)).standard_normal(B.shape[1])
    return out
