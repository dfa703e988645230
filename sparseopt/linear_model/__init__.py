"""Sparse regression estimators (penalised least squares / logistic) over compiled CD kernels."""
from .glm import GeneralizedLinearEstimator
from .lasso import ElasticNet, Lasso
from .logistic_cv import SparseLogisticRegressionCV
from .path import ElasticNetCV, LassoCV, SparseLinearRegressionCV, sparse_path
from .sparse_regression import (
    MCPRegression,
    SCADRegression,
    SparseLinearRegression,
    SparseLogisticRegression,
)

__all__ = ["ElasticNet", "ElasticNetCV", "GeneralizedLinearEstimator", "Lasso", "LassoCV",
           "MCPRegression", "SCADRegression", "SparseLinearRegression",
           "SparseLinearRegressionCV", "SparseLogisticRegression", "SparseLogisticRegressionCV",
           "sparse_path"]
