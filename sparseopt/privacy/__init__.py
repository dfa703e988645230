"""Sparse linear regression under local differential privacy.

:class:`LDPSparseRegression` (non-interactive closed form, with optional
public covariates, and sequentially interactive LDP iterative hard
thresholding), the user side :func:`privatize`, the per-user
:class:`BudgetAccountant` and :class:`PrivacyLeakWarning`.
"""
from ._accountant import BudgetAccountant, BudgetError, PrivacyLeakWarning
from ._local import LDPMessages, privatize
from .ldp_regression import LDPSparseRegression

__all__ = ["LDPSparseRegression", "privatize", "LDPMessages", "BudgetAccountant", "BudgetError",
           "PrivacyLeakWarning"]
