# Standard architectures, written in the language itself (docs/stdlib.md lists them).
# A network sees its inputs scaled to [-1, 1]; `outputs` is the number of fields on
# the model line. Every program sees this module without a `use` line.

# Snake: x + sin²(a x) / a, periodic-friendly and monotone (Liu Ziyin, Hartwig & Ueda
# 2020, "Neural networks fail to learn periodic functions and how to fix it").
activation snake(x, a = 1) = x + sin(a * x)^2 / a

# Multilayer perceptron: `depth` hidden layers of `width` units, Glorot-normal weights
# (Raissi, Perdikaris & Karniadakis 2019, "Physics-informed neural networks").
architecture mlp(width = 32, depth = 4, activation = tanh):
  h = inputs
  repeat depth:
    h = activation(dense(h, width))
  return dense(h, outputs)

# Residual MLP: h ← h + σ(W h + b) after a first projection (He, Zhang, Ren & Sun 2016,
# "Deep residual learning for image recognition").
architecture resnet(width = 32, depth = 4, activation = tanh):
  h = activation(dense(inputs, width))
  repeat depth:
    h = h + activation(dense(h, width))
  return dense(h, outputs)

# Modified MLP: two encoders U, V of the inputs gate every hidden layer,
# h ← z ⊙ U + (1 − z) ⊙ V with z = σ(W h + b) (Wang, Teng & Perdikaris 2021,
# "Understanding and mitigating gradient flow pathologies in physics-informed neural networks").
architecture modified_mlp(width = 32, depth = 4, activation = tanh):
  u = activation(dense(inputs, width))
  v = activation(dense(inputs, width))
  h = inputs
  repeat depth:
    z = activation(dense(h, width))
    h = z * u + (1 - z) * v
  return dense(h, outputs)

# Fourier-feature MLP: γ(x) = [cos(x B), sin(x B)], B ~ N(0, σ²) drawn once and never
# trained, then an MLP (Tancik et al. 2020, "Fourier features let networks learn high
# frequency functions in low dimensional domains").
architecture fourier_mlp(width = 32, depth = 4, features = 32, sigma = 1, activation = tanh):
  h = fourier(inputs, features, sigma)
  repeat depth:
    h = activation(dense(h, width))
  return dense(h, outputs)

# Modified MLP on random Fourier features (Wang, Wang & Perdikaris 2021, "On the
# eigenvector bias of Fourier feature networks").
architecture fourier_modified_mlp(width = 32, depth = 4, features = 32, sigma = 1, activation = tanh):
  return modified_mlp(fourier(inputs, features, sigma), width = width, depth = depth, activation = activation)

# SIREN: h ← sin(w0 (W h + b)), first layer U(−1/n, 1/n), later layers
# U(−√(6/n)/w0, √(6/n)/w0) (Sitzmann et al. 2020, "Implicit neural representations
# with periodic activation functions").
architecture siren(width = 64, depth = 3, w0 = 30):
  h = sin(w0 * dense(inputs, width, init = siren_first))
  repeat depth - 1:
    h = sin(w0 * dense(h, width, init = siren(w0)))
  return dense(h, outputs, init = siren(w0))

# PirateNet: a Fourier embedding, gated blocks and adaptive residual connections
# x ← α f(x) + (1 − α) x with one trainable α per block, initialised to 0 so the network
# starts shallow; every dense layer uses random weight factorisation (Wang, Sankaran,
# Wang & Perdikaris 2024, "PirateNets: physics-informed deep learning with residual
# adaptive networks").
architecture pirate(width = 64, blocks = 3, features = 32, sigma = 1, activation = tanh):
  x = fourier(inputs, features, sigma)
  u = activation(dense(x, width, rwf = 1))
  v = activation(dense(x, width, rwf = 1))
  repeat blocks:
    f = activation(dense(x, width, rwf = 1))
    z = f * u + (1 - f) * v
    g = activation(dense(z, width, rwf = 1))
    z = g * u + (1 - g) * v
    h = activation(dense(z, 2 * features, rwf = 1))
    alpha = scalar(0)
    x = alpha * h + (1 - alpha) * x
  return dense(x, outputs, rwf = 1)

# Sandwich network: gamma-Lipschitz (in the 2-norm) by construction, for every value of
# its weights (Wang & Manchester 2023, "Direct parameterization of Lipschitz-bounded
# deep networks"). The activation must have slope in [0, 1].
architecture sandwich(width = 64, depth = 3, gamma = 1, activation = tanh):
  h = sandwich_dense(inputs, width, scale = sqrt(gamma), activation = activation)
  repeat depth - 1:
    h = sandwich_dense(h, width, activation = activation)
  return lipschitz_dense(h, outputs, scale = sqrt(gamma))

