"""Shared estimator plumbing of the linear DAG learners (CoLiDE, DAGMA)."""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import from_numpy, get_namespace_and_device, mark_host_roundtrip, to_numpy
from ..utils.validation import (
    Interval,
    StrOptions,
    check_finite_result,
    check_X,
    validate_params,
    warn_not_converged,
)
from ._graph import is_dag, threshold_to_dag
from ._path_following import (
    ARRAY_PATHS,
    SCHEDULES,
    SCORES,
    PathOptions,
    _compute_dtype,
    path_following,
    uses_native_path,
)

# a column-std ratio above this triggers the scale warning; ER4 graphs with weights up
# to 2 already reach ratios of a few hundred by propagation
_SCALE_RATIO_WARNING = 1e4


def _column_rms(X, xp=None):
    """Root mean square of each column, as a NumPy vector (the centred columns' std)."""
    if xp is None:
        return np.sqrt(np.mean(X ** 2, axis=0))
    return to_numpy(xp.sqrt(xp.mean(X * X, axis=0))).astype(np.float64)


def _column_norms(X, xp=None):
    """Euclidean norm of each column, as a NumPy vector."""
    if xp is None:
        return np.linalg.norm(X, axis=0)
    return to_numpy(xp.linalg.vector_norm(X, axis=0)).astype(np.float64)


def _numpy_dtype(dtype):
    """The NumPy dtype of the same name as an array-API dtype (float32 / float64)."""
    return np.float32 if "float32" in str(dtype) else np.float64


class _PositiveSchedule:
    """``s``: a positive float or a non-empty sequence of positive floats."""

    def is_satisfied_by(self, value):
        if isinstance(value, (bool, np.bool_)):
            return False
        if isinstance(value, numbers.Real):
            return bool(np.isfinite(value) and value > 0)
        try:
            values = [float(v) for v in value]
        except (TypeError, ValueError):
            return False
        return len(values) > 0 and all(np.isfinite(v) and v > 0 for v in values)

    def __str__(self):
        return "a positive float or a non-empty sequence of positive floats"


def _edge_mask(edges, d, name):
    """Boolean (d, d) mask from a sequence of (i, j) pairs, with clear errors."""
    mask = np.zeros((d, d), dtype=bool)
    if edges is None:
        return mask
    try:
        pairs = np.asarray(edges)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of (i, j) node pairs; got {edges!r}.") from exc
    if pairs.size == 0:
        return mask
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        raise ValueError(
            f"{name} must be a sequence of (i, j) pairs of integer node indices, e.g. "
            f"((0, 2), (1, 3)); got {edges!r}.")
    if pairs.min() < 0 or pairs.max() >= d:
        raise ValueError(f"{name} refers to a node outside 0..{d - 1} (X has {d} columns).")
    if np.any(pairs[:, 0] == pairs[:, 1]):
        raise ValueError(f"{name} contains a self-loop (i, i); a DAG has none.")
    mask[pairs[:, 0], pairs[:, 1]] = True
    return mask


