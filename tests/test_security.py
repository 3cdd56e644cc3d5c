"""Untrusted input: a .pde file is a document people share, so opening one must be as
safe as opening a CSV.

1. No user text reaches eval/exec/compile/sympify/parse_expr/lambdify/pickle: the
   source tree is scanned (code only, not comments or docstrings) for those calls, and
   any occurrence not on the reviewed allow-list below fails the test.
2. Paths in a .pde file resolve relative to the file; reading outside its directory
   tree needs `--allow-path` (checked through the CLI).
3. Only regular files are opened, and sizes are checked before reading: a FIFO, a
   device or a directory named as a .pde file or a data file is refused (E402) without
   blocking, a huge .pde file (E005) without being read.
"""
from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from pathlib import Path

import numpy as np
import pytest

from pdeforge import cli

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ["dsl", "compiler", "runtime", "pdeforge", "stdlib"]

# What may not appear in code. `np.load` must say allow_pickle=False (checked below).
FORBIDDEN = re.compile(r"\b(eval|exec|compile|__import__|sympify|parse_expr|lambdify|pickle|cPickle|dill|marshal|"
                       r"shelve|S)\s*\(|\bimport\s+(pickle|dill|marshal|shelve)\b|\bfrom\s+(pickle|dill|marshal|shelve)\b|"
                       r"allow_pickle\s*=\s*True|\byaml\.load\(|\btorch\.load\(|\bsympy\.parsing\b")

# Reviewed exceptions: (file, the matched text) -> why it is safe.
ALLOWED: dict = {}


def code_lines(path: Path):
    """(line number, code text) with comments and string literals blanked out."""
    text = path.read_text()
    lines = text.splitlines()
    keep = [list(ln) for ln in lines]
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError):
        toks = []
    for t in toks:
        if t.type in (tokenize.COMMENT, tokenize.STRING):
            (r0, c0), (r1, c1) = t.start, t.end
            for r in range(r0, r1 + 1):
                row = keep[r - 1]
                a = c0 if r == r0 else 0
                b = c1 if r == r1 else len(row)
                row[a:b] = [" "] * (b - a)
    return [(i + 1, "".join(row)) for i, row in enumerate(keep)]


def python_files():
    for d in SOURCE_DIRS:
        yield from sorted((ROOT / d).rglob("*.py"))


def test_scanner_finds_what_it_must():
    """The scanner itself can fail: it flags a planted call and ignores comments."""
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        p = Path(t) / "planted.py"
        p.write_text('"""eval( in a docstring"""\nx = 1  # exec( in a comment\ny = sympy.sympify(text)\n'
                     'import pickle\nz = np.load(f, allow_pickle=True)\nw = sp.S(s)\n')
        hits = [(n, m.group(0)) for n, code in code_lines(p) for m in FORBIDDEN.finditer(code)]
    assert [n for n, _ in hits] == [3, 4, 5, 6]


def test_no_eval_exec_sympify_pickle_in_the_source_tree():
    found = []
    for p in python_files():
        rel = p.relative_to(ROOT).as_posix()
        for n, code in code_lines(p):
            for m in FORBIDDEN.finditer(code):
                key = (rel, re.sub(r"\s+", "", m.group(0)))
                if key not in ALLOWED:
                    found.append(f"{rel}:{n}: {m.group(0)!r}  {code.strip()}")
    assert not found, "unreviewed dangerous calls (review them and add to ALLOWED with a reason):\n" + "\n".join(found)


def test_allow_list_has_no_stale_entries():
    seen = set()
    for p in python_files():
        rel = p.relative_to(ROOT).as_posix()
        for _, code in code_lines(p):
            for m in FORBIDDEN.finditer(code):
                seen.add((rel, re.sub(r"\s+", "", m.group(0))))
    assert set(ALLOWED) <= seen, f"allow-list entries that no longer occur: {set(ALLOWED) - seen}"


