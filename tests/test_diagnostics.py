"""The error catalogue (docs/errors.md) and the CLI's diagnostics.

Every ```pde-error CODE at LINE:COL [run]``` example of the catalogue is run through the
CLI: it must report CODE at LINE:COL, exit 2 (0 for a warning), and show no
traceback. Codes whose trigger is not a short .pde file (sizes, checkpoints, a
diverging run, …) have a test of their own named `test_<code>_…`. The code base may
emit no code that the catalogue does not explain."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pdeforge import cli
from pdeforge.dsl import PdeError, parse

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = (ROOT / "docs" / "errors.md").read_text()
ENTRY = re.compile(r"^```pde-error (?P<code>[EW]\d{3})(?: at (?P<line>\d+):(?P<col>\d+))?(?P<run> run)?[ \t]*\n"
                   r"(?P<text>.*?)^```[ \t]*$", re.S | re.M)
CODES = re.findall(r"^### ([EW]\d{3})$", CATALOGUE, re.M)
SOURCE_DIRS = ["dsl", "compiler", "runtime", "pdeforge", "stdlib"]

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
    own_tests = {n.split("_")[1].upper() for n in globals() if re.match(r"test_[ew]\d{3}_", n)}
    # codes of features with their own test files (hard constraints, architectures, …)
    elsewhere = set()
    for p in (ROOT / "tests").glob("test_*.py"):
        if p.name != Path(__file__).name:
            elsewhere |= set(re.findall(r"[\"']([EW]\d{3})[\"']", p.read_text()))
    untested = set(CODES) - with_example - own_tests - elsewhere - set(UNTESTED_BY_DESIGN)
    assert not untested, f"catalogue entries with neither an example nor a test: {sorted(untested)}"


# ---- properties of all diagnostics
def test_several_errors_reported_in_one_run(tmp_path, capsys):
    f = tmp_path / "many.pde"
    f.write_text("problem p\nconst nu = 0.1\ndomain x in [0, 1]\nfield u(x)\n"
                 "equation: -d(u, x, 2) = nuu\n"
                 "condition: u = 0 on x = 0, x = 2\n"
                 "model u = mpl()\n"
                 "train:\n  adam(rate = 1) for 10 steps\n")
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2
    assert reported(err, f) == [("E101", 5, 25), ("E306", 6, 28), ("E110", 7, 11), ("E130", 9, 8)]


def test_near_miss_names_get_did_you_mean(tmp_path, capsys):
    f = tmp_path / "near.pde"
    f.write_text(POISSON.replace("= 1\n", "= nuu\n", 1).replace("problem p\n", "problem p\nconst nu = 1\n"))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and "error[E101]" in err and "hint: did you mean `nu`?" in err
    f.write_text(POISSON.replace("mlp(", "mpl("))
    rc, _, err = cli_run(capsys, ["check", f])
    assert "did you mean `mlp`?" in err
    f.write_text(POISSON.replace("adam(", "adma("))
    rc, _, err = cli_run(capsys, ["check", f])
    assert "error[E141]" in err and "did you mean `adam`?" in err


LARK_NAMES = re.compile(r"\b(NAME|NUMBER|STRING|LPAR|RPAR|LSQB|RSQB|COMMA|COLON|EQUAL|PLUS|MINUS|STAR|SLASH|"
                        r"CIRCUMFLEX|REL|_NL|_INDENT|_DEDENT|\$END|__ANON_\d+)\b")


@pytest.mark.parametrize("bad", [
    "equation: -d(u, x, 2) = = 1",
    "equation -d(u, x, 2) = 1",
    "equation: -d(u, x, 2) = 1 +",
    "equation: -d(u, x 2) = 1",
    "equation: 2u = 1",
    "condition: u = 0 at x = 0",
    "model u = mlp() extra",
    'reference u from data.npz (x = x, u = u)',
])
def test_syntax_errors_name_expected_tokens_in_words(bad, tmp_path, capsys):
    f = tmp_path / "syntax.pde"
    f.write_text(POISSON.replace("equation: -d(u, x, 2) = 1", bad))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2
    assert "error[E00" in err
    assert "expected" in err
    assert not LARK_NAMES.search(err), err


def test_user_error_exit_status_and_no_traceback_in_a_subprocess(tmp_path):
    f = tmp_path / "bad.pde"
    f.write_text(POISSON.replace("= 1\n", "= nuu\n", 1))
    p = subprocess.run([sys.executable, "-m", "pdeforge", "check", str(f)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert f"{f}:4:25: error[E101]" in p.stderr
    assert "Traceback" not in p.stderr + p.stdout


def test_internal_error_exit_1_asks_for_a_bug_report(tmp_path, capsys, monkeypatch):
    f = tmp_path / "ok.pde"
    f.write_text(POISSON)

    def broken(args):
        raise ZeroDivisionError("deliberate")
    monkeypatch.setattr(cli, "cmd_check", broken)
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 1
    assert "internal error" in err and "bug" in err and "--debug" in err
    assert "Traceback" not in err
    rc, _, err = cli_run(capsys, ["--debug", "check", f])
    assert rc == 1 and "Traceback" in err


def test_a_good_file_checks(tmp_path, capsys):
    f = tmp_path / "ok.pde"
    f.write_text(POISSON)
    rc, out, err = cli_run(capsys, ["check", f])
    assert rc == 0, err
    assert "ok" in out


def test_diagnostics_render_file_line_col_source_and_caret():
    with pytest.raises(PdeError) as e:
        from pdeforge.api import check_text
        check_text(POISSON.replace("= 1\n", "= kk\n", 1), "f.pde")
    text = e.value.render().splitlines()
    assert text[0] == "f.pde:4:25: error[E101]: `kk` is not defined"
    assert text[2] == " 4 | equation: -d(u, x, 2) = kk"
    assert text[3] == "   |                         ^^"


# ---- codes whose trigger is not a short .pde file
def test_e005_file_too_large(tmp_path, capsys):
    f = tmp_path / "big.pde"
    f.write_text(POISSON + "# " + "x" * 1_000_000 + "\n")
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and f"{f}: error[E005]" in err


def test_e006_nesting_too_deep(tmp_path, capsys):
    f = tmp_path / "deep.pde"
    f.write_text(POISSON.replace("= 1\n", "= " + "(" * 300 + "1" + ")" * 300 + "\n", 1))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and "error[E006]" in err and "Traceback" not in err


def test_e006_deep_unary_and_power_chains_do_not_crash(tmp_path, capsys):
    f = tmp_path / "chain.pde"
    for expr in ["-" * 5000 + "1", "x" + "^x" * 3000, "+".join(["x"] * 20000)]:
        f.write_text(POISSON.replace("= 1\n", f"= {expr}\n", 1))
        rc, _, err = cli_run(capsys, ["check", f])
        assert rc in (0, 2) and "Traceback" not in err and "internal error" not in err, err[-500:]


def _module_files(tmp_path):
    (tmp_path / "a.pde").write_text('use "b.pde"\n')
    (tmp_path / "b.pde").write_text('use "a.pde"\n')


def test_e152_import_cycle(tmp_path, capsys):
    _module_files(tmp_path)
    f = tmp_path / "main.pde"
    f.write_text('use "a.pde"\n' + POISSON)
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and "error[E152]" in err and "Traceback" not in err


def test_e153_module_with_a_problem_statement(tmp_path, capsys):
    (tmp_path / "m.pde").write_text("field q(x)\n")
    f = tmp_path / "main.pde"
    f.write_text('use "m.pde"\n' + POISSON)
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and f"{tmp_path / 'm.pde'}:1:" in err and "error[E153]" in err


def test_e230_unlowerable_expression():
    import sympy as sp
    from pdeforge.compiler.lower import to_jax
    with pytest.raises(PdeError) as e:
        to_jax(sp.Function("mystery")(sp.Symbol("x")), {})
    assert e.value.codes == ["E230"]


def test_e231_unlowerable_derivative(tmp_path, capsys, monkeypatch):
    import sympy as sp
    from pdeforge.compiler import lower
    monkeypatch.setattr(lower, "_keep_laps", lambda e: sp.Derivative(sp.Symbol("q"), sp.Symbol("x"), evaluate=False))
    f = tmp_path / "ok.pde"
    f.write_text(POISSON)
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and "error[E231]" in err


def test_e402_missing_pde_file(tmp_path, capsys):
    rc, _, err = cli_run(capsys, ["check", tmp_path / "nope.pde"])
    assert rc == 2 and "error[E402]" in err


def test_e408_data_file_too_large(tmp_path, capsys, monkeypatch):
    from pdeforge.runtime import data
    monkeypatch.setattr(data, "MAX_DATA_BYTES", 100)
    np.savez(tmp_path / "ref.npz", x=np.linspace(0, 1, 50), u=np.zeros(50))
    f = tmp_path / "p.pde"
    f.write_text(POISSON + 'reference u from "ref.npz" (x = x, u = u)\n')
    rc, _, err = cli_run(capsys, ["run", f, "--out", tmp_path / "out", "--quiet"])
    assert rc == 2 and f"{f}:10:18: error[E408]" in err


@pytest.fixture
def params_dir(tmp_path):
    """A params.npz of the right names for POISSON's model, but not trained."""
    from pdeforge.api import loads
    from pdeforge.runtime import io
    import jax
    prob = loads(POISSON)
    d = tmp_path / "run"
    d.mkdir()
    io.write_npz(d / "params.npz", io.flatten(jax.device_get(prob.init(jax.random.PRNGKey(0)))))
    return d


