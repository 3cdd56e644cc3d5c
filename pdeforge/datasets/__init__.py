"""Reference data for operator learning (issue 18): FNO settings (Li et al. 2021), Gaussian random fields (grf.py),
periodic Burgers (burgers.py), Darcy flow (darcy.py); physics-informed DeepONet settings (Wang, Wang & Perdikaris
2021), RBF-kernel inputs (grf.py), the antiderivative (antiderivative.py) and diffusion-reaction
(diffusion_reaction.py); and the cached front door (cache.py):

    generate(name, n, s, seed=0, cache_dir=None, **params) -> {"a": ..., "u": ...}
    inputs(name, n, s, seed=0, **params) -> a   (the same inputs, not solved)
    solve(name, a, **params) -> u

numpy + scipy only; hand-written because no maintained library ships the FNO data-generation samplers and solvers.
"""
from pdeforge.datasets.cache import MAX_VALUES, cache_path, generate, inputs, solve

__all__ = ["MAX_VALUES", "cache_path", "generate", "inputs", "solve"]
