"""Former private home of :mod:`sparseopt.optimize.penalties` (kept importable)."""
from .penalties import *  # noqa: F401,F403
from .penalties import BasePenalty as _Penalty  # noqa: F401
from .penalties import __all__  # noqa: F401
from .penalties import _as_weights, _check_groups, _FixedPointKKT  # noqa: F401
