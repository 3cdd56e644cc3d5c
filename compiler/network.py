"""Architectures: the body of an `architecture` is unrolled into a networkx layer
graph (typed nodes with widths and spans), simplified by two passes (constant folding,
fusion of elementwise chains), then lowered to pure JAX `init`/`apply`.

Every width is known while unrolling, so a shape mismatch is an E2xx diagnostic
pointing at the user's text, never a JAX error."""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import networkx as nx
from jax import lax

from pdeforge.dsl import ast as A
from pdeforge.dsl.vocabulary import CONSTANTS, FUNCTIONS
from pdeforge.dsl.diagnostics import PdeError, did_you_mean, error

def _softplus(x):
    # log(1 + e^x) in a stable form built from primitives that Taylor-mode (jet) knows;
    # jax.nn.softplus is a custom_jvp, which jet cannot carry
    return jnp.log1p(jnp.exp(-jnp.abs(x))) + jnp.maximum(x, jnp.zeros_like(x))


ACTIVATIONS = {
    "tanh": jnp.tanh, "sin": jnp.sin, "cos": jnp.cos, "exp": jnp.exp, "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu, "gelu": jax.nn.gelu, "swish": jax.nn.swish, "silu": jax.nn.silu,
    "softplus": _softplus, "identity": lambda x: x, "abs": jnp.abs, "sqrt": jnp.sqrt,
    "log": jnp.log, "sinh": jnp.sinh, "cosh": jnp.cosh,
}
# `dense(h, n, init = NAME)` or `init = siren(w0)`; weights are (fan_in, fan_out)
INITS = ("glorot", "he", "lecun", "zeros", "siren_first", "siren")
# layers built into the sub-language (architectures and activations come from the library)
LAYERS = ("dense", "fourier", "periodic", "gaussian_features", "scalar", "concat", "split",
          "sandwich_dense", "lipschitz_dense", "kan_layer", "group_sum", "bias", "width_of")
