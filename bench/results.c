/* The measured cells: storing and finding them, their labels, reading an earlier run's CSV,
 * and the figures the reports take from them (best of the thread counts, oneDNN's best
 * layout, geometric means). */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cell *results_add(results *r)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        cell *grown = realloc(r->cells, (size_t)r->cap * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "tconv_bench: out of memory\n");
            exit(1);
        }
        r->cells = grown;
    }
    cell *c = &r->cells[r->count++];
    memset(c, 0, sizeof *c);
    return c;
}

/* Index of the cell (shape, label, pass, threads) in r; -1 if none. */
static int cell_index(const results *r, const char *shape_name, const char *label, pass p,
                      int threads)
{
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        if (c->pass == p && c->threads == threads && strcmp(c->shape, shape_name) == 0 &&
            strcmp(c->label, label) == 0)
            return i;
    }
    return -1;
}

const cell *results_find(const results *r, const char *shape_name, const char *label, pass p,
                         int threads)
{
    const int i = cell_index(r, shape_name, label, p, threads);
    return i < 0 ? NULL : &r->cells[i];
}

void cell_label(char *buf, size_t size, const char *algo, tconv_provider p, tconv_layout l)
{
    snprintf(buf, size, "%s%s%s%s", algo, p == TCONV_PROVIDER_DEFAULT ? "" : "@",
             p == TCONV_PROVIDER_DEFAULT ? "" : tconv_provider_name(p),
             l == TCONV_LAYOUT_CHANNELS_LAST ? ":nhwc" : "");
}

bool listed(const char *list, const char *name)
{
    const size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (end != NULL);
    }
    return false;
}

cell *cell_new(results *r, const shape *s, const char *label, pass p, int threads)
{
    cell *c = results_add(r);
    snprintf(c->shape, sizeof c->shape, "%s", s->name);
    snprintf(c->label, sizeof c->label, "%s", label);
    snprintf(c->provider, sizeof c->provider, "-");
    snprintf(c->layout, sizeof c->layout, "-");
    snprintf(c->check, sizeof c->check, "-");
    c->layer = s->g.layer;
    c->pass = p;
    c->threads = threads;
    c->workspace_bytes = c->peak_rss_bytes = -1;
    return c;
}

void results_keep_faster(results *r, const results *again)
{
    for (int i = 0; i < again->count; ++i) {
        const cell *k = &again->cells[i];
        const int at = cell_index(r, k->shape, k->label, k->pass, k->threads);
        if (at < 0) {
            *results_add(r) = *k;
            continue;
        }
        cell *m = &r->cells[at];
        if (k->ms > 0 && (m->ms <= 0 || k->ms < m->ms)) {
            m->ms = k->ms, m->gflops = k->gflops, m->runs = k->runs;
            m->workspace_bytes = k->workspace_bytes;
        }
        if (k->peak_rss_bytes > m->peak_rss_bytes)
            m->peak_rss_bytes = k->peak_rss_bytes;
        if (strcmp(k->check, "FAIL") == 0)
            snprintf(m->check, sizeof m->check, "FAIL");
    }
}

void cell_finish(cell *c, const shape *s, double ms, int runs, progress *pr)
{
    c->ms = ms;
    c->runs = runs;
    c->gflops = s->flops * (c->pass == PASS_FWD ? 1 : 3) / (ms * 1e-3) / 1e9;
    ++pr->done;
    fprintf(stderr, "[%4d cells, %5.0f s] %-12s %-20s %-7s %dt %10.3f ms %8.2f GFLOP/s\n",
            pr->done, now_seconds() - pr->start, c->shape, c->label, pass_name(c->pass),
            c->threads, c->ms, c->gflops);
}

/* ---- an earlier run ------------------------------------------------------------------- */

static int column(char **f, int n, const char *name)
{
    for (int i = 0; i < n; ++i)
        if (strcmp(f[i], name) == 0)
            return i;
    return -1;
}

