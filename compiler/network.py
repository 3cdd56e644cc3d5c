"""Architectures: the body of an `architecture` is unrolled into a networkx layer
graph (typed nodes with widths), which is lowered to pure JAX `init`/`apply`."""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import networkx as nx

from pdeforge.dsl import ast as A
from pdeforge.dsl.check import CONSTANTS, MATH_FUNCS
from pdeforge.dsl.diagnostics import Diagnostic, PdeError, did_you_mean, error

ACTIVATIONS = {
    "tanh": jnp.tanh, "sin": jnp.sin, "cos": jnp.cos, "exp": jnp.exp, "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu, "gelu": jax.nn.gelu, "swish": jax.nn.swish, "silu": jax.nn.silu,
    "softplus": jax.nn.softplus, "identity": lambda x: x,
}
MAX_REPEAT = 10_000
MAX_PARAMS = 200_000_000


@dataclass
class Node:
    id: str
    width: int


class Graph:
    """A layer graph: nodes carry `op`, `width`, `args` (ordered inputs) and `span`."""

    def __init__(self, name):
        self.g = nx.DiGraph(name=name)
        self.count = {}

    def add(self, op, width, args=(), span=None, **attrs):
        i = self.count.get(op, 0)
        self.count[op] = i + 1
        nid = f"{op}_{i}"
        self.g.add_node(nid, op=op, width=width, args=[a.id for a in args], span=span, **attrs)
        for a in args:
            self.g.add_edge(a.id, nid)
        return Node(nid, width)


def build_graph(arch: A.Architecture, call: A.Call, n_in: int, n_out: int, archs=None, file=None, source=None) -> nx.DiGraph:
    """Unroll `arch` called with `call`'s arguments into a layer graph."""
    G = Graph(arch.name)
    env = {}
    given = {k.name: k.value for k in call.kwargs}
    for p, a in zip(arch.params, call.args):
        given[p.name] = a
    for p in arch.params:
        src = given.get(p.name, p.default)
        if src is None:
            raise error("E132", f"`{arch.name}` needs a value for `{p.name}`", call.span, hint=f"write `{arch.name}({p.name} = ...)`")
        env[p.name] = _param_value(src, env)
    inp = G.add("input", n_in)
    env["inputs"] = inp
    env["outputs"] = n_out
    out = _run_body(arch.body, env, G, arch)
    if out is None:
        raise error("E213", f"architecture `{arch.name}` has no `return`", arch.span)
    if not isinstance(out, Node):
        raise error("E214", f"architecture `{arch.name}` must return a layer, not a number", arch.span)
    if out.width != n_out:
        raise error("E215", f"architecture `{arch.name}` returns width {out.width}, but the model has {n_out} output(s)",
                    arch.body[-1].span if arch.body else arch.span, hint="end with `return dense(h, outputs)`")
    G.g.add_node(G.add("output", n_out, [out]).id)
    G.g.graph["output"] = f"output_{G.count['output'] - 1}"
    G.g.graph["input"] = inp.id
    return G.g


def _param_value(e, env):
    if isinstance(e, A.Name) and (e.id in ACTIVATIONS or e.id not in env and e.id not in CONSTANTS):
        return ("fn", e.id, e.span)
    return _scalar(e, env)


def _scalar(e, env):
    if isinstance(e, A.Num):
        return e.value
    if isinstance(e, A.Name):
        if e.id in env and not isinstance(env[e.id], (Node, tuple)):
            return env[e.id]
        if e.id in CONSTANTS:
            return CONSTANTS[e.id]
        raise error("E101", f"`{e.id}` is not a number here", e.span)
    if isinstance(e, A.Neg):
        return -_scalar(e.operand, env)
    if isinstance(e, A.BinOp):
        a, b = _scalar(e.left, env), _scalar(e.right, env)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.inf, "^": a ** b}[e.op]
    if isinstance(e, A.Call) and e.func in MATH_FUNCS and len(e.args) == 1:
        return float(MATH_FUNCS[e.func](_scalar(e.args[0], env)))
    raise error("E202", "expected a number", e.span)


def _run_body(body, env, G, arch):
    ret = None
    for s in body:
        if isinstance(s, A.Assign):
            env[s.name] = _value(s.value, env, G, arch)
        elif isinstance(s, A.Repeat):
            n = _scalar(s.count, env)
            if n != int(n) or n < 0 or n > MAX_REPEAT:
                raise error("E216", f"`repeat` count must be a whole number from 0 to {MAX_REPEAT}", s.count.span)
            for _ in range(int(n)):
                r = _run_body(s.body, env, G, arch)
                if r is not None:
                    return r
        elif isinstance(s, A.Return):
            return _value(s.value, env, G, arch)
    return ret


