/* In-place inverse by unpivoted Gauss-Jordan, two pivots at a time (see gauss_jordan.c). */
#ifndef SPARSEOPT_GAUSS_JORDAN_H
#define SPARSEOPT_GAUSS_JORDAN_H
#include <stdint.h>

/* Dispatching entry point: the AVX2/FMA row update when the CPU has it and nc % 4 == 0,
   the portable one otherwise. */
double sparseopt_gauss_jordan(double *A, int64_t n, int64_t nc, double *r1, double *r2);
/* The portable row update only (tests compare the two). */
double sparseopt_gauss_jordan_portable(double *A, int64_t n, int64_t nc, double *r1, double *r2);
/* 1 when sparseopt_gauss_jordan takes the AVX2/FMA path for row lengths that are multiples of 4. */
int sparseopt_gauss_jordan_has_avx2(void);

#endif
