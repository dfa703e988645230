"""Lasso and elastic net on the working-set coordinate-descent solver."""
from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from ..optimize._datafits import Quadratic
from ..optimize.bcd import BlockCoordinateDescent
from ..optimize.working_set_cd import _enet_penalty
from ..utils._array_api import from_numpy, get_namespace_and_device, mark_host_roundtrip, to_numpy
from ..utils.validation import (
    Interval,
    StrOptions,
    check_finite_result,
    check_sample_weight,
    check_X_y,
    validate_params,
    warn_not_converged,
)
from ._base import LinearPredictorMixin, preprocess_data, solve_linear_model

__all__ = ["ElasticNet", "Lasso"]


class ElasticNet(LinearPredictorMixin, BaseEstimator):
    """Linear regression with combined L1 and L2 penalties, solved by working-set CD.

    Minimises scikit-learn's objective::

        (1 / (2 n_samples)) ||y - Xw||^2_2 + alpha * l1_ratio * ||w||_1
            + 0.5 * alpha * (1 - l1_ratio) * ||w||^2_2

    Parameters
    ----------
    alpha : float, default=1.0
        Overall penalty strength, ``alpha >= 0``. The default is scikit-learn's,
        kept for drop-in compatibility (it can exceed ``alpha_max`` on
        standardized ``y``: the all-zero model).
    l1_ratio : float, default=0.5
        Mix between L1 (1) and L2 (0), in ``[0, 1]``.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept (X and y are centred; sparse X implicitly).
    max_iter : int, default=50
        Maximum outer working-set iterations (each one solves a subproblem
        with compiled CD epochs).
    max_epochs : int, default=50000
        Maximum CD epochs per working-set subproblem.
    tol : float, default=1e-4
        Stop when ``n_samples * dual_gap <= tol * ||y||^2`` (scikit-learn's
        relative criterion).
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    p0 : int, default=10
        Initial working-set size.
    verbose : int, default=0
        Print the duality gap at each outer iteration.
    solver : "cd" or BlockCoordinateDescent, default="cd"
        ``"cd"``: working-set coordinate descent (``max_iter``,
        ``max_epochs`` and ``p0`` apply). A
        :class:`~sparseopt.optimize.BlockCoordinateDescent` instance solves
        the same problem by block coordinate descent (its own ``max_iter``
        and ``tol``, a prox-gradient fixed-point residual, control the run;
        the ridge part is least squares on the augmented design
        ``[X; sqrt(n l2) I]``; sparse X with ``fit_intercept`` gets an
        unpenalised centring column). The estimator's ``tol`` is then checked
        on the reported duality gap and a ``ConvergenceWarning`` says when it
        is not reached; ``n_iter_`` counts BCD iterations and ``verbose`` is
        passed on. BCD runs in float64; ``coef_`` has X's dtype.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients, in X's namespace and device.
    intercept_ : float or 0-d array
    dual_gap_ : float
        Duality gap at the solution, in the objective's (1/n) units.
    n_iter_ : int
        Outer working-set iterations run (block coordinate descent
        iterations with a ``BlockCoordinateDescent`` solver).
    active_set_iter_ : int or None
        With a ``BlockCoordinateDescent`` solver, the last BCD iteration at
        which the set of coefficients at zero (or at the bound, with
        ``positive``) changed; None with ``solver="cd"``.
    converged_ : bool
        Whether ``tol`` was reached (on the duality gap, for either solver).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string feature names.

    See Also
    --------
    Lasso : the ``l1_ratio=1`` special case.
    sklearn.linear_model.ElasticNet : same objective and parameter names.

    Notes
    -----
    X is never modified: dense X is copied once to Fortran order for the
    kernels. float32 input is solved in float32. Non-NumPy arrays (torch,
    array-api-strict) are copied to the host for the compiled kernel, and the
    coefficients are moved back to X's namespace and device
    (``array_api_host_roundtrip`` tag).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import ElasticNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 8))
    >>> y = X @ np.array([2.0, -1.0, 0, 0, 0, 0, 0, 0]) + 0.01 * rng.standard_normal(100)
    >>> reg = ElasticNet(alpha=0.05, l1_ratio=0.9).fit(X, y)
    >>> np.flatnonzero(reg.coef_).tolist()
    [0, 1]
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "p0": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "solver": [StrOptions({"cd"}), BlockCoordinateDescent],
    }
    _test_params = {"tol": 1e-6}

    # positional order of skglm's ElasticNet (scikit-learn's takes alpha only positionally)
    def __init__(self, alpha=1.0, l1_ratio=0.5, max_iter=50, max_epochs=50_000, p0=10,
                 verbose=0, tol=1e-4, positive=False, fit_intercept=True, warm_start=False, *,
                 solver="cd"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.p0 = p0
        self.verbose = verbose
        self.solver = solver

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or sparse (CSC preferred; other formats are converted).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, rescaled to sum to ``n_samples``.

        Returns
        -------
        self : object
        """
        validate_params(self)
        xp, is_api, device = get_namespace_and_device(X)
        X, y = check_X_y(self, X, y, accept_sparse=("csc", "csr", "coo"), y_numeric=True)
        if is_api:  # documented host round-trip for the compiled kernel
            X, y = to_numpy(X), to_numpy(y)
        X = X.tocsc() if sp.issparse(X) else X
        y = np.asarray(y, dtype=X.dtype)
        sample_weight = check_sample_weight(to_numpy(sample_weight), X)
        X_solver, y_solver, X_offset, y_offset, row_scale = preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sample_weight)

        preconditioner = getattr(self, "preconditioner", None)
        w_init = None
        if self.warm_start and hasattr(self, "coef_") and preconditioner is None:
            w_init = to_numpy(self.coef_).astype(X.dtype)
            if w_init.shape != (X.shape[1],):
                w_init = None
        X_mean = X_offset if sp.issparse(X) else None
        P = None
        if preconditioner is not None:
            # fit on X P, return P w (spec section 7); the gap certifies the transformed problem
            P = _resolve_preconditioner(preconditioner, X_solver, X_mean, row_scale)
            if self.positive and (P.ndim != 1 or np.any(P < 0)):
                # w >= 0 is imposed on the transformed coefficients; coef_ = P w stays
                # non-negative only for a non-negative diagonal P
                raise ValueError(
                    "positive=True needs a diagonal preconditioner with non-negative entries "
                    "(None, 'standardize' or a 1-d array >= 0): with a full P the constraint "
                    "coef_ = P w >= 0 is not separable in w and coordinate descent cannot "
                    "impose it.")
            X_solver, X_mean = _apply_preconditioner(X_solver, X_mean, P)
        l1 = self.alpha * self.l1_ratio
        l2 = self.alpha * (1.0 - self.l1_ratio)
        if self.alpha == 0:
            warnings.warn(f"{type(self).__name__} with alpha=0 is ordinary least squares; "
                          "consider sklearn.linear_model.LinearRegression (the certificate "
                          "reported in dual_gap_ is then the largest KKT violation).",
                          UserWarning, stacklevel=2)
        result = solve_linear_model(
            self, X_solver, y_solver, _enet_penalty(l1, l2), Quadratic(), w_init=w_init,
            X_mean=X_mean if sp.issparse(X_solver) else None,
            row_scale=row_scale if sp.issparse(X_solver) else None)
        coef = result.coef
        if P is not None:
            coef = np.asarray(P * coef if P.ndim == 1 else P @ coef, dtype=X.dtype).ravel()
        intercept = X.dtype.type(y_offset - X_offset @ coef) if self.fit_intercept else X.dtype.type(0)
        check_finite_result(type(self).__name__, coef, np.asarray(intercept))
        if not result.converged:
            warn_not_converged(type(self).__name__, n_iter=result.n_iter,
                               certificate=result.certificate, tol=self.tol)
        self.coef_ = from_numpy(coef, xp, device) if is_api else coef
        self.intercept_ = from_numpy(np.asarray(intercept), xp, device) if is_api else float(intercept)
        self.dual_gap_ = float(result.certificate)
        self.n_iter_ = int(result.n_iter)
        self.active_set_iter_ = result.get("active_set_iter")
        self.converged_ = bool(result.converged)
        return self

    @property
    def sparse_coef_(self):
        """Coefficients as a ``scipy.sparse`` CSR row vector."""
        return sp.csr_matrix(to_numpy(self.coef_)[None, :])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return mark_host_roundtrip(tags)


