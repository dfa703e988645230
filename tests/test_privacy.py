"""Sparse linear regression under local differential privacy (``sparseopt.privacy``).

One test per property of the method: noise calibration and sensitivities per
mechanism, the user/server split, streamed == per-user path, the epsilon=inf
limit against a Lasso, the rate in n, the defaults, the warnings.
"""
import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from sparseopt.datasets import make_ldp_regression
from sparseopt.privacy import (
    BudgetAccountant,
    BudgetError,
    LDPMessages,
    LDPSparseRegression,
    PrivacyLeakWarning,
    privatize,
)
from sparseopt.privacy import _local, _server, ldp_regression
from sparseopt.privacy._mechanisms import (
    analytic_gaussian_delta,
    covariance_sensitivity,
    cross_sensitivity,
    gaussian_noise_multiplier,
    gradient_sensitivity,
)
from sparseopt.utils.validation import InvalidParameterError


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kwargs)


def _standardized(n, d, rng, theta=(0.6, -0.5)):
    X = rng.standard_normal((n, d))
    th = np.zeros(d)
    th[:len(theta)] = theta
    y = X @ th + math.sqrt(1 - th @ th) * rng.standard_normal(n)
    return X, y, th


# ------------------------------------------------------------------ accountant
def test_accountant_spends_composes_and_raises():
    acc = BudgetAccountant(1.0, 1e-5)
    acc.spend(0.5, 5e-6)
    acc.spend(0.5, 5e-6)  # exactly the budget: allowed despite rounding
    assert acc.remaining() == (0.0, 0.0)
    assert acc.spent == (1.0, 1e-5)
    with pytest.raises(BudgetError, match="exceeds the remaining budget"):
        acc.spend(1e-3, 0.0)
    with pytest.raises(ValueError, match="epsilon"):
        BudgetAccountant(-1.0)
    with pytest.raises(ValueError, match="delta"):
        BudgetAccountant(1.0, 2.0)


def test_privatize_raises_when_the_accountant_is_exceeded():
    X, y = np.zeros((5, 2)), np.zeros(5)
    acc = BudgetAccountant(1.0, 1e-5)
    with pytest.raises(BudgetError):
        privatize(X, y, 2.0, 1e-5, 1.0, 1.0, random_state=0, accountant=acc)
    acc = BudgetAccountant(2.0, 1e-5)
    msg = privatize(X, y, 2.0, 1e-5, 1.0, 1.0, random_state=0, accountant=acc)
    assert acc.remaining() == (0.0, 0.0) and (msg.epsilon, msg.delta) == (2.0, 1e-5)
    assert [r.epsilon for r in msg.releases.values()] == [1.0, 1.0]


# ------------------------------------------------------------------ mechanisms
def test_classical_gaussian_multiplier_formula():
    for eps, delta in [(0.1, 1e-5), (0.5, 1e-6), (1.0, 1e-3)]:
        m, name = gaussian_noise_multiplier(eps, delta)
        assert name == "gaussian"
        assert m == pytest.approx(math.sqrt(2 * math.log(1.25 / delta)) / eps, rel=1e-15)
    with pytest.raises(ValueError, match="epsilon <= 1"):
        gaussian_noise_multiplier(2.0, 1e-5, mechanism="classical")
    assert gaussian_noise_multiplier(math.inf, 1e-5) == (0.0, "none")
    with pytest.raises(ValueError, match="delta"):
        gaussian_noise_multiplier(1.0, 0.0)


def _privacy_profile_by_quadrature(s, eps):
    """delta(eps) of N(0, s^2) vs N(1, s^2): integral of (p - e^eps q)_+ (independent of Thm 8)."""
    p = stats.norm(0.0, s).pdf
    q = stats.norm(1.0, s).pdf
    # p > e^eps q on the half-line x < x0
    x0 = 0.5 - eps * s * s
    val, _ = integrate.quad(lambda x: p(x) - math.exp(eps) * q(x), -np.inf, x0,
                            epsabs=1e-13, epsrel=1e-10)
    return max(val, 0.0)


