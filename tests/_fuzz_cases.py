"""Adversarial cases for every public entry point of sparseopt, run in subprocesses.

``tests/test_fuzz.py`` drives this module. A *case* is one call of a public
function or one ``fit`` of a registered estimator with one input replaced by an
adversarial variant (wrong shape, short/long parameter array, list, float16 /
complex / int / bool dtype, NaN/inf, empty, zero data, read-only, unsorted CSC,
extreme scale, negative or NaN regularisation). Each case declares what it
expects:

``"ok"``     the valid base input: must return a finite result;
``"raise"``  invalid input: must raise a clear ``ValueError``/``TypeError``;
``"any"``    valid but unusual input: a finite result or a clear error (an output
             that cannot be represented, e.g. an objective of order 1e400, may be
             inf if the call warns that it overflowed: never silently);
``"any_value"`` as ``"any"``, but inf/NaN is a documented answer (e.g. the
             relative error against a zero truth).

Whatever the expectation, the call must not crash the interpreter, hang,
raise another exception type from deep inside (IndexError, AttributeError,
ZeroDivisionError, LinAlgError, ...) or mutate the caller's arrays.

Run as a script, this module executes the case ids read from stdin (one JSON
list) and prints one JSON line per case; ``run_cases`` does the subprocess
bookkeeping (batches, a per-case watchdog, crash pinpointing)::

    python tests/_fuzz_cases.py --report            # run every case, print the failures
    python tests/_fuzz_cases.py --report path_following   # only ids containing a word
"""
from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import select
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

PER_CASE_TIMEOUT = float(os.environ.get("SPARSEOPT_FUZZ_TIMEOUT", 8.0))
# the first cases of an entry point (base cases, other float dtypes) pay one-time imports
# (scipy.sparse.linalg, cvxpy-free solver set-up): they run first with a longer limit. The
# kernels are compiled ahead of time, so no case pays a JIT compilation.
WARMUP_TIMEOUT = 30.0
WARMUP_MUTATIONS = ("base", ":float32", ":float16", ":tiny32", ":huge32", ":int", ":bool")
BATCH_SIZE = 200
# the estimator parameters whose negative value is meaningless (must raise)
REG_NAMES = {"alpha", "lambda1", "lam", "reg", "ridge", "tol", "cg_tol", "gamma", "mu_init",
             "lr", "warm_iter", "max_iter", "rank", "n_neighbors", "block_size", "eps",
             "alphas", "sparsity", "warmup_tol", "w_threshold", "mu_growth", "l1_ratio"}
LINEAR_MODEL_OWNERS = ("linear_model", "optimize.working_set_cd", "optimize.enet_working_set_cd",
                       "optimize.prox_gradient", "optimize.duality_gap",
                       "optimize.enet_duality_gap")


# ------------------------------------------------------------------ mutations
def _readonly(a):
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def _unsorted_csc(a):
    m = sp.csc_matrix(np.asarray(a, dtype=float))
    m.sort_indices()
    indices, data = m.indices.copy(), m.data.copy()
    for j in range(m.shape[1]):
        lo, hi = m.indptr[j], m.indptr[j + 1]
        indices[lo:hi] = indices[lo:hi][::-1]
        data[lo:hi] = data[lo:hi][::-1]
    out = sp.csc_matrix((data, indices, m.indptr.copy()), shape=m.shape)
    out.has_sorted_indices = False
    return out


def _with(a, index, value):
    a = np.array(a, dtype=float, copy=True)
    a.flat[index] = value
    return a


ARRAY_MUTATIONS = {
    "list": lambda a: np.asarray(a).tolist(),
    "float16": lambda a: np.asarray(a).astype(np.float16),
    "float32": lambda a: np.asarray(a).astype(np.float32),
    "int": lambda a: np.round(np.asarray(a)).astype(np.int64),
    "bool": lambda a: np.asarray(a) != 0,
    "complex": lambda a: np.asarray(a).astype(np.complex128),
    "nan": lambda a: _with(a, 0, np.nan),
    "inf": lambda a: _with(a, -1, np.inf),
    "empty": lambda a: np.asarray(a)[:0],
    "one_d": lambda a: np.asarray(a).ravel(),
    "two_d": lambda a: np.asarray(a).reshape(-1, 1),
    "short": lambda a: np.asarray(a)[:-1],
    "long": lambda a: np.concatenate([np.asarray(a), np.asarray(a)[:1]]),
    "narrow": lambda a: np.asarray(a)[:, :-1],
    "zero": lambda a: np.zeros_like(np.asarray(a, dtype=float)),
    "tiny": lambda a: np.asarray(a, dtype=float) * 1e-200,
    "huge": lambda a: np.asarray(a, dtype=float) * 1e200,
    "tiny32": lambda a: np.asarray(a, dtype=np.float32) * np.float32(1e-30),
    "huge32": lambda a: np.asarray(a, dtype=np.float32) * np.float32(1e30),
    "readonly": _readonly,
    "fortran": lambda a: np.asfortranarray(a),
    "strided": lambda a: np.repeat(np.asarray(a), 2, axis=-1)[..., ::2],
    "csc_unsorted": _unsorted_csc,
    "csr": lambda a: sp.csr_matrix(np.asarray(a, dtype=float)),
    "negative": lambda a: -np.abs(np.asarray(a, dtype=float)) - 1.0,
    "one_by_one": lambda a: np.ones((1, 1)),
    "fractional": lambda a: np.asarray(a, dtype=float) + 0.5,
    "minus_one": lambda a: _with(a, 0, -1),
}

