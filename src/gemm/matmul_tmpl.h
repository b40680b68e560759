/*
 * GEMM for one element type (included by matmul.c through instantiate.h; PGEMM names the
 * provider's member for T). C[m][n] = op(A)[m][k]·op(B)[k][n] + beta·C is cut into
 * TCONV__TILE_M x TCONV__TILE_N tiles, numbered row-major; each tile is one single-threaded
 * provider call, whichever thread takes it (handed out dynamically).
 */

void TC(tconv__mm)(const tconv__ctx *c, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                   T alpha, const T *a, int64_t lda, const T *b, int64_t ldb, T beta, T *cc,
                   int64_t ldc)
{
    if (k <= tconv__short_k(c, false) &&
        TC(tconv__short_mm)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, NULL, false, cc, ldc))
        return;
    const tconv__provider *p = c->provider ? c->provider
                                           : tconv__provider_default(c, tb, m, n, k);
    if (!p->PGEMM(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc) && c->failed)
        atomic_store_explicit(c->failed, 1, memory_order_relaxed);
}

/* C = the bias, on each row (bias[i]) or along each row (bias[j]). */
TCONV__VECTOR_CLONES
static void TC(fill_bias)(int64_t m, int64_t n, const T *bias, bool per_column, T *cc,
                          int64_t ldc)
{
    for (int64_t i = 0; i < m; ++i) {
        T *ci = cc + i * ldc;
        if (per_column)
            memcpy(ci, bias, (size_t)n * sizeof(T));
        else
            for (int64_t j = 0; j < n; ++j)
                ci[j] = bias[i];
    }
}

void TC(tconv__mm_bias)(const tconv__ctx *c, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                        const T *a, int64_t lda, const T *b, int64_t ldb, const T *bias,
                        bool per_column, T *cc, int64_t ldc)
{
    if (k <= tconv__short_k(c, bias != NULL) &&
        TC(tconv__short_mm)(ta, tb, m, n, k, (T)1, a, lda, b, ldb, (T)0, bias, per_column, cc,
                            ldc))
        return;
    if (bias)
        TC(fill_bias)(m, n, bias, per_column, cc, ldc);
    TC(tconv__mm)(c, ta, tb, m, n, k, (T)1, a, lda, b, ldb, bias ? (T)1 : (T)0, cc, ldc);
}

void TC(tconv__mm_tile)(const tconv__ctx *c, bool ta, bool tb, int64_t M, int64_t N,
                        int64_t K, const T *A, int64_t lda, const T *B, int64_t ldb, T beta,
                        T *C, int64_t ldc, int64_t t)
{
    const int64_t tn = tconv__tiles(N, TCONV__TILE_N);
    const int64_t i0 = (t / tn) * TCONV__TILE_M, j0 = (t % tn) * TCONV__TILE_N;
    const int64_t m = M - i0 < TCONV__TILE_M ? M - i0 : TCONV__TILE_M;
    const int64_t n = N - j0 < TCONV__TILE_N ? N - j0 : TCONV__TILE_N;
    TC(tconv__mm)(c, ta, tb, m, n, K, (T)1, ta ? A + i0 : A + i0 * lda, lda,
                  tb ? B + j0 * ldb : B + j0, ldb, beta, C + i0 * ldc + j0, ldc);
}

void TC(tconv__mm_tiles)(const tconv__ctx *c, bool ta, bool tb, int64_t M, int64_t N,
                         int64_t K, const T *A, int64_t lda, const T *B, int64_t ldb, T beta,
                         T *C, int64_t ldc, bool shared)
{
    const int64_t tiles = tconv__tiles(M, TCONV__TILE_M) * tconv__tiles(N, TCONV__TILE_N);
    if (shared) {
#pragma omp for schedule(dynamic)
        for (int64_t t = 0; t < tiles; ++t)
            TC(tconv__mm_tile)(c, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, t);
    } else {
        for (int64_t t = 0; t < tiles; ++t)
            TC(tconv__mm_tile)(c, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, t);
    }
}