@pytest.mark.parametrize("eps,delta", [(0.5, 1e-5), (2.0, 1e-5), (4.0, 1e-6), (8.0, 1e-3)])
def test_analytic_gaussian_is_tight_and_matches_quadrature(eps, delta):
    m, name = gaussian_noise_multiplier(eps, delta, mechanism="analytic")
    assert name == "analytic_gaussian"
    # the calibrated scale meets delta, and 0.1% less noise would not
    assert analytic_gaussian_delta(m, eps) <= delta
    assert analytic_gaussian_delta(0.999 * m, eps) > delta
    # Theorem 8's closed form equals the privacy profile integrated numerically
    for s in (0.5 * m, m, 2 * m):
        assert analytic_gaussian_delta(s, eps) == pytest.approx(
            _privacy_profile_by_quadrature(s, eps), rel=1e-6, abs=1e-14)
    if eps <= 1:  # the analytic calibration never needs more noise than the classical one
        assert m <= gaussian_noise_multiplier(eps, delta, mechanism="classical")[0]


def _vertices(lower, upper):
    return [np.array(v) for v in itertools.product(*zip(lower, upper))]


@pytest.mark.parametrize("lower,upper", [([-1, -1, -1], [1, 1, 1]), ([0, 0, 0], [1, 1, 1]),
                                         ([-0.5, 0, -2], [1, 3, 0]), ([0, 0], [2, 0.5])])
def test_sensitivities_bound_the_worst_case_pair_and_are_not_loose(lower, upper):
    lower, upper = np.array(lower, float), np.array(upper, float)
    y_lower, y_upper, radius = 0.0, 2.0, 1.5
    cov = covariance_sensitivity(lower, upper)
    cross = cross_sensitivity(lower, upper, y_lower, y_upper)
    grad = gradient_sensitivity(lower, upper, y_lower, y_upper, radius)
    # a zero lower bound must not give zero noise (diffprivlib's lower-bound bug)
    assert cov > 0 and cross > 0 and grad > 0
    iu = np.triu_indices(len(lower))
    worst_cov = worst_cross = worst_grad = 0.0
    rng = np.random.default_rng(0)
    thetas = [t * radius / np.abs(t).sum() for t in rng.standard_normal((30, len(lower)))]
    points = _vertices(lower, upper) + [np.zeros(len(lower)).clip(lower, upper)]
    for x, xp in itertools.product(points, repeat=2):
        worst_cov = max(worst_cov, np.linalg.norm(np.outer(x, x)[iu] - np.outer(xp, xp)[iu]))
        for yv, yp in itertools.product([y_lower, y_upper], repeat=2):
            worst_cross = max(worst_cross, np.linalg.norm(x * yv - xp * yp))
            for th in thetas:
                change = x * (x @ th - yv) - xp * (xp @ th - yp)
                worst_grad = max(worst_grad, np.linalg.norm(change))
    # the upper triangle of the worst pair reaches ~1/2.5 of 2 sum m_j^2 (the
    # conservative Frobenius bound, kept as is)
    assert worst_cov <= cov + 1e-12 and worst_cov >= cov / 2.5 - 1e-12
    assert worst_cross <= cross + 1e-12 and worst_cross >= cross / 2 - 1e-12
    assert worst_grad <= grad + 1e-12


def test_asymmetric_zero_lower_bound_gets_the_symmetric_noise():
    X = np.random.default_rng(0).uniform(0, 1, (50, 3))
    y = np.ones(50)
    sym = privatize(X, y, 1.0, 1e-5, 1.0, 1.0, random_state=0)
    asym = privatize(X, y, 1.0, 1e-5, (0.0, 1.0), (0.0, 1.0), random_state=0)
    for key in ("covariance", "cross"):
        assert asym.releases[key].noise_scale == sym.releases[key].noise_scale > 0
    # the records lie in the box: the released messages are the same
    np.testing.assert_array_equal(asym.covariance_packed, sym.covariance_packed)


def _clean_packed(X, lower, upper):
    Xc = np.clip(X, lower, upper)
    iu, ju = np.triu_indices(X.shape[1])
    return Xc[:, iu] * Xc[:, ju], Xc


