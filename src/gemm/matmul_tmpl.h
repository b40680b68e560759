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
    const tconv__provider *p = c->provider ? c->provider
                                           : tconv__provider_default(c->widest, m, n, k);
    if (!p->PGEMM(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc) && c->failed)
        atomic_store_explicit(c->failed, 1, memory_order_relaxed);
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
