"""Building a layer graph from an architecture: `build_graph` unrolls the body of an
`architecture` called with the model line's arguments (`_Builder`: parameters bound,
`repeat` unrolled, numbers folded at once, layers added as nodes), then runs the graph
passes. Every width is known while unrolling, so a shape mismatch is an E2xx diagnostic
pointing at the user's text, never a JAX error. The layers an architecture may call come
from the registry (`layers.surfaces()`): each kind's `build` checks its own arguments."""
from __future__ import annotations

import jax.numpy as jnp
import networkx as nx

from pdeforge.dsl import ast as A
from pdeforge.dsl.diagnostics import PdeError, did_you_mean, error
from pdeforge.dsl.vocabulary import CONSTANTS, FUNCTIONS

from .graph import MAX_DEPTH, MAX_PARAMS, MAX_REPEAT, MAX_WIDTH, Fn, Graph, Node
from .layers import ACTIVATIONS, param_count, surfaces
from .passes import fold_constants, fuse_elementwise

__all__ = ["build_graph"]


def build_graph(arch: A.Architecture, call: A.Call, n_in: int, n_out: int, archs=None, file=None, source=None,
                optimise: bool = True, consts=None) -> nx.DiGraph:
    """Unroll `arch` called with `call`'s arguments into a layer graph; `archs` holds the
    architectures and activations the body may call (the checked program's), `consts`
    the program's constants, which the model line's arguments may use."""
    archs = dict(archs or {})
    archs.setdefault(arch.name, arch)
    if arch.kind == "activation":
        raise error("E223", f"`{arch.name}` is an activation, not an architecture", call.func_span or call.span,
                    hint=f"pass it to one: `mlp(activation = {arch.name})`")
    G = Graph(arch.name)
    b = _Builder(G, archs)
    inp = G.add("input", n_in)
    out = b.run(arch, inp, n_out, call, {k: float(v) for k, v in (consts or {}).items()}, top=True, caller=file)
    if not isinstance(out, Node):
        raise error("E214", f"architecture `{arch.name}` must return a layer, not a number", _ret_span(arch))
    if out.width != n_out:
        raise error("E215", f"architecture `{arch.name}` returns width {out.width}, but the model has {n_out} output(s)",
                    _ret_span(arch), hint="end with `return dense(h, outputs)`")
    o = G.add("output", n_out, [out])
    G.g.graph.update(output=o.id, input=inp.id)
    if optimise:
        fold_constants(G.g)
        fuse_elementwise(G.g)
    if param_count(G.g) > MAX_PARAMS:
        raise error("E222", f"the network has {param_count(G.g):,} parameters; the limit is {MAX_PARAMS:,}", call.span)
    return G.g


def _ret_span(arch):
    rets = [s for s in arch.body if isinstance(s, A.Return)]
    return (rets[-1] if rets else arch).span


