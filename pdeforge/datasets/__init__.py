"""Reference-data generators for operator learning (issue 18): Gaussian random fields (grf.py).

numpy only; hand-written because no maintained library ships the FNO data-generation samplers.
"""
