# Benchmark: DeepXDE's Burgers setting (2 → 3×20 tanh → 1; 2540 + 80 + 160 points)
problem burgers_small

const nu = 0.01 / pi

domain x in [-1, 1]
time   t in [0, 0.99]
field u(x, t)

equation momentum: dt(u) + u * dx(u) = nu * d(u, x, 2)
condition walls:   u = 0            on x = -1, x = 1
condition start:   u = -sin(pi * x) on t = 0

model u = mlp(width = 20, depth = 3, activation = tanh)

train:
  points interior = 2540, boundary = 80, initial = 160
  adam(lr = 1e-3) for 1000 steps
