"""Lowering: the IR becomes pure JAX functions — init, field evaluation with
derivatives, residuals, and one loss covering every term (jit it once)."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from jax import lax

from pdeforge.dsl.diagnostics import PdeError, error
from pdeforge.dsl.vocabulary import FUNCTIONS
from . import network
from . import params as learned
from .derivatives import Plan, evaluate
from .symbolic import Lap, expand_lap, normal_symbols
from .ir import IR

__all__ = ["to_jax", "Lowered"]

# the language's math functions (dsl/vocabulary.py): sympy function -> jnp function
_FUNCS = {getattr(sp, f.sympy): getattr(jnp, f.jnp) for f in FUNCTIONS.values()}


def to_jax(expr, env: dict):
    """Evaluate a sympy expression with jnp; `env` maps Symbols to arrays or floats."""
    memo = {}

    def ev(e):
        if e in memo:
            return memo[e]
        if e in env:
            v = env[e]
        elif e.is_Number or e.is_NumberSymbol:
            v = float(e)
        elif e.is_Add and len(e.args) > 3:
            # a long sum as one dot: a chain of adds (or a reduce) is fused, whole, into every
            # consumer loop by XLA — e.g. Σ sin(π x_i / 2) over d = 100 recomputed per
            # element of the backward pass's (N, d, width) Jacobian tensors
            vals = [ev(a) for a in e.args]
            shape = jnp.broadcast_shapes(*[jnp.shape(x) for x in vals])
            stacked = jnp.stack([jnp.broadcast_to(jnp.asarray(x), shape) for x in vals], axis=-1)
            v = stacked @ jnp.ones((len(vals),), stacked.dtype)     # a dot is never fused into its consumers
        elif e.is_Add:
            v = ev(e.args[0])
            for a in e.args[1:]:
                v = v + ev(a)
        elif e.is_Mul:
            v = ev(e.args[0])
            for a in e.args[1:]:
                v = v * ev(a)
        elif e.is_Pow:
            b, p = e.args
            if p.is_Integer:
                n = int(p)
                v = lax.integer_pow(_arr(ev(b)), n) if n >= 0 else 1.0 / lax.integer_pow(_arr(ev(b)), -n)
            elif p == sp.Rational(1, 2):
                v = jnp.sqrt(ev(b))
            elif p == sp.Rational(-1, 2):
                v = 1.0 / jnp.sqrt(ev(b))
            else:
                v = jnp.power(ev(b), ev(p))
        elif e.func in _FUNCS:
            v = _FUNCS[e.func](ev(e.args[0]))
        else:
            raise error("E230", f"cannot lower `{e}` to JAX")
        memo[e] = v
        return v
    return ev(expr)


def _attribute(e: PdeError, arch, model, program):
    """An error inside an architecture defined in another file (the stdlib) is shown
    in that file, with a note at the model line that uses it."""
    if getattr(arch, "origin", None) in (None, program.file):
        return
    try:
        with open(arch.origin, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return
    # spans of the model line's own arguments are in the program's file, not the library's
    call = getattr(model, "call", None)
    own = {a.span for a in (call.args if call else [])} | {s for k in (call.kwargs if call else [])
                                                            for s in (k.span, k.value.span)}
    for d in e.diagnostics:
        if d.file is None and d.span is not None and d.span in own:
            continue
        if d.file is None:
            d.file, d.source = arch.origin, text
            d.hint = (d.hint + "; " if d.hint else "") + f"in architecture `{arch.name}`, used by the model at " \
                     f"{program.file}:{model.span.line}:{model.span.col}" if model.span else d.hint


def _keep_laps(expr):
    """Keep Lap(field) whole for the planner, expanding Laps of expressions and any Lap
    under a derivative (∂ of a Laplacian is planned as plain partial derivatives)."""
    expr = expand_lap(expr, keep_fields=True)
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.has(Lap),
                        lambda d: expand_lap(d.expr).diff(*d.variables))


def _stable_hash(name: str) -> int:
    return zlib.crc32(name.encode()) % (2**31 - 1)


def _arr(v):
    return jnp.asarray(v)


@dataclass
class _RegionCode:
    key: str
    kind: str
    coord_index: int | None
    value: float | None
    atoms: dict          # placeholder Symbol -> (field, multi-index)
    cse: list            # [(Symbol, expr)]
    outputs: list        # [(term index, expr)]
    plans: dict          # model name -> (Plan, {field -> output column})


def _pointwise_only(g, m):
    """A point-sampled problem's network maps one point at a time: a layer that mixes along
    a grid (`spectral`, `pad`, `crop`) would mix the batch of sample points instead."""
    for _, a in g.nodes(data=True):
        if network.KINDS[a["op"]].grid:
            raise error("E245", f"`{a['op']}` mixes values along a grid, but `{m.fields[0]}` is sampled at points",
                        m.span, hint="grid layers (an `fno`) belong to an operator: declare `grid`, an `input` and "
                                     f"`field {m.fields[0]}(...) given INPUT`; or use a pointwise architecture such as mlp")


class Lowered:
    """The lowered problem: pure functions over (params, points).

    `_net_in`, `_net_out` and `_extra_env` are hooks for what a subclass adds to the
    network's input and output and to the residuals' symbols (an operator's sensor
    values, compiler/operator_points.py)."""

    def __init__(self, ir: IR, dtype=jnp.float32):
        self.ir, self.dtype = ir, dtype
        self.coords = [c.name for c in ir.coords]
        self.D = len(self.coords)
        self.lo = np.array([c.lo for c in ir.coords])
        self.hi = np.array([c.hi for c in ir.coords])
        self.term_names = [t.name for t in ir.terms]
        chk = ir.checked
        self.graphs, self._apply, self._init = {}, {}, {}
        self.hard = ir.hard      # hard conditions/constraints: input embeddings and output layers
        for m in ir.models:
            arch = chk.architectures[m.arch]
            try:
                out_width = self.hard.output_width(m) if self.hard else len(m.fields)
                g = network.build_graph(arch, m.call, self._input_width(m), out_width, archs=chk.architectures,
                                        file=chk.program.file, consts=chk.consts)
            except PdeError as e:
                _attribute(e, arch, m, chk.program)
                raise
            _pointwise_only(g, m)       # at the model line, in the program's own file
            self.graphs[m.name] = g
            self._init[m.name] = network.make_init(g, dtype)
            self._apply[m.name] = network.make_apply(g)
        self.field_model = {f: (m, j) for m in ir.models for j, f in enumerate(m.fields)}
        self.regions = {k: self._region_code(k) for k in ir.regions}
        # observations (runtime/observations.py fills `data`): per data region, the value
        # columns that follow the D coordinates in its (N, D + k) point array
        self.data = {}
        self.data_columns = {k: [c.name for c in chk.data[r.data].columns if c.name not in self.coords]
                             for k, r in ir.regions.items() if r.kind == "data"}
        self.param_count = sum(network.param_count(g) for g in self.graphs.values())

    # ---- networks as functions of all coordinates, inputs scaled to [-1, 1]
    def _input_width(self, m):
        return self.hard.input_width(m) if self.hard else len(m.inputs)

    def model_fn(self, params, m):
        """The model's fields as a function of X (problem coordinates): the network, behind
        the hard layers (compiler/hard) when any hold its fields — so every derivative the
        residuals take goes through them."""
        idx = np.array([self.coords.index(c) for c in m.inputs])
        lo, hi = self.lo[idx], self.hi[idx]
        scale = jnp.asarray(2.0 / (hi - lo), self.dtype)
        shift = jnp.asarray(-(hi + lo) / (hi - lo), self.dtype)
        apply, p = self._apply[m.name], params["nets"][m.name]
        hard = self.hard
        # parameter fields with bounds: lo + (hi − lo)·sigmoid(network output), by construction
        pf = self.ir.checked.param_fields
        bounded = [(j, *pf[f]) for j, f in enumerate(m.fields) if pf.get(f)]

        def F(X):
            Z = X[..., idx] * scale + shift      # `...`: also maps one point (the fused derivative pass)
            Y = self._net_out(apply(p, self._net_in(X, hard.embed(m, X, Z) if hard else Z)))
            for j, lo, hi in bounded:
                Y = Y.at[..., j].set(learned.bounded(Y[..., j], lo, hi))
            return Y
        if not hard:
            return F
        penv = self.param_env(params)      # learned scalars inside hard boundary data
        return hard.wrap(m, F, (lambda X: {**self._coord_env(X), **penv}) if penv else self._coord_env, to_jax)

    def _net_in(self, X, Z):
        """The network's input at rows X given the coordinate features Z."""
        return Z

    def _net_out(self, Y):
        return Y

    def _extra_env(self, X):
        """{Symbol: values at the rows X} besides coordinates, fields and parameters."""
        return {}

    def param_env(self, params):
        """{Symbol: value} of the learned scalars (empty without `param`)."""
        S = self.ir.symbols
        return {S.param[n]: v for n, v in learned.values(params, self.ir.checked).items()}

    def _coord_env(self, X):
        S = self.ir.symbols
        env = {S.coord[c]: X[..., i] for i, c in enumerate(self.coords)}
        env.update({s: float(v) for s, v in self.ir.const_values.items()})
        return env

    def init(self, key):
        keys = jax.random.split(key, len(self.ir.models))
        return {"nets": {m.name: self._init[m.name](k) for k, m in zip(keys, self.ir.models)},
                **learned.init(self.ir.checked, self.dtype)}

    # ---- per-region code: placeholders for each field derivative, CSE across terms
    def _region_code(self, key):
        ir, S = self.ir, self.ir.symbols
        reg = ir.regions[key]
        outputs = []
        for ti, t in enumerate(ir.terms):
            for rk, expr in t.parts:
                if rk == key:
                    outputs.append((ti, expr))
        coord_syms = [S.coord[c] for c in self.coords]
        atoms, repl = {}, {}
        # lap(u) of a bare field stays whole (forward Laplacian); any other Lap expands
        outputs = [(ti, _keep_laps(expr)) for ti, expr in outputs]
        for _, expr in outputs:
            for lp in expr.atoms(Lap):
                repl[lp] = (lp.field.func.__name__, ("lap", lp.estimate))
            for d in expr.atoms(sp.Derivative):
                f = d.expr
                if not isinstance(f, sp.core.function.AppliedUndef):
                    raise error("E231", f"cannot lower the derivative `{d}`")
                a = [0] * self.D
                for s, n in d.variable_count:
                    a[coord_syms.index(s)] += int(n)
                repl[d] = (f.func.__name__, tuple(a))
            bare = expr.xreplace({d: sp.Dummy() for d in expr.atoms(sp.Derivative) | expr.atoms(Lap)})
            for f in bare.atoms(sp.core.function.AppliedUndef):
                repl.setdefault(f, (f.func.__name__, (0,) * self.D))
        sym_of = {}
        for atom, k in repl.items():
            if k not in sym_of:
                tag = f"lap{k[1][1] or ''}" if k[1][0] == "lap" else "".join(map(str, k[1]))
                sym_of[k] = sp.Symbol(f"_{k[0]}_" + tag, real=True)
            atoms[sym_of[k]] = k
        mapping = {atom: sym_of[k] for atom, k in repl.items()}
        consts = ir.const_values
        exprs = [e.xreplace(mapping).xreplace(consts) for _, e in outputs]
        reps, reduced = sp.cse(exprs, optimizations="basic") if exprs else ([], [])
        plans = {}
        for m in ir.models:
            idx = [k[1] for k in atoms.values() if k[0] in m.fields]
            if idx:
                spatial = [self.coords.index(str(c)) for c in S.spatial]
                plans[m.name] = Plan.of(idx, self.D, spatial)
        ci = self.coords.index(reg.coord) if reg.coord else None
        return _RegionCode(key, reg.kind, ci, reg.value, atoms, reps,
                           [(ti, r) for (ti, _), r in zip(outputs, reduced)], plans)

    def _derivs(self, params, X, code: _RegionCode, key=None):
        vals = {}
        for m in self.ir.models:
            if m.name not in code.plans:
                continue
            plan = code.plans[m.name]
            k = None
            if plan.needs_key:
                if key is None:
                    raise error("E233", "`lap(u, estimate = k)` draws random directions: the batch needs a `key`",
                                hint="pass batch['key'] = jax.random.PRNGKey(step) (the training loop does)")
                k = jax.random.fold_in(jax.random.fold_in(key, _stable_hash(code.key)), _stable_hash(m.name))
            out = evaluate(self.model_fn(params, m), X, plan, k, self._rowwise(m))
            for a, arr in out.items():
                for j, f in enumerate(m.fields):
                    vals[(f, a)] = arr[:, j]
        return vals

    def _rowwise(self, m):
        """Whether the model's field function maps one point (D,) to (m,) exactly as it
        maps a batch: checked once on concrete numbers; the fused derivative pass then
        traces it per point without a batch-of-one axis."""
        cache = self.__dict__.setdefault("_row_ok", {})
        if m.name not in cache:
            ok = False
            u = np.random.default_rng(0).random((3, self.D))
            X = np.asarray(self.lo + (self.hi - self.lo) * u, self.dtype)

            def both(params, X):     # one small jit: eager op-by-op dispatch costs seconds
                F = self.model_fn(params, m)
                return F(X), jnp.stack([F(X[i]) for i in range(X.shape[0])])
            try:
                # random parameters of the right shapes, without running (compiling) init
                shapes = jax.eval_shape(self.init, jax.random.PRNGKey(0))
                rng = np.random.default_rng(1)
                params = jax.tree_util.tree_map(lambda a: (0.5 * rng.standard_normal(a.shape)).astype(a.dtype), shapes)
                with jax.ensure_compile_time_eval():
                    Y, Y1 = jax.jit(both)(params, X)
                Y, Y1 = np.asarray(Y, np.float64), np.asarray(Y1, np.float64)
                # a different meaning shows as an O(1) difference; summation order as rounding
                ok = Y1.shape == Y.shape and bool(np.max(np.abs(Y1 - Y)) <= 1e-4 * (1.0 + np.max(np.abs(Y))))
            except Exception:        # noqa: BLE001 - any failure just means "batch only"
                ok = False
            cache[m.name] = ok
        return cache[m.name]

    def _eval_region(self, params, X, code: _RegionCode, key=None):
        S = self.ir.symbols
        env = {}
        if code.kind == "data":      # observation points carry their observed values after the coordinates
            reg = self.ir.regions[code.key]
            for j, c in enumerate(self.data_columns[code.key]):
                env[S.data[(reg.data, c)]] = X[:, self.D + j]
            X = X[:, :self.D]
        elif code.kind == "piece":   # shaped boundary points carry their outward unit normals after the coordinates
            for j, n in enumerate(normal_symbols(S)):
                env[n] = X[:, self.D + j]
            X = X[:, :self.D]
        env.update({S.coord[c]: X[:, i] for i, c in enumerate(self.coords)})
        env.update(self.param_env(params))
        env.update(self._extra_env(X))
        vals = self._derivs(params, X, code, key)
        if code.kind == "periodic":
            Xh = X.at[:, code.coord_index].set(self.hi[code.coord_index])
            vh = self._derivs(params, Xh, code, key)
            vals = {k: v - vh[k] for k, v in vals.items()}
        for s, k in code.atoms.items():
            env[s] = vals[k]
        for s, e in code.cse:
            env[s] = to_jax(e, env)
        res = {}
        n = X.shape[0]
        for ti, e in code.outputs:
            r = to_jax(e, env)
            res.setdefault(ti, []).append(jnp.broadcast_to(jnp.asarray(r, X.dtype), (n,)))
        return res

    # ---- public pure functions
    def residuals(self, params, batch):
        """{term name: residual at each of its points}."""
        acc = {}
        for key, code in self.regions.items():
            if key not in batch:
                continue
            for ti, rs in self._eval_region(params, batch[key], code, batch.get("key")).items():
                acc.setdefault(ti, []).extend(rs)
        return {self.term_names[ti]: jnp.concatenate(rs) for ti, rs in sorted(acc.items())}

    def loss(self, params, batch, weights=None):
        """(total, {term: mean squared residual}) — one function for every term."""
        res = self.residuals(params, batch)
        terms = {k: jnp.mean(r ** 2) for k, r in res.items()}
        total = sum((weights.get(k, 1.0) if weights else 1.0) * v for k, v in terms.items())
        return total, terms

    def predict(self, params, X):
        X = jnp.asarray(X, self.dtype)
        out = {}
        for m in self.ir.models:
            Y = self.model_fn(params, m)(X)
            for j, f in enumerate(m.fields):
                out[f] = Y[:, j]
        return out

    def exact(self, X):
        S = self.ir.symbols
        env = {S.coord[c]: X[:, i] for i, c in enumerate(self.coords)}
        env.update({s: float(v) for s, v in self.ir.const_values.items()})
        return {f: jnp.broadcast_to(jnp.asarray(to_jax(e, env), X.dtype), (X.shape[0],)) for f, e in self.ir.exact.items()}

    def plan_text(self):
        """Per region and model: which derivatives, by which method. Traces each region
        once (shapes only) so that a fallback from the fused pass shows here too."""
        self._probe_plans()
        lines = []
        for key, code in self.regions.items():
            for mname, plan in code.plans.items():
                lines.append(f"region {key}, model {mname} ({', '.join(self.field_model_fields(mname))}):")
                lines += ["  " + s for s in plan.describe(self.coords)]
        return "\n".join(lines)

    def _probe_plans(self):
        params = jax.eval_shape(self.init, jax.random.PRNGKey(0))
        key = jax.random.PRNGKey(0)
        for code in self.regions.values():
            if code.plans:
                X = jax.ShapeDtypeStruct((2, self.D), self.dtype)
                jax.eval_shape(lambda p, X: list(self._derivs(p, X, code, key).values()), params, X)

    def field_model_fields(self, mname):
        return next(m.fields for m in self.ir.models if m.name == mname)