@pytest.mark.parametrize("eps", [1.0, 4.0])
def test_released_noise_has_the_stated_gaussian_distribution(eps):
    """One user's noise: mean 0, the stated sigma, Gaussian, independent entries, symmetric."""
    rng = np.random.default_rng(1)
    n, d = 20_000, 3
    X = rng.uniform(0.0, 2.0, (n, d))   # clip (0, 1): asymmetric range, clipping active
    y = rng.uniform(-1.0, 3.0, n)       # clip (-1, 2)
    msg = privatize(X, y, eps, 1e-5, (0.0, 1.0), (-1.0, 2.0), random_state=3)
    clean_cov, Xc = _clean_packed(X, 0.0, 1.0)
    clean_cross = Xc * np.clip(y, -1.0, 2.0)[:, None]
    m, _ = gaussian_noise_multiplier(eps / 2, 0.5e-5)
    expected = {"covariance": 2 * d * 1.0 * m, "cross": 2 * math.sqrt(d) * 1.0 * 2.0 * m}
    for key, noise in [("covariance", msg.covariance_packed - clean_cov),
                       ("cross", msg.cross - clean_cross)]:
        sigma = msg.releases[key].noise_scale
        assert sigma == pytest.approx(expected[key], rel=1e-12)
        z = noise / sigma
        # mean within 5 standard errors, variance within 5 % (se of the variance ~ 0.6 %)
        assert np.all(np.abs(z.mean(axis=0)) < 5 / math.sqrt(n))
        assert np.all(np.abs(z.var(axis=0) - 1) < 0.05)
        assert stats.kstest(z.ravel()[:50_000], "norm").pvalue > 1e-4
        corr = np.corrcoef(z.T)
        assert np.max(np.abs(corr - np.eye(z.shape[1]))) < 5 / math.sqrt(n)
    full = msg.covariance
    np.testing.assert_array_equal(full, np.transpose(full, (0, 2, 1)))


def test_gradient_messages_have_the_stated_noise():
    rng = np.random.default_rng(2)
    n, d = 20_000, 4
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    theta = np.array([0.5, -0.5, 0.0, 0.0])
    setup, _ = _local.gradient_setup(n, d, X, y, epsilon=2.0, delta=1e-5, clip_x=1.0,
                                     clip_y=(-0.5, 2.0), radius=1.0, n_rounds=1, accountant=None)
    sigma = setup.releases["gradient"].noise_scale
    m, name = gaussian_noise_multiplier(2.0, 1e-5)
    assert name == "analytic_gaussian"
    assert sigma == pytest.approx(2 * math.sqrt(d) * (1.0 + 2.0) * m, rel=1e-12)
    msgs = np.vstack([b.copy() for b in _local.gradient_message_blocks(
        X, y, np.arange(n), theta, setup, 5, 0)])
    Xc, yc = np.clip(X, -1, 1), np.clip(y, -0.5, 2.0)
    z = (msgs - Xc * (Xc @ theta - yc)[:, None]) / sigma
    assert np.all(np.abs(z.mean(axis=0)) < 5 / math.sqrt(n))
    assert np.all(np.abs(z.var(axis=0) - 1) < 0.05)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-4


# ------------------------------------------------------------ user/server split
def test_streamed_fit_equals_per_user_messages_bitwise():
    """fit (block by block) == privatize then fit_privatized, over several blocks."""
    rng = np.random.default_rng(0)
    X, y, _ = _standardized(1500, 40, rng)   # 609 users per block at d = 40: three blocks
    assert _local.block_size(_local.n_packed(40) + 40) < 1500 / 2
    for kwargs in [dict(clip_x=2.0, clip_y=2.0), dict(clip_x=(-1.0, 3.0), clip_y="auto")]:
        est = LDPSparseRegression(epsilon=3.0, threshold=0.0, random_state=11, **kwargs)
        streamed = _quiet(est.fit, X, y).coef_
        msg = privatize(X, y, 3.0, 1e-5, random_state=11, **kwargs)
        per_user = _quiet(LDPSparseRegression(epsilon=3.0, threshold=0.0, **kwargs)
                          .fit_privatized, msg).coef_
        np.testing.assert_array_equal(streamed, per_user)
    # public covariates: users release x y only, with the whole budget
    X_pub = rng.standard_normal((300, 40))
    est = LDPSparseRegression(epsilon=3.0, clip_x=2.0, clip_y=2.0, random_state=4)
    # (1500 users at d = 40: the threshold removes every coefficient, which both paths say)
    with pytest.warns(UserWarning, match="thresholded to zero"):
        streamed = est.fit(X, y, X_public=X_pub)
    msg = privatize(X, y, 3.0, 1e-5, 2.0, 2.0, random_state=4, release_covariance=False)
    assert msg.covariance_packed is None and msg.releases["cross"].epsilon == 3.0
    with pytest.warns(UserWarning, match="thresholded to zero"):
        per_user = LDPSparseRegression(epsilon=3.0).fit_privatized(msg, X_public=X_pub)
    np.testing.assert_array_equal(streamed.coef_, per_user.coef_)
    assert streamed.noise_scales_ == per_user.noise_scales_


