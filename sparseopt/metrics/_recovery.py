"""Recovery metrics for planted problems: relative errors and support recovery.

They follow the estimate's array namespace (NumPy, torch, array-api-strict,
...) and return Python floats / dicts of floats.
"""
from __future__ import annotations

import array_api_compat

__all__ = ["relative_error", "support_recovery", "subspace_distance"]


def _namespace(*arrays):
    return array_api_compat.array_namespace(*arrays)


def _as_array(x, like):
    xp = _namespace(like)
    if array_api_compat.is_array_api_obj(x):
        return x
    return xp.asarray(x, device=array_api_compat.device(like))


def relative_error(estimate, truth):
    """``||estimate - truth||_F / ||truth||_F`` (the RPCA success criterion).

    Parameters
    ----------
    estimate, truth : array of the same shape
        Any array-API arrays (both in the namespace of ``estimate``).

    Returns
    -------
    error : float
        ``inf`` if ``truth`` is zero and ``estimate`` is not, 0 if both are.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.metrics import relative_error
    >>> round(relative_error(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]])), 6)
    0.707107
    """
    import numpy as np

    if not array_api_compat.is_array_api_obj(estimate):
        estimate = np.asarray(estimate, dtype=float)
    truth = _as_array(truth, estimate) if array_api_compat.is_array_api_obj(truth) else \
        _namespace(estimate).asarray(np.asarray(truth, dtype=float),
                                     device=array_api_compat.device(estimate))
    if tuple(estimate.shape) != tuple(truth.shape):
        raise ValueError(f"estimate and truth have different shapes: {tuple(estimate.shape)} "
                         f"vs {tuple(truth.shape)}.")
    xp = _namespace(estimate, truth)
    num = float(xp.linalg.vector_norm(xp.reshape(estimate - truth, (-1,))))
    den = float(xp.linalg.vector_norm(xp.reshape(truth, (-1,))))
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den


def support_recovery(estimate, truth, *, atol=0.0):
    """Precision, recall and F1 of the support ``|estimate| > atol`` vs ``truth != 0``.

    Parameters
    ----------
    estimate : array
        E.g. a fitted ``sparse_``.
    truth : array of the same shape
        True sparse component.
    atol : float, default=0.0
        Entries of ``estimate`` with ``|.| <= atol`` count as zero.

    Returns
    -------
    scores : dict
        ``{"precision", "recall", "f1", "n_true", "n_found"}`` (floats / ints);
        precision is 1 when nothing is found, recall is 1 when the truth is
        empty.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.metrics import support_recovery
    >>> support_recovery(np.array([0.0, 2.0, 1e-9]), np.array([0.0, 3.0, 1.0]), atol=1e-6)
    {'precision': 1.0, 'recall': 0.5, 'f1': 0.6666666666666666, 'n_true': 2, 'n_found': 1}
    """
    import numpy as np

    if not array_api_compat.is_array_api_obj(estimate):
        estimate = np.asarray(estimate, dtype=float)
    truth = _as_array(truth, estimate) if array_api_compat.is_array_api_obj(truth) else \
        _namespace(estimate).asarray(np.asarray(truth), device=array_api_compat.device(estimate))
    if tuple(estimate.shape) != tuple(truth.shape):
        raise ValueError(f"estimate and truth have different shapes: {tuple(estimate.shape)} "
                         f"vs {tuple(truth.shape)}.")
    xp = _namespace(estimate, truth)
    found = xp.abs(estimate) > atol
    true = truth != 0
    n_found = int(xp.sum(xp.astype(found, xp.int64)))
    n_true = int(xp.sum(xp.astype(true, xp.int64)))
    hits = int(xp.sum(xp.astype(found & true, xp.int64)))
    precision = hits / n_found if n_found else 1.0
    recall = hits / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_true": n_true,
            "n_found": n_found}


def subspace_distance(A, B):
    """Sine of the largest principal angle between the row spaces of ``A`` and ``B``.

    ``A`` (k1 x n) and ``B`` (k2 x n) have orthonormal rows (e.g. two
    ``components_``). Returns ``||(I - B^T B) A^T||_2`` in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.metrics import subspace_distance
    >>> subspace_distance(np.eye(3)[:1], np.eye(3)[:2])
    0.0
    """
    import numpy as np

    if not array_api_compat.is_array_api_obj(A):
        A = np.asarray(A, dtype=float)
    B = _as_array(B, A) if array_api_compat.is_array_api_obj(B) else \
        _namespace(A).asarray(np.asarray(B, dtype=float), device=array_api_compat.device(A))
    xp = _namespace(A, B)
    if A.shape[0] == 0:
        return 0.0
    R = A.T - B.T @ (B @ A.T)
    return min(1.0, float(xp.linalg.matrix_norm(R, ord=2)))
