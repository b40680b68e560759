/*
 * The transformation matrices and the `dense` and `sparse` algorithms built on them:
 *   - the seed's 9x25 matrix (Figure 2) against a table written by hand;
 *   - C against the responses of the other algorithms to unit vectors: apply (gemm,
 *     scatter, gather) on e_c gives column c of C, apply_t on e_r gives row r of C (column
 *     r of Cᵀ). The weights are 1, 2, 3, ... so each response names the weight it copies,
 *     and the structure is checked too: the equivalence proven by construction;
 *   - the non-zero count: the closed formula = the CSR's row_ptr[rows] (C and Cᵀ) = a
 *     count of the dense structure, entry by entry; CSR rows equal the dense rows;
 *   - dense and sparse give the same bits for any thread count;
 *   - refusals: TCONV_ETOOBIG past the dense limit (its message gives the bytes),
 *     overflows, NULL pointers, bad arguments; a refused call writes nothing.
 * (Their agreement with the oracle on the random sweep is in test_products / test_layers.)
 */
#include "common.h"
#include "internal.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The same geometry with another batch (the entry points check it again). */
static tconv_geometry with_batch(const tconv_geometry *g, int64_t batch)
{
    tconv_geometry b = *g;
    b.batch = batch;
    cr_assert_eq(tconv_geometry_check(&b, NULL), TCONV_OK);
    return b;
}

static tconv_matrix_info info_of(const tconv_geometry *g)
{
    tconv_matrix_info info;
    tconv_error err = {0};
    cr_assert_eq(tconv_matrix_info_get(g, TCONV_F64, &info, &err), TCONV_OK, "%s [%s]",
                 err.message, describe(g));
    return info;
}

/* rows·cols int64 entries of the structure of C (p = APPLY) or Cᵀ (APPLY_T). */
static int64_t *structure_of(const tconv_geometry *g, tconv_product p)
{
    const tconv_matrix_info info = info_of(g);
    int64_t *index = malloc((size_t)(info.rows * info.cols) * sizeof(int64_t));
    tconv_error err = {0};
    cr_assert_eq(tconv_matrix_structure(g, p, index, NULL, &err), TCONV_OK, "%s", err.message);
    return index;
}

/* ---- the seed's Figure 2, by hand ------------------------------------------------------ */

/*
 * Conv2d(1 -> 1, kernel 3x3, stride 1, no padding) on a 5x5 input: a 3x3 output. Output
 * (o0, o1) reads input (o0 + k0, o1 + k1) through weight w[k0][k1], whose flat index is
 * 3·k0 + k1. Row r = 3·o0 + o1 of C, column c = 5·i0 + i1: row (o0, o1) holds weights
 * 0 1 2 at columns 5·o0 + o1 + 0..2, weights 3 4 5 one input row (5 columns) further and
 * 6 7 8 two rows further. Moving right in the output shifts the pattern by one column,
 * moving down shifts it by one input row. A digit is the weight index, '.' a zero; the
 * columns are grouped by input row. This is the seed's Figure 2.
 */
static const char *const figure2[9] = {
    "012.. 345.. 678.. ..... .....", /* y00 */
    ".012. .345. .678. ..... .....", /* y01 */
    "..012 ..345 ..678 ..... .....", /* y02 */
    "..... 012.. 345.. 678.. .....", /* y10 */
    "..... .012. .345. .678. .....", /* y11 */
    "..... ..012 ..345 ..678 .....", /* y12 */
    "..... ..... 012.. 345.. 678..", /* y20 */
    "..... ..... .012. .345. .678.", /* y21 */
    "..... ..... ..012 ..345 ..678", /* y22 */
};

static tconv_geometry figure2_geometry(void)
{
    const int64_t in[2] = {5, 5}, k[2] = {3, 3};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 2, 1, 1, 1, 1, in, k, NULL, NULL, NULL, NULL),
                 TCONV_OK);
    return g;
}

/* The seed's Figures 4-10: ConvTranspose2d(2 -> 1, kernel 3, stride 2, padding 1), 3x3 -> 5x5 */
static tconv_geometry figure4_geometry(void)
{
    const int64_t in[2] = {3, 3}, k[2] = {3, 3}, s[2] = {2, 2}, p[2] = {1, 1};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 1, 2, 1, 1, in, k, s, p, NULL, NULL,
                                                NULL),
                 TCONV_OK);
    return g;
}

