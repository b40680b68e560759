/*
 * The peers' cells, in the same run as tconv's: the bare GEMM of the shape's GEMM view per
 * provider, PyTorch, and oneDNN on plain, `any` and channels-last memory. A peer's results
 * are checked against tconv's once per shape (its NCHW auto, default provider).
 */
#include "bench.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *filled(int64_t n, float v)
{
    float *p = aligned_alloc(64, ((size_t)(n ? n : 1) * sizeof(float) + 63) / 64 * 64);
    for (int64_t i = 0; i < n; ++i)
        p[i] = v;
    return p;
}

typedef struct gemm_job {
    tconv_provider p;
    gemm_view v;
    const float *a, *b;
    float *c;
} gemm_job;

static void run_gemm(void *ctx)
{
    const gemm_job *j = ctx;
    bare_gemm(j->p, &j->v, j->a, j->b, j->c);
}

/* The providers whose bare GEMM the run measures: those asked for, and for the default
 * every provider its rule may pick. */
static int bare_providers(const config *c, tconv_provider out[TCONV_PROVIDER_COUNT])
{
    bool want[TCONV_PROVIDER_COUNT] = {false};
    for (int i = 0; i < c->n_providers; ++i) {
        if (c->providers[i] == TCONV_PROVIDER_DEFAULT)
            want[TCONV_PROVIDER_OPENBLAS] = want[TCONV_PROVIDER_ONEDNN] = true;
        else
            want[c->providers[i]] = true;
    }
    int n = 0;
    for (int p = 0; p < TCONV_PROVIDER_COUNT; ++p)
        if (want[p] && bare_gemm_available((tconv_provider)p) &&
            (p != TCONV_PROVIDER_ONEDNN || tconv_provider_available(p, TCONV_F32)))
            out[n++] = (tconv_provider)p;
    return n;
}

void gemm_cells(results *r, const shape *s, const tensors *t, const config *c, progress *pr)
{
    if (!c->pass[PASS_FWD] || !(c->every_row || listed(c->algos, "sgemm")))
        return;
    gemm_job j = {TCONV_PROVIDER_DEFAULT, gemm_view_of(&s->g), t->weight, t->in, NULL};
    /* the transposed conv multiplies its input itself; the conv multiplies its columns,
     * which the bare GEMM gets as a buffer of their size */
    float *cols = NULL;
    if (!j.v.trans_a)
        j.b = cols = filled(j.v.groups * j.v.k * j.v.n, 0.5f);
    j.c = filled(j.v.m * j.v.n, 0);
    tconv_provider bare[TCONV_PROVIDER_COUNT];
    const int n = bare_providers(c, bare);
    for (int i = 0; i < n; ++i)
        for (int th = 0; th < c->n_threads; ++th) {
            j.p = bare[i];
            char label[32];
            cell_label(label, sizeof label, "sgemm", bare[i], TCONV_LAYOUT_CHANNELS_FIRST);
            omp_set_num_threads(c->threads[th]);
            rss_reset();
            cell *k = cell_new(r, s, label, PASS_FWD, c->threads[th]);
            snprintf(k->provider, sizeof k->provider, "%s", tconv_provider_name(bare[i]));
            snprintf(k->note, sizeof k->note, "%lldx%lldx%lld", (long long)j.v.m,
                     (long long)j.v.n, (long long)j.v.k);
            int runs;
            const double ms = measure(run_gemm, &j, &c->b, &runs);
            k->workspace_bytes = (int64_t)(j.v.m * j.v.n) * (int64_t)sizeof(float);
            k->peak_rss_bytes = rss_peak();
            cell_finish(k, s, ms, runs, pr);
        }
    free(cols);
    free(j.c);
}

/* "ok" or "FAIL", said on stderr too. */
static const char *verdict_of(const char *peer, const shape *s, double e)
{
    fprintf(stderr, "  %s on %s agrees with tconv to %.1e%s\n", peer, s->name, e,
            e <= AGREEMENT ? "" : ": MISMATCH, its timings are not comparable");
    return e <= AGREEMENT ? "ok" : "FAIL";
}