ELEMENTWISE = {"act", "add", "sub", "mul", "div", "scale", "shift", "power"}
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

    def add(self, op, width, args=(), span=None, **attrs):
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
    def __init__(self, G, archs):
        self.G, self.archs, self.depth = G, archs, 0

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
            if e.id in ACTIVATIONS or e.id in self.archs or e.id in LAYERS:
                raise error("E217", f"`{e.id}` is a function; call it, as in `{e.id}(h)`", e.span)
            where = f" in `{arch.name}`" if arch else ""
            if arch is not None and arch.kind == "activation":
                default = f"an activation may use its parameters ({', '.join(p.name for p in arch.params)}), numbers, `pi` and `e`"
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
        if f in LAYERS:
            return getattr(self, "l_" + f)(e, env, arch)
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
            self._layer(h, e.args[0], f)
            return self.G.add("act", h.width, [h], e.span, fn=f)
        if f in self.archs:
            sub = self.archs[f]
            if not e.args:
                raise error("E131", f"`{f}` needs its input first, as in `{f}(h)`", e.span)
            h = self.value(e.args[0], env, arch)
            if sub.kind == "activation" and isinstance(h, float):
                pass
            else:
                self._layer(h, e.args[0], f)
            n_out = int(env.get("outputs", 1))
            ok = e.kwarg("outputs")
            if ok is not None:
                n_out = self._width(ok, env, arch)
            return self.run(sub, h, n_out, e, env, caller=arch.origin if arch else None, caller_arch=arch)
        raise error("E108", f"unknown layer or function `{f}`", e.func_span or e.span,
                    hint=did_you_mean(f, list(LAYERS) + list(ACTIVATIONS) + list(self.archs)))

    def _layer(self, h, e, f):
        if not isinstance(h, Node):
            what = "several layers (from `split`)" if isinstance(h, list) else "a number"
            raise error("E220", f"`{f}` needs a layer here, not {what}", e.span)
        return h

    def _width(self, e, env, arch):
        w = self.value(e, env, arch)
        if not isinstance(w, float) or w != int(w) or w < 1 or w > MAX_WIDTH:
            raise error("E221", f"a layer width must be a whole number from 1 to {MAX_WIDTH}", e.span)
        return int(w)

    def _args(self, e, lo, hi, form, kw=()):
        if not lo <= len(e.args) <= hi:
            raise error("E131", f"`{e.func}` takes {form}", e.span)
        for k in e.kwargs:
            if k.name not in kw:
                raise error("E130", f"`{e.func}` has no option `{k.name}`", k.span,
                            hint=did_you_mean(k.name, kw) or (f"its options: {', '.join(kw)}" if kw else None))

    def _opt(self, e, name, env, default):
        v = e.kwarg(name)
        return default if v is None else self.scalar(v, env)

    def l_dense(self, e, env, arch):
        self._args(e, 2, 2, "a layer and a width: `dense(h, 32)`", ("init", "rwf", "rwf_std", "sign", "bias"))
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "dense")
        w = self._width(e.args[1], env, arch)
        init, omega = self._init(e.kwarg("init"), env)
        attrs = dict(fan_in=h.width, init=init, omega=omega)
        rwf = e.kwarg("rwf")
        if rwf is not None:   # random weight factorisation W = V diag(exp(s)), s ~ N(mean, std)
            attrs.update(rwf=self.scalar(rwf, env), rwf_std=self._opt(e, "rwf_std", env, 0.1))
        if e.kwarg("sign") is not None:   # sign-constrained rows: +1 → |W|, -1 → -|W|, 0 → W
            s = self.value(e.kwarg("sign"), env, arch)
            s = (s,) * h.width if isinstance(s, float) else s
            if not isinstance(s, tuple) or len(s) != h.width or any(v not in (-1.0, 0.0, 1.0) for v in s):
                raise error("E227", f"`sign` must be -1, 0 or 1, or a tuple of {h.width} of them (one per input)",
                            e.kwarg("sign").span)
            attrs["sign"] = tuple(s)
        if e.kwarg("bias") is not None:
            attrs["bias"] = bool(self.scalar(e.kwarg("bias"), env))
        return self.G.add("dense", w, [h], e.span, **attrs)

    def _init(self, e, env):
        if e is None:
            return "glorot", None
        if isinstance(e, A.Name) and e.id in INITS and e.id != "siren":
            return e.id, None
        if isinstance(e, A.Call) and e.func == "siren" and len(e.args) == 1 and not e.kwargs:
            w0 = self.scalar(e.args[0], env)
            if not w0 > 0:
                raise error("E228", "SIREN's w0 must be positive", e.args[0].span)
            return "siren", w0
        raise error("E228", "unknown initialiser", e.span,
                    hint="use glorot, he, lecun, zeros, siren_first or siren(w0)")

    def l_fourier(self, e, env, arch):
        self._args(e, 3, 3, "a layer, a number of features and a scale: `fourier(inputs, 64, 1.0)`")
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "fourier")
        m = self._width(e.args[1], env, arch)
        sigma = self.scalar(e.args[2], env)
        return self.G.add("fourier", 2 * m, [h], e.span, fan_in=h.width, features=m, sigma=sigma)

    def l_gaussian_features(self, e, env, arch):
        self._args(e, 3, 3, "a layer, a number of centres and a width: `gaussian_features(inputs, 64, 0.2)`")
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "gaussian_features")
        m = self._width(e.args[1], env, arch)
        sigma = self.scalar(e.args[2], env)
        if sigma <= 0:
            raise error("E229", "the Gaussian width must be positive", e.args[2].span)
        return self.G.add("gaussian", m, [h], e.span, fan_in=h.width, sigma=sigma)

    def l_periodic(self, e, env, arch):
        self._args(e, 3, 3, "a layer, a period and a number of harmonics: `periodic(x, 2, 4)`")
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "periodic")
        period = self.scalar(e.args[1], env)
        if period <= 0:
            raise error("E229", "the period must be positive", e.args[1].span)
        k = self._width(e.args[2], env, arch)
        return self.G.add("periodic", 2 * k * h.width, [h], e.span, period=period, harmonics=k)

    def l_scalar(self, e, env, arch):
        self._args(e, 0, 1, "its initial value: `scalar(0)`")
        v = self.scalar(e.args[0], env) if e.args else 0.0
        return self.G.add("scalar", 1, [], e.span, value=v)

    def l_concat(self, e, env, arch):
        self._args(e, 1, 1000, "layers: `concat(a, b)`")
        parts = []
        for a in e.args:
            v = self.value(a, env, arch)
            parts += v if isinstance(v, list) else [self._layer(v, a, "concat")]
        return self.G.add("concat", sum(p.width for p in parts), parts, e.span)

    def l_split(self, e, env, arch):
        self._args(e, 1, 1000, "a layer, then a number of equal parts or the part widths: `split(h, 2)`, `split(h, 1, 3)`")
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "split")
        rest = [self._width(a, env, arch) for a in e.args[1:]]
        if len(rest) <= 1:
            n = rest[0] if rest else h.width
            if h.width % n:
                raise error("E218", f"width {h.width} does not split into {n} equal parts", e.span)
            sizes = [h.width // n] * n
        else:
            sizes = rest
        if sum(sizes) != h.width:
            raise error("E218", f"parts of widths {', '.join(map(str, sizes))} add up to {sum(sizes)}, not {h.width}", e.span)
        out, start = [], 0
        for s in sizes:
            out.append(self.G.add("slice", s, [h], e.span, start=start, stop=start + s))
            start += s
        return out

    def l_sandwich_dense(self, e, env, arch):
        self._args(e, 2, 2, "a layer and a width: `sandwich_dense(h, 64, scale = 1, activation = relu)`",
                   ("scale", "activation"))
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "sandwich_dense")
        w = self._width(e.args[1], env, arch)
        act = e.kwarg("activation")
        fn = self.argument(act, env, arch) if act is not None else Fn("relu")
        if not isinstance(fn, Fn) or fn.name not in ("relu", "tanh", "sigmoid", "softplus", "identity"):
            raise error("E228", "a sandwich layer needs an activation with slope in [0, 1]", act.span if act else e.span,
                        hint="relu, tanh, sigmoid or softplus")
        return self.G.add("sandwich", w, [h], e.span, fan_in=h.width, scale=self._opt(e, "scale", env, 1.0), fn=fn.name)

    def l_lipschitz_dense(self, e, env, arch):
        self._args(e, 2, 2, "a layer and a width: `lipschitz_dense(h, 1, scale = 1)`", ("scale",))
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "lipschitz_dense")
        w = self._width(e.args[1], env, arch)
        return self.G.add("lipschitz", w, [h], e.span, fan_in=h.width, scale=self._opt(e, "scale", env, 1.0))


    def l_width_of(self, e, env, arch):
        self._args(e, 1, 1, "a layer: `width_of(inputs)`")
        v = self.value(e.args[0], env, arch)
        return float(sum(p.width for p in v)) if isinstance(v, list) else float(self._layer(v, e.args[0], "width_of").width)

    def l_group_sum(self, e, env, arch):
        self._args(e, 2, 2, "a layer and a number of groups: `group_sum(h, outputs)`")
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "group_sum")
        n = self._width(e.args[1], env, arch)
        if h.width % n:
            raise error("E218", f"width {h.width} does not split into {n} equal groups", e.span)
        return self.G.add("group_sum", n, [h], e.span, groups=n)

    def l_bias(self, e, env, arch):
        self._args(e, 1, 1, "a layer: `bias(h)`")
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "bias")
        return self.G.add("bias", h.width, [h], e.span)

    def l_kan_layer(self, e, env, arch):
        self._args(e, 2, 2, "a layer and a width: `kan_layer(h, 16, grid = 5, order = 3)`", ("grid", "order"))
        h = self._layer(self.value(e.args[0], env, arch), e.args[0], "kan_layer")
        w = self._width(e.args[1], env, arch)
        grid, order = self._opt(e, "grid", env, 5.0), self._opt(e, "order", env, 3.0)
        if grid != int(grid) or not 1 <= grid <= 1000 or order != int(order) or not 0 <= order <= 10:
            raise error("E229", "`grid` must be a whole number from 1 to 1000 and `order` one from 0 to 10", e.span)
        return self.G.add("kan", w, [h], e.span, fan_in=h.width, grid=int(grid), order=int(order))


