# Poisson's equation on the L-shaped domain [-1, 1]² minus [0, 1]², u = 0 on its boundary.
# No closed form (a r^(2/3) corner singularity): tests/test_geometry.py compares it with
# a finite-difference solution.
#
# The equation is written multiplied by r = |(x, y)|, the distance to the re-entrant
# corner: the same equation wherever r > 0, but a smooth network cannot follow the
# singular second derivatives there, and unweighted those few points pull the whole
# solution off (2.2e-2 unweighted, 7.1e-3 weighted by r, 8.8e-2 by r²; docs/accuracy.md).
problem lshape

shape corner = rectangle([0, 1], [0, 1])
domain (x, y) in rectangle([-1, 1], [-1, 1]) - corner
field u(x, y)

equation: -sqrt(x^2 + y^2) * lap(u) = sqrt(x^2 + y^2)
condition walls: u = 0 on boundary          # soft: `hard` forces N ~ r^(-1/3) at the corner (5e-2)

model u = mlp(width = 48, depth = 4, activation = tanh)

train:
  points interior = 4000, boundary = 800
  weights walls = 100
  adaptive = rar                             # adds points where the residual is large: at the corner
  resample_every = 500
  adam(lr = 2e-3) for 3000 steps
  lbfgs for 4000 steps
