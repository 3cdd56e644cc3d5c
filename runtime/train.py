"""The training loop: optax stages (built by `optimizers.py` from the table `STAGES`), many
steps per dispatch inside one jitted loop, host transfers only at logging intervals;
loss balancing, causal weights and resampling from `objective.py`; checkpoints
that resume bit-identically."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from pdeforge.compiler import params as learned
from pdeforge.dsl.diagnostics import error
from pdeforge.dsl.vocabulary import STAGES, stage_options
from . import checkpoint, optimizers
from .objective import Objective, point_scores, r3_resample, rar_add
from .progress import Progress
from .sampling import check_memory, sample_regions

__all__ = ["DEFAULT_STAGES", "Evaluation", "Result", "relative_l2", "STALL_RTOL", "plan_stages",
           "CHECKPOINT_SECONDS", "train"]

DEFAULT_STAGES = [{"optimizer": "adam", "steps": 2000, "lr": 1e-3}]


@dataclass
class Evaluation:
    X: np.ndarray
    truth: dict              # field -> values
    shape: tuple | None      # grid shape, when X is a tensor grid
    source: str              # "exact" | "reference"


@dataclass
class Result:
    params: dict
    history: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    final_terms: dict = field(default_factory=dict)
    final_loss: float = float("nan")
    steps: int = 0
    wall_s: float = 0.0
    first_step_s: float = 0.0
    stopped: str | None = None
    notes: list = field(default_factory=list)           # L-BFGS restarts and early ends, by step
    param_values: dict = field(default_factory=dict)    # learned scalars at the end
    param_errors: dict = field(default_factory=dict)    # |learned − exact| where `exact k = ...` is given


def relative_l2(pred: dict, truth: dict) -> dict:
    out = {}
    for f, t in truth.items():
        p = np.asarray(pred[f], np.float64)
        t = np.asarray(t, np.float64)
        out[f] = float(np.linalg.norm(p - t) / max(np.linalg.norm(t), 1e-300))
    return out


# L-BFGS counts as stalled after `patience` iterations in which the loss has not fallen a
# relative STALL_RTOL below its best: optax's zoom line search then spends up to 20
# evaluations per iteration for nothing (seen on Burgers: 2600 iterations, 1300 s, the loss
# 2.8011e-5 -> 2.8009e-5). While L-BFGS makes headway, 0.01% takes an iteration or a few.
STALL_RTOL = 1e-4


def _chunk_fn(obj: Objective, opt, line_search=False, per_term=False, patience=0):
    """One dispatch: up to `n` optimiser steps in a jitted while-loop (n is dynamic, so
    one compilation serves every chunk of a stage). Balancing weights are refreshed
    every `balance_every` global steps inside the loop (frozen under a line-search stage
    such as L-BFGS, which needs one fixed objective). Stops at a non-finite loss, keeping the
    parameters from before that step, and (with `patience`) once the best loss has not
    improved for `patience` iterations; `stall` = (best loss, iterations since) carries
    that count across chunks."""
    K = obj.balance_every
    stochastic = any(plan.needs_key for code in obj.lowered.regions.values() for plan in code.plans.values())

    @jax.jit
    def run(params, state, wstate, batch, n, start, stall):
        base = batch.get("key") if stochastic else None

        def batch_at(i):
            # stochastic estimators (STDE) draw fresh directions each step, from the run's seed
            return dict(batch, key=jax.random.fold_in(base, start + i)) if stochastic else batch

        def f(p, w, i=0):
            return obj.total(p, batch_at(i), w)

        def step(params, state, wstate, i):
            if line_search:     # one fixed objective for the line search: directions frozen per chunk
                g = lambda p: f(p, wstate)
                value, grad = optax.value_and_grad_from_state(g)(params, state=state)
                updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=g)
            elif per_term:      # MultiAdam: reverse mode over params, one cotangent per term
                L, vjp = jax.vjp(lambda p: obj.terms(p, batch_at(i))[0], params)
                grads, = jax.vmap(vjp)(jnp.eye(L.shape[0], dtype=L.dtype))
                value = jnp.sum(obj.fixed * wstate["lam"] * L)
                updates, state = opt.update(grads, state, params)
            else:
                value, grad = jax.value_and_grad(f)(params, wstate, i)
                updates, state = opt.update(grad, state, params)
            return optax.apply_updates(params, updates), state, value

        def cond(c):
            going = (c[3] < n) & c[5]
            return going & (c[7] < patience) if patience else going

        def body(c):
            params, state, wstate, i, _, _, best, since = c
            if obj.balance != "none" and not line_search:
                wstate = lax.cond((start + i) % K == 0, lambda: obj.update(params, batch, wstate), lambda: wstate)
            p2, s2, value = step(params, state, wstate, i)
            ok = jnp.isfinite(value) & jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(p2)]))
            params, state = jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), (p2, s2), (params, state))
            better = value < best * (1 - STALL_RTOL)        # the loss is a sum of squares, >= 0
            best, since = jnp.where(better, value, best), jnp.where(better, 0, since + 1)
            return params, state, wstate, i + jnp.where(ok, 1, 0), value, ok, best, since

        init = (params, state, wstate, jnp.asarray(0), jnp.asarray(jnp.inf, obj.lowered.dtype), jnp.asarray(True),
                jnp.asarray(stall[0], obj.lowered.dtype), jnp.asarray(stall[1]))
        params, state, wstate, i, value, ok, best, since = lax.while_loop(cond, body, init)
        return params, state, wstate, i, value, ok, (best, since)
    return run


def plan_stages(stages, total_steps=None):
    """`--steps N` runs N steps in all, split over the stages in proportion."""
    stages = [dict(s) for s in (stages or DEFAULT_STAGES)]
    if total_steps is not None:
        tot = sum(s["steps"] for s in stages) or 1
        left = total_steps
        for i, s in enumerate(stages):
            last = i == len(stages) - 1
            n = total_steps - sum(x["steps"] for x in stages[:i]) if last else int(round(total_steps * s["steps"] / tot))
            s["steps"] = max(0, min(n, left))
            left -= s["steps"]
    return stages


class _Sampler:
    """Fresh and adaptive collocation points, all derived from the run's seed."""

    def __init__(self, problem, seed):
        self.problem, self.seed = problem, seed
        s = problem.settings
        self.every = int(s.get("resample_every", 0) or 0)
        self.adaptive = s.get("adaptive", "none")
        self.fraction = float(s.get("adaptive_fraction", 0.1))
        self.method = s.get("sampler", "sobol")
        self.counts = problem.checked.train["points"]
        self.np_dtype = np.float64 if problem.float64 else np.float32
        # stochastic estimators' (STDE) stream, from the one seed; every batch carries it
        self.key = jax.random.fold_in(jax.random.PRNGKey(seed), 7)

    def initial(self, batch_seed):
        return self.problem.sample(batch_seed)

    def fresh(self, round_):
        b = sample_regions(self.problem.lowered, self.counts, self.method, self.seed * 7919 + 104729 * round_, self.np_dtype)
        out = {k: jnp.asarray(v) for k, v in b.items()}
        out["key"] = self.key
        return out

    def refresh(self, params, batch, round_):
        new = self.fresh(round_)
        low = self.problem.lowered
        if self.adaptive == "r3" and "interior" in batch:
            sc = point_scores(low, params, batch["interior"], batch.get("key"))
            new["interior"] = jnp.asarray(r3_resample(sc, batch["interior"], new["interior"]))
        elif self.adaptive == "rar" and "interior" in batch:
            pool = new["interior"]
            sc = point_scores(low, params, pool, batch.get("key"))
            m = max(1, int(self.fraction * self.counts.get("interior", pool.shape[0])))
            new = dict(batch)
            new["interior"] = jnp.asarray(rar_add(sc, pool, batch["interior"], m))
        return new


