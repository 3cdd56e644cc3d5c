"""Syntax errors in words: lark's parse failures become E0xx diagnostics that name the
expected tokens as a user reads them and show the form of the statement they occur in;
and the checks made before lark runs, on brackets (E007) and indentation (E004), that
point at the offending character itself rather than where lark would give up."""
from __future__ import annotations

import difflib

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from .diagnostics import Diagnostic, PdeError, Span
from .transform import tok_span

__all__ = ["STATEMENT_KEYWORDS", "syntax_error", "dedent_error", "check_brackets"]


# Terminal names as a user should read them.
_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a quoted path", "_NL": "end of line",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "COLON": "`:`",
    "EQUAL": "`=`", "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`",
    "CIRCUMFLEX": "`^`", "REL": "a comparison (`>=`, `<=`)", "_INDENT": "an indented block",
    "_DEDENT": "the end of the block", "$END": "end of file",
}


def _word(term: str) -> str:
    if term in _WORDS:
        return _WORDS[term]
    if term.isupper() and term.replace("_", "").isalpha():
        return f"`{term.lower()}`"
    return term


def _expected(exp) -> str:
    words = sorted({_word(t) for t in exp if t not in ("_DEDENT",)} or {_word(t) for t in exp})
    if len(words) > 8:
        words = words[:8] + ["…"]
    return ", ".join(words)


# The form of each statement, shown with a syntax error inside it.
_FORMS = {
    "problem": "`problem NAME`",
    "use": "`use NAME`",
    "const": "`const NAME = VALUE`",
    "domain": "`domain x in [lo, hi]` or `domain (x, y) in rectangle([lo, hi], [lo, hi])`",
    "time": "`time t in [lo, hi]`",
    "shape": "`shape NAME = disk(center = (0, 0), radius = 1)`",
    "param": "`param NAME in [lo, hi] = GUESS` or `param a(x, y) in [lo, hi]`",
    "data": '`data NAME from "PATH" columns (x, t, u = "COLUMN")`',
    "field": "`field u(x, t)`, or several: `field u(x), v(x)`",
    "equation": "`equation [LABEL]: LHS = RHS`",
    "condition": "`condition [LABEL]: LHS = RHS on x = 0, x = 1`, `condition: periodic(u, x)` "
                 "or `condition [LABEL]: u = DATA.u at DATA, noise = SIGMA`",
    "constraint": "`constraint [LABEL]: EXPR >= EXPR`",
    "exact": "`exact u = EXPR`",
    "model": "`model u = ARCHITECTURE(ARGS)` or `model (u, v) = ARCHITECTURE(ARGS)`",
    "reference": '`reference u from "PATH" (x = ARRAY, u = ARRAY)`',
    "train": "`train:` followed by indented lines",
    "architecture": "`architecture NAME(PARAMS):` followed by indented lines",
    "points": "`points interior = N, boundary = N`",
    "input": "`input u0(x) from grf(covariance = 625 * (-lap + 25)^-2)`",
    "grid": "`grid x = 256` or `grid x = 64, y = 64`",
    "pairs": '`pairs from "PATH" (u0 = ARRAY, u = ARRAY)`, `pairs from burgers(nu = 0.1)` or, in `train:`, '
             "`pairs train = N, test = M`",
    "repeat": "`repeat COUNT:` followed by indented lines",
    "return": "`return EXPR`",
}
STATEMENT_KEYWORDS = ["problem", "use", "const", "domain", "time", "param", "field", "equation", "condition",
                      "constraint", "exact", "model", "reference", "train", "architecture", "data", "shape",
                      "input", "grid", "pairs"]