# ---- passes over the layer graph ------------------------------------------------
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
    order = list(nx.topological_sort(g))
    done, groups = set(), []
    for n in reversed(order):
        if n in done or g.nodes[n]["op"] not in ELEMENTWISE:
            continue
        members, stack = [n], [n]
        done.add(n)
        while stack:
            for a in g.nodes[stack.pop()]["args"]:
                if a not in done and g.nodes[a]["op"] in ELEMENTWISE and g.out_degree(a) == 1:
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
            steps.append((a["op"], {key: v for key, v in a.items() if key in ("fn", "factor", "offset", "exponent")}, refs))
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


# ---- parameters ----------------------------------------------------------------
def param_shapes(a) -> dict:
    """Trainable arrays of a node, name -> shape."""
    op = a["op"]
    if op == "dense":
        fi, fo = a["fan_in"], a["width"]
        shapes = {"V": (fi, fo), "s": (fo,)} if "rwf" in a else {"W": (fi, fo)}
        if a.get("bias", True):
            shapes["b"] = (fo,)
        return shapes
    if op == "scalar":
        return {"a": (1,)}
    if op == "sandwich":
        fi, fo = a["fan_in"], a["width"]
        return {"W": (fi + fo, fo), "alpha": (), "psi": (fo,), "b": (fo,)}
    if op == "lipschitz":
        fi, fo = a["fan_in"], a["width"]
        return {"W": (fi + fo, fo), "alpha": (), "b": (fo,)}
    if op == "kan":
        fi, fo = a["fan_in"], a["width"]
        return {"W": (fi, fo), "C": (fi, a["grid"] + a["order"], fo)}
    if op == "bias":
        return {"b": (a["width"],)}
    return {}


