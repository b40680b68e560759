/*
 * Geometry: output sizes against counting by brute force, the output_size= form, every
 * rejection (status, a message naming the parameter and axis, and the geometry left
 * untouched), overflow, and the helpers.
 */
#include "common.h"

#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Counts the window positions of a conv along one axis: o is valid while its last tap
 * o*s + d*(k-1) stays inside the padded input. Shares no formula with the library. */
static int64_t count_windows(int64_t x, int64_t k, int64_t s, int64_t p, int64_t d)
{
    int64_t n = 0;
    for (int64_t o = 0; o * s + d * (k - 1) <= x + 2 * p - 1; ++o)
        ++n;
    return n;
}

Test(geometry, conv_sizes_match_counting)
{
    for (int64_t x = 1; x <= 12; ++x)
        for (int64_t k = 1; k <= 5; ++k)
            for (int64_t s = 1; s <= 4; ++s)
                for (int64_t p = 0; p <= 3; ++p)
                    for (int64_t d = 1; d <= 3; ++d) {
                        const int64_t expect = count_windows(x, k, s, p, d);
                        tconv_geometry g;
                        const tconv_status st =
                            tconv_geometry_init_conv(&g, 1, 1, 1, 1, 1, &x, &k, &s, &p, &d, NULL);
                        if (expect == 0) {
                            cr_assert_eq(st, TCONV_EINVAL, "x=%lld k=%lld s=%lld p=%lld d=%lld",
                                         (long long)x, (long long)k, (long long)s,
                                         (long long)p, (long long)d);
                            continue;
                        }
                        cr_assert_eq(st, TCONV_OK);
                        cr_assert_eq(g.y_size[0], expect);
                        /* the remainder lies in [0, s): the sizes x - r .. x - r + s - 1
                         * are exactly those with the same window count */
                        const int64_t r = g.output_padding[0];
                        cr_assert(r >= 0 && r < s);
                        for (int64_t x2 = x - r; x2 < x - r + s; ++x2)
                            cr_assert_eq(count_windows(x2, k, s, p, d), expect);
                        cr_assert_neq(count_windows(x - r - 1, k, s, p, d), expect);
                    }
}

/* The transposed conv undoes the conv's shape: from y, with output_padding = r, back to x.
 * And its size is the smallest x whose every tap of every y lands in the padded x. */
Test(geometry, transposed_sizes_invert_conv)
{
    for (int64_t y = 1; y <= 8; ++y)
        for (int64_t k = 1; k <= 5; ++k)
            for (int64_t s = 1; s <= 4; ++s)
                for (int64_t p = 0; p <= 3; ++p)
                    for (int64_t d = 1; d <= 3; ++d)
                        for (int64_t op = 0; op < (s > d ? s : d); ++op) {
                            tconv_geometry g;
                            const tconv_status st = tconv_geometry_init_transposed(
                                &g, 1, 1, 1, 1, 1, &y, &k, &s, &p, &op, &d, NULL);
                            /* last tap of the last y position, in padded coordinates */
                            const int64_t reach = (y - 1) * s + d * (k - 1) + 1;
                            const int64_t expect = reach - 2 * p + op;
                            if (expect <= 0) {
                                cr_assert_eq(st, TCONV_EINVAL);
                                continue;
                            }
                            cr_assert_eq(st, TCONV_OK);
                            cr_assert_eq(g.x_size[0], expect);
                            if (op < s) /* the conv of that x gives y back */
                                cr_assert_eq(count_windows(expect, k, s, p, d), y);
                        }
}

Test(geometry, output_size_form)
{
    const int64_t in = 4, k = 3, s = 3, p = 1;
    /* reachable: (4-1)*3 - 2 + 2 + 1 = 10 .. 12 */
    for (int64_t want = 1; want <= 16; ++want) {
        tconv_geometry g;
        tconv_error err = {0};
        const tconv_status st = tconv_geometry_init_transposed_output_size(
            &g, 1, 1, 2, 2, 1, &in, &want, &k, &s, &p, NULL, &err);
        if (want >= 10 && want <= 12) {
            cr_assert_eq(st, TCONV_OK, "%s", err.message);
            cr_assert_eq(g.x_size[0], want);
            cr_assert_eq(g.output_padding[0], want - 10);
        } else {
            cr_assert_eq(st, TCONV_EUNREACHABLE, "want %lld", (long long)want);
            cr_assert(strstr(err.message, "output_size[0]") && strstr(err.message, "10") &&
                          strstr(err.message, "12"),
                      "message should name the axis and the range: %s", err.message);
        }
    }
    /* per axis, no padding: axis 0 reaches 12..14, axis 1 cannot reach 20 */
    const int64_t in2[2] = {4, 4}, want2[2] = {12, 20}, k2[2] = {3, 3}, s2[2] = {3, 3};
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_transposed_output_size(&g, 2, 1, 1, 1, 1, in2, want2, k2,
                                                            s2, NULL, NULL, &err),
                 TCONV_EUNREACHABLE);
    cr_assert(strstr(err.message, "output_size[1]"), "%s", err.message);
    cr_assert_eq(tconv_geometry_init_transposed_output_size(&g, 1, 1, 1, 1, 1, in2, NULL, k2,
                                                            s2, NULL, NULL, &err),
                 TCONV_EINVAL);
}

