# PINNacle PNd: −Δu = (π²/4) Σ sin(π xᵢ / 2) on [0, 1]⁵, u = Σ sin(π xᵢ / 2) on the boundary.
# The wall term is soft: built in (`hard`), the transfinite interpolant of this boundary data
# is the exact solution itself (a sum of one-variable functions), which would prove nothing.
# The wall error bounds the interior one, so it is weighted 10; float64 L-BFGS does the rest.
problem poisson_nd

domain (x1, x2, x3, x4, x5) in box([0, 1], [0, 1], [0, 1], [0, 1], [0, 1])
field u(x1, x2, x3, x4, x5)

equation pde:   -lap(u) = pi^2 / 4 * (sin(pi * x1 / 2) + sin(pi * x2 / 2) + sin(pi * x3 / 2) + sin(pi * x4 / 2) + sin(pi * x5 / 2))
condition wall: u = sin(pi * x1 / 2) + sin(pi * x2 / 2) + sin(pi * x3 / 2) + sin(pi * x4 / 2) + sin(pi * x5 / 2) on boundary

exact u = sin(pi * x1 / 2) + sin(pi * x2 / 2) + sin(pi * x3 / 2) + sin(pi * x4 / 2) + sin(pi * x5 / 2)

model u = mlp(width = 48, depth = 3)

train:
  points interior = 2000, boundary = 1000
  weights wall = 10
  adam(lr = 1e-3, schedule = cosine) for 2000 steps
  lbfgs for 18000 steps
  precision = float64
