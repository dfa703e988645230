"""SDP K-means (Peng-Wei) and iLA-SDP: solvers against cvxpy, recovery, API.

Independent references: cvxpy (CLARABEL interior point) for the SDP optimal
values, KKT conditions for the projections, scipy's multivariate normal for
the Gaussian prediction rule, brute-force profiled likelihoods for the
LA-SDP costs, scikit-learn's KMeans / GaussianMixture as baselines.
"""
import warnings

import numpy as np
import pytest
import sklearn
from scipy.stats import multivariate_normal
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

import array_api_compat.numpy as npx
from sparseopt.cluster import ILASDPClustering, SDPKMeans, kmeans_sdp, la_sdp
from sparseopt.cluster._sdp_solvers import (
    kmeans_sdp_bm,
    la_sdp_bm,
    project_rows_simplex,
    project_spectraplex,
    sdp_admm,
    sdp_cvxpy,
    squared_distances,
)
from sparseopt.cluster._point_moves import point_moves
from sparseopt.cluster.ila_sdp import _covariance_step, _covariances_from_labels, la_sdp_costs
from sparseopt.datasets import make_heterogeneous_mixture
from sparseopt.metrics import misclustering_error
from sparseopt.utils._array_api import get_namespace_and_device, to_numpy
from sparseopt.utils.discovery import expected_failed_checks

cp = pytest.importorskip("cvxpy")


def _partition_matrix(labels):
    n = labels.size
    Z = np.zeros((n, n))
    for k in np.unique(labels):
        idx = labels == k
        Z[np.ix_(idx, idx)] = 1.0 / idx.sum()
    return Z


# --------------------------------------------------------------------------- projections
@pytest.mark.parametrize("seed", range(5))
def test_row_simplex_projection_satisfies_kkt(seed):
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((7, 9)) * rng.uniform(0.1, 10)
    total = rng.uniform(0.5, 3)
    W = project_rows_simplex(npx, V, total)
    assert np.all(W >= 0)
    np.testing.assert_allclose(W.sum(axis=1), total, rtol=1e-12)
    for v, w in zip(V, W):
        # KKT: v - w equals one threshold on the support and v <= threshold off it
        theta = (v - w)[w > 0]
        np.testing.assert_allclose(theta, theta[0], atol=1e-12)
        assert np.all(v[w == 0] <= theta[0] + 1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_spectraplex_projection_matches_cvxpy(seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((6, 6))
    Z, _ = project_spectraplex(npx, M, 2.0)
    var = cp.Variable((6, 6), symmetric=True)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(var - (M + M.T) / 2)),
                      [var >> 0, cp.trace(var) == 2.0])
    prob.solve(solver="CLARABEL")
    np.testing.assert_allclose(Z, var.value, atol=1e-6)


# --------------------------------------------------------------------------- Peng-Wei SDP
CASES = [(0, 24, 3, 2, 1.5), (1, 24, 2, 4, 1.0), (2, 20, 3, 3, 4.0), (3, 26, 2, 2, 2.5),
         (4, 22, 4, 5, 3.0), (5, 24, 3, 3, 0.5)]


@pytest.mark.parametrize("seed,n,K,p,separation", CASES)
def test_admm_matches_cvxpy_optimal_value(seed, n, K, p, separation):
    """Tight and non-tight instances (small separations): <D, Z> to 1e-4 relative."""
    X, _, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation,
                                            covariance="isotropic", random_state=seed)
    D = squared_distances(np, X)
    ref = sdp_cvxpy([D], [float(K)], solver="CLARABEL")
    est = SDPKMeans(K, solver="admm", tol=1e-6, random_state=0).fit(X)
    assert est.converged_ and est.primal_residual_ <= 1e-6 and est.dual_residual_ <= 1e-6
    assert abs(est.objective_ - ref.objective) <= 1e-4 * abs(ref.objective)
    assert est.constraint_violation_ <= 1e-4
    np.testing.assert_allclose(est.Z_, est.Z_.T)


def test_cvxpy_solver_reports_cvxpy_value():
    X, _, _, _ = make_heterogeneous_mixture(24, 3, 3, separation=3, covariance="isotropic",
                                            random_state=0)
    ref = SDPKMeans(3, solver="cvxpy", tol=1e-8, random_state=0).fit(X)
    admm = SDPKMeans(3, solver="admm", tol=1e-6, random_state=0).fit(X)
    assert abs(ref.objective_ - admm.objective_) <= 1e-4 * ref.objective_
    np.testing.assert_array_equal(ref.labels_, admm.labels_)


