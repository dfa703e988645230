"""Label propagation on a graph Laplacian, solved by block coordinate descent.

The harmonic solution (Zhu, Ghahramani & Lafferty 2003) minimises, for each
class k, ``1/2 sum_ij w_ij (f_i - f_j)^2`` over the unlabelled nodes with the
labelled nodes fixed to the one-hot labels. This is the quadratic
``1/2 f^T Q f - c^T f`` with ``Q = L_uu + ridge I`` and ``c = W_ul Y_l``
(the paper's problems D and E), solved by
:class:`sparseopt.optimize.BlockCoordinateDescent`, by default with greedy
forest blocks and exact message-passing updates (Nutini et al. 2022, sec. 5).
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import gen_batches
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..optimize import BlockCoordinateDescent, graph_quadratic
from ..utils.validation import (
    Interval,
    StrOptions,
    check_finite_result,
    check_X,
    check_X_y,
    validate_params,
    warn_not_converged,
)

__all__ = ["LabelPropagation"]


# entries of the dense RBF block built at a time by predict_proba (2**20 floats = 8 MiB)
_RBF_BLOCK_ENTRIES = 2**20

class LabelPropagation(ClassifierMixin, BaseEstimator):
    """Semi-supervised classification by the harmonic function on a graph, solved by BCD.

    Unlabelled samples carry the label ``-1`` in ``y`` (scikit-learn's
    convention). For each class the unlabelled scores minimise the graph
    Laplacian quadratic ``1/2 sum_ij w_ij (f_i - f_j)^2 + ridge/2 ||f_u||^2``
    with the labelled scores fixed to the one-hot labels.

    Parameters
    ----------
    kernel : {"knn", "rbf"}, default="knn"
        Graph weights: symmetrised ``n_neighbors``-nearest-neighbour
        connectivity (sparse) or ``exp(-gamma ||x_i - x_j||^2)`` (dense).
    n_neighbors : int, default=7
        Neighbours of the k-NN graph (and of ``predict`` for new points).
    gamma : float, default=20.0
        RBF kernel width.
    ridge : float, default=1e-8
        Added to the diagonal so that nodes cut off from every label keep a
        well-posed (SPD) system; their scores are then 0 and their label
        distribution uniform.
    selection : str, default="cyclic"
        BCD selection rule (see :class:`~sparseopt.optimize.BlockCoordinateDescent`).
        ``"greedy_tree"`` (with ``partition="variable"``) needs fewer iterations
        but each one sorts the nodes; cycling over a fixed forest cover was
        the fastest in seconds on the two-moons problem (doc/modules/bcd.rst).
    update : str, default="message_passing"
        BCD update rule; message passing needs forest blocks
        (``partition="forest"``/``"red_black"`` or a tree selection).
    partition : str, default="forest"
        BCD partition: a cover of the graph by maximal forests.
    block_size : int or None, default=None
        BCD block size; None means all unlabelled nodes (maximal forests).
    max_iter : int, default=5000
        Maximum BCD iterations per class.
    tol : float, default=1e-7
        BCD tolerance on the gradient residual (scores lie in [0, 1]).
    random_state : int, RandomState instance or None, default=None
        Seeds the random selection rules.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    label_distributions_ : ndarray of shape (n_samples, n_classes)
        Normalised class scores of every training sample.
    transduction_ : ndarray of shape (n_samples,)
        Label assigned to every training sample.
    n_iter_ : int
        Largest number of BCD iterations over the classes.
    converged_ : bool
        Whether every class's BCD run reached ``tol``.
    n_features_in_ : int

    See Also
    --------
    sklearn.semi_supervised.LabelPropagation : the same harmonic solution by
        iterating the propagation matrix.
    sparseopt.optimize.BlockCoordinateDescent : the solver.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.semi_supervised import LabelPropagation
    >>> X = np.r_[np.linspace(0, 1, 10), np.linspace(5, 6, 10)][:, None]
    >>> y = np.full(20, -1); y[0] = 0; y[19] = 1
    >>> LabelPropagation(n_neighbors=3).fit(X, y).transduction_.tolist() == [0] * 10 + [1] * 10
    True
    """

    _parameter_constraints = {
        "kernel": [StrOptions({"knn", "rbf"})],
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "gamma": [Interval(numbers.Real, 0, None, closed="neither")],
        "ridge": [Interval(numbers.Real, 0, None, closed="left")],
        "selection": [str],
        "update": [str],
        "partition": [str],
        "block_size": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, kernel="knn", *, n_neighbors=7, gamma=20.0, ridge=1e-8,
                 selection="cyclic", update="message_passing", partition="forest",
                 block_size=None, max_iter=5000, tol=1e-7, random_state=None, verbose=0):
        self.kernel = kernel
        self.n_neighbors = n_neighbors
        self.gamma = gamma
        self.ridge = ridge
        self.selection = selection
        self.update = update
        self.partition = partition
        self.block_size = block_size
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    _expected_failed_checks = {
        "check_non_transformer_estimators_n_iter": (
            "The check fits fully labelled data (iris), which leaves no unlabelled node and "
            "hence no block coordinate descent iteration, so n_iter_ is truthfully 0."),
    }

    @classmethod
    def _test_data(cls, random_state):
        rng = np.random.default_rng(random_state)
        X = np.r_[rng.standard_normal((20, 2)) + 4.0, rng.standard_normal((20, 2)) - 4.0]
        y = np.r_[np.zeros(20, dtype=int), np.ones(20, dtype=int)]
        y[rng.permutation(40)[:15]] = -1  # unlabelled
        return X, y

    # ------------------------------------------------------------------ graph
    def _weights(self, X):
        n = X.shape[0]
        if self.kernel == "rbf":
            W = rbf_kernel(X, X, gamma=self.gamma)
            np.fill_diagonal(W, 0.0)
            return sp.csr_matrix(W)
        k = min(self.n_neighbors, n - 1)
        if k < 1:
            return sp.csr_matrix((n, n))
        nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
        G = nn.kneighbors_graph(X, mode="connectivity")
        G.setdiag(0.0)
        G.eliminate_zeros()
        return sp.csr_matrix(((G + G.T) > 0).astype(np.float64))

    def fit(self, X, y):
        """Propagate the labels of ``y`` (``-1`` = unlabelled) over the graph of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks unlabelled samples (numeric labels only).

        Returns
        -------
        self : object
        """
        validate_params(self)
        X, y = check_X_y(self, X, y, accept_sparse=("csr", "csc"), y_numeric=False)
        check_classification_targets(y)
        y = np.asarray(y)
        if y.dtype.kind in "iuf":
            labelled = y != -1
        else:
            labelled = np.ones(y.shape[0], dtype=bool)
        if not labelled.any():
            raise ValueError("LabelPropagation needs at least one labelled sample "
                             "(y != -1); all labels are -1.")
        self.classes_, codes = np.unique(y[labelled], return_inverse=True)
        n, K = X.shape[0], self.classes_.size
        X64 = X.astype(np.float64) if not sp.issparse(X) else sp.csr_matrix(X, dtype=np.float64)
        W = self._weights(X64)
        lab = np.flatnonzero(labelled)
        unl = np.flatnonzero(~labelled)
        Y_l = np.zeros((lab.size, K))
        Y_l[np.arange(lab.size), codes] = 1.0
        F = np.zeros((n, K))
        F[lab] = Y_l
        n_iter, converged = 0, True
        if unl.size:
            degree = np.asarray(W.sum(axis=1)).ravel()
            Q = sp.csr_matrix(sp.diags(degree[unl] + self.ridge) - W[unl][:, unl])
            C = np.asarray(W[unl][:, lab] @ Y_l)
            if self.ridge == 0:
                Q = Q + sp.diags(np.where(degree[unl] == 0, 1.0, 0.0))  # isolated nodes
            solver = BlockCoordinateDescent(
                partition=self.partition, selection=self.selection, update=self.update,
                block_size=self.block_size or unl.size, max_iter=self.max_iter, tol=self.tol,
                random_state=self.random_state, verbose=self.verbose, record_every=self.max_iter)
            objective = graph_quadratic(Q, C[:, 0])
            worst = 0.0
            for k in range(K):
                objective.c = np.ascontiguousarray(C[:, k])
                res = solver.solve(objective)
                F[unl, k] = res.x
                n_iter = max(n_iter, res.n_iter)
                converged &= res.converged
                worst = max(worst, res.certificate)
            if not converged:
                warn_not_converged(type(self).__name__, n_iter=n_iter, certificate=worst,
                                   tol=self.tol, certificate_name="gradient residual")
        totals = F.sum(axis=1, keepdims=True)
        dist = np.where(totals > 0, F / np.where(totals > 0, totals, 1.0), 1.0 / K)
        check_finite_result(type(self).__name__, dist)
        self.label_distributions_ = dist
        self.transduction_ = self.classes_[np.argmax(dist, axis=1)]
        self.X_fit_ = X64
        self.n_iter_ = int(n_iter)
        self.converged_ = bool(converged)
        return self

    def predict_proba(self, X):
        """Class probabilities of new samples: kernel-weighted label distributions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "label_distributions_")
        X = check_X(self, X, reset=False, accept_sparse=("csr", "csc"))
        X = X.astype(np.float64) if not sp.issparse(X) else sp.csr_matrix(X, dtype=np.float64)
        if self.kernel == "rbf":
            # the RBF kernel is dense: build it a block of rows at a time so that memory
            # stays O(block * n_fit) instead of O(n_test * n_fit)
            n_fit = self.X_fit_.shape[0]
            block = max(1, _RBF_BLOCK_ENTRIES // max(n_fit, 1))
            proba = np.vstack([
                rbf_kernel(X[rows], self.X_fit_, gamma=self.gamma) @ self.label_distributions_
                for rows in gen_batches(X.shape[0], block)])
        else:
            k = min(self.n_neighbors, self.X_fit_.shape[0])
            nn = NearestNeighbors(n_neighbors=k).fit(self.X_fit_)
            # sparse n_test x n_fit graph with k entries per row (never densified)
            weights = nn.kneighbors_graph(X, mode="connectivity")
            proba = np.asarray(weights @ self.label_distributions_)
        totals = proba.sum(axis=1, keepdims=True)
        K = self.classes_.size
        return np.where(totals > 0, proba / np.where(totals > 0, totals, 1.0), 1.0 / K)

    def predict(self, X):
        """Most probable class of new samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
