"""The common harness: every public estimator in the registry gets all of it.

A new estimator is covered by being exported from its subpackage's
``__all__`` (see ``sparseopt.utils.discovery``). Per-class hooks:
``_test_params`` (fast constructor arguments), ``_expected_failed_checks``
(``{check: reason}``), ``_test_data(random_state) -> (X, y)`` (a classmethod
returning data the estimator is meant for; default: a small regression,
classification or unsupervised problem chosen from the tags).
"""
import copy
import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparseopt.utils.discovery import (
    all_estimators,
    default_instances,
    expected_failed_checks,
    expected_failed_checks_default,
    test_instances,
)

ESTIMATORS = all_estimators()
INSTANCES = [inst for _, cls in ESTIMATORS for inst in test_instances(cls)]
IDS = [type(e).__name__ for e in INSTANCES]
# default-constructed instances: what a user gets from cls() must pass the checks too
DEFAULT_INSTANCES = [inst for _, cls in ESTIMATORS for inst in default_instances(cls)]
DEFAULT_IDS = [type(e).__name__ for e in DEFAULT_INSTANCES]


def test_registry_is_not_empty():
    assert len(ESTIMATORS) >= 1, "no public estimator registered"


def test_scipy_array_api_is_set():
    # scikit-learn skips its array-API checks silently without it
    assert os.environ.get("SCIPY_ARRAY_API") == "1"


@pytest.mark.parametrize("estimator", INSTANCES, ids=IDS)
def test_expected_failures_carry_reasons(estimator):
    for check, reason in expected_failed_checks(estimator).items():
        assert isinstance(reason, str) and len(reason.split()) >= 4, (
            f"{type(estimator).__name__}: expected failure of {check} needs a written reason")


# scikit-learn's API checks fit on data of their own (random, tiny, constant columns...) that
# the estimators are not meant for: they check the API, not the fit, so the estimators'
# honest warnings about such data (no convergence, too few samples per cluster) are noise
# here. Convergence and these data warnings are asserted with pytest.warns in each field's
# tests; on the estimators' own data (the battery below) no warning is filtered.
API_CHECK_WARNINGS = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # ILASDPClustering on clusters smaller than its covariance needs
    pytest.mark.filterwarnings("ignore:.*have fewer than n_features:UserWarning"),
    # RobustPCA on matrices that are not low rank plus sparse (RecoveryWarning)
    pytest.mark.filterwarnings("ignore:.*the recovery is suspect:UserWarning"),
    # LDPSparseRegression on far fewer users than its privacy-accuracy guarantee needs
    pytest.mark.filterwarnings("ignore:.*users is below the:UserWarning"),
    # CoLiDE / DAGMA on data whose column scale is outside the range their lambda1 was measured
    # for (the warning is asserted in tests/test_causal_usage.py)
    pytest.mark.filterwarnings("ignore:.*the smallest column standard deviation is:UserWarning"),
]


def _api_checks(test):
    for mark in API_CHECK_WARNINGS:
        test = mark(test)
    return test


