"""Diffusion-reaction reference solver (physics-informed DeepONet benchmark, Wang, Wang & Perdikaris 2021):

    s_t = D s_xx + k s^2 + f(x),  x in [0, 1], t in [0, 1],  s(x, 0) = 0,  s(0, t) = s(1, t) = 0,

D = diffusion (0.01), k = reaction (0.01), f the piecewise-linear interpolant of its node values at x_i = i/(s-1)
(the input from grf.grf_rbf_1d). Method of lines on a finer node grid (`fine` nodes, fine - 1 a multiple of s - 1,
so the s nodes are fine nodes and f's kinks sit on nodes): second-order central differences in x, TR-BDF2 in time
(Bank et al. 1985; gamma = 2 - sqrt2: a trapezoid stage to t + gamma dt, then BDF2 to t + dt). TR-BDF2 rather than
Crank-Nicolson because it is L-stable: f(0), f(1) != 0 makes the forcing incompatible with the boundary values at
t = 0, and Crank-Nicolson carries that corner layer's stiff modes on as undamped (-1)^n oscillations.

With this gamma both stages solve the same matrix, I - (1 - 1/sqrt2) dt D Lap, constant and shared by every sample,
so it is factorised once (banded Cholesky, scipy.linalg.cholesky_banded) and every stage is one banded solve with
all n samples as right-hand sides. The reaction term is resolved by simplified Newton (fixed-point) iterations with
that frozen matrix: the omitted Jacobian part 2 (1 - 1/sqrt2) dt k s is ~1e-5 of the identity at the defaults, so
each iteration gains about five digits; iteration stops at 1e-13 relative change, and a solve whose iteration does
not contract (dt k |s| too large, or the s^2 blow-up) raises RuntimeError rather than returning wrong data.

Hand-written (numpy + scipy.linalg): no maintained library ships this small solver in the DeepONet data setting.
"""
import math

import numpy as np
import scipy.linalg

GAMMA = 2.0 - math.sqrt(2.0)
D_COEF = 1.0 - 1.0 / math.sqrt(2.0)  # gamma / 2 (trapezoid stage) = (1 - gamma) / (2 - gamma) (BDF2 stage)
MIN_FINE_INTERVALS = 400  # default x grid: h <= 1/400 (convergence study in tests/test_datasets.py)
MIN_STEPS = 400           # default time steps: dt <= 1/400


