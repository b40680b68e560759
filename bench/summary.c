/*
 * The summary of one suite: tconv auto against each peer per GEMM provider (best of the
 * thread counts for each side), the providers side by side, the GEMM-path efficiency
 * against each provider's bare GEMM, thread scaling, and the layouts; then the targets.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void print_ratio(double tconv, double peer)
{
    if (tconv > 0 && peer > 0)
        printf(" %7.2fx", tconv / peer);
    else
        printf(" %8s", "-");
}

static void print_gflops(double g, int width)
{
    if (g > 0)
        printf(" %*.1f", width, g);
    else
        printf(" %*s", width, "-");
}

static void print_mean(const mean *m)
{
    if (m->n)
        printf(" %7.2fx", mean_of(m));
    else
        printf(" %8s", "-");
}

/* Ratio columns of one pass: torch, onednn, onednn_any, oneDNN's best layout. */
enum { PEER_COLUMNS = 4 };

static double peer_figure(const results *r, const char *name, pass p, int column,
                          const run_info *info)
{
    static const char *const labels[3] = {"torch", "onednn", "onednn_any"};
    return column < 3 ? best_gflops(r, name, labels[column], p, info)
                      : onednn_best(r, name, p, info);
}

static void provider_table(const results *r, const shape *shapes, int n, const run_info *info,
                           tconv_provider prov)
{
    char label[32];
    cell_label(label, sizeof label, "auto", prov, TCONV_LAYOUT_CHANNELS_FIRST);
    const int pt = peak_threads(info);
    const double peak = peak_at(info, pt);
    printf("\n-- provider %s: tconv %s, GFLOP/s and its ratio to each peer (> 1: tconv is "
           "faster)\n", tconv_provider_name(prov), label);
    printf("   %-12s %4s %9s %8s %8s %8s %8s %6s   %9s %8s %8s %8s %8s\n", "shape", "dims",
           "fwd", "/torch", "/onednn", "/any", "/best", "%peak", "fwd+bwd", "/torch",
           "/onednn", "/any", "/best");
    mean two_d[2][PEER_COLUMNS] = {{{0}}}, all[2][PEER_COLUMNS] = {{{0}}};
    for (int i = 0; i < n; ++i) {
        const char *name = shapes[i].name;
        printf("   %-12s %4d", name, shapes[i].g.dims);
        for (int p = 0; p < 2; ++p) {
            const double t = best_gflops(r, name, label, (pass)p, info);
            print_gflops(t, p == PASS_FWD ? 9 : 11);
            for (int k = 0; k < PEER_COLUMNS; ++k) {
                const double peer = peer_figure(r, name, (pass)p, k, info);
                print_ratio(t, peer);
                if (t > 0 && peer > 0) {
                    mean_add(&all[p][k], t / peer);
                    if (shapes[i].g.dims == 2)
                        mean_add(&two_d[p][k], t / peer);
                }
            }
            if (p == PASS_FWD) {
                const double at_pt = cell_gflops(r, name, label, PASS_FWD, pt);
                if (at_pt > 0 && peak > 0)
                    printf(" %5.0f%%", 100 * at_pt / peak);
                else
                    printf(" %6s", "-");
            }
        }
        printf("\n");
    }
    for (int row = 0; row < 2; ++row) {
        printf("   %-27s", row == 0 ? "geomean, 2-D rows" : "geomean, all rows");
        for (int p = 0; p < 2; ++p) {
            printf(p == PASS_FWD ? "" : " %6s   %9s", "", "");
            for (int k = 0; k < PEER_COLUMNS; ++k)
                print_mean(row == 0 ? &two_d[p][k] : &all[p][k]);
        }
        printf("\n");
    }
}

/* The bare GEMM labels of the run, in provider order. */
static int bare_labels(const results *r, const shape *shapes, int n, const run_info *info,
                       char labels[][32], tconv_provider *provs)
{
    int m = 0;
    for (int p = TCONV_PROVIDER_OPENBLAS; p < TCONV_PROVIDER_COUNT; ++p) {
        cell_label(labels[m], 32, "sgemm", (tconv_provider)p, TCONV_LAYOUT_CHANNELS_FIRST);
        bool present = false;
        for (int i = 0; i < n && !present; ++i)
            present = best_gflops(r, shapes[i].name, labels[m], PASS_FWD, info) > 0;
        if (present)
            provs[m++] = (tconv_provider)p;
    }
    return m;
}

