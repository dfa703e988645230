"""Sparse regression estimators (penalised least squares / logistic) over compiled CD kernels."""
from .glm import GeneralizedLinearEstimator
from .lasso import ElasticNet, Lasso
from .path import LassoCV, SparseLinearRegressionCV, sparse_path
from .sparse_regression import (
    MCPRegression,
    SCADRegression,
    SparseLinearRegression,
    SparseLogisticRegression,
)

__all__ = ["ElasticNet", "GeneralizedLinearEstimator", "Lasso", "LassoCV", "MCPRegression", "SCADRegression",
           "SparseLinearRegression", "SparseLinearRegressionCV", "SparseLogisticRegression",
           "sparse_path"]
