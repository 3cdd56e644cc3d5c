"""Package discovery for the folder-to-package mapping (metadata lives in pyproject.toml).

The top-level folders dsl/, compiler/, runtime/ and stdlib/ install as pdeforge.dsl,
pdeforge.compiler, pdeforge.runtime and pdeforge.stdlib. setuptools' `packages.find`
cannot search under a remapped root, so the subpackages are found here instead of
listed by hand (a hand list once left compiler/hard/ out of every wheel)."""
from setuptools import find_packages, setup

ROOTS = {"pdeforge": "pdeforge", "pdeforge.dsl": "dsl", "pdeforge.compiler": "compiler",
         "pdeforge.runtime": "runtime", "pdeforge.stdlib": "stdlib"}

packages = []
for name, folder in ROOTS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=ROOTS)
