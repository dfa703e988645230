"""The shared random-state helper and the graph helpers that moved to ``sparseopt.utils``."""
import numpy as np
import pytest
from sklearn.utils import check_random_state

import sparseopt.causal
from sparseopt.datasets import make_correlated_regression, make_linear_sem
from sparseopt.utils._random import check_generator
from sparseopt.utils.graph import is_dag, threshold_to_dag, topological_order


def _draws(rng):
    return rng.integers(1 << 30, size=4).tolist()


@pytest.mark.parametrize("seed", [0, 1, 12345, np.int64(7)])
def test_check_generator_follows_check_random_state(seed):
    # an int: the same stream at every call (NumPy's default_rng, or through RandomState)
    assert _draws(check_generator(seed)) == _draws(np.random.default_rng(seed))
    via = np.random.default_rng(np.random.RandomState(seed).randint(2**31 - 1))
    assert _draws(check_generator(seed, seed_via_random_state=True)) == _draws(via)
    # a RandomState is drawn from and advanced in place, as scikit-learn does
    rs, ref = np.random.RandomState(seed), np.random.RandomState(seed)
    assert _draws(check_generator(rs)) == _draws(np.random.default_rng(ref.randint(2**31 - 1)))
    assert rs.randint(1000) == ref.randint(1000)


def test_check_generator_passes_a_generator_and_reads_the_global_state_for_none():
    rng = np.random.default_rng(0)
    assert check_generator(rng) is rng
    assert check_generator(rng, seed_via_random_state=True) is rng
    np.random.seed(3)
    first = _draws(check_generator(None))
    np.random.seed(3)
    assert _draws(check_generator(None)) == first
    assert check_random_state(None) is np.random.mtrand._rand  # the state None refers to


@pytest.mark.parametrize("bad", [True, 1.5, "0", -1, [0]])
def test_check_generator_rejects_other_values_by_name(bad):
    with pytest.raises(ValueError, match="random_state"):
        check_generator(bad)


def test_generators_accept_every_random_state_kind():
    for random_state in (0, np.random.RandomState(0), np.random.default_rng(0), None):
        X, y, _ = make_correlated_regression(10, 5, n_informative=2, random_state=random_state)
        assert X.shape == (10, 5)
        X, W, _ = make_linear_sem(4, 3, 20, random_state=random_state)
        assert is_dag(W)
    # seeded data are reproducible
    a = make_linear_sem(5, 4, 30, random_state=1)[0]
    np.testing.assert_array_equal(a, make_linear_sem(5, 4, 30, random_state=1)[0])


def test_graph_helpers_are_the_ones_the_causal_package_exports():
    assert sparseopt.causal.is_dag is is_dag
    assert sparseopt.causal.threshold_to_dag is threshold_to_dag
    from sparseopt.causal._graph import topological_order as old_path

    assert old_path is topological_order
    chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert topological_order(chain) == [0, 1, 2]
    W, removed = threshold_to_dag(chain + chain.T * 0.5, 0.1)
    assert is_dag(W) and removed == 2 and np.array_equal(W != 0, chain != 0)
