"""The primitive shapes: polygons (triangles and rectangles are polygons), ellipses (disks),
axis-aligned boxes and balls, with the `Shape` base they share with combinations. A
primitive answers its signed distance (negative inside; exact for polygons, disks,
boxes and balls), its bounding box, its boundary pieces, and its image under an affine
map (None where the map would not keep the kind of shape: a box stays axis-aligned, a
ball round)."""
from __future__ import annotations

import numpy as np

from .pieces import Arc, Face3, Segment, Sphere

__all__ = ["Shape", "Polygon", "Ellipse", "Box", "Ball"]


class Shape:
    dim: int
    span = None
    name = None              # set for `shape NAME = ...`

    def leaves(self):
        return [self]

    def oriented(self, sign=1):
        """[(piece, sign, leaf)]: sign −1 where the domain lies outside the leaf (a hole)."""
        return [(p, sign, self) for p in self.pieces()]

    def named(self):
        return [self] if self.name else []


class Polygon(Shape):
    def __init__(self, V):
        V = np.asarray(V, float)
        x, y = V[:, 0], V[:, 1]
        area = 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
        self.V = V if area > 0 else V[::-1].copy()     # counter-clockwise, whichever way it was written
        self.area = abs(area)
        self.dim = 2

    def pieces(self):
        V = self.V
        return [Segment(V[i], V[(i + 1) % len(V)]) for i in range(len(V))]

    def bbox(self):
        return self.V.min(0), self.V.max(0)

    def sdf(self, P):
        V = self.V
        d = np.sum((P - V[0]) ** 2, 1)
        s = np.ones(len(P))
        for i in range(len(V)):
            j = i - 1
            e, w = V[j] - V[i], P - V[i]
            b = w - np.outer(np.clip(w @ e / (e @ e), 0.0, 1.0), e)
            d = np.minimum(d, np.sum(b * b, 1))
            c1, c2 = P[:, 1] >= V[i, 1], P[:, 1] < V[j, 1]
            c3 = e[0] * w[:, 1] > e[1] * w[:, 0]
            flip = (c1 & c2 & c3) | (~c1 & ~c2 & ~c3)
            s = np.where(flip, -s, s)
        return s * np.sqrt(d)

    def affine(self, M, t):
        return Polygon(self.V @ np.asarray(M).T + t)

    def self_intersects(self):
        segs = self.pieces()
        n = len(segs)
        for i in range(n):
            for j in range(i + 1, n):
                if j == i + 1 or (i == 0 and j == n - 1):
                    continue
                if _segments_cross(segs[i].a, segs[i].b, segs[j].a, segs[j].b):
                    return True
        return self.area <= 1e-14


def _segments_cross(p1, p2, q1, q2):
    def orient(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and d1 * d2 != 0 and d3 * d4 != 0:
        return True

    def on(a, b, c):       # c collinear with a-b and within its box
        return orient(a, b, c) == 0 and min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])
    return on(q1, q2, p1) or on(q1, q2, p2) or on(p1, p2, q1) or on(p1, p2, q2)


class Ellipse(Shape):
    """{c + M u : |u| ≤ 1}; a disk when M is r times a rotation."""

    def __init__(self, c, M):
        self.c, self.M = np.asarray(c, float), np.asarray(M, float)
        self.Minv = np.linalg.inv(self.M)
        self.dim = 2

    def pieces(self):
        return [Arc(self.c, self.M)]

    def bbox(self):
        h = np.linalg.norm(self.M, axis=1)
        return self.c - h, self.c + h

    def sdf(self, P):
        z = (P - self.c) @ self.Minv.T
        r = float(np.linalg.svd(self.M, compute_uv=False)[1])
        return (np.linalg.norm(z, axis=1) - 1.0) * r     # exact for a disk

    def affine(self, M, t):
        return Ellipse(np.asarray(M) @ self.c + t, np.asarray(M) @ self.M)


class Box(Shape):
    def __init__(self, lo, hi):
        self.lo, self.hi = np.asarray(lo, float), np.asarray(hi, float)
        self.dim = 3

    def pieces(self):
        return [Face3(i, (self.lo if s < 0 else self.hi)[i], s, self.lo, self.hi) for i in range(3) for s in (-1, 1)]

    def bbox(self):
        return self.lo.copy(), self.hi.copy()

    def sdf(self, P):
        c, h = 0.5 * (self.lo + self.hi), 0.5 * (self.hi - self.lo)
        q = np.abs(P - c) - h
        return np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(1), 0.0)

    def affine(self, M, t):
        M = np.asarray(M)
        if np.count_nonzero(M - np.diag(np.diag(M))) or np.any(np.diag(M) <= 0):
            return None
        a, b = M @ self.lo + t, M @ self.hi + t
        return Box(a, b)


class Ball(Shape):
    def __init__(self, c, r):
        self.c, self.r = np.asarray(c, float), float(r)
        self.dim = 3

    def pieces(self):
        return [Sphere(self.c, self.r)]

    def bbox(self):
        return self.c - self.r, self.c + self.r

    def sdf(self, P):
        return np.linalg.norm(P - self.c, axis=1) - self.r

    def affine(self, M, t):
        M = np.asarray(M)
        s = abs(np.linalg.det(M)) ** (1 / 3)
        if not np.allclose(M.T @ M, s * s * np.eye(3)):
            return None
        return Ball(M @ self.c + t, s * self.r)
