"""Regularisation paths and cross-validation for every registered penalty.

``sparse_path`` solves a decreasing geometric grid of ``alpha`` warm-starting
the coefficients (the pathwise coordinate descent of Friedman, Hastie and
Tibshirani 2010); ``LassoCV`` / ``ElasticNetCV`` / ``SparseLinearRegressionCV``
run one path per fold (and ``l1_ratio``) in parallel (joblib ``n_jobs``), pick
the alpha with the smallest mean held-out MSE and refit on all the data.
"""
from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metadata_routing import _routing_enabled

from ..optimize.datafits import Quadratic
from ..optimize.penalties import LHalf, LTwoThirds, L0, SEF
from ..optimize.working_set_cd import PathCache
from ..optimize.working_set_cd import (_as_float_vector, check_design, column_sq_norms,
                                       working_set_cd)
from ..utils._array_api import from_numpy, get_namespace_and_device, to_numpy
from ..utils.validation import (
    Interval,
    StrOptions,
    check_sample_weight,
    check_X_y,
    validate_params,
)
from ._base import LinearPredictorMixin, preprocess_data
from .lasso import PRECOMPUTE_CONSTRAINT, ElasticNet, Lasso
from .sparse_regression import _COMMON_CONSTRAINTS, SparseLinearRegression, _PenalizedBase

__all__ = ["sparse_path", "ElasticNetCV", "LassoCV", "SparseLinearRegressionCV"]

# penalties for which w = 0 is always a local minimiser: anchor the grid at the L1 value
_NO_ALPHA_MAX = (LHalf, LTwoThirds, L0, SEF)


def _free_features(penalty_template, p):
    """Indices of the unpenalised features (weight 0) of a penalty template."""
    if getattr(penalty_template, "grouped", False):
        if not hasattr(penalty_template, "group_ptr"):
            penalty_template.bind(p)
        free_groups = np.flatnonzero(penalty_template.gw == 0)
        return np.flatnonzero(np.isin(penalty_template.feature_group, free_groups))
    weights = getattr(penalty_template, "weights", None)
    if weights is None:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(np.asarray(weights, dtype=float).ravel() == 0)


def _residual_after_free_fit(X, y, free, X_mean=None, row_scale=None, positive=False):
    """``y - X_U u`` with ``u`` the least-squares fit of the unpenalised columns
    (``u >= 0`` with ``positive``): the residual at the solution for alpha >= alpha_max."""
    y = np.asarray(y, dtype=np.float64)
    if free.size == 0:
        return y
    XU = X[:, free]
    if sp.issparse(X):
        XU = XU.toarray()
        if X_mean is not None:
            v = np.ones(X.shape[0]) if row_scale is None else np.asarray(row_scale, float)
            XU = XU - np.outer(v, X_mean[free])
    XU = np.asarray(XU, dtype=np.float64)
    if positive:
        from scipy.optimize import lsq_linear

        u = lsq_linear(XU, y, bounds=(0, np.inf), method="bvls").x
    else:
        u = np.linalg.lstsq(XU, y, rcond=None)[0]
    return y - XU @ u


def _alpha_max(penalty_template, X, y, X_mean=None, row_scale=None, positive=False):
    """Smallest alpha with a zero penalised part at the solution (w = 0 a KKT point for the
    nonconvex penalties): from ``X^T R / n`` where ``R`` is the residual after fitting the
    unpenalised features (exact for weighted L1 and the group lasso; the elastic net's
    ridge on unpenalised features is left out of that fit), one-sided with ``positive``."""
    n, p = X.shape
    y = _residual_after_free_fit(X, y, _free_features(penalty_template, p), X_mean, row_scale,
                                 positive)
    if sp.issparse(X) and X_mean is not None:
        v = np.ones(n) if row_scale is None else row_scale
        Xty = np.asarray(X.T @ y).ravel() - X_mean * float(v @ y)
    else:
        Xty = np.asarray(X.T @ y).ravel()
    neg_grad0 = Xty / n
    if positive:  # only positive correlations can move a coefficient away from 0
        neg_grad0 = np.maximum(neg_grad0, 0.0)
    if isinstance(penalty_template, _NO_ALPHA_MAX) or getattr(penalty_template, "name", "") == "l0":
        return float(np.max(np.abs(neg_grad0)))
    if getattr(penalty_template, "cel0_lambda", None) is not None:
        # lam_j = a_j sqrt(2 lam) >= |x_j^T y| / n  <=>  lam >= max_j (|x_j^T y|/(n a_j))^2 / 2
        a = np.sqrt(column_sq_norms(X, X_mean, row_scale) / n)
        ok = a > 0
        return float(np.max((np.abs(neg_grad0[ok]) / a[ok]) ** 2) / 2) if np.any(ok) else 0.0
    return float(penalty_template.alpha_max(neg_grad0, positive))


