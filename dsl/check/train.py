"""Pass `train`: reads the `train:` block (weights, points, pairs, optimiser stages,
settings) and fills `State.train`: {"stages": [{"optimizer", "steps", options...}],
"points": {region: count}, "pairs": {"train": n, "test": m}, "settings": {name: value},
"weights": {label: weight}, "spans": {}}.
A weight names a labelled, non-`hard` term of the program's statements."""
from __future__ import annotations

import math

from .. import ast as A
from ..diagnostics import did_you_mean
from ..vocabulary import STAGES
from .state import State

# option names of each optimiser stage: the one table in dsl/vocabulary.py (runtime reads it too)
OPTIMIZERS = {name: set(stage.options) for name, stage in STAGES.items()}
SETTINGS = {"batch", "seed", "precision", "sampler", "log_every", "resample_every", "checkpoint_every",
            "balance", "balance_every", "causal", "causal_bins", "adaptive", "adaptive_fraction"}
SETTING_CHOICES = {"precision": {"float32", "float64"}, "sampler": {"uniform", "sobol", "halton", "lhs", "grid"},
                   "balance": {"none", "grad_norm", "ntk"}, "adaptive": {"none", "r3", "rar"}}
WHOLE_SETTINGS = {"batch", "seed", "log_every", "resample_every", "checkpoint_every", "balance_every", "causal_bins"}
POINT_REGIONS = {"interior", "boundary", "initial", "periodic"}
MAX_POINTS = 5_000_000
PAIR_SETS = ("train", "test")          # `pairs train = N, test = M`: paired inputs to train on, to test on
MAX_PAIRS = 1_000_000
MAX_STEPS = 100_000_000


def train(st: State):
    st.train = _train(st, st.program.of(A.Train), st.ce)


