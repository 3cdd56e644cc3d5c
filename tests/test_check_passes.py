"""The checker's shape (docs/architecture.md, "Pass order"): a visible list of passes over
one shared `State`, each pass a module that says what it reads and adds, and a frozen
`Checked` that nothing changes after the driver builds it."""
import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import pdeforge.dsl.check as check_pkg
from pdeforge.api import check_text
from pdeforge.dsl.check import PASSES, State

SRC = """problem p
domain x in [0, 1]
field u(x)
equation: -d(u, x, 2) = 1
condition: u = 0 on x = 0, x = 1
model u = mlp(width = 8, depth = 2)
"""


def test_every_module_of_the_checker_says_what_it_holds():
    for info in pkgutil.iter_modules(check_pkg.__path__):
        mod = importlib.import_module(f"{check_pkg.__name__}.{info.name}")
        assert (mod.__doc__ or "").strip(), f"dsl/check/{info.name}.py has no docstring"


def test_passes_are_functions_of_the_state_with_a_docstring_in_their_module():
    assert len(PASSES) >= 10
    for run in PASSES:
        params = list(inspect.signature(run).parameters)
        assert params == ["st"], f"{run.__module__}.{run.__name__} takes {params}"
        assert run.__module__.startswith(check_pkg.__name__ + ".")
        doc = inspect.getmodule(run).__doc__
        assert f"`{run.__name__}`" in doc or "Passes over" in doc, run.__name__


def test_wellposedness_runs_last_and_names_come_first():
    names = [r.__name__ for r in PASSES]
    assert names[-1] == "wellposed"
    assert names.index("constants") < names.index("domains") < names.index("equations") < names.index("train")


def test_checked_is_frozen():
    ch = check_text(SRC)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ch.name = "other"
    assert ch.name == "p" and [c.name for c in ch.coords] == ["x"]


def test_a_pass_reads_what_earlier_passes_filled():
    """Running the passes by hand in order fills the State fields the driver reads."""
    from pdeforge import modules
    from pdeforge.dsl import parse
    prog = parse(SRC, "<t>")
    st = State(prog, modules.resolve(prog, ()))     # `mlp` comes from the stdlib, as in `check_text`
    for run in PASSES:
        run(st)
    assert not st.diag.errors
    assert st.consts == {} and [c.name for c in st.coords] == ["x"] and list(st.fields) == ["u"]
    assert st.orders["u"] == {"x": 2}
