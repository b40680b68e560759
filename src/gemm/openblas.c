/*
 * The openblas provider: OpenBLAS's CBLAS, float32 and float64.
 *
 * tconv links OpenBLAS's OpenMP build (a private copy inside libtconv.so: see
 * cmake/FindTconvBlas.cmake), which sizes each call by tconv__max_threads() of the calling
 * thread: setting that to 1 in every thread of our regions keeps its GEMMs single-threaded
 * there without touching any process-wide setting.
 */
#include "gemm/provider.h"
#include "threads.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>

static enum CBLAS_TRANSPOSE trans(bool t)
{
    return t ? CblasTrans : CblasNoTrans;
}

/* Callers keep every dimension within TCONV__BLAS_INT_MAX (planners refuse larger). */
static bool sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans(trans_a), trans(trans_b), (int)m, (int)n, (int)k, alpha,
                a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    return true;
}

static bool dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const double *a, int64_t lda, const double *b, int64_t ldb, double beta,
                  double *c, int64_t ldc)
{
    cblas_dgemm(CblasRowMajor, trans(trans_a), trans(trans_b), (int)m, (int)n, (int)k, alpha,
                a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    return true;
}

static void single_thread(void)
{
    tconv__set_max_threads(1);
}

/* openblas_get_config() starts with the library's own name ("OpenBLAS 0.3.21 DYNAMIC_ARCH
 * ..."): it is printed as it is, followed by the kernels OpenBLAS chose for this CPU. */
static size_t info(char *buf, size_t size)
{
    static const char *const threading[] = {"sequential", "pthreads", "OpenMP"};
    const int p = openblas_get_parallel();
    const int n = snprintf(buf, buf ? size : 0, "%s; kernels %s; %s threading (float32, "
                           "float64)", openblas_get_config(), openblas_get_corename(),
                           p >= 0 && p <= 2 ? threading[p] : "unknown");
    return n < 0 ? 0 : (size_t)n;
}

/* The kernels OpenBLAS chose (its CPU table, or OPENBLAS_CORETYPE), by name: its AVX-512
 * kernel sets, its AVX2 + FMA ones, and the rest (SSE, or AVX without FMA). */
static int vector_bits(void)
{
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *const avx2[] = {"Haswell", "Zen", "Excavator", "Steamroller"};
    const char *core = openblas_get_corename();
    for (size_t i = 0; core && i < sizeof avx512 / sizeof avx512[0]; ++i)
        if (strcmp(core, avx512[i]) == 0)
            return 512;
    for (size_t i = 0; core && i < sizeof avx2 / sizeof avx2[0]; ++i)
        if (strcmp(core, avx2[i]) == 0)
            return 256;
    return 128;
}

const tconv__provider tconv__provider_openblas = {TCONV_PROVIDER_OPENBLAS, "openblas", sgemm,
                                                  dgemm, single_thread, info, vector_bits};
