"""Shape expressions of the AST (`disk(...)`, `A - B`, `rotate(...)`, a named shape) to
shapes; affine placements are pushed down onto the primitives so that each keeps an
exact description. Mistakes in a shape raise PdeError."""
from __future__ import annotations

import math

import numpy as np

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import error

from .csg import Combo
from .primitives import Ball, Box, Ellipse, Polygon

__all__ = ["SHAPES", "Builder"]


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
                s = self.point(fa, d, "the scale factors") if isinstance(fa, A.Tuple) else \
                    np.full(d, self.num(fa, "the scale factor"))
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