# expectation of each mutation per argument role; a mutation not listed is not applied
ROLES = {
    # 2-D data whose rows pair with a target
    "data": dict(list="any", float16="any", float32="any", int="any", bool="any",
                 complex="raise", nan="raise", inf="raise", empty="raise", one_d="raise",
                 short="raise", zero="any", tiny="any", huge="any", tiny32="any", huge32="any",
                 readonly="any", fortran="any", strided="any", csc_unsorted="any", csr="any"),
    # 2-D data on its own
    "data_free": dict(list="any", float16="any", int="any", complex="raise", nan="raise",
                      inf="raise", empty="raise", one_d="raise", zero="any", tiny="any",
                      huge="any", tiny32="any", huge32="any", readonly="any", fortran="any",
                      strided="any", csr="any"),
    # a d x d matrix (covariance, adjacency, cost)
    "square": dict(list="any", float16="any", int="any", complex="raise", nan="raise",
                   inf="raise", narrow="raise", short="raise", one_d="raise", zero="any",
                   tiny="any", huge="any", readonly="any", fortran="any", one_by_one="raise"),
    # a 0/1 matrix the same shape as another argument
    "mask": dict(list="any", bool="any", nan="raise", narrow="raise", short="raise",
                 one_d="raise", one_by_one="raise", readonly="any", fortran="any"),
    # a parameter vector of fixed length
    "vector": dict(list="any", float16="any", int="any", nan="raise", inf="raise",
                   short="raise", long="raise", two_d="any", readonly="any", complex="raise"),
    # a positive parameter vector of fixed length
    "positive_vector": dict(list="any", nan="raise", inf="raise", short="raise", long="raise",
                            negative="raise", readonly="any", complex="raise"),
    # probability vectors / marginals
    "marginal": dict(list="any", float16="any", float32="any", nan="raise", inf="raise",
                     short="raise", long="raise", negative="raise", zero="raise", tiny="any",
                     huge="any", readonly="any", complex="raise"),
    # a real target paired with the rows of the data
    "target": dict(list="any", float32="any", int="any", nan="raise", inf="raise",
                   complex="raise", short="raise", long="raise", two_d="any", tiny="any",
                   huge="any", readonly="any", zero="any"),
    # integer class labels
    "labels": dict(list="any", nan="raise", short="raise", long="raise", readonly="any",
                   fractional="raise", minus_one="raise"),
    # a non-negative scalar (regularisation, tolerance, threshold)
    "reg": dict(neg="raise", nan="raise", inf="raise", zero="any"),
    # a positive integer
    "count": dict(neg="raise", zero="any"),
}

SCALAR_ROLES = ("reg", "count")
SCALAR_MUTATIONS = {"neg": -1.0, "nan": float("nan"), "inf": float("inf"), "zero": 0.0}


@dataclass
class Case:
    id: str
    owner: str
    expect: str
    build: callable = field(repr=False)  # () -> (callable, args, kwargs)
    default: bool = True  # part of the default (not slow) test run


# estimator mutations in the default run (the rest runs with -m slow)
CORE_ESTIMATOR_MUTATIONS = {
    "test": {"base", "X:nan", "X:inf", "X:empty", "X:complex", "X:float16", "X:list",
             "X:tiny", "X:huge", "X:huge32", "X:readonly", "X:csc_unsorted", "X:zero",
             "y:short", "y:nan", "y:fractional", "X_target:nan", "sample_weight:scalar",
             "sample_weight:short"},
    "default": {"base", "X:nan", "X:float16", "X:tiny", "X:huge", "X:zero"},
}


# ------------------------------------------------------------ entry points
@dataclass
class Entry:
    """A public function: ``base()`` gives valid ``(args, kwargs)`` and ``roles`` what each is."""

    name: str
    func: str                       # "module:attr"
    base: callable
    roles: dict
    owner: str = "misc"
    expect_base: str = "ok"
    overrides: dict = field(default_factory=dict)   # {(arg, mutation): expect}


def _load(path):
    module, attr = path.split(":")
    return getattr(importlib.import_module(module), attr)


def _rng():
    return np.random.default_rng(0)


def _cov(d=5):
    X = _rng().standard_normal((60, d))
    X[:, 1] += 0.8 * X[:, 0]
    X -= X.mean(0)
    return X.T @ X / 60


def _ot_problem(n=6, m=5):
    rng = _rng()
    a = rng.uniform(0.5, 1.5, n); a /= a.sum()
    b = rng.uniform(0.5, 1.5, m); b /= b.sum()
    M = rng.uniform(0, 1, (n, m))
    return a, b, M


def _regression(n=30, p=8):
    rng = _rng()
    X = rng.standard_normal((n, p))
    return X, X @ rng.standard_normal(p) + 0.1 * rng.standard_normal(n)


def _penalty(name, *args):
    return _load(f"sparseopt.optimize._penalties:{name}")(*args)


