# Benchmark: PINNacle's Burgers setting (2 → 5×100 tanh → 1; 8192 + 2048 + 2048 points)
problem burgers_pinnacle

const nu = 0.01 / pi

domain x in [-1, 1]
time   t in [0, 1]
field u(x, t)

equation momentum: dt(u) + u * dx(u) = nu * d(u, x, 2)
condition walls:   u = 0            on x = -1, x = 1
condition start:   u = -sin(pi * x) on t = 0

model u = mlp(width = 100, depth = 5, activation = tanh)

train:
  points interior = 8192, boundary = 2048, initial = 2048
  adam(lr = 1e-3) for 1000 steps
