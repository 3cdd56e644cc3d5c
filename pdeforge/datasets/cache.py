"""generate(name, n, s, seed, ...): reference data as a dict of arrays, cached as .npz keyed by a hash of every
parameter, written atomically (tmp file + os.replace). Cache dir: argument, else $PDEFORGE_CACHE, else
~/.cache/pdeforge/datasets.
"""
import hashlib
import json
import os
import tempfile

import numpy as np

from pdeforge.datasets import burgers, darcy, grf

MAX_VALUES = 2 * 10 ** 8  # refuse absurd sizes before allocating


def _burgers(n, s, seed, nu=0.1, t=1.0, dt=1e-3):
    a = grf.grf_1d(n, s, seed=seed)
    return {"a": a, "u": burgers.solve_burgers(a, [t], nu=nu, dt=dt)[:, 0]}


def _darcy(n, s, seed):
    a = grf.darcy_coefficient(grf.grf_2d(n, s, seed=seed))
    return {"a": a, "u": np.stack([darcy.solve_darcy(q) for q in a])}


GENERATORS = {"burgers": (_burgers, 1), "darcy": (_darcy, 2)}


def generate(name, n, s, seed=0, cache_dir=None, **params):
    if name not in GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(GENERATORS))}")
    fn, dim = GENERATORS[name]
    if n < 1 or s < 3 or n * s ** dim > MAX_VALUES:
        raise ValueError(f"dataset size n={n}, s={s} out of range (need n >= 1, s >= 3, n*s^{dim} <= {MAX_VALUES})")
    key = json.dumps({"name": name, "n": n, "s": s, "seed": seed, **params}, sort_keys=True)
    d = cache_dir or os.environ.get("PDEFORGE_CACHE") or os.path.expanduser("~/.cache/pdeforge/datasets")
    path = os.path.join(d, f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz")
    if os.path.exists(path):
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError):
            pass  # corrupt file: regenerate below
    out = fn(n, s, seed, **params)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".npz")
    with os.fdopen(fd, "wb") as fh:
        np.savez(fh, **out)
    os.replace(tmp, path)
    return out
