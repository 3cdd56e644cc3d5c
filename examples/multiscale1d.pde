# Multiscale 1-D Poisson: −u'' = 4π² sin(2πx) + 40π² sin(20πx) on [0, 1], u(0) = u(1) = 0;
# exact u = sin(2πx) + 0.1 sin(20πx). Spectral bias makes a plain MLP slow to learn the
# high-frequency part; a modified MLP on random Fourier features learns both scales
# (Wang, Wang & Perdikaris 2021, "On the eigenvector bias of Fourier feature networks").
#
# Same recipe, seed 0, float32 (pdeforge run, relative L2 error of u):
#   model u = fourier_modified_mlp(...) below   5,313 parameters   3.1e-4
#   model u = mlp(width = 50, depth = 3)         5,251 parameters   3.0e-3
# and examples/multiscale1d_pirate.pde (PirateNet): 6.7e-4.
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
