#include "common.h"

#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t rng_int(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

double rng_value(rng *r)
{
    /* 24 significant bits: exact in float32 */
    return (double)(int64_t)(rng_next(r) >> 40) / (double)(1 << 23) - 1.0;
}

tensor tensor_new(int64_t n)
{
    tensor t = {n, calloc((size_t)n + 1, sizeof(double)), calloc((size_t)n + 1, sizeof(float))};
    cr_assert(t.d && t.f, "out of memory for a test tensor of %lld elements", (long long)n);
    return t;
}

tensor tensor_random(int64_t n, rng *r)
{
    tensor t = tensor_new(n);
    for (int64_t i = 0; i < n; ++i) {
        t.d[i] = rng_value(r);
        t.f[i] = (float)t.d[i];
    }
    return t;
}

void tensor_free(tensor *t)
{
    free(t->d);
    free(t->f);
    t->d = NULL;
    t->f = NULL;
}

void *tensor_data(const tensor *t, tconv_dtype dt)
{
    return dt == TCONV_F64 ? (void *)t->d : (void *)t->f;
}

void tensor_f32_to_f64(tensor *t)
{
    for (int64_t i = 0; i < t->n; ++i)
        t->d[i] = t->f[i];
}

tensor tensor_abs(const tensor *t)
{
    tensor a = tensor_new(t->n);
    for (int64_t i = 0; i < t->n; ++i) {
        a.d[i] = fabs(t->d[i]);
        a.f[i] = fabsf(t->f[i]);
    }
    return a;
}

void random_geometry(uint64_t seed, tconv_geometry *g)
{
    rng r = {seed * 0x2545F4914F6CDD1Dull + 1};
    for (;;) {
        const int dims = (int)rng_int(&r, 1, 3);
        const int64_t groups = rng_int(&r, 1, 4) > 2 ? rng_int(&r, 2, 4) : 1;
        const int64_t batch = rng_int(&r, 0, 3);
        const int64_t cin = groups * rng_int(&r, 1, 3), cout = groups * rng_int(&r, 1, 3);
        const int64_t max_in = dims == 3 ? 4 : dims == 2 ? 6 : 9;
        int64_t in[3], k[3], s[3], p[3], op[3], d[3], out[3];
        for (int a = 0; a < dims; ++a) {
            k[a] = rng_int(&r, 1, dims == 3 ? 3 : 4);
            s[a] = rng_int(&r, 1, 3);
            d[a] = rng_int(&r, 0, 2) ? 1 : rng_int(&r, 2, 3);
            p[a] = rng_int(&r, 0, 3);
            op[a] = rng_int(&r, 0, (s[a] > d[a] ? s[a] : d[a]) - 1);
            in[a] = rng_int(&r, 1, max_in);
        }
        tconv_status st;
        switch (rng_int(&r, 0, 4)) {
        case 0:
        case 1:
            st = tconv_geometry_init_conv(g, dims, batch, cin, cout, groups, in, k, s, p, d,
                                          NULL);
            break;
        case 2: /* output_size form: aim at a size inside the reachable range */
            for (int a = 0; a < dims; ++a)
                out[a] = (in[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + 1 +
                         rng_int(&r, 0, s[a] - 1);
            st = tconv_geometry_init_transposed_output_size(g, dims, batch, cin, cout, groups,
                                                            in, out, k, s, p, d, NULL);
            break;
        default:
            st = tconv_geometry_init_transposed(g, dims, batch, cin, cout, groups, in, k, s, p,
                                                op, d, NULL);
        }
        if (st == TCONV_OK)
            return;
    }
}

int64_t numel(const tconv_geometry *g, tconv_tensor t)
{
    const int64_t n = tconv_tensor_numel(g, t);
    cr_assert(n >= 0, "tconv_tensor_numel rejected a valid geometry");
    return n;
}

int64_t reduction_length(const tconv_geometry *g, tconv_product p)
{
    int64_t k = 1, y = 1;
    for (int a = 0; a < g->dims; ++a) {
        k *= g->kernel[a];
        y *= g->y_size[a];
    }
    switch (p) {
    case TCONV_APPLY:
        return k * (g->x_channels / g->groups);
    case TCONV_APPLY_T:
        return k * (g->y_channels / g->groups);
    default:
        return g->batch * y > 0 ? g->batch * y : 1;
    }
}

double dtype_eps(tconv_dtype dt)
{
    return dt == TCONV_F64 ? DBL_EPSILON / 2 : FLT_EPSILON / 2;
}

double expect_close(const double *got, const double *ref, const double *bound, int64_t n,
                    int64_t L, double eps, const char *what)
{
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double scale = (double)L * eps * bound[i] + 1e-300;
        const double err = fabs(got[i] - ref[i]);
        cr_assert(err <= 2 * scale,
                  "%s: element %lld is %.17g, expected %.17g (|diff| %.3g > bound %.3g)", what,
                  (long long)i, got[i], ref[i], err, 2 * scale);
        worst = fmax(worst, err / scale);
    }
    return worst;
}

bool untouched(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; ++i)
        if (c[i] != SENTINEL)
            return false;
    return true;
}

double dot(const double *a, const double *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
        s += a[i] * b[i];
    return s;
}

void oracle(const tconv_geometry *g, tconv_product p, const double *a, const double *b,
            double *out)
{
    tconv_error err = {0};
    const tconv_status s = tconv_product_run(g, p, TCONV_ALGO_GATHER, TCONV_F64, a,
                                             p == TCONV_WGRAD ? b : NULL,
                                             p == TCONV_WGRAD ? NULL : b, out, NULL, &err);
    cr_assert_eq(s, TCONV_OK, "oracle failed: %s", err.message);
}

int all_algorithms(tconv_algo *out, int max)
{
    int n = 0;
    for (int a = 0; a < TCONV_ALGO_COUNT + 16 && n < max; ++a)
        if (strcmp(tconv_algo_name((tconv_algo)a), "?") != 0)
            out[n++] = (tconv_algo)a;
    return n;
}

const char *describe(const tconv_geometry *g)
{
    static _Thread_local char buf[320];
    tconv_geometry_format(g, buf, sizeof buf);
    return buf;
}

void channels_last(const tconv_geometry *g, bool x_side, bool back, const double *src,
                   double *dst)
{
    const int64_t C = x_side ? g->x_channels : g->y_channels;
    int64_t S = 1;
    for (int a = 0; a < g->dims; ++a)
        S *= x_side ? g->x_size[a] : g->y_size[a];
    for (int64_t n = 0; n < g->batch; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < S; ++i) {
                const int64_t first = (n * C + c) * S + i, last = (n * S + i) * C + c;
                if (back)
                    dst[first] = src[last];
                else
                    dst[last] = src[first];
            }
}
