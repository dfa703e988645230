"""Drop-in compatibility with scikit-learn: the same calls on scikit-learn and on
sparseopt, side by side, compared on coef_, intercept_, alphas_, mse_path_, the
n_iter_ layout and the errors raised."""
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

import sparseopt.linear_model as so
from sparseopt.optimize._datafits import Quadratic
from sparseopt.optimize.working_set_cd import _enet_penalty, working_set_cd

TIGHT = {"tol": 1e-10}
SK_TIGHT = {"tol": 1e-10, "max_iter": 100_000}


def _problem(seed, n=40, p=8, n_targets=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)  # not centred
    w = np.zeros(p)
    w[:3] = rng.standard_normal(3) * 2
    noise = rng.standard_normal(n if n_targets is None else (n, n_targets))
    y = (X @ w if n_targets is None else (X @ w)[:, None] * np.arange(1, n_targets + 1)) + noise
    return X, y


def _assert_same_fit(ours, theirs, atol=1e-7):
    assert np.shape(ours.coef_) == np.shape(theirs.coef_)
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=atol)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=atol)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("options", [
    {"precompute": False}, {"precompute": True},
    {"selection": "random", "random_state": 0}, {"copy_X": False},
    {"positive": True}, {"fit_intercept": False},
])
@pytest.mark.parametrize("name", ["Lasso", "ElasticNet"])
def test_lasso_enet_options_match_sklearn(name, options, seed):
    X, y = _problem(seed)
    X_before = X.copy()
    params = {"alpha": 0.1, **options}
    if name == "ElasticNet":
        params["l1_ratio"] = 0.7
    theirs = getattr(sk, name)(**params, **SK_TIGHT).fit(X, y)
    ours = getattr(so, name)(**params, **TIGHT).fit(X, y)
    _assert_same_fit(ours, theirs)
    assert isinstance(ours.n_iter_, int) and isinstance(theirs.n_iter_, int) and ours.n_iter_ >= 1
    assert np.shape(ours.dual_gap_) == np.shape(theirs.dual_gap_)
    np.testing.assert_array_equal(X, X_before)  # copy_X=False: X is still not modified


def test_precompute_gram_array_as_sklearn():
    X, y = _problem(0)
    Xc = X - X.mean(axis=0)
    gram = Xc.T @ Xc
    theirs = sk.Lasso(alpha=0.1, precompute=gram, **SK_TIGHT).fit(Xc, y)
    ours = so.Lasso(alpha=0.1, precompute=gram, **TIGHT).fit(Xc, y)
    _assert_same_fit(ours, theirs)
    # a Gram of the non-centred X with fit_intercept: both warn and recompute it
    for cls, kw in ((sk.Lasso, SK_TIGHT), (so.Lasso, TIGHT)):
        with pytest.warns(UserWarning, match="recomputing Gram"):
            est = cls(alpha=0.1, precompute=X.T @ X, **kw).fit(X, y)
        np.testing.assert_allclose(est.coef_, sk.Lasso(alpha=0.1, **SK_TIGHT).fit(X, y).coef_,
                                   atol=1e-7)
    # a Gram that is not X^T X: both raise ValueError
    wrong = 2 * gram
    for cls in (sk.Lasso, so.Lasso):
        with pytest.raises(ValueError):
            cls(alpha=0.1, precompute=wrong, fit_intercept=False).fit(Xc, y)


@pytest.mark.parametrize("n_targets", [1, 3])
@pytest.mark.parametrize("name", ["Lasso", "ElasticNet"])
def test_multi_target_y_as_sklearn(name, n_targets):
    X, Y = _problem(1, n_targets=n_targets)
    theirs = getattr(sk, name)(alpha=0.2, **SK_TIGHT).fit(X, Y)
    ours = getattr(so, name)(alpha=0.2, **TIGHT).fit(X, Y)
    _assert_same_fit(ours, theirs)  # (n_targets, p) / (n_targets,); (p,) / (1,) for (n, 1)
    assert type(ours.n_iter_) is type(theirs.n_iter_)  # list per target, int for one
    assert np.shape(ours.n_iter_) == np.shape(theirs.n_iter_)
    assert np.shape(ours.dual_gap_) == np.shape(theirs.dual_gap_)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-6)
    # each column is the single-target fit
    single = so.Lasso if name == "Lasso" else so.ElasticNet
    for k in range(n_targets):
        col = single(alpha=0.2, **TIGHT).fit(X, Y[:, k])
        np.testing.assert_allclose(np.atleast_2d(ours.coef_)[k], col.coef_, atol=1e-8)


