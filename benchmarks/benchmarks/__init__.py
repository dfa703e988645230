"""asv benchmarks of sparseopt: one module per solver family (``bench_<field>.py``).

asv runs the suite with ``launch_method = "forkserver"`` (``asv.conf.json``): one server
process imports every module once and forks a child per benchmark and parameter
combination, instead of a fresh interpreter importing scikit-learn, SciPy and sparseopt
(about 2 s of CPU) for each of the ~350 combinations. So the environment the array-API
backends need is set here, before any module imports SciPy.
"""
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
