# Viscous Burgers (Raissi et al. 2019); reference data from DeepXDE (exact Cole–Hopf solution).
# DeepXDE's own recipe (3×20 network, 2540 points, Adam 15000 + L-BFGS 2000) reaches
# about 7.6e-2 here; this one reaches 3.6e-4 to 7.6e-4 over seeds 0-2 (docs/accuracy.md).
problem burgers

const nu = 0.01 / pi

domain x in [-1, 1]
time   t in [0, 0.99]
field u(x, t)

equation momentum: dt(u) + u * dx(u) = nu * d(u, x, 2)
condition walls:   u = 0            on x = -1, x = 1
condition start:   u = -sin(pi * x) on t = 0

model u = mlp(width = 32, depth = 4)

train:
  points interior = 8192, boundary = 256, initial = 256
  weights start = 10
  adam(lr = 2e-3, schedule = cosine) for 10000 steps
  lbfgs for 8000 steps

reference u from "data/Burgers.npz" (x = x, t = t, u = usol)
