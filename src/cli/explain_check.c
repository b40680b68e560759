/*
 * The numbers of `tconv explain`: every algorithm against the float64 gather on random
 * data (the check), and, on request, a side-by-side timing of the matrix-view algorithms.
 */
#include "explain.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const tconv_algo checked[] = {TCONV_ALGO_GEMM,    TCONV_ALGO_PHASE,  TCONV_ALGO_DENSE,
                                     TCONV_ALGO_SPARSE,  TCONV_ALGO_SCATTER, TCONV_ALGO_GATHER,
                                     TCONV_ALGO_AUTO};

/* splitmix64, mapped to [-1, 1) with 24 bits so float32 holds the same numbers */
static double random_value(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 40) / (double)(1 << 23) - 1.0;
}

/* One operand in both precisions, and its absolute values for the error bound. */
typedef struct operand {
    int64_t n;
    double *d, *abs;
    float *f;
} operand;

static bool operand_new(operand *o, int64_t n, uint64_t *state)
{
    o->n = n;
    o->d = malloc((size_t)(n + 1) * sizeof(double));
    o->abs = malloc((size_t)(n + 1) * sizeof(double));
    o->f = malloc((size_t)(n + 1) * sizeof(float));
    if (!o->d || !o->abs || !o->f)
        return false;
    for (int64_t i = 0; i < n; ++i) {
        o->d[i] = state ? random_value(state) : 0;
        o->abs[i] = fabs(o->d[i]);
        o->f[i] = (float)o->d[i];
    }
    return true;
}

static void operand_free(operand *o)
{
    free(o->d), free(o->abs), free(o->f);
}

/* The operands of each product: a, b and out (as in tconv_product_run). */
static const tconv_tensor tensor_a[3] = {TCONV_TENSOR_X, TCONV_TENSOR_Y, TCONV_TENSOR_Y};
static const tconv_tensor tensor_b[3] = {TCONV_TENSOR_WEIGHT, TCONV_TENSOR_WEIGHT,
                                         TCONV_TENSOR_X};
static const tconv_tensor tensor_out[3] = {TCONV_TENSOR_Y, TCONV_TENSOR_X,
                                           TCONV_TENSOR_WEIGHT};

static tconv_status run(const tconv_geometry *g, tconv_product p, tconv_algo algo,
                        tconv_dtype dt, const void *a, const void *b, void *out,
                        const tconv_options *opt, tconv_error *err)
{
    const bool w = p == TCONV_WGRAD;
    return tconv_product_run(g, p, algo, dt, a, w ? b : NULL, w ? NULL : b, out, opt, err);
}

/* The longest sum behind one output element of product p. */
static int64_t reduction_length(const explain_model *m, int64_t batch, tconv_product p)
{
    return p == TCONV_APPLY     ? m->cxg * m->k_count
           : p == TCONV_APPLY_T ? m->cyg * m->k_count
                                : (batch * m->y_count > 0 ? batch * m->y_count : 1);
}

/* Per product, per algorithm and dtype: the largest |difference| from the reference, or a
 * refusal. Checks each element against 2·L·eps·(the same sum over absolute values). */
typedef struct verdict {
    double diff;
    bool within, refused;
    char why[300];
} verdict;

