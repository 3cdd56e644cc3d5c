# 2-D Poisson: −Δu = 2π² sin(πx) sin(πy) on [0, 1]², u = 0 on the boundary
problem poisson2d

domain (x, y) in rectangle([0, 1], [0, 1])
field u(x, y)

equation pde:   -lap(u) = 2 * pi^2 * sin(pi * x) * sin(pi * y)
condition wall: u = 0 on boundary

exact u = sin(pi * x) * sin(pi * y)

model u = mlp(width = 32, depth = 3)

train:
  points interior = 2000, boundary = 800
  weights wall = 100
  adam(lr = 2e-3) for 2000 steps
  lbfgs for 2000 steps
  precision = float64