/* ---- rejections --------------------------------------------------------------------------- */

typedef struct bad {
    const char *what;
    bool transposed;
    int dims;
    int64_t batch, cin, cout, groups;
    int64_t in[3], k[3], s[3], p[3], op[3], d[3];
    tconv_status expect;
    const char *must_mention; /* parameter and axis */
} bad;

Test(geometry, rejections_name_parameter_and_axis)
{
    const bad cases[] = {
        {"dims 0", false, 0, 1, 1, 1, 1, {3}, {3}, {1}, {0}, {0}, {1}, TCONV_EINVAL, "dims"},
        {"dims 4", true, 4, 1, 1, 1, 1, {3}, {3}, {1}, {0}, {0}, {1}, TCONV_EINVAL, "dims"},
        {"negative batch", false, 1, -1, 1, 1, 1, {3}, {3}, {1}, {0}, {0}, {1}, TCONV_EINVAL,
         "batch"},
        {"zero in_channels", false, 1, 1, 0, 1, 1, {3}, {3}, {1}, {0}, {0}, {1}, TCONV_EINVAL,
         "in_channels"},
        {"zero out_channels", true, 1, 1, 1, 0, 1, {3}, {3}, {1}, {0}, {0}, {1}, TCONV_EINVAL,
         "out_channels"},
        {"zero groups", false, 1, 1, 2, 2, 0, {3}, {3}, {1}, {0}, {0}, {1}, TCONV_EINVAL,
         "groups"},
        {"in_channels not divisible", false, 1, 1, 3, 4, 2, {3}, {3}, {1}, {0}, {0}, {1},
         TCONV_EINVAL, "in_channels = 3 is not divisible by groups = 2"},
        {"out_channels not divisible", true, 1, 1, 4, 3, 2, {3}, {3}, {1}, {0}, {0}, {1},
         TCONV_EINVAL, "out_channels = 3 is not divisible by groups = 2"},
        {"zero kernel on axis 1", false, 2, 1, 1, 1, 1, {3, 3}, {3, 0}, {1, 1}, {0, 0}, {0, 0},
         {1, 1}, TCONV_EINVAL, "kernel[1]"},
        {"negative kernel", true, 1, 1, 1, 1, 1, {3}, {-2}, {1}, {0}, {0}, {1}, TCONV_EINVAL,
         "kernel[0]"},
        {"zero stride on axis 2", false, 3, 1, 1, 1, 1, {3, 3, 3}, {1, 1, 1}, {1, 1, 0},
         {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, TCONV_EINVAL, "stride[2]"},
        {"zero dilation", true, 2, 1, 1, 1, 1, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, {0, 1},
         TCONV_EINVAL, "dilation[0]"},
        {"negative padding", true, 2, 1, 1, 1, 1, {3, 3}, {2, 2}, {1, 1}, {0, -1}, {0, 0},
         {1, 1}, TCONV_EINVAL, "padding[1]"},
        {"negative output_padding", true, 1, 1, 1, 1, 1, {3}, {2}, {2}, {0}, {-1}, {1},
         TCONV_EINVAL, "output_padding[0]"},
        {"output_padding = stride, dilation 1", true, 2, 1, 1, 1, 1, {3, 3}, {3, 3}, {2, 2},
         {0, 0}, {0, 2}, {1, 1}, TCONV_EINVAL,
         "output_padding[1] = 2 must be smaller than either stride[1] = 2 or dilation[1] = 1"},
        {"output_padding = max(stride, dilation)", true, 1, 1, 1, 1, 1, {3}, {3}, {2}, {0},
         {3}, {3}, TCONV_EINVAL, "output_padding[0] = 3"},
        {"zero input size", false, 2, 1, 1, 1, 1, {3, 0}, {1, 1}, {1, 1}, {0, 0}, {0, 0},
         {1, 1}, TCONV_EINVAL, "input size[1]"},
        {"conv output empty", false, 1, 1, 1, 1, 1, {3}, {5}, {1}, {0}, {0}, {1}, TCONV_EINVAL,
         "axis 0"},
        {"conv output empty through dilation", false, 2, 1, 1, 1, 1, {9, 5}, {3, 3}, {1, 1},
         {0, 0}, {0, 0}, {1, 3}, TCONV_EINVAL, "axis 1"},
        {"transposed output non-positive", true, 1, 1, 1, 1, 1, {1}, {1}, {1}, {2}, {0}, {1},
         TCONV_EINVAL, "axis 0"},
        {"stride overflows", true, 1, 1, 1, 1, 1, {3}, {2}, {INT64_MAX / 2}, {0}, {0}, {1},
         TCONV_EOVERFLOW, "axis 0"},
        {"dilated kernel overflows", false, 1, 1, 1, 1, 1, {3}, {INT64_MAX / 2}, {1}, {0}, {0},
         {4}, TCONV_EOVERFLOW, "axis 0"},
        {"padding overflows", false, 1, 1, 1, 1, 1, {3}, {1}, {1}, {INT64_MAX / 2 + 1}, {0},
         {1}, TCONV_EOVERFLOW, "axis 0"},
        {"tensor too large", false, 3, 1 << 20, 1 << 20, 1, 1, {1 << 20, 1 << 20, 1 << 20},
         {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, TCONV_EOVERFLOW, "elements"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        const bad *b = &cases[c];
        tconv_geometry g, sentinel;
        memset(&g, 0x5A, sizeof g);
        memset(&sentinel, 0x5A, sizeof sentinel);
        tconv_error err = {0};
        const tconv_status st =
            b->transposed
                ? tconv_geometry_init_transposed(&g, b->dims, b->batch, b->cin, b->cout,
                                                 b->groups, b->in, b->k, b->s, b->p, b->op, b->d,
                                                 &err)
                : tconv_geometry_init_conv(&g, b->dims, b->batch, b->cin, b->cout, b->groups,
                                           b->in, b->k, b->s, b->p, b->d, &err);
        cr_assert_eq(st, b->expect, "%s: got %s (%s)", b->what, tconv_status_name(st),
                     err.message);
        cr_assert_eq(err.status, st);
        cr_assert(strstr(err.message, b->must_mention), "%s: message '%s' should mention '%s'",
                  b->what, err.message, b->must_mention);
        cr_assert(memcmp(&g, &sentinel, sizeof g) == 0, "%s: geometry written on failure",
                  b->what);
    }
}

Test(geometry, null_arrays)
{
    const int64_t three = 3;
    tconv_geometry g;
    tconv_error err = {0};
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 1, 1, 1, 1, NULL, &three, NULL, NULL, NULL,
                                          &err),
                 TCONV_EINVAL);
    cr_assert(strstr(err.message, "input size"));
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 1, 1, 1, 1, &three, NULL, NULL, NULL, NULL,
                                          &err),
                 TCONV_EINVAL);
    cr_assert(strstr(err.message, "kernel"));
    cr_assert_eq(tconv_geometry_init_conv(NULL, 1, 1, 1, 1, 1, &three, &three, NULL, NULL, NULL,
                                          &err),
                 TCONV_EINVAL);
    /* defaults: stride 1, padding 0, output_padding 0, dilation 1 */
    cr_assert_eq(tconv_geometry_init_transposed(&g, 1, 1, 1, 1, 1, &three, &three, NULL, NULL,
                                                NULL, NULL, NULL),
                 TCONV_OK);
    cr_assert_eq(g.x_size[0], 5);
    cr_assert_eq(g.stride[0], 1);
    cr_assert_eq(g.dilation[0], 1);
}

