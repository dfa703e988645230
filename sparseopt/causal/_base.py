"""Shared estimator plumbing of the linear DAG learners (CoLiDE, DAGMA)."""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator

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
from ._path_following import SCHEDULES, SCORES, path_following

# a column-std ratio above this triggers the scale warning (spec sec. 11, pitfall 6);
# ER4 graphs with weights up to 2 already reach ratios of a few hundred by propagation
_SCALE_RATIO_WARNING = 1e4


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
        "standardize": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # engine settings chosen by the subclass
    _score_name = "ev"
    _domain_tol = 1e-6

    def _score(self):
        return self._score_name

    def _loss(self):
        return "l2"

    def _sigma_floor(self, sigma_init):
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
            One column per node; never modified (a centred copy is used).
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
        X_host = to_numpy(X) if is_api else X
        dtype = X_host.dtype
        # one C-ordered float64 copy: the caller's array is never touched and the
        # result does not depend on the input's memory layout
        X64 = np.array(X_host, dtype=np.float64, order="C", copy=True)
        n, d = X64.shape

        forbidden = _edge_mask(self.exclude_edges, d, "exclude_edges")
        required = _edge_mask(self.include_edges, d, "include_edges")
        if np.any(forbidden & required):
            i, j = np.argwhere(forbidden & required)[0]
            raise ValueError(f"Edge ({i}, {j}) is both in exclude_edges and include_edges.")
        if not is_dag(required):
            raise ValueError("include_edges contains a directed cycle; no DAG can hold them all.")

        loss = self._loss()
        if loss == "l2":
            X64 -= X64.mean(axis=0)
            scales = np.sqrt(np.mean(X64 ** 2, axis=0))
            if self.standardize:
                X64 /= np.where(scales > 0, scales, 1.0)
            elif scales.min() > 0 and scales.max() / scales.min() > _SCALE_RATIO_WARNING:
                warnings.warn(
                    f"{type(self).__name__}: column scales differ by a factor "
                    f"{scales.max() / scales.min():.0f}; linear DAG scores are not scale "
                    "invariant. standardize=True rescales the columns, but that also removes "
                    "the variance information the score relies on (CoLiDE-NV degrades on "
                    "standardised heteroscedastic data).", UserWarning, stacklevel=2)
        Sigma = X64.T @ X64 / n

        score = self._score()
        sigma_init = SCORES[score].initial_scale(X64)
        schedule = self._schedule()
        required_floor = max(self.w_threshold, 1e-3) if required.any() else 0.0
        result = path_following(
            Sigma, score=score, loss=loss, X=X64 if loss == "logistic" else None,
            sigma_init=sigma_init, lambda1=self.lambda1, T=schedule["T"], mu_init=self.mu_init,
            mu_factor=self.mu_factor, s=schedule["s"], warm_iter=schedule["warm_iter"],
            max_iter=schedule["max_iter"], lr=self.lr, checkpoint=self.checkpoint, tol=self.tol,
            sigma_floor=self._sigma_floor(sigma_init), domain_tol=self._domain_tol,
            free_mask=~forbidden, required_mask=required, required_floor=required_floor,
            verbose=self.verbose)

        W_raw = result.x
        W_dag, n_removed = threshold_to_dag(W_raw, self.w_threshold, repair=self.repair,
                                            required=required)
        adjacency = ((W_dag != 0) | required).astype(np.int64)
        check_finite_result(type(self).__name__, W_raw, result.sigma)
        if not result.converged:
            warn_not_converged(type(self).__name__, n_iter=result.n_iter,
                               certificate=result.certificate, tol=self.tol,
                               certificate_name=result.certificate_name,
                               advice="Consider increasing max_iter (last stage) or lr.")

        def out(a, kind=dtype):
            a = np.asarray(a).astype(kind)
            return from_numpy(a, xp, device) if is_api else a

        self.W_raw_ = out(W_raw)
        self.W_ = out(W_dag)
        self.adjacency_ = out(adjacency, np.int64)
        self._set_scale(result.sigma, out)
        self.h_ = float(result.h)
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        self.n_edges_removed_ = int(n_removed)
        self.stage_log_ = list(result.stages)
        return self

    def _set_scale(self, sigma, out):
        """Subclasses store the scale they estimate."""

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
        return mark_host_roundtrip(tags)
