# Allen–Cahn (DeepXDE's example): u_t = 0.001 u_xx + 5(u − u³) on [−1, 1] × [0, 1],
# u(x, 0) = x² cos(πx), u(±1, t) = −1, both built in (u = g + φ·N).
# A plain MLP with the conditions built in stalls at about 0.5 (docs/accuracy.md): the
# steep interfaces that form are learnt only when the network sees x through harmonics
# (sin jπx, cos jπx, j = 1..4 — periodic in x, compatible with the equal wall values),
# gated by a modified MLP, and the residual is weighted causally in time so later
# times are fitted only once earlier ones are (Wang, Sankaran & Perdikaris 2022).
problem allen_cahn

const eps = 0.001

domain x in [-1, 1]
time   t in [0, 1]
field u(x, t)

equation reaction: dt(u) = eps * d(u, x, 2) + 5 * (u - u^3)
condition walls:   u = -1                    on x = -1, x = 1 hard
condition start:   u = x^2 * cos(pi * x)     on t = 0 hard

architecture harmonic_x(width = 48, depth = 3, harmonics = 4):
  x, t = split(inputs, 1, 1)
  return modified_mlp(concat(periodic(x, 2, harmonics), t), width = width, depth = depth)

model u = harmonic_x(width = 48, depth = 3)

train:
  points interior = 3000
  resample_every = 1000
  causal = 1.0
  causal_bins = 32
  log_every = 500
  adam(lr = 1e-3, decay = 0.9, decay_every = 1000) for 8000 steps
  lbfgs for 2000 steps

reference u from "data/Allen_Cahn.mat" (x = x, t = t, u = u)