def test_scalar_sample_weight_and_check_input_as_sklearn():
    X, y = _problem(2)
    for kw in ({"sample_weight": 3.0}, {"sample_weight": np.full(40, 0.5)},
               {"check_input": False}):
        Xf = np.asfortranarray(X)
        theirs = sk.ElasticNet(alpha=0.1, **SK_TIGHT).fit(Xf, y, **kw)
        ours = so.ElasticNet(alpha=0.1, **TIGHT).fit(Xf, y, **kw)
        _assert_same_fit(ours, theirs)


def test_sparse_design_with_sklearn_options():
    X, y = _problem(3)
    X[np.abs(X) < 0.8] = 0
    Xs = sp.csc_matrix(X)
    params = {"alpha": 0.05, "precompute": True, "selection": "random", "random_state": 1}
    theirs = sk.Lasso(**params, **SK_TIGHT).fit(Xs, y)
    ours = so.Lasso(**params, **TIGHT).fit(Xs, y)
    _assert_same_fit(ours, theirs)


def test_n_iter_counts_coordinate_descent_epochs():
    """n_iter_ of the scikit-learn-named estimators is scikit-learn's unit: CD epochs
    (passes over the working set), the solver's n_epochs, not its outer iterations."""
    X, y = _problem(4, n=60, p=30)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    est = so.Lasso(alpha=0.05, tol=1e-8).fit(X, y)
    res = working_set_cd(np.asfortranarray(Xc), yc, _enet_penalty(0.05, 0.0), Quadratic(),
                         tol=1e-8)
    assert est.n_iter_ == res.n_epochs > res.n_iter
    np.testing.assert_allclose(est.coef_, res.coef, atol=1e-10)
    # the skglm-named estimators keep skglm's count (outer working-set iterations)
    assert so.SparseLinearRegression(alpha=0.05, tol=1e-8).fit(X, y).n_iter_ == res.n_iter


@pytest.mark.parametrize("l1_ratio", [0.5, [0.5], [0.2, 0.7, 1.0]])
def test_elastic_net_cv_l1_ratio_grid_as_sklearn(l1_ratio):
    X, y = _problem(5, n=45, p=6)
    cv = KFold(3)
    theirs = sk.ElasticNetCV(l1_ratio=l1_ratio, alphas=6, cv=cv, **SK_TIGHT).fit(X, y)
    ours = so.ElasticNetCV(l1_ratio=l1_ratio, alphas=6, cv=cv, **TIGHT).fit(X, y)
    assert ours.alphas_.shape == theirs.alphas_.shape
    assert ours.mse_path_.shape == theirs.mse_path_.shape
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-7)
    assert ours.l1_ratio_ == theirs.l1_ratio_ and ours.alpha_ == pytest.approx(theirs.alpha_)
    _assert_same_fit(ours, theirs)


def test_elastic_net_cv_ridge_limit_as_sklearn():
    X, y = _problem(6, n=45, p=6)
    grid = [1.0, 0.3, 0.1, 0.01]
    for l1_ratio in (0, [0, 0.5]):
        theirs = sk.ElasticNetCV(l1_ratio=l1_ratio, alphas=grid, cv=KFold(3),
                                 **SK_TIGHT).fit(X, y)
        ours = so.ElasticNetCV(l1_ratio=l1_ratio, alphas=grid, cv=KFold(3), **TIGHT).fit(X, y)
        np.testing.assert_allclose(ours.alphas_, theirs.alphas_)
        np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-7)
        assert ours.l1_ratio_ == theirs.l1_ratio_ and ours.alpha_ == theirs.alpha_
        _assert_same_fit(ours, theirs)
    # an automatic grid has no alpha_max at l1_ratio=0: both raise
    for cls in (sk.ElasticNetCV, so.ElasticNetCV):
        with pytest.raises(ValueError, match="l1_ratio=0"):
            cls(l1_ratio=[0, 0.5], cv=3).fit(X, y)


