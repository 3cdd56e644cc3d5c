"""The error catalogue (docs/errors.md) and the CLI's diagnostics.

Every ```pde-error CODE at LINE:COL [run]``` example of the catalogue is run through the
CLI: it must report CODE at LINE:COL, exit 2 (0 for a warning), and show no
traceback. Codes whose trigger is not a short .pde file (sizes, checkpoints, a
diverging run, …) have a test of their own named `test_<code>_…`. The code base may
emit no code that the catalogue does not explain.

The tests of single codes and of the diagnostics' rendering live beside this file:
test_diagnostics_messages.py (properties of every diagnostic), test_diagnostics_limits.py
(input limits and compile-time codes), test_diagnostics_runs.py (data, saved parameters,
checkpoints, runs)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from diagnostics_common import cli_run, reported

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = (ROOT / "docs" / "errors.md").read_text()
ENTRY = re.compile(r"^```pde-error (?P<code>[EW]\d{3})(?: at (?P<line>\d+):(?P<col>\d+))?(?P<run> run)?[ \t]*\n"
                   r"(?P<text>.*?)^```[ \t]*$", re.S | re.M)
CODES = re.findall(r"^### ([EW]\d{3})$", CATALOGUE, re.M)
SOURCE_DIRS = ["dsl", "compiler", "runtime", "pdeforge", "stdlib"]


# Catalogued codes without a test yet, each with the reason (keep this short).
UNTESTED_BY_DESIGN = {
    "E225": "architecture argument that is a layer: no spelling reaches it through the checker today",
    "E233": "Python API only (a batch without a key for lap(u, estimate = k))",
    "E332": "two hard bounds of one kind: the projection merges most spellings before this check",
}


def examples():
    out = []
    for m in ENTRY.finditer(CATALOGUE):
        line = CATALOGUE.count("\n", 0, m.start()) + 1
        pos = (int(m["line"]), int(m["col"])) if m["line"] else None
        out.append(pytest.param(m["code"], pos, bool(m["run"]), m["text"], id=f"{m['code']}@errors.md:{line}"))
    return out


# ---- data files for the E4xx examples (named in the catalogue's text)
def _data(code, d: Path):
    x = np.linspace(0, 1, 11)
    if code == "E403":
        (d / "ref.npz").write_text("x,u\n0,0\n")
    elif code == "E404":
        (d / "ref.xlsx").write_bytes(b"PK\x03\x04")
    elif code == "E405":
        np.savez(d / "ref.npz", x=x, usol=x * (1 - x))
    elif code == "E406":
        np.savez(d / "ref.npz", x=np.array([f"{v}" for v in x]), u=x)
    elif code == "E409":
        u = x * (1 - x)
        u[3] = np.nan
        np.savez(d / "ref.npz", x=x, u=u)
    elif code == "E410":
        np.savez(d / "ref.npz", x=x, u=np.zeros(7))


@pytest.mark.parametrize("code, pos, run, text", examples())
def test_catalogue_example(code, pos, run, text, tmp_path, capsys):
    proj = tmp_path / "a" / "b"
    proj.mkdir(parents=True)
    _data(code, proj)
    f = proj / "example.pde"
    f.write_text(text)
    argv = ["run", f, "--out", tmp_path / "out", "--steps", "0", "--quiet"] if run else ["check", f]
    rc, out, err = cli_run(capsys, argv)
    assert "Traceback" not in err + out
    assert rc == (0 if code.startswith("W") else 2), err
    got = reported(err, f)
    assert any(c == code for c, _, _ in got), f"expected {code}, got:\n{err}"
    if pos is not None:
        assert (code, *pos) in got, f"expected {code} at {pos[0]}:{pos[1]}, got:\n{err}"
    # the caret is drawn under the reported column
    if pos is not None:
        lines = err.splitlines()
        head = next(i for i, ln in enumerate(lines) if ln.startswith(f"{f}:{pos[0]}:{pos[1]}: ") and f"[{code}]" in ln)
        caret = lines[head + 3]
        assert caret.split("|", 1)[1][1:].index("^") == pos[1] - 1


def test_every_code_is_catalogued_and_tested():
    emitted = set()
    for d in SOURCE_DIRS:
        for p in (ROOT / d).rglob("*.py"):
            emitted |= set(re.findall(r"[\"']([EW]\d{3})[\"']", p.read_text()))
    assert emitted, "no codes found in the source tree"
    missing = emitted - set(CODES)
    assert not missing, f"codes emitted but not in docs/errors.md: {sorted(missing)}"
    assert len(CODES) == len(set(CODES)), "a code is catalogued twice"
    with_example = {m["code"] for m in ENTRY.finditer(CATALOGUE)}
    # codes with a test of their own, `test_<code>_…`, here or in the other test_diagnostics_*.py files
    ours = sorted((ROOT / "tests").glob("test_diagnostics*.py"))
    own_tests = {c.upper() for p in ours for c in re.findall(r"^def test_([ew]\d{3})_", p.read_text(), re.M)}
    # codes of features with their own test files (hard constraints, architectures, …)
    elsewhere = set()
    for p in (ROOT / "tests").glob("test_*.py"):
        if p not in ours:
            elsewhere |= set(re.findall(r"[\"']([EW]\d{3})[\"']", p.read_text()))
    untested = set(CODES) - with_example - own_tests - elsewhere - set(UNTESTED_BY_DESIGN)
    assert not untested, f"catalogue entries with neither an example nor a test: {sorted(untested)}"
