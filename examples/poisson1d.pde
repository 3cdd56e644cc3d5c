# 1-D Poisson: −u'' = π² sin(πx) on [−1, 1], u(±1) = 0; exact u = sin(πx)
problem poisson1d

domain x in [-1, 1]
field u(x)

equation pde:   -d(u, x, 2) = pi^2 * sin(pi * x)
condition ends: u = 0 on x = -1, x = 1

exact u = sin(pi * x)

model u = mlp(width = 32, depth = 3)

train:
  points interior = 256, boundary = 2
  adam(lr = 1e-3) for 2000 steps
  lbfgs for 1000 steps
  precision = float64
  seed = 0
