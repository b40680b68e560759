/*
 * Public entry points to the transformation matrices: validate, size, then build with
 * matrix.c into the caller's buffers. Every failure is found before the first write.
 */
#include "internal.h"

#include "threads.h"

/* What every builder shares: a checked geometry seen through three axes, the side of the
 * matrix, and a thread count. */
typedef struct request {
    tconv__shape sh;
    bool transposed;
    int threads;
    int64_t rows, cols; /* of the matrix asked for (Cᵀ: swapped) */
} request;

static tconv_status check_dtype(tconv_dtype dtype, tconv_error *err)
{
    if (dtype != TCONV_F32 && dtype != TCONV_F64)
        return tconv__fail(err, TCONV_EINVAL, "dtype = %d: must be TCONV_F32 or TCONV_F64",
                           (int)dtype);
    return TCONV_OK;
}

static tconv_status begin(request *q, const tconv_geometry *g, tconv_product p,
                          const tconv_options *opt, tconv_error *err)
{
    tconv_status s = tconv_geometry_check(g, err);
    if (s != TCONV_OK)
        return s;
    if (p != TCONV_APPLY && p != TCONV_APPLY_T)
        return tconv__fail(err, TCONV_EINVAL, "product = %d: the matrix of TCONV_APPLY (C) or "
                           "of TCONV_APPLY_T (its transpose) can be built", (int)p);
    if (opt && opt->num_threads < 0)
        return tconv__fail(err, TCONV_EINVAL, "options.num_threads = %d: must be >= 0 "
                           "(0: OpenMP's default)", opt->num_threads);
    tconv__shape_from(g, &q->sh);
    q->transposed = p == TCONV_APPLY_T;
    q->rows = tconv__matrix_rows(&q->sh, q->transposed);
    q->cols = tconv__matrix_rows(&q->sh, !q->transposed);
    /* Without an explicit count, one thread per 1024 rows at most: a team costs more
     * than a small matrix. (The result is the same for any count.) */
    const int most = tconv__max_threads();
    const int64_t want = q->rows / 1024 + 1;
    if (opt && opt->num_threads > 0)
        q->threads = opt->num_threads;
    else
        q->threads = want < most ? (int)want : most;
    return TCONV_OK;
}

/* Bytes of rows·cols elements of `size` bytes; false if they do not fit in size_t. */
static bool grid_bytes(const request *q, size_t size, size_t *bytes)
{
    size_t n;
    return !__builtin_mul_overflow((size_t)q->rows, (size_t)q->cols, &n) &&
           !__builtin_mul_overflow(n, size, bytes);
}

tconv_status tconv_matrix_info_get(const tconv_geometry *g, tconv_dtype dtype,
                                   tconv_matrix_info *info, tconv_error *err)
{
    request q;
    tconv_status s = begin(&q, g, TCONV_APPLY, NULL, err);
    if (s == TCONV_OK)
        s = check_dtype(dtype, err);
    if (s != TCONV_OK)
        return s;
    if (!info)
        return tconv__fail(err, TCONV_EINVAL, "info is NULL");
    int64_t nnz;
    size_t csr, per_entry = 2 * sizeof(int64_t) + tconv__dtype_size(dtype);
    const int64_t longest = q.rows > q.cols ? q.rows : q.cols;
    s = tconv__matrix_nnz(&q.sh, &nnz, err);
    if (s != TCONV_OK)
        return s;
    if (__builtin_mul_overflow((size_t)nnz, per_entry, &csr) ||
        __builtin_add_overflow(csr, ((size_t)longest + 1) * sizeof(int64_t), &csr))
        return tconv__fail(err, TCONV_EOVERFLOW, "the CSR arrays of the %lld x %lld "
                           "transformation matrix have more bytes than size_t can count",
                           (long long)q.rows, (long long)q.cols);
    tconv_matrix_info out = {q.rows, q.cols, nnz, SIZE_MAX, SIZE_MAX};
    if (!grid_bytes(&q, tconv__dtype_size(dtype), &out.dense_bytes))
        out.dense_bytes = SIZE_MAX;
    if (!grid_bytes(&q, sizeof(int64_t), &out.structure_bytes))
        out.structure_bytes = SIZE_MAX;
    *info = out;
    return TCONV_OK;
}

