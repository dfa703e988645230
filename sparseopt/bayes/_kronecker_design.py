"""A Kronecker-structured design matrix ``A_1 kron ... kron A_I`` that is never formed."""
from __future__ import annotations

from functools import reduce

import numpy as np

import array_api_compat.numpy as np_compat

from ..utils._array_api import to_numpy

__all__ = ["KroneckerDesign"]


def _is_complex(xp, a):
    return xp.isdtype(a.dtype, "complex floating")


def conj_transpose(xp, a):
    """``a^H`` of a 2-D array (``a.T`` for real dtypes)."""
    return xp.conj(a).T if _is_complex(xp, a) else a.T


def real_part(xp, a):
    """Real part (``a`` itself for real dtypes)."""
    return xp.real(a) if _is_complex(xp, a) else a


def abs_squared(xp, a):
    """``|a|**2`` entrywise, real-valued."""
    if _is_complex(xp, a):
        return xp.real(a) ** 2 + xp.imag(a) ** 2
    return a * a


def mode_product(xp, tensor, matrix, mode):
    """Multiply ``tensor`` by ``matrix`` along axis ``mode`` (``tensor x_mode matrix``)."""
    out = xp.tensordot(matrix, tensor, axes=([1], [mode]))
    return xp.moveaxis(out, 0, mode)


def multi_mode_product(xp, tensor, matrices):
    """Mode products with every matrix in turn (mode ``i`` by ``matrices[i]``).

    ``tensor`` has shape ``(n_1, ..., n_I, *rest)``; trailing axes (several
    measurement vectors) are left alone. With ``x`` the C-order ravel of the
    leading axes this computes ``(M_1 kron ... kron M_I) x``.
    """
    for mode, matrix in enumerate(matrices):
        tensor = mode_product(xp, tensor, matrix, mode)
    return tensor


def _native_namespace(factors):
    """Namespace and device of the factors themselves (NumPy for NumPy arrays and lists).

    The design keeps its factors where they live; an estimator's ``fit``
    converts it to NumPy when scikit-learn's ``array_api_dispatch`` is off.
    """
    import array_api_compat

    arrays = [f for f in factors if array_api_compat.is_array_api_obj(f)
              and not isinstance(f, np.ndarray)]
    if not arrays:
        return np_compat, False, "cpu"
    try:
        xp = array_api_compat.array_namespace(*arrays)
    except TypeError as exc:
        raise ValueError("KroneckerDesign: the factors use different array namespaces; pass "
                         "arrays from one library.") from exc
    devices = {str(array_api_compat.device(a)) for a in arrays}
    if len(devices) > 1 or len(arrays) != len(factors):
        raise ValueError("KroneckerDesign: the factors must share one array namespace and "
                         f"device, got devices {sorted(devices)} and "
                         f"{len(factors) - len(arrays)} NumPy/list factor(s).")
    return xp, True, array_api_compat.device(arrays[0])


