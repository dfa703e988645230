"""Robust PCA and robust matrix completion.

- :class:`RobustPCA`: ``X = L + S`` by PCP (inexact ALM, partial SVDs) or
  AccAltProj (known rank), with a guard against silent failures.
- :class:`RobustMatrixCompletion`: low-rank completion by alternating
  minimisation with exact or preconditioned-CG half-steps.
- :class:`RecoveryWarning`: emitted when a residual-converged fit has
  diagnostics that contradict recovery.
"""
from .matrix_completion import RobustMatrixCompletion, altmin_completion
from .robust_pca import RecoveryWarning, RobustPCA

__all__ = ["RecoveryWarning", "RobustMatrixCompletion", "RobustPCA", "altmin_completion"]
