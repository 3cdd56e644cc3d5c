"""The benchmark: for each case, one training step (value and gradient of the whole
loss, jitted) of the compiled .pde problem and of hand-written JAX baselines of the same
network, points and loss, timed in the same process.

    python -m bench                 # every case, ~3-5 minutes on 2 CPU cores
    python -m bench --quick         # fewer repeats
    python -m bench ks poisson-nd-100 --repeats 30 --out results.json

Prints ms/step (median over interleaved repeats after warm-up), ratios, compiled
temporary memory, time-to-first-step; writes a JSON of the results. Before timing, every
baseline's loss and gradient must agree with the compiled problem's (LOSS_RTOL,
GRAD_RTOL): a disagreement stops the bench with exit status 1 and names the case and
method, since timing two programs that compute different things means nothing."""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = {
    "burgers-small": "burgers_small.pde",
    "burgers-pinnacle": "burgers_pinnacle.pde",
    "ks": "ks.pde",
    "poisson-nd-5": "poisson5.pde",
    "poisson-nd-20": "poisson20.pde",
    "poisson-nd-100": "poisson100.pde",
}
METHODS = ("compiled", "taylor", "jet", "nested_grad")
# summing 100 separate jet towers takes minutes to compile and is never the best
# forward-mode baseline at d = 100 (the forward Laplacian is); `--all-methods` keeps it
SLOW = {"poisson-nd-100": {"jet"}}
# agreement with the compiled step, relative (float32): the largest seen in bench/results.json
# are 3.2e-7 (loss) and 2.4e-5 (gradient, nested_grad at d = 20), so these leave a margin of 4-30x
LOSS_RTOL = 1e-5
GRAD_RTOL = 1e-4


class Disagreement(Exception):
    """A baseline's loss or gradient differs from the compiled problem's beyond tolerance."""


def check_agreement(res, loss_rtol=LOSS_RTOL, grad_rtol=GRAD_RTOL):
    """Raise Disagreement naming every method of the case result `res` whose relative loss or
    largest relative gradient difference from the compiled step exceeds the tolerance."""
    bad = [f"{m}: loss differs by {v['rel_loss_diff']:.2e} (tolerance {loss_rtol:.0e}), "
           f"gradient by {v['max_rel_grad_diff']:.2e} (tolerance {grad_rtol:.0e})"
           for m, v in res["methods"].items()
           if not (v["rel_loss_diff"] <= loss_rtol and v["max_rel_grad_diff"] <= grad_rtol)]   # NaN fails too
    if bad:
        raise Disagreement(f"case {res['case']}: baselines disagree with the compiled problem — " + "; ".join(bad))


def _block(x):
    import jax
    return jax.block_until_ready(x)


def _mem_mib(jitted, *args):
    try:
        m = jitted.lower(*args).compile().memory_analysis()
        return round((m.temp_size_in_bytes + m.output_size_in_bytes) / 2**20, 2)
    except Exception:        # not every backend reports it
        return None


def run_case(name, repeats, budget_s, methods, all_methods=False):
    methods = [m for m in methods if all_methods or m not in SLOW.get(name, ())]
    import jax
    import jax.numpy as jnp
    import pdeforge
    from bench import baselines

    t0 = time.perf_counter()
    prob = pdeforge.load(HERE / "cases" / CASES[name])
    t_load = time.perf_counter() - t0
    params = prob.init(jax.random.PRNGKey(0))
    batch = prob.sample(0)
    base = baselines.for_case(name, prob)
    fns = {"compiled": prob.loss, "taylor": base.taylor, "jet": base.jet, "nested_grad": base.nested_grad}
    steps = {m: jax.jit(jax.value_and_grad(fns[m])) for m in methods}

    res = {"case": name, "points": {k: int(v.shape[0]) for k, v in batch.items()},
           "params": int(prob.lowered.param_count), "dsl_compiler_s": round(t_load, 3), "methods": {}}
    ref = None
    for m in methods:
        t1 = time.perf_counter()
        val, grads = _block(steps[m](params, batch))
        first = time.perf_counter() - t1
        if ref is None:
            ref = (val, grads)
        gerr = max(float(jnp.max(jnp.abs(a - b)) / (float(jnp.max(jnp.abs(b))) + 1e-30))
                   for a, b in zip(jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(ref[1])))
        res["methods"][m] = {"first_step_s": round(first + (t_load if m == "compiled" else 0.0), 3),
                             "xla_first_call_s": round(first, 3), "loss": float(val),
                             "rel_loss_diff": abs(float(val) - float(ref[0])) / (abs(float(ref[0])) + 1e-30),
                             "max_rel_grad_diff": gerr, "temp_mib": _mem_mib(steps[m], params, batch)}
        _block(steps[m](params, batch))           # second warm-up call
    check_agreement(res)
    # interleaved repeats: every round times each method once, so load from other
    # processes on the machine hits all methods alike; each round in a fresh (seeded)
    # order, since a call right after another method's step runs on caches that one
    # left behind (measured: the step after the jet baseline up to 18% slower)
    times = {m: [] for m in methods}
    order = random.Random(0)
    start = time.perf_counter()
    for r in range(repeats):
        for m in order.sample(methods, len(methods)):
            if r >= 7 and sum(times[m]) > budget_s:
                continue
            t1 = time.perf_counter()
            _block(steps[m](params, batch))
            times[m].append(time.perf_counter() - t1)
        if r >= 7 and time.perf_counter() - start > 6 * budget_s:
            break
    for m in methods:
        res["methods"][m]["ms_per_step"] = round(1e3 * statistics.median(times[m]), 3)
        res["methods"][m]["repeats"] = len(times[m])
    # ratios: median over rounds of the paired ratio (same round, back to back), which
    # cancels most of the drift in load on a shared machine
    def ratio(m):
        n = min(len(times["compiled"]), len(times[m]))
        return round(statistics.median(a / b for a, b in zip(times["compiled"][:n], times[m][:n])), 3)
    fwd = [m for m in ("taylor", "jet") if m in methods]
    if fwd:
        best = min(fwd, key=lambda m: res["methods"][m]["ms_per_step"])
        res["best_forward"] = best
        res["compiled_over_best_forward"] = ratio(best)
    if "nested_grad" in methods:
        res["compiled_over_nested_grad"] = ratio("nested_grad")
    return res


