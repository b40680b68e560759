/*
 * Calls that the fuzzer (tests/fuzz) found misbehaving, each pinned with the values that
 * showed it, so the fix stays. Before the fixes, the sanitizer build aborted on each of
 * them (signed overflow, memset on NULL) and the thread-count case handed 10^9 threads to
 * the OpenMP runtime. Expectations come from the arithmetic in each comment, not from
 * running the library.
 */
#include "common.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>


/*
 * output_size form, in = 2, kernel 1, stride INT64_MAX - 1: the smallest reachable size is
 * lo = (2-1)·s + 1 = INT64_MAX, so 5 is unreachable; the message used to print lo + s - 1,
 * which overflows. The top of the range is now saturated.
 */
Test(regressions, unreachable_message_with_huge_stride)
{
    const int64_t in = 2, k = 1, s = INT64_MAX - 1, want = 5;
    tconv_geometry g, before;
    memset(&g, SENTINEL, sizeof g);
    before = g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_transposed_output_size(&g, 1, 1, 1, 1, 1, &in, &want, &k,
                                                            &s, NULL, NULL, &err),
                 TCONV_EUNREACHABLE, "%s", err.message);
    cr_assert(strstr(err.message, "from 9223372036854775807 to 9223372036854775807"), "%s",
              err.message);
    cr_assert(memcmp(&g, &before, sizeof g) == 0);
}

/*
 * in = 1, kernel 1, stride 2, padding INT64_MAX/2 - 1: lo = 1 - 2p = 3 - INT64_MAX, and
 * output_size INT64_MAX would need the output_padding want - lo, which does not fit in
 * int64 (it is certainly not below the stride).
 */
Test(regressions, unreachable_output_padding_overflows)
{
    const int64_t in = 1, k = 1, s = 2, p = INT64_MAX / 2 - 1, want = INT64_MAX;
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_transposed_output_size(&g, 1, 1, 1, 1, 1, &in, &want, &k,
                                                            &s, &p, NULL, &err),
                 TCONV_EUNREACHABLE, "%s", err.message);
    cr_assert(strstr(err.message, "output_size[0]"), "%s", err.message);
}

/*
 * An empty batch made every tensor's count 0, so the count of one image went unchecked:
 * 2^21 cubed = 2^63 elements per channel overflowed later, in the kernels' view of the
 * geometry. One image must fit even when there are none.
 */
Test(regressions, empty_batch_still_bounds_one_image)
{
    const int64_t cube[3] = {(int64_t)1 << 21, (int64_t)1 << 21, (int64_t)1 << 21};
    const int64_t one[3] = {1, 1, 1};
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_conv(&g, 3, 0, 1, 1, 1, cube, one, NULL, NULL, NULL, &err),
                 TCONV_EOVERFLOW, "%s", err.message);
    /* 2^40 channels of 2^30 elements: the channel factor counts too */
    const int64_t line = (int64_t)1 << 30;
    cr_assert_eq(tconv_geometry_init_transposed(&g, 1, 0, (int64_t)1 << 40, 1, 1, &line, one,
                                                NULL, NULL, NULL, NULL, &err),
                 TCONV_EOVERFLOW, "%s", err.message);
    /* 2^59 elements per image fit (2^62 bytes in float64) */
    const int64_t fits[3] = {(int64_t)1 << 20, (int64_t)1 << 20, (int64_t)1 << 19};
    cr_assert_eq(tconv_geometry_init_conv(&g, 3, 0, 1, 1, 1, fits, one, NULL, NULL, NULL, &err),
                 TCONV_OK, "%s", err.message);
}

/*
 * x + 2p + d(k-1) must fit in int64 (the kernels compute padded and stretched extents from
 * it). x = 4, kernel 2, padding 3·2^60, dilation 3·2^61 - 1: the padded input 4 + 3·2^61
 * fits and holds the kernel's extent 3·2^61, but the sum 3·2^62 + 3 does not.
 */
