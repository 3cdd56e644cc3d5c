"""The shipped hard-constrained examples: they compile with their layers, and (select
with -m long) the accuracy they reach against their soft versions and their targets.
The exactness of each layer kind is tested by tests/test_hard_*.py (dirichlet,
divergence, neumann, curvature, constraints, gradients, errors): at 10,000 random points
of the constrained region, before and after (short) training, to 1e-6 relative in
float32 and 1e-12 in float64."""
from pathlib import Path

import numpy as np
import pytest

import pdeforge

EX = Path(__file__).resolve().parent.parent / "examples"
KOVASZNAY_SHORT = 0.4        # velocity relative L2 after --steps 200: measured 1.7e-1 (9.4e-2 at 300; ~1 untrained)


def test_examples_compile():
    for name in ("wave1d", "burgers_hard", "allen_cahn", "species", "kovasznay", "poisson_neumann"):
        pb = pdeforge.load(EX / f"{name}.pde")
        assert pb.ir.hard


# ---------------------------------------------------------------- accuracy (select with -m long)

def _run_example(tmp_path, path, *extra):
    import json
    from pdeforge.cli import main
    out = tmp_path / Path(path).stem
    assert main(["run", str(path), "--out", str(out), "--quiet", *extra]) == 0
    m = json.loads((out / "metrics.json").read_text())
    with np.load(out / "prediction.npz", allow_pickle=False) as z:
        pred = {k: z[k] for k in z.files}
    return m, pred


@pytest.mark.long       # six runs of 2000 steps: about 12 min on one core
def test_burgers_hard_beats_soft_over_seeds(tmp_path):
    """Same network, points and 2000-step budget (Adam 1111 + L-BFGS 889), seeds 0-2.
    Measured: hard 2.0e-2, 1.2e-2, 9.2e-3; soft 3.7e-2, 6.1e-2, 1.4e-2 (an earlier CPU gave
    soft 8.1e-3 on seed 2, below hard: float32 L-BFGS is chaotic across machines), so the
    claim is about the spread: hard is better on average and in the worst case. At the
    files' full budget it is not (docs/accuracy.md): both stall near the same loss."""
    errs = {"hard": [], "soft": []}
    for seed in ("0", "1", "2"):
        for kind, path in (("hard", EX / "burgers_hard.pde"), ("soft", EX / "burgers.pde")):
            m, _ = _run_example(tmp_path / f"{kind}{seed}", path, "--steps", "2000", "--seed", seed)
            errs[kind].append(m["final"]["relative_l2"]["u"])
    print(f"burgers, 2000 steps, seeds 0-2: hard {errs['hard']}, soft {errs['soft']}")
    assert np.mean(errs["hard"]) < np.mean(errs["soft"]) and max(errs["hard"]) < max(errs["soft"])


def _velocity_error(pred):
    u, v, ur, vr = (pred[k].astype(np.float64).ravel() for k in ("u", "v", "u_ref", "v_ref"))
    return float(np.sqrt(((u - ur) ** 2 + (v - vr) ** 2).sum() / (ur ** 2 + vr ** 2).sum()))


@pytest.mark.long     # 100-140 s, mostly compilation; the stream-function layer's exactness: test_hard_divergence.py
def test_kovasznay_short_budget(tmp_path):
    """A short budget, 200 of the file's 4000 steps (50 Adam + 150 L-BFGS): still too long
    for the normal suite on 2 cores, so it runs with -m long beside the full recipe."""
    m, pred = _run_example(tmp_path, EX / "kovasznay.pde", "--steps", "200")
    err = _velocity_error(pred)
    print(f"kovasznay (200 steps): velocity relative L2 {err:.3e}, {m['final']['relative_l2']}")
    assert err <= KOVASZNAY_SHORT


@pytest.mark.long
def test_kovasznay_accuracy(tmp_path):
    m, pred = _run_example(tmp_path, EX / "kovasznay.pde")
    err = _velocity_error(pred)
    print(f"kovasznay: velocity relative L2 {err:.3e}, {m['final']['relative_l2']} in {m['run']['wall_s']:.0f} s")
    assert err <= 1e-3 and m["final"]["relative_l2"]["u"] <= 1e-3


@pytest.mark.long
def test_poisson_neumann_hard_beats_soft(tmp_path):
    """The same recipe with the value and flux conditions hard, and as loss terms."""
    soft_file = tmp_path / "poisson_neumann_soft.pde"
    soft_file.write_text((EX / "poisson_neumann.pde").read_text().replace(" hard\n", "\n"))
    hard, _ = _run_example(tmp_path, EX / "poisson_neumann.pde")
    soft, _ = _run_example(tmp_path, soft_file)
    eh, es = hard["final"]["relative_l2"]["u"], soft["final"]["relative_l2"]["u"]
    print(f"poisson_neumann: hard {eh:.3e}, soft {es:.3e}")
    assert eh <= 1e-3 and eh < es


@pytest.mark.long
def test_species_hard_never_leaves_the_simplex(tmp_path):
    text = (EX / "species.pde").read_text()
    soft_file = tmp_path / "species_soft.pde"
    soft_file.write_text(text.replace(" hard\n", "\n"))
    for path, hard in ((EX / "species.pde", True), (soft_file, False)):
        m, pred = _run_example(tmp_path, path)
        c = np.stack([pred[f].astype(np.float64).ravel() for f in ("c1", "c2", "c3")], 1)
        neg, drift = int((c < 0).sum()), float(np.abs(c.sum(1) - 1).max())
        print(f"species {'hard' if hard else 'soft'}: {m['final']['relative_l2']}, "
              f"negative values {neg}, max |sum - 1| {drift:.2e}")
        if hard:
            assert neg == 0 and drift <= 1e-6
        else:
            assert neg > 0 or drift > 1e-4          # the penalty alone does not keep them


@pytest.mark.long
def test_wave1d_hard_accuracy(tmp_path):
    m, _ = _run_example(tmp_path, EX / "wave1d.pde")
    err = m["final"]["relative_l2"]["u"]
    print(f"wave1d_hard: relative L2 {err:.3e}")
    assert err <= 1e-2
