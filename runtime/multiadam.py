"""MultiAdam (Yao, Su, Hao, Liu, Su & Zhu, ICML 2023, "MultiAdam: parameter-wise
scale-invariant optimizer for multiscale training of physics-informed neural
networks") as an optax GradientTransformation.

Adam's first and second moments are kept separately for every loss term; each
term's bias-corrected update m̂ᵢ / (√v̂ᵢ + ε) is scale-free, and the step is their
weighted sum Σᵢ wᵢ m̂ᵢ / (√v̂ᵢ + ε) (wᵢ = 1/n by default, the paper's equal group
weights). Multiplying one term's loss by any constant leaves the step unchanged,
so a residual of size 1e-6 beside one of size 1 trains at the same pace.

`update` takes the per-term gradients: a pytree shaped like the parameters whose
leaves carry a leading axis of length `n_terms` (what `jax.jacrev` of the vector
of term losses gives), and returns an ordinary update pytree."""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from pdeforge.dsl.vocabulary import STAGES

__all__ = ["MultiAdamState", "scale_by_multiadam", "multiadam"]

# the paper's β₁ = β₂ = 0.99 and ε, as the stage table gives them to a `multiadam` stage
_DEFAULT = STAGES["multiadam"].options


class MultiAdamState(NamedTuple):
    count: jnp.ndarray
    mu: optax.Params     # leaves (n_terms, *shape)
    nu: optax.Params


def scale_by_multiadam(n_terms: int, b1: float = _DEFAULT["b1"], b2: float = _DEFAULT["b2"],
                       eps: float = _DEFAULT["eps"], weights=None) -> optax.GradientTransformation:
    """The direction Σᵢ wᵢ m̂ᵢ / (√v̂ᵢ + ε) (no learning rate; see `multiadam`).
    The paper's defaults β₁ = β₂ = 0.99."""
    w = jnp.full((n_terms,), 1.0 / n_terms) if weights is None else jnp.asarray(weights)

    def init(params):
        z = jax.tree_util.tree_map(lambda p: jnp.zeros((n_terms,) + jnp.shape(p), jnp.result_type(p)), params)
        return MultiAdamState(jnp.zeros((), jnp.int32), z, jax.tree_util.tree_map(jnp.copy, z))

    def update(per_term_grads, state, params=None):
        del params
        count = state.count + 1
        mu = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, per_term_grads)
        nu = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state.nu, per_term_grads)
        def combine(m, v):
            k = count.astype(m.dtype)           # bias corrections in the parameters' precision
            c1, c2 = 1 - b1 ** k, 1 - b2 ** k
            each = (m / c1) / (jnp.sqrt(v / c2) + eps)       # one scale-free update per term
            return jnp.tensordot(w.astype(m.dtype), each, axes=1)
        return jax.tree_util.tree_map(combine, mu, nu), MultiAdamState(count, mu, nu)

    return optax.GradientTransformation(init, update)


def multiadam(learning_rate, n_terms: int, b1: float = _DEFAULT["b1"], b2: float = _DEFAULT["b2"],
              eps: float = _DEFAULT["eps"], weights=None) -> optax.GradientTransformation:
    """MultiAdam with a learning rate (a number or an optax schedule)."""
    return optax.chain(scale_by_multiadam(n_terms, b1, b2, eps, weights),
                       optax.scale_by_learning_rate(learning_rate))
