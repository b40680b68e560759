/*
 * im2col / col2im against their definitions, exactly: im2col is a copy, so it must equal
 * the definition bit for bit; col2im sums integers here, so any order gives the exact sum.
 * And col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, exactly.
 */
#include "common.h"
#include "internal.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The input position output position o reads through tap t, o·s - p + k·d per axis, as
 * an index into the map (-1 in the padding): the same in both layouts. */
static int64_t position_through(const tconv__shape *sh, int64_t o, int64_t t)
{
    int64_t i[3];
    for (int a = 2; a >= 0; --a) {
        const int64_t k = t % sh->k[a], oa = o % sh->y[a];
        t /= sh->k[a];
        o /= sh->y[a];
        i[a] = oa * sh->s[a] - sh->p[a] + k * sh->d[a];
        if (i[a] < 0 || i[a] >= sh->x[a])
            return -1;
    }
    return (i[0] * sh->x[1] + i[1]) * sh->x[2] + i[2];
}

/* The definition: cols[(ch, k)][o] = x[ch][o*s - p + k*d] inside the map, else 0. */
static double definition(const tconv__shape *sh, const double *x, int64_t row, int64_t o)
{
    const int64_t at = position_through(sh, o, row % sh->k_count);
    return at < 0 ? 0 : x[row / sh->k_count * sh->x_count + at];
}

Test(im2col, matches_definition_and_col2im_is_its_adjoint)
{
    for (uint64_t seed = 1; seed <= 150; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        tconv__shape sh;
        tconv__shape_from(&g, &sh);
        rng r = {seed};
        const int64_t rows = sh.cx * sh.k_count, n = rows * sh.y_count;
        double *x = malloc(sizeof(double) * (size_t)(sh.cx * sh.x_count));
        double *cols = malloc(sizeof(double) * (size_t)n);
        double *c = malloc(sizeof(double) * (size_t)n);
        double *back = malloc(sizeof(double) * (size_t)(sh.cx * sh.x_count));
        float *xf = malloc(sizeof(float) * (size_t)(sh.cx * sh.x_count));
        float *colsf = malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < sh.cx * sh.x_count; ++i)
            xf[i] = (float)(x[i] = (double)rng_int(&r, -50, 50));
        for (int64_t i = 0; i < n; ++i)
            c[i] = (double)rng_int(&r, -50, 50);

        /* whole matrix, and in two row slices, in both precisions */
        const int64_t mid = rows / 2;
        tconv__im2col_f64(&sh, x, 0, mid, cols);
        tconv__im2col_f64(&sh, x, mid, rows, cols + mid * sh.y_count);
        tconv__im2col_f32(&sh, xf, 0, rows, colsf);
        for (int64_t row = 0; row < rows; ++row)
            for (int64_t o = 0; o < sh.y_count; ++o) {
                const double want = definition(&sh, x, row, o);
                cr_assert_eq(cols[row * sh.y_count + o], want, "row %lld col %lld [%s]",
                             (long long)row, (long long)o, describe(&g));
                cr_assert_eq(colsf[row * sh.y_count + o], (float)want);
            }

        /* col2im by definition: scatter every entry back where im2col took it from */
        tconv__col2im_f64(&sh, c, 0, sh.cx, back);
        double *want = calloc((size_t)(sh.cx * sh.x_count), sizeof(double));
        double *unit = calloc((size_t)(sh.cx * sh.x_count), sizeof(double));
        for (int64_t i = 0; i < sh.cx * sh.x_count; ++i) {
            unit[i] = 1; /* im2col of a unit vector says where element i was copied */
            for (int64_t row = 0; row < rows; ++row)
                for (int64_t o = 0; o < sh.y_count; ++o)
                    if (definition(&sh, unit, row, o) != 0)
                        want[i] += c[row * sh.y_count + o];
            unit[i] = 0;
        }
        double lhs = 0, rhs = 0;
        for (int64_t i = 0; i < sh.cx * sh.x_count; ++i) {
            cr_assert_eq(back[i], want[i], "col2im element %lld [%s]", (long long)i,
                         describe(&g));
            rhs += x[i] * back[i];
        }
        for (int64_t i = 0; i < n; ++i)
            lhs += cols[i] * c[i];
        cr_assert_eq(lhs, rhs, "<im2col x, c> != <x, col2im c> [%s]", describe(&g));
        free(x), free(cols), free(c), free(back), free(xf), free(colsf), free(want), free(unit);
    }
}


