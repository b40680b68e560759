/*
 * The smallest transposes, d[j·dd + i] = s[i·ss + j] for i, j < 16 / sizeof(element): the
 * rows read as 16-byte vectors and recombined by shuffles (an element-wise loop reads the
 * source one strided element at a time). Shared by the layout copies (layout.c) and the
 * matrix transpose (transpose.c); `__builtin_shufflevector` is GCC's and clang's alike, so
 * the same code serves the wasm build.
 */
#ifndef TCONV_KERNELS_TRANSPOSE_H
#define TCONV_KERNELS_TRANSPOSE_H

#include "internal.h"

#include <string.h>

typedef float tconv__f32x4 __attribute__((vector_size(16)));
typedef double tconv__f64x2 __attribute__((vector_size(16)));

static TCONV__ALWAYS_INLINE void tconv__block_t_f32(const float *s, int64_t ss, float *d,
                                                    int64_t dd)
{
    tconv__f32x4 r0, r1, r2, r3;
    memcpy(&r0, s, sizeof r0), memcpy(&r1, s + ss, sizeof r1);
    memcpy(&r2, s + 2 * ss, sizeof r2), memcpy(&r3, s + 3 * ss, sizeof r3);
    const tconv__f32x4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5);
    const tconv__f32x4 t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    const tconv__f32x4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
    const tconv__f32x4 t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    const tconv__f32x4 c0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    const tconv__f32x4 c1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    const tconv__f32x4 c2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    const tconv__f32x4 c3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    memcpy(d, &c0, sizeof c0), memcpy(d + dd, &c1, sizeof c1);
    memcpy(d + 2 * dd, &c2, sizeof c2), memcpy(d + 3 * dd, &c3, sizeof c3);
}

static TCONV__ALWAYS_INLINE void tconv__block_t_f64(const double *s, int64_t ss, double *d,
                                                    int64_t dd)
{
    tconv__f64x2 r0, r1;
    memcpy(&r0, s, sizeof r0), memcpy(&r1, s + ss, sizeof r1);
    const tconv__f64x2 c0 = __builtin_shufflevector(r0, r1, 0, 2);
    const tconv__f64x2 c1 = __builtin_shufflevector(r0, r1, 1, 3);
    memcpy(d, &c0, sizeof c0), memcpy(d + dd, &c1, sizeof c1);
}

#endif /* TCONV_KERNELS_TRANSPOSE_H */