def test_server_step_receives_messages_only(monkeypatch):
    """No raw record reaches the server: every array it gets is noisy or public."""
    rng = np.random.default_rng(0)
    X, y, _ = _standardized(3000, 3, rng)
    received = []

    class SpyAggregator(_server.MessageAggregator):
        def receive(self, covariance_block, vector_block):
            received.append((None if covariance_block is None else covariance_block.copy(),
                             vector_block.copy(), covariance_block, vector_block))
            super().receive(covariance_block, vector_block)

    estimate_args = []
    real_estimate = ldp_regression.nldp_estimate

    def spy_estimate(*args, **kwargs):
        estimate_args.append((args, kwargs))
        return real_estimate(*args, **kwargs)

    monkeypatch.setattr(ldp_regression, "MessageAggregator", SpyAggregator)
    monkeypatch.setattr(ldp_regression, "nldp_estimate", spy_estimate)
    est = _quiet(LDPSparseRegression(epsilon=2.0, clip_x=2.0, clip_y=2.0, random_state=0).fit,
                 X, y)
    clean_cov, Xc = _clean_packed(X, -2.0, 2.0)
    clean_cross = Xc * np.clip(y, -2, 2)[:, None]
    got_cov = np.vstack([r[0] for r in received])
    got_cross = np.vstack([r[1] for r in received])
    assert got_cov.shape == clean_cov.shape and got_cross.shape == clean_cross.shape
    for got, clean, key in [(got_cov, clean_cov, "covariance"), (got_cross, clean_cross, "cross")]:
        noise = got - clean
        # every single entry is perturbed, at the stated scale
        assert np.all(noise != 0)
        assert np.std(noise) == pytest.approx(est.noise_scales_[key], rel=0.05)
    for _, _, cov_view, vec_view in received:
        for raw in (X, y):
            assert not np.shares_memory(cov_view, raw) and not np.shares_memory(vec_view, raw)
    (args, kwargs), = estimate_args
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, np.ndarray):
            assert value.shape != X.shape and value.shape != y.shape
    # the message object carries no seed the server could use to remove the noise
    msg = privatize(X[:10], y[:10], 2.0, 1e-5, 2.0, 2.0, random_state=0)
    fields = {f.name for f in LDPMessages.__dataclass_fields__.values()}
    assert not any("seed" in f or "entropy" in f or "random" in f for f in fields)


def test_interactive_server_receives_noisy_gradients_only(monkeypatch):
    rng = np.random.default_rng(0)
    X, y, _ = _standardized(2000, 3, rng)
    received = []

    class SpyAggregator(_server.MessageAggregator):
        def receive(self, covariance_block, vector_block):
            assert covariance_block is None
            assert not np.shares_memory(vector_block, X)
            received.append(vector_block.copy())
            super().receive(covariance_block, vector_block)

    monkeypatch.setattr(ldp_regression, "MessageAggregator", SpyAggregator)
    est = LDPSparseRegression(protocol="interactive", n_rounds=4, random_state=0).fit(X, y)
    assert sum(len(b) for b in received) == 2000   # each user speaks exactly once
    assert est.n_iter_ == est.n_rounds_ == 4
    assert est.epsilon_ == 2.0 and est.delta_ == 1e-5   # parallel composition over groups


# --------------------------------------------------------- non-private limit
def test_epsilon_inf_is_the_non_private_closed_form():
    rng = np.random.default_rng(0)
    for trial in range(10):
        n, d = 200, 6
        X, y, _ = _standardized(n, d, rng)
        lam = rng.uniform(0, 0.2)
        est = LDPSparseRegression(epsilon=np.inf, clip_x=np.inf, clip_y=np.inf,
                                  threshold=lam).fit(X, y)
        z = np.linalg.solve(X.T @ X / n, X.T @ y / n)
        np.testing.assert_allclose(est.coef_, np.sign(z) * np.maximum(np.abs(z) - lam, 0),
                                   rtol=1e-10, atol=1e-12)
        assert est.noise_scales_ == {"covariance": 0.0, "cross": 0.0}
        assert est.mechanisms_["covariance"] == "none"
    # defaults with epsilon=inf: no clipping, no noise, threshold 0 -> least squares
    est = LDPSparseRegression(epsilon=np.inf).fit(X, y)
    np.testing.assert_allclose(est.coef_, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)
    assert np.all(np.isinf(est.clip_x_[1]))