def fixed_shapes(a) -> dict:
    """Random but fixed (never trained) arrays of a node, name -> shape."""
    if a["op"] == "fourier":
        return {"B": (a["fan_in"], a["features"])}
    if a["op"] == "gaussian":
        return {"C": (a["width"], a["fan_in"])}
    return {}


def describe(a) -> str:
    """One line about a node, for `--emit graph`."""
    op = a["op"]
    if op == "dense":
        bits = [f"{a['fan_in']} -> {a['width']}", a.get("init", "glorot")]
        if "rwf" in a:
            bits.append(f"rwf N({a['rwf']:g}, {a['rwf_std']:g})")
        if "sign" in a:
            bits.append("sign " + ",".join(f"{s:+.0f}" for s in a["sign"]))
        return ", ".join(bits)
    if op == "act":
        return a["fn"]
    if op in ("scale", "shift", "power"):
        return {"scale": "× ", "shift": "+ ", "power": "^ "}[op] + f"{a.get('factor', a.get('offset', a.get('exponent'))):g}"
    if op == "fused":
        return " ∘ ".join(a["ops"])
    if op == "fourier":
        return f"{a['fan_in']} -> {a['features']} cos + sin, sigma {a['sigma']:g} (fixed)"
    if op == "gaussian":
        return f"{a['fan_in']} -> {a['width']} centres, sigma {a['sigma']:g} (fixed)"
    if op == "periodic":
        return f"period {a['period']:g}, {a['harmonics']} harmonics"
    if op == "scalar":
        return f"trainable, starts at {a['value']:g}"
    if op == "slice":
        return f"columns {a['start']}:{a['stop']}"
    if op == "group_sum":
        return f"sum of {a['groups']} groups"
    if op == "kan":
        return f"{a['fan_in']} -> {a['width']}, {a['grid']} intervals, order {a['order']}"
    if op in ("sandwich", "lipschitz"):
        return f"{a['fan_in']} -> {a['width']}, scale {a['scale']:g}" + (f", {a['fn']}" if op == "sandwich" else "")
    return ""


def param_count(g: nx.DiGraph) -> int:
    return sum(math.prod(s) for _, a in g.nodes(data=True) for s in param_shapes(a).values())


def fixed_count(g: nx.DiGraph) -> int:
    return sum(math.prod(s) for _, a in g.nodes(data=True) for s in fixed_shapes(a).values())


def _weights(key, a, fi, fo, dtype):
    init = a.get("init", "glorot")
    if init == "zeros":
        return jnp.zeros((fi, fo), dtype)
    if init == "siren_first":     # Sitzmann et al. 2020: U(-1/n, 1/n) for the first layer
        return jax.random.uniform(key, (fi, fo), dtype, -1.0 / fi, 1.0 / fi)
    if init == "siren":           # U(-sqrt(6/n)/w0, sqrt(6/n)/w0) for the layers after it
        r = math.sqrt(6.0 / fi) / a["omega"]
        return jax.random.uniform(key, (fi, fo), dtype, -r, r)
    std = {"he": math.sqrt(2.0 / fi), "lecun": math.sqrt(1.0 / fi)}.get(init, math.sqrt(2.0 / (fi + fo)))
    return std * jax.random.normal(key, (fi, fo), dtype)


