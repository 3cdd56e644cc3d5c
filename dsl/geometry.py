"""Constructive geometry for `domain (x, y) in SHAPE`: primitives (polygon, ellipse/disk,
box, ball), their combinations (`+` union, `-` difference, `&` intersection) and affine
placement, pushed down onto the primitives so that each keeps an exact description.

A shape answers: signed distance (negative inside; exact for polygons, disks, boxes,
balls; the sign is what membership needs), bounding box, and its boundary as smooth
pieces parametrised by arc length (2-D) or area (3-D) with exact outward normals.
`Geometry` is a whole domain: its boundary points are the primitives' boundary points
that separate inside from outside (a side test, so edges shared by two shapes drop out),
with the normal pointing out of the domain (into a hole, for a hole's circle).

numpy only; `phi` methods take `xp` so the hard layers evaluate them with jax.numpy."""
from __future__ import annotations

import math

import numpy as np

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error

# ---------------------------------------------------------------- boundary pieces


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


# ---------------------------------------------------------------- shapes


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


class Combo(Shape):
    def __init__(self, op, a, b):
        self.op, self.a, self.b, self.dim = op, a, b, a.dim

    def leaves(self):
        return self.a.leaves() + self.b.leaves()

    def named(self):
        return ([self] if self.name else []) + self.a.named() + self.b.named()

    def oriented(self, sign=1):
        return self.a.oriented(sign) + self.b.oriented(-sign if self.op == "-" else sign)

    def bbox(self):
        (al, ah), (bl, bh) = self.a.bbox(), self.b.bbox()
        if self.op == "+":
            return np.minimum(al, bl), np.maximum(ah, bh)
        if self.op == "&":
            return np.maximum(al, bl), np.minimum(ah, bh)
        return al, ah

    def sdf(self, P):
        a, b = self.a.sdf(P), self.b.sdf(P)
        return {"+": np.minimum(a, b), "&": np.maximum(a, b), "-": np.maximum(a, -b)}[self.op]

    def affine(self, M, t):
        a, b = self.a.affine(M, t), self.b.affine(M, t)
        return None if a is None or b is None else Combo(self.op, a, b)


# ---------------------------------------------------------------- the domain


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


# ---------------------------------------------------------------- from the AST

SHAPES = {"interval", "rectangle", "box", "disk", "ball", "ellipse", "polygon", "triangle",
          "translate", "rotate", "scale"}


