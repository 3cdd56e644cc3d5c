"""Periodic 1-D viscous Burgers reference solver, u_t + (u^2/2)_x = nu u_xx on [0, 1) (FNO Burgers setting,
Li et al. 2021: nu = 0.1, t up to 1, u0 from grf.grf_1d). Pseudo-spectral in space with 2/3 dealiasing,
integrating-factor RK4 in time, vectorised over a batch of initial conditions. Hand-written: no maintained
library ships this solver.
"""
import numpy as np


def solve_burgers(u0, times, nu=0.1, dt=1e-3):
    """u0: (n, s) on x_j = j/s; times: increasing output times. Returns (n, len(times), s)."""
    u0 = np.atleast_2d(np.asarray(u0, dtype=float))
    s = u0.shape[1]
    k = 2 * np.pi * np.fft.rfftfreq(s, d=1.0 / s)
    keep = np.abs(np.fft.rfftfreq(s, d=1.0 / s)) < s / 3  # 2/3 rule
    L = -nu * k ** 2

    def N(v):  # nonlinear term -(u^2/2)_x in Fourier space, dealiased
        u = np.fft.irfft(v, n=s)
        return -0.5j * k * np.fft.rfft(u * u) * keep

    v, t, out = np.fft.rfft(u0), 0.0, []
    for T in times:
        steps = max(int(np.ceil((T - t) / dt - 1e-9)), 0)
        if steps:
            h = (T - t) / steps
            E, E2 = np.exp(L * h), np.exp(L * h / 2)
            for _ in range(steps):
                a = N(v)
                b = N(E2 * (v + h / 2 * a))
                c = N(E2 * v + h / 2 * b)
                d = N(E * v + h * E2 * c)
                v = E * v + h / 6 * (E * a + 2 * E2 * (b + c) + d)
        t = T
        out.append(np.fft.irfft(v, n=s))
    return np.stack(out, axis=1)
