"""Validation, array-API helpers and the estimator registry."""
from ._array_api import from_numpy, get_namespace, get_namespace_and_device, to_numpy
from .discovery import all_estimators
from .validation import (
    InvalidParameterError,
    Interval,
    Options,
    StrOptions,
    check_sample_weight,
    validate_params,
)

__all__ = [
    "all_estimators",
    "get_namespace",
    "get_namespace_and_device",
    "to_numpy",
    "from_numpy",
    "validate_params",
    "check_sample_weight",
    "InvalidParameterError",
    "Interval",
    "Options",
    "StrOptions",
]
