"""Kronecker-structured sparse recovery (``../shared/specs/kronecker_sbl.md`` section 10)."""
import numbers
from functools import reduce

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import Interval, validate_params

__all__ = ["make_kronecker_sparse_recovery", "kronecker_matvec"]


def kronecker_matvec(factors, x):
    """Multiply by a Kronecker product of factors without forming it: ``(A_1 kron A_2) x``.

    Row-major convention of the spec: ``x`` reshaped in C order to a tensor of
    shape ``(n_1, ..., n_I)`` and multiplied by ``A_i`` along mode ``i``.

    Examples
    --------
    >>> import numpy as np
    >>> A, B = np.arange(6.).reshape(2, 3), np.arange(4.).reshape(2, 2)
    >>> x = np.arange(6.)
    >>> bool(np.allclose(kronecker_matvec([A, B], x), np.kron(A, B) @ x))
    True
    """
    tensor = np.asarray(x).reshape([A.shape[1] for A in factors])
    for mode, A in enumerate(factors):
        tensor = np.moveaxis(np.tensordot(A, tensor, axes=(1, mode)), 0, mode)
    return tensor.reshape(-1)


def make_kronecker_sparse_recovery(measurements=(8, 12, 15), n_atoms=(15, 15, 15), sparsity=3,
                                   *, snr_db=25.0, complex_valued=False, random_state=None):
    """Noisy measurements of a Kronecker-sparse vector through a Kronecker dictionary.

    ``y = (A_1 kron ... kron A_I) x + w`` with ``x = x_1 kron ... kron x_I`` with ``sparsity`` N(0, 1) nonzeros per mode,
    i.i.d. N(0, 1) factor entries, and noise variance
    ``sigma^2 = (||Ax||^2 / M) 10^(-snr_db / 10)`` (the paper's synthetic set-up:
    I = 3, n_i = 15, m = (m_1, 12, 15)).

    Parameters
    ----------
    measurements : tuple of int
        ``m_i``, rows of each factor.
    n_atoms : tuple of int
        ``n_i``, columns of each factor (same length as ``measurements``).
    sparsity : int
        Non-zeros per mode (``s``); ``x`` has ``s ** I`` non-zeros.
    snr_db : float
    complex_valued : bool
        Circularly-symmetric complex Gaussian entries (IRS-MIMO setting).
    random_state : int, RandomState or None

    Returns
    -------
    y : ndarray of shape (prod(m_i),)
    factors : list of ndarray
        The ``A_i``.
    x : ndarray of shape (prod(n_i),)
        Ground-truth coefficients.
    noise_variance : float

    Examples
    --------
    >>> from sparseopt.datasets import make_kronecker_sparse_recovery
    >>> y, factors, x, s2 = make_kronecker_sparse_recovery((4, 5), (6, 6), 2, random_state=0)
    >>> y.shape, x.shape, int((x != 0).sum())
    ((20,), (36,), 4)
    """
    measurements, n_atoms = tuple(measurements), tuple(n_atoms)
    if len(measurements) != len(n_atoms) or not measurements:
        raise ValueError("measurements and n_atoms must be non-empty and of equal length")
    for m, n in zip(measurements, n_atoms):
        if not (isinstance(m, numbers.Integral) and isinstance(n, numbers.Integral) and m > 0 and n > 0):
            raise ValueError(f"factor sizes must be positive ints, got {measurements}, {n_atoms}")
    validate_params({"sparsity": sparsity, "snr_db": snr_db},
                    {"sparsity": [Interval(numbers.Integral, 1, min(n_atoms), closed="both")],
                     "snr_db": [Interval(numbers.Real, None, None, closed="neither")]},
                    owner="make_kronecker_sparse_recovery")
    rng = check_random_state(random_state)

    def gauss(*shape):
        if complex_valued:
            return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)
        return rng.standard_normal(shape)

    factors = [gauss(m, n) for m, n in zip(measurements, n_atoms)]
    mode_vectors = []
    for n in n_atoms:
        v = np.zeros(n, dtype=complex if complex_valued else float)
        v[rng.choice(n, sparsity, replace=False)] = gauss(sparsity)
        mode_vectors.append(v)
    x = reduce(np.kron, mode_vectors)
    clean = kronecker_matvec(factors, x)
    noise_variance = float(np.vdot(clean, clean).real / clean.size * 10 ** (-snr_db / 10))
    y = clean + np.sqrt(noise_variance) * gauss(clean.size)
    return y, factors, x, noise_variance
