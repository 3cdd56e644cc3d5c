"""What hard conditions cost per training step: each hard-constrained example against the
same problem trained soft, and the hard curvature layer (`d(u, x, 2) = 0 ... hard`) with
the derivative engine's constant folding off (its face branches then carry Taylor towers
along the face normal, as before the folding). One step = value and gradient of the whole
loss, jitted; the example's own points and network; all in one process.

    python -m bench.hard_cost [--rounds 5] [--reps 3]

Timed as bench/hard.py times (`best_ms`); ratios are to the case's first row."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import jax

import pdeforge
from bench.hard import best_ms
from pdeforge.compiler.derivatives import folding as derivatives   # derivatives.FOLD: the folding switch

EX = Path(__file__).resolve().parent.parent / "examples"
BENT = "condition bent:    d(u, x, 2) = 0   on x = -1, x = 1 hard\n"


def _text(name):
    return (EX / f"{name}.pde").read_text()


def _soft(text):
    """The same problem with every `hard` marker removed (the conditions become loss terms)."""
    return re.sub(r"[ \t]+hard\b(\([^)]*\))?", "", text)


def _without(text, label):
    return "".join(l for l in text.splitlines(True) if not l.startswith(f"condition {label}:"))


def _with_bent(text):
    if re.search(r"^condition bent:", text, re.M):
        return text
    return re.sub(r"(condition walls:[^\n]*\n)", lambda m: m.group(1) + BENT, text)


def cases():
    """{case: [(variant, .pde text, fold)]}; the first variant is the baseline."""
    hard = _text("burgers_hard")
    return {
        "burgers": [("soft (burgers.pde)", _text("burgers"), True),
                    ("hard values", _without(_with_bent(hard), "bent"), True),
                    ("hard values + curvature", _with_bent(hard), True),
                    ("hard values + curvature, no folding", _with_bent(hard), False)],
        "poisson_neumann": [("soft", _soft(_text("poisson_neumann")), True),
                            ("hard values + flux", _text("poisson_neumann"), True),
                            ("hard values + flux, no folding", _text("poisson_neumann"), False)],
        "wave1d": [("soft (wave1d_soft.pde)", _text("wave1d_soft"), True),
                   ("hard values + rate", _text("wave1d"), True)],
    }


def step_fn(text, fold):
    """A jitted value-and-gradient of the problem's loss, traced (on its first call, here)
    with constant folding on or off."""
    pb = pdeforge.loads(text, str(EX / "bench.pde"))
    params, batch = pb.init(jax.random.PRNGKey(0)), pb.sample(0)
    f = jax.jit(jax.value_and_grad(pb.loss))
    derivatives.FOLD = fold
    try:
        jax.block_until_ready(f(params, batch))
    finally:
        derivatives.FOLD = True
    return lambda: jax.block_until_ready(f(params, batch))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=",".join(cases()))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args(argv)
    all_cases = cases()
    print(f"{'case':<16} {'variant':<38} {'ms/step':>8} {'ratio':>6}")
    for name in a.cases.split(","):
        variants = all_cases[name]
        best = best_ms([step_fn(text, fold) for _, text, fold in variants], a.rounds, a.reps)
        for (label, _, _), ms in zip(variants, best):
            print(f"{name:<16} {label:<38} {ms:>8.2f} {ms / best[0]:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
