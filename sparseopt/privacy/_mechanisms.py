"""Gaussian mechanisms and the sensitivities of the released statistics.

Every local randomiser of :mod:`sparseopt.privacy` adds Gaussian noise to a
clipped statistic of one record. This module holds

* the noise multiplier ``sigma / sensitivity`` of the classical Gaussian
  mechanism (Dwork & Roth 2014, Thm A.1: ``sqrt(2 ln(1.25/delta)) / epsilon``,
  valid for ``epsilon <= 1``) and of the analytic Gaussian mechanism (Balle &
  Wang 2018, Thm 8: the smallest sigma with
  ``Phi(D/(2s) - e s/D) - exp(e) Phi(-D/(2s) - e s/D) <= delta``), used for
  ``epsilon > 1``;
* the l2 sensitivities of ``x x^T`` (upper triangle), ``x y`` and the
  least-squares gradient ``x (<x, theta> - y)`` for records clipped to a box
  ``[lower, upper]`` (asymmetric ranges allowed: the bound uses
  ``max(|lower_j|, |upper_j|)``, so a zero lower bound never gives zero noise);
* :func:`calibrate`, which turns one release into its noise scale and spends
  its budget on a :class:`~sparseopt.privacy.BudgetAccountant`.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr, ndtr

__all__ = [
    "gaussian_noise_multiplier",
    "analytic_gaussian_delta",
    "covariance_sensitivity",
    "cross_sensitivity",
    "gradient_sensitivity",
    "Release",
    "calibrate",
]


def analytic_gaussian_delta(multiplier, epsilon):
    """Smallest delta making noise ``sigma = multiplier * sensitivity`` (epsilon, delta)-DP.

    Balle & Wang (2018), Theorem 8 (the privacy profile of the Gaussian
    mechanism, exact): with ``s = multiplier``,
    ``delta = Phi(1/(2s) - epsilon s) - exp(epsilon) Phi(-1/(2s) - epsilon s)``.
    """
    s = float(multiplier)
    if s <= 0:
        return 1.0
    a, b = 1.0 / (2.0 * s), epsilon * s
    # exp(eps) Phi(-a - b) in log space: exp(eps) alone overflows for eps > 709
    second = math.exp(epsilon + float(log_ndtr(-a - b)))
    return max(float(ndtr(a - b)) - second, 0.0)


def gaussian_noise_multiplier(epsilon, delta, mechanism="auto"):
    """``(sigma / sensitivity, name)`` of the Gaussian mechanism for ``(epsilon, delta)``.

    Parameters
    ----------
    epsilon : float
        ``> 0``; ``inf`` gives a zero multiplier (no noise, no privacy).
    delta : float
        In ``(0, 1)``.
    mechanism : {"auto", "classical", "analytic"}
        ``"classical"``: ``sqrt(2 ln(1.25/delta)) / epsilon``, only for
        ``epsilon <= 1``; ``"analytic"``: Balle & Wang's calibration (exact,
        any epsilon); ``"auto"``: classical for ``epsilon <= 1``, analytic above.

    Returns
    -------
    multiplier : float
    name : {"gaussian", "analytic_gaussian", "none"}

    Examples
    --------
    >>> from sparseopt.privacy._mechanisms import gaussian_noise_multiplier
    >>> m, name = gaussian_noise_multiplier(1.0, 1e-5)
    >>> round(m, 4), name
    (4.8448, 'gaussian')
    >>> m, name = gaussian_noise_multiplier(4.0, 1e-5)
    >>> round(m, 4), name
    (1.0812, 'analytic_gaussian')
    """
    if mechanism not in ("auto", "classical", "analytic"):
        raise ValueError(f"mechanism must be 'auto', 'classical' or 'analytic', got {mechanism!r}.")
    if not (isinstance(epsilon, (int, float, np.floating, np.integer)) and epsilon > 0):
        raise ValueError(f"epsilon must be > 0 for the Gaussian mechanism, got {epsilon!r}.")
    if not (isinstance(delta, (int, float, np.floating)) and 0 < delta < 1):
        raise ValueError(f"delta must be in (0, 1) for the Gaussian mechanism (it has no "
                         f"pure epsilon-DP version), got {delta!r}.")
    epsilon, delta = float(epsilon), float(delta)
    if math.isinf(epsilon):
        return 0.0, "none"
    if mechanism == "classical" or (mechanism == "auto" and epsilon <= 1.0):
        if epsilon > 1.0:
            raise ValueError(f"the classical Gaussian mechanism is (epsilon, delta)-DP only for "
                             f"epsilon <= 1, got epsilon={epsilon:g}; use mechanism='analytic'.")
        return math.sqrt(2.0 * math.log(1.25 / delta)) / epsilon, "gaussian"
    # analytic: delta(s) decreases in s; bracket the root on a log scale
    def gap(log_s):
        return analytic_gaussian_delta(math.exp(log_s), epsilon) - delta

    hi = math.log(max(math.sqrt(2.0 * math.log(1.25 / delta)) / epsilon, 1e-3))
    while gap(hi) > 0:
        hi += 1.0
    lo = hi - 1.0
    while gap(lo) < 0:
        lo -= 1.0
    log_s = brentq(gap, lo, hi, xtol=1e-14, rtol=1e-13)
    s = math.exp(log_s)
    # round up to the safe side of the root
    while analytic_gaussian_delta(s, epsilon) > delta:
        s *= 1 + 1e-12
    return s, "analytic_gaussian"


def _box_max_abs(lower, upper):
    """Coordinate-wise ``max(|lower|, |upper|)``: the largest |value| a clipped entry takes."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    return np.maximum(np.abs(lower), np.abs(upper))