_PATH_PENALTY_PARAMS = ("gamma", "l1_ratio", "log_eps", "k", "nonconvex", "groups",
                        "group_weights", "weights")


def _check_alphas(alphas, owner):
    """A 1-d, non-empty, finite, non-negative grid (a negative alpha makes CD diverge)."""
    try:
        if np.asarray(alphas).dtype.kind not in "fiub":
            raise TypeError
        arr = np.asarray(alphas, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: alphas must be an int or an array of floats, got "
                         f"{alphas!r}.") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{owner}: alphas must be non-empty, finite and >= 0, got "
                         f"{np.asarray(alphas).tolist()!r}.")
    return np.sort(arr)[::-1]


def _check_path_data(X, y, X_mean, row_scale):
    """Validate ``sparse_path``'s data: 2-d real finite X (CSC for sparse, float64 for other
    dtypes than float32/64), finite y of length n_samples, the centring vectors."""
    X = check_design(X, "sparse_path")
    n, p = X.shape
    y = _as_float_vector(y, "y", n, X.dtype, owner="sparse_path")
    for name, vec, size in (("X_mean", X_mean, p), ("row_scale", row_scale, n)):
        if vec is not None:
            _as_float_vector(vec, name, size, np.float64, owner="sparse_path")
    return X, y


