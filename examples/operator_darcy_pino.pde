# Physics-informed neural operator for Darcy flow, trained on physics alone (Li, Zheng,
# Kovachki, Jin, Chen, Liu, Azizzadenesheli & Anandkumar 2024, "Physics-informed neural
# operator for learning partial differential equations"): the FNO of
# operator_darcy_fno.pde, but no training pair is solved. Each step draws coefficients
# a from the input's distribution, and the loss is the mean square residual of
# −∇·(a∇u) = 1 on the predicted grid (the flux form, second-order differences). The walls
# hold exactly (u = φ·N, φ = sin(πx) sin(πy)). Held-out pairs from the reference solver
# (another random stream) measure the error.
problem darcy_pino
domain (x, y) in rectangle([0, 1], [0, 1])
grid x = 43, y = 43
input a(x, y) from threshold(grf(covariance = (-lap + 9)^-2), high = 12, low = 3)
field u(x, y) given a
equation darcy: -(dx(a * dx(u)) + dy(a * dy(u))) = 1
condition walls: u = 0 on boundary hard
pairs from darcy()
model u = fno(modes = (12, 12), width = 32, layers = 4, dims = 2, padding = 6)
train:
  pairs train = 1000, test = 100
  weights pairs = 0
  batch = 20
  adam(lr = 1e-3, decay = 0.5, decay_every = 1000) for 3000 steps