/* im2col_span of random integers over a span of sp.images images (rows r0..r1, rows ld
 * apart) in both precisions against the definition, exactly; every column the span does
 * not cover keeps its 777. `what` names the case in a failure. */
static void check_span(const tconv__shape *sh, const tconv__span *sp, int64_t r0, int64_t r1,
                       rng *r, const char *what)
{
    const int64_t ld = sp->ld, width = sp->images * sh->y_count;
    const int64_t nx = sp->images * sh->cx * sh->x_count;
    double *x = malloc(sizeof(double) * (size_t)nx);
    double *cols = malloc(sizeof(double) * (size_t)((r1 - r0) * ld));
    float *xf = malloc(sizeof(float) * (size_t)nx);
    float *colsf = malloc(sizeof(float) * (size_t)((r1 - r0) * ld));
    cr_assert(x && cols && xf && colsf);
    for (int64_t i = 0; i < nx; ++i)
        xf[i] = (float)(x[i] = (double)rng_int(r, -50, 50));
    for (int64_t i = 0; i < (r1 - r0) * ld; ++i)
        colsf[i] = (float)(cols[i] = 777.0); /* what the span does not cover keeps it */
    tconv__im2col_span_f64(sh, x, r0, r1, sp, cols);
    tconv__im2col_span_f32(sh, xf, r0, r1, sp, colsf);
    const int64_t per_image = (sp->l1 - sp->l0) * sh->y[2];
    for (int64_t row = r0; row < r1; ++row)
        for (int64_t j = 0; j < ld; ++j) {
            const int64_t m = j / sh->y_count, at = j % sh->y_count;
            const bool covered = j < width && at < per_image;
            const double want = covered ? definition(sh, x + m * sh->cx * sh->x_count, row,
                                                     sp->l0 * sh->y[2] + at)
                                        : 777.0;
            cr_assert_eq(cols[(row - r0) * ld + j], want, "row %lld column %lld: %g, want %g "
                         "(lines %lld..%lld of %lld images) %s", (long long)row, (long long)j,
                         cols[(row - r0) * ld + j], want, (long long)sp->l0,
                         (long long)sp->l1, (long long)sp->images, what);
            cr_assert_eq(colsf[(row - r0) * ld + j], (float)want);
        }
    free(x), free(cols), free(xf), free(colsf);
}

/* im2col over any span of lines (a line tile that starts and ends inside a plane, over one
 * or two images) and any slice of rows, against the definition: every column of the span
 * at its place, exactly, and nothing past the rows' span written. */
Test(im2col, im2col_span_matches_definition_on_any_span)
{
    for (uint64_t seed = 1; seed <= 150; ++seed) {
        tconv_geometry g;
        random_geometry(seed + 1000, &g);
        tconv__shape sh;
        tconv__shape_from(&g, &sh);
        rng r = {seed * 31};
        const int64_t lines = sh.y[0] * sh.y[1], rows = sh.cx * sh.k_count;
        const int64_t images = rng_int(&r, 1, 2);
        const int64_t l0 = rng_int(&r, 0, lines - 1), l1 = rng_int(&r, l0 + 1, lines);
        const int64_t r0 = rng_int(&r, 0, rows - 1), r1 = rng_int(&r, r0 + 1, rows);
        const int64_t width = images * sh.y_count, ld = width + rng_int(&r, 0, 3);
        const tconv__span sp = {images, sh.cx * sh.x_count, l0, l1, ld};
        char what[300];
        snprintf(what, sizeof what, "[%s]", describe(&g));
        check_span(&sh, &sp, r0, r1, &r, what);
    }
}

/* im2col of whole images of short lines (at most 16 positions) copies each row's lines
 * from the channel's phase planes (kernels/im2col.c): strides 1 to 4, dilations 1 to 3,
 * padding up to the kernel, 1 to 3 images, any slice of rows (a channel cut between two
 * slices builds its planes twice), rows ld apart; against the definition, exactly, and
 * nothing past the span written. Lines of 17 positions and more, spans of part of an
 * image, and planes past their bound take the rows' own copies (the same check). */
