"""Properties of every diagnostic: several reported in one run, in order; did-you-mean
hints; syntax errors named in words, not grammar tokens; exit status 2 without a
traceback for user errors, 1 with a bug-report request for internal ones; the rendered
file:line:col, source line and caret; odd bytes and numbers refused, BOM and CRLF
accepted."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from diagnostics_common import POISSON, cli_run, reported
from pdeforge import cli
from pdeforge.dsl import PdeError, parse


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


def test_parse_keeps_spans_for_every_statement():
    prog = parse(POISSON, "p.pde")
    assert all(s.span is not None and s.span.line >= 1 for s in prog.statements)



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
