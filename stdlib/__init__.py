"""Library modules written in the .pde language (architectures, ...)."""
from pathlib import Path

HERE = Path(__file__).parent


def module_path(name: str) -> Path:
    return HERE / f"{name}.pde"


def default_modules() -> list[str]:
    """Modules every program sees without a `use` line."""
    return ["nets"]
