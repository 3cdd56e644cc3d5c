"""Architectures as users write them: shape diagnostics with spans, errors inside a
library naming both places, modules and imports (`use`), the model line using consts,
and the documented examples of every stdlib module building."""
from __future__ import annotations

from pathlib import Path

import pytest
from architectures_common import PROBLEM, codes, dense_count

import pdeforge
from pdeforge import modules
from pdeforge.compiler import network
from pdeforge.dsl import PdeError
from pdeforge.dsl import ast as A


# ---- diagnostics ------------------------------------------------------------------
def test_shape_mismatch_is_a_diagnostic_with_span():
    e = codes(PROBLEM + "architecture bad(width = 4):\n  a = dense(inputs, width)\n  b = dense(inputs, 3)\n"
                        "  return dense(a + b, outputs)\nmodel u = bad()\n")
    assert e.codes == ["E218"]
    d = e.diagnostics[0]
    assert (d.span.line, d.span.col) == (11, 16) and "widths 4 and 3" in d.message
    assert codes(PROBLEM + "architecture two():\n  return dense(inputs, 2)\nmodel u = two()\n").codes == ["E215"]
    assert codes(PROBLEM + "architecture s():\n  a, b = split(inputs, 3)\n  return a\nmodel u = s()\n").codes == ["E218"]
    assert codes(PROBLEM + "model u = mlp(width = 0)\n").codes == ["E221"]
    assert codes(PROBLEM + "model u = mlp(activation = tanhh)\n").codes == ["E101"]
    assert codes(PROBLEM + "model u = snake()\n").codes == ["E223"]
    assert codes(PROBLEM + "model u = monotone_mlp(monotone = (1, 0, 1))\n").codes == ["E227"]
    assert codes(PROBLEM + "architecture r():\n  return r(inputs)\nmodel u = r()\n").codes == ["E224"]
    assert codes(PROBLEM + "architecture r():\n  return dense(inputs, outputs, init = siren(0))\n"
                           "model u = r()\n").codes == ["E228"]
    assert codes(PROBLEM + "architecture r():\n  return dense(tanh, outputs)\nmodel u = r()\n").codes == ["E217"]
    assert codes(PROBLEM + "architecture r():\n  return dense(periodic(inputs, 1, 60000), outputs)\n"
                           "model u = r()\n").codes == ["E221"]


def test_error_inside_library_names_both_places():
    e = codes(PROBLEM + "model u = pirate(features = 0)\n", "prob.pde")
    text = e.render()
    assert "nets.pde" in text and "prob.pde:8:1: note: in this use of `pirate`" in text


# ---- modules and imports -------------------------------------------------------------
def test_use_local_file_relative_to_importer(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mine.pde").write_text(
        'use "more.pde"\n# a small net\narchitecture tiny(width = 3):\n  return dense(act2(dense(inputs, width)), outputs)\n')
    (tmp_path / "lib" / "more.pde").write_text("activation act2(x) = tanh(x) + 0.1 * x\n")
    main = tmp_path / "main.pde"
    main.write_text('use nets\nuse "lib/mine.pde"\n' + PROBLEM + "model u = tiny(width = 5)\n")
    p = pdeforge.load(main)
    assert p.lowered.param_count == dense_count(2, 5, 1)
    assert p.checked.architectures["tiny"].doc == "a small net"


def test_import_errors(tmp_path):
    (tmp_path / "a.pde").write_text('use "b.pde"\narchitecture fa():\n  return dense(inputs, outputs)\n')
    (tmp_path / "b.pde").write_text('use "a.pde"\narchitecture mlp():\n  return dense(inputs, outputs)\n')
    (tmp_path / "c.pde").write_text("const k = 1\narchitecture fa():\n  return dense(inputs, outputs)\n")
    main = tmp_path / "main.pde"

    def err(head, tail="model u = mlp()\n"):
        main.write_text(head + PROBLEM + tail)
        with pytest.raises(PdeError) as e:
            pdeforge.load(main)
        return e.value

    e = err('use "a.pde"\n')
    assert e.codes == ["E152"]
    text = e.render()
    assert "b.pde:1:1: error[E152]" in text and "a.pde:1:1: note" in text
    e = err('use "a.pde"\nuse "c.pde"\n')         # cycle, clash of `fa`, statement not allowed in c
    assert sorted(e.codes) == ["E152", "E153", "E154"]
    clash = e.diagnostics[e.codes.index("E154")].render()
    assert "c.pde:2:1" in clash and "a.pde:2:1: note" in clash
    assert err("use nets\n", "architecture mlp():\n  return dense(inputs, outputs)\nmodel u = mlp()\n").codes == ["E154"]
    assert err("use netz\n").codes == ["E150"]
    assert err('use "nowhere.pde"\n').codes == ["E151"]
    assert err('use "/etc/passwd"\n').codes == ["E151"]
    # without `use nets`, a program may shadow the library's name
    main.write_text(PROBLEM + "architecture mlp():\n  return dense(inputs, outputs)\nmodel u = mlp()\n")
    assert pdeforge.load(main).lowered.param_count == 3


# ---- documentation --------------------------------------------------------------------
def test_docs_list_every_module_and_their_examples_build():
    import re
    import test_docs
    root = Path(__file__).resolve().parent.parent / "docs"
    stdlib_md = (root / "stdlib.md").read_text()
    for a in modules._stdlib_module("nets").of(A.Architecture):
        assert f"## `{a.name}`" in stdlib_md and a.doc, a.name
    lang = (root / "language.md").read_text()
    text = stdlib_md + lang[lang.index("## Architectures"):]
    blocks = re.findall(r"^```(pde(?:-fragment)?)[ \t]*\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) >= 15
    for kind, code in blocks:
        chk = pdeforge.api.check_text(code if kind == "pde" else test_docs.wrap(code))
        for m in chk.models:
            n_in = len(chk.fields[m.targets[0][0]].args)
            g = network.build_graph(chk.architectures[m.arch], m.call, n_in, len(m.targets), archs=chk.architectures)
            assert network.param_count(g) > 0


def test_model_line_may_use_consts():
    prob = pdeforge.loads(PROBLEM + "const w = 6\nconst layers = w / 3\nmodel u = mlp(width = w, depth = layers)\n")
    assert prob.lowered.param_count == dense_count(2, 6, 6, 1)

