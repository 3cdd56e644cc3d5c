"""Text → AST. lark LALR(1) with an indentation post-lexer; syntax errors become
E0xx diagnostics that name the expected tokens in words."""
from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError, Indenter

from . import ast as A
from .diagnostics import Diagnostic, PdeError, Span

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


def _span(x) -> Span | None:
    return Span.of(x)


def _tok_span(t: Token) -> Span:
    return Span(t.line, t.column, t.end_line or t.line, t.end_column or t.column + len(t))


def _merge(a: Span | None, b: Span | None) -> Span | None:
    if a is None or b is None:
        return a or b
    return Span(a.line, a.col, b.end_line, b.end_col)


def _espan(x) -> Span | None:
    if isinstance(x, Token):
        return _tok_span(x)
    return getattr(x, "span", None)


@v_args(meta=True)
class _ToAst(Transformer):
    # ---- expressions
    def number(self, meta, c):
        t = c[0]
        return A.Num(_tok_span(t), float(t), str(t))

    def name(self, meta, c):
        return A.Name(_tok_span(c[0]), str(c[0]))

    def call(self, meta, c):
        fname, args = c[0], c[1]
        pos, kws = [], []
        for a in (args or []):
            (kws if isinstance(a, A.Kwarg) else pos).append(a)
        return A.Call(_span(meta), str(fname), pos, kws, func_span=_tok_span(fname))

    def args(self, meta, c):
        return list(c)

    def kwarg(self, meta, c):
        return A.Kwarg(str(c[0]), c[1], _span(meta))

    def _bin(op):
        def f(self, meta, c):
            return A.BinOp(_merge(_espan(c[0]), _espan(c[1])), op, c[0], c[1])
        return f

    add, sub, mul, div, pow, meet_op = _bin("+"), _bin("-"), _bin("*"), _bin("/"), _bin("^"), _bin("&")

    def neg(self, meta, c):
        return A.Neg(_span(meta), c[0])

    def unary(self, meta, c):      # unary plus
        return c[0]

    def attr(self, meta, c):
        return A.Attr(_merge(_tok_span(c[0]), _tok_span(c[1])), str(c[0]), str(c[1]))

    def tuple(self, meta, c):
        return A.Tuple(_span(meta), list(c))

    def interval(self, meta, c):
        return A.Interval(_span(meta), c[0], c[1])

    # ---- statements
    def start(self, meta, c):
        out = []
        for s in c:
            if isinstance(s, list):
                out.extend(s)
            elif isinstance(s, A.Stmt):
                out.append(s)
        return out

    def problem(self, meta, c):
        return A.Problem(_span(meta), str(c[0]))

    def use(self, meta, c):
        t = c[0]
        if t.type == "STRING":
            return A.Use(_span(meta), str(t)[1:-1], True)
        return A.Use(_span(meta), str(t), False)

    def const(self, meta, c):
        return A.Const(_span(meta), str(c[0]), c[1], _tok_span(c[0]))

    def name_list(self, meta, c):
        return list(c)

    def domain_one(self, meta, c):
        return A.Domain(_span(meta), [str(c[0])], c[1], [_tok_span(c[0])])

    def domain_many(self, meta, c):
        return A.Domain(_span(meta), [str(t) for t in c[0]], c[1], [_tok_span(t) for t in c[0]])

    def shape(self, meta, c):
        return A.Shape(_span(meta), str(c[0]), c[1], _tok_span(c[0]))

    def time(self, meta, c):
        return A.Time(_span(meta), str(c[0]), c[1], _tok_span(c[0]))

    def param(self, meta, c):
        return A.Param(_span(meta), str(c[0]), c[1], c[2], _tok_span(c[0]))

    def param_field(self, meta, c):
        return A.Param(_span(meta), str(c[0]), c[2], None, _tok_span(c[0]),
                       [str(t) for t in c[1]], [_tok_span(t) for t in c[1]])

    def column(self, meta, c):
        src = c[1]
        v = str(c[0]) if src is None else str(src)[1:-1] if src.type == "STRING" else str(src)
        return A.Column(str(c[0]), v, _span(meta))

    def data(self, meta, c):
        name, path = c[0], c[1]
        return A.Data(_span(meta), str(name), str(path)[1:-1], list(c[2:]), _tok_span(name), _tok_span(path))

    def fit(self, meta, c):
        label, lhs, rhs, dname = c[0], c[1], c[2], c[3]
        hard = c[-1] if isinstance(c[-1], A.Hard) else None
        return A.Condition(_span(meta), label, lhs, rhs, [], hard, str(dname), _tok_span(dname),
                           [k for k in c[4:] if isinstance(k, A.Kwarg)])

    def field(self, meta, c):
        return list(c)

    def field_decl(self, meta, c):
        return A.FieldDecl(_span(meta), str(c[0]), [str(t) for t in c[1]], [_tok_span(t) for t in c[1]])

    def label(self, meta, c):
        return str(c[0])

    def hard(self, meta, c):
        return A.Hard(_span(meta), [a for a in (c[0] or []) if isinstance(a, A.Kwarg)] if c else [])

    def equation(self, meta, c):
        label, lhs, rhs, hard = c
        return A.Equation(_span(meta), label, lhs, rhs, hard)

    def condition(self, meta, c):
        label, lhs = c[0], c[1]
        rest = c[2:]
        hard = rest[-1] if rest and (rest[-1] is None or isinstance(rest[-1], A.Hard)) else None
        body = [x for x in rest if not (x is None or isinstance(x, A.Hard))]
        if body:
            rhs, regions = body[0], body[1:]
        else:
            rhs, regions = None, []
        return A.Condition(_span(meta), label, lhs, rhs, regions, hard)

    def face(self, meta, c):
        return A.Region(_span(meta), str(c[0]), c[1])

    def named_region(self, meta, c):
        return A.Region(_span(meta), None, None, name=str(c[0]))

    def relation(self, meta, c):
        parts = [str(x) if isinstance(x, Token) else x for x in c]
        return A.Relation(_span(meta), parts)

    def equality(self, meta, c):
        return A.Relation(_span(meta), [c[0], "=", c[1]])

    def constraint(self, meta, c):
        label = c[0]
        hard = c[-1] if isinstance(c[-1], A.Hard) or c[-1] is None else None
        rels = [x for x in c[1:] if isinstance(x, A.Relation)]
        return A.Constraint(_span(meta), label, rels, hard)

    def exact(self, meta, c):
        return A.Exact(_span(meta), str(c[0]), c[1], _tok_span(c[0]))

    def targets(self, meta, c):
        if isinstance(c[0], list):
            return [(str(t), _tok_span(t)) for t in c[0]]
        return [(str(c[0]), _tok_span(c[0]))]

    def model(self, meta, c):
        targets, arch, args = c
        call = self.call(meta, [arch, args])
        return A.Model(_span(meta), targets, str(arch), call)

    def mapping(self, meta, c):
        v = str(c[1])
        if c[1].type == "STRING":
            v = v[1:-1]
        return (str(c[0]), v)

    def reference(self, meta, c):
        names, path = c[0], c[1]
        mapping = dict(c[2:])
        return A.Reference(_span(meta), [str(t) for t in names], str(path)[1:-1], mapping, _tok_span(path))

    def points(self, meta, c):
        return A.Points(_span(meta), list(c))

    def weights(self, meta, c):
        return A.Weights(_span(meta), list(c))

    def stage(self, meta, c):
        name, args, steps = c
        pos, kws = [], []
        for a in (args or []):
            (kws if isinstance(a, A.Kwarg) else pos).append(a)
        return A.Stage(_span(meta), str(name), pos, kws, steps)

    def setting(self, meta, c):
        v = c[1]
        if isinstance(v, Token):
            v = str(v)[1:-1]
        return A.Setting(_span(meta), str(c[0]), v)

    def train(self, meta, c):
        return A.Train(_span(meta), list(c))

    def arch_param(self, meta, c):
        return A.ArchParam(str(c[0]), c[1] if len(c) > 1 else None, _span(meta))

    def arch_params(self, meta, c):
        return list(c)

    def assign(self, meta, c):
        names = [str(t) for t in c[0]]
        return A.Assign(_span(meta), names[0], c[1], names)

    def repeat(self, meta, c):
        return A.Repeat(_span(meta), c[0], list(c[1:]))

    def ret(self, meta, c):
        return A.Return(_span(meta), c[0])

    def architecture(self, meta, c):
        return A.Architecture(_span(meta), str(c[0]), c[1] or [], list(c[2:]))

    def activation(self, meta, c):
        # `activation NAME(x, a = 1) = expr`: an architecture whose body is one return
        return A.Architecture(_span(meta), str(c[0]), c[1] or [], [A.Return(_espan(c[2]), c[2])], kind="activation")


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
    "repeat": "`repeat COUNT:` followed by indented lines",
    "return": "`return EXPR`",
}
STATEMENT_KEYWORDS = ["problem", "use", "const", "domain", "time", "param", "field", "equation", "condition",
                      "constraint", "exact", "model", "reference", "train", "architecture", "data", "shape"]


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