def test_epsilon_inf_equals_lasso_on_orthogonal_designs():
    """With X^T X / n = I the elementary estimator S_lambda(X^T y / n) is the Lasso solution."""
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(1)
    for trial in range(20):
        n, d = int(rng.integers(30, 80)), int(rng.integers(2, 12))
        Q, _ = np.linalg.qr(rng.standard_normal((n, d)))
        X = Q * math.sqrt(n)
        theta = rng.standard_normal(d) * (rng.uniform(size=d) < 0.5)
        y = X @ theta + 0.5 * rng.standard_normal(n)
        alpha = float(rng.uniform(0.01, 0.5)) * np.max(np.abs(X.T @ y)) / n
        ours = LDPSparseRegression(epsilon=np.inf, clip_x=np.inf, clip_y=np.inf,
                                   threshold=alpha).fit(X, y).coef_
        lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
        np.testing.assert_allclose(ours, lasso.coef_, atol=1e-8)
        # certificate: the Lasso's KKT conditions hold at our estimate
        grad = X.T @ (X @ ours - y) / n
        on = ours != 0
        np.testing.assert_allclose(grad[on], -alpha * np.sign(ours[on]), atol=1e-9)
        assert np.all(np.abs(grad[~on]) <= alpha + 1e-9)


def test_large_epsilon_approaches_the_non_private_estimate():
    rng = np.random.default_rng(0)
    X, y, _ = _standardized(5000, 3, rng)
    ref = LDPSparseRegression(epsilon=np.inf, clip_x=3.0, clip_y=3.0, threshold=0.0).fit(X, y)
    gaps = [np.linalg.norm(_quiet(LDPSparseRegression(epsilon=eps, clip_x=3.0, clip_y=3.0,
                                                      threshold=0.0, random_state=0).fit,
                                  X, y).coef_ - ref.coef_) for eps in (10.0, 1e4, 1e12)]
    # the analytic Gaussian noise falls like 1/sqrt(epsilon) for large epsilon
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-5


def test_soft_threshold_solves_the_l1_program_cvxpy():
    """S_lambda(z) = argmin ||theta||_1 s.t. ||theta - z||_inf <= lambda (independent solver)."""
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(0)
    for trial in range(10):
        z, lam = rng.standard_normal(7), float(rng.uniform(0.05, 1.0))
        theta = cp.Variable(7)
        prob = cp.Problem(cp.Minimize(cp.norm1(theta)), [cp.norm_inf(theta - z) <= lam])
        prob.solve()
        ours = _server.soft_threshold(z, lam)
        assert np.abs(ours).sum() == pytest.approx(prob.value, abs=1e-6)
        assert np.max(np.abs(ours - z)) <= lam + 1e-12
        np.testing.assert_allclose(ours, theta.value, atol=1e-5)


def test_l1_projection_and_hard_threshold_against_cvxpy():
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(0)
    for trial in range(10):
        v, radius = 2 * rng.standard_normal(6), float(rng.uniform(0.2, 3.0))
        theta = cp.Variable(6)
        cp.Problem(cp.Minimize(cp.sum_squares(theta - v)), [cp.norm1(theta) <= radius]).solve()
        np.testing.assert_allclose(_server.project_l1_ball(v, radius), theta.value, atol=1e-5)
    v = np.array([0.1, -3.0, 2.0, 0.5])
    np.testing.assert_array_equal(_server.hard_threshold(v, 2), [0, -3.0, 2.0, 0])


# ------------------------------------------------------------------ accuracy
def _nldp_error(n, eps, seed, d=3):
    X, y, theta = make_ldp_regression(n, d, 2, noise=0.1, random_state=seed)
    est = _quiet(LDPSparseRegression(epsilon=eps, clip_x=1.0, clip_y=1.5, threshold=0.0,
                                     random_state=seed).fit, X, y)
    return np.linalg.norm(est.coef_ - theta), np.linalg.norm(theta)


def test_error_rate_in_n_is_minus_one_half():
    """Log-log slope of the l2 error in n, bounded data with a priori clipping (tolerance 0.2)."""
    ns = [20_000, 80_000, 320_000, 1_280_000]
    errors = [np.mean([_nldp_error(n, 4.0, seed)[0] for seed in range(3)]) for n in ns]
    slope = np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert -0.7 <= slope <= -0.3, (slope, errors)
    assert errors[-1] < 0.5 * _nldp_error(ns[-1], 4.0, 0)[1]   # far better than predicting zero


