# Poisson's equation on the L-shaped domain [-1, 1]² minus [0, 1]², u = 0 on its boundary.
# No closed form (a r^(2/3) corner singularity): tests/test_geometry.py compares it with
# a finite-difference solution.
problem lshape

shape corner = rectangle([0, 1], [0, 1])
domain (x, y) in rectangle([-1, 1], [-1, 1]) - corner
field u(x, y)

equation: -lap(u) = 1
condition walls: u = 0 on boundary hard     # φ: R-equivalence of the six edges' distances

model u = mlp(width = 32, depth = 4, activation = tanh)

train:
  points interior = 2000, boundary = 200
  adam(lr = 2e-3) for 3000 steps
  lbfgs for 1000 steps