class _LinearDAGBase(BaseEstimator):
    """Common ``fit`` of the linear DAG learners; subclasses set the score."""

    _common_constraints = {
        "lambda1": [Interval(numbers.Real, 0, None, closed="left")],
        "w_threshold": [Interval(numbers.Real, 0, None, closed="left")],
        "T": [Interval(numbers.Integral, 1, None, closed="left")],
        "mu_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "mu_factor": [Interval(numbers.Real, 0, 1, closed="right")],
        "s": [_PositiveSchedule()],
        "warm_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "schedule": [None, StrOptions(set(SCHEDULES))],
        "checkpoint": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "exclude_edges": [None, "array-like"],
        "include_edges": [None, "array-like"],
        "repair": [StrOptions({"remove_smallest", "greedy_insert"})],
        "standardize": ["boolean", StrOptions({"columns", "global"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "array_path": [StrOptions(set(ARRAY_PATHS))],
    }

    # engine settings chosen by the subclass
    _score_name = "ev"
    _domain_tol = 1e-6
    # without rescaling, a smallest column standard deviation outside this range warns that
    # the unit of the data decides the graph (``benchmarks/compare/dag.py --scale``: CoLiDE-EV
    # kept its SHD for factors 1-5 of unit-noise data and lost it at 0.5 and 10; DAGMA, whose
    # score grows with the square of the unit, kept it for 1-2 and lost it at 0.5 and 5)
    _unit_range = (0.7, 7.0)

    def _score(self):
        return self._score_name

    def _loss(self):
        return "l2"

    def _sigma_floor(self, sigma_init, unit):
        """Lower bound of the scale in the units of the fitted data (``unit``: divisor)."""
        return None

    def _schedule(self):
        if self.schedule is not None:
            return SCHEDULES[self.schedule]
        return dict(T=self.T, s=self.s, warm_iter=self.warm_iter, max_iter=self.max_iter)

    def fit(self, X, y=None):
        """Learn a weighted DAG from the columns of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_nodes)
            One column per node; never modified (a centred copy is used). A
            pandas DataFrame's column names become ``feature_names_in_`` and
            label :meth:`to_frame`. With scikit-learn's ``array_api_dispatch``
            on, torch / CuPy / array-api-strict arrays are fitted in their
            namespace and on their device (``array_path``) and give fitted
            arrays there.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        validate_params(self)
        xp, is_api, device = get_namespace_and_device(X)
        # one sample has no spread once centred: no noise scale, no score
        X = check_X(self, X, ensure_min_samples=2)
        n, d = X.shape
        dtype = X.dtype

        forbidden = _edge_mask(self.exclude_edges, d, "exclude_edges")
        required = _edge_mask(self.include_edges, d, "include_edges")
        if np.any(forbidden & required):
            i, j = np.argwhere(forbidden & required)[0]
            raise ValueError(f"Edge ({i}, {j}) is both in exclude_edges and include_edges.")
        if not is_dag(required):
            raise ValueError("include_edges contains a directed cycle; no DAG can hold them all.")

        loss = self._loss()
        # non-NumPy arrays are fitted in their namespace and on their device, NumPy by the
        # compiled loop, unless array_path forces one of the two (PathOptions.array_path)
        native = uses_native_path(self.array_path, is_api)
        if native:
            # the data stay in X's namespace and device; a float64 copy where the device has it
            X64 = xp.astype(X, _compute_dtype(xp, device), copy=True)
            if loss == "l2":
                X64 = X64 - xp.mean(X64, axis=0)
        else:
            # one C-ordered float64 copy: the caller's array is never touched and the
            # result does not depend on the input's memory layout
            X64 = np.array(to_numpy(X) if is_api else X, dtype=np.float64, order="C", copy=True)
            if loss == "l2":
                X64 -= X64.mean(axis=0)
        unit = 1.0
        if loss == "l2":
            divisor, unit = self._rescaling(_column_rms(X64, xp if native else None))
            if divisor is not None:
                X64 = X64 / (xp.asarray(divisor, dtype=X64.dtype, device=device) if native
                             else divisor)
        column_std = _column_norms(X64, xp if native else None) / np.sqrt(n)
        Sigma = X64.T @ X64 / n

        score = self._score()
        sigma_init = SCORES[score].initial_scale(column_std)
        options = PathOptions(
            lambda1=self.lambda1, mu_init=self.mu_init, mu_factor=self.mu_factor, lr=self.lr,
            checkpoint=self.checkpoint, tol=self.tol, domain_tol=self._domain_tol,
            required_floor=max(self.w_threshold, 1e-3) if required.any() else 0.0,
            verbose=self.verbose, array_path=self.array_path, **self._schedule())
        result = path_following(
            Sigma, options, score=score, loss=loss, X=X64 if loss == "logistic" else None,
            sigma_init=sigma_init, sigma_floor=self._sigma_floor(sigma_init, unit),
            free_mask=~forbidden, required_mask=required)

        # thresholding and DAG repair are graph algorithms on the (d, d) weights: host side
        W_raw = to_numpy(result.x) if native else result.x
        sigma = (to_numpy(result.sigma) if native else result.sigma) * unit
        W_dag, n_removed = threshold_to_dag(W_raw, self.w_threshold, repair=self.repair,
                                            required=required)
        adjacency = ((W_dag != 0) | required).astype(np.int64)
        check_finite_result(type(self).__name__, W_raw, sigma)
        if not result.converged:
            warn_not_converged(type(self).__name__, n_iter=result.n_iter,
                               certificate=result.certificate, tol=self.tol,
                               certificate_name=result.certificate_name,
                               advice="Consider increasing max_iter (last stage) or lr.")

        def out(a, kind=None):
            a = np.asarray(a).astype(_numpy_dtype(dtype) if kind is None else kind)
            return from_numpy(a, xp, device) if is_api else a

        self.W_raw_ = out(W_raw)
        self.W_ = out(W_dag)
        self.adjacency_ = out(adjacency, np.int64)
        self._set_scale(sigma, out)
        self.h_ = float(result.h)
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.n_edges_removed_ = int(n_removed)
        self.stage_log_ = list(result.stages)
        return self

    def _rescaling(self, column_std):
        """``(divisor, unit)``: the columns are divided by ``divisor`` (None: unchanged) and
        the fitted scale is multiplied by ``unit`` to return to the data's units."""
        mode = self.standardize
        positive = column_std[column_std > 0]
        if mode is True or mode == "columns":
            return np.where(column_std > 0, column_std, 1.0), 1.0
        if mode == "global":
            # one number for every column: W is unchanged by it, sigma comes back in X's units
            unit = float(np.min(positive)) if positive.size else 1.0
            return np.full_like(column_std, unit), unit
        if positive.size:
            ratio = float(positive.max() / positive.min())
            if ratio > _SCALE_RATIO_WARNING:
                warnings.warn(
                    f"{type(self).__name__}: column scales differ by a factor {ratio:.0f}; "
                    "linear DAG scores are not scale invariant. standardize='columns' "
                    "rescales each column, but that also removes the variance information the "
                    "score relies on (CoLiDE-NV degrades on standardised heteroscedastic "
                    "data).", UserWarning, stacklevel=3)
            smallest = float(positive.min())
            low, high = self._unit_range
            if not low <= smallest <= high:
                warnings.warn(
                    f"{type(self).__name__}: the smallest column standard deviation is "
                    f"{smallest:.3g}; lambda1 and the mu path are calibrated for noise standard "
                    "deviations near 1, and the learned graph changes with the unit of the data "
                    "(the score grows with it, the L1 and acyclicity terms do not). Pass "
                    "standardize='global' to divide all columns by one number (the graph then "
                    "does not depend on the unit) or rescale X.", UserWarning, stacklevel=3)
        return None, 1.0

    def _set_scale(self, sigma, out):
        """Subclasses store the scale they estimate."""

    def to_frame(self, weighted=False):
        """The fitted graph as a pandas DataFrame labelled by node.

        Rows are parents and columns children: ``frame.loc["a", "b"]`` is the
        edge a -> b. Labels are ``feature_names_in_`` when ``fit`` saw a
        DataFrame, ``x0, x1, ...`` otherwise.

        Parameters
        ----------
        weighted : bool, default=False
            ``W_`` (thresholded weights) instead of the 0/1 ``adjacency_``.

        Returns
        -------
        frame : pandas.DataFrame of shape (n_nodes, n_nodes)
        """
        import pandas as pd  # optional dependency: only this method needs it

        check_is_fitted(self, "W_")
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(self.n_features_in_)]
        values = to_numpy(self.W_ if weighted else self.adjacency_)
        index = pd.Index(list(names), name="parent")
        return pd.DataFrame(values, index=index, columns=pd.Index(list(names), name="child"))

    def bootstrap_edges(self, X, n_bootstrap=20, n_jobs=None):
        """Edge frequencies over bootstrap resamples of the rows of X.

        Shortcut for :func:`sparseopt.causal.bootstrap_edges` with this
        estimator's parameters and ``random_state``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_nodes)
        n_bootstrap : int, default=20
        n_jobs : int, optional
            Parallel fits through joblib.

        Returns
        -------
        frequencies : ndarray of shape (n_nodes, n_nodes)
            Fraction of resamples in which each edge i -> j was selected.
        """
        from .bootstrap import bootstrap_edges

        return bootstrap_edges(self, X, n_bootstrap=n_bootstrap, n_jobs=n_jobs,
                               random_state=self.random_state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.target_tags.required = False
        # non-NumPy arrays run the iterations in their own namespace and on their device (only
        # the (d, d) thresholding and repair are done on the host): X is never converted to
        # NumPy, unless array_path="compiled" asks for the compiled loop on a host copy
        tags.array_api_support = True
        if self.array_path == "compiled":
            tags = mark_host_roundtrip(tags)
        return tags
