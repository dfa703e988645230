"""Duality gap of L1 / elastic-net logistic regression (celer's certificate).

Primal, with ``c_i = s_i / n`` (``s`` the sample weights) and ``z = Xw``::

    P(w) = sum_i c_i log(1 + exp(-y_i z_i))
           + sum_j (lam_j |w_j| + (l2 r_j / 2) w_j^2)

Fenchel dual over ``theta`` in R^n, writing ``rho_i = y_i theta_i / c_i``::

    D(theta) = sum_i c_i H(rho_i) - sum_j g_j^*(x_j^T theta),   0 <= rho_i <= 1,

``H(p) = -p log p - (1 - p) log(1 - p)`` the binary entropy (minus the
conjugate of the logistic loss) and ``g_j^*`` the conjugate of the
coordinate's penalty: ``(|v| - lam_j)_+^2 / (2 l2 r_j)`` with a ridge part,
else the constraint ``|v| <= lam_j`` (``v`` replaced by ``max(v, 0)`` with
``w >= 0``). An unpenalised coordinate (``lam_j = 0``, no ridge) imposes
``x_j^T theta = 0``.

Dual point (Fercoq, Gramfort & Salmon 2015; Massias, Gramfort & Salmon 2018):
the negative gradient of the loss, ``rho_i = sigma(-y_i z_i)``, which is
optimal at the solution. Unpenalised constant columns (the estimator's
intercept) need ``sum_i c_i y_i rho_i = 0``: the larger of the two class sums
is scaled down to the smaller (``rho`` stays in [0, 1]). Then ``rho`` is
scaled by ``t <= 1`` until every constraint ``|x_j^T theta| <= lam_j`` holds
(scaling keeps the intercept's equality). ``P(w) - D(theta) >= P(w) - P*``.
An unpenalised column that is not constant has no such repair: no gap then
(:func:`make_logistic_gap` returns None and the solver uses the KKT test).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import entr

from .datafits import Logistic

__all__ = ["LogisticGap", "make_logistic_gap", "logistic_duality_gap"]


def _constant_columns(X, cols):
    """Whether each column in ``cols`` is constant and non-zero (an intercept column)."""
    out = []
    for j in cols:
        col = X[:, [j]].toarray().ravel() if sp.issparse(X) else np.asarray(X[:, j])
        out.append(col.size > 0 and col[0] != 0 and bool(np.all(col == col[0])))
    return np.array(out, dtype=bool)


class LogisticGap:
    """Duality gap of ``Logistic(s) + L1 / ElasticNetPenalty`` (see the module docstring).

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels in {-1, 1}.
    sample_weight : ndarray of shape (n_samples,)
    penalty : L1 or ElasticNetPenalty
    n_features : int
    positive : bool
    intercept : bool
        Some unpenalised columns are constant (their constraint is enforced by
        balancing the two class sums); every other unpenalised column must be absent.
    """

    def __init__(self, y, sample_weight, penalty, n_features, positive=False, intercept=False):
        self.y = np.asarray(y, dtype=np.float64)
        n = self.y.shape[0]
        self.c = np.asarray(sample_weight, dtype=np.float64) / n
        self.penalty = penalty
        _, lam, ridge, l2 = penalty.kernel_arrays(n_features, np.dtype(np.float64))
        self.lam = np.asarray(lam, dtype=np.float64)
        self.ridge = float(l2) * np.asarray(ridge, dtype=np.float64)  # l2 r_j
        self.constrained = (self.ridge == 0) & (self.lam > 0)
        self.smooth = self.ridge > 0
        self.positive = positive
        self.intercept = intercept
        self.pos = self.y > 0
        self.f0 = float(np.sum(self.c)) * np.log(2.0)  # the loss at w = 0

    def _class_factors(self, rho):
        """Factors of the two classes' ``rho`` that balance ``sum_i c_i y_i rho_i`` to 0."""
        if not self.intercept:
            return 1.0, 1.0
        a = float(self.c[self.pos] @ rho[self.pos])
        b = float(self.c[~self.pos] @ rho[~self.pos])
        return (b / a, 1.0) if a > b else ((1.0, a / b) if b > a else (1.0, 1.0))

    def dual_rho(self, z):
        """``rho`` of the dual point at ``z = Xw`` and whether it differs from ``sigma(-y z)``."""
        rho = np.exp(-np.logaddexp(0.0, self.y * np.asarray(z, dtype=np.float64)))
        k_pos, k_neg = self._class_factors(rho)
        rho[self.pos] *= k_pos
        rho[~self.pos] *= k_neg
        return rho, (k_pos, k_neg) != (1.0, 1.0)

    def neg_grad_and_dual(self, rmatvec, dtype, z):
        """``(-grad f(w), X^T theta, rho)`` from one pass over the design (two columns: the
        classes' parts of ``theta``, so that the balanced dual point costs no second pass).

        ``rmatvec(T)`` is ``X^T T`` for a vector or an (n, 2) array ``T`` of ``dtype`` (the
        solver's design, implicitly centred for CSC X).
        """
        rho0 = np.exp(-np.logaddexp(0.0, self.y * np.asarray(z, dtype=np.float64)))
        theta0 = self.theta(rho0)
        k_pos, k_neg = self._class_factors(rho0)
        if (k_pos, k_neg) == (1.0, 1.0):
            neg_grad = np.asarray(rmatvec(theta0.astype(dtype))).ravel()
            return neg_grad, neg_grad, rho0
        T = np.zeros((theta0.size, 2), dtype=dtype)
        T[self.pos, 0] = theta0[self.pos]
        T[~self.pos, 1] = theta0[~self.pos]
        U = np.asarray(rmatvec(T), dtype=np.float64)
        rho = rho0.copy()
        rho[self.pos] *= k_pos
        rho[~self.pos] *= k_neg
        return U.sum(axis=1).astype(dtype), U @ np.array([k_pos, k_neg]), rho

    def theta(self, rho):
        return self.c * self.y * rho

    def gap(self, z, w, v, rho, cols=None):
        """``(gap, primal, dual)`` at ``w`` (``z = Xw``) with ``v = X^T theta(rho)``.

        ``cols``: ``v`` holds only these coordinates (the working set): the gap of
        the problem restricted to them (the other coordinates are 0 in ``w``).
        """
        z = np.asarray(z, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        primal = float(self.c @ np.logaddexp(0.0, -self.y * z)) + self.penalty.value(w)
        lam, ridge, cons, smooth = self.lam, self.ridge, self.constrained, self.smooth
        if cols is not None:
            lam, ridge, cons, smooth = lam[cols], ridge[cols], cons[cols], smooth[cols]
        v = np.asarray(v, dtype=np.float64)
        a = np.maximum(v, 0.0) if self.positive else np.abs(v)
        t = 1.0
        if np.any(cons):
            worst = float(np.max(a[cons] / lam[cons]))
            if worst > 1.0:
                t = 1.0 / worst
        rt = t * rho
        dual = float(self.c @ (entr(rt) + entr(1.0 - rt)))
        if np.any(smooth):
            excess = np.maximum(t * a[smooth] - lam[smooth], 0.0)
            dual -= float(np.sum(excess ** 2 / (2.0 * ridge[smooth])))
        return max(primal - dual, 0.0), primal, dual


def make_logistic_gap(X, y, datafit, penalty, positive=False):
    """A :class:`LogisticGap` for this problem, or None when it has no gap certificate.

    Needs an L1 or elastic-net penalty (``has_gap``, not grouped) whose unpenalised
    coordinates (``lam_j = 0`` and no ridge part) are constant columns.
    """
    if not getattr(penalty, "has_gap", False) or getattr(penalty, "grouped", False):
        return None
    n, p = X.shape
    _, lam, ridge, l2 = penalty.kernel_arrays(p, np.dtype(np.float64))
    free = np.flatnonzero((np.asarray(lam) == 0) & (float(l2) * np.asarray(ridge) == 0))
    if free.size and not np.all(_constant_columns(X, free)):
        return None
    return LogisticGap(y, datafit.weights(n), penalty, p, positive, intercept=bool(free.size))


def logistic_duality_gap(X, y, w, penalty, sample_weight=None, positive=False):
    """Duality gap of logistic regression with an L1 / elastic-net penalty at ``w``.

    ``(1/n) sum_i s_i log(1 + exp(-y_i x_i^T w)) + penalty(w)``, ``y`` in {-1, 1}.
    Independent of the solver: any ``w`` (from scikit-learn, skglm, ...) can be
    certified. Unpenalised coordinates must be constant columns (an intercept).

    Returns
    -------
    gap, primal, dual : float

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize._logistic_gap import logistic_duality_gap
    >>> from sparseopt.optimize.penalties import L1
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]); y = np.array([1.0, -1.0, -1.0])
    >>> gap, primal, dual = logistic_duality_gap(X, y, np.zeros(2), L1(10.0))
    >>> round(gap, 12)
    0.0
    """
    X64 = sp.csc_matrix(X, dtype=np.float64) if sp.issparse(X) else np.asarray(X, np.float64)
    gap_obj = make_logistic_gap(X64, y, Logistic(sample_weight), penalty, positive)
    if gap_obj is None:
        raise ValueError("logistic_duality_gap: unpenalised coordinates must be constant "
                         "columns (an intercept), and the penalty L1 or elastic net.")
    z = np.asarray(X64 @ np.asarray(w, dtype=np.float64)).ravel()
    rho, _ = gap_obj.dual_rho(z)
    v = np.asarray(X64.T @ gap_obj.theta(rho)).ravel()
    return gap_obj.gap(z, w, v, rho)
