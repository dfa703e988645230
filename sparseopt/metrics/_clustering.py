"""Clustering metrics: mis-clustering error under the best label matching."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["misclustering_error"]


def misclustering_error(labels_true, labels_pred):
    """Fraction of points mislabelled under the best matching of the labels.

    ``min over label permutations pi of mean(labels_true != pi(labels_pred))``,
    computed by the Hungarian algorithm on the confusion matrix; the two
    labellings may use different numbers of clusters (unmatched clusters
    count as errors).

    Parameters
    ----------
    labels_true, labels_pred : array-like of shape (n_samples,)
        Integer or string labels (any array namespace; copied to the host).

    Returns
    -------
    error : float in [0, 1)

    Examples
    --------
    >>> from sparseopt.metrics import misclustering_error
    >>> misclustering_error([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.2
    """
    from ..utils._array_api import to_numpy

    t = np.asarray(to_numpy(labels_true)).ravel()
    p = np.asarray(to_numpy(labels_pred)).ravel()
    if t.shape != p.shape:
        raise ValueError(f"labels_true and labels_pred must have the same length, got "
                         f"{t.shape[0]} and {p.shape[0]}.")
    if t.size == 0:
        raise ValueError("misclustering_error needs at least one sample.")
    for name, labels in (("labels_true", t), ("labels_pred", p)):
        if labels.dtype.kind == "c":
            raise TypeError(f"misclustering_error: {name} must be integer or string labels, "
                            f"got complex dtype {labels.dtype}.")
        if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
            raise ValueError(f"misclustering_error: {name} contains NaN or inf, which is not "
                             "a label.")
    _, ti = np.unique(t, return_inverse=True)
    _, pi = np.unique(p, return_inverse=True)
    confusion = np.zeros((ti.max() + 1, pi.max() + 1))
    np.add.at(confusion, (ti, pi), 1.0)
    rows, cols = linear_sum_assignment(-confusion)
    return float((t.size - confusion[rows, cols].sum()) / t.size)
