"""Shared pieces of the linear estimators.

One fit helper (:func:`fit_least_squares`: validation, namespace, centring and
weighting, one solver call per target), one result-to-attributes helper
(:func:`set_fit_attributes`) and the prediction mixins (``predict`` for
regressors, ``decision_function`` / ``predict_proba`` / ``predict`` for the
binary classifiers).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import (
    from_numpy,
    get_namespace_and_device,
    same_namespace_and_device,
    to_numpy,
)
from ..utils.validation import (
    check_finite_result,
    check_sample_weight,
    check_X,
    check_X_y,
    validate_params,
    warn_not_converged,
)


def solve_linear_model(est, X, y, penalty, datafit, *, w_init=None, X_mean=None,
                       row_scale=None, **cd_options):
    """The one dispatch point of the sparse linear estimators' ``fit``.

    ``est.solver == "cd"`` (or no ``solver``): working-set coordinate descent
    with the estimator's ``max_iter``, ``max_epochs``, ``tol``, ``p0``,
    ``verbose``; a :class:`~sparseopt.optimize.BlockCoordinateDescent`
    instance: :func:`sparseopt.optimize.bcd.bcd_linear_model` (a fresh
    copy of it, so the estimator's parameter is never modified; the
    estimator's ``verbose`` is passed on when the solver's is 0, and the
    history, which the estimator does not keep, records the last iteration
    only).
    """
    from sklearn.base import clone

    from ..optimize.bcd import bcd_linear_model
    from ..optimize.working_set_cd import working_set_cd

    solver = getattr(est, "solver", "cd")
    if isinstance(solver, str):
        return working_set_cd(X, y, penalty, datafit, w_init=w_init, X_mean=X_mean,
                              row_scale=row_scale, positive=est.positive,
                              max_iter=est.max_iter, max_epochs=est.max_epochs, tol=est.tol,
                              p0=est.p0, verbose=est.verbose, **cd_options)
    solver = clone(solver)
    if est.verbose and not solver.verbose:
        solver.set_params(verbose=est.verbose)
    # the estimator keeps no per-iteration history: F is not evaluated every iteration
    solver.set_params(record_every=max(1, solver.max_iter))
    return bcd_linear_model(X, y, penalty, datafit, solver, w_init=w_init,
                            X_mean=X_mean, row_scale=row_scale, positive=est.positive,
                            tol=est.tol, max_iter=est.max_iter)


class FitData:
    """What the per-target solve of a least-squares fit needs: the centred,
    row-weighted design (dense: copied; sparse: implicit centring through
    ``X_mean`` / ``row_scale``) and the original design ``X``."""

    def __init__(self, X, X_solver, X_offset, row_scale):
        self.X = X
        self.X_solver = X_solver
        self.sparse = sp.issparse(X_solver)
        self.X_offset = X_offset
        # implicit centring / row weights: only the sparse design needs them
        self.X_mean = X_offset if self.sparse else None
        self.row_scale = row_scale if self.sparse else None
        self.n_samples, self.n_features = X.shape


def fit_least_squares(est, X, y, sample_weight=None, *, multi_output=False, check_input=True):
    """The one ``fit`` of the penalised least-squares estimators.

    Validates ``X``, ``y`` (2-D ``y`` when ``multi_output``: one problem per
    column, as scikit-learn's ``ElasticNet``) and ``sample_weight`` (a scalar is
    a constant weight), moves array-API input to the host, centres and
    row-weights the data once (:func:`preprocess_data`) and calls
    ``est._solve_target(data, y_k, w_init_k)`` for every target ``y_k``; that
    method returns the solver result with ``coef`` in the original
    coordinates. Attributes are then set by :func:`set_fit_attributes`.

    ``check_input=False`` (scikit-learn's fast path) skips the conversion of
    ``X`` and ``y``; ``X`` must then already be a float32/float64 array or
    sparse matrix, and the solver still rejects wrong shapes and non-finite
    values before its compiled kernels run.
    """
    validate_params(est)
    xp, is_api, device = get_namespace_and_device(X)
    checked = check_input or not (isinstance(X, np.ndarray) or sp.issparse(X)) \
        or X.dtype not in (np.float32, np.float64)
    if checked:
        X, y = check_X_y(est, X, y, accept_sparse=("csc", "csr", "coo"), y_numeric=True,
                         multi_output=multi_output)
    else:
        est.n_features_in_ = X.shape[1]
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
            y = y.ravel()
    if is_api:  # documented host round-trip for the compiled kernel
        X, y = to_numpy(X), to_numpy(y)
    if not isinstance(getattr(est, "solver", "cd"), str):
        # BlockCoordinateDescent: a mostly-zero dense X follows the CSC path (see
        # sparseopt.optimize.bcd.sparse_design; finiteness checked there when the
        # checks above were skipped)
        from ..optimize.bcd.glm import sparse_design
        X = sparse_design(X, check_finite=not checked)
    X = X.tocsc() if sp.issparse(X) else X
    y = np.asarray(y, dtype=X.dtype)
    if y.ndim != 1 and not (multi_output and y.ndim == 2):
        raise ValueError(f"{type(est).__name__}: y must be 1-d"
                         f"{' or 2-d' if multi_output else ''}, got shape {y.shape}.")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{type(est).__name__}: X has {X.shape[0]} samples but y has "
                         f"{y.shape[0]}.")
    sample_weight = check_sample_weight(to_numpy(sample_weight), X)
    X_solver, y_solver, X_offset, y_offset, row_scale = preprocess_data(
        X, y, fit_intercept=est.fit_intercept, sample_weight=sample_weight)
    data = FitData(X, X_solver, X_offset, row_scale)
    Y = y_solver.reshape(X.shape[0], -1)
    offsets = np.atleast_1d(y_offset)
    w_init = est._warm_start_coef(Y.shape[1], X.shape[1], X.dtype)
    coefs, intercepts, results = [], [], []
    for k in range(Y.shape[1]):
        result = est._solve_target(data, np.ascontiguousarray(Y[:, k]),
                                   None if w_init is None else w_init[k])
        coef = np.asarray(result.coef, dtype=X.dtype)
        coefs.append(coef)
        intercepts.append(X.dtype.type(offsets[k] - X_offset @ coef) if est.fit_intercept
                          else X.dtype.type(0))
        results.append(result)
    coef, intercept = np.array(coefs), np.array(intercepts)
    if y.ndim == 1:
        coef, intercept = coef[0], intercept[0]
    elif y.shape[1] == 1:  # scikit-learn: a (n, 1) target gives coef_ (p,), intercept_ (1,)
        coef = coef[0]
    set_fit_attributes(est, results, coef, intercept, xp, is_api, device,
                       multi_target=y.ndim == 2 and y.shape[1] > 1)
    return est


def _n_iter(est, result):
    """``n_iter_`` of one solve, in the unit the estimator documents.

    ``_n_iter_counts = "epochs"`` (the scikit-learn-named estimators): coordinate
    descent epochs, scikit-learn's count (one epoch updates every coordinate of
    the current working set once; summed over the working-set subproblems).
    ``"outer"`` (skglm's count): outer working-set iterations. A
    ``BlockCoordinateDescent`` solver always reports its own iterations.
    """
    if getattr(est, "_n_iter_counts", "outer") == "epochs" and isinstance(
            getattr(est, "solver", "cd"), str) and "n_epochs" in result:
        return int(result.n_epochs)
    return int(result.n_iter)


def set_fit_attributes(est, results, coef, intercept, xp=None, is_api=False, device=None, *,
                       multi_target=False):
    """The one result-to-attributes step of the linear estimators.

    Checks the fitted values are finite, warns (``ConvergenceWarning``) for every
    target whose solve did not converge, then sets ``coef_``, ``intercept_`` (in
    X's namespace and device for array-API input), ``n_iter_`` (see
    :func:`_n_iter`), ``active_set_iter_``, ``converged_``, ``certificate_``,
    ``certificate_name_``, ``dual_gap_`` (None when the certificate is not a
    duality gap) and ``objective_``. With several targets the per-target values
    are lists (``n_iter_``) or arrays (``dual_gap_``, ``certificate_``,
    ``objective_``), as scikit-learn's multi-target ``ElasticNet``.
    """
    check_finite_result(type(est).__name__, coef, np.asarray(intercept))
    for result in results:
        warn_if_not_converged(est, result)
    if is_api:
        est.coef_ = from_numpy(coef, xp, device)
        est.intercept_ = from_numpy(np.asarray(intercept), xp, device)
    else:
        est.coef_ = coef
        est.intercept_ = intercept if np.ndim(intercept) else float(intercept)
    certificates = np.array([float(r.certificate) for r in results])
    gaps = [float(r.certificate) if r.certificate_name == "duality gap" else None
            for r in results]
    est.certificate_name_ = results[0].certificate_name
    est.converged_ = all(bool(r.converged) for r in results)
    if multi_target:
        est.n_iter_ = [_n_iter(est, r) for r in results]
        est.active_set_iter_ = [r.get("active_set_iter") for r in results]
        est.certificate_ = certificates
        est.dual_gap_ = None if None in gaps else np.array(gaps)
        est.objective_ = np.array([float(r.objective) for r in results])
    else:
        est.n_iter_ = _n_iter(est, results[0])
        est.active_set_iter_ = results[0].get("active_set_iter")
        est.certificate_ = float(certificates[0])
        est.dual_gap_ = gaps[0]
        est.objective_ = float(results[0].objective)
    return est


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
    kernel, which centres implicitly. ``y`` may be 2-D (one column per target):
    ``y_offset`` is then one offset per column.
    """
    dtype = X.dtype
    n = X.shape[0]
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=dtype)
    if fit_intercept:
        if sw is None:
            X_offset = np.asarray(X.mean(axis=0), dtype=dtype).ravel()
            y_offset = np.asarray(y.mean(axis=0), dtype=dtype)[()]
        else:
            X_offset = np.asarray(sw @ X, dtype=dtype).ravel() / sw.sum()
            y_offset = np.asarray(sw @ y / sw.sum(), dtype=dtype)[()]
    else:
        X_offset = np.zeros(X.shape[1], dtype=dtype)
        y_offset = np.zeros(y.shape[1:], dtype=dtype)[()]
    row_scale = None if sw is None else np.sqrt(sw)
    y_solver = y - y_offset
    if row_scale is not None:
        y_solver = y_solver * (row_scale if y.ndim == 1 else row_scale[:, None])
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
            coef = coef.T if coef.ndim == 2 else coef  # (n_targets, p): one column per target
            return X @ xp.astype(coef, X.dtype) + xp.astype(intercept, X.dtype)
        coef = to_numpy(self.coef_).astype(X.dtype, copy=False)
        out = np.asarray(X @ coef.T + np.asarray(to_numpy(self.intercept_), dtype=X.dtype))
        return out if coef.ndim == 2 else out.ravel()

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : array of shape (n_samples,) or (n_samples, n_targets)
            In X's namespace and on X's device.
        """
        return self._decision_function(X)


class LinearClassifierMixin(ClassifierMixin):
    """``decision_function``, ``predict_proba``, ``predict`` of the binary
    (logistic) classifiers from ``coef_`` of shape (1, n_features)."""

    def decision_function(self, X):
        """Signed distance ``X w + b`` (positive means ``classes_[1]``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : array of shape (n_samples,)
        """
        check_is_fitted(self, "coef_")
        same_namespace_and_device(self.coef_, X, f"{type(self).__name__}.decision_function()")
        xp, is_api, device = get_namespace_and_device(X)
        X = check_X(self, X, reset=False, accept_sparse=("csr", "csc", "coo"))
        Xn = to_numpy(X) if is_api else X
        coef = to_numpy(self.coef_).ravel().astype(Xn.dtype)
        out = np.asarray(Xn @ coef).ravel() + float(to_numpy(self.intercept_).ravel()[0])
        return from_numpy(out.astype(Xn.dtype), xp, device) if is_api else out

    def predict_proba(self, X):
        """Class probabilities, columns ordered as ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        d = np.asarray(to_numpy(self.decision_function(X)), dtype=float)
        p1 = np.exp(-np.logaddexp(0.0, -d))
        return np.column_stack([1 - p1, p1])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (computed stably).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, 2)
        """
        d = np.asarray(to_numpy(self.decision_function(X)), dtype=float)
        return np.column_stack([-np.logaddexp(0.0, d), -np.logaddexp(0.0, -d)])

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        d = np.asarray(to_numpy(self.decision_function(X)))
        return self.classes_[(d > 0).astype(int)]
