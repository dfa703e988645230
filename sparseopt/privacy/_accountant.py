"""Privacy budget bookkeeping shared by the local randomisers.

One :class:`BudgetAccountant` is the ledger of *one user's* budget: every user
of a local protocol runs the same randomiser, so the per-user ledger is the
whole story (disjoint users compose in parallel). Releases compose by basic
composition: the spent ``(epsilon, delta)`` is the sum of the spends.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["BudgetAccountant", "BudgetError", "PrivacyLeakWarning", "check_budget"]

# relative slack on comparisons, so that (eps/2) + (eps/2) never exceeds eps by rounding
_REL_SLACK = 1e-12


class PrivacyLeakWarning(UserWarning):
    """A parameter was derived from the private data, which breaks the privacy guarantee.

    Emitted, as diffprivlib does, when clipping bounds are computed from the
    records themselves (``clip_x="data"``): the bounds then depend on every
    user's raw value and are not covered by ``(epsilon, delta)``.
    """


class BudgetError(ValueError):
    """A release would spend more privacy budget than the accountant holds."""


def _check_pair(epsilon, delta, owner):
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not (
            epsilon >= 0) or math.isnan(epsilon):
        raise ValueError(f"{owner}: epsilon must be a real number >= 0 (inf allowed), "
                         f"got {epsilon!r}.")
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not (0 <= delta <= 1):
        raise ValueError(f"{owner}: delta must be a real number in [0, 1], got {delta!r}.")
    return float(epsilon), float(delta)


class BudgetAccountant:
    """Ledger of a per-user ``(epsilon, delta)`` budget under basic composition.

    Parameters
    ----------
    epsilon : float, default=inf
        Total epsilon a user may spend (``inf``: unlimited).
    delta : float, default=1.0
        Total delta, in ``[0, 1]``.

    Attributes
    ----------
    spends : list of (float, float)
        Every ``(epsilon, delta)`` spent, in order.

    References
    ----------
    C. Dwork, A. Roth. The Algorithmic Foundations of Differential Privacy.
    Foundations and Trends in Theoretical Computer Science 9(3-4), 2014
    (Theorem 3.16, basic composition).

    Examples
    --------
    >>> from sparseopt.privacy import BudgetAccountant
    >>> acc = BudgetAccountant(epsilon=1.0, delta=1e-5)
    >>> acc.spend(0.5, 5e-6)
    >>> acc.remaining()
    (0.5, 5e-06)
    >>> acc.spend(0.6, 0.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sparseopt.privacy._accountant.BudgetError: spending (epsilon=0.6, delta=0) exceeds ...
    """

    def __init__(self, epsilon=math.inf, delta=1.0):
        self.epsilon, self.delta = _check_pair(epsilon, delta, "BudgetAccountant")
        self.spends = []

    def __repr__(self):
        return f"BudgetAccountant(epsilon={self.epsilon:g}, delta={self.delta:g})"

    def total(self):
        """The budget ``(epsilon, delta)`` the ledger started with."""
        return self.epsilon, self.delta

    @property
    def spent(self):
        """``(epsilon, delta)`` spent so far (sums of the spends)."""
        return (math.fsum(e for e, _ in self.spends), math.fsum(d for _, d in self.spends))

    def remaining(self):
        """``(epsilon, delta)`` still available (never negative)."""
        eps, delta = self.spent
        return max(self.epsilon - eps, 0.0), max(self.delta - delta, 0.0)

    def check(self, epsilon, delta):
        """Raise :class:`BudgetError` if spending ``(epsilon, delta)`` would exceed the budget."""
        epsilon, delta = _check_pair(epsilon, delta, "BudgetAccountant.check")
        eps_spent, delta_spent = self.spent
        over_eps = eps_spent + epsilon > self.epsilon * (1 + _REL_SLACK)
        over_delta = delta_spent + delta > self.delta * (1 + _REL_SLACK) + 1e-300
        if over_eps or over_delta:
            eps_left, delta_left = self.remaining()
            raise BudgetError(
                f"spending (epsilon={epsilon:g}, delta={delta:g}) exceeds the remaining budget "
                f"(epsilon={eps_left:g}, delta={delta_left:g}) of a (epsilon={self.epsilon:g}, "
                f"delta={self.delta:g}) accountant.")
        return True

    def spend(self, epsilon, delta):
        """Record a release of ``(epsilon, delta)``; raise :class:`BudgetError` when over budget."""
        self.check(epsilon, delta)
        self.spends.append((float(epsilon), float(delta)))


def check_budget(epsilon, delta, owner):
    """Validate a Gaussian-mechanism budget: ``0 < epsilon <= inf``, ``0 < delta < 1``."""
    epsilon, delta = _check_pair(epsilon, delta, owner)
    if epsilon <= 0:
        raise ValueError(f"{owner}: epsilon must be > 0, got {epsilon!r}.")
    if not 0 < delta < 1:
        raise ValueError(f"{owner}: delta must be in (0, 1) for the Gaussian mechanism, "
                         f"got {delta!r}.")
    return epsilon, delta
