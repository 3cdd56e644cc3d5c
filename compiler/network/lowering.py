"""Lowering a layer graph to pure JAX: `make_init(g, dtype)` -> init(key) giving
{node id: {array name: array}} for every node with arrays, and `make_apply(g)` ->
apply(params, x) evaluating the nodes in topological order. Both are generic: each
node's arrays and value come from its kind's registry entry."""
from __future__ import annotations

import zlib

import jax
import jax.numpy as jnp
import networkx as nx

from pdeforge.dsl.diagnostics import error

from .graph import MAX_PARAMS
from .layers import apply_node, fixed_shapes, init_node, param_count, param_shapes

__all__ = ["make_init", "make_apply"]


def make_init(g: nx.DiGraph, dtype):
    nodes = [(n, a) for n, a in g.nodes(data=True) if param_shapes(a) or fixed_shapes(a)]
    if param_count(g) > MAX_PARAMS:
        raise error("E222", f"the network has {param_count(g):,} parameters; the limit is {MAX_PARAMS:,}")

    def init(key):
        # one key per node, folded from its name: adding a layer of another kind does
        # not reshuffle the others' weights
        return {n: init_node(jax.random.fold_in(key, zlib.crc32(n.encode()) & 0x7FFFFFFF), a, dtype) for n, a in nodes}
    return init


def make_apply(g: nx.DiGraph):
    order = list(nx.topological_sort(g))
    nodes = [(n, g.nodes[n], g.nodes[n]["args"]) for n in order]
    in_id, out_id = g.graph["input"], g.graph["output"]

    def apply(params, x):
        """x: (…, width) inputs, or a tuple of parts whose concatenation along the last
        axis they are (leading axes broadcast). A `slice` of the input that lies within
        one part is taken from that part, so a part that is the same for every row (an
        operator's sensor values, compiler/operator_points.py) stays unbroadcast and
        whatever reads only it (a DeepONet's branch) is computed once, not per row."""
        parts = x if isinstance(x, tuple) else None
        lead = x.shape[:-1] if parts is None else jnp.broadcast_shapes(*[q.shape[:-1] for q in parts])
        vals = {in_id: x}

        def whole():
            if parts is not None and isinstance(vals[in_id], tuple):
                vals[in_id] = jnp.concatenate([jnp.broadcast_to(q, lead + q.shape[-1:]) for q in parts], axis=-1)
            return vals[in_id]
        for n, a, args in nodes:
            if n == in_id:
                continue
            if parts is not None and a["op"] == "slice" and args == [in_id] and (q := _within(parts, a)) is not None:
                vals[n] = q
            else:
                vals[n] = apply_node(a, params.get(n), [whole() if i == in_id else vals[i] for i in args])
            if n == out_id:    # broadcast: a network may end in a layer that ignores x
                return jnp.broadcast_to(vals[n], lead + (a["width"],))
        return whole() if out_id == in_id else vals[out_id]
    return apply


def _within(parts, a):
    """The columns start:stop of the concatenated parts, if they lie in one part."""
    lo = 0
    for q in parts:
        hi = lo + q.shape[-1]
        if lo <= a["start"] and a["stop"] <= hi:
            return q[..., a["start"] - lo:a["stop"] - lo]
        lo = hi
    return None
