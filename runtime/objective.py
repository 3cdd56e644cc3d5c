"""The training objective around the compiled loss: fixed weights per labelled
term, gradient-norm or NTK-trace balancing (Wang et al.; jaxpi's `grad_norm`/`ntk`),
and causal weighting in time (Wang, Sankaran & Perdikaris, "Respecting causality
is all you need"). Pure functions of (params, batch, state), so they run inside
the jitted training loop."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Objective", "point_scores", "r3_resample", "rar_add"]


class Objective:
    def __init__(self, lowered, train_cfg: dict):
        s = train_cfg.get("settings", {})
        self.lowered = lowered
        self.names = list(lowered.term_names)
        w = train_cfg.get("weights", {})
        self.fixed = jnp.asarray([float(w.get(n, 1.0)) for n in self.names], lowered.dtype)
        self.balance = s.get("balance", "none")
        self.balance_every = int(s.get("balance_every", 1000))
        self.alpha = 0.9
        self.eps = float(s.get("causal", 0.0) or 0.0)
        self.bins = int(s.get("causal_bins", 32))
        t = next((c for c in lowered.ir.coords if c.is_time), None)
        self.t_index = lowered.coords.index(t.name) if t is not None else None
        self.t_range = (t.lo, t.hi) if t is not None else None
        # causal weighting applies to equation terms evaluated on the interior points
        self.causal_terms = [i for i, term in enumerate(lowered.ir.terms)
                             if term.kind == "equation" and self.eps > 0 and self.t_index is not None]

    def init_state(self):
        return {"lam": jnp.ones(len(self.names), self.lowered.dtype)}

    def terms(self, params, batch):
        """Per-term losses (causally weighted where asked) and the causal weights."""
        res = self.lowered.residuals(params, batch)
        L, cw = [], None
        for i, n in enumerate(self.names):
            r = res[n]
            if i in self.causal_terms:
                li, cw = self._causal(r, batch["interior"][:, self.t_index])
                L.append(li)
            else:
                L.append(jnp.mean(r ** 2))
        return jnp.stack(L), cw

    def _causal(self, r, t):
        lo, hi = self.t_range
        idx = jnp.clip(((t - lo) / (hi - lo) * self.bins).astype(jnp.int32), 0, self.bins - 1)
        sums = jax.ops.segment_sum(r ** 2, idx, self.bins)
        counts = jax.ops.segment_sum(jnp.ones_like(r), idx, self.bins)
        Lb = sums / jnp.maximum(counts, 1.0)
        prior = jnp.concatenate([jnp.zeros((1,), Lb.dtype), jnp.cumsum(Lb)[:-1]])
        w = jax.lax.stop_gradient(jnp.exp(-self.eps * prior))
        return jnp.mean(w * Lb), w

    def total(self, params, batch, state):
        L, _ = self.terms(params, batch)
        return jnp.sum(self.fixed * state["lam"] * L)

    def update(self, params, batch, state):
        """New balancing weights λ (moving average, α = 0.9)."""
        if self.balance == "none":
            return state
        if self.balance == "grad_norm":
            jac = jax.jacrev(lambda p: self.terms(p, batch)[0])(params)
            sq = sum(jnp.sum(j.reshape(len(self.names), -1) ** 2, axis=1) for j in jax.tree_util.tree_leaves(jac))
            norms = jnp.sqrt(sq) + 1e-12
            new = jnp.sum(norms) / norms
        else:   # ntk: traces of each term's neural tangent kernel on a subset of its points
            tr = self._ntk_traces(params, batch)
            new = jnp.sum(tr) / (tr + 1e-12)
        lam = self.alpha * state["lam"] + (1 - self.alpha) * jax.lax.stop_gradient(new)
        return {"lam": lam}

    def _ntk_traces(self, params, batch, n=64):
        def residual_vector(p, sub):
            return self.lowered.residuals(p, sub)
        sub = {k: v[:n] for k, v in batch.items()}
        jac = jax.jacrev(residual_vector)(params, sub)
        out = []
        for name in self.names:
            leaves = jax.tree_util.tree_leaves(jac[name])
            out.append(sum(jnp.sum(l.reshape(l.shape[0], -1) ** 2) / l.shape[0] for l in leaves))
        return jnp.stack(out)


def point_scores(lowered, params, X, key=None):
    """|residual|² summed over the equations at interior points X (for R3/RAR)."""
    res = lowered.residuals(params, {"interior": X, **({"key": key} if key is not None else {})})
    eq = [t.name for t in lowered.ir.terms if t.kind == "equation"]
    return sum(res[n] ** 2 for n in eq)


def r3_resample(scores, X, fresh):
    """Retain-Resample-Release (Daw et al. 2023): keep points whose residual is above
    the mean, replace the rest by fresh samples; the count stays fixed."""
    keep = np.asarray(scores) >= np.mean(np.asarray(scores))
    n_new = int((~keep).sum())
    return np.concatenate([np.asarray(X)[keep], np.asarray(fresh)[:n_new]], 0)


def rar_add(scores_pool, pool, X, m):
    """RAR (Lu et al. 2021): add the m candidates with the largest residual."""
    top = np.argsort(-np.asarray(scores_pool))[:m]
    return np.concatenate([np.asarray(X), np.asarray(pool)[top]], 0)