def sparse_path(X, y, *, penalty="l1", alphas=100, eps=1e-3, X_mean=None, row_scale=None,
                tol=1e-4, max_iter=50, max_epochs=50_000, p0=10, positive=False, verbose=0,
                **penalty_params):
    """Solutions along a decreasing grid of ``alpha``, warm-started.

    The objective is least squares ``(1/2n)||y - Xw||^2 + penalty`` with no
    intercept (centre ``X`` and ``y`` first, or pass ``X_mean`` for sparse X).

    Parameters
    ----------
    X : {ndarray, CSC matrix, array-API array} of shape (n_samples, n_features)
        With scikit-learn's ``array_api_dispatch`` on, a torch / CuPy /
        array-api-strict array (``y`` in the same namespace and on the same
        device) is copied to the host explicitly for the compiled coordinate
        descent, and ``alphas``, ``coefs`` and ``certificates`` are returned
        in X's namespace and on its device: a host round-trip, not a native
        path (the solver is compiled).
    y : ndarray of shape (n_samples,)
    penalty : str or penalty object, default="l1"
        A registered name (see :class:`SparseLinearRegression`) or an object from
        :mod:`sparseopt.optimize.penalties` (its ``alpha`` is replaced).
    alphas : int or array-like, default=100
        Number of alphas on the geometric grid ``alpha_max -> eps alpha_max``,
        or the values themselves (sorted decreasingly).
    eps : float, default=1e-3
    X_mean, row_scale : ndarray, optional
        Implicit centring of sparse X.
    tol, max_iter, max_epochs, p0, positive, verbose
        Passed to :func:`sparseopt.optimize.working_set_cd` at every alpha.
    **penalty_params
        ``gamma``, ``l1_ratio``, ``log_eps`` (log-sum offset), ``k``, ``nonconvex``,
        ``groups``, ``group_weights``, ``weights``, as :class:`SparseLinearRegression`
        (only with a penalty name). Any other keyword raises ``TypeError``.

    Notes
    -----
    ``alpha_max`` is computed from the residual after a least-squares fit of the
    unpenalised features (``weights`` 0; with ``positive`` a non-negative fit and
    only positive correlations), so that the first point of the grid is the
    solution with every penalised coefficient at 0.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    certificates : ndarray of shape (n_alphas,)
        Duality gap (1/n units) or KKT violation at each alpha.
    info : dict
        ``n_iter``, ``converged`` per alpha, ``certificate_name``, ``alpha_max``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import sparse_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 30)); y = X[:, 0] - 2 * X[:, 1]
    >>> alphas, coefs, gaps, info = sparse_path(X, y, alphas=5, tol=1e-8)
    >>> coefs.shape, bool(np.all(coefs[:, 0] == 0))
    ((30, 5), True)
    """
    xp, is_api, device = get_namespace_and_device(X, y)
    if is_api:
        # explicit host copies for the compiled solver; the results go back to X's device
        X, y, X_mean, row_scale = (to_numpy(a) for a in (X, y, X_mean, row_scale))
        if not isinstance(alphas, numbers.Integral):
            alphas = to_numpy(alphas)
        alphas, coefs, certificates, info = sparse_path(
            X, y, penalty=penalty, alphas=alphas, eps=eps, X_mean=X_mean, row_scale=row_scale,
            tol=tol, max_iter=max_iter, max_epochs=max_epochs, p0=p0, positive=positive,
            verbose=verbose, **penalty_params)
        # contiguous: torch takes no negative strides (the grid is a reversed view)
        return (*(from_numpy(np.ascontiguousarray(a), xp, device)
                  for a in (alphas, coefs, certificates)), info)
    unknown = sorted(set(penalty_params) - set(_PATH_PENALTY_PARAMS))
    if unknown:
        raise TypeError(f"sparse_path() got unexpected keyword argument(s) {unknown}; the "
                        f"penalty parameters are {list(_PATH_PENALTY_PARAMS)}.")
    if not isinstance(penalty, str) and penalty_params:
        raise TypeError("sparse_path: penalty parameters "
                        f"{sorted(penalty_params)} apply to a penalty name only; set them on "
                        "the penalty object.")
    if not (isinstance(eps, numbers.Real) and np.isfinite(eps) and 0 < eps <= 1):
        raise ValueError(f"sparse_path: eps must be in (0, 1], got {eps!r}.")
    if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"sparse_path: alphas must be >= 1 when an int, got {alphas}.")
    else:
        alphas = _check_alphas(alphas, "sparse_path")
    X, y = _check_path_data(X, y, X_mean, row_scale)
    dtype = X.dtype
    n, p = X.shape
    if isinstance(penalty, str):
        params = dict(penalty_params)
        if "log_eps" in params:  # the log-sum offset (``eps`` is the grid ratio here)
            params["eps"] = params.pop("log_eps")
        est = SparseLinearRegression(penalty=penalty, alpha=1.0,
                                     **{k: v for k, v in params.items()
                                        if k in SparseLinearRegression._parameter_constraints})
        template = est._build_penalty(p, column_sq_norms(X, X_mean, row_scale) / n)
    else:
        template = penalty
    alpha_max = _alpha_max(template, X, y, X_mean, row_scale, positive)
    if isinstance(alphas, numbers.Integral):
        alphas = np.geomspace(alpha_max, alpha_max * eps, int(alphas)) if alpha_max > 0 \
            else np.zeros(int(alphas))
    coefs = np.zeros((p, alphas.size), dtype=dtype)
    certificates = np.zeros(alphas.size)
    n_iters, converged = [], []
    w = np.zeros(p, dtype)
    gram = None
    if not sp.issparse(X) and n > 2 * p and p <= 2000 and dtype == np.float64:
        gram = np.asfortranarray(X.T @ X)  # computed once for the whole path
    name = "duality gap"
    cache = PathCache()  # design preprocessing shared by every alpha
    for i, alpha in enumerate(alphas):
        pen = _with_alpha(template, alpha)
        res = working_set_cd(X, y, pen, Quadratic(), w_init=w, X_mean=X_mean, row_scale=row_scale,
                             positive=positive, max_iter=max_iter, max_epochs=max_epochs,
                             tol=tol, p0=p0, gram_matrix=gram, cache=cache, verbose=verbose)
        w = np.asarray(res.coef, dtype=dtype)
        coefs[:, i] = w
        certificates[i] = res.certificate
        n_iters.append(res.n_iter)
        converged.append(res.converged)
        name = res.certificate_name
    return alphas, coefs, certificates, {"n_iter": n_iters, "converged": converged,
                                         "certificate_name": name, "alpha_max": alpha_max}


