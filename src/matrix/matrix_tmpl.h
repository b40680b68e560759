/*
 * The dense C for one element type (included by matrix.c with T and TC defined).
 *
 *   m[rows][cols]: m[r][c] = w[widx] where entry (r, c) copies weight widx, else 0
 *
 * Each row is written by one thread (zeros first, then its non-zeros), so the matrix is
 * the same for any thread count, and a row is touched first by the thread that uses it.
 */
void TC(tconv__dense_fill)(const tconv__shape *sh, bool transposed, int threads, const T *w,
                           T *m)
{
    const int64_t rows = tconv__matrix_rows(sh, transposed);
    const int64_t cols = tconv__matrix_rows(sh, !transposed);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        T *mr = m + r * cols;
        tconv__row row;
        tconv__row_it it;
        memset(mr, 0, (size_t)cols * sizeof(T));
        tconv__matrix_row(sh, transposed, r, &row);
        for (tconv__row_begin(&it, &row); it.more; tconv__row_step(&it))
            mr[it.col] = w[it.w];
    }
}

/* v[j] = w[widx of entry j] for the CSR of C (or Cᵀ) whose row_ptr is given. */
void TC(tconv__csr_values)(const tconv__shape *sh, bool transposed, int threads,
                           const int64_t *row_ptr, const T *w, T *v)
{
    const int64_t rows = tconv__matrix_rows(sh, transposed);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        tconv__row row;
        tconv__row_it it;
        int64_t j = row_ptr[r];
        tconv__matrix_row(sh, transposed, r, &row);
        for (tconv__row_begin(&it, &row); it.more; tconv__row_step(&it), ++j)
            v[j] = w[it.w];
    }
}
