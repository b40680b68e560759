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

/*
 * One kernel per ISA, from one template: `chains` accumulators of VEC, each updated as
 * acc = acc * m + c (m slightly under 1: nothing overflows, no denormal ever appears). The
 * accumulator loop is unrolled completely, so that the array lives in registers.
 */
#define FMA_CHAINS(name, isa, VEC, chains, set1, fmadd, add, reduce)                         \
    __attribute__((target(isa))) static float name(int64_t iters)                          \
    {                                                                                      \
        const VEC m = set1(0.9999999f), c = set1(1e-7f);                                   \
        VEC acc[chains];                                                                   \
        _Pragma("GCC unroll 32") for (int j = 0; j < (chains); ++j) acc[j] =               \
            set1(0.1f * (float)(j + 1));                                                   \
        for (int64_t i = 0; i < iters; ++i) {                                              \
            _Pragma("GCC unroll 32") for (int j = 0; j < (chains); ++j) acc[j] =           \
                fmadd(acc[j], m, c);                                                       \
        }                                                                                  \
        _Pragma("GCC unroll 32") for (int j = 1; j < (chains); ++j) acc[0] =               \
            add(acc[0], acc[j]);                                                           \
        return reduce(acc[0]);                                                             \
    }

/* AVX2 + FMA: 12 chains of 8 floats (16 ymm registers: 12 accumulators, 2 constants). */
enum { AVX2_CHAINS = 12, AVX2_LANES = 8 };

__attribute__((target("avx2,fma"))) static float sum_avx2(__m256 v)
{
    float out[8];
    _mm256_storeu_ps(out, v);
    return out[0] + out[7];
}

FMA_CHAINS(chains_avx2, "avx2,fma", __m256, AVX2_CHAINS, _mm256_set1_ps, _mm256_fmadd_ps,
           _mm256_add_ps, sum_avx2)

/* AVX-512F: 16 chains of 16 floats (32 zmm registers). */
enum { AVX512_CHAINS = 16, AVX512_LANES = 16 };

FMA_CHAINS(chains_avx512, "avx512f", __m512, AVX512_CHAINS, _mm512_set1_ps, _mm512_fmadd_ps,
           _mm512_add_ps, _mm512_reduce_add_ps)

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
