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


@dataclass(frozen=True)
class Context:
    """What every sub-pass reads: the checked program, its symbols and models, the hard
    statements sorted by kind, and the parts the earlier passes built (`built`, by the
    `Hard` attribute they fill)."""
    checked: object
    S: object
    models: list
    values: list          # [(Condition, [Face or Piece])]: hard values and initial rates
    fluxes: list          # [(Condition, [Face])]: hard Neumann, Robin and curvature conditions
    periodic: list        # [(Condition, field, coord)]
    constraints: list     # hard `constraint` statements
    equations: list       # hard equations (divergence-free velocities)
    built: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Kind:
    """One hard-constraint kind: the `Hard` attribute it fills, its sub-pass (Context →
    part), the fields that part holds exactly as [(field, span of the statement)], and
    what to call it in a conflict."""
    attr: str
    build: object
    holds: object
    what: str


def _values(ctx):
    geo = getattr(ctx.checked, "geometry", None)
    if geo is not None and ctx.fluxes:
        raise error("E346", "a hard Neumann or Robin condition is supported on box faces only, not on a shaped domain",
                    ctx.fluxes[0][0].span, hint="remove `hard` to train it as a loss term")
    if geo is not None and any(f.coord is None for _, fs in ctx.values for f in fs):
        return distance.synthesize(ctx)      # distance functions of the boundary pieces
    return dirichlet.synthesize(ctx)


def _rows(layers):
    return [(f, r.span) for lay in layers for r in lay.rows for f in r.fields(lay.fields)]


# The order is the order of construction, and each later pass may read what the earlier
# built: values first (periodic embeddings check that hard data is periodic, E328; the
# flux layer wraps the value rewrite, u = V + ψ·c with V = g + φ·N, and checks their data
# agree where faces meet); embeddings act on the inputs, so they compose with every
# output-side layer and hold no field here.
KINDS = [
    Kind("rewrites", _values, lambda rws: [(f, rw.sources[0].span) for f, rw in rws.items()], "hard condition"),
    Kind("embeddings", periodic.synthesize, lambda embs: [], "periodic embedding"),
    Kind("layers", projection.synthesize, _rows, "hard constraint"),
    Kind("streams", stream.synthesize, lambda sts: [(f, st.source.span) for st in sts.values() for f in st.fields],
         "stream function"),
    Kind("fluxes", neumann.synthesize, lambda fls: [(f, fl.sources[0].span) for f, fl in fls.items()],
         "hard derivative condition"),
]
# pairs of kinds whose layers compose on one field (the second wraps the first); a field
# held by any other pair is E331
COMPOSE = {("rewrites", "fluxes")}


def synthesize(checked, S, models) -> Hard:
    """The hard plan of a checked program: each kind's sub-pass in `KINDS` order, then one
    generic check that no field is held by two kinds that do not compose."""
    hard = [(c, faces) for c, faces in checked.conditions if c.hard is not None]
    flux = [neumann.is_flux(c, S, checked) for c, _ in hard]
    ctx = Context(checked, S, models,
                  values=[cf for cf, fl in zip(hard, flux) if not fl], fluxes=[cf for cf, fl in zip(hard, flux) if fl],
                  periodic=[(c, f, x) for c, f, x in checked.periodic if c.hard is not None],
                  constraints=[s for s in checked.constraints if s.hard is not None],
                  equations=[e for e in checked.equations if e.hard is not None])
    for kind in KINDS:
        ctx.built[kind.attr] = kind.build(ctx)
    _check_conflicts(ctx.built)
    h = Hard(**ctx.built)
    h.consumed = {id(s) for s, *_ in ctx.values + ctx.fluxes + ctx.periodic} | \
                 {id(s) for s in ctx.constraints + ctx.equations}
    return h


def _check_conflicts(built):
    """E331 for a field held by two kinds outside COMPOSE: the later statement in the file
    is the error, the earlier one its related note."""
    seen = {}                                   # field -> [(kind, span)]
    for kind in KINDS:
        for f, span in kind.holds(built[kind.attr]):
            for other, ospan in seen.get(f, []):
                if other.attr == kind.attr or (other.attr, kind.attr) in COMPOSE:
                    continue
                (a, sa), (b, sb) = sorted([(other, ospan), (kind, span)], key=lambda ks: _where(ks[1]))
                raise error("E331", f"`{f}` is held by a {a.what} and by a {b.what}; only one layer can hold it exactly",
                            sb, related=[(sa, f"the {a.what}")], hint="remove `hard` from one of them")
            seen.setdefault(f, []).append((kind, span))


def _where(span):
    return (span.line, span.col) if span is not None else (math.inf, math.inf)