def test_error_falls_with_epsilon():
    errors = [np.mean([_nldp_error(100_000, eps, seed)[0] for seed in range(3)])
              for eps in (1.0, 4.0, 16.0)]
    assert errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize("protocol", ["non_interactive", "interactive"])
def test_defaults_error_falls_with_n_on_standardized_data(protocol):
    errors, zero = [], None
    for n in (10_000, 1_000_000):
        X, y, theta = _standardized(n, 3, np.random.default_rng(0))
        est = _quiet(LDPSparseRegression(epsilon=2.0, delta=1e-5, protocol=protocol,
                                         random_state=0).fit, X, y)
        errors.append(np.linalg.norm(est.coef_ - theta))
        zero = np.linalg.norm(theta)
    assert errors[1] < 0.75 * errors[0]
    assert errors[1] < 0.6 * zero   # beats predicting zero at n = 1e6, d = 3


def test_auto_threshold_keeps_null_coordinates_zero_and_the_support():
    """threshold='auto' is the size of the largest noise-driven coordinate error: over seeds,
    null coordinates stay zero (a 10x smaller threshold lets about half of them through) and
    the true support survives (a 10x larger one would remove it)."""
    d = 6
    for public in (False, True):
        false_pos = false_neg = 0
        for seed in range(6):
            X, y, theta = make_ldp_regression(100_000, d, 2, noise=0.1, random_state=seed)
            X_pub = np.random.default_rng(seed + 50).uniform(-1, 1, (2000, d)) if public else None
            est = _quiet(LDPSparseRegression(epsilon=8.0, clip_x=1.0, clip_y=1.5,
                                             random_state=seed).fit, X, y, X_public=X_pub)
            false_pos += int(np.sum((est.coef_ != 0) & (theta == 0)))
            false_neg += int(np.sum((est.coef_ == 0) & (theta != 0)))
        assert false_pos <= 3, (public, false_pos)    # of 24 null coordinates
        assert false_neg <= 2, (public, false_neg)    # of 12 support coordinates


def test_public_covariates_beat_private_covariance():
    errors = {"private": [], "public": []}
    for seed in range(3):
        X, y, theta = make_ldp_regression(200_000, 6, 2, noise=0.1, random_state=seed)
        X_pub = np.random.default_rng(seed + 100).uniform(-1, 1, (2000, 6))
        kw = dict(epsilon=2.0, clip_x=1.0, clip_y=1.5, random_state=seed)
        errors["private"].append(np.linalg.norm(_quiet(LDPSparseRegression(**kw).fit, X, y)
                                                .coef_ - theta))
        errors["public"].append(np.linalg.norm(LDPSparseRegression(**kw).fit(X, y, X_pub)
                                               .coef_ - theta))
    assert np.mean(errors["public"]) < 0.5 * np.mean(errors["private"])


# ------------------------------------------------------------- warnings, input
def test_small_n_warns_with_the_needed_n():
    X, y, _ = _standardized(2000, 5, np.random.default_rng(0))
    with pytest.warns(UserWarning, match=r"below the .* non-interactive guarantee needs") as rec:
        est = LDPSparseRegression(random_state=0).fit(X, y)
    assert f"{est.n_samples_needed_:.3g}" in str(rec[0].message)
    assert est.n_samples_needed_ > 2000
    # enough users for the guarantee: no warning
    X, y, _ = make_ldp_regression(20_000, 2, 1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LDPSparseRegression(epsilon=8.0, clip_x=1.0, clip_y=1.5, random_state=0).fit(X, y)
    assert est.n_samples_needed_ < 20_000


def test_data_derived_clipping_warns_privacy_leak():
    X, y, _ = make_ldp_regression(500, 3, 1, random_state=0)
    with pytest.warns(PrivacyLeakWarning, match="NOT covered"):
        _quiet_leak = LDPSparseRegression(clip_x="data", clip_y=1.0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("always", PrivacyLeakWarning)
            _quiet_leak.fit(X, y)
    lower, upper = _quiet_leak.clip_x_
    np.testing.assert_array_equal(lower, X.min(axis=0))
    np.testing.assert_array_equal(upper, X.max(axis=0))
    with pytest.warns(PrivacyLeakWarning):
        privatize(X, y, 1.0, 1e-5, 1.0, "data", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PrivacyLeakWarning)
        privatize(X, y, 1.0, 1e-5, "auto", (-2.0, 2.0), random_state=0)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(epsilon=0.0), InvalidParameterError, "epsilon"),
    (dict(delta=0.0), InvalidParameterError, "delta"),
    (dict(delta=1.0), InvalidParameterError, "delta"),
    (dict(protocol="central"), InvalidParameterError, "protocol"),
    (dict(clip_x=(1.0, -1.0)), ValueError, "lower bound must be < its upper"),
    (dict(clip_x=(np.zeros(2), np.ones(5))), ValueError, "length"),
    (dict(clip_y=-1.0), InvalidParameterError, "clip_y"),
    (dict(clip_x=np.inf), ValueError, "infinite sensitivity"),
    (dict(threshold=-0.1), InvalidParameterError, "threshold"),
    (dict(sparsity=0, protocol="interactive"), InvalidParameterError, "sparsity"),
])
def test_bad_parameters_raise_clear_errors(kwargs, exc, match):
    X, y, _ = make_ldp_regression(100, 3, 1, random_state=0)
    with pytest.raises(exc, match=match):
        _quiet(LDPSparseRegression(random_state=0, **kwargs).fit, X, y)


