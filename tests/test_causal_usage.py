"""CoLiDE / DAGMA in daily use: the engine's options object, the unit of the data, node
labels from pandas, the GridSearchCV scorer and reproducible parallel bootstraps."""
import warnings

import joblib
import numpy as np
import pytest
import scipy.stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sparseopt.causal import (
    DAGMA,
    CoLiDE,
    PathOptions,
    bootstrap_edges,
    path_following,
    sem_log_likelihood,
)
from sparseopt.datasets import make_linear_sem

FAST = dict(warm_iter=600, max_iter=1200, lr=3e-3, checkpoint=100)


def _quiet(fit, *args, **kwargs):
    """Fit with the ConvergenceWarning of the short test paths silenced (asserted elsewhere)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


# ------------------------------------------------------------------ the options object
def _sigma(d=6, seed=0):
    X, _, _ = make_linear_sem(d, d, 300, random_state=seed)
    X -= X.mean(0)
    return X.T @ X / 300


def test_options_object_and_keywords_give_the_same_path():
    opts = PathOptions(lambda1=0.08, T=2, warm_iter=300, max_iter=400, lr=2e-3, checkpoint=50)
    a = path_following(_sigma(), opts, score="nv", sigma_init=np.ones(6), sigma_floor=0.01)
    b = path_following(_sigma(), score="nv", sigma_init=np.ones(6), sigma_floor=0.01,
                       lambda1=0.08, T=2, warm_iter=300, max_iter=400, lr=2e-3, checkpoint=50)
    # a keyword replaces the field of the object
    c = path_following(_sigma(), PathOptions(lambda1=0.5), score="nv", sigma_init=np.ones(6),
                       sigma_floor=0.01, lambda1=0.08, T=2, warm_iter=300, max_iter=400,
                       lr=2e-3, checkpoint=50)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.x, c.x)
    np.testing.assert_array_equal(a.sigma, b.sigma)
    assert a.n_iter == b.n_iter and a.stages[-1]["objective"] == b.stages[-1]["objective"]


def test_options_are_checked():
    with pytest.raises(TypeError, match="unexpected keyword.*lambda_1"):
        path_following(_sigma(), lambda_1=0.1)
    with pytest.raises(TypeError, match="PathOptions"):
        path_following(_sigma(), {"lambda1": 0.1})
    with pytest.raises(ValueError, match="lambda1"):
        path_following(_sigma(), PathOptions(lambda1=-1.0))


# ------------------------------------------------------------------ the unit of the data
def test_global_rescaling_makes_the_fit_independent_of_the_unit():
    """standardize='global': X and 2**k X give the same weights bit for bit (a power of two
    scales exactly) and the scale in X's units; X and 100 X the same graph."""
    X, W_true, _ = make_linear_sem(5, 6, 400, random_state=0)
    ref = _quiet(CoLiDE("ev", standardize="global", **FAST).fit, X)
    for factor in (2.0 ** 7, 2.0 ** -5):
        est = _quiet(CoLiDE("ev", standardize="global", **FAST).fit, X * factor)
        np.testing.assert_array_equal(est.W_raw_, ref.W_raw_)
        assert est.sigma_ == pytest.approx(ref.sigma_ * factor, rel=1e-14)
    for cls in (CoLiDE, DAGMA):
        a = _quiet(cls(standardize="global", **FAST).fit, X)
        b = _quiet(cls(standardize="global", **FAST).fit, X * 100)
        np.testing.assert_array_equal(a.adjacency_, b.adjacency_)
        np.testing.assert_allclose(a.W_raw_, b.W_raw_, rtol=1e-6, atol=1e-9)


def test_global_rescaling_keeps_a_given_sigma_floor_in_the_data_units():
    X, _, _ = make_linear_sem(5, 5, 300, random_state=0)
    est = _quiet(CoLiDE("nv", standardize="global", sigma_floor=3.0, **FAST).fit, X * 10)
    assert np.all(est.sigma_ >= 3.0 - 1e-12)


def test_standardize_true_means_columns():
    X, _, _ = make_linear_sem(5, 5, 300, random_state=0)
    a = _quiet(CoLiDE(standardize=True, **FAST).fit, X)
    b = _quiet(CoLiDE(standardize="columns", **FAST).fit, X)
    np.testing.assert_array_equal(a.W_raw_, b.W_raw_)
    with pytest.raises(ValueError, match="standardize"):
        CoLiDE(standardize="rows").fit(X)


