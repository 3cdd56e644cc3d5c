"""Fuzzing the front end with hypothesis: random token streams, mutations of every
example, and generated well-formed programs go through parse + check + build_ir and
the lowering's graph building (networks, derivative plans; no XLA compilation).

The only acceptable outcomes are success or a PdeError whose diagnostics carry a
catalogued code (docs/errors.md); any other exception is a bug. The normal suite runs
2,000 cases (600 + 900 + 500); `pytest -m long tests/test_fuzz.py` runs 25 times more.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pdeforge.api import check_text
from pdeforge.compiler import Lowered, build_ir
from pdeforge.dsl import PdeError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(ROOT.glob("examples/*.pde"))
# the library's architectures are mutated inside a program that uses them
SOURCES = [p.read_text() for p in EXAMPLES] + [
    (ROOT / "examples" / "poisson1d.pde").read_text() + "\n" + lib.read_text() for lib in sorted(ROOT.glob("stdlib/*.pde"))]
CATALOGUE = set(re.findall(r"^### ([EW]\d{3})", (ROOT / "docs" / "errors.md").read_text(), re.M)) \
    if (ROOT / "docs" / "errors.md").exists() else set()
# diagnostics that concern the whole file and so may come without a span
SPANLESS = {"E004", "E005", "E006", "E222", "E301", "E304", "E307"}

N_TOKENS, N_MUTATIONS, N_GENERATED = 600, 900, 500
LONG = 25


def front_end(text: str):
    """parse + check + IR + lowering; returns the IR, or None for a (checked) user error."""
    try:
        ir = build_ir(check_text(text, "<fuzz>"))
        Lowered(ir)
        return ir
    except PdeError as e:
        assert e.diagnostics, "a PdeError without diagnostics"
        for d in e.diagnostics:
            assert d.code in CATALOGUE or not CATALOGUE, f"uncatalogued code {d.code}: {d.message}"
            assert d.span is not None or d.code in SPANLESS, f"{d.code} has no span: {d.message}"
            if d.span is not None:
                assert d.span.line >= 1 and d.span.col >= 1, (d.code, d.span)
        rendered = e.render()
        assert "Traceback" not in rendered
        return None


def fuzz_settings(n):
    return settings(max_examples=n, deadline=2000, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# ---- 1. random token streams -------------------------------------------------------
KEYWORDS = ["problem", "const", "domain", "time", "field", "param", "equation", "condition", "constraint",
            "exact", "model", "reference", "train", "architecture", "repeat", "return", "points", "use",
            "in", "on", "from", "for", "steps", "hard", "boundary", "periodic", "weights", "method", "simplex",
            "sigmoid", "estimate", "split", "activation", "balance", "causal"]
NAMES = ["u", "v", "x", "y", "z", "t", "k", "nu", "mlp", "adam", "lbfgs", "dense", "inputs", "outputs",
         "d", "dx", "dt", "lap", "grad", "div", "dn", "sin", "exp", "pi", "e", "rectangle", "box", "h", "width"]
PUNCT = ["(", ")", "[", "]", ",", ":", "=", "+", "-", "*", "/", "^", ">=", "<=", "==", "<", ">", "\\\n"]
LITERALS = ["0", "1", "2", "0.5", "1e-3", "1e309", "-1", "100000000", '"data/Burgers.npz"', '"../x.csv"', '"']
LAYOUT = ["\n", "\n  ", "\n    ", "\n\t", "  ", "# comment\n"]
TOKEN = st.sampled_from(KEYWORDS + NAMES + PUNCT + LITERALS + LAYOUT)


@fuzz_settings(N_TOKENS)
@given(st.lists(TOKEN, max_size=60))
def test_random_token_streams(tokens):
    front_end(" ".join(tokens))


# ---- 2. mutations of the examples ----------------------------------------------------
LEX = re.compile(r"\s+|[A-Za-z_][A-Za-z_0-9]*|\d+\.?\d*(?:[eE][-+]?\d+)?|\"[^\"\n]*\"|>=|<=|==|.", re.S)


@st.composite
def mutated(draw):
    src = draw(st.sampled_from(SOURCES))
    level = draw(st.sampled_from(["token", "line", "char"]))
    if level == "token":
        parts = LEX.findall(src)
    elif level == "line":
        parts = src.splitlines(keepends=True)
    else:
        parts = list(src)
    for _ in range(draw(st.integers(1, 4))):
        if not parts:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert", "replace", "reindent"]))
        i = draw(st.sampled_from(range(len(parts))))   # uniform: st.integers favours small values
        j = draw(st.sampled_from(range(len(parts))))
        if op == "delete":
            del parts[i:i + draw(st.integers(1, 3))]
        elif op == "duplicate":
            parts.insert(i, parts[i])
        elif op == "swap":
            parts[i], parts[j] = parts[j], parts[i]
        elif op == "truncate":
            parts = parts[:i]
        elif op == "reindent":      # indentation errors (a dedent to no open block was a crash)
            lines = "".join(parts).splitlines(keepends=True)
            k = draw(st.sampled_from(range(max(1, len(lines)))))
            if lines:
                lines[k] = draw(st.sampled_from(["", " ", "   ", "\t", "      "])) + lines[k].lstrip(" \t")
            parts = lines
        elif op == "insert":
            parts.insert(i, draw(TOKEN) if level != "char" else draw(st.characters(max_codepoint=0x3ff)))
        else:
            parts[i] = draw(TOKEN)
    return "".join(parts)


@fuzz_settings(N_MUTATIONS)
@given(mutated())
def test_mutated_examples(text):
    front_end(text)


# ---- 3. generated well-formed programs ----------------------------------------------
@st.composite
def expressions(draw, fields, coords, depth=0):
    leaves = [st.sampled_from(fields), st.sampled_from(coords), st.sampled_from(["1", "2.5", "pi", "k", "0.1"])]
    if depth >= 3:
        return draw(st.one_of(*leaves))
    kind = draw(st.sampled_from(["leaf", "leaf", "bin", "neg", "func", "deriv", "sugar", "lap", "pow"]))
    sub = lambda: draw(expressions(fields, coords, depth + 1))  # noqa: E731
    if kind == "leaf":
        return draw(st.one_of(*leaves))
    if kind == "bin":
        return f"({sub()} {draw(st.sampled_from(['+', '-', '*', '/']))} {sub()})"
    if kind == "neg":
        return f"-{sub()}"
    if kind == "func":
        return f"{draw(st.sampled_from(['sin', 'cos', 'tanh', 'exp', 'sinh', 'abs']))}({sub()})"
    if kind == "pow":
        return f"({sub()})^{draw(st.sampled_from(['2', '3']))}"
    f = draw(st.sampled_from(fields))
    c = draw(st.sampled_from(coords))
    if kind == "deriv":
        form = draw(st.sampled_from(["one", "order", "mixed"]))
        if form == "one":
            return f"d({f}, {c})"
        if form == "order":
            return f"d({f}, {c}, {draw(st.integers(1, 3))})"
        return f"d({f}, {c}, {draw(st.sampled_from(coords))})"
    if kind == "sugar":
        return f"d{c}({f})"
    return f"lap({f})"


@st.composite
def programs(draw):
    names = ["x", "y", "z"][:draw(st.integers(1, 3))]
    timed = draw(st.booleans())
    coords = names + (["t"] if timed else [])
    nf = draw(st.integers(1, 3))
    fields = ["u", "v", "w"][:nf]
    lines = ["problem gen", "const k = 0.5"]
    if len(names) == 1:
        lines.append("domain x in [0, 1]")
    else:
        shape = "rectangle" if len(names) == 2 else "box"
        lines.append(f"domain ({', '.join(names)}) in {shape}({', '.join(['[0, 1]'] * len(names))})")
    if timed:
        lines.append("time t in [0, 2]")
    lines.append("field " + ", ".join(f"{f}({', '.join(coords)})" for f in fields))
    for i, f in enumerate(fields):
        lhs = draw(expressions(fields, coords))
        lines.append(f"equation e{i}: {lhs} = {draw(expressions(fields, coords))}")
        lines.append(f"condition b{i}: {f} = 0 on boundary")
        if timed:
            lines.append(f"condition i{i}: {f} = sin(pi * x) on t = 0")
            lines.append(f"condition v{i}: dt({f}) = 0 on t = 0")
    if draw(st.booleans()):
        lines[-1 - 2 * timed if timed else -1] += " hard"          # a hard boundary (or initial) condition
    if draw(st.booleans()):
        lines.append(f"condition: periodic({fields[0]}, x){draw(st.sampled_from(['', ' hard']))}")
    if draw(st.booleans()):
        lo = draw(st.sampled_from(["0", "-1"]))
        lines.append(f"constraint c: {lo} <= {fields[-1]} <= 1{draw(st.sampled_from(['', ' hard', ' hard(method = sigmoid)']))}")
    if draw(st.booleans()):
        lines.append(f"exact {fields[0]} = {draw(expressions(['k'], coords, 2))}")
    if draw(st.booleans()):
        lines.append(f"model ({', '.join(fields)}) = {draw(st.sampled_from(['mlp', 'resnet', 'modified_mlp']))}(width = 8)")
    else:
        lines += [f"model {f} = mlp(width = 8, depth = 2)" for f in fields]
    if draw(st.booleans()):
        lines += ["architecture gen_net(width = 8, depth = 2, act = tanh):", "  h = act(dense(inputs, width))",
                  "  repeat depth:", f"    h = {draw(st.sampled_from(['h + ', '']))}act(dense(h, width))",
                  "  return dense(h, outputs)"]
        lines = [ln.replace("= mlp(", "= gen_net(").replace("= resnet(", "= gen_net(") for ln in lines]
    if draw(st.booleans()):
        lines += ["train:", f"  weights e0 = {draw(st.sampled_from(['1', '10', '0.5']))}"]
    else:
        lines += ["train:"]
    lines += [f"  points interior = {draw(st.integers(1, 500))}, boundary = 10",
              f"  adam(lr = 1e-3) for {draw(st.integers(0, 100))} steps", "  lbfgs for 10 steps",
              f"  precision = {draw(st.sampled_from(['float32', 'float64']))}"]
    return "\n".join(lines) + "\n"


@fuzz_settings(N_GENERATED)
@given(programs())
def test_generated_programs(text):
    ir = front_end(text)
    # a generated program is well formed: no syntax or name errors (but an `exact` of
    # a random expression may take a derivative, E105); the hard forms it draws may be
    # legitimately refused (E3xx), as may a first-order-in-time field (E310)
    if ir is None:
        try:
            Lowered(build_ir(check_text(text)))
        except PdeError as e:
            bad = [d for d in e.diagnostics if d.code[:2] in ("E0", "E1") and d.code != "E105"]
            assert not bad, e.render()


# ---- the long run ---------------------------------------------------------------------
@pytest.mark.long
@fuzz_settings(N_TOKENS * LONG)
@given(st.lists(TOKEN, max_size=120))
def test_random_token_streams_long(tokens):
    front_end(" ".join(tokens))


@pytest.mark.long
@fuzz_settings(N_MUTATIONS * LONG)
@given(mutated())
def test_mutated_examples_long(text):
    front_end(text)


@pytest.mark.long
@fuzz_settings(N_GENERATED * LONG)
@given(programs())
def test_generated_programs_long(text):
    test_generated_programs.hypothesis.inner_test(text)
