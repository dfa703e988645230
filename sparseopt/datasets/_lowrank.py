"""Planted low-rank + sparse problems, a synthetic video and matrix completion.

Every generator is seeded by ``random_state`` and returns the ground truth
with the data.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..utils._random import check_generator
from ._checks import (FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT, RANDOM_STATE, check_args,
                      check_at_most)

__all__ = ["make_low_rank_sparse", "make_synthetic_video", "make_matrix_completion"]


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")


def make_low_rank_sparse(n_samples=500, n_features=None, *, rank=None, outlier_fraction=0.05,
                         outliers="mean", outlier_scale=1.0, dtype=np.float64,
                         random_state=None):
    """Planted robust-PCA problem ``D = L* + S*``.

    ``L* = P Q^T`` with standard Gaussian factors ``P`` (n_samples x rank) and
    ``Q`` (n_features x rank), the set-up of Candès et al. (2011) and Lin,
    Chen & Ma (2010). The support of ``S*`` is uniform at random.

    Parameters
    ----------
    n_samples : int, default=500
    n_features : int, optional
        Defaults to ``n_samples`` (square).
    rank : int, optional
        Defaults to ``round(0.05 * min(n_samples, n_features))`` (at least 1).
    outlier_fraction : float, default=0.05
        Fraction of corrupted entries, in ``[0, 1]``.
    outliers : {"mean", "uniform"}, default="mean"
        ``"mean"``: values uniform in ``[-c m, c m]`` with ``m = mean |L*|`` and
        ``c = outlier_scale`` (the AccAltProj set-up). ``"uniform"``: values
        uniform in ``[-outlier_scale, outlier_scale]``; ``outlier_scale=500``
        gives the Candès / Lin-Chen-Ma set-up.
    outlier_scale : float, default=1.0
    dtype : numpy dtype, default=float64
    random_state : int, RandomState, Generator or None

    Returns
    -------
    D : ndarray of shape (n_samples, n_features)
        Observed matrix.
    L : ndarray of shape (n_samples, n_features)
        True low-rank part.
    S : ndarray of shape (n_samples, n_features)
        True sparse part.

    References
    ----------
    .. [1] E. J. Candès, X. Li, Y. Ma and J. Wright, "Robust principal component analysis?",
       Journal of the ACM 58(3), 2011.
    .. [2] H. Cai, J.-F. Cai and K. Wei, "Accelerated alternating projections for robust principal
       component analysis", Journal of Machine Learning Research 20, 2019.

    Examples
    --------
    >>> from sparseopt.datasets import make_low_rank_sparse
    >>> D, L, S = make_low_rank_sparse(100, rank=5, outlier_fraction=0.1, random_state=0)
    >>> D.shape, int(round((S != 0).mean() * 100))
    ((100, 100), 10)
    """
    check_args("make_low_rank_sparse", locals(), dict(
        outlier_fraction=FRACTION, outlier_scale=NON_NEGATIVE, random_state=RANDOM_STATE))
    _check_positive_int("n_samples", n_samples)
    n_features = n_samples if n_features is None else n_features
    _check_positive_int("n_features", n_features)
    if rank is None:
        rank = max(1, int(round(0.05 * min(n_samples, n_features))))
    _check_positive_int("rank", rank)
    check_at_most("make_low_rank_sparse", "rank", rank, "min(n_samples, n_features)",
                  min(n_samples, n_features))
    if not 0 <= outlier_fraction <= 1:
        raise ValueError(f"outlier_fraction must be in [0, 1], got {outlier_fraction!r}.")
    if outliers not in ("mean", "uniform"):
        raise ValueError(f"outliers must be 'mean' or 'uniform', got {outliers!r}.")
    rng = check_generator(random_state, seed_via_random_state=True)
    L = rng.standard_normal((n_samples, rank)) @ rng.standard_normal((rank, n_features))
    n_out = int(round(outlier_fraction * n_samples * n_features))
    support = rng.choice(n_samples * n_features, size=n_out, replace=False)
    scale = outlier_scale * (np.abs(L).mean() if outliers == "mean" else 1.0)
    S = np.zeros(n_samples * n_features)
    S[support] = rng.uniform(-scale, scale, size=n_out)
    S = S.reshape(n_samples, n_features)
    return (L + S).astype(dtype), L.astype(dtype), S.astype(dtype)


def make_synthetic_video(n_frames=60, height=32, width=48, *, n_objects=2, object_size=6,
                         illumination=0.1, random_state=None):
    """A static textured background with bright squares moving across it.

    Each frame is a row of the returned matrix (samples are frames, features
    are pixels). The background is a fixed texture times a slowly varying
    global illumination gain, a rank-1 matrix; the moving objects are sparse.

    Parameters
    ----------
    n_frames, height, width : int
    n_objects : int, default=2
        Squares moving on straight lines, bouncing off the borders.
    object_size : int, default=6
        Side of each square in pixels.
    illumination : float, default=0.1
        Amplitude of a sinusoidal global brightness drift.
    random_state : int, RandomState, Generator or None

    Returns
    -------
    X : ndarray of shape (n_frames, height * width)
        The video, one flattened frame per row.
    background : ndarray of shape (n_frames, height * width)
        True low-rank part.
    foreground : ndarray of shape (n_frames, height * width)
        True sparse part (objects minus the background they cover).
    frame_shape : tuple (height, width)

    Examples
    --------
    >>> from sparseopt.datasets import make_synthetic_video
    >>> X, B, F, shape = make_synthetic_video(20, 16, 24, random_state=0)
    >>> X.shape, shape
    ((20, 384), (16, 24))
    """
    check_args("make_synthetic_video", locals(), dict(
        illumination=NON_NEGATIVE, random_state=RANDOM_STATE))
    for name, value in (("n_frames", n_frames), ("height", height), ("width", width),
                        ("n_objects", n_objects), ("object_size", object_size)):
        _check_positive_int(name, value)
    if object_size >= min(height, width):
        raise ValueError("object_size must be smaller than the frame.")
    rng = check_generator(random_state, seed_via_random_state=True)
    yy, xx = np.mgrid[0:height, 0:width]
    texture = (0.5 + 0.2 * np.sin(xx / 3.0) * np.cos(yy / 5.0)
               + 0.1 * rng.standard_normal((height, width)))
    gain = 1.0 + illumination * np.sin(np.linspace(0, 2 * np.pi, n_frames))
    background = gain[:, None] * texture.ravel()[None, :]
    X = background.copy().reshape(n_frames, height, width)
    pos = rng.uniform(0, [height - object_size, width - object_size], size=(n_objects, 2))
    vel = rng.uniform(0.5, 1.5, size=(n_objects, 2)) * rng.choice([-1, 1], size=(n_objects, 2))
    intensity = rng.uniform(1.2, 1.6, size=n_objects)
    limits = np.array([height - object_size, width - object_size], dtype=float)
    for t in range(n_frames):
        for j in range(n_objects):
            r, c = np.round(pos[j]).astype(int)
            X[t, r:r + object_size, c:c + object_size] = intensity[j]
            pos[j] += vel[j]
            for axis in range(2):  # bounce off the borders
                if not 0 <= pos[j, axis] <= limits[axis]:
                    vel[j, axis] = -vel[j, axis]
                    pos[j, axis] = np.clip(pos[j, axis], 0, limits[axis])
    X = X.reshape(n_frames, height * width)
    return X, background, X - background, (height, width)


def make_matrix_completion(n_rows=500, n_cols=None, *, rank=5, n_observed=None,
                           oversampling=3.0, dtype=np.float64, random_state=None):
    """An incoherent rank-``rank`` matrix observed on a uniform random set.

    ``M = P Q^T`` with Gaussian factors (incoherent with high probability).
    By default ``|Omega| = oversampling * rank * (n_rows + n_cols) * log(max)``,
    the ``O(n k log n)`` regime of Jain, Netrapalli & Sanghavi (2013).

    Parameters
    ----------
    n_rows : int, default=500
    n_cols : int, optional
        Defaults to ``n_rows``.
    rank : int, default=5
    n_observed : int, optional
        Number of observed entries; overrides ``oversampling``.
    oversampling : float, default=3.0
    dtype : numpy dtype, default=float64
    random_state : int, RandomState, Generator or None

    Returns
    -------
    X : ndarray of shape (n_rows, n_cols)
        ``M`` on the observed entries, 0 elsewhere.
    mask : ndarray of bool, shape (n_rows, n_cols)
        Observed entries.
    M : ndarray of shape (n_rows, n_cols)
        True matrix.

    References
    ----------
    .. [1] P. Jain, P. Netrapalli and S. Sanghavi, "Low-rank matrix completion using alternating
       minimization", STOC 2013.
    .. [2] Y. Gu, Z. Song, J. Yin and L. Zhang, "Low rank matrix completion via robust alternating
       minimization in nearly linear time", ICLR 2024.

    Examples
    --------
    >>> from sparseopt.datasets import make_matrix_completion
    >>> X, mask, M = make_matrix_completion(200, rank=3, random_state=0)
    >>> round(float(mask.mean()), 2)
    0.48
    """
    check_args("make_matrix_completion", locals(), dict(
        n_rows=POSITIVE_INT, n_cols=POSITIVE_INT + [None], rank=POSITIVE_INT,
        n_observed=POSITIVE_INT + [None], oversampling=POSITIVE, random_state=RANDOM_STATE))
    check_at_most("make_matrix_completion", "rank", rank, "min(n_rows, n_cols)",
                  min(n_rows, n_rows if n_cols is None else n_cols))
    _check_positive_int("n_rows", n_rows)
    n_cols = n_rows if n_cols is None else n_cols
    _check_positive_int("n_cols", n_cols)
    _check_positive_int("rank", rank)
    rng = check_generator(random_state, seed_via_random_state=True)
    total = n_rows * n_cols
    if n_observed is None:
        n_observed = int(oversampling * rank * (n_rows + n_cols) * np.log(max(n_rows, n_cols)))
    n_observed = int(min(max(n_observed, 1), total))
    M = rng.standard_normal((n_rows, rank)) @ rng.standard_normal((rank, n_cols))
    mask = np.zeros(total, dtype=bool)
    mask[rng.choice(total, size=n_observed, replace=False)] = True
    mask = mask.reshape(n_rows, n_cols)
    return np.where(mask, M, 0.0).astype(dtype), mask, M.astype(dtype)
