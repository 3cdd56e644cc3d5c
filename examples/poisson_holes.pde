# PINNacle Poisson2d-C: Laplace's equation on a square with four circular holes;
# u = 1 on the square, 0 on the holes. Compared with a finite-difference solution in
# tests/test_geometry.py.
problem poisson_holes

shape square = rectangle([-0.5, 0.5], [-0.5, 0.5])
shape holes = disk(center = (0.3, 0.3), radius = 0.1) + disk(center = (-0.3, 0.3), radius = 0.1) \
            + disk(center = (0.3, -0.3), radius = 0.1) + disk(center = (-0.3, -0.3), radius = 0.1)
domain (x, y) in square - holes
field u(x, y)

equation: lap(u) = 0
condition outer: u = 1 on square hard       # transfinite blend of the two data:
condition rims:  u = 0 on holes hard        # u = (1·φ_rims² + 0·φ_outer²)/(φ_rims² + φ_outer²) + φ·N

model u = mlp(width = 32, depth = 4, activation = tanh)

train:
  points interior = 2000, boundary = 400
  adam(lr = 2e-3) for 3000 steps
  lbfgs for 1000 steps
