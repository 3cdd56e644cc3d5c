"""Built-in curvature conditions (`d(u, x, 2) = g hard`, alone, with a value or slope on
the same face, or combined as α·u + β·dx(u) + γ·d(u, x, 2) = g): they hold on both faces
before and after training, the rewrite matches finite differences and shows in the IR,
and incompatible forms are compile errors."""
import numpy as np
import pytest

from hard_cases import CURVE, CURVE_FLUX, CURVE_ROBIN
from hard_common import N, TOL, _derivs, _err, _load, _params, _params_for, _rel, _rng
from pdeforge.compiler.emit import ir_text


def _curvature_holds(text, f64, seed, check):
    """For the initial and the trained weights, at N random times: check(x, t, u, ux, uxx)
    on both faces x = 0, 1 (tolerances: CURV_TOL); the initial data sin(πx) stay exact."""
    pb = _load(text, f64)
    assert pb.lowered.term_names == ["equation1"]
    r = _rng(seed)
    for steps in (0, 20):
        p = _params_for(text, f64, steps)
        t = r.random(N) * 0.5
        for xv in (0.0, 1.0):
            d = _derivs(pb, p, np.stack([np.full(N, xv), t], 1), [(0, 0), (1, 0), (2, 0)])
            check(xv, t, *(np.asarray(d[k], np.float64)[:, 0] for k in ((0, 0), (1, 0), (2, 0))))
        x = r.random(N)
        g = np.sin(np.pi * x)
        assert _rel(np.asarray(pb.predict(p, np.stack([x, np.zeros(N)], 1))["u"], np.float64) - g, g) <= TOL[f64]
        d = _derivs(pb, p, r.random((N, 2)) * np.array([1.0, 0.5]), [(2, 0)])
        assert np.abs(np.asarray(d[(2, 0)])).max() > 1e-2        # curved inside: not held by being flat


# a second derivative taken in float32 by the derivative engine: 2.3e-6 measured, so 1e-5 there
CURV_TOL = {True: TOL[True], False: 1e-5}


@pytest.mark.parametrize("f64", [True, False])
def test_curvature_and_value_hold_on_the_same_face(f64):
    """`d(u, x, 2) = g` hard with `u = 0` hard on the same face (a simply supported end):
    χ = (x − a)²/2·(1 − s)³ corrects the curvature and leaves the value, the slope and the
    other face alone."""
    def check(xv, t, u, ux, uxx):
        g = t if xv == 0.0 else -2 * t
        assert _rel(u, 1.0) <= TOL[f64]
        assert _rel(uxx - g, np.abs(uxx) + np.abs(g)) <= CURV_TOL[f64]
    _curvature_holds(CURVE, f64, 14, check)


def test_curvature_rewrite_matches_finite_differences_and_shows_in_ir():
    pb = _load(CURVE, True)
    text = ir_text(pb.ir, pb.lowered)
    assert "(from `bent`: d(u, x, 2) = t on x = 0)" in text and "(from `flat`: d(u, x, 2) = -2*t on x = 1)" in text
    p = _params(pb, 0)
    X = _rng(15).random((64, 2)) * np.array([0.8, 0.4]) + np.array([0.1, 0.05])
    d = _derivs(pb, p, X, [(1, 0), (0, 1), (2, 0)])
    u = lambda Y: np.asarray(pb.predict(p, Y)["u"])
    h, e = 1e-4, np.eye(2)
    for i, k in ((0, (1, 0)), (1, (0, 1))):
        fd = (u(X + h * e[i]) - u(X - h * e[i])) / (2 * h)
        np.testing.assert_allclose(np.asarray(d[k])[:, 0], fd, rtol=1e-6, atol=1e-6)
    fd2 = (u(X + h * e[0]) - 2 * u(X) + u(X - h * e[0])) / h ** 2
    np.testing.assert_allclose(np.asarray(d[(2, 0)])[:, 0], fd2, rtol=1e-4, atol=1e-3)


def test_curvature_forms_that_cannot_be_built_in():
    base = CURVE.split("condition walls")[0] + "model u = mlp(width = 8, depth = 2)\n"
    e = _err(base + "condition a: d(u, x, 2) = 1 on x = 0 hard\ncondition b: u = x * (1 - x) on t = 0 hard\n")
    assert e.codes == ["E326"] and "`a`" in e.diagnostics[0].message and "`b`" in e.diagnostics[0].message   # −2 ≠ 1 at t = 0
    start = "condition s: u = sin(pi * x) on t = 0 hard\n"
    e = _err(base + start + "condition a: d(u, x, 2) = 0 on x = 0 hard\ncondition b: d(u, x, 2) = 1 on x = 0 hard\n")
    assert e.codes == ["E325"]


@pytest.mark.parametrize("f64", [True, False])
def test_curvature_combined_with_value_and_slope_holds(f64):
    """α·u + β·dx(u) + γ·d(u, x, 2) = g hard: χ keeps u and dx(u) on the face, so c = (g − αV − βV_x)/γ − V_xx
    holds it — with a slope held on the same face (its ψ' and ψ'' enter V_x and V_xx there)."""
    def check(xv, t, u, ux, uxx):
        lhs, g = (uxx + 2 * u - t * ux, t) if xv == 0.0 else (uxx + u, 0 * t)
        if xv == 0.0:
            assert _rel(ux - np.pi, np.pi) <= TOL[f64]
        assert _rel(lhs - g, np.abs(uxx) + np.abs(u) + np.abs(ux) + np.abs(g)) <= CURV_TOL[f64]
        assert np.abs(u).max() > 1e-3 and np.abs(uxx).max() > 1e-3      # not held by being zero
    _curvature_holds(CURVE_ROBIN, f64, 17, check)
    e = _err(CURVE_ROBIN.replace("2 * u - t * dx(u) = t", "2 * u - dx(u) = t"))     # −π ≠ 0 at t = 0
    assert e.codes == ["E326"] and "`a`" in e.diagnostics[0].message and "`start`" in e.diagnostics[0].message


@pytest.mark.parametrize("f64", [True, False])
def test_curvature_holds_with_a_flux_on_the_same_coordinate(f64):
    """A slope and curvatures on the faces of one coordinate: the curvature layer sees the
    flux correction made before it (ψ'' ≠ 0 on both faces), so both hold — on the flux's own
    face and on the opposite one."""
    def check(xv, t, u, ux, uxx):
        assert _rel(uxx + t, np.abs(uxx) + t) <= CURV_TOL[f64]
        if xv == 0.0:
            assert _rel(ux - np.pi, np.pi) <= TOL[f64]
        else:
            assert np.abs(ux - np.pi).max() > 1e-3          # the slope is held on x = 0 only
    _curvature_holds(CURVE_FLUX, f64, 16, check)
