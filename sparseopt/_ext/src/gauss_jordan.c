/*
 * In-place inverse of an (n, n) matrix by Gauss-Jordan elimination without pivoting,
 * two pivots at a time; the kernel of sparseopt's log-det acyclicity (sparseopt/_ext/_dag.pyx).
 *
 * A is row-major with row length nc >= n; columns n..nc-1 are zero padding and stay zero.
 * Each step inverts the next 2 x 2 diagonal block (its pivots are those of the scalar
 * elimination, a and e - c b / a), writes the two transformed rows to r1 and r2 (length nc)
 * and subtracts their rank-2 combination from every other row. Returns log det A, or -inf
 * as soon as a pivot is <= 0 or NaN: for a Z-matrix this is the exact test of being a
 * nonsingular M-matrix (all leading principal minors positive).
 *
 * The rank-2 row update is where the time goes. On x86-64 CPUs with AVX2 and FMA it runs
 * four rows per pass over r1, r2 with 256-bit fused multiply-adds (needs nc % 4 == 0);
 * elsewhere a portable loop. The two differ in rounding only (fused vs separate products).
 */
#include <math.h>
#include <string.h>
#include "gauss_jordan.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define SPARSEOPT_X86 1
#include <immintrin.h>
#endif

typedef void (*row_update_fn)(double *A, int64_t n, int64_t nc, int64_t k,
                              const double *r1, const double *r2);

/* one row ai != k, k + 1:  ai -= ai[k] r1 + ai[k + 1] r2, with ai[k], ai[k + 1] zeroed first (the
   in-place Gauss-Jordan trick: the pivot columns become the inverse's columns). Always inlined,
   so that inside update_avx2 it is compiled for AVX2 too. */
static inline __attribute__((always_inline)) void update_row(double *ai, int64_t nc, int64_t k,
                                                             const double *r1, const double *r2)
{
    const double f1 = ai[k], f2 = ai[k + 1];
    ai[k] = 0.0;
    ai[k + 1] = 0.0;
    for (int64_t j = 0; j < nc; j++) ai[j] -= f1 * r1[j] + f2 * r2[j];
}

/* every row but k, k + 1 */
static void update_portable(double *A, int64_t n, int64_t nc, int64_t k,
                            const double *r1, const double *r2)
{
    for (int64_t i = 0; i < n; i++)
        if (i != k && i != k + 1) update_row(A + i * nc, nc, k, r1, r2);
}

#ifdef SPARSEOPT_X86
__attribute__((target("avx2,fma")))
static void update_avx2(double *A, int64_t n, int64_t nc, int64_t k,
                        const double *r1, const double *r2)
{
    int64_t rows[4];
    int cnt = 0;
    for (int64_t i = 0; i <= n; i++) {
        if (i < n) {
            if (i == k || i == k + 1) continue;
            rows[cnt++] = i;
            if (cnt < 4) continue;
        }
        if (cnt == 4) {  /* four rows share each load of r1, r2 */
            double *a0 = A + rows[0] * nc, *a1 = A + rows[1] * nc;
            double *a2 = A + rows[2] * nc, *a3 = A + rows[3] * nc;
            const __m256d f0 = _mm256_set1_pd(a0[k]), g0 = _mm256_set1_pd(a0[k + 1]);
            const __m256d f1 = _mm256_set1_pd(a1[k]), g1 = _mm256_set1_pd(a1[k + 1]);
            const __m256d f2 = _mm256_set1_pd(a2[k]), g2 = _mm256_set1_pd(a2[k + 1]);
            const __m256d f3 = _mm256_set1_pd(a3[k]), g3 = _mm256_set1_pd(a3[k + 1]);
            a0[k] = a0[k + 1] = a1[k] = a1[k + 1] = 0.0;
            a2[k] = a2[k + 1] = a3[k] = a3[k + 1] = 0.0;
            for (int64_t j = 0; j < nc; j += 4) {
                const __m256d x = _mm256_loadu_pd(r1 + j), y = _mm256_loadu_pd(r2 + j);
                __m256d v0 = _mm256_loadu_pd(a0 + j), v1 = _mm256_loadu_pd(a1 + j);
                __m256d v2 = _mm256_loadu_pd(a2 + j), v3 = _mm256_loadu_pd(a3 + j);
                v0 = _mm256_fnmadd_pd(g0, y, _mm256_fnmadd_pd(f0, x, v0));
                v1 = _mm256_fnmadd_pd(g1, y, _mm256_fnmadd_pd(f1, x, v1));
                v2 = _mm256_fnmadd_pd(g2, y, _mm256_fnmadd_pd(f2, x, v2));
                v3 = _mm256_fnmadd_pd(g3, y, _mm256_fnmadd_pd(f3, x, v3));
                _mm256_storeu_pd(a0 + j, v0);
                _mm256_storeu_pd(a1 + j, v1);
                _mm256_storeu_pd(a2 + j, v2);
                _mm256_storeu_pd(a3 + j, v3);
            }
        } else {  /* the last one to three rows */
            for (int q = 0; q < cnt; q++) update_row(A + rows[q] * nc, nc, k, r1, r2);
        }
        cnt = 0;
    }
}
#endif

