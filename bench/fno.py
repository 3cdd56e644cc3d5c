"""The stdlib `fno` built from the language (graph builder + `make_apply`) against the
same Fourier neural operator written by hand in jax.numpy, with the same parameter
values: one jitted training step each (mean relative L2 loss over a batch, its
gradient, an optax Adam update), timed side by side in one process. Target (issue 18):
compiled / hand-written <= 1.05.

    python -m bench.fno [--batch 20] [--s 256] [--width 64] [--modes 16] [--layers 4] [--rounds 15]

The hand-written network follows Li et al.'s fourier_1d.py (zongyi-li/fourier_neural_
operator) in JAX's channels-last layout, written as fast as we know how: real and
imaginary weights as two arrays (modes, in, out), made complex by `lax.complex` and
multiplied as one einsum (Li et al.'s own (in, out, modes) layout measured 5-8 %
slower here). XLA's FLOP and byte counts of both compiled steps are
printed too: unlike wall time they do not move with the machine's load. Before timing, the two
outputs must agree to 1e-5 (relative to their largest value) and the gradients to 1e-4,
or the bench stops: timing two programs that compute different things means nothing.
Rounds alternate the two steps in a fresh seeded order; the ratio is the median of the
per-round ratios. XLA and BLAS run single-threaded unless the environment says
otherwise (as bench/architectures.py: on a shared 2-core machine threads make timings
swing)."""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pdeforge import modules
from pdeforge.compiler import network
from pdeforge.dsl import ast as A
from pdeforge.dsl import parse

OUT_RTOL, GRAD_RTOL = 1e-5, 1e-4


def compiled_fno(line: str, n_in: int, n_out: int = 1):
    """The layer graph of `model u = LINE` over the stdlib, and its apply."""
    prog = parse("model u = " + line + "\n", "<bench>")
    archs = {a.name: a for a in modules._stdlib_module("nets").of(A.Architecture)}
    m = prog.of(A.Model)[0]
    g = network.build_graph(archs[m.arch], m.call, n_in, n_out, archs=archs)
    return g, network.make_apply(g)


# ---- the hand-written FNO ----------------------------------------------------------------
def hand_fno(P, x, modes: int):
    """x (B, s, c) -> (B, s, 1). P: lift (W, b); per layer the spectral weights Kr, Ki
    (modes, in, out) and the pointwise (W, b); fc1, fc2."""
    s = x.shape[1]
    h = x @ P["lift"]["W"] + P["lift"]["b"]
    for i, layer in enumerate(P["layers"]):
        hf = jnp.fft.rfft(h, axis=1)[:, :modes]                                 # (B, m, c)
        K = jax.lax.complex(layer["Kr"], layer["Ki"])                          # (m, c, w)
        k = jnp.fft.irfft(jnp.einsum("bmi,mio->bmo", hf, K), n=s, axis=1)
        h = k + h @ layer["W"] + layer["b"]
        if i < len(P["layers"]) - 1:
            h = jax.nn.gelu(h)
    h = jax.nn.gelu(h @ P["fc1"]["W"] + P["fc1"]["b"])
    return h @ P["fc2"]["W"] + P["fc2"]["b"]


def to_hand(g, params):
    """The compiled network's parameter values in the hand-written layout. Reads the graph
    for the order of its layers: dense_0 lifts, then per Fourier layer one spectral and
    one dense node, then the two projection layers."""
    spec = sorted((n for n in params if n.startswith("spectral_")), key=lambda n: int(n.split("_")[1]))
    dense = sorted((n for n in params if n.startswith("dense_")), key=lambda n: int(n.split("_")[1]))
    assert len(dense) == len(spec) + 3, (spec, dense)
    lift, mid, fc1, fc2 = dense[0], dense[1:-2], dense[-2], dense[-1]
    layers = [{"Kr": params[k]["Wr"], "Ki": params[k]["Wi"],
               "W": params[d]["W"], "b": params[d]["b"]} for k, d in zip(spec, mid)]
    return {"lift": dict(params[lift]), "layers": layers, "fc1": dict(params[fc1]), "fc2": dict(params[fc2])}


def rel_l2(pred, y):
    """Mean over the batch of ‖pred − y‖ / ‖y‖ (Li et al.'s LpLoss, p = 2)."""
    d = (pred - y).reshape(y.shape[0], -1)
    return jnp.mean(jnp.linalg.norm(d, axis=1) / jnp.linalg.norm(y.reshape(y.shape[0], -1), axis=1))


def train_step(apply, opt):
    def step(P, o, x, y):
        loss, grads = jax.value_and_grad(lambda P: rel_l2(apply(P, x), y))(P)
        upd, o = opt.update(grads, o, P)
        return optax.apply_updates(P, upd), o, loss
    return jax.jit(step)


