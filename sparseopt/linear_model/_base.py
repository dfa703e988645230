"""Shared pieces of the linear estimators: centring/weighting and ``predict``."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import (
    from_numpy,
    get_namespace_and_device,
    same_namespace_and_device,
    to_numpy,
)
from ..utils.validation import check_X, warn_not_converged


def solve_linear_model(est, X, y, penalty, datafit, *, w_init=None, X_mean=None,
                       row_scale=None):
    """The one dispatch point of the sparse linear estimators' ``fit``.

    ``est.solver == "cd"`` (or no ``solver``): working-set coordinate descent
    with the estimator's ``max_iter``, ``max_epochs``, ``tol``, ``p0``,
    ``verbose``; a :class:`~sparseopt.optimize.BlockCoordinateDescent`
    instance: :func:`sparseopt.optimize._bcd_glm.bcd_linear_model` (a fresh
    copy of it, so the estimator's parameter is never modified; the
    estimator's ``verbose`` is passed on when the solver's is 0, and the
    history, which the estimator does not keep, records the last iteration
    only).
    """
    from sklearn.base import clone

    from ..optimize._bcd_glm import bcd_linear_model
    from ..optimize.working_set_cd import working_set_cd

    solver = getattr(est, "solver", "cd")
    if isinstance(solver, str):
        return working_set_cd(X, y, penalty, datafit, w_init=w_init, X_mean=X_mean,
                              row_scale=row_scale, positive=est.positive,
                              max_iter=est.max_iter, max_epochs=est.max_epochs, tol=est.tol,
                              p0=est.p0, verbose=est.verbose)
    solver = clone(solver)
    if est.verbose and not solver.verbose:
        solver.set_params(verbose=est.verbose)
    # the estimator keeps no per-iteration history: F is not evaluated every iteration
    solver.set_params(record_every=max(1, solver.max_iter))
    return bcd_linear_model(X, y, penalty, datafit, solver, w_init=w_init,
                            X_mean=X_mean, row_scale=row_scale, positive=est.positive,
                            tol=est.tol)


def warn_if_not_converged(est, result):
    """``ConvergenceWarning`` naming why the solver stopped (max_iter, precision, divergence).

    The tolerance shown is the one the certificate was compared with (``tol`` scaled
    to the problem by the solver, see :func:`~sparseopt.optimize.working_set_cd`).
    """
    if result.converged:
        return
    threshold = float(result.get("threshold", est.tol))
    advice = result.get("advice") or "Consider increasing max_iter or the tolerance."
    if threshold != est.tol:
        advice = f"(tol={est.tol:g}, scaled to this problem.) " + advice
    warn_not_converged(type(est).__name__, n_iter=result.n_iter, certificate=result.certificate,
                       tol=threshold, certificate_name=result.certificate_name, advice=advice)


def preprocess_data(X, y, *, fit_intercept, sample_weight=None):
    """Centre and row-weight (X, y) without touching the caller's arrays.

    Returns ``X_solver, y_solver, X_offset, y_offset, row_scale`` where the
    least-squares problem on ``(X_solver, y_solver)`` equals the weighted,
    centred one. Dense X is copied (Fortran order, ready for the kernels).
    Sparse X is not centred: ``X_offset`` and ``row_scale`` are passed to the
    kernel, which centres implicitly (spec section 1).
    """
    dtype = X.dtype
    n = X.shape[0]
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=dtype)
    if fit_intercept:
        if sw is None:
            X_offset = np.asarray(X.mean(axis=0), dtype=dtype).ravel()
            y_offset = dtype.type(y.mean())
        else:
            X_offset = np.asarray(sw @ X, dtype=dtype).ravel() / sw.sum()
            y_offset = dtype.type(sw @ y / sw.sum())
    else:
        X_offset = np.zeros(X.shape[1], dtype=dtype)
        y_offset = dtype.type(0)
    row_scale = None if sw is None else np.sqrt(sw)
    y_solver = y - y_offset
    if row_scale is not None:
        y_solver = y_solver * row_scale
    if sp.issparse(X):
        X_solver = sp.csc_matrix(X, dtype=dtype, copy=True)
        if row_scale is not None:
            X_solver = sp.csc_matrix(sp.diags(row_scale) @ X_solver)
        return X_solver, np.ascontiguousarray(y_solver, dtype=dtype), X_offset, y_offset, (
            row_scale if row_scale is not None else np.ones(n, dtype=dtype))
    X_solver = np.array(X, dtype=dtype, order="F", copy=True)
    if fit_intercept:
        X_solver -= X_offset
    if row_scale is not None:
        X_solver *= row_scale[:, None]
    return X_solver, np.ascontiguousarray(y_solver, dtype=dtype), X_offset, y_offset, row_scale


class LinearPredictorMixin(RegressorMixin):
    """``predict`` for fitted ``coef_``/``intercept_``, following X's namespace."""

    def _decision_function(self, X):
        check_is_fitted(self, "coef_")
        same_namespace_and_device(self.coef_, X, f"{type(self).__name__}.predict()")
        xp, is_api, device = get_namespace_and_device(X)
        X = check_X(self, X, reset=False, accept_sparse=self.__sklearn_tags__().input_tags.sparse
                    and ("csr", "csc", "coo"))
        if is_api:
            coef = from_numpy(to_numpy(self.coef_), xp, device)
            intercept = from_numpy(np.asarray(to_numpy(self.intercept_)), xp, device)
            return X @ xp.astype(coef, X.dtype) + xp.astype(intercept, X.dtype)
        coef = to_numpy(self.coef_).astype(X.dtype, copy=False)
        out = X @ coef + np.asarray(to_numpy(self.intercept_), dtype=X.dtype)
        return np.asarray(out).ravel()

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : array of shape (n_samples,)
            In X's namespace and on X's device.
        """
        return self._decision_function(X)
