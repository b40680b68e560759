/*
 * The targets of the performance issues, each printed met or missed with the figure this
 * run measured: issues 4 (the first benchmark), 10 (GEMM providers) and 12 (channels-last)
 * on the transposed suite, issue 11 (convolution layers) on the conv suite. Unless a
 * target says otherwise: float32, the suite's 2-D rows, tconv auto with the default
 * provider, the best of the thread counts for each side.
 */
#include "bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A side of a comparison that is not one label: oneDNN's faster layout. */
static const char *const ONEDNN_BEST = "onednn best layout";

static double side(const results *r, const char *name, const char *label, pass p,
                   const run_info *info)
{
    return strcmp(label, ONEDNN_BEST) == 0 ? onednn_best(r, name, p, info)
                                           : best_gflops(r, name, label, p, info);
}

/* num / den over the 2-D rows: the geomean over all of them, the lowest over those of at
 * least min_gflop. */
typedef struct comparison {
    mean geo;
    double lowest;
    char lowest_at[32];
} comparison;

static comparison compare(const results *rn, const char *num, const results *rd,
                          const char *den, const shape *shapes, int n, pass p,
                          double min_gflop, const run_info *info)
{
    comparison c = {{0}, INFINITY, "-"};
    for (int i = 0; i < n; ++i) {
        if (shapes[i].g.dims != 2)
            continue;
        const double a = side(rn, shapes[i].name, num, p, info);
        const double b = side(rd, shapes[i].name, den, p, info);
        if (a <= 0 || b <= 0)
            continue;
        mean_add(&c.geo, a / b);
        if (shapes[i].flops >= min_gflop * 1e9 && a / b < c.lowest) {
            c.lowest = a / b;
            snprintf(c.lowest_at, sizeof c.lowest_at, "%s", shapes[i].name);
        }
    }
    return c;
}

