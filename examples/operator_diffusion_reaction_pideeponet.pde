# Physics-informed DeepONet for a nonlinear diffusion–reaction equation, source f ↦
# solution s (Wang, Wang & Perdikaris 2021, §3.2): s_t = 0.01 s_xx + 0.01 s² + f(x) on
# [0, 1] × [0, 1], s = 0 at t = 0 and at x = 0, 1 — here held exactly by the network's
# output layer, so the loss is the equation's mean square residual alone. f is drawn
# from the RBF Gaussian process of length 0.2, known at 100 sensors; no training pair is
# solved. The held-out inputs are compared with the reference solver (TR-BDF2 in time,
# pdeforge/datasets/diffusion_reaction.py) on the 100 × 100 grid of (x, t) nodes.
# The paper trains 120000 steps (50 min on a GPU); this recipe is sized for CPU.
problem diffusion_reaction
domain x in [0, 1]
time t in [0, 1]
grid x = 100, t = 100
input f(x) from grf(covariance = rbf(length = 0.2))
field s(x, t) given f
equation: dt(s) = 0.01 * d(s, x, 2) + 0.01 * s^2 + f
condition walls: s = 0 on boundary hard
condition start: s = 0 on t = 0 hard
pairs from diffusion_reaction(diffusion = 0.01, reaction = 0.01)
model s = deeponet(width = 50, depth = 4, basis = 50)
train:
  pairs train = 5000, test = 100
  weights pairs = 0
  batch = 100
  points interior = 100
  adam(lr = 1e-3, decay = 0.9, decay_every = 2000) for 10000 steps
