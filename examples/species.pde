# Three species in 1-D: A -> B at rate 1, B -> C at rate 2, equal diffusion D.
# The concentrations are fractions: c1 + c2 + c3 = 1 and every ci >= 0, built in
# (the simplex layer), so no prediction ever leaves the simplex.
# Exact solution: c1 = e^{-a t} sin(πx), c2 = (e^{-a t} - e^{-b t}) sin(πx),
# c3 = 1 - c1 - c2, with a = 1 + Dπ², b = 2 + Dπ².
problem species

const D = 0.1
const a = 1 + D * pi^2
const b = 2 + D * pi^2

domain x in [0, 1]
time   t in [0, 1]
field c1(x, t), c2(x, t), c3(x, t)

equation A: dt(c1) = D * d(c1, x, 2) - c1
equation B: dt(c2) = D * d(c2, x, 2) + c1 - 2 * c2
equation C: dt(c3) = D * d(c3, x, 2) + 2 * c2

condition wall1:  c1 = 0 on x = 0, x = 1
condition wall2:  c2 = 0 on x = 0, x = 1
condition wall3:  c3 = 1 on x = 0, x = 1
condition start1: c1 = sin(pi * x) on t = 0
condition start2: c2 = 0 on t = 0
condition start3: c3 = 1 - sin(pi * x) on t = 0

constraint total:    c1 + c2 + c3 = 1 hard
constraint positive: c1 >= 0, c2 >= 0, c3 >= 0 hard

exact c1 = exp(-a * t) * sin(pi * x)
exact c2 = (exp(-a * t) - exp(-b * t)) * sin(pi * x)
exact c3 = 1 - (2 * exp(-a * t) - exp(-b * t)) * sin(pi * x)

model (c1, c2, c3) = mlp(width = 32, depth = 3)

train:
  points interior = 2000, boundary = 200, initial = 200
  adam(lr = 1e-3) for 4000 steps