def test_every_np_load_refuses_pickle():
    bad = []
    for p in python_files():
        tree = ast.parse(p.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy", "jnp"):
                kw = {k.arg: k.value for k in node.keywords}
                v = kw.get("allow_pickle")
                if not (isinstance(v, ast.Constant) and v.value is False):
                    bad.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "np.load without allow_pickle=False: " + ", ".join(bad)


def test_stdlib_modules_are_plain_pde_text():
    for p in sorted((ROOT / "stdlib").glob("*.pde")):
        text = p.read_text()
        assert "import " not in text and "eval" not in text and "exec" not in text, p


# ---- paths: relative to the .pde file, outside needs --allow-path -----------------
PROBLEM = """problem p
domain x in [0, 1]
field u(x)
equation: -d(u, x, 2) = pi^2 * sin(pi * x)
condition: u = 0 on x = 0, x = 1
model u = mlp(width = 4, depth = 1)
reference u from "{path}" (x = x, u = u)
"""


@pytest.fixture
def layout(tmp_path):
    """proj/ holds the .pde file and data/ref.npz; outside/ holds another ref.npz;
    run/params.npz holds (untrained) parameters for `pdeforge eval`."""
    import jax
    from pdeforge.api import loads
    from pdeforge.runtime import io as pio
    proj, outside, run = tmp_path / "proj", tmp_path / "outside", tmp_path / "run"
    for d in (proj / "data", outside, run):
        d.mkdir(parents=True)
    x = np.linspace(0, 1, 21)
    np.savez(proj / "data" / "ref.npz", x=x, u=np.sin(np.pi * x))
    np.savez(outside / "ref.npz", x=x, u=np.sin(np.pi * x))
    prob = loads(PROBLEM.format(path="data/ref.npz").split("reference")[0])
    pio.write_npz(run / "params.npz", pio.flatten(jax.device_get(prob.init(jax.random.PRNGKey(0)))))
    return proj, outside, run


def evaluate(capsys, proj, path, *extra):
    f = proj / "p.pde"
    f.write_text(PROBLEM.format(path=path))
    rc = cli.main(["eval", str(f), "--params", str(proj.parent / "run"), *map(str, extra)])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    return rc, cap.out, cap.err


def test_data_path_inside_the_files_directory_is_read(layout, capsys):
    proj, _, _ = layout
    rc, out, err = evaluate(capsys, proj, "data/ref.npz")
    assert rc == 0, err
    assert "relative L2 error of u" in out


@pytest.mark.parametrize("path", ["../outside/ref.npz", "data/../../outside/ref.npz", "ABS"])
def test_data_path_outside_needs_allow_path(layout, capsys, path):
    proj, outside, _ = layout
    path = str(outside / "ref.npz") if path == "ABS" else path
    rc, _, err = evaluate(capsys, proj, path)
    assert rc == 2
    assert "error[E407]" in err and "--allow-path" in err
    assert f"{proj / 'p.pde'}:7:18" in err
    rc, out, err = evaluate(capsys, proj, path, "--allow-path", outside)
    assert rc == 0, err
    assert "relative L2 error of u" in out


def test_allow_path_grants_only_its_own_tree(layout, capsys):
    proj, outside, _ = layout
    other = proj.parent / "other"
    other.mkdir()
    rc, _, err = evaluate(capsys, proj, "../outside/ref.npz", "--allow-path", other)
    assert rc == 2 and "error[E407]" in err


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlink_out_of_the_tree_is_refused(layout, capsys):
    proj, outside, _ = layout
    (proj / "data" / "link.npz").symlink_to(outside / "ref.npz")
    rc, _, err = evaluate(capsys, proj, "data/link.npz")
    assert rc == 2 and "error[E407]" in err


def test_sensitive_file_is_never_echoed(layout, capsys, tmp_path):
    """A reference to a secret outside the tree is refused before it is opened, so no
    byte of it can appear in an error message."""
    proj, outside, _ = layout
    secret = outside / "secret.csv"
    secret.write_text("x,u\nTOP-SECRET-VALUE,1\n")
    rc, out, err = evaluate(capsys, proj, "../outside/secret.csv")
    assert rc == 2 and "E407" in err and "TOP-SECRET" not in out + err


def test_module_path_outside_needs_allow_path(tmp_path, capsys):
    (tmp_path / "proj").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "lib.pde").write_text("architecture far(w = 3):\n  return dense(inputs, outputs)\n")
    f = tmp_path / "proj" / "p.pde"
    f.write_text('use "../other/lib.pde"\n' + PROBLEM.split("reference")[0].replace("mlp(width = 4, depth = 1)", "far()"))
    rc = cli.main(["check", str(f)])
    err = capsys.readouterr().err
    assert rc == 2 and f"{f}:1:1: error[E407]" in err and "--allow-path" in err
    rc = cli.main(["check", str(f), "--allow-path", str(tmp_path / "other")])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "= far" in cap.out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.parametrize("cmd", ["check", "load", "module"])
def test_a_fifo_or_directory_is_refused_without_blocking(tmp_path, capsys, cmd):
    """Opening a FIFO for reading blocks until a writer comes; none ever does here, so a
    read would hang the test (pytest's timeout of the suite would show it)."""
    import pdeforge
    from pdeforge.dsl import PdeError
    fifo = tmp_path / "pipe.pde"
    os.mkfifo(fifo)
    for bad in (fifo, tmp_path):
        if cmd == "check":
            assert cli.main(["check", str(bad)]) == 2
            assert f"error[E402]: not a regular file: {bad}" in capsys.readouterr().err
        elif cmd == "load":
            with pytest.raises(PdeError) as e:
                pdeforge.load(bad)
            assert e.value.codes == ["E402"] and "not a regular file" in str(e.value)
        else:
            f = tmp_path / "p.pde"
            f.write_text(PROBLEM.format(path="x.npz").split("reference")[0].replace("problem", 'use "pipe.pde"\nproblem'))
            assert cli.main(["check", str(f)]) == 2
            assert "E151" in capsys.readouterr().err     # `use` of a non-file: not found as a module


def test_a_data_path_that_is_not_a_regular_file_is_refused(layout, capsys):
    proj, _, _ = layout
    (proj / "data" / "dir.npz").mkdir()
    rc, _, err = evaluate(capsys, proj, "data/dir.npz")
    assert rc == 2 and "error[E402]: data path is not a regular file" in err


def test_a_huge_pde_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A sparse 4 GB file: the size comes from stat, so nothing is read or allocated."""
    import pdeforge
    from pathlib import Path as P
    from pdeforge.dsl import PdeError
    big = tmp_path / "big.pde"
    with open(big, "wb") as f:
        f.truncate(4 << 30)
    monkeypatch.setattr(P, "read_text", lambda *a, **k: pytest.fail("read before the size check"))
    with pytest.raises(PdeError) as e:
        pdeforge.load(big)
    assert e.value.codes == ["E005"] and e.value.file == str(big)
