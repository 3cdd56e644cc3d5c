"""Modules and imports: `use nets` loads `stdlib/nets.pde`; `use "path.pde"` loads a file
relative to the importing file. Imports are transitive and share one flat namespace of
architectures and activations.

A program always sees the default modules (`stdlib.default_modules()`) and may shadow
their names; names imported explicitly may not clash with each other or with the
program's own (E154, with both places). Unknown modules are E150/E151, import cycles
E152, and a module may hold only `use`, `architecture` and `activation` lines (E153)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pdeforge import stdlib
from pdeforge.dsl import ast as A
from pdeforge.dsl import parse
from pdeforge.dsl.diagnostics import Diagnostic, PdeError, Span, did_you_mean
from pdeforge.dsl.source import read_source

__all__ = ["MODULE_STATEMENTS", "MAX_MODULES", "resolve"]

MODULE_STATEMENTS = (A.Use, A.Architecture)
MAX_MODULES = 200


@lru_cache(maxsize=None)
def _stdlib_module(name):
    p = stdlib.module_path(name)
    prog = parse(p.read_text(), str(p))
    _own(prog)
    return prog


def _own(prog):
    for a in prog.of(A.Architecture):
        a.origin, a.source = prog.file, prog.source


def _stdlib_names():
    return sorted(p.stem for p in stdlib.HERE.glob("*.pde"))


def resolve(prog: A.Program, allow=()) -> list[A.Program]:
    """The library programs `prog` sees, defaults first; raises PdeError. Module files
    must lie under the program's directory or a directory in `allow` (--allow-path)."""
    _own(prog)
    home = Path(prog.file).parent if prog.file not in ("<input>", "") and not prog.file.startswith("<") else Path.cwd()
    roots = [home.resolve()] + [Path(a).resolve() for a in allow]
    diags = []

    def diag(code, msg, span, p, hint=None, related=()):
        diags.append(Diagnostic(code, msg, span, hint, file=p.file, source=p.source, related=list(related)))

    me = _key_of_file(prog.file)
    loaded = {}                 # key -> Program
    explicit = set()            # keys imported by some `use`
    order = []

    def locate(u, p):
        if not u.is_path:
            if not stdlib.module_path(u.target).is_file() or "/" in u.target:
                diag("E150", f"unknown module `{u.target}`", u.span, p,
                     hint=did_you_mean(u.target, _stdlib_names()) or f"library modules: {', '.join(_stdlib_names())}; "
                          "a file of your own is written in quotes: `use \"nets/mine.pde\"`")
                return None
            return "std:" + u.target
        base = Path(p.file).parent if p.file not in ("<input>", "") and not p.file.startswith("<") else Path.cwd()
        path = (base / u.target).resolve()
        if path.suffix != ".pde":     # never read (and quote lines of) files that are not modules
            diag("E151", f"`{u.target}` is not a .pde file", u.span, p, hint="modules are .pde files: `use \"lib/nets.pde\"`")
            return None
        if not any(path == r or r in path.parents for r in roots):   # a shared file must not read yours
            diag("E407", f"`{u.target}` lies outside the directory of the .pde file", u.span, p,
                 hint=f"pass `--allow-path {path.parent}` to read it")
            return None
        if not path.is_file():
            diag("E151", f"module file `{u.target}` not found", u.span, p, hint=f"looked for {path}")
            return None
        return str(path)

    def load(key):
        if key.startswith("std:"):
            return _stdlib_module(key[4:])
        text = read_source(key)       # regular file, size checked before reading
        q = parse(text, key)
        _own(q)
        return q

    def visit(p, stack):
        for u in p.of(A.Use):
            key = locate(u, p)
            if key is None:
                continue
            explicit.add(key)
            chain = [k for k, _, _ in stack]
            if key in chain or key == me:
                i = chain.index(key) if key in chain else 0
                related = [(s.span, f"`{s.target}` is imported here", q.file, q.source) for _, s, q in stack[i + 1:]]
                diag("E152", f"import cycle: `{u.target}` imports, directly or not, the file importing it", u.span, p,
                     related=related, hint="move the shared architectures into a third module both files use")
                continue
            if key in loaded:
                if key.startswith("std:") and key not in order:   # `use nets`: now explicit
                    order.append(key)
                continue
            if len(loaded) >= MAX_MODULES:
                diag("E150", f"more than {MAX_MODULES} modules", u.span, p)
                return
            q = load(key)
            loaded[key] = q
            for s in q.statements:
                if not isinstance(s, MODULE_STATEMENTS):
                    line = s.span.line if s.span else 1
                    text = (q.source.splitlines() + [""])[line - 1].split("#")[0].rstrip()
                    diag("E153", "a module may hold only `use`, `architecture` and `activation` lines",
                         Span(line, 1, line, max(2, len(text) + 1)), q,
                         related=[(u.span, "imported here", p.file, p.source)])
                    break
            visit(q, stack + [(key, u, p)])   # (module, the `use` that imported it, the importer)
            order.append(key)

    for name in stdlib.default_modules():
        loaded["std:" + name] = _stdlib_module(name)
    visit(prog, [(me, None, prog)])
    # clashes: a name given by two explicitly imported modules, or by one and the program
    seen = {}
    for key in order + ["<program>"]:
        q = prog if key == "<program>" else loaded[key]
        for a in q.of(A.Architecture):
            first = seen.get(a.name)
            if first is not None and first[0] != key:
                fa, fq = first[1], first[2]
                diag("E154", f"`{a.name}` is defined by two modules", a.span, q,
                     related=[(fa.span, f"`{a.name}` is also defined here", fq.file, fq.source)],
                     hint="rename one of them")
            elif first is None:
                seen[a.name] = (key, a, q)
    if diags:
        raise PdeError(diags, prog.file, prog.source)
    defaults = ["std:" + n for n in stdlib.default_modules()]
    return [loaded[k] for k in defaults] + [loaded[k] for k in dict.fromkeys(order) if k not in defaults]


def _key_of_file(file):
    if not file or file.startswith("<"):
        return "<program>"
    return str(Path(file).resolve())
