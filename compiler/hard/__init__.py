"""Hard constraints: statements marked `hard` become parts of the model instead of
loss terms, so they hold at every point by construction.

- `dirichlet`: values on box faces and the initial rate, u = g + φ·N;
- `distance`: values on the boundary pieces of shaped domains, with R-function distances;
- `periodic`: periodic input embeddings;
- `projection`: algebraic constraints on outputs (projection, bounds, simplex);
- `neumann`: Neumann, Robin and curvature conditions on box faces, u = V + ψ·c;
- `stream`: divergence-free 2-D velocities from a stream function.

`synthesize` builds the symbolic plan (`Hard`, kept in the IR); `Hard.embed` and
`Hard.wrap` turn a model's network into the constrained function of the coordinates
that the derivative engine differentiates — so residuals see the rewritten fields."""
from __future__ import annotations

from dataclasses import dataclass, field

import math

import jax
import jax.numpy as jnp
import sympy as sp
from jax.experimental import jet

from pdeforge.dsl.diagnostics import error
from . import dirichlet, distance, neumann, periodic, projection, stream


@dataclass
class Hard:
    rewrites: dict = field(default_factory=dict)     # field -> dirichlet.Rewrite
    embeddings: dict = field(default_factory=dict)   # model name -> [periodic.Embedding]
    layers: list = field(default_factory=list)       # [projection.Layer]
    streams: dict = field(default_factory=dict)      # model name -> stream.Stream
    fluxes: dict = field(default_factory=dict)       # field -> neumann.Flux
    consumed: set = field(default_factory=set)       # id() of the statements built in

    def __bool__(self):
        return bool(self.rewrites or self.embeddings or self.layers or self.streams or self.fluxes)

    def holds(self, stmt) -> bool:
        return id(stmt) in self.consumed

    # ---- lowering hooks (called by compiler/lower.py)
    def input_width(self, m) -> int:
        embs = self.embeddings.get(m.name, [])
        return len(m.inputs) + sum(2 * e.modes - 1 for e in embs)

    def output_width(self, m) -> int:
        st = self.streams.get(m.name)
        return len(st.outputs(m)) if st else len(m.fields)

    def embed(self, m, X, Z):
        """Network inputs: the scaled coordinates Z (columns in m.inputs order), with each
        periodic coordinate replaced by its cos/sin features computed from X (problem order)."""
        embs = self.embeddings.get(m.name)
        if not embs:
            return Z
        periodic_cols = {m.inputs.index(e.coord) for e in embs}
        keep = [Z[..., j:j + 1] for j in range(Z.shape[-1]) if j not in periodic_cols]
        return jnp.concatenate(keep + [e.features(X) for e in embs], axis=-1)

    def wrap(self, m, net, coord_env, to_jax):
        """F(X) = transform(X, net(X)) for model m; `coord_env(X)` gives the sympy env."""
        rws = [(j, self.rewrites[f]) for j, f in enumerate(m.fields) if f in self.rewrites]
        lays = [l for l in self.layers if l.model == m.name]
        if m.name in self.streams:
            net = self.streams[m.name].wrap(m, net)
        fls = [(j, self.fluxes[f]) for j, f in enumerate(m.fields) if f in self.fluxes]
        if not rws and not lays and not fls:
            return net

        def taylor(j):
            """[V, ∂V, …, ∂ᵏV] along e at face points, V the field before its flux layer. When
            V = g + φ·N with φ = 0 on the face, ∂ⁿV = ∂ⁿg + Σ_{i≥1} C(n,i) ∂ⁱφ ∂ⁿ⁻ⁱN needs N only
            to order k − 1: the curvature layer costs one jvp of the network, not a second-order tower."""
            rw = self.rewrites.get(m.fields[j])
            col = lambda Xp: net(Xp)[..., j]

            def at(face, Xa, e, k):
                if rw is None:
                    return _series(col, Xa, e, k)
                if not rw.vanishes_on(face.coord, face.side):      # a box rewrite: fluxes on shapes are E346
                    return _series(lambda Xp: rw.jax(Xp, col(Xp), coord_env(Xp), to_jax), Xa, e, k)
                gs, ps = (_series(lambda Xp, i=i: rw.parts(Xp, coord_env(Xp), to_jax)[i], Xa, e, k) for i in (0, 1))
                ns = _series(col, Xa, e, k - 1)
                return [gs[n] + sum(math.comb(n, i) * ps[i] * ns[n - i] for i in range(1, n + 1)) for n in range(k + 1)]
            return at

        def F(X):
            Y = net(X)
            env = coord_env(X)
            if rws or fls:
                cols = [Y[..., j] for j in range(Y.shape[-1])]
                for j, rw in rws:
                    cols[j] = rw.jax(X, cols[j], env, to_jax)
                for j, fl in fls:
                    cols[j] = fl.jax(X, cols[j], taylor(j), env, to_jax)
                Y = jnp.stack(cols, axis=-1)
            for lay in lays:
                Y = lay.jax(X, Y, env, to_jax)
            return Y
        return F

    # ---- for --emit ir
    def describe(self, S) -> list[str]:
        out = []
        for f, rw in self.rewrites.items():
            if f in self.fluxes:
                continue
            u = S.field[f]
            N = sp.Function(f"N_{f}")(*u.args)
            out.append(f"  {u} = {rw.g + rw.phi * N}")
            out.append(f"      (from {', '.join(_name(s) for s in rw.sources)}: g = {rw.g}, phi = {rw.phi})")
        for f, fl in self.fluxes.items():
            out += fl.describe(S, self.rewrites.get(f))
        for mname, embs in self.embeddings.items():
            for e in embs:
                out.append(f"  model {mname} input {e.describe()}  (periodic in {e.coord}: {', '.join(e.fields)})")
        for st in self.streams.values():
            out += st.describe(S)
        for lay in self.layers:
            out.append(f"  model {lay.model} output {lay.kind} layer (from {', '.join(_name(s) for s in lay.sources)}):")
            out += ["    " + s for s in lay.describe()]
        return out


