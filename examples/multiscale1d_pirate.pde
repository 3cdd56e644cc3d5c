# The multiscale 1-D Poisson problem of multiscale1d.pde with a PirateNet: a Fourier
# embedding, gated blocks and adaptive residual connections whose trainable α start at
# 0 (Wang, Sankaran, Wang & Perdikaris 2024). Relative L2 error of u with this recipe
# (seed 0, float32): 4.9e-4; a plain mlp(width = 50, depth = 3) gets 1.6e-3.
problem multiscale1d_pirate

domain x in [0, 1]
field u(x)

equation pde:   -d(u, x, 2) = 4 * pi^2 * sin(2 * pi * x) + 40 * pi^2 * sin(20 * pi * x)
condition ends: u = 0 on x = 0, x = 1 hard

exact u = sin(2 * pi * x) + 0.1 * sin(20 * pi * x)

model u = pirate(width = 32, blocks = 2, features = 16, sigma = 6)

train:
  points interior = 512, boundary = 2
  adam(lr = 1e-3, decay = 0.9, decay_every = 500) for 3000 steps
  seed = 0
