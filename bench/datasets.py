"""Cost of the operator-learning reference data (issue 18): generating the FNO-style training and test sets, and the
reference solver's time per input on held-out inputs, the number an operator's inference time is compared with.

    python -m bench.datasets                         # Burgers 1000 + 200 at s = 256 from fine = 1024, Darcy 100 at 85
    python -m bench.datasets --burgers-fine 8192 --darcy-fine 421 --out datasets.json   # the FNO paper's grids

Generation runs in a fresh temporary cache directory (no cache hits). Timings are wall-clock seconds of one run on
whatever machine runs it (numpy + scipy on the CPU, single process); a shared machine makes them noisy, so the
solver time per input is the fastest of `repeats` runs. solver_seconds(name, a) times the reference solver on given
inputs, for comparing against an operator on the same held-out inputs."""
from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time

import numpy as np

from pdeforge import datasets


def solver_seconds(name, a, repeats=3, batched=True, **params):
    """Seconds per input of the reference solver datasets.solve(name, ...) on the inputs `a` ((n, s) Burgers initial
    data or (n, s, s) Darcy coefficients), the fastest of `repeats` runs. batched=True solves all n in one call (the
    Burgers solver vectorises over the batch; Darcy loops anyway); batched=False solves them one at a time."""
    a = np.asarray(a, dtype=float)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        if batched:
            datasets.solve(name, a, **params)
        else:
            for q in a:
                datasets.solve(name, q[None], **params)
        best = min(best, time.perf_counter() - t0)
    return best / len(a)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _rel(x, ref):
    """Mean over samples of the relative L2 difference (the FNO papers' error measure)."""
    ax = tuple(range(1, ref.ndim))
    return float(np.mean(np.sqrt(np.sum((x - ref) ** 2, axis=ax) / np.sum(ref ** 2, axis=ax))))


def run(burgers_fine=1024, darcy_fine=85, n_train=1000, n_test=200, n_darcy=100, s_burgers=256, s_darcy=85,
        repeats=3, dt=1e-3):
    res = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "python": platform.python_version()}
    with tempfile.TemporaryDirectory() as d:
        kw = dict(cache_dir=d, fine=burgers_fine, dt=dt)
        tr, t_tr = _timed(lambda: datasets.generate("burgers", n_train, s_burgers, seed=0, **kw))
        te, t_te = _timed(lambda: datasets.generate("burgers", n_test, s_burgers, seed=1, **kw))
        res["burgers_generate"] = {"n": n_train + n_test, "s": s_burgers, "fine": burgers_fine, "dt": dt,
                                   "seconds_train": t_tr, "seconds_test": t_te, "seconds": t_tr + t_te}
        dk, t_dk = _timed(lambda: datasets.generate("darcy", n_darcy, s_darcy, seed=0, cache_dir=d, fine=darcy_fine))
        res["darcy_generate"] = {"n": n_darcy, "s": s_darcy, "fine": darcy_fine, "seconds": t_dk}
        held = datasets.generate("darcy", n_test, s_darcy, seed=1, cache_dir=d)["a"]   # 200 held-out coefficients
    res["burgers_solver_per_input"] = {
        "n": n_test, "s": s_burgers, "dt": dt,
        "batched": solver_seconds("burgers", te["a"], repeats, dt=dt),
        "one_at_a_time": solver_seconds("burgers", te["a"][:20], 1, batched=False, dt=dt)}
    res["darcy_solver_per_input"] = {"n": n_test, "s": s_darcy, "seconds": solver_seconds("darcy", held, repeats)}
    # the fine solve is the reference the data hold; its cost per input is about the test set's generation time
    res["burgers_solver_per_input"]["fine_batched"] = t_te / n_test
    # solving the s-point restriction of u0 at s instead differs from the restricted fine solve: the rough GRF's
    # modes above s/2 alias (Burgers), the interface is resolved to O(h) (Darcy)
    res["burgers_coarse_vs_fine_rel_l2"] = _rel(datasets.solve("burgers", te["a"], dt=dt), te["u"])
    if darcy_fine != s_darcy:
        res["darcy_coarse_vs_fine_rel_l2"] = _rel(datasets.solve("darcy", dk["a"]), dk["u"])
    del tr
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.datasets", description=__doc__.split("\n\n")[0])
    ap.add_argument("--burgers-fine", type=int, default=1024)
    ap.add_argument("--darcy-fine", type=int, default=85)
    ap.add_argument("--dt", type=float, default=1e-3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--n-darcy", type=int, default=100)
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args(argv)
    res = run(burgers_fine=args.burgers_fine, darcy_fine=args.darcy_fine, dt=args.dt, repeats=args.repeats,
              n_train=args.n_train, n_test=args.n_test, n_darcy=args.n_darcy)
    b, dg = res["burgers_generate"], res["darcy_generate"]
    print(f"burgers: {b['n']} pairs at s={b['s']} from fine={b['fine']} (dt={b['dt']:g}): {b['seconds']:.1f} s "
          f"(train {b['seconds_train']:.1f} s, test {b['seconds_test']:.1f} s)")
    print(f"darcy:   {dg['n']} pairs at {dg['s']}x{dg['s']} from fine={dg['fine']}: {dg['seconds']:.1f} s")
    bs, ds = res["burgers_solver_per_input"], res["darcy_solver_per_input"]
    print(f"reference solver per input, {bs['n']} held-out inputs: burgers s={bs['s']} {1e3 * bs['batched']:.2f} ms batched, "
          f"{1e3 * bs['one_at_a_time']:.1f} ms one at a time, {1e3 * bs['fine_batched']:.1f} ms at fine={b['fine']}; "
          f"darcy {ds['s']}x{ds['s']} {1e3 * ds['seconds']:.1f} ms")
    print(f"burgers: solving at s={b['s']} instead of restricting the fine solve: relative L2 difference "
          f"{res['burgers_coarse_vs_fine_rel_l2']:.1e}")
    if "darcy_coarse_vs_fine_rel_l2" in res:
        print(f"darcy: solving at {dg['s']} instead of restricting the fine solve: relative L2 difference "
              f"{res['darcy_coarse_vs_fine_rel_l2']:.1e}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
