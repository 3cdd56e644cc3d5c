"""Pass `domains`: reads the `domain`, `shape` and `time` lines.

Fills `State.coords` (spatial first, in declared order, then time), `State.cnames` and,
for a shaped domain, `State.geometry` (dsl/geometry: the coordinates' ranges are its
bounding box). A coordinate whose line failed is marked poisoned."""
from __future__ import annotations

from .. import ast as A
from ..diagnostics import PdeError
from .result import Coord
from .state import State

MAX_SPATIAL = 1000


def domains(st: State):
    p, d = st.program, st.diag
    coords = st.coords
    for s in p.of(A.Domain):
        _domain(st, s, coords)
    times = p.of(A.Time)
    for s in times[1:]:
        d.error("E102", "only one `time` coordinate may be declared", s.span, related=[(times[0].span, "first declared here")])
    for s in times[:1]:
        lohi = st.interval(s.interval, s.name)
        if st.define(s.name, s.name_span, "coordinate") and lohi:
            coords.append(Coord(s.name, *lohi, True, s.name_span))
        elif not lohi:
            st.poisoned.add(s.name)
    for s in p.of(A.Domain):     # a coordinate whose domain line failed was reported there
        st.poisoned.update(n for n in s.names if n not in [c.name for c in coords])
    if not p.of(A.Domain):
        d.error("E301", "no spatial coordinate is declared", None, hint="add a line such as `domain x in [0, 1]`")
    if len(coords) - (1 if times else 0) > MAX_SPATIAL:    # high-dimensional PDEs (poisson-nd) are in scope
        d.error("E203", f"at most {MAX_SPATIAL} spatial coordinates are supported", p.of(A.Domain)[-1].span)
    st.cnames = [c.name for c in coords]


def _domain(st, s, coords):
    shape = s.shape
    if isinstance(shape, A.Interval):
        if len(s.names) != 1:
            st.diag.error("E205", f"{len(s.names)} coordinates need a shape of that dimension, not an interval", shape.span,
                          hint="write `rectangle([lo, hi], [lo, hi])` or `box(...)`")
            return
        lohi = st.interval(shape, s.names[0])
        if st.define(s.names[0], s.name_spans[0], "coordinate") and lohi:
            coords.append(Coord(s.names[0], *lohi, False, s.name_spans[0]))
        return
    if isinstance(shape, A.Call) and shape.func in ("rectangle", "box", "interval"):
        if len(shape.args) != len(s.names) or shape.kwargs:
            st.diag.error("E131" if not shape.kwargs else "E130",
                          f"`{shape.func}` needs one interval per coordinate: {len(s.names)}, got {len(shape.args)}"
                          + (" and named arguments" if shape.kwargs else ""), shape.span,
                          hint="write `rectangle([lo, hi], [lo, hi])` for (x, y), "
                               "`box([lo, hi], [lo, hi], [lo, hi])` for (x, y, z)")
            return
        for n, sp, iv in zip(s.names, s.name_spans, shape.args):
            lohi = st.interval(iv, n)
            if st.define(n, sp, "coordinate") and lohi:
                coords.append(Coord(n, *lohi, False, sp))
        return
    _geometry_domain(st, s, coords)


def _geometry_domain(st, s, coords):
    """Any other shape: constructive geometry (dsl/geometry.py); the coordinates'
    ranges are its bounding box, and `shape NAME = ...` lines name its pieces."""
    from .. import geometry as G    # the shape algebra (numpy only)
    d, env, named, ce = st.diag, {}, {}, st.ce
    try:
        for shp_stmt in st.program.of(A.Shape):
            if st.define(shp_stmt.name, shp_stmt.name_span, "shape"):
                env[shp_stmt.name] = G.Builder(ce, env, len(s.names)).build(shp_stmt.shape)
                named[shp_stmt.name] = env[shp_stmt.name]
        shp = G.Builder(ce, env, len(s.names)).build(s.shape)
        if shp.dim != len(s.names):
            d.error("E344", f"a {shp.dim}-D shape for {len(s.names)} coordinate{'s' if len(s.names) > 1 else ''}", s.shape.span,
                    hint="a disk, ellipse, polygon or rectangle takes (x, y); a ball or box (x, y, z)")
            return
        G.validate(shp, s.shape.span)
    except G._Reported:
        return
    except PdeError as e:
        for dg in e.diagnostics:
            d.error(dg.code, dg.message, dg.span or s.shape.span, dg.hint)
        return
    st.geometry = G.Geometry(shp, s.names, named)
    for i, (n, sp) in enumerate(zip(s.names, s.name_spans)):
        if st.define(n, sp, "coordinate"):
            coords.append(Coord(n, float(st.geometry.lo[i]), float(st.geometry.hi[i]), False, sp))