Test(matrix, figure2_by_hand)
{
    const tconv_geometry g = figure2_geometry();
    const tconv_matrix_info info = info_of(&g);
    cr_assert_eq(info.rows, 9);
    cr_assert_eq(info.cols, 25);
    cr_assert_eq(info.nnz, 81, "the seed counts 3·3·3·3 = 81 multiplications");
    int64_t *C = structure_of(&g, TCONV_APPLY), *Ct = structure_of(&g, TCONV_APPLY_T);
    for (int r = 0; r < 9; ++r) {
        int c = 0;
        for (const char *p = figure2[r]; *p; ++p) {
            if (*p == ' ')
                continue;
            const int64_t want = *p == '.' ? -1 : *p - '0';
            cr_assert_eq(C[r * 25 + c], want, "C[%d][%d] = %lld, by hand %lld", r, c,
                         (long long)C[r * 25 + c], (long long)want);
            cr_assert_eq(Ct[c * 9 + r], want, "Cᵀ[%d][%d] = %lld, by hand %lld", c, r,
                         (long long)Ct[c * 9 + r], (long long)want);
            ++c;
        }
        cr_assert_eq(c, 25);
    }
    free(C), free(Ct);
}

/* ---- C against the responses to unit vectors ------------------------------------------ */

#define UNIT_SEEDS 500
#define UNIT_MAX_ENTRIES 20000 /* rows·cols, so that identity batches stay small */

/* weights 1, 2, 3, ...: an entry's value minus one is the index of the weight it copies */
static double *counting_weights(const tconv_geometry *g)
{
    const int64_t n = numel(g, TCONV_TENSOR_WEIGHT);
    double *w = malloc((size_t)n * sizeof(double));
    for (int64_t i = 0; i < n; ++i)
        w[i] = (double)(i + 1);
    return w;
}

/*
 * The response of product p of `algo` to every unit vector at once: a batch of `n` images
 * holding the identity. For apply, resp[c][r] = (C e_c)[r] = C[r][c]; for apply_t,
 * resp[r][c] = (Cᵀ e_r)[c] = C[r][c]. Each entry is one weight times one, plus zeros:
 * exact in any summation order, so the comparison is exact.
 */
static double *unit_response(const tconv_geometry *g, tconv_product p, tconv_algo algo,
                             const double *w, int64_t n, int64_t out_len)
{
    const tconv_geometry gb = with_batch(g, n);
    double *id = calloc((size_t)(n * n), sizeof(double));
    double *resp = malloc((size_t)(n * out_len) * sizeof(double));
    for (int64_t i = 0; i < n; ++i)
        id[i * n + i] = 1;
    tconv_error err = {0};
    cr_assert_eq(tconv_product_run(&gb, p, algo, TCONV_F64, id, NULL, w, resp, NULL, &err),
                 TCONV_OK, "%s: %s", tconv_algo_name(algo), err.message);
    free(id);
    return resp;
}

static void check_against_units(const tconv_geometry *g)
{
    const tconv_matrix_info info = info_of(g);
    const int64_t R = info.rows, K = info.cols;
    double *w = counting_weights(g);
    double *C = malloc((size_t)(R * K) * sizeof(double));
    double *Ct = malloc((size_t)(R * K) * sizeof(double));
    int64_t *S = structure_of(g, TCONV_APPLY);
    tconv_error err = {0};
    cr_assert_eq(tconv_matrix_dense(g, TCONV_APPLY, TCONV_F64, w, C, NULL, &err), TCONV_OK);
    cr_assert_eq(tconv_matrix_dense(g, TCONV_APPLY_T, TCONV_F64, w, Ct, NULL, &err), TCONV_OK);

    const tconv_algo others[] = {TCONV_ALGO_GEMM, TCONV_ALGO_SCATTER, TCONV_ALGO_GATHER};
    for (size_t a = 0; a < sizeof others / sizeof others[0]; ++a) {
        const char *name = tconv_algo_name(others[a]);
        double *cols = unit_response(g, TCONV_APPLY, others[a], w, K, R); /* [K][R] */
        double *rows = unit_response(g, TCONV_APPLY_T, others[a], w, R, K); /* [R][K] */
        for (int64_t r = 0; r < R; ++r)
            for (int64_t c = 0; c < K; ++c) {
                const double by_apply = cols[c * R + r], by_apply_t = rows[r * K + c];
                cr_assert_eq(C[r * K + c], by_apply,
                             "C[%lld][%lld] = %g but %s apply on e_%lld gives %g [%s]",
                             (long long)r, (long long)c, C[r * K + c], name, (long long)c,
                             by_apply, describe(g));
                cr_assert_eq(C[r * K + c], by_apply_t,
                             "C[%lld][%lld] = %g but %s apply_t on e_%lld gives %g [%s]",
                             (long long)r, (long long)c, C[r * K + c], name, (long long)r,
                             by_apply_t, describe(g));
                cr_assert_eq(Ct[c * R + r], by_apply, "Cᵀ is not the transpose [%s]",
                             describe(g));
                cr_assert_eq(S[r * K + c], by_apply != 0 ? (int64_t)by_apply - 1 : -1,
                             "structure[%lld][%lld] = %lld, but the response names weight "
                             "%g [%s]",
                             (long long)r, (long long)c, (long long)S[r * K + c],
                             by_apply - 1, describe(g));
            }
        free(cols), free(rows);
    }
    free(w), free(C), free(Ct), free(S);
}

