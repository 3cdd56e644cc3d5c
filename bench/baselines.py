"""Hand-written JAX baselines: the same network, points and loss as the compiled
problem, written the way people write them.

  nested_grad  — pointwise scalar network, derivatives by nesting `jax.grad` (jaxpi's
                 `grad(grad(u, 0), 0)`, DeepXDE's `dde.grad.hessian`), Laplacian as
                 `trace(jax.hessian(u))`; vmapped over the points.
  jet          — batched forward mode with the library: `jax.experimental.jet` towers
                 along each coordinate and `jax.jvp` for first orders.
  taylor       — batched forward mode by hand: the Taylor coefficients (or, for the
                 Laplacian, value + Jacobian + Laplacian: the forward Laplacian of
                 Li et al.) pushed through the tanh MLP layer by layer; the first
                 layer's Jacobian is W itself, shared by all points.

Every baseline takes the compiled problem's parameter pytree, so the three compute the
very same loss (the runner checks that they agree)."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.experimental import jet


def layers_of(problem):
    """[(W, b)] getters of the model's dense layers in order (single-model cases)."""
    lw = problem.lowered
    (mname, g), = lw.graphs.items()
    import networkx as nx
    dense = [n for n in nx.topological_sort(g) if g.nodes[n]["op"] == "dense"]
    return mname, dense


class Case:
    """Common pieces: input scaling to [-1, 1] as the compiler does it."""

    def __init__(self, problem):
        lw = problem.lowered
        self.lo, self.hi = lw.lo, lw.hi
        self.scale = 2.0 / (self.hi - self.lo)
        self.shift = -(self.hi + self.lo) / (self.hi - self.lo)
        self.mname, self.dense = layers_of(problem)
        self.dtype = lw.dtype

    def layers(self, params):
        p = params["nets"][self.mname]
        return [(p[n]["W"], p[n]["b"]) for n in self.dense]

    def features(self, Z):
        """Network input features from scaled coordinates Z (…, d)."""
        return Z

    def mlp(self, params, X):
        """Batched (N, D) → (N,), or pointwise (D,) → ()."""
        Z = X * jnp.asarray(self.scale, X.dtype) + jnp.asarray(self.shift, X.dtype)
        h = self.features(Z)
        Ls = self.layers(params)
        for W, b in Ls[:-1]:
            h = jnp.tanh(h @ W + b)
        W, b = Ls[-1]
        return (h @ W + b)[..., 0]


# ---- Taylor arithmetic by hand (derivative convention, orders ≤ 4) -------------
def _tanh_taylor(v, cs):
    """tanh of a Taylor series: v (N, w), cs [c1..cK] of (N, w) or (w,) (one direction:
    no direction axis — a size-1 axis makes XLA copy every tensor for its layout)."""
    t = jnp.tanh(v)
    s = 1 - t * t
    K = len(cs)
    d = [s, -2 * t * s, s * (6 * t * t - 2), s * t * (16 - 24 * t * t)][:K]
    c1 = cs[0]
    out = [d[0] * c1]
    if K >= 2:
        c2 = cs[1]
        out.append(d[1] * c1 * c1 + (d[0] * c2 if c2 is not None else 0))
    if K >= 3:
        c3 = cs[2]
        y = d[2] * c1 ** 3
        if cs[1] is not None:
            y = y + 3 * d[1] * c1 * cs[1]
        if c3 is not None:
            y = y + d[0] * c3
        out.append(y)
    if K >= 4:
        c2, c3, c4 = cs[1], cs[2], cs[3]
        y = d[3] * c1 ** 4
        if c2 is not None:
            y = y + 6 * d[2] * c1 * c1 * c2 + 3 * d[1] * c2 * c2
        if c3 is not None:
            y = y + 4 * d[1] * c1 * c3
        if c4 is not None:
            y = y + d[0] * c4
        out.append(y)
    return t, out


