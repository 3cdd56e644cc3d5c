"""The layer graph and its node types: `Graph` (a networkx DiGraph whose nodes carry
`op`, `width`, `args` — the ordered inputs — `span` and the kind's own attributes),
`Node` (a layer's output while unrolling) and `Fn` (a function passed as a parameter),
and the size limits every stage of the build enforces."""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from pdeforge.dsl.diagnostics import error

__all__ = ["Graph", "Node", "Fn", "MAX_REPEAT", "MAX_PARAMS", "MAX_WIDTH", "MAX_NODES", "MAX_DEPTH"]

MAX_REPEAT = 10_000
MAX_PARAMS = 200_000_000
MAX_WIDTH = 100_000
MAX_NODES = 200_000
MAX_DEPTH = 50          # nested architecture calls


@dataclass(frozen=True)
class Node:
    """A layer's output while unrolling: its node id and width."""
    id: str
    width: int


@dataclass(frozen=True)
class Fn:
    """A function passed as a parameter (`activation = tanh`, `activation = snake`)."""
    name: str


class Graph:
    """A layer graph: nodes carry `op`, `width`, `args` (ordered inputs) and `span`."""

    def __init__(self, name):
        self.g = nx.DiGraph(name=name)
        self.count = {}

    def add(self, op, width, args=(), span=None, **attrs) -> Node:
        """Add a node of kind `op` (its id: `op_<n>`, numbered per op, so parameter
        names do not depend on layers of other kinds) fed by the nodes `args`."""
        if width > MAX_WIDTH:
            raise error("E221", f"this layer would be {width:,} wide; the limit is {MAX_WIDTH:,}", span)
        if self.g.number_of_nodes() >= MAX_NODES:
            raise error("E222", f"the network unrolls to more than {MAX_NODES:,} layers", span,
                        hint="lower a `repeat` count")
        i = self.count.get(op, 0)
        self.count[op] = i + 1
        nid = f"{op}_{i}"
        self.g.add_node(nid, op=op, width=width, args=[a.id for a in args], span=span, **attrs)
        for a in args:
            self.g.add_edge(a.id, nid)
        return Node(nid, width)
