"""Sparse regression with any registered penalty, on the working-set CD solver.

``SparseLinearRegression(penalty=...)`` and ``SparseLogisticRegression(penalty=...)``
compose a datafit (least squares / logistic) with a penalty from
:data:`sparseopt.optimize.penalties.PENALTIES`; ``MCPRegression`` and
``SCADRegression`` are the two nonconvex classics with skglm's names.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.multiclass import type_of_target

from ..optimize.datafits import Logistic, Quadratic
from ..optimize.penalties import PENALTIES, estimator_penalty, make_penalty
from ..optimize.bcd import BlockCoordinateDescent
from ..optimize.working_set_cd import _sparse_col_sq, column_sq_norms
from ..utils._array_api import get_namespace_and_device, mark_host_roundtrip, to_numpy
from ..utils.validation import (
    Interval,
    StrOptions,
    check_sample_weight,
    check_X_y,
    validate_params,
)
from ._base import (
    LinearClassifierMixin,
    LinearPredictorMixin,
    fit_least_squares,
    set_fit_attributes,
    solve_linear_model,
)

__all__ = ["SparseLinearRegression", "MCPRegression", "SCADRegression",
           "SparseLogisticRegression"]

class _PlusInf:
    """``gamma = inf``: MCP / SCAD at their L1 (lasso) limit, as skglm's ``MCPRegression``."""

    def is_satisfied_by(self, value):
        return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                and value == np.inf)

    def __str__(self):
        return "inf (the lasso limit)"


class _PenaltyObject:
    """A penalty object (not a name, not a class): its protocol is checked at fit by
    :func:`sparseopt.optimize.penalties.estimator_penalty` with a TypeError naming what is
    missing."""

    def is_satisfied_by(self, value):
        return not isinstance(value, (str, type)) and value is not None

    def __str__(self):
        return "a penalty object (sparseopt.optimize.penalties, or your own)"


