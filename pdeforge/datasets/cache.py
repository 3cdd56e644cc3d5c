"""generate(name, n, s, seed=0, cache_dir=None, **params): reference data as {"a": inputs, "u": solutions} (names:
burgers, darcy, antiderivative, diffusion_reaction; see generate),
cached as .npz keyed by a hash of every resolved parameter (defaults included, so generate("burgers", ...) and
generate("burgers", ..., nu=0.1) share a file) and of FORMAT, which changes whenever the data a key names change.
solve(name, a, **params) runs the same reference solver on given inputs (the held-out inputs an operator is compared
against).

Fine grids (the FNO paper generated Burgers at 8192 and Darcy at 421 and subsampled): with fine=F the data are solved
at F points (Burgers, F a multiple of s) or F x F nodes (Darcy, F - 1 a multiple of s - 1) and every (F/s)-th or
((F-1)/(s-1))-th point is returned, so training data at s = 256 and test data at s = 1024 drawn with the same fine,
seed and n are restrictions of one and the same solve (zero-shot super-resolution is then tested on the same
functions). Sample i comes from the random stream (seed, i), so the first m samples do not depend on n.

The cache file is never trusted: it must be a regular file (a symlink, FIFO or directory there is refused with a
ValueError), at most the size the key implies, hold exactly the arrays "a" and "u" with the expected shapes, float64
and finite, and is read with allow_pickle=False; anything else (truncated, garbage, wrong content) is discarded with a
warning and regenerated. Files are written atomically (temporary file in the same directory, then os.replace).
Cache dir: the argument, else $PDEFORGE_CACHE, else ~/.cache/pdeforge/datasets.
"""
import hashlib
import json
import math
import os
import stat
import tempfile
import warnings
import zipfile

import numpy as np

from pdeforge.datasets import antiderivative, burgers, darcy, diffusion_reaction, grf

MAX_VALUES = 2 * 10 ** 8  # refuse absurd sizes (n * fine^dim values per array) before allocating anything
FORMAT = 2  # 2: FNO GRF convention (no constant or Nyquist mode), per-sample streams, fine grids
CHUNK = 2 ** 16  # Burgers: values per batched solve; measured 2x faster than 2^18 at s = 1024 and 8192 (cache-sized)

DEFAULTS = {
    "burgers": {"nu": 0.1, "t": 1.0, "dt": 1e-3, "scheme": "ifrk4", "sigma": 25.0, "tau": 5.0, "gamma": 2.0},
    "darcy": {"sigma": 1.0, "tau": 3.0, "gamma": 2.0, "high": 12.0, "low": 3.0, "threshold": 0.0},
    # physics-informed DeepONet benchmarks (Wang, Wang & Perdikaris 2021): RBF-kernel inputs at the nodes i/(s-1)
    "antiderivative": {"length": 0.2, "variance": 1.0},
    "diffusion_reaction": {"length": 0.2, "variance": 1.0, "diffusion": 0.01, "reaction": 0.01, "nt": 100},
}
DIM = {"burgers": 1, "darcy": 2, "antiderivative": 1, "diffusion_reaction": 1}  # of the input's grid
MIN_S = {"burgers": 4, "darcy": 3, "antiderivative": 2, "diffusion_reaction": 3}
SOLVER_PARAMS = {"burgers": ("nu", "t", "dt", "scheme"), "darcy": (), "antiderivative": (),
                 "diffusion_reaction": ("diffusion", "reaction", "nt", "fine")}
RBF = ("antiderivative", "diffusion_reaction")


def _int(name, v, lo):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo} (got {v!r})")
    return int(v)