def taylor_mlp(Ls, pre, cs_groups):
    """Push first-layer pre-activations `pre` (N, w) and their Taylor coefficients
    through the remaining tanh MLP. cs_groups: [[c1..cK]] of (N, w) or (w,), one
    direction per group."""
    v = pre
    for W, b in Ls[1:]:
        t, outs = None, []
        for cs in cs_groups:
            t, o = _tanh_taylor(v, cs)
            outs.append(o)
        v = t @ W + b
        cs_groups = [[c @ W for c in o] for o in outs]
    return v, cs_groups


def forward_laplacian(Ls, Z, dZ):
    """Value and Laplacian of the tanh MLP over the coordinates with scaled unit
    directions dZ (P, d): value (N,), Laplacian (N,)."""
    W0, b0 = Ls[0]
    v = Z @ W0 + b0
    J = dZ @ W0                     # (P, w): the same at every point
    L = None
    for W, b in Ls[1:]:
        t = jnp.tanh(v)
        s = 1 - t * t
        J2 = jnp.sum(J * J, axis=-2)                # (N, w) or (w,)
        L = (s * L if L is not None else 0) + (-2 * t * s) * J2
        J = s[:, None, :] * J                        # (N, P, w)
        v = t @ W + b
        J = J @ W
        L = L @ W
    return v[:, 0], L[:, 0]


# ---- cases ------------------------------------------------------------------------
class Burgers(Case):
    nu = 0.01 / math.pi

    def loss_from(self, u, ut, ux, uxx, batch, params):
        r = ut + u * ux - self.nu * uxx
        walls = jnp.concatenate([self.mlp(params, batch["x_lo"]), self.mlp(params, batch["x_hi"])])
        X0 = batch["t_lo"]
        start = self.mlp(params, X0) + jnp.sin(jnp.pi * X0[:, 0])
        return jnp.mean(r ** 2) + jnp.mean(walls ** 2) + jnp.mean(start ** 2)

    def nested_grad(self, params, batch):
        f = lambda x, t: self.mlp(params, jnp.stack([x, t]))
        fx = jax.grad(f, 0)
        derivs = jax.vmap(lambda x, t: (f(x, t), jax.grad(f, 1)(x, t), fx(x, t), jax.grad(fx, 0)(x, t)))
        X = batch["interior"]
        u, ut, ux, uxx = derivs(X[:, 0], X[:, 1])
        return self.loss_from(u, ut, ux, uxx, batch, params)

    def jet(self, params, batch):
        X = batch["interior"]
        F = lambda X: self.mlp(params, X)
        ex = jnp.zeros_like(X).at[:, 0].set(1.0)
        et = jnp.zeros_like(X).at[:, 1].set(1.0)
        u, (ux, uxx) = jet.jet(F, (X,), ([ex, jnp.zeros_like(X)],))
        _, ut = jax.jvp(F, (X,), (et,))
        return self.loss_from(u, ut, ux, uxx, batch, params)

    def taylor(self, params, batch):
        X = batch["interior"]
        Ls = self.layers(params)
        Z = X * self.scale.astype(X.dtype) + self.shift.astype(X.dtype)
        W0, b0 = Ls[0]
        pre = Z @ W0 + b0
        cx = self.scale[0] * W0[0]                        # (w,): shared by all points
        ct = self.scale[1] * W0[1]
        v, (gx, gt) = taylor_mlp(Ls, pre, [[cx, None], [ct]])
        return self.loss_from(v[:, 0], gt[0][:, 0], gx[0][:, 0], gx[1][:, 0], batch, params)