Test(matrix, equals_unit_vector_responses)
{
    const tconv_geometry fig2 = figure2_geometry(), fig4 = figure4_geometry();
    check_against_units(&fig2);
    check_against_units(&fig4);
    int tested = 0;
    for (uint64_t seed = 1; seed <= UNIT_SEEDS; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        const tconv_matrix_info info = info_of(&g);
        if (info.rows * info.cols > UNIT_MAX_ENTRIES)
            continue;
        check_against_units(&g);
        ++tested;
    }
    cr_assert(tested >= UNIT_SEEDS / 2, "only %d random geometries were small enough", tested);
}

/* ---- the non-zero count, three ways ---------------------------------------------------- */

#define COUNT_SEEDS 400
#define COUNT_MAX_ENTRIES ((int64_t)1 << 20)

/* CSR of C or Cᵀ against the formula's count and, when small, the dense structure. */
static void check_csr(const tconv_geometry *g, tconv_product side, const double *w)
{
    const tconv_matrix_info info = info_of(g);
    const int64_t rows = side == TCONV_APPLY ? info.rows : info.cols;
    const int64_t cols = side == TCONV_APPLY ? info.cols : info.rows;
    const int64_t nnz = info.nnz;
    int64_t *row_ptr = malloc((size_t)(rows + 1) * sizeof(int64_t));
    int64_t *col = malloc((size_t)(nnz + 1) * sizeof(int64_t));
    int64_t *widx = malloc((size_t)(nnz + 1) * sizeof(int64_t));
    double *val = malloc((size_t)(nnz + 1) * sizeof(double));
    const tconv_csr csr = {row_ptr, col, widx, val};
    tconv_error err = {0};
    cr_assert_eq(tconv_matrix_csr(g, side, TCONV_F64, w, &csr, NULL, &err), TCONV_OK, "%s",
                 err.message);
    cr_assert_eq(row_ptr[0], 0);
    cr_assert_eq(row_ptr[rows], nnz, "CSR holds %lld non-zeros, the formula says %lld [%s]",
                 (long long)row_ptr[rows], (long long)nnz, describe(g));
    for (int64_t j = 0; j < nnz; ++j)
        cr_assert_eq(val[j], w[widx[j]], "value %lld is not the weight it names", (long long)j);

    if (rows * cols <= COUNT_MAX_ENTRIES) {
        int64_t *S = structure_of(g, side), counted = 0;
        for (int64_t r = 0; r < rows; ++r) {
            int64_t j = row_ptr[r];
            cr_assert(row_ptr[r + 1] >= j, "row_ptr decreases at row %lld", (long long)r);
            for (int64_t c = 0; c < cols; ++c) {
                if (S[r * cols + c] < 0)
                    continue;
                ++counted;
                cr_assert(j < row_ptr[r + 1], "CSR row %lld misses column %lld [%s]",
                          (long long)r, (long long)c, describe(g));
                cr_assert_eq(col[j], c, "CSR row %lld: column %lld where the structure has "
                             "%lld [%s]", (long long)r, (long long)col[j], (long long)c,
                             describe(g));
                cr_assert_eq(widx[j], S[r * cols + c]);
                ++j;
            }
            cr_assert_eq(j, row_ptr[r + 1], "CSR row %lld has extra entries [%s]",
                         (long long)r, describe(g));
        }
        cr_assert_eq(counted, nnz, "the structure has %lld non-zeros, the formula says %lld "
                     "[%s]", (long long)counted, (long long)nnz, describe(g));
        free(S);
    }
    free(row_ptr), free(col), free(widx), free(val);
}