typedef struct onednn_job {
    onednn_peer *peer;
    pass p;
} onednn_job;

static void run_onednn(void *ctx)
{
    onednn_job *j = ctx;
    onednn_forward(j->peer);
    if (j->p == PASS_FWDBWD)
        onednn_backward(j->peer);
}

static void onednn_cells(results *r, const shape *s, onednn_format f, const tensors *t,
                         const tensors *ref, const config *c, progress *pr)
{
    const char *name = onednn_label(f);
    char why[256] = "";
    tensors got = tensors_new(&s->g, false, 1);
    char check[16] = "-";
    for (int i = 0; i < c->n_threads; ++i) {
        omp_set_num_threads(c->threads[i]); /* oneDNN sizes its kernels when they are made */
        onednn_peer *peer = onednn_create(s, f, t, why, sizeof why);
        if (!peer) {
            fprintf(stderr, "  %s skips %s: %s\n", name, s->name, why);
            break;
        }
        if (i == 0) { /* once per shape: the same numbers as tconv? */
            onednn_forward(peer);
            onednn_backward(peer);
            onednn_results(peer, &got);
            snprintf(check, sizeof check, "%s",
                     verdict_of(name, s,
                                tensors_compare(&s->g, &got, TCONV_LAYOUT_CHANNELS_FIRST,
                                                PASS_FWDBWD, ref)));
        }
        for (int p = 0; p < 2; ++p) {
            if (!c->pass[p])
                continue;
            onednn_job j = {peer, (pass)p};
            rss_reset();
            cell *k = cell_new(r, s, name, (pass)p, c->threads[i]);
            snprintf(k->layout, sizeof k->layout, "%s",
                     f == ONEDNN_ANY ? "any" : f == ONEDNN_NHWC ? "nhwc" : "nchw");
            snprintf(k->check, sizeof k->check, "%s", check);
            int runs;
            const double ms = measure(run_onednn, &j, &c->b, &runs);
            k->workspace_bytes = onednn_scratchpad_bytes(peer);
            k->peak_rss_bytes = rss_peak();
            cell_finish(k, s, ms, runs, pr);
        }
        onednn_destroy(peer);
    }
    tensors_free(&got);
}

static void torch_cells(results *r, const shape *s, const tensors *t, const tensors *ref,
                        const config *c, progress *pr)
{
    tensors got = tensors_new(&s->g, false, 1);
    if (!torch_check(s, t, &got)) {
        tensors_free(&got);
        return;
    }
    const char *check = verdict_of(
        "torch", s, tensors_compare(&s->g, &got, TCONV_LAYOUT_CHANNELS_FIRST, PASS_FWDBWD, ref));
    tensors_free(&got);
    for (int i = 0; i < c->n_threads; ++i)
        for (int p = 0; p < 2; ++p) {
            if (!c->pass[p])
                continue;
            double ms;
            int runs;
            int64_t rss;
            if (!torch_time((pass)p, c->threads[i], &c->b, &ms, &runs, &rss))
                return;
            cell *k = cell_new(r, s, "torch", (pass)p, c->threads[i]);
            snprintf(k->layout, sizeof k->layout, "nchw");
            snprintf(k->check, sizeof k->check, "%s", check);
            k->peak_rss_bytes = rss;
            cell_finish(k, s, ms, runs, pr);
        }
}

void peer_cells(results *r, const shape *s, const tensors *t, const tensors *ref,
                const config *c, bool torch_ok, progress *pr)
{
    if (!c->peers)
        return;
    const bool all = c->every_row, nchw = c->layout[TCONV_LAYOUT_CHANNELS_FIRST];
    if (torch_ok && nchw && (all || listed(c->algos, "torch")))
        torch_cells(r, s, t, ref, c, pr);
    if (!onednn_available())
        return;
    const bool asked[3] = {nchw, nchw, c->layout[TCONV_LAYOUT_CHANNELS_LAST]};
    for (int f = 0; f < 3; ++f)
        if (asked[f] && (all || listed(c->algos, onednn_label((onednn_format)f))))
            onednn_cells(r, s, (onednn_format)f, t, ref, c, pr);
}