def _series(fn, Y, e, k):
    """[fn, ∂fn, …, ∂ᵏfn] at Y along e (forward mode: a jvp, or a jet tower for k ≥ 2)."""
    if k == 0:
        return [fn(Y)]
    if k == 1:
        return list(jax.jvp(fn, (Y,), (e,)))
    v, s = jet.jet(fn, (Y,), ([e] + [jnp.zeros_like(Y)] * (k - 1),))
    return [v] + list(s)


def _name(stmt):
    return f"`{stmt.label}`" if getattr(stmt, "label", None) else f"line {stmt.span.line}" if stmt.span else "a statement"


def synthesize(checked, S, models) -> Hard:
    h = Hard()
    conds = [(c, faces) for c, faces in checked.conditions if c.hard is not None]
    fluxes = [(c, faces) for c, faces in conds if neumann.is_flux(c, S, checked)]
    conds = [(c, faces) for c, faces in conds if not neumann.is_flux(c, S, checked)]
    pers = [(c, f, x) for c, f, x in checked.periodic if c.hard is not None]
    cons = [s for s in checked.constraints if s.hard is not None]
    if getattr(checked, "geometry", None) is not None and fluxes:
        raise error("E346", "a hard Neumann or Robin condition is supported on box faces only, not on a shaped domain",
                    fluxes[0][0].span, hint="remove `hard` to train it as a loss term")
    if getattr(checked, "geometry", None) is not None and any(f.coord is None for _, fs in conds for f in fs):
        # a shaped domain: distance functions of its boundary pieces (distance.py)
        h.rewrites = distance.synthesize(checked, S, conds, dirichlet.classify)
    else:
        h.rewrites = dirichlet.synthesize(checked, S, conds)
    h.embeddings = periodic.synthesize(checked, pers, models)
    h.layers = projection.synthesize(cons, S, models, checked)
    eqs = [e for e in checked.equations if e.hard is not None]
    h.streams = stream.synthesize(checked, eqs, models)
    h.fluxes = neumann.synthesize(checked, S, fluxes, conds, pers)
    for f, fl in h.fluxes.items():
        src = fl.sources[0]
        st = next((st for st in h.streams.values() if f in st.fields), None)
        if st is not None:
            raise error("E331", f"`{f}` comes from a stream function, so it cannot also have a hard derivative condition",
                        src.span, related=[(st.source.span, "the stream function")], hint="remove `hard` from one of them")
        lay = next((l for l in h.layers if f in [g for r in l.rows for g in r.fields(l.fields)]), None)
        if lay is not None:
            raise error("E331", f"`{f}` has a hard derivative condition and a hard constraint; only one layer can hold it exactly",
                        src.span, related=[(lay.sources[0].span, "the hard constraint")], hint="remove `hard` from one of them")
    for c, _ in fluxes:
        h.consumed.add(id(c))
    for e in eqs:
        h.consumed.add(id(e))
    for st in h.streams.values():
        for f in st.fields:
            other = h.rewrites.get(f) or next((l for l in h.layers if f in [g for r in l.rows for g in r.fields(l.fields)]), None)
            if other is not None:
                src = other.sources[0]
                raise error("E331", f"`{f}` comes from a stream function, so it cannot also be held by another hard layer",
                            src.span, related=[(st.source.span, "the stream function")], hint="remove `hard` from one of them")
    for c, _ in conds:
        h.consumed.add(id(c))
    for c, _, _ in pers:
        h.consumed.add(id(c))
    for s in cons:
        h.consumed.add(id(s))
    # combinations that cannot both hold by construction
    for cond, f, x in pers:
        rw = h.rewrites.get(f)
        if rw is None:
            continue
        if any(ax.coord == x for ax in rw.axes):
            src = next(s for s in rw.sources)
            raise error("E328", f"`{f}` is periodic in `{x}` by construction, so it cannot also have hard values on the faces of `{x}`",
                        src.span, related=[(cond.span, "periodic here")], hint="remove one of the two")
        emb = next(e for es in h.embeddings.values() for e in es if f in e.fields and e.coord == x)
        periodic.check_rewrite_periodic(rw, emb, checked, S, checked.orders.get(f, {}).get(x, 1))
    for lay in h.layers:
        for r in lay.rows:
            for f in r.fields(lay.fields):
                if f in h.rewrites:
                    raise error("E331", f"`{f}` has a hard condition and a hard constraint; only one layer can hold it exactly",
                                r.span, related=[(h.rewrites[f].sources[0].span, "the hard condition")],
                                hint="remove `hard` from one of them")
    return h
