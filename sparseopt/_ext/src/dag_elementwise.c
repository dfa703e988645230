/*
 * Elementwise loops of the DAG stage (sparseopt/_ext/_dag.pyx): the Adam step and the
 * domain test's minimum. They are O(d^2) per iteration against the O(d^3) inverse, but
 * scalar code makes them a third of an iteration at d = 50..200 (measured), so they are
 * compiled for the widest vector unit the CPU has (AVX-512, AVX2, or the baseline),
 * chosen at run time. Multiply-adds are never fused (fp-contract off) and division and
 * square root are IEEE in every lane, so all variants round exactly as the scalar loop.
 */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include "dag_elementwise.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SPARSEOPT_DISPATCH 1
#endif

/* one row of the Adam step; fs1 is the mask's column stride */
static inline __attribute__((always_inline)) void adam_row(
    double *restrict Wi, const double *restrict MTi, const double *restrict Pi,
    double *restrict mi, double *restrict vi, double *restrict st_i, double *restrict prev_i,
    const double *restrict free_i, int64_t fs1, const double *restrict scaled_mu,
    double mu_lambda, double beta1, double beta2, double inv_bias1, double inv_bias2,
    double eps, double lr, int64_t d)
{
    for (int64_t j = 0; j < d; j++) {
        const double w = Wi[j];
        const double sign = w > 0.0 ? 1.0 : (w < 0.0 ? -1.0 : 0.0);
        const double g = 2.0 * w * MTi[j] - scaled_mu[j] * Pi[j] + mu_lambda * sign;
        const double mij = beta1 * mi[j] + (1.0 - beta1) * g;
        const double vij = beta2 * vi[j] + (1.0 - beta2) * g * g;
        mi[j] = mij;
        vi[j] = vij;
        const double st = (mij * inv_bias1) / (sqrt(vij * inv_bias2) + eps);
        st_i[j] = st;
        prev_i[j] = w;
        Wi[j] = (w - lr * st) * free_i[j * fs1];
    }
}

/* gradient 2 W o M^T - P diag(scaled_mu) + mu_lambda sign(W), then one Adam step, in place */
static inline __attribute__((always_inline)) void adam_step_body(
    double *restrict W, const double *restrict MT, int64_t ldm, const double *restrict P,
    double *restrict m, double *restrict v, double *restrict step, double *restrict W_prev,
    const double *restrict free_mask, int64_t fs0, int64_t fs1,
    const double *restrict scaled_mu, double mu_lambda, double beta1, double beta2,
    double inv_bias1, double inv_bias2, double eps, double lr, int64_t d)
{
    for (int64_t i = 0; i < d; i++) {
        double *restrict Wi = W + i * d, *restrict mi = m + i * d, *restrict vi = v + i * d;
        double *restrict st_i = step + i * d, *restrict prev_i = W_prev + i * d;
        const double *restrict MTi = MT + i * ldm, *restrict Pi = P + i * d;
        const double *restrict free_i = free_mask + i * fs0;
        /* the usual C-ordered mask (fs1 == 1) gets its own unit-stride, vectorised copy of the
           always-inlined row loop; any other stride the general one */
        if (fs1 == 1)
            adam_row(Wi, MTi, Pi, mi, vi, st_i, prev_i, free_i, 1, scaled_mu, mu_lambda, beta1,
                     beta2, inv_bias1, inv_bias2, eps, lr, d);
        else
            adam_row(Wi, MTi, Pi, mi, vi, st_i, prev_i, free_i, fs1, scaled_mu, mu_lambda, beta1,
                     beta2, inv_bias1, inv_bias2, eps, lr, d);
    }
}

/* smallest entry of the (d, d) part of M (row stride ld); M is NaN-free (a NaN pivot has
   already failed the domain test), so the order of the comparisons does not matter */
static inline __attribute__((always_inline)) double min_entry_body(const double *M, int64_t d,
                                                                   int64_t ld)
{
    double out = INFINITY;
    for (int64_t i = 0; i < d; i++) {
        const double *Mi = M + i * ld;
        double row_min = INFINITY;
        for (int64_t j = 0; j < d; j++) {
            const double x = Mi[j];
            row_min = x < row_min ? x : row_min;
        }
        out = row_min < out ? row_min : out;
    }
    return out;
}

#define ADAM_ARGS double *restrict W, const double *restrict MT, int64_t ldm, \
    const double *restrict P, double *restrict m, double *restrict v, double *restrict step, \
    double *restrict W_prev, const double *restrict free_mask, int64_t fs0, int64_t fs1, \
    const double *restrict scaled_mu, double mu_lambda, double beta1, double beta2, \
    double inv_bias1, double inv_bias2, double eps, double lr, int64_t d
#define ADAM_CALL W, MT, ldm, P, m, v, step, W_prev, free_mask, fs0, fs1, scaled_mu, mu_lambda, \
    beta1, beta2, inv_bias1, inv_bias2, eps, lr, d

static void adam_step_base(ADAM_ARGS) { adam_step_body(ADAM_CALL); }
/* min as a vector reduction needs the compiler told there is no NaN and no -0 question
   (exact here: a NaN-free minimum is the same in any order, and the result is only compared
   with -domain_tol) */
#define MIN_OPT __attribute__((optimize("finite-math-only", "no-signed-zeros")))
MIN_OPT static double min_entry_base(const double *M, int64_t d, int64_t ld)
{
    return min_entry_body(M, d, ld);
}

#ifdef SPARSEOPT_DISPATCH
__attribute__((target("avx2"))) static void adam_step_avx2(ADAM_ARGS)
{
    adam_step_body(ADAM_CALL);
}
__attribute__((target("avx512f,avx512vl,avx512dq"))) static void adam_step_avx512(ADAM_ARGS)
{
    adam_step_body(ADAM_CALL);
}
MIN_OPT __attribute__((target("avx2"))) static double min_entry_avx2(const double *M, int64_t d,
                                                             int64_t ld)
{
    return min_entry_body(M, d, ld);
}
MIN_OPT __attribute__((target("avx512f,avx512vl,avx512dq"))) static double min_entry_avx512(
    const double *M, int64_t d, int64_t ld)
{
    return min_entry_body(M, d, ld);
}

static int vector_level(void)  /* 2: AVX-512, 1: AVX2, 0: baseline */
{
    static int level = -1;  /* a benign race: every thread computes the same value */
    if (level < 0) {
        __builtin_cpu_init();
        level = (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
                 && __builtin_cpu_supports("avx512dq")) ? 2
                : __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return level;
}
#endif

void sparseopt_adam_step(ADAM_ARGS)
{
#ifdef SPARSEOPT_DISPATCH
    switch (vector_level()) {
    case 2: adam_step_avx512(ADAM_CALL); return;
    case 1: adam_step_avx2(ADAM_CALL); return;
    }
#endif
    adam_step_base(ADAM_CALL);
}

double sparseopt_min_entry(const double *M, int64_t d, int64_t ld)
{
#ifdef SPARSEOPT_DISPATCH
    switch (vector_level()) {
    case 2: return min_entry_avx512(M, d, ld);
    case 1: return min_entry_avx2(M, d, ld);
    }
#endif
    return min_entry_base(M, d, ld);
}

int sparseopt_dag_vector_level(void)
{
#ifdef SPARSEOPT_DISPATCH
    return vector_level();
#else
    return 0;
#endif
}