def _entries():
    rng = _rng()
    d = 5
    S = _cov(d)
    W = np.triu(rng.uniform(0.5, 1.0, (d, d)), 1)
    a, b, M = _ot_problem()
    X, y = _regression()
    low_rank = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 8))
    omega = (rng.uniform(size=low_rank.shape) < 0.7).astype(float)
    plan = np.outer(a, b)
    fast_dag = dict(T=2, warm_iter=200, max_iter=300, checkpoint=100, lr=3e-3)
    entries = [
        # ---------------------------------------------------------------- causal
        Entry("causal.path_following", "sparseopt.causal:path_following",
              lambda: ((S,), dict(sigma_init=np.ones(d), free_mask=np.ones((d, d)),
                                  required_mask=np.zeros((d, d)), sigma_floor=np.full(d, 1e-3),
                                  lambda1=0.05, **fast_dag)),
              dict(Sigma="square", sigma_init="positive_vector", free_mask="mask",
                   required_mask="mask", sigma_floor="vector", lambda1="reg", mu_init="reg",
                   lr="reg", T="count", max_iter="count", tol="reg")),
        Entry("causal.path_following_logistic", "sparseopt.causal:path_following",
              lambda: ((S,), dict(score="dagma", loss="logistic",
                                  X=(rng.standard_normal((40, d)) > 0).astype(float),
                                  **fast_dag)),
              dict(X="data_free")),
        Entry("causal.is_dag", "sparseopt.causal:is_dag", lambda: ((W,), {}),
              dict(B="square"), overrides={("B", "one_by_one"): "any"}),
        Entry("causal.logdet_acyclicity", "sparseopt.causal:logdet_acyclicity",
              lambda: ((W * 0.5,), dict(s=1.0)), dict(W="square", s="reg"),
              # outside the M-matrix domain h = inf and the gradient is not finite (documented)
              overrides={("s", "zero"): "raise", ("W", "one_by_one"): "any_value",
                         ("W", "huge"): "any_value"}),
        Entry("causal.threshold_to_dag", "sparseopt.causal:threshold_to_dag",
              lambda: ((W + W.T * 0.4,), dict(w_threshold=0.3, required=np.zeros((d, d)))),
              dict(W="square", w_threshold="reg", required="mask")),
        Entry("causal.bootstrap_edges", "sparseopt.causal:bootstrap_edges",
              lambda: ((_load("sparseopt.causal:DAGMA")(**fast_dag),
                        rng.standard_normal((30, 4))), dict(n_bootstrap=2, random_state=0)),
              dict(X="data_free", n_bootstrap="count")),
        # ------------------------------------------------------------- transport
        # sinkhorn / sinkhorn2 take POT's signature; solve (ot.solve's) returns the OTResult
        *[Entry(f"transport.{name}[{method}]", f"sparseopt.transport:{name}",
                lambda method=method: ((a, b, M, 0.1),
                                       dict(method=method, stopThr=1e-8, numItermax=2000)),
                dict(a="marginal", b="marginal", M="data_free", reg="reg", stopThr="reg"),
                overrides={("M", "nan"): "raise", ("reg", "zero"): "raise",
                           ("M", "empty"): "raise"})
          # the POT layer routes every method to the solvers fuzzed through solve below
          for name, method in (("sinkhorn", "sinkhorn_log"), ("sinkhorn2", "sinkhorn"))],
        *[Entry(f"transport.solve[{method}]", "sparseopt.transport:solve",
                lambda method=method: ((M, a, b, 0.1),
                                       dict(method=method, tol=1e-8,
                                            max_iter=None if method == "sns" else 2000)),
                dict(a="marginal", b="marginal", M="data_free", reg="reg", tol="reg"),
                overrides={("M", "nan"): "raise", ("reg", "zero"): "raise",
                           ("M", "empty"): "raise"})
          for method in ("sinkhorn", "log", "sns")],
        # --------------------------------------------------------------- metrics
        Entry("metrics.count_accuracy", "sparseopt.metrics:count_accuracy",
              lambda: ((W != 0, W.T != 0), {}),
              dict(B_true="square", B_est="square")),
        Entry("metrics.shd", "sparseopt.metrics:shd",
              lambda: ((W != 0, W.T != 0), {}), dict(B_true="square", B_est="square")),
        Entry("metrics.entropic_ot_objective", "sparseopt.metrics:entropic_ot_objective",
              lambda: ((plan, M, 0.1), {}), dict(plan="data_free", M="data_free", reg="reg")),
        Entry("metrics.marginal_error", "sparseopt.metrics:marginal_error",
              lambda: ((plan, a, b), {}), dict(plan="data_free", a="marginal", b="marginal"),
              # a metric: any real finite histograms can be compared with the plan's margins
              overrides={(v, m): "any" for v in "ab" for m in ("negative", "zero")}),
        Entry("metrics.relative_error", "sparseopt.metrics:relative_error",
              lambda: ((X[0] + 0.1, X[0]), {}), dict(estimate="target", truth="target"),
              overrides={("truth", "zero"): "any_value", ("estimate", "complex"): "any",
                         ("truth", "complex"): "any"}),
        Entry("metrics.misclustering_error", "sparseopt.metrics:misclustering_error",
              lambda: (((X[:, 0] > 0).astype(int), (X[:, 1] > 0).astype(int)), {}),
              dict(labels_true="target", labels_pred="target")),
        Entry("metrics.support_recovery", "sparseopt.metrics:support_recovery",
              lambda: ((X[0] * (X[0] > 0), X[0] * (X[0] > -0.2)), {}),
              dict(estimate="target", truth="target", atol="reg")),
        Entry("metrics.subspace_distance", "sparseopt.metrics:subspace_distance",
              lambda: ((X[:, :3], X[:, :3] + 0.1 * X[:, 3:6]), {}),
              dict(A="data", B="data"),
              # fewer (or no) rows is a smaller subspace, not an error
              overrides={("A", "narrow"): "raise", ("A", "short"): "any", ("B", "short"): "any",
                         ("A", "empty"): "any", ("B", "empty"): "any"}),
        # --------------------------------------------------------- decomposition
        Entry("decomposition.altmin_completion", "sparseopt.decomposition:altmin_completion",
              lambda: ((low_rank, omega, 2), dict(max_iter=20, random_state=0)),
              dict(X="data_free", mask="mask", rank="count", tol="reg", max_iter="count"),
              overrides={("rank", "zero"): "raise", ("mask", "one_by_one"): "raise"}),
        # ------------------------------------------------------------ optimize
        Entry("optimize.working_set_cd", "sparseopt.optimize:working_set_cd",
              lambda: ((X, y, _penalty("L1", 0.1)), dict(w_init=np.zeros(X.shape[1]))),
              dict(X="data", y="target", w_init="vector", tol="reg", max_iter="count",
                   p0="count"), owner="linear_model"),
        Entry("optimize.working_set_cd[logistic]", "sparseopt.optimize:working_set_cd",
              lambda: ((X, np.sign(y), _penalty("L1", 0.01),
                        _load("sparseopt.optimize._datafits:Logistic")(np.ones(X.shape[0]))),
                       {}), dict(X="data", y="target"), owner="linear_model"),
        Entry("optimize.enet_working_set_cd", "sparseopt.optimize:enet_working_set_cd",
              lambda: ((X, y, 0.1, 0.05), {}),
              dict(X="data", y="target", l1="reg", l2="reg"), owner="linear_model"),
        Entry("optimize.prox_gradient", "sparseopt.optimize:prox_gradient",
              lambda: ((X, y, _penalty("L1", 0.1)), dict(max_iter=500, w_init=np.zeros(X.shape[1]))),
              dict(X="data", y="target", w_init="vector"), owner="linear_model"),
        Entry("optimize.enet_duality_gap", "sparseopt.optimize:enet_duality_gap",
              lambda: ((X, y, np.zeros(X.shape[1]), 0.1, 0.0), {}),
              dict(X="data", y="target", w="vector", l1="reg", l2="reg"), owner="linear_model"),
        Entry("linear_model.sparse_path", "sparseopt.linear_model:sparse_path",
              lambda: ((X, y), dict(alphas=5)),
              dict(X="data", y="target", eps="reg"), owner="linear_model"),
        Entry("linear_model.sparse_path[alphas]", "sparseopt.linear_model:sparse_path",
              lambda: ((X, y), dict(alphas=np.array([1.0, 0.1, 0.01]))),
              dict(alphas="positive_vector"), owner="linear_model",
              overrides={("alphas", "short"): "any", ("alphas", "long"): "any"}),
        # ------------------------------------------------------------------ BCD
        Entry("optimize.least_squares", "sparseopt.optimize:least_squares",
              lambda: ((X, y), {}), dict(A="data", y="target")),
        Entry("optimize.logistic", "sparseopt.optimize:logistic",
              lambda: ((X, np.where(y > 0, 1.0, -1.0)), {}), dict(A="data", y="target"),
              overrides={("y", "zero"): "raise", ("y", "tiny"): "raise", ("y", "huge"): "raise",
                         ("y", "float32"): "any"}),
        Entry("optimize.softmax_regression", "sparseopt.optimize:softmax_regression",
              lambda: ((X, np.arange(X.shape[0]) % 3), dict(n_classes=3)),
              dict(A="data", labels="labels", n_classes="count"),
              overrides={("n_classes", "zero"): "raise"}),
        Entry("optimize.graph_quadratic", "sparseopt.optimize:graph_quadratic",
              lambda: ((S + np.eye(d), np.ones(d)), {}), dict(Q="square", c="vector")),
        Entry("optimize.block_coordinate_descent", "sparseopt.optimize:block_coordinate_descent",
              lambda: ((_load("sparseopt.optimize:least_squares")(X, y),),
                       dict(x0=np.zeros(X.shape[1]), max_iter=50, block_size=2, tol=1e-6)),
              dict(x0="vector", max_iter="count", block_size="count", tol="reg")),
        Entry("optimize.l1_penalty", "sparseopt.optimize:l1_penalty", lambda: ((0.1,), {}),
              dict(alpha="reg")),
        Entry("optimize.nonnegative_l1", "sparseopt.optimize:nonnegative_l1",
              lambda: ((0.1,), {}), dict(alpha="reg")),
        Entry("optimize.SeparablePenalty", "sparseopt.optimize:SeparablePenalty",
              lambda: ((), dict(alpha=0.1, lower=-1.0, upper=1.0)), dict(alpha="reg")),
        Entry("optimize.nonnegative", "sparseopt.optimize:nonnegative", lambda: ((), {}), {}),
        Entry("optimize.duality_gap", "sparseopt.optimize:duality_gap",
              lambda: ((y, np.zeros(X.shape[1]), _penalty("L1", 0.1), y.copy(), X.T @ y,
                        X.shape[0]), {}),
              dict(y="target", w="vector", R="target", XtR="vector"), owner="linear_model"),
        Entry("optimize.box", "sparseopt.optimize:box", lambda: ((-1.0, 1.0), {}), {}),
    ]
    return entries