Test(regressions, axis_extent_must_fit)
{
    const int64_t x = 4, k = 2, p = (int64_t)3 << 60, d = ((int64_t)3 << 61) - 1;
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 1, 1, 1, 1, &x, &k, NULL, &p, &d, &err),
                 TCONV_EOVERFLOW, "%s", err.message);
    cr_assert(strstr(err.message, "axis 0"), "%s", err.message);
}

/*
 * conv1d, x = 1, kernel 1, padding (INT64_MAX-1)/2, stride INT64_MAX: the padded input is
 * INT64_MAX long, y = (INT64_MAX - 1) / INT64_MAX + 1 = 1, and the one tap of the one
 * window reads position 0 - p < 0, padding. So y is the bias alone, and the gradients of x
 * and of the weight are zero. im2col's range of valid windows computed -off + s - 1 =
 * p + INT64_MAX - 1 and overflowed. Every algorithm either computes exactly this or refuses
 * (gather needs a canvas of INT64_MAX elements) with a message and writes nothing.
 */
Test(regressions, huge_padding_and_stride)
{
    const int64_t x = 1, k = 1, p = (INT64_MAX - 1) / 2, s = INT64_MAX;
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 1, 2, 3, 1, &x, &k, &s, &p, NULL, &err),
                 TCONV_OK, "%s", err.message);
    cr_assert_eq(g.y_size[0], 1);
    tconv_algo algos[32];
    const int na = all_algorithms(algos, 32);
    const double xv[2] = {0.5, -2}, w[6] = {1, 2, 3, 4, 5, 6}, bias[3] = {0.25, -1, 8};
    const double gy[3] = {1, -1, 3};
    for (int a = 0; a < na; ++a) {
        double y[3], gx[2], gw[6], gb[3];
        memset(y, SENTINEL, sizeof y);
        tconv_status st = tconv_conv_forward_ex(&g, algos[a], TCONV_F64, xv, w, bias, y, NULL,
                                                &err);
        const char *name = tconv_algo_name(algos[a]);
        if (st != TCONV_OK) {
            cr_assert(strlen(err.message) > 0, "%s: refusal without a message", name);
            cr_assert(untouched(y, sizeof y), "%s: refused and wrote", name);
        } else {
            for (int c = 0; c < 3; ++c)
                cr_assert_eq(y[c], bias[c], "%s: y[%d] = %g, the bias is %g", name, c, y[c],
                             bias[c]);
        }
        memset(gx, SENTINEL, sizeof gx), memset(gw, SENTINEL, sizeof gw);
        memset(gb, SENTINEL, sizeof gb);
        st = tconv_conv_backward_ex(&g, algos[a], TCONV_F64, xv, w, gy, gx, gw, gb, NULL, &err);
        if (st != TCONV_OK) {
            cr_assert(strlen(err.message) > 0, "%s: refusal without a message", name);
            cr_assert(untouched(gx, sizeof gx) && untouched(gw, sizeof gw) &&
                          untouched(gb, sizeof gb),
                      "%s: refused and wrote", name);
            continue;
        }
        for (int i = 0; i < 2; ++i)
            cr_assert_eq(gx[i], 0.0, "%s: grad_x[%d] = %g", name, i, gx[i]);
        for (int i = 0; i < 6; ++i)
            cr_assert_eq(gw[i], 0.0, "%s: grad_w[%d] = %g", name, i, gw[i]);
        for (int c = 0; c < 3; ++c)
            cr_assert_eq(gb[c], gy[c], "%s: grad_b[%d] = %g", name, c, gb[c]);
    }
}

/*
 * options.num_threads was taken as given: 1231053056 went to `omp parallel num_threads`,
 * where libgomp crashes and libomp aborts when it cannot start the threads. Past
 * TCONV_MAX_THREADS the call is refused before anything runs.
 */
