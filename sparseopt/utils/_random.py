"""The random-state helper shared by every randomized routine."""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["check_generator"]

# a RandomState seeds a new Generator with one draw below this bound
_SEED_BOUND = 2**31 - 1


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_generator(random_state, *, seed_via_random_state=False):
    """A ``numpy.random.Generator`` from any of scikit-learn's ``random_state`` values.

    The semantics of scikit-learn's ``check_random_state``, also accepting a
    ``numpy.random.Generator``: ``None`` draws from NumPy's global random
    state (so ``numpy.random.seed`` makes a run repeatable), an int gives the
    same stream at every call, and an instance is drawn from and advanced in
    place.

    Parameters
    ----------
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        A Generator is returned as it is; an int ``s`` gives
        ``numpy.random.default_rng(s)``; a RandomState (NumPy's global one for
        ``None``) seeds a new Generator with one draw of ``randint(2**31 - 1)``.
    seed_via_random_state : bool, default=False
        Treat an int ``s`` as ``RandomState(s)`` (one draw seeds the
        Generator). The regression and low-rank generators of
        :mod:`sparseopt.datasets` use it, so that their data for a given seed
        stay what they have always been.

    Returns
    -------
    rng : numpy.random.Generator

    Raises
    ------
    ValueError
        If ``random_state`` is none of the above (a bool, a float, a
        string, ...) or a negative int.

    Examples
    --------
    >>> import numpy as np
    >>> from sparseopt.utils._random import check_generator
    >>> rng = np.random.default_rng(0)
    >>> check_generator(rng) is rng
    True
    >>> float(check_generator(3).uniform()) == float(np.random.default_rng(3).uniform())
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if _is_int(random_state) and random_state < 0:
        raise ValueError(f"random_state must be a non-negative int, got {random_state}.")
    if _is_int(random_state) and not seed_via_random_state:
        return np.random.default_rng(int(random_state))
    if random_state is None or _is_int(random_state) or isinstance(random_state,
                                                                   np.random.RandomState):
        return np.random.default_rng(check_random_state(random_state).randint(_SEED_BOUND))
    raise ValueError(f"random_state must be None, an int, a numpy.random.RandomState or a "
                     f"numpy.random.Generator, got {random_state!r}.")