def _dataset_entries():
    """Generators with small valid arguments and their impossible values."""
    g = "sparseopt.datasets:"
    small = {
        "kronecker_matvec": ((([np.ones((2, 3)), np.ones((2, 2))], np.ones(6)),
                              {}), {}),
        "make_bcd_lattice": (((), dict(side=5, n_labelled=5)), dict(n_labelled=-1, side=0)),
        "make_bcd_least_squares": (((), dict(n_samples=20, n_features=30)),
                                   dict(density=1.5, n_samples=-1)),
        "make_bcd_logistic": (((), dict(n_samples=20, n_features=30)),
                              dict(flip=1.5, n_features=-3)),
        "make_bcd_nonnegative_l1": (((), dict(n_samples=20, n_features=30)),
                                    dict(alpha=-1.0, density=-0.5)),
        "make_bcd_softmax": (((), dict(n_samples=20, n_features=10, n_classes=3)),
                             dict(n_classes=0)),
        "make_bcd_two_moons": (((), dict(n_samples=40, n_labelled=6, n_neighbors=3)),
                               dict(n_labelled=100, n_neighbors=0)),
        "make_correlated_regression": (((), dict(n_samples=20, n_features=30, n_informative=3)),
                                       dict(rho=1.5, snr=0.0, n_informative=40)),
        "make_grid_densities": (((), dict(grid_size=5)), dict(grid_size=0, floor=-1.0)),
        "make_heterogeneous_mixture": (((), dict(n_samples=30)),
                                       dict(weights=[0.5, 0.6, 0.2], rho=1.5, n_clusters=0)),
        "make_kronecker_sparse_recovery": (((), dict(measurements=(3, 4), n_atoms=(4, 5),
                                                     sparsity=2)),
                                           dict(sparsity=0, measurements=(3, -4))),
        "make_irs_mimo_channel": (((), dict(n_bs=4, n_irs=4, n_ms=2, n_configurations=2,
                                            n_pilots=2, grid_size=4, angle_spread=2)),
                                  dict(n_bs=0, angle_spread=9, grid_size=-1)),
        "make_ldp_regression": (((), dict(n_samples=30)),
                                dict(n_informative=20, noise=-1.0, l1_radius=0.0)),
        "make_linear_sem": (((), dict(d=5, n=30)), dict(n_edges=100, noise_variance=-1.0)),
        "make_low_rank_sparse": (((), dict(n_samples=20, n_features=10, rank=2)),
                                 dict(outlier_fraction=1.5, rank=50)),
        "make_matrix_completion": (((), dict(n_rows=20, n_cols=10, rank=2)),
                                   dict(rank=50, oversampling=-1.0)),
        "make_point_clouds": (((), dict(n=10)), dict(n=0, dim=0)),
        "make_random_assignment": (((), dict(n=10)), dict(n=0)),
        "make_random_support_regression": (((20, 30, 3), {}), dict(k=40, cond=0.5)),
        "make_sparse_design_regression": (((), dict(n_samples=20, n_features=30,
                                                    n_informative=3, density=0.2)),
                                          dict(density=1.5, snr=0.0, n_informative=40)),
        "make_synthetic_video": (((), dict(n_frames=4, height=8, width=8, object_size=2)),
                                 dict(object_size=20, n_objects=-1)),
        "simulate_dag": (((5, 4), {}), dict(n_edges=100)),
        "simulate_linear_sem": (((np.triu(np.ones((4, 4)), 1), 20), {}),
                                dict(noise_scale=-1.0)),
        "simulate_parameter": (((np.triu(np.ones((4, 4)), 1),), {}),
                               dict(w_ranges=((2.0, 1.0),))),
    }
    entries = []
    for name, ((args, kwargs), invalid) in small.items():
        entries.append((name, g + name, args, dict(kwargs, **({} if name == "kronecker_matvec"
                                                               else {"random_state": 0})),
                        invalid))
    return entries


