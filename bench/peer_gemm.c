/*
 * The bare GEMM of each provider, called in its library directly, as the yardstick of the
 * GEMM path: OpenBLAS's cblas_sgemm (the same static OpenBLAS as tconv's openblas
 * provider) and oneDNN's dnnl_sgemm (the same libdnnl.so.2 as tconv's onednn provider).
 * Both are threaded by their library from the caller's OpenMP thread count.
 */
#include "bench.h"

#include <cblas.h>

#if TCONV_BENCH_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

bool bare_gemm_available(tconv_provider p)
{
    return p == TCONV_PROVIDER_OPENBLAS || (p == TCONV_PROVIDER_ONEDNN && TCONV_BENCH_ONEDNN);
}

/* C[m][n] = op(A) B, row-major; op(A) = Aᵀ (A stored k x m) when trans_a, else A (m x k). */
void bare_gemm(tconv_provider p, const gemm_view *v, const float *a, const float *b, float *c)
{
    const int64_t lda = v->trans_a ? v->m : v->k;
    for (int64_t g = 0; g < v->groups; ++g) {
        const float *ag = a + g * v->m * v->k, *bg = b + g * v->k * v->n;
#if TCONV_BENCH_ONEDNN
        if (p == TCONV_PROVIDER_ONEDNN) {
            dnnl_sgemm(v->trans_a ? 'T' : 'N', 'N', v->m, v->n, v->k, 1.0f, ag, lda, bg, v->n,
                       0.0f, c, v->n);
            continue;
        }
#endif
        (void)p;
        cblas_sgemm(CblasRowMajor, v->trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans,
                    (int)v->m, (int)v->n, (int)v->k, 1.0f, ag, (int)lda, bg, (int)v->n, 0.0f,
                    c, (int)v->n);
    }
}
