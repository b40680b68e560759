/*
 * The short-reduction GEMM (src/gemm/short.c) against the product's definition, exactly:
 * every entry is a small integer (or a half), so any order of the sums gives the exact
 * value in both precisions. It must write the m x n block and nothing else, never read C
 * when beta is 0, and decline (writing nothing) what it does not serve.
 */
#include "common.h"
#include "internal.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#define PAD 3 /* columns past n in each row of C: must stay as they were */

typedef struct case_ {
    bool ta;
    int with_bias; /* 0: none, 1: one per row, 2: one per column */
    int64_t m, n, k, lda, ldb, ldc;
    double beta;
} case_;

static case_ random_case(rng *r)
{
    case_ t;
    t.ta = rng_int(r, 0, 1);
    t.with_bias = (int)rng_int(r, 0, 2);
    /* a few row blocks, or past the kernel's chunk of 64 rows (the last one partial) */
    t.m = rng_int(r, 0, 3) ? rng_int(r, 1, 13) : rng_int(r, 60, 140);
    /* within one panel of B (256 float32 columns, 128 float64), or across a few */
    t.n = rng_int(r, 0, 3) ? rng_int(r, 16, 70) : rng_int(r, 120, 530);
    t.k = rng_int(r, 1, TCONV__SHORT_K);
    t.lda = (t.ta ? t.m : t.k) + rng_int(r, 0, 2);
    t.ldb = t.n + rng_int(r, 0, 2);
    t.ldc = t.n + PAD;
    t.beta = rng_int(r, 0, 2) * 0.5; /* 0, 0.5, 1 */
    return t;
}

/* A[m][k] (or its transpose), B[k][n], bias[max(m, n)], C[m][ldc] as small integers; C's pad
 * columns hold a marker, and C itself NaN when beta is 0 (it must not be read). */
typedef struct operands {
    double *a, *b, *bias, *c;
} operands;

static operands random_operands(const case_ *t, rng *r)
{
    const int64_t a_rows = t->ta ? t->k : t->m;
    operands o = {calloc((size_t)(a_rows * t->lda), sizeof(double)),
                  calloc((size_t)(t->k * t->ldb), sizeof(double)),
                  calloc((size_t)(t->m > t->n ? t->m : t->n), sizeof(double)),
                  calloc((size_t)(t->m * t->ldc), sizeof(double))};
    cr_assert(o.a && o.b && o.bias && o.c);
    for (int64_t i = 0; i < a_rows * t->lda; ++i)
        o.a[i] = (double)rng_int(r, -4, 4);
    for (int64_t i = 0; i < t->k * t->ldb; ++i)
        o.b[i] = (double)rng_int(r, -4, 4);
    for (int64_t i = 0; i < (t->m > t->n ? t->m : t->n); ++i)
        o.bias[i] = (double)rng_int(r, -8, 8);
    for (int64_t i = 0; i < t->m * t->ldc; ++i)
        o.c[i] = i % t->ldc >= t->n ? 1234.0 : t->beta == 0 ? NAN : (double)rng_int(r, -8, 8);
    return o;
}

static double expected(const case_ *t, const operands *o, int64_t i, int64_t j)
{
    double s = 0;
    for (int64_t l = 0; l < t->k; ++l)
        s += (t->ta ? o->a[l * t->lda + i] : o->a[i * t->lda + l]) * o->b[l * t->ldb + j];
    if (t->with_bias)
        s += o->bias[t->with_bias == 2 ? j : i];
    if (t->beta != 0)
        s += t->beta * o->c[i * t->ldc + j];
    return s;
}

static float *to_float(const double *v, int64_t n)
{
    float *f = malloc((size_t)n * sizeof(float));
    cr_assert(f);
    for (int64_t i = 0; i < n; ++i)
        f[i] = (float)v[i];
    return f;
}

Test(short_gemm, matches_the_definition_exactly_in_both_precisions)
{
    rng r = {77};
    for (int trial = 0; trial < 400; ++trial) {
        const case_ t = random_case(&r);
        operands o = random_operands(&t, &r);
        const int64_t a_size = (t.ta ? t.k : t.m) * t.lda, c_size = t.m * t.ldc;
        double *c64 = malloc((size_t)c_size * sizeof(double));
        cr_assert(c64);
        memcpy(c64, o.c, (size_t)c_size * sizeof(double));
        float *a32 = to_float(o.a, a_size), *b32 = to_float(o.b, t.k * t.ldb);
        float *bias32 = to_float(o.bias, t.m > t.n ? t.m : t.n), *c32 = to_float(o.c, c_size);
        cr_assert(tconv__short_mm_f64(t.ta, false, t.m, t.n, t.k, 1.0, o.a, t.lda, o.b, t.ldb,
                                      t.beta, t.with_bias ? o.bias : NULL, t.with_bias == 2,
                                      c64, t.ldc));
        cr_assert(tconv__short_mm_f32(t.ta, false, t.m, t.n, t.k, 1.0f, a32, t.lda, b32, t.ldb,
                                      (float)t.beta, t.with_bias ? bias32 : NULL,
                                      t.with_bias == 2, c32, t.ldc));
        for (int64_t i = 0; i < t.m; ++i)
            for (int64_t j = 0; j < t.ldc; ++j) {
                const double want = j < t.n ? expected(&t, &o, i, j) : 1234.0;
                cr_assert_eq(c64[i * t.ldc + j], want, "trial %d: m %lld n %lld k %lld ta %d "
                             "bias %d beta %g: C[%lld][%lld] = %g, want %g", trial,
                             (long long)t.m, (long long)t.n, (long long)t.k, t.ta, t.with_bias,
                             t.beta, (long long)i,
                             (long long)j, c64[i * t.ldc + j], want);
                cr_assert_eq((double)c32[i * t.ldc + j], want, "trial %d: float32 C[%lld][%lld]",
                             trial, (long long)i, (long long)j);
            }
        free(c64), free(a32), free(b32), free(bias32), free(c32);
        free(o.a), free(o.b), free(o.bias), free(o.c);
    }
}

Test(short_gemm, declines_what_it_does_not_serve_without_writing)
{
    float a[17 * 40] = {0}, b[17 * 40] = {0}, c[40 * 40];
    for (int i = 0; i < 40 * 40; ++i)
        c[i] = 7.0f;
    /* a reduction past the bound, a transposed B, fewer columns than one block */
    cr_assert_not(tconv__short_mm_f32(false, false, 4, 32, TCONV__SHORT_K + 1, 1.0f, a, 17, b,
                                      40, 0.0f, NULL, false, c, 40));
    cr_assert_not(tconv__short_mm_f32(false, true, 4, 32, 8, 1.0f, a, 17, b, 17, 0.0f, NULL,
                                      false, c, 40));
    cr_assert_not(tconv__short_mm_f32(false, false, 4, 15, 8, 1.0f, a, 17, b, 40, 0.0f, NULL,
                                      false, c, 40));
    for (int i = 0; i < 40 * 40; ++i)
        cr_assert_eq(c[i], 7.0f);
}
