"""Sparse linear regression under local differential privacy (Zhu, Ding et al., ICLR 2024)."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array

from ..datasets import make_ldp_regression
from ..linear_model._base import LinearPredictorMixin
from ..utils._array_api import from_numpy, get_namespace_and_device, mark_host_roundtrip, to_numpy
from ..utils.validation import (
    Interval,
    StrOptions,
    check_finite_result,
    check_X_y,
    validate_params,
)
from ._accountant import BudgetAccountant
from ._clipping import clipped_second_moment
from ._local import (
    GROUP_STREAM,
    LDPMessages,
    block_rng,
    gradient_message_blocks,
    gradient_setup,
    nldp_message_blocks,
    nldp_setup,
    stream_entropy,
)
from ._server import MessageAggregator, iht_update, nldp_estimate, nldp_samples_needed

__all__ = ["LDPSparseRegression"]


class _PositiveOrInf:
    """A real number > 0, ``inf`` included (``epsilon=inf``: no privacy)."""

    def is_satisfied_by(self, value):
        return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
                and value > 0 and not math.isnan(value))

    def __str__(self):
        return "a float in the range (0, inf]"


_CLIP = [StrOptions({"auto", "data"}), _PositiveOrInf(), tuple, list]


class LDPSparseRegression(LinearPredictorMixin, BaseEstimator):
    """Sparse linear regression from locally differentially private messages.

    Every user ``i`` holds one record ``(x_i, y_i)`` and never sends it: a
    local randomiser (:func:`privatize`) clips it and releases noisy
    statistics with the Gaussian mechanism, so that each user's messages are
    ``(epsilon, delta)``-differentially private whatever the server does. The
    server step sees the messages only. Two protocols:

    * ``"non_interactive"`` (NLDP, one message per user): user ``i`` releases
      ``x~ x~^T + E_i`` and ``x~ y~ + N(0, sigma_2^2 I)``, each with
      ``(epsilon/2, delta/2)``; the server averages them into ``Sigma_bar``
      and ``b_bar`` and returns the closed-form estimator
      ``coef_ = S_lambda(Sigma_bar^-1 b_bar)`` (soft thresholding; the
      solution of ``min ||theta||_1 s.t. ||theta - Sigma_bar^-1 b_bar||_inf
      <= lambda``). With public unlabeled covariates ``fit(X, y,
      X_public=...)`` the covariance comes from them and the whole budget
      goes to ``x y`` (error ``sqrt(d k) / (sqrt(n) epsilon)`` instead of
      ``d sqrt(k) / (sqrt(n) epsilon)``).
    * ``"interactive"`` (sequentially interactive LDP iterative hard
      thresholding): users are split at random into ``n_rounds`` disjoint
      groups; in round ``t`` the users of group ``t`` see the current
      ``theta`` and release ``x~ (<x~, theta> - y~) + N(0, sigma^2 I)`` with
      the whole budget (each user speaks once); the server steps
      ``theta <- Pi_{l1(R)}(H_k(theta - eta g_bar))``.

    The estimator is meant for many users (``n`` large against ``d``; see the
    warning below) and standardized data: features and target centred with
    unit scale, fixed a priori (standardizing with the private data's own
    statistics would itself leak).

    Parameters
    ----------
    epsilon : float, default=2.0
        Per-user privacy budget, ``> 0``. ``inf`` adds no noise: the
        estimator becomes its non-private closed form.
    delta : float, default=1e-5
        In ``(0, 1)``; should be well below ``1 / n_samples``.
    protocol : {"non_interactive", "interactive"}, default="non_interactive"
    clip_x : "auto", "data", float or (lower, upper), default="auto"
        Feature clipping range. A float ``tau`` means ``[-tau, tau]``; a pair
        gives asymmetric bounds (scalars or arrays of length
        ``n_features``); ``inf`` disables clipping (only with
        ``epsilon=inf``). ``"auto"`` balances clipping bias against privacy
        noise for standardized data (formula in Notes); it uses only ``n``,
        ``d`` and the budget. ``"data"`` takes each column's min and max
        from the private records and emits a :class:`PrivacyLeakWarning`.
    clip_y : "auto", "data", float or (lower, upper), default="auto"
        Target clipping range, as ``clip_x``.
    threshold : "auto" or float, default="auto"
        Soft-threshold level ``lambda`` (non-interactive protocol).
        ``"auto"``: ``sqrt(2 log(2d) / n) max_j ||(Sigma_f^-1)_j||_2
        sqrt(sigma_1^2 + sigma_2^2)``, the largest coordinate error the
        privacy noise causes (``sigma_1 = 0`` with ``X_public``).
    sparsity : int, default=None
        ``k'``, entries kept by hard thresholding (interactive protocol);
        None: ``ceil(sqrt(d))``.
    n_rounds : int, default=None
        ``T``, number of user groups (interactive); None:
        ``max(1, ceil(log2(n) / 2))``, so that the contraction
        ``(1 - eta)^T`` of the initial error reaches ``1 / sqrt(n)``.
    step_size : float, default=None
        ``eta`` (interactive); None: ``1 / (2 m2(tau_x))`` with ``m2(tau) =
        E[min(Z^2, tau^2)]`` the variance of a standardized Gaussian feature
        clipped at ``tau_x``: the contraction is 1/2 per round on
        standardized, uncorrelated features (0.5 without clipping).
    radius : float, default=None
        ``R``, l1 radius the iterates are projected on and that bounds the
        gradient sensitivity (interactive); None: 1, the bound
        ``||theta*||_1 <= 1`` the analysis assumes. Pass a larger radius when
        ``||theta*||_1`` may exceed 1 (the sensitivity, hence the noise, grows
        with it; measured: ``R = sqrt(k')`` gave 1.2-1.8 times the error of
        ``R = 1`` on the benchmark data).
    random_state : int, RandomState, Generator or None, default=None
        Seeds the users' noise (and the interactive groups). Fits are
        reproducible under an int seed.
    verbose : int, default=0
        Print one line per interactive round.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        In X's namespace and device.
    intercept_ : float
        Always 0 (the protocol assumes centred data).
    epsilon_, delta_ : float
        Budget each user spent (basic composition over the releases).
    accountant_ : BudgetAccountant
        Per-user ledger of the fit.
    noise_scales_, sensitivities_, mechanisms_ : dict of str
        Per release (``"covariance"``, ``"cross"`` or ``"gradient"``): the
        Gaussian noise standard deviation, the l2 sensitivity, and
        ``"gaussian"`` (classical, epsilon <= 1), ``"analytic_gaussian"``
        (Balle & Wang 2018, epsilon > 1) or ``"none"`` (epsilon = inf).
    clip_x_ : tuple of ndarray
        ``(lower, upper)`` feature clipping range used.
    clip_y_ : tuple of float
    threshold_ : float or None
        ``lambda`` used (non-interactive).
    eigen_floor_ : float or None
        Floor applied to the eigenvalues of ``Sigma_bar`` (non-interactive).
    n_eigen_floored_ : int or None
        Eigenvalues raised to the floor.
    n_samples_needed_ : int or None
        Users the non-interactive guarantee needs (``16 d^2 sigma_1^2``);
        a ``UserWarning`` is emitted when ``n_samples`` is below it. With
        ``clip_x="auto"`` the clipping level, hence ``sigma_1``, grows with
        ``n``; the number given is then the smallest ``m`` found for which
        the rule's level at ``m`` satisfies the condition at ``m``.
    sparsity_, n_rounds_, step_size_, radius_ : int or float or None
        Interactive parameters used.
    n_iter_ : int
        Server steps (1 for the closed form, ``n_rounds_`` for LDP-IHT).
    n_features_in_ : int

    See Also
    --------
    privatize : the user side of the non-interactive protocol.
    sparseopt.linear_model.Lasso : the non-private counterpart.

    Notes
    -----
    *Privacy guarantee.* Each user's messages are ``(epsilon,
    delta)``-LDP provided the clipping ranges are fixed independently of
    the data (``"auto"`` or given; not ``"data"``). Sensitivities (box
    ``[l, u]``, ``m_j = max(|l_j|, |u_j|)``): ``2 sum_j m_j^2`` for the
    upper triangle of ``x x^T``, ``2 ||m||_2 m_y`` for ``x y``,
    ``2 ||m||_2 (max_j m_j R + m_y)`` for the gradient. Noise:
    ``sigma = sensitivity sqrt(2 ln(1.25/delta')) / epsilon'`` (classical,
    ``epsilon' <= 1``) or the analytic Gaussian mechanism above.

    *Clipping rule* (``"auto"``): for standardized Gaussian-like data the
    clipped target is ``theta* m11(tau_x) (1 - 2 Q(tau_y)) / m2(tau_x)`` with
    ``m2(tau) = E[min(Z^2, tau^2)]``, ``m11(tau) = 1 - 2 Q(tau)``;
    ``(tau_x, tau_y)`` minimise the relative biases ``|m11(tau_x) /
    m2(tau_x) - 1| + 2 Q(tau_y)`` plus the noise term ``sqrt(2 log(2d) / n_eff) nu(tau_x, tau_y) /
    m2(tau_x)`` (``nu`` the message noise std, ``n_eff = n`` or ``n / T``)
    over a grid of [0.25, 8]: the levels grow like ``sqrt(log n)`` and the
    bias vanishes as ``n`` grows.

    *When it works.* The non-interactive estimator needs ``n >> d^4 /
    epsilon^2`` (with constants: ``n_samples_needed_``), e.g. millions of
    users already at ``d = 5``; below that the threshold removes every
    coordinate or the estimate is worse than predicting zero. The
    interactive protocol and public covariates need far fewer users. See
    the user guide for measured regimes.

    *Safeguard* (not from the paper): ``Sigma_bar`` is often indefinite at
    moderate ``n``; its eigenvalues are floored at ``2 sqrt(d) sigma_1 /
    sqrt(n)`` (about the operator norm of the averaged noise).

    Memory: messages are produced and added block by block (memory
    O(block d^2 + d^2), never O(n d^2)); :func:`privatize` then
    :meth:`fit_privatized` gives bitwise the same ``coef_`` under the same
    ``random_state``.

    References
    ----------
    L. Zhu, S. Ding, C. Aggarwal, J. Xu, D. Wang. Improved Analysis of Sparse
    Linear Regression in Local Differential Privacy Model. ICLR 2024.

    D. Wang, J. Xu. On Sparse Linear Regression in the Local Differential
    Privacy Model. ICML 2019.

    B. Balle, Y.-X. Wang. Improving the Gaussian Mechanism for Differential
    Privacy: Analytical Calibration and Optimal Denoising. ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.datasets import make_ldp_regression
    >>> from sparseopt.privacy import LDPSparseRegression
    >>> X, y, theta = make_ldp_regression(200_000, 2, 1, random_state=0)
    >>> reg = LDPSparseRegression(epsilon=4.0, clip_x=1.0, clip_y=1.5,
    ...                           random_state=0).fit(X, y)
    >>> bool(np.linalg.norm(reg.coef_ - theta) < 0.5 * np.linalg.norm(theta))
    True
    >>> reg.epsilon_, reg.mechanisms_["covariance"]
    (4.0, 'analytic_gaussian')
    """

    _parameter_constraints = {
        "epsilon": [_PositiveOrInf()],
        "delta": [Interval(numbers.Real, 0, 1, closed="neither")],
        "protocol": [StrOptions({"non_interactive", "interactive"})],
        "clip_x": _CLIP,
        "clip_y": _CLIP,
        "threshold": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left")],
        "sparsity": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "n_rounds": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "step_size": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "radius": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    # the battery's 1e5 users at d=4 meet the non-interactive guarantee (n_samples_needed_)
    # at epsilon=32 with automatic clipping and at epsilon=8 with fixed clipping; the default
    # epsilon=2 needs ~5e6 users there (its warning is asserted in tests/test_privacy.py)
    _test_params = [
        {"epsilon": 32.0, "random_state": 0},
        {"protocol": "interactive", "random_state": 0},
        {"epsilon": 8.0, "clip_x": (-1.0, 1.0), "clip_y": 2.0, "threshold": 0.01,
         "random_state": 0},
    ]

    def __init__(self, epsilon=2.0, delta=1e-5, *, protocol="non_interactive", clip_x="auto",
                 clip_y="auto", threshold="auto", sparsity=None, n_rounds=None, step_size=None,
                 radius=None, random_state=None, verbose=0):
        self.epsilon = epsilon
        self.delta = delta
        self.protocol = protocol
        self.clip_x = clip_x
        self.clip_y = clip_y
        self.threshold = threshold
        self.sparsity = sparsity
        self.n_rounds = n_rounds
        self.step_size = step_size
        self.radius = radius
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def _test_data(cls, random_state=0):
        X, y, _ = make_ldp_regression(100_000, 4, 2, random_state=random_state)
        return X, y

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, X_public=None):
        """Simulate the protocol on the users' records and run the server step.

        Each row of ``X`` (with its ``y``) is one user. The records go to the
        user side only; the server step receives their messages block by
        block.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        X_public : array-like of shape (n_public, n_features), optional
            Public unlabeled covariates from the same distribution
            (non-interactive protocol): the covariance is estimated from them
            and the users release only ``x y``, with the whole budget.

        Returns
        -------
        self : object
        """
        validate_params(self)
        xp, is_api, device = get_namespace_and_device(X)
        X, y = check_X_y(self, X, y)
        if is_api:  # documented host round-trip: the randomisers are compiled kernels
            X, y = to_numpy(X), to_numpy(y)
        out_dtype = X.dtype
        entropy = stream_entropy(self.random_state)
        n, d = X.shape
        if self.protocol == "interactive":
            if X_public is not None:
                raise ValueError("X_public is used by the non-interactive protocol only; "
                                 "got protocol='interactive'.")
            coef = self._fit_interactive(X, y, entropy)
        else:
            X_public = self._check_public(X_public, d)
            setup, accountant = nldp_setup(
                n, d, X, y, epsilon=float(self.epsilon), delta=float(self.delta),
                clip_x=self.clip_x, clip_y=self.clip_y, with_covariance=X_public is None,
                accountant=BudgetAccountant(float(self.epsilon), float(self.delta)))
            aggregator = MessageAggregator(d, setup.with_covariance)
            for cov_block, cross_block in nldp_message_blocks(X, y, setup, entropy):
                aggregator.receive(cov_block, cross_block)
            self._set_budget(setup.releases, accountant)
            self.clip_x_ = (setup.x_lower, setup.x_upper)
            self.clip_y_ = (setup.y_lower, setup.y_upper)
            coef = self._server_non_interactive(aggregator, setup.releases, X_public,
                                                refine_needed=isinstance(self.clip_x, str)
                                                and self.clip_x == "auto")
        self._set_coef(coef, out_dtype, xp, is_api, device)
        return self

    def fit_privatized(self, messages, X_public=None):
        """Run the non-interactive server step on messages from :func:`privatize`.

        Parameters
        ----------
        messages : LDPMessages
        X_public : array-like of shape (n_public, n_features), optional
            Required when the messages carry no covariance release.

        Returns
        -------
        self : object
        """
        validate_params(self)
        if not isinstance(messages, LDPMessages):
            raise TypeError(f"messages must be the LDPMessages returned by privatize, got "
                            f"{type(messages).__name__}.")
        if self.protocol != "non_interactive":
            raise ValueError("fit_privatized runs the non-interactive server step; "
                             f"got protocol={self.protocol!r}.")
        d = messages.n_features
        X_public = self._check_public(X_public, d)
        with_cov = messages.covariance_packed is not None
        if not with_cov and X_public is None:
            raise ValueError("the messages carry no covariance release: pass X_public.")
        aggregator = MessageAggregator(d, with_cov)
        for cov_block, cross_block in messages.blocks():
            aggregator.receive(cov_block, cross_block)
        accountant = BudgetAccountant(messages.epsilon, messages.delta)
        for release in messages.releases.values():
            accountant.spend(release.epsilon, release.delta)
        self._set_budget(messages.releases, accountant)
        self.clip_x_ = tuple(np.array(b) for b in messages.clip_x)
        self.clip_y_ = tuple(messages.clip_y)
        self.n_features_in_ = d
        coef = self._server_non_interactive(aggregator, messages.releases, X_public)
        self._set_coef(coef, np.float64, np, False, None)
        return self

    # --------------------------------------------------------------- server
    def _self_consistent_samples_needed(self, d, needed):
        """With ``clip_x="auto"`` the clipping level, hence sigma_1, grows with n: iterate
        ``m <- 16 d^2 sigma_1(m)^2`` until the guarantee holds at ``m`` (a few steps)."""
        m = needed
        for _ in range(50):
            setup, _ = nldp_setup(m, d, np.zeros((1, d)), np.zeros(1),
                                  epsilon=float(self.epsilon), delta=float(self.delta),
                                  clip_x="auto", clip_y=self.clip_y_, with_covariance=True,
                                  accountant=None)
            m_next = nldp_samples_needed(d, setup.releases["covariance"].noise_scale)
            if m_next <= m:
                break
            m = m_next
        return m

    def _server_non_interactive(self, aggregator, releases, X_public, refine_needed=False):
        """Closed-form estimate from the aggregated messages (and public covariates)."""
        n, d = aggregator.n_received, aggregator.n_features
        cov_mean, cross_mean = aggregator.means()
        sigma_cov = releases["covariance"].noise_scale if "covariance" in releases else 0.0
        if X_public is not None:  # same clipping as the users, so both target E[x~ x~^T]
            lower, upper = self.clip_x_
            Xc = np.clip(X_public, lower, upper)
            cov_mean = Xc.T @ Xc / Xc.shape[0]
        result = nldp_estimate(cov_mean, cross_mean, n, sigma_cov=sigma_cov,
                               sigma_cross=releases["cross"].noise_scale,
                               threshold=self.threshold)
        self.threshold_ = result["threshold"]
        self.eigen_floor_ = result["eigen_floor"]
        self.n_eigen_floored_ = result["n_eigen_floored"]
        self.n_samples_needed_ = None
        if X_public is None:
            self.n_samples_needed_ = nldp_samples_needed(d, sigma_cov)
            if refine_needed and n < self.n_samples_needed_:
                self.n_samples_needed_ = self._self_consistent_samples_needed(
                    d, self.n_samples_needed_)
        self.sparsity_ = self.n_rounds_ = self.step_size_ = self.radius_ = None
        self.n_iter_ = 1
        if self.n_samples_needed_ is not None and n < self.n_samples_needed_:
            warnings.warn(
                f"{type(self).__name__}: n_samples={n} users is below the "
                f"{self.n_samples_needed_:.3g} the non-interactive guarantee needs at d={d}, "
                f"epsilon={self.epsilon:g} (n >= 16 d^2 sigma_1^2, i.e. n epsilon^2 >> d^4); "
                "the estimate is likely all zero or worse than predicting zero. Use more users, "
                "a larger epsilon, fewer features, public covariates (X_public) or "
                "protocol='interactive'.", UserWarning, stacklevel=3)
        elif self.n_eigen_floored_:
            warnings.warn(
                f"{type(self).__name__}: {self.n_eigen_floored_} eigenvalue(s) of the privatized "
                f"covariance were raised to the noise floor {self.eigen_floor_:.3g}; the "
                "privacy noise dominates these directions.", UserWarning, stacklevel=3)
        return result["coef"]

    def _fit_interactive(self, X, y, entropy):
        """LDP iterative hard thresholding over disjoint random user groups."""
        n, d = X.shape
        sparsity = min(self.sparsity if self.sparsity is not None else math.ceil(math.sqrt(d)), d)
        radius = float(self.radius) if self.radius is not None else 1.0
        n_rounds = self.n_rounds if self.n_rounds is not None else max(
            1, math.ceil(math.log2(max(n, 2)) / 2))
        n_rounds = min(n_rounds, n)
        setup, accountant = gradient_setup(
            n, d, X, y, epsilon=float(self.epsilon), delta=float(self.delta), clip_x=self.clip_x,
            clip_y=self.clip_y, radius=radius, n_rounds=n_rounds,
            accountant=BudgetAccountant(float(self.epsilon), float(self.delta)))
        if self.step_size is not None:
            step = float(self.step_size)
        else:  # contraction 1/2 per round on standardized features clipped at tau_x
            tau_x = float(np.max(np.maximum(np.abs(setup.x_lower), np.abs(setup.x_upper))))
            step = 0.5 / float(clipped_second_moment(tau_x))
        groups = np.array_split(block_rng(entropy, GROUP_STREAM).permutation(n), n_rounds)
        theta = np.zeros(d)
        for t, users in enumerate(groups):
            aggregator = MessageAggregator(d, False)  # the server of round t
            for block in gradient_message_blocks(X, y, users, theta, setup, entropy, t):
                aggregator.receive(None, block)
            theta = iht_update(theta, aggregator.means()[1], step_size=step, sparsity=sparsity,
                               radius=radius)
            if self.verbose:
                print(f"[LDP-IHT] round {t + 1}/{n_rounds}: {len(users)} users, "
                      f"||theta||_1 = {np.abs(theta).sum():.4g}")
        self._set_budget(setup.releases, accountant)
        self.clip_x_ = (setup.x_lower, setup.x_upper)
        self.clip_y_ = (setup.y_lower, setup.y_upper)
        self.threshold_ = self.eigen_floor_ = self.n_eigen_floored_ = None
        self.n_samples_needed_ = None
        self.sparsity_, self.n_rounds_, self.step_size_, self.radius_ = (
            sparsity, n_rounds, step, radius)
        self.n_iter_ = n_rounds
        return theta

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _check_public(X_public, d):
        if X_public is None:
            return None
        X_public = check_array(to_numpy(X_public), dtype=np.float64, input_name="X_public")
        if X_public.shape[1] != d:
            raise ValueError(f"X_public has {X_public.shape[1]} features, but the users' "
                             f"records have {d}.")
        return X_public

    def _set_budget(self, releases, accountant):
        self.accountant_ = accountant
        self.epsilon_, self.delta_ = accountant.spent
        self.noise_scales_ = {k: r.noise_scale for k, r in releases.items()}
        self.sensitivities_ = {k: r.sensitivity for k, r in releases.items()}
        self.mechanisms_ = {k: r.mechanism for k, r in releases.items()}

    def _set_coef(self, coef, dtype, xp, is_api, device):
        coef = np.asarray(coef, dtype=dtype)
        check_finite_result(type(self).__name__, coef)
        self.coef_ = from_numpy(coef, xp, device) if is_api else coef
        self.intercept_ = 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # privacy noise dominates on the checks' small data
        return mark_host_roundtrip(tags)