def _resolve_preconditioner(preconditioner, X, X_mean=None, row_scale=None):
    """The matrix P (or a 1-d diagonal) for ``preconditioner`` on the centred design."""
    n, p = X.shape
    if callable(preconditioner):
        P = preconditioner(X)
    elif isinstance(preconditioner, str):
        from ..optimize.working_set_cd import column_sq_norms

        if preconditioner == "standardize":
            norms = np.sqrt(column_sq_norms(X, X_mean, row_scale) / n)
            return np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1), 1.0)
        if preconditioner == "whiten":
            Xd = X.toarray() - (0 if X_mean is None else np.outer(
                np.ones(n) if row_scale is None else row_scale, X_mean)) if sp.issparse(X) else X
            cov = Xd.T @ Xd / n
            ridge = 1e-3 * np.trace(cov) / p if p else 0.0
            vals, vecs = np.linalg.eigh(cov + ridge * np.eye(p))
            return (vecs / np.sqrt(np.maximum(vals, ridge))) @ vecs.T
        raise ValueError(f"preconditioner must be None, 'standardize', 'whiten', an array or a "
                         f"callable, got {preconditioner!r}.")
    else:
        P = preconditioner
    P = np.asarray(P.toarray() if sp.issparse(P) else P, dtype=float)
    if P.ndim == 1 and P.shape == (p,):
        return P
    if P.shape != (p, p):
        raise ValueError(f"preconditioner must have shape ({p}, {p}) (or ({p},) for a "
                         f"diagonal), got {P.shape}.")
    if not np.all(np.isfinite(P)):
        raise ValueError("preconditioner contains NaN or inf.")
    return P


