"""The evaluation set of a problem: reference data when the file names some,
otherwise a grid with the exact solution."""
from __future__ import annotations

import numpy as np

from .data import exact_grid, load_reference
from .train import Evaluation

__all__ = ["make_evaluation"]


def make_evaluation(problem, allow=()) -> Evaluation | None:
    chk = problem.checked
    if chk.references:
        ref = chk.references[0]
        X, truth, shape = load_reference(problem, ref, allow)
        for f in problem.fields:
            if f not in truth and f in chk.exact:
                truth[f] = np.asarray(problem.exact(X)[f])
        return Evaluation(X, truth, shape, "reference")
    if chk.exact:
        import jax.numpy as jnp
        X, shape = exact_grid(problem.lowered)
        ex = problem.exact(jnp.asarray(X, problem.dtype))
        return Evaluation(X, {f: np.asarray(v, np.float64) for f, v in ex.items()}, shape, "exact")
    return None
