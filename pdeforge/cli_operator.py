"""`pdeforge run` and `pdeforge eval` for operator programs (pdeforge/operator.py).

A run writes to its directory: `params.npz` (the network, and the training pairs'
normaliser under `norm/`), `metrics.json` (history; mean and worst relative L2 error
per field over the held-out pairs), `prediction.npz` (a few held-out inputs, their
reference and predicted fields, the grid) and `run.json`. `eval` recomputes the
held-out errors from saved parameters, or, with `--input FILE.npz`, predicts the fields
for new input functions on any grid over the same domain (a finer one too: an FNO's
weights do not depend on the grid) and writes them with `--out`."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pdeforge.dsl.diagnostics import error

__all__ = ["run_operator", "eval_operator", "summary", "SHOWN"]

SHOWN = 8       # held-out inputs written to prediction.npz (and plotted)


def summary(prob) -> str:
    """What `pdeforge check` and `compile --emit ir` print of an operator program."""
    ch, low = prob.checked, prob.lowered
    points = hasattr(low, "in_shape")      # compiler/operator_points.py: a pointwise model on sampled points
    out = [f"  coordinate {c.name} in [{c.lo:g}, {c.hi:g}], grid {ch.grid[c.name]} ({low.layout})"
           for c in ch.coords if c.name in ch.grid]
    for fn in ch.inputs.values():
        src = f"grf N(0, {fn.sigma ** 2:g} (-lap + {fn.tau ** 2:g})^-{fn.gamma:g})"
        if fn.kind == "rbf":
            src = f"grf N(0, {fn.variance:g} exp(-|x - x'|^2 / (2 * {fn.length:g}^2)))"
        if fn.kind == "threshold":
            src = f"threshold({src}, high = {fn.high:g}, low = {fn.low:g})"
        out.append(f"  input {fn.name}({', '.join(fn.coords)}) from {src}")
    for f, g in ch.given.items():
        out.append(f"  field {f}({', '.join(ch.fields[f].args)}) given {', '.join(g)}")
    pr = ch.pairs
    counts = ch.train.get("pairs") or {}
    opts = ", ".join(f"{k} = {v:g}" for k, v in pr.get("options", {}).items() if not (k == "fine" and not v))
    out.append("  pairs from " + (f"{pr['solver']}({opts})" if "solver" in pr else f'"{pr["path"]}"')
               + (f"; train {counts.get('train', 'default')}, test {counts.get('test', 'default')}"))
    w = low.weights
    names = (["pairs"] if w["pairs"] > 0 else []) + [t[0] for t in low.terms]
    out.append("  loss: " + ", ".join(f"{n} × {w[n]:g}" for n in names)
               + ("" if w["pairs"] > 0 else " (physics alone: the training outputs are not read)"))
    if points:
        for f in (low.hard.rewrites if low.hard else {}):
            out.append(f"  hard: {f} (compiler/hard: the conditions hold exactly at every point)")
        for name, kind, _ in low.terms:
            where = ", ".join(f"{k} × {n}" for k, n in _counts(low, name).items())
            out.append(f"  {kind} {name}: at sampled points, per input function: {where}")
        out.append(f"  model ({', '.join(low.fields)}) = {low.model.arch}: {low.param_count:,} parameters, "
                   f"{low.M} sensor values and {low.D} coordinates per point in")
    else:
        for f, axes in low.hard.items():
            faces = ", ".join(f"{low.grid.coords[ax]} {side}" for ax, sides in axes.items() for side in sorted(sides))
            out.append(f"  hard: {f} = 0 on {faces} (u = φ·N, φ a product of sines)")
        for name, kind, _ in low.terms:
            out.append(f"  {kind} {name}: on the grid, {'interior nodes' if kind == 'equation' else 'face nodes'}")
        out.append(f"  model ({', '.join(low.fields)}) = {low.model.arch}: {low.param_count:,} parameters, "
                   f"{len(low.inputs) + low.points.shape[-1]} values per grid point in")
    stages = ", ".join(f"{s['optimizer']} × {s['steps']}" for s in ch.train["stages"]) or "default (adam × 2000)"
    out.append(f"  train: {stages}; batch {prob.settings.get('batch', 20)}; "
               f"precision {'float64' if prob.float64 else 'float32'}")
    return "\n".join(out)


def _counts(low, term) -> dict:
    """{region: points per input function and step} of a point-sampled operator's term."""
    n = low.region_n
    t = next(t for t in low.ir.terms if t.name == term)
    return {k: n[k] for k, _ in t.parts}


