/*
 * im2col / col2im against their definitions, exactly: im2col is a copy, so it must equal
 * the definition bit for bit; col2im sums integers here, so any order gives the exact sum.
 * And col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, exactly.
 */
#include "common.h"
#include "internal.h"

#include <criterion/criterion.h>

#include <stdlib.h>

/* The definition: cols[(ch, k)][o] = x[ch][o*s - p + k*d] inside the map, else 0. */
static double definition(const tconv__shape *sh, const double *x, int64_t row, int64_t o)
{
    int64_t kk = row % sh->k_count, oo = o, i[3];
    const int64_t ch = row / sh->k_count;
    for (int a = 2; a >= 0; --a) {
        const int64_t k = kk % sh->k[a], oa = oo % sh->y[a];
        kk /= sh->k[a];
        oo /= sh->y[a];
        i[a] = oa * sh->s[a] - sh->p[a] + k * sh->d[a];
        if (i[a] < 0 || i[a] >= sh->x[a])
            return 0;
    }
    return x[ch * sh->x_count + (i[0] * sh->x[1] + i[1]) * sh->x[2] + i[2]];
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
