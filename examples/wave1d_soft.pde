# Wave equation (PINNacle Wave1d-C) with soft conditions, for comparison with wave1d.pde: it fails
# as vanilla PINNs do (relative L2 about 0.6; PINNacle reports 0.588)
problem wave1d_soft

domain x in [0, 1]
time   t in [0, 1]
field u(x, t)

equation wave:     d(u, t, 2) = 4 * d(u, x, 2)
condition ends:    u = 0 on x = 0, x = 1
condition shape:   u = sin(pi * x) + 0.5 * sin(4 * pi * x) on t = 0
condition at_rest: dt(u) = 0 on t = 0

exact u = sin(pi * x) * cos(2 * pi * t) + 0.5 * sin(4 * pi * x) * cos(8 * pi * t)

model u = mlp(width = 64, depth = 4)

train:
  points interior = 2000, boundary = 200, initial = 200
  adam(lr = 1e-3) for 3000 steps
  lbfgs for 3000 steps
  precision = float64