class KroneckerDesign:
    """Implicit operator for the Kronecker-product design ``kron(A_1, A_2, ..., A_I)``.

    ``KroneckerDesign(A1, A2)`` acts exactly as ``np.kron(A1, A2)``: row-major
    (C order) convention, so with ``x`` of length ``n_1 n_2`` and
    ``X = x.reshape(n_1, n_2)``, ``A @ x == (A1 @ X @ A2.T).ravel()``. The
    product is computed by one mode product per factor; the
    ``prod(m_i) x prod(n_i)`` matrix is never formed (except by
    :meth:`toarray`, meant for small checks).

    Pass it as ``X`` to :class:`KroneckerSBL` (its E-step then works on the
    factors only) or to ``predict``.

    Parameters
    ----------
    *factors : array-like of shape (m_i, n_i)
        Real or complex factors, all of one array namespace (NumPy, torch,
        array-api-strict, ...). At least one.

    Attributes
    ----------
    factors : tuple of arrays
        The validated factors (NumPy arrays for NumPy-like input).
    shape : tuple of int
        ``(prod(m_i), prod(n_i))``.
    support_shape : tuple of int
        ``(n_1, ..., n_I)``: the coefficient tensor shape.
    measurement_shape : tuple of int
        ``(m_1, ..., m_I)``.
    dtype : dtype
        Common (promoted) dtype of the factors.

    References
    ----------
    Y. He and G. Joseph, "Bayesian algorithms for Kronecker-structured sparse
    vector recovery with application to IRS-MIMO channel estimation", IEEE
    Trans. Signal Process., 2024 (arXiv:2307.14719).

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.bayes import KroneckerDesign
    >>> rng = np.random.default_rng(0)
    >>> A1, A2 = rng.standard_normal((3, 4)), rng.standard_normal((2, 5))
    >>> A = KroneckerDesign(A1, A2)
    >>> A.shape, A.support_shape
    ((6, 20), (4, 5))
    >>> x = rng.standard_normal(20)
    >>> bool(np.allclose(A @ x, np.kron(A1, A2) @ x))
    True
    >>> y = rng.standard_normal(6)
    >>> bool(np.allclose(A.rmatvec(y), np.kron(A1, A2).T @ y))
    True
    """

    def __init__(self, *factors):
        if len(factors) == 1 and isinstance(factors[0], (list, tuple)):
            factors = tuple(factors[0])
        if not factors:
            raise ValueError("KroneckerDesign needs at least one factor matrix.")
        xp, is_api, device = _native_namespace(factors)
        checked = []
        for i, f in enumerate(factors):
            if not is_api:
                f = np.asarray(f)
                if f.dtype == object or not (np.issubdtype(f.dtype, np.number)
                                              or f.dtype == bool):
                    raise TypeError(f"KroneckerDesign: factor {i} must be numeric, got dtype "
                                    f"{f.dtype}.")
                if not np.issubdtype(f.dtype, np.inexact):
                    f = f.astype(np.float64)
            else:
                if not xp.isdtype(f.dtype, ("real floating", "complex floating")):
                    f = xp.astype(f, xp.float64)
            if f.ndim != 2:
                raise ValueError(f"KroneckerDesign: factor {i} must be a 2-D array, got "
                                 f"{f.ndim}-D with shape {tuple(f.shape)}.")
            if f.shape[0] == 0 or f.shape[1] == 0:
                raise ValueError(f"KroneckerDesign: factor {i} is empty (shape "
                                 f"{tuple(f.shape)}); every factor needs at least one row "
                                 "and one column.")
            if not bool(xp.all(xp.isfinite(f))):
                raise ValueError(f"KroneckerDesign: factor {i} contains NaN or inf.")
            checked.append(f)
        dtype = xp.result_type(*checked)
        self.factors = tuple(xp.astype(f, dtype) if f.dtype != dtype else f for f in checked)
        self.dtype = dtype
        self.measurement_shape = tuple(int(f.shape[0]) for f in self.factors)
        self.support_shape = tuple(int(f.shape[1]) for f in self.factors)
        self.shape = (int(np.prod(self.measurement_shape)), int(np.prod(self.support_shape)))
        self._xp, self._is_api, self._device = xp, is_api, device

    ndim = 2

    @property
    def is_complex(self):
        """Whether the factors are complex."""
        return _is_complex(self._xp, self.factors[0])

    def __repr__(self):
        dims = " kron ".join(f"{m}x{n}" for m, n in zip(self.measurement_shape,
                                                        self.support_shape))
        return f"KroneckerDesign({dims})"

    def _apply(self, x, matrices, n_in, n_out, name):
        xp = self._xp
        if not self._is_api:
            x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[0] != int(np.prod(n_in)):
            raise ValueError(f"KroneckerDesign.{name}: expected an array of shape "
                             f"({int(np.prod(n_in))},) or ({int(np.prod(n_in))}, k), got "
                             f"{tuple(x.shape)}.")
        rest = tuple(x.shape[1:])
        tensor = xp.reshape(x, tuple(n_in) + rest)
        out = multi_mode_product(xp, tensor, matrices)
        return xp.reshape(out, (int(np.prod(n_out)),) + rest)

    def matvec(self, x):
        """``A @ x`` for ``x`` of shape ``(N,)`` or ``(N, k)``."""
        return self._apply(x, self.factors, self.support_shape, self.measurement_shape,
                           "matvec")

    def rmatvec(self, y):
        """``A^H @ y`` (conjugate transpose) for ``y`` of shape ``(M,)`` or ``(M, k)``."""
        xp = self._xp
        adjoints = [conj_transpose(xp, f) for f in self.factors]
        return self._apply(y, adjoints, self.measurement_shape, self.support_shape, "rmatvec")

    def __matmul__(self, x):
        return self.matvec(x)

    def frobenius_norm_squared(self):
        """``||A||_F^2 = prod_i ||A_i||_F^2``."""
        xp = self._xp
        return float(reduce(lambda a, b: a * b,
                            [float(xp.sum(abs_squared(xp, f))) for f in self.factors]))

    def to_numpy(self):
        """The same design with NumPy factors (explicit host copy)."""
        return KroneckerDesign(*[to_numpy(f) for f in self.factors])

    def toarray(self):
        """The dense matrix ``np.kron(A_1, ..., A_I)`` as a NumPy array (small problems only)."""
        return reduce(np.kron, [to_numpy(f) for f in self.factors])
