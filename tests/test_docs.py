"""Every example in the docs parses and checks.

```pde blocks are complete programs; ```pde-fragment blocks are statements placed in a
minimal program that supplies what they do not declare (the rule is stated at the top
of docs/language.md). ```pde-error blocks (docs/errors.md) are tested by
tests/test_diagnostics.py instead."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pdeforge.api import check_text
from pdeforge.dsl import ast as A
from pdeforge.dsl import parse

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```(pde(?:-fragment)?)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks():
    out = []
    for md in sorted(DOCS.glob("*.md")):
        text = md.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            out.append(pytest.param(m.group(1), m.group(2), id=f"{md.name}:{line}"))
    return out


def wrap(fragment: str) -> str:
    """A minimal program around `fragment` (the rule in docs/language.md)."""
    prog = parse(fragment, "<fragment>")
    kinds = {type(s) for s in prog.statements}
    head, tail = [], []
    if A.Problem not in kinds:
        head.append("problem doc")
    coords = []
    if A.Domain not in kinds:
        head += ["domain (x, y) in rectangle([0, 1], [0, 1])", "time t in [0, 1]"]
        coords = ["x", "y", "t"]
    else:
        for s in prog.statements:
            if isinstance(s, A.Domain):
                coords += s.names
            elif isinstance(s, A.Time):
                coords.append(s.name)
    fields = [s for s in prog.statements if isinstance(s, A.FieldDecl)]
    names = [f.name for f in fields]
    if not fields:
        head.append(f"field u({', '.join(coords)})")
        names = ["u"]
    if A.Equation not in kinds:
        tail.append(f"equation: {names[0]} = 0")
    if A.Model not in kinds:
        tail += [f"model {n} = mlp()" for n in names]
    return "\n".join(head) + "\n" + fragment + "\n" + "\n".join(tail) + "\n"


def test_docs_have_examples():
    assert len(blocks()) >= 30


@pytest.mark.parametrize("kind, code", blocks())
def test_example_checks(kind, code):
    text = code if kind == "pde" else wrap(code)
    checked = check_text(text, "<doc example>")
    assert checked.fields