Test(matrix, nnz_formula_csr_and_structure_agree)
{
    const tconv_geometry fig2 = figure2_geometry(), fig4 = figure4_geometry();
    /* the seed's second example by the formula: per axis, taps 0, 1, 2 reach 2, 3, 2 of
     * the 3 inputs (stride 2, padding 1 into 5), so nnz = 2 channels · 7 · 7 */
    cr_assert_eq(info_of(&fig4).nnz, 98);
    const tconv_geometry *fixed[2] = {&fig2, &fig4};
    for (uint64_t seed = 0; seed < COUNT_SEEDS + 2; ++seed) {
        tconv_geometry g;
        if (seed < 2)
            g = *fixed[seed];
        else
            random_geometry(seed, &g);
        rng r = {seed};
        tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
        check_csr(&g, TCONV_APPLY, w.d);
        check_csr(&g, TCONV_APPLY_T, w.d);
        tensor_free(&w);
    }
}

/* Without padding no tap reaches outside the map: nnz = C_y·(C_x/g)·|Sy|·Πk, the
 * multiplications of the convolution way, whatever the stride and dilation. */
Test(matrix, nnz_without_padding_is_the_convolution_count)
{
    for (uint64_t seed = 1; seed <= 300; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        bool padded = false;
        for (int a = 0; a < g.dims; ++a)
            padded |= g.padding[a] != 0;
        if (padded)
            continue;
        int64_t expect = g.y_channels * (g.x_channels / g.groups);
        for (int a = 0; a < g.dims; ++a)
            expect *= g.y_size[a] * g.kernel[a];
        cr_assert_eq(info_of(&g).nnz, expect, "[%s]", describe(&g));
    }
}

/* ---- thread count ------------------------------------------------------------------------ */

#define THREAD_SEEDS 40

static void run_threads(const tconv_geometry *g, tconv_product p, tconv_algo algo,
                        tconv_dtype dt, const tensor *a, const tensor *b, void *out,
                        int threads)
{
    tconv_options opt = {0};
    opt.num_threads = threads;
    tconv_error err = {0};
    const tconv_status s = tconv_product_run(
        g, p, algo, dt, tensor_data(a, dt), p == TCONV_WGRAD ? tensor_data(b, dt) : NULL,
        p == TCONV_WGRAD ? NULL : tensor_data(b, dt), out, &opt, &err);
    cr_assert_eq(s, TCONV_OK, "%s: %s [%s]", tconv_algo_name(algo), err.message, describe(g));
}

Test(matrix, same_bits_for_any_thread_count)
{
    const tconv_tensor A[3] = {TCONV_TENSOR_X, TCONV_TENSOR_Y, TCONV_TENSOR_Y};
    const tconv_tensor B[3] = {TCONV_TENSOR_WEIGHT, TCONV_TENSOR_WEIGHT, TCONV_TENSOR_X};
    const tconv_tensor O[3] = {TCONV_TENSOR_Y, TCONV_TENSOR_X, TCONV_TENSOR_WEIGHT};
    const tconv_algo algos[2] = {TCONV_ALGO_DENSE, TCONV_ALGO_SPARSE};
    for (uint64_t seed = 1; seed <= THREAD_SEEDS; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        rng r = {seed};
        for (int p = 0; p < 3; ++p) {
            tensor a = tensor_random(numel(&g, A[p]), &r), b = tensor_random(numel(&g, B[p]), &r);
            const int64_t n = numel(&g, O[p]);
            for (int i = 0; i < 2; ++i)
                for (int d = 0; d < 2; ++d) {
                    const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
                    const size_t bytes = (size_t)n * (d ? sizeof(float) : sizeof(double)) + 1;
                    void *one = malloc(bytes), *many = malloc(bytes);
                    run_threads(&g, (tconv_product)p, algos[i], dt, &a, &b, one, 1);
                    for (int threads = 2; threads <= 3; ++threads) {
                        run_threads(&g, (tconv_product)p, algos[i], dt, &a, &b, many, threads);
                        cr_assert(memcmp(one, many, bytes - 1) == 0,
                                  "%s product %d: %d threads differ from 1 [%s]",
                                  tconv_algo_name(algos[i]), p, threads, describe(&g));
                    }
                    free(one), free(many);
                }
            tensor_free(&a), tensor_free(&b);
        }
    }
}

/* ---- names, auto, workspace -------------------------------------------------------------- */

Test(matrix, algorithm_names)
{
    tconv_algo a;
    cr_assert_eq(tconv_algo_from_name("dense", &a), TCONV_OK);
    cr_assert_eq(a, TCONV_ALGO_DENSE);
    cr_assert_eq(tconv_algo_from_name("sparse", &a), TCONV_OK);
    cr_assert_eq(a, TCONV_ALGO_SPARSE);
    cr_assert_str_eq(tconv_algo_name(TCONV_ALGO_DENSE), "dense");
    cr_assert_str_eq(tconv_algo_name(TCONV_ALGO_SPARSE), "sparse");
    cr_assert(TCONV_ALGO_COUNT > TCONV_ALGO_SPARSE);
    cr_assert_str_eq(tconv_algo_name(TCONV_ALGO_COUNT), "?");
}