bool results_read_csv(results *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "tconv_bench: cannot open the baseline %s\n", path);
        return false;
    }
    char line[1024];
    char *fld[32];
    int shape_at = -1, label_at = -1, pass_at = -1, threads_at = -1, gflops_at = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        const int n = csv_split(line, fld, 32);
        if (shape_at < 0) { /* the header: this format names the label "cell", the one
                               before providers "algo" */
            shape_at = column(fld, n, "shape");
            label_at = column(fld, n, "cell");
            label_at = label_at < 0 ? column(fld, n, "algo") : label_at;
            pass_at = column(fld, n, "pass");
            threads_at = column(fld, n, "threads");
            gflops_at = column(fld, n, "gflops");
            if (shape_at < 0 || label_at < 0 || pass_at < 0 || threads_at < 0 ||
                gflops_at < 0) {
                fprintf(stderr, "tconv_bench: %s: not a tconv_bench CSV\n", path);
                fclose(f);
                return false;
            }
            continue;
        }
        if (n <= shape_at || n <= label_at || n <= pass_at || n <= threads_at ||
            n <= gflops_at)
            continue;
        cell *c = results_add(r);
        snprintf(c->shape, sizeof c->shape, "%s", fld[shape_at]);
        snprintf(c->label, sizeof c->label, "%s", fld[label_at]);
        c->pass = strcmp(fld[pass_at], "fwd") == 0 ? PASS_FWD : PASS_FWDBWD;
        c->threads = atoi(fld[threads_at]);
        c->gflops = atof(fld[gflops_at]);
    }
    fclose(f);
    return true;
}

/* ---- figures ------------------------------------------------------------------------------ */

double cell_gflops(const results *r, const char *shape_name, const char *label, pass p,
                   int threads)
{
    const cell *c = results_find(r, shape_name, label, p, threads);
    return c ? c->gflops : 0;
}

double best_gflops(const results *r, const char *shape_name, const char *label, pass p,
                   const run_info *info)
{
    double b = 0;
    for (int i = 0; i < info->n_threads; ++i)
        b = fmax(b, cell_gflops(r, shape_name, label, p, info->threads[i]));
    return b;
}

double onednn_best(const results *r, const char *shape_name, pass p, const run_info *info)
{
    return fmax(best_gflops(r, shape_name, onednn_label(ONEDNN_PLAIN), p, info),
                best_gflops(r, shape_name, onednn_label(ONEDNN_ANY), p, info));
}

double peak_at(const run_info *info, int threads)
{
    for (int i = 0; i < info->n_threads; ++i)
        if (info->threads[i] == threads)
            return info->peak[i];
    return 0;
}

double bare_gemm_for(const results *r, const char *shape_name, tconv_provider prov,
                     int threads)
{
    if (prov != TCONV_PROVIDER_DEFAULT) {
        char label[32];
        cell_label(label, sizeof label, "sgemm", prov, TCONV_LAYOUT_CHANNELS_FIRST);
        return cell_gflops(r, shape_name, label, PASS_FWD, threads);
    }
    double best = 0; /* the default: against the faster of the bare GEMMs */
    for (int p = TCONV_PROVIDER_OPENBLAS; p < TCONV_PROVIDER_COUNT; ++p)
        best = fmax(best, bare_gemm_for(r, shape_name, (tconv_provider)p, threads));
    return best;
}

int peak_threads(const run_info *info)
{
    int most = 0;
    for (int i = 0; i < info->n_threads; ++i) {
        if (info->threads[i] == 2)
            return 2;
        most = info->threads[i] > most ? info->threads[i] : most;
    }
    return most;
}

void mean_add(mean *m, double ratio)
{
    if (ratio > 0 && isfinite(ratio)) {
        m->log_sum += log(ratio);
        ++m->n;
    }
}

double mean_of(const mean *m)
{
    return m->n ? exp(m->log_sum / m->n) : NAN;
}
