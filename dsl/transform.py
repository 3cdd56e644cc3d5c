"""Parse tree → AST: the lark Transformer that turns each grammar rule of `grammar.lark`
into its `dsl.ast` node, with the source span of every node and name token."""
from __future__ import annotations

from lark import Token, Transformer, v_args

from . import ast as A
from .diagnostics import Span

__all__ = ["ToAst", "tok_span"]


def _span(x) -> Span | None:
    return Span.of(x)


def tok_span(t: Token) -> Span:
    """The span of one token (syntax errors point at tokens too)."""
    return Span(t.line, t.column, t.end_line or t.line, t.end_column or t.column + len(t))


def _merge(a: Span | None, b: Span | None) -> Span | None:
    if a is None or b is None:
        return a or b
    return Span(a.line, a.col, b.end_line, b.end_col)


def _espan(x) -> Span | None:
    if isinstance(x, Token):
        return tok_span(x)
    return getattr(x, "span", None)


@v_args(meta=True)
class ToAst(Transformer):
    # ---- expressions
    def number(self, meta, c):
        t = c[0]
        return A.Num(tok_span(t), float(t), str(t))

    def name(self, meta, c):
        return A.Name(tok_span(c[0]), str(c[0]))

    def call(self, meta, c):
        fname, args = c[0], c[1]
        pos, kws = [], []
        for a in (args or []):
            (kws if isinstance(a, A.Kwarg) else pos).append(a)
        return A.Call(_span(meta), str(fname), pos, kws, func_span=tok_span(fname))

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
        return A.Attr(_merge(tok_span(c[0]), tok_span(c[1])), str(c[0]), str(c[1]))

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
        return A.Const(_span(meta), str(c[0]), c[1], tok_span(c[0]))

    def name_list(self, meta, c):
        return list(c)

    def domain_one(self, meta, c):
        return A.Domain(_span(meta), [str(c[0])], c[1], [tok_span(c[0])])

    def domain_many(self, meta, c):
        return A.Domain(_span(meta), [str(t) for t in c[0]], c[1], [tok_span(t) for t in c[0]])

    def shape(self, meta, c):
        return A.Shape(_span(meta), str(c[0]), c[1], tok_span(c[0]))

    def time(self, meta, c):
        return A.Time(_span(meta), str(c[0]), c[1], tok_span(c[0]))

    def param(self, meta, c):
        return A.Param(_span(meta), str(c[0]), c[1], c[2], tok_span(c[0]))

    def param_field(self, meta, c):
        return A.Param(_span(meta), str(c[0]), c[2], None, tok_span(c[0]),
                       [str(t) for t in c[1]], [tok_span(t) for t in c[1]])

    def column(self, meta, c):
        src = c[1]
        v = str(c[0]) if src is None else str(src)[1:-1] if src.type == "STRING" else str(src)
        return A.Column(str(c[0]), v, _span(meta))

    def data(self, meta, c):
        name, path = c[0], c[1]
        return A.Data(_span(meta), str(name), str(path)[1:-1], list(c[2:]), tok_span(name), tok_span(path))

    def fit(self, meta, c):
        label, lhs, rhs, dname = c[0], c[1], c[2], c[3]
        hard = c[-1] if isinstance(c[-1], A.Hard) else None
        return A.Condition(_span(meta), label, lhs, rhs, [], hard, str(dname), tok_span(dname),
                           [k for k in c[4:] if isinstance(k, A.Kwarg)])

    def field(self, meta, c):
        return list(c)

    def field_decl(self, meta, c):
        given = c[2] or []
        return A.FieldDecl(_span(meta), str(c[0]), [str(t) for t in c[1]], [tok_span(t) for t in c[1]],
                           [str(t) for t in given], [tok_span(t) for t in given])

    def given(self, meta, c):
        return list(c[0]) if isinstance(c[0], list) else [c[0]]

    def input(self, meta, c):
        name, args, source = c
        return A.Input(_span(meta), str(name), [str(t) for t in args], source, tok_span(name),
                       [tok_span(t) for t in args])

    def grid(self, meta, c):
        return A.Grid(_span(meta), list(c))

    def pairs_file(self, meta, c):
        path = c[0]
        return A.Pairs(_span(meta), str(path)[1:-1], dict(c[1:]), None, tok_span(path))

    def pairs_solver(self, meta, c):
        return A.Pairs(_span(meta), None, {}, self.call(meta, [c[0], c[1]]))

    def pair_counts(self, meta, c):
        return A.PairCounts(_span(meta), list(c))

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
        return A.Exact(_span(meta), str(c[0]), c[1], tok_span(c[0]))

    def targets(self, meta, c):
        if isinstance(c[0], list):
            return [(str(t), tok_span(t)) for t in c[0]]
        return [(str(c[0]), tok_span(c[0]))]

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
        return A.Reference(_span(meta), [str(t) for t in names], str(path)[1:-1], mapping, tok_span(path))

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