void explain_check(explain_model *m, int64_t batch, uint64_t seed, int64_t max_macs)
{
    explain_buf *out = &m->check;
    tconv_geometry g = m->g;
    g.batch = batch;
    int64_t macs = batch, rows_in;
    const int64_t factors[4] = {m->cy, m->cxg, m->k_count, m->y_count};
    for (int i = 0; i < 4; ++i)
        if (__builtin_mul_overflow(macs, factors[i], &macs))
            macs = INT64_MAX;
    if (__builtin_mul_overflow(batch, m->info.cols, &rows_in))
        rows_in = INT64_MAX;
    const int nalgo = (int)(sizeof checked / sizeof checked[0]);
    explain_buf_printf(out, "\n7. Numeric check: every algorithm on random data (seed %llu, "
                            "batch %lld) against gather in float64\n",
                       (unsigned long long)seed, (long long)batch);
    m->check_ok = true;
    if (macs > max_macs || rows_in > max_macs) {
        explain_buf_printf(out, "  skipped: %lld multiply-adds per product are too many for the "
                                "reference loops here (at most %lld).\n",
                           (long long)macs, (long long)max_macs);
        return;
    }
    verdict v[3][sizeof checked / sizeof checked[0]][2];
    double worst = 0;
    uint64_t state = seed;
    for (int p = 0; p < 3; ++p) {
        operand a, b, ref, bound, got;
        const bool ok = operand_new(&a, tconv_tensor_numel(&g, tensor_a[p]), &state) &&
                        operand_new(&b, tconv_tensor_numel(&g, tensor_b[p]), &state) &&
                        operand_new(&ref, tconv_tensor_numel(&g, tensor_out[p]), NULL) &&
                        operand_new(&bound, ref.n, NULL) && operand_new(&got, ref.n, NULL);
        tconv_error err;
        if (!ok || run(&g, p, TCONV_ALGO_GATHER, TCONV_F64, a.d, b.d, ref.d, NULL, &err) ||
            run(&g, p, TCONV_ALGO_GATHER, TCONV_F64, a.abs, b.abs, bound.d, NULL, &err)) {
            explain_buf_printf(out, "  failed: %s\n", ok ? err.message : "out of memory");
            m->check_ok = false;
            return;
        }
        const double L = (double)reduction_length(m, batch, (tconv_product)p);
        for (int i = 0; i < nalgo; ++i)
            for (int d = 0; d < 2; ++d) {
                verdict *r = &v[p][i][d];
                const tconv_dtype dt = d ? TCONV_F32 : TCONV_F64;
                const double eps = d ? FLT_EPSILON / 2 : DBL_EPSILON / 2;
                const tconv_status s = run(&g, p, checked[i], dt, d ? (void *)a.f : a.d,
                                           d ? (void *)b.f : b.d, d ? (void *)got.f : got.d,
                                           NULL, &err);
                r->refused = s != TCONV_OK;
                r->within = true;
                r->diff = 0;
                if (r->refused) {
                    snprintf(r->why, sizeof r->why, "%s: %s", tconv_status_name(s),
                             err.message);
                    continue;
                }
                for (int64_t j = 0; j < ref.n; ++j) {
                    const double value = d ? (double)got.f[j] : got.d[j];
                    const double e = fabs(value - ref.d[j]);
                    r->diff = fmax(r->diff, e);
                    r->within &= e <= 2 * L * eps * bound.d[j] + 1e-300;
                }
                worst = fmax(worst, r->diff);
            }
        operand_free(&a), operand_free(&b), operand_free(&ref), operand_free(&bound);
        operand_free(&got);
    }
    explain_buf_printf(out, "  largest |difference| apply (y = C x)    apply_t (x = C\u1d40 y) "
                            "wgrad (dW)\n");
    for (int i = 0; i < nalgo; ++i)
        for (int d = 0; d < 2; ++d) {
            explain_buf_printf(out, "  %-8s %-11s", tconv_algo_name(checked[i]),
                               d ? "float32" : "float64");
            const char *refusal = NULL;
            for (int p = 0; p < 3; ++p) {
                const verdict *r = &v[p][i][d];
                if (r->refused) {
                    refusal = refusal ? refusal : r->why;
                    continue;
                }
                explain_buf_printf(out, p < 2 ? " %-18.3g" : " %.3g", r->diff);
                m->check_ok &= r->within;
            }
            if (refusal)
                explain_buf_printf(out, " refused (%s)", refusal);
            explain_buf_printf(out, "\n");
            /* only the dense algorithm may refuse, and only for its size */
            for (int p = 0; p < 3; ++p)
                if (v[p][i][d].refused && checked[i] != TCONV_ALGO_DENSE)
                    m->check_ok = false;
        }
    explain_buf_printf(out, "  %s: largest difference %.3g (the bound per element is "
                            "2*L*eps*(the same sum\n  over |terms|), L the length of the "
                            "sum).\n",
                       m->check_ok ? "All agree within rounding"
                                   : "DISAGREEMENT beyond the rounding bound",
                       worst);
}

