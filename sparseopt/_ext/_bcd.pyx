# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of block coordinate descent (``sparseopt.optimize.bcd``, one module per axis).

Dumb and fast: arrays, scalars and output buffers only; the loops run without
the GIL. Sparse matrices arrive as their ``(indptr, indices, data)`` triplets
(int32 or int64 indices, float64 data). Coordinates of a ``p x K`` parameter
matrix ``W`` are numbered ``c = j * K + k`` (feature ``j``, class ``k``);
``K = 1`` for vectors. Block and index arrays are int64. Shapes are checked by
the callers (``sparseopt.optimize``); these functions do no bounds checking.

Compiled ahead of time (no JIT on first use); BLAS is scipy's
(``scipy.linalg.cython_blas``).

Reference: J. Nutini, I. Laradji and M. Schmidt, "Let's Make Block Coordinate Descent
Converge Faster: Faster Greedy Rules, Message-Passing, Active-Set Complexity, and
Superlinear Convergence", JMLR 23 (2022).
"""
import numpy as np

cimport cython
cimport numpy as cnp
from libc.math cimport INFINITY, fabs, isfinite, sqrt
from libc.stdint cimport int8_t, int32_t, int64_t
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_blas cimport daxpy, dgemv

ctypedef fused index_t:
    int32_t
    int64_t

ctypedef fused real_t:
    float
    double

cnp.import_array()

# ------------------------------------------------------------------ argument unpacking
# The per-iteration kernels are called thousands of times on small blocks, so their
# arguments are unpacked by the checks below (dtype, dimension, writability, strides: a
# few pointer reads) instead of typed memoryviews, whose buffer acquisition costs about
# 100 ns per argument.
cdef struct Arr:
    char *data
    Py_ssize_t n0, n1  # shape (n1 = 1 for 1-D)
    Py_ssize_t s0, s1  # strides in elements


cdef int _arr(object obj, Arr *out, char kind, int ndim, bint writable, bint c_contiguous,
              str name) except -1:
    """Unpack a float64 (kind 'f') or int64 (kind 'l') array; -1 with the error set."""
    if not cnp.PyArray_Check(obj):
        raise TypeError(f"{name} must be a NumPy array, got {type(obj).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>obj
    cdef Py_ssize_t isz = cnp.PyArray_ITEMSIZE(a)
    if kind == b'f':
        if cnp.PyArray_TYPE(a) != cnp.NPY_DOUBLE:
            raise ValueError(f"{name} must be float64, got {a.dtype}")
    elif not (cnp.PyArray_ISSIGNED(a) and isz == 8):
        raise ValueError(f"{name} must be int64, got {a.dtype}")
    if cnp.PyArray_NDIM(a) != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got {cnp.PyArray_NDIM(a)}-D")
    if writable and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{name} must be writable")
    if c_contiguous and not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError(f"{name} must be C-contiguous")
    out.data = <char*>cnp.PyArray_DATA(a)
    out.n0 = cnp.PyArray_DIM(a, 0)
    out.s0 = cnp.PyArray_STRIDE(a, 0) // isz
    out.n1 = cnp.PyArray_DIM(a, 1) if ndim == 2 else 1
    out.s1 = cnp.PyArray_STRIDE(a, 1) // isz if ndim == 2 else 1
    if cnp.PyArray_STRIDE(a, 0) % isz or (ndim == 2 and cnp.PyArray_STRIDE(a, 1) % isz):
        raise ValueError(f"{name} must have strides that are multiples of its item size")
    return 0


cdef int _sparse(object indptr, object indices, object data, Arr *p, Arr *i, Arr *x,
                 str name) except -1:
    """Unpack a CSC/CSR triplet; returns the index size in bytes (4 or 8)."""
    cdef cnp.ndarray a, b
    if not (cnp.PyArray_Check(indptr) and cnp.PyArray_Check(indices)):
        raise TypeError(f"{name}: indptr and indices must be NumPy arrays")
    a, b = <cnp.ndarray>indptr, <cnp.ndarray>indices
    cdef Py_ssize_t isz = cnp.PyArray_ITEMSIZE(a)
    if not (cnp.PyArray_ISSIGNED(a) and cnp.PyArray_ISSIGNED(b) and (isz == 4 or isz == 8)
            and cnp.PyArray_ITEMSIZE(b) == isz):
        raise ValueError(f"{name}: indptr and indices must both be int32 or both int64, got "
                         f"{a.dtype} and {b.dtype}")
    if not (cnp.PyArray_NDIM(a) == 1 and cnp.PyArray_NDIM(b) == 1
            and cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_IS_C_CONTIGUOUS(b)):
        raise ValueError(f"{name}: indptr and indices must be contiguous 1-D arrays")
    p.data, p.n0 = <char*>cnp.PyArray_DATA(a), cnp.PyArray_DIM(a, 0)
    i.data, i.n0 = <char*>cnp.PyArray_DATA(b), cnp.PyArray_DIM(b, 0)
    _arr(data, x, b'f', 1, False, True, f"{name}: data")
    return isz


cdef int _sparse_pair(object csc_indptr, object csc_indices, object csc_data,
                      object csr_indptr, object csr_indices, object csr_data,
                      Arr *p1, Arr *i1, Arr *x1, Arr *p2, Arr *i2, Arr *x2,
                      str name) except -1:
    """Unpack a design given as CSC and CSR triplets with one index size (returned)."""
    cdef int isz = _sparse(csc_indptr, csc_indices, csc_data, p1, i1, x1, name)
    if _sparse(csr_indptr, csr_indices, csr_data, p2, i2, x2, name) != isz:
        raise ValueError(f"{name}: CSC and CSR index dtypes differ")
    return isz


cdef int _alloc_work(int64_t n_doubles, int64_t n_ints, double **buf,
                     int64_t **ibuf) except -1:
    """One double and one int64 work buffer (freed by the caller), or MemoryError."""
    buf[0] = <double*>malloc(n_doubles * sizeof(double))
    ibuf[0] = <int64_t*>malloc(n_ints * sizeof(int64_t))
    if buf[0] == NULL or ibuf[0] == NULL:
        free(buf[0])
        free(ibuf[0])
        raise MemoryError()
    return 0


__all__ = [
    "forward_block",
    "backward_rows",
    "block_rmatvec",
    "sym_update_gradient",
    "gaussian_bp_forest",
    "greedy_forest",
    "prox_newton_cd",
    "gather_block",
    "block_gram",
    "stacked_block_grams",
    "stacked_gather",
    "gram_update",
    "cholesky_solve",
    "top_k_abs",
    "iht_gram",
    "greedy_scores",
    "select_top",
    "iht_sparse",
    "iht_cached",
    "iht_screen",
    "block_quadratic_argmax",
    "block_quadratic_argmax_full",
    "block_root_argmax",
    "block_upper_root_argmax",
    "block_score_argmax",
    "split_count",
    "support_cg",
    "split_fill",
]


cdef int64_t _forward(const index_t *indptr, const index_t *indices, const double *data,
                     Arr block, Arr delta, int64_t K, Arr z, int8_t *mark, int64_t n_mark,
                     int64_t *rows, int64_t n_touched, Arr dl) noexcept nogil:
    cdef bint track = n_mark > 0
    cdef bint linear = dl.n0 > 0
    cdef const int64_t *blk = <const int64_t*>block.data
    cdef const double *dlt = <const double*>delta.data
    cdef double *zd = <double*>z.data
    cdef double *dld = <double*>dl.data
    cdef int64_t t, j, k, ptr, i
    cdef double d, step
    for t in range(block.n0):
        d = dlt[t * delta.s0]
        if d == 0.0:
            continue
        j = blk[t * block.s0] // K
        k = blk[t * block.s0] % K
        for ptr in range(indptr[j], indptr[j + 1]):
            i = indices[ptr]
            step = data[ptr] * d
            zd[i * z.s0 + k] += step
            if linear:
                dld[i * dl.s0 + k] += step
            if track and mark[i] == 0:
                mark[i] = 1
                rows[n_touched] = i
                n_touched += 1
    return n_touched


def forward_block(indptr, indices, data, block, delta, int64_t K, z, mark, rows,
                  int64_t n_touched, dl):
    """``z[:, k] += A[:, j] * delta_t`` for each coordinate ``c_t = j*K + k`` of ``block``.

    Records the rows touched for the first time in ``rows[n_touched:]``
    (``mark[i]`` flags them) and returns the new count, so that the caller
    recomputes the loss derivative on those rows only (Nutini et al., 2022); an
    empty ``mark`` skips this bookkeeping. A non-empty ``dl`` receives the same
    change as ``z`` (the squared loss: ``loss'(z) = z - y`` moves with ``z``).
    ``z`` and ``dl`` are (n, K) with unit column stride; ``mark`` int8 and
    ``rows`` int64 are contiguous.
    """
    cdef Arr p, i, x, b, dt, zz, dd, r
    cdef int isz = _sparse(indptr, indices, data, &p, &i, &x, "forward_block")
    _arr(block, &b, b'l', 1, False, False, "block")
    _arr(delta, &dt, b'f', 1, False, False, "delta")
    _arr(z, &zz, b'f', 2, True, False, "z")
    _arr(dl, &dd, b'f', 2, True, False, "dl")
    _arr(rows, &r, b'l', 1, True, True, "rows")
    if not (cnp.PyArray_Check(mark) and cnp.PyArray_TYPE(<cnp.ndarray>mark) == cnp.NPY_INT8
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>mark)
            and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>mark)):
        raise ValueError("mark must be a writable contiguous int8 array")
    if (zz.n1 > 1 and zz.s1 != 1) or (dd.n1 > 1 and dd.s1 != 1):
        raise ValueError("z and dl need unit column stride")
    cdef int8_t *mk = <int8_t*>cnp.PyArray_DATA(<cnp.ndarray>mark)
    cdef int64_t n_mark = cnp.PyArray_DIM(<cnp.ndarray>mark, 0)
    with nogil:
        if isz == 4:
            n_touched = _forward(<const int32_t*>p.data, <const int32_t*>i.data,
                                 <const double*>x.data, b, dt, K, zz, mk, n_mark,
                                 <int64_t*>r.data, n_touched, dd)
        else:
            n_touched = _forward(<const int64_t*>p.data, <const int64_t*>i.data,
                                 <const double*>x.data, b, dt, K, zz, mk, n_mark,
                                 <int64_t*>r.data, n_touched, dd)
    return n_touched


cdef void _backward(const index_t *indptr, const index_t *indices, const double *data,
                    Arr rows, int64_t n_touched, Arr ddl, int8_t *mark, Arr g) noexcept nogil:
    cdef int64_t K = g.n1, t, i, ptr, j, k
    cdef const int64_t *rw = <const int64_t*>rows.data
    cdef const double *dd = <const double*>ddl.data
    cdef double *gd = <double*>g.data
    cdef double c, a
    if K == 1:  # one output: a 1-D scatter
        for t in range(n_touched):
            i = rw[t * rows.s0]
            mark[i] = 0
            c = dd[t * ddl.s0]
            for ptr in range(indptr[i], indptr[i + 1]):
                gd[indices[ptr] * g.s0] += data[ptr] * c
    else:
        for t in range(n_touched):
            i = rw[t * rows.s0]
            mark[i] = 0
            for ptr in range(indptr[i], indptr[i + 1]):
                j = indices[ptr]
                a = data[ptr]
                for k in range(K):
                    gd[j * g.s0 + k] += a * dd[t * ddl.s0 + k]


def backward_rows(indptr, indices, data, rows, int64_t n_touched, ddl, mark, g):
    """``g[j, :] += A[i, j] * ddl[t, :]`` over touched rows ``i = rows[t]`` (CSR of A).

    Keeps the full gradient ``g = A^T loss'(A W)`` current after a block
    update at the cost of the touched rows only. Clears ``mark``. ``ddl``
    (n_touched, K) and ``g`` (p, K) have unit column stride.
    """
    cdef Arr p, i, x, r, dd, gg
    cdef int isz = _sparse(indptr, indices, data, &p, &i, &x, "backward_rows")
    _arr(rows, &r, b'l', 1, False, False, "rows")
    _arr(ddl, &dd, b'f', 2, False, False, "ddl")
    _arr(g, &gg, b'f', 2, True, False, "g")
    if not (cnp.PyArray_Check(mark) and cnp.PyArray_TYPE(<cnp.ndarray>mark) == cnp.NPY_INT8
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>mark)
            and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>mark)):
        raise ValueError("mark must be a writable contiguous int8 array")
    if (dd.n1 > 1 and dd.s1 != 1) or (gg.n1 > 1 and gg.s1 != 1):
        raise ValueError("ddl and g need unit column stride")
    cdef int8_t *mk = <int8_t*>cnp.PyArray_DATA(<cnp.ndarray>mark)
    with nogil:
        if isz == 4:
            _backward(<const int32_t*>p.data, <const int32_t*>i.data, <const double*>x.data, r,
                      n_touched, dd, mk, gg)
        else:
            _backward(<const int64_t*>p.data, <const int64_t*>i.data, <const double*>x.data, r,
                      n_touched, dd, mk, gg)


cdef void _rmatvec(const index_t *indptr, const index_t *indices, const double *data,
                   Arr block, int64_t K, Arr dl, Arr out) noexcept nogil:
    cdef const int64_t *blk = <const int64_t*>block.data
    cdef const double *dld = <const double*>dl.data
    cdef double *o = <double*>out.data
    cdef int64_t t, j, k, ptr
    cdef double s
    for t in range(block.n0):
        j = blk[t * block.s0] // K
        k = blk[t * block.s0] % K
        s = 0.0
        for ptr in range(indptr[j], indptr[j + 1]):
            s += data[ptr] * dld[indices[ptr] * dl.s0 + k * dl.s1]
        o[t * out.s0] = s


def block_rmatvec(indptr, indices, data, block, int64_t K, dl, out):
    """``out[t] = A[:, j]^T dl[:, k]`` for ``c_t = j*K + k`` (the block gradient, CSC of A)."""
    cdef Arr p, i, x, b, dd, o
    cdef int isz = _sparse(indptr, indices, data, &p, &i, &x, "block_rmatvec")
    _arr(block, &b, b'l', 1, False, False, "block")
    _arr(dl, &dd, b'f', 2, False, False, "dl")
    _arr(out, &o, b'f', 1, True, False, "out")
    with nogil:
        if isz == 4:
            _rmatvec(<const int32_t*>p.data, <const int32_t*>i.data, <const double*>x.data, b, K,
                     dd, o)
        else:
            _rmatvec(<const int64_t*>p.data, <const int64_t*>i.data, <const double*>x.data, b, K,
                     dd, o)


cdef void _sym_update(const index_t *indptr, const index_t *indices, const double *data,
                      Arr block, Arr delta, Arr g) noexcept nogil:
    cdef const int64_t *blk = <const int64_t*>block.data
    cdef const double *dlt = <const double*>delta.data
    cdef double *gd = <double*>g.data
    cdef int64_t t, j, ptr
    cdef double d
    for t in range(block.n0):
        j = blk[t * block.s0]
        d = dlt[t * delta.s0]
        for ptr in range(indptr[j], indptr[j + 1]):
            gd[indices[ptr] * g.s0] += data[ptr] * d


def sym_update_gradient(indptr, indices, data, block, delta, g):
    """``g += Q[:, b] delta`` for a symmetric sparse ``Q`` (CSR == CSC)."""
    cdef Arr p, i, x, b, dt, gg
    cdef int isz = _sparse(indptr, indices, data, &p, &i, &x, "sym_update_gradient")
    _arr(block, &b, b'l', 1, False, False, "block")
    _arr(delta, &dt, b'f', 1, False, False, "delta")
    _arr(g, &gg, b'f', 1, True, False, "g")
    with nogil:
        if isz == 4:
            _sym_update(<const int32_t*>p.data, <const int32_t*>i.data, <const double*>x.data, b,
                        dt, gg)
        else:
            _sym_update(<const int64_t*>p.data, <const int64_t*>i.data, <const double*>x.data, b,
                        dt, gg)


cdef bint _bp_forest(const index_t[::1] indptr, const index_t[::1] indices,
                     const double[::1] data, const int64_t[:] block, const int64_t[:] pos,
                     const double[:] h, double[:] x_out, int64_t[:] parent, int64_t[:] order,
                     double[:] prec, double *diag_w, double *w_par) noexcept nogil:
    cdef int64_t m = block.shape[0], n_order = 0, t, i, ptr, root, head, u, v, s, p, target
    cdef double a
    for t in range(m):
        parent[t] = -2  # unvisited
    for t in range(m):
        diag_w[t] = 0.0
        prec[t] = 0.0
    # diagonal entries
    for t in range(m):
        i = block[t]
        for ptr in range(indptr[i], indptr[i + 1]):
            if indices[ptr] == i:
                diag_w[t] += data[ptr]
    # breadth-first order of every tree; parent[root] = -1
    for root in range(m):
        if parent[root] != -2:
            continue
        parent[root] = -1
        order[n_order] = root
        head = n_order
        n_order += 1
        while head < n_order:
            u = order[head]
            head += 1
            i = block[u]
            for ptr in range(indptr[i], indptr[i + 1]):
                v = pos[indices[ptr]]
                if v < 0 or v == u:
                    continue
                if parent[v] == -2:
                    parent[v] = u
                    order[n_order] = v
                    n_order += 1
                elif parent[u] != v:
                    return False  # an edge closing a cycle
    # edge weight to parent, found once per child
    for t in range(m):
        w_par[t] = 0.0
        if parent[t] >= 0:
            i = block[t]
            target = block[parent[t]]
            for ptr in range(indptr[i], indptr[i + 1]):
                if indices[ptr] == target:
                    w_par[t] += data[ptr]
    for t in range(m):
        prec[t] = diag_w[t]
        x_out[t] = h[t]  # x_out holds the messages h during the upward pass
    # upward: children before parents (reverse BFS order)
    for s in range(m - 1, -1, -1):
        u = order[s]
        p = parent[u]
        if p >= 0:
            a = w_par[u]
            prec[p] -= a * a / prec[u]
            x_out[p] -= a * x_out[u] / prec[u]
    # downward: parents before children
    for s in range(m):
        u = order[s]
        p = parent[u]
        if p < 0:
            x_out[u] = x_out[u] / prec[u]
        else:
            x_out[u] = (x_out[u] - w_par[u] * x_out[p]) / prec[u]
    return True


def gaussian_bp_forest(const index_t[::1] indptr, const index_t[::1] indices,
                       const double[::1] data, const int64_t[:] block, const int64_t[:] pos,
                       const double[:] h, double[:] x_out, int64_t[:] parent, int64_t[:] order,
                       double[:] prec):
    """Exact solve ``Q_bb x_b = h`` when the graph of ``Q_bb`` is a forest (Nutini et al., 2022).

    Gaussian belief propagation = Gaussian elimination leaf to root, then back
    substitution root to leaf, in ``O(|b|)`` work (plus the degrees).
    ``pos[i]`` is the local index of global node ``i`` in ``block`` (``-1``
    outside) and must be set by the caller. Returns ``False`` (and leaves
    ``x_out`` undefined) if ``Q_bb`` contains a cycle.
    """
    cdef int64_t m = block.shape[0]
    cdef double *buf = <double*>malloc((2 * m + 1) * sizeof(double))
    cdef bint ok
    if buf == NULL:
        raise MemoryError()
    with nogil:
        ok = _bp_forest(indptr, indices, data, block, pos, h, x_out, parent, order, prec, buf,
                        buf + m)
    free(buf)
    return ok


cdef inline int64_t _find(int64_t[:] uf, int64_t a) noexcept nogil:
    while uf[a] != a:
        uf[a] = uf[uf[a]]
        a = uf[a]
    return a


def greedy_forest(const index_t[::1] indptr, const index_t[::1] indices, const int64_t[:] order,
                  int64_t max_size, int64_t[:] uf, int8_t[:] in_block, int64_t[:] out_block):
    """Grow a forest block by visiting nodes in ``order`` (Nutini et al., 2022, greedy tree).

    A node is added if its edges to already-chosen nodes join distinct
    components (union-find), so the induced subgraph stays a forest. Stops at
    ``max_size`` nodes. ``uf`` and ``in_block`` are work buffers of size n
    (``in_block`` must be zero on entry and is cleared on exit). Returns the
    block size; the block is ``out_block[:size]``.
    """
    cdef int64_t size = 0, s, i, ptr, ptr2, j, j2, rj
    cdef bint ok
    with nogil:
        for s in range(order.shape[0]):
            if size >= max_size:
                break
            i = order[s]
            ok = True
            # components of chosen neighbours must be pairwise distinct
            for ptr in range(indptr[i], indptr[i + 1]):
                j = indices[ptr]
                if j != i and in_block[j]:
                    rj = _find(uf, j)
                    for ptr2 in range(indptr[i], ptr):
                        j2 = indices[ptr2]
                        if j2 != i and in_block[j2] and _find(uf, j2) == rj:
                            ok = False
                            break
                    if not ok:
                        break
            if not ok:
                continue
            in_block[i] = 1
            uf[i] = i
            for ptr in range(indptr[i], indptr[i + 1]):
                j = indices[ptr]
                if j != i and in_block[j]:
                    rj = _find(uf, j)
                    if rj != i:
                        uf[rj] = i
            out_block[size] = i
            size += 1
        for s in range(size):
            in_block[out_block[s]] = 0
    return size


def prox_newton_cd(const double[:, ::1] H, const double[:] g, const double[:] x,
                   const double[:] lower, const double[:] upper, const double[:] l1,
                   double[::1] d, int64_t max_sweeps, double tol):
    """Inner CD for ``min_d g^T d + 1/2 d^T H d + sum_i psi_i(x_i + d_i)`` (Nutini et al., 2022).

    ``psi_i = l1_i |.| + indicator[lower_i, upper_i]`` (``l1`` one weight per
    coordinate); ``H`` symmetric. ``d`` holds the warm
    start on entry and the solution on exit. Returns the sweeps run.
    """
    cdef int m = <int>g.shape[0], inc = 1
    cdef char trans = b'T'
    cdef double one = 1.0, zero = 0.0
    cdef double *Hd = <double*>malloc((m + 1) * sizeof(double))
    cdef int64_t sweep, i, r, result = max_sweeps
    cdef double max_change, hii, z, thr, u, new_di, change
    if Hd == NULL:
        raise MemoryError()
    with nogil:
        # Hd = H d: row-major H is the column-major H^T, so one transposed dgemv
        if m > 0:
            dgemv(&trans, &m, &m, &one, <double*>&H[0, 0], &m, &d[0], &inc, &zero, Hd, &inc)
        for sweep in range(max_sweeps):
            max_change = 0.0
            for i in range(m):
                hii = H[i, i]
                if hii <= 0.0:
                    continue
                # minimise the 1-D model in u = x_i + d_i: Newton point, then prox
                z = x[i] + d[i] - (g[i] + Hd[i]) / hii
                # soft threshold, then clip: prox of l1|.| + box in 1-D
                thr = l1[i] / hii
                if z > thr:
                    u = z - thr
                elif z < -thr:
                    u = z + thr
                else:
                    u = 0.0
                if u < lower[i]:
                    u = lower[i]
                elif u > upper[i]:
                    u = upper[i]
                new_di = u - x[i]
                change = new_di - d[i]
                if change != 0.0:
                    for r in range(m):  # H symmetric: row i is column i, contiguous
                        Hd[r] += H[i, r] * change
                    d[i] = new_di
                    if fabs(change) > max_change:
                        max_change = fabs(change)
            if max_change <= tol:
                result = sweep + 1
                break
    free(Hd)
    return result


cdef inline void _gather(const double[:, ::1] G, const int64_t[:] block,
                         double[:, :] out) noexcept nogil:
    cdef int64_t m = block.shape[0], s, t
    for s in range(m):
        for t in range(m):
            out[s, t] = G[block[s], block[t]]


def gather_block(const double[:, ::1] G, const int64_t[:] block, double[:, :] out):
    """``out = G[block][:, block]`` (dense symmetric matrix, small block)."""
    with nogil:
        _gather(G, block, out)


cdef void _block_gram(const index_t[::1] indptr, const index_t[::1] indices,
                      const double[::1] data, const int64_t[:] cols, const double[:] weights,
                      double[:] work, double[:, :] out) noexcept nogil:
    cdef int64_t m = cols.shape[0], s, t, j, c, ptr
    cdef bint unit = weights.shape[0] == 0
    cdef double acc
    for s in range(m):
        j = cols[s]
        for ptr in range(indptr[j], indptr[j + 1]):
            work[indices[ptr]] = data[ptr] if unit else data[ptr] * weights[indices[ptr]]
        for t in range(s, m):
            c = cols[t]
            acc = 0.0
            for ptr in range(indptr[c], indptr[c + 1]):
                acc += work[indices[ptr]] * data[ptr]
            out[s, t] = acc
            out[t, s] = acc
        for ptr in range(indptr[j], indptr[j + 1]):
            work[indices[ptr]] = 0.0


def block_gram(const index_t[::1] indptr, const index_t[::1] indices, const double[::1] data,
               const int64_t[:] cols, const double[:] weights, double[:] work,
               double[:, :] out):
    """``out = A[:, cols]^T diag(w) A[:, cols]`` from the CSC of A (small block).

    ``weights`` of length 0 means unit weights. ``work`` is a zeroed buffer of
    ``n_samples`` entries and is left zeroed. Repeated columns are allowed.
    """
    with nogil:
        _block_gram(indptr, indices, data, cols, weights, work, out)


def stacked_block_grams(const index_t[::1] indptr, const index_t[::1] indices,
                        const double[::1] data, const int64_t[:, :] block_cols,
                        const int64_t[:] sizes, double[:] work, double[:, :, :] out):
    """``out[b, :s, :s] = A_b^T A_b`` for every block (rows of ``block_cols``, ``s = sizes[b]``).

    ``out`` is zeroed by the caller, so the padding stays zero.
    """
    cdef const double[:] empty = np.empty(0)
    cdef int64_t b, s
    with nogil:
        for b in range(block_cols.shape[0]):
            s = sizes[b]
            _block_gram(indptr, indices, data, block_cols[b, :s], empty, work, out[b, :s, :s])


def stacked_gather(const double[:, ::1] G, const int64_t[:, :] block_index,
                   const int64_t[:] sizes, double[:, :, :] out):
    """``out[b, :s, :s] = G[block][:, block]`` for every block (dense symmetric G)."""
    cdef int64_t b, s
    with nogil:
        for b in range(block_index.shape[0]):
            s = sizes[b]
            _gather(G, block_index[b, :s], out[b, :s, :s])


def gram_update(G, block, delta, g):
    """``g += G[:, b] delta`` through the rows ``G[b]`` (G symmetric, C order)."""
    cdef Arr GG, b, dt, gg
    _arr(G, &GG, b'f', 2, False, True, "G")
    _arr(block, &b, b'l', 1, False, False, "block")
    _arr(delta, &dt, b'f', 1, False, False, "delta")
    _arr(g, &gg, b'f', 1, True, False, "g")
    cdef const int64_t *blk = <const int64_t*>b.data
    cdef const double *Gd = <const double*>GG.data
    cdef const double *dd = <const double*>dt.data
    cdef double *gd = <double*>gg.data
    cdef int64_t p = gg.n0, t, j, row
    cdef double d
    with nogil:
        for t in range(b.n0):
            d = dd[t * dt.s0]
            row = blk[t * b.s0]
            if gg.s0 == 1:  # a unit-stride loop vectorises
                for j in range(p):
                    gd[j] += Gd[row * GG.s0 + j] * d
            else:
                for j in range(p):
                    gd[j * gg.s0] += Gd[row * GG.s0 + j] * d


def cholesky_solve(const double[:, :] H, const double[:] rhs, double[:, :] work,
                   double[:] out):
    """``out = H^{-1} rhs`` by Cholesky; returns False if H is not positive definite."""
    cdef int64_t m = rhs.shape[0], i, j, k
    cdef double s
    cdef bint ok = True
    with nogil:
        for i in range(m):
            for j in range(i + 1):
                s = H[i, j]
                for k in range(j):
                    s -= work[i, k] * work[j, k]
                if i == j:
                    if s <= 1e-14 * max(fabs(H[i, i]), 1e-300):
                        ok = False
                        break
                    work[i, i] = sqrt(s)
                else:
                    work[i, j] = s / work[j, j]
            if not ok:
                break
        if ok:
            for i in range(m):  # forward: L y = rhs
                s = rhs[i]
                for k in range(i):
                    s -= work[i, k] * out[k]
                out[i] = s / work[i, i]
            for i in range(m - 1, -1, -1):  # backward: L^T x = y
                s = out[i]
                for k in range(i + 1, m):
                    s -= work[k, i] * out[k]
                out[i] = s / work[i, i]
    return ok


cdef inline int64_t _top_k_abs(const double *v, int64_t n, int64_t k, int64_t *out,
                               double *hv, int64_t *hi) noexcept nogil:
    """Indices of the k largest |v_i| (ties: lowest index first) into out, sorted; the
    heap buffers hv, hi hold k entries. Returns the count min(k, n)."""
    return _top_k(v, n, k, out, hv, hi, True)


cdef inline int64_t _top_k_signed(const double *v, int64_t n, int64_t k, int64_t *out,
                                  double *hv, int64_t *hi) noexcept nogil:
    """Like ``_top_k_abs`` on signed values (the k largest v_i, ties: lowest index)."""
    return _top_k(v, n, k, out, hv, hi, False)


cdef int64_t _top_k(const double *v, int64_t n, int64_t k, int64_t *out, double *hv,
                    int64_t *hi, bint absolute) noexcept nogil:
    """The k largest ``|v_i|`` (``absolute``) or ``v_i`` by a bounded min-heap."""
    cdef int64_t size = 0, i, pos, par, c, t, key
    cdef double a
    if k > n:
        k = n
    for i in range(n):
        a = fabs(v[i]) if absolute else v[i]
        if size < k:  # push, sift up (min-heap on (value, -index))
            pos = size
            size += 1
            while pos > 0:
                par = (pos - 1) // 2
                if hv[par] > a or (hv[par] == a and hi[par] < i):
                    hv[pos] = hv[par]
                    hi[pos] = hi[par]
                    pos = par
                else:
                    break
            hv[pos] = a
            hi[pos] = i
        elif a > hv[0]:  # replace the root, sift down
            pos = 0
            while True:
                c = 2 * pos + 1
                if c >= k:
                    break
                if c + 1 < k and (hv[c + 1] < hv[c] or (hv[c + 1] == hv[c] and hi[c + 1] > hi[c])):
                    c += 1
                if hv[c] < a or (hv[c] == a and hi[c] > i):
                    hv[pos] = hv[c]
                    hi[pos] = hi[c]
                    pos = c
                else:
                    break
            hv[pos] = a
            hi[pos] = i
    for t in range(size):  # insertion sort of the (small) index set
        key = hi[t]
        pos = t
        while pos > 0 and out[pos - 1] > key:
            out[pos] = out[pos - 1]
            pos -= 1
        out[pos] = key
    return size


def top_k_abs(const double[::1] v, int64_t k, int64_t[::1] out):
    """Indices of the ``k`` largest ``|v_i|`` (ties: lowest index first), sorted; O(n log k)."""
    cdef int64_t n = v.shape[0], size, kk = min(max(k, 0), n)
    if out.shape[0] < kk:
        raise ValueError(f"top_k_abs: out must hold {kk} values, got {out.shape[0]}")
    cdef double *hv
    cdef int64_t *hi
    _alloc_work(kk + 1, kk + 1, &hv, &hi)
    with nogil:
        size = _top_k_abs(&v[0] if n > 0 else NULL, n, kk, &out[0] if kk > 0 else NULL, hv, hi)
    free(hv)
    free(hi)
    return size


cdef inline int64_t _iht_step(double *step, int64_t n, double mu, int64_t kk, int64_t *sup,
                              double *vals, int64_t size, int64_t *new_support, double *hv,
                              int64_t *hi) noexcept nogil:
    """One IHT step once ``step = g + H d`` holds: ``d <- H_k(d - mu step)`` with ``d`` given
    by ``(sup, vals)``. Returns the new support size, or -1 when the support repeats (then
    ``sup``/``vals`` are left as they were)."""
    cdef int64_t j, t, new_size
    for j in range(n):
        step[j] = -mu * step[j]
    for t in range(size):
        step[sup[t]] += vals[t]
    new_size = _top_k_abs(step, n, kk, new_support, hv, hi)
    if new_size == size:
        for t in range(size):
            if new_support[t] != sup[t]:
                break
        else:
            return -1
    for t in range(new_size):
        sup[t] = new_support[t]
        vals[t] = step[new_support[t]]
    return new_size


def iht_gram(const double[:, ::1] G, const double[::1] g, const double[::1] inv_sqrt_L,
             int64_t k, double mu, int64_t max_iter, int64_t[::1] support):
    """GSQ block for variable blocks by IHT with a dense bound ``G`` (Nutini et al., 2022).

    ``d = -g / sqrt(L)``, then ``d <- H_k(d - mu (g + G d))`` at most ``max_iter``
    times, stopping when the support repeats. Writes the support (sorted) to
    ``support`` and returns its size.
    """
    cdef int64_t n = g.shape[0], kk = min(max(k, 0), n), size, new_size, i, j, t, it
    cdef double v
    cdef int one = 1, nn = <int>n
    if G.shape[0] != n or G.shape[1] != n or inv_sqrt_L.shape[0] != n \
            or support.shape[0] < kk:
        raise ValueError("iht_gram: inconsistent shapes of G, g, inv_sqrt_L or support")
    # one allocation: d, step (n each), vals, hv (kk each); new_support, hi (kk each)
    cdef double *buf
    cdef int64_t *ibuf
    cdef double *d
    cdef double *step
    cdef double *vals
    cdef double *hv
    cdef int64_t *new_support
    cdef int64_t *hi
    cdef int64_t *sup = &support[0]
    _alloc_work(2 * n + 2 * kk + 1, 2 * kk + 1, &buf, &ibuf)
    d, step, vals, hv = buf, buf + n, buf + 2 * n, buf + 2 * n + kk
    new_support, hi = ibuf, ibuf + kk
    with nogil:
        for i in range(n):
            d[i] = -g[i] * inv_sqrt_L[i]
        size = _top_k_abs(d, n, kk, sup, hv, hi)
        for t in range(size):
            vals[t] = d[sup[t]]
        for it in range(max_iter):
            for j in range(n):
                step[j] = g[j]
            for t in range(size):  # step = g + G d, d supported on the current support
                v = vals[t]
                daxpy(&nn, &v, &G[sup[t], 0], &one, step, &one)
            new_size = _iht_step(step, n, mu, kk, sup, vals, size, new_support, hv, hi)
            if new_size < 0:
                break
            size = new_size
    free(buf)
    free(ibuf)
    return size


# ------------------------------------------------------------------ greedy scores
cdef inline double _prox_step(double x, double g, double c, double a, double lo,
                              double hi) noexcept nogil:
    """``prox(x - g / c) - x`` for ``psi(t) = a |t| + indicator(lo <= t <= hi)``."""
    cdef double u = x - g / c, t = a / c
    if u > t:
        u -= t
    elif u < -t:
        u += t
    else:
        u = 0.0
    if u < lo:
        u = lo
    elif u > hi:
        u = hi
    return u - x


cdef inline double _score(int mode, double x, double g, double c, double a, double lo,
                          double hi, bint smooth) noexcept nogil:
    """Mode 0: |residual| = |c (x - prox(x - g/c))| (|g| when smooth); mode 1: the GS-q
    model decrease -s = -(g d + c/2 d^2 + a(|x + d| - |x|)) >= 0 (g^2 / 2c when smooth);
    mode 2: the signed residual (for IHT)."""
    cdef double d, s
    if smooth:
        if mode == 1:
            return g * g / (2.0 * c)
        return fabs(g) if mode == 0 else g
    d = _prox_step(x, g, c, a, lo, hi)
    if mode == 1:
        s = g * d + 0.5 * c * d * d + a * (fabs(x + d) - fabs(x))
        return -s if s < 0.0 else 0.0
    return fabs(c * d) if mode == 0 else -c * d


cdef int _check_score_args(int64_t n, const double[::1] x, const double[::1] curv,
                           const double[::1] alpha, const double[::1] lower,
                           const double[::1] upper, str name) except -1:
    """``x`` and ``curv`` of length n; ``alpha``, ``lower``, ``upper`` of length n or 1."""
    if x.shape[0] != n or curv.shape[0] != n:
        raise ValueError(f"{name}: x and curv must have the length of g ({n})")
    # plain comparisons (no Python objects): this runs once per greedy selection
    if (alpha.shape[0] != n and alpha.shape[0] != 1) or (lower.shape[0] != n
            and lower.shape[0] != 1) or (upper.shape[0] != n and upper.shape[0] != 1):
        raise ValueError(f"{name}: alpha, lower and upper must each hold 1 or {n} values, "
                         f"got {alpha.shape[0]}, {lower.shape[0]}, {upper.shape[0]}")
    return 0


def greedy_scores(int mode, const double[::1] g, const double[::1] x, const double[::1] curv,
                  const double[::1] alpha, const double[::1] lower, const double[::1] upper,
                  bint smooth, double[::1] out):
    """Per-coordinate greedy scores in one pass (see :func:`select_top` for the modes).

    ``alpha``, ``lower`` and ``upper`` hold one value per coordinate or a single
    value for all.
    """
    cdef int64_t n = g.shape[0], i
    _check_score_args(n, x, curv, alpha, lower, upper, "greedy_scores")
    if out.shape[0] < n:
        raise ValueError(f"greedy_scores: out must hold {n} values, got {out.shape[0]}")
    cdef bint sa = alpha.shape[0] == 1, sl = lower.shape[0] == 1, su = upper.shape[0] == 1
    with nogil:
        for i in range(n):
            out[i] = _score(mode, x[i], g[i], curv[i], alpha[0 if sa else i],
                            lower[0 if sl else i], upper[0 if su else i], smooth)


def select_top(int mode, const double[::1] g, const double[::1] x, const double[::1] curv,
               const double[::1] alpha, const double[::1] lower, const double[::1] upper,
               bint smooth, const int8_t[::1] mask, int64_t k, int64_t[::1] out,
               double[::1] work):
    """The ``k`` coordinates of largest greedy score, sorted; returns their number.

    Scores (one O(n) pass, then an O(n log k) heap; no temporary arrays):
    mode 0 (GS) the prox-gradient residual ``|c_i (x_i - prox(x_i - g_i / c_i))|``
    (``|g_i|`` when ``psi = 0``); mode 1 (GSL / GSD / GS-q) the model decrease
    ``-min_d [g_i d + c_i d^2 / 2 + psi_i(x_i + d) - psi_i(x_i)]`` (``g_i^2 / 2c_i``
    when ``psi = 0``). ``curv`` holds ``c_i`` (L_i, or the GSD diagonal), a non-empty
    ``mask`` excludes the coordinates where it is 0. ``work`` holds ``n`` doubles.
    """
    cdef int64_t n = g.shape[0], i, kk = min(max(k, 0), n), size
    _check_score_args(n, x, curv, alpha, lower, upper, "select_top")
    if (mask.shape[0] != 0 and mask.shape[0] != n) or out.shape[0] < kk or work.shape[0] < n:
        raise ValueError("select_top: mask must be empty or of the length of g, out must hold "
                         "k and work n values")
    cdef bint sa = alpha.shape[0] == 1, sl = lower.shape[0] == 1, su = upper.shape[0] == 1
    cdef bint masked = mask.shape[0] > 0
    cdef double *hv
    cdef int64_t *hi
    _alloc_work(kk + 1, kk + 1, &hv, &hi)
    with nogil:
        for i in range(n):
            if masked and mask[i] == 0:
                work[i] = -1.0  # below every score (scores are >= 0): chosen last
            else:
                work[i] = _score(mode, x[i], g[i], curv[i], alpha[0 if sa else i],
                                 lower[0 if sl else i], upper[0 if su else i], smooth)
        size = _top_k_signed(&work[0] if n > 0 else NULL, n, kk, &out[0] if kk > 0 else NULL,
                             hv, hi)
    free(hv)
    free(hi)
    return size


cdef inline int64_t _forward_support(const index_t *cp, const index_t *ci, const double *cx,
                                    const int64_t *sup, const double *vals, int64_t size,
                                    double *zw, int8_t *mark, int64_t *rows) noexcept nogil:
    """``zw += A_S vals`` through the support's columns; the rows touched first are listed
    in ``rows`` (flagged in ``mark``) and their number returned."""
    cdef int64_t t, j, ptr, i, nt = 0
    cdef double v
    for t in range(size):
        j = sup[t]
        v = vals[t]
        for ptr in range(cp[j], cp[j + 1]):
            i = ci[ptr]
            zw[i] += cx[ptr] * v
            if mark[i] == 0:
                mark[i] = 1
                rows[nt] = i
                nt += 1
    return nt


cdef void _iht_matvec(const index_t *cp, const index_t *ci, const double *cx,
                      const index_t *rp, const index_t *ri, const double *rx,
                      const int64_t *sup, const double *vals, int64_t size, double scale,
                      double *zw, int8_t *mark, int64_t *rows, double *out) noexcept nogil:
    """``out += scale * A^T (A_S vals)`` through the rows the support touches."""
    cdef int64_t t, ptr, i
    cdef int64_t nt = _forward_support(cp, ci, cx, sup, vals, size, zw, mark, rows)
    cdef double c
    for t in range(nt):
        i = rows[t]
        mark[i] = 0
        c = scale * zw[i]
        zw[i] = 0.0
        for ptr in range(rp[i], rp[i + 1]):
            out[ri[ptr]] += rx[ptr] * c


cdef int64_t _iht_sparse(const index_t *cp, const index_t *ci, const double *cx,
                         const index_t *rp, const index_t *ri, const double *rx,
                         const double *g, const double *inv_sqrt_L, int64_t n, int64_t kk,
                         double curvature, double mu, int64_t max_iter, int64_t *sup,
                         double *buf, int64_t *ibuf, double *zw, int8_t *mark,
                         int64_t *rows) noexcept nogil:
    cdef double *d = buf
    cdef double *step = buf + n
    cdef double *vals = buf + 2 * n
    cdef double *hv = buf + 2 * n + kk
    cdef int64_t *new_support = ibuf
    cdef int64_t *hi = ibuf + kk
    cdef int64_t size, new_size, i, t, it
    for i in range(n):
        d[i] = -g[i] * inv_sqrt_L[i]
    size = _top_k_abs(d, n, kk, sup, hv, hi)
    for t in range(size):
        vals[t] = d[sup[t]]
    for it in range(max_iter):
        for i in range(n):
            step[i] = g[i]
        _iht_matvec(cp, ci, cx, rp, ri, rx, sup, vals, size, curvature, zw, mark, rows, step)
        new_size = _iht_step(step, n, mu, kk, sup, vals, size, new_support, hv, hi)
        if new_size < 0:
            break
        size = new_size
    return size


def iht_sparse(csc_indptr, csc_indices, csc_data, csr_indptr, csr_indices, csr_data,
               const double[::1] g, const double[::1] inv_sqrt_L, int64_t k, double curvature,
               double mu, int64_t max_iter, int64_t[::1] support, double[::1] z_work,
               int8_t[::1] mark, int64_t[::1] rows):
    """GSQ block for variable blocks by IHT with the bound ``curvature * A^T A`` of a sparse
    design (Nutini et al., 2022), as :func:`iht_gram` without forming ``A^T A``: each
    product ``H d`` goes forward through the support's columns (CSC) and back through
    the rows they touch (CSR). ``z_work`` (n_samples, zero) and ``mark`` (zero) are
    left as found; ``rows`` holds n_samples entries. Returns the support's size.
    """
    cdef Arr p1, i1, x1, p2, i2, x2
    cdef int isz = _sparse_pair(csc_indptr, csc_indices, csc_data, csr_indptr, csr_indices,
                                csr_data, &p1, &i1, &x1, &p2, &i2, &x2, "iht_sparse")
    cdef int64_t n = g.shape[0], kk = min(max(k, 0), n), size
    if inv_sqrt_L.shape[0] != n or support.shape[0] < kk or p1.n0 != n + 1 \
            or p2.n0 != z_work.shape[0] + 1 or mark.shape[0] != z_work.shape[0] \
            or rows.shape[0] < z_work.shape[0]:
        raise ValueError("iht_sparse: inconsistent shapes of g, inv_sqrt_L, support, the "
                         "work arrays or the design")
    cdef double *buf
    cdef int64_t *ibuf
    _alloc_work(2 * n + 2 * kk + 1, 2 * kk + 1, &buf, &ibuf)
    with nogil:
        if isz == 4:
            size = _iht_sparse(<const int32_t*>p1.data, <const int32_t*>i1.data,
                               <const double*>x1.data, <const int32_t*>p2.data,
                               <const int32_t*>i2.data, <const double*>x2.data, &g[0],
                               &inv_sqrt_L[0], n, kk, curvature, mu, max_iter, &support[0],
                               buf, ibuf, &z_work[0], &mark[0], &rows[0])
        else:
            size = _iht_sparse(<const int64_t*>p1.data, <const int64_t*>i1.data,
                               <const double*>x1.data, <const int64_t*>p2.data,
                               <const int64_t*>i2.data, <const double*>x2.data, &g[0],
                               &inv_sqrt_L[0], n, kk, curvature, mu, max_iter, &support[0],
                               buf, ibuf, &z_work[0], &mark[0], &rows[0])
    free(buf)
    free(ibuf)
    return size


cdef int64_t _iht_screen(const index_t *cp, const index_t *ci, const double *cx,
                         const double *g, const double *inv_sqrt_L, const double *col_norm,
                         int64_t n, int64_t kk, double curvature, double mu, int64_t *sup,
                         double *d, double *vals, double *hv, int64_t *hi, double *zw,
                         int8_t *mark, int64_t *rows) noexcept nogil:
    """IHT's start ``d = H_k(-g / sqrt(L))`` and a bound on its first step: the support's
    size when the step provably keeps the support (then IHT returns it), -1 otherwise."""
    cdef int64_t size, t, j, i, nt = 0, pos = 0
    cdef double zz = 0.0, r, v, lower_in = INFINITY, upper_out = -INFINITY, amax = 0.0
    cdef double spread = 0.0, gmax = 0.0
    for j in range(n):
        d[j] = -g[j] * inv_sqrt_L[j]
    size = _top_k_abs(d, n, kk, sup, hv, hi)
    for t in range(size):
        vals[t] = d[sup[t]]
        spread += col_norm[sup[t]] * fabs(vals[t])
    nt = _forward_support(cp, ci, cx, sup, vals, size, zw, mark, rows)  # z = A_S d_S
    for t in range(nt):
        i = rows[t]
        zz += zw[i] * zw[i]
        zw[i] = 0.0
        mark[i] = 0
    # |(H d)_j| = c |a_j^T z| <= c ||a_j|| ||z||: a band around each step entry
    r = curvature * mu * sqrt(zz)
    for j in range(n):  # sup is sorted: walk it alongside j
        amax = max(amax, col_norm[j])
        gmax = max(gmax, fabs(g[j]))
        if pos < size and sup[pos] == j:
            v = fabs(d[j] - mu * g[j]) - r * col_norm[j]
            lower_in = min(lower_in, v)
            pos += 1
        else:
            v = mu * fabs(g[j]) + r * col_norm[j]
            upper_out = max(upper_out, v)
    # a margin for the rounding of the exact step (sums of |G_ji d_i| <= ||a_j|| spread)
    v = 1e-9 * (fabs(lower_in) + fabs(upper_out) + mu * gmax
                + curvature * mu * amax * spread)
    if size == n or upper_out + v < lower_in - v:
        return size
    return -1


def iht_screen(csc_indptr, csc_indices, csc_data, const double[::1] g,
               const double[::1] inv_sqrt_L, const double[::1] col_norms, int64_t k,
               double curvature, double mu, int64_t[::1] support, double[::1] z_work,
               int8_t[::1] mark, int64_t[::1] rows):
    """Variable-block GSQ without a product when a bound settles it (Nutini et al., 2022).

    IHT starts from ``d = H_k(-g / sqrt(L))`` and stops when its step keeps the support.
    With ``H = c A^T A``, ``|(H d)_j| <= c ||a_j|| ||A_S d_S||`` bounds every entry of the
    first step ``d - mu (g + H d)`` from ``z = A_S d_S`` alone (the non-zeros of the
    support's columns); when every bound outside the support lies below every bound
    inside (with a margin for rounding), the support repeats and IHT's answer is the
    support: it is written to ``support`` and its size returned. Otherwise returns -1
    (``support`` then holds the start's support; call the full IHT). ``col_norms`` holds
    ``||a_j||``; ``z_work`` (n_samples, zero) and ``mark`` (zero) are left as found.
    """
    cdef Arr p1, i1, x1
    cdef int isz = _sparse(csc_indptr, csc_indices, csc_data, &p1, &i1, &x1, "iht_screen")
    cdef int64_t n = g.shape[0], kk = min(max(k, 0), n), size
    if inv_sqrt_L.shape[0] != n or col_norms.shape[0] != n or support.shape[0] < kk \
            or p1.n0 != n + 1 or mark.shape[0] != z_work.shape[0] \
            or rows.shape[0] < z_work.shape[0]:
        raise ValueError("iht_screen: inconsistent shapes of g, inv_sqrt_L, col_norms, "
                         "support, the work arrays or the design")
    cdef double *buf
    cdef int64_t *ibuf
    _alloc_work(n + 2 * kk + 1, kk + 1, &buf, &ibuf)
    with nogil:
        if isz == 4:
            size = _iht_screen(<const int32_t*>p1.data, <const int32_t*>i1.data,
                               <const double*>x1.data, &g[0], &inv_sqrt_L[0], &col_norms[0],
                               n, kk, curvature, mu, &support[0], buf, buf + n,
                               buf + n + kk, ibuf, &z_work[0], &mark[0], &rows[0])
        else:
            size = _iht_screen(<const int64_t*>p1.data, <const int64_t*>i1.data,
                               <const double*>x1.data, &g[0], &inv_sqrt_L[0], &col_norms[0],
                               n, kk, curvature, mu, &support[0], buf, buf + n,
                               buf + n + kk, ibuf, &z_work[0], &mark[0], &rows[0])
    free(buf)
    free(ibuf)
    return size


cdef double *_gram_row(const index_t *cp, const index_t *ci, const double *cx,
                       const index_t *rp, const index_t *ri, const double *rx, int64_t j,
                       int64_t p, double *cache, int64_t capacity, int64_t *slot_of,
                       int64_t *owner, int64_t *next_slot) noexcept nogil:
    """Row ``j`` of ``A^T A`` from the cache, computed into the oldest slot when missing
    (``G[j, :] = sum_{i in col j} A_ij A[i, :]``: the non-zeros of the rows column ``j``
    touches)."""
    cdef int64_t slot = slot_of[j], ptr, q, i
    cdef double *row
    cdef double a
    if slot >= 0:
        return cache + slot * p
    slot = next_slot[0] % capacity
    next_slot[0] += 1
    if owner[slot] >= 0:
        slot_of[owner[slot]] = -1
    owner[slot] = j
    slot_of[j] = slot
    row = cache + slot * p
    for q in range(p):
        row[q] = 0.0
    for ptr in range(cp[j], cp[j + 1]):
        a = cx[ptr]
        i = ci[ptr]
        for q in range(rp[i], rp[i + 1]):
            row[ri[q]] += rx[q] * a
    return row


cdef int64_t _iht_cached(const index_t *cp, const index_t *ci, const double *cx,
                         const index_t *rp, const index_t *ri, const double *rx,
                         const double *g, const double *inv_sqrt_L, int64_t n, int64_t kk,
                         double curvature, double mu, int64_t max_iter, int64_t *sup,
                         double *buf, int64_t *ibuf, double *cache, int64_t capacity,
                         int64_t *slot_of, int64_t *owner, int64_t *next_slot) noexcept nogil:
    cdef double *d = buf
    cdef double *step = buf + n
    cdef double *vals = buf + 2 * n
    cdef double *hv = buf + 2 * n + kk
    cdef int64_t *new_support = ibuf
    cdef int64_t *hi = ibuf + kk
    cdef int64_t size, new_size, i, t, it
    cdef int one = 1, nn = <int>n
    cdef double v
    cdef double *row
    for i in range(n):
        d[i] = -g[i] * inv_sqrt_L[i]
    size = _top_k_abs(d, n, kk, sup, hv, hi)
    for t in range(size):
        vals[t] = d[sup[t]]
    for it in range(max_iter):
        for i in range(n):
            step[i] = g[i]
        for t in range(size):  # step = g + c G d over the cached rows of the support
            row = _gram_row(cp, ci, cx, rp, ri, rx, sup[t], n, cache, capacity, slot_of,
                            owner, next_slot)
            v = curvature * vals[t]
            daxpy(&nn, &v, row, &one, step, &one)
        new_size = _iht_step(step, n, mu, kk, sup, vals, size, new_support, hv, hi)
        if new_size < 0:
            break
        size = new_size
    return size


def iht_cached(csc_indptr, csc_indices, csc_data, csr_indptr, csr_indices, csr_data,
               const double[::1] g, const double[::1] inv_sqrt_L, int64_t k, double curvature,
               double mu, int64_t max_iter, int64_t[::1] support, double[:, ::1] cache,
               int64_t[::1] slot_of, int64_t[::1] owner, int64_t[::1] next_slot):
    """GSQ block for variable blocks by IHT with the bound ``curvature * A^T A``, as
    :func:`iht_gram`, with the rows of ``A^T A`` the supports need computed on first use
    and kept in ``cache`` (capacity rows of ``p``; the oldest row is replaced when full):
    each product ``H d`` is ``|support|`` contiguous axpys once its rows are cached.
    ``slot_of`` (p, -1 = not cached), ``owner`` (capacity, -1 = free) and ``next_slot``
    (one entry) are the cache's bookkeeping, updated in place. Returns the support's size.
    """
    cdef Arr p1, i1, x1, p2, i2, x2
    cdef int isz = _sparse_pair(csc_indptr, csc_indices, csc_data, csr_indptr, csr_indices,
                                csr_data, &p1, &i1, &x1, &p2, &i2, &x2, "iht_cached")
    cdef int64_t n = g.shape[0], kk = min(max(k, 0), n), size, capacity = cache.shape[0]
    if cache.shape[1] != n or slot_of.shape[0] != n or owner.shape[0] != capacity \
            or capacity < 1 or next_slot.shape[0] < 1 or inv_sqrt_L.shape[0] != n \
            or support.shape[0] < kk or p1.n0 != n + 1:
        raise ValueError("iht_cached: inconsistent shapes of g, cache, slot_of, owner, "
                         "support or the design")
    cdef double *buf
    cdef int64_t *ibuf
    _alloc_work(2 * n + 2 * kk + 1, 2 * kk + 1, &buf, &ibuf)
    with nogil:
        if isz == 4:
            size = _iht_cached(<const int32_t*>p1.data, <const int32_t*>i1.data,
                               <const double*>x1.data, <const int32_t*>p2.data,
                               <const int32_t*>i2.data, <const double*>x2.data, &g[0],
                               &inv_sqrt_L[0], n, kk, curvature, mu, max_iter, &support[0],
                               buf, ibuf, &cache[0, 0], capacity, &slot_of[0], &owner[0],
                               &next_slot[0])
        else:
            size = _iht_cached(<const int64_t*>p1.data, <const int64_t*>i1.data,
                               <const double*>x1.data, <const int64_t*>p2.data,
                               <const int64_t*>i2.data, <const double*>x2.data, &g[0],
                               &inv_sqrt_L[0], n, kk, curvature, mu, max_iter, &support[0],
                               buf, ibuf, &cache[0, 0], capacity, &slot_of[0], &owner[0],
                               &next_slot[0])
    free(buf)
    free(ibuf)
    return size


def block_score_argmax(int mode, const double[::1] g, const double[::1] x,
                       const double[::1] curv, const double[::1] alpha,
                       const double[::1] lower, const double[::1] upper, bint smooth,
                       const int64_t[:, ::1] block_index, const int64_t[::1] sizes,
                       bint square):
    """Fixed-block greedy rules: the block maximising the sum of its coordinates' scores
    (:func:`select_top`'s modes; squared with ``square``: GS's ``||r_b||^2``), in one pass
    with no temporaries. Ties: the lowest block index."""
    cdef int64_t nb = block_index.shape[0], b, t, i, best = 0
    cdef bint sa = alpha.shape[0] == 1, sl = lower.shape[0] == 1, su = upper.shape[0] == 1
    cdef double acc, v, top = -1.0
    with nogil:
        for b in range(nb):
            acc = 0.0
            for t in range(sizes[b]):
                i = block_index[b, t]
                v = _score(mode, x[i], g[i], curv[i], alpha[0 if sa else i],
                           lower[0 if sl else i], upper[0 if su else i], smooth)
                acc = acc + (v * v if square else v)
            if acc > top:
                top = acc
                best = b
    return best


def block_quadratic_argmax(const double[::1] g, const double[::1] x, const double[::1] curv,
                           const double[::1] alpha, const double[::1] lower,
                           const double[::1] upper, bint smooth,
                           const int64_t[:, ::1] block_index, const int64_t[::1] sizes,
                           const double[:, ::1] P_packed, double[::1] scores):
    """Fixed-block GSQ: ``scores[b] = r_b^T P_b r_b`` for every block, returns the argmax.

    ``r`` is the signed residual of :func:`select_top`'s mode 2 (``g`` when ``psi = 0``),
    computed on the fly; ``block_index`` (n_blocks, m) holds each block's coordinates
    (padded beyond ``sizes[b]``) and ``P_packed`` (n_blocks, m (m + 1) / 2) the upper
    triangles of the symmetric ``H_b^+``, row by row (entry ``(s, t)``, ``s <= t``, at
    ``s m - s (s - 1) / 2 + t - s``). One pass, ``O(sum_b |b|^2 / 2) = O(p m)``
    multiply-adds, no temporaries (Nutini et al., 2022). Ties: the lowest block index.
    """
    cdef int64_t nb = block_index.shape[0], m = block_index.shape[1], b, s, t, i, best = 0
    cdef int64_t off
    cdef bint sa = alpha.shape[0] == 1, sl = lower.shape[0] == 1, su = upper.shape[0] == 1
    cdef double acc, row, top = -1.0
    if P_packed.shape[0] != nb or P_packed.shape[1] != m * (m + 1) // 2 \
            or scores.shape[0] < nb or sizes.shape[0] != nb:
        raise ValueError("block_quadratic_argmax: inconsistent shapes of block_index, "
                         "sizes, P_packed or scores")
    cdef double *rb = <double*>malloc((m + 1) * sizeof(double))
    if rb == NULL:
        raise MemoryError()
    with nogil:
        for b in range(nb):
            for s in range(sizes[b]):
                i = block_index[b, s]
                rb[s] = _score(2, x[i], g[i], curv[i], alpha[0 if sa else i],
                               lower[0 if sl else i], upper[0 if su else i], smooth)
            acc = 0.0
            for s in range(sizes[b]):  # the diagonal once, the off-diagonal twice
                off = s * m - s * (s - 1) // 2 - s
                row = 0.0
                for t in range(s + 1, sizes[b]):
                    row = row + P_packed[b, off + t] * rb[t]
                acc = acc + rb[s] * (P_packed[b, off + s] * rb[s] + 2.0 * row)
            scores[b] = acc
            if acc > top:
                top = acc
                best = b
    free(rb)
    return best


cdef inline void _block_residual(double *rb, const int64_t *idx, int64_t sz, const double *g,
                                 const double *x, const double *curv, const double *alpha,
                                 const double *lower, const double *upper, bint sa, bint sl,
                                 bint su, bint smooth) noexcept nogil:
    """``rb[s]`` = the signed residual of :func:`select_top`'s mode 2 at coordinate
    ``idx[s]`` (``g`` itself when ``psi = 0``: no loads of the psi arrays); ``sa``,
    ``sl``, ``su``: alpha, lower, upper are scalars (length 1)."""
    cdef int64_t s, i
    for s in range(sz):
        i = idx[s]
        if smooth:
            rb[s] = g[i]
        else:
            rb[s] = _score(2, x[i], g[i], curv[i], alpha[0 if sa else i],
                           lower[0 if sl else i], upper[0 if su else i], smooth)


def block_quadratic_argmax_full(const double[::1] g, const double[::1] x,
                                const double[::1] curv, const double[::1] alpha,
                                const double[::1] lower, const double[::1] upper, bint smooth,
                                const int64_t[:, ::1] block_index, const int64_t[::1] sizes,
                                const double[:, :, ::1] P, double[::1] scores):
    """:func:`block_quadratic_argmax` with the whole ``H_b^+`` (n_blocks, m, m), zero-padded.

    ``scores[b] = sum_s r_s (P_b[s, :] . r_b)``: ``|b|^2`` multiply-adds instead of
    ``|b| (|b| + 1) / 2``, but the row products are independent chains, which is
    faster for small blocks (the packed form's chains are latency-bound there).
    Ties: the lowest block index.
    """
    cdef int64_t nb = block_index.shape[0], m = block_index.shape[1], b, s, t, i, best = 0
    cdef int64_t sz
    cdef bint sa = alpha.shape[0] == 1, sl = lower.shape[0] == 1, su = upper.shape[0] == 1
    cdef double acc, v, top = -1.0
    cdef const double *row
    if P.shape[0] != nb or P.shape[1] != m or P.shape[2] != m \
            or scores.shape[0] < nb or sizes.shape[0] != nb:
        raise ValueError("block_quadratic_argmax_full: inconsistent shapes of block_index, "
                         "sizes, P or scores")
    if g.shape[0] != x.shape[0]:
        raise ValueError("block_quadratic_argmax_full: g and x differ in length")
    _check_score_args(g.shape[0], x, curv, alpha, lower, upper, "block_quadratic_argmax_full")
    cdef double *rb = <double*>malloc((m + 1) * sizeof(double))
    if rb == NULL:
        raise MemoryError()
    with nogil:
        for b in range(nb):
            sz = sizes[b]
            _block_residual(rb, &block_index[b, 0], sz, &g[0], &x[0], &curv[0], &alpha[0],
                            &lower[0], &upper[0], sa, sl, su, smooth)
            acc = 0.0
            for s in range(sz):
                row = &P[b, s, 0]
                v = 0.0
                for t in range(sz):
                    v = v + row[t] * rb[t]
                acc = acc + rb[s] * v
            scores[b] = acc
            if acc > top:
                top = acc
                best = b
    free(rb)
    return best


def block_upper_root_argmax(const double[::1] g, const double[::1] x,
                            const double[::1] curv, const double[::1] alpha,
                            const double[::1] lower, const double[::1] upper, bint smooth,
                            const int64_t[:, ::1] block_index, const int64_t[::1] sizes,
                            const double[:, ::1] R_packed, double[::1] scores):
    """Fixed-block GSQ: ``scores[b] = ||R_b r_b||^2`` with ``R_b^T R_b = H_b^+``, the argmax.

    ``R_b`` is upper triangular, packed row by row as in :func:`block_quadratic_argmax`
    (row ``k``, entries ``k..m-1``, at offset ``k m - k (k - 1) / 2``). Each
    ``(R_b r_b)_k`` is one contiguous dot product, independent of the others:
    ``|b| (|b| + 1) / 2`` multiply-adds per block like the packed ``H_b^+`` form, whose
    ``2 r_s sum_t`` chains depend on each other. ``r`` as in :func:`select_top`'s mode 2.
    Ties: the lowest block index.
    """
    cdef int64_t nb = block_index.shape[0], m = block_index.shape[1], b, k, t, i, best = 0
    cdef int64_t sz
    cdef bint sa = alpha.shape[0] == 1, sl = lower.shape[0] == 1, su = upper.shape[0] == 1
    cdef double acc, v, top = -1.0
    cdef const double *row
    if R_packed.shape[0] != nb or R_packed.shape[1] != m * (m + 1) // 2 \
            or scores.shape[0] < nb or sizes.shape[0] != nb:
        raise ValueError("block_upper_root_argmax: inconsistent shapes of block_index, "
                         "sizes, R_packed or scores")
    if g.shape[0] != x.shape[0]:
        raise ValueError("block_upper_root_argmax: g and x differ in length")
    _check_score_args(g.shape[0], x, curv, alpha, lower, upper, "block_upper_root_argmax")
    cdef double *rb = <double*>malloc((m + 1) * sizeof(double))
    if rb == NULL:
        raise MemoryError()
    with nogil:
        for b in range(nb):
            sz = sizes[b]
            _block_residual(rb, &block_index[b, 0], sz, &g[0], &x[0], &curv[0], &alpha[0],
                            &lower[0], &upper[0], sa, sl, su, smooth)
            acc = 0.0
            for k in range(sz):
                row = &R_packed[b, k * m - k * (k - 1) // 2 - k]  # row[t] = R[k, t], t >= k
                v = 0.0
                for t in range(k, sz):
                    v = v + row[t] * rb[t]
                acc = acc + v * v
            scores[b] = acc
            if acc > top:
                top = acc
                best = b
    free(rb)
    return best


def block_root_argmax(const double[::1] g, const double[::1] x, const double[::1] curv,
                      const double[::1] alpha, const double[::1] lower,
                      const double[::1] upper, bint smooth,
                      const int64_t[:, ::1] block_index, const int64_t[::1] sizes,
                      const double[:, ::1] L_packed, double[::1] scores):
    """Fixed-block GSQ through a triangular root: ``scores[b] = ||L_b^T r_b||^2``, the argmax.

    ``L_b`` (lower triangular, ``L_b L_b^T = H_b^+``) is packed row by row in
    ``L_packed`` (n_blocks, m (m + 1) / 2): row ``t`` (entries ``0..t``) at offset
    ``t (t + 1) / 2``. ``r`` is the signed residual of :func:`select_top`'s mode 2 (``g``
    when ``psi = 0``), computed on the fly. ``y = L_b^T r_b`` is accumulated as
    ``y[0..t] += L_b[t, 0..t] r_t`` (contiguous rows, no reduction in the inner loop, so
    it vectorises), skipping every ``r_t = 0``: with an L1 term the residual vanishes on
    the coordinates held at zero, so the cost is ``O(p + sum_b nnz(r_b) |b| / 2)``
    instead of ``O(p |b| / 2)``. Ties: the lowest block index.
    """
    cdef int64_t nb = block_index.shape[0], m = block_index.shape[1], b, t, k, i, best = 0
    cdef int64_t top_t
    cdef bint sa = alpha.shape[0] == 1, sl = lower.shape[0] == 1, su = upper.shape[0] == 1
    cdef double acc, r, top = -1.0
    cdef const double *row
    if L_packed.shape[0] != nb or L_packed.shape[1] != m * (m + 1) // 2 \
            or scores.shape[0] < nb or sizes.shape[0] != nb:
        raise ValueError("block_root_argmax: inconsistent shapes of block_index, "
                         "sizes, L_packed or scores")
    if g.shape[0] != x.shape[0]:
        raise ValueError("block_root_argmax: g and x differ in length")
    _check_score_args(g.shape[0], x, curv, alpha, lower, upper, "block_root_argmax")
    cdef double *y = <double*>malloc((m + 1) * sizeof(double))
    if y == NULL:
        raise MemoryError()
    with nogil:
        for b in range(nb):
            top_t = -1
            for t in range(sizes[b]):
                i = block_index[b, t]
                r = _score(2, x[i], g[i], curv[i], alpha[0 if sa else i],
                           lower[0 if sl else i], upper[0 if su else i], smooth)
                if r == 0.0:
                    continue
                row = &L_packed[b, t * (t + 1) // 2]
                for k in range(top_t + 1, t + 1):  # entries of y not yet written
                    y[k] = 0.0
                if t > top_t:
                    top_t = t
                for k in range(t + 1):
                    y[k] += row[k] * r
            acc = 0.0
            for k in range(top_t + 1):
                acc += y[k] * y[k]
            scores[b] = acc
            if acc > top:
                top = acc
                best = b
    free(y)
    return best


def support_cg(const index_t[::1] indptr, const index_t[::1] indices,
               const double[::1] data, const int64_t[::1] cols, const double[::1] pen,
               const double[::1] dinv, const double[::1] y, double[::1] u, double[::1] R,
               int64_t max_iter, double small):
    """Jacobi-preconditioned CG on ``min_u 1/2 ||y - A_S u||^2 + pen^T u`` (``A_S`` the
    columns ``cols`` of a CSC design), from ``u`` (updated in place).

    ``dinv`` holds the inverse squared column norms; ``R`` receives ``y - A_S u``.
    Stops after ``max_iter`` iterations or once ``max |A_S^T R - pen| <= small``.
    Returns ``(iterations, converged)``. Every index is checked before the loops.
    """
    cdef int64_t k = cols.shape[0], n = y.shape[0], ncol = indptr.shape[0] - 1
    cdef int64_t a, j, ptr, i, it = 0
    cdef double rz, rz_old, dq, step, v, worst
    cdef bint converged = False
    if pen.shape[0] != k or dinv.shape[0] != k or u.shape[0] != k or R.shape[0] != n:
        raise ValueError("support_cg: inconsistent lengths of cols, pen, dinv, u, y or R")
    for a in range(k):
        j = cols[a]
        if j < 0 or j >= ncol:
            raise ValueError(f"support_cg: column index {j} out of [0, {ncol})")
        if indptr[j] < 0 or indptr[j + 1] < indptr[j] or indptr[j + 1] > indices.shape[0] \
                or indptr[j + 1] > data.shape[0]:
            raise ValueError("support_cg: inconsistent indptr")
        for ptr in range(indptr[j], indptr[j + 1]):
            if indices[ptr] < 0 or indices[ptr] >= n:
                raise ValueError(f"support_cg: row index {indices[ptr]} out of [0, {n})")
    cdef double *buf = <double*>malloc((n + 3 * k + 1) * sizeof(double))
    if buf == NULL:
        raise MemoryError()
    cdef double *Ad = buf
    cdef double *r = buf + n
    cdef double *z = r + k
    cdef double *d = z + k
    with nogil:
        for i in range(n):
            R[i] = y[i]
        for a in range(k):
            j = cols[a]
            for ptr in range(indptr[j], indptr[j + 1]):
                R[indices[ptr]] -= data[ptr] * u[a]
        rz = 0.0
        for a in range(k):
            j = cols[a]
            v = 0.0
            for ptr in range(indptr[j], indptr[j + 1]):
                v += data[ptr] * R[indices[ptr]]
            r[a] = v - pen[a]
            z[a] = dinv[a] * r[a]
            d[a] = z[a]
            rz += r[a] * z[a]
        while True:
            worst = 0.0
            for a in range(k):
                if fabs(r[a]) > worst:
                    worst = fabs(r[a])
            if worst <= small:
                converged = True
                break
            if it >= max_iter:
                break
            it += 1
            for i in range(n):
                Ad[i] = 0.0
            for a in range(k):
                j = cols[a]
                for ptr in range(indptr[j], indptr[j + 1]):
                    Ad[indices[ptr]] += data[ptr] * d[a]
            dq = 0.0
            for i in range(n):
                dq += Ad[i] * Ad[i]
            if not dq > 0.0:
                break
            step = rz / dq
            for i in range(n):
                R[i] -= step * Ad[i]
            rz_old = rz
            rz = 0.0
            for a in range(k):
                u[a] += step * d[a]
                j = cols[a]
                v = 0.0
                for ptr in range(indptr[j], indptr[j + 1]):
                    v += data[ptr] * Ad[indices[ptr]]
                r[a] -= step * v
                z[a] = dinv[a] * r[a]
                rz += r[a] * z[a]
            for a in range(k):
                d[a] = z[a] + (rz / rz_old) * d[a]
    free(buf)
    return it, converged


def split_count(const double[::1, :] X, const double[::1] c, int64_t[::1] counts,
                double[::1] col_sums):
    """Per column ``j`` of a Fortran-ordered ``X``: the entries differing from ``c[j]``
    and the column sum (one pass; the count of :func:`split_fill`)."""
    cdef int64_t n = X.shape[0], p = X.shape[1], i, j, k
    cdef double cj, s, v
    with nogil:
        for j in range(p):
            cj = c[j]
            k = 0
            s = 0.0
            for i in range(n):
                v = X[i, j]
                s += v
                if v != cj:
                    k += 1
            counts[j] = k
            col_sums[j] = s


def split_fill(const double[::1, :] X, const double[::1] c, const int64_t[::1] indptr,
               int64_t[::1] indices, double[::1] data):
    """CSC of ``S = X - 1 c^T`` (entries equal to ``c[j]`` dropped) into preallocated
    ``indices`` / ``data`` (``indptr`` from :func:`split_count`'s counts)."""
    cdef int64_t n = X.shape[0], p = X.shape[1], i, j, k
    cdef double cj, v
    with nogil:
        for j in range(p):
            cj = c[j]
            k = indptr[j]
            for i in range(n):
                v = X[i, j]
                if v != cj:
                    indices[k] = i
                    data[k] = v - cj
                    k += 1



# ------------------------------------------------------------------ dense to sparse
def dense_to_compressed(const real_t[:, :] X, bint by_rows, int64_t start, int64_t max_nnz,
                        index_t[::1] indptr, index_t[::1] indices, real_t[::1] data,
                        double[::1] col_sq):
    """Lines ``start, start + 1, ...`` of ``X`` (columns: CSC of a Fortran-ordered ``X``;
    ``by_rows``: CSR of a C-ordered one) into compressed buffers, in one pass
    (branch-free over the entries), with the columns' squared norms (``col_sq``
    zeroed by the caller).

    Stops before a line that might not fit in ``indices`` / ``data`` (the caller
    grows them and calls again from there) or once more than ``max_nnz`` non-zeros
    are stored. Returns ``(next line, nnz, finite, over)``: ``finite`` is False
    when a non-zero entry is NaN or inf; ``over`` when ``max_nnz`` was passed.
    ``indptr[start]`` must hold the non-zeros stored so far. The caller checks that
    the lines are contiguous and that ``index_t`` holds ``n * p``.
    """
    cdef int64_t n_lines = X.shape[0] if by_rows else X.shape[1]
    cdef int64_t length = X.shape[1] if by_rows else X.shape[0]
    cdef int64_t step = (X.strides[0] if by_rows else X.strides[1]) // <int64_t> sizeof(real_t)
    cdef int64_t cap = indices.shape[0], i, j, k
    cdef int64_t nnz = indptr[start]
    cdef bint finite = True, over = False
    cdef const real_t *base = &X[0, 0]
    cdef const real_t *line
    cdef real_t v
    cdef double acc, bad, dv
    with nogil:
        j = start
        while j < n_lines:
            if nnz > max_nnz:
                over = True
                break
            if nnz + length > cap:
                break
            line = base + j * step
            for i in range(length):
                v = line[i]
                indices[nnz] = <index_t> i
                data[nnz] = v
                nnz += v != 0
            # norms and finiteness from the line's non-zeros only (NaN and inf are
            # non-zeros): no dependency chain over the zeros
            acc = 0.0
            bad = 0.0
            for k in range(indptr[j], nnz):
                dv = data[k]
                bad += dv * 0.0  # NaN once an entry is NaN or inf
                if by_rows:
                    col_sq[indices[k]] += dv * dv
                else:
                    acc += dv * dv
            if not by_rows:
                col_sq[j] = acc
            if not isfinite(bad):
                finite = False
            j += 1
            indptr[j] = <index_t> nnz
        if nnz > max_nnz:
            over = True
    return j, nnz, finite, over


def compressed_transpose(const index_t[::1] indptr, const index_t[::1] indices,
                         const real_t[::1] data, index_t[::1] t_indptr, index_t[::1] t_indices,
                         real_t[::1] t_data):
    """The other compressed format (CSR to CSC, or back) by a counting sort over the
    non-zeros; ``t_indptr`` (zeroed by the caller) has one slot per inner index plus one.
    The transposed indices come out sorted."""
    cdef int64_t n_outer = indptr.shape[0] - 1, n_inner = t_indptr.shape[0] - 1
    cdef int64_t o, k, t, c
    cdef int64_t *fill = <int64_t *> malloc((n_inner + 1) * sizeof(int64_t))
    if fill == NULL:
        raise MemoryError("compressed_transpose: out of memory")
    with nogil:
        for k in range(indptr[n_outer]):
            t_indptr[indices[k] + 1] += 1
        for t in range(n_inner):
            t_indptr[t + 1] += t_indptr[t]
            fill[t] = t_indptr[t]
        for o in range(n_outer):
            for k in range(indptr[o], indptr[o + 1]):
                c = indices[k]
                t = fill[c]
                t_indices[t] = <index_t> o
                t_data[t] = data[k]
                fill[c] = t + 1
    free(fill)


def csc_col_sq(const index_t[::1] indptr, const double[::1] data, double[::1] out):
    """``out[j] = sum of data[k]^2`` over column ``j``'s entries of a CSC matrix."""
    cdef int64_t p = indptr.shape[0] - 1, j, k
    cdef double s
    with nogil:
        for j in range(p):
            s = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                s += data[k] * data[k]
            out[j] = s
