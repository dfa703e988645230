"""Compiled loops of the local randomisers of ``sparseopt.privacy`` (user side and aggregation).

Each kernel takes a block of users and a buffer that holds standard normal
draws on entry; it overwrites the buffer with the users' messages in place
(clip, form the statistic, add ``sigma * z``), so a block costs one pass over
its draws and no allocation. The aggregation kernel adds message rows to a
running sum in user order; both the streamed and the per-user paths call it on
the same blocks, which makes their sums bitwise identical.

The upper triangle of ``x x^T`` is packed row by row (``i <= j``), the order of
``numpy.triu_indices(d)``.
"""
import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _clip_record(X, y, u, lower, upper, y_lower, y_upper, xt):
    """Clip user ``u``'s record into ``xt``; return the clipped target."""
    for j in range(X.shape[1]):
        v = X[u, j]
        if v < lower[j]:
            v = lower[j]
        elif v > upper[j]:
            v = upper[j]
        xt[j] = v
    yt = y[u]
    if yt < y_lower:
        yt = y_lower
    elif yt > y_upper:
        yt = y_upper
    return yt


@njit(cache=True)
def covariance_cross_messages(X, y, lower, upper, y_lower, y_upper, sigma_cov, sigma_cross,
                              cov_out, cross_out, with_covariance):
    """Messages ``triu(x~ x~^T) + sigma_cov z`` and ``x~ y~ + sigma_cross z'`` of a block.

    ``X`` (B, d) and ``y`` (B,) float64; ``cov_out`` (B, d(d+1)/2) and
    ``cross_out`` (B, d) hold N(0, 1) draws on entry. With
    ``with_covariance=False`` ``cov_out`` is not touched.
    """
    n_users, d = X.shape
    xt = np.empty(d)
    for u in range(n_users):
        yt = _clip_record(X, y, u, lower, upper, y_lower, y_upper, xt)
        if with_covariance:
            p = 0
            for i in range(d):
                xi = xt[i]
                for j in range(i, d):
                    cov_out[u, p] = xi * xt[j] + sigma_cov * cov_out[u, p]
                    p += 1
        for j in range(d):
            cross_out[u, j] = xt[j] * yt + sigma_cross * cross_out[u, j]


@njit(cache=True)
def gradient_messages(X, y, lower, upper, y_lower, y_upper, theta, sigma, out):
    """Messages ``x~ (<x~, theta> - y~) + sigma z`` of a block (``out`` holds N(0, 1) draws)."""
    n_users, d = X.shape
    xt = np.empty(d)
    for u in range(n_users):
        yt = _clip_record(X, y, u, lower, upper, y_lower, y_upper, xt)
        dot = 0.0
        for j in range(d):
            dot += xt[j] * theta[j]
        residual = dot - yt
        for j in range(d):
            out[u, j] = xt[j] * residual + sigma * out[u, j]


@njit(cache=True)
def accumulate_rows(messages, total):
    """``total += sum of the rows of messages``, added in row order."""
    n_rows, width = messages.shape
    for u in range(n_rows):
        for p in range(width):
            total[p] += messages[u, p]
