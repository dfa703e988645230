"""Shared pieces of the SBL estimators: targets, fitted attributes, convergence report."""
from __future__ import annotations

import math

import numpy as np
from sklearn.base import RegressorMixin

from ..utils.validation import check_finite_result, warn_not_converged
from ._kronecker_design import abs_squared

__all__ = ["SBLRegressorMixin", "posterior_power"]


def posterior_power(xp, post):
    """``Lambda = diag Sigma_x + mean_l |mu_l|^2`` on the active set (the M-step statistic)."""
    return post.variance + xp.mean(abs_squared(xp, post.mean), axis=-1)


class SBLRegressorMixin(RegressorMixin):
    """Targets as ``(M, L)``, the initial scale, and the fitted attributes."""

    @staticmethod
    def _as_columns(xp, y):
        return (y[:, None], False) if y.ndim == 1 else (y, True)

    @staticmethod
    def _initial_scale(xp, Y, frobenius_sq):
        """``c`` with ``E||A x||^2 = ||y||^2`` for ``x ~ N(0, c I)``: a scale-free start."""
        power = float(xp.sum(abs_squared(xp, Y))) / Y.shape[1]
        if power == 0.0:  # y == 0 (e.g. one centred sample): the zero model, whatever X is
            return 0.0
        # an all-zero design explains nothing, and squares that underflow to 0 or overflow
        # to inf make every variance unrepresentable: say so instead of failing inside eigh
        if not 0.0 < frobenius_sq < math.inf:
            raise ValueError(
                "X is all zeros, or its entries are so small or large that their squares "
                f"under/overflow (sum of |X|**2 = {frobenius_sq!r}); SBL cannot scale its "
                "prior variances: rescale X (e.g. to unit column norms).")
        if not math.isfinite(power):
            raise ValueError("the squares of y overflow (sum of |y|**2 is inf): rescale y.")
        scale = power / frobenius_sq
        if not math.isfinite(scale):
            raise ValueError("y is too large relative to X: the initial prior variance "
                             "|y|^2 / ||X||_F^2 overflows; rescale X or y.")
        return scale

    def _store(self, xp, result, multi, name):
        coef = result.coef                                   # (*sizes, L)
        n_targets = coef.shape[-1]
        coef = xp.reshape(coef, (-1, n_targets))
        coef = coef.T if multi else coef[:, 0]
        check_finite_result(name, coef)
        if not math.isfinite(result.noise_variance):
            raise FloatingPointError(f"{name} produced a non-finite noise variance.")
        if not result.converged:
            warn_not_converged(name, n_iter=result.n_iter, certificate=result.certificate,
                               tol=self.tol, certificate_name="relative change of gamma",
                               advice="The hyperparameters were still moving when max_iter "
                                      "was reached; increase max_iter (or tol).")
        self.coef_ = coef
        self.noise_variance_ = float(result.noise_variance)
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.cost_history_ = [float(c) for c in result.cost_history]
        return coef

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.target_tags.multi_output = True
        return tags
