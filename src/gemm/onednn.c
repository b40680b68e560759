/*
 * The onednn provider: oneDNN's dnnl_sgemm, float32. Its kernels are generated at run time
 * for the ISA the CPU reports (AVX-512, AVX2, ...), whatever OpenBLAS's table knows of the
 * CPU, and it reads no OPENBLAS_* variable.
 *
 * Debian's oneDNN uses the OpenMP runtime and sizes each GEMM by tconv__max_threads() of
 * the calling thread, as OpenBLAS's OpenMP build does: one thread inside our regions.
 * dnnl_sgemm returns a status (it can fail to allocate its packing buffers): a failure is
 * reported to the caller, who computes the product again with the fallback provider.
 */
#include "gemm/provider.h"
#include "threads.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <string.h>

static bool sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc)
{
    return dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
                      beta, c, ldc) == dnnl_success;
}

static void single_thread(void)
{
    tconv__set_max_threads(1);
}

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_all: return "all";
    default: return "unknown";
    }
}

static size_t info(char *buf, size_t size)
{
    const dnnl_version_t *v = dnnl_version();
    const bool hash = v->hash && strcmp(v->hash, "N/A") != 0;
    const int n = snprintf(buf, buf ? size : 0, "oneDNN %d.%d.%d%s%.12s%s; dnnl_sgemm JIT for "
                           "%s; OpenMP threading (float32)", v->major, v->minor, v->patch,
                           hash ? " (" : "", hash ? v->hash : "", hash ? ")" : "",
                           isa_name(dnnl_get_effective_cpu_isa()));
    return n < 0 ? 0 : (size_t)n;
}

/* The ISA dnnl_sgemm's kernels are generated for. */
static int vector_bits(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core:
    case dnnl_cpu_isa_avx512_core_vnni:
    case dnnl_cpu_isa_avx512_core_bf16:
    case dnnl_cpu_isa_avx512_core_amx:
    case dnnl_cpu_isa_avx512_mic:
    case dnnl_cpu_isa_avx512_mic_4ops:
        return 512;
    case dnnl_cpu_isa_avx2:
    case dnnl_cpu_isa_avx2_vnni:
        return 256;
    default:
        return 128;
    }
}

const tconv__provider tconv__provider_onednn = {TCONV_PROVIDER_ONEDNN, "onednn", sgemm, NULL,
                                                single_thread, info, vector_bits};