@_api_checks
@parametrize_with_checks(INSTANCES, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", DEFAULT_INSTANCES, ids=DEFAULT_IDS)
def test_default_expected_failures_carry_reasons(estimator):
    for check, reason in expected_failed_checks_default(estimator).items():
        assert isinstance(reason, str) and len(reason.split()) >= 4, (
            f"{type(estimator).__name__}(): expected failure of {check} needs a written reason")


@_api_checks
@parametrize_with_checks(DEFAULT_INSTANCES, expected_failed_checks=expected_failed_checks_default)
def test_sklearn_compatible_default_instance(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- battery data
def _data(estimator, random_state=0):
    cls = type(estimator)
    if hasattr(cls, "_test_data"):
        return cls._test_data(random_state)
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((40, 6))
    if is_regressor(estimator):
        return X, X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(40)
    if is_classifier(estimator):
        return X, (X[:, 0] + 0.5 * rng.standard_normal(40) > 0).astype(int)
    return X, None


def _supervised(estimator):
    return get_tags(estimator).target_tags.required


def _fit(estimator, X, y):
    return estimator.fit(X, y) if y is not None else estimator.fit(X)


def _output(estimator, X):
    """What a user reads from a fitted estimator."""
    for method in ("predict", "transform"):
        if hasattr(estimator, method):
            return np.asarray(getattr(estimator, method)(X), dtype=float)
    arrays = [np.ravel(np.asarray(v, dtype=float)) for k, v in sorted(vars(estimator).items())
              if k.endswith("_") and not k.startswith("_")
              and isinstance(v, (np.ndarray, float, np.floating))]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def _battery(name):
    return pytest.mark.parametrize("estimator", INSTANCES, ids=IDS)


def _bad_X_cases(X):
    X_nan = X.copy(); X_nan[0, 0] = np.nan
    X_inf = X.copy(); X_inf[1, 1] = np.inf
    return {
        "nan": (X_nan, ValueError, "nan"),
        "inf": (X_inf, ValueError, "inf"),
        "empty": (X[:0], ValueError, "sample"),
        "one_d": (X[:, 0], ValueError, "2d"),
        "complex": (X.astype(complex), ValueError, "complex"),
        "object_strings": (np.full(X.shape, "a", dtype=object), (ValueError, TypeError), ""),
    }


@pytest.mark.parametrize("case", ["nan", "inf", "empty", "one_d", "complex", "object_strings"])
@_battery("bad_X")
def test_bad_X_raises_clear_error(estimator, case):
    X, y = _data(estimator)
    X_bad, exc, word = _bad_X_cases(X)[case]
    if y is not None and case == "empty":
        y = y[:0]
    with pytest.raises(exc) as info:
        _fit(clone(estimator), X_bad, y)
    message = str(info.value).lower().replace(" ", "").replace("-", "")
    assert word in message, f"error for {case} input does not name the problem: {info.value}"


@_battery("y")
def test_bad_y_raises_clear_error(estimator):
    X, y = _data(estimator)
    if not _supervised(estimator):
        pytest.skip(f"{type(estimator).__name__} is unsupervised: it has no y to check")
    with pytest.raises(ValueError, match="(?i)inconsistent|samples"):
        _fit(clone(estimator), X, y[:-3])
    if is_regressor(estimator):
        y_nan = y.astype(float).copy(); y_nan[2] = np.nan
        with pytest.raises(ValueError, match="(?i)nan"):
            _fit(clone(estimator), X, y_nan)


@_battery("sparse")
def test_sparse_policy(estimator):
    X, y = _data(estimator)
    supports_sparse = get_tags(estimator).input_tags.sparse
    for fmt in ("csr", "csc"):
        X_sp = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
        if supports_sparse:
            dense = _output(_fit(clone(estimator), X, y), X)
            sparse = _output(_fit(clone(estimator), X_sp, y), X)
            np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-7)
        else:
            with pytest.raises((TypeError, ValueError), match="(?i)sparse"):
                _fit(clone(estimator), X_sp, y)


@_battery("mutation")
def test_inputs_are_not_mutated(estimator):
    X, y = _data(estimator)
    X_copy, y_copy = X.copy(), None if y is None else y.copy()
    est = _fit(clone(estimator), X, y)
    _output(est, X)
    np.testing.assert_array_equal(X, X_copy)
    if y is not None:
        np.testing.assert_array_equal(y, y_copy)


@_battery("pickle")
def test_pickle_round_trip(estimator):
    X, y = _data(estimator)
    est = _fit(clone(estimator), X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_output(restored, X), _output(est, X))


@_battery("random_state")
def test_random_state_makes_fits_reproducible(estimator):
    if "random_state" not in estimator.get_params():
        pytest.skip(f"{type(estimator).__name__} is deterministic: it has no random_state")
    X, y = _data(estimator)
    a = _output(_fit(clone(estimator).set_params(random_state=7), X, y), X)
    b = _output(_fit(clone(estimator).set_params(random_state=7), X, y), X)
    np.testing.assert_array_equal(a, b)


@_battery("float32")
def test_float32_input(estimator):
    X, y = _data(estimator)
    est = _fit(clone(estimator), X.astype(np.float32), y)
    out = _output(est, X.astype(np.float32))
    assert out.size > 0 and np.all(np.isfinite(out))
    ref = _output(_fit(clone(estimator), X, y), X)
    scale = max(np.abs(ref).max(), 1.0)
    assert np.abs(out - ref).max() <= 1e-3 * scale, "float32 fit far from the float64 fit"


@_battery("non_contiguous")
def test_non_contiguous_input(estimator):
    X, y = _data(estimator)
    wide = np.repeat(X, 2, axis=1)
    X_strided = wide[:, ::2]
    assert not X_strided.flags.c_contiguous and not X_strided.flags.f_contiguous
    X_fortran = np.asfortranarray(X)
    ref = _output(_fit(clone(estimator), X, y), X)
    for X_variant in (X_strided, X_fortran):
        out = _output(_fit(clone(estimator), X_variant, y), X)
        np.testing.assert_allclose(out, ref, rtol=1e-7, atol=1e-9)


@_battery("deepcopy")
def test_fit_returns_self_and_params_untouched(estimator):
    X, y = _data(estimator)
    est = clone(estimator)
    params = copy.deepcopy(est.get_params())
    assert _fit(est, X, y) is est
    after = est.get_params()
    for k, v in params.items():
        assert repr(after[k]) == repr(v), f"fit modified parameter {k}"
