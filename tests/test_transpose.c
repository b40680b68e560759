/*
 * The matrix transpose of the weight rearrangements (src/kernels/transpose.c) against its
 * definition, element by element (a copy: exact), in both precisions: shapes that leave
 * every kind of partial tile and block, leading dimensions with padding and powers of two,
 * and nothing written past each destination row.
 */
#include "common.h"
#include "internal.h"

#include <criterion/criterion.h>

#include <stdlib.h>

#define MARK (-7777.0)

Test(transpose, matches_the_definition_in_both_precisions)
{
    rng r = {20261201};
    for (int trial = 0; trial < 300; ++trial) {
        const int64_t rows = rng_int(&r, 1, 70), cols = rng_int(&r, 1, 150);
        const int64_t lds = rng_int(&r, 0, 3) ? cols + rng_int(&r, 0, 5) : 256;
        const int64_t ldd = rng_int(&r, 0, 3) ? rows + rng_int(&r, 0, 5) : 128;
        if (lds < cols || ldd < rows)
            continue;
        float *s32 = malloc((size_t)(rows * lds) * sizeof *s32);
        float *d32 = malloc((size_t)(cols * ldd) * sizeof *d32);
        double *s64 = malloc((size_t)(rows * lds) * sizeof *s64);
        double *d64 = malloc((size_t)(cols * ldd) * sizeof *d64);
        cr_assert(s32 && d32 && s64 && d64);
        for (int64_t i = 0; i < rows * lds; ++i)
            s32[i] = (float)(s64[i] = (double)i * 0.5 - 3.0);
        for (int64_t i = 0; i < cols * ldd; ++i)
            d32[i] = (float)(d64[i] = MARK);
        tconv__transpose_f32(rows, cols, s32, lds, d32, ldd);
        tconv__transpose_f64(rows, cols, s64, lds, d64, ldd);
        for (int64_t j = 0; j < cols; ++j)
            for (int64_t i = 0; i < ldd; ++i) {
                const double want = i < rows ? (double)(i * lds + j) * 0.5 - 3.0 : MARK;
                cr_assert(d64[j * ldd + i] == want && d32[j * ldd + i] == (float)want,
                          "%lld x %lld (lds %lld, ldd %lld): element (%lld, %lld) is %g / %g, "
                          "not %g", (long long)rows, (long long)cols, (long long)lds,
                          (long long)ldd, (long long)j, (long long)i, d64[j * ldd + i],
                          (double)d32[j * ldd + i], want);
            }
        free(s32), free(d32), free(s64), free(d64);
    }
}
