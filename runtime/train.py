"""The training loop: optax stages (Adam, L-BFGS, …), many steps per dispatch
with `lax.scan`, host transfers only at logging intervals."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from pdeforge.dsl.diagnostics import error
from . import checkpoint
from .progress import Progress

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


def relative_l2(pred: dict, truth: dict) -> dict:
    out = {}
    for f, t in truth.items():
        p = np.asarray(pred[f], np.float64)
        t = np.asarray(t, np.float64)
        out[f] = float(np.linalg.norm(p - t) / max(np.linalg.norm(t), 1e-300))
    return out


def _optimizer(stage):
    name = stage["optimizer"]
    lr = stage.get("lr", 1e-3)
    if name in ("adam", "adamw", "sgd"):
        if stage.get("decay"):
            lr = optax.exponential_decay(lr, int(stage.get("decay_every", 1000)), stage["decay"])
        if stage.get("warmup"):
            lr = optax.join_schedules([optax.linear_schedule(0.0, stage.get("lr", 1e-3), int(stage["warmup"])),
                                       lr if callable(lr) else optax.constant_schedule(lr)], [int(stage["warmup"])])
        if name == "adam":
            opt = optax.adam(lr, b1=stage.get("b1", 0.9), b2=stage.get("b2", 0.999))
        elif name == "adamw":
            opt = optax.adamw(lr, b1=stage.get("b1", 0.9), b2=stage.get("b2", 0.999), weight_decay=stage.get("weight_decay", 1e-4))
        else:
            opt = optax.sgd(lr, momentum=stage.get("momentum"))
        if stage.get("clip"):
            opt = optax.chain(optax.clip_by_global_norm(stage["clip"]), opt)
        return opt
    if name == "lbfgs":
        return optax.lbfgs(learning_rate=stage.get("lr"), memory_size=int(stage.get("memory", 10)))
    raise error("E141", f"unknown optimiser `{name}`")


def _chunk_fn(lowered, opt, lbfgs):
    """One dispatch: up to `n` optimiser steps in a jitted loop (n is dynamic, so one
    compilation serves every chunk of a stage). Stops early at a non-finite loss and
    returns the parameters from before that step, the steps taken and the last loss."""
    @jax.jit
    def run(params, state, batch, n):
        def f(p):
            return lowered.loss(p, batch)[0]

        def step(params, state):
            if lbfgs:
                value, grad = optax.value_and_grad_from_state(f)(params, state=state)
                updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=f)
            else:
                value, grad = jax.value_and_grad(f)(params)
                updates, state = opt.update(grad, state, params)
            return optax.apply_updates(params, updates), state, value

        def cond(c):
            i, ok = c[2], c[4]
            return (i < n) & ok

        def body(c):
            params, state, i, _, _ = c
            p2, s2, value = step(params, state)
            ok = jnp.isfinite(value) & jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(p2)]))
            params, state = jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), (p2, s2), (params, state))
            return params, state, i + jnp.where(ok, 1, 0), value, ok

        init = (params, state, jnp.asarray(0), jnp.asarray(jnp.inf, lowered.dtype), jnp.asarray(True))
        params, state, i, value, ok = lax.while_loop(cond, body, init)
        return params, state, i, value, ok
    return run


def plan_stages(stages, total_steps=None):
    """`--steps N` runs N steps in all, split over the stages in proportion."""
    stages = [dict(s) for s in (stages or DEFAULT_STAGES)]
    if total_steps is not None:
        tot = sum(s["steps"] for s in stages) or 1
        left = total_steps
        for i, s in enumerate(stages):
            n = total_steps - sum(x["steps"] for x in stages[:i]) if i == len(stages) - 1 else int(round(total_steps * s["steps"] / tot))
            s["steps"] = max(0, min(n, left))
            left -= s["steps"]
    return stages


def train(problem, *, steps=None, seed=None, evaluation: Evaluation | None = None, progress="auto",
          log_every=None, params=None, on_log=None, out=None, checkpoint_every=None, resume=None) -> Result:
    """Run the problem's stages. With `out`, a checkpoint is written every
    `checkpoint_every` steps (rounded to the logging interval), at the end, and on
    Ctrl-C; `resume` (a run directory) continues a run bit-identically."""
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
    t0 = time.perf_counter()
    if params is None:
        params = jax.jit(problem.init)(k_init)
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
    batch = problem.sample(int(jax.random.randint(k_pts, (), 0, 2**31 - 1)))
    loss_terms = jax.jit(lowered.loss)
    predict = jax.jit(lowered.predict)
    res = Result(params)
    prog = Progress(total, progress)
    done = 0
    start_stage, start_in_stage = 0, 0
    if ck is not None:
        m = ck["meta"]
        done, start_stage, start_in_stage = m["done"], m["stage"], m["in_stage"]
        res.history = m["history"]
        prog.message(f"resuming at step {done} (stage {start_stage + 1}, {start_in_stage} steps into it)")

    def save(si, in_stage, p, st):
        if out is not None:
            checkpoint.save(out, p, st, {"spec_hash": problem.spec_hash, "seed": seed, "total": total,
                                         "done": done, "stage": si, "in_stage": in_stage,
                                         "history": res.history})

    def evaluate(p):
        if evaluation is None:
            return None, {}
        pred = predict(p, evaluation.X)
        errs = relative_l2({f: pred[f] for f in evaluation.truth}, evaluation.truth)
        return float(np.sqrt(np.mean(np.square(list(errs.values()))))), errs

    def log(stage_name, p, rate=None):
        value, terms = loss_terms(p, batch)
        err, errs = evaluate(p)
        el = time.perf_counter() - t0
        rec = {"step": done, "stage": stage_name, "loss": float(value),
               "terms": {k: float(v) for k, v in terms.items()}, "error": err, "errors": errs,
               "time_s": round(el, 3), "steps_per_s": rate}
        res.history.append(rec)
        prog.update(rec)
        if on_log:
            on_log(rec)
        return rec

    for si, stage in enumerate(stages):
        name = stage["optimizer"]
        if stage["steps"] == 0 or si < start_stage:
            continue
        opt = _optimizer(stage)
        state = opt.init(params)
        remaining = stage["steps"]
        if ck is not None and si == start_stage:
            state = checkpoint.restore_opt_state(state, ck["opt_leaves"])
            remaining -= start_in_stage
        run = _chunk_fn(lowered, opt, name == "lbfgs")
        while remaining > 0:
            n = min(log_every, remaining)
            tc = time.perf_counter()
            try:
                p2, s2, taken, value, ok = run(params, state, batch, n)
                taken, ok = int(taken), bool(ok)
                # one assignment, so an interrupt never splits parameters from their step count
                params, state, done, remaining = p2, s2, done + taken, remaining - taken
                if res.first_step_s == 0.0:
                    res.first_step_s = time.perf_counter() - t0
                if not ok:
                    _, terms = loss_terms(params, batch)
                    culprit = [k for k, v in terms.items() if not math.isfinite(float(v))]
                    prog.message(error("E501", f"the loss became non-finite at step {done + 1} of stage `{name}`"
                                       + (f" (term `{culprit[0]}`)" if culprit else ""),
                                       hint="lower the learning rate, train in float64 (`precision = float64`), "
                                            "or make conditions `hard`; the parameters from the last good step are kept").render())
                    res.stopped = "nan"
                    break
                log(name, params, taken / max(time.perf_counter() - tc, 1e-9))
                if every and done % every == 0 and remaining > 0:
                    save(si, stage["steps"] - remaining, params, state)
            except KeyboardInterrupt:
                save(si, stage["steps"] - remaining, params, state)
                prog.message(f"interrupted at step {done}" + (f"; checkpoint in {out} — continue with --resume {out}" if out else ""))
                raise
        if res.stopped:
            break
        last_stage_state = (si, stage["steps"], state)
    prog.close()
    if out is not None and not res.stopped and "last_stage_state" in locals():
        si, n, st = last_stage_state
        save(si, n, params, st)
    res.params = params
    res.steps = done
    res.wall_s = time.perf_counter() - t0
    value, terms = loss_terms(params, batch)
    res.final_loss = float(value)
    res.final_terms = {k: float(v) for k, v in terms.items()}
    res.errors = evaluate(params)[1]
    return res
