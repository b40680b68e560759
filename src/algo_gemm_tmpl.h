/*
 * The gemm algorithm for one element type (included by algo_gemm.c with T, TC and
 * GEMM defined). Per image n and group g, with R = (C_x/g)·Πk rows of columns:
 *
 *   apply:    cols[R][|Sy|] = im2col(x_ng);  y_ng[C_y/g][|Sy|] = W_g · cols
 *   apply_t:  cols[R][|Sy|] = W_gᵀ · y_ng;   x_ng = col2im(cols)
 *   wgrad:    dW_g[C_y/g][R] = Σ_n y_ng · im2col(x_ng)ᵀ
 *
 * W_g is the [C_y/g][R] slice of the weight: (C_y, C_x/g, k...) is already that matrix.
 */

/* C = op(A)·op(B) + beta·C cut into the fixed tiles of tile_grid(). With `shared` the
 * team splits the tiles (every thread of the region must call); otherwise the calling
 * thread does them all, in the same tiles, so both give the same bits. */
static void TC(gemm_tiles)(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T *A,
                           int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc,
                           bool shared)
{
    const int64_t tm = tile_count(M), tn = tile_count(N), tiles = tm * tn;
#define TCONV__TILE_BODY                                                                       \
    const int64_t i0 = (t / tn) * TCONV__TILE, j0 = (t % tn) * TCONV__TILE;                    \
    const int64_t m = M - i0 < TCONV__TILE ? M - i0 : TCONV__TILE;                             \
    const int64_t n = N - j0 < TCONV__TILE ? N - j0 : TCONV__TILE;                             \
    GEMM(ta, tb, m, n, K, (T)1, ta ? A + i0 : A + i0 * lda, lda, tb ? B + j0 * ldb : B + j0,  \
         ldb, beta, C + i0 * ldc + j0, ldc);
    if (shared) {
#pragma omp for schedule(static)
        for (int64_t t = 0; t < tiles; ++t) {
            TCONV__TILE_BODY
        }
    } else {
        for (int64_t t = 0; t < tiles; ++t) {
            TCONV__TILE_BODY
        }
    }
#undef TCONV__TILE_BODY
}

/* y = C x */
static void TC(apply)(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *x = a, *w = b;
    T *y = out;
    const int64_t R = sh->cxg * sh->k_count, Yc = sh->y_count, tasks = sh->batch * sh->groups;
    const bool by_task = tasks >= c->threads;
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
        if (by_task) {
            T *cols = (T *)ws + (int64_t)omp_get_thread_num() * R * Yc;
#pragma omp for schedule(static)
            for (int64_t t = 0; t < tasks; ++t) {
                const int64_t n = t / sh->groups, g = t % sh->groups;
                TC(tconv__im2col)(sh, x + (n * sh->cx + g * sh->cxg) * sh->x_count, 0, R, cols);
                TC(gemm_tiles)(false, false, sh->cyg, Yc, R, w + g * sh->cyg * R, R, cols, Yc,
                               (T)0, y + (n * sh->cy + g * sh->cyg) * Yc, Yc, false);
            }
        } else {
            T *cols = ws;
            for (int64_t t = 0; t < tasks; ++t) {
                const int64_t n = t / sh->groups, g = t % sh->groups;
                const T *x_ng = x + (n * sh->cx + g * sh->cxg) * sh->x_count;
#pragma omp for schedule(static)
                for (int64_t r = 0; r < R; ++r)
                    TC(tconv__im2col)(sh, x_ng, r, r + 1, cols + r * Yc);
                TC(gemm_tiles)(false, false, sh->cyg, Yc, R, w + g * sh->cyg * R, R, cols, Yc,
                               (T)0, y + (n * sh->cy + g * sh->cyg) * Yc, Yc, true);
            }
        }
    }
}

/* x = Cᵀ y */
static void TC(apply_t)(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *y = a, *w = b;
    T *x = out;
    const int64_t R = sh->cxg * sh->k_count, Yc = sh->y_count, tasks = sh->batch * sh->groups;
    const bool by_task = tasks >= c->threads;
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
        if (by_task) {
            T *cols = (T *)ws + (int64_t)omp_get_thread_num() * R * Yc;
#pragma omp for schedule(static)
            for (int64_t t = 0; t < tasks; ++t) {
                const int64_t n = t / sh->groups, g = t % sh->groups;
                TC(gemm_tiles)(true, false, R, Yc, sh->cyg, w + g * sh->cyg * R, R,
                               y + (n * sh->cy + g * sh->cyg) * Yc, Yc, (T)0, cols, Yc, false);
                TC(tconv__col2im)(sh, cols, 0, sh->cxg,
                                  x + (n * sh->cx + g * sh->cxg) * sh->x_count);
            }
        } else {
            T *cols = ws;
            for (int64_t t = 0; t < tasks; ++t) {
                const int64_t n = t / sh->groups, g = t % sh->groups;
                TC(gemm_tiles)(true, false, R, Yc, sh->cyg, w + g * sh->cyg * R, R,
                               y + (n * sh->cy + g * sh->cyg) * Yc, Yc, (T)0, cols, Yc, true);
                T *x_ng = x + (n * sh->cx + g * sh->cxg) * sh->x_count;
#pragma omp for schedule(static)
                for (int64_t ch = 0; ch < sh->cxg; ++ch)
                    TC(tconv__col2im)(sh, cols, ch, ch + 1, x_ng);
            }
        }
    }
}

/* dW = Σ_n y_n ⊗ x_n: tasks are (group, block of R), each summing the batch in order. */
static void TC(wgrad)(const tconv__ctx *c, const void *a, const void *b, void *out, void *ws)
{
    const tconv__shape *sh = &c->sh;
    const T *y = a, *x = b;
    T *dw = out;
    const int64_t R = sh->cxg * sh->k_count, Yc = sh->y_count;
    const int64_t blocks = tile_count(R), tasks = sh->groups * blocks;
    const int64_t rows = R < TCONV__TILE ? R : TCONV__TILE; /* per thread, as planned */
    if (sh->batch == 0) {
        memset(dw, 0, (size_t)(sh->cy * R) * sizeof(T));
        return;
    }
#pragma omp parallel num_threads(c->threads)
    {
        tconv__blas_worker();
        T *cols = (T *)ws + (int64_t)omp_get_thread_num() * rows * Yc;
#pragma omp for schedule(static)
        for (int64_t t = 0; t < tasks; ++t) {
            const int64_t g = t / blocks, r0 = (t % blocks) * TCONV__TILE;
            const int64_t r1 = R - r0 < TCONV__TILE ? R : r0 + TCONV__TILE;
            for (int64_t n = 0; n < sh->batch; ++n) {
                TC(tconv__im2col)(sh, x + (n * sh->cx + g * sh->cxg) * sh->x_count, r0, r1,
                                  cols);
                GEMM(false, true, sh->cyg, r1 - r0, Yc, (T)1,
                     y + (n * sh->cy + g * sh->cyg) * Yc, Yc, cols, Yc, n ? (T)1 : (T)0,
                     dw + g * sh->cyg * R + r0, R);
            }
        }
    }
}
