# Poisson on the unit square with a prescribed flux on x = 1, built in:
#   u = sin(πy) on x = 0, u = 0 on y = 0, 1 (values: u = g + φ·N) and
#   dn(u) = e·sin(πy) on x = 1 (flux: u = V + (x − 1)x²·(e·sin(πy) − ∂V/∂x(1, y))).
# Exact: u = exp(x)·sin(πy). The soft version (drop `hard`) is compared in tests/test_hard.py.
problem poisson_neumann

domain (x, y) in rectangle([0, 1], [0, 1])
field u(x, y)

equation: -lap(u) = (pi^2 - 1) * exp(x) * sin(pi * y)
condition left:  u = sin(pi * y)               on x = 0 hard
condition walls: u = 0                         on y = 0, y = 1 hard
condition flux:  dn(u) = exp(1) * sin(pi * y)  on x = 1 hard

exact u = exp(x) * sin(pi * y)

model u = mlp(width = 32, depth = 3)

train:
  points interior = 1024, boundary = 256
  adam(lr = 2e-3, schedule = cosine) for 2000 steps