static void efficiency_table(const results *r, const shape *shapes, int n,
                             const run_info *info)
{
    char bare[TCONV_PROVIDER_COUNT][32];
    tconv_provider bare_prov[TCONV_PROVIDER_COUNT];
    const int nb = bare_labels(r, shapes, n, info, bare, bare_prov);
    if (nb == 0)
        return;
    printf("\n== GEMM-path efficiency: tconv auto forward / the bare GEMM of the same GEMM "
           "(m x n x k per group, g groups), same provider, same threads; the default "
           "provider against the faster bare GEMM\n");
    printf("   %-12s %-22s", "shape", "GEMM");
    for (int b = 0; b < nb; ++b)
        for (int t = 0; t < info->n_threads; ++t)
            if (t == 0)
                printf(" %15s %2dt", bare[b], info->threads[t]);
            else
                printf(" %5dt", info->threads[t]);
    printf("   efficiency:");
    for (int p = 0; p < info->n_providers; ++p)
        for (int t = 0; t < info->n_threads; ++t)
            if (t == 0)
                printf(" %9s %2dt", tconv_provider_name(info->providers[p]), info->threads[t]);
            else
                printf(" %3dt", info->threads[t]);
    printf("\n");
    for (int i = 0; i < n; ++i) {
        const char *name = shapes[i].name;
        const gemm_view v = gemm_view_of(&shapes[i].g);
        char gemm[48];
        const int len = snprintf(gemm, sizeof gemm, "%lldx%lldx%lld", (long long)v.m,
                                 (long long)v.n, (long long)v.k);
        if (v.groups > 1)
            snprintf(gemm + len, sizeof gemm - (size_t)len, " g%lld", (long long)v.groups);
        printf("   %-12s %-22s", name, gemm);
        for (int b = 0; b < nb; ++b)
            for (int t = 0; t < info->n_threads; ++t)
                print_gflops(cell_gflops(r, name, bare[b], PASS_FWD, info->threads[t]),
                             t == 0 ? 19 : 6);
        printf("              ");
        for (int p = 0; p < info->n_providers; ++p)
            for (int t = 0; t < info->n_threads; ++t) {
                char label[32];
                cell_label(label, sizeof label, "auto", info->providers[p],
                           TCONV_LAYOUT_CHANNELS_FIRST);
                const double a = cell_gflops(r, name, label, PASS_FWD, info->threads[t]);
                const double g = bare_gemm_for(r, name, info->providers[p], info->threads[t]);
                if (a > 0 && g > 0)
                    printf(" %*.0f%%", t == 0 ? 12 : 3, 100 * a / g);
                else
                    printf(" %*s", t == 0 ? 13 : 4, "-");
            }
        printf("\n");
    }
}

static void providers_table(const results *r, const shape *shapes, int n, const run_info *info)
{
    if (info->n_providers < 2)
        return;
    printf("\n== Providers side by side: tconv auto, GFLOP/s (best of the thread counts)\n");
    printf("   %-12s", "shape");
    for (int p = 0; p < 2; ++p) {
        for (int q = 0; q < info->n_providers; ++q) {
            char h[40];
            snprintf(h, sizeof h, "%s %s", pass_name((pass)p),
                     tconv_provider_name(info->providers[q]));
            printf(" %16s", h);
        }
        printf("   ");
    }
    printf("\n");
    for (int i = 0; i < n; ++i) {
        printf("   %-12s", shapes[i].name);
        for (int p = 0; p < 2; ++p) {
            for (int q = 0; q < info->n_providers; ++q) {
                char label[32];
                cell_label(label, sizeof label, "auto", info->providers[q],
                           TCONV_LAYOUT_CHANNELS_FIRST);
                print_gflops(best_gflops(r, shapes[i].name, label, (pass)p, info), 16);
            }
            printf("   ");
        }
        printf("\n");
    }
}

static void scaling_table(const results *r, const shape *shapes, int n, const run_info *info)
{
    bool one = false, two = false;
    for (int t = 0; t < info->n_threads; ++t) {
        one = one || info->threads[t] == 1;
        two = two || info->threads[t] == 2;
    }
    if (!one || !two)
        return;
    char labels[2 * TCONV_PROVIDER_COUNT][32];
    int m = 0;
    for (int p = 0; p < info->n_providers; ++p)
        cell_label(labels[m++], 32, "auto", info->providers[p], TCONV_LAYOUT_CHANNELS_FIRST);
    tconv_provider provs[TCONV_PROVIDER_COUNT];
    m += bare_labels(r, shapes, n, info, labels + m, provs);
    printf("\n== Thread scaling: 2 threads / 1 thread, forward (forward+backward), shapes of "
           ">= 0.5 GFLOP\n   %-12s", "shape");
    for (int k = 0; k < m; ++k)
        printf(" %18s", labels[k]);
    printf("\n");
    for (int i = 0; i < n; ++i) {
        if (shapes[i].flops < 0.5e9)
            continue;
        printf("   %-12s", shapes[i].name);
        for (int k = 0; k < m; ++k) {
            char text[2][16] = {"-", "-"};
            for (int p = 0; p < 2; ++p) {
                const double a1 = cell_gflops(r, shapes[i].name, labels[k], (pass)p, 1);
                const double a2 = cell_gflops(r, shapes[i].name, labels[k], (pass)p, 2);
                if (a1 > 0 && a2 > 0)
                    snprintf(text[p], sizeof text[p], "%.2fx", a2 / a1);
            }
            char both[40];
            snprintf(both, sizeof both, "%s (%s)", text[0], text[1]);
            printf(" %18s", strcmp(text[1], "-") ? both : text[0]);
        }
        printf("\n");
    }
}

