"""``GeneralizedLinearEstimator``: a datafit object plus a penalty object, skglm-style.

The estimator translates the pair into the matching
:class:`~sparseopt.linear_model.SparseLinearRegression` (quadratic datafit) or
:class:`~sparseopt.linear_model.SparseLogisticRegression` (logistic datafit)
configuration and fits it with the working-set coordinate-descent solver, so
every option of those estimators (intercept handling, sample weights, sparse
X, certificates) applies unchanged. sparseopt's own datafits and penalties
(:mod:`sparseopt.optimize.datafits`, :mod:`sparseopt.optimize.penalties`)
are accepted, and so are skglm's common ones, translated.
"""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._tags import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if

from ..optimize.datafits import Logistic, Quadratic
from ..optimize.penalties import L1, BasePenalty as _Penalty
from ..optimize.bcd import BlockCoordinateDescent
from ..utils._array_api import mark_host_roundtrip
from ..utils.validation import Interval, validate_params
from ._base import LinearClassifierMixin, LinearPredictorMixin
from .sparse_regression import SparseLinearRegression, SparseLogisticRegression

__all__ = ["GeneralizedLinearEstimator"]

# skglm penalty class -> (our penalty name, {our parameter: skglm attribute})
_SKGLM_PENALTIES = {
    "L1": ("l1", {}),
    "WeightedL1": ("l1", {"weights": "weights"}),
    "L1_plus_L2": ("elasticnet", {"l1_ratio": "l1_ratio"}),
    "MCPenalty": ("mcp", {"gamma": "gamma"}),
    "SCAD": ("scad", {"gamma": "gamma"}),
    "L0_5": ("l_half", {}),
    "L2_3": ("l_two_thirds", {}),
}
_SKGLM_DATAFITS = {"Quadratic": "quadratic", "Logistic": "logistic"}
# our penalty name -> estimator parameters read from the penalty object's attributes
_OUR_PENALTY_PARAMS = {
    "l1": (), "elasticnet": ("l1_ratio",), "mcp": ("gamma",), "scad": ("gamma",),
    "log_sum": ("eps",), "l_half": (), "l_two_thirds": (), "l0": (),
    "group_lasso": ("groups", "group_weights"), "sef": ("k", "nonconvex"),
    "wgsef": ("k", "nonconvex", "groups", "group_weights"),
}
_SOLVER_ATTRS = ("max_iter", "max_epochs", "p0", "tol", "fit_intercept", "warm_start", "verbose")


def _from_skglm(obj, kind):
    """True when ``obj`` is an instance of a class defined in skglm's ``kind`` module."""
    return type(obj).__module__.startswith(f"skglm.{kind}")


def _supported_message(what):
    ours = {"datafit": "sparseopt.optimize.datafits.Quadratic() or Logistic()",
            "penalty": "a sparseopt.optimize.penalties penalty (L1, ElasticNetPenalty, MCP, "
                       "SCAD, LogSum, LHalf, LTwoThirds, L0, GroupLasso, SEF, WGSEF)"}[what]
    theirs = {"datafit": sorted(_SKGLM_DATAFITS), "penalty": sorted(_SKGLM_PENALTIES)}[what]
    return f"{ours}, or one of skglm's {', '.join(theirs)}"


def _datafit_kind(datafit):
    """``"quadratic"`` or ``"logistic"`` and the datafit's sample weights (ours only)."""
    if datafit is None or isinstance(datafit, Quadratic):
        return "quadratic", None
    if isinstance(datafit, Logistic):
        return "logistic", datafit.sample_weight
    if _from_skglm(datafit, "datafits") and type(datafit).__name__ in _SKGLM_DATAFITS:
        return _SKGLM_DATAFITS[type(datafit).__name__], None
    raise TypeError(f"GeneralizedLinearEstimator: unsupported datafit "
                    f"{type(datafit).__module__}.{type(datafit).__name__}; use "
                    f"{_supported_message('datafit')}.")


