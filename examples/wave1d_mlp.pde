# wave1d.pde with a plain MLP on (x, t), for comparison: 8.0e-3 in 25 min on 2 cores
# (wave1d.pde embeds the string's harmonics and reaches about 1e-3 in 4 min).
# The initial and boundary conditions are built in:
# u = g + φ·N holds u = 0 at both ends, u = sin(πx) + ½ sin(4πx) and u_t = 0 at t = 0
# exactly, so the loss is the PDE residual alone.
problem wave1d_mlp

domain x in [0, 1]
time   t in [0, 1]
field u(x, t)

equation wave:     d(u, t, 2) = 4 * d(u, x, 2)
condition ends:    u = 0 on x = 0, x = 1 hard
condition shape:   u = sin(pi * x) + 0.5 * sin(4 * pi * x) on t = 0 hard
condition at_rest: dt(u) = 0 on t = 0 hard

exact u = sin(pi * x) * cos(2 * pi * t) + 0.5 * sin(4 * pi * x) * cos(8 * pi * t)

model u = mlp(width = 64, depth = 4)

train:
  points interior = 2000
  adam(lr = 1e-3) for 3000 steps
  lbfgs for 3000 steps
  precision = float64
