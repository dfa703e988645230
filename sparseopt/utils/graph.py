"""Directed graphs on ``d`` nodes as ``(d, d)`` matrices: checks, acyclicity, DAG repair.

``B[i, j] != 0`` is the edge ``i -> j``. Shared by the DAG estimators
(:mod:`sparseopt.causal`), their metrics and their data generators.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

__all__ = ["check_square", "check_mask", "is_dag", "topological_order", "threshold_to_dag"]


def check_square(A, name, *, dtype=np.float64, allow_empty=False):
    """A finite, real, 2-D square array (a copy is never made unless needed)."""
    if sp.issparse(A):
        A = A.toarray()
    A = check_array(A, dtype=dtype, input_name=name, ensure_min_samples=0 if allow_empty else 1,
                    ensure_min_features=0 if allow_empty else 1)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) matrix, got shape {A.shape}.")
    return A


def check_mask(mask, name, d):
    """A (d, d) 0/1 mask as float64 (a fresh array: kernels may write to it)."""
    if sp.issparse(mask):
        mask = mask.toarray()
    arr = np.asarray(mask)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a 0/1 (or boolean) matrix, got dtype {arr.dtype}.")
    if arr.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}) to match Sigma, got {arr.shape}.")
    arr = arr.astype(np.float64)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold only 0 and 1 (or booleans).")
    return arr.copy()


def topological_order(B):
    """Kahn's order of the nodes of ``B`` (``B[i, j] != 0``: i -> j), or None if cyclic."""
    B = check_square(B, "B", dtype=None, allow_empty=True) != 0
    d = B.shape[0]
    indegree = B.sum(axis=0).astype(np.int64)
    stack = [j for j in range(d) if indegree[j] == 0]
    order = []
    while stack:
        i = stack.pop()
        order.append(i)
        for j in np.flatnonzero(B[i]):
            indegree[j] -= 1
            if indegree[j] == 0:
                stack.append(j)
    return order if len(order) == d else None


def is_dag(B):
    """Whether the directed graph with adjacency ``B`` (i -> j when ``B[i, j] != 0``) is acyclic.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.utils.graph import is_dag
    >>> is_dag(np.array([[0, 1], [0, 0]])), is_dag(np.array([[0, 1], [1, 0]]))
    (True, False)
    """
    return topological_order(B) is not None


def _reaches(adj, start, target):
    """Depth-first search: is ``target`` reachable from ``start`` in boolean ``adj``?"""
    seen = np.zeros(adj.shape[0], dtype=bool)
    stack = [start]
    while stack:
        i = stack.pop()
        if i == target:
            return True
        if seen[i]:
            continue
        seen[i] = True
        stack.extend(np.flatnonzero(adj[i] & ~seen).tolist())
    return False


def threshold_to_dag(W, w_threshold=0.3, *, repair="remove_smallest", required=None):
    """Zero every ``|w| <= w_threshold`` and make the remaining graph acyclic.

    Parameters
    ----------
    W : ndarray of shape (d, d)
        Weighted adjacency (i -> j when ``W[i, j] != 0``).
    w_threshold : float
        Entries with ``|w| <= w_threshold`` are removed (CoLiDE's ``<=``; the
        DAGMA package removes ``|w| < w_threshold``).
    repair : {"remove_smallest", "greedy_insert"}
        ``"remove_smallest"`` (CoLiDE's ``to_dag``): while a cycle remains,
        delete the remaining edge of smallest ``|w|``. ``"greedy_insert"``: add
        edges by decreasing ``|w|``, skipping any edge that closes a cycle.
    required : ndarray of bool of shape (d, d), optional
        Edges that are kept whatever their weight (they must form a DAG).

    Returns
    -------
    W_dag : ndarray of shape (d, d)
        Thresholded, acyclic weights.
    n_removed : int
        Edges removed by the repair (after thresholding).
    """
    W = np.array(check_square(W, "W"), dtype=np.float64)  # a copy: W is edited below
    d = W.shape[0]
    if (isinstance(w_threshold, (bool, np.bool_)) or not isinstance(w_threshold, numbers.Real)
            or not np.isfinite(w_threshold) or w_threshold < 0):
        raise ValueError(f"w_threshold must be a non-negative finite float, got {w_threshold!r}.")
    if repair not in ("remove_smallest", "greedy_insert"):
        raise ValueError(f"repair must be 'remove_smallest' or 'greedy_insert', got {repair!r}")
    required = (np.zeros((d, d), dtype=bool) if required is None
                else check_mask(required, "required", d).astype(bool))
    W[(np.abs(W) <= w_threshold) & ~required] = 0.0
    np.fill_diagonal(W, 0.0)
    if is_dag(W):
        return W, 0
    rows, cols = np.nonzero((W != 0) & ~required)
    weights = np.abs(W[rows, cols])
    if repair == "remove_smallest":
        n_removed = 0
        for idx in np.argsort(weights, kind="stable"):
            if is_dag(W):
                break
            W[rows[idx], cols[idx]] = 0.0
            n_removed += 1
        return W, n_removed
    if repair == "greedy_insert":
        kept = required.copy()
        out = np.where(required, W, 0.0)
        n_removed = 0
        for idx in np.argsort(-weights, kind="stable"):
            i, j = rows[idx], cols[idx]
            if _reaches(kept, j, i):  # i -> j would close a cycle
                n_removed += 1
                continue
            kept[i, j] = True
            out[i, j] = W[i, j]
        return out, n_removed
    raise ValueError(f"repair must be 'remove_smallest' or 'greedy_insert', got {repair!r}")
