"""Sparse logistic regression with ``C`` (``alpha``) and ``l1_ratio`` chosen by cross-validation."""
from __future__ import annotations

import numbers
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.multiclass import type_of_target

from ..utils._array_api import to_numpy
from ..utils.validation import (
    Interval,
    check_sample_weight,
    check_X_y,
    validate_params,
)
from ._base import LinearClassifierMixin
from .path import _check_alphas, _split_params, _SplitterRoutingMixin
from .sparse_regression import SparseLogisticRegression

__all__ = ["SparseLogisticRegressionCV"]


class _EpochCountingLogistic(SparseLogisticRegression):
    """The fold fits: ``n_iter_`` in CD epochs (the unit of scikit-learn's ``n_iter_``)."""

    _n_iter_counts = "epochs"


def _fold_path(est, X, y, train, test, sample_weight, alphas_or_Cs, use_Cs, l1_ratio,
               scoring, progress):
    """Warm-started path (decreasing alpha) on one training fold, scored on its test fold.

    Returns ``(scores, coefs, n_iters)`` of shapes (n_grid,), (n_grid, n_dof), (n_grid,).
    """
    start = time.perf_counter()
    sw = None if sample_weight is None else sample_weight[train]
    # scikit-learn's C multiplies the (weighted) sum of training losses; ours is a mean
    total = train.size if sw is None else float(sw.sum())
    grid = 1.0 / (np.asarray(alphas_or_Cs) * total) if use_Cs else np.asarray(alphas_or_Cs)
    order = np.argsort(-grid)  # from the sparsest model: warm starts along the path
    est = clone(est).set_params(l1_ratio=l1_ratio, warm_start=True)
    scorer = check_scoring(est, scoring=scoring)
    scores = np.empty(grid.size)
    coefs = np.empty((grid.size, X.shape[1] + int(est.fit_intercept)))
    n_iters = np.empty(grid.size, dtype=int)
    for i in order:
        est.set_params(alpha=float(grid[i])).fit(X[train], y[train], sample_weight=sw)
        scores[i] = scorer(est, X[test], y[test])
        coef = np.ravel(est.coef_)
        coefs[i] = np.concatenate([coef, np.ravel(est.intercept_)]) if est.fit_intercept \
            else coef
        n_iters[i] = est.n_iter_
    owner, verbose, label = progress
    if verbose:
        j = int(np.argmax(scores))
        print(f"[{owner}] {label} done in {time.perf_counter() - start:.2f} s: "
              f"{grid.size} values, best alpha {grid[j]:.4g} (score {scores[j]:.4g})",
              flush=True)
    return scores, coefs, n_iters