class _Builder:
    """Unrolls architecture bodies into a `Graph`. The layer kinds' `build` functions
    call the public methods below (`args`, `layer`, `width`, `scalar`, `opt`, `value`,
    `argument`, `add`)."""

    def __init__(self, G, archs):
        self.G, self.archs, self.depth = G, archs, 0
        self.layers = surfaces()      # read once per build: name -> Kind

    # ---- calling an architecture or activation: bind parameters, run the body
    def run(self, arch, inp, n_out, call, caller_env, top=False, caller=None, caller_arch=None):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise error("E224", f"architectures call each other more than {MAX_DEPTH} deep", call.span,
                        hint="an architecture may not call itself")
        params = arch.params if top else arch.params[(1 if arch.kind == "activation" else 0):]
        env = {}
        given = {k.name: (k.value, caller_env) for k in call.kwargs if k.name != "outputs"}
        pos = list(call.args) if top else list(call.args[1:])
        if len(pos) > len(params):
            raise error("E131", f"`{arch.name}` takes {len(params)} parameter(s) besides its input, {len(pos)} given", call.span)
        for p, a in zip(params, pos):
            given[p.name] = (a, caller_env)
        names = [p.name for p in params]
        for k in call.kwargs:
            if k.name not in names and k.name != "outputs":
                raise error("E130", f"`{arch.name}` has no parameter `{k.name}`", k.span,
                            hint=did_you_mean(k.name, names) or f"its parameters: {', '.join(names) or 'none'}")
        for p in params:
            src, scope = given.get(p.name, (p.default, env))
            if src is None:
                raise error("E132", f"`{arch.name}` needs a value for `{p.name}`", call.span,
                            hint=f"write `{arch.name}({p.name} = ...)`")
            env[p.name] = self.argument(src, scope, arch)
        try:
            if arch.kind == "activation":
                env[arch.params[0].name] = inp
                out = self.value(arch.body[0].value, env, arch)
            else:
                env["inputs"], env["outputs"] = inp, float(n_out)
                out = self.body(arch.body, env, arch)
                if out is None:
                    raise error("E213", f"architecture `{arch.name}` has no `return`", arch.span)
        except PdeError as e:
            if arch.source and arch.origin != caller:
                for d in e.diagnostics:     # an error inside another file's architecture: show both places
                    if d.file is None:
                        d.file, d.source = arch.origin, arch.source
                        where = (caller_arch.origin, caller_arch.source) if caller_arch is not None else (None, None)
                        d.related.append((call.span, f"in this use of `{arch.name}`", *where))
            raise
        self.depth -= 1
        return out

    def argument(self, e, env, arch):
        """A parameter's value: a number, a tuple of numbers or a function name."""
        if isinstance(e, A.Name) and isinstance(env.get(e.id), Fn):
            return env[e.id]
        if isinstance(e, A.Name) and e.id not in env and e.id not in CONSTANTS:
            if e.id in ACTIVATIONS or e.id in self.archs:
                return Fn(e.id)
            raise error("E101", f"`{e.id}` is neither a number nor a known activation", e.span,
                        hint=did_you_mean(e.id, list(env) + list(ACTIVATIONS) + list(self.archs)))
        if isinstance(e, A.Tuple):
            return tuple(self.scalar(i, env) for i in e.items)
        v = self.value(e, env, arch)
        if isinstance(v, (Node, list)):
            raise error("E225", "an architecture parameter must be a number, a tuple of numbers or a function", e.span)
        return v

    def scalar(self, e, env):
        v = self.value(e, env, None)
        if not isinstance(v, float):
            raise error("E202", "expected a number", e.span)
        return v

    def body(self, stmts, env, arch):
        for s in stmts:
            if isinstance(s, A.Assign):
                v = self.value(s.value, env, arch)
                names = s.names or [s.name]
                if len(names) > 1:
                    if not isinstance(v, list) or len(v) != len(names):
                        got = f"{len(v)} parts" if isinstance(v, list) else "one value"
                        raise error("E226", f"{len(names)} names on the left but {got} on the right", s.span,
                                    hint=f"`{', '.join(names)} = split(h, {len(names)})`")
                    env.update(zip(names, v))
                else:
                    env[names[0]] = v
            elif isinstance(s, A.Repeat):
                n = self.value(s.count, env, arch)
                if not isinstance(n, float) or n != int(n) or n < 0 or n > MAX_REPEAT:
                    raise error("E216", f"`repeat` count must be a whole number from 0 to {MAX_REPEAT}", s.count.span)
                for _ in range(int(n)):
                    r = self.body(s.body, env, arch)
                    if r is not None:
                        return r
            elif isinstance(s, A.Return):
                return self.value(s.value, env, arch)
        return None

    # ---- expressions: numbers fold at once, layers become graph nodes
    def value(self, e, env, arch):
        G = self.G
        if isinstance(e, A.Num):
            return float(e.value)
        if isinstance(e, A.Name):
            if e.id in env:
                v = env[e.id]
                if isinstance(v, Fn):
                    raise error("E217", f"`{e.id}` names a function; call it, as in `{e.id}(h)`", e.span)
                return v
            if e.id in CONSTANTS:
                return CONSTANTS[e.id]
            if e.id in ACTIVATIONS or e.id in self.archs or e.id in self.layers:
                raise error("E217", f"`{e.id}` is a function; call it, as in `{e.id}(h)`", e.span)
            where = f" in `{arch.name}`" if arch else ""
            if arch is not None and arch.kind == "activation":
                default = (f"an activation may use its parameters ({', '.join(p.name for p in arch.params)}), "
                           "numbers, `pi` and `e`")
            else:
                default = "assign it first, as in `h = inputs`"
            raise error("E101", f"`{e.id}` is not defined{where}", e.span, hint=did_you_mean(e.id, list(env)) or default)
        if isinstance(e, A.Neg):
            v = self.value(e.operand, env, arch)
            return self._num(v, e) if not isinstance(v, Node) else G.add("scale", v.width, [v], e.span, factor=-1.0)
        if isinstance(e, A.BinOp):
            return self.binop(e, self.value(e.left, env, arch), self.value(e.right, env, arch))
        if isinstance(e, A.Tuple):
            return tuple(self.scalar(i, env) for i in e.items)
        if isinstance(e, A.Call):
            return self.call(e, env, arch)
        raise error("E210", "this expression cannot appear in an architecture", e.span)

    def _num(self, v, e):
        if isinstance(v, float):
            return -v
        raise error("E220", "expected a number or a layer", e.span)

    def binop(self, e, a, b):
        G, op = self.G, e.op
        for v, side in ((a, e.left), (b, e.right)):
            if not isinstance(v, (Node, float)):
                raise error("E220", "expected a number or a layer", side.span)
        if isinstance(a, float) and isinstance(b, float):
            try:
                return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                        "/": lambda: a / b, "^": lambda: float(a ** b)}[op]()
            except (ZeroDivisionError, OverflowError, TypeError) as ex:
                why = "the result is not a real number" if isinstance(ex, TypeError) else str(ex)
                raise error("E201", f"cannot evaluate this: {why}", e.span) from None
        if isinstance(a, Node) and isinstance(b, Node):
            if op == "^":
                raise error("E219", "`^` needs a number exponent", e.span)
            if a.width != b.width and 1 not in (a.width, b.width):
                raise error("E218", f"cannot combine widths {a.width} and {b.width} with `{op}`", e.span,
                            hint="both sides need the same width (or width 1, which is broadcast)")
            return G.add({"+": "add", "-": "sub", "*": "mul", "/": "div"}[op], max(a.width, b.width), [a, b], e.span)
        if isinstance(a, Node):                       # layer (op) number
            if op == "+":
                return G.add("shift", a.width, [a], e.span, offset=b)
            if op == "-":
                return G.add("shift", a.width, [a], e.span, offset=-b)
            if op == "*":
                return G.add("scale", a.width, [a], e.span, factor=b)
            if op == "/":
                if b == 0:
                    raise error("E201", "division by zero", e.right.span)
                return G.add("scale", a.width, [a], e.span, factor=1.0 / b)
            return G.add("power", a.width, [a], e.span, exponent=b)
        if op == "+":                                 # number (op) layer
            return G.add("shift", b.width, [b], e.span, offset=a)
        if op == "-":
            return G.add("shift", b.width, [G.add("scale", b.width, [b], e.span, factor=-1.0)], e.span, offset=a)
        if op == "*":
            return G.add("scale", b.width, [b], e.span, factor=a)
        if op == "/":
            return G.add("scale", b.width, [G.add("power", b.width, [b], e.span, exponent=-1.0)], e.span, factor=a)
        raise error("E219", "a layer cannot be an exponent", e.span)

    # ---- calls: built-in layers, activations, user activations, other architectures
    def call(self, e, env, arch):
        f = e.func
        if f in env and isinstance(env[f], Fn):
            f = env[f].name
        elif f in env:
            raise error("E217", f"`{f}` is a value, not a function", e.func_span or e.span)
        if f in self.layers:
            return self.layers[f].build(self, e, env, arch)
        if f in ACTIVATIONS:
            if len(e.args) != 1 or e.kwargs:
                raise error("E131", f"`{f}` takes 1 argument", e.span)
            h = self.value(e.args[0], env, arch)
            if isinstance(h, float):
                if f in FUNCTIONS:
                    try:
                        return float(FUNCTIONS[f].math(h))
                    except (ValueError, OverflowError) as ex:
                        raise error("E201", f"cannot evaluate `{f}({h:g})`: {ex}", e.span) from None
                return float(ACTIVATIONS[f](jnp.asarray(h, jnp.float32)))
            self.check_layer(h, e.args[0], f)
            return self.G.add("act", h.width, [h], e.span, fn=f)
        if f in self.archs:
            sub = self.archs[f]
            if not e.args:
                raise error("E131", f"`{f}` needs its input first, as in `{f}(h)`", e.span)
            h = self.value(e.args[0], env, arch)
            if sub.kind == "activation" and isinstance(h, float):
                pass
            else:
                self.check_layer(h, e.args[0], f)
            n_out = int(env.get("outputs", 1))
            ok = e.kwarg("outputs")
            if ok is not None:
                n_out = self.width(ok, env, arch)
            return self.run(sub, h, n_out, e, env, caller=arch.origin if arch else None, caller_arch=arch)
        raise error("E108", f"unknown layer or function `{f}`", e.func_span or e.span,
                    hint=did_you_mean(f, list(self.layers) + list(ACTIVATIONS) + list(self.archs)))

    # ---- what the kinds' `build` functions use
    def add(self, op, width, args=(), span=None, **attrs) -> Node:
        """Add a node (`Graph.add`)."""
        return self.G.add(op, width, args, span, **attrs)

    def check_layer(self, h, e, f):
        """`h` (the value of expression `e`, an argument of `f`) if it is a layer, else E220."""
        if not isinstance(h, Node):
            what = "several layers (from `split`)" if isinstance(h, list) else "a number"
            raise error("E220", f"`{f}` needs a layer here, not {what}", e.span)
        return h

    def layer(self, e, env, arch, f) -> Node:
        """The layer expression `e` (an argument of `f`) evaluates to."""
        return self.check_layer(self.value(e, env, arch), e, f)

    def width(self, e, env, arch) -> int:
        """A layer width: a whole number from 1 to MAX_WIDTH, else E221."""
        w = self.value(e, env, arch)
        if not isinstance(w, float) or w != int(w) or w < 1 or w > MAX_WIDTH:
            raise error("E221", f"a layer width must be a whole number from 1 to {MAX_WIDTH}", e.span)
        return int(w)

    def args(self, e, lo, hi, form, kw=()):
        """Check call `e` has lo..hi positional arguments (else E131, `form` showing the
        use) and no keyword outside `kw` (else E130)."""
        if not lo <= len(e.args) <= hi:
            raise error("E131", f"`{e.func}` takes {form}", e.span)
        for k in e.kwargs:
            if k.name not in kw:
                raise error("E130", f"`{e.func}` has no option `{k.name}`", k.span,
                            hint=did_you_mean(k.name, kw) or (f"its options: {', '.join(kw)}" if kw else None))

    def opt(self, e, name, env, default):
        """The number given for keyword `name` of call `e`, else `default`."""
        v = e.kwarg(name)
        return default if v is None else self.scalar(v, env)
