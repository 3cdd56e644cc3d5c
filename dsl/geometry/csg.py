"""Combinations of shapes: `+` union, `-` difference, `&` intersection (`Combo`), and the
checks a combined shape must pass: a hole that misses its shape (E342), an
intersection of shapes that do not overlap, a domain with no inside (E340)."""
from __future__ import annotations

import numpy as np

from pdeforge.dsl.diagnostics import error

from .domain import _halton
from .primitives import Shape

__all__ = ["Combo", "validate"]


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