_COMMON_CONSTRAINTS = {
    "alpha": [Interval(numbers.Real, 0, None, closed="left"), StrOptions({"auto"})],
    "penalty": [StrOptions(set(PENALTIES)), _PenaltyObject()],
    "gamma": [Interval(numbers.Real, 0, None, closed="neither"), _PlusInf(), None],
    "l1_ratio": [Interval(numbers.Real, 0, 1, closed="right")],
    "eps": [Interval(numbers.Real, 0, None, closed="neither")],
    "k": [Interval(numbers.Integral, 1, None, closed="left")],
    "nonconvex": ["boolean"],
    "groups": [Interval(numbers.Integral, 1, None, closed="left"), list, tuple, None],
    "group_weights": ["array-like", None],
    "weights": ["array-like", None],
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

_DEFAULT_GAMMA = {"mcp": 3.0, "scad": 3.7}

AUTO_ALPHA_RATIO = 0.1
"""``alpha="auto"``: ``alpha_ = AUTO_ALPHA_RATIO * alpha_max`` (see ``_auto_alpha``)."""


def _auto_alpha(name, template, neg_grad0, lipschitz, positive):
    """``AUTO_ALPHA_RATIO`` times the penalty's ``alpha_max`` at ``w = 0``.

    ``template`` is the penalty at ``alpha = 1``, ``neg_grad0 = -grad f(0)`` (the
    intercept fitted), ``lipschitz`` the datafit's coordinate constants ``L_j``.
    ``alpha_max`` is the smallest alpha for which ``w = 0`` is a fixed point of
    coordinate descent: ``max_j |g_j| / weight_j`` for l1, mcp, scad, group
    lasso (``/ l1_ratio`` for the elastic net, ``* eps`` for log-sum); for the
    thresholding penalties the alpha whose coordinate step from 0 keeps every
    feature at 0, ``g_j^2 / (2 L_j)`` (l0, cel0), ``L_j (|g_j| / (1.5 L_j))^(3/2)``
    (l_half), ``1.5 L_j (|g_j| / (2 L_j))^(4/3)`` (l_two_thirds). SEF and WGSEF
    never give ``w = 0``: their scale is the mean ``L_j`` (the curvature of the
    datafit), so that ``alpha_`` shrinks by about 10%.
    """
    g = np.abs(np.asarray(neg_grad0, dtype=np.float64))
    L = np.asarray(lipschitz, dtype=np.float64)
    if name in ("sef", "wgsef"):
        scale = float(np.mean(L[:template_size(template, L.size)])) if L.size else 0.0
    elif name in ("l0", "cel0", "l_half", "l_two_thirds"):
        weights = np.ones(g.size) if name == "cel0" else template.unit_weights(g.size)
        if name == "cel0":  # the free tail (intercept) has weight 0 in the built penalty
            weights = np.where(np.asarray(template.weights) > 0, 1.0, 0.0)
        ok = (weights > 0) & (L > 0)
        Lk, gk = L[ok], g[ok]
        if name in ("l0", "cel0"):
            per = gk ** 2 / (2 * Lk)
        elif name == "l_half":
            per = Lk * (gk / (1.5 * Lk)) ** 1.5
        else:
            per = 1.5 * Lk * (gk / (2 * Lk)) ** (4.0 / 3.0)
        scale = float(np.max(per / weights[ok])) if per.size else 0.0
    else:
        scale = float(template.alpha_max(np.asarray(neg_grad0, dtype=np.float64), positive))
    if not np.isfinite(scale):
        raise ValueError(f"alpha='auto' found no finite alpha_max for penalty {name!r}; "
                         "pass a number.")
    return AUTO_ALPHA_RATIO * scale


SPARSE_CENTRING_SHARE = 0.5
"""CSC X with an intercept: a column is centred implicitly by the solver when its
non-zeros carry at least this share of the sample weight (see ``_sparse_centring``)."""


def _weighted_column_means(X, sample_weight):
    """``s^T X / 1^T s`` per column (dense or CSC X), as ``x_ref + s^T (x - x_ref) / 1^T s``
    with ``x_ref`` the column's first entry (CSC: when the column has no zero entry, else
    0): a constant column gets exactly its value, so that it centres to exactly 0 (a
    column then collinear with the intercept, whose coordinate CD leaves at 0) instead of
    a rounding-level constant whose tiny curvature lets flat penalties (MCP, SCAD, l0)
    send its coefficient anywhere."""
    s = np.asarray(sample_weight, dtype=np.float64)
    total = float(s.sum())
    if not sp.issparse(X):
        ref = np.asarray(X[0], dtype=np.float64)
        dev = np.empty(X.shape[1])
        step = max(1, 2 ** 20 // max(1, X.shape[0]))  # column blocks: a bounded temporary
        for start in range(0, X.shape[1], step):
            block = slice(start, start + step)
            dev[block] = s @ (X[:, block] - ref[block])
        return ref + dev / total
    X = sp.csc_matrix(X)
    counts = np.diff(X.indptr)
    full = counts == X.shape[0]
    ref = np.zeros(X.shape[1])
    ref[full] = X.data[X.indptr[:-1][full]]
    cols = np.repeat(np.arange(X.shape[1]), counts)
    dev = np.bincount(cols, weights=s[X.indices] * (X.data - ref[cols]), minlength=X.shape[1])
    return ref + dev / total


def _sparse_centring(X, sample_weight, mean):
    """The centring ``m`` the solver applies to CSC ``X``: the weighted mean ``mean_j`` of
    the columns whose non-zeros carry at least ``SPARSE_CENTRING_SHARE`` of the weight
    ``s``, 0 for the others.

    A sparser column is never close to the intercept's direction: by Cauchy-Schwarz its
    squared cosine with the column of ones (``s``-weighted) is at most that share, below
    1/2, while a column far off centre with most entries non-zero is nearly parallel to it
    (cosine^2 ``1 - 1e-4`` at mean 100 and unit spread), which makes coordinate descent
    crawl. A centred column's coordinate update costs O(n_samples) instead of O(nnz_j)
    (its centred entries are formed over every row, and a move shifts every margin): at
    most twice its cost for the columns centred here (with unit weights), while
    centring every column would make each update of a sparse column O(n_samples).
    """
    X = sp.csc_matrix(X)
    s = np.asarray(sample_weight, dtype=np.float64)
    nonzero = np.repeat(np.arange(X.shape[1]), np.diff(X.indptr))[X.data != 0]
    covered = np.bincount(nonzero, weights=s[X.indices[X.data != 0]], minlength=X.shape[1])
    return np.where(covered >= SPARSE_CENTRING_SHARE * float(s.sum()), mean, 0.0)


def _check_column_scale(name, X, col_sq):
    """ValueError when the columns' squared norms over- or underflow X's dtype (the
    coordinate curvatures, the step sizes and the certificate would be inf or 0)."""
    nonzero = (np.asarray((X != 0).sum(axis=0)).ravel() > 0)
    bad = ~np.isfinite(col_sq) | (nonzero & (col_sq == 0))
    if np.any(bad):
        j = int(np.flatnonzero(bad)[0])
        col = X[:, [j]].toarray() if sp.issparse(X) else X[:, j]
        raise ValueError(
            f"{name}: the squared norm of column {j} of X (max |x| = "
            f"{float(np.max(np.abs(col))):.3g}) over- or underflows {X.dtype}; rescale X "
            "(e.g. sklearn.preprocessing.StandardScaler) before fitting.")


def template_size(penalty, default):
    """Number of penalised coefficients of a head-only penalty (SEF / WGSEF)."""
    return default - int(getattr(penalty, "n_free", 0))


def _penalty_params(est):
    gamma = est.gamma if est.gamma is not None else _DEFAULT_GAMMA.get(est.penalty)
    if est.penalty == "scad" and gamma is not None and gamma <= 1:
        raise ValueError(f"SCAD needs gamma > 1, got gamma={gamma}.")
    l1_ratio = 0.5 if est.l1_ratio is None else est.l1_ratio  # None: SparseLogisticRegression
    return {"gamma": gamma, "l1_ratio": l1_ratio, "eps": est.eps, "k": est.k,
            "nonconvex": est.nonconvex, "groups": est.groups,
            "group_weights": est.group_weights}


class _PenalizedBase(BaseEstimator):
    """Shared constructor parameters and fit plumbing (penalty built from the registry)."""

    _parameter_constraints = _COMMON_CONSTRAINTS

    def __init__(self, penalty="l1", alpha="auto", *, gamma=None, l1_ratio=0.5, eps=1.0, k=1,
                 nonconvex=False, groups=None, group_weights=None, weights=None,
                 fit_intercept=True, max_iter=50, max_epochs=50_000, tol=1e-4,
                 warm_start=False, positive=False, p0=10, verbose=0, solver="cd"):
        self.penalty = penalty
        self.alpha = alpha
        self.gamma = gamma
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.k = k
        self.nonconvex = nonconvex
        self.groups = groups
        self.group_weights = group_weights
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.p0 = p0
        self.verbose = verbose
        self.solver = solver

    def _build_penalty(self, n_features, col_sq_norms_over_n, n_free=0, alpha=None):
        """Penalty on ``n_features`` coefficients followed by ``n_free`` unpenalised ones.

        ``alpha``: the strength (default ``self.alpha``; ``"auto"`` gives a template at
        ``alpha = 1``, resolved in ``fit`` by :meth:`_resolve_alpha`). ``penalty`` is a
        registered name or a penalty object (:mod:`sparseopt.optimize.penalties`, or one
        of the user's with that protocol), used at this ``alpha``.
        """
        alpha = self.alpha if alpha is None else alpha
        if isinstance(alpha, str):
            alpha = 1.0
        if not isinstance(self.penalty, str):
            return estimator_penalty(self.penalty, alpha, n_features=n_features, n_free=n_free,
                                     weights=self.weights, owner=type(self).__name__)
        p_total = n_features + n_free
        weights = None
        if self.weights is not None or n_free:
            base = np.ones(n_features) if self.weights is None else np.asarray(
                self.weights, dtype=float).ravel()
            if base.shape != (n_features,):
                raise ValueError(f"weights has shape {base.shape}, expected ({n_features},).")
            weights = np.concatenate([base, np.zeros(n_free)])
        params = _penalty_params(self)
        if self.penalty == "group_lasso" and n_free:
            groups = params["groups"]
            if isinstance(groups, (int, np.integer)):
                groups = [list(range(s, min(s + groups, n_features)))
                          for s in range(0, n_features, int(groups))]
            params["groups"] = list(groups) + [[n_features + i] for i in range(n_free)]
            gw = params["group_weights"]
            if gw is None:
                gw = [np.sqrt(len(g)) for g in groups]
            params["group_weights"] = np.concatenate([np.asarray(gw, float), np.zeros(n_free)])
        head_only = self.penalty in ("sef", "wgsef")  # intercept handled as a free tail
        # SCAD's a -> inf limit is the L1 penalty, as MCP's (whose kernel handles inf)
        name = "mcp" if self.penalty == "scad" and params["gamma"] == np.inf else self.penalty
        pen = make_penalty(name, alpha,
                           n_features=n_features if head_only else p_total,
                           col_sq_norms_over_n=col_sq_norms_over_n, weights=weights, **params)
        if self.penalty == "cel0" and n_free:
            pen.weights = np.asarray(pen.weights, dtype=float).copy()
            pen.weights[n_features:] = 0.0
        if self.penalty in ("sef", "wgsef") and n_free:
            pen.n_free = n_free
        if self.penalty == "elasticnet" and n_free:  # the intercept is not ridge-penalised
            pen.ridge_weights = np.concatenate([np.ones(n_features), np.zeros(n_free)])
        return pen

    def _resolve_alpha(self, n_features, col_sq_norms_over_n, n_free, neg_grad0, lipschitz):
        """``self.alpha``, or for ``"auto"`` the rule of :func:`_auto_alpha` (sets ``alpha_``)."""
        if isinstance(self.alpha, str):
            template = self._build_penalty(n_features, col_sq_norms_over_n, n_free, alpha=1.0)
            alpha = _auto_alpha(getattr(self.penalty, "name", self.penalty), template, neg_grad0,
                                lipschitz, self.positive)
        else:
            alpha = float(self.alpha)
        self.alpha_ = alpha
        return alpha

    def _warm_start_coef(self, n_targets, n_features, dtype):
        if self.warm_start and hasattr(self, "coef_"):
            w = to_numpy(self.coef_).astype(dtype).reshape(n_targets, -1)
            if w.shape == (n_targets, n_features):
                return w
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return mark_host_roundtrip(tags)


class SparseLinearRegression(LinearPredictorMixin, _PenalizedBase):
    """Least squares with any registered sparse penalty, solved by working-set CD.

    Minimises ``(1 / (2 n_samples)) ||y - Xw||^2 + sum_j p_j(w_j)`` (or a sum over
    groups), scikit-learn's scaling.

    Parameters
    ----------
    penalty : str or penalty object, default="l1"
        One of ``"l1"``, ``"elasticnet"``, ``"mcp"``, ``"scad"``, ``"l_half"``,
        ``"l_two_thirds"``, ``"log_sum"``, ``"cel0"``, ``"l0"``, ``"group_lasso"``,
        ``"sef"``, ``"wgsef"`` (see :mod:`sparseopt.optimize.penalties`), or a
        penalty object (``MCP(gamma=3.0)`` from
        :mod:`sparseopt.optimize.penalties`, or your own, see
        :doc:`/modules/extending`), used at the estimator's ``alpha`` (its own
        ``alpha`` is ignored); the name's parameters (``gamma``, ``groups``, ...)
        then come from the object.
    alpha : float or "auto", default="auto"
        Penalty strength (for ``"cel0"`` and ``"l0"``: the weight ``lambda`` of
        ``lambda ||w||_0``). ``"auto"``: ``alpha_ = 0.1 * alpha_max`` computed at
        fit, ``alpha_max`` the smallest alpha whose solution is ``w = 0`` (l1,
        elasticnet, mcp, scad, log_sum, group_lasso: ``max_j |x_j^T y_c| / (n
        weight_j)``, over ``l1_ratio`` for the elastic net, times ``eps`` for
        log-sum; l0, cel0, l_half, l_two_thirds: the alpha whose coordinate step
        from 0 keeps every feature at 0; sef, wgsef, which never give 0: the
        mean coordinate curvature ``||x_j||^2 / n``). A useful sparse model on
        standardized data, where a fixed ``alpha = 1`` is at or above
        ``alpha_max`` (all-zero model).
    gamma : float, optional
        MCP concavity (default 3) or SCAD ``a`` (default 3.7, must be > 1).
    l1_ratio : float, default=0.5
        Elastic-net mix.
    eps : float, default=1.0
        Log-sum offset: ``alpha log(1 + |t| / eps)``.
    k : int, default=1
        Target sparsity of SEF / WGSEF.
    nonconvex : bool, default=False
        SEF / WGSEF: regularise with ``SEF - 0.5 ||w||^2`` (zero on k-sparse
        vectors) instead of the convex envelope.
    groups : int or list of lists, optional
        Group lasso / WGSEF: contiguous groups of that size, or a partition of
        the features.
    group_weights : array-like, optional
        Group weights (default ``sqrt(group size)``).
    weights : array-like of shape (n_features,), optional
        Feature weights of scalar penalties (0 = unpenalised).
    fit_intercept : bool, default=True
    max_iter : int, default=50
        Outer working-set iterations.
    max_epochs : int, default=50000
        CD epochs per working-set subproblem.
    tol : float, default=1e-4
        Convex penalties with a duality gap (l1, elasticnet, group_lasso): stop
        when ``n * gap <= tol * ||y||^2``. Others: stop when the largest KKT
        violation (``dist(-grad f, subdifferential)``, or the prox fixed-point
        residual) is ``<= tol``.
    warm_start : bool, default=False
    positive : bool, default=False
    p0 : int, default=10
        Initial working-set size.
    verbose : int, default=0
    solver : "cd" or BlockCoordinateDescent, default="cd"
        ``"cd"``: working-set coordinate descent. A
        :class:`~sparseopt.optimize.BlockCoordinateDescent` instance (for the
        ``"l1"`` and ``"elasticnet"`` penalties, with ``weights`` and
        ``positive``; ``ValueError`` for the others) solves the same problem
        by block coordinate descent: ``max_iter`` and ``tol`` set on the
        solver win; those left at the solver's defaults come from the
        estimator (its ``tol`` stops the run on the same certificate as with
        ``"cd"``, its ``max_iter`` counts epochs of ``ceil(n_features /
        block_size)`` block updates); ``ConvergenceWarning`` when the
        estimator's ``tol`` is not reached, ``n_iter_`` counts BCD
        iterations and ``verbose`` is passed on. The elastic net's ridge part
        is least squares on the augmented design ``[X; sqrt(n l2) I]``.
        Not a parameter of :class:`MCPRegression` / :class:`SCADRegression`
        (nonconvex penalties).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    alpha_ : float
        The penalty strength used (``alpha``, or its ``"auto"`` value).
    n_iter_ : int
    active_set_iter_ : int or None
        With a ``BlockCoordinateDescent`` solver, the last BCD iteration at
        which the set of coefficients at zero (or at the bound, with
        ``positive``) changed; None with ``solver="cd"``.
    converged_ : bool
    certificate_ : float
        The stopping quantity reached (``dual_gap_`` for convex penalties).
    certificate_name_ : str
    dual_gap_ : float or None
        Duality gap (1/n units) when the penalty has one, else None.
    objective_ : float
    n_features_in_ : int

    See Also
    --------
    MCPRegression, SCADRegression, Lasso, SparseLogisticRegression

    Notes
    -----
    Scalar penalties run on the compiled CD kernels with the prox inlined; the
    group lasso on the block-CD kernel (dense X; sparse X uses proximal
    gradient); SEF / WGSEF are not separable and use FISTA (proximal gradient),
    certified by the fixed-point residual. Nonconvex penalties return a
    stationary point (not a global minimiser); which one depends on the start.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import SparseLinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 20))
    >>> y = X[:, :3] @ np.array([3.0, -2.0, 1.5]) + 0.1 * rng.standard_normal(100)
    >>> reg = SparseLinearRegression(penalty="mcp", alpha=0.1).fit(X, y)
    >>> np.flatnonzero(reg.coef_).tolist()
    [0, 1, 2]
    """

    _test_params = [{"tol": 1e-6}, {"penalty": "mcp", "alpha": 0.1, "tol": 1e-6},
                    {"penalty": "l0", "alpha": 0.01, "tol": 1e-6},
                    {"penalty": "group_lasso", "groups": 2, "alpha": 0.1, "tol": 1e-6},
                    {"penalty": "sef", "k": 2, "alpha": 0.1, "tol": 1e-6}]

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, rescaled to sum to ``n_samples``.

        Returns
        -------
        self : object
        """
        return fit_least_squares(self, X, y, sample_weight)

    def _solve_target(self, data, y_solver, w_init):
        """Resolve ``alpha``, build the penalty and solve one target."""
        n, p = data.n_samples, data.n_features
        col_sq = column_sq_norms(data.X_solver, data.X_mean, data.row_scale)
        # -grad f(0) = X_c^T y_c / n (y_c is centred, so the implicit centring term of a
        # sparse X vanishes)
        alpha = self._resolve_alpha(p, col_sq / n, 0,
                                    np.asarray(data.X_solver.T @ y_solver).ravel() / n,
                                    col_sq / n)
        penalty = self._build_penalty(p, col_sq / n, alpha=alpha)
        return solve_linear_model(self, data.X_solver, y_solver, penalty, Quadratic(),
                                  w_init=w_init, X_mean=data.X_mean, row_scale=data.row_scale)


class _FixedPenaltyRegression(SparseLinearRegression):
    """Base of the one-penalty regressors (MCP, SCAD) with skglm's constructor.

    The penalty name and its unused parameters are class attributes (not
    constructor parameters); the subclasses only set the name and the default
    ``gamma`` of their ``__init__`` signature.
    """

    _parameter_constraints = {k: v for k, v in _COMMON_CONSTRAINTS.items()
                              if k in ("alpha", "gamma", "weights", "fit_intercept", "max_iter",
                                       "max_epochs", "tol", "warm_start", "positive", "p0",
                                       "verbose")}
    _test_params = {"tol": 1e-6}

    l1_ratio, eps, k, nonconvex, groups, group_weights = 0.5, 1.0, 1, False, None, None
    solver = "cd"  # nonconvex: block coordinate descent supports convex separable penalties

    def _set_params(self, alpha, gamma, weights, max_iter, max_epochs, p0, verbose, tol,
                    positive, fit_intercept, warm_start):
        self.alpha = alpha
        self.gamma = gamma
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.p0 = p0
        self.verbose = verbose


class MCPRegression(_FixedPenaltyRegression):
    """Least squares with the minimax concave penalty (Zhang 2010).

    ``p(t) = alpha |t| - t^2 / (2 gamma)`` for ``|t| <= gamma alpha``, else
    ``gamma alpha^2 / 2``. Same parameters as skglm's ``MCPRegression``.

    Parameters
    ----------
    alpha : float or "auto", default="auto"
        ``"auto"``: ``0.1 * alpha_max`` with ``alpha_max = ||X_c^T y_c||_inf / n``
        (as :class:`SparseLinearRegression`; skglm's default ``alpha=1`` gives the
        all-zero model on standardized data).
    gamma : float, default=3.0
        Concavity; ``np.inf`` is the lasso limit (the L1 penalty, as in skglm).
    weights : array-like of shape (n_features,), optional
        Per-feature weights of ``alpha`` (0 = unpenalised), as skglm's.
    max_iter, max_epochs, p0, verbose, tol, positive, fit_intercept, warm_start
        As :class:`SparseLinearRegression` (``tol`` bounds the KKT violation).
        The positional order is skglm's ``MCPRegression``.

    Attributes
    ----------
    coef_, intercept_, alpha_, n_iter_, active_set_iter_, converged_, certificate_, objective_

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import MCPRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 10)); y = 2 * X[:, 0] + 0.05 * rng.standard_normal(100)
    >>> np.flatnonzero(MCPRegression(alpha=0.1).fit(X, y).coef_).tolist()
    [0]
    """

    penalty = "mcp"

    # positional order of skglm's MCPRegression
    def __init__(self, alpha="auto", gamma=3.0, weights=None, max_iter=50, max_epochs=50_000,
                 p0=10, verbose=0, tol=1e-4, positive=False, fit_intercept=True,
                 warm_start=False):
        self._set_params(alpha, gamma, weights, max_iter, max_epochs, p0, verbose, tol,
                         positive, fit_intercept, warm_start)


class SCADRegression(_FixedPenaltyRegression):
    """Least squares with the SCAD penalty (Fan & Li 2001), ``gamma = a > 1`` (3.7).

    Parameters
    ----------
    alpha : float or "auto", default="auto"
        As :class:`MCPRegression`.
    gamma : float, default=3.7
        ``np.inf`` is the lasso limit (the L1 penalty).
    weights : array-like of shape (n_features,), optional
        Per-feature weights of ``alpha`` (0 = unpenalised).
    max_iter, max_epochs, p0, verbose, tol, positive, fit_intercept, warm_start
        As :class:`SparseLinearRegression`; positional order as :class:`MCPRegression`.

    Attributes
    ----------
    coef_, intercept_, alpha_, n_iter_, active_set_iter_, converged_, certificate_, objective_

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import SCADRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 10)); y = 2 * X[:, 0] + 0.05 * rng.standard_normal(100)
    >>> np.flatnonzero(SCADRegression(alpha=0.1).fit(X, y).coef_).tolist()
    [0]
    """

    penalty = "scad"

    # positional order of skglm's MCPRegression
    def __init__(self, alpha="auto", gamma=3.7, weights=None, max_iter=50, max_epochs=50_000,
                 p0=10, verbose=0, tol=1e-4, positive=False, fit_intercept=True,
                 warm_start=False):
        self._set_params(alpha, gamma, weights, max_iter, max_epochs, p0, verbose, tol,
                         positive, fit_intercept, warm_start)


class SparseLogisticRegression(LinearClassifierMixin, _PenalizedBase):
    """Binary logistic regression with any registered sparse penalty.

    Minimises ``(1/n) sum_i s_i log(1 + exp(-y_i (x_i^T w + b))) + sum_j p_j(w_j)``
    with ``y`` mapped to {-1, 1}; the intercept ``b`` is unpenalised (no L1 nor
    ridge part, as in scikit-learn and skglm) and not sign-constrained by
    ``positive``. ``alpha = 1 / (n C)`` is scikit-learn's ``C`` (unit weights).

    Parameters
    ----------
    alpha : float or "auto", default="auto"
        ``"auto"``: ``alpha_ = 0.1 * alpha_max`` computed at fit, with the
        rules of :class:`SparseLinearRegression` applied to the logistic loss's
        gradient at ``w = 0`` (intercept at ``log(s_+ / s_-)``): for l1,
        ``alpha_max = ||X^T (y01 - p0)||_inf / n``. Coordinate curvatures are
        ``sum_i s_i x_ij^2 / (4 n)`` (of the centred columns, see below).
    l1_ratio : float, optional
        As skglm's: with ``penalty="l1"``, a value below 1 gives the elastic
        net ``alpha (l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2)``; with
        ``penalty="elasticnet"`` the mix (None: 0.5).
    tol, max_iter, max_epochs, verbose, fit_intercept, warm_start
        Solver parameters (positional order of skglm's
        ``SparseLogisticRegression``; the rest are keyword-only). l1 and elasticnet: stop when the duality gap is
        ``<= tol * f(0)`` (``f(0) = log 2`` with unit weights). Other penalties:
        when the largest KKT violation is ``<= tol * ||grad f(0)||_inf``. The
        solver stops early, unconverged and with a ``ConvergenceWarning`` naming
        the cause, when the certificate stalls at the rounding floor or when no
        minimiser exists (classes separated by coefficients on which the
        penalty is flat, e.g. MCP / SCAD beyond ``gamma * alpha``).
        With ``fit_intercept=True`` the features are centred (means weighted
        by ``sample_weight``) for the solve and the intercept shifted back
        (``b = b' - m^T w``): the same problem, objective and certificate,
        but coordinate descent no longer crawls on columns far off centre
        (nearly parallel to the intercept column). Dense ``X`` is centred in
        a copy; sparse ``X`` is centred implicitly inside the compiled
        kernel, never densified, on the columns whose non-zeros carry at
        least half of the sample weight (a sparser column is not close to
        the intercept's direction, and centring it would make its
        coordinate updates O(n_samples) instead of O(nnz)). With a
        ``BlockCoordinateDescent`` solver sparse ``X`` is not centred.
    penalty : str or penalty object, default="l1"
        As :class:`SparseLinearRegression`, except ``"cel0"`` (its thresholds
        are exact for the least-squares loss only): ``ValueError``.
    gamma, eps, k, nonconvex, groups, group_weights, weights
        Penalty parameters, as :class:`SparseLinearRegression`.
    positive, p0
        As :class:`SparseLinearRegression`.
    solver : "cd" or BlockCoordinateDescent, default="cd"
        As :class:`SparseLinearRegression` (``"l1"`` and ``"elasticnet"``).
        With a ``BlockCoordinateDescent`` instance the logistic loss is
        summed over samples (times ``n``, so ``alpha`` means the same) and
        ``sample_weight`` is supported exactly by rescaling the rows; the
        intercept is a coordinate with L1 weight 0 and no ridge part, as with
        ``"cd"``.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    alpha_ : float
        The penalty strength used (``alpha``, or its ``"auto"`` value).
    dual_gap_ : float or None
        Duality gap at the solution (l1 and elasticnet; None for the others),
        in the objective's units: an upper bound of ``objective_ - min``.
    n_iter_, active_set_iter_, converged_, certificate_, objective_, n_features_in_

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import SparseLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 10)); y = (X[:, 0] - X[:, 1] > 0).astype(int)
    >>> clf = SparseLogisticRegression(alpha=0.05).fit(X, y)
    >>> np.flatnonzero(clf.coef_[0]).tolist(), clf.score(X, y) > 0.9
    ([0, 1], True)
    """

    _test_params = [{"alpha": 0.01, "tol": 1e-6}, {"alpha": 0.01, "l1_ratio": 0.5, "tol": 1e-6}]
    _parameter_constraints = {**_COMMON_CONSTRAINTS,
                              "l1_ratio": [Interval(numbers.Real, 0, 1, closed="right"), None]}

    # positional order of skglm's SparseLogisticRegression (scikit-learn's LogisticRegression
    # takes ``penalty`` first: keyword-only here)
    def __init__(self, alpha="auto", l1_ratio=None, tol=1e-4, max_iter=50, max_epochs=50_000,
                 verbose=0, fit_intercept=True, warm_start=False, *, penalty="l1", gamma=None,
                 eps=1.0, k=1, nonconvex=False, groups=None, group_weights=None, weights=None,
                 positive=False, p0=10, solver="cd"):
        super().__init__(penalty=penalty, alpha=alpha, gamma=gamma, l1_ratio=l1_ratio, eps=eps,
                         k=k, nonconvex=nonconvex, groups=groups, group_weights=group_weights,
                         weights=weights, fit_intercept=fit_intercept, max_iter=max_iter,
                         max_epochs=max_epochs, tol=tol, warm_start=warm_start,
                         positive=positive, p0=p0, verbose=verbose, solver=solver)

    def fit(self, X, y, sample_weight=None):
        """Fit the classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two classes.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, rescaled to sum to ``n_samples``.

        Returns
        -------
        self : object
        """
        validate_params(self)
        if self.penalty == "l1" and self.l1_ratio is not None and self.l1_ratio < 1:
            return self._fit_skglm_elasticnet(X, y, sample_weight)
        if self.penalty == "cel0":
            raise ValueError(
                "penalty='cel0' is the exact continuous relaxation of the l0 penalty for the "
                "least-squares loss only (its thresholds come from the columns' norms under "
                "that loss); it is not one for the logistic loss. Use penalty='l0' or 'mcp' "
                "with SparseLogisticRegression.")
        xp, is_api, device = get_namespace_and_device(X)
        X, y = check_X_y(self, X, y, accept_sparse=("csc", "csr", "coo"), y_numeric=False)
        if is_api:
            X, y = to_numpy(X), to_numpy(y)
        y = np.asarray(y)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target != "binary":
            raise ValueError("Only binary classification is supported. The type of the target "
                             f"is {target}.")
        self.classes_ = np.unique(y)
        if self.classes_.size != 2:
            raise ValueError(f"{type(self).__name__} needs 2 classes, got 1 class "
                             f"({self.classes_.size} label in y).")
        sw = check_sample_weight(to_numpy(sample_weight), X)
        if sw is not None and np.unique(y[sw > 0]).size < 2:
            raise ValueError(f"{type(self).__name__} needs samples of 2 classes with positive "
                             "weight; only one class is left after removing zero weights.")
        dtype = X.dtype
        y_pm = np.where(y == self.classes_[1], 1.0, -1.0).astype(dtype)
        n, p = X.shape
        # the intercept is an unpenalised column of ones; with positive=True (which the
        # solver applies to every coordinate) it is b = b_plus - b_minus, two such columns
        # of +1 and -1, both >= 0, so that b itself is not sign-constrained
        n_free = (2 if self.positive else 1) if self.fit_intercept else 0
        free_cols = np.array([1.0, -1.0], dtype)[:n_free] * np.ones((n, 1), dtype)
        datafit = Logistic(sw)
        s = datafit.weights(n)
        # with an intercept the features are centred (weighted mean m): with b unpenalised,
        # x^T w + b = (x - m)^T w + (b + m^T w) is the same problem in (w, b' = b + m^T w),
        # same objective, same duality gap, but without the near-collinearity of an
        # off-centre column and the column of ones that makes coordinate descent crawl
        # (features at mean 100 and unit spread took 8 s instead of 0.05 s on 100 x 2).
        # Dense X: a centred copy. CSC X: implicit centring in the solver (never densified)
        # of its mostly non-zero columns (see _sparse_centring).
        shift, X_mean = None, None
        if n_free:
            mean = _weighted_column_means(X, s)
            if not np.all(np.isfinite(mean)):  # the columns' scale overflows: say so
                _check_column_scale(type(self).__name__, X, column_sq_norms(X))
            if not sp.issparse(X):
                shift = mean.astype(dtype)
            elif isinstance(self.solver, str):  # (BlockCoordinateDescent: uncentred)
                shift = _sparse_centring(X, s, mean).astype(dtype)
        if sp.issparse(X):
            X_aug = sp.hstack([X, sp.csc_matrix(free_cols)], format="csc") \
                if n_free else sp.csc_matrix(X)
            X_aug = X_aug.astype(dtype)
            if shift is not None and np.any(shift):
                X_mean = np.concatenate([shift, np.zeros(n_free, dtype)])
        else:  # one Fortran-ordered copy: [X - m, intercept columns]
            X_aug = np.empty((n, p + n_free), dtype=dtype, order="F")
            np.subtract(X, 0 if shift is None else shift, out=X_aug[:, :p])
            X_aug[:, p:] = free_cols
        col_sq = column_sq_norms(X_aug)
        _check_column_scale(type(self).__name__, X_aug, col_sq)
        # -grad f at w = 0 with the intercept at its optimum log(s+ / s-) when fitted
        s_pos, s_neg = float(s[y_pm > 0].sum()), float(s[y_pm < 0].sum())
        z0 = np.full(n, np.log(s_pos / s_neg) if n_free else 0.0)
        raw0 = datafit.raw_gradient(y_pm.astype(np.float64), z0)
        neg_grad0 = -np.asarray(X_aug.T @ raw0).ravel()
        if sp.issparse(X_aug):
            # the norms and curvatures of the centred columns, as for dense X (the same
            # alpha_ and penalty whatever the storage and the columns the solver centres)
            full_mean = np.concatenate([mean, np.zeros(n_free)]) if n_free else None
            if n_free:
                neg_grad0 += full_mean * float(raw0.sum())
                col_sq = _sparse_col_sq(X_aug, None, full_mean)
            lipschitz = datafit.lipschitz(_sparse_col_sq(X_aug, s, full_mean), n)
        else:
            lipschitz = datafit.lipschitz(np.einsum("ij,ij,i->j", X_aug, X_aug, s), n)
        alpha = self._resolve_alpha(p, col_sq / n, n_free, neg_grad0, lipschitz)
        penalty = self._build_penalty(p, col_sq / n, n_free=n_free, alpha=alpha)
        w_init = None
        if self.warm_start and hasattr(self, "coef_"):
            b = float(np.atleast_1d(to_numpy(self.intercept_))[0])
            if shift is not None and to_numpy(self.coef_).size == p:  # b' = b + m^T w
                b += float(shift.astype(np.float64) @ to_numpy(self.coef_).ravel())
            prev = np.concatenate([to_numpy(self.coef_).ravel(),
                                   [b, 0.0][:n_free] if n_free < 2 else [max(b, 0), max(-b, 0)]])
            w_init = prev.astype(dtype) if prev.shape == (p + n_free,) else None
        result = solve_linear_model(self, X_aug, y_pm, penalty, datafit, w_init=w_init,
                                    X_mean=X_mean)
        w = np.asarray(result.coef, dtype=dtype)
        coef = w[:p][None, :]
        b = float(w[p:].astype(np.float64) @ [1.0, -1.0][:n_free]) if n_free else 0.0
        if shift is not None:  # back from b' = b + m^T w
            b -= float(shift.astype(np.float64) @ w[:p].astype(np.float64))
        intercept = np.array([b], dtype=dtype)
        return set_fit_attributes(self, [result], coef, intercept, xp, is_api, device)

    def _fit_skglm_elasticnet(self, X, y, sample_weight):
        """``penalty="l1"`` with ``l1_ratio < 1``: skglm's meaning (L1 + L2), fitted as elasticnet."""
        from sklearn.base import clone

        inner = clone(self).set_params(penalty="elasticnet")
        if self.warm_start and hasattr(self, "coef_"):
            inner.coef_, inner.intercept_ = self.coef_, self.intercept_
        inner.fit(X, y, sample_weight)
        self.__dict__.update({key: val for key, val in inner.__dict__.items()
                              if key.endswith("_") and not key.startswith("_")})
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.array_api_support = False
        return tags
