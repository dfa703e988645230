"""Seeded optimal-transport problems (Tang et al. 2024 benchmarks), with ground truth."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.utils import Bunch

from ..utils.validation import check_random_state
from ._checks import NON_NEGATIVE, POSITIVE_INT, RANDOM_STATE, check_args

__all__ = ["make_random_assignment", "make_grid_densities", "make_point_clouds"]


def make_random_assignment(n=500, *, random_state=None):
    """The random assignment problem: uniform marginals and i.i.d. uniform costs.

    The paper's first benchmark (n = 500 with ``reg = 1/1200``).

    Parameters
    ----------
    n : int, default=500
        Number of source and target points.
    random_state : int, RandomState instance or None
        Seed of the costs.

    Returns
    -------
    problem : Bunch
        ``a``, ``b`` (uniform, shape (n,)), ``M`` (shape (n, n), entries
        ``U[0, 1]``) and the ground truth ``assignment``: the optimal
        permutation of the unregularised problem (``j = assignment[i]``,
        from ``scipy.optimize.linear_sum_assignment``), to which the
        entropic plan concentrates as ``reg -> 0``; ``optimal_cost`` is its
        transport cost ``<P*, M>``.

    References
    ----------
    .. [1] X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K. Thekumparampil, T. Xiao and L.
       Ying, "Accelerating Sinkhorn algorithm with sparse Newton iterations", ICLR 2024.

    Examples
    --------
    >>> from sparseopt.datasets import make_random_assignment
    >>> pb = make_random_assignment(4, random_state=0)
    >>> pb.M.shape, float(pb.a.sum()), sorted(pb.assignment.tolist())
    ((4, 4), 1.0, [0, 1, 2, 3])
    """
    check_args("make_random_assignment", locals(), dict(n=POSITIVE_INT,
                                                        random_state=RANDOM_STATE))
    rng = check_random_state(random_state)
    M = rng.uniform(size=(n, n))
    a = np.full(n, 1.0 / n)
    rows, cols = linear_sum_assignment(M)
    return Bunch(a=a, b=a.copy(), M=M, assignment=cols[np.argsort(rows)],
                 optimal_cost=float(M[rows, cols].sum() / n))


def _gaussian_mixture_density(coords, means, scales, weights):
    density = np.zeros(coords.shape[0])
    for mu, s, w in zip(means, scales, weights):
        density += w * np.exp(-0.5 * np.sum((coords - mu) ** 2, axis=1) / s**2)
    return density


def make_grid_densities(grid_size=28, *, cost="sqeuclidean", n_bumps=3, floor=1e-4,
                        random_state=None):
    """Two smooth densities on a ``grid_size x grid_size`` grid of ``[0, 1]^2``.

    A data-free stand-in for the MNIST W2/W1 experiments of [1]_:
    each histogram is a mixture of ``n_bumps`` Gaussian bumps plus a small
    constant ``floor`` (so no bin is empty), normalised to mass 1.

    Parameters
    ----------
    grid_size : int, default=28
        Side of the grid; the problem has ``grid_size**2`` bins per side.
    cost : {"sqeuclidean", "l1"}, default="sqeuclidean"
        Squared Euclidean (W2, max cost 2) or l1 (W1, max cost 2) distance
        between bin centres. The l1 cost has non-unique optima.
    n_bumps : int, default=3
    floor : float, default=1e-4
        Constant added to each density before normalisation.
    random_state : int, RandomState instance or None

    Returns
    -------
    problem : Bunch
        ``a``, ``b`` (shape (grid_size**2,)), ``M``, ``coords`` (bin centres)
        and the ground truth of the generator: ``means_a``, ``means_b``,
        ``scales_a``, ``scales_b``, ``weights_a``, ``weights_b``.

    References
    ----------
    .. [1] X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K. Thekumparampil, T. Xiao and L.
       Ying, "Accelerating Sinkhorn algorithm with sparse Newton iterations", ICLR 2024.

    Examples
    --------
    >>> from sparseopt.datasets import make_grid_densities
    >>> pb = make_grid_densities(8, random_state=0)
    >>> pb.M.shape, round(float(pb.b.sum()), 12)
    ((64, 64), 1.0)
    """
    check_args("make_grid_densities", locals(), dict(
        grid_size=POSITIVE_INT, n_bumps=POSITIVE_INT, floor=NON_NEGATIVE,
        random_state=RANDOM_STATE))
    if cost not in ("sqeuclidean", "l1"):
        raise ValueError(f"cost must be 'sqeuclidean' or 'l1', got {cost!r}.")
    rng = check_random_state(random_state)
    ticks = (np.arange(grid_size) + 0.5) / grid_size
    coords = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)
    truth = {}
    hists = []
    for side in ("a", "b"):
        means = rng.uniform(0.2, 0.8, size=(n_bumps, 2))
        scales = rng.uniform(0.05, 0.15, size=n_bumps)
        weights = rng.dirichlet(np.ones(n_bumps))
        h = _gaussian_mixture_density(coords, means, scales, weights) + floor
        hists.append(h / h.sum())
        truth.update({f"means_{side}": means, f"scales_{side}": scales,
                      f"weights_{side}": weights})
    diff = coords[:, None, :] - coords[None, :, :]
    M = (diff**2).sum(-1) if cost == "sqeuclidean" else np.abs(diff).sum(-1)
    return Bunch(a=hists[0], b=hists[1], M=M, coords=coords, **truth)


def make_point_clouds(n=1000, *, dim=2, random_state=None):
    """Source Gaussian samples and target samples pushed by a planted Monge map.

    ``X_source ~ N(0, I)``; ``X_target = T(X_source')`` for an independent
    sample ``X_source'`` and ``T(x) = A x + t`` with ``A`` symmetric
    positive definite: ``T`` is then the optimal (Brenier) map for the
    squared Euclidean cost between the two populations.

    Parameters
    ----------
    n : int, default=1000
        Samples per cloud.
    dim : int, default=2
    random_state : int, RandomState instance or None

    Returns
    -------
    problem : Bunch
        ``X_source``, ``X_target`` (shape (n, dim)), uniform ``a``, ``b``,
        ``M`` (squared Euclidean costs) and the ground truth ``A``, ``t``.

    Examples
    --------
    >>> from sparseopt.datasets import make_point_clouds
    >>> pb = make_point_clouds(50, random_state=0)
    >>> pb.M.shape, bool((pb.M >= 0).all())
    ((50, 50), True)
    """
    check_args("make_point_clouds", locals(), dict(n=POSITIVE_INT, dim=POSITIVE_INT,
                                                   random_state=RANDOM_STATE))
    rng = check_random_state(random_state)
    Q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    A = Q @ np.diag(rng.uniform(0.5, 2.0, size=dim)) @ Q.T
    t = rng.uniform(-1.0, 1.0, size=dim)
    X_source = rng.standard_normal((n, dim))
    X_target = rng.standard_normal((n, dim)) @ A.T + t
    M = ((X_source[:, None, :] - X_target[None, :, :]) ** 2).sum(-1)
    a = np.full(n, 1.0 / n)
    return Bunch(X_source=X_source, X_target=X_target, a=a, b=a.copy(), M=M, A=A, t=t)
