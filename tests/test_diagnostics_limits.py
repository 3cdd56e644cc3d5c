"""Codes whose trigger is not a short .pde file, up to compilation: size and nesting
limits (E005, E006, E009, E203), module imports (E152, E153), expressions the lowering
cannot express (E230, E231), a missing file (E402)."""
from __future__ import annotations

import pytest

from diagnostics_common import POISSON, cli_run
from pdeforge.dsl import PdeError


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


def test_e203_too_many_coordinates(tmp_path, capsys):
    f = tmp_path / "wide.pde"
    many = "".join(f"domain x{i} in [0, 1]\n" for i in range(1001))
    f.write_text(POISSON.replace("domain x in [0, 1]\n", "domain x in [0, 1]\n" + many))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and "error[E203]" in err



def test_e009_too_many_statements(tmp_path, capsys):
    f = tmp_path / "flood.pde"
    f.write_text(POISSON + "".join(f"const c{i} = {i}\n" for i in range(10_001)))
    rc, _, err = cli_run(capsys, ["check", f])
    assert rc == 2 and f"{f}:10001:1: error[E009]" in err
