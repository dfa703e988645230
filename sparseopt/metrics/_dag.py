"""Structure-recovery metrics for DAGs (structural Hamming distance, TPR, FDR).

Convention: ``B[i, j] != 0`` is the edge i -> j. ``count_accuracy`` follows
NOTEARS / DAGMA / gCastle: a predicted edge whose reverse is a true edge is a
*reversal*; it counts once in the SHD by default (``reversal_cost=2`` gives
cdt's ``SHD(double_for_anticausal=True)``).
"""
from __future__ import annotations

import numpy as np

from ..utils.graph import is_dag

__all__ = ["count_accuracy", "shd"]


def _check_pair(B_true, B_est):
    B_true = np.asarray(B_true)
    B_est = np.asarray(B_est)
    for name, B in (("B_true", B_true), ("B_est", B_est)):
        if B.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be a real adjacency matrix, got dtype {B.dtype}.")
        if B.dtype.kind == "f" and not np.all(np.isfinite(B)):
            raise ValueError(f"{name} contains NaN or inf.")
    if B_true.ndim != 2 or B_true.shape[0] != B_true.shape[1]:
        raise ValueError(f"B_true must be a square matrix, got shape {B_true.shape}.")
    if B_est.shape != B_true.shape:
        raise ValueError(f"B_est has shape {B_est.shape}, expected {B_true.shape} like B_true.")
    if B_est.dtype == bool:
        B_est = B_est.astype(np.int64)
    if not np.all(np.isin(B_est, (0, 1, -1))):
        raise ValueError("B_est must be a 0/1 adjacency (e.g. W_est != 0), with -1 only for "
                         "undirected CPDAG edges.")
    return B_true != 0, B_est


def count_accuracy(B_true, B_est, *, reversal_cost=1):
    """Compare an estimated graph with the true DAG (NOTEARS conventions).

    Parameters
    ----------
    B_true : array-like of shape (d, d)
        True DAG; nonzero entries are edges i -> j (weights allowed).
    B_est : array-like of shape (d, d)
        Estimated graph: 0/1 (or bool) adjacency of a DAG, or a CPDAG where
        ``B_est[i, j] = -1`` marks the undirected edge i - j (given once).
    reversal_cost : {1, 2}, default=1
        SHD cost of a predicted edge whose direction is reversed. 1 is the
        NOTEARS/DAGMA/gCastle convention (a reversal is one flip); 2 is cdt's
        ``SHD(double_for_anticausal=True)`` (one deletion plus one addition).

    Returns
    -------
    metrics : dict
        ``fdr`` = (reversed + false positives) / predicted,
        ``tpr`` = true positives / true edges,
        ``fpr`` = (reversed + false positives) / (d(d-1)/2 - true edges),
        ``shd`` = extra skeleton edges + missing skeleton edges
        + ``reversal_cost`` x reversed, ``nnz`` = predicted edges,
        ``f1`` = harmonic mean of precision (1 - fdr) and tpr,
        ``reversed`` = number of reversals.

    Raises
    ------
    ValueError
        If shapes differ, B_est is not 0/1(/-1), or B_est is a directed graph
        with a cycle.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.metrics import count_accuracy
    >>> B_true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> B_est = np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]])  # 1 -> 2 reversed
    >>> m = count_accuracy(B_true, B_est)
    >>> m["shd"], m["tpr"], m["fdr"]
    (1, 0.5, 0.5)
    >>> count_accuracy(B_true, B_est, reversal_cost=2)["shd"]
    2
    """
    if reversal_cost not in (1, 2):
        raise ValueError(f"reversal_cost must be 1 or 2, got {reversal_cost!r}.")
    true, B_est = _check_pair(B_true, B_est)
    d = true.shape[0]
    undirected = B_est == -1
    directed = B_est == 1
    if undirected.any():
        if np.any(undirected & undirected.T):
            raise ValueError("An undirected CPDAG edge (-1) must appear once, not as both "
                             "B_est[i, j] and B_est[j, i].")
    elif not is_dag(directed):
        raise ValueError("B_est is not a DAG (it has a directed cycle); pass a DAG or a CPDAG "
                         "with -1 for undirected edges.")
    skeleton = true | true.T
    true_pos = np.sum(directed & true) + np.sum(undirected & skeleton)
    reversed_ = np.sum(directed & ~true & true.T)
    false_pos = np.sum(directed & ~skeleton) + np.sum(undirected & ~skeleton)
    n_pred = int(np.sum(directed) + np.sum(undirected))
    n_true = int(np.sum(true))
    cond_neg = 0.5 * d * (d - 1) - n_true
    fdr = float(reversed_ + false_pos) / max(n_pred, 1)
    tpr = float(true_pos) / max(n_true, 1)
    fpr = float(reversed_ + false_pos) / max(cond_neg, 1)
    pred_skeleton = np.tril((directed | undirected) | (directed | undirected).T)
    true_skeleton = np.tril(skeleton)
    extra = int(np.sum(pred_skeleton & ~true_skeleton))
    missing = int(np.sum(true_skeleton & ~pred_skeleton))
    shd_value = extra + missing + reversal_cost * int(reversed_)
    precision = 1.0 - fdr if n_pred else 0.0
    f1 = 0.0 if precision + tpr == 0 else 2 * precision * tpr / (precision + tpr)
    return {"fdr": fdr, "tpr": tpr, "fpr": fpr, "shd": shd_value, "nnz": n_pred, "f1": f1,
            "reversed": int(reversed_)}


def shd(B_true, B_est, *, reversal_cost=1):
    """Structural Hamming distance between two graphs (see :func:`count_accuracy`).

    Examples
    --------
    >>> from sparseopt.metrics import shd
    >>> B_true, B_est = [[0, 1], [0, 0]], [[0, 0], [1, 0]]
    >>> shd(B_true, B_est), shd(B_true, B_est, reversal_cost=2)
    (1, 2)
    """
    return count_accuracy(B_true, B_est, reversal_cost=reversal_cost)["shd"]