def _with_alpha(template, alpha):
    if getattr(template, "cel0_lambda", None) is not None:
        pen = template.with_alpha(1.0)
        ratio = np.sqrt(alpha / template.cel0_lambda) if template.cel0_lambda > 0 else 0.0
        pen.weights = np.asarray(template.weights) * ratio
        pen.cel0_lambda = alpha
        return pen
    return template.with_alpha(alpha)


def _fold_mse(X, y, train, test, sample_weight, fit_intercept, alphas, path_kwargs,
              y_scale=1.0, progress=None):
    """Path on the training fold, held-out MSE at every alpha (weighted by the test
    fold's ``sample_weight``, as scikit-learn's ``LassoCV``), in units of ``y_scale^2``
    (a power of two: the errors of a huge ``y`` are compared without overflow).

    ``progress = (owner, verbose, label)`` prints one line per fold (``verbose >= 1``)
    and one per alpha (``verbose >= 2``)."""
    start = time.perf_counter()
    X_tr, y_tr = X[train], y[train]
    sw = None if sample_weight is None else sample_weight[train] * (train.size / sample_weight[train].sum())
    X_s, y_s, X_off, y_off, row_scale = preprocess_data(X_tr, y_tr, fit_intercept=fit_intercept,
                                                        sample_weight=sw)
    sparse = sp.issparse(X_tr)
    _, coefs, _, info = sparse_path(X_s, y_s, alphas=alphas, X_mean=X_off if sparse else None,
                                    row_scale=row_scale if sparse else None, **path_kwargs)
    intercepts = y_off - X_off @ coefs
    pred = np.asarray(X[test] @ coefs) + intercepts
    sw_test = None if sample_weight is None else sample_weight[test]
    if sw_test is not None and sw_test.sum() <= 0:
        sw_test = None  # a test fold of zero-weight rows: fall back to the plain mean
    mse = np.average(((pred - y[test][:, None]) / y_scale) ** 2, axis=0, weights=sw_test)
    if progress is not None and progress[1]:
        owner, verbose, label = progress
        if verbose >= 2:
            for j, alpha in enumerate(alphas):
                print(f"[{owner}] {label}, alpha {j + 1}/{len(alphas)} = {alpha:.4g}: held-out "
                      f"MSE {mse[j] * y_scale ** 2:.4g}, {int(np.count_nonzero(coefs[:, j]))} "
                      f"nonzero, {info['n_iter'][j]} iterations", flush=True)
        j = int(np.argmin(mse))
        print(f"[{owner}] {label} done in {time.perf_counter() - start:.2f} s: "
              f"{len(alphas)} alphas, best alpha {alphas[j]:.4g} (held-out MSE "
              f"{mse[j] * y_scale ** 2:.4g})", flush=True)
    return mse


def _split_params(est, groups, params):
    """Keyword arguments of ``cv.split``: ``groups`` (and any other metadata) routed to
    the splitter with scikit-learn's metadata routing when it is enabled, passed as
    ``groups`` otherwise (other metadata then raise, as in scikit-learn)."""
    if groups is not None:
        params = {**params, "groups": groups}
    if _routing_enabled():
        return process_routing(est, "fit", **params).splitter.split
    unknown = sorted(set(params) - {"groups"})
    if unknown:
        raise ValueError(
            f"{type(est).__name__}.fit got unexpected argument(s) {unknown}: metadata other "
            "than groups is routed to the CV splitter only with "
            "sklearn.set_config(enable_metadata_routing=True).")
    return params


class _SplitterRoutingMixin:
    """``get_metadata_routing`` of the CV estimators: ``fit`` -> the splitter's ``split``."""

    def get_metadata_routing(self):
        """Metadata routing: ``fit`` routes to the CV splitter's ``split`` (as scikit-learn).

        Returns
        -------
        routing : MetadataRouter
        """
        return (MetadataRouter(owner=self).add_self_request(self)
                .add(splitter=check_cv(self.cv),
                     method_mapping=MethodMapping().add(caller="fit", callee="split")))