def test_cv_groups_and_metadata_routing_as_sklearn():
    X, y = _problem(7, n=48, p=6)
    groups = np.repeat(np.arange(8), 6)
    # with metadata routing, the same call on both libraries
    with sklearn.config_context(enable_metadata_routing=True):
        theirs = sk.LassoCV(alphas=5, cv=GroupKFold(4), **SK_TIGHT).fit(X, y, groups=groups)
        ours = so.LassoCV(alphas=5, cv=GroupKFold(4), **TIGHT).fit(X, y, groups=groups)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-7)
    _assert_same_fit(ours, theirs)
    # without routing, sparseopt still takes groups (scikit-learn needs explicit splits)
    splits = list(GroupKFold(4).split(X, y, groups))
    theirs = sk.LassoCV(alphas=5, cv=splits, **SK_TIGHT).fit(X, y)
    ours = so.LassoCV(alphas=5, cv=GroupKFold(4), **TIGHT).fit(X, y, groups=groups)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-7)
    # other metadata without routing: both raise
    for cls in (sk.LassoCV, so.LassoCV):
        with pytest.raises(ValueError):
            cls(alphas=3, cv=3).fit(X, y, foo=np.ones(48))


def test_lasso_cv_verbose_prints_fold_and_alpha_progress(capsys):
    X, y = _problem(8, n=30, p=5)
    so.LassoCV(alphas=3, cv=3, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("[LassoCV] fold ") == 3 and "best alpha" in out
    so.LassoCV(alphas=3, cv=3, verbose=2).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("alpha 3/3") == 3  # one line per alpha of every fold
    so.LassoCV(alphas=3, cv=3).fit(X, y)
    assert capsys.readouterr().out == ""


def _classification(seed=0, n=80, p=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X[:, 0] - 0.5 * X[:, 1] + 0.7 * rng.standard_normal(n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("l1_ratios", [(1.0,), (0.5, 1.0)])
def test_sparse_logistic_cv_matches_logistic_regression_cv(l1_ratios):
    X, y = _classification()
    cv = StratifiedKFold(3)
    Cs = [0.01, 0.1, 1.0, 10.0]
    theirs = sk.LogisticRegressionCV(
        Cs=Cs, l1_ratios=l1_ratios, solver="saga", tol=1e-8, max_iter=20_000, cv=cv,
        scoring="neg_log_loss", use_legacy_attributes=False).fit(X, y)
    ours = so.SparseLogisticRegressionCV(Cs=Cs, l1_ratios=l1_ratios, tol=1e-10, cv=cv,
                                         scoring="neg_log_loss").fit(X, y)
    for name in ("scores_", "coefs_paths_", "n_iter_", "Cs_", "l1_ratios_"):
        assert np.shape(getattr(ours, name)) == np.shape(getattr(theirs, name)), name
    np.testing.assert_allclose(ours.Cs_, theirs.Cs_)
    # C = 0.01 is the all-zero model, where SAGA's intercept is inaccurate (ours is the
    # exact log-odds of the training fold); from C = 0.1 on the fold paths agree
    np.testing.assert_allclose(ours.coefs_paths_[:, :, 1:], theirs.coefs_paths_[:, :, 1:],
                               atol=1e-5)
    np.testing.assert_allclose(ours.scores_[:, :, 1:], theirs.scores_[:, :, 1:], atol=1e-6)
    for k, (train, _) in enumerate(cv.split(X, y)):
        assert not np.any(ours.coefs_paths_[k, :, 0, 0, :-1])
        log_odds = np.log(y[train].mean() / (1 - y[train].mean()))
        np.testing.assert_allclose(ours.coefs_paths_[k, :, 0, 0, -1], log_odds, atol=1e-8)
    assert ours.C_ == theirs.C_ and ours.l1_ratio_ == theirs.l1_ratio_
    _assert_same_fit(ours, theirs, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


def test_sparse_logistic_cv_refit_false_and_groups_as_sklearn():
    X, y = _classification(1, n=90)
    groups = np.repeat(np.arange(9), 10)
    Cs = [0.1, 1.0, 10.0]
    with sklearn.config_context(enable_metadata_routing=True):
        theirs = sk.LogisticRegressionCV(
            Cs=Cs, l1_ratios=(1.0,), solver="saga", tol=1e-8, max_iter=20_000,
            cv=GroupKFold(3), scoring="neg_log_loss", refit=False,
            use_legacy_attributes=False).fit(X, y, groups=groups)
        ours = so.SparseLogisticRegressionCV(Cs=Cs, tol=1e-10, cv=GroupKFold(3),
                                             scoring="neg_log_loss", refit=False).fit(
            X, y, groups=groups)
    np.testing.assert_allclose(ours.scores_, theirs.scores_, atol=1e-6)
    assert ours.C_ == pytest.approx(theirs.C_)  # the mean of the folds' best C
    _assert_same_fit(ours, theirs, atol=1e-5)  # the mean of the folds' best coefficients


def test_sparse_logistic_cv_alphas_grid():
    X, y = _classification(2)
    est = so.SparseLogisticRegressionCV(alphas=[0.1, 0.01], cv=3).fit(X, y)
    np.testing.assert_allclose(est.alphas_, [0.1, 0.01])
    np.testing.assert_allclose(est.Cs_, 1 / (np.array([0.1, 0.01]) * len(y)))
    assert est.alpha_ in (0.1, 0.01)
    auto = so.SparseLogisticRegressionCV(alphas=4, cv=3).fit(X, y)
    # an automatic grid starts at alpha_max of the full data: the L1 fit is zero there
    # and not below it
    assert auto.alphas_.shape == (4,) and auto.alpha_ in auto.alphas_
    at_max = so.SparseLogisticRegression(alpha=auto.alphas_[0], tol=1e-10).fit(X, y)
    below = so.SparseLogisticRegression(alpha=0.99 * auto.alphas_[0], tol=1e-10).fit(X, y)
    assert not np.any(at_max.coef_) and np.any(below.coef_)
    with pytest.raises(ValueError, match="l1_ratios"):
        so.SparseLogisticRegressionCV(l1_ratios=(0.0,), cv=3).fit(X, y)


@pytest.mark.parametrize("params", [
    {"selection": "sometimes"}, {"alpha": -1.0}, {"l1_ratio": 1.5}, {"precompute": "always"},
    {"random_state": "seed"},
])
def test_bad_parameters_raise_as_sklearn(params):
    X, y = _problem(9)
    for cls in (sk.ElasticNet, so.ElasticNet):
        with pytest.raises(ValueError):
            cls(**params).fit(X, y)


def test_bad_gram_shape_and_target_shape_raise():
    X, y = _problem(9)
    with pytest.raises(IndexError):  # scikit-learn indexes the Gram matrix unchecked
        sk.Lasso(precompute=np.eye(3), fit_intercept=False).fit(X, y)
    with pytest.raises(ValueError, match=r"precompute .* shape \(8, 8\)"):
        so.Lasso(precompute=np.eye(3), fit_intercept=False).fit(X, y)
    for cls in (sk.Lasso, so.Lasso):
        with pytest.raises(ValueError):
            cls().fit(X, np.ones((40, 2, 2)))


def test_unconverged_fit_warns_as_sklearn():
    X, y = _problem(10, n=30, p=40)
    with pytest.warns(ConvergenceWarning):
        sk.Lasso(alpha=1e-4, max_iter=2, tol=1e-12).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        so.Lasso(alpha=1e-4, max_iter=1, max_epochs=2, tol=1e-12).fit(X, y)
