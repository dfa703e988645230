"""The test problems of Nutini, Laradji & Schmidt (JMLR 2022), section 7 of the paper.

Each generator is seeded by ``random_state`` and returns a
:class:`sklearn.utils.Bunch` with the data, the ground truth (planted
coefficients or exact minimiser), ``f_star`` where it is known exactly, and
ready-made ``objective`` / ``penalty`` objects for
:class:`sparseopt.optimize.BlockCoordinateDescent`. Sizes default to the
paper's; pass smaller ones for fast experiments.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve
from sklearn.utils import Bunch

from ..utils._random import check_generator
from ._checks import (DENSITY, FRACTION, NON_NEGATIVE, POSITIVE, POSITIVE_INT, RANDOM_STATE,
                      Interval, check_args, check_at_most)

__all__ = ["make_bcd_least_squares", "make_bcd_logistic", "make_bcd_softmax",
           "make_bcd_lattice", "make_bcd_two_moons", "make_bcd_nonnegative_l1"]


def _design(rng, n, p, density):
    """A_ij = N(0,1) + 1, columns scaled by 10 N(0,1), entries kept w.p. ``density``."""
    if density is None:
        density = min(1.0, 10.0 * np.log(n) / n)
    A = rng.standard_normal((n, p)) + 1.0
    A *= 10.0 * rng.standard_normal(p)
    A *= rng.random((n, p)) < density
    return sp.csc_matrix(A)


def _planted(rng, p):
    return rng.standard_normal(p) * (rng.random(p) < 0.1)


def _least_squares_f_star(A, y):
    """Exact min 1/2 ||Ax - y||^2 through the range of A A^T (n x n eigendecomposition)."""
    M = (A @ A.T).toarray()
    evals, evecs = np.linalg.eigh(M)
    keep = evals > evals[-1] * A.shape[0] * np.finfo(float).eps
    proj = evecs[:, keep] @ (evecs[:, keep].T @ y)
    return 0.5 * float(np.sum((y - proj) ** 2)), int(keep.sum())


def make_bcd_least_squares(n_samples=1000, n_features=10000, *, density=None, random_state=None):
    """Problem A: sparse least squares ``1/2 ||A x - y||^2``.

    Parameters
    ----------
    n_samples, n_features : int
        Paper: 1000 x 10000.
    density : float, optional
        Probability of keeping an entry; paper ``10 log(n) / n``.
    random_state : int, Generator, RandomState or None

    Returns
    -------
    Bunch
        ``A`` (CSC), ``y``, ``x_true`` (planted, 10% non-zero), ``f_star``
        (exact optimal value; 0 when A has full row rank), ``rank``,
        ``objective``.

    Examples
    --------
    >>> from sparseopt.datasets import make_bcd_least_squares
    >>> prob = make_bcd_least_squares(50, 100, random_state=0)
    >>> prob.A.shape, prob.f_star < 1e-8
    ((50, 100), True)
    """
    check_args("make_bcd_least_squares", locals(), dict(
        n_samples=POSITIVE_INT, n_features=POSITIVE_INT, density=DENSITY + [None],
        random_state=RANDOM_STATE))
    from ..optimize import least_squares

    rng = check_generator(random_state)
    A = _design(rng, n_samples, n_features, density)
    x_true = _planted(rng, n_features)
    y = A @ x_true + rng.standard_normal(n_samples)
    f_star, rank = _least_squares_f_star(A, y)
    return Bunch(A=A, y=y, x_true=x_true, f_star=f_star, rank=rank,
                 objective=least_squares(A, y), name="A")


def make_bcd_logistic(n_samples=1000, n_features=10000, *, density=None, flip=0.1,
                      random_state=None):
    """Problem B: logistic loss on problem A's design, labels ``sign(A x*)`` flipped w.p. 0.1.

    Returns
    -------
    Bunch
        ``A``, ``y`` (in {-1, +1}), ``x_true``, ``f_star`` (0.0 when A has
        full row rank: the data are then separable and the infimum 0 is not
        attained; ``None`` otherwise), ``objective``.

    Examples
    --------
    >>> from sparseopt.datasets import make_bcd_logistic
    >>> prob = make_bcd_logistic(40, 80, random_state=0)
    >>> sorted(set(prob.y.tolist()))
    [-1.0, 1.0]
    """
    check_args("make_bcd_logistic", locals(), dict(
        n_samples=POSITIVE_INT, n_features=POSITIVE_INT, density=DENSITY + [None],
        flip=FRACTION, random_state=RANDOM_STATE))
    from ..optimize import logistic

    rng = check_generator(random_state)
    A = _design(rng, n_samples, n_features, density)
    x_true = _planted(rng, n_features)
    y = np.sign(A @ x_true)
    y[y == 0] = 1.0
    y[rng.random(n_samples) < flip] *= -1.0
    _, rank = _least_squares_f_star(A, y)
    f_star = 0.0 if rank == n_samples else None
    return Bunch(A=A, y=y, x_true=x_true, f_star=f_star, rank=rank,
                 objective=logistic(A, y), name="B")


def make_bcd_softmax(n_samples=1000, n_features=1000, n_classes=50, *, density=None,
                     random_state=None):
    """Problem C: multinomial logistic, labels ``argmax(A W* + N(0,1))``.

    Returns
    -------
    Bunch
        ``A``, ``labels``, ``W_true`` (p x K), ``n_classes``, ``f_star`` (0.0
        when A has full row rank: separable, infimum not attained; else
        ``None``), ``objective`` (coordinates ``j * K + k``).

    Examples
    --------
    >>> from sparseopt.datasets import make_bcd_softmax
    >>> prob = make_bcd_softmax(30, 20, 4, random_state=0)
    >>> prob.objective.n_coords
    80
    """
    check_args("make_bcd_softmax", locals(), dict(
        n_samples=POSITIVE_INT, n_features=POSITIVE_INT,
        n_classes=[Interval(numbers.Integral, 2, None, closed="left")],
        density=DENSITY + [None], random_state=RANDOM_STATE))
    from ..optimize import softmax_regression

    rng = check_generator(random_state)
    A = _design(rng, n_samples, n_features, density)
    W_true = rng.standard_normal((n_features, n_classes))
    labels = np.argmax(A @ W_true + rng.standard_normal((n_samples, n_classes)), axis=1)
    _, rank = _least_squares_f_star(A, np.ones(n_samples))
    f_star = 0.0 if rank == n_samples else None
    return Bunch(A=A, labels=labels, W_true=W_true, n_classes=n_classes, f_star=f_star,
                 rank=rank, objective=softmax_regression(A, labels, n_classes), name="C")


def _label_propagation_system(W, labelled, y_labelled, ridge):
    """Q = L_uu + ridge I and c = W_ul y_l: minimising 1/2 x^T Q x - c^T x is
    1/2 sum_ij w_ij (x_i - x_j)^2 over the unlabelled x with the labels fixed."""
    n = W.shape[0]
    unlabelled = np.setdiff1d(np.arange(n), labelled)
    degree = np.asarray(W.sum(axis=1)).ravel()
    L = sp.diags(degree) - W
    L = sp.csr_matrix(L)
    Q = L[unlabelled][:, unlabelled] + ridge * sp.eye(unlabelled.size)
    Q = sp.csr_matrix(Q)
    Q.eliminate_zeros()
    c = np.asarray(W[unlabelled][:, labelled] @ y_labelled).ravel()
    x_star = spsolve(sp.csc_matrix(Q), c)
    f_star = -0.5 * float(c @ x_star)  # 1/2 x*^T Q x* - c^T x* at Q x* = c
    return Q, c, unlabelled, x_star, f_star


def make_bcd_lattice(side=50, n_labelled=100, *, weight=1e5, label_scale=10.0, ridge=1.0,
                     random_state=None):
    """Problem D: label propagation on a ``side x side`` lattice.

    Edge weights are 0 or ``weight`` (each with probability 1/2), the
    ``n_labelled`` labels are N(0, label_scale^2) (paper: N(0, 100)). A ridge
    ``ridge * I`` (default 1, negligible against the 1e5 weights) keeps the
    system SPD when zero weights cut unlabelled nodes off every label; the
    paper does not say how it handles those nodes.

    Returns
    -------
    Bunch
        ``Q`` (SPD, size side^2 - n_labelled), ``c``, ``x_star`` (exact
        minimiser by a sparse direct solve), ``f_star``, ``W`` (weights),
        ``labelled``, ``unlabelled``, ``y_labelled``, ``objective``.

    Examples
    --------
    >>> from sparseopt.datasets import make_bcd_lattice
    >>> prob = make_bcd_lattice(10, 10, random_state=0)
    >>> prob.Q.shape
    (90, 90)
    """
    check_args("make_bcd_lattice", locals(), dict(
        side=[Interval(numbers.Integral, 2, None, closed="left")], n_labelled=POSITIVE_INT,
        weight=POSITIVE, label_scale=NON_NEGATIVE, ridge=NON_NEGATIVE,
        random_state=RANDOM_STATE))
    check_at_most("make_bcd_lattice", "n_labelled", n_labelled, "side**2 - 1", side * side - 1)
    from ..optimize import graph_quadratic

    rng = check_generator(random_state)
    n = side * side
    idx = np.arange(n).reshape(side, side)
    rows = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    cols = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    w = weight * (rng.random(rows.size) < 0.5)
    W = sp.coo_matrix((np.concatenate([w, w]), (np.concatenate([rows, cols]),
                                                  np.concatenate([cols, rows]))), shape=(n, n))
    W = sp.csr_matrix(W)
    W.eliminate_zeros()
    labelled = np.sort(rng.choice(n, n_labelled, replace=False))
    y_labelled = label_scale * rng.standard_normal(n_labelled)
    Q, c, unlabelled, x_star, f_star = _label_propagation_system(W, labelled, y_labelled, ridge)
    return Bunch(Q=Q, c=c, x_star=x_star, f_star=f_star, W=W, labelled=labelled,
                 unlabelled=unlabelled, y_labelled=y_labelled,
                 objective=graph_quadratic(Q, c), name="D")


def make_bcd_two_moons(n_samples=2000, n_labelled=100, n_neighbors=5, *, noise=0.1,
                       ridge=None, random_state=None):
    """Problem E: label propagation on a symmetrised k-NN graph of two moons.

    Unit weights, labels +-1 on ``n_labelled`` random points. When some
    unlabelled connected component has no labelled node the system is only
    PSD; ``ridge`` (default: 1e-6 in that case, 0 otherwise) makes it SPD.

    Returns
    -------
    Bunch
        ``X``, ``classes`` (true moon of every point), ``Q``, ``c``,
        ``x_star``, ``f_star``, ``W``, ``labelled``, ``unlabelled``,
        ``y_labelled``, ``objective``.

    Examples
    --------
    >>> from sparseopt.datasets import make_bcd_two_moons
    >>> prob = make_bcd_two_moons(200, 20, random_state=0)
    >>> prob.Q.shape
    (180, 180)
    """
    check_args("make_bcd_two_moons", locals(), dict(
        n_samples=[Interval(numbers.Integral, 3, None, closed="left")], n_labelled=POSITIVE_INT,
        n_neighbors=POSITIVE_INT, noise=NON_NEGATIVE, ridge=NON_NEGATIVE + [None],
        random_state=RANDOM_STATE))
    check_at_most("make_bcd_two_moons", "n_labelled", n_labelled, "n_samples - 1", n_samples - 1)
    check_at_most("make_bcd_two_moons", "n_neighbors", n_neighbors, "n_samples - 1",
                  n_samples - 1)
    from sklearn.datasets import make_moons
    from sklearn.neighbors import kneighbors_graph

    from ..optimize import graph_quadratic

    rng = check_generator(random_state)
    X, classes = make_moons(n_samples, noise=noise, random_state=int(rng.integers(2**31 - 1)))
    W = kneighbors_graph(X, n_neighbors, mode="connectivity", include_self=False)
    W = sp.csr_matrix(((W + W.T) > 0).astype(float))
    labelled = np.sort(rng.choice(n_samples, n_labelled, replace=False))
    y_labelled = 2.0 * classes[labelled] - 1.0
    if ridge is None:
        n_comp, comp = connected_components(W, directed=False)
        ridge = 0.0 if set(range(n_comp)) <= set(comp[labelled].tolist()) else 1e-6
    Q, c, unlabelled, x_star, f_star = _label_propagation_system(W, labelled, y_labelled, ridge)
    return Bunch(X=X, classes=classes, Q=Q, c=c, x_star=x_star, f_star=f_star, W=W,
                 labelled=labelled, unlabelled=unlabelled, y_labelled=y_labelled,
                 objective=graph_quadratic(Q, c), name="E")


def make_bcd_nonnegative_l1(n_samples=1000, n_features=10000, *, alpha=5e4,
                            alpha_fraction=None, density=None, random_state=None):
    """Problem L1: problem A with ``x >= 0`` and ``alpha ||x||_1`` (paper alpha = 5e4).

    ``F(x) = 1/2 ||A x - y||^2 + alpha sum(x)`` over ``x >= 0``. On the paper's
    size alpha = 5e4 is about 0.21 ``alpha_max = max(A^T y)`` (above which the
    solution is 0); scaled-down problems should pass ``alpha_fraction``
    (``alpha = alpha_fraction * alpha_max``) instead. No closed-form
    ``f_star``: compute one with a long run (the benchmark uses the
    working-set CD solver with ``positive=True`` as an independent reference).

    Returns
    -------
    Bunch
        ``A``, ``y``, ``x_true``, ``alpha``, ``alpha_max``, ``f_star`` (None),
        ``objective``, ``penalty``.

    Examples
    --------
    >>> from sparseopt.datasets import make_bcd_nonnegative_l1
    >>> prob = make_bcd_nonnegative_l1(30, 60, random_state=0)
    >>> prob.penalty.alpha
    50000.0
    """
    check_args("make_bcd_nonnegative_l1", locals(), dict(
        n_samples=POSITIVE_INT, n_features=POSITIVE_INT, alpha=NON_NEGATIVE,
        alpha_fraction=NON_NEGATIVE + [None], density=DENSITY + [None],
        random_state=RANDOM_STATE))
    from ..optimize import least_squares, nonnegative_l1

    rng = check_generator(random_state)
    A = _design(rng, n_samples, n_features, density)
    x_true = _planted(rng, n_features)
    y = A @ x_true + rng.standard_normal(n_samples)
    alpha_max = float(max((A.T @ y).max(), 0.0))
    if alpha_fraction is not None:
        alpha = alpha_fraction * alpha_max
    return Bunch(A=A, y=y, x_true=x_true, alpha=float(alpha), alpha_max=alpha_max, f_star=None,
                 objective=least_squares(A, y), penalty=nonnegative_l1(alpha), name="L1")
