# PINNacle HInv: recover the unknown conductivity a(x, y) of
#   u_t = div(a grad u) + f   on [-1, 1]^2 x [0, 1]
# from 2,500 noisy observations of u (data/make_heat_inverse_obs.py: seeded points,
# Gaussian noise of 0.01), with a known on the boundary, as in PINNacle.
# Truth: a = 2 + sin(pi x) sin(pi y), u = e^(-t) sin(pi x) sin(pi y); f is
# u_t - div(a grad u) of these, derived with sympy in the generator script.
problem heat_inverse

domain (x, y) in rectangle([-1, 1], [-1, 1])
time t in [0, 1]

field u(x, y, t)
param a(x, y)                    # an unknown coefficient field, with a model of its own
data obs from "data/heat_inverse_obs.npz" columns (x, y, t, u)

equation heat: dt(u) = div(a * dx(u), a * dy(u)) + exp(-t) * ((4 * pi^2 - 1) * sin(pi * x) * sin(pi * y) + pi^2 * (4 * sin(pi * x)^2 * sin(pi * y)^2 - sin(pi * x)^2 - sin(pi * y)^2))
condition a_boundary: a = 2 on boundary hard
condition fit: u = obs.u at obs, noise = 0.1

exact u = exp(-t) * sin(pi * x) * sin(pi * y)
exact a = 2 + sin(pi * x) * sin(pi * y)

model u = mlp(width = 32, depth = 4)
model a = mlp(width = 32, depth = 3)

train:
  points interior = 1000
  adam(lr = 2e-3, decay = 0.9, decay_every = 500) for 2000 steps
  lbfgs for 1000 steps
