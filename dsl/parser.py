"""Text → AST: the parse driver. lark LALR(1) with an indentation post-lexer, and the
limits on what it accepts (size, statements, nesting), checked before lark runs so a
hostile file costs no time; then spans clipped to their line and doc comments attached.
The tree → AST transformer is in `transform.py`; the wording of syntax errors and the
bracket and indentation checks are in `syntax_errors.py`."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark
from lark.exceptions import UnexpectedInput
from lark.indenter import DedentError, Indenter

from . import ast as A
from .diagnostics import Diagnostic, PdeError, Span
from .syntax_errors import check_brackets, dedent_error, syntax_error
from .transform import ToAst

__all__ = ["parse", "MAX_SOURCE_BYTES", "MAX_NESTING", "MAX_STATEMENTS"]

MAX_SOURCE_BYTES = 1_000_000
MAX_NESTING = 200
MAX_STATEMENTS = 10_000


class _Indent(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 4


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text()
    return Lark(grammar, parser="lalr", postlex=_Indent(), propagate_positions=True,
                maybe_placeholders=True)


def parse(source: str, file: str = "<input>") -> A.Program:
    """Parse `.pde` text to a Program; raise PdeError with E0xx diagnostics."""
    if len(source.encode("utf-8", "replace")) > MAX_SOURCE_BYTES:
        raise PdeError(Diagnostic("E005", f"file is larger than {MAX_SOURCE_BYTES} bytes"), file, source)
    text = source.replace("\r\n", "\n").removeprefix("\ufeff")      # editors may add a byte-order mark
    if not text.endswith("\n"):
        text += "\n"
    check_brackets(text, file, source)
    n, line = 0, 0
    for line, ln in enumerate(text.split("\n"), 1):   # before lark: a flood of lines costs seconds to parse
        if ln.split("#")[0].strip():
            n += 1
            if n > MAX_STATEMENTS:
                raise PdeError(Diagnostic("E009", f"more than {MAX_STATEMENTS:,} lines of statements",
                                          Span(line, 1, line, 2), hint="a .pde file states one problem; "
                                          "put data in a data file"), file, source)
    depth = _max_paren_depth(text)
    if depth > MAX_NESTING:
        raise PdeError(Diagnostic("E006", f"expression nesting is {depth} deep; the limit is {MAX_NESTING}"), file, source)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        raise PdeError([syntax_error(e, text)], file, source) from None
    except DedentError:
        raise PdeError([dedent_error(text, _Indent.tab_len)], file, source) from None
    deep = _too_deep(tree)
    if deep is not None:
        raise PdeError([deep], file, source)
    stmts = []
    for s in ToAst().transform(tree):
        stmts.extend(s if isinstance(s, list) else [s])
    lines = text.split("\n")
    for s in stmts:
        _clip(s, lines)
    prog = A.Program(stmts, file, source)
    _attach_docs(prog, text)
    return prog


def _too_deep(tree) -> Diagnostic | None:
    """Long operator chains (`-----x`, `a^a^a…`, a sum of thousands of terms) nest as
    deeply as brackets do; the later passes recurse, so the depth is measured here,
    without recursion, before anything else walks the tree."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            meta = getattr(node, "meta", None)
            line = getattr(meta, "line", None) if meta is not None and not getattr(meta, "empty", True) else None
            return Diagnostic("E006", f"this expression nests more than {MAX_NESTING} levels deep "
                                      "(each operator in a chain counts as a level)",
                              Span(line, 1, line, 2) if line else None,
                              hint="split it with `const`s, or write it more simply")
        for ch in getattr(node, "children", ()):
            if hasattr(ch, "children"):
                stack.append((ch, depth + 1))
    return None


def _max_paren_depth(text: str) -> int:
    d = m = 0
    for ch in text:
        if ch in "([":
            d += 1
            m = max(m, d)
        elif ch in ")]":
            d -= 1
    return m


def _clip(s, lines):
    """A statement's span ends where its first line's text ends (not at the next line)."""
    sp = s.span
    if sp is not None and sp.end_line > sp.line:
        text = lines[sp.line - 1].split("#")[0].rstrip()
        s.span = Span(sp.line, sp.col, sp.line, max(sp.col + 1, len(text) + 1))
    for sub in getattr(s, "items", None) or getattr(s, "body", None) or []:
        if isinstance(sub, A.Stmt):
            _clip(sub, lines)


def _attach_docs(prog: A.Program, text: str):
    """A block of `#` comments right above an architecture is its doc comment."""
    lines = text.splitlines()
    for s in prog.of(A.Architecture):
        s.origin = prog.file
        i = s.span.line - 2
        doc = []
        while i >= 0 and lines[i].lstrip().startswith("#"):
            doc.append(lines[i].lstrip()[1:].strip())
            i -= 1
        s.doc = "\n".join(reversed(doc))