class _CVMixin(_SplitterRoutingMixin):
    """The one ``fit`` of the cross-validated least-squares estimators.

    One warm-started path per (fold, ``l1_ratio``), in parallel (joblib
    ``n_jobs``); the (alpha, l1_ratio) with the smallest mean held-out MSE is
    refit on all the data by ``self._final_estimator(alpha, l1_ratio)``.
    Subclasses give ``_penalty_kwargs()`` (the path's penalty) and
    ``_l1_ratios()`` (``[None]`` without an ``l1_ratio`` grid).
    """

    def _l1_ratios(self):
        return [None]

    def fit(self, X, y, sample_weight=None, groups=None, **params):
        """Fit the path on each fold, choose ``alpha_``, refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : float or array-like of shape (n_samples,), optional
            Non-negative weights (rescaled to sum to ``n_samples``); the
            held-out errors are weighted by the test fold's weights.
        groups : array-like of shape (n_samples,), optional
            Group labels for a group splitter (``cv=GroupKFold(...)``).
        **params : dict
            With ``sklearn.set_config(enable_metadata_routing=True)``, metadata
            routed to the CV splitter's ``split`` (``groups`` included), as in
            scikit-learn.

        Returns
        -------
        self : object
        """
        validate_params(self)
        split_params = _split_params(self, groups, params)
        X, y = check_X_y(self, X, y, accept_sparse=("csc", "csr", "coo"), y_numeric=True)
        X = sp.csc_matrix(X) if sp.issparse(X) else to_numpy(X)
        y = np.asarray(to_numpy(y), dtype=X.dtype)
        sw = check_sample_weight(to_numpy(sample_weight), X)
        # the grid comes from the full (weighted) data so that every fold shares it
        X_s, y_s, X_off, _, row_scale = preprocess_data(X, y, fit_intercept=self.fit_intercept,
                                                        sample_weight=sw)
        sparse = sp.issparse(X)
        l1_ratios = self._l1_ratios()
        path_kwargs = [{**self._penalty_kwargs(), "tol": self.tol, "max_iter": self.max_iter,
                        "positive": self.positive,
                        **({} if r is None else {"l1_ratio": float(r)})} for r in l1_ratios]
        if isinstance(self.alphas, numbers.Integral):
            if any(r is not None and r == 0 for r in l1_ratios):
                raise ValueError(
                    "Automatic alpha grid generation is not supported for l1_ratio=0 (the "
                    "ridge limit has no alpha_max). Please supply a grid by providing your "
                    "estimator with the appropriate `alphas=` argument.")
            grids = np.array([self._grid(X_s, y_s, X_off if sparse else None,
                                         row_scale if sparse else None, kw)
                              for kw in path_kwargs])
        else:
            grids = np.tile(_check_alphas(self.alphas, type(self).__name__), (len(l1_ratios), 1))
        cv = check_cv(self.cv)
        folds = list(cv.split(X, y, **split_params))
        y_max = float(np.max(np.abs(y), initial=0.0))
        y_scale = 2.0 ** int(np.round(np.log2(y_max))) if y_max > 0 else 1.0
        owner = type(self).__name__

        def label(i, r):
            return f"fold {i + 1}/{len(folds)}" + ("" if r is None else f", l1_ratio={r:g}")

        mse = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_mse)(X, y, train, test, sw, self.fit_intercept, grid, kw, y_scale,
                               (owner, self.verbose, label(i, r)))
            for r, grid, kw in zip(l1_ratios, grids, path_kwargs)
            for i, (train, test) in enumerate(folds))
        # (n_l1_ratios, n_alphas, n_folds)
        mse = np.moveaxis(np.reshape(mse, (len(l1_ratios), len(folds), -1)), 2, 1)
        with np.errstate(over="ignore"):  # not representable beyond |y| ~ 1e154: inf
            mse_path = mse * y_scale * y_scale
        if np.all(np.isfinite(mse)) and not np.all(np.isfinite(mse_path)):
            warnings.warn(f"{owner}: with |y| ~ {y_scale:.1e} the held-out mean "
                          "squared errors are not representable in float64 and mse_path_ "
                          "reads inf; alpha_ was chosen on the errors divided by "
                          f"{y_scale:.1e}^2 (exact).", RuntimeWarning, stacklevel=2)
        # first (largest alpha, first l1_ratio) among ties, as scikit-learn; on the scaled
        # errors: no overflow
        mean = mse.mean(axis=2)
        best_l1, best = np.unravel_index(int(np.argmin(mean)), mean.shape)
        self.mse_path_ = mse_path[0] if len(l1_ratios) == 1 else mse_path
        self.alphas_ = grids[0] if len(l1_ratios) == 1 or not isinstance(
            self.alphas, numbers.Integral) else grids
        self.alpha_ = float(grids[best_l1, best])
        if l1_ratios[0] is not None:
            self.l1_ratio_ = l1_ratios[best_l1]
        if self.verbose:
            print(f"[{owner}] best alpha {self.alpha_:.4g}"
                  + ("" if l1_ratios[0] is None else f", l1_ratio {self.l1_ratio_:g}")
                  + f" (mean held-out MSE {mean[best_l1, best] * y_scale ** 2:.4g}); "
                  "refitting on all the data", flush=True)
        final = self._final_estimator(self.alpha_, l1_ratios[best_l1]).fit(
            X, y, sample_weight=sw)
        self.coef_ = final.coef_
        self.intercept_ = final.intercept_
        self.n_iter_ = final.n_iter_
        self.estimator_ = final
        self.dual_gap_ = getattr(final, "dual_gap_", None)
        return self

    def _grid(self, X_s, y_s, X_mean, row_scale, path_kwargs):
        n, p = X_s.shape
        kw = {k: v for k, v in path_kwargs.items()
              if k not in ("tol", "max_iter", "positive")}
        if "log_eps" in kw:
            kw["eps"] = kw.pop("log_eps")
        template = SparseLinearRegression(**kw)._build_penalty(
            p, column_sq_norms(X_s, X_mean, row_scale) / n)
        alpha_max = _alpha_max(template, X_s, y_s, X_mean, row_scale,
                               path_kwargs.get("positive", False))
        return np.geomspace(alpha_max, alpha_max * self.eps, int(self.alphas)) if alpha_max > 0 \
            else np.full(int(self.alphas), 1e-12)