# ----------------------------------------------------------------- estimators
def _estimator_cases():
    from sklearn.base import is_classifier, is_regressor
    from sklearn.utils import get_tags

    from sparseopt.utils.discovery import all_estimators

    cases = []
    for name, cls in all_estimators():
        owner = "linear_model" if cls.__module__.startswith("sparseopt.linear_model") else "misc"
        params = getattr(cls, "_test_params", {})
        configs = {"default": {}, "test": params[0] if isinstance(params, list) else params}
        est = cls()
        supervised = get_tags(est).target_tags.required
        fit_params = inspect.signature(cls.fit).parameters
        for config, kwargs in configs.items():
            label = f"est.{name}[{config}]"

            def base(cls=cls, kwargs=kwargs):
                X, y = _estimator_data(cls)
                return X, y

            def make(mut_arg=None, mutation=None, param=None, value=None, cls=cls, kwargs=kwargs,
                     supervised=supervised, fit_params=fit_params):
                def build():
                    X, y = _estimator_data(cls)
                    fit_kw = {}
                    if "X_target" in fit_params:
                        fit_kw["X_target"] = X[::-1] + 0.5
                    if mut_arg == "X":
                        X = ARRAY_MUTATIONS[mutation](X)
                    elif mut_arg == "y":
                        y = ARRAY_MUTATIONS[mutation](y)
                    elif mut_arg == "X_target":
                        fit_kw["X_target"] = ARRAY_MUTATIONS[mutation](fit_kw["X_target"])
                    elif mut_arg == "sample_weight":
                        fit_kw["sample_weight"] = mutation
                    init = dict(kwargs)
                    if param is not None:
                        init[param] = value
                    return _fit_and_output, (cls, init, X, y), fit_kw
                return build

            cases.append(Case(f"{label}:base", owner, "ok", make()))
            X0, y0 = base()
            target_role = "labels" if is_classifier(est) else "target"
            for mutation, expect in ROLES["data" if supervised else "data_free"].items():
                cases.append(Case(f"{label}:X:{mutation}", owner, expect, make("X", mutation)))
            if supervised:
                for mutation, expect in ROLES[target_role].items():
                    if target_role == "labels" and mutation == "minus_one":
                        continue  # -1 is a legitimate class label (or "unlabelled")
                    if target_role == "labels" and mutation == "fractional" and not is_regressor(est):
                        expect = "raise" if name != "LabelPropagation" else "raise"
                    cases.append(Case(f"{label}:y:{mutation}", owner, expect, make("y", mutation)))
            if "X_target" in fit_params:
                for mutation, expect in ROLES["data_free"].items():
                    cases.append(Case(f"{label}:X_target:{mutation}", owner, expect,
                                      make("X_target", mutation)))
            if "sample_weight" in fit_params:
                n = X0.shape[0]
                for sw_name, sw, expect in (("scalar", 2.0, "any"), ("short", np.ones(n - 1), "raise"),
                                            ("negative", -np.ones(n), "raise"),
                                            ("nan", _with(np.ones(n), 0, np.nan), "raise"),
                                            ("zero", np.zeros(n), "raise"),
                                            ("list", [1.0] * n, "any")):
                    cases.append(Case(f"{label}:sample_weight:{sw_name}", owner, expect,
                                      make("sample_weight", sw)))
            for param, value in est.get_params().items():
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float)):
                    continue
                if param in ("verbose", "random_state", "n_jobs"):
                    continue
                cases.append(Case(f"{label}:param:{param}=nan", owner, "raise",
                                  make(param=param, value=float("nan"))))
                cases.append(Case(f"{label}:param:{param}=-1", owner,
                                  "raise" if param in REG_NAMES else "any",
                                  make(param=param, value=-1 if isinstance(value, int) else -1.0)))
    for case in cases:
        config = case.id.split("[")[1].split("]")[0]
        mutation = case.id.split("]:", 1)[1]
        core = CORE_ESTIMATOR_MUTATIONS[config]
        case.default = mutation in core or (config == "test" and mutation.startswith("param:")
                                            and mutation.split(":")[1].split("=")[0]
                                            in ("alpha", "lambda1", "reg", "lam", "rank"))
    return cases


def _estimator_data(cls):
    from sklearn.base import is_classifier, is_regressor

    if hasattr(cls, "_test_data"):
        X, y = cls._test_data(0)
        return np.asarray(X, dtype=float), y
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    est = cls()
    if is_regressor(est):
        return X, X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(40)
    if is_classifier(est):
        return X, (X[:, 0] + 0.5 * rng.standard_normal(40) > 0).astype(int)
    return X, None


