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


def _chunk_fn(lowered, opt, n, lbfgs):
    """One dispatch: `n` optimiser steps under lax.scan; returns the last loss and terms."""
    def loss_aux(params, batch):
        return lowered.loss(params, batch)

    @jax.jit
    def run(params, state, batch):
        def f(p):
            return lowered.loss(p, batch)[0]

        def body(carry, _):
            params, state = carry
            if lbfgs:
                vg = optax.value_and_grad_from_state(f)
                value, grad = vg(params, state=state)
                updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=f)
            else:
                (value, _), grad = jax.value_and_grad(loss_aux, has_aux=True)(params, batch)
                updates, state = opt.update(grad, state, params)
            params = optax.apply_updates(params, updates)
            return (params, state), value

        (params, state), values = lax.scan(body, (params, state), None, length=n)
        return params, state, values
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
          log_every=None, params=None, on_log=None) -> Result:
    lowered = problem.lowered
    settings = problem.settings
    seed = int(settings.get("seed", 0) if seed is None else seed)
    key = jax.random.PRNGKey(seed)
    k_init, k_pts = jax.random.split(key)
    stages = plan_stages(problem.checked.train["stages"], steps)
    total = sum(s["steps"] for s in stages)
    log_every = int(log_every or settings.get("log_every", max(1, min(1000, total // 20 or 1))))
    t0 = time.perf_counter()
    if params is None:
        params = problem.init(k_init)
    batch = problem.sample(int(jax.random.randint(k_pts, (), 0, 2**31 - 1)))
    loss_terms = jax.jit(lowered.loss)
    predict = jax.jit(lowered.predict)
    res = Result(params)
    prog = Progress(total, progress)
    done = 0

    def evaluate(p):
        if evaluation is None:
            return None, {}
        pred = predict(p, evaluation.X)
        errs = relative_l2({f: pred[f] for f in evaluation.truth}, evaluation.truth)
        return float(np.sqrt(np.mean(np.square(list(errs.values()))))), errs

    def log(stage_name, p):
        value, terms = loss_terms(p, batch)
        err, errs = evaluate(p)
        el = time.perf_counter() - t0
        rec = {"step": done, "stage": stage_name, "loss": float(value),
               "terms": {k: float(v) for k, v in terms.items()}, "error": err, "errors": errs,
               "time_s": round(el, 3)}
        res.history.append(rec)
        prog.update(rec)
        if on_log:
            on_log(rec)
        return rec

    last_good = params
    for si, stage in enumerate(stages):
        name = stage["optimizer"]
        if stage["steps"] == 0:
            continue
        opt = _optimizer(stage)
        state = opt.init(params)
        fns = {}
        remaining = stage["steps"]
        while remaining > 0:
            n = min(log_every, remaining)
            if n not in fns:
                fns[n] = _chunk_fn(lowered, opt, n, name == "lbfgs")
            new_params, new_state, values = fns[n](params, state, batch)
            values = np.asarray(values)
            if res.first_step_s == 0.0:
                res.first_step_s = time.perf_counter() - t0
            if not np.all(np.isfinite(values)):
                bad = int(np.argmax(~np.isfinite(values)))
                _, terms = loss_terms(params, batch)
                culprit = [k for k, v in terms.items() if not math.isfinite(float(v))]
                prog.message(error("E501", f"the loss became {values[bad]} at step {done + bad + 1} of stage `{name}`"
                                   + (f" (term `{culprit[0]}`)" if culprit else ""),
                                   hint="lower the learning rate, train in float64 (`precision = float64`), or make conditions `hard`").render())
                res.stopped = "nan"
                params = last_good
                break
            params, state = new_params, new_state
            last_good = params
            done += n
            remaining -= n
            log(name, params)
        if res.stopped:
            break
    prog.close()
    res.params = params
    res.steps = done
    res.wall_s = time.perf_counter() - t0
    value, terms = loss_terms(params, batch)
    res.final_loss = float(value)
    res.final_terms = {k: float(v) for k, v in terms.items()}
    res.errors = evaluate(params)[1]
    return res
