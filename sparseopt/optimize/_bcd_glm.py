"""Sparse linear models solved by :class:`BlockCoordinateDescent` (``solver=`` of the estimators).

The estimators of :mod:`sparseopt.linear_model` prepare ``(X, y, penalty,
datafit)`` for :func:`~sparseopt.optimize.working_set_cd`; this module solves
the same problem with a block coordinate descent instance and reports the
same certificate, so that the two solvers are interchangeable.

Objective (scikit-learn's scale)::

    datafit(y, Xw) + sum_j lam_j |w_j| + (l2 / 2) ||w||^2

Multiplied by ``n`` it is BCD's ``f + psi``: least squares ``1/2||y - Xw||^2``
or the logistic loss summed over samples, plus ``psi = sum_j n lam_j |w_j|``
(``w >= 0`` when ``positive``). The ridge part of the elastic net is least
squares on the augmented design ``[X; sqrt(n l2) I]``, ``[y; 0]``. An
implicitly centred sparse design (``X_mean``) gets one unpenalised extra
column ``v`` (the row scaling, ones without sample weights): minimising over
its coefficient projects the residual off ``v``, which is exactly the
centring (``y`` is already centred).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._bcd_objectives import least_squares, logistic
from ._bcd_penalties import SeparablePenalty
from ._datafits import Quadratic
from ._penalties import L1
from ._result import SolverResult
from .working_set_cd import duality_gap

__all__ = ["bcd_linear_model"]


def _l1_l2(penalty, n_features):
    """Per-feature L1 weights and the ridge weight of an L1 / elastic-net penalty."""
    if not isinstance(penalty, L1):  # ElasticNetPenalty subclasses L1
        raise ValueError(
            f"solver=BlockCoordinateDescent supports the 'l1' and 'elasticnet' penalties "
            f"(separable, convex); got {getattr(penalty, 'name', type(penalty).__name__)!r}. "
            "Use solver='cd' for the others.")
    lam = penalty.alpha * getattr(penalty, "l1_ratio", 1.0) * penalty._w(n_features)
    return np.asarray(lam, dtype=np.float64), float(getattr(penalty, "l2", 0.0))


def bcd_linear_model(X, y, penalty, datafit, solver, *, w_init=None, X_mean=None,
                     row_scale=None, positive=False, tol=1e-4):
    """Solve ``datafit + penalty`` with ``solver`` (a BlockCoordinateDescent).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The design the estimator prepared (centred dense, or CSC with
        ``X_mean`` for implicit centring).
    y : ndarray of shape (n_samples,)
        Target (``{-1, 1}`` for the logistic datafit).
    penalty : L1 or ElasticNetPenalty
        From :mod:`sparseopt.optimize._penalties` (per-feature weights kept;
        weight 0 leaves a feature, e.g. an intercept column, unpenalised).
    datafit : Quadratic or Logistic
        Logistic with non-uniform sample weights is not supported (BCD's
        logistic objective is unweighted): ``ValueError``.
    solver : BlockCoordinateDescent
        Its ``max_iter`` / ``tol`` (a prox-gradient fixed-point residual)
        control the run.
    w_init : ndarray, optional
    X_mean, row_scale : ndarray, optional
        Implicit centring of a sparse least-squares design.
    positive : bool
    tol : float
        The estimator's tolerance, checked on the reported certificate: the
        relative duality gap ``n gap <= tol ||y||^2`` (least squares, as
        :func:`working_set_cd`) or the largest KKT violation (logistic).

    Returns
    -------
    SolverResult
        ``coef``, ``n_iter`` (BCD iterations), ``converged`` (the estimator's
        criterion), ``certificate``, ``certificate_name``, ``objective``,
        ``bcd`` (the solver's own result).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize import BlockCoordinateDescent
    >>> from sparseopt.optimize._bcd_glm import bcd_linear_model
    >>> from sparseopt.optimize._datafits import Quadratic
    >>> from sparseopt.optimize._penalties import L1
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 8)); y = 2 * X[:, 0] + 0.01 * rng.standard_normal(50)
    >>> bcd = BlockCoordinateDescent(selection="gsq", update="matrix", partition="variable",
    ...                              block_size=4, max_iter=500, tol=1e-12)
    >>> res = bcd_linear_model(X, y, L1(0.1), Quadratic(), bcd, tol=1e-10)
    >>> res.converged, np.flatnonzero(res.coef).tolist()
    (True, [0])
    """
    n, p = X.shape
    quadratic = isinstance(datafit, Quadratic)
    lam, l2 = _l1_l2(penalty, p)
    y64 = np.asarray(y, dtype=np.float64)
    sparse = sp.issparse(X)
    A = sp.csc_matrix(X, dtype=np.float64) if sparse else np.asarray(X, dtype=np.float64)
    alpha = n * lam
    extra = 0
    if quadratic:
        if sparse and X_mean is not None and np.any(X_mean):
            v = np.ones(n) if row_scale is None else np.asarray(row_scale, dtype=np.float64)
            A = sp.hstack([A, sp.csc_matrix(v[:, None])], format="csc")
            alpha = np.r_[alpha, 0.0]
            extra = 1
        target = y64
        if l2 > 0:
            ridge = np.sqrt(n * l2) * (sp.identity(p, format="csc") if sparse else np.eye(p))
            if extra:
                ridge = sp.hstack([ridge, sp.csc_matrix((p, 1))], format="csc")
            A = sp.vstack([A, ridge], format="csc") if sparse else np.vstack([A, ridge])
            target = np.r_[y64, np.zeros(p)]
        objective = least_squares(A, target)
    else:
        weights = getattr(datafit, "sample_weight", None)
        if weights is not None and not np.allclose(weights, np.mean(weights)):
            raise ValueError("solver=BlockCoordinateDescent does not support sample_weight "
                             "with the logistic loss; use solver='cd'.")
        if l2 > 0:
            raise ValueError("solver=BlockCoordinateDescent supports the logistic loss with "
                             "the 'l1' penalty only; use solver='cd' for the elastic net.")
        objective = logistic(A, y64)
    n_coords = p + extra
    if np.all(alpha == alpha[0]):
        alpha = float(alpha[0])
    lower = -np.inf
    if positive:  # the extra centring coefficient stays free
        lower = np.r_[np.zeros(p), np.full(extra, -np.inf)] if extra else 0.0
    psi = SeparablePenalty(alpha=alpha, lower=lower)
    x0 = np.zeros(n_coords)
    if w_init is not None:
        x0[:p] = np.maximum(w_init, 0) if positive else w_init
    result = solver.solve(objective, x0=x0, penalty=psi)
    x = np.asarray(result.x, dtype=np.float64)
    w = x[:p].copy()

    if quadratic:
        R = y64 - np.asarray(X @ w, dtype=np.float64).ravel()
        if extra:  # centring: project the residual off v (the optimal extra coefficient)
            R = R - v * (v @ R) / (v @ v)
        # X_c^T R = X^T R - X_mean (v^T R), and v^T R = 0 after the projection
        XtR = np.asarray(X.T @ R, dtype=np.float64).ravel()
        gap, primal, _, _ = duality_gap(y64, w, penalty, R, XtR, n, positive)
        converged = n * gap <= tol * float(y64 @ y64)
        certificate, name, value = gap, "duality gap", primal
    else:
        Xw = np.asarray(X @ w, dtype=np.float64).ravel()
        grad = np.asarray(X.T @ datafit.raw_gradient(y64, Xw), dtype=np.float64).ravel()
        col_sq = (np.asarray(A.multiply(A).sum(axis=0)).ravel() if sparse
                  else np.einsum("ij,ij->j", A, A))
        lipschitz = datafit.lipschitz(col_sq, n)
        kkt = penalty.subdiff_distance(w, grad, lipschitz, positive)
        certificate = float(np.max(kkt)) if kkt.size else 0.0
        converged = certificate <= tol
        name = "KKT violation"
        value = datafit.value(y64, Xw) + penalty.value(w)
    if solver.verbose:
        print(f"[bcd_linear_model] {result.n_iter} BCD iterations, {name} {certificate:.3e}")
    return SolverResult(x=w, coef=w, n_iter=int(result.n_iter), converged=bool(converged),
                        certificate=float(certificate), certificate_name=name, tol=tol,
                        objective=float(value), bcd=result)
