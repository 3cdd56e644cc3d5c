# Kovasznay flow (steady Navier–Stokes, Re = 20) on [-0.5, 1] x [-0.5, 1.5].
# Continuity is built in: (u, v) = (dψ/dy, -dψ/dx) from a learned stream function ψ.
# The walls are loss terms, weighted 10: velocity relative L2 7.3e-4 (u 6.0e-4, v 2.5e-3)
# in float64 (docs/accuracy.md).
problem kovasznay

const Re  = 20
const nu  = 1 / Re
const lam = 1 / (2 * nu) - sqrt(1 / (4 * nu^2) + 4 * pi^2)

domain (x, y) in rectangle([-0.5, 1], [-0.5, 1.5])
field u(x, y), v(x, y), p(x, y)

equation mass: div(u, v) = 0 hard
equation mx:   u * dx(u) + v * dy(u) + dx(p) = nu * lap(u)
equation my:   u * dx(v) + v * dy(v) + dy(p) = nu * lap(v)

condition wall_u: u = 1 - exp(lam * x) * cos(2 * pi * y)            on boundary
condition wall_v: v = lam / (2 * pi) * exp(lam * x) * sin(2 * pi * y) on boundary
condition outlet: p = (1 - exp(2 * lam * x)) / 2                     on x = 1

exact u = 1 - exp(lam * x) * cos(2 * pi * y)
exact v = lam / (2 * pi) * exp(lam * x) * sin(2 * pi * y)
exact p = (1 - exp(2 * lam * x)) / 2

model (u, v, p) = mlp(width = 32, depth = 3, activation = tanh)

train:
  precision = float64
  points interior = 1500, boundary = 300
  weights wall_u = 10, wall_v = 10
  adam(lr = 2e-3, schedule = cosine) for 1000 steps
  lbfgs for 3000 steps
