"""sparseopt: classical sparse-optimization and statistics algorithms.

scikit-learn-compatible estimators over compiled solvers. Subpackages:

- ``semi_supervised``: label propagation on graphs (block coordinate descent)
- ``linear_model``: sparse regression (Lasso, elastic net, nonconvex penalties)
- ``optimize``: solvers shared across fields (working-set CD, block CD)
- ``privacy``, ``bayes``, ``decomposition``, ``causal``, ``transport``, ``cluster``
- ``datasets``: seeded generators of every benchmark problem, with ground truth
- ``metrics``: recovery errors, structural Hamming distance, OT marginal errors
- ``utils``: validation, array-API helpers, estimator registry
- ``demo``: ``python -m sparseopt demo``, each field against its anchor library
"""
__version__ = "0.1.0.dev0"

__all__ = [
    "linear_model", "optimize", "privacy", "bayes", "decomposition", "causal",
    "transport", "cluster", "semi_supervised", "datasets", "metrics", "utils", "__version__",
]


def __getattr__(name):
    if name in __all__:
        import importlib

        return importlib.import_module(f"sparseopt.{name}")
    raise AttributeError(f"module 'sparseopt' has no attribute {name!r}")
