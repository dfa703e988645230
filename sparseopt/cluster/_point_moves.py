"""Single-point moves on the hard-partition Gaussian classification cost (Hartigan-style).

For a hard partition ``G_1..G_K`` the LA-SDP cost ``sum_k <B_k, Z_k>`` with
``Z_k = 1_{G_k} 1_{G_k}^T / n_k`` is ::

    f(G) = sum_k  tr(Sigma_k^-1 W_k) + n_k (log|Sigma_k| + eps tr Sigma_k^-1)

with ``W_k`` the scatter matrix of ``G_k`` around its mean and ``Sigma_k`` the
(shaped, shrunk, ``+ eps I``) covariance ``W_k / n_k``. Lloyd-type
alternations (fix the covariances, reassign; iLA-SDP's rounds among them)
score a point under a covariance estimated *with* that point, which in high
dimension holds misassigned points where they are. A move of one point
changes two scatter matrices by rank-one terms; evaluating ``f`` after every
candidate move (exactly, with the moved point's influence on both
covariances) finds the moves the alternation cannot see (Hartigan & Wong's
idea for K-means, here for the Gaussian classification likelihood).
"""
from __future__ import annotations

import numpy as np

from ..utils._array_api import to_numpy
from ._base import one_hot, shape_covariances
from ._sdp_solvers import _device

__all__ = ["point_moves"]

# candidate scatter matrices formed at once: chunks of at most this many numbers
_CHUNK_NUMBERS = 1 << 22


def _costs(xp, scatters, counts, shrink, reg, covariance_type):
    """``f_k`` of a batch: ``tr(Sigma^-1 W) + n (log|Sigma| + reg tr Sigma^-1)``
    (``shrink``: None or one intensity per matrix)."""
    covs = scatters / counts[:, None, None]
    covs = shape_covariances(xp, covs, reg, covariance_type, shrink)
    L = xp.linalg.cholesky(covs)
    L_inv = xp.linalg.inv(L)
    precision = xp.permute_dims(L_inv, (0, 2, 1)) @ L_inv
    logdet = 2.0 * xp.sum(xp.log(xp.linalg.diagonal(L)), axis=1)
    inv_trace = xp.linalg.trace(precision)
    fit = xp.sum(xp.sum(precision * scatters, axis=2), axis=1)
    return fit + counts * (logdet + reg * inv_trace)


def _cluster_stats(xp, X, labels, n_clusters):
    """Counts (host), means ``(K, p)`` and scatter matrices ``(K, p, p)`` of a partition."""
    onehot = one_hot(xp, labels, n_clusters, X)
    counts = np.bincount(labels, minlength=n_clusters)
    means = (onehot.T @ X) / xp.asarray(np.maximum(counts, 1)[:, None].astype(float),
                                        dtype=X.dtype, device=_device(X))
    scatters = []
    for k in range(n_clusters):
        centred = (X - means[k, :][None, :]) * onehot[:, k][:, None]   # non-members: 0
        scatters.append(centred.T @ centred)
    return counts, means, xp.stack(scatters)


def _partition_cost(xp, X, labels, n_clusters, stats, shrink, reg, covariance_type):
    """``(f_1, ..., f_K)`` (host) of a partition from its ``_cluster_stats``; an empty
    cluster costs nothing."""
    counts, _, scatters = stats
    divisor = xp.asarray(np.maximum(counts, 1).astype(float), dtype=X.dtype, device=_device(X))
    cost = np.asarray(to_numpy(_costs(xp, scatters, divisor, shrink, reg, covariance_type)))
    return np.where(counts > 0, cost, 0.0)


