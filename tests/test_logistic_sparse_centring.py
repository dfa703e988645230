"""Implicit centring of CSC X in SparseLogisticRegression (and its CV) with an intercept.

With an unpenalised intercept ``b``, ``x^T w + b = (x - m)^T w + (b + m^T w)``: centring
the features is the same problem, and it removes the near-collinearity of a column far
off centre with the intercept column that makes coordinate descent crawl. Dense X is
centred in a copy; CSC X is centred inside the compiled logistic kernel (never
densified) on its mostly non-zero columns. Properties tested here:

* a CSC fit equals the dense fit of the same data (coefficients, intercept, objective,
  certificate) over many random off-centre problems, float64 and float32, l1 / mcp /
  elasticnet, sample weights and ``positive``; no ConvergenceWarning at the dense
  path's tolerances; the duality gap recomputed independently bounds the fit;
* scikit-learn's ``LogisticRegression(solver="saga")`` on the explicitly centred data
  gives the same coefficients and intercept;
* the 12 CSC problems of the dense shift-invariance test, which took up to 1e5 epochs
  (one of them stopping short), converge in a few epochs;
* the caller's sparse matrix is not modified; the CV estimator on sparse off-centre
  data converges in few epochs;
* which columns are centred; ``alpha="auto"`` does not depend on the storage; a
  constant column centres to exactly 0 and keeps a zero coefficient;
* the solver on CSC X with ``X_mean`` equals the solver on the centred dense X;
* the solver's centring argument and the kernel's arrays are validated.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from test_correctness_logistic import _independent_gap, shifted_feature_problems

from sparseopt._ext import _cd_fast
from sparseopt.linear_model import SparseLogisticRegression, SparseLogisticRegressionCV
from sparseopt.linear_model.logistic_cv import _EpochCountingLogistic
from sparseopt.linear_model.sparse_regression import (_sparse_centring,
                                                      _weighted_column_means)
from sparseopt.optimize import working_set_cd
from sparseopt.optimize._datafits import Logistic
from sparseopt.optimize._penalties import L1, MCP, PenaltyKind


def _off_centre_problem(rng, trial, zero_share=0.1):
    """Columns of three kinds, stored CSC: mostly non-zero and far off centre (mean up to
    100, unit spread, ``zero_share`` of the entries 0), sparse with off-centre non-zeros
    (20 + N(0, 1) on 10-40% of the rows), sparse and centred. Noisy labels (not
    separable)."""
    n, p = int(rng.integers(40, 120)), int(rng.integers(3, 9))
    cols = []
    for j in range(p):
        kind = (j + trial) % 3
        if kind == 0:
            col = rng.uniform(-100, 100) + rng.standard_normal(n)
            col[rng.random(n) < zero_share] = 0.0
        elif kind == 1:
            col = np.where(rng.random(n) < rng.uniform(0.1, 0.4), 20 + rng.standard_normal(n),
                           0.0)
        else:
            col = np.where(rng.random(n) < 0.3, rng.standard_normal(n), 0.0)
        cols.append(col)
    X = np.column_stack(cols)
    Xc = X - X.mean(axis=0)
    y = ((Xc / Xc.std(axis=0).clip(1e-3)) @ rng.standard_normal(p)
         + 3 * rng.standard_normal(n) > 0).astype(int)
    if np.unique(y).size < 2:
        y[0] = 1 - y[0]
    sw = rng.uniform(0.2, 2.0, n) if trial % 3 == 0 else None
    return X, y, sw


def _fit(X, y, sw, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return SparseLogisticRegression(**kw).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("penalty", ["l1", "mcp", "elasticnet"])
def test_sparse_fit_equals_dense_fit_on_off_centre_columns(penalty, dtype):
    """12 problems each: CSC fit == dense fit (which centres a copy), both converged
    without warning at tol=1e-10 (float64) / 1e-6 (float32); for l1 / elasticnet the gap
    recomputed here (dense data, float64) is within the tolerance."""
    rng = np.random.default_rng(7)
    f64 = dtype == np.float64
    tol = 1e-10 if f64 else 1e-6
    coef_tol = 1e-6 if f64 else 5e-5
    for trial in range(12):
        X, y, sw = _off_centre_problem(rng, trial)
        X = X.astype(dtype)
        positive = trial % 4 == 1
        kw = dict(penalty=penalty, alpha=float(rng.choice([0.003, 0.01, 0.03])), tol=tol,
                  positive=positive)
        dense = _fit(X, y, sw, **kw)
        est = _fit(sp.csc_matrix(X), y, sw, **kw)
        assert dense.converged_ and est.converged_, trial
        assert est.coef_.dtype == dtype and est.intercept_.dtype == dtype
        m_scale = 1 + float(np.abs(X).max(axis=0).sum())  # the intercept carries m^T w
        np.testing.assert_allclose(est.coef_, dense.coef_, atol=coef_tol, rtol=1e-5,
                                   err_msg=f"trial {trial}")
        np.testing.assert_allclose(est.intercept_, dense.intercept_, atol=coef_tol * m_scale,
                                   err_msg=f"trial {trial}")
        assert est.objective_ == pytest.approx(dense.objective_, rel=1e-8 if f64 else 1e-6,
                                               abs=1e-12)
        if penalty == "mcp":
            continue
        s = np.ones(X.shape[0]) if sw is None else sw * X.shape[0] / sw.sum()
        ypm = np.where(y == 1, 1.0, -1.0)
        l1_ratio = 1.0 if penalty == "l1" else 0.5
        f0 = np.log(2.0) * s.mean()
        assert est.dual_gap_ <= tol * f0 * (1 + 1e-9), trial
        if not positive:  # (the gap written out here is the unconstrained problem's)
            gap = _independent_gap(X.astype(np.float64), ypm, s, kw["alpha"], l1_ratio,
                                   est.coef_[0].astype(np.float64),
                                   float(est.intercept_[0]), True)
            # float32: the coefficients are rounded to float32 (the intercept carries
            # m^T w, ~1e2 |w|): a gap at that rounding, not at tol
            assert gap <= (tol * f0 if f64 else 1e-5 * f0) * (1 + 1e-6), (trial, gap)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_sparse_fit_matches_sklearn_saga_on_centred_data(l1_ratio):
    """scikit-learn's saga on the explicitly centred dense data, intercept shifted back
    (``b - m^T w``; saga on the raw off-centre data would crawl as CD did): the same
    coefficients and intercept as the CSC fit, whose objective is not above saga's. (The
    mostly non-zero columns without zeros here: a 0 in a column at mean 100 is an outlier
    of -100 once centred, on which saga's steps, ``1 / max ||x_i||^2``, crawl.)"""
    rng = np.random.default_rng(3)
    for trial in range(12):
        X, y, sw = _off_centre_problem(rng, trial, zero_share=0.0)
        n = X.shape[0]
        s = np.ones(n) if sw is None else sw
        alpha = float(rng.choice([0.003, 0.01, 0.03]))
        penalty = "l1" if l1_ratio == 1.0 else "elasticnet"
        est = _fit(sp.csc_matrix(X), y, sw, penalty=penalty, alpha=alpha, tol=1e-10,
                   l1_ratio=None if l1_ratio == 1.0 else l1_ratio)
        m = s @ X / s.sum()
        # scikit-learn's C multiplies the weighted sum of losses; ours is a mean
        ref = LogisticRegression(l1_ratio=l1_ratio, solver="saga", C=1 / (alpha * s.sum()),
                                 tol=1e-12, max_iter=100_000).fit(X - m, y, sample_weight=sw)
        assert ref.n_iter_[0] < 100_000, trial  # the reference converged
        np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-6, err_msg=f"trial {trial}")
        b_ref = ref.intercept_[0] - m @ ref.coef_[0]
        assert est.intercept_[0] == pytest.approx(b_ref, abs=1e-6 * (1 + np.abs(m).sum()))
        s_n = s * n / s.sum()
        z = X @ ref.coef_[0] + b_ref
        ypm = np.where(y == 1, 1.0, -1.0)
        w = ref.coef_[0]
        ref_obj = float(s_n @ np.logaddexp(0, -ypm * z)) / n + alpha * (
            l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * w @ w)
        assert est.objective_ <= ref_obj + 1e-10, trial


