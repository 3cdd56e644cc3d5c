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
