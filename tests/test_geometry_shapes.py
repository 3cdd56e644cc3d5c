"""Shaped domains (dsl/geometry/), without training: sampling is uniform and on the
shape, boundary normals are unit and outward (against the signed distance's gradient),
space-time batches carry the normals, dn works on curves, hard distance functions hold
their data on every piece, shape mistakes get their codes, and resampled batches come
from the same shaped sampler. Training against references is in test_geometry.py."""
from pathlib import Path

import numpy as np
import pytest

import pdeforge
from pdeforge.dsl import PdeError
from pdeforge.runtime.sampling import drawer

EX = Path(__file__).resolve().parent.parent / "examples"

HEAD = """problem g
{shapes}
domain (x, y) in {domain}
field u(x, y)
equation: -lap(u) = 1
condition: u = 0 on boundary
model u = mlp(width = 8, depth = 1)
train:
  adam(lr = 1e-3) for 10 steps
"""


def geometry(domain, shapes=""):
    return pdeforge.loads(HEAD.format(domain=domain, shapes=shapes)).checked.geometry


def sdf_grad(geo, P, h=1e-6):
    """Central differences of the signed distance: the outward normal on the boundary."""
    g = np.stack([(geo.shape.sdf(P + h * e) - geo.shape.sdf(P - h * e)) / (2 * h) for e in np.eye(geo.dim)], 1)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


# ---------------------------------------------------------------- sampling


@pytest.mark.parametrize("domain,area", [
    ("disk(center = (0, 0), radius = 1)", np.pi),
    ("rectangle([-1, 1], [-1, 1]) - rectangle([0, 1], [0, 1])", 3.0),
    ("rectangle([-0.5, 0.5], [-0.5, 0.5]) - disk((0.3, 0.3), 0.1)", 1 - np.pi * 0.01),
    ("ellipse(center = (1, 0), radii = (2, 0.5), angle = 0.3)", np.pi),
    ("disk((0, 0), 1) & disk((1, 0), 1)", 2 * np.pi / 3 - np.sqrt(3) / 2),
    ("triangle((0, 0), (2, 0), (0, 1)) + disk((0, 0), 0.5)", 1 + 0.75 * np.pi * 0.25),
])
def test_interior_uniform(domain, area):
    geo = geometry(domain)
    P, _ = geo.sample_interior(20000, drawer(2, "sobol", 0))
    assert P.shape == (20000, 2) and np.all(geo.shape.sdf(P) < 0)
    # area fraction of the bounding box, from an independent uniform grid of the box
    box = np.prod(geo.hi - geo.lo)
    assert abs(geo.area_fraction() * box - area) < 0.01 * area
    # uniform: the share of points in the left half equals the left half's area share
    g = np.stack(np.meshgrid(*[np.linspace(l, h, 801) for l, h in zip(geo.lo, geo.hi)], indexing="ij"), -1).reshape(-1, 2)
    g = g[geo.shape.sdf(g) < 0]
    mid = 0.5 * (geo.lo[0] + geo.hi[0])
    assert abs(np.mean(P[:, 0] < mid) - np.mean(g[:, 0] < mid)) < 0.01


@pytest.mark.parametrize("domain", [
    "disk(center = (0, 0), radius = 1)",
    "rectangle([-1, 1], [-1, 1]) - rectangle([0, 1], [0, 1])",
    "rectangle([-0.5, 0.5], [-0.5, 0.5]) - disk((0.3, 0.3), 0.1) - disk((-0.3, -0.3), 0.1)",
    "ellipse(center = (1, 0), radii = (2, 0.5), angle = 0.3)",
    "polygon((0, 0), (0, 1), (1, 1), (1, 0))",            # clockwise
    "polygon((0, 0), (1, 0), (1, 1), (0, 1))",            # counter-clockwise
    "rotate(translate(rectangle([0, 2], [0, 1]), (1, 1)), pi / 6)"
    " - rotate(scale(disk((2, 1.5), 0.25), 0.8, center = (2, 1.5)), pi / 6)",
])
def test_boundary_points_and_normals(domain):
    geo = geometry(domain)
    P, N, _ = geo.sample_boundary(("boundary",), 4000, drawer(1, "sobol", 1))
    assert np.max(np.abs(geo.shape.sdf(P))) < 1e-9
    assert np.allclose(np.linalg.norm(N, axis=1), 1, atol=1e-12)
    # outward: along the signed distance's gradient (away from corners, where it is not defined)
    G = sdf_grad(geo, P)
    smooth = np.linalg.norm(sdf_grad(geo, P + 1e-5 * N) - sdf_grad(geo, P + 2e-5 * N), axis=1) < 1e-3
    assert smooth.mean() > 0.95
    assert np.max(np.abs(N[smooth] - G[smooth])) < 1e-4
    # a step outward leaves the domain, a step inward enters it
    assert np.all(geo.shape.sdf(P + 1e-4 * N) > 0) and np.all(geo.shape.sdf(P - 1e-4 * N) < 0)