def _resolve(name, params):
    """Every parameter of `name` with defaults filled in, numbers as floats; unknown names raise."""
    if name not in DEFAULTS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(DEFAULTS))}")
    known = DEFAULTS[name]
    bad = sorted(set(params) - set(known))
    if bad:
        raise ValueError(f"dataset {name!r}: unknown parameter(s) {', '.join(bad)}; accepted: fine, {', '.join(known)}")
    out = {}
    for k, default in known.items():
        v = params.get(k, default)
        if isinstance(default, int):   # a count (diffusion_reaction's nt time nodes)
            v = _int(f"dataset {name!r}: {k}", v, 2)
        elif isinstance(default, str):
            if v not in burgers.SCHEMES:
                raise ValueError(f"dataset {name!r}: {k} must be one of {', '.join(burgers.SCHEMES)} (got {v!r})")
        elif isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"dataset {name!r}: {k} must be a finite number (got {v!r})")
        else:
            v = float(v)
        out[k] = v
    return out


def _fine(name, s, fine):
    """The solve grid and the stride of the returned subgrid. The RBF datasets sample their inputs at the s nodes
    themselves (the input is the piecewise-linear interpolant of those values): antiderivative has no solve grid,
    diffusion_reaction's x grid is a solver parameter (resolved in cache_path)."""
    if name == "antiderivative" and fine is not None:
        raise ValueError("antiderivative: no fine grid (the cumulative trapezoid rule is exact for its inputs)")
    if fine is None or name in RBF:
        return s, 1
    fine = _int("fine", fine, s)
    if name == "burgers" and fine % s:
        raise ValueError(f"burgers: fine={fine} must be a multiple of s={s} (points x_j = j/s)")
    if name == "darcy" and (fine - 1) % (s - 1):
        raise ValueError(f"darcy: fine - 1 = {fine - 1} must be a multiple of s - 1 = {s - 1} (nested node grids)")
    return fine, (fine // s if name == "burgers" else (fine - 1) // (s - 1))


def _burgers_batched(a, p):
    u, m = np.empty_like(a), max(1, CHUNK // a.shape[1])
    for i in range(0, len(a), m):
        u[i:i + m] = burgers.solve_burgers(a[i:i + m], [p["t"]], p["nu"], p["dt"], p["scheme"])[:, 0]
    return u


def _input(name, fine, seed, i, p):
    """Sample i of the stream `seed`: the input function on the fine grid."""
    if name == "burgers":
        return grf.grf_1d(1, fine, p["sigma"], p["tau"], p["gamma"], seed=(seed, i))[0]
    psi = grf.grf_2d(1, fine, p["sigma"], p["tau"], p["gamma"], seed=(seed, i))[0]
    return grf.darcy_coefficient(psi, p["high"], p["low"], p["threshold"])


def _rbf_inputs(n, s, seed, p):
    return grf.grf_rbf_1d(n, s, p["length"], p["variance"], seed=seed)


def _solve_rbf(name, a, p):
    if name == "antiderivative":
        return antiderivative.solve_antiderivative(a)
    return diffusion_reaction.solve_diffusion_reaction(a, p["nt"], p["diffusion"], p["reaction"], p["fine"])


def _make(name, n, fine, r, seed, p):
    if name in RBF:
        a = _rbf_inputs(n, fine, seed, p)
        return {"a": a, "u": _solve_rbf(name, a, p)}
    if name == "burgers":
        a = np.stack([_input(name, fine, seed, i, p) for i in range(n)])
        u = _burgers_batched(a, p)
        return {"a": np.ascontiguousarray(a[:, ::r]), "u": np.ascontiguousarray(u[:, ::r])}
    a = np.empty((n, (fine - 1) // r + 1, (fine - 1) // r + 1))
    u = np.empty_like(a)
    for i in range(n):
        q = _input(name, fine, seed, i, p)
        a[i], u[i] = q[::r, ::r], darcy.solve_darcy(q)[::r, ::r]
    return {"a": a, "u": u}


def inputs(name, n, s, seed=0, **params):
    """The inputs `generate(name, n, s, seed, **params)["a"]` holds, without solving for
    their outputs (label-free, physics-informed training draws only these); not cached:
    sampling costs far less than solving."""
    _, (n, fine, r, seed, p) = cache_path(name, n, s, seed, None, **params)
    if name in RBF:
        return _rbf_inputs(n, fine, seed, p)
    a = np.stack([_input(name, fine, seed, i, p) for i in range(n)])
    return np.ascontiguousarray(a[:, ::r] if name == "burgers" else a[:, ::r, ::r])


def cache_path(name, n, s, seed=0, cache_dir=None, **params):
    """Where generate() keeps (or would keep) these data, and the resolved (n, fine, stride, seed, params);
    validates exactly as generate does."""
    if name not in DEFAULTS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(DEFAULTS))}")
    n, s, seed = _int("n", n, 1), _int("s", s, MIN_S[name]), _int("seed", seed, 0)
    fine_arg = params.pop("fine", None)
    fine, r = _fine(name, s, fine_arg)
    p = _resolve(name, params)
    if n * fine ** DIM[name] > MAX_VALUES:
        raise ValueError(f"dataset {name!r}: n * fine^{DIM[name]} = {n} * {fine}^{DIM[name]} values exceeds the limit "
                         f"MAX_VALUES = {MAX_VALUES}; generate fewer samples or a coarser grid")
    if name == "diffusion_reaction":
        p["fine"] = _dr_fine(s, fine_arg)
        if n * s * p["nt"] > MAX_VALUES or n * p["fine"] > MAX_VALUES:
            raise ValueError(f"dataset {name!r}: n * s * nt = {n} * {s} * {p['nt']} values (or n * fine) exceeds the "
                             f"limit MAX_VALUES = {MAX_VALUES}; generate fewer samples or a coarser grid")
    key = json.dumps({"format": FORMAT, "name": name, "n": n, "s": s, "fine": fine, "seed": seed, **p}, sort_keys=True)
    d = cache_dir or os.environ.get("PDEFORGE_CACHE") or os.path.expanduser("~/.cache/pdeforge/datasets")
    return os.path.join(os.fspath(d), f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz"), (n, fine, r, seed, p)


def _dr_fine(s, fine):
    """diffusion_reaction's x grid: the solver's default (h <= 1/400) or a nested grid with fine - 1 a multiple of
    s - 1 (the sensors are fine nodes, so the input's kinks sit on nodes)."""
    if fine is None:
        return diffusion_reaction.default_fine(s)
    fine = _int("fine", fine, s)
    if (fine - 1) % (s - 1):
        raise ValueError(f"diffusion_reaction: fine - 1 = {fine - 1} must be a multiple of s - 1 = {s - 1} (nested node grids)")
    return fine


def _shapes(name, n, s, p):
    grid = (n,) + (s,) * DIM[name]
    return {"a": grid, "u": grid + (p["nt"],) if name == "diffusion_reaction" else grid}


def _read(path, shapes):
    """The cached arrays, or None when the file is missing or unusable (a warning says why); shapes: {"a": .., "u": ..}."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(st.st_mode):
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        raise ValueError(f"dataset cache entry {path} is {kind}; refusing to read it (remove it to regenerate)")
    nbytes = {k: 8 * math.prod(v) for k, v in shapes.items()}
    limit = sum(nbytes.values()) + 4096  # two float64 arrays, .npy headers and zip directory
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                raise ValueError(f"{st.st_size} bytes, expected at most {limit}")
            with np.load(fh, allow_pickle=False) as z:
                if sorted(z.files) != ["a", "u"]:
                    raise ValueError(f"arrays {sorted(z.files)}, expected ['a', 'u']")
                if any(z.zip.getinfo(k + ".npy").file_size > nbytes[k] + 1024 for k in z.files):
                    raise ValueError("an array is larger than the key implies")
                out = {k: z[k] for k in ("a", "u")}
        for k, v in out.items():
            if v.shape != shapes[k] or v.dtype != np.float64 or not np.isfinite(v).all():
                raise ValueError(f"{k!r} has shape {v.shape}, dtype {v.dtype}; expected {shapes[k]}, float64, finite")
        return out
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        warnings.warn(f"dataset cache file {path} is unusable ({e}); regenerating it", RuntimeWarning, stacklevel=3)
        return None


def _write(path, out):
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **out)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def generate(name, n, s, seed=0, cache_dir=None, **params):
    """n input/solution pairs of dataset `name` at resolution s, as {"a": ..., "u": ...}, both float64.

    "burgers": a = u0 (n, s) on the periodic points x_j = j/s, j = 0..s-1; u = u(x_j, t) (n, s). Parameters:
    nu (0.1), t (1.0), dt (1e-3), scheme ("ifrk4" or "etdrk4"), GRF sigma (25), tau (5), gamma (2), fine (None = s).
    "darcy": a (n, s, s), the coefficient at the nodes (x_i, y_j) = (i, j)/(s-1), i, j = 0..s-1, boundary included;
    u (n, s, s), zero on the boundary, for f = 1. Parameters: GRF sigma (1), tau (3), gamma (2), a = high (12) where
    psi >= threshold (0), low (3) elsewhere; fine (None = s).
    "antiderivative": a = f (n, s) at the nodes x_i = i/(s-1), an RBF-kernel GRF (length 0.2, variance 1); u (n, s)
    its antiderivative from 0, exact for the piecewise-linear f. "diffusion_reaction": a = f (n, s) likewise; u
    (n, s, nt), u[i, k, j] = s(x_k, t_j), t_j = j/(nt-1), of s_t = D s_xx + k s^2 + f, zero initial and boundary
    values; parameters length, variance, diffusion D (0.01), reaction k (0.01), nt (100), fine (x grid of the solve,
    None = at least 400 intervals; fine - 1 a multiple of s - 1).
    Raises ValueError for unknown names or parameters and for sizes over MAX_VALUES, before any work."""
    path, (n, fine, r, seed, p) = cache_path(name, n, s, seed, cache_dir, **params)
    out = _read(path, _shapes(name, n, s, p))
    if out is None:
        out = _make(name, n, fine, r, seed, p)
        try:
            _write(path, out)
        except OSError as e:  # a read-only or full cache dir costs the cache, not the data
            warnings.warn(f"could not write dataset cache file {path} ({e}); returning the data uncached",
                          RuntimeWarning, stacklevel=2)
    return out


def solve(name, a, **params):
    """The reference solution for given inputs: "burgers" a (n, s) initial data (params nu, t, dt, scheme);
    "darcy" a (n, s, s) coefficients at the nodes (f = 1); "antiderivative" a (n, s); "diffusion_reaction" a (n, s)
    (params diffusion, reaction, nt, fine). Returns u, float64, the shape of a ((n, s, nt) for diffusion_reaction).
    Not cached."""
    if name in SOLVER_PARAMS and set(params) - set(SOLVER_PARAMS[name]):
        raise ValueError(f"solve({name!r}): unknown parameter(s) {', '.join(sorted(set(params) - set(SOLVER_PARAMS[name])))}; "
                         f"accepted: {', '.join(SOLVER_PARAMS[name]) or 'none'}")
    fine = params.pop("fine", None)
    p = _resolve(name, params)
    p = {k: p[k] for k in SOLVER_PARAMS[name] if k != "fine"}
    a = np.asarray(a, dtype=float)
    if a.ndim != 1 + DIM[name] or a.size > MAX_VALUES or min(a.shape) < 1 or min(a.shape[1:]) < MIN_S[name]:
        raise ValueError(f"{name}: a must have shape (n{', s' * DIM[name]}), s >= {MIN_S[name]}, at most {MAX_VALUES} values "
                         f"(got {a.shape})")
    if name == "diffusion_reaction":
        p["fine"] = _dr_fine(a.shape[1], fine)
        if len(a) * a.shape[1] * p["nt"] > MAX_VALUES:
            raise ValueError(f"diffusion_reaction: n * s * nt = {len(a) * a.shape[1] * p['nt']} exceeds MAX_VALUES")
    elif fine is not None:
        raise ValueError(f"solve({name!r}): no fine grid here (the solve is at the inputs' own grid)")
    if name in RBF:
        return _solve_rbf(name, a, p)
    if name == "burgers":
        return _burgers_batched(a, p)
    return np.stack([darcy.solve_darcy(q) for q in a])
