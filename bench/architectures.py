"""Time `apply` under jax.jit for every stdlib architecture built from the language
against the hand-written JAX reference of the same design (tests/test_architectures.py)
with the same weights. Target: ours / reference within 1.1.

    python bench/architectures.py [--points 4096] [--width 64] [--rounds 7]

Samples alternate between ours and the reference, and each keeps its fastest sample
(the least disturbed by other work on a shared machine). Unless the environment says
otherwise, XLA and BLAS/LAPACK run single-threaded: on a busy CPU multithreaded
kernels (the sandwich layers' matrix inverse above all) make timings swing 2x."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for k, v in {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
             "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}.items():
    os.environ.setdefault(k, v)

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_architectures as T                                    # noqa: E402
from pdeforge.compiler import network                             # noqa: E402


def cases(w):
    d = 4
    return {
        "mlp": (f"mlp(width = {w}, depth = {d})", lambda P, x: T.ref_mlp(P, x, d)),
        "resnet": (f"resnet(width = {w}, depth = {d})", lambda P, x: T.ref_resnet(P, x, d)),
        "modified_mlp": (f"modified_mlp(width = {w}, depth = {d})", lambda P, x: T.ref_modified(P, x, d)),
        "fourier_mlp": (f"fourier_mlp(width = {w}, depth = {d}, features = {w // 2})",
                        lambda P, x: T.ref_mlp(P, T.fourier_features(P, x), d)),
        "fourier_modified_mlp": (f"fourier_modified_mlp(width = {w}, depth = {d}, features = {w // 2})",
                                 lambda P, x: T.ref_modified(P, T.fourier_features(P, x), d)),
        "siren": (f"siren(width = {w}, depth = {d}, w0 = 30)", lambda P, x: T.ref_siren(P, x, d, 30.0)),
        "pirate": (f"pirate(width = {w}, blocks = 3, features = {w // 2})", lambda P, x: T.ref_pirate(P, x, 3)),
        "sandwich": (f"sandwich(width = {w}, depth = {d}, gamma = 2)", lambda P, x: T.ref_sandwich(P, x, d, 2.0)),
        "kan": (f"kan(width = {w // 4}, depth = {d}, grid = 5, order = 3)", _ref_kan(d)),
        "deeponet": (f"deeponet(width = {w}, depth = {d}, basis = {w // 2}, branch = 1)",
                     lambda P, x: T.ref_deeponet(P, x, d, w // 2, 1)),
        "monotone_mlp": (f"monotone_mlp(width = {3 * (w // 3)}, depth = {d}, monotone = (1, 0))",
                         lambda P, x: T.ref_monotone(P, x, d, (1, 0))),
    }


def _flops(f, *args):
    """XLA's own count of the compiled program's floating-point operations."""
    ca = f.lower(*args).compile().cost_analysis()
    ca = ca[0] if isinstance(ca, list) else ca
    return float(ca.get("flops", float("nan")))


def _ref_kan(depth):
    def ref(P, x):       # the reference's own layer loop; the spline basis is the library's
        h = x
        for i in range(depth + 1):
            p = P[f"kan_{i}"]
            B = network.bspline_basis(h, 5, 3)
            h = jax.nn.silu(h) @ p["W"] + jnp.einsum("nik,iko->no", B, p["C"])
        return h
    return ref


def best_time(f, args, reps):
    t = time.perf_counter()
    for _ in range(reps):
        y = f(*args)
    jax.block_until_ready(y)
    return (time.perf_counter() - t) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=4096)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    print(' '.join(sys.argv))
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; {a.points} points, 2 inputs, 1 output, float32")
    print(f"{'architecture':<22} {'params':>8} {'ours ms':>9} {'ref ms':>9} {'ratio':>6} {'flops ratio':>11}")
    worst = 0.0
    for name, (line, ref) in cases(a.width).items():
        g = T.build(line, 2, 1)
        P = T.perturbed(network.make_init(g, jnp.float32)(jax.random.PRNGKey(0)), jax.random.PRNGKey(1))
        x = jax.random.uniform(jax.random.PRNGKey(2), (a.points, 2), jnp.float32, -1, 1)
        ours, theirs = jax.jit(network.make_apply(g)), jax.jit(ref)
        fl = [_flops(f, P, x) for f in (ours, theirs)]
        jax.block_until_ready((ours(P, x), theirs(P, x)))
        to, tr = [], []
        for _ in range(a.rounds):
            to.append(best_time(ours, (P, x), a.reps))
            tr.append(best_time(theirs, (P, x), a.reps))
        r = min(to) / min(tr)
        worst = max(worst, r)
        print(f"{name:<22} {network.param_count(g):>8,} {1e3 * min(to):>9.3f} {1e3 * min(tr):>9.3f} {r:>6.2f}"
              f" {fl[0] / fl[1]:>11.3f}")
    print(f"worst ratio {worst:.2f} (target 1.10)")


if __name__ == "__main__":
    main()