# Without `checkpoint_every`, a run with an output directory still saves this often, so a
# killed run loses at most a few minutes (a save is one npz write at a log boundary).
CHECKPOINT_SECONDS = 300.0


def train(problem, *, steps=None, seed=None, evaluation: Evaluation | None = None, progress="auto",
          log_every=None, params=None, on_log=None, out=None, checkpoint_every=None, resume=None) -> Result:
    """Run the problem's stages. With `out`, a checkpoint is written every
    `checkpoint_every` steps (rounded to the logging interval) or, without it, every
    CHECKPOINT_SECONDS of wall time, at the end, and on Ctrl-C; `resume` (a run
    directory) continues a run bit-identically."""
    lowered = problem.lowered
    settings = problem.settings
    seed = int(settings.get("seed", 0) if seed is None else seed)
    key = jax.random.PRNGKey(seed)
    k_init, k_pts = jax.random.split(key)
    stages = plan_stages(problem.checked.train["stages"], steps)
    total = sum(s["steps"] for s in stages)
    log_every = int(log_every or settings.get("log_every", max(1, min(1000, total // 20 or 1))))
    every = int(checkpoint_every or settings.get("checkpoint_every", 0) or 0)
    every = max(log_every, (every // log_every) * log_every) if every else 0
    check_memory(lowered, problem.checked.train["points"])
    obj = Objective(lowered, problem.checked.train)
    sampler = _Sampler(problem, seed)
    t0 = time.perf_counter()
    if params is None:
        params = jax.jit(problem.init)(k_init)
    batch = sampler.initial(int(jax.random.randint(k_pts, (), 0, 2**31 - 1)))
    batch["key"] = sampler.key
    wstate = obj.init_state()
    ck = None
    if resume is not None:
        ck = checkpoint.load(resume)
        m = ck["meta"]
        if m.get("spec_hash") != problem.spec_hash:
            raise error("E416", "the checkpoint was written by a different version of this .pde file",
                        hint="resume with the same file, or start afresh without --resume")
        if m.get("seed") != seed or m.get("total") != total:
            raise error("E416", f"the checkpoint was written with seed {m.get('seed')} and {m.get('total')} steps; "
                                f"this run has seed {seed} and {total} steps", hint="pass the same --seed and --steps")
        params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, problem.dtype), ck["params"])
        batch = {k: jnp.asarray(v) for k, v in ck["extra"].get("batch", {}).items()} or batch
        if "lam" in ck["extra"]:
            wstate = {"lam": jnp.asarray(ck["extra"]["lam"], problem.dtype)}
    loss_terms = jax.jit(lowered.loss)
    causal = jax.jit(lambda p, b: obj.terms(p, b)[1]) if obj.causal_terms else None
    predict = jax.jit(lowered.predict)
    res = Result(params)
    prog = Progress(total, progress)
    done = 0
    start_stage, start_in_stage = 0, 0
    if ck is not None:
        m = ck["meta"]
        done, start_stage, start_in_stage = m["done"], m["stage"], m["in_stage"]
        res.history, res.notes = m["history"], m.get("notes", [])
        prog.message(f"resuming at step {done} (stage {start_stage + 1}, {start_in_stage} steps into it)")

    last_save = [time.perf_counter()]
    stall = {"best": np.inf, "since": 0, "restart": np.nan}     # L-BFGS progress, see STALL_RTOL

    def save(si, in_stage, p, st):
        last_save[0] = time.perf_counter()
        if out is not None:
            checkpoint.save(out, p, st, {"spec_hash": problem.spec_hash, "seed": seed, "total": total,
                                         "done": done, "stage": si, "in_stage": in_stage, "history": res.history,
                                         "notes": res.notes},
                            extra={"batch": batch, "lam": wstate["lam"],
                                   "stall": np.asarray([stall["best"], stall["since"], stall["restart"]], np.float64)})

    def evaluate(p):
        if evaluation is None:
            return None, {}
        pred = predict(p, evaluation.X)
        errs = relative_l2({f: pred[f] for f in evaluation.truth}, evaluation.truth)
        return float(np.sqrt(np.mean(np.square(list(errs.values()))))), errs

    def log(stage_name, p, rate=None):
        value, terms = loss_terms(p, batch)
        err, errs = evaluate(p)
        rec = {"step": done, "stage": stage_name, "loss": float(value),
               "terms": {k: float(v) for k, v in terms.items()}, "error": err, "errors": errs,
               "time_s": round(time.perf_counter() - t0, 3), "steps_per_s": rate}
        pv = learned.report(p, problem.checked)
        if pv["values"]:
            rec["params"] = pv["values"]
            if pv["errors"]:
                rec["param_errors"] = pv["errors"]
        if obj.balance != "none":
            rec["weights"] = {k: float(v) for k, v in zip(obj.names, np.asarray(wstate["lam"]))}
        if causal is not None:
            w = np.asarray(causal(p, batch))
            rec["causal_min_weight"] = float(w.min())
        res.history.append(rec)
        prog.update(rec)
        if on_log:
            on_log(rec)
        return rec

    last_stage_state = None
    for si, stage in enumerate(stages):
        name, spec = stage["optimizer"], STAGES[stage["optimizer"]]
        if stage["steps"] == 0 or si < start_stage:
            continue
        opt = optimizers.build(stage, obj)
        state = opt.init(params)
        remaining = stage["steps"]
        if ck is not None and si == start_stage:
            state = checkpoint.restore_opt_state(state, ck["opt_leaves"])
            remaining -= start_in_stage
        patience = int(stage_options(stage)["patience"]) if spec.line_search else 0
        stall["best"], stall["since"], stall["restart"] = np.inf, 0, np.nan
        if ck is not None and si == start_stage and "stall" in ck["extra"]:
            stall["best"], since, stall["restart"] = (float(v) for v in ck["extra"]["stall"])
            stall["since"] = int(since)
        run = _chunk_fn(obj, opt, spec.line_search, per_term=spec.per_term, patience=patience)
        while remaining > 0:
            n = min(log_every, remaining)
            tc = time.perf_counter()
            try:
                p2, s2, w2, taken, value, ok, (best, since) = run(params, state, wstate, batch, n, done,
                                                                  (stall["best"], stall["since"]))
                taken, ok = int(taken), bool(ok)
                # one assignment, so an interrupt never splits parameters from their step count
                params, state, wstate, done, remaining = p2, s2, w2, done + taken, remaining - taken
                stall["best"], stall["since"] = float(best), int(since)
                if res.first_step_s == 0.0:
                    res.first_step_s = time.perf_counter() - t0
                if not ok:
                    _, terms = loss_terms(params, batch)
                    culprit = [k for k, v in terms.items() if not math.isfinite(float(v))]
                    prog.message(error("E501", f"the loss became non-finite at step {done + 1} of stage `{name}`"
                                       + (f" (term `{culprit[0]}`)" if culprit else ""),
                                       hint="lower the learning rate, train in float64 (`precision = float64`), "
                                            "or make conditions `hard`; the parameters from the last good step are kept",
                                       file=problem.file).render(), always=True)
                    res.stopped = "nan"
                    break
                log(name, params, taken / max(time.perf_counter() - tc, 1e-9))
                if patience and stall["since"] >= patience and remaining > 0:
                    if not (np.isnan(stall["restart"]) or stall["best"] < stall["restart"] * (1 - STALL_RTOL)):
                        prog.message(f"L-BFGS stalled at step {done}: the loss has not fallen 0.01% in {patience} iterations, "
                                     f"even after restarting its curvature history; ending stage `{name}` "
                                     f"{remaining} steps early", always=True)
                        res.notes.append({"step": done, "stage": name, "event": "stalled", "skipped": remaining})
                        remaining = 0
                        break
                    # a failed line search can leave the curvature pairs useless: start them afresh;
                    # a second stall with nothing gained since this restart ends the stage
                    state, stall["since"], stall["restart"] = opt.init(params), 0, stall["best"]
                    res.notes.append({"step": done, "stage": name, "event": "restarted"})
                if sampler.every and done // sampler.every > (done - taken) // sampler.every and remaining > 0:
                    batch = sampler.refresh(params, batch, done // sampler.every)
                    if spec.line_search:       # a new objective: restart the curvature history and stall count
                        state = opt.init(params)
                        stall["best"], stall["since"], stall["restart"] = np.inf, 0, np.nan
                due = done % every == 0 if every else time.perf_counter() - last_save[0] >= CHECKPOINT_SECONDS
                if out is not None and due and remaining > 0:
                    save(si, stage["steps"] - remaining, params, state)
            except KeyboardInterrupt:
                save(si, stage["steps"] - remaining, params, state)
                prog.message(f"interrupted at step {done}"
                             + (f"; checkpoint in {out} — continue with --resume {out}" if out else ""))
                raise
        if res.stopped:
            break
        last_stage_state = (si, stage["steps"], state)
    prog.close()
    if out is not None and not res.stopped and last_stage_state is not None:
        save(*last_stage_state[:2], params, last_stage_state[2])
    res.params = params
    res.steps = done
    res.wall_s = time.perf_counter() - t0
    value, terms = loss_terms(params, batch)
    res.final_loss = float(value)
    res.final_terms = {k: float(v) for k, v in terms.items()}
    res.errors = evaluate(params)[1]
    pv = learned.report(params, problem.checked)
    res.param_values, res.param_errors = pv["values"], pv["errors"]
    return res
