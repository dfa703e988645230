"""Clipping ranges of the local randomisers: user-given, theory default, or data-derived.

A clipping range must be fixed *before* the users speak: a range computed
from the records depends on every raw value and is not covered by the privacy
guarantee (``clip="data"`` does it anyway, with a
:class:`~sparseopt.privacy.PrivacyLeakWarning`, as diffprivlib does).

The default ``"auto"`` range depends only on public quantities (the number of
users ``n``, the dimension ``d``, the budget) and on the assumption that the
data are standardized (features and target with unit sub-Gaussian scale). It
balances the two errors clipping trades between (spec: error = clipping bias
+ privacy noise): ``(tau_x, tau_y)`` minimises ::

    B * E[(Z^2 - tau_x^2)_+] + E[(|Z| - tau_y)_+] + sqrt(2 log(2d) / n_eff) * nu(tau_x, tau_y)

over a grid, where ``Z`` is standard normal (the clipping bias of a second
moment and of a first moment of a standardized coordinate), ``B = 1`` bounds
``||theta*||_2`` on standardized data and ``nu`` is the noise standard
deviation of one user's message (protocol-dependent, linear in the clipping
levels). As ``n`` grows the noise term shrinks, so the levels grow (about
``sqrt(log n)``) and the clipping bias vanishes: the estimate stays
consistent. The rule ``tau = sqrt(2 log(n d))`` of the theory (clipping
almost never active) gives 5-10 times more noise at the sizes of the
benchmarks.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from scipy.special import ndtr

from ._accountant import PrivacyLeakWarning

__all__ = ["resolve_clip_x", "resolve_clip_y", "auto_clip", "THETA_NORM_BOUND"]

# ||theta*||_2 <= 1 on standardized data with Sigma ~ I (Var y = theta^T Sigma theta + noise <= 1)
THETA_NORM_BOUND = 1.0
_GRID = np.linspace(0.25, 8.0, 311)


def _normal_pdf(t):
    return np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)


def second_moment_clip_bias(tau):
    """``E[(Z^2 - tau^2)_+] = 2 [tau phi(tau) + (1 - tau^2) Q(tau)]`` for standard normal Z."""
    tau = np.asarray(tau, dtype=float)
    q = ndtr(-tau)
    return 2.0 * (tau * _normal_pdf(tau) + (1.0 - tau * tau) * q)


def first_moment_clip_bias(tau):
    """``E[(|Z| - tau)_+] = 2 [phi(tau) - tau Q(tau)]`` for standard normal Z."""
    tau = np.asarray(tau, dtype=float)
    return 2.0 * (_normal_pdf(tau) - tau * ndtr(-tau))


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
    proxy = (THETA_NORM_BOUND * second_moment_clip_bias(tx) + first_moment_clip_bias(ty)
             + scale * noise_std(tx, ty))
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