class _Partition:
    """Scatter matrices, means and counts of a hard partition, and its move costs."""

    def __init__(self, xp, X, labels, n_clusters, shrink, reg, covariance_type, min_size):
        self.xp, self.X, self.labels = xp, X, labels.copy()
        self.K, self.shrink, self.reg, self.cov_type = n_clusters, shrink, reg, covariance_type
        self.stats = _cluster_stats(xp, X, self.labels, n_clusters)
        self.cost = _partition_cost(xp, X, self.labels, n_clusters, self.stats, shrink, reg,
                                    covariance_type)
        # change[i, k]: change of f_k when point i joins (i not in G_k) or leaves G_k;
        # clusters below min_size neither lose nor gain points (see ``proposals``)
        self.change = np.full((X.shape[0], n_clusters), np.inf)
        for k in range(n_clusters):
            if self.stats[0][k] >= min_size:
                self._refresh(k)

    def _refresh(self, k):
        """The change of ``f_k`` for every candidate join / leave."""
        xp, X = self.xp, self.X
        n, p = X.shape
        n_k = int(self.stats[0][k])
        mean, scatter = self.stats[1][k, :], self.stats[2][k, ...]
        dtype = X.dtype
        inside = self.labels == k
        # rank-one change of the scatter: +n/(n+1) d d^T on joining, -n/(n-1) d d^T on leaving
        coef = np.where(inside, -n_k / max(n_k - 1, 1), n_k / (n_k + 1.0))
        new_counts = np.where(inside, n_k - 1.0, n_k + 1.0)
        d = X - mean[None, :]
        chunk = max(1, _CHUNK_NUMBERS // (p * p))
        out = []
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            dc = d[start:stop, :]
            c = xp.asarray(coef[start:stop], dtype=dtype, device=_device(X))
            W = scatter[None, :, :] + c[:, None, None] * (dc[:, :, None] * dc[:, None, :])
            counts = xp.asarray(np.maximum(new_counts[start:stop], 1.0), dtype=dtype,
                                device=_device(X))
            shrink = None if self.shrink is None else [float(self.shrink[k])] * (stop - start)
            out.append(np.asarray(to_numpy(_costs(xp, W, counts, shrink, self.reg,
                                                  self.cov_type))))
        after = np.concatenate(out)
        # an emptied cluster costs nothing
        after[inside & (n_k == 1)] = 0.0
        self.change[:, k] = after - self.cost[k]

    def proposals(self, min_size):
        """Improving moves ``(gain, i, k)``, best first, at most one per point."""
        n = self.labels.size
        rows = np.arange(n)
        leave = self.change[rows, self.labels]
        counts = np.bincount(self.labels, minlength=self.K)
        total = self.change + leave[:, None]
        total[rows, self.labels] = np.inf
        total[counts[self.labels] <= min_size, :] = np.inf   # never shrink below min_size
        # clusters below min_size (e.g. emptied by the rounds) are left alone: joining one
        # would score a degenerate covariance (a single point's cost is p (log eps + 1))
        total[:, counts < min_size] = np.inf
        dest = np.argmin(total, axis=1)
        gain = total[rows, dest]
        order = np.argsort(gain, kind="stable")
        order = order[gain[order] < 0]
        return [(float(gain[i]), int(i), int(dest[i])) for i in order]

    def total(self):
        return float(np.sum(self.cost))


def point_moves(xp, X, labels, n_clusters, *, reg, covariance_type="full", shrinkage=None,
                min_size=None, max_sweeps=100):
    """Move single points between clusters while the hard-partition cost decreases.

    Parameters
    ----------
    xp : array namespace of ``X``
    X : array of shape (n_samples, n_features)
    labels : ndarray of int, shape (n_samples,)
        Host labels in ``0..n_clusters-1``.
    reg : float
        ``eps`` added to every covariance (and its ``eps tr Sigma^-1`` term).
    covariance_type : {"full", "diag", "spherical"}
    shrinkage : None or sequence of float
        Shrinkage intensity of every cluster, held fixed during the search.
    min_size : int, optional
        No move takes a cluster below this many points, and clusters already
        below it neither lose nor gain points (default ``n_features + 1``:
        below it the covariance estimate degenerates and the cost rewards
        tiny clusters).
    max_sweeps : int
        Each sweep evaluates every move exactly, applies the best ones that
        still lower the cost together (halving their number until they do;
        the single best always does) and re-evaluates.

    Returns
    -------
    labels : ndarray of int
    n_moves : int
    cost : float
        The hard-partition cost of the returned labels.
    """
    labels = np.asarray(labels, dtype=np.int64)
    min_size = X.shape[1] + 1 if min_size is None else int(min_size)
    state = _Partition(xp, X, labels, n_clusters, shrinkage, reg, covariance_type, min_size)
    n_moves = 0
    for _ in range(max_sweeps):
        moves = state.proposals(min_size)
        if not moves:
            break
        before, take = state.total(), len(moves)
        while True:
            trial = state.labels.copy()
            counts = np.bincount(trial, minlength=n_clusters)
            for _, i, k in moves[:take]:
                if counts[trial[i]] <= min_size:
                    continue
                counts[trial[i]] -= 1
                counts[k] += 1
                trial[i] = k
            # the trial's cost alone (K matrices) before the moves of every point (K n)
            cost = float(np.sum(_partition_cost(
                xp, X, trial, n_clusters, _cluster_stats(xp, X, trial, n_clusters), shrinkage,
                reg, covariance_type)))
            if cost < before - 1e-9 * max(1.0, abs(before)) or take == 1:
                break
            take //= 2
        if not cost < before:
            break   # rounding: the single best move no longer lowers the cost
        n_moves += int(np.sum(trial != state.labels))
        state = _Partition(xp, X, trial, n_clusters, shrinkage, reg, covariance_type, min_size)
    return state.labels, n_moves, state.total()