/* The largest sizes that still fit are accepted; one step further overflows. */
Test(geometry, overflow_boundary)
{
    const int64_t k = 1, big = INT64_MAX / 8;
    tconv_geometry g;
    cr_assert_eq(tconv_geometry_init_conv(&g, 1, 1, 1, 1, 1, &big, &k, NULL, NULL, NULL, NULL),
                 TCONV_OK);
    const int64_t bigger = big + 1;
    cr_assert_eq(
        tconv_geometry_init_conv(&g, 1, 1, 1, 1, 1, &bigger, &k, NULL, NULL, NULL, NULL),
        TCONV_EOVERFLOW);
}

Test(geometry, check_rejects_edited_geometry)
{
    tconv_geometry g;
    for (uint64_t seed = 1; seed <= 50; ++seed) {
        random_geometry(seed, &g);
        cr_assert_eq(tconv_geometry_check(&g, NULL), TCONV_OK);
        tconv_geometry e = g;
        e.y_size[e.dims - 1] += 1;
        cr_assert_eq(tconv_geometry_check(&e, NULL), TCONV_EINVAL);
        e = g;
        e.x_size[0] -= 1;
        cr_assert_neq(tconv_geometry_check(&e, NULL), TCONV_OK);
        e = g;
        e.groups = 0;
        cr_assert_eq(tconv_geometry_check(&e, NULL), TCONV_EINVAL);
        e = g;
        e.dims = 0;
        cr_assert_eq(tconv_geometry_check(&e, NULL), TCONV_EINVAL);
        cr_assert_eq(tconv_tensor_numel(&e, TCONV_TENSOR_X), -1);
    }
    cr_assert_eq(tconv_geometry_check(NULL, NULL), TCONV_EINVAL);
}

