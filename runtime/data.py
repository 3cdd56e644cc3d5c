"""Reference data (`.npz`, `.mat`, `.csv`) read without pickle, matched to the
problem's coordinates, with E4xx diagnostics that name the path and what was expected."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from pdeforge.dsl.diagnostics import error

__all__ = ["MAX_DATA_BYTES", "resolve", "read_arrays", "load_reference", "exact_grid"]

MAX_DATA_BYTES = 2_000_000_000


def resolve(path: str, base: Path, allow=(), span=None) -> Path:
    """Paths resolve relative to the .pde file; reading outside its tree needs --allow-path."""
    p = (base / path).resolve()
    roots = [base.resolve()] + [Path(a).resolve() for a in allow]
    if not any(p == r or r in p.parents for r in roots):
        raise error("E407", f"`{path}` lies outside the directory of the .pde file", span,
                    hint=f"pass `--allow-path {p.parent}` to read it")
    if not p.exists():
        raise error("E402", f"data file not found: {p}", span)
    if not p.is_file():     # a FIFO or device would block np.load; a directory is no data
        raise error("E402", f"data path is not a regular file: {p}", span)
    if p.stat().st_size > MAX_DATA_BYTES:
        raise error("E408", f"data file is larger than {MAX_DATA_BYTES:,} bytes: {p}", span)
    return p


def read_arrays(p: Path, span=None) -> dict:
    ext = p.suffix.lower()
    try:
        if ext == ".npz":
            with np.load(p, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        if ext == ".mat":
            from scipy.io import loadmat
            m = loadmat(p)
            return {k: v for k, v in m.items() if not k.startswith("__")}
        if ext == ".csv":
            with open(p, encoding="utf-8") as f:
                header = f.readline().strip()
            names = [h.strip().strip('"') for h in header.split(",")]
            with warnings.catch_warnings():      # an empty file: our E410 below, not numpy's warning
                warnings.simplefilter("ignore", UserWarning)
                data = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2)
            if data.size == 0:
                return {n: np.zeros(0) for n in names}
            if data.shape[1] != len(names):
                raise ValueError(f"header has {len(names)} columns, rows have {data.shape[1]}")
            return {n: data[:, i] for i, n in enumerate(names)}
        if ext in (".h5", ".hdf5"):
            return _read_h5(p, span)
    except Exception as ex:  # any parse failure is the file's fault, not ours
        if getattr(ex, "diagnostics", None):
            raise
        raise error("E403", f"cannot read {p} as a {ext} file: {ex}", span) from None
    raise error("E404", f"unsupported data file type `{ext}`: {p}", span, hint="use .npz, .mat, .csv or .h5")


def _read_h5(p: Path, span):
    """Every dataset of an HDF5 file by its path (`group/name`); h5py is optional."""
    try:
        import h5py
    except ImportError:
        raise error("E404", f"reading `.h5` files needs the h5py package, which is not installed: {p}", span,
                    hint="`pip install h5py`, or save the arrays as .npz") from None
    out = {}
    with h5py.File(p, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = np.asarray(obj[()])
        f.visititems(visit)
    return out


def load_reference(problem, ref, allow=()):
    """→ (points (M, D) in problem coordinate order, {field: values (M,)}, grid shape or None)."""
    base = Path(problem.file).parent if problem.file and problem.file != "<input>" else Path.cwd()
    p = resolve(ref.path, base, allow, ref.path_span)
    arrays = read_arrays(p, ref.path_span)
    coords = problem.coords

    def get(ours):
        name = ref.mapping.get(ours)
        if name is None:
            raise error("E405", f"the reference does not say which array of {p.name} holds `{ours}`", ref.span,
                        hint=f"add `{ours} = NAME`; {p.name} holds: {', '.join(sorted(arrays))}")
        if name not in arrays:
            raise error("E405", f"{p.name} has no array or column `{name}` (for `{ours}`)", ref.span,
                        hint=f"it holds: {', '.join(sorted(arrays))}")
        a = np.asarray(arrays[name])
        if a.dtype.kind not in "fiu":
            raise error("E406", f"`{name}` in {p.name} is not numeric (dtype {a.dtype})", ref.span)
        if a.size == 0:     # an empty reference would report a relative error of 0
            raise error("E410", f"`{name}` in {p.name} holds no values", ref.span)
        return a.astype(np.float64)

    cvals = [get(c) for c in coords]
    out = {}
    for f in ref.fields:
        v = get(f)
        if not np.all(np.isfinite(v)):
            bad = int(np.sum(~np.isfinite(v)))
            raise error("E409", f"`{ref.mapping[f]}` in {p.name} holds {bad} NaN or infinite values", ref.span)
        out[f] = v
    vals = list(out.values())
    sizes = [c.size for c in cvals]
    # scattered points: every array has one entry per point
    if all(c.size == vals[0].size for c in cvals) and vals[0].size > 0 and not _looks_like_grid(cvals, vals[0]):
        X = np.stack([c.reshape(-1) for c in cvals], 1)
        return X, {f: v.reshape(-1) for f, v in out.items()}, None
    # a grid: the value array's axes are the coordinates in some order
    shape = vals[0].shape
    sq = tuple(s for s in shape if s != 1) if len(shape) > len(coords) else shape
    order = _axis_order(sq, sizes)
    if order is None:
        raise error("E410", f"the shape {shape} of `{ref.mapping[ref.fields[0]]}` matches neither the grid of "
                            f"{' × '.join(f'{c} ({n})' for c, n in zip(coords, sizes))} nor one value per point", ref.span)
    axes = [cvals[i].reshape(-1) for i in order]
    mesh = np.meshgrid(*axes, indexing="ij")
    X = np.empty((mesh[0].size, len(coords)))
    for ax, ci in enumerate(order):
        X[:, ci] = mesh[ax].reshape(-1)
    fields = {}
    for f, v in out.items():
        if v.size != X.shape[0]:
            raise error("E410", f"`{ref.mapping[f]}` has {v.size} values; the grid has {X.shape[0]} points", ref.span)
        fields[f] = v.reshape(-1)
    return X, fields, tuple(len(a) for a in axes)


def _looks_like_grid(cvals, v):
    return v.ndim >= 2 and sum(s > 1 for s in v.shape) == len(cvals) and all(c.size in v.shape for c in cvals) \
        and not all(c.shape == v.shape for c in cvals)


def _axis_order(shape, sizes):
    """Which coordinate each axis of `shape` is; the declared order wins ties."""
    import itertools
    for perm in itertools.permutations(range(len(sizes))):
        if len(shape) == len(sizes) and all(shape[a] == sizes[perm[a]] for a in range(len(sizes))):
            return list(perm)
    return None


def exact_grid(lowered, n_total=20000):
    """A tensor grid over the domain for error reports against an exact solution."""
    D = lowered.D
    n = max(5, int(round(n_total ** (1.0 / D))))
    axes = [np.linspace(lo, hi, n) for lo, hi in zip(lowered.lo, lowered.hi)]
    mesh = np.meshgrid(*axes, indexing="ij")
    X = np.stack([m.reshape(-1) for m in mesh], 1)
    geo = getattr(lowered.ir.checked, "geometry", None)
    if geo is not None:              # a shaped domain: the grid points inside it (no grid shape for plots)
        return X[geo.inside(X[:, :geo.dim])], None
    return X, tuple(len(a) for a in axes)
