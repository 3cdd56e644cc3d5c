"""The IR: residual terms as sympy expressions on named regions, models, and a
networkx graph of what depends on what. Built from a checked program."""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import sympy as sp

from pdeforge.dsl import ast as A
from .symbolic import Symbols, on_face


@dataclass
class Region:
    key: str                 # "interior", "x_lo", "t_lo", "periodic_u_x"
    kind: str                # "interior" | "face" | "periodic"
    coord: str | None = None
    side: str | None = None
    value: float | None = None


@dataclass
class Term:
    name: str                # the label, or a generated name
    kind: str                # "equation" | "condition" | "periodic"
    parts: list              # [(region key, sympy residual)]; loss = mean over all points of all parts
    span: object = None
    source: object = None    # the AST statement


@dataclass
class ModelSpec:
    name: str
    fields: list
    inputs: list             # coordinate names, problem order
    arch: str
    call: A.Call
    span: object = None


@dataclass
class IR:
    name: str
    symbols: Symbols
    coords: list             # [Coord]
    regions: dict            # key -> Region
    terms: list              # [Term]
    models: list             # [ModelSpec]
    exact: dict              # field -> sympy expr (in coordinates and consts)
    const_values: dict       # Symbol -> float
    graph: nx.DiGraph        # problem dependency graph
    checked: object = None
    periodic: list = field(default_factory=list)   # [(field, coord, max order)]


def build_ir(checked) -> IR:
    S = Symbols(checked)
    regions = {"interior": Region("interior", "interior")}
    terms, used = [], set()

    def name_for(stmt, base):
        if stmt.label:
            return stmt.label
        i = 1
        while f"{base}{i}" in used:
            i += 1
        return f"{base}{i}"

    for eq in checked.equations:
        r = S.to_sympy(eq.lhs) - S.to_sympy(eq.rhs)
        n = name_for(eq, "equation")
        used.add(n)
        terms.append(Term(n, "equation", [("interior", r)], eq.span, eq))
    for cond, faces in checked.conditions:
        r = S.to_sympy(cond.lhs) - S.to_sympy(cond.rhs)
        parts = []
        for f in faces:
            regions.setdefault(f.key, Region(f.key, "face", f.coord, f.side, f.value))
            parts.append((f.key, on_face(r, S.coord[f.coord], f.side)))
        n = name_for(cond, "initial" if faces and all(checked.coord(f.coord).is_time for f in faces) else "condition")
        used.add(n)
        terms.append(Term(n, "condition", parts, cond.span, cond))
    periodic = []
    for cond, fname, x in checked.periodic:
        order = max(1, checked.orders.get(fname, {}).get(x, 1))
        key = f"periodic_{fname}_{x}"
        c = checked.coord(x)
        regions[key] = Region(key, "periodic", x, "lo", c.lo)
        u = S.field[fname]
        # value and every derivative below the equation's order match across the period
        parts = [(key, sp.diff(u, S.coord[x], k) if k else u) for k in range(order)]
        n = name_for(cond, "periodic")
        used.add(n)
        terms.append(Term(n, "periodic", parts, cond.span, cond))
        periodic.append((fname, x, order))
    models = []
    for m in checked.models:
        fields = [t for t, _ in m.targets]
        args = checked.fields[fields[0]].args
        inputs = [c.name for c in checked.coords if c.name in args]
        models.append(ModelSpec("_".join(fields), fields, inputs, m.arch, m.call, m.span))
    exact = {f: S.to_sympy(e.expr) for f, e in checked.exact.items()}
    g = _dependency_graph(checked, terms, models, S)
    return IR(checked.name, S, checked.coords, regions, terms, models, exact, S.const_values(), g, checked, periodic)


def _dependency_graph(checked, terms, models, S):
    """Nodes: coordinates, fields, models, terms; edges point from what is used to its user."""
    g = nx.DiGraph()
    for c in checked.coords:
        g.add_node(f"coord:{c.name}", kind="coordinate", time=c.is_time, lo=c.lo, hi=c.hi)
    for f, decl in checked.fields.items():
        g.add_node(f"field:{f}", kind="field")
        for a in decl.args:
            g.add_edge(f"coord:{a}", f"field:{f}")
    for m in models:
        g.add_node(f"model:{m.name}", kind="model", arch=m.arch)
        for f in m.fields:
            g.add_edge(f"model:{m.name}", f"field:{f}")
    for t in terms:
        g.add_node(f"term:{t.name}", kind=t.kind, regions=[k for k, _ in t.parts])
        for _, r in t.parts:
            for fn in r.atoms(sp.core.function.AppliedUndef):
                g.add_edge(f"field:{fn.func.__name__}", f"term:{t.name}")
    return g
