"""Static checks that catch a problem before any training: a constant zero
denominator (E201) and a field fixed only up to a constant (W104)."""
import pytest

from pdeforge.api import check_text
from pdeforge.compiler import build_ir
from pdeforge.dsl.diagnostics import PdeError

BASE = """problem p
const z = 0
domain x in [0, 1]
field u(x)
{eq}
{cond}
model u = mlp(width = 8, depth = 1)
"""


def codes(text):
    try:
        checked = check_text(text)
        build_ir(checked)
        return sorted(d.code for d in checked.warnings)
    except PdeError as e:
        return sorted(d.code for d in e.diagnostics)


@pytest.mark.parametrize("rhs", ["x / (2 * z)", "1 / (1 - 1)", "x / (z * x)"])
def test_constant_zero_denominator_is_an_error(rhs):
    assert "E201" in codes(BASE.format(eq=f"equation: dx(u) = {rhs}", cond="condition: u = 0 on x = 0"))


@pytest.mark.parametrize("rhs", ["x / (1 + z)", "x / (x + 1)", "1 / 2"])
def test_non_zero_denominator_passes(rhs):
    assert "E201" not in codes(BASE.format(eq=f"equation: dx(u) = {rhs}", cond="condition: u = 0 on x = 0"))


@pytest.mark.parametrize("eq, cond, warned", [
    ("equation: -d(u, x, 2) = 1 - 2 * x", "condition: dn(u) = 0 on x = 0, x = 1", True),
    ("equation: -d(u, x, 2) = 1 - 2 * x", "condition: dn(u) = 0 on x = 0\ncondition: u = 0 on x = 1", False),
    ("equation: -d(u, x, 2) + u = 1", "condition: dn(u) = 0 on x = 0, x = 1", False),
    ("equation: -d(u, x, 2) = 1 - 2 * x", "condition: dn(u) + u = 0 on x = 0, x = 1", False),
])
def test_pure_neumann_warns(eq, cond, warned):
    assert ("W104" in codes(BASE.format(eq=eq, cond=cond))) == warned


def test_a_residual_that_is_one_constant_alone_compiles():
    """Found by the long fuzz test: `(pi + k) = pi` folds to the constant `k`; substituting
    constants used to turn the whole residual into a Python float and crash the compiler
    (AttributeError in the E201 check and in lowering) instead of compiling it."""
    import jax
    import jax.numpy as jnp

    from pdeforge.api import loads
    text = BASE.replace("const z = 0", "const k = 0.5").format(eq="equation: (pi + k) = pi",
                                                              cond="condition: u = 0 on x = 0, x = 1")
    assert "W101" in codes(text)        # the field is in no equation: said, not a crash
    p = loads(text)
    r = p.residuals(p.init(jax.random.PRNGKey(0)), p.sample(jax.random.PRNGKey(1), {"interior": 4, "boundary": 2}))
    assert jnp.allclose(r["equation1"], 0.5)       # the residual is k everywhere
