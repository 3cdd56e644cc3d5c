"""Architectures: the body of an `architecture` is unrolled into a networkx layer graph
(typed nodes with widths and spans), simplified by two passes (constant folding, fusion
of elementwise chains), then lowered to pure JAX `init`/`apply`.

  graph.py     `Graph`, `Node`, `Fn` and the size limits
  build.py     `build_graph`: unrolling an architecture (E1xx/E2xx diagnostics)
  passes.py    `fold_constants`, `fuse_elementwise`
  layers/      the registry of layer kinds (`Kind`, `KINDS`): shapes, init, apply,
               describe and the surface syntax of each kind, one entry per kind
  lowering.py  `make_init`, `make_apply`: generic over the registry"""
from __future__ import annotations

from .build import build_graph
from .graph import Fn, Graph, Node
from .layers import (ACTIVATIONS, INITS, KINDS, Kind, bspline_basis, cayley, describe, fixed_count, fixed_shapes,
                     param_count, param_shapes, register, surfaces)
from .lowering import make_apply, make_init
from .passes import fold_constants, fuse_elementwise

__all__ = ["ACTIVATIONS", "INITS", "KINDS", "Fn", "Graph", "Kind", "Node", "bspline_basis", "build_graph", "cayley",
           "describe", "fixed_count", "fixed_shapes", "fold_constants", "fuse_elementwise", "make_apply", "make_init",
           "param_count", "param_shapes", "register", "surfaces"]
