# Standard architectures, written in the language itself.

# Multilayer perceptron: `depth` hidden layers of `width` units (Raissi et al. 2019).
architecture mlp(width = 32, depth = 4, activation = tanh):
  h = inputs
  repeat depth:
    h = activation(dense(h, width))
  return dense(h, outputs)

# Residual MLP: h ← h + σ(W h + b) after a first projection (He et al. 2016).
architecture resnet(width = 32, depth = 4, activation = tanh):
  h = activation(dense(inputs, width))
  repeat depth:
    h = h + activation(dense(h, width))
  return dense(h, outputs)

# Modified MLP: two encoders gate every hidden layer (Wang, Teng & Perdikaris 2021).
architecture modified_mlp(width = 32, depth = 4, activation = tanh):
  u = activation(dense(inputs, width))
  v = activation(dense(inputs, width))
  h = inputs
  repeat depth:
    z = activation(dense(h, width))
    h = z * u + (1 - z) * v
  return dense(h, outputs)
