"""The user side of the local protocols: what each user computes and sends.

Nothing here aggregates or estimates; the server side
(:mod:`sparseopt.privacy._server`) sees only the messages produced here.

Randomness. Users are processed in fixed *blocks* of consecutive users (the
block size depends only on the message width, so it is public and the same
for every path). Block ``b`` of stream ``s`` draws its noise from its own
generator ``PCG64(SeedSequence(entropy, spawn_key=(s, b)))``: the per-user
path (:func:`privatize`, which keeps every message) and the streamed path
(``LDPSparseRegression.fit``, which keeps one block at a time) draw the same
numbers for the same user, and the server adds the same rows in the same
order, so both give bitwise-identical estimates under one ``random_state``.
The entropy stays on the user side: messages carry no seed.
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_consistent_length

from .._ext._ldp import covariance_cross_messages, gradient_messages
from ._accountant import BudgetAccountant, check_budget
from ._clipping import THETA_NORM_BOUND, auto_clip, resolve_clip_x, resolve_clip_y
from ._mechanisms import (
    calibrate,
    covariance_sensitivity,
    cross_sensitivity,
    gaussian_noise_multiplier,
    gradient_sensitivity,
)

__all__ = ["privatize", "LDPMessages"]

# one block of messages holds about this many floats (4 MB): memory O(block d^2 + d^2)
_BLOCK_FLOATS = 1 << 19
COVARIANCE_STREAM, GROUP_STREAM, GRADIENT_STREAM = 0, 1, 2


def block_size(message_width):
    """Users per block for messages of ``message_width`` floats (public, data-free)."""
    return int(max(1, min(1 << 16, _BLOCK_FLOATS // max(message_width, 1))))


def stream_entropy(random_state):
    """An integer seed for the users' noise (from an int, RandomState, Generator or None)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**62))
    return int(check_random_state(random_state).randint(0, 2**62, dtype=np.int64))