Test(im2col, im2col_through_phase_planes)
{
    int planes = 0, rows_path = 0;
    for (uint64_t seed = 1; seed <= 200; ++seed) {
        rng r = {seed * 7919};
        const int dims = (int)rng_int(&r, 1, 3);
        int64_t in[3], k[3], s[3], p[3], d[3];
        for (int a = 0; a < dims; ++a) {
            s[a] = rng_int(&r, 1, 4), d[a] = rng_int(&r, 1, 3), k[a] = rng_int(&r, 1, 7);
            if (dims == 3)
                k[a] = rng_int(&r, 1, 3);
            p[a] = rng_int(&r, 0, (k[a] - 1) * d[a]);
            /* outputs of up to 20 positions on the last axis, fewer on the others */
            const int64_t out = rng_int(&r, 1, a == dims - 1 ? 20 : dims == 3 ? 4 : 9);
            in[a] = (out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - 2 * p[a] + rng_int(&r, 0, s[a] - 1);
            if (in[a] < 1) /* padding past the input: none */
                in[a] += 2 * p[a], p[a] = 0;
        }
        const int64_t cx = rng_int(&r, 1, 3);
        tconv_geometry g;
        tconv_error err = {0};
        cr_assert_eq(tconv_geometry_init_conv(&g, dims, 1, cx, 1, 1, in, k, s, p, d, &err),
                     TCONV_OK, "%s", err.message);
        tconv__shape sh;
        tconv__shape_from(&g, &sh);
        const int64_t lines = sh.y[0] * sh.y[1], rows = sh.cx * sh.k_count;
        const int64_t images = rng_int(&r, 1, 3);
        const bool whole = rng_int(&r, 0, 3) > 0;
        const int64_t l0 = whole ? 0 : rng_int(&r, 0, lines - 1);
        const int64_t l1 = whole ? lines : rng_int(&r, l0 + 1, lines);
        const int64_t r0 = rng_int(&r, 0, rows - 1), r1 = rng_int(&r, r0 + 1, rows);
        const int64_t width = images * sh.y_count, ld = width + rng_int(&r, 0, 3);
        const tconv__span sp = {images, sh.cx * sh.x_count, l0, l1, ld};
        const bool by_planes = tconv__im2col_by_planes(&sh, &sp);
        if (sh.y[2] > 16 || l0 > 0 || l1 < lines)
            cr_assert(!by_planes, "lines of %lld, lines %lld..%lld of %lld [%s]",
                      (long long)sh.y[2], (long long)l0, (long long)l1, (long long)lines,
                      describe(&g));
        planes += by_planes, rows_path += !by_planes;
        char what[300];
        snprintf(what, sizeof what, "(planes %d) [%s]", by_planes, describe(&g));
        check_span(&sh, &sp, r0, r1, &r, what);
    }
    cr_assert(planes >= 60 && rows_path >= 30, "planes %d, rows %d", planes, rows_path);
}

/* im2row in any block of columns, and row2im in any block of channels, against their
 * definitions (integers: exact), in one image of group 0; the taps of the last axis merge
 * into runs of x when groups are 1 and its dilation 1 (kernels/im2row.c), which the draws
 * cover together with the tap-by-tap form. */
Test(im2col, im2row_and_row2im_match_their_definitions_in_any_block)
{
    int merged = 0;
    for (uint64_t seed = 1; seed <= 300; ++seed) {
        tconv_geometry g;
        random_geometry(seed, &g);
        tconv__shape sh;
        tconv__shape_from(&g, &sh);
        rng r = {seed * 7919};
        const int64_t C = sh.cx, cxg = sh.cxg, K = sh.k_count, R = K * cxg;
        const int64_t nx = sh.x_count * C, rows = sh.y_count;
        const tconv__span sp = {1, nx, 0, sh.y[0] * sh.y[1], 0};
        merged += sh.d[2] == 1 && sh.k[2] > 1 && cxg == C;
        double *x = malloc(sizeof(double) * (size_t)nx);
        double *back = malloc(sizeof(double) * (size_t)nx);
        double *want = malloc(sizeof(double) * (size_t)nx);
        double *bias = malloc(sizeof(double) * (size_t)C);
        double *cols = malloc(sizeof(double) * (size_t)(rows * R + 1));
        for (int64_t i = 0; i < nx; ++i)
            x[i] = (double)rng_int(&r, -50, 50);
        for (int64_t c = 0; c < C; ++c)
            bias[c] = (double)rng_int(&r, -9, 9);

        const int64_t j0 = rng_int(&r, 0, R - 1), j1 = rng_int(&r, j0 + 1, R);
        tconv__im2row_f64(&sh, x, j0, j1, &sp, cols, j1 - j0);
        for (int64_t o = 0; o < rows; ++o)
            for (int64_t j = j0; j < j1; ++j) {
                const int64_t at = position_through(&sh, o, j / cxg);
                const double expect = at < 0 ? 0 : x[at * C + j % cxg];
                cr_assert_eq(cols[o * (j1 - j0) + j - j0], expect,
                             "im2row row %lld column %lld of %lld..%lld [%s]", (long long)o,
                             (long long)j, (long long)j0, (long long)j1, describe(&g));
            }

        const int64_t c0 = rng_int(&r, 0, cxg - 1), c1 = rng_int(&r, 0, 1) ? cxg
                                                                           : rng_int(&r, c0 + 1, cxg);
        const int64_t nb = c1 - c0;
        for (int64_t i = 0; i < rows * K * nb; ++i)
            cols[i] = (double)rng_int(&r, -50, 50);
        for (int64_t i = 0; i < nx; ++i) {
            back[i] = x[i]; /* outside c0..c1 row2im must leave x as it is */
            want[i] = i % C >= c0 && i % C < c1 ? bias[i % C] : x[i];
        }
        for (int64_t o = 0; o < rows; ++o)
            for (int64_t t = 0; t < K; ++t) {
                const int64_t at = position_through(&sh, o, t);
                for (int64_t c = 0; at >= 0 && c < nb; ++c)
                    want[at * C + c0 + c] += cols[(o * K + t) * nb + c];
            }
        tconv__row2im_f64(&sh, cols, K * nb, c0, c1, &sp, true, bias, back);
        for (int64_t i = 0; i < nx; ++i)
            cr_assert_eq(back[i], want[i], "row2im element %lld, channels %lld..%lld [%s]",
                         (long long)i, (long long)c0, (long long)c1, describe(&g));
        free(x), free(back), free(want), free(bias), free(cols);
    }
    cr_assert(merged >= 30, "only %d draws merge their last axis's taps", merged);
}

/* row2im_tiled (the taps tile X: k = s, no padding, dilation 1, so each x element has one
 * source) writes bias + its one contribution, merged runs or not. */
Test(im2col, row2im_tiled_writes_each_element_once)
{
    for (uint64_t seed = 1; seed <= 60; ++seed) {
        rng r = {seed * 104729};
        const int dims = (int)rng_int(&r, 1, 3);
        const int64_t groups = rng_int(&r, 0, 1) ? 1 : 2;
        int64_t in[3], k[3];
        for (int a = 0; a < dims; ++a)
            in[a] = rng_int(&r, 1, 4), k[a] = rng_int(&r, 1, 3);
        tconv_geometry g;
        cr_assert_eq(tconv_geometry_init_transposed(&g, dims, 1, groups * rng_int(&r, 1, 3),
                                                    groups * rng_int(&r, 1, 3), groups, in, k,
                                                    k, NULL, NULL, NULL, NULL),
                     TCONV_OK);
        tconv__shape sh;
        tconv__shape_from(&g, &sh);
        const int64_t C = sh.cx, cxg = sh.cxg, K = sh.k_count, nx = sh.x_count * C;
        const tconv__span sp = {1, nx, 0, sh.y[0] * sh.y[1], 0};
        double *cols = malloc(sizeof(double) * (size_t)(sh.y_count * K * cxg));
        double *x = malloc(sizeof(double) * (size_t)nx), *want = malloc(sizeof(double) * (size_t)nx);
        double bias[16];
        for (int64_t c = 0; c < C; ++c)
            bias[c] = (double)rng_int(&r, -9, 9);
        for (int64_t i = 0; i < sh.y_count * K * cxg; ++i)
            cols[i] = (double)rng_int(&r, -50, 50);
        for (int64_t i = 0; i < nx; ++i)
            x[i] = NAN, want[i] = NAN; /* channels of other groups stay as they are */
        for (int64_t o = 0; o < sh.y_count; ++o)
            for (int64_t t = 0; t < K; ++t) {
                const int64_t at = position_through(&sh, o, t);
                cr_assert(at >= 0);
                for (int64_t c = 0; c < cxg; ++c)
                    want[at * C + c] = bias[c] + cols[(o * K + t) * cxg + c];
            }
        tconv__row2im_tiled_f64(&sh, cols, K * cxg, 0, cxg, &sp, bias, x);
        for (int64_t i = 0; i < nx; ++i)
            cr_assert(x[i] == want[i] || (isnan(x[i]) && isnan(want[i])),
                      "element %lld: %g, want %g [%s]", (long long)i, x[i], want[i],
                      describe(&g));
        free(cols), free(x), free(want);
    }
}
