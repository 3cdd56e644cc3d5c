"""Kinds that route and combine layers: the graph's `input` and `output`, `concat`,
`split` (one `slice` node per part), `group_sum`, and the small trained pieces
`scalar` and `bias`; and `width_of`, a number while unrolling (it makes no node)."""
from __future__ import annotations

import jax.numpy as jnp

from pdeforge.dsl.diagnostics import error

from .registry import Kind, register

# the graph's source: `make_apply` seeds it with x, so it has no apply of its own
register(Kind("input"))
# the graph's sink; `make_apply` broadcasts its value to (..., width): a network may end
# in a layer that ignores x
register(Kind("output", lambda a, p, args: args[0]))


def _scalar_build(b, e, env, arch):
    b.args(e, 0, 1, "its initial value: `scalar(0)`")
    v = b.scalar(e.args[0], env) if e.args else 0.0
    return b.add("scalar", 1, [], e.span, value=v)


register(Kind("scalar", lambda a, p, args: p["a"], lambda a: {"a": (1,)},
              init=lambda key, a, dtype: {"a": jnp.full((1,), a["value"], dtype)},
              describe=lambda a: f"trainable, starts at {a['value']:g}", surface="scalar", build=_scalar_build))


def _bias_build(b, e, env, arch):
    b.args(e, 1, 1, "a layer: `bias(h)`")
    h = b.layer(e.args[0], env, arch, "bias")
    return b.add("bias", h.width, [h], e.span)


register(Kind("bias", lambda a, p, args: args[0] + p["b"], lambda a: {"b": (a["width"],)},
              init=lambda key, a, dtype: {"b": jnp.zeros((a["width"],), dtype)}, surface="bias", build=_bias_build))


def _concat_build(b, e, env, arch):
    b.args(e, 1, 1000, "layers: `concat(a, b)`")
    parts = []
    for a in e.args:
        v = b.value(a, env, arch)
        parts += v if isinstance(v, list) else [b.check_layer(v, a, "concat")]
    return b.add("concat", sum(p.width for p in parts), parts, e.span)


register(Kind("concat", lambda a, p, args: jnp.concatenate(args, axis=-1), surface="concat", build=_concat_build))


def _split_build(b, e, env, arch):
    b.args(e, 1, 1000, "a layer, then a number of equal parts or the part widths: `split(h, 2)`, `split(h, 1, 3)`")
    h = b.layer(e.args[0], env, arch, "split")
    rest = [b.width(a, env, arch) for a in e.args[1:]]
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
        out.append(b.add("slice", s, [h], e.span, start=start, stop=start + s))
        start += s
    return out


register(Kind("slice", lambda a, p, args: args[0][..., a["start"]:a["stop"]],
              describe=lambda a: f"columns {a['start']}:{a['stop']}", surface="split", build=_split_build))


def _group_sum_build(b, e, env, arch):
    b.args(e, 2, 2, "a layer and a number of groups: `group_sum(h, outputs)`")
    h = b.layer(e.args[0], env, arch, "group_sum")
    n = b.width(e.args[1], env, arch)
    if h.width % n:
        raise error("E218", f"width {h.width} does not split into {n} equal groups", e.span)
    return b.add("group_sum", n, [h], e.span, groups=n)


def _group_sum_apply(a, p, args):     # (..., n·k) -> (..., n): sum each run of k consecutive columns
    h = args[0]
    return h.reshape(h.shape[:-1] + (a["groups"], -1)).sum(-1)


register(Kind("group_sum", _group_sum_apply, describe=lambda a: f"sum of {a['groups']} groups",
              surface="group_sum", build=_group_sum_build))


def _width_of_build(b, e, env, arch):
    b.args(e, 1, 1, "a layer: `width_of(inputs)`")
    v = b.value(e.args[0], env, arch)
    return float(sum(p.width for p in v)) if isinstance(v, list) else float(b.check_layer(v, e.args[0], "width_of").width)


register(Kind("width_of", surface="width_of", build=_width_of_build))
