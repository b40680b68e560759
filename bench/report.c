/* What the benchmark prints and writes: per-shape tables, the summary against the peers and
 * the targets, the CSV, and the plots. */
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

const cell *results_find(const results *r, const char *shape_name, const char *algo, pass p,
                         int threads)
{
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        if (c->pass == p && c->threads == threads && strcmp(c->shape, shape_name) == 0 &&
            strcmp(c->algo, algo) == 0)
            return c;
    }
    return NULL;
}

/* Highest GFLOP/s of (shape, algo, pass) over the run's thread counts; 0 if none. Also
 * the thread count that gave it. */
static double best(const results *r, const char *shape_name, const char *algo, pass p,
                   const run_info *info, int *threads)
{
    double b = 0;
    for (int i = 0; i < info->n_threads; ++i) {
        const cell *c = results_find(r, shape_name, algo, p, info->threads[i]);
        if (c && c->gflops > b) {
            b = c->gflops;
            if (threads)
                *threads = c->threads;
        }
    }
    return b;
}

static double at(const results *r, const char *shape_name, const char *algo, pass p, int threads)
{
    const cell *c = results_find(r, shape_name, algo, p, threads);
    return c ? c->gflops : 0;
}

static const char *mib(int64_t bytes, char *buf, size_t size)
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
    printf("   %-18s %-8s", "algo", "pass");
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
                   strcmp(r->cells[j].algo, c->algo) == 0 && r->cells[j].pass == c->pass;
        if (seen)
            continue;
        char label[48];
        snprintf(label, sizeof label, c->note[0] ? "%s (%s)" : "%s", c->algo, c->note);
        printf("   %-18s %-8s", label, pass_name(c->pass));
        int64_t ws = -1, rss = -1;
        for (int t = 0; t < info->n_threads; ++t) {
            const cell *k = results_find(r, s->name, c->algo, c->pass, info->threads[t]);
            if (k) {
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

/* ---- summary ------------------------------------------------------------------------------ */

typedef struct mean {
    double log_sum;
    int n;
} mean;

static void mean_add(mean *m, double ratio)
{
    if (ratio > 0 && isfinite(ratio)) {
        m->log_sum += log(ratio);
        ++m->n;
    }
}

static double mean_of(const mean *m)
{
    return m->n ? exp(m->log_sum / m->n) : NAN;
}

static void print_ratio(double tconv, double peer)
{
    if (tconv > 0 && peer > 0)
        printf(" %7.2fx", tconv / peer);
    else
        printf(" %8s", "-");
}

static const char *verdict(bool applies, bool met)
{
    return !applies ? "[n/a ]" : met ? "[met ]" : "[MISS]";
}

/* Shapes the 250 GFLOP/s target names. */
static bool fast_target_shape(const char *name)
{
    const char *names[] = {"dcgan_2", "dcgan_3", "dcgan_4", "unet_1", "stride1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

void report_summary(const results *r, const shape *shapes, int n, const run_info *info)
{
    const char *peers[3] = {"torch", "onednn", "onednn_any"};
    mean fwd2[3] = {{0}}, fwdall[3] = {{0}}, bwd2[2] = {{0}}, bwdall[2] = {{0}};
    printf("\n== Summary: float32, GFLOP/s of tconv auto, best of the thread counts, and its "
           "ratio to each peer (> 1: tconv is faster)\n   %s\n", info->env);
    printf("   %-10s %4s %9s %8s %8s %8s   %9s %8s %8s\n", "shape", "dims", "fwd", "/torch",
           "/onednn", "/any", "fwd+bwd", "/torch", "/onednn");
    for (int i = 0; i < n; ++i) {
        const char *name = shapes[i].name;
        const bool two_d = shapes[i].g.dims == 2;
        const double f = best(r, name, "auto", PASS_FWD, info, NULL);
        const double b = best(r, name, "auto", PASS_FWDBWD, info, NULL);
        printf("   %-10s %4d %9.2f", name, shapes[i].g.dims, f);
        for (int p = 0; p < 3; ++p) {
            const double peer = best(r, name, peers[p], PASS_FWD, info, NULL);
            print_ratio(f, peer);
            if (f > 0 && peer > 0) {
                mean_add(&fwdall[p], f / peer);
                if (two_d)
                    mean_add(&fwd2[p], f / peer);
            }
        }
        printf("   %9.2f", b);
        for (int p = 0; p < 2; ++p) {
            const double peer = best(r, name, peers[p], PASS_FWDBWD, info, NULL);
            print_ratio(b, peer);
            if (b > 0 && peer > 0) {
                mean_add(&bwdall[p], b / peer);
                if (two_d)
                    mean_add(&bwd2[p], b / peer);
            }
        }
        printf("\n");
    }
    printf("   %-25s", "geomean, 2-D rows");
    for (int p = 0; p < 3; ++p)
        printf(" %7.2fx", mean_of(&fwd2[p]));
    printf("   %9s", "");
    for (int p = 0; p < 2; ++p)
        printf(" %7.2fx", mean_of(&bwd2[p]));
    printf("\n   %-25s", "geomean, all rows");
    for (int p = 0; p < 3; ++p)
        printf(" %7.2fx", mean_of(&fwdall[p]));
    printf("   %9s", "");
    for (int p = 0; p < 2; ++p)
        printf(" %7.2fx", mean_of(&bwdall[p]));
    printf("\n   (onednn: plain NCHW memory; any: the layout oneDNN picks, reorders not timed; "
           "fwd+bwd onednn: forward + backward-data + backward-weights)\n");

    /* GEMM efficiency and thread scaling */
    printf("\n== GEMM efficiency: tconv auto forward / bare cblas_sgemm of the same GEMM "
           "((C_x/g*k^d) x (N*|Sy|) x (C_y/g)), same threads\n");
    printf("   %-10s", "shape");
    for (int t = 0; t < info->n_threads; ++t)
        printf("   %dt: %7s %7s %6s", info->threads[t], "auto", "sgemm", "eff");
    printf("\n");
    double worst_eff = INFINITY;
    int eff_met = 0, eff_n = 0;
    char worst_eff_at[64] = "-";
    for (int i = 0; i < n; ++i) {
        const char *name = shapes[i].name;
        printf("   %-10s", name);
        for (int t = 0; t < info->n_threads; ++t) {
            const double a = at(r, name, "auto", PASS_FWD, info->threads[t]);
            const double s = at(r, name, "sgemm", PASS_FWD, info->threads[t]);
            if (a > 0 && s > 0) {
                printf("       %7.1f %7.1f %5.0f%%", a, s, 100 * a / s);
                if (shapes[i].g.dims == 2) {
                    ++eff_n;
                    eff_met += a / s >= 0.85;
                    if (a / s < worst_eff) {
                        worst_eff = a / s;
                        snprintf(worst_eff_at, sizeof worst_eff_at, "%s at %dt", name,
                                 info->threads[t]);
                    }
                }
            } else {
                printf("       %7s %7s %6s", "-", "-", "-");
            }
        }
        printf("\n");
    }
    int one = 0, two = 0; /* thread scaling: 1 -> 2 when both were run */
    for (int t = 0; t < info->n_threads; ++t) {
        one = info->threads[t] == 1 ? 1 : one;
        two = info->threads[t] == 2 ? 2 : two;
    }
    double worst_scale = INFINITY;
    char worst_scale_at[32] = "-";
    if (one && two) {
        printf("\n== Thread scaling: tconv auto forward, 2 threads / 1 thread, shapes of >= 0.5 "
               "GFLOP\n  ");
        for (int i = 0; i < n; ++i) {
            if (shapes[i].flops < 0.5e9)
                continue;
            const double a1 = at(r, shapes[i].name, "auto", PASS_FWD, 1);
            const double a2 = at(r, shapes[i].name, "auto", PASS_FWD, 2);
            if (a1 > 0 && a2 > 0) {
                printf(" %s %.2fx", shapes[i].name, a2 / a1);
                if (a2 / a1 < worst_scale) {
                    worst_scale = a2 / a1;
                    snprintf(worst_scale_at, sizeof worst_scale_at, "%s", shapes[i].name);
                }
            }
        }
        printf("\n");
    }

    /* the 250 GFLOP/s shapes, fcn_x8_dw, workspace, peak RSS */
    double slowest = INFINITY, dw_ratio = NAN;
    char slowest_at[32] = "-";
    for (int i = 0; i < n; ++i) {
        const char *name = shapes[i].name;
        if (fast_target_shape(name)) {
            const double a = at(r, name, "auto", PASS_FWD, 2);
            if (a > 0 && a < slowest) {
                slowest = a;
                snprintf(slowest_at, sizeof slowest_at, "%s", name);
            }
        }
        if (strcmp(name, "fcn_x8_dw") == 0) {
            const double a = best(r, name, "auto", PASS_FWD, info, NULL);
            const double o = best(r, name, "onednn", PASS_FWD, info, NULL);
            dw_ratio = a > 0 && o > 0 ? a / o : NAN;
        }
    }
    int64_t most_ws = -1, most_rss = -1;
    char most_ws_at[96] = "-", most_rss_at[96] = "-";
    bool ws_ok = true;
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        const bool production = strcmp(c->algo, "auto") == 0 || strcmp(c->algo, "gemm") == 0 ||
                                strcmp(c->algo, "phase") == 0;
        if (production && c->workspace_bytes > most_ws) {
            most_ws = c->workspace_bytes;
            snprintf(most_ws_at, sizeof most_ws_at, "%s %s %s", c->shape, c->algo,
                     pass_name(c->pass));
        }
        if (production && c->workspace_bytes > (int64_t)info->workspace_limit + 64)
            ws_ok = false;
        if (c->peak_rss_bytes > most_rss) {
            most_rss = c->peak_rss_bytes;
            snprintf(most_rss_at, sizeof most_rss_at, "%s %s %s %dt", c->shape, c->algo,
                     pass_name(c->pass), c->threads);
        }
    }

    const double vs_torch = mean_of(&fwd2[0]), vs_dnnl = mean_of(&fwd2[1]);
    const double vs_any = mean_of(&fwd2[2]), fb_dnnl = mean_of(&bwd2[1]);
    char a[32], b[32];
    printf("\n== Targets of issue 4 (2-D rows, geometric means, this run; %s)\n",
           info->avx512 ? "AVX-512 BLAS" : "BLAS without AVX-512: the AVX-512 targets do not "
                                           "apply");
    printf("   %s forward, auto >= 2x PyTorch:                          %.2fx\n",
           verdict(isfinite(vs_torch), vs_torch >= 2), vs_torch);
    printf("   %s forward, auto >= 1.0x oneDNN NCHW:                    %.2fx\n",
           verdict(isfinite(vs_dnnl), vs_dnnl >= 1), vs_dnnl);
    printf("   %s forward+backward, auto >= 1.0x oneDNN's three:        %.2fx\n",
           verdict(isfinite(fb_dnnl), fb_dnnl >= 1), fb_dnnl);
    printf("   %s AVX-512: forward >= 1.2x oneDNN NCHW:                 %.2fx\n",
           verdict(info->avx512 && isfinite(vs_dnnl), vs_dnnl >= 1.2), vs_dnnl);
    printf("   %s AVX-512: forward >= 1.0x oneDNN any:                  %.2fx\n",
           verdict(info->avx512 && isfinite(vs_any), vs_any >= 1), vs_any);
    printf("   %s AVX-512: >= 250 GFLOP/s at 2t, dcgan_2..4 unet_1 stride1: lowest %.1f (%s)\n",
           verdict(info->avx512 && isfinite(slowest), slowest >= 250), slowest, slowest_at);
    printf("   %s GEMM efficiency >= 85%% of bare sgemm (2-D rows):      %d of %d cells; "
           "lowest %.0f%% (%s)\n",
           verdict(eff_n > 0, eff_met == eff_n), eff_met, eff_n, 100 * worst_eff, worst_eff_at);
    printf("   %s 1 -> 2 threads >= 1.8x on shapes of >= 0.5 GFLOP:     lowest %.2fx (%s)\n",
           verdict(isfinite(worst_scale), worst_scale >= 1.8), worst_scale, worst_scale_at);
    printf("   %s fcn_x8_dw forward >= 10x oneDNN NCHW:                 %.1fx\n",
           verdict(isfinite(dw_ratio), dw_ratio >= 10), dw_ratio);
    printf("   %s workspace of gemm/phase/auto <= the bound (%s):  largest %s (%s)\n",
           verdict(most_ws >= 0, ws_ok), mib((int64_t)info->workspace_limit, a, sizeof a),
           mib(most_ws, b, sizeof b), most_ws_at);
    printf("          peak RSS of any cell: %s (%s)\n", mib(most_rss, a, sizeof a), most_rss_at);
}

/* ---- map-size family ------------------------------------------------------------------------ */

static const char *const family_series[] = {"dense", "sparse", "gemm", "phase", "scatter",
                                            "gather"};
enum { FAMILY_SERIES = sizeof family_series / sizeof family_series[0] };

static double family_ms(const results *r, const shape *s, const char *algo)
{
    const cell *c = results_find(r, s->name, algo, PASS_FWD, 1);
    return c ? c->ms : NAN;
}

static double pixels(const shape *s)
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
            const double lx = log(pixels(&family[i])), ly = log(ms);
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
    fprintf(f, "shape,algo,pass,threads,ms,gflops,workspace_bytes,peak_rss_bytes,runs,check,"
               "note\n");
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        fprintf(f, "%s,%s,%s,%d,%.6f,%.4f,%lld,%lld,%d,%s,%s\n", c->shape, c->algo,
                pass_name(c->pass), c->threads, c->ms, c->gflops, (long long)c->workspace_bytes,
                (long long)c->peak_rss_bytes, c->runs, c->check, c->note);
    }
    return fclose(f) == 0;
}

/* ---- plots ---------------------------------------------------------------------------------- */

static const char *const bar_series[] = {"auto", "gemm", "phase", "sgemm", "torch", "onednn",
                                         "onednn_any"};
enum { BAR_SERIES = sizeof bar_series / sizeof bar_series[0] };

/* Writes the series that have a value for this pass (sgemm has no backward: an empty
 * column would make gnuplot warn in the middle of the report); returns how many, or -1. */
static int write_bars(const results *r, const shape *shapes, int n, pass p, const char *path,
                      const run_info *info)
{
    bool present[BAR_SERIES] = {false};
    int columns = 0;
    for (int a = 0; a < BAR_SERIES; ++a) {
        for (int i = 0; i < n && !present[a]; ++i)
            present[a] = best(r, shapes[i].name, bar_series[a], p, info, NULL) > 0;
        columns += present[a];
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "shape");
    for (int a = 0; a < BAR_SERIES; ++a)
        if (present[a])
            fprintf(f, " %s", bar_series[a]);
    fprintf(f, "\n");
    for (int i = 0; i < n; ++i) {
        fprintf(f, "%s", shapes[i].name);
        for (int a = 0; a < BAR_SERIES; ++a) {
            if (!present[a])
                continue;
            const double g = best(r, shapes[i].name, bar_series[a], p, info, NULL);
            if (g > 0)
                fprintf(f, " %.4g", g);
            else
                fprintf(f, " ?");
        }
        fprintf(f, "\n");
    }
    return fclose(f) == 0 ? columns : -1;
}

static bool write_family(const results *r, const shape *family, int n, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "pixels");
    for (int a = 0; a < FAMILY_SERIES; ++a)
        fprintf(f, " %s", family_series[a]);
    fprintf(f, "\n");
    for (int i = 0; i < n; ++i) {
        fprintf(f, "%.0f", pixels(&family[i]));
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

static void bar_plot(FILE *gp, const char *dir, const char *file, int columns,
                     const char *title, const run_info *info)
{
    if (columns == 0)
        return;
    fprintf(gp,
            "set output '%s/%s.svg'\n"
            "set title \"%s\\n%s\"\n"
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 0.85 border -1\n"
            "set logscale y\nset yrange [0.1:*]\nset ylabel 'GFLOP/s (log scale)'\n"
            "set xtics nomirror font ',10'\nset grid ytics\n"
            "set key outside right top\n"
            "plot for [i=2:%d] '%s/%s.dat' using i:xtic(1) title columnheader(i)\n",
            dir, file, title, info->env, columns + 1, dir, file);
}

void report_plots(const results *r, const shape *shapes, int n, const shape *family,
                  int n_family, const char *dir, const run_info *info)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bench_fwd.dat", dir);
    const int fwd = write_bars(r, shapes, n, PASS_FWD, path, info);
    snprintf(path, sizeof path, "%s/bench_fwdbwd.dat", dir);
    const int fwdbwd = fwd < 0 ? -1 : write_bars(r, shapes, n, PASS_FWDBWD, path, info);
    snprintf(path, sizeof path, "%s/bench_maps.dat", dir);
    const bool ok = fwdbwd >= 0 && (n_family == 0 || write_family(r, family, n_family, path));
    if (!ok) {
        fprintf(stderr, "tconv_bench: cannot write the plot data into %s\n", dir);
        return;
    }
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        printf("\nplots: gnuplot not found (install gnuplot-nox); data in %s/*.dat\n", dir);
        return;
    }
    FILE *gp = popen("gnuplot", "w");
    if (!gp)
        return;
    fprintf(gp, "set terminal svg size 1280,640 dynamic noenhanced font 'sans,12'\n"
                "set datafile missing '?'\nset key autotitle columnheader\n");
    bar_plot(gp, dir, "bench_fwd", fwd,
             "Transposed convolution forward, float32, best of the thread counts", info);
    bar_plot(gp, dir, "bench_fwdbwd", fwdbwd,
             "Forward + backward (three gradients), float32, best of the thread counts", info);
    if (n_family)
        fprintf(gp,
                "reset\nset datafile missing '?'\nset key autotitle columnheader\n"
                "set output '%s/bench_maps.svg'\n"
                "set title \"Time against map size, %s, 1 thread\\n%s\"\n"
                "set logscale xy\nset xlabel 'input map pixels'\nset ylabel 'forward, ms'\n"
                "set grid\nset key left top\n"
                "plot for [i=2:%d] '%s/bench_maps.dat' using 1:i with linespoints "
                "title columnheader(i)\n",
                dir, family[0].source, info->env, FAMILY_SERIES + 1, dir);
    if (pclose(gp) == 0)
        printf("\nplots: %s/bench_fwd.svg, %s/bench_fwdbwd.svg%s%s%s\n", dir, dir,
               n_family ? ", " : "", n_family ? dir : "", n_family ? "/bench_maps.svg" : "");
}
