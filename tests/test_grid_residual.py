"""PDE residuals on grid values (compiler/grid_residual.py, issue 18: PINO). Expressions come from the real parser;
every number is checked against an independent computation: derivatives against jax autodiff of the closed-form
function, numpy.gradient, hand-written stencils; -div(a grad u) against its analytic value; the Darcy reference
solver's solution; the Cole-Hopf solution of Burgers (its heat-flow Fourier series, as tests/test_datasets.py)."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from architectures_common import X64
from pdeforge.api import check_text
from pdeforge.compiler.grid_residual import evaluate, residual
from pdeforge.compiler.grid_stencils import GridSpec, derivative, interior_mask, stencils
from pdeforge.compiler.operator import grid_points
from pdeforge.datasets.darcy import solve_darcy
from pdeforge.datasets.grf import darcy_coefficient, grf_2d
from pdeforge.dsl import PdeError, parse
from pdeforge.dsl import ast as A


def equation(text, coords="(x, y) in rectangle([0, 1], [0, 1])"):
    """The `A.Equation` of a tiny program, parsed by the real parser."""
    prog = parse(f"problem t\ndomain {coords}\nfield u(x, y)\nequation: {text}\n")
    return prog.of(A.Equation)[0]


def expr(text):
    return equation(f"{text} = 0").lhs


def grid2(n, m, layout="nodes", ends="matched", hi=(1.0, 2.0), flux="wide"):
    """`flux="wide"`: the tests of the stencils themselves difference the product a·∇u with
    them; the compact flux stencil (the default) has tests of its own below."""
    return GridSpec(("x", "y"), (0.0, 0.0), hi, (n, m), layout, ends=ends, flux=flux)


def mesh(g):
    return np.meshgrid(*(g.axis_points(i) for i in range(len(g.sizes))), indexing="ij")


# ---- (a) periodic: spectral, exact to rounding ------------------------------------------------------------------
def _bump(x, L, n):
    """d^n/dx^n of sin(3 c x) exp(cos(c x)), c = 2 pi / L, written out (Leibniz over the two factors)."""
    c = 2 * np.pi / L
    s, co, E = np.sin(c * x), np.cos(c * x), np.exp(np.cos(c * x))
    g = [np.sin(3 * c * x), 3 * c * np.cos(3 * c * x), -(3 * c) ** 2 * np.sin(3 * c * x), -(3 * c) ** 3 * np.cos(3 * c * x)]
    e = [E, -c * s * E, c ** 2 * (s ** 2 - co) * E, c ** 3 * (3 * s * co + s - s ** 3) * E]
    binom = [[1], [1, 1], [1, 2, 1], [1, 3, 3, 1]][n]
    return sum(b * g[j] * e[n - j] for j, b in enumerate(binom))


@pytest.mark.parametrize("n,lo,hi", [(64, 0.0, 1.0), (65, 0.0, 1.0), (48, -1.0, 1.0)])
def test_periodic_spectral_derivatives_to_third_order(n, lo, hi):
    exprs = [expr(t) for t in ("u", "dx(u)", "d(u, x, 2)", "d(u, x, 3)", "dx(dx(dx(u)))")]
    with X64(True):
        g = GridSpec(("x",), (lo,), (hi,), (n,), "periodic")
        x = g.axis_points(0)
        assert np.allclose(x, lo + (hi - lo) * np.arange(n) / n) and g.h == ((hi - lo) / n,)
        got = jax.jit(lambda u: [evaluate(e, {"u": u}, g)[0] for e in exprs])(jnp.asarray(_bump(x, hi - lo, 0))[None])
        for k, d in zip((0, 1, 2, 3, 3), got):
            want = _bump(x, hi - lo, k)
            # measured: relative 2e-15 (k = 1) to 5e-13 (k = 3)
            assert np.abs(np.asarray(d) - want).max() / np.abs(want).max() < 1e-10, k


def test_periodic_nyquist_mode():
    """(-1)^j is cos(pi n x) on an even grid: its odd derivatives are zeroed, its second is -(pi n)^2 times it."""
    with X64(True):
        n = 16
        g = GridSpec(("x",), (0.0,), (1.0,), (n,), "periodic")
        u = jnp.asarray((-1.0) ** np.arange(n))[None]
        assert float(jnp.abs(derivative(u, g, 0, 1)).max()) < 1e-12
        assert float(jnp.abs(derivative(u, g, 0, 3)).max()) < 1e-9
        assert np.allclose(derivative(u, g, 0, 2), -(np.pi * n) ** 2 * u, rtol=1e-12)


# ---- (b) nodes: second order in the interior and at the boundary -------------------------------------------------
_P, _Q = 0.7 + 1.3j, -0.4 + 2.0j        # u = Im exp(P x + Q y + 0.5 i) = exp(0.7x - 0.4y) sin(1.3x + 2y + 0.5)


def _f2(x, y, p=0, q=0):
    """d^p/dx^p d^q/dy^q of u, closed form."""
    return (_P ** p * _Q ** q * np.exp(_P * x + _Q * y + 0.5j)).imag


NODES = [("dx(u)", (1, 0)), ("d(u, y)", (0, 1)), ("d(u, x, 2)", (2, 0)), ("dy(dy(u))", (0, 2)), ("d(u, x, y)", (1, 1)),
         ("lap(u)", ((2, 0), (0, 2))), ("div(grad(u))", ((2, 0), (0, 2))), ("d(u, x, 3)", (3, 0))]


@functools.lru_cache(maxsize=None)
def _node_errors(n, ends="matched"):
    """{expression: (interior max error, boundary max error)} on an n x (1.5(n-1)+1) grid of [0, 1] x [0, 2]."""
    with X64(True):
        g = grid2(n, 3 * (n - 1) // 2 + 1, ends=ends)      # h_y = (4/3) h_x, both halve with n - 1
        x, y = mesh(g)
        exprs = [expr(t) for t, _ in NODES]
        got = jax.jit(lambda u: [evaluate(e, {"u": u}, g)[0] for e in exprs])(jnp.asarray(_f2(x, y))[None])
        m, out = interior_mask(g), {}
        for (text, pq), d in zip(NODES, got):
            want = sum(_f2(x, y, *o) for o in pq) if isinstance(pq[0], tuple) else _f2(x, y, *pq)
            err = np.abs(np.asarray(d) - want)
            out[text] = (err[m].max(), err[~m].max())
        return out


@pytest.mark.parametrize("text", [t for t, _ in NODES])
def test_nodes_second_order_inside_and_on_the_boundary(text):
    (i1, b1), (i2, b2) = _node_errors(41)[text], _node_errors(81)[text]
    # measured ratios 41 -> 81 nodes: interior 3.90-3.95, boundary 3.62-4.06 (d(u, x, 2) and d(u, x, 3) lowest);
    # errors at 81: 8.9e-5 (d(u, x, 2)) to 1.25e-3 (d(u, x, y))
    assert 3.6 < i1 / i2 < 4.4, (text, i1, i2)
    assert 3.3 < b1 / b2 < 4.6, (text, b1, b2)
    assert i2 < 2e-3, (text, i2)


def test_gradient_ends_are_numpys_and_the_second_derivative_stencil():
    with X64(True):
        g = grid2(9, 7, ends="gradient")
        u = np.random.default_rng(0).standard_normal((3, 9, 7))
        dx, dy, dxx = jax.jit(lambda v: (derivative(v, g, 0, 1), derivative(v, g, 1, 1), derivative(v, g, 0, 2)))(u)
        for i, d in enumerate((dx, dy)):
            assert np.allclose(d, np.gradient(u, g.h[i], axis=1 + i, edge_order=2), rtol=0, atol=1e-12)
        h, v = g.h[0], u[0, :, 3]
        d2 = np.asarray(dxx)[0, :, 3]
        assert np.allclose(d2[1:-1], (v[:-2] - 2 * v[1:-1] + v[2:]) / h ** 2, atol=1e-10)
        assert np.isclose(d2[0], (2 * v[0] - 5 * v[1] + 4 * v[2] - v[3]) / h ** 2)
        assert np.isclose(d2[-1], (2 * v[-1] - 5 * v[-2] + 4 * v[-3] - v[-4]) / h ** 2)
    # matched ends: one point more, the centred stencil's h^2 error term (u' + h^2/6 u''' for k = 1)
    (_, rows) = stencils(1)
    s = np.arange(4.0)
    assert np.allclose([np.dot(rows[0], s ** m) for m in range(4)], [0, 1, 0, 1])     # sum w s^3 / 3! = 1/6


def test_interior_mask_and_spacing():
    g = GridSpec(("x", "t"), (0.0, 0.0), (1.0, 2.0), (8, 5), ("periodic", "nodes"))
    m = interior_mask(g)
    assert m.shape == (8, 5) and not m[:, [0, -1]].any() and m[:, 1:-1].all()
    assert g.h == (1 / 8, 0.5)
    assert interior_mask(grid2(5, 6, "periodic")).all()
    with pytest.raises(ValueError):
        GridSpec(("x",), (0.0,), (1.0,), (3,), "nodes")


def test_gridspec_of_a_checked_operator_program():
    c = check_text("problem d\ndomain (x, y) in rectangle([0, 2], [-1, 1])\ngrid x = 21, y = 17\n"
                   "input a(x, y) from threshold(grf(covariance = (-lap + 9)^-2), high = 12, low = 3)\n"
                   "field u(x, y) given a\npairs from darcy()\nmodel u = fno(modes = 4, width = 8, layers = 1)\n")
    for layout in ("nodes", "periodic"):
        g = GridSpec.of(c, layout)
        assert g.sizes == (21, 17)
        assert np.allclose(np.stack(mesh(g), -1), grid_points(c, layout))


# ---- (c) -div(a grad u), conservative form ----------------------------------------------------------------------
DARCY = equation("-div(a * grad(u)) = 1")


@functools.partial(jax.jit, static_argnums=2)
def _darcy(u, a, g):
    return residual(DARCY, {"u": u, "a": a}, g)


def _darcy_errors(n, ends):
    g = grid2(n, n, ends=ends, hi=(1.0, 1.0))
    x, y = mesh(g)
    u, a = np.sin(np.pi * x) * np.sin(np.pi * y), 1 + x ** 2 * y
    ux, uy = np.pi * np.cos(np.pi * x) * np.sin(np.pi * y), np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
    want = -(2 * x * y * ux + x ** 2 * uy - 2 * np.pi ** 2 * a * u) - 1
    err = np.abs(np.asarray(_darcy(u[None], a[None], g))[0] - want)
    m = interior_mask(g)
    return err[m].max(), err[~m].max()


def test_div_a_grad_u_second_order():
    with X64(True):
        (i1, b1), (i2, b2) = (_darcy_errors(n, "matched") for n in (41, 81))
        # measured: interior max 0.183, 0.0460, 0.0115 at 21, 41, 81 (ratios 3.98, 3.99); boundary 0.0347, 0.0094,
        # 0.0031, 0.00085 at 21, 41, 81, 161 (3.7, 3.1, 3.6)
        assert 3.8 < i1 / i2 < 4.2 and i2 < 0.015 and b1 / b2 > 2.8, (i1, i2, b1, b2)
        # numpy.gradient's ends: first order on the boundary and on the first layer inside (0.28, 0.14)
        (j1, c1), (j2, c2) = (_darcy_errors(n, "gradient") for n in (41, 81))
        assert 1.8 < j1 / j2 < 2.2 and 1.8 < c1 / c2 < 2.2 and j2 > 10 * i2, (j1, j2, c1, c2)


# ---- (d) the Darcy reference solver's solution -------------------------------------------------------------------
def _darcy_residual(a):
    s = a.shape[-1]
    g = grid2(s, s, hi=(1.0, 1.0))
    u = np.stack([solve_darcy(b) for b in a])
    return g, np.asarray(_darcy(u, a, g)), interior_mask(g)


def test_darcy_solver_smooth_coefficient_residual_falls():
    """f = 1 with u = 0 on the boundary is incompatible at the corners (there Δu would be 0), so u has an r² log r
    singularity: the residual at the nodes next to a corner stays O(1) (max 0.037 at every s) and the interior RMS
    falls at first order; away from the corners it is second order."""
    with X64(True):
        rms, far = [], []
        for s in (21, 41, 81):
            x, y = np.meshgrid(np.linspace(0, 1, s), np.linspace(0, 1, s), indexing="ij")
            g, r, m = _darcy_residual((1 + x ** 2 * y)[None])
            r = r[0]
            corner = np.min([np.hypot(x - cx, y - cy) for cx in (0, 1) for cy in (0, 1)], axis=0)
            rms.append(np.sqrt(np.mean(r[m] ** 2)))
            far.append(np.abs(r[m & (corner > 0.25)]).max())
            i, j = np.unravel_index(np.argmax(np.abs(r) * m), r.shape)
            assert corner[i, j] < 3 * g.h[0] * 1.5, (s, i, j)
        # measured RMS 8.85e-3, 4.13e-3, 2.02e-3 (rate 1.10, 1.03); far from corners max 1.1e-2, 3.1e-3, 8.5e-4
        rates = np.log2(np.array(rms[:-1]) / rms[1:])
        assert (rates > 0.9).all() and rms[-1] < 3e-3, rms
        assert far[0] / far[1] > 3.4 and far[1] / far[2] > 3.6, far


def test_darcy_solver_thresholded_coefficient_does_not_converge_pointwise():
    """FNO's two-valued coefficient (12/3): a·∇u jumps where a does, its difference is O(1/h) at the O(1/h) nodes next
    to the jumps, so the interior RMS grows as h^(-1/2) while the median residual falls as h²."""
    with X64(True):
        psi = grf_2d(2, 421, seed=0)              # one field seen at 29, 61, 85 nodes (421 = 15·28+1 = 7·60+1 = 5·84+1)
        rms, med = {}, {}
        for s in (29, 61, 85):
            st = 420 // (s - 1)
            _, r, m = _darcy_residual(darcy_coefficient(psi[:, ::st, ::st]))
            rms[s] = [float(np.sqrt(np.mean(b[m] ** 2))) for b in r]
            med[s] = [float(np.median(np.abs(b[m]))) for b in r]
        # measured RMS: s=29 0.588, 0.497; s=61 0.851, 0.784; s=85 1.043, 1.066 (samples 2, 3: 0.72/0.46,
        # 1.08/0.63, 1.31/0.78); median |r|: 9.4e-3, 2.2e-3, 1.1e-3
        growth = np.array(rms[85]) / np.array(rms[29])
        assert (1.4 < growth).all() and (growth < 2.4).all(), rms        # (84/28)^0.5 = 1.73
        assert min(rms[29]) > 0.3 and (np.array(med[29]) / np.array(med[85]) > 5).all(), (rms, med)


# ---- (e) Burgers on a space-time grid -------------------------------------------------------------------------------
def _cole_hopf(x, t, nu):
    """u0 = sin(2 pi x): u = -2 nu phi_x / phi, phi the heat flow of exp(cos(2 pi x) / (4 pi nu)) (Fourier series)."""
    m = 128
    ph = np.fft.fft(np.exp(np.cos(2 * np.pi * np.arange(m) / m) / (4 * np.pi * nu))) / m
    kk = 2 * np.pi * np.fft.fftfreq(m, d=1.0 / m)
    c = ph[:, None] * np.exp(-nu * kk[:, None] ** 2 * t[None, :])           # (m, nt)
    e = np.exp(1j * np.outer(x, kk))                                        # (nx, m)
    return (-2 * nu * (e @ (1j * kk[:, None] * c)) / (e @ c)).real


def test_burgers_cole_hopf_residual_converges():
    eqs = [equation(t, coords="x in [0, 1]\ntime t in [0, 1]") for t in
           ("dt(u) + u * dx(u) = nu * d(u, x, 2)", "dt(u) + dx(u^2 / 2) - nu * d(u, x, 2) = 0")]
    with X64(True):
        out = []
        for nt in (81, 161, 321):
            g = GridSpec(("x", "t"), (0.0, 0.0), (1.0, 1.0), (64, nt), ("periodic", "nodes"), spatial=("x",))
            u = _cole_hopf(g.axis_points(0), g.axis_points(1), 0.1)
            r = jax.jit(lambda v: [residual(e, {"u": v}, g, {"nu": 0.1}) for e in eqs])(jnp.asarray(u)[None])
            m = interior_mask(g)
            assert np.abs(np.asarray(r[0]) - np.asarray(r[1])).max() < 1e-10      # u u_x = (u^2/2)_x, spectrally
            r = np.asarray(r[0])[0]
            out.append((np.sqrt(np.mean(r[m] ** 2)), np.abs(r[m]).max(), np.abs(r[~m]).max()))
        out = np.array(out)
        # measured (x: 64 points; the FD time derivative dominates): interior RMS 4.8e-3, 1.3e-3, 3.4e-4 (ratios 3.67,
        # 3.83; 3.40 from 41 points, 3.91 to 641: the initial layer's large u_ttt makes coarse steps pre-asymptotic),
        # interior max 5.1e-2, 1.6e-2, 4.6e-3 (at t = dt), t = 0 and 1 rows max 2.9e-2, 9.1e-3, 3.4e-3
        ratio = out[:-1] / out[1:]
        assert (ratio[:, 0] > 3.5).all() and (ratio[:, 0] < 4.2).all() and (ratio[:, 1:] > 2.5).all(), out
        assert out[-1, 0] < 5e-4, out


# ---- (f) errors ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,part", [("dn(u)", "dn(u)"), ("q * u", "q"), ("d(u, z)", "z"), ("dxx(u)", "dxx(u)"),
                                       ("grad(u)", "grad(u)")])
def test_unsupported_raises_E353_at_the_node(text, part):
    eq = equation(f"{text} = 0")
    with pytest.raises(PdeError) as exc:         # raised while tracing: nothing is compiled
        jax.jit(lambda u: residual(eq, {"u": u}, grid2(6, 6)))(jnp.zeros((1, 6, 6)))
    d = exc.value.diagnostics[0]
    assert exc.value.codes == ["E353"]
    col = 11 + text.index(part)                      # "equation: " is 10 characters, columns count from 1
    assert (d.span.line, d.span.col) == (4, col) or part == "grad(u)", (d.span, d.message)


# ---- (g) jit and grad ------------------------------------------------------------------------------------------------------
def test_jit_grad_of_the_mean_square_residual():
    eq = equation("-div(a * grad(u)) + sin(u) * exp(x) = pi * y")
    with X64(True):
        g = grid2(17, 13, hi=(1.0, 1.0))
        rng = np.random.default_rng(1)
        u0, a = jnp.asarray(rng.standard_normal((2, 17, 13))), jnp.asarray(1.0 + rng.random((2, 17, 13)))
        m = jnp.asarray(interior_mask(g))

        def loss(u):
            r = residual(eq, {"u": u, "a": a}, g)
            return jnp.sum(jnp.where(m, r, 0.0) ** 2) / (2 * m.sum())

        vg = jax.jit(jax.value_and_grad(loss))
        val, grad = vg(u0)
        assert np.isclose(val, jax.jit(loss)(u0), rtol=1e-12) and np.isfinite(np.asarray(grad)).all()
        v, eps = jnp.asarray(rng.standard_normal(u0.shape)), 1e-5
        fd = (vg(u0 + eps * v)[0] - vg(u0 - eps * v)[0]) / (2 * eps)
        assert abs(float(jnp.vdot(grad, v)) - float(fd)) < 1e-7 * abs(float(fd)), (jnp.vdot(grad, v), fd)
    # float32 in, float32 out (coordinates follow the fields' dtype)
    r = jax.jit(lambda u, a: residual(eq, {"u": u, "a": a}, g))(jnp.zeros((2, 17, 13), jnp.float32),
                                                              jnp.ones((2, 17, 13), jnp.float32))
    assert r.dtype == jnp.float32 and r.shape == (2, 17, 13)


# ---- the compact flux stencil (the default for `div(a * grad(u))`, `dx(a * dx(u))`) --------------------------
def test_compact_flux_is_exact_on_the_reference_solvers_solution():
    """The compact stencil is the Darcy solver's own 5-point scheme: its solutions, for the
    two-valued coefficient where the wide stencil leaves RMS 0.5-1.1, have zero residual
    (to the sparse solve's rounding) at every interior node; both spellings agree."""
    with X64(True):
        psi = grf_2d(2, 29, seed=0)
        a = darcy_coefficient(psi)
        u = np.stack([solve_darcy(b) for b in a])
        g = grid2(29, 29, hi=(1.0, 1.0), flux="compact")
        m = interior_mask(g)
        for text in ("-div(a * grad(u)) = 1", "-(dx(a * dx(u)) + dy(a * dy(u))) = 1"):
            r = np.asarray(residual(equation(text), {"u": u, "a": a}, g))
            assert np.abs(r[:, m]).max() < 1e-9, text
        wide = np.asarray(residual(DARCY, {"u": u, "a": a}, grid2(29, 29, hi=(1.0, 1.0))))
        assert np.sqrt(np.mean(wide[:, m] ** 2)) > 0.3


def test_compact_flux_second_order_for_a_smooth_coefficient():
    with X64(True):
        errs = []
        for n in (41, 81):
            g = grid2(n, n, hi=(1.0, 1.0), flux="compact")
            x, y = mesh(g)
            u, a = np.sin(np.pi * x) * np.sin(np.pi * y), 1 + x ** 2 * y
            ux, uy = np.pi * np.cos(np.pi * x) * np.sin(np.pi * y), np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
            want = -(2 * x * y * ux + x ** 2 * uy - 2 * np.pi ** 2 * a * u) - 1
            err = np.abs(np.asarray(_darcy(u[None], a[None], g))[0] - want)
            errs.append(err[interior_mask(g)].max())
        assert 3.6 < errs[0] / errs[1] < 4.4 and errs[1] < 5e-3, errs
