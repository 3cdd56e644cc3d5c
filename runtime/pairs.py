"""Paired data of an operator program: input functions and fields sampled on the grid.

`from_file` reads a `pairs from "FILE" (u0 = a, u = u)` file (.npz, .mat, .h5 through
runtime/data.py: regular files only, sizes checked, no pickle) and checks every named
array is there (E418) with the shape the grid says, (N, *grid), and one N for all
(E419). `split` takes the training and test sets. Pairs made by a reference solver come
from `pdeforge.datasets` through the front door (the runtime does not import it)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pdeforge.dsl.diagnostics import error

from .data import read_arrays, resolve

__all__ = ["from_file", "stack", "split", "DEFAULT_TEST_FRACTION"]

DEFAULT_TEST_FRACTION = 0.2     # a file's pairs without `pairs test = M`: the last fifth is held out


def from_file(checked, lowered, file: str, allow=()) -> dict:
    """{name: (N, *grid) array} for every input function and field the `pairs` line maps."""
    spec = checked.pairs
    base = Path(file).parent if file not in ("<input>", None) else Path.cwd()
    p = resolve(spec["path"], base, allow, spec["span"])
    arrays = read_arrays(p, spec["span"])
    out = {}
    for ours, theirs in spec["mapping"].items():
        if theirs not in arrays:
            raise error("E418", f"{p.name} has no array `{theirs}` (for `{ours}`)", spec["span"],
                        hint=f"its arrays: {', '.join(sorted(arrays)) or 'none'}")
        a = np.asarray(arrays[theirs])
        if a.dtype.kind not in "fiu":
            raise error("E419", f"array `{theirs}` of {p.name} holds {a.dtype}, not numbers", spec["span"])
        # a point-sampled operator's inputs are its sensors, on the inputs' own grid
        shape = tuple(getattr(lowered, "in_shape", lowered.shape)) if ours in lowered.inputs else tuple(lowered.shape)
        if a.ndim != 1 + len(shape) or a.shape[1:] != shape:
            raise error("E419", f"array `{theirs}` of {p.name} has shape {a.shape}; the grid needs (N, "
                        f"{', '.join(str(s) for s in shape)})", spec["span"],
                        hint="set `grid` to the data's resolution: " + ", ".join(
                            f"{c} = {s}" for c, s in zip(checked.grid, a.shape[1:])) if a.ndim == 1 + len(shape)
                        else "one sample per row, then the grid's axes")
        out[ours] = a.astype(np.float64)
    ns = {k: v.shape[0] for k, v in out.items()}
    if len(set(ns.values())) > 1:
        raise error("E419", "the arrays hold different numbers of pairs: "
                    + ", ".join(f"`{k}` {n}" for k, n in ns.items()), spec["span"])
    return out


def stack(lowered, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    """(a, u): inputs (N, *grid, n_inputs) and fields (N, *grid, n_fields), in declared order."""
    a = np.stack([arrays[n] for n in lowered.inputs], axis=-1)
    u = np.stack([arrays[f] for f in lowered.fields], axis=-1)
    return a, u


def split(checked, a, u, span=None) -> dict:
    """The first `train` pairs to train on, the next `test` to test on."""
    n = a.shape[0]
    counts = checked.train.get("pairs", {})
    test = counts.get("test", max(1, int(round(n * DEFAULT_TEST_FRACTION))))
    train = counts.get("train", n - test)
    if train + test > n:
        raise error("E419", f"`pairs train = {train}, test = {test}` asks for {train + test} pairs; "
                    f"the data hold {n}", span, hint=f"ask for at most {n} in all")
    return {"a_train": a[:train], "u_train": u[:train], "a_test": a[train:train + test], "u_test": u[train:train + test]}
