"""A scorer for model selection of the linear DAG learners (GridSearchCV, cross_val_score)."""
from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import to_numpy
from ..utils.validation import check_X

__all__ = ["sem_log_likelihood"]


def sem_log_likelihood(estimator, X, y=None):
    """Mean Gaussian log-likelihood per sample of held-out data under the fitted linear SEM.

    CoLiDE and DAGMA have no ``score`` method (no target to predict); pass
    this function as ``scoring=`` to :class:`~sklearn.model_selection.GridSearchCV`
    or :func:`~sklearn.model_selection.cross_val_score`. With the fitted
    weights ``W_`` and the centred held-out data ``X``, the residuals are
    ``E = X - X W_``; each node's noise variance is profiled out on the
    held-out data (one variance for all nodes for equal-variance models:
    DAGMA and ``CoLiDE(noise="ev")``; one per node for ``CoLiDE(noise="nv")``),
    giving ``-1/2 sum_j (log(2 pi v_j) + 1)``. Higher is better. A spurious
    edge raises the held-out residual variance, a missing true edge too, so
    the score compares graphs without a known truth. Because a variance's
    logarithm enters, the score is shifted, not changed in ranking, by a
    change of the data's unit.

    Parameters
    ----------
    estimator : fitted CoLiDE or DAGMA
    X : array-like of shape (n_samples, n_nodes)
        Held-out data, one column per node (centred on a copy).
    y : None
        Ignored.

    Returns
    -------
    score : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sparseopt.causal import DAGMA, sem_log_likelihood
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.standard_normal(400)
    >>> X = np.column_stack([x0, 1.5 * x0 + rng.standard_normal(400)])
    >>> search = GridSearchCV(DAGMA(warm_iter=2000, max_iter=3000, tol=1e-3),
    ...                       {"lambda1": [0.02, 5.0]}, scoring=sem_log_likelihood, cv=2)
    >>> search.fit(X).best_params_
    {'lambda1': 0.02}
    """
    check_is_fitted(estimator, "W_")
    X = check_X(estimator, X, reset=False, ensure_min_samples=2)
    X = np.array(to_numpy(X), dtype=np.float64)
    X -= X.mean(axis=0)
    W = np.asarray(to_numpy(estimator.W_), dtype=np.float64)
    residual_var = np.mean((X - X @ W) ** 2, axis=0)
    if getattr(estimator, "noise", "ev") != "nv":
        residual_var = np.full_like(residual_var, np.mean(residual_var))
    # a constant column has no noise: its variance is floored so that the score stays finite
    residual_var = np.maximum(residual_var, np.finfo(np.float64).tiny)
    return float(-0.5 * np.sum(np.log(2 * np.pi * residual_var) + 1.0))
