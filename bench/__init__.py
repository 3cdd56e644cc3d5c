"""pdeforge benchmarks: compiled problems against hand-written JAX (see docs/performance.md)."""
