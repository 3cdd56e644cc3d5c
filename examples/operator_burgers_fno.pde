# Fourier neural operator for viscous Burgers, u0 ↦ u(·, 1) (Li, Kovachki, Azizzadenesheli,
# Liu, Bhattacharya, Stuart & Anandkumar 2021, "Fourier neural operator for parametric
# partial differential equations", §5.1): u_t + u u_x = 0.1 u_xx, periodic on [0, 1],
# initial data from N(0, 625 (−Δ + 25 I)^−2). The pairs are made by pdeforge's
# pseudo-spectral solver (pdeforge/datasets) and cached; training is on the paired data.
problem burgers_fno
domain x in [0, 1]
grid x = 256
input u0(x) from grf(covariance = 625 * (-lap + 25)^-2)
field u(x) given u0
pairs from burgers(nu = 0.1, t = 1, fine = 1024)
model u = fno(modes = 16, width = 64, layers = 4)
train:
  pairs train = 1000, test = 200
  batch = 20
  adam(lr = 1e-3, decay = 0.5, decay_every = 5000) for 25000 steps