def _print_case(r):
    print(f"\n{r['case']}: points {r['points']}, {r['params']:,} parameters, dsl+compiler {r['dsl_compiler_s']:.2f} s")
    print(f"  {'method':<12} {'ms/step':>9} {'first step s':>13} {'temp MiB':>9} {'loss':>12} {'Δgrad (rel)':>12}")
    for m, v in r["methods"].items():
        temp = v['temp_mib'] if v['temp_mib'] is not None else '-'
        print(f"  {m:<12} {v['ms_per_step']:>9.2f} {v['first_step_s']:>13.2f} {temp:>9} "
              f"{v['loss']:>12.5g} {v['max_rel_grad_diff']:>12.1e}")
    if "best_forward" in r:
        print(f"  compiled / best hand-written forward ({r['best_forward']}): {r['compiled_over_best_forward']:.3f}")
    if "compiled_over_nested_grad" in r:
        print(f"  compiled / nested grad: {r['compiled_over_nested_grad']:.3f}")
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help=f"cases to run (default all): {', '.join(CASES)}")
    ap.add_argument("--quick", action="store_true", help="fewer repeats (about half the time)")
    ap.add_argument("--repeats", type=int, default=None, help="timed rounds per case (default 15, quick 5)")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ",".join(METHODS))
    ap.add_argument("--all-methods", action="store_true", help="also the slow-to-compile baselines (jet at d = 100)")
    ap.add_argument("--out", default=str(HERE / "results.json"), help="where to write the JSON")
    a = ap.parse_args(argv)
    unknown = [c for c in a.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    methods = [m for m in a.methods.split(",") if m]
    if "compiled" not in methods:
        methods.insert(0, "compiled")
    repeats = a.repeats or (5 if a.quick else 15)
    budget = 3.0 if a.quick else 8.0
    import jax
    machine = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
               "cpus": os.cpu_count(), "python": platform.python_version(), "jax": jax.__version__,
               "backend": jax.default_backend(), "device": str(jax.devices()[0])}
    print(f"pdeforge bench — {machine['device']}, {machine['cpus']} CPUs, jax {machine['jax']}; "
          f"median of up to {repeats} interleaved repeats after warm-up")
    results = []
    t0 = time.perf_counter()
    for c in a.cases or list(CASES):
        try:
            r = run_case(c, repeats, budget, methods, a.all_methods)
        except Disagreement as e:
            raise SystemExit(f"bench: {e}") from None
        _print_case(r)
        results.append(r)
    out = {"machine": machine, "repeats": repeats, "wall_s": round(time.perf_counter() - t0, 1),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "cases": results}
    print(f"\n{'case':<18} {'compiled':>9} {'best fwd':>9} {'nested':>9} {'c/fwd':>7} {'c/nested':>9}   (ms/step)")
    for r in results:
        M = r["methods"]
        print(f"{r['case']:<18} {M['compiled']['ms_per_step']:>9.2f} "
              f"{M[r['best_forward']]['ms_per_step'] if 'best_forward' in r else float('nan'):>9.2f} "
              f"{M['nested_grad']['ms_per_step'] if 'nested_grad' in M else float('nan'):>9.2f} "
              f"{r.get('compiled_over_best_forward', float('nan')):>7.3f} "
              f"{r.get('compiled_over_nested_grad', float('nan')):>9.3f}")
    print(f"peak RSS {out['peak_rss_mib']} MiB; total {out['wall_s']} s; results in {a.out}")
    Path(a.out).write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