/* auto resolves among the fast paths only: never to the matrix algorithms. */
Test(matrix, auto_never_picks_dense_or_sparse)
{
    for (uint64_t seed = 1; seed <= 200; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        for (int threads = 1; threads <= 4; ++threads) {
            tconv__ctx c = {.g = &g, .dtype = TCONV_F32, .threads = threads};
            tconv__shape_from(&g, &c.sh);
            const tconv__algo *a = tconv__algo_resolve(TCONV_ALGO_AUTO, &c);
            cr_assert(a != NULL);
            cr_assert(a->id != TCONV_ALGO_DENSE && a->id != TCONV_ALGO_SPARSE,
                      "auto chose %s [%s]", a->name, describe(&g));
        }
    }
}

/* The workspace query reports the matrices' bytes, counted here from the sizes: the dense
 * C (or dL/dC), and the CSR arrays (offsets, columns, weight indices, values). The slack is
 * the alignment of each array and of the caller's block. */
Test(matrix, workspace_reports_the_matrix_bytes)
{
    for (uint64_t seed = 1; seed <= 100; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        const tconv_matrix_info info = info_of(&g);
        for (int d = 0; d < 2; ++d) {
            const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
            const size_t es = d ? sizeof(float) : sizeof(double);
            for (int p = 0; p < 3; ++p) {
                const size_t dense = (size_t)(info.rows * info.cols) * es;
                const size_t offsets =
                    (size_t)((p == TCONV_APPLY_T ? info.cols : info.rows) + 1) * 8;
                const size_t csr = offsets + (size_t)info.nnz * (16 + (p == TCONV_WGRAD ? 0 : es));
                size_t got;
                tconv_error err = {0};
                cr_assert_eq(tconv_product_workspace_size(&g, (tconv_product)p,
                                                          TCONV_ALGO_DENSE, dt, NULL, &got,
                                                          &err),
                             TCONV_OK, "%s", err.message);
                cr_assert(got >= dense && got <= dense + 2 * 64, "dense %zu for %zu", got,
                          dense);
                cr_assert_eq(tconv_product_workspace_size(&g, (tconv_product)p,
                                                          TCONV_ALGO_SPARSE, dt, NULL, &got,
                                                          &err),
                             TCONV_OK, "%s", err.message);
                cr_assert(got >= csr && got <= csr + 5 * 64, "sparse %zu for %zu", got, csr);
            }
        }
    }
}

/* ---- refusals ---------------------------------------------------------------------------- */


/* The seed's 9x25 C is 900 bytes in float32: a limit of 899 refuses it in every call that
 * would build it, naming the 900 bytes, and leaves every output untouched; 900 accepts. */
Test(matrix, dense_refused_past_the_limit)
{
    const tconv_geometry g = figure2_geometry();
    float x[25], w[9], y[9], out[25], gw[9], gb[1];
    for (int i = 0; i < 25; ++i)
        x[i] = (float)i;
    for (int i = 0; i < 9; ++i)
        w[i] = y[i] = (float)(i + 1);
    tconv_options opt = {0};
    opt.dense_limit = 899;
    for (int call = 0; call < 7; ++call) {
        tconv_error err = {0};
        tconv_status s;
        memset(out, SENTINEL, sizeof out), memset(gw, SENTINEL, sizeof gw);
        memset(gb, SENTINEL, sizeof gb);
        switch (call) {
        case 0:
        case 1:
        case 2: {
            const void *a = call == 0 ? (const void *)x : y;
            s = tconv_product_run(&g, (tconv_product)call, TCONV_ALGO_DENSE, TCONV_F32, a,
                                  call == 2 ? x : NULL, call == 2 ? NULL : w,
                                  call == 2 ? (void *)gw : out, &opt, &err);
            break;
        }
        case 3:
            s = tconv_conv_forward_ex(&g, TCONV_ALGO_DENSE, TCONV_F32, x, w, NULL, out, &opt,
                                      &err);
            break;
        case 4:
            s = tconv_conv_backward_ex(&g, TCONV_ALGO_DENSE, TCONV_F32, x, w, y, out, gw, gb,
                                       &opt, &err);
            break;
        case 5:
            s = tconv_convt_forward_ex(&g, TCONV_ALGO_DENSE, TCONV_F32, y, w, NULL, out, &opt,
                                       &err);
            break;
        default:
            s = tconv_convt_backward_ex(&g, TCONV_ALGO_DENSE, TCONV_F32, y, w, x, out, gw, gb,
                                        &opt, &err);
        }
        cr_assert_eq(s, TCONV_ETOOBIG, "call %d: %s", call, tconv_status_name(s));
        cr_assert_eq(err.status, TCONV_ETOOBIG);
        cr_assert(strstr(err.message, "9 x 25") && strstr(err.message, "900 bytes") &&
                      strstr(err.message, "899"),
                  "call %d: message '%s' should give the size, 900 bytes and the limit", call,
                  err.message);
        cr_assert(untouched(out, sizeof out) && untouched(gw, sizeof gw) &&
                      untouched(gb, sizeof gb),
                  "call %d wrote to an output", call);
    }
    size_t bytes;
    cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_BACKWARD, TCONV_ALGO_DENSE, TCONV_F32, &opt,
                                      &bytes, NULL),
                 TCONV_ETOOBIG);
    opt.dense_limit = 900;
    cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_BACKWARD, TCONV_ALGO_DENSE, TCONV_F32, &opt,
                                      &bytes, NULL),
                 TCONV_OK);
    cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_DENSE, TCONV_F32, x, w, NULL, y, &opt,
                                       NULL),
                 TCONV_OK);
}