def _init_node(key, a, dtype):
    op = a["op"]
    if op == "dense":
        fi, fo = a["fan_in"], a["width"]
        k1, k2 = jax.random.split(key)
        W = _weights(k1, a, fi, fo, dtype)
        p = {}
        if "rwf" in a:   # Wang et al. 2022, "Random weight factorization …"
            s = a["rwf"] + a["rwf_std"] * jax.random.normal(k2, (fo,), dtype)
            p.update(V=W / jnp.exp(s), s=s)
        else:
            p["W"] = W
        if a.get("bias", True):
            p["b"] = jnp.zeros((fo,), dtype)
        return p
    if op == "scalar":
        return {"a": jnp.full((1,), a["value"], dtype)}
    if op == "bias":
        return {"b": jnp.zeros((a["width"],), dtype)}
    if op in ("sandwich", "lipschitz"):
        fi, fo = a["fan_in"], a["width"]
        W = math.sqrt(2.0 / (fi + 2 * fo)) * jax.random.normal(key, (fi + fo, fo), dtype)
        p = {"W": W, "alpha": jnp.linalg.norm(W), "b": jnp.zeros((fo,), dtype)}
        if op == "sandwich":
            p["psi"] = jnp.zeros((fo,), dtype)
        return p
    if op == "kan":      # as efficient-kan: a base branch and small spline coefficients
        fi, fo = a["fan_in"], a["width"]
        k1, k2 = jax.random.split(key)
        return {"W": math.sqrt(2.0 / (fi + fo)) * jax.random.normal(k1, (fi, fo), dtype),
                "C": (0.1 / math.sqrt(fi)) * jax.random.normal(k2, (fi, a["grid"] + a["order"], fo), dtype)}
    if op == "fourier":
        return {"B": a["sigma"] * jax.random.normal(key, (a["fan_in"], a["features"]), dtype)}
    if op == "gaussian":    # centres in the scaled input box [-1, 1]^d
        return {"C": jax.random.uniform(key, (a["width"], a["fan_in"]), dtype, -1.0, 1.0)}
    return None


def make_init(g: nx.DiGraph, dtype):
    nodes = [(n, a) for n, a in g.nodes(data=True) if param_shapes(a) or fixed_shapes(a)]
    if param_count(g) > MAX_PARAMS:
        raise error("E222", f"the network has {param_count(g):,} parameters; the limit is {MAX_PARAMS:,}")

    def init(key):
        # one key per node, folded from its name: adding a layer of another kind does
        # not reshuffle the others' weights
        return {n: _init_node(jax.random.fold_in(key, zlib.crc32(n.encode()) & 0x7FFFFFFF), a, dtype) for n, a in nodes}
    return init


# ---- lowering the layer graph to JAX --------------------------------------------
def cayley(W):
    """Cayley transform of a tall (p+q, q) matrix to one with orthonormal columns
    (Trockman & Kolter 2021, as used by Wang & Manchester 2023)."""
    q = W.shape[1]
    U, V = W[:q], W[q:]
    I = jnp.eye(q, dtype=W.dtype)
    Am = U - U.T + V.T @ V
    M = jnp.linalg.inv(I + Am)
    return jnp.concatenate([M @ (I - Am), -2.0 * V @ M], axis=0)


def bspline_basis(x, grid: int, order: int):
    """B-spline basis of `order` on `grid` equal intervals of [-1, 1], extended by `order`
    knots each side (Cox–de Boor): (..., d) -> (..., d, grid + order)."""
    h = 2.0 / grid
    t = jnp.asarray([-1.0 + h * i for i in range(-order, grid + order + 1)], x.dtype)
    x = x[..., None]
    B = ((x >= t[:-1]) & (x < t[1:])).astype(x.dtype)
    for k in range(1, order + 1):
        B = ((x - t[:-(k + 1)]) / (t[k:-1] - t[:-(k + 1)]) * B[..., :-1]
             + (t[k + 1:] - x) / (t[k + 1:] - t[1:-k]) * B[..., 1:])
    return B


