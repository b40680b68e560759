/*
 * The FMA peak of this CPU, measured: every thread runs a tight loop of fused multiply-adds
 * on independent accumulators (more chains than FMA units x latency, so that the units
 * never wait), in the widest vector ISA the CPU has. The kernels are compiled with target
 * attributes and chosen at run time, so the bench itself needs no -mavx flags.
 */
#include "bench.h"

#include <omp.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* acc = acc * m + c on each accumulator: m slightly under 1, so nothing overflows and
 * no denormal ever appears. */
#define FMA_STEP(V, F) V = F(V, m, c)

/* AVX2 + FMA: 12 chains of 8 floats (16 ymm registers: 12 accumulators, 2 constants). */
enum { AVX2_CHAINS = 12, AVX2_LANES = 8 };

__attribute__((target("avx2,fma"))) static float chains_avx2(int64_t iters)
{
    const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0.1f), a1 = _mm256_set1_ps(0.2f), a2 = _mm256_set1_ps(0.3f),
           a3 = _mm256_set1_ps(0.4f), a4 = _mm256_set1_ps(0.5f), a5 = _mm256_set1_ps(0.6f),
           a6 = _mm256_set1_ps(0.7f), a7 = _mm256_set1_ps(0.8f), a8 = _mm256_set1_ps(0.9f),
           a9 = _mm256_set1_ps(1.0f), a10 = _mm256_set1_ps(1.1f), a11 = _mm256_set1_ps(1.2f);
    for (int64_t i = 0; i < iters; ++i) {
        FMA_STEP(a0, _mm256_fmadd_ps), FMA_STEP(a1, _mm256_fmadd_ps);
        FMA_STEP(a2, _mm256_fmadd_ps), FMA_STEP(a3, _mm256_fmadd_ps);
        FMA_STEP(a4, _mm256_fmadd_ps), FMA_STEP(a5, _mm256_fmadd_ps);
        FMA_STEP(a6, _mm256_fmadd_ps), FMA_STEP(a7, _mm256_fmadd_ps);
        FMA_STEP(a8, _mm256_fmadd_ps), FMA_STEP(a9, _mm256_fmadd_ps);
        FMA_STEP(a10, _mm256_fmadd_ps), FMA_STEP(a11, _mm256_fmadd_ps);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

/* AVX-512F: 16 chains of 16 floats (32 zmm registers). */
enum { AVX512_CHAINS = 16, AVX512_LANES = 16 };

__attribute__((target("avx512f"))) static float chains_avx512(int64_t iters)
{
    const __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0.1f), a1 = _mm512_set1_ps(0.2f), a2 = _mm512_set1_ps(0.3f),
           a3 = _mm512_set1_ps(0.4f), a4 = _mm512_set1_ps(0.5f), a5 = _mm512_set1_ps(0.6f),
           a6 = _mm512_set1_ps(0.7f), a7 = _mm512_set1_ps(0.8f), a8 = _mm512_set1_ps(0.9f),
           a9 = _mm512_set1_ps(1.0f), a10 = _mm512_set1_ps(1.1f), a11 = _mm512_set1_ps(1.2f),
           a12 = _mm512_set1_ps(1.3f), a13 = _mm512_set1_ps(1.4f), a14 = _mm512_set1_ps(1.5f),
           a15 = _mm512_set1_ps(1.6f);
    for (int64_t i = 0; i < iters; ++i) {
        FMA_STEP(a0, _mm512_fmadd_ps), FMA_STEP(a1, _mm512_fmadd_ps);
        FMA_STEP(a2, _mm512_fmadd_ps), FMA_STEP(a3, _mm512_fmadd_ps);
        FMA_STEP(a4, _mm512_fmadd_ps), FMA_STEP(a5, _mm512_fmadd_ps);
        FMA_STEP(a6, _mm512_fmadd_ps), FMA_STEP(a7, _mm512_fmadd_ps);
        FMA_STEP(a8, _mm512_fmadd_ps), FMA_STEP(a9, _mm512_fmadd_ps);
        FMA_STEP(a10, _mm512_fmadd_ps), FMA_STEP(a11, _mm512_fmadd_ps);
        FMA_STEP(a12, _mm512_fmadd_ps), FMA_STEP(a13, _mm512_fmadd_ps);
        FMA_STEP(a14, _mm512_fmadd_ps), FMA_STEP(a15, _mm512_fmadd_ps);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15)));
    return _mm512_reduce_add_ps(s);
}

typedef struct kernel {
    const char *isa;
    float (*run)(int64_t iters);
    double flops_per_iter; /* chains x lanes x 2 */
} kernel;

static bool pick(kernel *k)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        *k = (kernel){"AVX-512F", chains_avx512, 2.0 * AVX512_CHAINS * AVX512_LANES};
        return true;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *k = (kernel){"AVX2+FMA", chains_avx2, 2.0 * AVX2_CHAINS * AVX2_LANES};
        return true;
    }
    return false;
}

double fma_peak_gflops(int threads, const char **isa)
{
    kernel k;
    if (!pick(&k)) {
        *isa = "no AVX2/AVX-512 FMA";
        return 0;
    }
    *isa = k.isa;
    /* 3 GFLOP per thread and repetition (10-30 ms on a current core); the best of several
     * repetitions, so that a neighbour's burst costs one repetition, not the figure */
    const int64_t iters = (int64_t)(3e9 / k.flops_per_iter);
    volatile float sink = 0;
    double best = 0;
    for (int rep = 0; rep < 7; ++rep) {
        float sum = 0;
        const double t0 = now_seconds();
#pragma omp parallel num_threads(threads) reduction(+ : sum)
        sum += k.run(iters);
        const double t = now_seconds() - t0;
        sink += sum;
        const double g = k.flops_per_iter * (double)iters * threads / t / 1e9;
        best = g > best ? g : best;
    }
    (void)sink;
    return best;
}

#else

double fma_peak_gflops(int threads, const char **isa)
{
    (void)threads;
    *isa = "not an x86-64 CPU";
    return 0;
}

#endif
