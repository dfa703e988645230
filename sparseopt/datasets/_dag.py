"""Random DAGs and linear structural equation models (the NOTEARS / DAGMA / CoLiDE set-ups).

Every generator draws from its own ``numpy.random.Generator`` built from
``random_state`` (the reference simulators use the unseeded global RNG).
Convention: ``B[i, j] = 1`` / ``W[i, j] != 0`` means the edge i -> j, and the
SEM is ``X = X W + Z``.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..utils._random import check_generator
from ..utils.graph import is_dag
from ._checks import NON_NEGATIVE_INT, POSITIVE_INT, RANDOM_STATE, check_args

__all__ = ["simulate_dag", "simulate_parameter", "simulate_linear_sem", "make_linear_sem"]

_NOISES = ("gauss", "exp", "laplace", "gumbel", "uniform")


def simulate_dag(d, n_edges, graph_type="ER", random_state=None):
    """Random DAG adjacency with about ``n_edges`` edges, nodes randomly permuted.

    Parameters
    ----------
    d : int
        Number of nodes.
    n_edges : int
        Expected edge count, at most ``d(d-1)/2``: exactly ``n_edges`` for ER; for SF
        each new node attaches ``m = round(n_edges / d)`` edges, giving about
        ``m d - m(m+1)/2`` edges.
    graph_type : {"ER", "SF"}, default="ER"
        ``"ER"``: Erdos-Renyi with a fixed number of edges, oriented along a
        random order. ``"SF"``: scale-free (Barabasi-Albert preferential
        attachment), each new node pointing to ``m`` earlier nodes.
    random_state : int, Generator or None

    Returns
    -------
    B : ndarray of int of shape (d, d)
        0/1 adjacency, ``B[i, j] = 1`` for the edge i -> j; always acyclic.

    Examples
    --------
    >>> from sparseopt.datasets import simulate_dag
    >>> B = simulate_dag(10, 20, "ER", random_state=0)
    >>> int(B.sum()), int(B.trace())
    (20, 0)
    """
    if not isinstance(d, numbers.Integral) or d < 1:
        raise ValueError(f"d must be a positive int, got {d!r}.")
    if not isinstance(n_edges, numbers.Integral) or n_edges < 0:
        raise ValueError(f"n_edges must be a non-negative int, got {n_edges!r}.")
    if n_edges > d * (d - 1) // 2:
        raise ValueError(f"n_edges={n_edges} exceeds d(d-1)/2 = {d * (d - 1) // 2}, the most "
                         f"edges a DAG on d={d} nodes can have.")
    rng = check_generator(random_state)
    B = np.zeros((d, d), dtype=np.int64)
    if graph_type == "ER":
        rows, cols = np.triu_indices(d, 1)
        k = min(int(n_edges), rows.size)
        chosen = rng.choice(rows.size, size=k, replace=False)
        B[rows[chosen], cols[chosen]] = 1
    elif graph_type == "SF":
        m = max(int(round(n_edges / d)), 1)
        degree = np.zeros(d)
        for new in range(1, d):
            k = min(m, new)
            # preferential attachment (+1 so that isolated nodes can be hit)
            weights = degree[:new] + 1.0
            targets = rng.choice(new, size=k, replace=False, p=weights / weights.sum())
            B[new, targets] = 1
            degree[targets] += 1
            degree[new] += k
    else:
        raise ValueError(f"graph_type must be 'ER' or 'SF', got {graph_type!r}.")
    perm = rng.permutation(d)
    return B[np.ix_(perm, perm)]


def simulate_parameter(B, w_ranges=((-2.0, -0.5), (0.5, 2.0)), random_state=None):
    """Edge weights drawn uniformly from the union of ``w_ranges`` on the support of B.

    Parameters
    ----------
    B : array-like of shape (d, d)
        0/1 adjacency.
    w_ranges : sequence of (low, high), default=((-2, -0.5), (0.5, 2))
        Each edge picks one range at random, then a uniform weight in it.
    random_state : int, Generator or None

    Returns
    -------
    W : ndarray of shape (d, d)

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.datasets import simulate_dag, simulate_parameter
    >>> W = simulate_parameter(simulate_dag(5, 4, random_state=0), random_state=0)
    >>> bool(np.all((np.abs(W[W != 0]) >= 0.5) & (np.abs(W[W != 0]) <= 2)))
    True
    """
    B = np.asarray(B) != 0
    rng = check_generator(random_state)
    ranges = np.asarray(w_ranges, dtype=np.float64)
    if ranges.ndim != 2 or ranges.shape[1] != 2 or np.any(ranges[:, 0] > ranges[:, 1]):
        raise ValueError(f"w_ranges must be a sequence of (low, high) pairs, got {w_ranges!r}.")
    which = rng.integers(0, len(ranges), size=B.shape)
    U = rng.uniform(size=B.shape)
    values = ranges[which, 0] + U * (ranges[which, 1] - ranges[which, 0])
    return np.where(B, values, 0.0)


def _draw_noise(rng, noise, n, scale):
    """Zero-mean noise with standard deviation ``scale`` (per column)."""
    d = scale.shape[0]
    if noise == "gauss":
        return rng.normal(0.0, 1.0, (n, d)) * scale
    if noise == "exp":
        return (rng.exponential(1.0, (n, d)) - 1.0) * scale
    if noise == "laplace":
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), (n, d)) * scale
    if noise == "gumbel":
        beta = np.sqrt(6.0) / np.pi
        return (rng.gumbel(0.0, beta, (n, d)) - beta * np.euler_gamma) * scale
    if noise == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), (n, d)) * scale
    raise ValueError(f"noise must be one of {_NOISES}, got {noise!r}.")


def simulate_linear_sem(W, n, noise="gauss", noise_scale=1.0, random_state=None):
    """Samples of the linear SEM ``X = X W + Z``.

    Parameters
    ----------
    W : array-like of shape (d, d)
        Weighted DAG adjacency (``W[i, j]``: weight of i -> j); must be acyclic.
    n : int
        Number of samples.
    noise : {"gauss", "exp", "laplace", "gumbel", "uniform"}, default="gauss"
        Noise family, centred and scaled so that its standard deviation is
        ``noise_scale`` (CoLiDE's convention; variance ``noise_scale**2``).
        Note: the DAGMA/NOTEARS utilities use the family's own scale
        parameter instead, so their Laplace/uniform noise has a different variance.
    noise_scale : float or array-like of shape (d,), default=1.0
        Noise standard deviation, shared (equal variance) or per node.
    random_state : int, Generator or None

    Returns
    -------
    X : ndarray of shape (n, d)

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.datasets import simulate_linear_sem
    >>> W = np.array([[0.0, 2.0], [0.0, 0.0]])
    >>> X = simulate_linear_sem(W, 20000, random_state=0)
    >>> np.round(np.var(X, axis=0), 1).tolist()
    [1.0, 5.0]
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}.")
    if not is_dag(W):
        raise ValueError("W must be the weighted adjacency of a DAG (it has a cycle).")
    if not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}.")
    d = W.shape[0]
    scale = np.broadcast_to(np.asarray(noise_scale, dtype=np.float64), (d,)).copy()
    if np.any(scale < 0) or not np.all(np.isfinite(scale)):
        raise ValueError("noise_scale must be finite and non-negative.")
    rng = check_generator(random_state)
    Z = _draw_noise(rng, noise, int(n), scale)
    # X = Z (I - W)^-1, solved rather than inverted
    return np.linalg.solve((np.eye(d) - W).T, Z.T).T


