"""Point moves of iLA-SDP (Hartigan-style exchange on the Gaussian classification cost).

Reference: a brute-force evaluation of the hard-partition cost (profiled
-2 log L with the estimator's covariance shaping, shrinkage and eps) for every
single move (test_cluster.py checks that cost against the LA-SDP costs of the
partition matrices).
"""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import array_api_compat.numpy as npx
from sparseopt.cluster import ILASDPClustering
from sparseopt.cluster._point_moves import point_moves
from sparseopt.datasets import make_heterogeneous_mixture
from sparseopt.metrics import misclustering_error


def _brute_cost(X, labels, K, reg, covariance_type, shrinkage):
    """sum_k tr(S_k^-1 W_k) + n_k (log|S_k| + reg tr S_k^-1), written out directly."""
    total = 0.0
    p = X.shape[1]
    for k in range(K):
        Xk = X[labels == k]
        if Xk.shape[0] == 0:
            continue
        R = Xk - Xk.mean(0)
        S = R.T @ R / Xk.shape[0]
        if covariance_type == "diag":
            S = np.diag(np.diag(S))
        elif covariance_type == "spherical":
            S = np.trace(S) / p * np.eye(p)
        if shrinkage is not None:
            S = (1 - shrinkage[k]) * S + shrinkage[k] * np.trace(S) / p * np.eye(p)
        S = S + reg * np.eye(p)
        P = np.linalg.inv(S)
        total += np.trace(P @ R.T @ R) + Xk.shape[0] * (np.linalg.slogdet(S)[1]
                                                         + reg * np.trace(P))
    return total


def _case(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 4))
    p = int(rng.integers(2, 6))
    X, y, _, _ = make_heterogeneous_mixture(int(rng.integers(30, 50)), p, K, separation=3,
                                            covariance=("shape", "scale")[seed % 2],
                                            random_state=seed)
    labels = y.copy()
    flip = rng.random(labels.size) < 0.3
    labels[flip] = rng.integers(K, size=int(flip.sum()))
    covariance_type = ("full", "diag", "spherical")[seed % 3]
    shrinkage = None if seed % 4 == 0 else list(rng.uniform(0, 0.6, K))
    return X, y, labels, K, float(rng.uniform(1e-3, 0.1)), covariance_type, shrinkage


@pytest.mark.parametrize("seed", range(12))
def test_point_moves_end_at_a_single_move_local_minimum(seed):
    """The returned cost is the brute-force cost of the labels, it is below the start's,
    and no single move (keeping every cluster at >= min_size points, into a cluster of
    >= min_size points) lowers it."""
    X, _, labels, K, reg, covariance_type, shrinkage = _case(seed)
    min_size = 3
    labels = np.where(np.bincount(labels, minlength=K)[labels] < min_size, 0, labels)
    start = _brute_cost(X, labels, K, reg, covariance_type, shrinkage)
    out, n_moves, cost = point_moves(npx, X, labels, K, reg=reg, covariance_type=covariance_type,
                                     shrinkage=shrinkage, min_size=min_size)
    assert out is not labels and out.dtype == np.int64
    brute = _brute_cost(X, out, K, reg, covariance_type, shrinkage)
    np.testing.assert_allclose(cost, brute, rtol=1e-9, atol=1e-9)
    assert n_moves == np.sum(out != labels) or n_moves >= np.sum(out != labels)
    assert (cost < start) if n_moves else np.isclose(cost, start)
    counts = np.bincount(out, minlength=K)
    for i in range(X.shape[0]):
        if counts[out[i]] <= min_size:
            continue
        for k in range(K):
            if k == out[i] or counts[k] < min_size:
                continue
            trial = out.copy()
            trial[i] = k
            assert _brute_cost(X, trial, K, reg, covariance_type, shrinkage) >= brute - 1e-8 * (
                1 + abs(brute)), (i, k)


@pytest.mark.parametrize("seed", range(4))
def test_point_moves_repair_a_perturbed_partition(seed):
    """Separated clusters of different shapes: 15% of the labels scrambled are put back."""
    X, y, _, _ = make_heterogeneous_mixture(120, 6, 3, separation=8, covariance="shape",
                                            random_state=seed)
    rng = np.random.default_rng(seed)
    labels = y.copy()
    flip = rng.choice(y.size, 18, replace=False)
    labels[flip] = (labels[flip] + rng.integers(1, 3, 18)) % 3
    out, n_moves, _ = point_moves(npx, X, labels, 3, reg=1e-3)
    assert misclustering_error(y, labels) > 0.1
    assert misclustering_error(y, out) <= 0.02 and n_moves >= 16