def test_uniform_by_arc_length():
    """Square minus a disk: the boundary points split between square and circle by length."""
    geo = geometry("square - hole", "shape square = rectangle([-1, 1], [-1, 1])\nshape hole = disk((0, 0), 0.5)")
    P, N, _ = geo.sample_boundary(("boundary",), 20000, drawer(1, "sobol", 2))
    on_circle = np.abs(np.hypot(P[:, 0], P[:, 1]) - 0.5) < 1e-9
    assert abs(on_circle.mean() - np.pi / (8 + np.pi)) < 0.005
    # the hole's normals point into the hole (out of the domain): −p/|p|
    assert np.allclose(N[on_circle], -P[on_circle] / 0.5, atol=1e-9)
    # uniform in angle on the circle
    th = np.arctan2(P[on_circle, 1], P[on_circle, 0])
    assert np.max(np.abs(np.histogram(th, 8, (-np.pi, np.pi))[0] / on_circle.sum() - 1 / 8)) < 0.01
    assert abs(geo.measure(("named", "hole")) - np.pi) < 0.01 and abs(geo.measure(("named", "square")) - 8) < 0.05
    Q, M, _ = geo.sample_boundary(("named", "hole"), 500, drawer(1, "halton", 0))
    assert np.allclose(np.hypot(Q[:, 0], Q[:, 1]), 0.5)


def test_ball_and_box_3d():
    text = """problem b
domain (x, y, z) in box([-1, 1], [-1, 1], [-1, 1]) - ball((0, 0, 0), 0.5)
field u(x, y, z)
equation: -lap(u) = 1
condition: u = 0 on boundary
model u = mlp(width = 8, depth = 1)
train:
  adam(lr = 1e-3) for 10 steps
"""
    geo = pdeforge.loads(text).checked.geometry
    P, N, _ = geo.sample_boundary(("boundary",), 20000, drawer(2, "sobol", 0))
    on_ball = np.abs(np.linalg.norm(P, axis=1) - 0.5) < 1e-9
    assert abs(on_ball.mean() - np.pi / (24 + np.pi)) < 0.01       # area 4π(1/2)² against 6·4
    assert np.allclose(N[on_ball], -P[on_ball] / 0.5)
    assert abs(np.mean(P[on_ball, 2] > 0) - 0.5) < 0.02
    X, _ = geo.sample_interior(5000, drawer(3, "sobol", 0))
    assert np.all(np.linalg.norm(X, axis=1) > 0.5) and np.all(np.abs(X) <= 1)


def test_space_time_batch_carries_normals():
    pb = pdeforge.loads("""problem h
domain (x, y) in disk((0, 0), 1)
time t in [0, 2]
field u(x, y, t)
equation: dt(u) = lap(u)
condition: dn(u) = 0 on boundary
condition: u = x on t = 0
model u = mlp(width = 8, depth = 1)
train:
  points interior = 300, boundary = 100, initial = 50
  adam(lr = 1e-3) for 10 steps
""")
    b = pb.sample(0)
    assert b["boundary"].shape == (100, 5)            # x, y, t, n_x, n_y
    B = np.asarray(b["boundary"], np.float64)
    assert np.allclose(B[:, 3:], B[:, :2], atol=1e-6) and B[:, 2].min() >= 0 and B[:, 2].max() <= 2
    I = np.asarray(b["t_lo"])
    assert np.all(I[:, 2] == 0) and np.all(np.hypot(I[:, 0], I[:, 1]) < 1)
    X = np.asarray(b["interior"])
    assert np.all(np.hypot(X[:, 0], X[:, 1]) < 1) and X[:, 2].std() > 0.4


