"""Compiled loops of the local randomisers of ``sparseopt.privacy`` (user side and aggregation).

Compiled ahead of time (Cython), so a first fit pays no JIT compilation. Each
kernel takes a block of users and a buffer that holds standard normal draws on
entry; it overwrites the buffer with the users' messages in place (clip, form
the statistic, add ``sigma * z``), so a block costs one pass over its draws and
no allocation. The aggregation kernel adds message rows to a running sum in
user order; both the streamed and the per-user paths call it on the same
blocks, which makes their sums bitwise identical.

The upper triangle of ``x x^T`` is packed row by row (``i <= j``), the order of
``numpy.triu_indices(d)``. Callers pass C-contiguous float64 arrays of matching
shapes (the typed memoryviews reject anything else with a ValueError/TypeError).
"""
import numpy as np


cdef inline double _clip_record(const double[:, ::1] X, const double[::1] y, Py_ssize_t u,
                                const double[::1] lower, const double[::1] upper,
                                double y_lower, double y_upper, double[::1] xt) noexcept nogil:
    """Clip user ``u``'s record into ``xt``; return the clipped target."""
    cdef Py_ssize_t j
    cdef double v, yt
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


def _check_block(X, y, lower, upper, n_out, width_out, width_expected, name):
    n, d = X.shape[0], X.shape[1]
    if y.shape[0] != n or lower.shape[0] != d or upper.shape[0] != d:
        raise ValueError(f"{name}: X is {n} x {d} but y, lower, upper have lengths "
                         f"{y.shape[0]}, {lower.shape[0]}, {upper.shape[0]}")
    for j in range(d):
        if not lower[j] <= upper[j]:
            raise ValueError(f"{name}: feature clipping range {j} is [{lower[j]}, {upper[j]}]; "
                             "need lower <= upper")
    if n_out != n or width_out != width_expected:
        raise ValueError(f"{name}: output buffer is {n_out} x {width_out}, expected "
                         f"{n} x {width_expected}")


def _check_scales(name, y_lower, y_upper, *sigmas):
    # a NaN or negative scale would release a message that is not the stated Gaussian mechanism
    for sigma in sigmas:
        if not (sigma >= 0 and sigma < float("inf")):
            raise ValueError(f"{name}: noise scales must be finite and >= 0, got {sigma!r}")
    if not y_lower <= y_upper:
        raise ValueError(f"{name}: target clipping range [{y_lower}, {y_upper}] needs "
                         "lower <= upper")


def covariance_cross_messages(const double[:, ::1] X not None, const double[::1] y not None,
                              const double[::1] lower not None, const double[::1] upper not None,
                              double y_lower, double y_upper, double sigma_cov,
                              double sigma_cross, double[:, ::1] cov_out not None,
                              double[:, ::1] cross_out not None, bint with_covariance):
    """Messages ``triu(x~ x~^T) + sigma_cov z`` and ``x~ y~ + sigma_cross z'`` of a block.

    ``X`` (B, d) and ``y`` (B,) float64; ``cov_out`` (B, d(d+1)/2) and
    ``cross_out`` (B, d) hold N(0, 1) draws on entry. With
    ``with_covariance=False`` ``cov_out`` is not touched.
    """
    cdef Py_ssize_t n_users = X.shape[0], d = X.shape[1], u, i, j, p
    _check_block(X, y, lower, upper, cross_out.shape[0], cross_out.shape[1], d,
                 "covariance_cross_messages")
    _check_scales("covariance_cross_messages", y_lower, y_upper, sigma_cov, sigma_cross)
    if with_covariance and (cov_out.shape[0] != n_users or cov_out.shape[1] != d * (d + 1) // 2):
        raise ValueError("covariance_cross_messages: cov_out must be B x d(d+1)/2")
    cdef double[::1] xt = np.empty(d)
    cdef double yt, xi
    with nogil:
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


def gradient_messages(const double[:, ::1] X not None, const double[::1] y not None,
                      const double[::1] lower not None, const double[::1] upper not None,
                      double y_lower, double y_upper, const double[::1] theta not None,
                      double sigma, double[:, ::1] out not None):
    """Messages ``x~ (<x~, theta> - y~) + sigma z`` of a block (``out`` holds N(0, 1) draws)."""
    cdef Py_ssize_t n_users = X.shape[0], d = X.shape[1], u, j
    _check_block(X, y, lower, upper, out.shape[0], out.shape[1], d, "gradient_messages")
    _check_scales("gradient_messages", y_lower, y_upper, sigma)
    if theta.shape[0] != d:
        raise ValueError(f"gradient_messages: theta has length {theta.shape[0]}, expected {d}")
    cdef double[::1] xt = np.empty(d)
    cdef double yt, dot, residual
    with nogil:
        for u in range(n_users):
            yt = _clip_record(X, y, u, lower, upper, y_lower, y_upper, xt)
            dot = 0.0
            for j in range(d):
                dot += xt[j] * theta[j]
            residual = dot - yt
            for j in range(d):
                out[u, j] = xt[j] * residual + sigma * out[u, j]


def accumulate_rows(const double[:, :] messages not None, double[::1] total not None):
    """``total += sum of the rows of messages``, added in row order."""
    cdef Py_ssize_t n_rows = messages.shape[0], width = messages.shape[1], u, p
    if total.shape[0] != width:
        raise ValueError(f"accumulate_rows: messages have {width} columns, total has "
                         f"length {total.shape[0]}")
    with nogil:
        for u in range(n_rows):
            for p in range(width):
                total[p] += messages[u, p]