# Constrained monotonic network: non-decreasing in the inputs where `monotone` is 1,
# non-increasing where it is −1, free where 0 (a number applies to every input);
# later weights are |W| and the units of each layer split into convex, concave and
# saturated activations (Runje & Shankaranarayana 2023, "Constrained monotonic neural
# networks"; here the smooth variant: softplus, −softplus(−x), tanh).
architecture monotone_mlp(width = 30, depth = 3, monotone = 1):
  h = dense(inputs, width, sign = monotone)
  repeat depth - 1:
    a, b, c = split(h, 3)
    h = dense(concat(softplus(a), -softplus(-b), tanh(c)), width, sign = 1)
  a, b, c = split(h, 3)
  return dense(concat(softplus(a), -softplus(-b), tanh(c)), outputs, sign = 1)

# Kolmogorov–Arnold network: every edge carries a learned function, silu plus a B-spline
# of `order` on `grid` intervals of [-1, 1], and nodes sum them (Liu et al. 2024, "KAN:
# Kolmogorov–Arnold networks"; the efficient-kan form, without grid updates).
architecture kan(width = 16, depth = 2, grid = 5, order = 3):
  h = inputs
  repeat depth:
    h = kan_layer(h, width, grid = grid, order = order)
  return kan_layer(h, outputs, grid = grid, order = order)

# DeepONet: the first `branch` inputs feed a branch net, the rest a trunk net; each
# output is the dot product of `basis` branch and trunk features plus a bias (Lu, Jin,
# Pang, Zhang & Karniadakis 2021, "Learning nonlinear operators via DeepONet"). Here the
# branch sees inputs of the model, such as a parameter declared as a coordinate.
architecture deeponet(width = 64, depth = 3, basis = 32, branch = 1, activation = tanh):
  b, y = split(inputs, branch, width_of(inputs) - branch)
  b = mlp(b, width = width, depth = depth, activation = activation, outputs = basis * outputs)
  y = activation(mlp(y, width = width, depth = depth, activation = activation, outputs = basis * outputs))
  return bias(group_sum(b * y, outputs))

# Stacked DeepONet: one branch net per basis function (and output), each [branch →
# width × depth → 1], beside one trunk as in `deeponet` (Lu, Jin, Pang, Zhang &
# Karniadakis 2021, "Learning nonlinear operators via DeepONet", the stacked form). The
# first layer of every branch net sees all the sensors, so together they are one dense
# layer; after it the nets are independent: `grouped_dense`, one weight block per net.
architecture stacked_deeponet(width = 16, depth = 3, basis = 32, branch = 1, activation = tanh):
  b, y = split(inputs, branch, width_of(inputs) - branch)
  b = activation(dense(b, basis * outputs * width))
  repeat depth - 1:
    b = activation(grouped_dense(b, width, groups = basis * outputs))
  b = grouped_dense(b, 1, groups = basis * outputs)
  y = activation(mlp(y, width = width, depth = depth, activation = activation, outputs = basis * outputs))
  return bias(group_sum(b * y, outputs))

# Fourier neural operator: lift each grid point's features to `width` channels, then
# `layers` Fourier layers h ← σ(K h + W h), K a spectral convolution keeping the lowest
# `modes` Fourier modes (a complex width×width matrix per mode) and W a pointwise dense
# layer, with no σ after the last; then project pointwise through 128 units (Li,
# Kovachki, Azizzadenesheli, Liu, Bhattacharya, Stuart & Anandkumar 2021, "Fourier neural
# operator for parametric partial differential equations"). Runs on a grid: inputs
# shaped (…, s, c), or (…, s1, s2, c) with `dims = 2` (`modes` a number for both axes or
# a tuple). `padding` zeros at the high end of each grid axis around the Fourier layers
# for non-periodic domains (Li et al. pad Darcy flow), cropped again before projecting.
architecture fno(modes = 16, width = 64, layers = 4, activation = gelu, padding = 0, dims = 1):
  h = pad(dense(inputs, width), padding, dims = dims)
  repeat layers - 1:
    h = activation(spectral(h, width, modes, dims = dims) + dense(h, width))
  h = spectral(h, width, modes, dims = dims) + dense(h, width)
  h = crop(h, padding, dims = dims)
  return dense(activation(dense(h, 128)), outputs)