def test_e411_eval_without_exact_or_reference(tmp_path, capsys, params_dir):
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("exact u = x * (1 - x) / 2\n", ""))
    rc, _, err = cli_run(capsys, ["eval", f, "--params", params_dir])
    assert rc == 2 and "error[E411]" in err


def test_e412_parameters_of_another_model(tmp_path, capsys, params_dir):
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("width = 4, depth = 1", "width = 6, depth = 2"))
    rc, _, err = cli_run(capsys, ["eval", f, "--params", params_dir])
    assert rc == 2 and "error[E412]" in err and "Traceback" not in err
    f.write_text(POISSON)
    rc, out, err = cli_run(capsys, ["eval", f, "--params", params_dir])
    assert rc == 0 and "relative L2 error of u" in out


def test_e413_resume_without_checkpoint(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    (tmp_path / "empty").mkdir()
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "empty", "--quiet"])
    assert rc == 2 and "error[E413]" in err


def test_e414_unreadable_checkpoint(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "checkpoint.npz").write_bytes(b"not a zip file")
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "ck", "--quiet"])
    assert rc == 2 and "error[E414]" in err


def _fake_checkpoint(d: Path, text: str, leaves, **meta):
    import hashlib
    from pdeforge.api import loads
    from pdeforge.runtime import checkpoint
    import jax
    prob = loads(text)
    m = {"spec_hash": hashlib.sha256(text.encode()).hexdigest(), "seed": 0, "total": 10,
         "done": 5, "stage": 0, "in_stage": 5, "history": []}
    m.update(meta)
    d.mkdir()
    checkpoint.save(d, prob.init(jax.random.PRNGKey(0)), leaves, m)


