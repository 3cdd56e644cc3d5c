"""The IR: residual terms as sympy expressions on named regions, models, and a
networkx graph of what depends on what. Built from a checked program."""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import sympy as sp

from pdeforge.dsl import ast as A
from .hard import synthesize as synthesize_hard
from .symbolic import Symbols, on_face, on_piece

__all__ = ["Region", "Term", "ModelSpec", "IR", "build_ir"]


@dataclass
class Region:
    key: str                 # "interior", "x_lo", "t_lo", "periodic_u_x", "data_obs"
    kind: str                # "interior" | "face" | "periodic" | "data" (fixed observation points) | "piece" (shaped boundary)
    coord: str | None = None
    side: str | None = None
    value: float | None = None
    data: str | None = None  # kind "data": the name of the observations
    piece: tuple | None = None  # kind "piece": a shaped boundary's selection (dsl.check.Piece.sel)


@dataclass
class Term:
    name: str                # the label, or a generated name
    kind: str                # "equation" | "condition" | "periodic" | "constraint" | "data"
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
    const_values: dict       # Symbol -> sympy Float
    graph: nx.DiGraph        # problem dependency graph
    checked: object = None
    periodic: list = field(default_factory=list)   # [(field, coord, max order)]
    hard: object = None      # hard.Hard: conditions and constraints built into the models


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
        if eq.hard is not None:
            continue         # div(u, v) = 0 hard: a stream function (compiler/hard/stream.py)
        r = S.to_sympy(eq.lhs) - S.to_sympy(eq.rhs)
        n = name_for(eq, "equation")
        used.add(n)
        terms.append(Term(n, "equation", [("interior", r)], eq.span, eq))
    for cond, faces in checked.conditions:
        if cond.hard is not None:
            continue         # built into the model (compiler/hard), not a loss term
        r = S.to_sympy(cond.lhs) - S.to_sympy(cond.rhs)
        parts = []
        for f in faces:
            if f.coord is None:      # a piece of a shaped boundary: dn(u) = n · ∇u with the points' own normals
                regions.setdefault(f.key, Region(f.key, "piece", piece=f.sel))
                parts.append((f.key, on_piece(r, S)))
                continue
            regions.setdefault(f.key, Region(f.key, "face", f.coord, f.side, f.value))
            parts.append((f.key, on_face(r, S.coord[f.coord], f.side)))
        n = name_for(cond, "initial" if faces and all(f.coord and checked.coord(f.coord).is_time for f in faces) else "condition")
        used.add(n)
        terms.append(Term(n, "condition", parts, cond.span, cond))
    periodic = []
    for cond, fname, x in checked.periodic:
        if cond.hard is not None:
            continue
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
    for s in checked.constraints:
        if s.hard is None:
            n = name_for(s, "constraint")
            used.add(n)
            terms.append(Term(n, "constraint", [("interior", r) for r in _soft_constraint(s, S)], s.span, s))
    # fits to observations: the residual at the data's own points, divided by the noise level σ
    # (a Gaussian likelihood in which the equation residuals count with σ = 1)
    for cond, dname, noise in getattr(checked, "fits", []):
        key = f"data_{dname}"
        regions.setdefault(key, Region(key, "data", data=dname))
        r = S.to_sympy(cond.lhs) - S.to_sympy(cond.rhs)
        if noise is not None:
            r = r / sp.nsimplify(noise)
        n = name_for(cond, "fit")
        used.add(n)
        terms.append(Term(n, "data", [(key, r)], cond.span, cond))
    consts = S.const_values()
    for t in terms:
        # a denominator that folds to 0 only once constants are in (x / (z * x), z = 0)
        if any(r.xreplace(consts).has(sp.zoo, sp.nan) for _, r in t.parts):
            from pdeforge.dsl.diagnostics import error
            raise error("E201", f"`{t.name}` divides by zero once its constants are substituted", t.span,
                        hint="check the denominators and the `const` values they use")
    hard = synthesize_hard(checked, S, models)
    exact = {f: S.to_sympy(e.expr) for f, e in checked.exact.items()}
    g = _dependency_graph(checked, terms, models, S, hard)
    return IR(checked.name, S, checked.coords, regions, terms, models, exact, S.const_values(), g, checked, periodic, hard)


def _soft_constraint(stmt, S):
    """Penalty residuals of a soft constraint: a − b for `a = b`, relu(a − b) = (d + |d|)/2 for `a <= b`."""
    out = []
    for rel in stmt.relations:
        parts = rel.parts
        for i in range(0, len(parts) - 2, 2):
            a, op, b = S.to_sympy(parts[i]), parts[i + 1], S.to_sympy(parts[i + 2])
            if op == "=":
                out.append(a - b)
            else:
                d = a - b if op == "<=" else b - a
                out.append((d + sp.Abs(d)) / 2)
    return out


def _dependency_graph(checked, terms, models, S, hard=None):
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
    for n in S.param:
        g.add_node(f"param:{n}", kind="param")
    for d in getattr(checked, "data", {}):
        g.add_node(f"data:{d}", kind="data")
    pnames = {v: k for k, v in S.param.items()}
    for t in terms:
        g.add_node(f"term:{t.name}", kind=t.kind, regions=[k for k, _ in t.parts])
        for _, r in t.parts:
            for fn in r.atoms(sp.core.function.AppliedUndef):
                g.add_edge(f"field:{fn.func.__name__}", f"term:{t.name}")
            for s in r.free_symbols & set(pnames):
                g.add_edge(f"param:{pnames[s]}", f"term:{t.name}")
        if t.kind == "data":
            g.add_edge(f"data:{t.parts[0][0][5:]}", f"term:{t.name}")
    if hard:
        # a hard layer sits between a model and its fields
        for f, rw in hard.rewrites.items():
            g.add_node(f"hard:{f}", kind="hard", layer="dirichlet")
            g.add_edge(f"hard:{f}", f"field:{f}")
        for mname, embs in hard.embeddings.items():
            for e in embs:
                g.add_node(f"hard:periodic_{mname}_{e.coord}", kind="hard", layer="periodic")
                g.add_edge(f"coord:{e.coord}", f"hard:periodic_{mname}_{e.coord}")
                g.add_edge(f"hard:periodic_{mname}_{e.coord}", f"model:{mname}")
        for i, lay in enumerate(hard.layers):
            n = f"hard:{lay.kind}_{lay.model}_{i}"
            g.add_node(n, kind="hard", layer=lay.kind)
            g.add_edge(f"model:{lay.model}", n)
            for r in lay.rows:
                for f in r.fields(lay.fields):
                    g.add_edge(n, f"field:{f}")
    return g
