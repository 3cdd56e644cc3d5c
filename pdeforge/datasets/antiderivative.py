"""Antiderivative operator reference solver (physics-informed DeepONet benchmark, Wang, Wang & Perdikaris 2021):
u(x) = int_0^x f(y) dy on [0, 1], u(0) = 0, the input f from grf.grf_rbf_1d.

The input function is the piecewise-linear interpolant of its node values f_i at x_i = i/(s-1), so its
antiderivative at the nodes is exactly the cumulative trapezoid rule (each piece integrates to h (f_{i-1} + f_i)/2);
for a smooth f sampled at the nodes the error is O(h^2). Hand-written (numpy only): a cumulative sum, which no
maintained library ships in this data setting.
"""
import numpy as np


def solve_antiderivative(f):
    """f: (n, s) or (s,) node values at x_i = i/(s-1), s >= 2. Returns u (n, s), float64, u[:, 0] = 0."""
    f = np.atleast_2d(np.asarray(f, dtype=float))
    if f.ndim != 2 or f.shape[1] < 2 or not np.all(np.isfinite(f)):
        raise ValueError(f"antiderivative: f must be finite with shape (n, s), s >= 2 (got {f.shape})")
    h = 1.0 / (f.shape[1] - 1)
    u = np.zeros(f.shape)
    np.cumsum(0.5 * h * (f[:, 1:] + f[:, :-1]), axis=1, out=u[:, 1:])
    return u