@pytest.mark.parametrize("penalty", ["l1", "mcp", "elasticnet"])
def test_previously_slow_sparse_problems_converge_in_few_epochs(penalty):
    """The 12 problems of test_intercept_fit_is_invariant_to_shifting_the_features as CSC:
    before the kernel centred CSC X they took up to 1.1e5 CD epochs (one MCP fit stopped
    short of tol=1e-10); now each converges without warning in at most a few hundred, to
    the dense fit."""
    for trial, (Xc, y, shift, sw, kw) in enumerate(shifted_feature_problems(penalty)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est = _EpochCountingLogistic(**kw).fit(sp.csc_matrix(Xc + shift), y,
                                                   sample_weight=sw)
        dense = SparseLogisticRegression(**kw).fit(Xc + shift, y, sample_weight=sw)
        assert est.converged_ and est.n_iter_ <= 300, (trial, est.n_iter_)
        np.testing.assert_allclose(est.coef_, dense.coef_, atol=1e-6, rtol=1e-5)
        assert est.objective_ == pytest.approx(dense.objective_, rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("fmt", ["csc_unsorted", "csr", "csc_float32"])
def test_callers_sparse_matrix_is_not_modified(fmt):
    rng = np.random.default_rng(0)
    X, y, _ = _off_centre_problem(rng, 0)
    X = sp.csc_matrix(X)
    if fmt == "csc_unsorted":  # reversed row order within each column
        for j in range(X.shape[1]):
            sl = slice(X.indptr[j], X.indptr[j + 1])
            X.indices[sl], X.data[sl] = X.indices[sl][::-1].copy(), X.data[sl][::-1].copy()
        X.has_sorted_indices = False
    elif fmt == "csr":
        X = X.tocsr()
    else:
        X = X.astype(np.float32)
    before = [a.copy() for a in (X.data, X.indices, X.indptr)]
    sw = rng.uniform(0.5, 2.0, X.shape[0])
    tol = 1e-6 if X.dtype == np.float32 else 1e-8
    est = _fit(X, y, sw, alpha=0.01, tol=tol, warm_start=True)
    est.set_params(alpha=0.005).fit(X, y, sample_weight=sw)  # warm start through the shift
    for a, b in zip((X.data, X.indices, X.indptr), before):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    ref = _fit(X.toarray(), y, sw, alpha=0.005, tol=tol)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-4)


def test_logistic_cv_on_sparse_off_centre_features_converges_quickly():
    """scikit-learn's check data (features at mean 100, unit spread) as CSC: every grid
    point converges in few epochs (up to 54,610 before, 412,510 in all) and the fit is
    the dense one's."""
    rng = np.random.RandomState(42)
    X = rng.normal(loc=100, size=(100, 2))
    y = rng.randint(low=0, high=2, size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = SparseLogisticRegressionCV().fit(sp.csc_matrix(X), y)
    assert np.max(est.n_iter_) <= 100
    dense = SparseLogisticRegressionCV().fit(X, y)
    np.testing.assert_allclose(est.coef_, dense.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, dense.intercept_, rtol=1e-4, atol=1e-4)


def test_the_mostly_non_zero_columns_are_centred():
    """Columns whose non-zeros carry at least half the sample weight get their weighted
    mean; sparser ones (whose cosine^2 with the intercept is below 1/2) are left alone."""
    X = np.zeros((4, 3))
    X[:, 0] = [1.0, 2.0, 3.0, 0.0]     # 3 of 4 rows
    X[:2, 1] = [5.0, 7.0]              # 2 of 4 rows: half the unit weight
    X[0, 2] = 9.0                      # 1 of 4 rows
    s = np.ones(4)
    m = _sparse_centring(sp.csc_matrix(X), s, s @ X / 4)
    np.testing.assert_allclose(m, [1.5, 3.0, 0.0])
    s = np.array([0.1, 0.1, 3.0, 3.0])  # column 1's rows now carry 0.2 / 6.2 of the weight
    m = _sparse_centring(sp.csc_matrix(X), s, s @ X / s.sum())
    np.testing.assert_allclose(m, [(0.1 + 0.2 + 9.0) / 6.2, 0.0, 0.0])


@pytest.mark.parametrize("penalty", ["l1", "l0", "l_half", "group_lasso"])
def test_auto_alpha_does_not_depend_on_the_storage(penalty):
    """alpha="auto" reads the curvatures of the fully centred columns for CSC X as for dense
    X (whatever columns the solver centres): the same alpha_ and the same fit."""
    rng = np.random.default_rng(5)
    for trial in range(3):
        X, y, sw = _off_centre_problem(rng, trial)
        kw = dict(penalty=penalty, tol=1e-8, groups=2 if penalty == "group_lasso" else None)
        dense = _fit(X, y, sw, **kw)
        est = _fit(sp.csc_matrix(X), y, sw, **kw)
        assert est.alpha_ == pytest.approx(dense.alpha_, rel=1e-12)
        np.testing.assert_allclose(est.coef_, dense.coef_, atol=1e-4)


@pytest.mark.parametrize("penalty", ["l1", "mcp", "scad", "l0"])
def test_a_constant_column_centres_to_zero_and_keeps_a_zero_coefficient(penalty):
    """A constant column (a user's bias feature, or a feature constant on a CV fold) is
    collinear with the intercept; its weighted mean is computed so that it centres to
    exactly 0 (dense or CSC, with sample weights): its coefficient stays 0 instead of a
    rounding-level column whose tiny curvature let a flat penalty (MCP, SCAD, l0) send
    its coefficient to ~1e16."""
    rng = np.random.default_rng(0)
    n = 80
    X = np.column_stack([np.full(n, 7.0), 50 + rng.standard_normal(n),
                         np.where(rng.random(n) < 0.2, 30.0, 0.0), rng.standard_normal(n)])
    y = (X[:, 1] - 50 + X[:, 3] + rng.standard_normal(n) > 0).astype(int)
    sw = rng.uniform(0, 2, n)
    sw[:10] = 0.0
    assert _weighted_column_means(X, sw)[0] == 7.0
    assert _weighted_column_means(sp.csc_matrix(X), sw)[0] == 7.0
    fits = [_fit(Xin, y, sw, penalty=penalty, alpha=0.005, tol=1e-10)
            for Xin in (X, sp.csc_matrix(X))]
    for est in fits:
        assert est.converged_ and est.coef_[0, 0] == 0.0
    np.testing.assert_allclose(fits[1].coef_, fits[0].coef_, atol=1e-6)


def test_solver_centres_csc_like_a_centred_dense_design():
    """working_set_cd with the logistic datafit: CSC X with ``X_mean`` (and an intercept
    column) gives the solution, objective and certificate of the dense ``X - X_mean``."""
    rng = np.random.default_rng(1)
    for trial, (make, alpha) in enumerate([(L1, 0.01), (MCP, 0.01), (L1, 0.003)]):
        X, y, sw = _off_centre_problem(rng, trial)
        n, p = X.shape
        ypm = np.where(y == 1, 1.0, -1.0)
        s = np.ones(n) if sw is None else sw
        m = s @ X / s.sum()
        positive = trial == 2
        # the intercept: an unpenalised column of ones (with positive, b = b+ - b-: two
        # columns, +1 and -1, as the estimator builds it)
        free = np.ones((n, 1)) * ([1.0, -1.0] if positive else [1.0])
        A = np.column_stack([X, free])
        m_aug = np.r_[m, np.zeros(free.shape[1])]
        pen = make(alpha, weights=np.r_[np.ones(p), np.zeros(free.shape[1])])
        datafit = Logistic(None if sw is None else s * n / s.sum())
        res_s = working_set_cd(sp.csc_matrix(A), ypm, pen, datafit, X_mean=m_aug,
                               positive=positive, tol=1e-10)
        res_d = working_set_cd(A - m_aug, ypm, pen, datafit, positive=positive, tol=1e-10)
        assert res_s.converged and res_d.converged
        assert res_s.certificate_name == res_d.certificate_name
        np.testing.assert_allclose(res_s.coef, res_d.coef, atol=1e-7, rtol=1e-6)
        assert res_s.objective == pytest.approx(res_d.objective, rel=1e-10)


def test_centring_arguments_are_validated():
    rng = np.random.default_rng(0)
    X, y, _ = _off_centre_problem(rng, 0)
    ypm = np.where(y == 1, 1.0, -1.0)
    n, p = X.shape
    Xs = sp.csc_matrix(X)
    with pytest.raises(ValueError, match=r"X_mean has shape \(2,\)"):
        working_set_cd(Xs, ypm, L1(0.01), Logistic(), X_mean=np.zeros(2))
    with pytest.raises(ValueError, match="X_mean contains NaN"):
        working_set_cd(Xs, ypm, L1(0.01), Logistic(), X_mean=np.full(p, np.nan))
    with pytest.raises(TypeError, match="X_mean must be real"):
        working_set_cd(Xs, ypm, L1(0.01), Logistic(), X_mean=np.zeros(p, complex))
    with pytest.raises(ValueError, match="row_scale is for the least-squares datafit"):
        working_set_cd(Xs, ypm, L1(0.01), Logistic(), row_scale=np.ones(n))
    with pytest.raises(ValueError, match="centre a dense X"):
        working_set_cd(X, ypm, L1(0.01), Logistic(), X_mean=X.mean(axis=0))
    # the compiled kernel checks every length before its loop reads memory
    data, indices, indptr = Xs.data, Xs.indices.astype(np.int32), Xs.indptr.astype(np.int32)
    vec = lambda k: np.zeros(k)  # noqa: E731

    def call(**over):
        args = dict(data=data, indices=indices, indptr=indptr, X_mean=vec(p), y=ypm,
                    sample_weight=np.ones(n), w=vec(p), Xw=vec(n), g_buffer=vec(n),
                    lipschitz=np.ones(p), working_set=np.arange(p, dtype=np.int32),
                    kind=PenaltyKind.L1, lam=np.full(p, 0.01), gamma=vec(p), l2=0.0,
                    positive=False, n_samples=n, n_epochs=1)
        args.update(over)
        return _cd_fast.cd_epochs_logistic_sparse(*args.values())

    assert call() >= 0  # well-formed: runs
    assert call(X_mean=vec(0)) >= 0  # empty X_mean: no centring
    with pytest.raises(ValueError, match="X_mean has length 2"):
        call(X_mean=vec(2))
    with pytest.raises(ValueError, match="Xw has length 3"):
        call(Xw=vec(3))
    with pytest.raises(ValueError, match="lam has length 1"):
        call(lam=vec(1))
    with pytest.raises(ValueError, match="working_set holds"):
        call(working_set=np.array([p], dtype=np.int32))
    with pytest.raises(ValueError, match="not a CSC matrix"):
        call(indices=indices[:-1])
    bad_indptr = indptr.copy()
    bad_indptr[-1] += 5
    with pytest.raises(ValueError, match="not a CSC matrix"):
        call(indptr=bad_indptr)
    with pytest.raises(ValueError, match="dtype mismatch"):  # Cython's own check
        call(Xw=vec(n).astype(np.float32))
    centred = np.zeros(p)
    centred[0] = 1.0
    assert call(X_mean=centred) >= 0  # a centred column
    with pytest.raises(ValueError, match="g_buffer has length 0"):
        call(g_buffer=vec(0))
    out = np.empty(p)
    _cd_fast.xtr_subset_centred(data, indices, indptr, centred, ypm, np.arange(p, dtype=np.int32),
                                out)
    np.testing.assert_allclose(out, (X - centred).T @ ypm, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="cols holds"):
        _cd_fast.xtr_subset_centred(data, indices, indptr, centred, ypm,
                                    np.array([p], dtype=np.int32), np.empty(1))
    with pytest.raises(ValueError, match="inconsistent lengths"):
        _cd_fast.xtr_subset_centred(data, indices, indptr, centred[:-1], ypm,
                                    np.arange(p, dtype=np.int32), out)
