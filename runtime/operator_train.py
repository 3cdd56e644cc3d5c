"""Training an operator: minibatches of input functions; the loss is the weighted sum of
`OperatorLowered.loss_terms`: the mean relative L2 error against the paired outputs (Li
et al. 2021 train on the same) and, with equations in the file, their mean square
residuals on the predicted grid (PINO); `weights pairs = 0` trains on physics alone and
never reads the training outputs. Stages: the file's first-order ones (adam, adamw, sgd)
from runtime/optimizers.py.

Each logging interval is one jitted `lax.fori_loop` over its steps; a step draws its
batch of pairs without replacement from the run's key, so a run is a function of its
seed. After each interval the held-out pairs are evaluated (mean and worst relative L2
per field). With `out`, a checkpoint (runtime/checkpoint.py, no pickle) is written at the
end and on Ctrl-C."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pdeforge.compiler.operator import rel_l2
from pdeforge.dsl.diagnostics import error

from . import checkpoint, optimizers
from .progress import Progress
from .train import plan_stages

__all__ = ["OperatorResult", "train_operator", "relative_errors", "DEFAULT_BATCH", "FIRST_ORDER"]

DEFAULT_BATCH = 20                      # the FNO paper's batch size
FIRST_ORDER = ("adam", "adamw", "sgd")  # stages that step on minibatches
EVAL_CHUNK = 50                         # test pairs evaluated at once (memory: chunk × grid × width)


@dataclass
class OperatorResult:
    params: dict
    history: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)   # {"mean": {field: e}, "worst": {field: e}} on the test pairs
    final_loss: float = float("nan")
    final_terms: dict = field(default_factory=dict)
    steps: int = 0
    wall_s: float = 0.0
    first_step_s: float = 0.0
    stopped: str | None = None


def relative_errors(predict, a, u, fields) -> dict:
    """Mean and worst relative L2 error per field of `predict(a_chunk)` against `u`."""
    errs = []
    for i in range(0, a.shape[0], EVAL_CHUNK):
        errs.append(np.asarray(rel_l2(predict(a[i:i + EVAL_CHUNK]), u[i:i + EVAL_CHUNK]), np.float64))
    e = np.concatenate(errs)
    return {"mean": {f: float(e[:, j].mean()) for j, f in enumerate(fields)},
            "worst": {f: float(e[:, j].max()) for j, f in enumerate(fields)}}


SCALES = 10.0 ** np.arange(-6.0, 3.01, 0.25)   # output scales tried by `physics_scale`


def physics_scale(low, params, a, norm):
    """Label-free training has no outputs to take the fields' scale from, and it matters:
    the untrained network's O(1) output against a solution of size 1e-2 (Darcy) costs
    most of a run (held-out error 0.23 against 0.044 after 1600 steps, 17 x 17). So the
    output scale is chosen by the physics instead: the one of SCALES (quarter decades)
    that minimises the file's weighted physics loss for the initial network on one batch
    of training inputs — a least-squares fit of the scale, as exact as the grid allows for
    a linear equation. Recorded in the saved normaliser.

    The fit only means something when the initial network's physics correlates with the
    forcing: for ds/dx = f with a zero-mean random f (the antiderivative) it may not; the
    loss then falls all the way to the smallest scale tried, and a network scaled by 1e-6
    cannot learn (held-out error 1.0 after 300 steps, against 0.1 unscaled). A fit at the
    bottom of the range found nothing, so the normaliser's own scale stays. (A stricter
    test, keeping the fit only where it explains half of the zero-output loss, rejects
    Darcy's fit too, which helps there: 0.23 held-out instead of 0.045.)"""
    from dataclasses import replace

    @jax.jit
    def total(s):
        n = replace(norm, u_std=jnp.asarray(norm.u_std) * s)
        return low.loss(params, a, None, n, jax.random.PRNGKey(0))[0]
    values = np.array([float(total(jnp.asarray(s, a.dtype))) for s in SCALES])
    i = int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))
    if i == 0:
        return norm
    best = SCALES[i]
    return replace(norm, u_std=np.asarray(norm.u_std) * best)