def block_rng(entropy, *key):
    """The generator of one block of a stream: ``PCG64(SeedSequence(entropy, spawn_key=key))``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=key)))


def n_packed(d):
    """Length of the packed upper triangle of a d x d matrix."""
    return d * (d + 1) // 2


@dataclasses.dataclass(frozen=True)
class RandomiserSetup:
    """Public parameters of one randomiser: clipping ranges and calibrated releases."""

    x_lower: np.ndarray
    x_upper: np.ndarray
    y_lower: float
    y_upper: float
    releases: dict
    with_covariance: bool
    block_size: int


def check_records(X, y, caller):
    """Validate raw records (2-D finite X, finite y of the same length); float64 or float32 kept."""
    X = check_array(X, dtype=(np.float64, np.float32), input_name="X")
    y = check_array(y, ensure_2d=False, dtype=(np.float64, np.float32), input_name="y")
    if y.ndim != 1:
        raise ValueError(f"{caller}: y must be 1-D, got shape {y.shape}.")
    check_consistent_length(X, y)
    return X, y


def _is_auto(clip):
    return isinstance(clip, str) and clip == "auto"


def _clip_ranges(clip_x, clip_y, X, y, n_eff, noise_std):
    """Both clipping ranges; ``"auto"`` levels from :func:`auto_clip` (``n_eff`` messages)."""
    d = X.shape[1]
    x_range = None if _is_auto(clip_x) else resolve_clip_x(clip_x, X, math.inf)
    tx_auto = ty_auto = math.inf
    if _is_auto(clip_x) or _is_auto(clip_y):
        tx_fixed = None if x_range is None else float(
            np.max(np.maximum(np.abs(x_range[0]), np.abs(x_range[1]))))
        tx_auto, ty_auto = auto_clip(n_eff, d, noise_std, x_fixed=tx_fixed)
    x_lower, x_upper = resolve_clip_x(clip_x, X, tx_auto) if x_range is None else x_range
    y_lower, y_upper = resolve_clip_y(clip_y, y, ty_auto)
    return x_lower, x_upper, y_lower, y_upper


def nldp_setup(n_samples, n_features, X, y, *, epsilon, delta, clip_x, clip_y, with_covariance,
               accountant, mechanism="auto"):
    """Clipping ranges and releases of the non-interactive randomiser.

    Budget (basic composition): ``(epsilon/2, delta/2)`` to each of ``x x^T`` and
    ``x y``; without the covariance release (public covariates) the whole
    ``(epsilon, delta)`` goes to ``x y``.
    """
    d = n_features
    share = 0.5 if with_covariance else 1.0
    eps_r, delta_r = epsilon * share, delta * share
    mult, _ = gaussian_noise_multiplier(eps_r, delta_r, mechanism)

    def noise_std(tx, ty):  # per-coordinate noise of one message
        cross = mult * 2.0 * math.sqrt(d) * tx * ty
        if not with_covariance:
            return cross + 0.0 * tx
        cov = mult * 2.0 * d * tx * tx
        return np.sqrt((cov * THETA_NORM_BOUND) ** 2 + cross ** 2)

    x_lower, x_upper, y_lower, y_upper = _clip_ranges(clip_x, clip_y, X, y, n_samples,
                                                      noise_std)
    accountant = BudgetAccountant(epsilon, delta) if accountant is None else accountant
    releases = {}
    if with_covariance:
        releases["covariance"] = calibrate("covariance", covariance_sensitivity(x_lower, x_upper),
                                           eps_r, delta_r, accountant, mechanism)
    releases["cross"] = calibrate("cross", cross_sensitivity(x_lower, x_upper, y_lower, y_upper),
                                  eps_r, delta_r, accountant, mechanism)
    width = (n_packed(d) if with_covariance else 0) + d
    return RandomiserSetup(x_lower, x_upper, y_lower, y_upper, releases, with_covariance,
                           block_size(width)), accountant


def gradient_setup(n_samples, n_features, X, y, *, epsilon, delta, clip_x, clip_y, radius,
                   n_rounds, accountant, mechanism="auto"):
    """Clipping ranges and the release of the interactive (gradient) randomiser.

    Each user speaks once with the whole ``(epsilon, delta)`` (disjoint groups:
    parallel composition across rounds).
    """
    d = n_features
    mult, _ = gaussian_noise_multiplier(epsilon, delta, mechanism)

    def noise_std(tx, ty):  # sensitivity 2 sqrt(d) tau_x (tau_x R + tau_y)
        return mult * 2.0 * math.sqrt(d) * tx * (tx * radius + ty)

    x_lower, x_upper, y_lower, y_upper = _clip_ranges(
        clip_x, clip_y, X, y, max(n_samples // n_rounds, 1), noise_std)
    accountant = BudgetAccountant(epsilon, delta) if accountant is None else accountant
    release = calibrate("gradient", gradient_sensitivity(x_lower, x_upper, y_lower, y_upper,
                                                         radius),
                        epsilon, delta, accountant, mechanism)
    return RandomiserSetup(x_lower, x_upper, y_lower, y_upper, {"gradient": release}, False,
                           block_size(d)), accountant


def _nldp_block(X, y, setup, entropy, block, cov, cross):
    """Messages of one block of users, written into ``cov`` and ``cross`` (returned)."""
    with_cov = setup.with_covariance
    rng = block_rng(entropy, COVARIANCE_STREAM, block)
    if with_cov:
        rng.standard_normal(out=cov)
    rng.standard_normal(out=cross)
    covariance_cross_messages(
        np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64),
        setup.x_lower, setup.x_upper, setup.y_lower, setup.y_upper,
        setup.releases["covariance"].noise_scale if with_cov else 0.0,
        setup.releases["cross"].noise_scale, cov, cross, with_cov)
    return cov, cross


def _nldp_block_new(X, y, setup, entropy, block):
    """:func:`_nldp_block` into fresh buffers (one joblib task)."""
    width = n_packed(X.shape[1]) if setup.with_covariance else 0
    return _nldp_block(X, y, setup, entropy, block, np.empty((X.shape[0], width)),
                       np.empty(X.shape))


def nldp_message_blocks(X, y, setup, entropy, *, cov_out=None, cross_out=None, n_jobs=None):
    """Yield ``(covariance_block, cross_block)``: the messages of consecutive users.

    Each user clips its record and adds its own noise: the packed
    ``triu(x~ x~^T) + E_i`` and ``x~ y~ + N(0, sigma_2^2 I)``. Without
    ``cov_out``/``cross_out`` one block buffer is reused (memory
    O(block d^2)); with them (shape (n, d(d+1)/2) and (n, d)) every message is
    written there and the yielded blocks are views of them.

    With ``n_jobs`` other than None or 1, the blocks are computed by joblib
    tasks and yielded in order as they complete (``return_as="generator"``:
    memory grows with the tasks in flight, not with ``n``). Every block draws
    from its own generator, so the messages are the serial ones, bit for bit.
    """
    n, d = X.shape
    B, P = setup.block_size, n_packed(d)
    with_cov = setup.with_covariance
    keep = cross_out is not None
    starts = range(0, n, B)
    if n_jobs is not None and n_jobs != 1:
        from joblib import Parallel, delayed

        blocks = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_nldp_block_new)(X[start:start + B], y[start:start + B], setup, entropy, b)
            for b, start in enumerate(starts))
        for start, (cov, cross) in zip(starts, blocks):
            if keep:
                if with_cov:
                    cov_out[start:start + cov.shape[0]] = cov
                cross_out[start:start + cross.shape[0]] = cross
            yield (cov if with_cov else None), cross
        return
    if not keep:
        cov_buf = np.empty((min(B, n), P if with_cov else 0))
        cross_buf = np.empty((min(B, n), d))
    for b, start in enumerate(starts):
        stop = min(start + B, n)
        if keep:
            cov = cov_out[start:stop] if with_cov else np.empty((stop - start, 0))
            cross = cross_out[start:stop]
        else:
            cov, cross = cov_buf[:stop - start], cross_buf[:stop - start]
        _nldp_block(X[start:stop], y[start:stop], setup, entropy, b, cov, cross)
        yield (cov if with_cov else None), cross


def gradient_message_blocks(X, y, users, theta, setup, entropy, round_index):
    """Yield the gradient messages of ``users`` (indices) at the broadcast ``theta``, by blocks."""
    d = X.shape[1]
    B = setup.block_size
    sigma = setup.releases["gradient"].noise_scale
    buf = np.empty((min(B, max(len(users), 1)), d))
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    for b, start in enumerate(range(0, len(users), B)):
        idx = users[start:start + B]
        out = buf[:len(idx)]
        block_rng(entropy, GRADIENT_STREAM, round_index, b).standard_normal(out=out)
        gradient_messages(np.ascontiguousarray(X[idx], dtype=np.float64),
                          np.ascontiguousarray(y[idx], dtype=np.float64),
                          setup.x_lower, setup.x_upper, setup.y_lower, setup.y_upper,
                          theta, sigma, out)
        yield out


@dataclasses.dataclass(frozen=True, eq=False)
class LDPMessages:
    """The messages of the non-interactive protocol, one row per user, and their public metadata.

    Attributes
    ----------
    covariance_packed : ndarray of shape (n_samples, n_features (n_features + 1) / 2) or None
        Each user's packed upper triangle of ``x~ x~^T + E_i`` (row by row,
        ``numpy.triu_indices`` order); None when only ``x y`` is released.
    cross : ndarray of shape (n_samples, n_features)
        Each user's ``x~ y~ + N(0, sigma^2 I)``.
    releases : dict of str to Release
        Sensitivity, budget, noise scale and mechanism of each release.
    clip_x : tuple of ndarray
        ``(lower, upper)`` of the feature clipping range.
    clip_y : tuple of float
    block_size : int
        Users per block of the noise stream (the server aggregates by blocks).
    epsilon, delta : float
        Budget each user spent (basic composition over the releases).
    """

    covariance_packed: np.ndarray | None
    cross: np.ndarray
    releases: dict
    clip_x: tuple
    clip_y: tuple
    block_size: int
    epsilon: float
    delta: float

    @property
    def n_samples(self):
        return self.cross.shape[0]

    @property
    def n_features(self):
        return self.cross.shape[1]

    @property
    def covariance(self):
        """Each user's released symmetric matrix, shape (n_samples, d, d) (built on access)."""
        if self.covariance_packed is None:
            return None
        d = self.n_features
        iu, ju = np.triu_indices(d)
        full = np.empty((self.n_samples, d, d))
        full[:, iu, ju] = self.covariance_packed
        full[:, ju, iu] = self.covariance_packed
        return full

    def blocks(self):
        """Yield ``(covariance_block, cross_block)`` in the order the users sent them."""
        B = self.block_size
        for start in range(0, self.n_samples, B):
            cov = self.covariance_packed
            cov = None if cov is None else cov[start:start + B]
            yield cov, self.cross[start:start + B]


