"""Step time of the hard-constrained examples: the fused Taylor pass against the jet
towers + nested jvp it falls back to (where every hard-constrained model went while
jax's `stack` primitive was unsupported). Same problem, points and parameters; one
training step = value and gradient of the whole loss, jitted.

    python bench/hard.py [--examples burgers_hard,wave1d,...] [--rounds 7]

Samples alternate between the two, and each keeps its fastest sample (the least
disturbed by other work on a shared machine)."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax

import pdeforge

EX = Path(__file__).resolve().parent.parent / "examples"


def step_fn(name, fused):
    """A jitted value-and-gradient of the example's loss, traced with or without the fused
    pass (a plan marked not fused takes the fallback, as after an unsupported primitive)."""
    pb = pdeforge.load(EX / f"{name}.pde")
    for code in pb.lowered.regions.values():
        for plan in code.plans.values():
            plan.fused = fused
    params, batch = pb.init(jax.random.PRNGKey(0)), pb.sample(0)
    f = jax.jit(jax.value_and_grad(pb.loss))
    return lambda: jax.block_until_ready(f(params, batch))


def best_ms(fns, rounds, reps):
    """ms per call of each function: samples of `reps` calls alternate between them for
    `rounds`, and each keeps its fastest (the least disturbed by other work)."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, f in enumerate(fns):
            t = time.perf_counter()
            for _ in range(reps):
                f()
            best[i] = min(best[i], (time.perf_counter() - t) / reps * 1e3)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", default="burgers_hard,wave1d,allen_cahn,poisson_neumann,laplace_disk")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args(argv)
    print(f"{'example':<16} {'fused ms':>9} {'fallback ms':>12} {'ratio':>6}")
    for name in a.examples.split(","):
        fused, fallback = best_ms([step_fn(name, True), step_fn(name, False)], a.rounds, a.reps)
        print(f"{name:<16} {fused:>9.2f} {fallback:>12.2f} {fused / fallback:>6.2f}")


if __name__ == "__main__":
    main()
