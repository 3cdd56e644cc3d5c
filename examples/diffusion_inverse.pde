# DeepXDE's diffusion_1d_inverse: learn the diffusion coefficient C (truth 1) from
# ten observations of u = e^(-t) sin(pi x) at t = 1, with the boundary and initial
# values known (built into the model: `hard`).
problem diffusion_inverse

domain x in [-1, 1]
time t in [0, 1]
param C in [0.1, 5] = 2          # unknown, learned with the network; starts at 2
exact C = 1                      # the truth: reported against the learned value

field u(x, t)
data obs from "data/diffusion_obs.csv" columns (x, t, u)

equation diffusion: dt(u) = C * d(u, x, 2) - exp(-t) * (sin(pi * x) - pi^2 * sin(pi * x))
condition: u = exp(-t) * sin(pi * x) on x = -1, x = 1 hard
condition: u = sin(pi * x) on t = 0 hard
condition fit: u = obs.u at obs, noise = 0.1

exact u = exp(-t) * sin(pi * x)
model u = mlp(width = 32, depth = 3)

train:
  points interior = 1000
  adam(lr = 5e-3, decay = 0.8, decay_every = 250) for 1500 steps
  lbfgs for 1500 steps
  precision = float64
