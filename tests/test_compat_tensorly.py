"""Drop-in checks against tensorly's ``robust_pca``: its numeric 0/1 mask is accepted."""
import numpy as np
import pytest

from sparseopt.decomposition import RobustPCA


def _problem(seed):
    rng = np.random.default_rng(seed)
    L = rng.normal(size=(100, 2)) @ rng.normal(size=(2, 80))
    S = np.where(rng.random(L.shape) < 0.05, 10 * rng.normal(size=L.shape), 0.0)
    observed = rng.random(L.shape) > 0.1
    return L, S, observed


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float64, np.float32])
def test_numeric_mask_equals_boolean_mask(seed, dtype):
    L, S, observed = _problem(seed)
    X = L + S
    numeric = observed.astype(dtype)
    ref = RobustPCA(method="ialm", random_state=0).fit(X, mask=observed)
    got = RobustPCA(method="ialm", random_state=0).fit(X, mask=numeric)
    np.testing.assert_array_equal(got.low_rank_, ref.low_rank_)
    np.testing.assert_array_equal(got.sparse_, ref.sparse_)
    # the caller's mask is not changed
    np.testing.assert_array_equal(numeric, observed.astype(dtype))


def test_tensorly_mask_side_by_side():
    tl = pytest.importorskip("tensorly")
    from tensorly.decomposition import robust_pca

    L, S, observed = _problem(0)
    X = L + S
    mask = observed.astype(float)  # tensorly's convention: 1 observed, 0 missing
    # tensorly's reg_E is PCP's lambda; its default 1.0 returns S = 0 here, so pass the
    # standard 1 / sqrt(max(n, m)) that RobustPCA uses by default
    L_tl, _ = robust_pca(tl.tensor(X), mask=tl.tensor(mask), reg_E=1 / np.sqrt(max(X.shape)),
                         tol=1e-9, n_iter_max=3000)
    ours = RobustPCA(method="ialm", tol=1e-9).fit(X, mask=mask)
    # both recover the planted low-rank part on the observed entries
    err_tl = np.linalg.norm((tl.to_numpy(L_tl) - L)[observed]) / np.linalg.norm(L[observed])
    err_ours = np.linalg.norm((ours.low_rank_ - L)[observed]) / np.linalg.norm(L[observed])
    assert err_ours < 1e-6
    assert err_tl < 0.2  # tensorly recovers it too, less tightly (0.054 on this seed)
    assert err_ours <= err_tl


@pytest.mark.parametrize("bad, exc, match", [
    (lambda m: m.astype(float) * 2, ValueError, "only 0"),
    (lambda m: np.where(m, 1.0, 0.5), ValueError, "only 0"),
    (lambda m: m.astype(complex), TypeError, "0/1 numeric"),
])
def test_bad_numeric_mask(bad, exc, match):
    L, S, observed = _problem(1)
    with pytest.raises(exc, match=match):
        RobustPCA(method="ialm").fit(L + S, mask=bad(observed))