/* The default limit is 256 MiB: a 8192 x 8192 float32 C (exactly 2^28 bytes) is accepted,
 * 8193 x 8193 is refused with its 268500996 bytes; sparse takes both. Sizes only: nothing
 * is built. */
Test(matrix, dense_default_limit_is_256_MiB)
{
    for (int64_t n = 8192; n <= 8193; ++n) {
        const int64_t in[1] = {n}, k[1] = {1};
        tconv_geometry g;
        cr_assert_eq(tconv_geometry_init_conv(&g, 1, 1, 1, 1, 1, in, k, NULL, NULL, NULL, NULL),
                     TCONV_OK);
        size_t bytes;
        tconv_error err = {0};
        const tconv_status s = tconv_workspace_size(&g, TCONV_CONV_FORWARD, TCONV_ALGO_DENSE,
                                                    TCONV_F32, NULL, &bytes, &err);
        char need[64];
        snprintf(need, sizeof need, "%lld bytes", (long long)(n * n * 4));
        if (n == 8192) {
            cr_assert_eq(s, TCONV_OK, "%s", err.message);
            cr_assert(bytes >= ((size_t)1 << 28));
        } else {
            cr_assert_eq(s, TCONV_ETOOBIG);
            cr_assert(strstr(err.message, need), "'%s' should say %s", err.message, need);
            cr_assert(strstr(err.message, "268435456"), "'%s' should give the default limit",
                      err.message);
        }
        cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_FORWARD, TCONV_ALGO_SPARSE, TCONV_F32,
                                          NULL, &bytes, &err),
                     TCONV_OK, "%s", err.message);
    }
}

/* Geometries the engine accepts whose matrices cannot even be counted. */
static tconv_geometry huge_geometry(int64_t kernel)
{
    /* 2^50 positions per map, so rows·cols = 2^100; batch 0, nothing to compute */
    const int64_t in[3] = {(int64_t)1 << 20, (int64_t)1 << 20, (int64_t)1 << 10};
    const int64_t k[3] = {kernel, kernel, kernel};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 3, 0, 1, 1, 1, in, k, NULL, NULL, NULL, NULL),
                 TCONV_OK);
    return g;
}