Test(regressions, thread_count_is_bounded)
{
    const int64_t in[2] = {3, 3}, k[2] = {2, 2};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 2, 1, 1, 1, 1, in, k, NULL, NULL, NULL, NULL),
                 TCONV_OK);
    const double x[9] = {0}, w[4] = {0};
    const int bad[3] = {TCONV_MAX_THREADS + 1, 1231053056, INT_MAX};
    for (int i = 0; i < 3; ++i) {
        tconv_options opt = {0};
        opt.num_threads = bad[i];
        double y[4];
        memset(y, SENTINEL, sizeof y);
        tconv_error err = {0};
        cr_assert_eq(tconv_conv_forward_ex(&g, TCONV_ALGO_GEMM, TCONV_F64, x, w, NULL, y, &opt,
                                           &err),
                     TCONV_EINVAL);
        cr_assert(strstr(err.message, "num_threads"), "%s", err.message);
        cr_assert(untouched(y, sizeof y));
    }
    tconv_options most = {0};
    most.num_threads = TCONV_MAX_THREADS;
    size_t bytes;
    cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_FORWARD, TCONV_ALGO_GEMM, TCONV_F64, &most,
                                      &bytes, NULL),
                 TCONV_OK);
}

/*
 * An empty batch lets every X and Y tensor be NULL. scatter's apply cleared its output with
 * memset(NULL, 0, 0), undefined behaviour; the channels-last bias gradient offset the NULL
 * gradient by its block's first channel (fuzz input 633fcc75, kept in tests/fuzz/corpus:
 * clang's UBSan in the fuzz build flags NULL + 0, GCC's here does not). Every entry point
 * and every algorithm, in both layouts: empty outputs, weight and bias gradients of zero.
 */
Test(regressions, empty_batch_null_tensors)
{
    const int64_t in[2] = {3, 4}, k[2] = {2, 3}, s[2] = {2, 1};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 2, 0, 4, 6, 2, in, k, s, NULL, NULL, NULL),
                 TCONV_OK);
    tconv_algo algos[32];
    const int na = all_algorithms(algos, 32);
    const int64_t nw = tconv_tensor_numel(&g, TCONV_TENSOR_WEIGHT);
    cr_assert_eq(nw, 6 * 2 * 2 * 3);
    double w[72];
    for (int i = 0; i < 72; ++i)
        w[i] = i;
    for (int a = 0; a < na; ++a)
        for (int d = 0; d < 2; ++d) {
            const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
            const char *name = tconv_algo_name(algos[a]);
            float w32[72];
            for (int i = 0; i < 72; ++i)
                w32[i] = (float)w[i];
            const void *wp = dt == TCONV_F64 ? (const void *)w : (const void *)w32;
            double gw[72], gb[6];
            tconv_error err = {0};
            tconv_status st[6];
            st[0] = tconv_conv_forward_ex(&g, algos[a], dt, NULL, wp, NULL, NULL, NULL, &err);
            st[1] = tconv_convt_forward_ex(&g, algos[a], dt, NULL, wp, NULL, NULL, NULL, &err);
            st[2] = tconv_product_run(&g, TCONV_APPLY, algos[a], dt, NULL, NULL, wp, NULL, NULL,
                                      &err);
            st[3] = tconv_product_run(&g, TCONV_APPLY_T, algos[a], dt, NULL, NULL, wp, NULL,
                                      NULL, &err);
            for (int i = 0; i < 4; ++i)
                cr_assert(st[i] == TCONV_OK || st[i] == TCONV_EUNSUPPORTED,
                          "%s: call %d returned %s (%s)", name, i, tconv_status_name(st[i]),
                          err.message);
            for (int layer = 0; layer < 4; ++layer) {
                const tconv_options opt = {.layout = layer / 2 ? TCONV_LAYOUT_CHANNELS_LAST
                                                               : TCONV_LAYOUT_CHANNELS_FIRST};
                memset(gw, SENTINEL, sizeof gw), memset(gb, SENTINEL, sizeof gb);
                const tconv_status b =
                    layer % 2 ? tconv_convt_backward_ex(&g, algos[a], dt, NULL, wp, NULL, NULL,
                                                        gw, gb, &opt, &err)
                              : tconv_conv_backward_ex(&g, algos[a], dt, NULL, wp, NULL, NULL,
                                                       gw, gb, &opt, &err);
                if (b == TCONV_EUNSUPPORTED) {
                    cr_assert(untouched(gw, sizeof gw) && untouched(gb, sizeof gb));
                    continue;
                }
                cr_assert_eq(b, TCONV_OK, "%s backward: %s", name, err.message);
                const size_t size = dt == TCONV_F64 ? 8 : 4;
                const unsigned char *zw = (const unsigned char *)gw;
                for (size_t i = 0; i < (size_t)nw * size; ++i)
                    cr_assert_eq(zw[i], 0, "%s: grad_weight byte %zu", name, i);
                const int64_t nb = layer % 2 ? g.x_channels : g.y_channels;
                const unsigned char *zb = (const unsigned char *)gb;
                for (size_t i = 0; i < (size_t)nb * size; ++i)
                    cr_assert_eq(zb[i], 0, "%s: grad_bias byte %zu", name, i);
            }
            memset(gw, SENTINEL, sizeof gw);
            const tconv_status pw = tconv_product_run(&g, TCONV_WGRAD, algos[a], dt, NULL, NULL,
                                                      NULL, gw, NULL, &err);
            cr_assert(pw == TCONV_OK || pw == TCONV_EUNSUPPORTED, "%s wgrad: %s", name,
                      err.message);
            if (pw == TCONV_OK)
                for (size_t i = 0; i < (size_t)nw * (dt == TCONV_F64 ? 8 : 4); ++i)
                    cr_assert_eq(((const unsigned char *)gw)[i], 0, "%s: wgrad byte %zu", name,
                                 i);
        }
}

