"""The .pde language: grammar, parser, AST with spans, name resolution and checks.

Knows nothing of JAX or sympy; imports nothing of ours but its diagnostics."""
from .diagnostics import Diagnostic, PdeError, Span
from .parser import parse

__all__ = ["parse", "Diagnostic", "PdeError", "Span"]