def _apply_preconditioner(X, X_mean, P):
    """``X P`` (and the implicit centring ``X_mean P``); a diagonal keeps CSC X sparse."""
    dtype = X.dtype
    if P.ndim == 1:
        if sp.issparse(X):
            return sp.csc_matrix(X @ sp.diags(P.astype(dtype))), X_mean * P
        return np.asfortranarray(X * P.astype(dtype)), X_mean
    if sp.issparse(X):
        X = X.toarray() - (0 if X_mean is None else X_mean)  # a full P densifies anyway
        X_mean = None
    return np.asfortranarray(X @ P.astype(dtype)), X_mean


class Lasso(ElasticNet):
    """Linear regression with an L1 penalty, solved by working-set CD.

    Minimises ``(1 / (2 n_samples)) ||y - Xw||^2_2 + alpha ||w||_1`` (the
    objective and parameter names of :class:`sklearn.linear_model.Lasso`),
    certified by the duality gap ``dual_gap_``.

    Parameters
    ----------
    alpha : float, default=1.0
        L1 penalty strength. For ``alpha >= ||X^T y||_inf / n`` the solution is
        exactly zero. The default is scikit-learn's, kept for drop-in
        compatibility (on standardized ``y`` it gives the all-zero model);
        choose alpha as a fraction of ``alpha_max`` or by :class:`LassoCV`.
    fit_intercept : bool, default=True
    max_iter : int, default=50
        Maximum outer working-set iterations.
    max_epochs : int, default=50000
    tol : float, default=1e-4
        Stop when ``n_samples * dual_gap <= tol * ||y||^2``.
    warm_start : bool, default=False
    positive : bool, default=False
    p0 : int, default=10
    verbose : int, default=0
    solver : "cd" or BlockCoordinateDescent, default="cd"
        As :class:`ElasticNet`.
    preconditioner : None, "standardize", "whiten", array or callable, default=None
        Fit the Lasso on ``X P`` and return ``coef_ = P w`` (spec section 7). An
        array is ``P`` (shape (p, p), or (p,) for a diagonal), a callable maps the
        centred X to ``P``. ``"standardize"``: ``P = diag(1 / ||x_j||_n)``;
        ``"whiten"``: ``P = (X^T X / n + eps I)^(-1/2)``. These are heuristics, not
        the (unpublished) construction of Chandrasekaran, Meka & Stavropoulos
        (2025). ``dual_gap_`` certifies the transformed problem; warm starts are
        ignored when a preconditioner is set. With ``positive=True`` only a
        diagonal ``P`` with non-negative entries is accepted (then ``w >= 0``
        is ``coef_ >= 0``); a full ``P`` (``"whiten"``, a 2-d array) raises
        ``ValueError``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
    n_iter_ : int
    active_set_iter_ : int or None
        With a ``BlockCoordinateDescent`` solver, the last BCD iteration at
        which the set of coefficients at zero (or at the bound, with
        ``positive``) changed; None with ``solver="cd"``.
    n_features_in_ : int

    See Also
    --------
    ElasticNet

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import Lasso
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> reg = Lasso(alpha=0.1).fit(X, [0, 1, 2])
    >>> np.round(reg.coef_, 3).tolist(), round(reg.intercept_, 3)
    ([0.85, 0.0], 0.15)

    The same problem solved by greedy block coordinate descent (Gauss-Southwell-q
    selection of variable blocks of 3 coordinates, proximal-Newton block
    updates) gives the working-set CD coefficients:

    >>> from sparseopt.optimize import BlockCoordinateDescent
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 12))
    >>> y = X[:, :4] @ [1.5, -2.0, 1.0, 0.5] + 0.1 * rng.standard_normal(60)
    >>> bcd = BlockCoordinateDescent(selection="gsq", update="matrix", partition="variable",
    ...                              block_size=3, max_iter=2000, tol=1e-12)
    >>> cd = Lasso(alpha=0.1, tol=1e-10).fit(X, y)
    >>> reg = Lasso(alpha=0.1, tol=1e-10, solver=bcd).fit(X, y)
    >>> np.flatnonzero(reg.coef_).tolist(), np.allclose(reg.coef_, cd.coef_, atol=1e-8)
    ([0, 1, 2, 3], True)
    >>> reg.converged_, reg.dual_gap_ < 1e-10
    (True, True)
    """

    _parameter_constraints = {**{k: v for k, v in ElasticNet._parameter_constraints.items()
                                 if k != "l1_ratio"},
                              "preconditioner": [None, str, "array-like", "callable"]}

    # positional order of skglm's Lasso (scikit-learn's takes alpha only positionally)
    def __init__(self, alpha=1.0, max_iter=50, max_epochs=50_000, p0=10, verbose=0, tol=1e-4,
                 positive=False, fit_intercept=True, warm_start=False, *, solver="cd",
                 preconditioner=None):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         max_iter=max_iter, max_epochs=max_epochs, tol=tol,
                         warm_start=warm_start, positive=positive, p0=p0, verbose=verbose,
                         solver=solver)
        self.preconditioner = preconditioner
