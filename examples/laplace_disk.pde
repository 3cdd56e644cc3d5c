# Laplace's equation on the unit disk with u = cos θ on the circle: exact u = x
problem laplace_disk

domain (x, y) in disk(center = (0, 0), radius = 1)
field u(x, y)

equation: lap(u) = 0
condition rim: u = x on boundary hard     # u = x + (x² + y² − 1)/2 · N(x, y)
exact u = x

model u = mlp(width = 32, depth = 3, activation = tanh)

train:
  points interior = 1000, boundary = 200
  adam(lr = 2e-3) for 2000 steps
  lbfgs for 1000 steps
