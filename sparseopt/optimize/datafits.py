"""Datafits for sparse regression: least squares and the logistic loss.

A datafit is ``f(w) = F(y, Xw)``, the data term of ``min_w f(w) + p(w)`` with
``p`` a penalty of :mod:`sparseopt.optimize.penalties`.

Scaling convention
------------------
Every datafit here is a *mean* over samples, ``F(y, z) = (1 / n) sum_i
loss(y_i, z_i)`` (scikit-learn's ``Lasso`` and skglm's [1]_ scale), and penalties are
never scaled: ``alpha`` means the same whatever ``n_samples``. A solver whose
objective is a plain *sum* over samples (block coordinate descent, see
:mod:`sparseopt.optimize.bcd`) solves the same problem multiplied by
``datafit.sum_factor(n_samples)`` (``n``): the datafit becomes the sum and the
penalty strengths ``n alpha``.

The datafit protocol
--------------------
What :func:`~sparseopt.optimize.working_set_cd` and
:func:`~sparseopt.optimize.prox_gradient` call, checked on entry by
:func:`check_datafit` (a ``TypeError`` names the first missing method):

* ``value(y, Xw)`` -- the datafit at ``w``;
* ``raw_gradient(y, Xw)`` -- its derivative with respect to ``Xw``, so that
  ``grad f(w) = X^T raw_gradient(y, Xw)``;
* ``lipschitz(col_sq_norms, n)`` -- the coordinatewise Lipschitz constants
  ``L_j`` of ``grad f`` from ``||x_j||^2``;
* ``global_lipschitz(spectral_sq, n)`` -- the Lipschitz constant of
  ``grad f`` from ``||X||_2^2``;
* ``sum_factor(n)`` -- the factor turning the datafit into a sum over samples
  (read by the block coordinate descent adapter only).

Coordinate descent runs the compiled kernels of :class:`Quadratic` and
:class:`Logistic` (and their subclasses); any other datafit with the protocol is
solved by proximal gradient.

References
----------
.. [1] Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias,
   "Beyond L1: Faster and Better Sparse Models with skglm", NeurIPS, 2022.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Quadratic", "Logistic", "DATAFITS", "check_datafit"]

PROTOCOL = ("value", "raw_gradient", "lipschitz", "global_lipschitz")


def check_datafit(datafit, owner="working_set_cd"):
    """Raise a ``TypeError`` naming the first method of the protocol ``datafit`` lacks.

    Parameters
    ----------
    datafit : object
        The datafit to check.
    owner : str
        Name of the caller, for the message.

    Returns
    -------
    datafit : object
        The same object.

    Examples
    --------
    >>> from sparseopt.optimize.datafits import Quadratic, check_datafit
    >>> check_datafit(Quadratic())
    Quadratic()
    >>> check_datafit("quadratic")
    Traceback (most recent call last):
    ...
    TypeError: working_set_cd: datafit must be a datafit object (e.g. Quadratic()), got 'quadratic'.
    """
    if isinstance(datafit, (str, type)):
        raise TypeError(f"{owner}: datafit must be a datafit object (e.g. Quadratic()), got "
                        f"{datafit!r}.")
    for member in PROTOCOL:
        if not callable(getattr(datafit, member, None)):
            raise TypeError(f"{owner}: the datafit {type(datafit).__name__} lacks the method "
                            f"`{member}` (see sparseopt.optimize.datafits for the protocol).")
    return datafit


class _MeanDatafit:
    """The shared 1/n scaling (see the module docstring)."""

    def sum_factor(self, n_samples):
        """``n_samples``: the objective times this factor is the sum over samples."""
        return float(n_samples)


class Quadratic(_MeanDatafit):
    """Least squares ``(1 / 2n) ||y - Xw||^2``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize.datafits import Quadratic
    >>> Quadratic().value(np.array([1.0, 1.0]), np.array([0.0, 1.0]))
    0.25
    """

    name = "quadratic"
    curvature = 1.0

    def __repr__(self):
        return "Quadratic()"

    def value(self, y, Xw):
        r = y - Xw
        return float(r @ r) / (2 * y.shape[0])

    def raw_gradient(self, y, Xw):
        return (Xw - y) / y.shape[0]

    def lipschitz(self, col_sq_norms, n):
        return col_sq_norms / n

    def global_lipschitz(self, spectral_sq, n):
        return spectral_sq / n


class Logistic(_MeanDatafit):
    """Logistic loss ``(1/n) sum_i s_i log(1 + exp(-y_i x_i^T w))``, ``y`` in {-1, 1}.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), optional
        The weights ``s`` (default 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.optimize.datafits import Logistic
    >>> round(Logistic().value(np.array([1.0, -1.0]), np.zeros(2)), 6)  # log 2
    0.693147
    """

    name = "logistic"
    curvature = 0.25

    def __init__(self, sample_weight=None):
        self.sample_weight = sample_weight

    def __repr__(self):
        if self.sample_weight is None:
            return "Logistic()"
        return f"Logistic(sample_weight={np.asarray(self.sample_weight).tolist()!r})"

    def weights(self, n, dtype=np.float64):
        if self.sample_weight is None:
            return np.ones(n, dtype)
        return np.ascontiguousarray(self.sample_weight, dtype=dtype)

    def value(self, y, Xw):
        return float(np.mean(self.weights(y.shape[0]) * np.logaddexp(0.0, -y * Xw)))

    def raw_gradient(self, y, Xw):
        # -s y / (1 + exp(y Xw)) / n, written with logaddexp to avoid overflow
        return -self.weights(y.shape[0]) * y * np.exp(-np.logaddexp(0.0, y * Xw)) / y.shape[0]

    def lipschitz(self, col_sq_norms, n):
        # col_sq_norms are already weighted when sample weights are used (see the design)
        return col_sq_norms / (4 * n)

    def global_lipschitz(self, spectral_sq, n):
        s_max = 1.0 if self.sample_weight is None else float(np.max(self.sample_weight))
        return s_max * spectral_sq / (4 * n)


DATAFITS = {"quadratic": Quadratic, "logistic": Logistic}