def _train(st, blocks, ce):
    d = st.diag
    cfg = {"stages": [], "points": {}, "settings": {}, "weights": {}, "spans": {}, "pairs": {}}
    if len(blocks) > 1:
        d.error("E102", "`train:` is given twice", blocks[1].span)
    for b in blocks[:1]:
        for it in b.items:
            if isinstance(it, A.Weights):
                labels = _term_labels(st) | ({"pairs"} if st.pairs is not None else set())   # the data term
                hard = {st.label for st in st.program.of(A.Equation) + st.program.of(A.Condition) + st.program.of(A.Constraint)
                        if st.label and getattr(st, "hard", None) is not None}
                for k in it.values:
                    if k.name in hard:
                        d.error("E145", f"`{k.name}` is `hard`: it holds exactly and is no loss term, "
                                "so it takes no weight", k.span,
                                hint=f"remove `{k.name} = …` from `weights`, or drop `hard` to train it as a weighted term")
                        continue
                    if k.name not in labels:
                        d.error("E144", f"no equation or condition is labelled `{k.name}`", k.span,
                                hint=did_you_mean(k.name, labels)
                                or f"labels: {', '.join(sorted(labels)) or 'none (add `equation NAME: ...`)'}")
                        continue
                    v = ce(k.value, "a weight")
                    if v is not None and not (v >= 0 and math.isfinite(v)):
                        d.error("E209", "a weight must be a finite number ≥ 0", k.value.span)
                    elif v is not None:
                        cfg["weights"][k.name] = v
            elif isinstance(it, A.Points):
                for k in it.counts:
                    if k.name not in POINT_REGIONS:
                        d.error("E140", f"unknown point region `{k.name}`", k.span,
                                hint=did_you_mean(k.name, POINT_REGIONS) or f"regions: {', '.join(sorted(POINT_REGIONS))}")
                        continue
                    v = ce(k.value, "a point count")
                    if v is None:
                        continue
                    if v != int(v) or v < 1 or v > MAX_POINTS:
                        d.error("E209", f"point count must be a whole number from 1 to {MAX_POINTS:,}", k.value.span)
                        continue
                    cfg["points"][k.name] = int(v)
            elif isinstance(it, A.PairCounts):
                for k in it.counts:
                    if k.name not in PAIR_SETS:
                        d.error("E140", f"unknown set of pairs `{k.name}`", k.span,
                                hint=did_you_mean(k.name, PAIR_SETS) or "sets: train, test")
                        continue
                    v = ce(k.value, "a count of pairs")
                    if v is not None and (v != int(v) or v < 1 or v > MAX_PAIRS):
                        d.error("E209", f"a count of pairs must be a whole number from 1 to {MAX_PAIRS:,}", k.value.span)
                    elif v is not None:
                        cfg["pairs"][k.name] = int(v)
                if st.pairs is None and not st.program.of(A.Pairs):
                    d.error("E351", "`pairs train = ...` needs a `pairs from ...` line", it.span,
                            hint="add `pairs from \"FILE.npz\" (INPUT = ARRAY, FIELD = ARRAY)` or a reference solver")
            elif isinstance(it, A.Stage):
                if it.optimizer not in OPTIMIZERS:
                    d.error("E141", f"unknown optimiser `{it.optimizer}`", it.span,
                            hint=did_you_mean(it.optimizer, OPTIMIZERS) or f"optimisers: {', '.join(sorted(OPTIMIZERS))}")
                    continue
                opts = {}
                for k in it.kwargs:
                    if k.name not in OPTIMIZERS[it.optimizer]:
                        d.error("E130", f"`{it.optimizer}` has no option `{k.name}`", k.span,
                                hint=did_you_mean(k.name, OPTIMIZERS[it.optimizer])
                                or f"its options: {', '.join(sorted(OPTIMIZERS[it.optimizer]))}")
                        continue
                    if k.name == "schedule":
                        kinds = ("constant", "exponential", "cosine")
                        if not isinstance(k.value, A.Name) or k.value.id not in kinds:
                            d.error("E143", f"`schedule` must be one of {', '.join(kinds)}", k.value.span,
                                    hint=did_you_mean(k.value.id, kinds) if isinstance(k.value, A.Name) else None)
                        else:
                            opts[k.name] = k.value.id
                        continue
                    v = ce(k.value, f"option `{k.name}`")
                    if v is not None:
                        opts[k.name] = v
                if it.args:
                    d.error("E131", f"`{it.optimizer}` takes named options only, such as `{it.optimizer}(lr = 1e-3)`",
                            it.args[0].span)
                n = ce(it.steps, "a step count")
                if n is not None and (n != int(n) or n < 0 or n > MAX_STEPS):
                    d.error("E209", f"step count must be a whole number from 0 to {MAX_STEPS:,}", it.steps.span)
                    n = None
                if n is not None:
                    cfg["stages"].append({"optimizer": it.optimizer, "steps": int(n), **opts})
            elif isinstance(it, A.Setting):
                if it.name not in SETTINGS:
                    d.error("E142", f"unknown train setting `{it.name}`", it.span,
                            hint=did_you_mean(it.name, SETTINGS) or f"settings: {', '.join(sorted(SETTINGS))}")
                    continue
                v = it.value
                if isinstance(v, A.Name):
                    v = v.id
                elif isinstance(v, A.Expr):
                    v = ce(v, f"setting `{it.name}`")
                    if v is None:
                        continue
                    if v == int(v) and it.name not in ("causal", "adaptive_fraction"):
                        v = int(v)
                if it.name in SETTING_CHOICES and v not in SETTING_CHOICES[it.name]:
                    d.error("E143", f"`{it.name}` must be one of {', '.join(sorted(SETTING_CHOICES[it.name]))}", it.span)
                    continue
                if it.name not in SETTING_CHOICES and not isinstance(v, (int, float)):
                    d.error("E143", f"`{it.name}` must be a number", it.span)
                    continue
                if it.name in WHOLE_SETTINGS and not (isinstance(v, int) and 0 <= v <= MAX_STEPS):
                    d.error("E143", f"`{it.name}` must be a whole number from 0 to {MAX_STEPS:,}", it.value.span)
                    continue
                cfg["settings"][it.name] = v
    return cfg


def _term_labels(st):
    return {s.label for s in st.program.of(A.Equation) + st.program.of(A.Condition) + st.program.of(A.Constraint) if s.label}
