# PINNacle Heat2d-MS (multi-scale heat): u_t = u_xx/(500π)² + u_yy/π² on [0, 1]² × [0, 5],
# exact u = sin(20πx) sin(πy) exp(−[(20π)²/(500π)² + 1] t); the boundary and initial data
# are the exact solution's. Ten periods in x against half of one in y: a plain MLP
# (PINNacle: 6.21e-2 vanilla, 1.73e-2 at best) smooths the fast direction away. Here
# the network sees x through the harmonics sin(jπx'), cos(jπx'), j = 1..10, of its
# scaled input x' ∈ [−1, 1], and the initial data and the y-walls are built in.
problem heat2d_ms

domain (x, y) in rectangle([0, 1], [0, 1])
time   t in [0, 5]
field u(x, y, t)

equation heat:   dt(u) = d(u, x, 2) / (500 * pi)^2 + d(u, y, 2) / pi^2
condition sides: u = sin(20 * pi * x) * sin(pi * y) * exp(-((20 * pi)^2 / (500 * pi)^2 + 1) * t) on x = 0, x = 1
condition ends:  u = 0 on y = 0, y = 1 hard
condition start: u = sin(20 * pi * x) * sin(pi * y) on t = 0 hard

exact u = sin(20 * pi * x) * sin(pi * y) * exp(-((20 * pi)^2 / (500 * pi)^2 + 1) * t)

architecture harmonic_x(width = 48, depth = 3, harmonics = 10):
  x, y, t = split(inputs, 1, 1, 1)
  return modified_mlp(concat(periodic(x, 2, harmonics), y, t), width = width, depth = depth)

model u = harmonic_x(width = 48, depth = 3)

train:
  points interior = 4000, boundary = 500
  resample_every = 1000
  log_every = 500
  adam(lr = 1e-3, decay = 0.9, decay_every = 1000) for 4000 steps
  lbfgs for 1000 steps