def _penalty_params(penalty):
    """Estimator parameters ``{penalty, alpha, weights, positive, ...}`` for a penalty object."""
    if penalty is None:
        return {"penalty": "l1", "alpha": "auto", "positive": False, "weights": None}
    if isinstance(penalty, _Penalty):
        name = penalty.name
        if name not in _OUR_PENALTY_PARAMS:
            raise TypeError(
                f"GeneralizedLinearEstimator: penalty {type(penalty).__name__} (name "
                f"{name!r}, e.g. from cel0() or WeightedMCP with per-feature gamma) is not "
                f"supported; use {_supported_message('penalty')} (CEL0: "
                "SparseLinearRegression(penalty='cel0')).")
        params = {"penalty": name, "alpha": penalty.alpha, "positive": False,
                  "weights": getattr(penalty, "weights", None)}
        params.update({key: getattr(penalty, key) for key in _OUR_PENALTY_PARAMS[name]})
    elif _from_skglm(penalty, "penalties") and type(penalty).__name__ in _SKGLM_PENALTIES:
        name, attrs = _SKGLM_PENALTIES[type(penalty).__name__]
        params = {"penalty": name, "alpha": float(penalty.alpha), "weights": None,
                  "positive": bool(getattr(penalty, "positive", False))}
        params.update({ours: getattr(penalty, theirs) for ours, theirs in attrs.items()})
    else:
        raise TypeError(f"GeneralizedLinearEstimator: unsupported penalty "
                        f"{type(penalty).__module__}.{type(penalty).__name__}; use "
                        f"{_supported_message('penalty')}.")
    if "gamma" in params and np.ndim(params["gamma"]) != 0:
        raise TypeError("GeneralizedLinearEstimator: a penalty with per-feature gamma "
                        "(WeightedMCP) is not supported; use a scalar gamma.")
    if params["weights"] is not None:
        params["weights"] = np.asarray(params["weights"], dtype=float)
    return params


def _solver_params(solver):
    """``{"solver": ...}`` plus the settings an skglm solver object carries."""
    if solver is None or (isinstance(solver, str) and solver == "cd"):
        return {"solver": "cd"}
    if isinstance(solver, BlockCoordinateDescent):
        return {"solver": solver}
    if _from_skglm(solver, "solvers"):
        settings = {key: getattr(solver, key) for key in _SOLVER_ATTRS if hasattr(solver, key)}
        return {"solver": "cd", **settings}
    raise TypeError(f"GeneralizedLinearEstimator: unsupported solver {solver!r}; use None or "
                    "'cd' (working-set coordinate descent), a "
                    "sparseopt.optimize.BlockCoordinateDescent instance, or an skglm solver "
                    "object (its max_iter, max_epochs, p0, tol, fit_intercept, warm_start and "
                    "verbose are read; the working-set CD solver runs).")


