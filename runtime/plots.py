"""`pdeforge plot DIR`: loss curves per term, and the solution, the reference and
the pointwise error (line plots in 1-D, heat maps for 2-D or space–time, triangulated
maps for scattered points on shaped 2-D domains)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["plot_run"]


def plot_run(run_dir, out_dir=None) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pdeforge.dsl.diagnostics import error

    run = Path(run_dir)
    out = Path(out_dir or run)
    out.mkdir(parents=True, exist_ok=True)
    if not (run / "metrics.json").exists():
        raise error("E402", f"no metrics.json in {run}", hint="pass the --out directory of a `pdeforge run`")
    metrics = json.loads((run / "metrics.json").read_text())
    written = []
    hist = metrics.get("history", [])
    if hist:
        fig, ax = plt.subplots(figsize=(7, 4))
        steps = [h["step"] for h in hist]
        ax.semilogy(steps, [h["loss"] for h in hist], "k-", lw=2, label="total")
        for k in hist[-1]["terms"]:
            ax.semilogy(steps, [h["terms"].get(k, np.nan) for h in hist], lw=1, label=k)
        if any(h.get("error") is not None for h in hist):
            ax.semilogy(steps, [h.get("error") or np.nan for h in hist], "r--", lw=1.5, label="rel. L2 error")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        written.append(_save(fig, out / "loss.png"))
    names = list(hist[-1].get("params", {})) if hist else []
    if names:       # learned scalars of an inverse problem, against their truth where known
        truth = metrics.get("final", {}).get("param_truth", {})
        fig, axs = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
        for ax, n in zip(axs[0], names):
            ax.plot(steps, [h.get("params", {}).get(n, np.nan) for h in hist], "b-", lw=1.5, label=f"learned {n}")
            if n in truth:
                ax.axhline(truth[n], color="k", ls="--", lw=1, label="exact")
            ax.set_xlabel("step")
            ax.set_title(n)
            ax.legend(fontsize=8)
            ax.grid(True, alpha=0.3)
        fig.tight_layout()
        written.append(_save(fig, out / "params.png"))
    pred_file = run / "prediction.npz"
    if pred_file.exists():
        with np.load(pred_file, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        coords = [str(c) for c in data["coords"]]
        shape = tuple(int(s) for s in data["grid_shape"]) if "grid_shape" in data else None
        fields = [k for k in data if k + "_ref" in data]
        if "inputs" in data:        # an operator run: a few held-out inputs, each its own panel
            for f in fields:
                written.append(_operator_plot(plt, data, coords, shape, f, out / f"{f}.png"))
            return written
        for f in fields:
            written.append(_field_plot(plt, data["X"], data[f], data[f + "_ref"], coords, shape, f, out / f"{f}.png"))
    return written


def _operator_plot(plt, data, coords, shape, f, path, shown=4):
    """Held-out inputs of an operator run: per input, the input function and the reference
    against the predicted field (1-D), or reference, prediction and |error| maps (2-D)."""
    inputs = [str(n) for n in data["inputs"]]
    pred, ref = data[f], data[f + "_ref"]
    k = min(shown, pred.shape[0])
    X = data["X"]
    if len(shape) == 1:
        x = X[:, 0]
        fig, axs = plt.subplots(2, k, figsize=(3.2 * k, 5), squeeze=False)
        for i in range(k):
            for n in inputs:
                axs[0, i].plot(x, data[f"input_{n}"][i], lw=1, label=n)
            axs[0, i].set_title(f"held-out input {i + 1}")
            axs[1, i].plot(x, ref[i], "k-", label="reference")
            axs[1, i].plot(x, pred[i], "r--", label="prediction")
            e = np.linalg.norm(pred[i] - ref[i]) / max(np.linalg.norm(ref[i]), 1e-300)
            axs[1, i].set_title(f"{f}: rel. L2 {e:.2e}")
            axs[1, i].set_xlabel(coords[0])
        axs[0, 0].legend(fontsize=8)
        axs[1, 0].legend(fontsize=8)
    else:
        fig, axs = plt.subplots(k, 3, figsize=(11, 3.2 * k), squeeze=False)
        A, B = X[:, 0].reshape(shape), X[:, 1].reshape(shape)
        for i in range(k):
            for j, (V, title) in enumerate(((ref[i], "reference"), (pred[i], "prediction"),
                                            (np.abs(pred[i] - ref[i]), "|error|"))):
                m = axs[i, j].pcolormesh(B, A, V, shading="auto", cmap="magma" if j == 2 else "viridis")
                if j == 2:      # the input's error in the title, as in 1-D
                    e = np.linalg.norm(pred[i] - ref[i]) / max(np.linalg.norm(ref[i]), 1e-300)
                    title = f"|error| (rel. L2 {e:.2e})"
                axs[i, j].set_title(f"{f} {i + 1}: {title}")
                axs[i, j].set_xlabel(coords[1])
                axs[i, j].set_ylabel(coords[0])
                axs[i, j].set_aspect("equal")
                fig.colorbar(m, ax=axs[i, j])
    fig.tight_layout()
    return _save(fig, path)


def _scattered_2d(plt, X, pred, ref, err, coords, f, path):
    """Shaped 2-D domains evaluate at scattered points: Delaunay maps of them. The
    triangulation spans the convex hull, so triangles much longer than the point spacing
    (across a hole or a re-entrant corner) are masked rather than drawn."""
    from matplotlib.tri import Triangulation
    tri = Triangulation(X[:, 0], X[:, 1])
    T = X[tri.triangles]                                         # (n_tri, 3, 2)
    edge = np.max(np.linalg.norm(T - np.roll(T, 1, axis=1), axis=2), axis=1)
    tri.set_mask(edge > 4 * np.median(edge))
    fig, axs = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, V, title in zip(axs, (ref, pred, err), ("reference", "prediction", "|error|")):
        m = ax.tripcolor(tri, V, shading="gouraud", cmap="viridis" if title != "|error|" else "magma")
        ax.set_title(f"{f}: {title}")
        ax.set_xlabel(coords[0])
        ax.set_ylabel(coords[1])
        ax.set_aspect("equal")
        fig.colorbar(m, ax=ax)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path):
    import matplotlib.pyplot as plt
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _field_plot(plt, X, pred, ref, coords, shape, f, path):
    err = np.abs(pred - ref)
    if shape is not None and len(shape) == 1:
        fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
        x = X[:, 0]
        o = np.argsort(x)
        axs[0].plot(x[o], ref[o], "k-", label="reference")
        axs[0].plot(x[o], pred[o], "r--", label="prediction")
        axs[0].set_xlabel(coords[0])
        axs[0].legend()
        axs[1].semilogy(x[o], err[o] + 1e-300)
        axs[1].set_title("|error|")
        axs[1].set_xlabel(coords[0])
        fig.tight_layout()
        return _save(fig, path)
    if shape is not None and len(shape) >= 2:
        # 2-D (or a middle slice of higher dimensions): heat maps on the grid
        grid = lambda v: v.reshape(shape)
        P, R, E = grid(pred), grid(ref), grid(err)
        Xg = [grid(X[:, i]) for i in range(X.shape[1])]
        ax_idx = [i for i, n in enumerate(shape) if n > 1][:2]
        sl = tuple(slice(None) if i in ax_idx else n // 2 for i, n in enumerate(shape))
        # which problem coordinate varies along each grid axis
        names = []
        for a in ax_idx:
            var = [np.ptp(np.moveaxis(Xg[c], a, 0), axis=0).max() for c in range(X.shape[1])]
            names.append(int(np.argmax(var)))
        A, B = Xg[names[0]][sl], Xg[names[1]][sl]
        fig, axs = plt.subplots(1, 3, figsize=(13, 3.8))
        for ax, V, title in zip(axs, (R[sl], P[sl], E[sl]), ("reference", "prediction", "|error|")):
            m = ax.pcolormesh(B, A, V, shading="auto", cmap="viridis" if title != "|error|" else "magma")
            ax.set_title(f"{f}: {title}")
            ax.set_xlabel(coords[names[1]])
            ax.set_ylabel(coords[names[0]])
            fig.colorbar(m, ax=ax)
        fig.tight_layout()
        return _save(fig, path)
    if X.shape[1] == 2 and len(X) >= 3:
        return _scattered_2d(plt, X, pred, ref, err, coords, f, path)
    fig, ax = plt.subplots(figsize=(5, 4))       # scattered points: prediction against reference
    ax.plot(ref, pred, ".", ms=2)
    ax.set_xlabel(f"{f} reference")
    ax.set_ylabel(f"{f} prediction")
    fig.tight_layout()
    return _save(fig, path)
