"""Diagnostics: every user mistake becomes `file:line:col: error[CODE]: message`,
the source line, a caret under the span and an optional hint.

This is the only module of ours that `dsl/` may import; the compiler and the
runtime raise the same `PdeError` so the CLI renders every user error one way.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

__all__ = ["Span", "Diagnostic", "PdeError", "error", "did_you_mean", "Collector"]


@dataclass(frozen=True)
class Span:
    line: int
    col: int
    end_line: int
    end_col: int

    @staticmethod
    def of(meta_or_token) -> "Span | None":
        m = meta_or_token
        line = getattr(m, "line", None)
        if line is None:
            return None
        return Span(m.line, m.column, getattr(m, "end_line", m.line) or m.line,
                    getattr(m, "end_column", m.column + 1) or m.column + 1)


@dataclass
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: str = "error"          # "error" | "warning"
    file: str | None = None
    source: str | None = None
    related: list = field(default_factory=list)   # [(Span, note)] or [(Span, note, file, source)]

    def render(self, file: str | None = None, source: str | None = None) -> str:
        outer = (file or self.file or "<input>", source if source is not None else self.source)
        file = self.file or file or "<input>"
        source = self.source if self.source is not None else source
        if self.span is None:
            head = f"{file}: {self.severity}[{self.code}]: {self.message}"
            out = [head]
        else:
            head = f"{file}:{self.span.line}:{self.span.col}: {self.severity}[{self.code}]: {self.message}"
            out = [head] + _excerpt(source, self.span)
        for span, note, *where in self.related:
            # (span, note[, file, source]): a note in another file names it; without one it
            # is in the file being checked (which differs from self.file for library errors)
            rfile, rsource = (where + [None, None])[:2]
            if not rfile:
                rfile, rsource = (file, source) if self.file is None else outer
            out.append(f"{rfile}:{span.line}:{span.col}: note: {note}")
            out += _excerpt(rsource, span)
        if self.hint:
            out.append(f"  = hint: {self.hint}")
        return "\n".join(out)


def _excerpt(source: str | None, span: Span) -> list[str]:
    if not source:
        return []
    lines = source.splitlines()
    if not (1 <= span.line <= len(lines)):
        return []
    text = lines[span.line - 1].expandtabs(1)
    width = (span.end_col - span.col) if span.end_line == span.line else len(text) - span.col + 1
    width = max(1, width)
    num = str(span.line)
    pad = " " * len(num)
    return [f" {pad} |", f" {num} | {text}", f" {pad} | " + " " * (span.col - 1) + "^" * width]


class PdeError(Exception):
    """One or more user-facing diagnostics (exit status 2 in the CLI)."""

    def __init__(self, diagnostics, file: str | None = None, source: str | None = None):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        self.file = file
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        return "\n\n".join(d.render(self.file, self.source) for d in self.diagnostics)

    @property
    def codes(self) -> list[str]:
        return [d.code for d in self.diagnostics]


def error(code: str, message: str, span: Span | None = None, hint: str | None = None, **kw) -> PdeError:
    return PdeError(Diagnostic(code, message, span, hint, **kw))


def did_you_mean(name: str, candidates) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


class Collector:
    """Gathers independent errors so one run reports them all (up to a limit)."""

    LIMIT = 20

    def __init__(self):
        self.items: list[Diagnostic] = []

    def error(self, code, message, span=None, hint=None, related=()):
        if sum(d.severity == "error" for d in self.items) < self.LIMIT:
            self.items.append(Diagnostic(code, message, span, hint, related=list(related)))

    def warn(self, code, message, span=None, hint=None):
        self.items.append(Diagnostic(code, message, span, hint, severity="warning"))

    @property
    def errors(self):
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self):
        return [d for d in self.items if d.severity == "warning"]

    def raise_if_errors(self, file=None, source=None):
        if self.errors:
            raise PdeError(self.errors, file, source)
