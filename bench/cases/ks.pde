# Benchmark: Kuramoto–Sivashinsky, 4th order in x, periodic in x by construction:
# the network sees (cos x, sin x, t) (x is scaled to [-1, 1] before the embedding).
problem ks

const alpha = 100 / 16
const beta  = 100 / 16^2
const gamma = 100 / 16^4

domain x in [0, 2 * pi]
time   t in [0, 1]
field u(x, t)

equation ks:    dt(u) + alpha * u * dx(u) + beta * d(u, x, 2) + gamma * d(u, x, 4) = 0
condition start: u = cos(x) * (1 + sin(x)) on t = 0

architecture ks_net(width = 128, depth = 4):
  x, t = split(inputs)
  h = concat(periodic(x, 2, 1), t)
  repeat depth:
    h = tanh(dense(h, width))
  return dense(h, outputs)

model u = ks_net(width = 128, depth = 4)

train:
  points interior = 4096, initial = 256
  adam(lr = 1e-3) for 1000 steps