def privatize(X, y, epsilon=2.0, delta=1e-5, clip_x="auto", clip_y="auto", random_state=None, *,
              release_covariance=True, accountant=None, mechanism="auto", n_jobs=None):
    """The user side of non-interactive LDP regression: every user's message.

    User ``i`` clips its record ``(x_i, y_i)`` to the box
    ``[clip_x] x [clip_y]`` and releases, with the Gaussian mechanism,

    * ``A_i = triu(x~ x~^T) + E_i``, ``E_i`` i.i.d. ``N(0, sigma_1^2)`` on the
      upper triangle (diagonal included; the matrix is its mirror image);
    * ``b_i = x~ y~ + N(0, sigma_2^2 I_d)``,

    each with ``(epsilon/2, delta/2)`` (basic composition); with
    ``release_covariance=False`` (public covariates) only ``b_i``, with the
    whole ``(epsilon, delta)``. Nothing else leaves the user. Intended for
    inspection on small ``n`` (it keeps ``n d^2 / 2`` floats);
    :meth:`LDPSparseRegression.fit` streams the same messages block by block.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        One row per user.
    y : array-like of shape (n_samples,)
    epsilon : float, default=2.0
        Per-user privacy budget, ``> 0``; ``inf`` releases the clipped
        statistics without noise (no privacy).
    delta : float, default=1e-5
        In ``(0, 1)``.
    clip_x, clip_y : "auto", "data", float or (lower, upper), default="auto"
        Clipping range (see :class:`LDPSparseRegression`); ``"data"`` derives
        it from the records and emits a :class:`PrivacyLeakWarning`.
    random_state : int, RandomState, Generator or None
        Seeds the users' noise.
    release_covariance : bool, default=True
    accountant : BudgetAccountant, optional
        Per-user ledger to spend on (a fresh ``BudgetAccountant(epsilon,
        delta)`` by default); raises :class:`BudgetError` when it is exceeded.
    mechanism : {"auto", "classical", "analytic"}, default="auto"
    n_jobs : int, optional
        Blocks of users computed in parallel through joblib (``-1``: all
        cores; inside ``joblib.parallel_config(backend="dask")``: a dask
        cluster). The messages do not depend on ``n_jobs``: every block of
        users draws its noise from its own seeded generator.

    Returns
    -------
    messages : LDPMessages

    References
    ----------
    L. Zhu, S. Ding, C. Aggarwal, J. Xu, D. Wang. Improved Analysis of Sparse
    Linear Regression in Local Differential Privacy Model. ICLR 2024.

    C. Dwork, A. Roth. The Algorithmic Foundations of Differential Privacy.
    Foundations and Trends in Theoretical Computer Science 9(3-4), 2014
    (Theorem A.1, the classical Gaussian mechanism).

    B. Balle, Y.-X. Wang. Improving the Gaussian Mechanism for Differential
    Privacy: Analytical Calibration and Optimal Denoising. ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.privacy import privatize
    >>> X, y = np.ones((4, 3)), np.ones(4)
    >>> msg = privatize(X, y, epsilon=1.0, delta=1e-5, clip_x=1.0, clip_y=1.0, random_state=0)
    >>> msg.covariance.shape, msg.cross.shape
    ((4, 3, 3), (4, 3))
    >>> round(msg.releases["covariance"].sensitivity, 6), msg.releases["covariance"].mechanism
    (6.0, 'gaussian')
    >>> bool(np.all(msg.covariance == np.transpose(msg.covariance, (0, 2, 1))))
    True
    """
    X, y = check_records(X, y, "privatize")
    epsilon, delta = check_budget(epsilon, delta, "privatize")
    if n_jobs is not None and (not isinstance(n_jobs, numbers.Integral)
                               or isinstance(n_jobs, bool) or n_jobs == 0):
        raise ValueError(f"privatize: n_jobs must be a non-zero int or None, got {n_jobs!r}.")
    if accountant is not None and not isinstance(accountant, BudgetAccountant):
        raise TypeError(f"privatize: accountant must be a BudgetAccountant or None, got "
                        f"{type(accountant).__name__}.")
    setup, accountant = nldp_setup(X.shape[0], X.shape[1], X, y, epsilon=epsilon, delta=delta,
                                   clip_x=clip_x, clip_y=clip_y,
                                   with_covariance=bool(release_covariance),
                                   accountant=accountant, mechanism=mechanism)
    n, d = X.shape
    cov = np.empty((n, n_packed(d))) if setup.with_covariance else None
    cross = np.empty((n, d))
    for _ in nldp_message_blocks(X, y, setup, stream_entropy(random_state), cov_out=cov,
                                 cross_out=cross, n_jobs=n_jobs):
        pass
    eps_spent = math.fsum(r.epsilon for r in setup.releases.values())
    delta_spent = math.fsum(r.delta for r in setup.releases.values())
    return LDPMessages(cov, cross, dict(setup.releases), (setup.x_lower, setup.x_upper),
                       (setup.y_lower, setup.y_upper), setup.block_size, eps_spent, delta_spent)
