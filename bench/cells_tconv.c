/*
 * tconv's own cells: every algorithm asked for, per GEMM provider and activation layout,
 * for the shape's layer (tconv_conv_* or tconv_convt_*), with a caller workspace allocated
 * once. Each cell's results are checked against tconv's NCHW auto before it is timed.
 * A call the library refuses (a layout it does not implement yet, a matrix past the dense
 * limit) leaves a skipped cell that says why, and the run goes on.
 */
#include "bench.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference loops: slow by design. */
static bool is_reference(tconv_algo a)
{
    return a == TCONV_ALGO_DENSE || a == TCONV_ALGO_SPARSE || a == TCONV_ALGO_SCATTER ||
           a == TCONV_ALGO_GATHER;
}

/* The plain loops of scatter and gather have no threads of their own. */
static bool is_plain_loop(tconv_algo a)
{
    return a == TCONV_ALGO_SCATTER || a == TCONV_ALGO_GATHER;
}

/* The algorithms whose products go through a GEMM provider. */
static bool uses_gemm(tconv_algo a)
{
    return a == TCONV_ALGO_AUTO || a == TCONV_ALGO_GEMM || a == TCONV_ALGO_PHASE ||
           a == TCONV_ALGO_DENSE;
}

typedef struct tconv_job {
    const shape *s;
    tconv_algo algo;
    pass p;
    tensors *t;
    tconv_options opt;
    tconv_status status;
    tconv_error err;
} tconv_job;

static void run_tconv(void *ctx)
{
    tconv_job *j = ctx;
    const tconv_geometry *g = &j->s->g;
    tensors *t = j->t;
    const bool conv = g->layer == TCONV_LAYER_CONV;
    j->status = conv ? tconv_conv_forward_ex(g, j->algo, TCONV_F32, t->in, t->weight, t->bias,
                                             t->out, &j->opt, &j->err)
                     : tconv_convt_forward_ex(g, j->algo, TCONV_F32, t->in, t->weight, t->bias,
                                              t->out, &j->opt, &j->err);
    if (j->p != PASS_FWDBWD || j->status != TCONV_OK)
        return;
    j->status = conv ? tconv_conv_backward_ex(g, j->algo, TCONV_F32, t->in, t->weight,
                                              t->grad_out, t->grad_in, t->grad_weight,
                                              t->grad_bias, &j->opt, &j->err)
                     : tconv_convt_backward_ex(g, j->algo, TCONV_F32, t->in, t->weight,
                                               t->grad_out, t->grad_in, t->grad_weight,
                                               t->grad_bias, &j->opt, &j->err);
}

/* Workspace bytes of a job's pass, or a refusal with its message. */
static tconv_status job_workspace(tconv_job *j, size_t *bytes)
{
    const bool conv = j->s->g.layer == TCONV_LAYER_CONV;
    size_t f = 0, b = 0;
    tconv_status s = tconv_workspace_size(&j->s->g, conv ? TCONV_CONV_FORWARD
                                                         : TCONV_CONVT_FORWARD,
                                          j->algo, TCONV_F32, &j->opt, &f, &j->err);
    if (s == TCONV_OK && j->p == PASS_FWDBWD)
        s = tconv_workspace_size(&j->s->g, conv ? TCONV_CONV_BACKWARD : TCONV_CONVT_BACKWARD,
                                 j->algo, TCONV_F32, &j->opt, &b, &j->err);
    *bytes = f > b ? f : b;
    return s;
}

/* A cell the library refused: recorded, so that tables and the CSV say why. */
static void refused(results *r, const shape *s, const char *label, const tconv_job *j,
                    int threads, tconv_status status, const char *message)
{
    cell *k = cell_new(r, s, label, j->p, threads);
    snprintf(k->provider, sizeof k->provider, "%s", tconv_provider_name(j->opt.provider));
    snprintf(k->layout, sizeof k->layout, "%s", layout_name(j->opt.layout));
    snprintf(k->note, sizeof k->note, "%s",
             status == TCONV_EUNSUPPORTED ? "unsupported" : tconv_status_name(status));
    fprintf(stderr, "  %s skips %s: %s (%s)\n", label, s->name, k->note, message);
}

/* One tconv cell, checked against `ref` unless NULL; false if the library refuses it. */
static bool tconv_cell(results *r, const shape *s, const char *label, tconv_job *j,
                       int threads, const tensors *ref, const config *c, progress *pr)
{
    j->opt.num_threads = threads;
    j->opt.workspace_limit = c->workspace_limit;
    j->opt.workspace = NULL;
    j->opt.workspace_bytes = 0;
    size_t bytes = 0;
    const tconv_status ws_status = job_workspace(j, &bytes);
    if (ws_status != TCONV_OK) {
        refused(r, s, label, j, threads, ws_status, j->err.message);
        return false;
    }
    void *ws = bytes ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
    if (bytes && !ws) {
        refused(r, s, label, j, threads, TCONV_ENOMEM, "no memory for the workspace");
        return false;
    }
    j->opt.workspace = ws;
    j->opt.workspace_bytes = bytes;
    omp_set_num_threads(threads);
    rss_reset();
    run_tconv(j);
    if (j->status != TCONV_OK) {
        refused(r, s, label, j, threads, j->status, j->err.message);
        free(ws);
        return false;
    }
    cell *k = cell_new(r, s, label, j->p, threads);
    snprintf(k->provider, sizeof k->provider, "%s", tconv_provider_name(j->opt.provider));
    snprintf(k->layout, sizeof k->layout, "%s", layout_name(j->opt.layout));
    if (ref) {
        const double e = tensors_compare(&s->g, j->t, j->opt.layout, j->p, ref);
        snprintf(k->check, sizeof k->check, "%s", e <= AGREEMENT ? "ok" : "FAIL");
        if (e > AGREEMENT)
            fprintf(stderr, "  %s on %s %s: MISMATCH with tconv's NCHW auto, %.1e\n", label,
                    s->name, pass_name(j->p), e);
    }
    if (j->algo == TCONV_ALGO_AUTO) {
        tconv_algo chosen;
        if (tconv_algo_choose(&s->g, TCONV_F32, &j->opt, &chosen, NULL) == TCONV_OK)
            snprintf(k->note, sizeof k->note, "%s", tconv_algo_name(chosen));
    }
    int runs;
    const double ms = measure(run_tconv, j, &c->b, &runs);
    k->workspace_bytes = (int64_t)bytes;
    k->peak_rss_bytes = rss_peak();
    cell_finish(k, s, ms, runs, pr);
    free(ws);
    return true;
}

