"""Darcy flow reference solver: -div(a grad u) = f on the unit square, u = 0 on the boundary (FNO Darcy setting,
Li et al. 2021: f = 1, a from grf.darcy_coefficient). 5-point finite differences with harmonic-mean face
coefficients on an s x s node grid including the boundary, solved with scipy.sparse. Hand-written: no maintained
library ships this small FD solver in the FNO setting.
"""
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def solve_darcy(a, f=1.0):
    """a: (s, s) node values; f: scalar or (s, s). Returns u (s, s) with u = 0 on the boundary."""
    a = np.asarray(a, dtype=float)
    s = a.shape[0]
    if a.shape != (s, s) or s < 3:
        raise ValueError(f"darcy: a must be a square grid with s >= 3 (got shape {a.shape})")
    if not (np.all(np.isfinite(a)) and np.all(a > 0)):
        raise ValueError("darcy: the coefficient a must be finite and positive everywhere")
    h = 1.0 / (s - 1)
    f = np.broadcast_to(np.asarray(f, dtype=float), (s, s))
    m = s - 2
    idx = np.arange(m * m).reshape(m, m)
    # harmonic mean of the two node values across each face
    ax = 2 * a[1:, :] * a[:-1, :] / (a[1:, :] + a[:-1, :])  # face between (i, j) and (i+1, j)
    ay = 2 * a[:, 1:] * a[:, :-1] / (a[:, 1:] + a[:, :-1])
    I, J = np.meshgrid(np.arange(1, s - 1), np.arange(1, s - 1), indexing="ij")
    e, w, no, so = ax[I, J], ax[I - 1, J], ay[I, J], ay[I, J - 1]
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [(e + w + no + so).ravel()]
    for coef, di, dj in ((e, 1, 0), (w, -1, 0), (no, 0, 1), (so, 0, -1)):
        ii, jj = I - 1 + di, J - 1 + dj
        ok = (ii >= 0) & (ii < m) & (jj >= 0) & (jj < m)
        rows.append(idx[ok]); cols.append(idx[ii[ok], jj[ok]]); vals.append(-coef[ok])
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m * m, m * m))
    u = np.zeros((s, s))
    u[1:-1, 1:-1] = spla.spsolve(A.tocsc(), h * h * f[1:-1, 1:-1].ravel()).reshape(m, m)
    return u
