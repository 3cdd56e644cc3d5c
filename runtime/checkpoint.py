"""Checkpoints: one `.npz` written atomically (temp file, fsync, rename), holding the
parameters, the optimiser state's leaves and a JSON header — no pickle. The
optimiser state's structure is rebuilt from `opt.init(params)` on load."""
from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np

from pdeforge.dsl.diagnostics import error
from . import io

__all__ = ["NAME", "save", "load", "restore_opt_state"]

NAME = "checkpoint.npz"


def save(out: Path, params, opt_state, meta: dict, extra: dict | None = None):
    """`extra`: a dict of arrays or dicts of arrays (the batch, balancing weights)."""
    arrays = {f"p/{k}": v for k, v in io.flatten(jax.device_get(params)).items()}
    arrays.update({f"x/{k}": v for k, v in io.flatten(jax.device_get(extra or {})).items()})
    for i, leaf in enumerate(jax.tree_util.tree_leaves(jax.device_get(opt_state))):
        arrays[f"s/{i:05d}"] = np.asarray(leaf)
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=float).encode(), dtype=np.uint8)
    io.write_npz(Path(out) / NAME, arrays)


def load(path: Path) -> dict:
    p = Path(path)
    f = p / NAME if p.is_dir() else p
    if not f.exists():
        raise error("E413", f"no checkpoint at {f}", hint="pass the --out directory of an earlier `pdeforge run`")
    try:
        z = io.read_npz(f)
        meta = json.loads(bytes(z["meta"]).decode())
    except Exception as ex:
        raise error("E414", f"the checkpoint {f} is unreadable ({type(ex).__name__}): {ex}") from None
    params = io.unflatten({k[2:]: v for k, v in z.items() if k.startswith("p/")})
    leaves = [z[k] for k in sorted(k for k in z if k.startswith("s/"))]
    extra = io.unflatten({k[2:]: v for k, v in z.items() if k.startswith("x/")})
    return {"params": params, "opt_leaves": leaves, "meta": meta, "extra": extra}


def restore_opt_state(template, leaves):
    treedef = jax.tree_util.tree_structure(template)
    tl = jax.tree_util.tree_leaves(template)
    if len(tl) != len(leaves):
        raise error("E415", "the checkpoint's optimiser state does not fit this stage's optimiser")
    return jax.tree_util.tree_unflatten(treedef, [jax.numpy.asarray(v, dtype=t.dtype) for v, t in zip(leaves, tl)])