def train_operator(problem, data: dict, *, steps=None, seed=None, progress="auto", out=None,
                   log_every=None, on_log=None) -> OperatorResult:
    """Train `problem` (a `pdeforge.api.OperatorProblem`) on `data` (runtime/pairs.split)."""
    low, norm = problem.lowered, problem.norm
    settings = problem.settings
    seed = int(settings.get("seed", 0) if seed is None else seed)
    stages = plan_stages(problem.checked.train["stages"], steps)
    for s in stages:
        if s["optimizer"] not in FIRST_ORDER:
            raise error("E353", f"`{s['optimizer']}` does not step on minibatches of pairs",
                        problem.checked.train["spans"].get("stages"),
                        hint=f"use one of {', '.join(FIRST_ORDER)} to train an operator")
    total = sum(s["steps"] for s in stages)
    log_every = int(log_every or settings.get("log_every", max(1, min(1000, total // 20 or 1))))
    dt = problem.dtype
    a_tr = jnp.asarray(data["a_train"], dt)
    u_tr = jnp.asarray(data["u_train"], dt) if data.get("u_train") is not None else None
    a_te, u_te = jnp.asarray(data["a_test"], dt), jnp.asarray(data["u_test"], dt)
    n = a_tr.shape[0]
    batch = min(int(settings.get("batch", DEFAULT_BATCH)), n)
    key = jax.random.PRNGKey(seed)
    k_init, k_batch = jax.random.split(key)
    k_points = jax.random.fold_in(key, 1)       # point-sampled operators: fresh points each step
    params = jax.jit(problem.init)(k_init)

    labels = low.weights["pairs"] > 0        # `weights pairs = 0`: physics alone, the outputs are never read
    if not labels and low.terms and low.fit_scale:
        norm = problem.norm = physics_scale(low, params, a_tr[:batch], norm)

    def loss(p, a, u, k):
        return low.loss(p, a, u if labels else None, norm, k)

    predict = jax.jit(lambda p, a: low.apply(p, a, norm))
    obj = SimpleNamespace(lowered=low, names=["pairs"], fixed=jnp.ones(1, dt))
    res = OperatorResult(params)
    prog = Progress(total, progress)
    t0 = time.perf_counter()
    done = 0

    def chunk_fn(opt):
        @jax.jit
        def run(params, state, start, count):
            def step(i, c):
                p, s, _, _ = c
                idx = jax.random.choice(jax.random.fold_in(k_batch, start + i), n, (batch,), replace=False)
                (value, terms), g = jax.value_and_grad(loss, has_aux=True)(
                    p, a_tr[idx], u_tr[idx] if labels else None, jax.random.fold_in(k_points, start + i))
                upd, s = opt.update(g, s, p)
                return optax.apply_updates(p, upd), s, value, terms
            zero = jnp.zeros((), dt)
            terms0 = {k: zero for k in (["pairs"] if labels else []) + [t[0] for t in low.terms]}
            return jax.lax.fori_loop(0, count, step, (params, state, zero, terms0))
        return run

    def save(p, st, stage):
        if out is not None:
            checkpoint.save(out, p, st, {"spec_hash": problem.spec_hash, "seed": seed, "total": total, "done": done,
                                         "stage": stage, "history": res.history}, extra=norm.arrays())

    state, si = None, 0
    try:
        for si, stage in enumerate(stages):
            if stage["steps"] == 0:
                continue
            opt = optimizers.build(stage, obj)
            state = opt.init(params)
            run, remaining = chunk_fn(opt), stage["steps"]
            while remaining > 0:
                k = min(log_every, remaining)
                tc = time.perf_counter()
                p2, s2, value, terms = run(params, state, done, k)
                value = float(value)
                if not math.isfinite(value):
                    prog.message(error("E501", f"the loss became non-finite by step {done + k} of stage "
                                       f"`{stage['optimizer']}`", hint="lower the learning rate",
                                       file=problem.file).render(), always=True)
                    res.stopped = "nan"
                    break
                params, state, done, remaining = p2, s2, done + k, remaining - k
                if res.first_step_s == 0.0:
                    res.first_step_s = time.perf_counter() - t0
                errs = relative_errors(lambda a: predict(params, a), a_te, u_te, low.fields)
                rec = {"step": done, "stage": stage["optimizer"], "loss": value,
                       "terms": {t: float(v) for t, v in terms.items()},
                       "error": float(np.mean(list(errs["mean"].values()))), "errors": errs["mean"],
                       "worst": errs["worst"], "time_s": round(time.perf_counter() - t0, 3),
                       "steps_per_s": k / max(time.perf_counter() - tc, 1e-9)}
                res.history.append(rec)
                prog.update(rec)
                if on_log:
                    on_log(rec)
            if res.stopped:
                break
    except KeyboardInterrupt:
        save(params, state, si)
        prog.message(f"interrupted at step {done}" + (f"; checkpoint in {out}" if out else ""))
        raise
    prog.close()
    if state is not None:
        save(params, state, si)
    res.params, res.steps, res.wall_s = params, done, time.perf_counter() - t0
    res.final_loss = res.history[-1]["loss"] if res.history else float("nan")
    res.final_terms = res.history[-1]["terms"] if res.history else {}
    res.errors = relative_errors(lambda a: predict(params, a), a_te, u_te, low.fields)
    return res

