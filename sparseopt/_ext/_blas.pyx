"""BLAS entry points with a fixed C signature, for compiled code that calls them by symbol.

The numba kernels (``_dag_numba``) register the address of :c:func:`dgemm_rowmajor`
with llvmlite and call it directly: the in-place product on strided row-major views
that numba's public ``np.dot`` does not offer, without numba's private BLAS wrapper.
The BLAS is scipy's (``scipy.linalg.cython_blas``), the one numpy and scipy use.
"""
from libc.stdint cimport int64_t, uintptr_t
from scipy.linalg.cython_blas cimport dgemm


cdef void dgemm_rowmajor(int64_t m, int64_t n, int64_t k, double alpha, double *A, int64_t lda,
                         double *B, int64_t ldb, double beta, double *C,
                         int64_t ldc) noexcept nogil:
    """C = alpha A B + beta C for row-major A (m, k), B (k, n), C (m, n) with row strides
    lda, ldb, ldc (in elements; unit column stride).

    A row-major matrix with row stride ``ld`` is the column-major transpose, so this is
    one column-major dgemm ``C^T = alpha B^T A^T + beta C^T`` (no copy).
    """
    cdef char no_trans = b'N'
    cdef int cm = <int>n, cn = <int>m, ck = <int>k
    cdef int la = <int>lda, lb = <int>ldb, lc = <int>ldc
    cdef int64_t i, j
    if m <= 0 or n <= 0:
        return
    if k <= 0:  # no product: C = beta C (BLAS would reject the zero leading dimensions)
        for i in range(m):
            for j in range(n):
                C[i * ldc + j] = beta * C[i * ldc + j] if beta != 0.0 else 0.0
        return
    dgemm(&no_trans, &no_trans, &cm, &cn, &ck, &alpha, B, &lb, A, &la, &beta, C, &lc)


def address_dgemm_rowmajor():
    """Address of :c:func:`dgemm_rowmajor` (for ``llvmlite.binding.add_symbol``)."""
    return <uintptr_t>&dgemm_rowmajor
