"""Files written so that a crash never leaves a truncated one (temp file, fsync,
rename), and read back without pickle."""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_json", "write_npz", "read_npz", "flatten", "unflatten"]


def _atomic_write(path: Path, data: bytes):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_json(path, obj):
    _atomic_write(path, (json.dumps(obj, indent=1, default=_jsonable) + "\n").encode())


def _jsonable(x):
    if hasattr(x, "tolist"):
        return x.tolist()
    return str(x)


def write_npz(path, arrays: dict):
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    _atomic_write(path, buf.getvalue())


def read_npz(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def flatten(tree, prefix="") -> dict:
    """Nested dicts of arrays → {"a/b/c": array}."""
    out = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "/"))
        else:
            out[key] = np.asarray(v)
    return out


def unflatten(flat: dict) -> dict:
    tree = {}
    for key, v in flat.items():
        parts = key.split("/")
        d = tree
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = v
    return tree
