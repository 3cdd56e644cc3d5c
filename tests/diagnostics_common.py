"""Helpers of the diagnostics tests (tests/test_diagnostics*.py): a small valid program
to break, the CLI run with its captured output, and the (code, line, col) of every
diagnostic it printed."""
from __future__ import annotations

import re

from pdeforge import cli

POISSON = """problem p
domain x in [0, 1]
field u(x)
equation: -d(u, x, 2) = 1
condition: u = 0 on x = 0, x = 1
exact u = x * (1 - x) / 2
model u = mlp(width = 4, depth = 1)
train:
  adam(lr = 1e-3) for 10 steps
"""



def cli_run(capsys, argv):
    rc = cli.main([str(a) for a in argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def reported(err: str, file) -> list[tuple[str, int | None, int | None]]:
    """(code, line, col) of every diagnostic in the CLI's output for `file`."""
    out = []
    for m in re.finditer(rf"^{re.escape(str(file))}(?::(\d+):(\d+))?: (?:error|warning)\[([EW]\d{{3}})\]", err, re.M):
        out.append((m[3], int(m[1]) if m[1] else None, int(m[2]) if m[2] else None))
    return out
