"""Shared asv conventions (as scikit-learn's asv suite).

Benchmarks subclass :class:`Benchmark`; BLAS is limited to one thread so that
timings are attributable to the algorithm, and data are seeded in
``setup_cache``. Unavailable anchors or backends raise ``NotImplementedError``
in ``setup``, which asv reports as skipped.
"""
import timeit

from threadpoolctl import threadpool_limits


class Benchmark:
    timer = timeit.default_timer
    processes = 1
    timeout = 500
    number = 1
    repeat = (1, 3, 30)
    warmup_time = 0.1

    def __init__(self):
        self._limits = threadpool_limits(limits=1)


def require(module_name):
    """Import an optional anchor or backend, or mark the benchmark as skipped."""
    import importlib

    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise NotImplementedError(f"{module_name} is not installed") from exc


def release_threads(bench):
    """Undo ``threadpool_limits`` in ``teardown``; a no-op when ``setup`` skipped before setting it.

    asv calls ``teardown`` even after ``setup`` raised ``NotImplementedError``
    (a skipped parameter combination), so teardown must not assume setup ran.
    """
    limits = getattr(bench, "_limits", None)
    if limits is not None:
        limits.restore_original_limits()
        bench._limits = None


try:  # asv >= 0.6: skipped without running setup
    from asv_runner.benchmarks.mark import skip_for_params
except ImportError:  # older asv: run them (correct, only slower)
    def skip_for_params(skip_params_list):
        return lambda func: func
