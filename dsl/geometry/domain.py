"""`Geometry`: the spatial domain of a problem: membership, the boundary parts a
condition selects, their measures, and uniform sampling of the interior and of the
boundary with outward normals (a side test keeps only the pieces that separate inside
from outside, so edges shared by two shapes drop out)."""
from __future__ import annotations

import numpy as np

from pdeforge.dsl.diagnostics import error

__all__ = ["Geometry"]


def _halton(n, d, seed=12345):
    from scipy.stats import qmc
    return qmc.Halton(d, scramble=True, seed=seed).random(n)


class Geometry:
    """The spatial domain of a problem: its shape, named sub-shapes, and the coordinate order."""

    def __init__(self, shape, coords, named):
        self.shape, self.coords, self.named = shape, list(coords), dict(named)
        self.dim = shape.dim
        self.lo, self.hi = (np.asarray(v, float) for v in shape.bbox())
        self.scale = float(np.max(self.hi - self.lo)) if np.all(self.hi > self.lo) else 1.0
        self.tol = 1e-9 * self.scale
        self.eps = 1e-6 * self.scale
        self._all = shape.oriented()
        self._measure = {}

    # -- membership
    def inside(self, P):
        return self.shape.sdf(P) < 0

    def _on_boundary(self, P, N):
        return self.inside(P - self.eps * N) & ~self.inside(P + self.eps * N)

    # -- boundary selections: ("boundary",), ("named", NAME), ("face", coord index, value)
    def pieces(self, sel):
        if sel[0] == "boundary":
            return self._all
        if sel[0] == "named":
            leaves = {id(lf) for lf in self.named[sel[1]].leaves()}
            return [o for o in self._all if id(o[2]) in leaves]
        return [o for o in self._all if o[0].on_plane(sel[1], sel[2], self.tol)]

    def _candidates(self, pcs, U):
        """Points spread over the pieces by measure: U[:, 0] picks the piece and is rescaled
        to its own parameter; the other columns pass on."""
        meas = np.array([p.measure for p, _, _ in pcs])
        cum = np.concatenate([[0.0], np.cumsum(meas)]) / meas.sum()
        k = np.clip(np.searchsorted(cum, U[:, 0], side="right") - 1, 0, len(pcs) - 1)
        loc = (U[:, 0] - cum[k]) / np.maximum(cum[k + 1] - cum[k], 1e-300)
        V = U.copy()
        V[:, 0] = np.clip(loc, 0.0, 1.0 - 1e-16)
        P = np.empty((len(U), self.dim))
        Nr = np.empty((len(U), self.dim))
        for j, (p, s, _) in enumerate(pcs):
            m = k == j
            if m.any():
                P[m], Nr[m] = p.sample(V[m][:, :max(1, self.dim - 1)])
                Nr[m] *= s
        return P, Nr

    def measure(self, sel):
        """The measure (length, area) of the selected boundary part, from a fixed pilot sample."""
        key = tuple(sel)
        if key not in self._measure:
            pcs = self.pieces(sel)
            if not pcs:
                self._measure[key] = 0.0
            else:
                U = _halton(4096, max(1, self.dim - 1))
                P, N = self._candidates(pcs, U)
                frac = float(np.mean(self._on_boundary(P, N)))
                self._measure[key] = frac * sum(p.measure for p, _, _ in pcs)
        return self._measure[key]

    def sample_boundary(self, sel, n, draw):
        """n points of the selected boundary, uniform by arc length / area, and their outward
        unit normals; `draw(m)` gives m rows of unit numbers (dim − 1 + extra columns), the
        extra columns (time) are returned alongside."""
        pcs = self.pieces(sel)
        total = sum(p.measure for p, _, _ in pcs)
        frac = max(self.measure(sel) / total, 1e-3) if total else 0.0
        Ps, Ns, Es, have = [], [], [], 0
        for _ in range(50):
            if have >= n or not pcs:
                break
            U = draw(int((n - have) / frac * 1.1) + 16)
            k = max(1, self.dim - 1)
            P, N = self._candidates(pcs, U)
            ok = self._on_boundary(P, N)
            Ps.append(P[ok]), Ns.append(N[ok]), Es.append(U[ok][:, k:])
            have += int(ok.sum())
        if have < n:
            raise error("E341", "the boundary piece selects no points of the domain's boundary")
        return np.concatenate(Ps)[:n], np.concatenate(Ns)[:n], np.concatenate(Es)[:n]

    def sample_interior(self, n, draw):
        """n points inside, uniform (rejection from the bounding box, topped up); `draw(m)`
        gives m rows of unit numbers, the first `dim` for space, the rest returned as they are."""
        frac = max(self.area_fraction(), 1e-3)
        Ps, Es, have = [], [], 0
        for _ in range(50):
            if have >= n:
                break
            U = draw(int((n - have) / frac * 1.1) + 16)
            P = self.lo + U[:, :self.dim] * (self.hi - self.lo)
            ok = self.inside(P)
            Ps.append(P[ok]), Es.append(U[ok][:, self.dim:])
            have += int(ok.sum())
        return np.concatenate(Ps)[:n], np.concatenate(Es)[:n]

    def area_fraction(self):
        if "_frac" not in self.__dict__:
            U = _halton(8192, self.dim)
            self._frac = float(np.mean(self.inside(self.lo + U * (self.hi - self.lo))))
        return self._frac
