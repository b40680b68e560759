/*
 * The reference provider: GEMM in plain loops, float32 and float64, no library needed.
 * The build without BLAS (WebAssembly) multiplies with it; elsewhere it is there to be
 * named (a slow, dependency-free check) and as the last fallback.
 */
#include "gemm/provider.h"

#include <stdio.h>

#define TCONV_TEMPLATE "gemm/reference_tmpl.h"
#include "instantiate.h"

static size_t info(char *buf, size_t size)
{
    const int n = snprintf(buf, buf ? size : 0, "tconv's plain loops; no threads of its own "
                           "(float32, float64)");
    return n < 0 ? 0 : (size_t)n;
}

static int vector_bits(void)
{
    return 0; /* plain loops: never the default where a BLAS is built */
}

const tconv__provider tconv__provider_reference = {TCONV_PROVIDER_REFERENCE, "reference",
                                                   reference_gemm_f32, reference_gemm_f64,
                                                   NULL, info, vector_bits};
