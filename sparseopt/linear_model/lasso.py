"""Lasso and elastic net on the working-set coordinate-descent solver."""
from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from sklearn.utils import check_random_state

from ..optimize.datafits import Quadratic
from ..optimize.bcd import BlockCoordinateDescent
from ..optimize.working_set_cd import _enet_penalty
from ..utils._array_api import mark_host_roundtrip, to_numpy
from ..utils.validation import Interval, StrOptions
from ._base import LinearPredictorMixin, fit_least_squares, solve_linear_model

__all__ = ["ElasticNet", "Lasso"]


class _GramMatrix:
    """``precompute`` given as an array (not a string, which the shared "array-like"
    constraint would accept)."""

    def is_satisfied_by(self, value):
        return not isinstance(value, str) and (hasattr(value, "shape") or hasattr(value, "__len__")
                                               or hasattr(value, "__array__"))

    def __str__(self):
        return "an array of shape (n_features, n_features) (the Gram matrix)"


PRECOMPUTE_CONSTRAINT = ["boolean", StrOptions({"auto"}), _GramMatrix()]


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
        the same problem by block coordinate descent (``max_iter`` and
        ``tol`` set on the solver win; those left at the solver's defaults
        come from the estimator: its ``tol`` stops the run on the duality
        gap, its ``max_iter`` counts epochs of ``ceil(n_features /
        block_size)`` block updates; the ridge part is least squares on the augmented design
        ``[X; sqrt(n l2) I]``; sparse X with ``fit_intercept`` gets an
        unpenalised centring column). The estimator's ``tol`` is then checked
        on the reported duality gap and a ``ConvergenceWarning`` says when it
        is not reached; ``n_iter_`` counts BCD iterations and ``verbose`` is
        passed on. BCD runs in float64; ``coef_`` has X's dtype.
    precompute : "auto", bool or array of shape (n_features, n_features), default="auto"
        Coordinate descent on the Gram matrix ``X^T X`` (dense X; ignored for
        sparse X, as scikit-learn). ``True``: computed at fit; ``False``: CD on
        ``X``; ``"auto"``: the Gram matrix when ``n_samples > 2 n_features``
        and ``n_features <= 2000`` (float64). An array is used as ``X^T X``
        of the (row-weighted) X; with ``fit_intercept`` and non-centred X it
        is recomputed with a ``UserWarning`` (scikit-learn's behaviour); it is
        checked against ``X^T X`` on a random probe (``ValueError`` when it is
        not that matrix). The solution does not depend on it.
    copy_X : bool, default=True
        Accepted for scikit-learn compatibility: X is never modified (the
        solver works on its own centred copy of dense X), whatever the value.
    random_state : int, RandomState instance or None, default=None
        Seed of the coordinate order with ``selection="random"``.
    selection : {"cyclic", "random"}, default="cyclic"
        ``"random"``: coordinate descent visits the coordinates in a random
        order drawn from ``random_state`` once per fit (the kernel then sweeps
        the working set in that order); scikit-learn draws a random coordinate
        at every update. The solution is the same up to ``tol``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in X's namespace and device.
    intercept_ : float, 0-d array or ndarray of shape (n_targets,)
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution, in the objective's (1/n) units.
    n_iter_ : int or list of int
        Coordinate descent epochs run, scikit-learn's count (one epoch updates
        every coordinate of the current working set once; summed over the
        working-set subproblems, so it can exceed ``max_iter``, which bounds
        the outer working-set iterations). One entry per target for a 2-D
        ``y``. With a ``BlockCoordinateDescent`` solver: BCD iterations.
    active_set_iter_ : int or None
        With a ``BlockCoordinateDescent`` solver, the last BCD iteration at
        which the set of coefficients at zero (or at the bound, with
        ``positive``) changed; None with ``solver="cd"``.
    converged_ : bool
        Whether ``tol`` was reached (on the duality gap, for either solver;
        for every target).
    certificate_, certificate_name_, objective_
        The stopping quantity (the duality gap, or the largest KKT violation
        when ``alpha=0``), its name and the objective at the solution.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string feature names.

    See Also
    --------
    Lasso : the ``l1_ratio=1`` special case.
    sklearn.linear_model.ElasticNet : same objective and parameter names.

    Notes
    -----
    Drop-in for :class:`sklearn.linear_model.ElasticNet`: every parameter of
    scikit-learn's estimator is accepted with its meaning, except that
    ``max_iter`` bounds the outer working-set iterations (default 50; each runs
    up to ``max_epochs`` CD epochs) rather than the epochs, so a scikit-learn
    ``max_iter=10000`` is a generous budget here too.

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
        "precompute": PRECOMPUTE_CONSTRAINT,
        "copy_X": ["boolean"],
        "random_state": ["random_state"],
        "selection": [StrOptions({"cyclic", "random"})],
    }
    _test_params = [{"tol": 1e-6}, {"tol": 1e-6, "selection": "random", "random_state": 0,
                                    "precompute": True}]
    _n_iter_counts = "epochs"  # scikit-learn's n_iter_ (see the n_iter_ attribute)

    # positional order of skglm's ElasticNet (scikit-learn's takes alpha only positionally)
    def __init__(self, alpha=1.0, l1_ratio=0.5, max_iter=50, max_epochs=50_000, p0=10,
                 verbose=0, tol=1e-4, positive=False, fit_intercept=True, warm_start=False, *,
                 solver="cd", precompute="auto", copy_X=True, random_state=None,
                 selection="cyclic"):
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
        self.precompute = precompute
        self.copy_X = copy_X
        self.random_state = random_state
        self.selection = selection

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense or sparse (CSC preferred; other formats are converted).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            One independent problem per column of a 2-D ``y``.
        sample_weight : float or array-like of shape (n_samples,), optional
            Non-negative weights, rescaled to sum to ``n_samples`` (a scalar is
            a constant weight, hence no weighting).
        check_input : bool, default=True
            ``False`` skips the conversion of ``X`` and ``y`` (scikit-learn's
            fast path for callers that already validated them); the solver
            still rejects wrong shapes and non-finite values.

        Returns
        -------
        self : object
        """
        if self.alpha == 0:
            warnings.warn(f"{type(self).__name__} with alpha=0 is ordinary least squares; "
                          "consider sklearn.linear_model.LinearRegression (the certificate "
                          "reported in dual_gap_ is then the largest KKT violation).",
                          UserWarning, stacklevel=2)
        return fit_least_squares(self, X, y, sample_weight, multi_output=True,
                                 check_input=check_input)

    def _warm_start_coef(self, n_targets, n_features, dtype):
        if not self.warm_start or not hasattr(self, "coef_") \
                or getattr(self, "preconditioner", None) is not None:
            return None
        w = to_numpy(self.coef_).astype(dtype)
        w = w.reshape(1, -1) if w.ndim == 1 else w
        return w if w.shape == (n_targets, n_features) else None

    def _gram_options(self, data):
        """``precompute`` as the solver's ``gram`` / ``gram_matrix`` (dense X only, as
        scikit-learn, which ignores ``precompute`` for sparse X)."""
        precompute = self.precompute
        if data.sparse or (isinstance(precompute, (bool, np.bool_)) and not precompute):
            return {"gram": False}
        if isinstance(precompute, str):
            return {"gram": "auto"}
        if isinstance(precompute, (bool, np.bool_)):
            return {"gram": True}
        gram = np.asarray(precompute)
        p = data.n_features
        if gram.shape != (p, p):
            raise ValueError(f"{type(self).__name__}: precompute (the Gram matrix X^T X) must "
                             f"have shape ({p}, {p}), got {gram.shape}.")
        if self.fit_intercept and not np.allclose(data.X_offset, 0):
            warnings.warn("Gram matrix was provided but X was centered to fit intercept: "
                          "recomputing Gram matrix.", UserWarning, stacklevel=4)
            return {"gram": True}
        # the solver checks it against X^T X on a random probe (ValueError if it differs)
        return {"gram": True, "gram_matrix": np.asfortranarray(gram, dtype=data.X.dtype)}

    def _solve_target(self, data, y_solver, w_init):
        """Solve one target on the prepared data; ``coef`` in the original coordinates."""
        X_solver, X_mean = data.X_solver, data.X_mean
        options = self._gram_options(data)
        preconditioner = getattr(self, "preconditioner", None)
        P = None
        if preconditioner is not None:
            # fit on X P, return P w; the gap certifies the transformed problem
            P = _resolve_preconditioner(preconditioner, X_solver, X_mean, data.row_scale)
            if self.positive and (P.ndim != 1 or np.any(P < 0)):
                # w >= 0 is imposed on the transformed coefficients; coef_ = P w stays
                # non-negative only for a non-negative diagonal P
                raise ValueError(
                    "positive=True needs a diagonal preconditioner with non-negative entries "
                    "(None, 'standardize' or a 1-d array >= 0): with a full P the constraint "
                    "coef_ = P w >= 0 is not separable in w and coordinate descent cannot "
                    "impose it.")
            X_solver, X_mean = _apply_preconditioner(X_solver, X_mean, P)
            options.pop("gram_matrix", None)  # the Gram of X, not of X P
        perm = None
        if self.selection == "random":
            # a random order of the coordinates, drawn from random_state for this fit
            perm = check_random_state(self.random_state).permutation(data.n_features)
            X_solver = X_solver[:, perm]
            X_mean = None if X_mean is None else X_mean[perm]
            if "gram_matrix" in options:
                options["gram_matrix"] = np.asfortranarray(options["gram_matrix"][perm][:, perm])
            w_init = None if w_init is None else w_init[perm]
        l1 = self.alpha * self.l1_ratio
        l2 = self.alpha * (1.0 - self.l1_ratio)
        result = solve_linear_model(
            self, X_solver, y_solver, _enet_penalty(l1, l2), Quadratic(), w_init=w_init,
            X_mean=X_mean if sp.issparse(X_solver) else None,
            row_scale=data.row_scale if sp.issparse(X_solver) else None, **options)
        coef = np.asarray(result.coef, dtype=data.X.dtype)
        if perm is not None:
            coef = coef[np.argsort(perm)]
        if P is not None:
            coef = np.asarray(P * coef if P.ndim == 1 else P @ coef, dtype=data.X.dtype).ravel()
        result.coef = result.x = coef
        return result

    @property
    def sparse_coef_(self):
        """Coefficients as a ``scipy.sparse`` CSR row vector."""
        return sp.csr_matrix(to_numpy(self.coef_)[None, :])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
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
    precompute, copy_X, random_state, selection
        scikit-learn's parameters, as :class:`ElasticNet`.
    preconditioner : None, "standardize", "whiten", array or callable, default=None
        Fit the Lasso on ``X P`` and return ``coef_ = P w``. An
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
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    dual_gap_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or list of int
        Coordinate descent epochs, scikit-learn's count (see :class:`ElasticNet`).
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
                 preconditioner=None, precompute="auto", copy_X=True, random_state=None,
                 selection="cyclic"):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         max_iter=max_iter, max_epochs=max_epochs, tol=tol,
                         warm_start=warm_start, positive=positive, p0=p0, verbose=verbose,
                         solver=solver, precompute=precompute, copy_X=copy_X,
                         random_state=random_state, selection=selection)
        self.preconditioner = preconditioner