Test(matrix, overflow_is_refused)
{
    /* kernel 1: rows·cols overflows, nnz = 2^50 still fits */
    const tconv_geometry wide = huge_geometry(1);
    tconv_matrix_info info;
    tconv_error err = {0};
    cr_assert_eq(tconv_matrix_info_get(&wide, TCONV_F32, &info, &err), TCONV_OK, "%s",
                 err.message);
    cr_assert_eq(info.nnz, (int64_t)1 << 50);
    cr_assert_eq(info.dense_bytes, SIZE_MAX);
    cr_assert_eq(info.structure_bytes, SIZE_MAX);
    size_t bytes;
    cr_assert_eq(tconv_workspace_size(&wide, TCONV_CONV_FORWARD, TCONV_ALGO_DENSE, TCONV_F32,
                                      NULL, &bytes, &err),
                 TCONV_ETOOBIG);
    cr_assert(strstr(err.message, "2^63"), "%s", err.message);
    cr_assert_eq(tconv_workspace_size(&wide, TCONV_CONV_FORWARD, TCONV_ALGO_SPARSE, TCONV_F32,
                                      NULL, &bytes, &err),
                 TCONV_OK, "%s", err.message);
    int64_t index[4];
    float m[4];
    memset(index, SENTINEL, sizeof index), memset(m, SENTINEL, sizeof m);
    const float w[1] = {1};
    cr_assert_eq(tconv_matrix_structure(&wide, TCONV_APPLY, index, NULL, &err),
                 TCONV_EOVERFLOW);
    cr_assert_eq(tconv_matrix_dense(&wide, TCONV_APPLY_T, TCONV_F32, w, m, NULL, &err),
                 TCONV_EOVERFLOW);
    cr_assert(untouched(index, sizeof index) && untouched(m, sizeof m));

    /* kernel 32 on every axis: nnz ~ 2^65 overflows int64 itself */
    const tconv_geometry deep = huge_geometry(32);
    memset(&info, SENTINEL, sizeof info);
    cr_assert_eq(tconv_matrix_info_get(&deep, TCONV_F32, &info, &err), TCONV_EOVERFLOW);
    cr_assert(untouched(&info, sizeof info));
    cr_assert_eq(tconv_workspace_size(&deep, TCONV_CONVT_FORWARD, TCONV_ALGO_SPARSE, TCONV_F32,
                                      NULL, &bytes, &err),
                 TCONV_EOVERFLOW);
    cr_assert(strstr(err.message, "sparse"), "%s", err.message);
    int64_t row_ptr[4];
    memset(row_ptr, SENTINEL, sizeof row_ptr);
    const tconv_csr csr = {row_ptr, index, NULL, NULL};
    cr_assert_eq(tconv_matrix_csr(&deep, TCONV_APPLY, TCONV_F32, NULL, &csr, NULL, &err),
                 TCONV_EOVERFLOW);
    cr_assert(untouched(row_ptr, sizeof row_ptr));
}

/* Within the byte limit but past CBLAS's int: refused up front, not truncated. */
Test(matrix, dense_refuses_blas_int_overflow)
{
    const int64_t one[1] = {1}, tiny[1] = {2};
    const int64_t wide = ((int64_t)1 << 31) + 1;
    tconv_geometry many_rows, many_images;
    /* 2^31 + 1 output channels of one element: a (2^31 + 1) x 1 matrix C */
    cr_assert_eq(tconv_geometry_init_conv(&many_rows, 1, 0, 1, wide, 1, one, one, NULL, NULL,
                                          NULL, NULL),
                 TCONV_OK);
    /* a 2 x 2 C but 2^31 + 1 images: the batch is a GEMM dimension */
    cr_assert_eq(tconv_geometry_init_conv(&many_images, 1, wide, 1, 1, 1, tiny, one, NULL, NULL,
                                          NULL, NULL),
                 TCONV_OK);
    tconv_options opt = {0};
    opt.dense_limit = SIZE_MAX;
    const tconv_geometry *gs[2] = {&many_rows, &many_images};
    for (int i = 0; i < 2; ++i) {
        size_t bytes = 7;
        tconv_error err = {0};
        cr_assert_eq(tconv_workspace_size(gs[i], TCONV_CONV_FORWARD, TCONV_ALGO_DENSE, TCONV_F32,
                                          &opt, &bytes, &err),
                     TCONV_EUNSUPPORTED, "case %d", i);
        cr_assert(strstr(err.message, "BLAS"), "%s", err.message);
        cr_assert_eq(bytes, 7, "a refused query wrote its result");
    }
}

/* Every way a builder can be refused, each with its status and a message, outputs
 * untouched. */
