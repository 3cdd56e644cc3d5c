"""Numeric probes of symbolic data at a few seeded points: the compile-time checks
(corner agreement, periodicity, feasibility, independence) evaluate sympy
expressions built from the AST — never user text — at points of the domain."""
from __future__ import annotations

import numpy as np
import sympy as sp


def points(coords, n=7, seed=0):
    """n seeded points of the box spanned by `coords` ({Symbol: (lo, hi)}), as dicts."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        out.append({s: sp.Float(lo + (hi - lo) * rng.random(), 30) for s, (lo, hi) in coords.items()})
    return out


def value(expr, at: dict, consts: dict) -> float:
    e = expr if isinstance(expr, sp.Basic) else sp.Float(expr)
    v = e.xreplace(consts).xreplace(at)
    if v.free_symbols:      # learned parameters (`param k`): their data must agree for any value; probe a generic one
        v = v.xreplace({s: sp.Float(0.6180339887 + 0.1 * i, 30) for i, s in enumerate(sorted(v.free_symbols, key=str))})
    v = v.evalf(30)
    try:
        return float(v)
    except TypeError:
        return float("nan")


def agree(a, b, coords, consts, rtol=1e-9) -> tuple[bool, dict | None]:
    """Whether a and b agree at seeded points of `coords`; otherwise the first point where they differ."""
    for at in points(coords):
        va, vb = value(a, at, consts), value(b, at, consts)
        if not np.isfinite(va) or not np.isfinite(vb) or abs(va - vb) > rtol * (1.0 + max(abs(va), abs(vb))):
            return False, {"at": at, "a": va, "b": vb}
    return True, None


def where(at: dict) -> str:
    return ", ".join(f"{s} = {float(v):.4g}" for s, v in at.items())
