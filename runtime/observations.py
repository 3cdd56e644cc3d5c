"""Observations for inverse problems: `data NAME from "FILE" columns (...)` read
with runtime/data.py's loaders (no pickle, paths under the .pde file's directory
unless --allow-path), checked column by column, and packed as one fixed array per
data region: the coordinates in problem order, then the value columns."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pdeforge.dsl.diagnostics import error
from .data import read_arrays, resolve

__all__ = ["load_observations"]


def load_observations(lowered, file, allow=()) -> dict:
    """{region key: (N, D + k) float64 array} for every data region of `lowered`."""
    chk = lowered.ir.checked
    base = Path(file).parent if file and file != "<input>" else Path.cwd()
    out = {}
    for key, reg in lowered.ir.regions.items():
        if reg.kind != "data":
            continue
        stmt = chk.data[reg.data]
        out[key] = _load(stmt, lowered, base, allow, lowered.data_columns[key])
    return out


def _load(stmt, lowered, base, allow, value_cols):
    p = resolve(stmt.path, base, allow, stmt.path_span)
    arrays = read_arrays(p, stmt.path_span)
    cols = {c.name: c for c in stmt.columns}
    got, n = {}, None
    for c in stmt.columns:
        if c.source not in arrays:
            raise error("E405", f"{p.name} has no array or column `{c.source}` (for `{c.name}`)", c.span,
                        hint=f"it holds: {', '.join(sorted(arrays)) or 'nothing'}")
        a = np.asarray(arrays[c.source])
        if a.dtype.kind not in "fiu":
            raise error("E406", f"`{c.source}` in {p.name} is not numeric (dtype {a.dtype})", c.span)
        a = a.astype(np.float64).reshape(-1)
        if a.size == 0:
            raise error("E410", f"`{c.source}` in {p.name} holds no values", c.span)
        bad = int(np.sum(~np.isfinite(a)))
        if bad:
            raise error("E409", f"`{c.source}` in {p.name} holds {bad} NaN or infinite values", c.span,
                        hint="remove the rows with missing values from the file")
        if n is not None and a.size != n:
            first = stmt.columns[0]
            raise error("E410", f"`{c.source}` has {a.size} values, `{first.source}` has {n}: observations need "
                                f"one value per point in every column", c.span)
        n = a.size
        got[c.name] = a
    X = np.empty((n, lowered.D + len(value_cols)))
    for i, co in enumerate(lowered.ir.coords):
        if co.name not in got:
            X[:, i] = co.lo      # no field of any fit depends on it (checked): any value will do
            continue
        v = got[co.name]
        tol = 1e-6 * (co.hi - co.lo)
        if v.min() < co.lo - tol or v.max() > co.hi + tol:
            raise error("E417", f"the observations' `{co.name}` runs over [{v.min():g}, {v.max():g}], outside the "
                                f"domain's [{co.lo:g}, {co.hi:g}]", cols[co.name].span,
                        hint="check the column's units and that the columns are not swapped; "
                             "drop the observations that lie outside the domain")
        X[:, i] = np.clip(v, co.lo, co.hi)
    for j, c in enumerate(value_cols):
        X[:, lowered.D + j] = got[c]
    return X
