"""Built-in values hold by construction: Dirichlet walls and an initial value and rate
(the wave equation), the transfinite interpolant of data on every face of a box, and
the periodic embedding — at N random points of the constrained region, before and
after training, to 1e-12 relative in float64 and 1e-6 in float32; the rewritten field
is what the IR shows and what the residuals differentiate."""
import numpy as np
import pytest

from hard_cases import BOX, PERIODIC, WAVE
from hard_common import N, TOL, _derivs, _load, _params, _rel, _rng
from pdeforge.compiler.emit import ir_text


@pytest.mark.parametrize("f64", [True, False])
def test_dirichlet_and_initial_rate_hold(f64):
    pb = _load(WAVE, f64)
    assert pb.lowered.regions.keys() == {"interior"}       # no loss terms for the built-in conditions
    r = _rng()
    for steps in (0, 20):
        p = _params(pb, steps)
        x = r.random(N)
        X0 = np.stack([x, np.zeros(N)], 1)
        g = np.sin(np.pi * x) + 0.5 * np.sin(4 * np.pi * x)
        d = _derivs(pb, p, X0, [(0, 0), (0, 1)])
        assert _rel(np.asarray(d[(0, 0)])[:, 0] - g, g) <= TOL[f64]
        assert _rel(np.asarray(d[(0, 1)])[:, 0], 1.0) <= TOL[f64]
        t = r.random(N)
        for xv in (0.0, 1.0):
            u = pb.predict(p, np.stack([np.full(N, xv), t], 1))["u"]
            assert _rel(u, 1.0) <= TOL[f64]


@pytest.mark.parametrize("f64", [True, False])
def test_transfinite_box_matches_every_face(f64):
    pb = _load(BOX, f64)
    r = _rng(1)
    for steps in (0, 20):
        p = _params(pb, steps)
        for (i, v, fn) in [(0, 0.0, lambda y: y ** 2), (0, 1.0, lambda y: y ** 2 + np.sin(y)),
                           (1, -1.0, lambda x: 1 + x * np.sin(-1)), (1, 2.0, lambda x: 4 + x * np.sin(2))]:
            s = r.random(N) * (3.0 if i == 0 else 1.0) + (-1.0 if i == 0 else 0.0)
            X = np.empty((N, 2))
            X[:, i], X[:, 1 - i] = v, s
            g = fn(s)
            assert _rel(np.asarray(pb.predict(p, X)["u"]) - g, g) <= TOL[f64]


def test_rewrite_is_shown_in_the_ir():
    pb = _load(WAVE, True)
    text = ir_text(pb.ir, pb.lowered)
    assert "hard (built into the models" in text
    assert "u(x, t) = 400*t**2*x*(1 - x)*N_u(x, t)/(100*t**2 + 1) + sin(pi*x) + sin(4*pi*x)/2" in text
    assert "ends [condition]" not in text and "shape [condition]" not in text


def test_residual_derivatives_go_through_the_rewrite():
    """u_t, u_xx, u_tt of the constrained field from the engine match finite differences
    of predict (float64): the residuals see the rewritten field."""
    pb = _load(WAVE, True)
    p = _params(pb, 0)
    X = _rng(2).random((64, 2)) * 0.8 + 0.1
    d = _derivs(pb, p, X, [(0, 1), (2, 0), (0, 2), (1, 1)])
    u = lambda Y: np.asarray(pb.predict(p, Y)["u"])
    h = 1e-4
    e = np.eye(2)
    fd_t = (u(X + h * e[1]) - u(X - h * e[1])) / (2 * h)
    fd_xx = (u(X + h * e[0]) - 2 * u(X) + u(X - h * e[0])) / h ** 2
    fd_tt = (u(X + h * e[1]) - 2 * u(X) + u(X - h * e[1])) / h ** 2
    fd_xt = (u(X + h * (e[0] + e[1])) - u(X + h * (e[0] - e[1]))
             - u(X - h * (e[0] - e[1])) + u(X - h * (e[0] + e[1]))) / (4 * h * h)
    np.testing.assert_allclose(np.asarray(d[(0, 1)])[:, 0], fd_t, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(d[(2, 0)])[:, 0], fd_xx, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.asarray(d[(0, 2)])[:, 0], fd_tt, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(np.asarray(d[(1, 1)])[:, 0], fd_xt, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------- periodic

@pytest.mark.parametrize("f64", [True, False])
def test_periodic_embedding_value_and_derivatives(f64):
    pb = _load(PERIODIC, f64)
    assert not any(k.startswith("periodic") for k in pb.lowered.regions)
    assert pb.lowered.graphs["u"].nodes  # network input: 2·modes features + t
    r = _rng(3)
    for steps in (0, 20):
        p = _params(pb, steps)
        t = r.random(N)
        lo = _derivs(pb, p, np.stack([np.full(N, -1.0), t], 1), [(0, 0), (1, 0), (2, 0), (3, 0)])
        hi = _derivs(pb, p, np.stack([np.full(N, 1.0), t], 1), [(0, 0), (1, 0), (2, 0), (3, 0)])
        for k in lo:
            a, b = np.asarray(lo[k])[:, 0], np.asarray(hi[k])[:, 0]
            # float32: the phase 2π(x − lo)/L at x = hi rounds to 2π ± ulp; scale by the derivative's size
            assert _rel(a - b, a) <= (TOL[f64] if f64 else 2e-6 * 4 ** sum(k)), k
