"""The layer kinds, as a registry: one `Kind` entry per kind of node in the layer graph
holds its parameter shapes, fixed shapes, initialiser, apply function, `describe` text
and — for the layers an architecture calls by name — its surface name and the `build`
that checks the call's arguments and adds the node.

  registry.py     `Kind`, `KINDS`, `register` and the generic lookups
  elementwise.py  activations, arithmetic between layers and numbers, `fused`
  dense.py        dense, grouped_dense, sandwich_dense, lipschitz_dense, kan_layer
  features.py     fourier, gaussian_features, periodic
  structure.py    input, output, scalar, bias, concat, split, group_sum, width_of
  spectral.py     grid kinds for neural operators: spectral (FNO), pad, crop; check_grid

Adding a kind: one `register(Kind(...))` in the module of its family (docs/architecture.md)."""
from __future__ import annotations

from . import dense, elementwise, features, spectral, structure  # noqa: F401  (each module registers its kinds)
from .dense import INITS, bspline_basis, cayley
from .elementwise import ACTIVATIONS
from .registry import (KINDS, Kind, apply_node, describe, fixed_count, fixed_shapes, init_node, kind, param_count,
                       param_shapes, register, surfaces)

__all__ = ["ACTIVATIONS", "INITS", "KINDS", "Kind", "apply_node", "bspline_basis", "cayley", "describe", "fixed_count",
           "fixed_shapes", "init_node", "kind", "param_count", "param_shapes", "register", "surfaces"]