def _form(source: str, line: int) -> str:
    """'; an equation reads …' for the statement on `line`, or ''."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    words = lines[line - 1].split()
    first = words[0].rstrip(":(") if words else ""
    if first in _FORMS:
        return f"; the form is {_FORMS[first]}"
    if "for" in words or "steps" in words:
        return "; a training stage reads `OPTIMISER(OPTIONS) for N steps`"
    if len(words) >= 2 and words[1] == "=" and lines[line - 1][:1] in " \t":
        return "; a train setting reads `NAME = VALUE`, an architecture line `NAME = EXPR`"
    return ""


def syntax_error(e: UnexpectedInput, source: str) -> Diagnostic:
    if isinstance(e, UnexpectedCharacters):
        ch = source[e.pos_in_stream] if e.pos_in_stream < len(source) else ""
        what = "names are ASCII letters, digits and `_`: write `pi`, `nu`, `alpha`" if ch.isalpha() else \
            "names are letters, digits and `_`; numbers look like 1, 0.5, 1e-3; paths are in double quotes"
        if ch == '"':
            what = "a quoted path must end on the same line"
        elif ch == "!":
            what = "comparisons (`<=`, `>=`) appear in `constraint` lines only"
        shown = f"`{ch}`" if ch.isprintable() and ch != "\ufffd" else f"U+{ord(ch):04X}" if ch else "(none)"
        if ch == "\ufffd" or not ch.isprintable():
            what = "this does not look like a text file (a .pde file is UTF-8 text)"
        return Diagnostic("E001", f"unexpected character {shown}", Span(e.line, e.column, e.line, e.column + 1),
                          hint=what)
    if isinstance(e, UnexpectedEOF) or e.token.type == "$END":
        lines = source.rstrip("\n").splitlines() or [""]
        return Diagnostic("E003", "unexpected end of file", Span(len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2),
                          hint=f"expected {_expected(e.expected)}{_form(source, len(lines))}")
    tok: Token = e.token
    try:   # LALR's expected set can hold tokens that fail after a reduction; ask the parser which really fit
        acc = e.interactive_parser.accepts() if getattr(e, "interactive_parser", None) else None
        if acc:
            e.expected = set(acc)
    except Exception:  # lark internals: keep its own expected set
        pass
    prev = (source.splitlines() + [""])[max(0, (tok.line or 1) - 2)].split("#")[0].rstrip()
    if "_INDENT" in e.expected or (prev.endswith(":") and tok.column == 1):
        return Diagnostic("E004", "this block needs indented lines", tok_span(tok) if tok.line else None,
                          hint="indent the lines of a `train:`, `architecture …:` or `repeat …:` body")
    if tok.type in ("_INDENT",):
        line = tok.end_line or tok.line or 1
        return Diagnostic("E004", "unexpected indentation", Span(line, 1, line, max(2, len(str(tok)) + 1)),
                          hint="only the bodies of `train:`, `architecture …:` and `repeat …:` are indented")
    if tok.type == "_DEDENT" or tok.type == "_NL":
        # a statement cut short: blame the end of the line it started on
        line = tok.line or 1
        lines = source.splitlines() + [""]
        while line > 1 and not lines[line - 1].split("#")[0].strip():
            line -= 1
        srcline = lines[max(0, line - 1)].split("#")[0]
        col = len(srcline.rstrip()) + 1
        return Diagnostic("E002", "the statement ends too early", Span(line, col, line, col + 1),
                          hint=f"expected {_expected(e.expected)}{_form(source, line)}")
    if tok.type == "NAME" and any(k.upper() in e.expected for k in STATEMENT_KEYWORDS) \
            and source.splitlines()[tok.line - 1][:tok.column - 1].strip() == "":
        close = difflib.get_close_matches(str(tok), STATEMENT_KEYWORDS, n=1, cutoff=0.6)
        return Diagnostic("E008", f"`{tok}` does not start a statement", tok_span(tok),
                          hint=f"did you mean `{close[0]}`?" if close else
                          "statements start with " + ", ".join(f"`{k}`" for k in STATEMENT_KEYWORDS))
    return Diagnostic("E002", f"unexpected `{tok}`", tok_span(tok),
                      hint=f"expected {_expected(e.expected)}{_form(source, tok.line or 1)}")


def dedent_error(text: str, tab_len: int) -> Diagnostic:
    """The first line that steps back to an indentation no enclosing block has
    (`tab_len`: the columns a tab counts as, as the indenter counts them)."""
    stack, depth = [0], 0
    for ln, line in enumerate(text.split("\n"), 1):
        body = line.split("#")[0]
        if body.strip() and depth == 0:
            ind = len(body.expandtabs(tab_len)) - len(body.expandtabs(tab_len).lstrip())
            if ind > stack[-1]:
                stack.append(ind)
            else:
                popped = None
                while ind < stack[-1]:
                    popped = stack.pop()
                if ind != stack[-1]:
                    return Diagnostic("E004", "this line's indentation matches no enclosing block",
                                      Span(ln, 1, ln, max(2, ind + 1)),
                                      hint=f"indent it by {popped} spaces to stay in the block above, "
                                           f"or by {stack[-1]} to end it")
        depth += body.count("(") + body.count("[") - body.count(")") - body.count("]")
        depth = max(depth, 0)
    return Diagnostic("E004", "inconsistent indentation", None, hint="indent every line of a block by the same amount")


def check_brackets(text: str, file, source):
    """Unbalanced brackets: report the one left open (or the stray closer) itself,
    since inside brackets newlines do not end a statement and lark would blame a later line."""
    stack = []
    pairs = {")": "(", "]": "["}
    for ln, line in enumerate(text.split("\n"), 1):
        in_str = False
        for col, ch in enumerate(line, 1):
            if ch == '"':
                in_str = not in_str
            elif in_str:
                continue
            elif ch == "#":
                break
            elif ch in "([":
                stack.append((ch, ln, col))
            elif ch in ")]":
                if not stack or stack[-1][0] != pairs[ch]:
                    raise PdeError([Diagnostic("E007", f"`{ch}` has no matching `{pairs[ch]}`", Span(ln, col, ln, col + 1))],
                                   file, source)
                stack.pop()
    if stack:
        ch, ln, col = stack[-1]
        closer = ")" if ch == "(" else "]"
        raise PdeError([Diagnostic("E007", f"`{ch}` is never closed", Span(ln, col, ln, col + 1),
                                   hint=f"add `{closer}`")], file, source)
