"""`pdeforge` command line: check, compile, run, eval.

Exit status (docs/errors.md): 0 success, 2 a mistake in the user's file or arguments,
3 a run stopped early (E501: the loss became NaN/inf; the last good state is saved),
130 interrupted (Ctrl-C), 1 an internal error (with a request for a bug report;
`--debug` shows the traceback)."""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from pdeforge.dsl import PdeError
from pdeforge.dsl.source import read_source

__all__ = ["cmd_check", "cmd_compile", "cmd_run", "cmd_eval", "cmd_plot", "main"]


def _read(path):
    return read_source(path), str(Path(path))


def _problem(args, float64=None):
    from pdeforge.api import loads
    text, file = _read(args.file)
    prob = loads(text, file, float64, getattr(args, "allow_path", None) or ())
    for w in prob.warnings:
        print(w.render(file, text), file=sys.stderr)
    return prob


def cmd_check(args):
    prob = _problem(args)
    chk, low = prob.checked, prob.lowered
    print(f"{prob.file}: ok — problem `{chk.name}`")
    if getattr(prob, "is_operator", False):
        from pdeforge.cli_operator import summary
        print(summary(prob))
        return 0
    for c in chk.coords:
        print(f"  {'time' if c.is_time else 'coordinate'} {c.name} in [{c.lo:g}, {c.hi:g}]")
    for n, (lo, hi, g) in chk.params.items():
        t = chk.param_truth.get(n)
        print(f"  param {n} in [{lo:g}, {hi:g}], starting at {g:g}" + (f" (exact {t:g})" if t is not None else ""))
    for f, d in chk.fields.items():
        orders = ", ".join(f"{c} order {k}" for c, k in chk.orders.get(f, {}).items()) or "no derivatives"
        print(f"  {'param field' if f in chk.param_fields else 'field'} {f}({', '.join(d.args)}): {orders}")
    for key, X in low.data.items():
        d = chk.data[low.ir.regions[key].data]
        print(f"  data {d.name}: {len(X)} points from {d.path} (values: {', '.join(low.data_columns[key]) or 'none'})")
    for t in prob.ir.terms:
        regions = ", ".join(k for k, _ in t.parts)
        print(f"  {t.kind} {t.name}: {_orders(t)}on {regions}")
    for m in prob.ir.models:
        from pdeforge.compiler.network import param_count
        print(f"  model ({', '.join(m.fields)}) = {m.arch}: {param_count(low.graphs[m.name]):,} parameters")
    tr = chk.train
    stages = ", ".join(f"{s['optimizer']} × {s['steps']}" for s in tr["stages"]) or "default (adam × 2000)"
    print(f"  train: {stages}; points {tr['points'] or 'default'}; precision {'float64' if prob.float64 else 'float32'}")
    if chk.references:
        print(f"  reference: {chk.references[0].path}")
    elif chk.exact:
        print(f"  exact: {', '.join(chk.exact)}")
    return 0


def _orders(term):
    """Highest derivative order per coordinate in a term, e.g. `order t 1, x 2; `."""
    import sympy as sp
    best = {}
    for _, e in term.parts:
        for d in e.atoms(sp.Derivative):
            for s, n in d.variable_count:
                best[str(s)] = max(best.get(str(s), 0), int(n))
        for f in e.atoms(sp.Function):
            if type(f).__name__ == "Lap":
                best["lap"] = 2
    return ("order " + ", ".join(f"{k} {v}" for k, v in sorted(best.items())) + "; ") if best else ""


def cmd_compile(args):
    from pdeforge.compiler import emit
    if args.emit == "ast":
        from pdeforge.dsl import parse
        text, file = _read(args.file)
        print(emit.ast_text(parse(text, file)))
        return 0
    prob = _problem(args)
    if getattr(prob, "is_operator", False) and args.emit != "graph":
        from pdeforge.cli_operator import summary
        from pdeforge.dsl.diagnostics import error
        if args.emit != "ir":
            raise error("E353", f"`--emit {args.emit}` shows residuals; an operator trained on pairs has none yet",
                        hint="`--emit ir` summarises the operator, `--emit graph` its network")
        print(summary(prob))
        return 0
    if args.emit == "ir":
        print(emit.ir_text(prob.ir, prob.lowered))
    elif args.emit == "graph":
        print(emit.graph_text(prob.lowered))
    elif args.emit == "latex":
        print(emit.latex_text(prob.ir))
    elif args.emit == "plan":
        print(prob.lowered.plan_text())
    return 0