@pytest.mark.parametrize("cls, factor", [(CoLiDE, 100.0), (CoLiDE, 0.2), (DAGMA, 5.0),
                                         (DAGMA, 0.2)])
def test_a_unit_far_from_the_calibrated_range_warns(cls, factor):
    X, _, _ = make_linear_sem(4, 3, 200, random_state=0)
    with pytest.warns(UserWarning, match="unit of the data"):
        _quiet(cls(warm_iter=50, max_iter=50).fit, X * factor)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        _quiet(cls(warm_iter=50, max_iter=50, standardize="global").fit, X * factor)
        _quiet(cls(warm_iter=50, max_iter=50).fit, X)  # unit noise: no warning


# ------------------------------------------------------------------ pandas
def test_dataframe_names_label_the_graph():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    rain = rng.standard_normal(500)
    wet = 1.5 * rain + rng.standard_normal(500)
    slip = -1.0 * wet + rng.standard_normal(500)
    frame = pd.DataFrame({"rain": rain, "wet": wet, "slip": slip})
    est = _quiet(CoLiDE(**FAST).fit, frame)
    assert list(est.feature_names_in_) == ["rain", "wet", "slip"]
    adj = est.to_frame()
    assert list(adj.index) == list(adj.columns) == ["rain", "wet", "slip"]
    assert adj.loc["rain", "wet"] == 1 and adj.loc["wet", "slip"] == 1 and adj.values.sum() == 2
    np.testing.assert_array_equal(adj.values, est.adjacency_)
    weights = est.to_frame(weighted=True)
    assert weights.loc["rain", "wet"] == pytest.approx(1.5, abs=0.15)
    unlabelled = _quiet(DAGMA(**FAST).fit, frame.to_numpy()).to_frame()
    assert list(unlabelled.columns) == ["x0", "x1", "x2"]


# ------------------------------------------------------------------ the GridSearchCV scorer
def test_sem_log_likelihood_is_the_gaussian_log_likelihood_of_the_residuals():
    X, _, _ = make_linear_sem(5, 6, 400, random_state=2)
    for est in (_quiet(CoLiDE("nv", **FAST).fit, X), _quiet(DAGMA(**FAST).fit, X)):
        Xc = X - X.mean(0)
        E = Xc - Xc @ est.W_
        var = E.var(axis=0) if getattr(est, "noise", "ev") == "nv" else np.full(5, np.mean(E ** 2))
        expected = scipy.stats.norm.logpdf(E, scale=np.sqrt(var)).sum(axis=1).mean()
        assert sem_log_likelihood(est, X) == pytest.approx(expected, rel=1e-12)


def test_sem_log_likelihood_prefers_the_true_graph_in_a_grid_search():
    X, W_true, _ = make_linear_sem(5, 6, 600, random_state=1)
    search = GridSearchCV(DAGMA(**FAST), {"lambda1": [0.05, 2.0]}, scoring=sem_log_likelihood,
                          cv=3)
    _quiet(search.fit, X)
    assert search.best_params_ == {"lambda1": 0.05}
    # the unit of the data shifts the score, not the ranking
    scores = search.cv_results_["mean_test_score"]
    scaled = GridSearchCV(DAGMA(standardize="global", **FAST), {"lambda1": [0.05, 2.0]},
                          scoring=sem_log_likelihood, cv=3)
    _quiet(scaled.fit, X * 100)
    assert np.argmax(scaled.cv_results_["mean_test_score"]) == np.argmax(scores)


# ------------------------------------------------------------------ bootstraps through joblib
def test_bootstrap_equals_serial_under_any_joblib_backend():
    X, _, _ = make_linear_sem(4, 4, 200, random_state=0)
    est = DAGMA(warm_iter=300, max_iter=400, lr=3e-3, checkpoint=100)
    serial = _quiet(bootstrap_edges, est, X, 3, n_jobs=1, random_state=np.random.default_rng(5))
    for backend in ("threading", "sequential"):
        with joblib.parallel_config(backend=backend, n_jobs=2):
            parallel = _quiet(bootstrap_edges, est, X, 3,
                              random_state=np.random.default_rng(5))
        np.testing.assert_array_equal(parallel, serial)