class Builder:
    """Shape expressions (AST) → Shape; `ce` folds constant expressions to floats (or None
    after reporting); `env` holds the shapes named so far. Errors raise PdeError."""

    def __init__(self, ce, env, dim):
        self.ce, self.env, self.dim = ce, env, dim

    def num(self, e, what):
        v = self.ce(e, what)
        if v is None:
            raise _Reported
        return v

    def point(self, e, n, what):
        items = e.items if isinstance(e, A.Tuple) else None
        if items is None or len(items) != n:
            raise error("E345", f"{what} must be a point with {n} coordinates, such as ({', '.join(['0'] * n)})", e.span)
        return np.array([self.num(x, what) for x in items])

    def build(self, e):
        s = self._build(e)
        if s.span is None:
            s.span = e.span
        return s

    def _build(self, e):
        if isinstance(e, A.Name):
            if e.id in self.env:
                return self.env[e.id]
            raise error("E101", f"`{e.id}` is not a shape", e.span,
                        hint="name a shape first: `shape hole = disk(center = (0, 0), radius = 0.1)`")
        if isinstance(e, A.BinOp) and e.op in "+-&":
            a, b = self.build(e.left), self.build(e.right)
            if a.dim != b.dim:
                raise error("E344", f"a {a.dim}-D shape combined with a {b.dim}-D one", e.span)
            c = Combo(e.op, a, b)
            c.span = e.span
            return c
        if isinstance(e, A.Interval):
            raise error("E344", "an interval is a 1-D shape; combine 2-D or 3-D shapes here", e.span,
                        hint="write `rectangle([lo, hi], [lo, hi])` for two coordinates")
        if not isinstance(e, A.Call) or e.func not in SHAPES:
            raise error("E206", f"unsupported domain shape{' `' + e.func + '`' if isinstance(e, A.Call) else ''}", e.span,
                        hint="shapes: " + ", ".join(sorted(SHAPES - {"translate", "rotate", "scale"}))
                        + "; combined with + - &, placed with translate, rotate, scale")
        f, args = e.func, e.args
        kw = {k.name: k.value for k in e.kwargs}

        def arg(i, name, required=True):
            if name in kw:
                return kw[name]
            if i < len(args):
                return args[i]
            if required:
                raise error("E131", f"`{f}` needs `{name}`", e.span)
            return None

        if f in ("rectangle", "box", "interval"):
            ivs = []
            for iv in args:
                if not isinstance(iv, A.Interval):
                    raise error("E204", f"`{f}` takes intervals `[lo, hi]`", iv.span)
                lo, hi = self.num(iv.lo, "an interval end"), self.num(iv.hi, "an interval end")
                if not lo < hi:
                    raise error("E305", f"empty interval [{lo:g}, {hi:g}]", iv.span)
                ivs.append((lo, hi))
            if len(ivs) == 2:
                (a, b), (c, d) = ivs
                return Polygon([(a, c), (b, c), (b, d), (a, d)])
            if len(ivs) == 3:
                return Box([v[0] for v in ivs], [v[1] for v in ivs])
            raise error("E344", f"`{f}` with {len(ivs)} intervals cannot be combined with other shapes", e.span)
        if f in ("disk", "ball"):
            n = 2 if f == "disk" else 3
            c = self.point(arg(0, "center"), n, "the center")
            rr = arg(1, "radius", False) or kw.get("r")
            if rr is None:
                raise error("E131", f"`{f}` needs `radius`", e.span)
            r = self.num(rr, "the radius")
            if not r > 0:
                raise error("E345", f"the radius must be positive, not {r:g}", rr.span)
            return Ellipse(c, r * np.eye(2)) if n == 2 else Ball(c, r)
        if f == "ellipse":
            c = self.point(arg(0, "center"), 2, "the center")
            ab = self.point(arg(1, "radii"), 2, "the radii (semi-axes)")
            if not np.all(ab > 0):
                raise error("E345", "the semi-axes must be positive", arg(1, "radii").span)
            ang = arg(2, "angle", False)
            th = self.num(ang, "the angle") if ang is not None else 0.0
            R = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
            return Ellipse(c, R @ np.diag(ab))
        if f in ("polygon", "triangle"):
            V = np.array([self.point(a, 2, "a vertex") for a in args])
            if f == "triangle" and len(V) != 3 or len(V) < 3:
                raise error("E131", f"`{f}` needs {'three' if f == 'triangle' else 'at least three'} vertices", e.span)
            p = Polygon(V)
            if p.self_intersects():
                raise error("E343", f"the {f}'s edges cross (or it has no area)", e.span,
                            hint="list the vertices in order around the boundary, clockwise or counter-clockwise")
            return p
        # affine placement, pushed onto the primitives
        inner = self.build(arg(0, "shape"))
        d = inner.dim
        t = np.zeros(d)
        M = np.eye(d)
        if f == "translate":
            t = self.point(arg(1, "by"), d, "the translation")
        else:
            cen = arg(2, "center", False)
            c0 = self.point(cen, d, "the center") if cen is not None else np.zeros(d)
            if f == "rotate":
                if d != 2:
                    raise error("E344", "`rotate` is for 2-D shapes", e.span)
                th = self.num(arg(1, "angle"), "the angle")
                M = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
            else:
                fa = arg(1, "by")
                s = self.point(fa, d, "the scale factors") if isinstance(fa, A.Tuple) else np.full(d, self.num(fa, "the scale factor"))
                if not np.all(s > 0):
                    raise error("E345", "scale factors must be positive", fa.span)
                M = np.diag(s)
            t = c0 - M @ c0
        out = inner.affine(M, t)
        if out is None:
            raise error("E345", f"`{f}` of this shape is not supported (a box or ball stays axis-aligned and round)", e.span)
        return out


class _Reported(Exception):
    """A constant inside a shape failed to evaluate and was already reported."""


def validate(shape, geo_span):
    """Empty domains and holes that miss their shape: PdeErrors."""
    for node in _walk(shape):
        if isinstance(node, Combo):
            la, ha = node.a.bbox()
            lb, hb = node.b.bbox()
            apart = np.any(hb < la) or np.any(lb > ha)
            if node.op == "-" and (apart or _overlap(node.a, node.b) == 0):
                raise error("E342", "the shape taken away lies outside the shape it is taken from", node.b.span,
                            hint="check the hole's center and size against the outer shape")
            if node.op == "&" and (apart or _overlap(node.a, node.b) == 0):
                raise error("E340", "the intersection is empty: the two shapes do not overlap", node.span)
    lo, hi = shape.bbox()
    U = _halton(8192, shape.dim)
    if not np.any(shape.sdf(lo + U * (hi - lo)) < 0):
        raise error("E340", "the domain is empty", geo_span, hint="a difference may remove all of the shape")


def _overlap(a, b):
    lo, hi = b.bbox()
    U = _halton(4096, b.dim, 7)
    P = lo + U * (hi - lo)
    return int(np.sum((a.sdf(P) < 0) & (b.sdf(P) < 0)))


def _walk(s):
    yield s
    if isinstance(s, Combo):
        yield from _walk(s.a)
        yield from _walk(s.b)
