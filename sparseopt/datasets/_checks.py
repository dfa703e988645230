"""Argument checks shared by the generators: impossible arguments raise before any drawing."""
from __future__ import annotations

import numbers

from ..utils.validation import Interval, StrOptions, validate_params  # noqa: F401

__all__ = []  # nothing public: collected by the package's __init__ like every module

POSITIVE_INT = [Interval(numbers.Integral, 1, None, closed="left")]
NON_NEGATIVE_INT = [Interval(numbers.Integral, 0, None, closed="left")]
POSITIVE = [Interval(numbers.Real, 0, None, closed="neither")]
NON_NEGATIVE = [Interval(numbers.Real, 0, None, closed="left")]
FRACTION = [Interval(numbers.Real, 0, 1, closed="both")]
DENSITY = [Interval(numbers.Real, 0, 1, closed="right")]
CORRELATION = [Interval(numbers.Real, -1, 1, closed="neither")]
RANDOM_STATE = ["random_state"]


def check_args(owner, args, constraints):
    """Validate ``args`` (a function's ``locals()``) against ``{name: [constraint, ...]}``."""
    validate_params({k: args[k] for k in constraints}, constraints, owner=owner)


def check_at_most(owner, small_name, small, large_name, large):
    """``small <= large`` (e.g. ``n_informative <= n_features``)."""
    if small > large:
        raise ValueError(f"{owner}: {small_name}={small} must be <= {large_name}={large}.")