def test_bad_inputs_at_every_entry_point():
    X, y, _ = make_ldp_regression(100, 3, 1, random_state=0)
    with pytest.raises(ValueError, match="X_public has 2 features"):
        LDPSparseRegression().fit(X, y, X_public=np.ones((5, 2)))
    with pytest.raises(ValueError, match="non-interactive"):
        LDPSparseRegression(protocol="interactive").fit(X, y, X_public=X)
    with pytest.raises(TypeError, match="LDPMessages"):
        LDPSparseRegression().fit_privatized({"cross": X})
    msg = privatize(X, y, 1.0, 1e-5, 1.0, 1.0, random_state=0, release_covariance=False)
    with pytest.raises(ValueError, match="X_public"):
        LDPSparseRegression().fit_privatized(msg)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        privatize(X_nan, y, 1.0, 1e-5, 1.0, 1.0)
    with pytest.raises(ValueError, match="inconsistent"):
        privatize(X, y[:-1], 1.0, 1e-5, 1.0, 1.0)
    with pytest.raises(ValueError, match="delta"):
        privatize(X, y, 1.0, 0.0, 1.0, 1.0)
    X_copy, y_copy = X.copy(), y.copy()
    privatize(X, y, 1.0, 1e-5, 0.5, 0.5, random_state=0)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_privatize_rejects_a_non_accountant():
    X, y = np.zeros((5, 2)), np.zeros(5)
    with pytest.raises(TypeError, match="BudgetAccountant"):
        privatize(X, y, 1.0, 1e-5, 1.0, 1.0, accountant={"epsilon": 1.0})


def test_compiled_randomisers_validate_before_touching_memory():
    """The Cython kernels reject None, bad shapes, bad ranges and bad noise scales."""
    from sparseopt._ext._ldp import accumulate_rows, covariance_cross_messages, gradient_messages

    X, y, lo, up = np.ones((4, 3)), np.ones(4), -np.ones(3), np.ones(3)
    cov, cross = np.zeros((4, 6)), np.zeros((4, 3))

    def cc(**kw):
        args = dict(X=X, y=y, lower=lo, upper=up, y_lower=-1.0, y_upper=1.0, sigma_cov=1.0,
                    sigma_cross=1.0, cov_out=cov, cross_out=cross, with_covariance=True)
        args.update(kw)
        covariance_cross_messages(*args.values())

    for kw, exc, match in [
        (dict(X=None), TypeError, "must not be None"),
        (dict(cov_out=None, with_covariance=False), TypeError, "must not be None"),
        (dict(cov_out=np.zeros((4, 5))), ValueError, "cov_out"),
        (dict(cross_out=np.zeros((3, 3))), ValueError, "output buffer"),
        (dict(y=np.ones(3)), ValueError, "lengths"),
        (dict(X=X.astype(np.float32)), ValueError, "dtype"),
        (dict(lower=up, upper=lo), ValueError, "lower <= upper"),
        (dict(y_lower=1.0, y_upper=-1.0), ValueError, "lower <= upper"),
        (dict(sigma_cov=np.nan), ValueError, "noise scales"),
        (dict(sigma_cross=-1.0), ValueError, "noise scales"),
    ]:
        with pytest.raises(exc, match=match):
            cc(**kw)
    with pytest.raises(ValueError, match="theta has length"):
        gradient_messages(X, y, lo, up, -1.0, 1.0, np.zeros(2), 1.0, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="noise scales"):
        gradient_messages(X, y, lo, up, -1.0, 1.0, np.zeros(3), np.inf, np.zeros((4, 3)))
    with pytest.raises(TypeError, match="must not be None"):
        accumulate_rows(None, np.zeros(3))
    with pytest.raises(ValueError, match="columns"):
        accumulate_rows(np.zeros((4, 3)), np.zeros(2))


