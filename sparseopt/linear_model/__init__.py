"""Sparse regression estimators (penalised least squares) over compiled CD kernels."""
from .lasso import ElasticNet, Lasso

__all__ = ["ElasticNet", "Lasso"]