/* ---- timing ------------------------------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define TIME_RUNS 15

void explain_time(explain_buf *out, const explain_model *m, int64_t batch, int threads)
{
    static const tconv_algo timed[] = {TCONV_ALGO_GEMM, TCONV_ALGO_PHASE, TCONV_ALGO_DENSE,
                                       TCONV_ALGO_SPARSE};
    const int nt = (int)(sizeof timed / sizeof timed[0]);
    const bool conv = m->g.layer == TCONV_LAYER_CONV;
    /* the layer's forward, its backward-data, its backward-weight */
    const tconv_product order[3] = {conv ? TCONV_APPLY : TCONV_APPLY_T,
                                    conv ? TCONV_APPLY_T : TCONV_APPLY, TCONV_WGRAD};
    const char *label[3] = {"forward", "backward-data", "backward-weight"};
    tconv_geometry g = m->g;
    g.batch = batch;
    tconv_options opt = {0};
    opt.num_threads = threads;
    char team[32];
    if (threads)
        snprintf(team, sizeof team, "%d thread%s", threads, threads > 1 ? "s" : "");
    else
        snprintf(team, sizeof team, "default threads");
    explain_buf_printf(out, "\nTiming, float32, batch %lld, %s: median of up to %d runs (at most "
                            "~1 s per cell), the\nalgorithms one after another in this run. "
                            "The matrix algorithms build their matrix in\nevery call.\n",
                       (long long)batch, team, TIME_RUNS);
    explain_buf_printf(out, "  %-30s", "product (ms)");
    for (int i = 0; i < nt; ++i)
        explain_buf_printf(out, " %12s", tconv_algo_name(timed[i]));
    explain_buf_printf(out, "\n");
    uint64_t state = 7;
    for (int j = 0; j < 3; ++j) {
        const tconv_product p = order[j];
        operand a, b, o;
        if (!operand_new(&a, tconv_tensor_numel(&g, tensor_a[p]), &state) ||
            !operand_new(&b, tconv_tensor_numel(&g, tensor_b[p]), &state) ||
            !operand_new(&o, tconv_tensor_numel(&g, tensor_out[p]), NULL)) {
            explain_buf_printf(out, "  out of memory\n");
            return;
        }
        char row[64];
        snprintf(row, sizeof row, "%s (%s)", label[j],
                 p == TCONV_APPLY ? "apply" : p == TCONV_APPLY_T ? "apply_t" : "wgrad");
        explain_buf_printf(out, "  %-30s", row);
        for (int i = 0; i < nt; ++i) {
            size_t bytes = 0;
            tconv_error err;
            void *ws = NULL;
            tconv_status s =
                tconv_product_workspace_size(&g, p, timed[i], TCONV_F32, &opt, &bytes, &err);
            if (s == TCONV_OK && bytes && !(ws = calloc(1, bytes)))
                s = TCONV_ENOMEM;
            opt.workspace = ws; /* allocated and touched once, outside the timing */
            opt.workspace_bytes = bytes;
            double t[TIME_RUNS];
            int runs = 0;
            const double start = now_seconds();
            while (s == TCONV_OK && runs < TIME_RUNS && now_seconds() - start < 1.0) {
                const double t0 = now_seconds();
                s = run(&g, p, timed[i], TCONV_F32, a.f, b.f, o.f, &opt, &err);
                t[runs++] = now_seconds() - t0;
            }
            opt.workspace = NULL;
            free(ws);
            if (s != TCONV_OK) {
                explain_buf_printf(out, " %12s", tconv_status_name(s));
                continue;
            }
            qsort(t, (size_t)runs, sizeof t[0], by_value);
            explain_buf_printf(out, " %12.3f", 1e3 * t[runs / 2]);
        }
        explain_buf_printf(out, "\n");
        operand_free(&a), operand_free(&b), operand_free(&o);
    }
}