@pytest.mark.parametrize("seed", range(2))
def test_bm_matches_cvxpy_when_relaxation_is_tight(seed):
    X, y, _, _ = make_heterogeneous_mixture(30, 4, 3, separation=8, covariance="isotropic",
                                            random_state=seed)
    ref = sdp_cvxpy([squared_distances(np, X)], [3.0], solver="CLARABEL")
    est = SDPKMeans(3, solver="bm", tol=1e-7, max_iter=200000, random_state=0).fit(X)
    assert est.Z_ is None and est.U_.shape == (30, 6) and np.all(est.U_ >= 0)
    assert abs(est.objective_ - ref.objective) <= 1e-4 * ref.objective
    assert est.constraint_violation_ <= 1e-4
    assert misclustering_error(y, est.labels_) == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_bm_is_a_restriction_when_relaxation_is_not_tight(seed):
    """Close clusters: the SDP optimum is not a partition matrix (rank above K). ``U U^T``
    with ``U >= 0`` is completely positive, a subset of the SDP's doubly non-negative
    cone, so the factorisation's value lies above cvxpy's optimum (up to its row-sum
    violation) by a small gap (measured 3e-4 to 2e-3 here, whatever the rank)."""
    X, _, _, _ = make_heterogeneous_mixture(45, 4, 3, separation=2.5, covariance="isotropic",
                                            random_state=seed)
    ref = sdp_cvxpy([squared_distances(np, X)], [3.0], solver="CLARABEL")
    assert np.sum(np.linalg.eigvalsh(ref.x[0]) > 1e-3) > 3   # not tight
    res = kmeans_sdp(X, 3, solver="bm", tol=1e-6, random_state=seed)
    assert res.converged
    assert res.constraint_violation <= 1e-4 and np.all(res.U >= 0)
    assert abs(np.sum(res.U ** 2) - 3.0) <= 1e-10
    gap = (res.objective - ref.objective) / ref.objective
    assert -1e-5 <= gap <= 5e-3


def test_bm_kernel_rejects_bad_shapes():
    from sparseopt._ext._sdp_bm import kmeans_bm_loop

    X, U, y = np.ones((5, 2)), np.ones((4, 3)), np.zeros(5)
    with pytest.raises(ValueError, match="rows"):
        kmeans_bm_loop(X, U, y, 0.4, 0.1, 1e-6, 10, 0.1, 3.0, True)
    with pytest.raises(ValueError):
        kmeans_bm_loop(X, np.ones((5, 3)), y, 0.4, 0.0, 1e-6, 10, 0.1, 3.0, True)
    with pytest.raises((ValueError, TypeError)):      # Fortran order is not C-contiguous
        kmeans_bm_loop(np.asfortranarray(np.ones((5, 2))), np.ones((5, 3)), y, 0.4, 0.1, 1e-6,
                       10, 0.1, 3.0, True)


@pytest.mark.parametrize("solver", ["admm", "bm"])
@pytest.mark.parametrize("seed", range(3))
def test_exact_recovery_on_separated_isotropic_mixture(solver, seed):
    """The relaxation is tight: Z is the partition matrix, no point is mislabelled."""
    X, y, _, _ = make_heterogeneous_mixture(60, 5, 3, separation=8, covariance="isotropic",
                                            random_state=seed)
    est = SDPKMeans(3, solver=solver, random_state=0).fit(X)
    assert misclustering_error(y, est.labels_) == 0.0
    Z = est.Z_ if solver == "admm" else est.U_ @ est.U_.T
    Z_true = _partition_matrix(y)
    assert np.linalg.norm(Z - Z_true) <= 1e-2 * np.linalg.norm(Z_true)


def test_sdp_kmeans_is_scale_and_translation_invariant():
    X, _, _, _ = make_heterogeneous_mixture(40, 3, 3, separation=3, covariance="isotropic",
                                            random_state=0)
    a = SDPKMeans(3, random_state=0).fit(X)
    b = SDPKMeans(3, random_state=0).fit(1e3 * X + 5.0)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(b.objective_, 1e6 * a.objective_, rtol=1e-6)


def test_convergence_warning_names_max_iter():
    X, _, _, _ = make_heterogeneous_mixture(30, 3, 3, separation=2, random_state=0)
    for solver in ("admm", "bm"):
        with pytest.warns(ConvergenceWarning, match="max_iter"):
            est = SDPKMeans(3, solver=solver, max_iter=3, random_state=0).fit(X)
        assert est.n_iter_ == 3 and not est.converged_


def test_fewer_samples_than_clusters_raises():
    X = np.random.default_rng(0).standard_normal((5, 2))
    for est in (SDPKMeans(), ILASDPClustering()):
        with pytest.raises(ValueError, match="n_samples=5 should be >= n_clusters=8"):
            est.fit(X)
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_sdp(X, 6)