def test_point_moves_respect_min_size_and_leave_input_alone():
    X, y, _, _ = make_heterogeneous_mixture(40, 3, 2, separation=1, random_state=0)
    labels = y.copy()
    before = labels.copy()
    out, _, _ = point_moves(npx, X, labels, 2, reg=1e-2, min_size=15)
    np.testing.assert_array_equal(labels, before)
    assert np.bincount(out, minlength=2).min() >= 15


def test_point_moves_leave_small_and_empty_clusters_alone():
    """A cluster below min_size (here one of 2 points, and an empty one) neither loses
    nor gains points: joining it would be scored with a degenerate covariance."""
    X, y, _, _ = make_heterogeneous_mixture(60, 3, 2, separation=2, random_state=1)
    labels = y.copy()
    labels[:2] = 2                      # a 2-point cluster; cluster 3 is empty
    out, n_moves, _ = point_moves(npx, X, labels, 4, reg=1e-3, min_size=4)
    np.testing.assert_array_equal(np.flatnonzero(out == 2), [0, 1])
    assert not np.any(out == 3)


@pytest.mark.parametrize("seed", range(4))
def test_ila_point_moves_never_end_at_a_higher_objective(seed):
    """Each cycle is kept only if the rounds end lower: with moves, every start's
    final objective is at most the plain alternation's from that start."""
    X, _, _, _ = make_heterogeneous_mixture(60, 8, 3, separation=4, covariance="shape",
                                            random_state=seed)
    X = (X - X.mean(0)) / X.std(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = ILASDPClustering(3, point_moves=False, random_state=seed).fit(X)
        moved = ILASDPClustering(3, random_state=seed).fit(X)
    assert plain.n_moves_ == 0 and moved.n_moves_ >= 0
    assert len(plain.start_objectives_) == len(moved.start_objectives_)
    for a, b in zip(moved.start_objectives_, plain.start_objectives_):
        assert a <= b + 1e-9 * abs(b)
    assert moved.objective_ <= plain.objective_ + 1e-9 * abs(plain.objective_)


@pytest.mark.slow
def test_ila_point_moves_lower_the_error_when_p_nears_the_cluster_sizes():
    """p = 20, 30 points per cluster (the benchmark's hardest setting), 6 seeds: the
    moves reach lower objectives and fewer mislabelled points than the plain rounds."""
    errors = {True: [], False: []}
    for seed in range(6):
        X, y, _, _ = make_heterogeneous_mixture(90, 20, 3, separation=4, covariance="shape",
                                                random_state=seed)
        X = (X - X.mean(0)) / X.std(0)
        for flag in (True, False):
            with warnings.catch_warnings():
                # only the labels matter here; wrong partitions can leave a cluster with
                # fewer than p + 1 points, which the estimator rightly warns about
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", UserWarning)
                est = ILASDPClustering(3, point_moves=flag, random_state=seed).fit(X)
            errors[flag].append(misclustering_error(y, est.labels_))
    assert np.mean(errors[True]) < np.mean(errors[False]) - 0.03, errors


def test_ila_init_labels_is_the_only_start():
    X, y, _, _ = make_heterogeneous_mixture(60, 3, 3, separation=6, covariance="scale",
                                            random_state=0)
    est = ILASDPClustering(3, init=y, random_state=0).fit(X)
    assert est.n_starts_ == 1 and len(est.start_objectives_) == 1
    assert misclustering_error(y, est.labels_) == 0
    # a list works too, and the caller's labels are left alone
    labels = y.copy()
    ILASDPClustering(3, init=list(labels), random_state=0).fit(X)
    np.testing.assert_array_equal(labels, y)


@pytest.mark.parametrize("init,error,match", [
    (np.zeros(59, dtype=int), ValueError, "shape"),
    (np.full(60, 0.5), TypeError, "integers"),
    (np.full(60, 3), ValueError, "0..2"),
    (np.full(60, -1), ValueError, "0..2"),
])
def test_ila_init_labels_rejects_bad_input(init, error, match):
    X, _, _, _ = make_heterogeneous_mixture(60, 3, 3, random_state=0)
    with pytest.raises(error, match=match):
        ILASDPClustering(3, init=init).fit(X)
