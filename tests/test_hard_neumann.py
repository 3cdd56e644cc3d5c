"""Built-in flux conditions: Neumann (`dn(u) = g hard`) and Robin (`dn(u) + a u = g
hard`) faces hold exactly before and after training, with insulated ends under an
initial state; the rewrite's derivatives match finite differences and show in the IR;
forms that cannot be built in are compile errors naming the statements."""
import numpy as np
import pytest

from hard_cases import FLUX, HEAT_FLUX
from hard_common import N, TOL, _derivs, _err, _load, _params, _params_for, _rel, _rng
from pdeforge.compiler.emit import ir_text


def _flux_face_values(pb, p, X):
    d = _derivs(pb, p, X, [(0, 0), (1, 0)])
    return np.asarray(d[(0, 0)], np.float64)[:, 0], np.asarray(d[(1, 0)], np.float64)[:, 0]


@pytest.mark.parametrize("f64", [True, False])
def test_neumann_and_robin_hold_on_their_faces(f64):
    pb = _load(FLUX, f64)
    assert pb.lowered.regions.keys() == {"interior"}
    r = _rng(11)
    for steps in (0, 20):
        p = _params_for(FLUX, f64, steps)
        y = r.random(N) * 3 - 1
        u, ux = _flux_face_values(pb, p, np.stack([np.zeros(N), y], 1))
        assert _rel(-ux - y, np.abs(ux) + np.abs(y)) <= TOL[f64]                       # dn(u) = -u_x on x = 0
        u, ux = _flux_face_values(pb, p, np.stack([np.ones(N), y], 1))
        g = 3 + np.sin(y + 1)
        assert _rel(ux + 2 * u - g, np.abs(ux) + 2 * np.abs(u) + np.abs(g)) <= TOL[f64]
        x = r.random(N)
        assert _rel(np.asarray(pb.predict(p, np.stack([x, np.full(N, -1.0)], 1))["u"], np.float64) - x, x) <= TOL[f64]
        assert np.abs(ux).max() > 1e-3


@pytest.mark.parametrize("f64", [True, False])
def test_insulated_ends_with_initial_state(f64):
    pb = _load(HEAT_FLUX, f64)
    r = _rng(12)
    for steps in (0, 20):
        p = _params_for(HEAT_FLUX, f64, steps)
        t = r.random(N) * 0.5
        for xv in (0.0, 1.0):
            _, ux = _flux_face_values(pb, p, np.stack([np.full(N, xv), t], 1))
            assert _rel(ux, 1.0) <= TOL[f64]
        x = r.random(N)
        g = 1 + np.cos(np.pi * x)
        assert _rel(np.asarray(pb.predict(p, np.stack([x, np.zeros(N)], 1))["u"], np.float64) - g, g) <= TOL[f64]


def test_flux_rewrite_derivatives_match_finite_differences_and_show_in_ir():
    pb = _load(FLUX, True)
    text = ir_text(pb.ir, pb.lowered)
    assert "(from `left`: -dx(u) = y on x = 0)" in text and "left [condition]" not in text
    assert "x*(1 - x)**2" in text and "x**2*(x - 1)" in text
    p = _params(pb, 0)
    X = _rng(13).random((64, 2)) * np.array([0.8, 2.4]) + np.array([0.1, -0.7])
    d = _derivs(pb, p, X, [(1, 0), (0, 1), (2, 0), (0, 2)])
    u = lambda Y: np.asarray(pb.predict(p, Y)["u"])
    h, e = 1e-4, np.eye(2)
    for i in (0, 1):
        k1, k2 = [(1, 0), (0, 1)][i], [(2, 0), (0, 2)][i]
        fd1 = (u(X + h * e[i]) - u(X - h * e[i])) / (2 * h)
        fd2 = (u(X + h * e[i]) - 2 * u(X) + u(X - h * e[i])) / h ** 2
        np.testing.assert_allclose(np.asarray(d[k1])[:, 0], fd1, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(d[k2])[:, 0], fd2, rtol=1e-4, atol=1e-3)


FLUX_BASE = """
problem e
domain (x, y) in rectangle([0, 1], [0, 1])
field u(x, y), v(x, y)
equation: -lap(u) = 1
equation mass: div(u, v) = 0
model (u, v) = mlp(width = 8, depth = 1)
"""


def test_flux_forms_that_cannot_be_built_in():
    b = FLUX_BASE
    e = _err(b + "condition a: dn(u) = 0 on x = 0 hard\ncondition b: dn(u) = 0 on y = 0 hard\n")
    assert e.codes == ["E324"] and "two coordinates" in e.diagnostics[0].message and e.diagnostics[0].related
    e = _err(b + "condition a: u = 0 on x = 0 hard\ncondition b: dn(u) = 1 on x = 0 hard\n")
    assert e.codes == ["E324"] and "same face" in e.diagnostics[0].message
    assert _err(b + "condition: y * dn(u) + u = 0 on x = 1 hard\n").codes == ["E324"]      # variable coefficient
    assert _err(b + "condition: dy(u) = 0 on x = 1 hard\n").codes == ["E324"]              # tangential
    assert _err(b + "condition: d(u, y, 2) = 0 on x = 1 hard\n").codes == ["E324"]         # second order, tangential
    assert _err(b + "condition: d(u, x, 2) + u * dx(u) = 0 on x = 1 hard\n").codes == ["E324"]   # not affine
    assert _err(b + "condition: y * d(u, x, 2) + u = 0 on x = 1 hard\n").codes == ["E324"]       # variable γ
    assert _err(b + "condition: dn(u) = 0 on boundary hard\n").codes == ["E324"]           # adjacent faces
    assert _err(b + "condition: dn(u) = 0 on x = 0 hard\ncondition: dn(u) = 1 on x = 0 hard\n").codes == ["E325"]
    e = _err(b + "condition a: dn(u) = 1 on x = 0 hard\ncondition b: u = 0 on y = 0 hard\n")   # -u_x = 1 vs u_x = 0
    assert e.codes == ["E326"] and "`a`" in e.diagnostics[0].message and "`b`" in e.diagnostics[0].message
    stream = b.replace("equation mass: div(u, v) = 0", "equation mass: div(u, v) = 0 hard")
    assert _err(stream + "condition: dn(u) = 0 on x = 0 hard\n").codes == ["E331"]