def _fit_and_output(cls, init, X, y, **fit_kw):
    est = cls(**init)
    est.fit(X, y, **fit_kw) if y is not None else est.fit(X, **fit_kw)
    outputs = {}
    for method in ("predict", "predict_proba", "transform"):
        if hasattr(est, method):
            try:
                outputs[method] = getattr(est, method)(X)
            except NotImplementedError:
                pass
    outputs.update({k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")})
    return outputs


# -------------------------------------------------------------- case builders
def _function_cases():
    cases = []
    for entry in _entries():
        def make(entry=entry, arg=None, mutation=None, role=None):
            def build():
                fn = _load(entry.func)
                args, kwargs = entry.base()
                names = list(inspect.signature(fn).parameters)
                args = list(args)
                if arg is not None:
                    if arg in kwargs:
                        value = kwargs[arg]
                    elif arg in names[:len(args)]:
                        value = args[names.index(arg)]
                    else:
                        value = inspect.signature(fn).parameters[arg].default
                    if role in SCALAR_ROLES:
                        new = SCALAR_MUTATIONS[mutation]
                        if mutation == "neg" and isinstance(value, int):
                            new = -1
                        if mutation == "zero" and isinstance(value, int):
                            new = 0
                    else:
                        new = ARRAY_MUTATIONS[mutation](value)
                    if arg in names[:len(args)] and arg not in kwargs:
                        args[names.index(arg)] = new
                    else:
                        kwargs[arg] = new
                return fn, tuple(args), kwargs
            return build

        cases.append(Case(f"{entry.name}:base", entry.owner, entry.expect_base, make()))
        for arg, role in entry.roles.items():
            for mutation, expect in ROLES[role].items():
                expect = entry.overrides.get((arg, mutation), expect)
                cases.append(Case(f"{entry.name}:{arg}:{mutation}", entry.owner, expect,
                                  make(arg=arg, mutation=mutation, role=role)))
    for name, func, args, kwargs, invalid in _dataset_entries():
        def make(func=func, args=args, kwargs=kwargs, extra=None):
            def build():
                return _load(func), args, dict(kwargs, **(extra or {}))
            return build

        cases.append(Case(f"datasets.{name}:base", "misc", "ok", make()))
        for param, value in invalid.items():
            cases.append(Case(f"datasets.{name}:{param}={value!r}", "misc", "raise",
                              make(extra={param: value})))
    return cases


# public names of the subpackages that are not fuzzed as functions, with the reason
NOT_FUZZED = {
    "causal.CoLiDE": "estimator: fuzzed through the registry (est.* cases)",
    "causal.DAGMA": "estimator: fuzzed through the registry (est.* cases)",
    "causal.DAGResult": "a result container, built by path_following",
    "causal.PathOptions": "a settings record; its fields are fuzzed as path_following keywords",
    "causal.sem_log_likelihood": "a scorer of a fitted estimator; X goes through check_X "
                                 "(tests/test_causal_usage.py checks it against scipy)",
    "decomposition.RecoveryWarning": "a warning class",
    "decomposition.RobustMatrixCompletion": "estimator: fuzzed through the registry",
    "decomposition.RobustPCA": "estimator: fuzzed through the registry",
    "optimize.SolverResult": "a result container",
    "optimize.BCDResult": "a result container",
    "optimize.datafits": "a module (its classes are fuzzed through working_set_cd and the estimators)",
    "optimize.penalties": "a module (its classes are fuzzed through working_set_cd and the estimators)",
    "optimize.PathCache": "a plain dataclass container; working_set_cd(cache=) is fuzzed",
    "optimize.BlockCoordinateDescent": "its solve() is block_coordinate_descent's, fuzzed there",
    "transport.sinkhorn_batched": "checks its batch layout and n_jobs itself (tests/test_distributed.py,"
                                  " test_transport.py), then every chunk calls sinkhorn, fuzzed above",
    "transport.OTResult": "a result container, built by solve",
    "transport.distribution_estimation_uniform": "POT's default sample weights: reads only "
                                                 "X.shape[0]; fuzzed through SinkhornTransport",
    "transport.SinkhornTransport": "estimator: fuzzed through the registry",
    "semi_supervised.LabelPropagation": "estimator: fuzzed through the registry",
    "linear_model.ElasticNet": "estimator: fuzzed through the registry",
    "linear_model.ElasticNetCV": "estimator: fuzzed through the registry",
    "linear_model.GeneralizedLinearEstimator": "estimator: fuzzed through the registry",
    "linear_model.Lasso": "estimator: fuzzed through the registry",
    "linear_model.LassoCV": "estimator: fuzzed through the registry",
    "linear_model.MCPRegression": "estimator: fuzzed through the registry",
    "linear_model.SCADRegression": "estimator: fuzzed through the registry",
    "linear_model.SparseLinearRegression": "estimator: fuzzed through the registry",
    "linear_model.SparseLinearRegressionCV": "estimator: fuzzed through the registry",
    "linear_model.SparseLogisticRegression": "estimator: fuzzed through the registry",
    "linear_model.SparseLogisticRegressionCV": "estimator: fuzzed through the registry",
}
FUZZED_SUBPACKAGES = ("causal", "datasets", "decomposition", "linear_model", "metrics",
                      "optimize", "semi_supervised", "transport")


def fuzzed_public_names():
    """``subpackage.name`` of every function the cases call."""
    names = set()
    for entry in _entries():
        module, attr = entry.func.split(":")
        names.add(f"{module.split('.')[1]}.{attr}")
    names.update(f"datasets.{name}" for name, *_ in _dataset_entries())
    return names


def all_cases():
    """Every case, in a stable order: ``{id: Case}``."""
    cases = _function_cases() + _estimator_cases()
    out = {}
    for case in cases:
        assert case.id not in out, f"duplicate fuzz case id {case.id}"
        out[case.id] = case
    return out


# -------------------------------------------------------------- harness probes
def _mutate(a):
    a[0] = -1.0
    return a


PROBES = {
    "probe:ok": Case("probe:ok", "harness", "ok", lambda: (np.sum, (np.ones(3),), {})),
    "probe:segfault": Case("probe:segfault", "harness", "ok",
                           lambda: (os.kill, (os.getpid(), signal.SIGSEGV), {})),
    "probe:hang": Case("probe:hang", "harness", "ok", lambda: (time.sleep, (600,), {})),
    "probe:mutate": Case("probe:mutate", "harness", "ok", lambda: (_mutate, (np.ones(3),), {})),
}


def run_probe_cases():
    """Run the harness probes (one crash, one hang) with a short timeout."""
    return run_cases(list(PROBES), timeout=3.0)


# ------------------------------------------------------------- child process
def _snapshot(obj):
    if isinstance(obj, np.ndarray):
        return ("nd", obj.copy(), obj.flags.writeable)
    if sp.issparse(obj):
        return ("sp", obj.format, obj.data.copy(), getattr(obj, "indices", np.zeros(0)).copy(),
                getattr(obj, "indptr", np.zeros(0)).copy())
    if isinstance(obj, (list, tuple)):
        return ("seq", [_snapshot(o) for o in obj])
    if isinstance(obj, dict):
        return ("map", {k: _snapshot(v) for k, v in obj.items()})
    return ("other", None)


def _same(snap, obj):
    kind = snap[0]
    if kind == "nd":
        return (isinstance(obj, np.ndarray) and obj.shape == snap[1].shape
                and obj.dtype == snap[1].dtype and np.array_equal(obj, snap[1], equal_nan=True)
                if obj.dtype.kind in "fc" else np.array_equal(obj, snap[1]))
    if kind == "sp":
        return (obj.format == snap[1] and np.array_equal(obj.data, snap[2], equal_nan=True)
                and np.array_equal(getattr(obj, "indices", np.zeros(0)), snap[3])
                and np.array_equal(getattr(obj, "indptr", np.zeros(0)), snap[4]))
    if kind == "seq":
        return len(obj) == len(snap[1]) and all(_same(s, o) for s, o in zip(snap[1], obj))
    if kind == "map":
        return all(_same(s, obj[k]) for k, s in snap[1].items())
    return True


def _non_finite(obj, depth=0, path="result"):
    """Path of the first NaN/inf float in a result, or None."""
    if depth > 4 or obj is None:
        return None
    if isinstance(obj, (bool, np.bool_, str, bytes, int, np.integer)):
        return None
    if isinstance(obj, (float, np.floating, complex, np.complexfloating)):
        return None if np.isfinite(obj) else path
    if sp.issparse(obj):
        return None if np.all(np.isfinite(obj.data)) else path
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc":
            return None if np.all(np.isfinite(obj)) else path
        if obj.dtype.kind == "O":
            for i, o in enumerate(obj.ravel()[:50]):
                bad = _non_finite(o, depth + 1, f"{path}[{i}]")
                if bad:
                    return bad
        return None
    if isinstance(obj, dict):
        for k, v in obj.items():
            if str(k) in ("history", "stages", "trace", "times") or callable(v):
                continue
            bad = _non_finite(v, depth + 1, f"{path}[{k!r}]")
            if bad:
                return bad
        return None
    if isinstance(obj, (list, tuple)):
        for i, o in enumerate(obj[:50]):
            bad = _non_finite(o, depth + 1, f"{path}[{i}]")
            if bad:
                return bad
        return None
    if hasattr(obj, "__array__") and hasattr(obj, "dtype"):
        return _non_finite(np.asarray(obj), depth + 1, path)
    return None


def _clear(exc):
    import numpy.linalg

    return isinstance(exc, (ValueError, TypeError)) and not isinstance(exc, numpy.linalg.LinAlgError)


def execute(case):
    try:
        fn, args, kwargs = case.build()
    except Exception as exc:  # noqa: BLE001 -- a bug of the case itself, reported as such
        return dict(id=case.id, status="harness error", message=f"{type(exc).__name__}: {exc}",
                    mutated=False)
    snap = _snapshot((list(args), kwargs))
    record = dict(id=case.id)
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(all="ignore"):
                out = fn(*args, **kwargs)
        record.update(status="ok", non_finite=_non_finite(out),
                      # the library's own warnings (not numpy's floating-point chatter)
                      warned=[f"{w.category.__name__}: {w.message}"[:200] for w in caught
                              if not str(w.filename).startswith(os.path.dirname(np.__file__))])
    except Exception as exc:  # noqa: BLE001 -- the harness classifies every exception
        record.update(status="error", exc=f"{type(exc).__module__}.{type(exc).__name__}",
                      clear=_clear(exc), message=str(exc)[:300])
    record["seconds"] = round(time.perf_counter() - t0, 3)
    record["mutated"] = not _same(snap, (list(args), kwargs))
    return record


_TAG = "@@fuzz "


def _child_main():
    ids = json.loads(sys.stdin.read())
    # the protocol gets the real stdout; whatever the library prints goes to stderr
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    log = os.environ.get("SPARSEOPT_FUZZ_LOG")
    cases = PROBES if all(i in PROBES for i in ids) else {**all_cases(), **PROBES}
    for case_id in ids:
        channel.write(_TAG + json.dumps({"start": case_id}) + "\n")
        channel.flush()
        record = execute(cases[case_id])
        channel.write(_TAG + json.dumps(record) + "\n")
        channel.flush()
        if log:
            with open(log, "a") as fh:
                fh.write(json.dumps(record) + "\n")


# ------------------------------------------------------------ parent process
def _spawn(ids):
    env = dict(os.environ, SCIPY_ARRAY_API="1", PYTHONFAULTHANDLER="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd=root, text=True)
    proc.stdin.write(json.dumps(list(ids)))
    proc.stdin.close()
    return proc


def _run_batch(ids, timeout):
    """Run ``ids`` in one subprocess; stop at the first crash or hang.

    Returns ``(records, failed_id, failure)`` where ``failure`` is None,
    ``"hang"`` or ``"crash (...)"``.
    """
    proc = _spawn(ids)
    try:
        return _read_batch(proc, timeout)
    finally:
        if proc.poll() is None:   # an exception while reading: do not leave the child
            proc.kill()
            proc.wait()
        proc.stdout.close()       # no ResourceWarning for the pipe


def _read_batch(proc, timeout):
    records, current, started = {}, None, time.monotonic()
    import_grace = 30.0
    while True:
        limit = timeout + (import_grace if current is None and not records else 0.0)
        remaining = limit - (time.monotonic() - started)
        if remaining <= 0:
            proc.kill()
            proc.wait()
            return records, current, "hang"
        ready, _, _ = select.select([proc.stdout], [], [], remaining)
        if not ready:
            continue
        line = proc.stdout.readline()
        if not line:
            code = proc.wait()
            if current is not None:
                how = f"signal {-code}" if code < 0 else f"exit code {code}"
                return records, current, f"crash ({how})"
            return records, None, None
        if not line.startswith(_TAG):
            continue
        message = json.loads(line[len(_TAG):])
        if "start" in message:
            current, started = message["start"], time.monotonic()
        else:
            records[message["id"]] = message
            current = None


def run_cases(ids, *, timeout=PER_CASE_TIMEOUT, batch_size=BATCH_SIZE):
    """Run cases in batched subprocesses: ``{id: record}`` for every id.

    A crash or hang ends its batch; the case running then is rerun alone to
    confirm it (a crash that only happens after other cases is pinned on the
    batch's earlier cases by rerunning them one by one), and the rest of the
    batch goes on in a new subprocess.
    """
    results = {}
    if timeout < WARMUP_TIMEOUT:
        warm = [i for i in ids if i.endswith(WARMUP_MUTATIONS)]
        results.update(run_cases(warm, timeout=WARMUP_TIMEOUT, batch_size=batch_size))
        ids = [i for i in ids if i not in results]
    queue = list(ids)
    progress = os.environ.get("SPARSEOPT_FUZZ_PROGRESS")
    while queue:
        batch, queue = queue[:batch_size], queue[batch_size:]
        if progress:
            print(f"[fuzz] {len(results)}/{len(ids)} done, next {batch[0]}", file=sys.stderr,
                  flush=True)
        while batch:
            records, culprit, failure = _run_batch(batch, timeout)
            results.update(records)
            if failure is None:
                break
            if culprit is None:  # hung or died between cases (at start-up or exit)
                pending = [i for i in batch if i not in records]
                if not pending:
                    break
                culprit = pending[0]
            done_before = [i for i in batch if i in records]
            alone, _, alone_failure = _run_batch([culprit], timeout)
            if alone_failure is not None:
                results[culprit] = dict(id=culprit, status=alone_failure)
            else:
                results[culprit] = dict(alone[culprit], note=f"{failure} in a batch only")
                if failure.startswith("crash"):
                    # a crash that needs an earlier case (heap corruption): rerun the
                    # batch's earlier cases one by one, each followed by the culprit
                    for prior in done_before:
                        _, _, prior_failure = _run_batch([prior, culprit], timeout)
                        if prior_failure is not None:
                            results[prior] = dict(id=prior, note=f"{culprit} then crashes",
                                                  status=f"{prior_failure} of the next case")
                            break
            batch = batch[batch.index(culprit) + 1:]
    return results


def judge(case, record):
    """``None`` if the record meets the case's contract, else the reason it does not."""
    if record is None:
        return "no result recorded"
    status = record["status"]
    if status == "harness error":
        return f"the case could not be built: {record['message']}"
    if status.startswith("crash") or status.startswith("hang"):
        return f"{status} (per-case timeout {PER_CASE_TIMEOUT:g} s)" if status.startswith("hang") else status
    if record.get("mutated"):
        return "mutated the caller's input"
    if status == "error":
        if not record["clear"]:
            return f"unclear error {record['exc']}: {record['message']}"
        if case.expect == "ok":
            return f"valid input rejected: {record['exc']}: {record['message']}"
        return None
    if case.expect == "raise":
        return "invalid input accepted" + (f" (non-finite {record['non_finite']})"
                                           if record.get("non_finite") else "")
    if record.get("non_finite") and case.expect != "any_value":
        # "no NaN or inf leaves a fit silently": a value that cannot be represented (e.g. an
        # objective of order 1e400 in the caller's units) may be inf if a warning says so
        said = [w for w in record.get("warned", [])
                if any(word in w.lower() for word in ("overflow", "non-finite", "not finite",
                                                      "infinite", "represent"))]
        if case.expect != "any" or not said:
            return f"non-finite output at {record['non_finite']} without a warning saying so"
    return None


def _report(words):
    cases = all_cases()
    keep = [w for w in words if not w.startswith("^")]
    drop = [w[1:] for w in words if w.startswith("^")]
    ids = [i for i in cases if (not keep or any(w in i for w in keep))
           and not any(w in i for w in drop)]
    t0 = time.time()
    results = run_cases(ids)
    dump = os.environ.get("SPARSEOPT_FUZZ_DUMP")
    if dump:
        with open(dump, "w") as fh:
            json.dump(results, fh, indent=0)
    failures = [(i, judge(cases[i], results.get(i))) for i in ids]
    failures = [(i, r) for i, r in failures if r]
    for i, reason in failures:
        print(f"[{cases[i].owner}] {i}: {reason}")
    print(f"{len(failures)} of {len(ids)} cases failed in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    if "--child" in sys.argv:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _child_main()
    elif "--report" in sys.argv:
        _report([a for a in sys.argv[1:] if not a.startswith("--")])
    elif "--list" in sys.argv:
        for case_id in all_cases():
            print(case_id)
