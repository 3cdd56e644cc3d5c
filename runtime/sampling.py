"""Collocation points for each region of a lowered problem, from scipy.stats.qmc
(Sobol, Halton, Latin hypercube) or a seeded uniform generator."""
from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

__all__ = ["DEFAULT_COUNTS", "unit_points", "drawer", "region_counts", "estimated_bytes", "available_bytes",
           "check_memory", "sample_regions", "sample_batch"]

DEFAULT_COUNTS = {"interior": 2000, "boundary": 200, "initial": 200, "periodic": 200}


def unit_points(n: int, dim: int, method: str, seed: int) -> np.ndarray:
    """n points in [0, 1)^dim."""
    if dim == 0:
        return np.zeros((n, 0))
    if method == "uniform":
        return np.random.default_rng(seed).random((n, dim))
    if method == "grid" and dim == 1:
        return ((np.arange(n) + 0.5) / n)[:, None]
    eng = {"sobol": lambda: qmc.Sobol(dim, scramble=True, seed=seed),
           "halton": lambda: qmc.Halton(dim, scramble=True, seed=seed),
           "lhs": lambda: qmc.LatinHypercube(dim, seed=seed),
           "grid": lambda: qmc.Sobol(dim, scramble=True, seed=seed)}[method]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # Sobol prefers powers of two; any n is fine for us
        return eng.random(n)


def drawer(dim: int, method: str, seed: int):
    """draw(m): the next m points of one sequence in [0, 1)^dim (rejection sampling tops up
    from the same quasi-random sequence instead of restarting it)."""
    if method == "uniform":
        rng = np.random.default_rng(seed)
        return lambda m: rng.random((m, dim))
    if method == "lhs":
        eng = qmc.LatinHypercube(dim, seed=seed)
    else:
        eng = (qmc.Halton if method == "halton" else qmc.Sobol)(dim, scramble=True, seed=seed)

    def draw(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eng.random(m)
    return draw


def _shaped(lowered, r, n, method, seed):
    """Points of a region of a shaped domain (dsl/geometry/): uniform in the shape
    (interior, and the time faces), or uniform by arc length / area on a boundary piece,
    followed there by the outward unit normal."""
    geo = lowered.ir.checked.geometry
    D, d = lowered.D, geo.dim
    lo, hi = lowered.lo, lowered.hi
    X = np.empty((n, D))
    if r.kind == "piece":
        k = max(1, d - 1)
        P, N, E = geo.sample_boundary(r.piece, n, drawer(k + D - d, method, seed))
        X[:, :d] = P
        X[:, d:] = lo[d:] + E * (hi[d:] - lo[d:])
        return np.concatenate([X, N], 1)
    P, E = geo.sample_interior(n, drawer(D, method, seed))
    X[:, :d] = P
    X[:, d:] = lo[d:] + E * (hi[d:] - lo[d:])
    if r.kind == "face":             # a time face: spatial points in the shape, the time fixed
        X[:, lowered.coords.index(r.coord)] = r.value
    return X


def region_counts(lowered, counts: dict) -> dict:
    """Points per region: `boundary` is split over the spatial faces in proportion to
    their measure; each time face gets `initial`; each periodic pair gets `periodic`."""
    c = dict(DEFAULT_COUNTS)
    c.update(counts or {})
    ext = lowered.hi - lowered.lo
    regs = lowered.ir.regions
    tnames = {co.name for co in lowered.ir.coords if co.is_time}
    spatial_faces = [r for r in regs.values() if r.kind == "face" and r.coord not in tnames]
    meas = {}
    for r in spatial_faces:
        i = lowered.coords.index(r.coord)
        meas[r.key] = float(np.prod(np.delete(ext, i))) if len(ext) > 1 else 1.0
    geo = getattr(lowered.ir.checked, "geometry", None)
    for r in regs.values():
        if r.kind == "piece":        # shaped boundary pieces share `boundary` by length / area
            meas[r.key] = geo.measure(r.piece)
    total = sum(meas.values()) or 1.0
    out = {}
    for k, r in regs.items():
        if r.kind == "interior":
            out[k] = c["interior"]
        elif r.kind == "data":       # observations: their own fixed points
            out[k] = int(len(lowered.data.get(k, ())))
        elif r.kind == "periodic":
            out[k] = c["periodic"]
        elif r.kind == "piece":
            out[k] = max(1, int(round(c["boundary"] * meas[k] / total)))
        elif r.coord in tnames:
            out[k] = c["initial"]
        else:
            out[k] = max(1, int(round(c["boundary"] * meas[k] / total)))
    return out


def estimated_bytes(lowered, counts: dict) -> int:
    """A rough upper estimate of the training step's memory: every point keeps every
    layer's activations for the value and each Taylor component, forward and backward."""
    per_point = sum(a["width"] for g in lowered.graphs.values() for _, a in g.nodes(data=True))
    comps = 1 + 2 * lowered.D + 2
    n = sum(region_counts(lowered, counts).values())
    itemsize = 8 if lowered.dtype == np.float64 or str(lowered.dtype).endswith("64") else 4
    return int(n * per_point * comps * itemsize * 3)


def available_bytes() -> int | None:
    try:
        import os
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(lowered, counts: dict):
    from pdeforge.dsl.diagnostics import error
    need, have = estimated_bytes(lowered, counts), available_bytes()
    if have is not None and need > 0.8 * have:
        raise error("E503", f"the requested collocation points need about {need / 2**30:.1f} GiB; "
                            f"{have / 2**30:.1f} GiB of memory is available",
                    hint="use fewer points (`points interior = ...`), a smaller network, or float32")


def sample_regions(lowered, counts: dict, method: str = "sobol", seed: int = 0, dtype=np.float32) -> dict:
    lo, hi = lowered.lo, lowered.hi
    D = lowered.D
    batch = {}
    for j, (k, n) in enumerate(sorted(region_counts(lowered, counts).items())):
        r = lowered.ir.regions[k]
        s = seed * 1000 + j + 1
        if r.kind == "data":         # fixed, never resampled: coordinates, then the observed values
            batch[k] = np.asarray(lowered.data[k]).astype(dtype)
            continue
        if getattr(lowered.ir.checked, "geometry", None) is not None and r.kind != "periodic":
            batch[k] = _shaped(lowered, r, n, method, s).astype(dtype)
            continue
        if r.kind == "interior":
            X = lo + (hi - lo) * unit_points(n, D, method, s)
        else:
            i = lowered.coords.index(r.coord)
            free = [d for d in range(D) if d != i]
            X = np.empty((n, D))
            X[:, free] = lo[free] + (hi[free] - lo[free]) * unit_points(n, D - 1, method, s)
            X[:, i] = r.value
        batch[k] = X.astype(dtype)
    return batch


def sample_batch(problem, key=0, counts=None):
    """Sample every region of `problem`; `key` is an int seed or a JAX key."""
    import jax
    import jax.numpy as jnp
    seed = key if isinstance(key, int) else int(jax.random.randint(key, (), 0, 2**31 - 1))
    counts = counts if counts is not None else problem.checked.train["points"]
    method = problem.settings.get("sampler", "sobol")
    b = sample_regions(problem.lowered, counts, method, seed, np.float64 if problem.float64 else np.float32)
    return {k: jnp.asarray(v) for k, v in b.items()}
