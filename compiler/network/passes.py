"""Passes over a built layer graph, run by `build_graph` in this order:

  fold_constants    reads the `scale`/`shift`/`power`/`act` nodes unrolling left; merges
                    chains of scales or of shifts and removes identities; adds
                    g.graph["folded"] (nodes removed)
  fuse_elementwise  reads which kinds are elementwise (the registry); replaces each
                    maximal single-consumer tree of them by one `fused` node holding the
                    steps; adds g.graph["fused"] (fused nodes made)

Both keep the network's function exactly (tests/test_architectures_graph.py checks outputs
before and after)."""
from __future__ import annotations

import networkx as nx

from .layers import KINDS

__all__ = ["fold_constants", "fuse_elementwise"]

# the attributes every node has; the rest are a kind's own (a fused step keeps those)
_STRUCTURAL = ("op", "width", "args", "span")


def _bypass(g, n, src):
    """Remove node `n`, wiring its consumers to `src`."""
    for s in list(g.successors(n)):
        g.nodes[s]["args"] = [src if a == n else a for a in g.nodes[s]["args"]]
        g.add_edge(src, s)
    g.remove_node(n)


def fold_constants(g: nx.DiGraph) -> int:
    """Numbers are folded while unrolling; this folds what unrolling leaves: chains of
    scales or shifts, and identities (×1, +0, ^1, identity activation). Returns the
    number of nodes removed."""
    removed = 0
    for n in list(nx.topological_sort(g)):
        a = g.nodes[n]
        op = a["op"]
        if op in ("scale", "shift"):
            key = "factor" if op == "scale" else "offset"
            (src,) = a["args"]
            s = g.nodes[src]
            if s["op"] == op and g.out_degree(src) == 1:
                a[key] = a[key] * s[key] if op == "scale" else a[key] + s[key]
                a["args"] = list(s["args"])
                g.add_edge(s["args"][0], n)
                g.remove_node(src)
                removed += 1
        if (op == "scale" and a["factor"] == 1.0 or op == "shift" and a["offset"] == 0.0
                or op == "power" and a["exponent"] == 1.0 or op == "act" and a["fn"] == "identity"):
            _bypass(g, n, a["args"][0])
            removed += 1
    g.graph["folded"] = g.graph.get("folded", 0) + removed
    return removed


def fuse_elementwise(g: nx.DiGraph) -> int:
    """Merge each maximal tree of elementwise nodes whose inner results have one consumer
    into one `fused` node holding a small program. Returns the number of fused nodes."""
    elementwise = {op for op, k in KINDS.items() if k.elementwise}
    order = list(nx.topological_sort(g))
    done, groups = set(), []
    for n in reversed(order):
        if n in done or g.nodes[n]["op"] not in elementwise:
            continue
        members, stack = [n], [n]
        done.add(n)
        while stack:
            for a in g.nodes[stack.pop()]["args"]:
                if a not in done and g.nodes[a]["op"] in elementwise and g.out_degree(a) == 1:
                    done.add(a)
                    members.append(a)
                    stack.append(a)
        if len(members) > 1:
            groups.append(members)
    pos = {n: i for i, n in enumerate(order)}
    k = 0
    for members in sorted(groups, key=lambda m: pos[m[0]]):
        root = members[0]
        inside = set(members)
        steps, ref, ext = [], {}, []
        for m in sorted(members, key=pos.get):
            a = g.nodes[m]
            refs = []
            for x in a["args"]:
                if x in inside:
                    refs.append(("t", ref[x]))
                else:
                    if x not in ext:
                        ext.append(x)
                    refs.append(("in", ext.index(x)))
            ref[m] = len(steps)
            steps.append((a["op"], {key: v for key, v in a.items() if key not in _STRUCTURAL}, refs))
        while f"fused_{k}" in g:
            k += 1
        fid = f"fused_{k}"
        k += 1
        width, span = g.nodes[root]["width"], g.nodes[root]["span"]
        g.add_node(fid, op="fused", width=width, args=list(ext), span=span, steps=steps,
                   ops=[s[1].get("fn", s[0]) for s in steps])
        for x in ext:
            g.add_edge(x, fid)
        for s in list(g.successors(root)):
            g.nodes[s]["args"] = [fid if a == root else a for a in g.nodes[s]["args"]]
            g.add_edge(fid, s)
        g.remove_nodes_from(members)
    g.graph["fused"] = g.graph.get("fused", 0) + len(groups)
    return len(groups)
