"""Python face of the C Gauss-Jordan sweep (src/gauss_jordan.c), for tests.

The DAG kernel (``_dag.pyx``) calls the C function directly.
"""
import numpy as np

from libc.stdint cimport int64_t


cdef extern from "src/gauss_jordan.h":
    double sparseopt_gauss_jordan(double *A, int64_t n, int64_t nc, double *r1,
                                  double *r2) nogil
    double sparseopt_gauss_jordan_portable(double *A, int64_t n, int64_t nc, double *r1,
                                           double *r2) nogil
    int sparseopt_gauss_jordan_has_avx2() nogil


def has_avx2():
    """Whether the sweep takes the AVX2/FMA path (for row lengths that are multiples of 4)."""
    return bool(sparseopt_gauss_jordan_has_avx2())


def gauss_jordan(double[:, ::1] A, bint portable=False):
    """Invert the (n, n) part of the C-contiguous (n, nc) array A in place; return log det.

    ``-inf`` (A then partly transformed) when a pivot of the unpivoted elimination is
    ``<= 0``. ``portable=True`` forces the portable row update.
    """
    cdef int64_t n = A.shape[0], nc = A.shape[1]
    if nc < n:
        raise ValueError(f"A must have at least as many columns as rows, got ({n}, {nc})")
    if n == 0:
        return 0.0
    cdef double[:, ::1] R = np.zeros((2, nc))
    if portable:
        return sparseopt_gauss_jordan_portable(&A[0, 0], n, nc, &R[0, 0], &R[1, 0])
    return sparseopt_gauss_jordan(&A[0, 0], n, nc, &R[0, 0], &R[1, 0])