Test(geometry, numel_and_format)
{
    const int64_t in[2] = {20, 13}, k[2] = {3, 5}, s[2] = {2, 3}, p[2] = {1, 2}, op[2] = {1, 0},
                  d[2] = {1, 2};
    tconv_geometry g;
    /* the suite's "asym" row: (20-1)*2 - 2 + 2 + 1 + 1 = 40, (13-1)*3 - 4 + 8 + 0 + 1 = 41 */
    cr_assert_eq(tconv_geometry_init_transposed(&g, 2, 2, 32, 48, 2, in, k, s, p, op, d, NULL),
                 TCONV_OK);
    cr_assert_eq(g.x_size[0], 40);
    cr_assert_eq(g.x_size[1], 41);
    cr_assert_eq(tconv_tensor_numel(&g, TCONV_TENSOR_X), 2 * 48 * 40 * 41);
    cr_assert_eq(tconv_tensor_numel(&g, TCONV_TENSOR_Y), 2 * 32 * 20 * 13);
    cr_assert_eq(tconv_tensor_numel(&g, TCONV_TENSOR_WEIGHT), 32 * 24 * 3 * 5);
    cr_assert_eq(tconv_tensor_numel(&g, TCONV_TENSOR_X_BIAS), 48);
    cr_assert_eq(tconv_tensor_numel(&g, TCONV_TENSOR_Y_BIAS), 32);
    cr_assert_eq(tconv_tensor_numel(&g, (tconv_tensor)9), -1);
    char buf[256];
    const size_t n = tconv_geometry_format(&g, buf, sizeof buf);
    cr_assert_eq(n, strlen(buf));
    cr_assert(strstr(buf, "conv_transpose2d"), "%s", buf);
    cr_assert(strstr(buf, "in=20x13 out=40x41 kernel=3x5 stride=2x3 padding=1x2 "
                          "output_padding=1x0 dilation=1x2"),
              "%s", buf);
    char small[8];
    const size_t m = tconv_geometry_format(&g, small, sizeof small);
    cr_assert_eq(m, sizeof small - 1);
    cr_assert_eq(small[sizeof small - 1], '\0');
}

Test(geometry, status_and_algo_names)
{
    for (int s = 0; s < TCONV_STATUS_COUNT; ++s) {
        cr_assert_str_neq(tconv_status_str((tconv_status)s), "unknown status");
        cr_assert_str_neq(tconv_status_name((tconv_status)s), "?");
    }
    cr_assert_str_eq(tconv_status_str((tconv_status)-1), "unknown status");
    cr_assert_str_eq(tconv_status_name(TCONV_EUNREACHABLE), "EUNREACHABLE");
    for (int a = 0; a < TCONV_ALGO_COUNT; ++a) {
        tconv_algo back;
        if (strcmp(tconv_algo_name((tconv_algo)a), "?") == 0)
            continue; /* a reserved number no algorithm has taken (yet) */
        cr_assert_eq(tconv_algo_from_name(tconv_algo_name((tconv_algo)a), &back), TCONV_OK);
        cr_assert_eq(back, (tconv_algo)a);
    }
    cr_assert_str_eq(tconv_algo_name(TCONV_ALGO_PHASE), "phase");
    cr_assert_str_eq(tconv_algo_name(TCONV_ALGO_GEMM), "gemm");
    tconv_algo a;
    cr_assert_eq(tconv_algo_from_name("fft", &a), TCONV_EINVAL);
    cr_assert_eq(tconv_algo_from_name(NULL, &a), TCONV_EINVAL);
    cr_assert_str_eq(tconv_algo_name((tconv_algo)42), "?");
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", TCONV_VERSION_MAJOR, TCONV_VERSION_MINOR,
             TCONV_VERSION_PATCH);
    cr_assert_str_eq(tconv_version_string(), expect);
    cr_assert_eq(tconv_version(), (unsigned)TCONV_VERSION_HEX);
}
