# Multiscale 1-D Poisson: −u'' = 4π² sin(2πx) + 40π² sin(20πx) on [0, 1], u(0) = u(1) = 0;
# exact u = sin(2πx) + 0.1 sin(20πx). Spectral bias makes a plain MLP slow to learn the
# high-frequency part; a modified MLP on random Fourier features learns both scales
# (Wang, Wang & Perdikaris 2021, "On the eigenvector bias of Fourier feature networks").
#
# Same recipe, float32, relative L2 error of u (pdeforge run FILE --seed S):
#                                                            seed 0    seed 1    seed 2
#   model u = fourier_modified_mlp(...) below   5,313 params  2.4e-4    1.7e-4    2.0e-4
#   model u = mlp(width = 50, depth = 3)         5,251 params  1.6e-3    1.1e-2    4.1e-3
# and examples/multiscale1d_pirate.pde (PirateNet), seed 0: 4.9e-4.
problem multiscale1d

domain x in [0, 1]
field u(x)

equation pde:   -d(u, x, 2) = 4 * pi^2 * sin(2 * pi * x) + 40 * pi^2 * sin(20 * pi * x)
condition ends: u = 0 on x = 0, x = 1 hard

exact u = sin(2 * pi * x) + 0.1 * sin(20 * pi * x)

model u = fourier_modified_mlp(width = 32, depth = 3, features = 16, sigma = 6)

train:
  points interior = 512, boundary = 2
  adam(lr = 1e-3, decay = 0.9, decay_every = 500) for 3000 steps
  seed = 0
