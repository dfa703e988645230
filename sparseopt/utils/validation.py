"""One place for input and parameter checks.

Every estimator validates through these helpers so that error messages are
uniform and name the offending argument. Data checks delegate to
scikit-learn's public ``check_array`` / ``validate_data`` (which set
``n_features_in_`` and reject NaN, inf, empty and complex input), and add the
checks scikit-learn leaves to the caller (finite ``y``, sample weights, finite
fitted results). Parameter constraints are declared once per class in
``_parameter_constraints`` and checked at the start of ``fit`` with
:func:`validate_params` (scikit-learn's own machinery is private).
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from array_api_compat import array_namespace
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state  # noqa: F401  (re-exported)
from sklearn.utils.validation import check_array, validate_data

from ._array_api import get_namespace

__all__ = [
    "InvalidParameterError",
    "Interval",
    "StrOptions",
    "Options",
    "validate_params",
    "check_X",
    "check_X_y",
    "check_sample_weight",
    "check_finite_result",
    "warn_not_converged",
    "FLOAT_DTYPES",
]

FLOAT_DTYPES = (np.float64, np.float32)


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has the wrong type or an out-of-range value.

    Subclasses both ``ValueError`` and ``TypeError`` (as scikit-learn's error
    of the same name) so that either ``except`` clause catches it.
    """


class Interval:
    """Numbers in an interval.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        ``Integral`` accepts only integers; ``Real`` accepts any real number.
    left, right : float or None
        Bounds; ``None`` means unbounded.
    closed : {"left", "right", "both", "neither"}
    """

    def __init__(self, type, left, right, *, closed):
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be left/right/both/neither, got {closed!r}")
        self.type, self.left, self.right, self.closed = type, left, right, closed

    def is_satisfied_by(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.type):
            return False
        if isinstance(value, numbers.Real) and not np.isfinite(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self):
        kind = "an int" if self.type is numbers.Integral else "a float"
        lo = "-inf" if self.left is None else self.left
        hi = "inf" if self.right is None else self.right
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {lb}{lo}, {hi}{rb}"


class Options:
    """A value among a fixed set of options (compared with ``==``)."""

    def __init__(self, options):
        self.options = tuple(options)

    def is_satisfied_by(self, value):
        return any(value is o or (type(value) is type(o) and value == o) for o in self.options)

    def __str__(self):
        return "one of " + ", ".join(repr(o) for o in self.options)


class StrOptions(Options):
    """A string among a fixed set."""

    def is_satisfied_by(self, value):
        return isinstance(value, str) and value in self.options


def _satisfies(constraint, value):
    if constraint is None:
        return value is None
    if constraint == "boolean":
        return isinstance(value, (bool, np.bool_))
    if constraint == "random_state":
        return value is None or isinstance(value, (numbers.Integral, np.random.RandomState,
                                                   np.random.Generator)) and not isinstance(value, bool)
    if constraint == "array-like":
        return hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")
    if constraint == "callable":
        return callable(value)
    if constraint == "verbose":
        return isinstance(value, (numbers.Integral, bool, np.bool_)) and value >= 0
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return constraint.is_satisfied_by(value)


def _describe(constraint):
    if constraint is None:
        return "None"
    if isinstance(constraint, str):
        return {"boolean": "a bool", "random_state": "an int, a RandomState instance or None",
                "array-like": "an array-like", "callable": "a callable",
                "verbose": "a non-negative int or bool"}[constraint]
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__}"
    return str(constraint)


def validate_params(estimator, constraints=None, *, owner=None):
    """Check every parameter of ``estimator`` against its declared constraints.

    Parameters
    ----------
    estimator : estimator instance or dict
        An estimator (its ``get_params(deep=False)`` is checked against its
        class's ``_parameter_constraints``) or a plain ``{name: value}`` dict.
    constraints : dict, optional
        ``{name: [constraint, ...]}``; defaults to the class attribute.
    owner : str, optional
        Name used in the error message (default: the class name, or
        ``"function"`` for a dict); functional APIs pass their own name.

    Raises
    ------
    InvalidParameterError
        Naming the parameter, the accepted values and the value received.
    """
    if isinstance(estimator, dict):
        params, default_owner = estimator, "function"
    else:
        params, default_owner = estimator.get_params(deep=False), type(estimator).__name__
        if constraints is None:
            constraints = getattr(type(estimator), "_parameter_constraints", {})
    owner = default_owner if owner is None else owner
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if any(_satisfies(c, value) for c in allowed):
            continue
        desc = " or ".join(_describe(c) for c in allowed)
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {desc}. Got {value!r} instead."
        )


def _namespace_dtype(X, dtype):
    """Translate the NumPy float policy into X's namespace when dispatching."""
    xp, is_array_api = get_namespace(X)
    if is_array_api and dtype is FLOAT_DTYPES:
        return (xp.float64, xp.float32)
    return dtype


