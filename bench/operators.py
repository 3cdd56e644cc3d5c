"""Inference of a compiled operator against the reference solver on the same held-out
inputs (issue 18: "operator prediction for 200 inputs / the reference solver on the same
200 inputs"; Li et al. 2021 report up to three orders of magnitude).

    python -m bench.operators                       # both examples, 200 inputs, 5 rounds
    python -m bench.operators --case burgers --n 200

For each example file it compiles the program (`pdeforge.load`), draws fresh parameters
(the cost of a forward pass does not depend on their values), and times the jitted
`predict` on the N held-out inputs of its own pairs, one call for all N, alternating
with the reference solver (`pdeforge.datasets.solve`, batched where it vectorises) on
the same inputs, in one process; each figure is the median of the rounds. The solver
solves at the example's grid (`fine` off): solving on a fine grid, as the data do,
costs more, so the ratio is a lower bound."""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import jax

import pdeforge
from pdeforge import datasets

EX = Path(__file__).resolve().parent.parent / "examples"
CASES = {"burgers": ("operator_burgers_fno.pde", {"nu": 0.1, "t": 1.0}), "darcy": ("operator_darcy_fno.pde", {})}


def time_case(name, n=200, rounds=5):
    file, solver_kw = CASES[name]
    prob = pdeforge.load(EX / file)
    ch = prob.checked
    fn = ch.inputs[prob.inputs[0]]
    params = {"sigma": fn.sigma, "tau": fn.tau, "gamma": fn.gamma}
    if fn.kind == "threshold":
        params.update(high=fn.high, low=fn.low)
    s = prob.lowered.shape[0]
    a = datasets.inputs(ch.pairs["solver"], n, s, seed=1, **params)     # held-out-like inputs, at the grid
    from pdeforge.compiler.operator import Normaliser
    prob.norm = Normaliser.of(a[..., None])
    p = jax.jit(prob.init)(jax.random.PRNGKey(0))
    predict = jax.jit(lambda p, a: prob.predict(p, a)[prob.fields[0]])
    jax.block_until_ready(predict(p, a))                   # compile outside the timing
    t_op, t_ref = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        jax.block_until_ready(predict(p, a))
        t_op.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        datasets.solve(ch.pairs["solver"], a, **solver_kw)
        t_ref.append(time.perf_counter() - t0)
    op, ref = statistics.median(t_op), statistics.median(t_ref)
    return {"case": name, "n": n, "grid": list(prob.lowered.shape), "operator_s": op, "solver_s": ref,
            "solver_over_operator": ref / op}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=sorted(CASES), action="append")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    out = [time_case(c, args.n, args.rounds) for c in (args.case or sorted(CASES))]
    for r in out:
        print(f"{r['case']}: {r['n']} inputs on {'x'.join(map(str, r['grid']))}: operator {r['operator_s']:.3f} s, "
              f"solver {r['solver_s']:.3f} s, solver / operator = {r['solver_over_operator']:.1f}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