/* A dense grid of `size`-byte entries must be addressable before it is written. */
static tconv_status check_grid(const request *q, size_t size, tconv_error *err)
{
    size_t bytes;
    if (!grid_bytes(q, size, &bytes))
        return tconv__fail(err, TCONV_EOVERFLOW, "the dense %lld x %lld matrix has more bytes "
                           "than size_t can count", (long long)q->rows, (long long)q->cols);
    return TCONV_OK;
}

tconv_status tconv_matrix_structure(const tconv_geometry *g, tconv_product p, int64_t *index,
                                    const tconv_options *opt, tconv_error *err)
{
    request q;
    tconv_status s = begin(&q, g, p, opt, err);
    if (s == TCONV_OK)
        s = check_grid(&q, sizeof(int64_t), err);
    if (s != TCONV_OK)
        return s;
    if (!index)
        return tconv__fail(err, TCONV_EINVAL, "index is NULL");
    tconv__structure_fill(&q.sh, q.transposed, q.threads, index);
    return TCONV_OK;
}

tconv_status tconv_matrix_dense(const tconv_geometry *g, tconv_product p, tconv_dtype dtype,
                                const void *weight, void *matrix, const tconv_options *opt,
                                tconv_error *err)
{
    request q;
    tconv_status s = begin(&q, g, p, opt, err);
    if (s == TCONV_OK)
        s = check_dtype(dtype, err);
    if (s == TCONV_OK)
        s = check_grid(&q, tconv__dtype_size(dtype), err);
    if (s != TCONV_OK)
        return s;
    if (!weight)
        return tconv__fail(err, TCONV_EINVAL, "weight is NULL");
    if (!matrix)
        return tconv__fail(err, TCONV_EINVAL, "matrix is NULL");
    if (dtype == TCONV_F64)
        tconv__dense_fill_f64(&q.sh, q.transposed, q.threads, weight, matrix);
    else
        tconv__dense_fill_f32(&q.sh, q.transposed, q.threads, weight, matrix);
    return TCONV_OK;
}

tconv_status tconv_matrix_csr(const tconv_geometry *g, tconv_product p, tconv_dtype dtype,
                              const void *weight, const tconv_csr *csr,
                              const tconv_options *opt, tconv_error *err)
{
    request q;
    tconv_matrix_info info;
    tconv_status s = begin(&q, g, p, opt, err);
    if (s == TCONV_OK)
        s = tconv_matrix_info_get(g, dtype, &info, err); /* checks dtype and the CSR sizes */
    if (s != TCONV_OK)
        return s;
    if (!csr)
        return tconv__fail(err, TCONV_EINVAL, "csr is NULL");
    if (!csr->row_ptr)
        return tconv__fail(err, TCONV_EINVAL, "csr->row_ptr is NULL");
    if (!csr->col && info.nnz > 0)
        return tconv__fail(err, TCONV_EINVAL, "csr->col is NULL");
    if (csr->value && !weight)
        return tconv__fail(err, TCONV_EINVAL, "weight is NULL but csr->value asks for values");
    tconv__csr_build(&q.sh, q.transposed, q.threads, csr->row_ptr, csr->col,
                     csr->weight_index);
    if (csr->value && dtype == TCONV_F64)
        tconv__csr_values_f64(&q.sh, q.transposed, q.threads, csr->row_ptr, weight,
                              csr->value);
    else if (csr->value)
        tconv__csr_values_f32(&q.sh, q.transposed, q.threads, csr->row_ptr, weight,
                              csr->value);
    return TCONV_OK;
}
