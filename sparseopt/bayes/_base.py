"""Shared pieces of the SBL estimators: targets, fitted attributes, convergence report."""
from __future__ import annotations

import math

import numpy as np
from sklearn.base import RegressorMixin

from ..utils.validation import check_finite_result, warn_not_converged
from ._kronecker_design import abs_squared

__all__ = ["SBLRegressorMixin", "data_scales", "posterior_power", "power_of_two_scale"]


def posterior_power(xp, post):
    """``Lambda = diag Sigma_x + mean_l |mu_l|^2`` on the active set (the M-step statistic)."""
    return post.variance + xp.mean(abs_squared(xp, post.mean), axis=-1)


def _rms(xp, A):
    """Root mean square of the entries of ``A``, computed without overflow or underflow."""
    peak = float(xp.max(xp.abs(A))) if math.prod(A.shape) else 0.0
    if peak == 0.0 or not math.isfinite(peak):
        return peak
    return peak * math.sqrt(float(xp.mean(abs_squared(xp, A / peak))))


def _host_dtype(A):
    """The NumPy real dtype matching ``A``'s precision (float32 or float64)."""
    name = str(A.dtype)
    single = name.endswith(("float32", "complex64"))
    return np.float32 if single else np.float64


def power_of_two_scale(value):
    """The power of two nearest to ``value`` (1 for zero): an exact divisor."""
    return 2.0 ** round(math.log2(value)) if value > 0 and math.isfinite(value) else 1.0


def data_scales(xp, design_rms, Y, name, dtype=np.float64):
    """``(s_x, s_y)``: the scales the EM runs at (``X / s_x``, ``y / s_y``), powers of two.

    SBL is scale-equivariant (``coef`` moves as ``s_y / s_x``, the prior
    variances as its square, the noise variance as ``s_y**2``), so the EM runs
    on data of unit root-mean-square and the answer is mapped back; this keeps
    the iterations away from overflow and underflow at any scale of the data.
    Powers of two make the round trip exact. Raises when the mapped-back noise
    variance could not be represented.
    """
    y_rms = _rms(xp, Y)
    s_x, s_y = power_of_two_scale(design_rms), power_of_two_scale(y_rms)
    if s_y > 2.0 ** 500 or s_y < 2.0 ** -500:
        raise ValueError(f"{name}: the scale of y ({y_rms:.3g}) is too extreme for its noise "
                         "variance (its square) to be represented in float64; rescale y.")
    # the prior variances move as (s_y / s_x)**2 and are stored in the data's dtype
    limit = 2.0 ** (int(math.log2(float(np.finfo(dtype).max))) // 2 - 2)
    if s_y / s_x > limit:
        raise ValueError(f"{name}: y ({y_rms:.3g}) is too large relative to X "
                         f"({design_rms:.3g}) for the prior variances of the coefficients (of "
                         f"order (y / X)**2) to be represented in {np.dtype(dtype).name}; "
                         "rescale X or y.")
    return s_x, s_y


class SBLRegressorMixin(RegressorMixin):
    """Targets as ``(M, L)``, the initial scale, and the fitted attributes."""

    @staticmethod
    def _as_columns(xp, y):
        return (y[:, None], False) if y.ndim == 1 else (y, True)

    @staticmethod
    def _initial_scale(xp, Y, frobenius_sq):
        """``c`` with ``E||A x||^2 = ||y||^2`` for ``x ~ N(0, c I)``: a scale-free start."""
        if frobenius_sq == 0.0:  # X == 0: nothing can be explained (the callers stop)
            return 0.0
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

    def _store(self, xp, result, multi, name, coef_scale=1.0, noise_scale=1.0):
        """Fitted attributes from the unit-scale run (``coef * coef_scale``, noise * noise_scale)."""
        coef = result.coef * coef_scale                      # (*sizes, L)
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
        self.noise_variance_ = float(result.noise_variance) * noise_scale
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.cost_history_ = [float(c) for c in result.cost_history]
        return coef

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.target_tags.multi_output = True
        return tags