static double sweep(double *A, int64_t n, int64_t nc, double *r1, double *r2,
                    row_update_fn update)
{
    double logdet = 0.0;
    int64_t k = 0;
    while (k + 1 < n) {
        double *ak = A + k * nc, *ak1 = ak + nc;
        const double a = ak[k], b = ak[k + 1], c = ak1[k], e = ak1[k + 1];
        if (!(a > 0.0)) return -INFINITY;  /* also catches NaN */
        const double p2 = e - c * (b / a);
        if (!(p2 > 0.0)) return -INFINITY;
        logdet += log(a) + log(p2);
        const double det = a * p2;
        const double i00 = e / det, i01 = -b / det, i10 = -c / det, i11 = a / det;
        for (int64_t j = 0; j < nc; j++) {
            const double x = ak[j], y = ak1[j];
            r1[j] = i00 * x + i01 * y;
            r2[j] = i10 * x + i11 * y;
        }
        r1[k] = i00;
        r1[k + 1] = i01;
        r2[k] = i10;
        r2[k + 1] = i11;
        memcpy(ak, r1, (size_t)nc * sizeof(double));
        memcpy(ak1, r2, (size_t)nc * sizeof(double));
        update(A, n, nc, k, r1, r2);
        k += 2;
    }
    if (k < n) {  /* odd order: the last pivot alone */
        double *ak = A + k * nc;
        const double p = ak[k];
        if (!(p > 0.0)) return -INFINITY;
        logdet += log(p);
        const double ip = 1.0 / p;
        for (int64_t j = 0; j < nc; j++) ak[j] *= ip;
        ak[k] = ip;
        for (int64_t i = 0; i < n; i++) {
            if (i == k) continue;
            double *ai = A + i * nc;
            const double f = ai[k];
            ai[k] = 0.0;
            for (int64_t j = 0; j < nc; j++) ai[j] -= f * ak[j];
        }
    }
    return logdet;
}

int sparseopt_gauss_jordan_has_avx2(void)
{
#ifdef SPARSEOPT_X86
    static int has = -1;  /* a benign race: every thread computes the same value */
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return has;
#else
    return 0;
#endif
}

double sparseopt_gauss_jordan_portable(double *A, int64_t n, int64_t nc, double *r1, double *r2)
{
    return sweep(A, n, nc, r1, r2, update_portable);
}

double sparseopt_gauss_jordan(double *A, int64_t n, int64_t nc, double *r1, double *r2)
{
#ifdef SPARSEOPT_X86
    if (nc % 4 == 0 && sparseopt_gauss_jordan_has_avx2())
        return sweep(A, n, nc, r1, r2, update_avx2);
#endif
    return sweep(A, n, nc, r1, r2, update_portable);
}
