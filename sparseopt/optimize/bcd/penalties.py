"""Separable non-smooth parts ``psi_i`` of block coordinate descent.

One class covers the four cases of the paper (none, L1, non-negativity, box):
``psi_i(t) = alpha |t| + indicator(lower_i <= t <= upper_i)``. In one
dimension the prox of a convex function plus an interval indicator is the
prox of the function clipped to the interval, so every prox below is a soft
threshold followed by a clip.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SeparablePenalty", "no_penalty", "l1_penalty", "nonnegative", "box",
           "nonnegative_l1"]


class SeparablePenalty:
    """``psi(x) = sum_i alpha_i |x_i| + indicator(lower <= x <= upper)``.

    Parameters
    ----------
    alpha : float or ndarray
        L1 weight, ``>= 0``: one for every coordinate, or one per coordinate
        (0 leaves a coordinate unpenalised, e.g. an intercept).
    lower, upper : float or ndarray
        Bounds (``-inf`` / ``inf`` for none); ``lower <= 0 <= upper`` is
        required so that 0 is feasible.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import SeparablePenalty
    >>> pen = SeparablePenalty(alpha=1.0, lower=0.0)
    >>> pen.prox(np.array([3.0, 0.5, -2.0]), 1.0).tolist()
    [2.0, 0.0, 0.0]
    """

    def __init__(self, alpha=0.0, lower=-np.inf, upper=np.inf):
        if np.ndim(alpha) == 0:
            if not (alpha >= 0 and np.isfinite(alpha)):
                raise ValueError(f"alpha must be finite and >= 0, got {alpha!r}.")
            alpha = float(alpha)
        else:
            alpha = np.ascontiguousarray(alpha, dtype=np.float64).ravel()
            if not np.all((alpha >= 0) & np.isfinite(alpha)):  # also rejects NaN
                raise ValueError("alpha must be finite and >= 0 for every coordinate.")
        self.alpha = alpha
        self.lower = lower
        self.upper = upper
        if np.any(np.asarray(lower) > 0) or np.any(np.asarray(upper) < 0):
            raise ValueError("bounds must contain 0 (lower <= 0 <= upper).")
        self._has_l1 = bool(np.any(self.alpha > 0))
        self._smooth = not self._has_l1 and bool(np.all(np.isneginf(lower))) and bool(
            np.all(np.isposinf(upper)))
        self._bounded = not (bool(np.all(np.isneginf(lower))) and bool(np.all(np.isposinf(upper))))

    @property
    def is_smooth(self):
        return self._smooth

    def _bounds(self, idx, size):
        """Bounds of the coordinates ``idx`` (scalars stay scalars: numpy broadcasts)."""
        lo = self.lower if np.ndim(self.lower) == 0 else np.asarray(self.lower, float)[idx]
        hi = self.upper if np.ndim(self.upper) == 0 else np.asarray(self.upper, float)[idx]
        return lo, hi

    def alpha_at(self, idx=slice(None)):
        """The L1 weight(s) of the coordinates ``idx`` (a scalar when uniform)."""
        return self.alpha if np.ndim(self.alpha) == 0 else self.alpha[idx]

    def l1_weights(self, idx, size):
        """Contiguous per-coordinate L1 weights of ``idx`` (for compiled kernels)."""
        return np.ascontiguousarray(np.broadcast_to(self.alpha_at(idx), (size,)),
                                    dtype=np.float64)

    def bounds(self, idx, size):
        """Contiguous (lower, upper) arrays for the coordinates ``idx``."""
        lo, hi = self._bounds(idx, size)
        return (np.ascontiguousarray(np.broadcast_to(lo, (size,)), dtype=float),
                np.ascontiguousarray(np.broadcast_to(hi, (size,)), dtype=float))

    def value(self, x):
        if self._bounded:
            lo, hi = self._bounds(slice(None), x.size)
            if np.any(x < lo - 1e-12) or np.any(x > hi + 1e-12):
                return np.inf
        return float(np.sum(self.alpha * np.abs(x)))

    def prox(self, z, step, idx=slice(None)):
        """``argmin_u psi(u) + (u - z)^2 / (2 step)`` elementwise (``step`` scalar or array)."""
        if self._has_l1:
            u = np.sign(z) * np.maximum(np.abs(z) - self.alpha_at(idx) * step, 0.0)
        else:
            u = z
        if not self._bounded:
            return u
        lo, hi = self._bounds(idx, z.size)
        return np.clip(u, lo, hi)

    def step(self, x, g, curvature, idx=slice(None)):
        """Prox-gradient step ``delta = prox(x - g / c) - x`` with curvature ``c``."""
        return self.prox(x - g / curvature, 1.0 / curvature, idx) - x

    def model_decrease(self, x, g, curvature, idx=slice(None)):
        """``-s_i`` where ``s_i = min_d g d + c/2 d^2 + psi(x + d) - psi(x)`` (GS-q score, >= 0)."""
        d = self.step(x, g, curvature, idx)
        s = g * d + 0.5 * curvature * d * d + self.alpha_at(idx) * (np.abs(x + d) - np.abs(x))
        return np.maximum(-s, 0.0)

    def residual(self, x, g, curvature, idx=slice(None)):
        """``c (x - prox(x - g / c))``: equals ``g`` when psi = 0, 0 at a minimiser."""
        return -curvature * self.step(x, g, curvature, idx)

    def active(self, x, idx=slice(None)):
        """Coordinates on the non-smooth manifold: zero (L1) or at a bound."""
        if self._bounded:
            lo, hi = self._bounds(idx, x.size)
            mask = (x <= lo) | (x >= hi)
        else:
            mask = np.zeros(x.shape, dtype=bool)
        if self._has_l1:
            mask |= (np.asarray(self.alpha_at(idx)) > 0) & (x == 0)
        return mask


def no_penalty():
    """``psi = 0`` (smooth problem)."""
    return SeparablePenalty()


def l1_penalty(alpha):
    """``psi(x) = alpha ||x||_1``."""
    return SeparablePenalty(alpha=alpha)


def nonnegative():
    """``psi`` = indicator of ``x >= 0``."""
    return SeparablePenalty(lower=0.0)


def box(lower, upper):
    """``psi`` = indicator of ``lower <= x <= upper``."""
    return SeparablePenalty(lower=lower, upper=upper)


def nonnegative_l1(alpha):
    """``psi(x) = alpha ||x||_1 + indicator(x >= 0)`` (the paper's L1 problem)."""
    return SeparablePenalty(alpha=alpha, lower=0.0)