def covariance_sensitivity(lower, upper):
    """l2 sensitivity of the upper triangle of ``x x^T`` for ``x`` in the box ``[lower, upper]``.

    ``||x x^T - x' x'^T||_F <= ||x||^2 + ||x'||^2 <= 2 sum_j m_j^2`` with
    ``m_j = max(|lower_j|, |upper_j|)`` (``2 d tau^2`` for the symmetric box
    ``[-tau, tau]^d``); the upper triangle is a sub-vector, so the bound holds
    for it. Conservative by at most ``sqrt(2)`` (two rank-one PSD matrices
    have a non-negative inner product).
    """
    m = _box_max_abs(lower, upper)
    return float(2.0 * np.sum(m * m))


def cross_sensitivity(lower, upper, y_lower, y_upper):
    """l2 sensitivity of ``x y``: ``2 sqrt(sum_j m_j^2) m_y`` (``2 sqrt(d) tau_x tau_y``)."""
    m = _box_max_abs(lower, upper)
    m_y = float(_box_max_abs(y_lower, y_upper))
    return float(2.0 * math.sqrt(np.sum(m * m)) * m_y)


def gradient_sensitivity(lower, upper, y_lower, y_upper, radius):
    """l2 sensitivity of ``x (<x, theta> - y)`` over ``||theta||_1 <= radius``.

    ``||x|| (|<x, theta>| + |y|) <= sqrt(sum m_j^2) (max_j m_j radius + m_y)``,
    doubled for a change of record (``2 sqrt(d) tau_x (tau_x R + tau_y)``).
    """
    m = _box_max_abs(lower, upper)
    m_y = float(_box_max_abs(y_lower, y_upper))
    return float(2.0 * math.sqrt(np.sum(m * m)) * (np.max(m) * radius + m_y))


@dataclasses.dataclass(frozen=True)
class Release:
    """One Gaussian release of a user: what is released and how it is protected."""

    name: str
    sensitivity: float
    epsilon: float
    delta: float
    noise_scale: float
    mechanism: str


def calibrate(name, sensitivity, epsilon, delta, accountant=None, mechanism="auto"):
    """Noise scale of one release and its spend on ``accountant``.

    ``sigma = sensitivity * multiplier(epsilon, delta)`` (see
    :func:`gaussian_noise_multiplier`); ``epsilon=inf`` gives ``sigma=0``.
    An infinite sensitivity (unclipped data) with finite epsilon raises.
    """
    if not math.isfinite(sensitivity) and math.isfinite(epsilon):
        raise ValueError(f"the {name} release has infinite sensitivity (unbounded clipping "
                         "range): clip the data to finite bounds, or set epsilon=inf for the "
                         "non-private estimator.")
    multiplier, mech = gaussian_noise_multiplier(epsilon, delta, mechanism)
    if accountant is not None:
        accountant.spend(epsilon, delta)
    sigma = 0.0 if multiplier == 0 else sensitivity * multiplier
    return Release(name, float(sensitivity), float(epsilon), float(delta), float(sigma), mech)