def run_operator(args, prob, out: Path, t0: float, versions: dict) -> int:
    import jax
    from pdeforge.operator import norm_arrays
    from pdeforge.runtime import io
    if args.resume:
        raise error("E416", "operator runs do not resume yet", hint="start afresh without --resume")
    mode = "quiet" if args.quiet else "json" if args.json else "auto"
    data = prob.pairs()
    t_data = time.perf_counter() - t0
    seed = args.seed if args.seed is not None else int(prob.settings.get("seed", 0))
    res = prob.train(steps=args.steps, seed=seed, progress=mode, out=out)
    low = prob.lowered
    io.write_npz(out / "params.npz", {**io.flatten(jax.device_get(res.params)), **norm_arrays(prob)})
    k = min(SHOWN, data["a_test"].shape[0])
    pred = prob.predict(res.params, data["a_test"][:k])
    arrays = {"X": low.points.reshape(-1, low.points.shape[-1]), "grid_shape": np.array(low.shape),
              "coords": np.array(list(prob.checked.grid)), "inputs": np.array(low.inputs)}
    for j, n in enumerate(low.inputs):
        arrays[f"input_{n}"] = data["a_test"][:k, ..., j]
    for j, f in enumerate(low.fields):
        arrays[f] = np.asarray(pred[f])
        arrays[f + "_ref"] = data["u_test"][:k, ..., j]
    io.write_npz(out / "prediction.npz", arrays)
    run_info = {"spec_hash": prob.spec_hash, "file": prob.file, "seed": seed, "float64": prob.float64,
                "versions": versions, "train": prob.checked.train, "steps": res.steps, "wall_s": round(res.wall_s, 3),
                "data_s": round(t_data, 3), "time_to_first_step_s": round(t_data + res.first_step_s, 3),
                "parameters": low.param_count, "operator": True,
                "pairs": {"train": int(data["a_train"].shape[0]), "test": int(data["a_test"].shape[0])},
                "grid": dict(prob.checked.grid)}
    metrics = {"history": res.history,
               "final": {"loss": res.final_loss, "terms": res.final_terms,
                         "relative_l2": res.errors.get("mean", {}), "worst_relative_l2": res.errors.get("worst", {}),
                         "stopped": res.stopped, "notes": []},
               "run": run_info}
    io.write_json(out / "metrics.json", metrics)
    io.write_json(out / "run.json", run_info)
    if not args.quiet:
        print(f"done: {res.steps} steps in {res.wall_s:.1f} s (data {t_data:.1f} s, "
              f"{run_info['pairs']['train']} training and {run_info['pairs']['test']} held-out pairs)")
        for f in low.fields:
            print(f"relative L2 error of {f} over the held-out pairs: mean {res.errors['mean'][f]:.3e}, "
                  f"worst {res.errors['worst'][f]:.3e}")
        print(f"wrote {out}/metrics.json, params.npz, prediction.npz")
    return 3 if res.stopped else 0


def _saved(prob, f: Path):
    """(params, Normaliser) from a run's params.npz."""
    import jax.numpy as jnp
    from pdeforge.compiler.operator import Normaliser
    from pdeforge.runtime import io
    flat = io.read_npz(f)
    norm = {k.split("/", 1)[1]: v for k, v in flat.items() if k.startswith("norm/")}
    if len(norm) != 4:
        raise error("E412", f"{f} holds no normaliser: it was not written by an operator run")
    params = io.unflatten({k: jnp.asarray(v) for k, v in flat.items() if not k.startswith("norm/")})
    return params, Normaliser.from_arrays(norm)


def eval_operator(args, prob, f: Path) -> int:
    from pdeforge.runtime import io
    from pdeforge.runtime.data import MAX_DATA_BYTES, read_arrays
    from pdeforge.runtime.operator_train import relative_errors
    params, prob.norm = _saved(prob, f)
    try:
        if args.input is None:
            data = prob.pairs()
            errs = relative_errors(lambda a: _stack(prob.predict(params, a), prob), data["a_test"], data["u_test"],
                                   prob.fields)
            for fl in prob.fields:
                print(f"relative L2 error of {fl} over {data['a_test'].shape[0]} held-out pairs: "
                      f"mean {errs['mean'][fl]:.3e}, worst {errs['worst'][fl]:.3e}")
            return 0
        p = Path(args.input)
        if not p.is_file():
            raise error("E402", f"no input file at {p}" if not p.exists() else f"{p} is not a regular file")
        if p.stat().st_size > MAX_DATA_BYTES:
            raise error("E408", f"input file is larger than {MAX_DATA_BYTES:,} bytes: {p}")
        arrays = read_arrays(p)
        names = prob.inputs
        if len(names) == 1 and names[0] not in arrays and len(arrays) == 1:
            arrays = {names[0]: next(iter(arrays.values()))}
        missing = [n for n in names if n not in arrays]
        if missing:
            raise error("E418", f"{p.name} has no array `{missing[0]}`",
                        hint=f"its arrays: {', '.join(sorted(arrays)) or 'none'}; name one after each input function")
        sensors = getattr(prob.lowered, "in_shape", None)      # a point-sampled operator's fixed sensors
        d = len(sensors or prob.lowered.shape)
        shapes = {n: np.shape(arrays[n]) for n in names}
        for n, s in shapes.items():
            if len(s) != d + 1 or len(set(shapes.values())) > 1 or min(s[1:]) < 2:
                raise error("E419", f"array `{n}` of {p.name} has shape {s}; inputs are (N, *grid) with {d} grid "
                            "axis(es), the same for every input")
            if sensors and tuple(s[1:]) != tuple(sensors):
                raise error("E419", f"array `{n}` of {p.name} has shape {s}; this operator's inputs are its "
                            f"sensor values, (N, {', '.join(map(str, sensors))})")
        pred = prob.predict(params, {n: np.asarray(arrays[n], np.float64) for n in names})
        out = Path(args.out) if args.out else f.parent / "eval.npz"
        io.write_npz(out, {k: np.asarray(v) for k, v in pred.items()})
        print(f"predicted {', '.join(prob.fields)} for {shapes[names[0]][0]} inputs on a grid of "
              f"{' x '.join(str(x) for x in shapes[names[0]][1:])}; wrote {out}")
        return 0
    except (KeyError, TypeError, ValueError) as ex:
        raise error("E412", f"the parameters in {f} do not fit this problem's model ({type(ex).__name__}: {ex})") from None


def _stack(pred: dict, prob):
    import jax.numpy as jnp
    return jnp.stack([pred[f] for f in prob.fields], axis=-1)
