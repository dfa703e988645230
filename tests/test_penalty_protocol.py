"""The problem protocol: public datafits / penalties, checked on entry, extensible from outside.

``BerHu`` and ``SoftRidge`` below are penalties defined in this file only: they are fitted
through the estimators and the solver without any edit to the package, which is what the
user guide page "Adding a penalty" (doc/modules/extending.rst, which includes ``BerHu``
from here) promises.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet as SkElasticNet

import sparseopt.optimize._datafits as old_datafits
import sparseopt.optimize._penalties as old_penalties
from sparseopt._ext import _cd_fast
from sparseopt.linear_model import SparseLinearRegression, SparseLogisticRegression
from sparseopt.optimize import (
    PathCache,
    datafits,
    duality_gap,
    penalties,
    prox_gradient,
    working_set_cd,
)
from sparseopt.optimize.datafits import Logistic, Quadratic
from sparseopt.optimize.penalties import (
    L1,
    MCP,
    BasePenalty,
    ElasticNetPenalty,
    PenaltyKind,
    check_penalty,
    kernel_kind,
)
from sparseopt.utils.validation import InvalidParameterError, validate_params


class BerHu(BasePenalty):
    """Reverse Huber: ``alpha * sum_j b(w_j)``, ``b(t) = |t|`` if ``|t| <= M`` else
    ``(t^2 + M^2) / (2 M)`` (Owen 2007): lasso near 0, ridge for large coefficients."""

    is_convex = True

    def __init__(self, alpha=1.0, M=1.0):
        super().__init__(alpha)
        self.M = M

    def value(self, w):
        a = np.abs(w)
        return self.alpha * float(np.sum(a + np.maximum(a - self.M, 0.0) ** 2 / (2 * self.M)))

    def prox(self, z, step, positive=False):
        # argmin_x (x - z)^2 / 2 + lam b(x), lam = step * alpha: soft thresholding while
        # |x| <= M, i.e. |z| <= lam + M; beyond, the ridge part: x = z M / (M + lam)
        z = np.asarray(z, dtype=float)
        if positive:
            z = np.maximum(z, 0.0)
        lam = step * self.alpha
        soft = np.sign(z) * np.maximum(np.abs(z) - lam, 0.0)
        return np.where(np.abs(z) <= lam + self.M, soft, z * self.M / (self.M + lam))


class SoftRidge(BasePenalty):
    """``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||^2)``, written here only.

    The elastic net again, on purpose: scikit-learn's ``ElasticNet`` is the independent
    reference. No ``kind``: the solver runs proximal gradient on ``value`` and ``prox``.
    """

    is_convex = True

    def __init__(self, alpha=1.0, l1_ratio=0.5):
        super().__init__(alpha)
        self.l1_ratio = l1_ratio

    def value(self, w):
        return self.alpha * (self.l1_ratio * float(np.abs(w).sum())
                             + 0.5 * (1 - self.l1_ratio) * float(w @ w))

    def prox(self, z, step, positive=False):
        z = np.asarray(z, dtype=float)
        if positive:
            z = np.maximum(z, 0.0)
        shrunk = np.sign(z) * np.maximum(np.abs(z) - step * self.alpha * self.l1_ratio, 0.0)
        return shrunk / (1 + step * self.alpha * (1 - self.l1_ratio))

    def alpha_max(self, neg_grad0, positive=False):
        g = np.maximum(neg_grad0, 0) if positive else np.abs(neg_grad0)
        return float(np.max(g)) / self.l1_ratio


def _regression(seed, n=60, p=15):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[:3] = rng.standard_normal(3) * 2
    return X, X @ coef + 0.1 * rng.standard_normal(n)


def _objective(X, y, coef, intercept, alpha, l1_ratio):
    r = y - X @ coef - intercept
    return float(r @ r) / (2 * len(y)) + SoftRidge(alpha, l1_ratio).value(coef)


def test_public_modules_and_the_former_private_ones_are_the_same_objects():
    for name in penalties.__all__:
        assert getattr(old_penalties, name) is getattr(penalties, name)
    for name in datafits.__all__:
        assert getattr(old_datafits, name) is getattr(datafits, name)
    assert old_penalties._Penalty is BasePenalty


@pytest.mark.parametrize("seed", range(4))
def test_penalty_defined_here_fits_through_the_estimator(seed):
    X, y = _regression(seed)
    alpha, l1_ratio = 0.05 * (seed + 1), 0.3 + 0.15 * seed
    est = SparseLinearRegression(penalty=SoftRidge(l1_ratio=l1_ratio), alpha=alpha,
                                 tol=1e-10).fit(X, y)
    ref = SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000).fit(X, y)
    assert est.converged_ and est.certificate_name_ == "prox fixed-point residual"
    assert est.certificate_ <= 1e-10 * np.max(np.abs(X.T @ (y - y.mean()))) / len(y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6)
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)
    # not worse than the reference's objective (the answer, certified above)
    ours = _objective(X, y, est.coef_, est.intercept_, alpha, l1_ratio)
    assert ours <= _objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio) + 1e-12
    # the estimator's alpha is the one used; the object given is not modified
    assert est.get_params()["penalty"].alpha == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_berhu_defined_here_matches_cvxpy(seed):
    cp = pytest.importorskip("cvxpy")
    X, y = _regression(seed, n=50, p=12)
    y = y * 3  # large coefficients: the ridge part of BerHu is active
    alpha, M = 0.2, 0.5 + seed
    est = SparseLinearRegression(penalty=BerHu(M=M), alpha=alpha, fit_intercept=False,
                                 tol=1e-10).fit(X, y)
    w = cp.Variable(X.shape[1])
    berhu = cp.sum(cp.abs(w) + cp.square(cp.pos(cp.abs(w) - M)) / (2 * M))
    cp.Problem(cp.Minimize(cp.sum_squares(y - X @ w) / (2 * len(y)) + alpha * berhu)).solve(
        solver=cp.CLARABEL)
    assert est.converged_
    assert np.any(np.abs(est.coef_) > M) and np.any(est.coef_ == 0)  # both regimes used
    np.testing.assert_allclose(est.coef_, w.value, atol=1e-5)
    def objective(coef):
        r = y - X @ coef
        return float(r @ r) / (2 * len(y)) + BerHu(alpha, M).value(coef)

    assert objective(est.coef_) <= objective(w.value) + 1e-9


def test_penalty_defined_here_with_an_intercept_left_unpenalised():
    # logistic: the intercept is an extra coefficient the penalty must leave free
    # (BasePenalty.with_free_tail); same model as the compiled elastic net
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 8))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(120) > 0.3).astype(int)
    ours = SparseLogisticRegression(penalty=SoftRidge(l1_ratio=0.5), alpha=0.02,
                                    tol=1e-10, max_iter=200).fit(X, y)
    ref = SparseLogisticRegression(penalty="elasticnet", l1_ratio=0.5, alpha=0.02,
                                   tol=1e-12).fit(X, y)
    assert ours.converged_
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)


def test_penalty_objects_and_names_give_the_same_fit_and_clone():
    X, y = _regression(1, n=80, p=12)
    for obj, name, params in [(MCP(gamma=2.5), "mcp", {"gamma": 2.5}),
                              (ElasticNetPenalty(l1_ratio=0.7), "elasticnet", {"l1_ratio": 0.7}),
                              (penalties.L0(), "l0", {}),
                              (penalties.GroupLasso(groups=3), "group_lasso", {"groups": 3})]:
        a = SparseLinearRegression(penalty=obj, alpha=0.1).fit(X, y)
        b = SparseLinearRegression(penalty=name, alpha=0.1, **params).fit(X, y)
        np.testing.assert_array_equal(a.coef_, b.coef_)
        twin = clone(SparseLinearRegression(penalty=obj, alpha=0.1))
        assert twin.get_params()["penalty"] is not obj
        assert repr(twin.get_params()["penalty"]) == repr(obj)
        np.testing.assert_array_equal(twin.fit(X, y).coef_, a.coef_)


class _NoProx:
    alpha = 0.1

    def value(self, w):
        return 0.0


class _CompiledWithoutKernel(_NoProx):
    kind = PenaltyKind.L1

    def prox(self, z, step, positive=False):
        return z


class _Datafit:
    def value(self, y, Xw):
        return 0.0


def test_the_solver_names_what_a_penalty_or_datafit_lacks():
    X, y = _regression(0, n=20, p=5)
    with pytest.raises(TypeError, match="lacks `prox`, needed by every penalty"):
        working_set_cd(X, y, _NoProx())
    with pytest.raises(TypeError, match="lacks `kernel_arrays`, needed by compiled coordinate"):
        working_set_cd(X, y, _CompiledWithoutKernel())
    with pytest.raises(TypeError, match="lacks the method `raw_gradient`"):
        working_set_cd(X, y, L1(0.1), _Datafit())
    with pytest.raises(TypeError, match="penalty must be a penalty object"):
        working_set_cd(X, y, "l1")
    with pytest.raises(TypeError, match="lacks `prox`"):  # prox_gradient checks too
        prox_gradient(X, y, _NoProx())
    with pytest.raises(TypeError, match="MCP lacks `dual_norm`, needed by a duality gap"):
        duality_gap(y, np.zeros(5), MCP(0.1), y, X.T @ y, len(y))

    class NoValue(BasePenalty):  # a BasePenalty without a kind must define value and prox
        pass

    with pytest.raises(TypeError, match="NoValue lacks `value`"):
        working_set_cd(X, y, NoValue(0.1))


def test_the_estimator_names_what_a_penalty_lacks():
    X, y = _regression(0, n=20, p=5)
    est = SparseLinearRegression(penalty=_NoProx(), alpha=0.1)
    validate_params(est)  # an object is a valid value; its protocol is checked at fit
    with pytest.raises(TypeError, match="SparseLinearRegression: the penalty _NoProx lacks"):
        est.fit(X, y)


def test_penalty_kinds_are_the_kernel_enum():
    assert [k.name for k in PenaltyKind] == ["L1", "MCP", "SCAD", "L_HALF", "L_TWO_THIRDS",
                                            "LOG_SUM", "L0"]
    assert kernel_kind(MCP(0.1)) is PenaltyKind.MCP and _cd_fast.PENALTY_MCP is PenaltyKind.MCP
    assert kernel_kind(SoftRidge()) is None

    class Wrong(L1):
        kind = 42

    with pytest.raises(TypeError, match="not a member of PenaltyKind"):
        check_penalty(Wrong(0.1))


def test_path_cache_is_typed_and_a_dict_is_still_accepted():
    rng = np.random.default_rng(3)
    X = sp.random(40, 30, density=0.2, format="csc", random_state=3)
    y = rng.standard_normal(40)
    typed, legacy, w_t, w_l = PathCache(), {}, None, None
    for alpha in (0.05, 0.02, 0.01):
        r_t = working_set_cd(X, y, L1(alpha), w_init=w_t, tol=1e-10, cache=typed)
        r_l = working_set_cd(X, y, L1(alpha), w_init=w_l, tol=1e-10, cache=legacy)
        np.testing.assert_array_equal(r_t.coef, r_l.coef)
        w_t, w_l = r_t.coef, r_l.coef
    assert typed.sparse_design is not None and typed.last_state is not None
    np.testing.assert_array_equal(typed.last_state.w, w_t)
    assert set(legacy) >= {"checked_X", "sparse_design", "last_state"}
    with pytest.raises(TypeError, match="cache must be a PathCache"):
        working_set_cd(X, y, L1(0.1), cache=[1])


def _float32_problem(seed):
    X, y = _regression(seed, n=100, p=20)
    return X.astype(np.float32), y.astype(np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_float32_below_its_rounding_floor_is_blamed_on_precision(seed):
    X, y = _float32_problem(seed)
    Xc, yc = X - X.mean(0), y - y.mean()
    res = working_set_cd(Xc, yc, L1(0.1), Quadratic(), tol=1e-10)
    assert not res.converged and res.stop_reason == "precision"
    assert "float32" in res.advice and "max_iter" not in res.advice
    # far fewer outer iterations than max_iter: the stop is early, not an exhausted budget
    assert res.n_iter < 50
    # the same problem in float64 converges: the cause was the dtype
    assert working_set_cd(Xc.astype(np.float64), yc.astype(np.float64), L1(0.1),
                          tol=1e-10).converged


def test_float32_warning_names_precision_not_max_iter():
    X, y = _float32_problem(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SparseLinearRegression(penalty="l1", alpha=0.1, tol=1e-8).fit(X, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1
    assert "rounding floor" in messages[0] and "float32" in messages[0]
    assert "increase max_iter" not in messages[0].lower()


def test_max_iter_is_still_named_when_it_is_the_cause():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 300))
    y = X[:, :30] @ rng.standard_normal(30) + 0.1 * rng.standard_normal(60)
    res = working_set_cd(X, y, L1(1e-3 * np.max(np.abs(X.T @ y)) / 60), tol=1e-12,
                         max_iter=7, p0=1)
    assert not res.converged and res.stop_reason == "max_iter" and "max_iter" in res.advice


def test_logistic_float32_tol_below_the_floor_is_precision():
    rng = np.random.default_rng(24)
    X = rng.standard_normal((30, 500)).astype(np.float32)
    y = np.where(X[:, :5] @ rng.standard_normal(5) > 0, 1.0, -1.0).astype(np.float32)
    alpha = 0.05 * float(np.max(np.abs(X.T @ y))) / 30
    res = working_set_cd(X, y, L1(alpha), Logistic(), tol=1e-10)
    assert not res.converged and res.stop_reason == "precision", res.stop_reason
