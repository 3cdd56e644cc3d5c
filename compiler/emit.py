"""Readable dumps of each stage: AST, IR, layer graphs (text + Graphviz DOT), LaTeX, plan."""
from __future__ import annotations

import dataclasses

import networkx as nx
import sympy as sp

from pdeforge.dsl import ast as A
from . import network

__all__ = ["ast_text", "ir_text", "graph_text", "graph_dot", "latex_text"]


def ast_text(program: A.Program) -> str:
    out = []

    def node(x, ind):
        pad = "  " * ind
        if isinstance(x, list):
            for i in x:
                node(i, ind)
            return
        if not dataclasses.is_dataclass(x):
            out.append(f"{pad}{x!r}")
            return
        hidden = ("span", "name_span", "func_span", "name_spans", "arg_spans", "path_span", "source", "doc", "origin")
        fields = [(f.name, getattr(x, f.name)) for f in dataclasses.fields(x) if f.name not in hidden]
        simple = [(k, v) for k, v in fields
                  if not (dataclasses.is_dataclass(v)
                          or isinstance(v, list) and v and any(dataclasses.is_dataclass(i) for i in v))]
        nested = [(k, v) for k, v in fields if (k, v) not in simple]
        sp_ = getattr(x, "span", None)
        loc = f" @{sp_.line}:{sp_.col}" if sp_ else ""
        out.append(f"{pad}{type(x).__name__}{loc} " + " ".join(f"{k}={v!r}" for k, v in simple if v not in (None, [], {})))
        for k, v in nested:
            out.append(f"{pad}  {k}:")
            node(v, ind + 2)
    node(program.statements, 0)
    return "\n".join(out)


def ir_text(ir, lowered=None) -> str:
    S = ir.symbols
    out = [f"problem {ir.name}"]
    for c in ir.coords:
        out.append(f"coordinate {c.name} in [{c.lo:g}, {c.hi:g}]{' (time)' if c.is_time else ''}")
    for n, v in ir.const_values.items():
        out.append(f"const {n} = {float(v):.17g}")
    chk = ir.checked
    for n, (lo, hi, g) in (chk.params.items() if chk else ()):
        out.append(f"param {n} = {lo:g} + ({hi:g} - {lo:g})·sigmoid(θ_{n}), starting at {g:g}"
                   + (f" (exact {chk.param_truth[n]:g})" if n in chk.param_truth else ""))
    for f, e in S.field.items():
        pf = chk.param_fields.get(f, False) if chk else False
        out.append(f"{'param field' if pf is not False else 'field'} {e}" + (f" in [{pf[0]:g}, {pf[1]:g}]" if pf else ""))
    for m in ir.models:
        out.append(f"model {m.name}: ({', '.join(m.fields)}) = {m.arch}({', '.join(m.inputs)})"
                   + (f"  [{network.param_count(lowered.graphs[m.name]):,} parameters]" if lowered else ""))
    out.append("regions:")
    for r in ir.regions.values():
        if r.kind == "data":
            n = len(lowered.data.get(r.key, ())) if lowered is not None else 0
            out.append(f"  {r.key}: the points of `{r.data}` (fixed{f', {n} points' if n else ''})")
            continue
        where = ("interior" if r.kind == "interior"
                 else f"{r.coord} = {r.value:g}" + (" (paired with the opposite face)" if r.kind == "periodic" else ""))
        out.append(f"  {r.key}: {where}")
    if getattr(ir, "hard", None):
        out.append("hard (built into the models; not loss terms):")
        out += ir.hard.describe(S)
    out.append("terms (residual = 0):")
    for t in ir.terms:
        for k, e in t.parts:
            out.append(f"  {t.name} [{t.kind}] on {k}: {e}")
    for f, e in ir.exact.items():
        out.append(f"exact {f} = {e}")
    out.append("dependencies: " + ", ".join(f"{a} -> {b}" for a, b in ir.graph.edges))
    return "\n".join(out)


def graph_text(lowered) -> str:
    """Per model: a text summary of the layer graph (layers, shapes, parameter counts),
    then the same graph as Graphviz DOT (`dot -Tsvg`)."""
    out = []
    for name, g in lowered.graphs.items():
        fixed = network.fixed_count(g)
        out.append(f"model {name} = {g.graph['name']}: {network.param_count(g):,} trained parameters"
                   + (f" (+{fixed:,} fixed)" if fixed else "")
                   + f", {g.number_of_nodes()} nodes ({g.graph.get('folded', 0)} folded away, "
                     f"{g.graph.get('fused', 0)} fused elementwise chains)")
        out.append(f"  {'node':<14} {'op':<10} {'shape':<10} {'params':>8}  inputs / detail")
        for n in nx.topological_sort(g):
            a = g.nodes[n]
            count = sum(_prod(sh) for sh in network.param_shapes(a).values())
            detail = network.describe(a)
            shape = '(1,)' if a['op'] == 'scalar' else '(N, ' + str(a['width']) + ')'
            out.append(f"  {n:<14} {a['op']:<10} {shape:<10} {count or '':>8}  "
                       f"{', '.join(a['args']) or '-'}{'  ' + detail if detail else ''}")
        out.append("")
        out.append(graph_dot(name, g))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _prod(shape):
    n = 1
    for k in shape:
        n *= k
    return n


def graph_dot(name, g) -> str:
    lines = [f'digraph "{name}" {{', "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for n in nx.topological_sort(g):
        a = g.nodes[n]
        detail = network.describe(a).replace('"', "'")
        label = f"{n}\\n{detail}" if detail else n
        shape = "box" if network.param_shapes(a) or a["op"] in ("input", "output") else "ellipse"
        lines.append(f'  "{n}" [label="{label}", shape={shape}];')
    for u, v in g.edges:
        lines.append(f'  "{u}" -> "{v}" [label="{g.nodes[u]["width"]}"];')
    lines.append("}")
    return "\n".join(lines)


def latex_text(ir) -> str:
    S = ir.symbols
    names = {s: sp.Symbol(_greek(str(s))) for s in S.const.values()}
    out = []

    def tex(stmt_expr):
        return sp.latex(S.to_sympy(stmt_expr).xreplace(names)).replace(r"\operatorname{Dn}", r"\partial_n")

    chk = ir.checked
    for eq in chk.equations:
        out.append(f"{tex(eq.lhs)} = {tex(eq.rhs)}" + (f" \\quad \\text{{({eq.label})}}" if eq.label else ""))
    for cond, faces in chk.conditions:
        where = ", ".join(f"{f.coord} = {f.value:g}" for f in faces)
        out.append(f"{tex(cond.lhs)} = {tex(cond.rhs)} \\quad \\text{{on }} {where}")
    for cond, f, x in chk.periodic:
        out.append(f"{f} \\text{{ periodic in }} {x}")
    for f, e in chk.exact.items():
        out.append(f"{f}_{{\\mathrm{{exact}}}} = {tex(e.expr)}")
    for n, v in chk.consts.items():
        out.append(f"{sp.latex(names[S.const[n]])} = {tex(chk.const_exprs[n])}")
    return "\n".join(out)


def _greek(n):
    greek = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "lambda", "mu", "nu",
             "xi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega"}
    return n if n in greek else n
