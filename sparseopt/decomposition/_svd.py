"""Truncated SVDs written against an array namespace ``xp``.

Three back-ends, all returning ``(U, s, Vt)`` with ``k`` triplets in
decreasing order:

``full``
    ``xp.linalg.svd(A, full_matrices=False)`` truncated afterwards.
``randomized``
    Randomized subspace iteration (Halko, Martinsson & Tropp 2011, Alg. 4.4)
    with QR re-orthonormalisation after every product, in ``xp`` only, so it
    runs on any array-API device. ``V_start`` warm-starts the subspace with
    the right singular vectors of the previous call (consecutive SVTs in IALM
    act on nearby matrices), random columns fill the rest.
``partial``
    PROPACK Lanczos bidiagonalisation through :func:`scipy.sparse.linalg.svds`
    for NumPy input, as in the authors' MATLAB code (a full LAPACK SVD is used
    on the rare occasions PROPACK does not converge). Non-NumPy namespaces have
    no host-free Lanczos here and use ``randomized``.

Random test matrices are drawn on the host with NumPy (seeded) and moved to
the device, so results do not depend on the namespace's RNG.
"""
from __future__ import annotations

import numpy as np

from ..utils._array_api import from_numpy

__all__ = ["truncated_svd", "top_singular_value"]


def _gaussian(xp, device, shape, dtype, rng):
    block = rng.standard_normal(shape)
    return xp.asarray(from_numpy(block, xp, device), dtype=dtype)


def _qr(xp, A):
    Q, _ = xp.linalg.qr(A)
    return Q


def _randomized_svd(xp, A, k, *, rng, device, n_oversamples=10, n_power_iter=2,
                    V_start=None):
    m, n = A.shape
    width = min(k + n_oversamples, min(m, n))
    if V_start is not None and V_start.shape[1] >= width:
        block = V_start[:, :width]
    elif V_start is not None:
        extra = _gaussian(xp, device, (n, width - V_start.shape[1]), A.dtype, rng)
        block = xp.concat((V_start, extra), axis=1)
    else:
        block = _gaussian(xp, device, (n, width), A.dtype, rng)
    Q = _qr(xp, A @ block)
    for _ in range(n_power_iter):  # power iterations sharpen the spectrum decay
        Q = _qr(xp, A.T @ Q)
        Q = _qr(xp, A @ Q)
    B = Q.T @ A
    Ub, s, Vt = xp.linalg.svd(B, full_matrices=False)
    U = Q @ Ub
    return U[:, :k], s[:k], Vt[:k, :]


def _lanczos_svd(A, k, rng):
    from numpy.linalg import LinAlgError
    from scipy.sparse.linalg import svds

    try:
        U, s, Vt = svds(A, k=k, solver="propack", rng=rng)
    except LinAlgError:  # PROPACK occasionally stalls on the first, flat iterates
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        return U[:, :k], s[:k], Vt[:k, :]
    order = np.argsort(s)[::-1]
    return U[:, order], s[order], Vt[order, :]


def truncated_svd(xp, A, k, *, solver, rng, device="cpu", is_numpy=True, V_start=None,
                  n_power_iter=2):
    """Leading ``k`` singular triplets of ``A`` with the named ``solver``.

    Parameters
    ----------
    xp : namespace
    A : array of shape (m, n)
    k : int
        Number of triplets, ``1 <= k <= min(m, n)``.
    solver : {"full", "partial", "randomized"}
    rng : numpy.random.Generator
        Source of the random starts (``partial`` and ``randomized``).
    device : device of ``A``
    is_numpy : bool
        Whether ``A`` is a NumPy array (``partial`` needs it).
    V_start : array of shape (n, j), optional
        Warm start for ``randomized``.

    Returns
    -------
    U : array of shape (m, k)
    s : array of shape (k,)
    Vt : array of shape (k, n)
    """
    m, n = A.shape
    k = int(min(k, m, n))
    # ARPACK needs k < min(m, n); small problems are cheapest with LAPACK anyway
    if solver == "full" or k >= min(m, n) - 1 or min(m, n) <= 40:
        U, s, Vt = xp.linalg.svd(A, full_matrices=False)
        return U[:, :k], s[:k], Vt[:k, :]
    if solver == "partial" and is_numpy:
        return _lanczos_svd(np.asarray(A), k, rng)
    return _randomized_svd(xp, A, k, rng=rng, device=device, V_start=V_start,
                           n_power_iter=n_power_iter)


def top_singular_value(xp, A, *, rng, device="cpu", n_iter=30, rtol=1e-6):
    """Largest singular value of ``A`` by power iteration on ``A^T A``.

    Stops when two successive estimates agree to ``rtol``. Used for the
    threshold scales (``sigma_1``) of IALM and AccAltProj, where a relative
    error of 1e-6 is far below what matters.
    """
    m, n = A.shape
    if min(m, n) <= 40:
        return float(xp.linalg.svd(A, full_matrices=False)[1][0])
    v = _gaussian(xp, device, (n,), A.dtype, rng)
    v = v / xp.linalg.vector_norm(v)
    estimate = 0.0
    for _ in range(n_iter):
        u = A @ v
        w = A.T @ u
        norm_w = float(xp.linalg.vector_norm(w))
        if norm_w == 0.0:
            return 0.0
        new = float(xp.linalg.vector_norm(u))
        v = w / norm_w
        if abs(new - estimate) <= rtol * new:
            return new
        estimate = new
    return estimate
