/*
 * The only file that calls CBLAS, and the BLAS half of the thread policy.
 *
 * The library parallelises over independent pieces itself (batch x group, channels,
 * column blocks). BLAS must then run on the calling thread alone, or its threads and ours
 * would oversubscribe the cores. tconv links OpenBLAS's OpenMP build, which sizes each call
 * by omp_get_max_threads() of the calling thread: setting that to 1 inside our regions
 * keeps every GEMM single-threaded there without touching any global setting. When one
 * GEMM is the whole job, the team shares its fixed tiles (tconv__gemm_tiles): the GEMM is
 * split among our threads, never among ours and BLAS's at once.
 */
#include "internal.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>

static enum CBLAS_TRANSPOSE trans(bool t)
{
    return t ? CblasTrans : CblasNoTrans;
}

/* Callers keep every dimension within TCONV__BLAS_INT_MAX (planners refuse larger). */
void tconv__gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                     float *c, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans(trans_a), trans(trans_b), (int)m, (int)n, (int)k, alpha,
                a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void tconv__gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                     const double *a, int64_t lda, const double *b, int64_t ldb, double beta,
                     double *c, int64_t ldc)
{
    cblas_dgemm(CblasRowMajor, trans(trans_a), trans(trans_b), (int)m, (int)n, (int)k, alpha,
                a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

#define TCONV_TEMPLATE "blas_tmpl.h"
#include "instantiate.h"

void tconv__blas_worker(void)
{
    omp_set_num_threads(1);
}

size_t tconv_blas_info(char *buf, size_t size)
{
    static const char *const threading[] = {"sequential", "pthreads", "openmp"};
    const int p = openblas_get_parallel();
    const int n = snprintf(buf, buf ? size : 0, "OpenBLAS %s; core %s; %s threading",
                           openblas_get_config(), openblas_get_corename(),
                           p >= 0 && p <= 2 ? threading[p] : "unknown");
    return n < 0 ? 0 : (size_t)n;
}
