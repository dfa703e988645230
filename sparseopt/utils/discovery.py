"""Registry of public estimators, found by walking the package.

Registration is automatic: a public class (name not starting with ``_``)
deriving from ``sklearn.base.BaseEstimator`` and exported by a public
subpackage is an estimator. The common tests (``tests/test_common.py``), the
API reference and the demo all read this registry, so a new estimator gets
the harness by being exported.

Per-class test hooks (read by :func:`test_instances` and
:func:`expected_failed_checks`):

``_test_params``
    dict (or list of dicts) of constructor arguments that keep the common
    checks fast (small ``max_iter`` and the like).
``_expected_failed_checks``
    ``{check_name: reason}``; each reason is a sentence explaining why the
    check cannot pass. Empty reasons are rejected by the tests.
``_expected_failed_checks_default``
    ``{check_name: reason}`` that apply only to the default-constructed
    instance ``cls()`` (checked in addition to ``_expected_failed_checks``),
    with the same rule on reasons.
"""
from __future__ import annotations

import importlib
import inspect
from operator import itemgetter

import sklearn.base as skbase
from sklearn.base import BaseEstimator

__all__ = ["all_estimators", "test_instances", "default_instances",
           "expected_failed_checks", "expected_failed_checks_default"]

_SUBPACKAGES = (
    "linear_model", "optimize", "privacy", "bayes", "decomposition", "causal",
    "transport", "cluster", "semi_supervised",
)

_TYPE_TO_MIXIN = {
    "regressor": "RegressorMixin",
    "classifier": "ClassifierMixin",
    "transformer": "TransformerMixin",
    "cluster": "ClusterMixin",
}


def _public_subpackages():
    for name in _SUBPACKAGES:
        try:
            yield importlib.import_module(f"sparseopt.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sparseopt.{name}":
                raise


def all_estimators(type_filter=None):
    """List the public estimators of sparseopt.

    Parameters
    ----------
    type_filter : {"regressor", "classifier", "transformer", "cluster"}, \
            list of those, or None
        Keep only estimators deriving from the matching scikit-learn mixin.

    Returns
    -------
    estimators : list of (name, class)
        Sorted by name, each class once.

    Examples
    --------
    >>> from sparseopt.utils.discovery import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> "Lasso" in names
    True
    """
    found = {}
    for module in _public_subpackages():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isclass(obj) and issubclass(obj, BaseEstimator)
                    and not name.startswith("_") and not inspect.isabstract(obj)
                    and obj.__module__.startswith("sparseopt.")):
                found[name] = obj
    estimators = sorted(found.items(), key=itemgetter(0))
    if type_filter is not None:
        filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = set(filters) - set(_TYPE_TO_MIXIN)
        if unknown:
            raise ValueError(f"type_filter must be among {sorted(_TYPE_TO_MIXIN)}, got {unknown}")
        mixins = tuple(getattr(skbase, _TYPE_TO_MIXIN[f]) for f in filters)
        estimators = [(n, c) for n, c in estimators if issubclass(c, mixins)]
    return estimators


def test_instances(cls):
    """Instances of ``cls`` configured for the common tests (``_test_params``)."""
    params = getattr(cls, "_test_params", {})
    param_list = params if isinstance(params, list) else [params]
    return [cls(**p) for p in param_list]


def default_instances(cls):
    """The default-constructed instance ``cls()`` (one per class), for the common tests."""
    return [cls()]


def expected_failed_checks(estimator):
    """``{check_name: reason}`` declared by the estimator's class."""
    return dict(getattr(type(estimator), "_expected_failed_checks", {}))


def expected_failed_checks_default(estimator):
    """``{check_name: reason}`` for a default-constructed instance.

    The class-wide ``_expected_failed_checks`` plus the default-only
    ``_expected_failed_checks_default``.
    """
    return {**expected_failed_checks(estimator),
            **getattr(type(estimator), "_expected_failed_checks_default", {})}


# pytest must not collect the helper above as a test
test_instances.__test__ = False