def test_reproducible_under_random_state_and_seeds_differ():
    X, y, _ = make_ldp_regression(5000, 3, 2, random_state=0)
    for protocol in ("non_interactive", "interactive"):
        kw = dict(epsilon=4.0, clip_x=1.0, clip_y=1.5, threshold=0.0, protocol=protocol)
        a = _quiet(LDPSparseRegression(random_state=3, **kw).fit, X, y).coef_
        b = _quiet(LDPSparseRegression(random_state=3, **kw).fit, X, y).coef_
        c = _quiet(LDPSparseRegression(random_state=4, **kw).fit, X, y).coef_
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_default_instance_passes_sklearn_checks():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(LDPSparseRegression(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed
    from sklearn.utils import get_tags
    assert not get_tags(LDPSparseRegression()).non_deterministic   # reproducible under a seed


# ---------------------------------------------------------------- array API
def _namespaces():
    out = []
    try:
        import array_api_strict as xps
        out += [pytest.param((xps, xps.Device("CPU_DEVICE")), id="strict-cpu"),
                pytest.param((xps, xps.Device("device1")), id="strict-device1")]
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch
        out.append(pytest.param((torch, torch.device("cpu")), id="torch-cpu"))
    except ImportError:  # pragma: no cover
        pass
    return out


@pytest.mark.parametrize("namespace", _namespaces())
@pytest.mark.parametrize("protocol", ["non_interactive", "interactive"])
def test_array_api_inputs_round_trip(namespace, protocol):
    import sklearn

    from sparseopt.utils._array_api import get_namespace_and_device, to_numpy

    xp, device = namespace
    X, y, _ = make_ldp_regression(3000, 3, 2, random_state=0)
    kw = dict(epsilon=4.0, clip_x=1.0, clip_y=1.5, protocol=protocol, random_state=0)
    ref = _quiet(LDPSparseRegression(**kw).fit, X, y)
    X_xp = xp.asarray(X, device=device)
    y_xp = xp.asarray(y, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        est = _quiet(LDPSparseRegression(**kw).fit, X_xp, y_xp)
        pred = est.predict(X_xp)
        ns, _, dev = get_namespace_and_device(est.coef_)
        ns_pred, _, dev_pred = get_namespace_and_device(pred)
    assert ns.__name__ == ns_pred.__name__ and dev == dev_pred
    assert str(dev) == str(device)
    np.testing.assert_array_equal(to_numpy(est.coef_), ref.coef_)
    np.testing.assert_allclose(to_numpy(pred), ref.predict(X), rtol=1e-12)


def test_fit_streams_messages_in_bounded_memory():
    """Peak memory of fit stays O(block d^2 + d^2), far below the n d^2 / 2 messages."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, d = 30_000, 20
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    est = LDPSparseRegression(random_state=0)
    _quiet(est.fit, X[:100], y[:100])   # compile outside the measurement
    messages_bytes = n * (d * (d + 1) // 2 + d) * 8
    tracemalloc.start()
    _quiet(est.fit, X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    block_bytes = _local.block_size(d * (d + 1) // 2 + d) * (d * (d + 1) // 2 + d) * 8
    assert peak < 2 * block_bytes + 1_000_000 < messages_bytes / 5, (peak, messages_bytes)


def test_all_zero_estimate_above_the_guarantee_warns():
    """Above the non-interactive guarantee's sample size the threshold can still remove
    every coefficient (d = 4, epsilon = 16, 200,000 users: threshold_ ~ 0.49); that zero
    model must come with a warning naming the cause, not silently."""
    from sparseopt.datasets import make_ldp_regression
    from sparseopt.privacy import LDPSparseRegression

    X, y, _ = make_ldp_regression(200_000, 4, 2, random_state=0)
    with pytest.warns(UserWarning, match="thresholded to zero"):
        model = LDPSparseRegression(epsilon=16.0, random_state=0).fit(X, y)
    assert model.n_samples_needed_ < X.shape[0]  # not the too-few-users case
    assert not np.any(model.coef_)