class KS(Case):
    a, b, g = 100 / 16, 100 / 16 ** 2, 100 / 16 ** 4

    def features(self, Z):
        # the compiled network's periodic(x, 2, 1) embedding, then concat with t
        x, t = Z[..., 0:1], Z[..., 1:2]
        return jnp.concatenate([jnp.cos(jnp.pi * x), jnp.sin(jnp.pi * x), t], axis=-1)

    def loss_from(self, u, ut, ux, uxx, uxxxx, batch, params):
        r = ut + self.a * u * ux + self.b * uxx + self.g * uxxxx
        X0 = batch["t_lo"]
        x0 = X0[:, 0]
        start = self.mlp(params, X0) - jnp.cos(x0) * (1 + jnp.sin(x0))
        return jnp.mean(r ** 2) + jnp.mean(start ** 2)

    def nested_grad(self, params, batch):
        f = lambda x, t: self.mlp(params, jnp.stack([x, t]))
        f1 = jax.grad(f, 0)
        f2 = jax.grad(f1, 0)
        f4 = jax.grad(jax.grad(f2, 0), 0)
        derivs = jax.vmap(lambda x, t: (f(x, t), jax.grad(f, 1)(x, t), f1(x, t), f2(x, t), f4(x, t)))
        X = batch["interior"]
        return self.loss_from(*derivs(X[:, 0], X[:, 1]), batch, params)

    def jet(self, params, batch):
        X = batch["interior"]
        F = lambda X: self.mlp(params, X)
        ex = jnp.zeros_like(X).at[:, 0].set(1.0)
        z = jnp.zeros_like(X)
        u, (ux, uxx, _, uxxxx) = jet.jet(F, (X,), ([ex, z, z, z],))
        _, ut = jax.jvp(F, (X,), (jnp.zeros_like(X).at[:, 1].set(1.0),))
        return self.loss_from(u, ut, ux, uxx, uxxxx, batch, params)

    def taylor(self, params, batch):
        X = batch["interior"]
        Ls = self.layers(params)
        W0, b0 = Ls[0]
        sx, st = self.scale.astype(X.dtype)
        xs = X[:, 0] * sx + self.shift[0].astype(X.dtype)
        ts = X[:, 1] * st + self.shift[1].astype(X.dtype)
        ph = jnp.pi * xs
        w = jnp.pi * sx                                   # d(π xs)/dx
        # pre-activation of the first layer and its x-derivatives, in closed form
        c, s = jnp.cos(ph)[:, None], jnp.sin(ph)[:, None]
        pre = c * W0[0] + s * W0[1] + ts[:, None] * W0[2] + b0
        dcs = [(-s, c), (-c, -s), (s, -c), (c, s)]         # d^k/dφ^k of (cos, sin)
        cx = [(w ** (k + 1)) * (dc * W0[0] + ds * W0[1]) for k, (dc, ds) in enumerate(dcs)]
        ct = st * W0[2]
        v, (gx, gt) = taylor_mlp(Ls, pre, [cx, [ct]])
        return self.loss_from(v[:, 0], gt[0][:, 0], gx[0][:, 0], gx[1][:, 0], gx[3][:, 0], batch, params)


class Poisson(Case):
    def __init__(self, problem):
        super().__init__(problem)
        self.d = len(self.lo)

    def rhs(self, X):
        return (jnp.pi ** 2 / 4) * jnp.sum(jnp.sin(jnp.pi * X / 2), axis=-1)

    def nested_grad(self, params, batch):
        X = batch["interior"]
        f = lambda x: self.mlp(params, x)
        lap = jax.vmap(lambda x: jnp.trace(jax.hessian(f)(x)))(X)
        return jnp.mean((-lap - self.rhs(X)) ** 2)

    def jet(self, params, batch):
        X = batch["interior"]
        F = lambda X: self.mlp(params, X)
        z = jnp.zeros_like(X)

        def second(i):
            return jet.jet(F, (X,), ([z.at[:, i].set(1.0), z],))[1][1]
        lap = sum(second(i) for i in range(self.d))
        return jnp.mean((-lap - self.rhs(X)) ** 2)

    def taylor(self, params, batch):
        X = batch["interior"]
        Ls = self.layers(params)
        Z = X * self.scale.astype(X.dtype) + self.shift.astype(X.dtype)
        dZ = jnp.diag(jnp.asarray(self.scale, X.dtype))
        _, lap = forward_laplacian(Ls, Z, dZ)
        return jnp.mean((-lap - self.rhs(X)) ** 2)


def for_case(name, problem):
    if name.startswith("burgers"):
        return Burgers(problem)
    if name == "ks":
        return KS(problem)
    return Poisson(problem)