def make_linear_sem(d=20, n_edges=None, n=1000, *, graph_type="ER", noise="gauss",
                    noise_variance=1.0, w_ranges=((-2.0, -0.5), (0.5, 2.0)), random_state=None):
    """One call for the paper's set-ups: random DAG, weights, samples and the truth.

    Parameters
    ----------
    d : int, default=20
    n_edges : int, optional
        Default ``4 d`` (the "ER4"/"SF4" graphs of the CoLiDE paper), capped at
        ``d(d-1)/2`` (a complete DAG) for ``d < 9``; an explicit value above
        that cap raises.
    n : int, default=1000
    graph_type : {"ER", "SF"}, default="ER"
    noise : str, default="gauss"
        See :func:`simulate_linear_sem`.
    noise_variance : float, array-like of shape (d,) or "nv", default=1.0
        Noise variance per node; ``"nv"`` draws ``sigma_j^2 ~ U(0.5, 10)``
        (the paper's heteroscedastic setting).
    w_ranges : see :func:`simulate_parameter`.
    random_state : int, Generator or None

    Returns
    -------
    X : ndarray of shape (n, d)
    W_true : ndarray of shape (d, d)
    noise_std : ndarray of shape (d,)
        True noise standard deviations.

    References
    ----------
    .. [1] X. Zheng, B. Aragam, P. Ravikumar and E. P. Xing, "DAGs with NO TEARS: Continuous
       optimization for structure learning", NeurIPS 2018.
    .. [2] K. Bello, B. Aragam and P. Ravikumar, "DAGMA: Learning DAGs via M-matrices and a
       log-determinant acyclicity characterization", NeurIPS 2022.
    .. [3] S. S. Saboksayr, G. Mateos and M. Tepper, "CoLiDE: Concomitant linear DAG estimation",
       ICLR 2024.

    Examples
    --------
    >>> from sparseopt.datasets import make_linear_sem
    >>> X, W_true, noise_std = make_linear_sem(10, 20, 100, random_state=0)
    >>> X.shape, int((W_true != 0).sum()), float(noise_std[0])
    ((100, 10), 20, 1.0)
    """
    check_args("make_linear_sem", locals(), dict(
        d=POSITIVE_INT, n_edges=NON_NEGATIVE_INT + [None], n=POSITIVE_INT,
        random_state=RANDOM_STATE))
    rng = check_generator(random_state)
    n_edges = min(4 * d, d * (d - 1) // 2) if n_edges is None else n_edges
    B = simulate_dag(d, n_edges, graph_type, random_state=rng)
    W = simulate_parameter(B, w_ranges, random_state=rng)
    if isinstance(noise_variance, str):
        if noise_variance != "nv":
            raise ValueError("noise_variance must be a number, an array or 'nv', "
                             f"got {noise_variance!r}.")
        variance = rng.uniform(0.5, 10.0, d)
    else:
        variance = np.broadcast_to(np.asarray(noise_variance, dtype=np.float64), (d,)).copy()
    noise_std = np.sqrt(variance)
    X = simulate_linear_sem(W, n, noise, noise_std, random_state=rng)
    return X, W, noise_std
