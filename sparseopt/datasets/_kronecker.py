"""Kronecker-structured sparse recovery problems (He & Joseph, IEEE TSP 2024)."""
import numbers
from functools import reduce

import numpy as np
from sklearn.utils import check_random_state

from ..utils.validation import Interval, validate_params

__all__ = ["make_kronecker_sparse_recovery", "kronecker_matvec", "make_irs_mimo_channel"]


def kronecker_matvec(factors, x):
    """Multiply by a Kronecker product of factors without forming it: ``(A_1 kron A_2) x``.

    Row-major convention (as ``np.kron``): ``x`` reshaped in C order to a tensor of
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

    References
    ----------
    .. [1] Y. He and G. Joseph, "Bayesian algorithms for Kronecker-structured sparse vector
       recovery with application to IRS-MIMO channel estimation", IEEE Transactions on Signal
       Processing, 2024.

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


def _steering(n_antennas, grid):
    """Half-wavelength ULA steering vectors ``exp(-j pi k u) / sqrt(n)`` at directions ``u``."""
    k = np.arange(n_antennas)[:, None]
    return np.exp(-1j * np.pi * k * grid[None, :]) / np.sqrt(n_antennas)


def make_irs_mimo_channel(n_bs=16, n_irs=256, n_ms=6, *, n_configurations=3, n_pilots=6,
                          grid_size=18, angle_spread=3, snr_db=10.0, return_dictionaries=False,
                          random_state=None):
    """Synthetic IRS-aided MIMO uplink channel estimation with a Kronecker dictionary.

    A simplified version of the setting of He & Joseph (2024, Sec. VI): the
    cascaded MS -> IRS -> BS channel is sparse on three angular grids
    (``grid_size`` points uniform in ``sin(angle)``: BS arrival, IRS cascaded
    angle, MS departure), with one cluster of ``angle_spread`` adjacent grid
    points in the BS and MS modes (angle spread), one IRS direction, and
    complex Gaussian gains, so its angular coefficients are
    ``x = x_BS kron x_IRS kron x_MS``. The pilots are received over
    ``n_configurations`` random IRS phase profiles and ``n_pilots`` random
    QPSK pilot vectors, which gives the measurement factors::

        A_1 = B                    (n_bs x grid)       BS array response
        A_2 = Phi R                (n_configurations x grid), Phi unit-modulus
        A_3 = P^T conj(D)          (n_pilots x grid)

    with ``B``, ``R``, ``D`` the ULA steering dictionaries of the BS, IRS and
    MS. Defaults: 16 BS, 6 MS antennas, 256 IRS elements, ``M = 16 * 3 * 6 =
    288`` measurements, ``N = 18**3 = 5832`` unknowns. Uniform linear arrays
    and a single cluster per mode are simplifications of the paper's model.

    Parameters
    ----------
    n_bs, n_irs, n_ms : int
        Antennas at the base station, IRS elements, antennas at the mobile.
    n_configurations : int
        IRS phase configurations used for training.
    n_pilots : int
        Pilot symbols per configuration.
    grid_size : int
        Angular grid points per mode.
    angle_spread : int
        Adjacent active grid points in the BS and MS modes (cluster width).
    snr_db : float
        ``sigma^2 = (||A x||^2 / M) 10^(-snr_db / 10)``.
    return_dictionaries : bool, default=False
        Also return the angular dictionaries ``[B, R, conj(D)]``: the
        cascaded channel in the antenna domain is
        ``kronecker_matvec(dictionaries, x)`` (the channel NMSE is measured
        there).
    random_state : int, RandomState or None

    Returns
    -------
    y : complex ndarray of shape (M,)
    factors : list of three complex ndarrays
    x : complex ndarray of shape (grid_size ** 3,)
        Angular coefficients (``grid_size ** 3`` entries, ``angle_spread ** 2`` non-zero).
    noise_variance : float
    dictionaries : list of three complex ndarrays
        Only with ``return_dictionaries``.

    References
    ----------
    .. [1] Y. He and G. Joseph, "Bayesian algorithms for Kronecker-structured sparse vector
       recovery with application to IRS-MIMO channel estimation", IEEE Transactions on Signal
       Processing, 2024.

    Examples
    --------
    >>> from sparseopt.datasets import make_irs_mimo_channel
    >>> y, factors, x, s2 = make_irs_mimo_channel(random_state=0)
    >>> y.shape, [f.shape for f in factors], int((x != 0).sum())
    ((288,), [(16, 18), (3, 18), (6, 18)], 9)
    """
    sizes = {"n_bs": n_bs, "n_irs": n_irs, "n_ms": n_ms, "n_configurations": n_configurations,
             "n_pilots": n_pilots, "grid_size": grid_size}
    validate_params({**sizes, "angle_spread": angle_spread, "snr_db": snr_db},
                    {**{k: [Interval(numbers.Integral, 1, None, closed="left")] for k in sizes},
                     "angle_spread": [Interval(numbers.Integral, 1, grid_size, closed="both")],
                     "snr_db": [Interval(numbers.Real, None, None, closed="neither")]},
                    owner="make_irs_mimo_channel")
    rng = check_random_state(random_state)
    grid = -1 + 2 * np.arange(grid_size) / grid_size

    def cgauss(*shape):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)

    phases = np.exp(2j * np.pi * rng.random_sample((n_configurations, n_irs)))
    pilots = np.exp(1j * np.pi / 4 * (2 * rng.randint(0, 4, (n_ms, n_pilots)) + 1))
    dictionaries = [_steering(n_bs, grid), _steering(n_irs, grid), np.conj(_steering(n_ms, grid))]
    factors = [dictionaries[0] * np.sqrt(n_bs), phases @ dictionaries[1],
               pilots.T @ dictionaries[2] * np.sqrt(n_ms)]
    mode_vectors = []
    for width in (angle_spread, 1, angle_spread):
        v = np.zeros(grid_size, dtype=complex)
        start = rng.randint(0, grid_size - width + 1)
        v[start:start + width] = cgauss(width)
        mode_vectors.append(v)
    x = reduce(np.kron, mode_vectors)
    clean = kronecker_matvec(factors, x)
    noise_variance = float(np.vdot(clean, clean).real / clean.size * 10 ** (-snr_db / 10))
    y = clean + np.sqrt(noise_variance) * cgauss(clean.size)
    if return_dictionaries:
        return y, factors, x, noise_variance, dictionaries
    return y, factors, x, noise_variance
