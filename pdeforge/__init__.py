"""pdeforge: a declarative language for physics-informed machine learning.

    prob = pdeforge.load("examples/burgers.pde")
    params = prob.init(jax.random.PRNGKey(0))
    loss = prob.loss(params, prob.sample(jax.random.PRNGKey(1)))
"""
from .api import Problem, load, loads
from .dsl import PdeError

__version__ = "0.1.0"
__all__ = ["load", "loads", "Problem", "PdeError", "__version__"]
