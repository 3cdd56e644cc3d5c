"""The smooth pieces a boundary is made of: polygon edges (`Segment`), whole ellipses
(`Arc`), box faces (`Face3`) and spheres (`Sphere`). Each is sampled uniformly by arc
length (2-D) or area (3-D) with exact outward normals, says whether it lies on a plane
`x_i = v`, and has a distance function `phi` (zero on the piece) that takes `xp` so the
hard layers evaluate it with jax.numpy."""
from __future__ import annotations

import numpy as np

__all__ = ["Segment", "Arc", "Face3", "Sphere"]


class Segment:
    """Edge a → b of a counter-clockwise polygon: outward normal (dy, −dx)/L."""

    def __init__(self, a, b):
        self.a, self.b = np.asarray(a, float), np.asarray(b, float)
        e = self.b - self.a
        self.measure = float(np.hypot(*e))
        self.normal = np.array([e[1], -e[0]]) / self.measure

    def sample(self, U):
        P = self.a + U[:, :1] * (self.b - self.a)
        return P, np.broadcast_to(self.normal, P.shape).copy()

    def on_plane(self, i, v, tol):
        return abs(self.a[i] - v) <= tol and abs(self.b[i] - v) <= tol

    def phi(self, X, xp):
        """Sukumar & Srivastava's normalised distance to the segment (zero on it only, ≥ 0)."""
        (x1, y1), (x2, y2), L = self.a, self.b, self.measure
        x, y = X[..., 0], X[..., 1]
        f = ((x - x1) * (y2 - y1) - (y - y1) * (x2 - x1)) / L
        xc, yc = 0.5 * (x1 + x2), 0.5 * (y1 + y2)
        t = (0.25 * L * L - ((x - xc) ** 2 + (y - yc) ** 2)) / L
        vv = xp.sqrt(t * t + f ** 4)
        return xp.sqrt(f * f + (0.5 * (vv - t)) ** 2)


class Arc:
    """The whole boundary of the ellipse {c + M (cos θ, sin θ)}, by arc length."""

    def __init__(self, c, M):
        self.c, self.M = np.asarray(c, float), np.asarray(M, float)
        self.Minv = np.linalg.inv(self.M)
        sv = np.linalg.svd(self.M, compute_uv=False)
        self.circle = bool(abs(sv[0] - sv[1]) <= 1e-12 * sv[0])
        self.r = float(sv[1])        # smallest semi-axis
        th = np.linspace(0.0, 2 * np.pi, 4097)
        speed = np.linalg.norm(self.M @ np.stack([-np.sin(th), np.cos(th)]), axis=0)
        self._th = th
        self._s = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(th))])
        self.measure = float(self._s[-1])

    def sample(self, U):
        u = U[:, 0]
        th = 2 * np.pi * u if self.circle else np.interp(u * self.measure, self._s, self._th)
        cs = np.stack([np.cos(th), np.sin(th)], 1)
        P = self.c + cs @ self.M.T
        Nr = cs @ self.Minv          # ∇|M⁻¹(p − c)|² ∝ M⁻ᵀ (cos, sin)
        return P, Nr / np.linalg.norm(Nr, axis=1, keepdims=True)

    def on_plane(self, i, v, tol):
        return False

    def phi(self, X, xp):
        """(|M⁻¹(x − c)|² − 1)·r/2: zero on the ellipse, the signed distance to first order
        for a circle (outside > 0)."""
        q = X[..., :2] - self.c
        z0 = self.Minv[0, 0] * q[..., 0] + self.Minv[0, 1] * q[..., 1]
        z1 = self.Minv[1, 0] * q[..., 0] + self.Minv[1, 1] * q[..., 1]
        return (z0 * z0 + z1 * z1 - 1.0) * (0.5 * self.r)


class Face3:
    """A face `x_i = v` of a box, (u, w) over its rectangle, normal ±e_i."""

    def __init__(self, i, v, sign, lo, hi):
        self.i, self.v, self.sign = i, float(v), sign
        self.lo, self.hi = np.asarray(lo, float), np.asarray(hi, float)
        self.free = [k for k in range(3) if k != i]
        self.measure = float(np.prod(self.hi[self.free] - self.lo[self.free]))

    def sample(self, U):
        P = np.empty((len(U), 3))
        P[:, self.free] = self.lo[self.free] + U[:, :2] * (self.hi[self.free] - self.lo[self.free])
        P[:, self.i] = self.v
        N = np.zeros_like(P)
        N[:, self.i] = self.sign
        return P, N

    def on_plane(self, i, v, tol):
        return i == self.i and abs(self.v - v) <= tol

    def phi(self, X, xp):
        return self.sign * (self.v - X[..., self.i])


class Sphere:
    """Sphere |x − c| = r, uniform by area (z uniform, longitude uniform)."""

    def __init__(self, c, r):
        self.c, self.r = np.asarray(c, float), float(r)
        self.measure = 4 * np.pi * self.r ** 2

    def sample(self, U):
        z = 1.0 - 2.0 * U[:, 0]
        a = 2 * np.pi * U[:, 1]
        s = np.sqrt(np.maximum(0.0, 1.0 - z * z))
        N = np.stack([s * np.cos(a), s * np.sin(a), z], 1)
        return self.c + self.r * N, N

    def on_plane(self, i, v, tol):
        return False

    def phi(self, X, xp):
        q = X[..., :3] - self.c
        return ((q * q).sum(-1) - self.r ** 2) / (2 * self.r)
