"""Clipping ranges of the local randomisers: user-given, theory default, or data-derived.

A clipping range must be fixed *before* the users speak: a range computed
from the records depends on every raw value and is not covered by the privacy
guarantee (``clip="data"`` does it anyway, with a
:class:`~sparseopt.privacy.PrivacyLeakWarning`, as diffprivlib does).

The default ``"auto"`` range depends only on public quantities (the number of
users ``n``, the dimension ``d``, the budget) and on the assumption that the
data are standardized (features and target with unit variance, roughly
Gaussian, features about uncorrelated). Clipping trades a bias for less
privacy noise; for such data both are explicit. With ``Z`` standard normal,
``m2(tau) = E[min(Z^2, tau^2)] = 1 - 2 [tau phi(tau) + (1 - tau^2) Q(tau)]``
(the clipped feature variance) and ``m11(tau) = E[|Z| min(|Z|, tau)] = 1 -
2 Q(tau)``, the clipped target of both protocols, ``Sigma~^-1 b~``, is
``theta* m11(tau_x) (1 - 2 Q(tau_y)) / m2(tau_x)``. ``(tau_x, tau_y)``
minimises over a grid of [0.25, 8] ::

    B (|m11(tau_x) / m2(tau_x) - 1| + 2 Q(tau_y))
        + sqrt(2 log(2d) / n_eff) nu(tau_x, tau_y) / m2(tau_x)

the relative clipping biases of features and target (added: their product
cancels only under an exact Gaussian model) (``B = 1`` bounds ``||theta*||_2`` on
standardized data) plus the largest coordinate error of
``Sigma~^-1 (noise)``, where ``nu`` is the noise standard deviation of one
user's message (protocol-dependent) and ``n_eff`` the number of messages
averaged. As ``n`` grows the noise term shrinks, the levels grow (about
``sqrt(log n)``) and the bias vanishes: the estimate stays consistent. The
theory's rule ``tau = sqrt(2 log(n d))`` (clipping almost never active) gives
5-10 times more noise at the sizes of the benchmarks.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from scipy.special import ndtr

from ._accountant import PrivacyLeakWarning

__all__ = ["resolve_clip_x", "resolve_clip_y", "auto_clip", "clipped_second_moment",
           "clipped_cross_moment", "THETA_NORM_BOUND"]

# ||theta*||_2 <= 1 on standardized data with Sigma ~ I (Var y = theta^T Sigma theta + noise <= 1)
THETA_NORM_BOUND = 1.0
_GRID = np.linspace(0.25, 8.0, 311)


def _normal_pdf(t):
    return np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)


def clipped_second_moment(tau):
    """``m2(tau) = E[min(Z^2, tau^2)] = 1 - 2 [tau phi(tau) + (1 - tau^2) Q(tau)]``, Z ~ N(0, 1)."""
    tau = np.minimum(np.asarray(tau, dtype=float), 40.0)  # m2(40) = 1 in float64; avoids inf * 0
    return 1.0 - 2.0 * (tau * _normal_pdf(tau) + (1.0 - tau * tau) * ndtr(-tau))


def clipped_cross_moment(tau):
    """``m11(tau) = E[|Z| min(|Z|, tau)] = 1 - 2 Q(tau)``, Z ~ N(0, 1)."""
    return 1.0 - 2.0 * ndtr(-np.asarray(tau, dtype=float))


def auto_clip(n_eff, n_features, noise_std, *, x_fixed=None):
    """``(tau_x, tau_y)`` minimising the proxy error of the module docstring.

    ``noise_std(tau_x, tau_y)`` is the per-coordinate noise standard deviation
    of one message (vectorised over grids); ``n_eff`` the number of messages
    averaged. A zero noise (``epsilon=inf``) gives no clipping (``inf``).
    With ``x_fixed`` only ``tau_y`` is chosen.
    """
    if noise_std(1.0, 1.0) == 0:
        return (math.inf if x_fixed is None else x_fixed), math.inf
    scale = math.sqrt(2.0 * math.log(2.0 * n_features) / max(n_eff, 1))
    tx = _GRID[:, None] if x_fixed is None else np.array([[x_fixed]])
    ty = _GRID[None, :]
    m2 = clipped_second_moment(tx)
    # the two relative biases are added, not multiplied: their product can cancel (x and y
    # clipped alike) only under an exact Gaussian model, and would not vanish with n otherwise
    bias = np.abs(clipped_cross_moment(tx) / m2 - 1.0) + (1.0 - clipped_cross_moment(ty))
    proxy = THETA_NORM_BOUND * bias + scale * noise_std(tx, ty) / m2
    i, j = np.unravel_index(np.argmin(proxy), proxy.shape)
    return float(tx[i, 0]), float(ty[0, j])


def _pair(value, name, n_features):
    """``(lower, upper)`` arrays of shape (n_features,) from a scalar or a pair."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        tau = float(value)
        if not tau > 0:
            raise ValueError(f"{name} must be > 0 (the symmetric range [-{name}, {name}]), "
                             f"got {value!r}.")
        lower, upper = np.full(n_features, -tau), np.full(n_features, tau)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            lower = np.broadcast_to(np.asarray(value[0], dtype=float), (n_features,)).copy()
            upper = np.broadcast_to(np.asarray(value[1], dtype=float), (n_features,)).copy()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}=(lower, upper) needs scalars or arrays of length "
                             f"{n_features}: {exc}") from None
    else:
        raise TypeError(f"{name} must be 'auto', 'data', a positive float or a pair "
                        f"(lower, upper), got {value!r}.")
    if np.any(np.isnan(lower)) or np.any(np.isnan(upper)):
        raise ValueError(f"{name} contains NaN.")
    if np.any(lower >= upper):
        raise ValueError(f"{name}: every lower bound must be < its upper bound, got "
                         f"lower={lower.tolist()}, upper={upper.tolist()}.")
    return lower, upper