class LassoCV(_CVMixin, LinearPredictorMixin, BaseEstimator):
    """Lasso with alpha chosen by cross-validation (one warm-started path per fold).

    Parameters
    ----------
    eps : float, default=1e-3
        ``alpha_min / alpha_max``.
    alphas : int or array-like, default=100
        Grid size (geometric from ``alpha_max``) or the grid itself.
    fit_intercept : bool, default=True
    max_iter : int, default=50
    tol : float, default=1e-4
    cv : int, CV splitter or iterable, optional
        scikit-learn's ``cv`` (5-fold by default).
    n_jobs : int, optional
        Folds run in parallel with joblib.
    positive : bool, default=False
    verbose : int, default=0
        ``1``: one line per fold (time, best alpha of the fold) and the chosen
        alpha; ``2``: also one line per alpha of every fold (held-out MSE,
        nonzeros, iterations).
    precompute, copy_X, random_state, selection
        scikit-learn's parameters, passed to the final :class:`Lasso` (see
        :class:`ElasticNet`); the fold paths reuse one Gram matrix per fold
        when ``n_samples > 2 n_features``, whatever ``precompute``.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
        From ``alpha_max`` of the full (weighted, centred) data: ``max_j |x_j^T y| / n``
        (``max_j x_j^T y / n`` with ``positive``), as scikit-learn's ``LassoCV``.
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean squared error, weighted by the test fold's ``sample_weight``
        (the training folds' weights are rescaled to sum to their size).
    coef_, intercept_, dual_gap_
    n_iter_ : int
        Coordinate descent epochs of the refit (scikit-learn's count, see
        :class:`ElasticNet`).
    estimator_ : Lasso
        The refit on all the data.

    Notes
    -----
    ``fit(X, y, sample_weight, groups=...)`` passes ``groups`` to the CV
    splitter (e.g. ``GroupKFold``); with scikit-learn's metadata routing
    enabled, metadata are routed as in scikit-learn's ``LassoCV``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import LassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 20)); y = X[:, 0] + 0.1 * rng.standard_normal(80)
    >>> reg = LassoCV(alphas=10, cv=3).fit(X, y)
    >>> int(np.argmax(np.abs(reg.coef_)))
    0
    """

    _parameter_constraints = {
        "eps": [Interval(numbers.Real, 0, 1, closed="neither")],
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "cv": [Interval(numbers.Integral, 2, None, closed="left"), object, None],
        "n_jobs": [numbers.Integral, None],
        "positive": ["boolean"],
        "verbose": ["verbose"],
        "precompute": PRECOMPUTE_CONSTRAINT,
        "copy_X": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
    }
    _test_params = {"alphas": 5, "cv": 3, "tol": 1e-6}
    _expected_failed_checks = {
        "check_sample_weight_equivalence_on_dense_data": (
            "Repeating rows changes the cross-validation folds, hence the selected alpha; "
            "scikit-learn's LassoCV has the same property."),
        "check_sample_weight_equivalence_on_sparse_data": (
            "Repeating rows changes the cross-validation folds, hence the selected alpha; "
            "scikit-learn's LassoCV has the same property."),
    }

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, max_iter=50, tol=1e-4,
                 cv=None, n_jobs=None, positive=False, verbose=0, precompute="auto",
                 copy_X=True, random_state=None, selection="cyclic"):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.n_jobs = n_jobs
        self.positive = positive
        self.verbose = verbose
        self.precompute = precompute
        self.copy_X = copy_X
        self.random_state = random_state
        self.selection = selection

    def _penalty_kwargs(self):
        return {"penalty": "l1"}

    def _final_estimator(self, alpha, l1_ratio=None):
        params = dict(alpha=alpha, fit_intercept=self.fit_intercept, max_iter=self.max_iter,
                      tol=self.tol, positive=self.positive, precompute=self.precompute,
                      copy_X=self.copy_X, random_state=self.random_state,
                      selection=self.selection)
        if l1_ratio is None:
            return Lasso(**params)
        return ElasticNet(l1_ratio=l1_ratio, **params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class SparseLinearRegressionCV(_CVMixin, LinearPredictorMixin, _PenalizedBase):
    """:class:`SparseLinearRegression` with alpha chosen by cross-validation.

    Parameters
    ----------
    penalty : str or penalty object, default="l1"
        As :class:`SparseLinearRegression`.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` (for l_q, L0 and SEF the grid is anchored at the
        L1 ``alpha_max``).
    alphas : int or array-like, default=30
    cv : int, CV splitter or iterable, optional
    n_jobs : int, optional
    gamma, l1_ratio, log_eps, k, nonconvex, groups, group_weights, weights, fit_intercept, \
max_iter, tol, positive, verbose
        As :class:`SparseLinearRegression` (``log_eps`` is its ``eps``).

    Attributes
    ----------
    alpha_, alphas_, mse_path_, coef_, intercept_, n_iter_, estimator_

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import SparseLinearRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 20)); y = 2 * X[:, 3] + 0.1 * rng.standard_normal(80)
    >>> reg = SparseLinearRegressionCV(penalty="mcp", alphas=8, cv=3).fit(X, y)
    >>> int(np.argmax(np.abs(reg.coef_))), reg.mse_path_.shape
    (3, (8, 3))
    """

    _parameter_constraints = {
        **{k: v for k, v in _COMMON_CONSTRAINTS.items()
           if k not in ("alpha", "eps", "warm_start", "max_epochs", "p0")},
        "eps": [Interval(numbers.Real, 0, 1, closed="neither")],
        "log_eps": [Interval(numbers.Real, 0, None, closed="neither")],
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like"],
        "cv": [Interval(numbers.Integral, 2, None, closed="left"), object, None],
        "n_jobs": [numbers.Integral, None],
    }
    _test_params = [{"alphas": 5, "cv": 3, "tol": 1e-6},
                    {"penalty": "mcp", "alphas": 5, "cv": 3, "tol": 1e-6}]
    _expected_failed_checks = LassoCV._expected_failed_checks

    def __init__(self, penalty="l1", *, eps=1e-3, alphas=30, cv=None, n_jobs=None, gamma=None,
                 l1_ratio=0.5, log_eps=1.0, k=1, nonconvex=False, groups=None,
                 group_weights=None, weights=None, fit_intercept=True, max_iter=50, tol=1e-4,
                 positive=False, verbose=0):
        self.penalty = penalty
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.n_jobs = n_jobs
        self.gamma = gamma
        self.l1_ratio = l1_ratio
        self.log_eps = log_eps
        self.k = k
        self.nonconvex = nonconvex
        self.groups = groups
        self.group_weights = group_weights
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.positive = positive
        self.verbose = verbose

    def _penalty_kwargs(self):
        return {"penalty": self.penalty, "gamma": self.gamma, "l1_ratio": self.l1_ratio,
                "log_eps": self.log_eps, "k": self.k, "nonconvex": self.nonconvex,
                "groups": self.groups, "group_weights": self.group_weights,
                "weights": self.weights}

    def _final_estimator(self, alpha, l1_ratio=None):
        params = self._penalty_kwargs()
        params["eps"] = params.pop("log_eps")
        return SparseLinearRegression(alpha=alpha, fit_intercept=self.fit_intercept,
                                      max_iter=self.max_iter, tol=self.tol,
                                      positive=self.positive, **params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = False  # the CV loop runs on NumPy arrays
        return tags




class ElasticNetCV(LassoCV):
    """Elastic net with alpha (and ``l1_ratio``) chosen by cross-validation.

    The objective of :class:`ElasticNet`; one warm-started path per fold and
    per ``l1_ratio``, the pair with the smallest mean held-out MSE refit on all
    the data (scikit-learn's ``ElasticNetCV``).

    Parameters
    ----------
    l1_ratio : float or array-like of floats, default=0.5
        The mix between L1 (1) and L2 (0), or a grid of them to cross-validate
        (scikit-learn suggests ``[.1, .5, .7, .9, .95, .99, 1]``). ``0`` (the
        ridge limit) needs an explicit ``alphas`` grid: with an int ``alphas``
        it raises ``ValueError``, as scikit-learn (there is no ``alpha_max``).
    eps : float, default=1e-3
        ``alpha_min / alpha_max``.
    alphas : int or array-like, default=100
        Grid size (geometric from ``alpha_max = max_j |x_j^T y| / (n l1_ratio)``,
        one grid per ``l1_ratio``) or the grid itself (shared).
    fit_intercept, max_iter, tol, cv, n_jobs, positive, verbose, precompute, copy_X, \
random_state, selection
        As :class:`LassoCV`.

    Attributes
    ----------
    alpha_ : float
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        2-D for an int ``alphas`` and several ``l1_ratio`` (as scikit-learn).
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    coef_, intercept_, dual_gap_, n_iter_, estimator_
        As :class:`LassoCV` (``estimator_`` is an :class:`ElasticNet`).

    See Also
    --------
    sklearn.linear_model.ElasticNetCV : same parameters and attributes.

    References
    ----------
    Zou and Hastie (2005). Regularization and variable selection via the
    elastic net. Journal of the Royal Statistical Society B 67(2).

    Friedman, Hastie and Tibshirani (2010). Regularization paths for
    generalized linear models via coordinate descent. Journal of Statistical
    Software 33(1).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import ElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 10)); y = X[:, 0] + 0.1 * rng.standard_normal(80)
    >>> reg = ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3).fit(X, y)
    >>> reg.mse_path_.shape, reg.alphas_.shape, int(np.argmax(np.abs(reg.coef_)))
    ((2, 10, 3), (2, 10), 0)
    """

    _parameter_constraints = {
        **LassoCV._parameter_constraints,
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both"), "array-like"],
    }
    _test_params = [{"alphas": 5, "cv": 3, "tol": 1e-6},
                    {"l1_ratio": [0.5, 1.0], "alphas": 4, "cv": 3, "tol": 1e-6}]

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 precompute="auto", max_iter=50, tol=1e-4, cv=None, copy_X=True, verbose=0,
                 n_jobs=None, positive=False, random_state=None, selection="cyclic"):
        super().__init__(eps=eps, alphas=alphas, fit_intercept=fit_intercept,
                         max_iter=max_iter, tol=tol, cv=cv, n_jobs=n_jobs, positive=positive,
                         verbose=verbose, precompute=precompute, copy_X=copy_X,
                         random_state=random_state, selection=selection)
        self.l1_ratio = l1_ratio

    def _l1_ratios(self):
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=float)).ravel()
        if ratios.size == 0 or np.any(~np.isfinite(ratios)) or np.any((ratios < 0) | (ratios > 1)):
            raise ValueError(f"{type(self).__name__}: l1_ratio must be in [0, 1], got "
                             f"{self.l1_ratio!r}.")
        return list(np.atleast_1d(self.l1_ratio).ravel())

    def _penalty_kwargs(self):
        return {"penalty": "elasticnet"}
