import numbers
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from sparseopt.utils.validation import (
    InvalidParameterError,
    Interval,
    StrOptions,
    check_finite_result,
    check_sample_weight,
    check_X,
    check_X_y,
    validate_params,
    warn_not_converged,
)


class _Toy(BaseEstimator):
    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "n": [Interval(numbers.Integral, 1, 10, closed="both")],
        "mode": [StrOptions({"a", "b"})],
        "flag": ["boolean"],
        "random_state": ["random_state"],
        "opt": [None, Interval(numbers.Real, 0, 1, closed="neither")],
    }

    def __init__(self, alpha=1.0, n=3, mode="a", flag=True, random_state=None, opt=None):
        self.alpha, self.n, self.mode, self.flag = alpha, n, mode, flag
        self.random_state, self.opt = random_state, opt


def test_valid_parameters_pass():
    validate_params(_Toy(alpha=0.0, n=10, mode="b", flag=False, random_state=3, opt=0.5))
    validate_params(_Toy(random_state=np.random.RandomState(0)))


@pytest.mark.parametrize("params, name", [
    ({"alpha": -1.0}, "alpha"), ({"alpha": np.nan}, "alpha"), ({"alpha": "x"}, "alpha"),
    ({"n": 0}, "n"), ({"n": 11}, "n"), ({"n": 2.5}, "n"), ({"n": True}, "n"),
    ({"mode": "c"}, "mode"), ({"flag": 1}, "flag"), ({"random_state": "seed"}, "random_state"),
    ({"opt": 1.0}, "opt"), ({"opt": 0.0}, "opt"),
])
def test_invalid_parameter_is_named(params, name):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of _Toy"):
        validate_params(_Toy(**params))


def test_invalid_parameter_error_is_value_and_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_interval_bounds():
    closed_left = Interval(numbers.Real, 0, 1, closed="left")
    assert closed_left.is_satisfied_by(0) and not closed_left.is_satisfied_by(1)
    assert not Interval(numbers.Real, 0, None, closed="neither").is_satisfied_by(0.0)
    assert Interval(numbers.Real, None, None, closed="neither").is_satisfied_by(-1e300)
    assert "range [0, 1)" in str(closed_left)


def test_validate_params_on_dict_for_functions():
    with pytest.raises(InvalidParameterError, match="'k' parameter of function"):
        validate_params({"k": -1}, {"k": [Interval(numbers.Integral, 0, None, closed="left")]})


def test_check_X_keeps_float32_and_rejects_sparse_by_default():
    est = _Toy()
    X = np.ones((3, 2), dtype=np.float32)
    assert check_X(est, X).dtype == np.float32
    assert est.n_features_in_ == 2
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="Sparse input X"):
        check_X(est, sp.csr_matrix(X))


def test_check_X_y_errors_name_the_problem():
    est = _Toy()
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        check_X_y(est, X, np.ones(3))
    with pytest.raises(ValueError, match="requires y"):
        check_X_y(est, X, None)
    with pytest.raises(ValueError, match="NaN"):
        check_X_y(est, X, np.array([1.0, np.nan, 0.0, 1.0]))
    X_, y_ = check_X_y(est, X.astype(np.float32), np.arange(4))
    assert y_.dtype == np.float32


def test_sample_weight_checks_and_rescaling():
    X = np.ones((4, 2))
    sw = check_sample_weight([1.0, 1.0, 2.0, 4.0], X)
    np.testing.assert_allclose(sw.sum(), 4.0)
    assert check_sample_weight(None, X) is None
    with pytest.raises(ValueError, match="Negative"):
        check_sample_weight([1.0, -1.0, 1.0, 1.0], X)
    with pytest.raises(ValueError, match="shape"):
        check_sample_weight([1.0, 1.0], X)
    with pytest.raises(ValueError, match="positive sum"):
        check_sample_weight(np.zeros(4), X)
    with pytest.raises(ValueError, match="(?i)nan"):
        check_sample_weight([1.0, np.nan, 1.0, 1.0], X)


def test_check_finite_result_raises_on_nan():
    check_finite_result("Est", np.ones(3), None)
    with pytest.raises(FloatingPointError, match="Est produced non-finite"):
        check_finite_result("Est", np.array([1.0, np.inf]))


def test_warn_not_converged_states_certificate():
    with pytest.warns(ConvergenceWarning, match="duality gap 1.000e-02 > tolerance 1.000e-04"):
        warn_not_converged("Est", n_iter=5, certificate=1e-2, tol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_params(_Toy())


def test_scalar_sample_weight_accepted_as_a_constant():
    """A 0-d array (what ``to_numpy`` makes of a scalar) is a constant weight, as a Python
    scalar and as in scikit-learn."""
    X = np.zeros((4, 2))
    for sw in (2.0, np.asarray(2.0)):
        np.testing.assert_array_equal(check_sample_weight(sw, X), np.ones(4))