Test(matrix, builder_refusals_touch_nothing)
{
    const tconv_geometry g = figure2_geometry();
    tconv_geometry bad = g;
    bad.y_size[0] += 1; /* inconsistent: would overrun the caller's buffers if trusted */
    const double w[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int64_t index[225], row_ptr[26], col[81], widx[81];
    double m[225], val[81];
    tconv_options negative = {0};
    negative.num_threads = -2;
    const tconv_csr full = {row_ptr, col, widx, val}, no_col = {row_ptr, NULL, widx, val};
    const tconv_csr no_rows = {NULL, col, widx, val};

    struct {
        const char *what;
        int builder; /* 0 structure, 1 dense, 2 csr */
        const tconv_geometry *g;
        int p, dtype;
        const double *w;
        bool null_out;
        const tconv_csr *csr;
        const tconv_options *opt;
        tconv_status expect;
    } const cases[] = {
        {"structure: NULL geometry", 0, NULL, 0, 1, w, false, NULL, NULL, TCONV_EINVAL},
        {"structure: tampered geometry", 0, &bad, 0, 1, w, false, NULL, NULL, TCONV_EINVAL},
        {"structure: wgrad has no matrix", 0, &g, 2, 1, w, false, NULL, NULL, TCONV_EINVAL},
        {"structure: NULL index", 0, &g, 0, 1, w, true, NULL, NULL, TCONV_EINVAL},
        {"structure: negative threads", 0, &g, 1, 1, w, false, NULL, &negative, TCONV_EINVAL},
        {"dense: NULL geometry", 1, NULL, 0, 1, w, false, NULL, NULL, TCONV_EINVAL},
        {"dense: product 7", 1, &g, 7, 1, w, false, NULL, NULL, TCONV_EINVAL},
        {"dense: unknown dtype", 1, &g, 0, 9, w, false, NULL, NULL, TCONV_EINVAL},
        {"dense: NULL weight", 1, &g, 0, 1, NULL, false, NULL, NULL, TCONV_EINVAL},
        {"dense: NULL matrix", 1, &g, 1, 1, w, true, NULL, NULL, TCONV_EINVAL},
        {"dense: negative threads", 1, &g, 0, 1, w, false, NULL, &negative, TCONV_EINVAL},
        {"csr: NULL geometry", 2, NULL, 0, 1, w, false, &full, NULL, TCONV_EINVAL},
        {"csr: wgrad has no matrix", 2, &g, 2, 1, w, false, &full, NULL, TCONV_EINVAL},
        {"csr: unknown dtype", 2, &g, 0, -1, w, false, &full, NULL, TCONV_EINVAL},
        {"csr: NULL csr", 2, &g, 0, 1, w, false, NULL, NULL, TCONV_EINVAL},
        {"csr: NULL row_ptr", 2, &g, 0, 1, w, false, &no_rows, NULL, TCONV_EINVAL},
        {"csr: NULL col", 2, &g, 1, 1, w, false, &no_col, NULL, TCONV_EINVAL},
        {"csr: values without weight", 2, &g, 0, 1, NULL, false, &full, NULL, TCONV_EINVAL},
        {"csr: negative threads", 2, &g, 0, 1, w, false, &full, &negative, TCONV_EINVAL},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        memset(index, SENTINEL, sizeof index), memset(m, SENTINEL, sizeof m);
        memset(row_ptr, SENTINEL, sizeof row_ptr), memset(col, SENTINEL, sizeof col);
        memset(widx, SENTINEL, sizeof widx), memset(val, SENTINEL, sizeof val);
        tconv_error err = {0};
        tconv_status s;
        if (cases[c].builder == 0)
            s = tconv_matrix_structure(cases[c].g, (tconv_product)cases[c].p,
                                       cases[c].null_out ? NULL : index, cases[c].opt, &err);
        else if (cases[c].builder == 1)
            s = tconv_matrix_dense(cases[c].g, (tconv_product)cases[c].p,
                                   (tconv_dtype)cases[c].dtype, cases[c].w,
                                   cases[c].null_out ? NULL : m, cases[c].opt, &err);
        else
            s = tconv_matrix_csr(cases[c].g, (tconv_product)cases[c].p,
                                 (tconv_dtype)cases[c].dtype, cases[c].w, cases[c].csr,
                                 cases[c].opt, &err);
        cr_assert_eq(s, cases[c].expect, "%s: got %s (%s)", cases[c].what,
                     tconv_status_name(s), err.message);
        cr_assert_eq(err.status, s, "%s: error record not filled", cases[c].what);
        cr_assert(strlen(err.message) > 0, "%s: empty message", cases[c].what);
        cr_assert(untouched(index, sizeof index) && untouched(m, sizeof m) &&
                      untouched(row_ptr, sizeof row_ptr) && untouched(col, sizeof col) &&
                      untouched(widx, sizeof widx) && untouched(val, sizeof val),
                  "%s: an output was written", cases[c].what);
    }
    tconv_matrix_info info;
    cr_assert_eq(tconv_matrix_info_get(&g, TCONV_F64, NULL, NULL), TCONV_EINVAL);
    cr_assert_eq(tconv_matrix_info_get(&g, (tconv_dtype)3, &info, NULL), TCONV_EINVAL);
    cr_assert_eq(tconv_matrix_info_get(NULL, TCONV_F64, &info, NULL), TCONV_EINVAL);

    /* the optional arrays may be left out; the structure alone needs no weight */
    const tconv_csr bare = {row_ptr, col, NULL, NULL};
    cr_assert_eq(tconv_matrix_csr(&g, TCONV_APPLY, TCONV_F64, NULL, &bare, NULL, NULL),
                 TCONV_OK);
    cr_assert_eq(row_ptr[9], 81);
}
