"""Observations for examples/diffusion_inverse.pde, as in DeepXDE's diffusion_1d_inverse:
u = e^(−t) sin(πx) at 10 points x = linspace(−1, 1, 10), t = 1 (exact values, no noise).
Run from anywhere: writes diffusion_obs.csv next to this script."""
from pathlib import Path

import numpy as np

x = np.linspace(-1.0, 1.0, 10)
t = np.ones_like(x)
u = np.exp(-t) * np.sin(np.pi * x)
out = Path(__file__).with_name("diffusion_obs.csv")
np.savetxt(out, np.stack([x, t, u], 1), delimiter=",", header="x,t,u", comments="", fmt="%.17g")
print(f"wrote {out}")
