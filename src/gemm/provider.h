/*
 * What a GEMM provider is, for the files of src/gemm only: the rest of the library calls
 * tconv__mm_* (internal.h), which picks the provider of the call.
 *
 * A provider multiplies row-major matrices on the calling thread, C = alpha·op(A)·op(B) +
 * beta·C, and says whether it could (a library's own failure, such as dnnl_sgemm running
 * out of memory for its packing buffers, returns false; the product is then computed again
 * by the fallback). It owns how it is kept to that thread inside the library's parallel
 * regions and how it describes itself.
 */
#ifndef TCONV_GEMM_PROVIDER_H
#define TCONV_GEMM_PROVIDER_H

#include "internal.h"

typedef bool (*tconv__sgemm_fn)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                float alpha, const float *a, int64_t lda, const float *b,
                                int64_t ldb, float beta, float *c, int64_t ldc);
typedef bool (*tconv__dgemm_fn)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                double alpha, const double *a, int64_t lda, const double *b,
                                int64_t ldb, double beta, double *c, int64_t ldc);

struct tconv__provider {
    tconv_provider id;
    const char *name;
    tconv__sgemm_fn sgemm; /* NULL: float32 is not served */
    tconv__dgemm_fn dgemm; /* NULL: float64 is not served */
    /* Called by every thread of a library parallel region before its first GEMM: this
     * provider's GEMMs from that thread then run on it alone. NULL: nothing to do. */
    void (*single_thread)(void);
    /* Version, kernels or ISA, threading; snprintf's contract. */
    size_t (*info)(char *buf, size_t size);
    /* Bits of the fused multiply-adds its float32 kernels run on this CPU (512 for
     * AVX-512, 256 for AVX2 with FMA, 128 for SSE or AVX without FMA, 0 for plain loops):
     * what the default rule compares. A property of the CPU and of the library, the same
     * for the whole process. */
    int (*vector_bits)(void);
};

#ifdef TCONV_HAVE_OPENBLAS
extern const tconv__provider tconv__provider_openblas;
#endif
#ifdef TCONV_HAVE_ONEDNN
extern const tconv__provider tconv__provider_onednn;
#endif
extern const tconv__provider tconv__provider_reference;

/* The default rule (providers.c) for a GEMM of this shape: `wide` is the provider with
 * the widest kernels for the dtype, `faster` whether its FMAs are also the faster ones. */
const tconv__provider *tconv__provider_rule(const tconv__provider *wide, bool faster, bool tb,
                                            int64_t m, int64_t n, int64_t k);
/* The rule for a call of `c` (its plan's wide provider and CPU). */
const tconv__provider *tconv__provider_default(const tconv__ctx *c, bool tb, int64_t m,
                                               int64_t n, int64_t k);

#endif /* TCONV_GEMM_PROVIDER_H */
