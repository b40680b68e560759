/*
 * The short-reduction GEMM for one element type (included by short.c through
 * instantiate.h): C[m][n] = alpha·op(A)[m][k]·B[k][n] + bias + beta·C, row-major, B
 * untransposed, the bias optional (a convolution's: one per row of C, or per column).
 *
 * Each output is a sum of at most TCONV__SHORT_K products, taken in order of the reduction
 * index, so every clone (and every thread) computes the same bits. A block of SHORT_ROWS rows
 * of C by SHORT_VECS vectors of columns is summed in registers and written once: C is never read when
 * beta is 0 (it may hold anything, NaN included).
 */

#define VW ((int64_t)(TCONV__SHORT_VECTOR_BYTES / sizeof(T))) /* elements per vector */
#define SHORT_COLS (SHORT_VECS * VW)
typedef T TC(short_vec) __attribute__((vector_size(TCONV__SHORT_VECTOR_BYTES)));

/* Element (i, l) of op(A). */
static TCONV__ALWAYS_INLINE T TC(short_a)(bool ta, const T *a, int64_t lda, int64_t i,
                                          int64_t l)
{
    return ta ? a[l * lda + i] : a[i * lda + l];
}

/* `rows` (1..SHORT_ROWS) rows of C from row i, columns [j, j + SHORT_COLS), from the block
 * of A's rows packed as ab[l][r] (zeros past `rows`) and B's block of columns at b (row l
 * at b + l·ldb): SHORT_VECS vectors a row, each sum in a register. */
static TCONV__ALWAYS_INLINE void TC(short_block)(int64_t rows, int64_t k, T alpha,
                                                 const T (*ab)[SHORT_ROWS], const T *b,
                                                 int64_t ldb, T beta, const T *bias,
                                                 bool per_column, T *c, int64_t ldc, int64_t i,
                                                 int64_t j)
{
    TC(short_vec) acc[SHORT_ROWS][SHORT_VECS];
    for (int64_t r = 0; r < SHORT_ROWS; ++r)
        for (int64_t v = 0; v < SHORT_VECS; ++v)
            acc[r][v] = (TC(short_vec)){0};
    for (int64_t l = 0; l < k; ++l) {
        TC(short_vec) bl[SHORT_VECS];
        for (int64_t v = 0; v < SHORT_VECS; ++v)
            memcpy(&bl[v], b + l * ldb + v * VW, sizeof bl[v]);
        for (int64_t r = 0; r < SHORT_ROWS; ++r)
            for (int64_t v = 0; v < SHORT_VECS; ++v)
                acc[r][v] += ab[l][r] * bl[v];
    }
    for (int64_t r = 0; r < rows; ++r) {
        T *cr = c + (i + r) * ldc + j;
        for (int64_t v = 0; v < SHORT_VECS; ++v) {
            TC(short_vec) out = alpha * acc[r][v];
            if (bias && per_column) {
                TC(short_vec) bv;
                memcpy(&bv, bias + j + v * VW, sizeof bv);
                out += bv;
            } else if (bias) {
                out += bias[i + r];
            }
            if (beta != (T)0) {
                TC(short_vec) old;
                memcpy(&old, cr + v * VW, sizeof old);
                out += beta * old;
            }
            memcpy(cr + v * VW, &out, sizeof out);
        }
    }
}

/* B is copied SHORT_PANEL columns at a time into a contiguous panel (16 KB at most) that
 * every block of A's rows then reads from cache: B's rows lie ldb apart, and with a
 * power-of-two ldb the k lines of a block fell into one cache set, fetched again from L2
 * for each block of rows (the weight gradient of DCGAN's first layer, 100 x 8192 x 16 in
 * tiles of 512 columns: 0.9 ms, against dnnl_sgemm's 0.3). C is still written row block by
 * row block along its rows (a panel's blocks down the rows ran a 1-D front end's GEMM
 * slower). */
TCONV__VECTOR_CLONES
static void TC(short_rows)(bool ta, int64_t m, int64_t n, int64_t k, T alpha, const T *a,
                           int64_t lda, const T *b, int64_t ldb, T beta, const T *bias,
                           bool per_column, T *c, int64_t ldc)
{
    const int64_t tail = n % SHORT_COLS;
    T bp[TCONV__SHORT_K * SHORT_PANEL];
    for (int64_t j0 = 0; j0 < n; j0 += SHORT_PANEL) {
        const int64_t nj = n - j0 < SHORT_PANEL ? n - j0 : SHORT_PANEL;
        const int64_t whole = nj - (j0 + nj == n ? tail : 0); /* columns in whole blocks */
        const int64_t padded = whole < nj ? whole + SHORT_COLS : nj; /* the last, zero-filled */
        for (int64_t l = 0; l < k; ++l) {
            memcpy(bp + l * SHORT_PANEL, b + l * ldb + j0, (size_t)nj * sizeof(T));
            for (int64_t j = nj; j < padded; ++j)
                bp[l * SHORT_PANEL + j] = 0;
        }
        for (int64_t i = 0; i < m; i += SHORT_ROWS) {
            const int64_t rows = m - i < SHORT_ROWS ? m - i : SHORT_ROWS;
            T ab[TCONV__SHORT_K][SHORT_ROWS];
            for (int64_t l = 0; l < k; ++l)
                for (int64_t r = 0; r < SHORT_ROWS; ++r)
                    ab[l][r] = r < rows ? TC(short_a)(ta, a, lda, i + r, l) : (T)0;
            if (rows == SHORT_ROWS)
                for (int64_t j = 0; j < whole; j += SHORT_COLS)
                    TC(short_block)(SHORT_ROWS, k, alpha, (const T(*)[SHORT_ROWS])ab, bp + j,
                                    SHORT_PANEL, beta, bias, per_column, c, ldc, i, j0 + j);
            else
                for (int64_t j = 0; j < whole; j += SHORT_COLS)
                    TC(short_block)(rows, k, alpha, (const T(*)[SHORT_ROWS])ab, bp + j,
                                    SHORT_PANEL, beta, bias, per_column, c, ldc, i, j0 + j);
            if (whole < nj) { /* the last columns: a whole block into `part`, then out */
                T part[SHORT_ROWS * SHORT_COLS];
                TC(short_block)(rows, k, alpha, (const T(*)[SHORT_ROWS])ab, bp + whole,
                                SHORT_PANEL, (T)0, NULL, false, part, SHORT_COLS, 0, 0);
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t j = j0 + whole; j < n; ++j) {
                        T out = part[r * SHORT_COLS + j - j0 - whole];
                        if (bias)
                            out += bias[per_column ? j : i + r];
                        T *cj = c + (i + r) * ldc + j;
                        *cj = beta != (T)0 ? out + beta * *cj : out;
                    }
            }
        }
    }
}

bool TC(tconv__short_mm)(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha,
                         const T *a, int64_t lda, const T *b, int64_t ldb, T beta,
                         const T *bias, bool per_column, T *c, int64_t ldc)
{
    if (tb || k > TCONV__SHORT_K || n < SHORT_COLS)
        return false;
    TC(short_rows)(ta, m, n, k, alpha, a, lda, b, ldb, beta, bias, per_column, c, ldc);
    return true;
}

#undef SHORT_COLS
#undef VW
