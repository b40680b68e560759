/*
 * The plots of one suite, as SVG through gnuplot, with their data files left beside them:
 * GFLOP/s per shape for tconv's production algorithms, its channels-last cells and the
 * peers (forward; forward + backward), tconv auto per GEMM provider against each
 * provider's bare GEMM with the FMA peak drawn across (forward), and, for the transposed
 * suite, time against map size. Files are named after the suite: bench_* for the
 * transposed one (as before the conv suite existed), conv_* for the conv one.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SERIES = 16 };

static const char *const main_series[] = {"auto", "gemm", "phase", "auto:nhwc", "torch",
                                          "onednn", "onednn_any", "onednn_nhwc"};

/* Writes the series that have a value for this pass (a bare GEMM has no backward: an
 * empty column would make gnuplot warn in the middle of the report); returns how many, or
 * -1. */
static int write_bars(const results *r, const shape *shapes, int n, pass p,
                      const char *const *series, int n_series, const char *path,
                      const run_info *info)
{
    bool present[MAX_SERIES] = {false};
    int columns = 0;
    for (int a = 0; a < n_series; ++a) {
        for (int i = 0; i < n && !present[a]; ++i)
            present[a] = best_gflops(r, shapes[i].name, series[a], p, info) > 0;
        columns += present[a];
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "shape");
    for (int a = 0; a < n_series; ++a)
        if (present[a])
            fprintf(f, " %s", series[a]);
    fprintf(f, "\n");
    for (int i = 0; i < n; ++i) {
        fprintf(f, "%s", shapes[i].name);
        for (int a = 0; a < n_series; ++a) {
            if (!present[a])
                continue;
            const double g = best_gflops(r, shapes[i].name, series[a], p, info);
            if (g > 0)
                fprintf(f, " %.4g", g);
            else
                fprintf(f, " ?");
        }
        fprintf(f, "\n");
    }
    return fclose(f) == 0 ? columns : -1;
}

/* A clustered bar chart of a data file; a horizontal line at `peak` when it is > 0. */
static void bar_plot(FILE *gp, const char *dir, const char *file, int columns,
                     const char *title, double peak, const run_info *info)
{
    if (columns <= 0)
        return;
    fprintf(gp, "reset\nset datafile missing '?'\nset key autotitle columnheader\n");
    if (peak > 0)
        fprintf(gp,
                "set arrow 1 from graph 0, first %g to graph 1, first %g nohead dt 2 lw 2\n"
                "set label 1 'FMA peak at %dt (%s): %.0f GFLOP/s' at graph 0.01, first %g "
                "offset 0,0.7 font ',10'\n",
                peak, peak, peak_threads(info), info->peak_isa, peak, peak);
    fprintf(gp,
            "set output '%s/%s.svg'\n"
            "set title \"%s\\n%s\"\n"
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 0.85 border -1\n"
            "set logscale y\nset yrange [0.1:*]\nset ylabel 'GFLOP/s (log scale)'\n"
            "set xtics nomirror rotate by -30 font ',10'\nset grid ytics\n"
            "set key outside right top\n"
            "plot for [i=2:%d] '%s/%s.dat' using i:xtic(1) title columnheader(i)\n",
            dir, file, title, info->env, columns + 1, dir, file);
}

/* auto per provider, then each provider's bare GEMM. */
static int provider_series(const run_info *info, char labels[][32], const char **series)
{
    int n = 0;
    for (int p = 0; p < info->n_providers && n < MAX_SERIES; ++p)
        cell_label(labels[n++], 32, "auto", info->providers[p], TCONV_LAYOUT_CHANNELS_FIRST);
    for (int p = TCONV_PROVIDER_OPENBLAS; p < TCONV_PROVIDER_COUNT && n < MAX_SERIES; ++p)
        cell_label(labels[n++], 32, "sgemm", (tconv_provider)p, TCONV_LAYOUT_CHANNELS_FIRST);
    for (int i = 0; i < n; ++i)
        series[i] = labels[i];
    return n;
}

void report_plots(const results *r, const shape *shapes, int n, const shape *family,
                  int n_family, const char *dir, const run_info *info)
{
    if (n == 0)
        return;
    const bool conv = shapes[0].g.layer == TCONV_LAYER_CONV;
    const char *prefix = conv ? "conv" : "bench";
    const char *layer = conv ? "Convolution" : "Transposed convolution";
    const int n_main = (int)(sizeof main_series / sizeof main_series[0]);
    char labels[MAX_SERIES][32];
    const char *prov[MAX_SERIES];
    const int n_prov = provider_series(info, labels, prov);
    char path[512], fwd_name[64], fwdbwd_name[64], prov_name[64];
    snprintf(fwd_name, sizeof fwd_name, "%s_fwd", prefix);
    snprintf(fwdbwd_name, sizeof fwdbwd_name, "%s_fwdbwd", prefix);
    snprintf(prov_name, sizeof prov_name, "%s_providers", prefix);
    snprintf(path, sizeof path, "%s/%s.dat", dir, fwd_name);
    const int fwd = write_bars(r, shapes, n, PASS_FWD, main_series, n_main, path, info);
    snprintf(path, sizeof path, "%s/%s.dat", dir, fwdbwd_name);
    const int fwdbwd = write_bars(r, shapes, n, PASS_FWDBWD, main_series, n_main, path, info);
    snprintf(path, sizeof path, "%s/%s.dat", dir, prov_name);
    const int providers = write_bars(r, shapes, n, PASS_FWD, prov, n_prov, path, info);
    snprintf(path, sizeof path, "%s/bench_maps.dat", dir);
    const bool ok = fwd >= 0 && fwdbwd >= 0 && providers >= 0 &&
                    (n_family == 0 || family_write_data(r, family, n_family, path));
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
    fprintf(gp, "set terminal svg size 1440,680 dynamic noenhanced font 'sans,12'\n");
    char title[160];
    snprintf(title, sizeof title, "%s forward, float32, best of the thread counts", layer);
    bar_plot(gp, dir, fwd_name, fwd, title, 0, info);
    snprintf(title, sizeof title,
             "%s forward + backward (three gradients), float32, best of the thread counts",
             layer);
    bar_plot(gp, dir, fwdbwd_name, fwdbwd, title, 0, info);
    snprintf(title, sizeof title,
             "%s forward per GEMM provider, and each provider's bare GEMM of the same GEMM",
             layer);
    bar_plot(gp, dir, prov_name, providers, title, peak_at(info, peak_threads(info)), info);
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
        printf("\nplots: %s/%s.svg, %s/%s.svg, %s/%s.svg%s%s%s\n", dir, fwd_name, dir,
               fwdbwd_name, dir, prov_name, n_family ? ", " : "", n_family ? dir : "",
               n_family ? "/bench_maps.svg" : "");
}
