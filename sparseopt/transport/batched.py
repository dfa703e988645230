"""Batches of entropic OT problems solved in parallel through joblib.

:func:`sinkhorn_batched` splits a batch into ``n_jobs`` chunks and runs
:func:`~sparseopt.transport.sinkhorn` on each chunk in a joblib task, so
``with joblib.parallel_config(backend="dask"):`` sends the chunks to a
dask.distributed cluster unchanged. Each problem is solved exactly as the
serial call solves it: the results are the serial results, bit for bit.
"""
from __future__ import annotations

import numbers
import warnings

import array_api_compat
import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from .sinkhorn import sinkhorn

__all__ = ["sinkhorn_batched"]


def _ndim(x):
    return x.ndim if array_api_compat.is_array_api_obj(x) else np.ndim(x)


def _solve_chunk(a, b, M, reg, kwargs):
    """One chunk in one task; warnings are returned, not lost in a worker process."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = sinkhorn(a, b, M, reg, **kwargs)
    return out, [(w.category, str(w.message)) for w in caught]


def _chunks(n_problems, n_jobs):
    n_chunks = max(1, min(n_problems, effective_n_jobs(n_jobs)))
    bounds = np.linspace(0, n_problems, n_chunks + 1).round().astype(int)
    return [slice(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def sinkhorn_batched(a, b, M, reg, method="sinkhorn", numItermax=1000, stopThr=1e-9, *,
                     n_jobs=None, warn=True, **kwargs):
    """Solve a batch of entropic OT problems in parallel (joblib ``n_jobs``).

    Two batch layouts, the two that :func:`~sparseopt.transport.sinkhorn`
    accepts:

    * ``b`` of shape ``(m, k)``: ``k`` target histograms sharing ``a`` and
      ``M`` (POT's layout); returns the ``k`` transport costs, as
      ``sinkhorn(a, b, M, reg)`` does. ``M`` is passed whole to every task:
      joblib's dask backend scatters it to the cluster once per call, and
      its loky backend memory-maps it, instead of copying it per task.
    * ``M`` of shape ``(batch, n, m)`` with ``a``, ``b`` of shape
      ``(batch, n)``, ``(batch, m)``: returns the ``batch`` plans.

    Parameters
    ----------
    a, b, M, reg, method, numItermax, stopThr, **kwargs
        As in :func:`~sparseopt.transport.sinkhorn` (``log`` is not
        supported here).
    n_jobs : int, optional
        Number of chunks solved concurrently; None means 1 unless inside a
        :func:`joblib.parallel_config` context, ``-1`` all workers (with the
        dask backend: all cores of the cluster).
    warn : bool, default=True
        Emit each distinct ``ConvergenceWarning`` raised in a task once, in
        the calling process.

    Returns
    -------
    out : array
        The ``k`` costs (shape ``(k,)``) or the ``batch`` plans (shape
        ``(batch, n, m)``), in the namespace and on the device of ``M``.

    See Also
    --------
    sparseopt.transport.sinkhorn : the serial solver run on each chunk.

    References
    ----------
    .. [1] M. Cuturi, "Sinkhorn Distances: Lightspeed Computation of Optimal
       Transport", NeurIPS 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.transport import sinkhorn
    >>> from sparseopt.transport.batched import sinkhorn_batched
    >>> rng = np.random.default_rng(0)
    >>> a = np.full(5, 0.2)
    >>> B = rng.dirichlet(np.ones(4), size=6).T          # 6 histograms of 4 bins
    >>> M = rng.random((5, 4))
    >>> costs = sinkhorn_batched(a, B, M, 0.1, n_jobs=2)
    >>> costs.shape
    (6,)
    >>> bool(np.array_equal(costs, sinkhorn(a, B, M, 0.1)))
    True
    """
    if "log" in kwargs:
        raise TypeError("sinkhorn_batched() does not return POT's log; call sinkhorn(..., "
                        "log=True) per problem instead.")
    if n_jobs is not None and (not isinstance(n_jobs, numbers.Integral) or n_jobs == 0):
        raise ValueError(f"n_jobs must be a non-zero int or None, got {n_jobs!r}.")
    if isinstance(b, (list, tuple)):
        b = np.asarray(b)
    options = dict(method=method, numItermax=numItermax, stopThr=stopThr, warn=warn, **kwargs)
    if _ndim(M) == 3:
        n_problems = M.shape[0]
        if _ndim(a) != 2 or _ndim(b) != 2:
            raise ValueError("sinkhorn_batched: with M of shape (batch, n, m), a and b must have "
                             f"shapes (batch, n) and (batch, m); got {_ndim(a)}-D a and "
                             f"{_ndim(b)}-D b.")
        tasks = [(a[s, ...], b[s, ...], M[s, ...]) for s in _chunks(n_problems, n_jobs)]
    elif _ndim(M) == 2 and _ndim(b) == 2:
        tasks = [(a, b[:, s], M) for s in _chunks(b.shape[1], n_jobs)]
    else:
        raise ValueError("sinkhorn_batched solves batches: pass b of shape (m, k) with M of shape "
                         "(n, m), or M of shape (batch, n, m); got "
                         f"{_ndim(b)}-D b and {_ndim(M)}-D M (use sinkhorn for one problem).")
    results = Parallel(n_jobs=n_jobs)(delayed(_solve_chunk)(a_k, b_k, M_k, reg, options)
                                      for a_k, b_k, M_k in tasks)
    seen = set()
    for _, caught in results:
        for category, message in caught:
            if (category, message) not in seen:
                seen.add((category, message))
                warnings.warn(message, category, stacklevel=2)
    outs = [out for out, _ in results]
    xp = array_api_compat.array_namespace(*outs)
    return xp.concat(outs, axis=0)