def _value(e, env, G, arch):
    if isinstance(e, A.Num):
        return e.value
    if isinstance(e, A.Name):
        if e.id in env:
            v = env[e.id]
            if isinstance(v, tuple):
                raise error("E217", f"`{e.id}` names a function; call it, as in `{e.id}(h)`", e.span)
            return v
        if e.id in CONSTANTS:
            return CONSTANTS[e.id]
        raise error("E101", f"`{e.id}` is not defined in architecture `{arch.name}`", e.span,
                    hint=did_you_mean(e.id, list(env)) or "assign it first, as in `h = inputs`")
    if isinstance(e, A.Neg):
        v = _value(e.operand, env, G, arch)
        return -v if not isinstance(v, Node) else G.add("scale", v.width, [v], e.span, factor=-1.0)
    if isinstance(e, A.BinOp):
        a, b = _value(e.left, env, G, arch), _value(e.right, env, G, arch)
        if not isinstance(a, Node) and not isinstance(b, Node):
            return _scalar(e, env)
        if isinstance(a, Node) and isinstance(b, Node):
            if a.width != b.width:
                raise error("E218", f"cannot combine widths {a.width} and {b.width} with `{e.op}`", e.span)
            if e.op == "^":
                raise error("E219", "`^` needs a number exponent", e.span)
            return G.add({"+": "add", "-": "sub", "*": "mul", "/": "div"}[e.op], a.width, [a, b], e.span)
        node, num, left = (a, b, True) if isinstance(a, Node) else (b, a, False)
        op = {"+": "shift", "-": "shift", "*": "scale", "/": "scale", "^": "power"}[e.op]
        if e.op == "-":
            if left:
                return G.add("shift", node.width, [node], e.span, offset=-num)
            return G.add("shift", node.width, [G.add("scale", node.width, [node], e.span, factor=-1.0)], e.span, offset=num)
        if e.op == "/":
            if not left:
                raise error("E219", "a number divided by a layer is not supported", e.span)
            return G.add("scale", node.width, [node], e.span, factor=1.0 / num)
        if e.op == "^" and not left:
            raise error("E219", "a layer cannot be an exponent", e.span)
        key = {"shift": "offset", "scale": "factor", "power": "exponent"}[op]
        return G.add(op, node.width, [node], e.span, **{key: float(num)})
    if isinstance(e, A.Call):
        f = e.func
        if f in env and isinstance(env[f], tuple):
            f = env[f][1]
        if f == "dense":
            if len(e.args) != 2:
                raise error("E131", "`dense` takes a layer and a width: `dense(h, 32)`", e.span)
            h = _value(e.args[0], env, G, arch)
            w = _scalar(e.args[1], env) if not isinstance(e.args[1], A.Name) or e.args[1].id != "outputs" else env["outputs"]
            if not isinstance(h, Node):
                raise error("E220", "`dense` needs a layer as its first argument", e.args[0].span)
            if w != int(w) or w < 1 or w > 100_000:
                raise error("E221", "a layer width must be a whole number from 1 to 100000", e.args[1].span)
            init = e.kwarg("init")
            return G.add("dense", int(w), [h], e.span, fan_in=h.width, init=init.id if isinstance(init, A.Name) else "glorot")
        if f in ACTIVATIONS:
            if len(e.args) != 1:
                raise error("E131", f"`{f}` takes 1 argument", e.span)
            h = _value(e.args[0], env, G, arch)
            if not isinstance(h, Node):
                return float(MATH_FUNCS[f](h)) if f in MATH_FUNCS else _bad_scalar(e)
            return G.add("act", h.width, [h], e.span, fn=f)
        raise error("E108", f"unknown layer or function `{f}`", e.func_span or e.span,
                    hint=did_you_mean(f, ["dense"] + list(ACTIVATIONS)))
    raise error("E210", "this expression cannot appear in an architecture", e.span)


def _bad_scalar(e):
    raise error("E220", f"`{e.func}` needs a layer", e.span)


# ---- lowering the layer graph to JAX ------------------------------------------
def param_count(g: nx.DiGraph) -> int:
    n = 0
    for _, a in g.nodes(data=True):
        if a["op"] == "dense":
            n += a["fan_in"] * a["width"] + a["width"]
    return n


def make_init(g: nx.DiGraph, dtype):
    dense = [(n, a) for n, a in g.nodes(data=True) if a["op"] == "dense"]
    if param_count(g) > MAX_PARAMS:
        raise error("E222", f"the network has {param_count(g):,} parameters; the limit is {MAX_PARAMS:,}")

    def init(key):
        keys = jax.random.split(key, max(1, len(dense)))
        params = {}
        for k, (n, a) in zip(keys, dense):
            fi, fo = a["fan_in"], a["width"]
            if a["init"] == "he":
                std = math.sqrt(2.0 / fi)
            else:        # Glorot (Xavier) normal
                std = math.sqrt(2.0 / (fi + fo))
            params[n] = {"W": std * jax.random.normal(k, (fi, fo), dtype), "b": jnp.zeros((fo,), dtype)}
        return params
    return init


def make_apply(g: nx.DiGraph):
    order = list(nx.topological_sort(g))
    nodes = [(n, g.nodes[n]) for n in order]
    out_id = g.graph["output"]

    def apply(params, x):
        vals = {}
        for n, a in nodes:
            op, args = a["op"], [vals[i] for i in a["args"]]
            if op == "input":
                v = x
            elif op == "dense":
                v = args[0] @ params[n]["W"] + params[n]["b"]
            elif op == "act":
                v = ACTIVATIONS[a["fn"]](args[0])
            elif op == "add":
                v = args[0] + args[1]
            elif op == "sub":
                v = args[0] - args[1]
            elif op == "mul":
                v = args[0] * args[1]
            elif op == "div":
                v = args[0] / args[1]
            elif op == "scale":
                v = args[0] * a["factor"]
            elif op == "shift":
                v = args[0] + a["offset"]
            elif op == "power":
                p = a["exponent"]
                v = args[0] ** int(p) if p == int(p) else args[0] ** p
            elif op == "output":
                v = args[0]
            else:   # pragma: no cover - build_graph creates only the ops above
                raise AssertionError(op)
            vals[n] = v
        return vals[out_id]
    return apply