def test_e415_checkpoint_optimiser_mismatch(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    _fake_checkpoint(tmp_path / "ck", POISSON, [np.zeros(3)])
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "ck", "--quiet"])
    assert rc == 2 and "error[E415]" in err


def test_e416_checkpoint_of_another_file(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    _fake_checkpoint(tmp_path / "ck", POISSON, [np.zeros(3)], spec_hash="0" * 64)
    rc, _, err = cli_run(capsys, ["run", f, "--resume", tmp_path / "ck", "--quiet"])
    assert rc == 2 and "error[E416]" in err


def test_e501_diverging_run_names_term_and_step(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("equation: -d(u, x, 2) = 1", "equation pde: -d(u, x, 2) = log(x - 2)"))
    rc, out, err = cli_run(capsys, ["run", f, "--out", tmp_path / "out"])
    assert rc == 3, err
    assert "error[E501]" in err and "at step 1" in err and "`pde`" in err and "Traceback" not in err + out
    assert (tmp_path / "out" / "metrics.json").exists()
    json.loads((tmp_path / "out" / "metrics.json").read_text())


def test_e502_output_directory_not_writable(tmp_path, capsys):
    f = tmp_path / "p.pde"
    f.write_text(POISSON)
    (tmp_path / "afile").write_text("")
    rc, _, err = cli_run(capsys, ["run", f, "--out", tmp_path / "afile" / "sub", "--quiet"])
    assert rc == 2 and "error[E502]" in err


def test_parse_keeps_spans_for_every_statement():
    prog = parse(POISSON, "p.pde")
    assert all(s.span is not None and s.span.line >= 1 for s in prog.statements)


def test_e203_too_many_coordinates(tmp_path, capsys):
    f = tmp_path / "wide.pde"
    f.write_text(POISSON.replace("domain x in [0, 1]\n", "domain x in [0, 1]\n" + "".join(f"domain x{i} in [0, 1]\n" for i in range(1001))))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and "error[E203]" in err


def test_bad_argument_to_a_library_architecture_is_shown_on_the_model_line(tmp_path, capsys):
    f = tmp_path / "act.pde"
    f.write_text(POISSON.replace("mlp(width = 4, depth = 1)", "mlp(width = 4, activation = relu6)"))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2
    assert (("E101", 7, 39) in reported(err, f)), err
    assert "did you mean `relu`?" in err


def test_dn_on_the_initial_face_is_refused(tmp_path, capsys):
    f = tmp_path / "dn.pde"
    f.write_text("problem p\ndomain x in [0, 1]\ntime t in [0, 1]\nfield u(x, t)\nequation: dt(u) = d(u, x, 2)\n"
                 "condition: u = 0 on x = 0, x = 1\ncondition: u = sin(pi * x) on t = 0\n"
                 "condition: dn(u) = 0 on t = 0\nmodel u = mlp()\n")
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and ("E107", 8, 12) in reported(err, f)


def test_whole_number_settings(tmp_path, capsys):
    f = tmp_path / "seed.pde"
    f.write_text(POISSON + "  seed = 1.5\n  log_every = -1\n")
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and reported(err, f) == [("E143", 10, 10), ("E143", 11, 15)]


def test_e009_too_many_statements(tmp_path, capsys):
    f = tmp_path / "flood.pde"
    f.write_text(POISSON + "".join(f"const c{i} = {i}\n" for i in range(10_001)))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and f"{f}:10001:1: error[E009]" in err


@pytest.mark.parametrize("text, code", [
    (POISSON.replace("= 1\n", "= 1e400\n", 1), "E201"),
    (POISSON.replace("[0, 1]", "[-1e400, 1]"), "E201"),
    ("const a = 1e400 - 1e400\n" + POISSON, "E201"),
    ("\x89PNG\r\n\x1a\n\x00\x00", "E001"),
])
def test_non_finite_numbers_and_binary_files(text, code, tmp_path, capsys):
    f = tmp_path / "odd.pde"
    f.write_bytes(text.encode("utf-8", "surrogateescape") if not text.startswith("\x89") else text.encode("latin-1"))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and f"error[{code}]" in err and "Traceback" not in err


def test_byte_order_mark_and_crlf_are_accepted(tmp_path, capsys):
    f = tmp_path / "win.pde"
    f.write_bytes(("\ufeff" + POISSON).replace("\n", "\r\n").encode("utf-8"))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 0, err


@pytest.mark.parametrize("name, write", [
    ("empty.npz", lambda p: np.savez(p, x=np.zeros(0), u=np.zeros(0))),
    ("header_only.csv", lambda p: p.write_text("x,u\n")),
])
def test_e410_empty_reference_is_refused(name, write, tmp_path, capsys):
    """An empty reference used to pass and report a relative error of 0."""
    write(tmp_path / name)
    f = tmp_path / "p.pde"
    f.write_text(POISSON.replace("exact u = x * (1 - x) / 2\n", "") + f'reference u from "{name}" (x = x, u = u)\n')
    rc, _, err = cli_run(capsys, ["run", f, "--out", tmp_path / "out", "--steps", "0", "--quiet"])
    assert rc == 2 and f"{f}:9:1: error[E410]" in err and "holds no values" in err
    assert "Warning" not in err
