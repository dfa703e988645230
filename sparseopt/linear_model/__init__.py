"""Sparse regression estimators (penalised least squares / logistic) over compiled CD kernels."""
from .lasso import ElasticNet, Lasso
from .path import LassoCV, SparseLinearRegressionCV, sparse_path
from .sparse_regression import (
    MCPRegression,
    SCADRegression,
    SparseLinearRegression,
    SparseLogisticRegression,
)

__all__ = ["ElasticNet", "Lasso", "LassoCV", "MCPRegression", "SCADRegression",
           "SparseLinearRegression", "SparseLinearRegressionCV", "SparseLogisticRegression",
           "sparse_path"]
