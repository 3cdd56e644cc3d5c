"""Observations for examples/heat_inverse.pde (PINNacle HInv): u = e^(−t) sin(πx) sin(πy)
at 2,500 seeded uniform points of [−1, 1]² × [0, 1], with Gaussian noise of standard
deviation 0.01 (1% of max |u|). Also derives the source f = u_t − ∇·(a∇u) for
a = 2 + sin(πx) sin(πy) with sympy, the form written into the .pde file.
Writes heat_inverse_obs.npz next to this script (or to the path given)."""
import sys
from pathlib import Path

import numpy as np
import sympy as sp

N, NOISE, SEED = 2500, 0.01, 0


def source():
    x, y, t = sp.symbols("x y t", real=True)
    u = sp.exp(-t) * sp.sin(sp.pi * x) * sp.sin(sp.pi * y)
    a = 2 + sp.sin(sp.pi * x) * sp.sin(sp.pi * y)
    f = sp.diff(u, t) - sp.diff(a * sp.diff(u, x), x) - sp.diff(a * sp.diff(u, y), y)
    return (x, y, t), sp.simplify(f)


def observations(n=N, noise=NOISE, seed=SEED):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    t = rng.uniform(0, 1, n)
    u = np.exp(-t) * np.sin(np.pi * x) * np.sin(np.pi * y)
    return {"x": x, "y": y, "t": t, "u": u + noise * rng.standard_normal(n)}


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("heat_inverse_obs.npz")
    np.savez(out, **observations())
    print("f =", source()[1])
    print(f"wrote {out}")
