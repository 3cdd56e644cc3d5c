"""XLA's own cost count of one training step (value and gradient of the whole loss,
jitted) for the compiled problem and the hand-written baselines of a bench case: the
floating-point operations and bytes accessed that `cost_analysis()` reports for the
compiled program, and each count's relative difference from the first method's. Counts
that agree mean the two lower to the same amount of work, whatever the timing noise says.

    python -m bench.cost poisson-nd-5 poisson-nd-100 [--methods compiled,taylor]"""
from __future__ import annotations

import argparse

from bench.run import CASES, HERE


def costs(name, methods):
    """{method: (flops, bytes accessed)} of the jitted step on the case's own points."""
    import jax
    import pdeforge
    from bench import baselines

    prob = pdeforge.load(HERE / "cases" / CASES[name])
    params, batch = prob.init(jax.random.PRNGKey(0)), prob.sample(0)
    base = baselines.for_case(name, prob)
    fns = {"compiled": prob.loss, "taylor": base.taylor, "jet": base.jet, "nested_grad": base.nested_grad}
    out = {}
    for m in methods:
        ca = jax.jit(jax.value_and_grad(fns[m])).lower(params, batch).compile().cost_analysis()
        ca = ca[0] if isinstance(ca, list) else ca
        out[m] = (float(ca.get("flops", float("nan"))), float(ca.get("bytes accessed", float("nan"))))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="+", help=f"cases: {', '.join(CASES)}")
    ap.add_argument("--methods", default="compiled,taylor", help="comma-separated; the first is the reference")
    a = ap.parse_args(argv)
    methods = [m for m in a.methods.split(",") if m]
    print(f"{'case':<18} {'method':<12} {'flops':>16} {'bytes accessed':>16}  relative difference from {methods[0]}")
    for name in a.cases:
        c = costs(name, methods)
        f0, b0 = c[methods[0]]
        for m, (fl, by) in c.items():
            print(f"{name:<18} {m:<12} {fl:>16,.0f} {by:>16,.0f}  flops {abs(fl - f0) / f0:.1e}, bytes {abs(by - b0) / b0:.1e}",
                  flush=True)


if __name__ == "__main__":
    main()