def _syntax_error(e: UnexpectedInput, source: str) -> Diagnostic:
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
        return Diagnostic("E004", "this block needs indented lines", _tok_span(tok) if tok.line else None,
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
        return Diagnostic("E008", f"`{tok}` does not start a statement", _tok_span(tok),
                          hint=f"did you mean `{close[0]}`?" if close else
                          "statements start with " + ", ".join(f"`{k}`" for k in STATEMENT_KEYWORDS))
    return Diagnostic("E002", f"unexpected `{tok}`", _tok_span(tok),
                      hint=f"expected {_expected(e.expected)}{_form(source, tok.line or 1)}")


def parse(source: str, file: str = "<input>") -> A.Program:
    """Parse `.pde` text to a Program; raise PdeError with E0xx diagnostics."""
    if len(source.encode("utf-8", "replace")) > MAX_SOURCE_BYTES:
        raise PdeError(Diagnostic("E005", f"file is larger than {MAX_SOURCE_BYTES} bytes"), file, source)
    text = source.replace("\r\n", "\n").removeprefix("\ufeff")      # editors may add a byte-order mark
    if not text.endswith("\n"):
        text += "\n"
    _check_brackets(text, file, source)
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
        raise PdeError([_syntax_error(e, text)], file, source) from None
    except DedentError:
        raise PdeError([_dedent_error(text)], file, source) from None
    deep = _too_deep(tree)
    if deep is not None:
        raise PdeError([deep], file, source)
    stmts = []
    for s in _ToAst().transform(tree):
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


def _dedent_error(text: str) -> Diagnostic:
    """The first line that steps back to an indentation no enclosing block has."""
    stack, depth = [0], 0
    for ln, line in enumerate(text.split("\n"), 1):
        body = line.split("#")[0]
        if body.strip() and depth == 0:
            ind = len(body.expandtabs(_Indent.tab_len)) - len(body.expandtabs(_Indent.tab_len).lstrip())
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


def _check_brackets(text: str, file, source):
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
                    raise PdeError([Diagnostic("E007", f"`{ch}` has no matching `{pairs[ch]}`", Span(ln, col, ln, col + 1))], file, source)
                stack.pop()
    if stack:
        ch, ln, col = stack[-1]
        closer = ")" if ch == "(" else "]"
        raise PdeError([Diagnostic("E007", f"`{ch}` is never closed", Span(ln, col, ln, col + 1),
                                   hint=f"add `{closer}`")], file, source)


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