def _warn_data_derived(name):
    warnings.warn(
        f"{name}='data' computes the clipping range from the private records themselves; the "
        "range depends on every user's raw values and is NOT covered by the (epsilon, delta) "
        "guarantee. Pass a range fixed a priori (a float or (lower, upper)) to keep local "
        "differential privacy.", PrivacyLeakWarning, stacklevel=4)


def resolve_clip_x(clip_x, X, auto_tau):
    """``(lower, upper)`` of the feature clipping range (``auto_tau``: the auto level)."""
    d = X.shape[1]
    if isinstance(clip_x, str):
        if clip_x == "auto":
            return np.full(d, -auto_tau), np.full(d, auto_tau)
        if clip_x == "data":
            _warn_data_derived("clip_x")
            lower, upper = np.asarray(X.min(axis=0), float), np.asarray(X.max(axis=0), float)
            tie = lower >= upper  # a constant column: widen to a non-empty range
            return np.where(tie, lower - 1.0, lower), np.where(tie, upper + 1.0, upper)
        raise ValueError(f"clip_x must be 'auto', 'data', a positive float or a pair "
                         f"(lower, upper), got {clip_x!r}.")
    return _pair(clip_x, "clip_x", d)


def resolve_clip_y(clip_y, y, auto_tau):
    """``(lower, upper)`` floats of the target clipping range."""
    if isinstance(clip_y, str):
        if clip_y == "auto":
            return -auto_tau, auto_tau
        if clip_y == "data":
            _warn_data_derived("clip_y")
            lower, upper = float(np.min(y)), float(np.max(y))
            return (lower - 1.0, upper + 1.0) if lower >= upper else (lower, upper)
        raise ValueError(f"clip_y must be 'auto', 'data', a positive float or a pair "
                         f"(lower, upper), got {clip_y!r}.")
    lower, upper = _pair(clip_y, "clip_y", 1)
    return float(lower[0]), float(upper[0])
