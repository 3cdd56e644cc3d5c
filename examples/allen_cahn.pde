# Allen–Cahn (DeepXDE's example): u_t = 0.001 u_xx + 5(u − u³) on [−1, 1] × [0, 1],
# u(x, 0) = x² cos(πx), u(±1, t) = −1, both built in (u = g + φ·N).
problem allen_cahn

const eps = 0.001

domain x in [-1, 1]
time   t in [0, 1]
field u(x, t)

equation reaction: dt(u) = eps * d(u, x, 2) + 5 * (u - u^3)
condition walls:   u = -1                    on x = -1, x = 1 hard
condition start:   u = x^2 * cos(pi * x)     on t = 0 hard

model u = mlp(width = 32, depth = 4, activation = tanh)

train:
  points interior = 8000
  adam(lr = 1e-3) for 10000 steps
  lbfgs for 2000 steps

reference u from "data/Allen_Cahn.mat" (x = x, t = t, u = u)