class GeneralizedLinearEstimator(LinearPredictorMixin, BaseEstimator):
    """Sparse generalized linear model from a datafit and a penalty object (skglm's API).

    Minimises ``F(w, b) = datafit(y, Xw + b) + penalty(w)`` by working-set
    coordinate descent, as :class:`SparseLinearRegression` (quadratic
    datafit) and :class:`SparseLogisticRegression` (logistic datafit), which
    this estimator configures from the objects: the two give the same fit.

    Parameters
    ----------
    datafit : datafit object, optional
        :class:`sparseopt.optimize.datafits.Quadratic` (default,
        ``||y - Xw - b||^2 / (2 n)``) or
        :class:`~sparseopt.optimize.datafits.Logistic`
        (``(1/n) sum_i log(1 + exp(-y_i (x_i^T w + b)))``, binary labels; its
        ``sample_weight`` is used when ``fit`` gets none); or skglm's
        ``Quadratic`` / ``Logistic`` (same functions). Other datafits:
        ``TypeError`` naming the supported ones.
    penalty : penalty object, optional
        A penalty of :mod:`sparseopt.optimize.penalties`: ``L1(alpha,
        weights)`` (weighted L1 with ``weights``), ``ElasticNetPenalty(alpha,
        l1_ratio)``, ``MCP(alpha, gamma)`` (``gamma=np.inf``: L1), ``SCAD``,
        ``LogSum``, ``LHalf``, ``LTwoThirds``, ``L0``, ``GroupLasso``, ``SEF``,
        ``WGSEF``. None: L1 with ``alpha="auto"`` (``0.1 alpha_max``, as
        :class:`SparseLinearRegression`; skglm's default ``L1(1.0)`` gives
        the all-zero model on standardized data). skglm's ``L1``,
        ``WeightedL1``, ``L1_plus_L2``, ``MCPenalty``, ``SCAD``, ``L0_5`` and
        ``L2_3`` are translated (their ``positive`` flag too); other penalties
        raise ``TypeError``.
    solver : None, "cd", BlockCoordinateDescent or skglm solver, optional
        None / ``"cd"``: working-set coordinate descent. A
        :class:`~sparseopt.optimize.BlockCoordinateDescent` instance: as the
        ``solver`` of :class:`SparseLinearRegression` (L1 / elastic net). An
        skglm solver object (e.g. ``AndersonCD(tol=1e-8, fit_intercept=False)``):
        its ``max_iter``, ``max_epochs``, ``p0``, ``tol``, ``fit_intercept``,
        ``warm_start`` and ``verbose`` override this estimator's (skglm keeps
        them on the solver) and sparseopt's working-set CD runs.
    fit_intercept : bool, default=True
    max_iter : int, default=50
        Outer working-set iterations.
    max_epochs : int, default=50000
    tol : float, default=1e-4
        Stopping tolerance, as :class:`SparseLinearRegression` /
        :class:`SparseLogisticRegression` (relative duality gap for L1 and
        elastic net, relative KKT violation otherwise).
    warm_start : bool, default=False
    positive : bool, default=False
        Constrain ``w >= 0`` (also set by an skglm penalty's ``positive``).
    p0 : int, default=10
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (1, n_features)
        ``(1, n_features)`` with the logistic datafit (scikit-learn's
        classifier convention; skglm returns a flat vector).
    intercept_ : float or ndarray of shape (1,)
    classes_ : ndarray of shape (2,)
        Logistic datafit only.
    n_iter_ : int
    converged_ : bool
    certificate_ : float
    certificate_name_ : str
    dual_gap_ : float or None
    objective_ : float
    alpha_ : float
        The penalty strength used (the penalty's ``alpha``, or the ``"auto"``
        value when ``penalty`` is None).
    n_features_in_ : int

    See Also
    --------
    SparseLinearRegression, SparseLogisticRegression

    References
    ----------
    Bertrand, Klopfenstein, Bannier, Gidel and Massias (2022). Beyond L1:
    faster and better sparse models with skglm. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.linear_model import GeneralizedLinearEstimator
    >>> from sparseopt.optimize.datafits import Quadratic
    >>> from sparseopt.optimize.penalties import MCP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 20))
    >>> y = X[:, :3] @ np.array([3.0, -2.0, 1.5]) + 0.1 * rng.standard_normal(100)
    >>> glm = GeneralizedLinearEstimator(Quadratic(), MCP(0.1, gamma=3.0)).fit(X, y)
    >>> np.flatnonzero(glm.coef_).tolist()
    [0, 1, 2]
    """

    _parameter_constraints = {
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "p0": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    _test_params = [
        # tol: tight enough for check_sample_weight_equivalence (5e-8 is not), above the
        # float32 rounding floor of the battery's float32 fit (1e-8 is not: it warns)
        {"penalty": L1(0.1), "tol": 2e-8},
        {"datafit": Logistic(), "penalty": L1(0.01), "tol": 1e-6},
    ]

    def __init__(self, datafit=None, penalty=None, solver=None, *, fit_intercept=True,
                 max_iter=50, max_epochs=50_000, tol=1e-4, warm_start=False, positive=False,
                 p0=10, verbose=0):
        self.datafit = datafit
        self.penalty = penalty
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.max_epochs = max_epochs
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.p0 = p0
        self.verbose = verbose

    def _is_classifier(self):
        try:
            return _datafit_kind(self.datafit)[0] == "logistic"
        except TypeError:
            return False

    def _inner_estimator(self):
        """The SparseLinearRegression / SparseLogisticRegression this configuration is."""
        validate_params(self)
        kind, datafit_weights = _datafit_kind(self.datafit)
        params = {"fit_intercept": self.fit_intercept, "max_iter": self.max_iter,
                  "max_epochs": self.max_epochs, "tol": self.tol, "p0": self.p0,
                  "verbose": self.verbose, "warm_start": self.warm_start}
        params.update(_penalty_params(self.penalty))
        params.update(_solver_params(self.solver))
        params["positive"] = bool(params["positive"] or self.positive)
        cls = SparseLogisticRegression if kind == "logistic" else SparseLinearRegression
        inner = cls(**params)
        validate_params(inner, owner="GeneralizedLinearEstimator")
        return inner, datafit_weights

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Real targets (quadratic datafit) or two classes (logistic).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, rescaled to sum to ``n_samples``.

        Returns
        -------
        self : object
        """
        inner, datafit_weights = self._inner_estimator()
        if sample_weight is None and datafit_weights is not None:
            sample_weight = datafit_weights
        if inner.warm_start and hasattr(self, "coef_"):
            inner.coef_, inner.intercept_ = self.coef_, self.intercept_
        inner.fit(X, y, sample_weight)
        self.__dict__.update({key: val for key, val in inner.__dict__.items()
                              if key.endswith("_") and not key.startswith("_")})
        return self

    def predict(self, X):
        """Predicted targets (quadratic) or class labels (logistic).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : array of shape (n_samples,)
        """
        if self._is_classifier():
            return LinearClassifierMixin.predict(self, X)
        return self._decision_function(X)

    # the classifier's methods, available with the logistic datafit only
    decision_function = available_if(_is_classifier)(LinearClassifierMixin.decision_function)
    predict_proba = available_if(_is_classifier)(LinearClassifierMixin.predict_proba)

    def score(self, X, y, sample_weight=None):
        """R^2 (quadratic datafit) or accuracy (logistic datafit).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        score : float
        """
        if self._is_classifier():
            from sklearn.metrics import accuracy_score

            return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if self._is_classifier():
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_class=False)
            tags.regressor_tags = None
            return tags
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        return mark_host_roundtrip(tags)

