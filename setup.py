"""Build the compiled kernels in sparseopt/_ext (Cython, fused float32/float64; hand-written C
in sparseopt/_ext/src, compiled into the extension of the same name)."""
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

EXT_DIR = Path("sparseopt") / "_ext"
# C sources compiled with a Cython module (its stem -> sources)
GAUSS_JORDAN = str(EXT_DIR / "src" / "gauss_jordan.c")
C_SOURCES = {"_gauss_jordan": [GAUSS_JORDAN],
             "_dag": [GAUSS_JORDAN, str(EXT_DIR / "src" / "dag_elementwise.c")]}
# -fno-math-errno: sqrt/exp without the errno branch, so their loops vectorise (same results)
EXTRA_ARGS = {"_dag": ["-fno-math-errno"], "_bcd": ["-fno-math-errno"],
              "_transport": ["-fno-math-errno"]}

extensions = [
    Extension(
        f"sparseopt._ext.{pyx.stem}",
        [str(pyx), *C_SOURCES.get(pyx.stem, [])],
        include_dirs=[np.get_include(), str(EXT_DIR)],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
        extra_compile_args=["-O3", *EXTRA_ARGS.get(pyx.stem, [])],
    )
    for pyx in sorted(EXT_DIR.glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
)
