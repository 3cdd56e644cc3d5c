"""The import rule of docs/architecture.md: one way, dsl → compiler → runtime.

dsl/ imports nothing of compiler/ or runtime/, nor JAX, optax or sympy (it must load,
and report diagnostics, without them); compiler/ imports nothing of runtime/; neither
imports the front door (pdeforge.api, pdeforge.cli). Imports inside functions count:
every import statement of every module is read with `ast`, relative ones resolved."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"dsl": "pdeforge.dsl", "compiler": "pdeforge.compiler", "runtime": "pdeforge.runtime"}
FRONT = ("pdeforge.api", "pdeforge.cli", "pdeforge.modules")
FORBIDDEN = {
    "dsl": ("pdeforge.compiler", "pdeforge.runtime", "jax", "jaxlib", "optax", "sympy") + FRONT,
    "compiler": ("pdeforge.runtime",) + FRONT,
    "runtime": FRONT,
}


def imports(path: Path, module: str):
    """(imported modules, line) for every import statement in the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            # `from pdeforge import compiler` names a module too
            yield [base] + [f"{base}.{a.name}" for a in node.names], node.lineno


def violations(root: Path):
    out = []
    for folder, pkg in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            module = ".".join([pkg] + parts)
            for names, line in imports(path, module):
                name, bad = next(((n, f) for n in names for f in FORBIDDEN[folder] if n == f or n.startswith(f + ".")),
                                 (None, None))
                if bad:                   # one report per import statement
                    out.append(f"{path.relative_to(root)}:{line} imports {name} ({folder}/ may not import {bad})")
    return out


def test_import_rule_holds():
    assert violations(ROOT) == []


@pytest.mark.parametrize("folder, src", [
    ("dsl", "from pdeforge.compiler import build_ir\n"),
    ("dsl", "def f():\n    import jax.numpy as jnp\n"),
    ("dsl", "from ..runtime import train\n"),
    ("compiler", "from ..runtime.train import train\n"),
    ("compiler", "from pdeforge import api\n"),
])
def test_import_rule_catches_a_violation(tmp_path, folder, src):
    for f in PACKAGES:
        (tmp_path / f).mkdir()
        (tmp_path / f / "__init__.py").write_text("")
    (tmp_path / folder / "bad.py").write_text(src)
    found = violations(tmp_path)
    assert len(found) == 1 and found[0].startswith(f"{folder}/bad.py:"), found
