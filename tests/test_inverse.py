"""Inverse problems: learned parameters (`param`), observations (`data`) and fits
(`condition ... at DATA`). Accuracy against exact solutions; bounds by construction;
resume with a parameter; diagnostics of bad lines."""
from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdeforge import cli
from pdeforge.api import loads
from pdeforge.dsl import PdeError

ROOT = Path(__file__).resolve().parent.parent


def _codes(ex):
    return [(d.code, d.span.line if d.span else None, d.span.col if d.span else None) for d in ex.value.diagnostics]


# ---- diagnostics of data files (the catalogue's E417 has no runnable example)
def test_e417_observations_outside_the_domain(tmp_path, capsys):
    x = np.linspace(0, 1, 5)
    np.savetxt(tmp_path / "obs.csv", np.stack([x, 1000 * x, x], 1), delimiter=",", header="x,t,u", comments="")
    f = tmp_path / "example.pde"
    f.write_text('problem p\ndomain x in [0, 1]\ntime t in [0, 1]\nfield u(x, t)\n'
                 'data obs from "obs.csv" columns (x, t, u)\n'
                 'equation: dt(u) = d(u, x, 2)\ncondition: u = 0 on x = 0, x = 1, t = 0\n'
                 'condition: u = obs.u at obs\nmodel u = mlp()\n')
    rc = cli.main(["check", str(f)])
    err = capsys.readouterr().err
    code = "E417"
    assert rc == 2 and f"{f}:5:37: error[{code}]" in err, err
    assert "units" in err
