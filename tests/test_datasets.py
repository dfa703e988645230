"""Generators of the foundation: shapes, seeds and ground-truth properties.

Each field's own generators are tested with the field (test_<field>.py).
"""
import numpy as np
import pytest

from sparseopt.datasets import (
    kronecker_matvec,
    make_heterogeneous_mixture,
    make_kronecker_sparse_recovery,
    make_ldp_regression,
)
from sparseopt.utils.validation import InvalidParameterError


def _same(a, b):
    for x, y in zip(a, b):
        if isinstance(x, list):
            for u, v in zip(x, y):
                np.testing.assert_array_equal(u, v)
        else:
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("make, kwargs", [
    (make_heterogeneous_mixture, {"n_samples": 50, "n_features": 4}),
    (make_kronecker_sparse_recovery, {"measurements": (3, 4), "n_atoms": (5, 5), "sparsity": 2}),
    (make_ldp_regression, {"n_samples": 50, "n_features": 6}),
])
def test_seed_reproducible_and_seeds_differ(make, kwargs):
    a = make(**kwargs, random_state=0)
    _same(a, make(**kwargs, random_state=0))
    b = make(**kwargs, random_state=1)
    assert not np.array_equal(a[0], b[0])


def test_mixture_ground_truth():
    X, labels, means, covs = make_heterogeneous_mixture(3000, 4, 3, separation=5.0,
                                                        weights=[0.2, 0.3, 0.5], random_state=0)
    assert X.shape == (3000, 4)
    np.testing.assert_allclose(np.bincount(labels) / 3000, [0.2, 0.3, 0.5], atol=2e-3)
    for k in range(3):
        np.testing.assert_allclose(X[labels == k].mean(axis=0), means[k], atol=0.25)
        np.testing.assert_allclose(np.cov(X[labels == k].T), covs[k], atol=0.35 * covs[k].max())
        assert np.all(np.linalg.eigvalsh(covs[k]) > 0)
    # the shape setting really is heterogeneous
    assert not np.allclose(covs[0], covs[1])


def test_mixture_scale_setting_spans_an_order_of_magnitude():
    _, _, _, covs = make_heterogeneous_mixture(30, 3, 3, covariance="scale", random_state=0)
    variances = [c[0, 0] for c in covs]
    assert max(variances) / min(variances) >= 10


def test_mixture_bad_parameters():
    with pytest.raises(InvalidParameterError, match="covariance"):
        make_heterogeneous_mixture(covariance="spherical")
    with pytest.raises(ValueError, match="n_features"):
        make_heterogeneous_mixture(n_features=1, n_clusters=4)


@pytest.mark.parametrize("complex_valued", [False, True])
def test_kronecker_problem_matches_dense_kron(complex_valued):
    y, factors, x, s2 = make_kronecker_sparse_recovery((3, 4, 2), (4, 5, 3), 2, snr_db=200.0,
                                                       complex_valued=complex_valued, random_state=0)
    dense = np.kron(np.kron(factors[0], factors[1]), factors[2])
    np.testing.assert_allclose(kronecker_matvec(factors, x), dense @ x, atol=1e-12)
    np.testing.assert_allclose(y, dense @ x, atol=1e-8)  # 200 dB: noise negligible
    assert np.count_nonzero(x) == 2 ** 3
    # the support is a Kronecker product of per-mode supports
    support = (np.abs(x) > 0).reshape(4, 5, 3)
    modes = [support.any(axis=(1, 2)), support.any(axis=(0, 2)), support.any(axis=(0, 1))]
    np.testing.assert_array_equal(support, np.einsum("i,j,k->ijk", *modes))


def test_kronecker_snr_sets_noise_variance():
    y, factors, x, s2 = make_kronecker_sparse_recovery(snr_db=10.0, random_state=3)
    clean = kronecker_matvec(factors, x)
    np.testing.assert_allclose(10 * np.log10((clean @ clean / clean.size) / s2), 10.0)
    np.testing.assert_allclose(np.var(y - clean), s2, rtol=0.1)


def test_ldp_regression_ground_truth():
    X, y, theta = make_ldp_regression(20000, 10, 3, noise=0.0, l1_radius=2.0, random_state=0)
    assert np.abs(X).max() <= 1.0
    assert np.count_nonzero(theta) == 3
    np.testing.assert_allclose(np.abs(theta).sum(), 2.0)
    np.testing.assert_allclose(y, X @ theta)
    X, y, theta = make_ldp_regression(100, 5, 2, design="rademacher", random_state=0)
    assert set(np.unique(X)) == {-1.0, 1.0}


# ------------------------------------------------------------ issue 15: impossible arguments raise
@pytest.mark.parametrize("name, kwargs, match", [
    ("make_correlated_regression", dict(n_samples=20, n_features=30, rho=1.5), "rho"),
    ("make_correlated_regression", dict(n_samples=20, n_features=30, rho=-1.0), "rho"),
    ("make_correlated_regression", dict(n_samples=20, n_features=30, snr=0.0), "snr"),
    ("make_correlated_regression", dict(n_samples=20, n_features=30, n_informative=40),
     "n_informative"),
    ("make_correlated_regression", dict(n_samples=20, n_features=30, support=[3, 40]),
     "support"),
    ("make_sparse_design_regression", dict(n_samples=20, n_features=30, density=1.5), "density"),
    ("make_sparse_design_regression", dict(n_samples=20, n_features=30, density=0.0), "density"),
    ("make_sparse_design_regression", dict(n_samples=20, n_features=30, n_informative=31),
     "n_informative"),
    ("make_random_support_regression", dict(n_samples=20, n_features=30, k=31), "k"),
    ("make_heterogeneous_mixture", dict(weights=[0.5, 0.6, 0.2]), "sum to 1"),
    ("make_heterogeneous_mixture", dict(weights=[0.5, 0.5]), "3 positive"),
    ("make_bcd_least_squares", dict(n_samples=20, n_features=30, density=1.5), "density"),
    ("make_bcd_logistic", dict(n_samples=20, n_features=30, flip=1.5), "flip"),
    ("make_bcd_softmax", dict(n_samples=20, n_features=30, n_classes=1), "n_classes"),
    ("make_bcd_lattice", dict(side=3, n_labelled=20), "n_labelled"),
    ("make_bcd_two_moons", dict(n_samples=20, n_labelled=30), "n_labelled"),
    ("make_bcd_nonnegative_l1", dict(n_samples=20, n_features=30, alpha=-1.0), "alpha"),
    ("make_matrix_completion", dict(n_rows=10, n_cols=8, rank=9), "rank"),
    ("make_low_rank_sparse", dict(n_samples=10, outlier_fraction=1.5), "outlier_fraction"),
    ("make_grid_densities", dict(grid_size=0), "grid_size"),
    ("make_point_clouds", dict(n=0), "'n'"),
    ("make_random_assignment", dict(n=-1), "'n'"),
    ("make_linear_sem", dict(d=5, n=0), "'n'"),
])
def test_generators_reject_impossible_arguments(name, kwargs, match):
    import sparseopt.datasets as datasets

    with pytest.raises(ValueError, match=match):
        getattr(datasets, name)(**kwargs, random_state=0)


def test_correlated_regression_is_finite_at_valid_extremes():
    from sparseopt.datasets import make_correlated_regression

    X, y, w = make_correlated_regression(20, 30, n_informative=30, rho=-0.999, snr=1e-3,
                                         random_state=0)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y)) and np.count_nonzero(w) == 30