/* With --quick and no --algo, the first provider of --gemm in the first layout (by default:
 * the default provider in NCHW) runs every algorithm, the other providers run auto in that
 * layout, and the first provider runs auto in the other layout: the cells the summary and
 * the targets read. */
static bool wanted(const config *c, tconv_algo algo, tconv_provider p, tconv_layout l)
{
    if (!c->quick || !c->every_row)
        return true;
    const tconv_provider first_p = c->providers[0];
    const tconv_layout first_l = c->layout[TCONV_LAYOUT_CHANNELS_FIRST]
                                     ? TCONV_LAYOUT_CHANNELS_FIRST
                                     : TCONV_LAYOUT_CHANNELS_LAST;
    if (p == first_p && l == first_l)
        return true;
    return algo == TCONV_ALGO_AUTO && (p == first_p || l == first_l);
}

/* Every thread count and pass of one (algorithm, provider, layout); stops at a refusal. */
static void series(results *r, const shape *s, const char *name, tconv_algo algo,
                   tconv_provider p, tconv_layout l, tensors *t, const tensors *ref,
                   const config *c, progress *pr)
{
    char label[32];
    cell_label(label, sizeof label, name, p, l);
    /* the first thread count only for the loops without threads, and with --quick for
     * every reference algorithm */
    const int n_threads = is_plain_loop(algo) || (c->quick && is_reference(algo))
                              ? 1
                              : c->n_threads;
    for (int i = 0; i < n_threads; ++i)
        for (int q = 0; q < 2; ++q) {
            if (!c->pass[q])
                continue;
            tconv_job j = {s, algo, (pass)q, t, {0}, TCONV_OK, {0}};
            j.opt.provider = p;
            j.opt.layout = l;
            if (!tconv_cell(r, s, label, &j, c->threads[i], ref, c, pr))
                return;
        }
}

void tconv_cells(results *r, const shape *s, const tensors *t, const tensors *ref,
                 const config *c, progress *pr)
{
    tensors nchw = *t, nhwc;
    const bool last = c->layout[TCONV_LAYOUT_CHANNELS_LAST];
    if (last)
        nhwc = tensors_channels_last(&s->g, t);
    for (const char *p = c->algos; *p;) {
        const char *end = strchr(p, ',');
        char name[24];
        snprintf(name, sizeof name, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
        p += strlen(name) + (end != NULL);
        tconv_algo algo;
        if (tconv_algo_from_name(name, &algo) != TCONV_OK)
            continue; /* a peer's name */
        if (is_reference(algo) && s->flops > c->reference_gflop * 1e9)
            continue;
        for (int i = 0; i < c->n_providers; ++i) {
            const tconv_provider prov = c->providers[i];
            if (prov != TCONV_PROVIDER_DEFAULT && !uses_gemm(algo))
                continue; /* the same loops whatever the provider */
            for (int l = 0; l < 2; ++l)
                if (c->layout[l] && wanted(c, algo, prov, (tconv_layout)l))
                    series(r, s, name, algo, prov, (tconv_layout)l,
                           l == TCONV_LAYOUT_CHANNELS_LAST ? &nhwc : &nchw, ref, c, pr);
        }
    }
    if (last)
        tensors_free(&nhwc);
}

int family_cells(results *r, shape *family, const config *c, progress *pr)
{
    const int sizes = c->quick ? 6 : 8; /* 4 .. 128 or 512 */
    for (int i = 0; i < sizes; ++i)
        shape_family((int64_t)4 << i, &family[i]);
    config one = *c;
    one.b.min_runs = 1;
    for (int a = 0; a < FAMILY_SERIES; ++a) {
        tconv_algo algo;
        if (tconv_algo_from_name(family_series[a], &algo) != TCONV_OK)
            continue;
        for (int i = 0; i < sizes; ++i) {
            tensors t = tensors_new(&family[i].g, true, 3);
            tconv_job j = {&family[i], algo, PASS_FWD, &t, {0}, TCONV_OK, {0}};
            const bool ok = tconv_cell(r, &family[i], family_series[a], &j, 1, NULL, &one, pr);
            tensors_free(&t);
            if (!ok || family_ms(r, &family[i], family_series[a]) * 1e-3 > c->family_cap_s)
                break;
        }
    }
    return sizes;
}