def _elementwise(op, a, args):
    if op == "act":
        return ACTIVATIONS[a["fn"]](args[0])
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "div":
        return args[0] / args[1]
    if op == "scale":
        return args[0] * a["factor"]
    if op == "shift":
        return args[0] + a["offset"]
    p = a["exponent"]
    return lax.integer_pow(args[0], int(p)) if p == int(p) else args[0] ** p


def _apply_node(op, a, p, args):
    if op == "dense":
        W = p["V"] * jnp.exp(p["s"]) if "s" in p else p["W"]
        if "sign" in a:
            s = jnp.asarray(a["sign"], W.dtype)[:, None]
            W = jnp.where(s == 0, W, s * jnp.abs(W))
        y = args[0] @ W
        return y + p["b"] if "b" in p else y
    if op in ELEMENTWISE:
        return _elementwise(op, a, args)
    if op == "fused":
        t = []
        for sop, sa, refs in a["steps"]:
            t.append(_elementwise(sop, sa, [args[i] if k == "in" else t[i] for k, i in refs]))
        return t[-1]
    if op == "scalar":
        return p["a"]
    if op == "fourier":
        z = args[0] @ lax.stop_gradient(p["B"])
        return jnp.concatenate([jnp.cos(z), jnp.sin(z)], axis=-1)
    if op == "gaussian":
        C = lax.stop_gradient(p["C"])
        d2 = jnp.sum((args[0][..., None, :] - C) ** 2, axis=-1)
        return jnp.exp(-d2 / (2.0 * a["sigma"] ** 2))
    if op == "periodic":
        k = jnp.arange(1, a["harmonics"] + 1, dtype=args[0].dtype)
        z = (2.0 * math.pi / a["period"]) * args[0][..., :, None] * k          # (..., d, k)
        z = jnp.concatenate([jnp.cos(z), jnp.sin(z)], axis=-1)
        return z.reshape(z.shape[:-2] + (-1,))
    if op in ("sandwich", "lipschitz"):   # Wang & Manchester 2023, sandwich and linear layers
        fo = a["width"]
        Q = cayley(p["alpha"] * p["W"] / jnp.linalg.norm(p["W"]))
        x = (a["scale"] * args[0]) @ Q[fo:]
        if op == "lipschitz":
            return x + p["b"]
        x = math.sqrt(2.0) * x * jnp.exp(-p["psi"]) + p["b"]
        x = ACTIVATIONS[a["fn"]](x) * jnp.exp(p["psi"])
        return math.sqrt(2.0) * x @ Q[:fo].T
    if op == "kan":       # Liu et al. 2024: y_j = Σ_i w_ij silu(x_i) + Σ_i spline_ij(x_i)
        B = bspline_basis(args[0], a["grid"], a["order"])
        return jax.nn.silu(args[0]) @ p["W"] + jnp.einsum("...ik,iko->...o", B, p["C"])
    if op == "group_sum":    # (..., n·k) -> (..., n): sum each run of k consecutive columns
        h = args[0]
        return h.reshape(h.shape[:-1] + (a["groups"], -1)).sum(-1)
    if op == "bias":
        return args[0] + p["b"]
    if op == "concat":
        return jnp.concatenate(args, axis=-1)
    if op == "slice":
        return args[0][..., a["start"]:a["stop"]]
    raise AssertionError(op)   # pragma: no cover - build_graph creates only the ops above


def make_apply(g: nx.DiGraph):
    order = list(nx.topological_sort(g))
    nodes = [(n, g.nodes[n]["op"], g.nodes[n], g.nodes[n]["args"]) for n in order]
    in_id, out_id = g.graph["input"], g.graph["output"]

    def apply(params, x):
        vals = {in_id: x}
        for n, op, a, args in nodes:
            if op == "input":
                continue
            if op == "output":    # broadcast: a network may end in a layer that ignores x
                return jnp.broadcast_to(vals[args[0]], x.shape[:-1] + (a["width"],))
            vals[n] = _apply_node(op, a, params.get(n), [vals[i] for i in args])
        return vals[out_id]
    return apply