/*
 * The sparse planner counted the matrix's non-zeros with a loop over the kernel's taps:
 * a kernel of 2^30 taps (batch 0, so the tensors are legal) kept tconv_workspace_size busy
 * for seconds (fuzz input finding6-matrix-nnz-walk). The count now walks the shorter of
 * kernel and map, and refuses when both pass 2^24 on one axis.
 *   - kernel 2^30 over x = 2^30 + 7: y = 8 positions, each meets the taps that land
 *     inside the map; the planner answers at once;
 *   - kernel 2^30 over x = 2^40: y = 2^40 - 2^30 + 1 positions: refused, EUNSUPPORTED.
 */
Test(regressions, matrix_nnz_of_a_huge_kernel, .timeout = 20)
{
    const int64_t k = (int64_t)1 << 30;
    const int64_t short_x = k + 7, long_x = (int64_t)1 << 40;
    tconv_geometry g;
    tconv_error err = {0};
    size_t bytes = 0;
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 0, 1, 1, 1, &short_x, &k, NULL, NULL, NULL,
                                          &err),
                 TCONV_OK, "%s", err.message);
    cr_assert_eq(g.y_size[0], 8);
    /* 8 positions x 2^30 taps, all inside the map: 2^33 non-zeros, 24 bytes each */
    tconv_matrix_info info;
    cr_assert_eq(tconv_matrix_info_get(&g, TCONV_F64, &info, &err), TCONV_OK, "%s",
                 err.message);
    cr_assert_eq(info.nnz, (int64_t)8 << 30);
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 0, 1, 1, 1, &long_x, &k, NULL, NULL, NULL,
                                          &err),
                 TCONV_OK, "%s", err.message);
    cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_FORWARD, TCONV_ALGO_SPARSE, TCONV_F32,
                                      NULL, &bytes, &err),
                 TCONV_EUNSUPPORTED);
    cr_assert(strstr(err.message, "sparse") && strstr(err.message, "axis 0"), "%s",
              err.message);
}

/*
 * The same count summed its per-tap terms unchecked, on the belief that it stays below
 * Y·K; but Y·K itself need not fit (fuzz input finding11-matrix-nnz-sum, seed 29): with
 * x = 2^59 (batch 0; an image of it still fits in 2^62 bytes) and a kernel of 32 taps,
 * y = 2^59 - 31 and every tap meets all of them, so the count is 32·(2^59 - 31) > 2^63. Now EOVERFLOW, with a message, from both the matrix info
 * and the sparse planner.
 */
