"""Edge stability of a DAG learner over bootstrap resamples."""
from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.utils import check_array, check_random_state

from ..utils._array_api import to_numpy

__all__ = ["bootstrap_edges"]


def _fit_adjacency(estimator, X, rows):
    return to_numpy(clone(estimator).fit(X[rows]).adjacency_).astype(np.float64)


def bootstrap_edges(estimator, X, n_bootstrap=20, *, n_jobs=None, random_state=None):
    """Fraction of bootstrap resamples in which each edge is selected.

    Refits a clone of ``estimator`` on ``n_bootstrap`` resamples of the rows of
    X (drawn with replacement) and averages the ``adjacency_`` matrices. The
    fits run through joblib, so ``n_jobs`` or an enclosing
    ``joblib.parallel_config(backend=...)`` (``"dask"`` to use a dask
    cluster) decides where. All resamples are drawn before the first fit, so
    a fixed ``random_state`` gives the same frequencies on every backend and
    number of workers.

    Parameters
    ----------
    estimator : CoLiDE or DAGMA (any estimator with ``adjacency_`` after ``fit``)
        Not modified; clones are fitted.
    X : array-like of shape (n_samples, n_nodes)
    n_bootstrap : int, default=20
        Number of resamples.
    n_jobs : int, optional
        joblib workers (``-1``: all cores; None: the enclosing
        ``parallel_config``, else 1).
    random_state : int, RandomState, Generator or None
        Seeds the resampling.

    Returns
    -------
    frequencies : ndarray of shape (n_nodes, n_nodes)
        ``frequencies[i, j]`` is the fraction of resamples with edge i -> j.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.causal import DAGMA, bootstrap_edges
    >>> rng = np.random.default_rng(0)
    >>> x0 = rng.standard_normal(300)
    >>> X = np.column_stack([x0, 2.0 * x0 + rng.standard_normal(300)])
    >>> freq = bootstrap_edges(DAGMA(warm_iter=2000, max_iter=3000, lr=3e-3), X, n_bootstrap=4,
    ...                        random_state=0)
    >>> freq.tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    if not (isinstance(n_bootstrap, (int, np.integer)) and n_bootstrap >= 1):
        raise ValueError(f"n_bootstrap must be a positive int, got {n_bootstrap!r}.")
    X = check_array(to_numpy(X) if not isinstance(X, np.ndarray) else X,
                    dtype=(np.float64, np.float32), input_name="X")
    n = X.shape[0]
    if isinstance(random_state, np.random.Generator):
        resamples = [random_state.integers(0, n, size=n) for _ in range(n_bootstrap)]
    else:
        rng = check_random_state(random_state)
        resamples = [rng.randint(0, n, size=n) for _ in range(n_bootstrap)]
    adjacencies = Parallel(n_jobs=n_jobs)(
        delayed(_fit_adjacency)(estimator, X, rows) for rows in resamples)
    return np.mean(adjacencies, axis=0)
