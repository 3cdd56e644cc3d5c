"""The problems of the hard-constraint tests (tests/test_hard_*.py), one per kind of
built-in condition or constraint; each is short (a 16-wide network, 20 Adam steps) so
the tests can train it. Several files use the same problem (the gradient test runs
through every layer kind), hence one module."""

WAVE = """
problem wave
domain x in [0, 1]
time   t in [0, 1]
field u(x, t)
equation wave:     d(u, t, 2) = 4 * d(u, x, 2)
condition ends:    u = 0 on x = 0, x = 1 hard
condition shape:   u = sin(pi * x) + 0.5 * sin(4 * pi * x) on t = 0 hard
condition at_rest: dt(u) = 0 on t = 0 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

# face data that varies along every face: the transfinite interpolant must match each
BOX = """
problem box
domain (x, y) in rectangle([0, 1], [-1, 2])
field u(x, y)
equation: -lap(u) = 1
condition left:   u = y^2          on x = 0 hard
condition right:  u = y^2 + sin(y) on x = 1 hard
condition bottom: u = 1 + x * sin(-1)    on y = -1 hard
condition top:    u = 4 + x * sin(2)     on y = 2 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

PERIODIC = """
problem ac
domain x in [-1, 1]
time t in [0, 1]
field u(x, t)
equation: dt(u) = 0.0001 * d(u, x, 2) + 5 * (u - u^3)
condition: periodic(u, x) hard(modes = 2)
condition start: u = x^2 * cos(pi * x) on t = 0
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256, initial = 64
  adam(lr = 1e-2) for 20 steps
"""

MIX = """
problem mix
domain (x, t) in rectangle([0, 1], [0, 1])
field a(x, t), b(x, t), c(x, t), p(x, t), q(x, t), r(x, t), s(x, t)
equation: d(a, x, 2) + d(b, x, 2) + d(c, x, 2) + d(p, x, 2) + d(q, x, 2) + d(r, x, 2) + d(s, t, 2) = 1
constraint sum:  a + b + c = 1 + x hard
constraint tied: a - x * b = t hard
constraint box:  p >= -1, p + q <= x * t hard
constraint soft: 0 <= r <= 2 hard(method = sigmoid)
constraint pos:  s >= x hard(method = softplus)
model (a, b, c, p, q, r, s) = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

SIMPLEX = """
problem species
domain x in [0, 1]
time t in [0, 1]
field c1(x, t), c2(x, t), c3(x, t)
equation: dt(c1) = 0.1 * d(c1, x, 2) - c1
equation: dt(c2) = 0.1 * d(c2, x, 2) + c1 - 2 * c2
equation: dt(c3) = 0.1 * d(c3, x, 2) + 2 * c2
condition: c1 = sin(pi * x) on t = 0
condition: c2 = 0 on t = 0
condition: c3 = 1 - sin(pi * x) on t = 0
constraint total: c1 + c2 + c3 = 1 hard
constraint: c1 >= 0, c2 >= 0, c3 >= 0 hard
model (c1, c2, c3) = mlp(width = 16, depth = 2)
train:
  points interior = 256, initial = 64
  adam(lr = 1e-2) for 20 steps
"""

STREAM = """
problem stream
const nu = 0.05
domain (x, y) in rectangle([-0.5, 1], [-0.5, 1.5])
field u(x, y), v(x, y), p(x, y)
equation mass: div(u, v) = 0 hard
equation mx: u * dx(u) + v * dy(u) + dx(p) = nu * lap(u)
equation my: u * dx(v) + v * dy(v) + dy(p) = nu * lap(v)
condition: u = 1 on boundary
condition: v = 0 on boundary
condition: p = 0 on x = 1
model (u, v, p) = mlp(width = 16, depth = 2)
train:
  points interior = 256, boundary = 64
  adam(lr = 1e-2) for 20 steps
"""


# Neumann on one x face, Robin on the other, a held value on y = -1 (compatible at the
# corners: u_x = 1 there from both)
FLUX = """
problem flux
domain (x, y) in rectangle([0, 1], [-1, 2])
field u(x, y)
equation: -lap(u) = 1
condition left:   dn(u) = y on x = 0 hard
condition right:  dn(u) + 2 * u = 3 + sin(y + 1) on x = 1 hard
condition bottom: u = x on y = -1 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

# insulated ends with a held initial state: the cosine data satisfy u_x = 0 at both ends
HEAT_FLUX = """
problem heat_flux
domain x in [0, 1]
time   t in [0, 0.5]
field u(x, t)
equation: dt(u) = 0.1 * d(u, x, 2)
condition insulated: dn(u) = 0 on x = 0, x = 1 hard
condition start:     u = 1 + cos(pi * x) on t = 0 hard
model u = mlp(width = 16, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""

VECTOR_POTENTIAL = """
problem beltrami
domain (x, y, z) in box([0, 1], [0, 2], [-1, 1])
field u(x, y, z), v(x, y, z), w(x, y, z), p(x, y, z)
equation mass: div(u, v, w) = 0 hard
equation mx: u * dx(u) + v * dy(u) + w * dz(u) + dx(p) = 0.1 * lap(u)
equation my: u * dx(v) + v * dy(v) + w * dz(v) + dy(p) = 0.1 * lap(v)
equation mz: u * dx(w) + v * dy(w) + w * dz(w) + dz(p) = 0.1 * lap(w)
condition: u = 1 on boundary
condition: v = 0 on boundary
condition: w = 0 on boundary
model (u, v, w, p) = mlp(width = 16, depth = 2)
train:
  points interior = 256, boundary = 64
  adam(lr = 1e-2) for 20 steps
"""

CURVE = """
problem curve
domain x in [0, 1]
time   t in [0, 0.5]
field u(x, t)
equation: dt(u) + u * dx(u) = 0.01 * d(u, x, 2)
condition walls: u = 0 on x = 0, x = 1 hard
condition bent:  d(u, x, 2) = t on x = 0 hard
condition flat:  d(u, x, 2) = -2 * t on x = 1 hard
condition start: u = sin(pi * x) on t = 0 hard
model u = mlp(width = 8, depth = 2)
train:
  points interior = 256
  adam(lr = 1e-2) for 20 steps
"""



def _curve(conditions):
    return CURVE.split("condition walls")[0] + "condition start: u = sin(pi * x) on t = 0 hard\n" + conditions + \
        "model u = mlp(width = 8, depth = 2)\ntrain:\n  points interior = 256\n  adam(lr = 1e-2) for 20 steps\n"


CURVE_ROBIN = _curve("condition slope: dn(u) = -pi on x = 0 hard\n"
                     "condition a: d(u, x, 2) + 2 * u - t * dx(u) = t on x = 0 hard\n"
                     "condition b: d(u, x, 2) + u = 0 on x = 1 hard\n")
CURVE_FLUX = _curve("condition slope: dn(u) = -pi on x = 0 hard\n"
                    "condition bent:  d(u, x, 2) = -t on x = 0, x = 1 hard\n")


BASE = """
problem e
domain x in [0, 1]
time t in [0, 1]
field u(x, t), v(x, t)
equation: dt(u) = d(u, x, 2)
equation: dt(v) = d(v, x, 2)
condition: v = 0 on t = 0
model (u, v) = mlp(width = 8, depth = 1)
"""

