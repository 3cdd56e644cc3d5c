# Heat equation: u_t = 0.4 u_xx on [0, 1] × [0, 1], zero ends, u = sin(πx) at t = 0
problem heat1d

const k = 0.4

domain x in [0, 1]
time   t in [0, 1]
field u(x, t)

equation heat:  dt(u) = k * d(u, x, 2)
condition ends: u = 0 on x = 0, x = 1
condition init: u = sin(pi * x) on t = 0

exact u = exp(-k * pi^2 * t) * sin(pi * x)

model u = mlp(width = 32, depth = 4)

train:
  points interior = 1000, boundary = 200, initial = 200
  adam(lr = 2e-3) for 2000 steps
  lbfgs for 2500 steps
  precision = float64
