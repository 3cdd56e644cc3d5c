"""The registry of layer kinds: `Kind` (one entry: everything the compiler knows about
one kind of node) and `KINDS` (op -> Kind), with the generic lookups every other stage
uses — parameter shapes and counts, `describe`, per-node init and apply. Nothing here
knows a particular kind; the entries live in the modules beside this one."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

__all__ = ["Kind", "KINDS", "register", "kind", "surfaces", "param_shapes", "fixed_shapes", "describe",
           "param_count", "fixed_count", "init_node", "apply_node"]


def _no_arrays(a) -> dict:
    return {}


def _no_text(a) -> str:
    return ""


@dataclass(frozen=True)
class Kind:
    """One kind of node in the layer graph. Functions take the node's attributes `a`
    (the dict `Graph.add` stored: `op`, `width`, `args`, `span` and the kind's own).

    op        the node's `op`, and the prefix of its ids (`dense_0`): parameter names
    apply     (a, params, inputs) -> array: the node's value from its inputs' values (a
              list, in `args` order) and its arrays (None when it has none); None for
              kinds with no per-point value of their own (the input, which `make_apply`
              seeds with x, and `width_of`, a number while unrolling)
    shapes    a -> {name: shape} of the trained arrays
    fixed     a -> {name: shape} of random but fixed arrays (never trained: apply reads
              them through `lax.stop_gradient`)
    init      (key, a, dtype) -> {name: array}, exactly the names and shapes of
              `shapes` and `fixed`; needed when either is non-empty
    describe  a -> one line for `--emit graph`
    surface   the name an architecture calls it by (`sandwich_dense`), None for kinds
              the builder makes from other syntax (`+`, activations) or a pass makes
    build     (builder, call, env, arch) -> Node, [Node] or number: checks the call's
              arguments (E1xx/E2xx diagnostics) and adds the node(s); with `surface`
    elementwise  the value is a pointwise function of its inputs, with no arrays: the
              fusion pass may merge it into a `fused` node
    grid      the value at a point depends on the whole grid (the kind mixes along the
              grid axes, as the spectral convolution of an FNO does): the pointwise
              Taylor derivative engine cannot differentiate through it, and a model
              using it runs on a declared grid, its input shaped (..., s, c) or
              (..., s1, s2, c) (`layers/spectral.py`, `check_grid`)"""
    op: str
    apply: Callable | None = None
    shapes: Callable[[dict], dict] = _no_arrays
    fixed: Callable[[dict], dict] = _no_arrays
    init: Callable | None = None
    describe: Callable[[dict], str] = _no_text
    surface: str | None = None
    build: Callable | None = None
    elementwise: bool = False
    grid: bool = False


# op -> Kind. Tests may add an entry for their lifetime (monkeypatch.setitem): every
# lookup below reads this dict when it is called.
KINDS: dict[str, Kind] = {}


def register(k: Kind) -> Kind:
    """Add an entry; an op or surface name may be taken only once."""
    if k.op in KINDS:
        raise ValueError(f"layer kind `{k.op}` is registered twice")
    if k.surface is not None and k.surface in surfaces():
        raise ValueError(f"layer name `{k.surface}` is registered twice")
    if (k.surface is None) != (k.build is None):
        raise ValueError(f"layer kind `{k.op}`: `surface` and `build` go together")
    KINDS[k.op] = k
    return k


def kind(a) -> Kind:
    """The entry of a node (its attributes)."""
    return KINDS[a["op"]]


def surfaces() -> dict[str, Kind]:
    """The layers an architecture may call: surface name -> Kind."""
    return {k.surface: k for k in KINDS.values() if k.surface is not None}


def param_shapes(a) -> dict:
    """Trainable arrays of a node, name -> shape."""
    return kind(a).shapes(a)


def fixed_shapes(a) -> dict:
    """Random but fixed (never trained) arrays of a node, name -> shape."""
    return kind(a).fixed(a)


def describe(a) -> str:
    """One line about a node, for `--emit graph`."""
    return kind(a).describe(a)


def param_count(g) -> int:
    """Trained parameters of a layer graph."""
    return sum(math.prod(s) for _, a in g.nodes(data=True) for s in param_shapes(a).values())


def fixed_count(g) -> int:
    """Fixed (never trained) numbers of a layer graph."""
    return sum(math.prod(s) for _, a in g.nodes(data=True) for s in fixed_shapes(a).values())


def init_node(key, a, dtype) -> dict | None:
    """A node's arrays, drawn from `key`; None for a kind without any."""
    k = kind(a)
    return k.init(key, a, dtype) if k.init is not None else None


def apply_node(a, params, inputs):
    """A node's value from its inputs' values."""
    return kind(a).apply(a, params, inputs)