def test_functional_api_rejects_bad_input():
    X = np.random.default_rng(0).standard_normal((10, 2))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        kmeans_sdp(X_nan, 2)
    with pytest.raises(ValueError, match="2d"):
        kmeans_sdp(X[:, 0], 2)
    with pytest.raises(ValueError, match="solver"):
        kmeans_sdp(X, 2, solver="newton")


def test_predict_is_nearest_centre():
    X, y, _, _ = make_heterogeneous_mixture(45, 3, 3, separation=8, covariance="isotropic",
                                            random_state=1)
    est = SDPKMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    d = ((X[:, None, :] - est.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(est.predict(X), d.argmin(1))


# --------------------------------------------------------------------------- LA-SDP / iLA-SDP
def test_la_sdp_costs_give_profiled_likelihood_on_partitions():
    """On a hard partition sum_k <B_k, Z_k> is -2 log L profiled over the means (+ const),
    and the cost of ``point_moves``."""
    X, y, _, _ = make_heterogeneous_mixture(30, 3, 3, separation=4, random_state=0)
    reg = 0.05
    covs = _covariances_from_labels(npx, X, y, 3, reg, "full")
    costs, offsets = la_sdp_costs(npx, X, covs, reg)
    value = 0.0
    for k, C in enumerate(costs):
        idx = y == k
        Zk = np.zeros((30, 30))
        Zk[np.ix_(idx, idx)] = 1.0 / idx.sum()
        value += np.sum(C * Zk) + offsets[k] * Zk.sum()
    brute = 0.0
    for k in range(3):
        Xk = X[y == k]
        P = np.linalg.inv(covs[k])
        R = Xk - Xk.mean(0)
        brute += np.einsum("ij,jk,ik->", R, P, R)
        brute += Xk.shape[0] * (np.linalg.slogdet(covs[k])[1] + reg * np.trace(P))
    np.testing.assert_allclose(value, brute, rtol=1e-10)
    # the hard-partition cost the point moves lower is the same value
    _, _, cost = point_moves(npx, X, y, 3, reg=reg, max_sweeps=0)
    np.testing.assert_allclose(cost, value, rtol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_la_sdp_admm_matches_cvxpy(seed):
    X, y, _, _ = make_heterogeneous_mixture(16, 2, 2, separation=3, covariance="scale",
                                            random_state=seed)
    covs = _covariances_from_labels(npx, X, y, 2, 0.05, "full")
    costs, offsets = la_sdp_costs(npx, X, covs, 0.05)
    full = [C + o * np.ones((16, 16)) for C, o in zip(costs, offsets)]
    ref = sdp_cvxpy(full, [1.0, 1.0], solver="CLARABEL")
    scale = max(np.abs(C).max() for C in full)
    res = sdp_admm(npx, [C / scale for C in full], [1.0, 1.0], tol=1e-7, max_iter=20000)
    value = sum(np.sum(C * Z) for C, Z in zip(full, res.x))
    assert res.converged
    assert abs(value - ref.objective) <= 1e-4 * abs(ref.objective)


def test_la_sdp_with_equal_covariances_is_peng_wei():
    """Sigma_k = I: LA-SDP's optimum is half the Peng-Wei optimum."""
    X, _, _, _ = make_heterogeneous_mixture(16, 3, 2, separation=2, covariance="isotropic",
                                            random_state=2)
    D = squared_distances(np, X)
    pw = kmeans_sdp(X, 2, solver="admm", tol=1e-7)
    scale = np.abs(D).max() / 2
    res = sdp_admm(npx, [D / 2 / scale] * 2, [1.0] * 2, tol=1e-6, max_iter=20000)
    value = sum(np.sum(D / 2 * Z) for Z in res.x)
    np.testing.assert_allclose(value, pw.objective / 2, rtol=1e-4)


def _hard_setting(seed, n=60):
    # a tight cluster (variance 0.25) next to a broad one (variance 4): K-means
    # cuts the broad cluster, a likelihood method does not
    return make_heterogeneous_mixture(n, 2, 2, separation=3, covariance="scale",
                                      covariance_scales=[0.05, 4.0], random_state=seed)


def test_ila_sdp_recovers_heterogeneous_mixture_where_kmeans_fails():
    """Over four seeds: iLA-SDP mislabels at most 5% per seed, K-means at least 15% on average."""
    ila_errors, km_errors = [], []
    for seed in range(4):
        X, y, _, _ = _hard_setting(seed)
        ila = ILASDPClustering(2, random_state=0).fit(X)
        km = KMeans(2, n_init=10, random_state=0).fit(X)
        ila_errors.append(misclustering_error(y, ila.labels_))
        km_errors.append(misclustering_error(y, km.labels_))
        assert ila.converged_
    assert max(ila_errors) <= 0.05 + 1e-12, ila_errors
    assert np.mean(km_errors) >= 0.15, km_errors
    assert np.mean(ila_errors) <= np.mean(km_errors) / 4


def test_exact_alternation_decreases_the_objective():
    """Spec 3.6: exact LA-SDP solves + the soft covariance step never increase the cost."""
    X, _, _, _ = _hard_setting(5, n=30)
    reg = 0.01
    labels = KMeans(2, n_init=10, random_state=0).fit(X).labels_
    covs = _covariances_from_labels(npx, X, labels, 2, reg, "full")
    values = []
    for _ in range(3):
        costs, offsets = la_sdp_costs(npx, X, covs, reg)
        full = [C + o * np.ones((30, 30)) for C, o in zip(costs, offsets)]
        Z = sdp_cvxpy(full, [1.0, 1.0], solver="CLARABEL").x
        values.append(sum(np.sum(C * Zk) for C, Zk in zip(full, Z)))
        covs = _covariance_step(npx, X, Z, reg, "full")
    assert np.all(np.diff(values) <= 1e-6 * np.abs(values[:-1])), values


def test_ila_more_starts_never_end_at_a_higher_objective():
    """The first start of ``n_init=3`` is the single start: the kept run is at least as good."""
    X, _, _, _ = make_heterogeneous_mixture(45, 3, 3, separation=3, covariance="shape",
                                            random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = ILASDPClustering(3, max_iter=4, n_init=1, shrinkage=None, random_state=0).fit(X)
        three = ILASDPClustering(3, max_iter=4, n_init=3, shrinkage=None,
                                 random_state=0).fit(X)
    assert one.n_starts_ == 1 and 1 <= three.n_starts_ <= 3
    assert three.objective_ <= one.objective_ + 1e-9 * abs(one.objective_)


def test_ila_keeps_the_start_of_lowest_objective():
    X, _, _, _ = make_heterogeneous_mixture(45, 3, 3, separation=3, covariance="shape",
                                            random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 4 rounds: only the choice matters
        est = ILASDPClustering(3, max_iter=4, n_init=4, random_state=0).fit(X)
    assert est.n_starts_ == len(est.start_objectives_) >= 2
    assert est.objective_ == min(est.start_objectives_)


@pytest.mark.parametrize("seed", range(3))
def test_ledoit_wolf_intensity_matches_sklearn(seed):
    from sklearn.covariance import ledoit_wolf_shrinkage

    from sparseopt.cluster.ila_sdp import ledoit_wolf_intensities

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 6)) * rng.uniform(0.5, 3, size=6)
    labels = rng.integers(0, 3, size=40)
    ours = ledoit_wolf_intensities(npx, X, labels, 3)
    ref = [ledoit_wolf_shrinkage(X[labels == k]) for k in range(3)]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_oas_intensity_matches_sklearn(seed):
    from sklearn.covariance import oas

    from sparseopt.cluster.ila_sdp import oas_intensities

    rng = np.random.default_rng(seed)
    p = int(rng.integers(2, 30))
    X = rng.standard_normal((45, p)) * rng.uniform(0.5, 3, size=p)
    labels = rng.integers(0, 3, size=45)
    ours = oas_intensities(npx, X, labels, 3)
    ref = [oas(X[labels == k])[1] for k in range(3)]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


def test_oas_shrinkage_is_used_by_the_covariance_step():
    from sklearn.covariance import oas

    X, y, _, _ = make_heterogeneous_mixture(60, 4, 2, separation=8, covariance="shape",
                                            random_state=0)
    est = ILASDPClustering(2, shrinkage="oas", covariance_update="hard", random_state=0).fit(X)
    assert misclustering_error(y, est.labels_) == 0
    for k in range(2):
        ref = oas(X[est.labels_ == k])[0] + est.reg_covar_ * np.eye(4)
        np.testing.assert_allclose(est.covariances_[k], ref, rtol=1e-8)


def test_full_shrinkage_gives_scaled_identity_covariances():
    X, y, _, _ = _hard_setting(2)
    est = ILASDPClustering(2, shrinkage=1.0, random_state=0).fit(X)
    for c in est.covariances_:
        np.testing.assert_allclose(c, c[0, 0] * np.eye(2), atol=1e-12)
    assert misclustering_error(y, est.labels_) <= 0.1
    with pytest.raises(ValueError, match="shrinkage"):
        ILASDPClustering(2, shrinkage=1.5).fit(X)


def test_ila_predict_is_the_gaussian_map_rule():
    X, _, _, _ = _hard_setting(1)
    est = ILASDPClustering(2, random_state=0).fit(X)
    X_new = np.random.default_rng(3).standard_normal((20, 2)) * 2
    logp = np.column_stack([
        multivariate_normal(est.means_[k], est.covariances_[k]).logpdf(X_new)
        + np.log(est.weights_[k]) for k in range(2)])
    np.testing.assert_array_equal(est.predict(X_new), logp.argmax(1))
    # the Gaussian rule may relabel a boundary point of the SDP partition
    assert np.mean(est.predict(X) == est.labels_) >= 0.95


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_ila_covariance_types(covariance_type):
    X, y, _, _ = _hard_setting(2)
    est = ILASDPClustering(2, covariance_type=covariance_type, random_state=0).fit(X)
    off = est.covariances_ - np.stack([np.diag(np.diag(c)) for c in est.covariances_])
    assert np.abs(off).max() == 0.0
    if covariance_type == "spherical":
        for c in est.covariances_:
            np.testing.assert_allclose(np.diag(c), c[0, 0])
    assert misclustering_error(y, est.labels_) <= 0.1


def test_ila_sdp_is_scale_and_translation_invariant():
    X, _, _, _ = _hard_setting(4, n=40)
    a = ILASDPClustering(2, random_state=0).fit(X)
    b = ILASDPClustering(2, random_state=0).fit(100.0 * X - 3.0)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(b.covariances_, 1e4 * a.covariances_, rtol=1e-5)
    np.testing.assert_allclose(b.means_, 100.0 * a.means_ - 3.0, rtol=1e-6, atol=1e-9)


def test_ila_warns_on_sdp_iteration_limit_and_label_rounds():
    X, _, _, _ = _hard_setting(0)
    with pytest.warns(ConvergenceWarning) as record:
        est = ILASDPClustering(2, sdp_max_iter=2, max_iter=2, random_state=0).fit(X)
    messages = [str(w.message) for w in record]
    assert any("sdp_max_iter=2" in m for m in messages), messages
    # the truncated solves also leave the labels moving after the two rounds
    assert all("sdp_max_iter=2" in m or "max_iter=2 rounds" in m for m in messages), messages
    assert not est.converged_
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        ILASDPClustering(2, max_iter=1, random_state=0).fit(X)


# --------------------------------------------------------------------------- LA-SDP Burer-Monteiro
def _la_problem(seed, n=30, separation=5.0, reg=0.01):
    """Heterogeneous mixture (shape / scale alternately, K = 2 / 3) and its true covariances."""
    K = 2 + seed % 2
    X, y, _, _ = make_heterogeneous_mixture(n, 3, K, separation=separation,
                                            covariance=["shape", "scale"][seed % 2],
                                            random_state=seed)
    covs = _covariances_from_labels(npx, X, y, K, reg, "full")
    costs, offsets = la_sdp_costs(npx, X, covs, reg)
    full = [C + o * np.ones((n, n)) for C, o in zip(costs, offsets)]
    return X, y, covs, full


def _relabel(row_mass):
    return np.argmax(row_mass, axis=1)


@pytest.mark.parametrize("seed", range(10))
def test_la_sdp_bm_matches_cvxpy(seed):
    """Ten random heterogeneous mixtures, BM started from a perturbed partition.

    Where the relaxation is tight (cvxpy's blocks have rank one) BM reaches cvxpy's
    optimum to 1e-4 relative; elsewhere its factors ``U_k >= 0`` span a subset of the
    feasible set (completely positive blocks), so its value is at or above the optimum,
    by little. The labels agree in every case, and the certificate is honest.
    """
    X, y, covs, full = _la_problem(seed)
    K = covs.shape[0]
    ref = sdp_cvxpy(full, [1.0] * K, solver="CLARABEL")
    tight = all(np.sum(np.linalg.eigvalsh(Z) > 1e-4) == 1 for Z in ref.x)
    rng = np.random.default_rng(seed)
    start = y.copy()
    flip = rng.random(y.size) < 0.2
    start[flip] = rng.integers(0, K, flip.sum())
    res = la_sdp(X, covs, reg=0.01, labels=start, tol=1e-6, random_state=0)
    assert res.solver == "bm" and res.Z is None and res.U.shape == (K, 30, 4)
    assert res.converged and np.all(res.U >= 0)
    np.testing.assert_allclose(np.sum(res.U ** 2, axis=(1, 2)), 1.0, rtol=1e-12)
    # certificate: the reported row-sum violation is the factors' own
    rows = sum(U @ U.sum(0) for U in res.U)
    assert res.primal_residual == pytest.approx(np.linalg.norm(rows - 1) / np.sqrt(30))
    assert res.primal_residual <= 1e-5 and res.dual_residual <= 1e-6
    # the objective is sum_k <B_k, U_k U_k^T>, computed without n x n matrices
    dense = sum(np.sum(B * (U @ U.T)) for B, U in zip(full, res.U))
    assert res.objective == pytest.approx(dense, rel=1e-10)
    rel = (res.objective - ref.objective) / abs(ref.objective)
    if tight:
        assert abs(rel) <= 1e-4, rel
    else:
        assert -1e-4 <= rel <= 1e-2, rel
    np.testing.assert_array_equal(res.labels, _relabel(np.stack([Z.sum(1) for Z in ref.x], 1)))


def test_la_sdp_bm_with_equal_covariances_is_peng_wei():
    """Sigma_k = I: the LA-SDP optimum is half the Peng-Wei optimum, with the same labels."""
    X, y, _, _ = make_heterogeneous_mixture(45, 3, 3, separation=8, covariance="isotropic",
                                            random_state=0)
    pw = kmeans_sdp(X, 3, solver="admm", tol=1e-7)
    covs = np.stack([np.eye(3)] * 3)
    start = KMeans(3, n_init=10, random_state=0).fit(X).labels_
    res = la_sdp(X, covs, labels=start, tol=1e-7, random_state=0)
    assert res.converged
    np.testing.assert_allclose(res.objective, pw.objective / 2, rtol=1e-5)
    assert misclustering_error(y, res.labels) == 0.0


def test_la_sdp_bm_keeps_a_hard_partition_at_the_optimum():
    """Started at the optimal partition (tight case), BM stays there: U_k U_k^T 1 = 1_{G_k}
    and the value is the profiled -2 log-likelihood of the partition."""
    X, y, covs, full = _la_problem(2)
    res = la_sdp(X, covs, reg=0.01, labels=y, tol=1e-8, random_state=0)
    partition = sum(np.sum(B * _partition_matrix(np.where(y == k, 1, 0)) * (y == k)[:, None])
                    for k, B in enumerate(full))
    np.testing.assert_allclose(res.objective, partition, rtol=1e-6)
    for k, U in enumerate(res.U):
        np.testing.assert_allclose(U @ U.sum(0), (y == k).astype(float), atol=1e-5)


@pytest.mark.parametrize("seed", range(2))
def test_la_sdp_solvers_agree(seed):
    """The three solvers of la_sdp on one tight problem: same value (1e-4) and labels."""
    X, y, covs, _ = _la_problem(seed)
    bm = la_sdp(X, covs, reg=0.01, labels=y, tol=1e-7, random_state=0)
    admm = la_sdp(X, covs, reg=0.01, solver="admm", tol=1e-7, max_iter=20000)
    conic = la_sdp(X, covs, reg=0.01, solver="cvxpy", tol=1e-8, max_iter=200000)
    assert bm.U is not None and admm.Z.shape == (covs.shape[0], 30, 30) and admm.U is None
    for other in (admm, conic):
        assert abs(bm.objective - other.objective) <= 1e-4 * abs(other.objective)
        np.testing.assert_array_equal(bm.labels, other.labels)


def test_la_sdp_bm_compiled_loop_equals_namespace_loop(monkeypatch):
    import sparseopt.cluster._sdp_solvers as solvers

    rng = np.random.default_rng(0)
    Y = rng.standard_normal((3, 40, 4)) / 40
    U0 = rng.random((3, 40, 2))
    offsets = [0.01, -0.02, 0.0]
    compiled = la_sdp_bm(npx, Y, offsets, U0, max_iter=800, tol=1e-12)
    monkeypatch.setattr(solvers, "_is_numpy", lambda xp: False)
    python = la_sdp_bm(npx, Y, offsets, U0, max_iter=800, tol=1e-12)
    assert compiled.n_iter == python.n_iter == 800 and not compiled.converged
    np.testing.assert_allclose(compiled.x, python.x, atol=1e-12)
    np.testing.assert_allclose(compiled.y, python.y, atol=1e-12)
    assert compiled.n_dual_updates == python.n_dual_updates


def test_la_sdp_reports_iteration_limit():
    X, y, covs, _ = _la_problem(1)
    with pytest.warns(ConvergenceWarning, match="max_iter=50"):
        res = la_sdp(X, covs, reg=0.01, labels=y, tol=1e-10, max_iter=50, random_state=0)
    assert not res.converged and res.n_iter == 50 and res.certificate > 1e-10


def test_la_sdp_rejects_bad_input():
    X, y, covs, _ = _la_problem(0)
    with pytest.raises(ValueError, match="2d"):
        la_sdp(X[:, 0], covs)
    with pytest.raises(ValueError, match="shape"):
        la_sdp(X, covs[:, :2, :2])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        la_sdp(X_nan, covs)
    bad = covs.copy()
    bad[0] = -bad[0]
    with pytest.raises(ValueError, match="positive definite"):
        la_sdp(X, bad)
    bad = covs.copy()
    bad[0, 0, 1] += 1.0
    with pytest.raises(ValueError, match="symmetric"):
        la_sdp(X, bad)
    with pytest.raises(ValueError, match="labels"):
        la_sdp(X, covs, labels=y[:-1])
    with pytest.raises(ValueError, match="labels"):
        la_sdp(X, covs, labels=y + 5)
    with pytest.raises(ValueError, match="solver"):
        la_sdp(X, covs, solver="newton")
    with pytest.raises(ValueError, match="rank"):
        la_sdp(X, covs, rank=0)
    with pytest.raises(ValueError, match="n_clusters"):
        la_sdp(X[:1], covs)
    caller = X.copy()
    la_sdp(X, covs, labels=y, random_state=0)
    np.testing.assert_array_equal(X, caller)


def test_la_sdp_kernel_rejects_mismatched_shapes():
    from sparseopt._ext._sdp_bm import la_sdp_bm_loop

    Y = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match="blocks"):
        la_sdp_bm_loop(Y, np.zeros(3), np.zeros((2, 5, 2)), np.zeros(5), 0.1, 0.1, 1e-6, 10,
                       0.1, True)
    with pytest.raises(ValueError, match="rows"):
        la_sdp_bm_loop(Y, np.zeros(2), np.zeros((2, 5, 2)), np.zeros(4), 0.1, 0.1, 1e-6, 10,
                       0.1, True)


def test_ila_bm_and_admm_find_the_same_clusters():
    """iLA-SDP with the BM and the ADMM LA-SDP solvers, six mixtures of a tight and a broad
    cluster: the same labels on at least five, at most one point apart on the other (BM is
    a local method: measured, it can leave a boundary point in a worse local optimum)."""
    same = 0
    for seed in range(6):
        X, y, _, _ = _hard_setting(seed, n=40)
        bm = ILASDPClustering(2, random_state=0).fit(X)
        admm = ILASDPClustering(2, solver="admm", random_state=0).fit(X)
        assert bm.solver_ == "bm" and bm.U_.shape == (2, 40, 4) and admm.U_ is None
        assert bm.converged_ and admm.converged_
        np.testing.assert_allclose(bm.Z_, np.einsum("kir,kjr->kij", bm.U_, bm.U_))
        differ = int(np.sum(bm.labels_ != admm.labels_))
        assert differ <= 1, (seed, differ)
        if differ == 0:
            same += 1
            # the rounds stop once the objective moves by at most 0.01 per point (and the
            # ADMM solves to tol 1e-3): the final values agree to that resolution
            assert abs(bm.objective_ - admm.objective_) <= 0.01 * 40
    assert same >= 5


# --------------------------------------------------------------------------- array API
def _namespaces():
    out = []
    try:
        import array_api_strict  # noqa: F401

        out += [pytest.param(("array_api_strict", "CPU_DEVICE"), id="strict-cpu"),
                pytest.param(("array_api_strict", "device1"), id="strict-device1")]
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch  # noqa: F401

        out += [pytest.param(("torch", "cpu"), id="torch-cpu")]
    except ImportError:  # pragma: no cover
        pass
    return out


def _to(name, device, X):
    if name == "array_api_strict":
        import array_api_strict as xp

        return xp.asarray(X, device=xp.Device(device))
    import torch

    return torch.asarray(X, device=torch.device(device))


@pytest.fixture(autouse=True)
def _torch_single_thread():
    """torch's own thread pool thrashes on these small matrices on a shared machine."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("backend", _namespaces())
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("Estimator", [SDPKMeans, ILASDPClustering])
def test_array_api_follows_x(backend, dtype, Estimator):
    """Fits on array-api-strict (both devices) and torch CPU equal the NumPy fit.

    float32 input is computed in float64 (the namespace's float64 on the device of X),
    so both dtypes give the NumPy float64 result up to the rounding of X.
    """
    name, device = backend
    X, _, _, _ = _hard_setting(0, n=40)
    # one start for iLA-SDP: the iterations run in Python on these namespaces (the default
    # four starts go through the same code, and the default instance's array-API checks)
    params = {"n_init": 1, "shrinkage": None} if Estimator is ILASDPClustering else {}
    ref = Estimator(2, random_state=0, **params).fit(X)
    X_xp = _to(name, device, X.astype(dtype))
    with sklearn.config_context(array_api_dispatch=True):
        est = Estimator(2, random_state=0, **params).fit(X_xp)
        pred = est.predict(X_xp)
        ns_x, _, dev_x = get_namespace_and_device(X_xp)
        for value in (est.labels_, pred, est.Z_):
            ns, _, dev = get_namespace_and_device(value)
            assert ns.__name__ == ns_x.__name__ and dev == dev_x
    np.testing.assert_array_equal(to_numpy(est.labels_), ref.labels_)
    atol = 1e-8 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(to_numpy(est.Z_), ref.Z_, atol=atol)
    np.testing.assert_allclose(est.objective_, ref.objective_, rtol=atol)


@pytest.fixture
def host_copy_sizes(monkeypatch):
    """Sizes of every array the cluster modules copy to the host (``to_numpy``)."""
    import sparseopt.cluster._base as base
    import sparseopt.cluster.ila_sdp as ila
    import sparseopt.cluster.sdp_kmeans as sdp

    sizes = []

    def counting(x, dtype=None):
        out = to_numpy(x, dtype)
        sizes.append(int(np.size(out)))
        return out

    for module in (base, ila, sdp):
        monkeypatch.setattr(module, "to_numpy", counting)
    return sizes


@pytest.mark.parametrize("Estimator,params", [
    (ILASDPClustering, {"n_init": 3, "shrinkage": "ledoit-wolf", "max_iter": 3}),
    (SDPKMeans, {"solver": "bm", "max_iter": 3000}),
])
def test_dense_paths_make_no_host_copy_of_x(host_copy_sizes, Estimator, params):
    """On array-api-strict's device1 only labels and n-vectors reach the host, never X."""
    xps = pytest.importorskip("array_api_strict")
    X, _, _, _ = make_heterogeneous_mixture(40, 4, 2, separation=4, covariance="shape",
                                            random_state=0)
    X_dev = xps.asarray(X, device=xps.Device("device1"))
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 3 rounds: only the copies matter
        est = Estimator(2, random_state=0, **params).fit(X_dev)
    assert est.labels_.device == X_dev.device
    assert host_copy_sizes and max(host_copy_sizes) < X.size, host_copy_sizes


@pytest.mark.parametrize("backend", _namespaces())
def test_bm_runs_in_the_namespace_of_x(backend):
    name, device = backend
    X, _, _, _ = make_heterogeneous_mixture(40, 3, 3, separation=8, covariance="isotropic",
                                            random_state=0)
    Xs = X - X.mean(0)
    Xs /= np.linalg.norm(Xs, 2)
    U0 = np.random.default_rng(0).random((40, 6))
    ref = kmeans_sdp_bm(npx, Xs, 3, U0, max_iter=500)
    with sklearn.config_context(array_api_dispatch=True):
        X_xp, U_xp = _to(name, device, Xs), _to(name, device, U0)
        xp, _, dev = get_namespace_and_device(X_xp)
        res = kmeans_sdp_bm(xp, X_xp, 3, U_xp, max_iter=500)
        assert get_namespace_and_device(res.x)[2] == dev
    np.testing.assert_allclose(to_numpy(res.x), ref.x, atol=1e-9)
    assert res.n_iter == ref.n_iter


@pytest.mark.parametrize("backend", _namespaces())
def test_la_sdp_bm_runs_in_the_namespace_of_x(backend):
    name, device = backend
    X, y, covs, _ = _la_problem(1)
    ref = la_sdp(X, covs, reg=0.01, labels=y, tol=1e-6, random_state=0)
    with sklearn.config_context(array_api_dispatch=True):
        X_xp, covs_xp = _to(name, device, X), _to(name, device, covs)
        _, _, dev = get_namespace_and_device(X_xp)
        res = la_sdp(X_xp, covs_xp, reg=0.01, labels=y, tol=1e-6, random_state=0)
        assert get_namespace_and_device(res.U)[2] == dev
    assert res.n_iter == ref.n_iter and res.converged
    np.testing.assert_allclose(to_numpy(res.U), ref.U, atol=1e-9)
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-10)
    np.testing.assert_array_equal(res.labels, ref.labels)


# --------------------------------------------------------------------------- default instances
@pytest.mark.slow
@parametrize_with_checks([SDPKMeans(), ILASDPClustering()],
                         expected_failed_checks=expected_failed_checks)
def test_default_instances_pass_the_sklearn_checks(estimator, check):
    """``cls()`` with n_clusters=8 on scikit-learn's small data (minutes: marked slow)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
