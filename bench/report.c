/* What the benchmark prints and writes about its cells: per-shape tables, the map-size
 * family, and the CSV. The summary and the targets are summary.c's and targets.c's, the
 * plots plots.c's. */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mib(int64_t bytes, char *buf, size_t size)
{
    if (bytes < 0)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.1f MiB", (double)bytes / (1 << 20));
    return buf;
}

/* ---- per-shape table --------------------------------------------------------------------- */

void report_shape(const results *r, const shape *s, const run_info *info)
{
    char geo[320];
    tconv_geometry_format(&s->g, geo, sizeof geo);
    printf("\n== %s: %s\n   %s; %.4g GFLOP per forward\n", s->name, s->source, geo,
           s->flops / 1e9);
    printf("   %-34s %-8s", "cell", "pass");
    for (int i = 0; i < info->n_threads; ++i)
        printf(" %7dt ms %7s", info->threads[i], "GFLOP/s");
    printf(" %11s %11s  %s\n", "workspace", "peak RSS", "check");
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        if (strcmp(c->shape, s->name) != 0)
            continue;
        bool seen = false; /* one line per (algo, pass): skip later thread counts */
        for (int j = 0; j < i && !seen; ++j)
            seen = strcmp(r->cells[j].shape, s->name) == 0 &&
                   strcmp(r->cells[j].label, c->label) == 0 && r->cells[j].pass == c->pass;
        if (seen)
            continue;
        char label[64];
        snprintf(label, sizeof label, c->note[0] ? "%s (%s)" : "%s", c->label, c->note);
        printf("   %-34s %-8s", label, pass_name(c->pass));
        int64_t ws = -1, rss = -1;
        for (int t = 0; t < info->n_threads; ++t) {
            const cell *k = results_find(r, s->name, c->label, c->pass, info->threads[t]);
            if (k && k->runs > 0) {
                printf(" %11.3f %7.1f", k->ms, k->gflops);
                ws = k->workspace_bytes > ws ? k->workspace_bytes : ws;
                rss = k->peak_rss_bytes > rss ? k->peak_rss_bytes : rss;
            } else {
                printf(" %11s %7s", "-", "-");
            }
        }
        char a[32], b[32];
        printf(" %11s %11s  %s\n", mib(ws, a, sizeof a), mib(rss, b, sizeof b), c->check);
    }
    fflush(stdout);
}

/* ---- map-size family ------------------------------------------------------------------------ */

const char *const family_series[FAMILY_SERIES] = {"dense", "sparse", "gemm", "phase",
                                                   "scatter", "gather"};

double family_ms(const results *r, const shape *s, const char *algo)
{
    const cell *c = results_find(r, s->name, algo, PASS_FWD, 1);
    return c && c->runs > 0 ? c->ms : NAN;
}

double family_pixels(const shape *s)
{
    return (double)(s->g.y_size[0] * s->g.y_size[1]);
}

void report_family(const results *r, const shape *family, int n)
{
    printf("\n== Time against map size: %s; forward, 1 thread, ms\n   %-8s", family[0].source,
           "input");
    for (int a = 0; a < FAMILY_SERIES; ++a)
        printf(" %10s", family_series[a]);
    printf("\n");
    for (int i = 0; i < n; ++i) {
        printf("   %3lldx%-4lld", (long long)family[i].g.y_size[0],
               (long long)family[i].g.y_size[1]);
        for (int a = 0; a < FAMILY_SERIES; ++a) {
            const double ms = family_ms(r, &family[i], family_series[a]);
            if (isnan(ms))
                printf(" %10s", "-");
            else
                printf(" %10.4g", ms);
        }
        printf("\n");
    }
    /* slope of log time against log pixels, least squares over the maps of 16x16 and more
     * (smaller ones are dominated by the cost of a call): 2 for a matrix that grows with the
     * square of the map, 1 for the direct and GEMM views */
    printf("   %-8s", "slope");
    for (int a = 0; a < FAMILY_SERIES; ++a) {
        double k = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; ++i) {
            const double ms = family_ms(r, &family[i], family_series[a]);
            if (isnan(ms) || family[i].g.y_size[0] < 16)
                continue;
            const double lx = log(family_pixels(&family[i])), ly = log(ms);
            k += 1, sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
        }
        if (k < 2)
            printf(" %10s", "-");
        else
            printf(" %10.2f", (k * sxy - sx * sy) / (k * sxx - sx * sx));
    }
    printf("\n   (slope: least-squares d log(time) / d log(pixels) over the maps of 16x16 and "
           "more)\n");
}

bool family_write_data(const results *r, const shape *family, int n, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "pixels");
    for (int a = 0; a < FAMILY_SERIES; ++a)
        fprintf(f, " %s", family_series[a]);
    fprintf(f, "\n");
    for (int i = 0; i < n; ++i) {
        fprintf(f, "%.0f", family_pixels(&family[i]));
        for (int a = 0; a < FAMILY_SERIES; ++a) {
            const double ms = family_ms(r, &family[i], family_series[a]);
            if (isnan(ms))
                fprintf(f, " ?");
            else
                fprintf(f, " %.6g", ms);
        }
        fprintf(f, "\n");
    }
    return fclose(f) == 0;
}

/* ---- CSV ------------------------------------------------------------------------------------ */

static void comment_lines(FILE *f, const char *text)
{
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        const int len = end ? (int)(end - p) : (int)strlen(p);
        fprintf(f, "# %.*s\n", len, p);
        p += len + (end != NULL);
    }
}

bool report_csv(const results *r, const char *path, const run_info *info)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tconv_bench: cannot write %s\n", path);
        return false;
    }
    comment_lines(f, info->header);
    fprintf(f, "# %s\n", info->env);
    fprintf(f, "suite,shape,cell,provider,layout,pass,threads,ms,gflops,workspace_bytes,"
               "peak_rss_bytes,runs,check,note\n");
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        fprintf(f, "%s,%s,%s,%s,%s,%s,%d,%.6f,%.4f,%lld,%lld,%d,%s,%s\n", suite_name(c->layer),
                c->shape, c->label, c->provider, c->layout, pass_name(c->pass), c->threads,
                c->ms, c->gflops, (long long)c->workspace_bytes, (long long)c->peak_rss_bytes,
                c->runs, c->check, c->note);
    }
    return fclose(f) == 0;
}