def data(batch, s, seed=0):
    """Inputs (a(x), x) with a a random band-limited periodic function; targets a smoothed copy."""
    rng = np.random.default_rng(seed)
    t = np.arange(s) / s
    k = np.arange(1, 17)[:, None]
    c = rng.normal(size=(2, batch, 16, 1)) / k
    a = (c[0] * np.cos(2 * np.pi * k * t) + c[1] * np.sin(2 * np.pi * k * t)).sum(1)
    y = np.fft.irfft(np.fft.rfft(a, axis=1) * np.exp(-0.01 * np.arange(s // 2 + 1) ** 2), n=s, axis=1)
    x = np.stack([a, np.broadcast_to(t, a.shape)], -1)
    return jnp.asarray(x, jnp.float32), jnp.asarray(y[..., None], jnp.float32)


def _cost(f, *args):
    """XLA's FLOPs and bytes accessed for the compiled program f(*args)."""
    ca = f.lower(*args).compile().cost_analysis()
    ca = ca[0] if isinstance(ca, list) else ca
    return float(ca.get("flops", float("nan"))), float(ca.get("bytes accessed", float("nan")))


def _max_rel(a, b):
    return float(jnp.max(jnp.abs(a - b)) / (jnp.max(jnp.abs(b)) + 1e-30))


def run(batch=20, s=256, width=64, modes=16, layers=4, rounds=15, seed=0):
    line = f"fno(modes = {modes}, width = {width}, layers = {layers})"
    g, apply = compiled_fno(line, 2)
    P = jax.jit(network.make_init(g, jnp.float32))(jax.random.PRNGKey(seed))
    H = to_hand(g, P)
    hand = lambda H, x: hand_fno(H, x, modes)        # noqa: E731
    x, y = data(batch, s, seed)
    out_c, out_h = jax.jit(apply)(P, x), jax.jit(hand)(H, x)
    err = _max_rel(out_c, out_h)
    gc = to_hand(g, jax.jit(jax.grad(lambda P: rel_l2(apply(P, x), y)))(P))
    gh = jax.jit(jax.grad(lambda H: rel_l2(hand(H, x), y)))(H)
    gerr = max(_max_rel(a, b) for a, b in zip(jax.tree_util.tree_leaves(gc), jax.tree_util.tree_leaves(gh)))
    if not (err <= OUT_RTOL and gerr <= GRAD_RTOL):
        raise SystemExit(f"bench.fno: compiled and hand-written FNO disagree: output {err:.2e} (tolerance "
                         f"{OUT_RTOL:.0e}), gradient {gerr:.2e} (tolerance {GRAD_RTOL:.0e})")
    opt = optax.adam(1e-3)
    steps = {"compiled": (train_step(apply, opt), P), "hand": (train_step(hand, opt), H)}
    state = {m: (p, opt.init(p)) for m, (_, p) in steps.items()}
    cost = {m: _cost(f, *state[m], x, y) for m, (f, _) in steps.items()}
    for m, (f, _) in steps.items():                 # compile + two warm-up calls
        for _ in range(2):
            state[m] = jax.block_until_ready(f(*state[m], x, y))[:2]
    times = {m: [] for m in steps}
    order = random.Random(seed)
    for _ in range(rounds):
        for m in order.sample(list(steps), len(steps)):
            f = steps[m][0]
            t0 = time.perf_counter()
            state[m] = jax.block_until_ready(f(*state[m], x, y))[:2]
            times[m].append(time.perf_counter() - t0)
    ratio = statistics.median(a / b for a, b in zip(times["compiled"], times["hand"]))
    return {"line": line, "batch": batch, "s": s, "params": network.param_count(g), "out_rel_diff": err,
            "grad_rel_diff": gerr, "ms": {m: 1e3 * statistics.median(v) for m, v in times.items()},
            "ratio": ratio, "rounds": rounds, "flops": {m: c[0] for m, c in cost.items()},
            "bytes": {m: c[1] for m, c in cost.items()}}


def main(argv=None):
    # before the first computation starts XLA's backend (importing jax does not); set here,
    # not at import, so that tests importing the reference keep their threads
    for k, v in {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
                 "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}.items():
        os.environ.setdefault(k, v)
    ap = argparse.ArgumentParser(prog="python -m bench.fno", description=__doc__.splitlines()[0])
    for name, default in (("batch", 20), ("s", 256), ("width", 64), ("modes", 16), ("layers", 4), ("rounds", 15)):
        ap.add_argument(f"--{name}", type=int, default=default)
    a = ap.parse_args(argv)
    r = run(a.batch, a.s, a.width, a.modes, a.layers, a.rounds)
    print(f"{r['line']}, batch {r['batch']}, s = {r['s']}: {r['params']:,} parameters; {jax.devices()[0]}, "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    print(f"  agreement: output {r['out_rel_diff']:.1e}, gradient {r['grad_rel_diff']:.1e} (relative)")
    print(f"  training step, median of {r['rounds']} alternating rounds: compiled {r['ms']['compiled']:.2f} ms, "
          f"hand-written {r['ms']['hand']:.2f} ms; compiled / hand-written {r['ratio']:.3f}")
    print(f"  XLA cost of the step: FLOPs {r['flops']['compiled']:.4g} / {r['flops']['hand']:.4g}, bytes accessed "
          f"{r['bytes']['compiled']:.4g} / {r['bytes']['hand']:.4g} (compiled / hand-written)")
    sys.stdout.flush()
    return r


if __name__ == "__main__":
    main()
