/*
 * The reference GEMM for one element type (included by reference.c through instantiate.h):
 * C[m][n] = alpha·op(A)[m][k]·op(B)[k][n] + beta·C, row-major, in plain loops. With
 * beta = 0, C is written without being read (it may hold anything, NaN included).
 */
static bool TC(reference_gemm)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha,
                               const T *a, int64_t lda, const T *b, int64_t ldb, T beta, T *c,
                               int64_t ldc)
{
    for (int64_t i = 0; i < m; ++i) {
        T *ci = c + i * ldc;
        for (int64_t j = 0; j < n; ++j)
            ci[j] = beta == (T)0 ? (T)0 : beta * ci[j];
        for (int64_t l = 0; l < k; ++l) {
            const T ail = alpha * (ta ? a[l * lda + i] : a[i * lda + l]);
            if (tb)
                for (int64_t j = 0; j < n; ++j)
                    ci[j] += ail * b[j * ldb + l];
            else
                for (int64_t j = 0; j < n; ++j)
                    ci[j] += ail * b[l * ldb + j];
        }
    }
    return true;
}
