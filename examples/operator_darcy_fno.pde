# Fourier neural operator for Darcy flow, a ↦ u (Li et al. 2021, §5.2):
# −∇·(a∇u) = 1 on the unit square, u = 0 on the boundary, a = 12 where ψ ≥ 0 and 3 where
# ψ < 0, ψ ~ N(0, (−Δ + 9 I)^−2) with zero Neumann conditions. Pairs from pdeforge's
# finite-difference solver (pdeforge/datasets), solved on 121 × 121 nodes and restricted
# to 61 × 61 (the paper's data come from 421 × 421, its table starts at 85 × 85: on 2 CPU
# cores this grid is the largest that trains in about 30 minutes); the 2-D FNO pads 8
# points (the domain is not periodic).
problem darcy_fno
domain (x, y) in rectangle([0, 1], [0, 1])
grid x = 61, y = 61
input a(x, y) from threshold(grf(covariance = (-lap + 9)^-2), high = 12, low = 3)
field u(x, y) given a
pairs from darcy(fine = 121)
model u = fno(modes = (12, 12), width = 32, layers = 4, dims = 2, padding = 8)
train:
  pairs train = 1000, test = 100
  batch = 20
  adam(lr = 1e-3, decay = 0.5, decay_every = 800) for 2500 steps
