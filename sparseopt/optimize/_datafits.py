"""Former private home of :mod:`sparseopt.optimize.datafits` (kept importable)."""
from .datafits import *  # noqa: F401,F403
from .datafits import __all__  # noqa: F401
