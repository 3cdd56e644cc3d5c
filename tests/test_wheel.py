"""The built wheel is a working install: build it from a copy of the source tree, install
it into a fresh venv (no editable finder, no source tree on the path), import every
module and run one example from the CLI.

Only the editable install used to work: a hand-written package list left
pdeforge/compiler/hard/ out of every wheel, and nothing but this test would notice.
The fresh venv sees the dependencies through a .pth naming this interpreter's
site-packages; .pth files inside that folder (the editable finder) are not processed
there, so pdeforge can only come from the wheel."""
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", "venv", "runs", "build", "dist", ".pytest_cache", ".hypothesis", "__pycache__", "out"}

pytest.importorskip("setuptools", minversion="77")

IMPORT_ALL = """
import importlib, pkgutil, sys
import pdeforge
assert pdeforge.__file__.startswith(sys.prefix), pdeforge.__file__
names = [m.name for m in pkgutil.walk_packages(pdeforge.__path__, "pdeforge.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def _run(cmd, cwd, env=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=lambda d, names: [n for n in names if n in SKIP or n.endswith(".egg-info")])
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "whl"),
          str(src)], cwd=tmp_path)
    (wheel,) = (tmp_path / "whl").glob("pdeforge-*.whl")

    # every source package is in the wheel (the defect: compiler/hard/ was missing)
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, pkg in [("pdeforge", "pdeforge"), ("dsl", "pdeforge/dsl"), ("compiler", "pdeforge/compiler"),
                        ("runtime", "pdeforge/runtime"), ("stdlib", "pdeforge/stdlib")]:
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.relative_to(ROOT / folder).as_posix()
            assert f"{pkg}/{rel}" in names, f"{pkg}/{rel} missing from {wheel.name}"
    assert "pdeforge/dsl/grammar.lark" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path).strip())
    (purelib / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    count = int(_run([str(py), "-c", IMPORT_ALL], cwd=tmp_path, env=env).split()[-1])
    assert count >= 40        # every module, not just the top package

    exe = venv / "bin" / "pdeforge"
    out = tmp_path / "run"
    _run([str(exe), "run", str(ROOT / "examples" / "poisson1d.pde"), "--steps", "50", "--quiet", "--out", str(out)],
         cwd=tmp_path, env=env)
    assert any(out.iterdir())
