/*
 * The tiled GEMM for one element type (included by blas.c with T, TC and GEMM defined).
 * C[m][n] = op(A)[m][k] · op(B)[k][n] + beta·C is cut into TCONV__TILE_M x TCONV__TILE_N
 * tiles, numbered row-major; each tile is one single-threaded BLAS call, whichever thread
 * takes it (handed out dynamically).
 */

void TC(tconv__gemm_tile)(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T *A,
                          int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc,
                          int64_t t)
{
    const int64_t tn = tconv__tiles(N, TCONV__TILE_N);
    const int64_t i0 = (t / tn) * TCONV__TILE_M, j0 = (t % tn) * TCONV__TILE_N;
    const int64_t m = M - i0 < TCONV__TILE_M ? M - i0 : TCONV__TILE_M;
    const int64_t n = N - j0 < TCONV__TILE_N ? N - j0 : TCONV__TILE_N;
    GEMM(ta, tb, m, n, K, (T)1, ta ? A + i0 : A + i0 * lda, lda, tb ? B + j0 * ldb : B + j0, ldb,
         beta, C + i0 * ldc + j0, ldc);
}

void TC(tconv__gemm_tiles)(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T *A,
                           int64_t lda, const T *B, int64_t ldb, T beta, T *C, int64_t ldc,
                           bool shared)
{
    const int64_t tiles = tconv__tiles(M, TCONV__TILE_M) * tconv__tiles(N, TCONV__TILE_N);
    if (shared) {
#pragma omp for schedule(dynamic)
        for (int64_t t = 0; t < tiles; ++t)
            TC(tconv__gemm_tile)(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, t);
    } else {
        for (int64_t t = 0; t < tiles; ++t)
            TC(tconv__gemm_tile)(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, t);
    }
}