def default_fine(s):
    """The smallest nested node grid (fine - 1 a multiple of s - 1) with at least MIN_FINE_INTERVALS intervals."""
    return (s - 1) * max(1, -(-MIN_FINE_INTERVALS // (s - 1))) + 1


def default_substeps(nt):
    """Time steps per output interval: the fewest giving at least MIN_STEPS steps on [0, 1]."""
    return max(1, -(-MIN_STEPS // (nt - 1)))


def _check(f, nt, diffusion, reaction, fine, substeps):
    f = np.atleast_2d(np.asarray(f, dtype=float))
    if f.ndim != 2 or f.shape[1] < 2 or not np.all(np.isfinite(f)):
        raise ValueError(f"diffusion_reaction: f must be finite with shape (n, s), s >= 2 (got {f.shape})")
    s = f.shape[1]
    for name, v, lo in (("nt", nt, 2), ("fine", fine, 3), ("substeps", substeps, 1)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo):
            raise ValueError(f"diffusion_reaction: {name} must be an integer >= {lo} (got {v!r})")
    fine = default_fine(s) if fine is None else int(fine)
    if (fine - 1) % (s - 1):
        raise ValueError(f"diffusion_reaction: fine - 1 = {fine - 1} must be a multiple of s - 1 = {s - 1} (nested node grids)")
    if not (diffusion > 0 and math.isfinite(diffusion) and math.isfinite(reaction)):
        raise ValueError(f"diffusion_reaction: need diffusion > 0 and a finite reaction (got {diffusion}, {reaction})")
    return f, int(nt), fine, default_substeps(nt) if substeps is None else int(substeps)


def _solve(f, nt, diffusion, reaction, fine, substeps, source=None):
    """The solver; source(x, t), x the interior fine nodes, is an extra forcing added to f (manufactured solutions)."""
    n, s = f.shape
    r, m, h = (fine - 1) // (s - 1), fine - 2, 1.0 / (fine - 1)
    # the piecewise-linear interpolant at the fine nodes: node j lies in coarse interval j // r at weight (j % r)/r
    w = np.arange(r) / r
    ff = np.empty((n, fine))
    ff[:, :-1] = (f[:, :-1, None] * (1 - w) + f[:, 1:, None] * w).reshape(n, -1)
    ff[:, -1] = f[:, -1]
    # unknowns as (m, n), interior nodes by samples, so one banded solve takes every sample as a right-hand side
    fi = np.ascontiguousarray(ff[:, 1:-1].T)
    x = np.linspace(0.0, 1.0, fine)[1:-1, None]
    dt = 1.0 / ((nt - 1) * substeps)
    c = D_COEF * dt
    a = c * diffusion / h ** 2
    ab = np.empty((2, m))  # upper banded form of I - c D Lap: SPD, diagonally dominant
    ab[0], ab[1] = -a, 1 + 2 * a
    cb = scipy.linalg.cholesky_banded(ab, lower=False)
    a1, a0 = 1 / (GAMMA * (2 - GAMMA)), -((1 - GAMMA) ** 2) / (GAMMA * (2 - GAMMA))

    def lap(u):
        out = -2 * u
        out[1:] += u[:-1]
        out[:-1] += u[1:]
        return out / h ** 2

    def forcing(u, t):  # everything but diffusion
        g = reaction * u * u + fi
        return g if source is None else g + source(x, t)

    def implicit(rhs, guess, t):  # u - c (D Lap u + forcing(u, t)) = rhs, by fixed-point iterations
        u = guess
        for _ in range(30):
            new = scipy.linalg.cho_solve_banded((cb, False), rhs + c * forcing(u, t), check_finite=False)
            delta = np.abs(new - u).max()
            u = new
            if not np.isfinite(delta):
                break
            if delta <= 1e-13 * max(1.0, np.abs(u).max()):
                return u
        raise RuntimeError(f"diffusion_reaction: the reaction iteration did not converge at t = {t:.4g} (dt * reaction * |s| "
                           f"too large or the solution blows up); pass more substeps (now {substeps})")

    u = np.zeros((m, n))
    out = np.zeros((n, s, nt))
    for j in range(1, nt):
        for q in range(substeps):
            t = ((j - 1) * substeps + q) * dt
            rate = diffusion * lap(u) + forcing(u, t)
            us = implicit(u + c * rate, u + GAMMA * dt * rate, t + GAMMA * dt)
            # BDF2 stage; the guess extrapolates linearly through u^n and u* to t + dt
            u = implicit(a1 * us + a0 * u, u + (us - u) / GAMMA, t + dt)
        out[:, 1:-1, j] = u[r - 1::r][: s - 2].T
    return out


def solve_diffusion_reaction(f, nt, diffusion=0.01, reaction=0.01, fine=None, substeps=None):
    """f: (n, s) or (s,) node values at x_i = i/(s-1). Returns u (n, s, nt), float64, u[i, k, j] = s(x_k, t_j) with
    t_j = j/(nt-1); zero at t = 0 and at x = 0, 1. fine: x-grid nodes (default default_fine(s): h <= 1/400),
    fine - 1 a multiple of s - 1; substeps: time steps per output interval (default: at least 400 steps in all)."""
    f, nt, fine, substeps = _check(f, nt, diffusion, reaction, fine, substeps)
    return _solve(f, nt, float(diffusion), float(reaction), fine, substeps)
