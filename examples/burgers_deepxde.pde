# Viscous Burgers with DeepXDE's exact recipe (for comparison with examples/burgers.pde)
problem burgers

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
  adam(lr = 1e-3) for 15000 steps
  lbfgs for 2000 steps

reference u from "data/Burgers.npz" (x = x, t = t, u = usol)