class SparseLogisticRegressionCV(LinearClassifierMixin, _SplitterRoutingMixin, BaseEstimator):
    """Binary L1 / elastic-net logistic regression with ``C`` chosen by cross-validation.

    scikit-learn's ``LogisticRegressionCV`` for the L1 and elastic-net penalties,
    on the working-set CD solver of :class:`SparseLogisticRegression`: for every
    fold and ``l1_ratio``, a warm-started path over the grid (from the
    strongest penalty), scored on the held-out fold; the best mean score picks
    ``C_`` / ``alpha_`` and ``l1_ratio_``.

    The objective is scikit-learn's ``C sum_i s_i log(1 + exp(-y_i (x_i^T w + b)))
    + l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2``, i.e. that of
    :class:`SparseLogisticRegression` with ``alpha = 1 / (C sum_i s_i)`` (the
    training fold's size for unit weights); the intercept is not penalised.

    Parameters
    ----------
    Cs : int, array-like of float or None, default=None
        Inverse regularisation strengths; an int gives ``np.logspace(-4, 4, Cs)``
        (scikit-learn's grid). None (and ``alphas`` None): ``alphas=10``.
        scikit-learn's default ``Cs=10`` spans ``C`` up to 1e4, unpenalised fits
        for standardized data (slow, and not sparse, on separable classes): the
        default here is the sparse range of the path instead; pass ``Cs=10``
        for scikit-learn's grid.
    alphas : int, array-like or None, default=None
        Instead of ``Cs``, a grid of :class:`SparseLogisticRegression`'s
        ``alpha`` (the same value on every fold); an int gives a geometric grid
        of that size from ``alpha_max`` (the smallest alpha whose L1 solution
        is 0, on the full data) down to ``eps * alpha_max``.
    l1_ratios : array-like of float in (0, 1], default=(1.0,)
        The L1 / L2 mixes to cross-validate (1: the L1 penalty). ``0`` (pure
        ridge) is not a sparse model: use scikit-learn's ``LogisticRegressionCV``.
    eps : float, default=1e-2
        ``alpha_min / alpha_max`` of an int ``alphas`` grid.
    fit_intercept : bool, default=True
        As :class:`SparseLogisticRegression` (features far off centre, dense or
        sparse, are centred for every fold fit).
    cv : int, CV splitter or iterable, optional
        Stratified 5-fold by default (scikit-learn's ``check_cv`` for classifiers).
    scoring : str, callable or None, default=None
        A scikit-learn scorer name or callable; None: accuracy (scikit-learn's
        current default).
    n_jobs : int, optional
        (fold, l1_ratio) paths in parallel with joblib.
    refit : bool, default=True
        True: refit on all the data with the best mean-score ``C`` and
        ``l1_ratio``. False: average over the folds the coefficients, ``C`` and
        ``l1_ratio`` of each fold's best score (scikit-learn's rule).
    tol : float, default=1e-4
        As :class:`SparseLogisticRegression` (duality gap relative to ``f(0)``).
    max_iter : int, default=50
        Outer working-set iterations of every fit.
    max_epochs : int, default=50000
    positive : bool, default=False
    verbose : int, default=0
        Print one line per fold path and the chosen values.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    Cs_ : ndarray of shape (n_cs,)
        The grid as ``C`` values, increasing (for an ``alphas`` grid:
        ``1 / (alpha sum_i s_i)``).
    alphas_ : ndarray of shape (n_cs,)
        The same grid as ``alpha`` values on the full data
        (``1 / (C sum_i s_i)``), decreasing.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    C_, alpha_, l1_ratio_ : float
        The selected values (fold averages with ``refit=False``).
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, 1, n_dof)
        Fold coefficients (``n_dof = n_features + 1`` with the intercept, last).
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        Coordinate descent epochs of every fold fit (scikit-learn's layout with
        ``use_legacy_attributes=False``).
    n_features_in_ : int

    See Also
    --------
    SparseLogisticRegression
    sklearn.linear_model.LogisticRegressionCV : same parameters and attributes
        (with ``use_legacy_attributes=False``).

    References
    ----------
    Friedman, Hastie and Tibshirani (2010). Regularization paths for
    generalized linear models via coordinate descent. Journal of Statistical
    Software 33(1).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import SparseLogisticRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((120, 8)); y = (X[:, 0] - X[:, 1] > 0).astype(int)
    >>> clf = SparseLogisticRegressionCV(Cs=[0.01, 0.1, 1, 10, 100], cv=3).fit(X, y)
    >>> clf.scores_.shape, clf.score(X, y) > 0.9
    ((3, 1, 5), True)
    """

    _parameter_constraints = {
        "Cs": [Interval(numbers.Integral, 1, None, closed="left"), "array-like", None],
        "alphas": [Interval(numbers.Integral, 1, None, closed="left"), "array-like", None],
        "l1_ratios": ["array-like"],
        "eps": [Interval(numbers.Real, 0, 1, closed="neither")],
        "fit_intercept": ["boolean"],
        "cv": [Interval(numbers.Integral, 2, None, closed="left"), object, None],
        "scoring": [str, "callable", None],
        "n_jobs": [numbers.Integral, None],
        "refit": ["boolean"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "positive": ["boolean"],
        "verbose": ["verbose"],
    }
    # moderate C: the check data are nearly separable, where C = 1e4 is a slow unpenalised fit
    _test_params = [{"Cs": [0.01, 0.1, 1.0], "cv": 3, "tol": 1e-6},
                    {"Cs": [0.1, 1.0], "cv": 3, "tol": 1e-6, "l1_ratios": (0.5, 1.0),
                     "refit": False}]
    _expected_failed_checks = {
        "check_sample_weight_equivalence_on_dense_data": (
            "Repeating rows changes the cross-validation folds, hence the selected C; "
            "scikit-learn's LogisticRegressionCV has the same property."),
        "check_sample_weight_equivalence_on_sparse_data": (
            "Repeating rows changes the cross-validation folds, hence the selected C; "
            "scikit-learn's LogisticRegressionCV has the same property."),
    }

    def __init__(self, Cs=None, *, alphas=None, l1_ratios=(1.0,), eps=1e-2, fit_intercept=True,
                 cv=None, scoring=None, n_jobs=None, refit=True, tol=1e-4, max_iter=50,
                 max_epochs=50_000, positive=False, verbose=0):
        self.Cs = Cs
        self.alphas = alphas
        self.l1_ratios = l1_ratios
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.tol = tol
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.positive = positive
        self.verbose = verbose

    def _base_estimator(self, cls=SparseLogisticRegression):
        return cls(alpha=1.0, fit_intercept=self.fit_intercept, tol=self.tol,
                   max_iter=self.max_iter, max_epochs=self.max_epochs, positive=self.positive)

    def _l1_ratio_grid(self):
        ratios = np.atleast_1d(np.asarray(self.l1_ratios, dtype=float)).ravel()
        if ratios.size == 0 or np.any(~np.isfinite(ratios)) or np.any((ratios <= 0) | (ratios > 1)):
            raise ValueError(f"{type(self).__name__}: l1_ratios must be in (0, 1] (0, pure "
                             "ridge, is not sparse: use sklearn's LogisticRegressionCV), got "
                             f"{self.l1_ratios!r}.")
        return ratios

    def _grid(self, X, y, sw):
        """``(values, use_Cs)``: the ``Cs`` grid, or the ``alphas`` grid when given."""
        alphas = 10 if self.alphas is None and self.Cs is None else self.alphas
        if alphas is None:
            if isinstance(self.Cs, numbers.Integral):
                return np.logspace(-4, 4, int(self.Cs)), True
            Cs = np.asarray(self.Cs, dtype=float).ravel()
            if Cs.size == 0 or not np.all(np.isfinite(Cs)) or np.any(Cs <= 0):
                raise ValueError(f"{type(self).__name__}: Cs must be positive and finite, "
                                 f"got {self.Cs!r}.")
            return Cs, True
        if not isinstance(alphas, numbers.Integral):
            return _check_alphas(alphas, type(self).__name__), False
        # alpha_max of the L1 problem on the full data: the fit at a huge alpha is the
        # intercept-only model, whose alpha_max the estimator reports for alpha="auto"
        probe = SparseLogisticRegression(alpha="auto", fit_intercept=self.fit_intercept,
                                         tol=self.tol, positive=self.positive)
        probe.fit(X, y, sample_weight=sw)
        alpha_max = probe.alpha_ * 10  # alpha="auto" is 0.1 alpha_max
        return np.geomspace(alpha_max, alpha_max * self.eps, int(alphas)), False

    def fit(self, X, y, sample_weight=None, groups=None, **params):
        """Fit the fold paths, choose ``C_`` (``alpha_``) and ``l1_ratio_``, refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two classes.
        sample_weight : float or array-like of shape (n_samples,), optional
        groups : array-like of shape (n_samples,), optional
            Group labels for a group splitter (``cv=GroupKFold(...)``).
        **params : dict
            With scikit-learn's metadata routing enabled, metadata routed to the
            splitter's ``split`` (as scikit-learn's ``LogisticRegressionCV``).

        Returns
        -------
        self : object
        """
        validate_params(self)
        split_params = _split_params(self, groups, params)
        X, y = check_X_y(self, X, y, accept_sparse=("csr", "csc", "coo"), y_numeric=False)
        X = X.tocsr() if hasattr(X, "tocsr") else to_numpy(X)
        y = np.asarray(to_numpy(y))
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target != "binary":
            raise ValueError("Only binary classification is supported. The type of the target "
                             f"is {target}.")
        self.classes_ = np.unique(y)
        sw = None if sample_weight is None else check_sample_weight(
            to_numpy(sample_weight), X, rescale=False)
        l1_ratios = self._l1_ratio_grid()
        values, use_Cs = self._grid(X, y, sw)
        cv = check_cv(self.cv, y, classifier=True)
        folds = list(cv.split(X, y, **split_params))
        base = self._base_estimator(_EpochCountingLogistic)
        owner = type(self).__name__
        out = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_path)(base, X, y, train, test, sw, values, use_Cs, float(r),
                                self.scoring,
                                (owner, self.verbose, f"fold {i + 1}/{len(folds)}, "
                                                      f"l1_ratio={r:g}"))
            for i, (train, test) in enumerate(folds) for r in l1_ratios)
        n_folds, n_l1, n_grid = len(folds), l1_ratios.size, values.size
        scores = np.array([o[0] for o in out]).reshape(n_folds, n_l1, n_grid)
        coefs = np.array([o[1] for o in out]).reshape(n_folds, n_l1, n_grid, 1, -1)
        self.n_iter_ = np.array([o[2] for o in out]).reshape(n_folds, n_l1, n_grid)
        self.scores_, self.coefs_paths_ = scores, coefs
        total = X.shape[0] if sw is None else float(sw.sum())
        self.Cs_ = values if use_Cs else 1.0 / (values * total)
        self.alphas_ = 1.0 / (values * total) if use_Cs else values
        self.l1_ratios_ = l1_ratios
        p = X.shape[1]
        if self.refit:
            l1_best, best = np.unravel_index(int(np.argmax(scores.mean(axis=0))), (n_l1, n_grid))
            self.C_, self.l1_ratio_ = float(self.Cs_[best]), float(l1_ratios[l1_best])
            self.alpha_ = 1.0 / (self.C_ * total)
            final = self._base_estimator().set_params(alpha=self.alpha_, l1_ratio=self.l1_ratio_)
            final.fit(X, y, sample_weight=sw)
            self.coef_, self.intercept_ = final.coef_, final.intercept_
        else:
            flat = scores.reshape(n_folds, -1).argmax(axis=1)
            l1_idx, idx = np.unravel_index(flat, (n_l1, n_grid))
            self.C_ = float(np.mean(self.Cs_[idx]))
            self.l1_ratio_ = float(np.mean(l1_ratios[l1_idx]))
            self.alpha_ = 1.0 / (self.C_ * total)
            w = np.mean([coefs[k, l1_idx[k], idx[k], 0] for k in range(n_folds)], axis=0)
            self.coef_ = w[None, :p].astype(X.dtype)
            self.intercept_ = np.array([w[p] if self.fit_intercept else 0.0], dtype=X.dtype)
        if self.verbose:
            print(f"[{owner}] C_ = {self.C_:.4g} (alpha_ = {self.alpha_:.4g}), l1_ratio_ = "
                  f"{self.l1_ratio_:g}", flush=True)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = False
        tags.array_api_support = False
        return tags
