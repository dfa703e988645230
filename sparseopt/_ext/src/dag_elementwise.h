/* Elementwise loops of the DAG stage, compiled per vector width (see dag_elementwise.c). */
#ifndef SPARSEOPT_DAG_ELEMENTWISE_H
#define SPARSEOPT_DAG_ELEMENTWISE_H
#include <stdint.h>

void sparseopt_adam_step(double *W, const double *MT, int64_t ldm, const double *P, double *m,
                         double *v, double *step, double *W_prev, const double *free_mask,
                         int64_t fs0, int64_t fs1, const double *scaled_mu, double mu_lambda,
                         double beta1, double beta2, double inv_bias1, double inv_bias2,
                         double eps, double lr, int64_t d);
double sparseopt_min_entry(const double *M, int64_t d, int64_t ld);
/* 2: AVX-512 variants, 1: AVX2, 0: baseline */
int sparseopt_dag_vector_level(void);

#endif
