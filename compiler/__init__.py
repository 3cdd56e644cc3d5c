"""The compiler: checked program → IR (sympy + networkx) → lowered JAX functions.

Knows nothing of files, clocks or terminals."""
from .ir import IR, build_ir
from .lower import Lowered

__all__ = ["IR", "build_ir", "Lowered"]
