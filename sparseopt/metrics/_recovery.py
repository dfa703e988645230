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
    estimate, truth = _as_float(xp, estimate, "estimate"), _as_float(xp, truth, "truth")
    # scale first: the norms of entries near 1e-200 underflow and near 1e200 overflow
    scale = max(_max_abs(xp, estimate), _max_abs(xp, truth))
    if scale == 0.0:
        return 0.0
    diff = estimate / scale - truth / scale
    num_scale, den_scale = _max_abs(xp, diff), _max_abs(xp, truth)
    if den_scale == 0.0:
        return 0.0 if num_scale == 0.0 else float("inf")
    if num_scale == 0.0:
        return 0.0
    num = float(xp.linalg.vector_norm(xp.reshape(diff / num_scale, (-1,))))
    den = float(xp.linalg.vector_norm(xp.reshape(truth / den_scale, (-1,))))
    # ||e - t|| / ||t|| = (scale num_scale num) / (den_scale den); scale / den_scale >= 1
    # overflows only when the true ratio does
    return (scale / den_scale) * num_scale * (num / den)


def _as_float(xp, x, name, real=False):
    """``x`` as a floating array of its namespace, finite (and real when ``real``)."""
    if real and xp.isdtype(x.dtype, "complex floating"):
        raise ValueError(f"{name} must be real, got complex values.")
    if not xp.isdtype(x.dtype, ("real floating", "complex floating")):
        x = xp.astype(x, xp.float64)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError(f"{name} contains NaN or inf.")
    return x


def _max_abs(xp, x):
    return float(xp.max(xp.abs(x))) if x.size else 0.0


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
    estimate = _as_float(xp, estimate, "estimate", real=True)
    truth = _as_float(xp, truth, "truth", real=True)
    if (isinstance(atol, bool) or not isinstance(atol, (int, float)) or not atol >= 0
            or atol == float("inf")):
        raise ValueError(f"atol must be a non-negative finite float, got {atol!r}.")
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

    ``A`` (k1 x n) and ``B`` (k2 x n) span row spaces (e.g. two
    ``components_``); rows need not be orthonormal: each row space is
    orthonormalised by an SVD (numerically zero directions dropped), so the
    result depends only on the spans. Returns ``||(I - Q_B^T Q_B) Q_A^T||_2``
    in ``[0, 1]`` (``Q`` the orthonormal bases), 0 when ``A`` spans nothing.

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not 2-D, they have different numbers of columns,
        or they contain NaN or inf.

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
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"A and B must be 2-D (k, n_features) bases, got {A.ndim}-D and "
                         f"{B.ndim}-D arrays.")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A and B must have the same number of columns (the ambient "
                         f"dimension), got shapes {tuple(A.shape)} and {tuple(B.shape)}.")
    A, B = _as_float(xp, A, "A", real=True), _as_float(xp, B, "B", real=True)
    Q_A, Q_B = _row_basis(xp, A), _row_basis(xp, B)
    if Q_A.shape[0] == 0:
        return 0.0
    R = Q_A.T - Q_B.T @ (Q_B @ Q_A.T)
    return min(1.0, float(xp.linalg.matrix_norm(R, ord=2)))


def _row_basis(xp, A):
    """Orthonormal rows spanning the row space of ``A`` (scale first: no under/overflow)."""
    scale = _max_abs(xp, A)
    if scale == 0.0 or A.shape[0] == 0:
        return A[:0, :]
    _, s, Vt = xp.linalg.svd(A / scale, full_matrices=False)
    keep = int(xp.sum(xp.astype(s > s[0] * max(A.shape) * xp.finfo(A.dtype).eps, xp.int32)))
    return Vt[:keep, :]
