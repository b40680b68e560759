/*
 * Internal interface shared by the library's source files. Nothing here is exported:
 * non-static internal symbols carry the `tconv__` prefix and hidden visibility.
 */
#ifndef TCONV_INTERNAL_H
#define TCONV_INTERNAL_H

#include "tconv/tconv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every scratch region handed to an algorithm starts on a cache line. */
#define TCONV__ALIGN ((size_t)64)

/* ---- errors ---------------------------------------------------------------------------- */

/* Records `s` and a printf-style message in `err` (if not NULL); returns `s`. */
tconv_status tconv__fail(tconv_error *err, tconv_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- checked arithmetic ---------------------------------------------------------------- */

static inline bool tconv__mul(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_mul_overflow(a, b, r);
}

static inline bool tconv__add(int64_t a, int64_t b, int64_t *r)
{
    return !__builtin_add_overflow(a, b, r);
}

/* Adds `bytes`, rounded up to TCONV__ALIGN, to `*total`; false on overflow. */
bool tconv__ws_add(size_t *total, size_t bytes);
/* Byte count of `count` elements of `dtype` rounded up to TCONV__ALIGN; false on overflow. */
bool tconv__elem_bytes(int64_t count, tconv_dtype dtype, size_t *bytes);

static inline size_t tconv__dtype_size(tconv_dtype t)
{
    return t == TCONV_F64 ? sizeof(double) : sizeof(float);
}

/* ---- geometry, seen through three axes ------------------------------------------------- */

/*
 * A checked geometry with leading unit axes added so that one loop nest serves 1-D, 2-D
 * and 3-D: a 1-D size L becomes 1x1xL with kernel 1, stride 1, padding 0, dilation 1 on
 * the added axes. Axis 2 is always the contiguous one.
 */
typedef struct tconv__shape {
    int64_t batch, groups;
    int64_t cx, cy;   /* channels of X and Y */
    int64_t cxg, cyg; /* channels per group */
    int64_t x[3], y[3], k[3], s[3], p[3], d[3];
    int64_t x_count, y_count, k_count; /* spatial element counts per channel */
} tconv__shape;

void tconv__shape_from(const tconv_geometry *g, tconv__shape *sh);

/* ---- algorithms ------------------------------------------------------------------------ */

/* What every product of one call shares. */
typedef struct tconv__ctx {
    const tconv_geometry *g;
    tconv__shape sh;
    tconv_dtype dtype;
    int threads; /* >= 1 */
} tconv__ctx;

/*
 * One algorithm: a planner and the three products. `plan` states the scratch bytes one
 * product needs (or refuses it with a status); the products themselves cannot fail: they
 * receive `ws` with at least the planned bytes, TCONV__ALIGN-aligned, and overwrite `out`.
 *   apply:   a = x, b = weight, out = y
 *   apply_t: a = y, b = weight, out = x
 *   wgrad:   a = y, b = x,      out = dW
 */
typedef void (*tconv__product_fn)(const tconv__ctx *c, const void *a, const void *b, void *out,
                                  void *ws);

typedef struct tconv__algo {
    tconv_algo id;
    const char *name;
    tconv_status (*plan)(const tconv__ctx *c, tconv_product p, size_t *bytes,
                         tconv_error *err);
    tconv__product_fn apply, apply_t, wgrad;
} tconv__algo;

/* Defines `op(ctx, a, b, out, ws)` forwarding to op_f32 or op_f64 by the context's dtype:
 * the one place a product picks its element type. */
#define TCONV__DTYPE_DISPATCH(op)                                                              \
    static void op(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)   \
    {                                                                                          \
        if (c->dtype == TCONV_F64)                                                             \
            op##_f64(c, a, b, out, ws);                                                        \
        else                                                                                   \
            op##_f32(c, a, b, out, ws);                                                        \
    }

extern const tconv__algo tconv__algo_gemm;
extern const tconv__algo tconv__algo_scatter;
extern const tconv__algo tconv__algo_gather;

/* The algorithm `a` resolves to for this context (auto picks); NULL if unknown. */
const tconv__algo *tconv__algo_resolve(tconv_algo a, const tconv__ctx *c);

/* ---- BLAS: the only place where the type letter differs -------------------------------- */

/* Largest GEMM dimension / leading dimension CBLAS's int can carry. */
#define TCONV__BLAS_INT_MAX ((int64_t)2147483647)

/* C[m][n] = alpha * op(A)[m][k] · op(B)[k][n] + beta * C, row-major. Single-threaded when
 * called from the library's parallel regions (see tconv__blas_worker). */
void tconv__gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                     float *c, int64_t ldc);
void tconv__gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                     const double *a, int64_t lda, const double *b, int64_t ldb, double beta,
                     double *c, int64_t ldc);

/* Called first thing by every thread of a library parallel region: BLAS calls made by
 * this thread then use this thread alone, so library threads and BLAS threads never
 * compete for the cores. Scoped to the region's implicit task. */
void tconv__blas_worker(void);

/* ---- im2col / col2im over three axes --------------------------------------------------- */

/*
 * im2col: x[channels][x0][x1][x2] => cols[rows r0..r1 of channels·K][y_count]
 * Row r = (channel, k0, k1, k2); the row range lets a caller fill a slice.
 */
void tconv__im2col_f32(const tconv__shape *sh, const float *x, int64_t r0, int64_t r1,
                       float *cols);
void tconv__im2col_f64(const tconv__shape *sh, const double *x, int64_t r0, int64_t r1,
                       double *cols);

/* col2im: cols[channels·K][y_count] => x[channels][x0][x1][x2] for channels c0..c1,
 * overwriting x: every x element is the sum of the column entries that copied it. */
void tconv__col2im_f32(const tconv__shape *sh, const float *cols, int64_t c0, int64_t c1,
                       float *x);
void tconv__col2im_f64(const tconv__shape *sh, const double *cols, int64_t c0, int64_t c1,
                       double *x);

/* ---- bias ------------------------------------------------------------------------------ */

/* t[n][c][...] += bias[c] over `count` elements per channel. */
void tconv__bias_add(const tconv__ctx *c, tconv_dtype dtype, int64_t channels, int64_t count,
                     const void *bias, void *t);
/* grad_bias[c] = Σ over batch and space of g[n][c][...], summed in a fixed order. */
void tconv__bias_grad(const tconv__ctx *c, tconv_dtype dtype, int64_t channels, int64_t count,
                      const void *g, void *grad_bias);

#endif /* TCONV_INTERNAL_H */