Test(regressions, matrix_nnz_past_int64)
{
    const int64_t x = (int64_t)1 << 59, k = 32;
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 0, 1, 1, 1, &x, &k, NULL, NULL, NULL, &err),
                 TCONV_OK, "%s", err.message);
    cr_assert_eq(g.y_size[0], x - 31);
    tconv_matrix_info info;
    memset(&info, SENTINEL, sizeof info);
    cr_assert_eq(tconv_matrix_info_get(&g, TCONV_F32, &info, &err), TCONV_EOVERFLOW);
    cr_assert(strstr(err.message, "non-zero") != NULL, "%s", err.message);
    cr_assert(untouched(&info, sizeof info));
    size_t bytes = 0;
    cr_assert_eq(tconv_workspace_size(&g, TCONV_CONV_FORWARD, TCONV_ALGO_SPARSE, TCONV_F32,
                                      NULL, &bytes, &err),
                 TCONV_EOVERFLOW);
}

/*
 * phase's plane loops sized their thread team as budget / (buffer per thread), where the
 * buffer may be empty: with a 2-D conv whose 1-pixel-high input lies wholly in the
 * padding of phase rows (x = 1x2, kernel 1x2, stride 2, padding 1) no phase is active, the
 * buffer was 0 elements, and a workspace_limit below the planner's alignment slack made
 * the team 0 threads: an OpenMP region of "0 threads" ran with the default team over a
 * NULL workspace (fuzz input finding7-phase-empty-team). Nothing was written through it
 * (the buffer is empty), so only clang's UBSan sees the null offset: the fuzz build, which
 * replays that input on every make test. Here, every tiny limit must give either a
 * refusal that writes nothing or the oracle's result (y = 0: every tap lands in padding).
 */
Test(regressions, phase_under_tiny_workspace_limits)
{
    const int64_t in[2] = {1, 2}, k[2] = {1, 2}, s[2] = {2, 2}, p[2] = {1, 1};
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 2, 2, 1, 1, 1, in, k, s, p, NULL, NULL),
                 TCONV_OK);
    cr_assert(g.y_size[0] == 2 && g.y_size[1] == 2);
    rng r = {7};
    tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    tensor ax = tensor_abs(&x), aw = tensor_abs(&w);
    tensor ref = tensor_new(numel(&g, TCONV_TENSOR_Y)), bound = tensor_new(ref.n);
    tensor y = tensor_new(ref.n);
    oracle(&g, TCONV_APPLY, x.d, w.d, ref.d);
    oracle(&g, TCONV_APPLY, ax.d, aw.d, bound.d);
    int ran = 0;
    for (size_t limit = 1; limit <= 4096; limit = limit * 2 + 1) {
        tconv_options opt = {0};
        opt.workspace_limit = limit;
        opt.num_threads = 2;
        tconv_error err = {0};
        memset(y.d, SENTINEL, (size_t)y.n * sizeof(double));
        const tconv_status st = tconv_conv_forward_ex(&g, TCONV_ALGO_PHASE, TCONV_F64, x.d, w.d,
                                                      NULL, y.d, &opt, &err);
        if (st != TCONV_OK) {
            cr_assert(strlen(err.message) > 0, "limit %zu: refusal without a message", limit);
            cr_assert(untouched(y.d, (size_t)y.n * sizeof(double)), "limit %zu: wrote", limit);
            continue;
        }
        ++ran;
        char what[64];
        snprintf(what, sizeof what, "phase, workspace_limit %zu", limit);
        expect_close(y.d, ref.d, bound.d, y.n, reduction_length(&g, TCONV_APPLY),
                     dtype_eps(TCONV_F64), what);
    }
    cr_assert(ran > 0, "no limit up to 4 KiB let phase run this small layer");
    tensor_free(&x), tensor_free(&w), tensor_free(&ax), tensor_free(&aw);
    tensor_free(&ref), tensor_free(&bound), tensor_free(&y);
}