def _reject_unsupported_sparse(X, accept_sparse, name):
    if sp.issparse(X) and not accept_sparse:
        raise TypeError(
            f"Sparse input {name} (format {X.format!r}) is not supported by this "
            "estimator; convert it with X.toarray() first."
        )


def check_X(estimator, X, *, reset=True, accept_sparse=False, dtype=FLOAT_DTYPES,
            ensure_min_samples=1, **kwargs):
    """Validate ``X`` for ``fit`` (``reset=True``) or ``predict/transform``.

    Returns a 2-D, finite array of dtype float64 or float32 (float32 kept),
    or a sparse matrix in one of ``accept_sparse``'s formats. Sets or checks
    ``n_features_in_`` / ``feature_names_in_`` through scikit-learn.
    """
    _reject_unsupported_sparse(X, accept_sparse, "X")
    dtype = _namespace_dtype(X, dtype)
    return validate_data(estimator, X, reset=reset, accept_sparse=accept_sparse or False,
                         dtype=dtype, ensure_min_samples=ensure_min_samples, **kwargs)


def check_X_y(estimator, X, y, *, accept_sparse=False, dtype=FLOAT_DTYPES, y_numeric=True,
              multi_output=False, **kwargs):
    """Validate ``X`` and ``y`` for a supervised ``fit``.

    ``y`` is cast to ``X``'s float dtype when ``y_numeric`` and must be finite;
    mismatched lengths, NaN/inf, empty input, 1-D ``X``, object and complex
    dtypes raise ``ValueError`` naming the argument.
    """
    _reject_unsupported_sparse(X, accept_sparse, "X")
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    dtype = _namespace_dtype(X, dtype)
    X, y = validate_data(estimator, X, y, accept_sparse=accept_sparse or False, dtype=dtype,
                         y_numeric=y_numeric, multi_output=multi_output, **kwargs)
    if y_numeric and isinstance(y, np.ndarray) and isinstance(X, np.ndarray):
        y = y.astype(X.dtype, copy=False)
    return X, y


def check_sample_weight(sample_weight, X, *, dtype=None, rescale=True):
    """Validate sample weights: 1-D, length ``n_samples``, finite, ``>= 0``, not all 0.

    Returns ``None`` when ``sample_weight`` is None. With ``rescale`` the
    weights are rescaled to sum to ``n_samples`` (scikit-learn's convention
    for penalised least squares, which keeps ``alpha`` comparable).
    """
    if sample_weight is None:
        return None
    n_samples = X.shape[0]
    dtype = X.dtype if dtype is None else dtype
    if isinstance(sample_weight, numbers.Number) or (
            isinstance(sample_weight, np.ndarray) and sample_weight.ndim == 0):
        sample_weight = np.full(n_samples, sample_weight, dtype=dtype)
    sample_weight = check_array(sample_weight, ensure_2d=False, dtype=dtype,
                                input_name="sample_weight")
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected ({n_samples},)."
        )
    if np.any(sample_weight < 0):
        raise ValueError("Negative values in data passed to sample_weight.")
    total = sample_weight.sum()
    if total <= 0:
        raise ValueError("sample_weight must have a positive sum (all weights are zero).")
    if rescale:
        sample_weight = sample_weight * (n_samples / total)
    return sample_weight


def check_finite_result(name, *arrays):
    """Raise ``FloatingPointError`` if any fitted array holds NaN or inf.

    Called at the end of every ``fit`` so that no non-finite value leaves a
    solver silently.
    """
    for a in arrays:
        if a is None:
            continue
        if sp.issparse(a):
            finite = bool(np.all(np.isfinite(a.data)))
        elif isinstance(a, (np.ndarray, np.generic, float, int, list, tuple)):
            finite = bool(np.all(np.isfinite(np.asarray(a))))
        else:  # an array of another namespace: check it where it lives (no host copy)
            xp = array_namespace(a)
            finite = bool(xp.all(xp.isfinite(a))) if xp.isdtype(
                a.dtype, ("real floating", "complex floating")) else True
        if not finite:
            raise FloatingPointError(
                f"{name} produced non-finite values (NaN or inf); the problem may be "
                "badly scaled or the solver diverged. Try standardising X or a larger "
                "regularisation."
            )


def warn_not_converged(name, *, n_iter, certificate, tol, certificate_name="duality gap",
                       advice="Consider increasing max_iter or the tolerance."):
    """Emit a ``ConvergenceWarning`` stating the certificate reached and the goal."""
    warnings.warn(
        f"{name} did not converge after {n_iter} iterations: {certificate_name} "
        f"{certificate:.3e} > tolerance {tol:.3e}. {advice}",
        ConvergenceWarning,
        stacklevel=3,
    )