/* What a tconv channels-last cell says when the library refused it. */
static bool refused_note(const results *r, const char *shape_name, const char *label,
                         char *note, size_t size)
{
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        if (c->runs == 0 && strcmp(c->shape, shape_name) == 0 && strcmp(c->label, label) == 0) {
            snprintf(note, size, "%s", c->note);
            return true;
        }
    }
    return false;
}

static void layouts_table(const results *r, const shape *shapes, int n, const run_info *info)
{
    bool any = false;
    for (int i = 0; i < r->count && !any; ++i)
        any = strcmp(r->cells[i].layout, "nhwc") == 0 && r->cells[i].layer == shapes[0].g.layer;
    if (!any)
        return;
    const char *nhwc_peer = onednn_label(ONEDNN_NHWC);
    printf("\n== Layouts: tconv auto channels-last (auto:nhwc) against channels-first (auto), "
           "and against oneDNN on nhwc memory, GFLOP/s, best of the thread counts\n");
    printf("   %-12s", "shape");
    for (int p = 0; p < 2; ++p)
        printf(" %9s %11s %9s %11s %8s  ", p == PASS_FWD ? "fwd nchw" : "f+b nchw", "nhwc",
               "nhwc/nchw", "onednn_nhwc", "/onednn");
    printf("\n");
    mean m[2][2] = {{{0}}};
    for (int i = 0; i < n; ++i) {
        const char *name = shapes[i].name;
        printf("   %-12s", name);
        char note[24];
        const bool refused = refused_note(r, name, "auto:nhwc", note, sizeof note);
        for (int p = 0; p < 2; ++p) {
            const double first = best_gflops(r, name, "auto", (pass)p, info);
            const double last = best_gflops(r, name, "auto:nhwc", (pass)p, info);
            const double peer = best_gflops(r, name, nhwc_peer, (pass)p, info);
            print_gflops(first, 9);
            if (refused && last == 0)
                printf(" %11.11s", note);
            else
                print_gflops(last, 11);
            print_ratio(last, first);
            print_gflops(peer, 11);
            print_ratio(last, peer);
            printf("  ");
            if (shapes[i].g.dims == 2) {
                if (last > 0 && first > 0)
                    mean_add(&m[p][0], last / first);
                if (last > 0 && peer > 0)
                    mean_add(&m[p][1], last / peer);
            }
        }
        printf("\n");
    }
    printf("   %-12s", "geomean 2-D");
    for (int p = 0; p < 2; ++p) {
        printf(" %9s %11s", "", "");
        print_mean(&m[p][0]);
        printf(" %11s", "");
        print_mean(&m[p][1]);
        printf("  ");
    }
    printf("\n");
}

void report_summary(const results *r, const shape *shapes, int n, const run_info *info)
{
    if (n == 0)
        return;
    const bool conv = shapes[0].g.layer == TCONV_LAYER_CONV;
    printf("\n== Summary of the %s suite: float32, best of the thread counts for each side\n"
           "   %s\n", conv ? "convolution" : "transposed-convolution", info->env);
    printf("   FMA peak (%s):", info->peak_isa);
    for (int t = 0; t < info->n_threads; ++t)
        printf(" %.1f GFLOP/s at %dt%s", info->peak[t], info->threads[t],
               t + 1 < info->n_threads ? "," : "");
    printf(" (best of %d); %%peak: tconv forward at %dt / the peak at %dt\n",
           info->peak_measurements, peak_threads(info), peak_threads(info));
    printf("   onednn: plain NCHW memory; any: the layout oneDNN picks; best: the faster of "
           "the two; reorders not timed; fwd+bwd onednn: forward + backward-data + "
           "backward-weights\n");
    for (int p = 0; p < info->n_providers; ++p)
        provider_table(r, shapes, n, info, info->providers[p]);
    providers_table(r, shapes, n, info);
    efficiency_table(r, shapes, n, info);
    scaling_table(r, shapes, n, info);
    layouts_table(r, shapes, n, info);
    report_targets(r, shapes, n, info);
}