def _versions():
    import importlib.metadata as md
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("pdeforge", "jax", "jaxlib", "optax", "numpy", "sympy", "lark"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def cmd_run(args):
    import jax
    import numpy as np
    from pdeforge.runtime import io
    from pdeforge.runtime.evaluate import make_evaluation
    from pdeforge.runtime.train import train
    t0 = time.perf_counter()
    prob = _problem(args, True if args.float64 else None)
    out = Path(args.out or args.resume or Path("runs") / prob.checked.name)
    _check_writable(out)
    if getattr(prob, "is_operator", False):
        from pdeforge.cli_operator import run_operator
        return run_operator(args, prob, out, t0, _versions())
    evaluation = make_evaluation(prob, args.allow_path)
    t_compile = time.perf_counter() - t0
    mode = "quiet" if args.quiet else "json" if args.json else "auto"
    seed = args.seed if args.seed is not None else int(prob.settings.get("seed", 0))
    res = train(prob, steps=args.steps, seed=seed, evaluation=evaluation, progress=mode, out=out,
                checkpoint_every=args.checkpoint_every, resume=args.resume)
    run_info = {"spec_hash": prob.spec_hash, "file": prob.file, "seed": seed, "float64": prob.float64,
                "versions": _versions(), "train": prob.checked.train, "steps": res.steps,
                "wall_s": round(res.wall_s, 3), "time_to_first_step_s": round(t_compile + res.first_step_s, 3),
                "parse_compile_s": round(t_compile, 3), "parameters": prob.lowered.param_count}
    io.write_npz(out / "params.npz", io.flatten(jax.device_get(res.params)))
    if evaluation is not None:
        pred = jax.device_get(prob.predict(res.params, evaluation.X))
        arrays = {"X": evaluation.X, "coords": np.array(prob.coords)}
        if evaluation.shape:
            arrays["grid_shape"] = np.array(evaluation.shape)
        for f in prob.fields:
            arrays[f] = np.asarray(pred[f])
            if f in evaluation.truth:
                arrays[f + "_ref"] = evaluation.truth[f]
        io.write_npz(out / "prediction.npz", arrays)
    metrics = {"history": res.history, "final": {"loss": res.final_loss, "terms": res.final_terms,
                                                 "relative_l2": res.errors, "stopped": res.stopped, "notes": res.notes},
               "run": run_info}
    if res.param_values:        # inverse problems: the learned scalars, and their errors where the truth is known
        metrics["final"]["params"] = res.param_values
        metrics["final"]["param_errors"] = res.param_errors
        metrics["final"]["param_truth"] = prob.checked.param_truth
        run_info["params"] = res.param_values
    io.write_json(out / "metrics.json", metrics)
    io.write_json(out / "run.json", run_info)
    if not args.quiet:
        print(f"done: {res.steps} steps in {res.wall_s:.1f} s (time to first step {t_compile + res.first_step_s:.2f} s)")
        print(f"final loss {res.final_loss:.3e}: " + ", ".join(f"{k} {v:.3e}" for k, v in res.final_terms.items()))
        for f, e in res.errors.items():
            print(f"relative L2 error of {f} vs {evaluation.source}: {e:.3e}")
        _print_params(prob, res.param_values, res.param_errors)
        print(f"wrote {out}/metrics.json, params.npz" + (", prediction.npz" if evaluation else ""))
    return 3 if res.stopped else 0


def _print_params(prob, values, errors):
    for n, v in values.items():
        t = prob.checked.param_truth.get(n)
        print(f"learned {n} = {v:.6g}" + (f" (exact {t:g}, error {errors[n]:.3e})" if n in errors else ""))


def _check_writable(out: Path):
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as e:
        from pdeforge.dsl.diagnostics import error
        raise error("E502", f"cannot write to the output directory {out}: {e.strerror}",
                    hint="choose another directory with `--out DIR`") from None


def cmd_eval(args):
    import jax.numpy as jnp
    from pdeforge.runtime import io
    from pdeforge.runtime.evaluate import make_evaluation
    from pdeforge.runtime.train import relative_l2
    from pdeforge.dsl.diagnostics import error
    prob = _problem(args, True if args.float64 else None)
    p = Path(args.params)
    f = p / "params.npz" if p.is_dir() else p
    if not f.exists():
        raise error("E402", f"no saved parameters at {f}", hint="pass the --out directory of a `pdeforge run`")
    if getattr(prob, "is_operator", False):
        from pdeforge.cli_operator import eval_operator
        return eval_operator(args, prob, f)
    if args.input:
        raise error("E411", "`--input` gives new input functions to an operator; this problem has none",
                    hint="declare `input NAME(...)` and a field `given` it")
    params = io.unflatten({k: jnp.asarray(v) for k, v in io.read_npz(f).items()})
    from pdeforge.compiler import params as learned
    ev = make_evaluation(prob, args.allow_path)
    if ev is None and not prob.checked.params:
        raise error("E411", "the problem has neither an `exact` solution nor a `reference` to compare with")
    try:
        pv = learned.report(params, prob.checked)
        pred = prob.predict(params, ev.X) if ev is not None else None
    except (KeyError, TypeError, ValueError) as ex:
        raise error("E412", f"the parameters in {f} do not fit this problem's model ({type(ex).__name__}: {ex})") from None
    if prob.checked.params and set(pv["values"]) != set(prob.checked.params):
        missing = sorted(set(prob.checked.params) - set(pv["values"]))
        raise error("E412", f"the parameters in {f} hold no value for the learned parameter `{missing[0]}`")
    if ev is not None:
        errs = relative_l2({k: pred[k] for k in ev.truth}, ev.truth)
        for k, e in errs.items():
            print(f"relative L2 error of {k} vs {ev.source}: {e:.3e}")
    _print_params(prob, pv["values"], pv["errors"])
    return 0


def cmd_plot(args):
    from pdeforge.runtime.plots import plot_run
    for p in plot_run(args.dir, args.out):
        print(f"wrote {p}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pdeforge", description="Compile and train physics-informed models from .pde files.")
    ap.add_argument("--debug", action="store_true", help="show Python tracebacks for internal errors")
    sub = ap.add_subparsers(dest="cmd", required=True)
    allow = dict(action="append", default=[], metavar="DIR", help="allow data and module files under DIR")
    c = sub.add_parser("check", help="parse and check a file; print a summary")
    c.add_argument("file")
    c.add_argument("--allow-path", **allow)
    c = sub.add_parser("compile", help="print a stage of the compilation")
    c.add_argument("file")
    c.add_argument("--allow-path", **allow)
    c.add_argument("--emit", choices=["ast", "ir", "graph", "latex", "plan"], default="ir")
    for name, hlp in (("run", "train a problem"), ("eval", "errors of a saved run")):
        c = sub.add_parser(name, help=hlp)
        c.add_argument("file")
        c.add_argument("--float64", action="store_true", help="compute in double precision")
        c.add_argument("--allow-path", **allow)
        if name == "run":
            c.add_argument("--steps", type=int, help="total steps, split over the stages in proportion")
            c.add_argument("--seed", type=int)
            c.add_argument("--out", help="output directory (default runs/PROBLEM)")
            c.add_argument("--quiet", action="store_true")
            c.add_argument("--json", action="store_true", help="progress as JSON lines on stderr")
            c.add_argument("--checkpoint-every", type=int, metavar="N", help="write a checkpoint every N steps")
            c.add_argument("--resume", metavar="DIR", help="continue the run whose checkpoint is in DIR")
        else:
            c.add_argument("--params", required=True, help="a run directory or its params.npz")
            c.add_argument("--input", metavar="FILE.npz", help="operators: new input functions, one array per input "
                           "(N, *grid); the predictions go to --out")
            c.add_argument("--out", help="operators with --input: where to write the predictions (default "
                           "PARAMS_DIR/eval.npz)")
    c = sub.add_parser("plot", help="write PNGs of a run: loss curves, solution, reference, error")
    c.add_argument("dir", help="a run directory (the --out of `pdeforge run`)")
    c.add_argument("--out", help="where to write the PNGs (default: the run directory)")
    args = ap.parse_args(argv)
    debug = args.debug or os.environ.get("PDEFORGE_DEBUG")
    try:
        return {"check": cmd_check, "compile": cmd_compile, "run": cmd_run, "eval": cmd_eval, "plot": cmd_plot}[args.cmd](args)
    except PdeError as e:
        file = getattr(args, "file", None)           # `plot` names a directory, not a .pde
        if e.file is None and file is not None:      # raised past the front end (data, runtime): name the .pde
            try:
                e.file, e.source = _read(file)[::-1]
            except PdeError:
                e.file = file
        print(e.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:     # `pdeforge check FILE | head`: the reader left; not our error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:  # an internal error: ours, not the user's
        if debug:
            traceback.print_exc()
        else:
            print("pdeforge: internal error: " + sys.exc_info()[0].__name__ + ": " + str(sys.exc_info()[1])[:300]
                  + "\nThis is a bug in pdeforge. Please report it with the .pde file; rerun with --debug for the traceback.",
                  file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