/* The figure of a target line, or "-" when the run has none. */
__attribute__((format(printf, 4, 5))) static void figure(char *buf, size_t size, bool have,
                                                      const char *fmt, ...)
{
    if (!have) {
        snprintf(buf, size, "-");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static const char *verdict(bool applies, bool met)
{
    return !applies ? "[n/a ]" : met ? "[met ]" : "[MISS]";
}

/* One target line: the verdict, what is asked, the figure. */
static void line(bool applies, bool met, const char *what, const char *figure)
{
    printf("   %s %-76s %s\n", verdict(applies, met), what, figure);
}

static void geomean_line(const comparison *c, double target, const char *what)
{
    char fig[64];
    figure(fig, sizeof fig, c->geo.n > 0, "%.2fx (%d rows)", mean_of(&c->geo), c->geo.n);
    line(c->geo.n > 0, mean_of(&c->geo) >= target, what, fig);
}

static void lowest_line(const comparison *c, double target, const char *what)
{
    char fig[64];
    figure(fig, sizeof fig, isfinite(c->lowest), "lowest %.2fx (%s)", c->lowest, c->lowest_at);
    line(isfinite(c->lowest), c->lowest >= target, what, fig);
}

/* 2 threads / 1 thread of tconv auto forward over the shapes of >= 0.5 GFLOP. */
static void scaling_line(const results *r, const shape *shapes, int n, bool two_d_only,
                         const char *what)
{
    double lowest = INFINITY;
    char at[32] = "-";
    for (int i = 0; i < n; ++i) {
        if (shapes[i].flops < 0.5e9 || (two_d_only && shapes[i].g.dims != 2))
            continue;
        const double a1 = cell_gflops(r, shapes[i].name, "auto", PASS_FWD, 1);
        const double a2 = cell_gflops(r, shapes[i].name, "auto", PASS_FWD, 2);
        if (a1 > 0 && a2 > 0 && a2 / a1 < lowest) {
            lowest = a2 / a1;
            snprintf(at, sizeof at, "%s", shapes[i].name);
        }
    }
    char fig[64];
    figure(fig, sizeof fig, isfinite(lowest), "lowest %.2fx (%s)", lowest, at);
    line(isfinite(lowest), lowest >= 1.8, what, fig);
}

/* The tconv auto forward of `prov` / its bare GEMM, every thread count, the 2-D rows of at
 * least min_gflop; returns the lowest and counts the cells at or over `target`. */
static double efficiency(const results *r, const shape *shapes, int n, tconv_provider prov,
                         double min_gflop, double target, const run_info *info, int *met,
                         int *cells, char *at, size_t at_size)
{
    char label[32];
    cell_label(label, sizeof label, "auto", prov, TCONV_LAYOUT_CHANNELS_FIRST);
    double lowest = INFINITY;
    *met = *cells = 0;
    snprintf(at, at_size, "-");
    for (int i = 0; i < n; ++i) {
        if (shapes[i].g.dims != 2 || shapes[i].flops < min_gflop * 1e9)
            continue;
        for (int t = 0; t < info->n_threads; ++t) {
            const double a = cell_gflops(r, shapes[i].name, label, PASS_FWD, info->threads[t]);
            const double g = bare_gemm_for(r, shapes[i].name, prov, info->threads[t]);
            if (a <= 0 || g <= 0)
                continue;
            ++*cells;
            *met += a / g >= target;
            if (a / g < lowest) {
                lowest = a / g;
                snprintf(at, at_size, "%s at %dt", shapes[i].name, info->threads[t]);
            }
        }
    }
    return lowest;
}

static void workspace_lines(const results *r, tconv_layer layer, const run_info *info)
{
    int64_t most_ws = -1, most_rss = -1;
    char most_ws_at[96] = "-", most_rss_at[96] = "-";
    bool ws_ok = true;
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        if (c->layer != layer || c->runs == 0)
            continue;
        const bool production = strncmp(c->label, "auto", 4) == 0 ||
                                strncmp(c->label, "gemm", 4) == 0 ||
                                strncmp(c->label, "phase", 5) == 0;
        if (production && c->workspace_bytes > most_ws) {
            most_ws = c->workspace_bytes;
            snprintf(most_ws_at, sizeof most_ws_at, "%s %s %s", c->shape, c->label,
                     pass_name(c->pass));
        }
        if (production && c->workspace_bytes > (int64_t)info->workspace_limit + 64)
            ws_ok = false;
        if (c->peak_rss_bytes > most_rss) {
            most_rss = c->peak_rss_bytes;
            snprintf(most_rss_at, sizeof most_rss_at, "%s %s %s %dt", c->shape, c->label,
                     pass_name(c->pass), c->threads);
        }
    }
    char a[32], b[32], what[96], fig[160];
    snprintf(what, sizeof what, "workspace of gemm/phase/auto <= the bound (%s)",
             mib((int64_t)info->workspace_limit, a, sizeof a));
    figure(fig, sizeof fig, most_ws >= 0, "largest %s (%s)", mib(most_ws, b, sizeof b), most_ws_at);
    line(most_ws >= 0, ws_ok, what, fig);
    printf("          peak RSS of any cell: %s (%s)\n", mib(most_rss, a, sizeof a), most_rss_at);
}

/* Shapes issue 4's 250 GFLOP/s target names. */
static bool fast_target_shape(const char *name)
{
    const char *names[] = {"dcgan_2", "dcgan_3", "dcgan_4", "unet_1", "stride1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static void issue4(const results *r, const shape *shapes, int n, const run_info *info)
{
    const comparison torch = compare(r, "auto", r, "torch", shapes, n, PASS_FWD, 0, info);
    const comparison dnnl = compare(r, "auto", r, "onednn", shapes, n, PASS_FWD, 0, info);
    const comparison any = compare(r, "auto", r, "onednn_any", shapes, n, PASS_FWD, 0, info);
    const comparison fb = compare(r, "auto", r, "onednn", shapes, n, PASS_FWDBWD, 0, info);
    printf("\n== Targets of issue 4 (geometric means; %s)\n",
           info->avx512 ? "AVX-512 BLAS"
                        : "OpenBLAS without AVX-512 kernels: the AVX-512 targets do not apply");
    geomean_line(&torch, 2, "forward, auto >= 2x PyTorch");
    geomean_line(&dnnl, 1, "forward, auto >= 1.0x oneDNN NCHW");
    geomean_line(&fb, 1, "forward+backward, auto >= 1.0x oneDNN's three");
    char fig[96];
    figure(fig, sizeof fig, dnnl.geo.n > 0, "%.2fx", mean_of(&dnnl.geo));
    line(info->avx512 && dnnl.geo.n, mean_of(&dnnl.geo) >= 1.2,
         "AVX-512: forward >= 1.2x oneDNN NCHW", fig);
    figure(fig, sizeof fig, any.geo.n > 0, "%.2fx", mean_of(&any.geo));
    line(info->avx512 && any.geo.n, mean_of(&any.geo) >= 1, "AVX-512: forward >= 1.0x oneDNN any",
         fig);
    double slowest = INFINITY, dw_ratio = NAN;
    char slowest_at[32] = "-";
    for (int i = 0; i < n; ++i) {
        const char *name = shapes[i].name;
        const double a2 = cell_gflops(r, name, "auto", PASS_FWD, 2);
        if (fast_target_shape(name) && a2 > 0 && a2 < slowest) {
            slowest = a2;
            snprintf(slowest_at, sizeof slowest_at, "%s", name);
        }
        if (strcmp(name, "fcn_x8_dw") == 0) {
            const double a = best_gflops(r, name, "auto", PASS_FWD, info);
            const double o = best_gflops(r, name, "onednn", PASS_FWD, info);
            dw_ratio = a > 0 && o > 0 ? a / o : NAN;
        }
    }
    figure(fig, sizeof fig, isfinite(slowest), "lowest %.1f (%s)", slowest, slowest_at);
    line(info->avx512 && isfinite(slowest), slowest >= 250,
         "AVX-512: >= 250 GFLOP/s at 2t, dcgan_2..4 unet_1 stride1", fig);
    int met, cells;
    char at[48];
    const double eff = efficiency(r, shapes, n, TCONV_PROVIDER_DEFAULT, 0, 0.85, info, &met,
                                  &cells, at, sizeof at);
    figure(fig, sizeof fig, cells > 0, "%d of %d cells; lowest %.0f%% (%s)", met, cells,
           100 * eff, at);
    line(cells > 0, met == cells, "GEMM efficiency >= 85% of the faster bare GEMM", fig);
    scaling_line(r, shapes, n, false,
                 "1 -> 2 threads >= 1.8x on shapes of >= 0.5 GFLOP (all dims)");
    figure(fig, sizeof fig, isfinite(dw_ratio), "%.1fx", dw_ratio);
    line(isfinite(dw_ratio), dw_ratio >= 10, "fcn_x8_dw forward >= 10x oneDNN NCHW", fig);
    workspace_lines(r, TCONV_LAYER_CONVT, info);
}

static void issue10(const results *r, const shape *shapes, int n, const run_info *info)
{
    printf("\n== Targets of issue 10 (GEMM providers; oneDNN best layout = the faster of its "
           "plain and any runs)\n");
    const comparison f = compare(r, "auto", r, ONEDNN_BEST, shapes, n, PASS_FWD, 0.1, info);
    const comparison fb = compare(r, "auto", r, ONEDNN_BEST, shapes, n, PASS_FWDBWD, 0.1, info);
    lowest_line(&f, 1.15, "forward >= 1.15x oneDNN best layout, every shape >= 0.1 GFLOP");
    geomean_line(&f, 2.0, "forward >= 2.0x oneDNN best layout, geomean");
    lowest_line(&fb, 0.95,
                "fwd+bwd >= 0.95x oneDNN's three (best layout), every shape >= 0.1 GFLOP");
    geomean_line(&fb, 1.4, "fwd+bwd >= 1.4x oneDNN's three (best layout), geomean");

    const int pt = peak_threads(info);
    const double peak = peak_at(info, pt);
    double lowest = INFINITY;
    char at[48] = "-", what[96], fig[128];
    for (int i = 0; i < n; ++i) {
        const double a = cell_gflops(r, shapes[i].name, "auto", PASS_FWD, pt);
        if (shapes[i].g.dims == 2 && shapes[i].flops >= 1e9 && a > 0 && peak > 0 &&
            a / peak < lowest) {
            lowest = a / peak;
            snprintf(at, sizeof at, "%s", shapes[i].name);
        }
    }
    snprintf(what, sizeof what, "forward at %dt >= 80%% of the FMA peak (%.0f GFLOP/s), every "
             "shape >= 1 GFLOP", pt, peak);
    figure(fig, sizeof fig, isfinite(lowest), "lowest %.0f%% (%s)", 100 * lowest, at);
    line(isfinite(lowest) && pt == 2, lowest >= 0.8, what, fig);

    for (int p = 0; p < info->n_providers; ++p) {
        const tconv_provider prov = info->providers[p];
        int met, cells;
        const double eff = efficiency(r, shapes, n, prov, 0.5, 0.9, info, &met, &cells, at,
                                      sizeof at);
        snprintf(what, sizeof what, "GEMM-path efficiency >= 90%%, shapes >= 0.5 GFLOP, %s%s",
                 tconv_provider_name(prov),
                 prov == TCONV_PROVIDER_DEFAULT ? " (vs the faster bare GEMM)" : "");
        figure(fig, sizeof fig, cells > 0, "%d of %d cells; lowest %.0f%% (%s)", met, cells,
               100 * eff, at);
        line(cells > 0, met == cells, what, fig);
    }
    /* "slower" within the run-to-run noise of a shared machine: 5% */
    for (int p = 0; p < 2; ++p) {
        const comparison d = compare(r, "auto", r, "auto@openblas", shapes, n, (pass)p, 0, info);
        snprintf(what, sizeof what, "%s: no shape slower with the default than with openblas "
                 "(>= 0.95x)", pass_name((pass)p));
        lowest_line(&d, 0.95, what);
    }
    if (!info->baseline) {
        line(false, false, "openblas: nothing slower than before (needs --baseline CSV)", "-");
        return;
    }
    /* the baseline's openblas: its auto@openblas, or its auto from before the providers */
    bool labelled = false;
    for (int i = 0; i < info->baseline->count && !labelled; ++i)
        labelled = strcmp(info->baseline->cells[i].label, "auto@openblas") == 0;
    for (int p = 0; p < 2; ++p) {
        const comparison b = compare(r, "auto@openblas", info->baseline,
                                     labelled ? "auto@openblas" : "auto", shapes, n, (pass)p, 0,
                                     info);
        snprintf(what, sizeof what, "%s, openblas: no shape slower than the baseline (>= 0.95x)",
                 pass_name((pass)p));
        lowest_line(&b, 0.95, what);
    }
    printf("          baseline: %s\n", info->baseline_path);
}

/* Whether the library ran any channels-last cell of this suite, and why not. */
static bool channels_last_ran(const results *r, tconv_layer layer, char *why, size_t size)
{
    snprintf(why, size, "no channels-last cells in this run");
    bool refused = false;
    for (int i = 0; i < r->count; ++i) {
        const cell *c = &r->cells[i];
        if (c->layer != layer || strcmp(c->layout, "nhwc") != 0 || strchr(c->label, ':') == NULL)
            continue;
        if (c->runs > 0)
            return true;
        if (!refused)
            snprintf(why, size, "tconv refused channels-last: %s", c->note);
        refused = true;
    }
    return false;
}

static void issue12(const results *r, const shape *shapes, int n, const run_info *info)
{
    printf("\n== Targets of issue 12 (channels-last: tconv auto:nhwc)\n");
    char why[96];
    const bool ran = channels_last_ran(r, TCONV_LAYER_CONVT, why, sizeof why);
    if (!ran)
        printf("   (%s)\n", why);
    for (int p = 0; p < 2; ++p) {
        char what[96];
        const comparison c = compare(r, "auto:nhwc", r, "auto", shapes, n, (pass)p, 0.1, info);
        snprintf(what, sizeof what, "%s: channels-last >= 1.05x channels-first, geomean",
                 pass_name((pass)p));
        geomean_line(&c, 1.05, what);
        snprintf(what, sizeof what, "%s: channels-last >= 0.9x channels-first, every shape "
                 ">= 0.1 GFLOP", pass_name((pass)p));
        lowest_line(&c, 0.9, what);
    }
    const char *peer = onednn_label(ONEDNN_NHWC);
    const comparison f = compare(r, "auto:nhwc", r, peer, shapes, n, PASS_FWD, 0, info);
    const comparison fb = compare(r, "auto:nhwc", r, peer, shapes, n, PASS_FWDBWD, 0, info);
    geomean_line(&f, 1.3, "forward: channels-last >= 1.3x oneDNN deconvolution on nhwc, geomean");
    geomean_line(&fb, 1.0, "fwd+bwd: channels-last >= 1.0x oneDNN's three on nhwc, geomean");
}

static void issue11(const results *r, const shape *shapes, int n, const run_info *info)
{
    printf("\n== Targets of issue 11 (convolution layers)\n");
    const comparison tf = compare(r, "auto", r, "torch", shapes, n, PASS_FWD, 0.1, info);
    const comparison tfb = compare(r, "auto", r, "torch", shapes, n, PASS_FWDBWD, 0.1, info);
    geomean_line(&tf, 1.2, "forward >= 1.2x PyTorch conv2d, geomean");
    geomean_line(&tfb, 1.1, "fwd+bwd >= 1.1x PyTorch conv2d, geomean");
    lowest_line(&tf, 1.0, "forward >= 1.0x PyTorch, every shape >= 0.1 GFLOP");
    lowest_line(&tfb, 1.0, "fwd+bwd >= 1.0x PyTorch, every shape >= 0.1 GFLOP");
    const comparison bf = compare(r, "auto", r, ONEDNN_BEST, shapes, n, PASS_FWD, 0, info);
    const comparison bfb = compare(r, "auto", r, ONEDNN_BEST, shapes, n, PASS_FWDBWD, 0, info);
    const comparison nf = compare(r, "auto", r, "onednn", shapes, n, PASS_FWD, 0, info);
    geomean_line(&bf, 1.0, "forward >= 1.0x oneDNN convolution, best layout, geomean");
    geomean_line(&bfb, 0.9, "fwd+bwd >= 0.9x oneDNN's three, best layout, geomean");
    geomean_line(&nf, 1.2, "forward >= 1.2x oneDNN convolution NCHW, geomean");
    scaling_line(r, shapes, n, true, "1 -> 2 threads >= 1.8x, every shape >= 0.5 GFLOP");
    workspace_lines(r, TCONV_LAYER_CONV, info);
    char why[96];
    if (!channels_last_ran(r, TCONV_LAYER_CONV, why, sizeof why))
        printf("   (channels-last: %s)\n", why);
}

void report_targets(const results *r, const shape *shapes, int n, const run_info *info)
{
    if (n == 0)
        return;
    if (shapes[0].g.layer == TCONV_LAYER_CONV) {
        issue11(r, shapes, n, info);
        return;
    }
    issue4(r, shapes, n, info);
    issue10(r, shapes, n, info);
    issue12(r, shapes, n, info);
}
