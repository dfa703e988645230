"""Datafits for sparse regression: least squares and logistic loss.

Protocol: ``value(y, Xw)``, ``raw_gradient(y, Xw)`` (derivative with respect to
``Xw``, so that ``grad f(w) = X^T raw_gradient``), ``lipschitz(col_sq_norms, n)``
(coordinatewise constants ``L_j``) and ``global_lipschitz(spectral_sq, n)``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Quadratic", "Logistic", "DATAFITS"]


class Quadratic:
    """``(1 / 2n) ||y - Xw||^2``."""

    name = "quadratic"
    curvature = 1.0

    def __repr__(self):
        return "Quadratic()"

    def value(self, y, Xw):
        r = y - Xw
        return float(r @ r) / (2 * y.shape[0])

    def raw_gradient(self, y, Xw):
        return (Xw - y) / y.shape[0]

    def lipschitz(self, col_sq_norms, n):
        return col_sq_norms / n

    def global_lipschitz(self, spectral_sq, n):
        return spectral_sq / n


class Logistic:
    """``(1/n) sum_i s_i log(1 + exp(-y_i x_i^T w))`` with ``y`` in {-1, 1}, weights ``s`` (default 1)."""

    name = "logistic"
    curvature = 0.25

    def __init__(self, sample_weight=None):
        self.sample_weight = sample_weight

    def __repr__(self):
        if self.sample_weight is None:
            return "Logistic()"
        return f"Logistic(sample_weight={np.asarray(self.sample_weight).tolist()!r})"

    def weights(self, n, dtype=np.float64):
        if self.sample_weight is None:
            return np.ones(n, dtype)
        return np.ascontiguousarray(self.sample_weight, dtype=dtype)

    def value(self, y, Xw):
        return float(np.mean(self.weights(y.shape[0]) * np.logaddexp(0.0, -y * Xw)))

    def raw_gradient(self, y, Xw):
        # -s y / (1 + exp(y Xw)) / n, written with logaddexp to avoid overflow
        return -self.weights(y.shape[0]) * y * np.exp(-np.logaddexp(0.0, y * Xw)) / y.shape[0]

    def lipschitz(self, col_sq_norms, n):
        # col_sq_norms are already weighted when sample weights are used (see the design)
        return col_sq_norms / (4 * n)

    def global_lipschitz(self, spectral_sq, n):
        s_max = 1.0 if self.sample_weight is None else float(np.max(self.sample_weight))
        return s_max * spectral_sq / (4 * n)


DATAFITS = {"quadratic": Quadratic, "logistic": Logistic}