def test_dn_on_a_circle_is_the_radial_derivative():
    """dn(u) residual at the points of a circle equals n·∇u of the network, checked by
    finite differences of its predictions."""
    import jax
    pb = pdeforge.loads("""problem n
domain (x, y) in disk((0.5, 0), 2) - disk((0, 0), 0.5)
field u(x, y)
equation: -lap(u) = 1
condition: dn(u) = 0 on boundary
model u = mlp(width = 8, depth = 2)
train:
  adam(lr = 1e-3) for 10 steps
""", float64=True)
    p = pb.init(jax.random.PRNGKey(0))
    b = pb.sample(0)
    r = np.asarray(jax.jit(pb.residuals)(p, b)["condition1"])
    B = np.asarray(b["boundary"])
    h = 1e-6
    fd = (np.asarray(pb.predict(p, B[:, :2] + h * B[:, 2:])["u"])
          - np.asarray(pb.predict(p, B[:, :2] - h * B[:, 2:])["u"])) / (2 * h)
    assert np.max(np.abs(r - fd)) < 1e-7


# ---------------------------------------------------------------- hard distance functions


@pytest.mark.parametrize("f64,tol", [(False, 1e-6), (True, 1e-12)])
def test_hard_holds_on_every_piece(f64, tol):
    import jax
    for name, data in (("poisson_holes", {"square": 1.0, "holes": 0.0}), ("lshape", {"boundary": 0.0})):
        text = (EX / f"{name}.pde").read_text().replace("on boundary ", "on boundary hard ")   # lshape ships soft
        text = text.replace("  weights walls = 100\n", "")
        pb = pdeforge.loads(text, float64=f64)
        p = pb.init(jax.random.PRNGKey(3))
        geo = pb.checked.geometry
        for piece, v in data.items():
            sel = ("boundary",) if piece == "boundary" else ("named", piece)
            P, _, _ = geo.sample_boundary(sel, 10000, drawer(1, "sobol", 5))
            u = np.asarray(pb.predict(p, P)["u"], np.float64)
            assert np.max(np.abs(u - v)) <= tol, (name, piece)
        X = pb.sample(1)["interior"]
        assert np.std(np.asarray(pb.predict(p, X)["u"])) > 1e-3      # the network still shows inside


def test_hard_on_a_disk_with_curved_data():
    import jax
    pb = pdeforge.load(EX / "laplace_disk.pde", float64=True)
    assert "rim" not in pb.lowered.term_names          # built in, not a loss term
    p = pb.init(jax.random.PRNGKey(0))
    th = np.linspace(0, 2 * np.pi, 10000)
    P = np.stack([np.cos(th), np.sin(th)], 1)
    assert np.max(np.abs(np.asarray(pb.predict(p, P)["u"]) - P[:, 0])) < 1e-12


# ---------------------------------------------------------------- diagnostics


@pytest.mark.parametrize("domain,shapes,code", [
    ("disk((0, 0), 1) & disk((3, 0), 1)", "", "E340"),
    ("disk((0, 0), 1) - disk((3, 0), 0.5)", "", "E342"),
    ("polygon((0, 0), (1, 1), (1, 0), (0, 1))", "", "E343"),
    ("ball((0, 0, 0), 1)", "", "E344"),
    ("disk((0, 0), -1)", "", "E345"),
    ("disk((0, 0), 1) - rectangle([-2, 2], [-2, 2])", "", "E340"),
])
def test_geometry_diagnostics(domain, shapes, code):
    with pytest.raises(PdeError) as e:
        pdeforge.loads(HEAD.format(domain=domain, shapes=shapes))
    assert code in [d.code for d in e.value.diagnostics]


def test_resampling_keeps_normals():
    """Fresh batches (resample_every, R3/RAR) come from the same shaped sampler."""
    from pdeforge.runtime.train import _Sampler
    pb = pdeforge.loads(HEAD.format(domain="rectangle([-1, 1], [-1, 1]) - disk((0, 0), 0.5)", shapes="")
                        .replace("condition: u = 0 on boundary", "condition: dn(u) = 0 on boundary")
                        + "  resample_every = 5\n  adaptive = r3\n")
    s = _Sampler(pb, 0)
    a, b = s.fresh(1), s.fresh(2)
    for batch in (a, b):
        B = np.asarray(batch["boundary"], np.float64)
        assert B.shape[1] == 4 and np.allclose(np.linalg.norm(B[:, 2:], axis=1), 1, atol=1e-6)
        on_circle = np.abs(np.hypot(B[:, 0], B[:, 1]) - 0.5) < 1e-6
        assert on_circle.any() and np.allclose(B[on_circle, 2:], -B[on_circle, :2] / 0.5, atol=1e-5)
        assert np.all(np.hypot(*np.asarray(batch["interior"]).T) > 0.5)
    assert not np.allclose(a["interior"], b["interior"])
