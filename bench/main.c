/*
 * tconv_bench: float32, two suites in one run, the transposed one first: every shape of
 * bench/shapes.csv (transposed convolutions) and of bench/conv_shapes.csv (convolutions),
 * by every tconv algorithm per GEMM provider and activation layout, and by the peers in
 * the same run: PyTorch (a Python child), oneDNN (its C API, on plain, blocked and
 * channels-last memory) and the bare GEMM of each provider of the same GEMM. The FMA peak
 * is measured at the start. Per cell (shape x algorithm x provider x layout x pass x
 * threads): warm-up, then the median of repeated runs within a time budget, in two passes
 * over the suite (--passes), each cell keeping its faster one: on a shared machine a
 * neighbour that takes a core for a cell's whole budget doubled its time, and the second
 * pass comes minutes later. Every cell's results are checked against tconv's NCHW auto
 * (the peers' once per shape and pass).
 *
 *   tconv_bench [--quick] [--suite transposed,conv] [--filter a,b] [--algo a,b]
 *               [--gemm default,openblas,onednn] [--layout nchw,nhwc] [--threads 1,2]
 *               [--pass fwd,fwd+bwd] [--budget S] [--passes N] [--csv FILE] [--svg DIR]
 *               [--shapes FILE] [--conv-shapes FILE] [--baseline CSV]
 *               [--workspace-limit BYTES] [--no-peers] [--no-family]
 *
 * Tables and summaries on stdout, progress on stderr.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TCONV_BENCH_DIR
#define TCONV_BENCH_DIR "bench"
#endif

/* The tconv algorithms asked for by default; those this build lacks are skipped. */
static const char *const default_algos = "auto,gemm,phase,dense,sparse,scatter,gather";
static const char *const default_providers = "default,openblas,onednn";

/* Says how to call the bench; false, for the parser to return. */
static bool usage(void)
{
    fprintf(stderr,
            "usage: tconv_bench [options]\n"
            "  --quick              short budgets; reference loops on small shapes and one\n"
            "                       thread count only; all algorithms for the first provider\n"
            "                       in the first layout, auto only for the other providers\n"
            "                       and the other layout\n"
            "  --suite a,b          transposed (%s/shapes.csv) and/or conv\n"
            "                       (%s/conv_shapes.csv); default both, transposed first\n"
            "  --filter a,b         shapes whose name contains one of these\n"
            "  --algo a,b           tconv algorithms (default %s);\n"
            "                       peers: torch, onednn, onednn_any, onednn_nhwc, sgemm\n"
            "  --gemm a,b           GEMM providers of the tconv cells (default %s,\n"
            "                       those this build has); cells of a provider other than\n"
            "                       the default are labelled algo@provider\n"
            "  --layout a,b         activation layouts nchw (channels-first) and/or nhwc\n"
            "                       (channels-last; cells labelled algo:nhwc); default both\n"
            "  --threads 1,2        thread counts (default 1,2)\n"
            "  --pass fwd,fwd+bwd   passes (default both)\n"
            "  --budget S           seconds of measured runs per cell (default 1, quick 0.1)\n"
            "  --passes N           passes over each suite's cells, each cell keeping its\n"
            "                       fastest (default 2)\n"
            "  --csv FILE           write every cell as CSV\n"
            "  --svg DIR            write the plots (gnuplot) into DIR\n"
            "  --shapes FILE        the transposed suite's shapes\n"
            "  --conv-shapes FILE   the conv suite's shapes\n"
            "  --baseline CSV       an earlier run's CSV: the openblas provider against it\n"
            "  --workspace-limit B  tconv_options.workspace_limit (default 0: the library's)\n"
            "  --reference-gflop G  the reference algorithms on shapes of at most G GFLOP\n"
            "                       (default 2, quick 0.05); scatter and gather, which\n"
            "                       have no threads, at the first thread count only\n"
            "  --no-peers           tconv and the bare GEMMs only\n"
            "  --no-family          skip the map-size family\n",
            TCONV_BENCH_DIR, TCONV_BENCH_DIR, default_algos, default_providers);
    return false;
}

/* Whether `name` contains one of the comma-separated items of `list`. */
static bool matches(const char *list, const char *name)
{
    if (!list)
        return true;
    char item[64];
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        if (len && strstr(name, item))
            return true;
        p += len + (end != NULL);
    }
    return false;
}

/* The providers of a comma-separated list this build has; false for an unknown name. */
static bool parse_providers(const char *list, bool asked, config *c)
{
    c->n_providers = 0;
    char item[32];
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        p += len + (end != NULL);
        tconv_provider prov;
        if (tconv_provider_from_name(item, &prov) != TCONV_OK) {
            fprintf(stderr, "tconv_bench: --gemm %s: not a GEMM provider\n", item);
            return false;
        }
        if (!tconv_provider_available(prov, TCONV_F32)) {
            if (asked) /* the default list names what a full build has */
                fprintf(stderr, "tconv_bench: this build has no %s provider: skipped\n", item);
            continue;
        }
        bool seen = false;
        for (int i = 0; i < c->n_providers; ++i)
            seen = seen || c->providers[i] == prov;
        if (!seen && c->n_providers < TCONV_PROVIDER_COUNT)
            c->providers[c->n_providers++] = prov;
    }
    return c->n_providers > 0;
}

/* Which of two choices a comma-separated list names, into out[0] and out[1] (the second
 * may have an alias); false when it names neither. */
static bool pick(const char *list, const char *first, const char *second, const char *alias,
                 bool out[2])
{
    out[0] = listed(list, first);
    out[1] = listed(list, second) || (alias && listed(list, alias));
    return out[0] || out[1];
}

static bool parse(int argc, char **argv, config *c)
{
    memset(c, 0, sizeof *c);
    c->peers = c->family = true;
    c->shapes = TCONV_BENCH_DIR "/shapes.csv";
    c->conv_shapes = TCONV_BENCH_DIR "/conv_shapes.csv";
    c->algos = NULL;
    c->suite[TCONV_LAYER_CONVT] = c->suite[TCONV_LAYER_CONV] = true;
    c->layout[TCONV_LAYOUT_CHANNELS_FIRST] = c->layout[TCONV_LAYOUT_CHANNELS_LAST] = true;
    c->threads[0] = 1, c->threads[1] = 2, c->n_threads = 2;
    c->pass[PASS_FWD] = c->pass[PASS_FWDBWD] = true;
    c->passes = 2;
    const char *providers = NULL;
    double budget_s = -1, reference_gflop = -1;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0)
            c->quick = true;
        else if (strcmp(a, "--no-peers") == 0)
            c->peers = false;
        else if (strcmp(a, "--no-family") == 0)
            c->family = false;
        else if (v && strcmp(a, "--filter") == 0)
            c->filter = argv[++i];
        else if (v && strcmp(a, "--algo") == 0)
            c->algos = argv[++i];
        else if (v && strcmp(a, "--gemm") == 0)
            providers = argv[++i];
        else if (v && strcmp(a, "--csv") == 0)
            c->csv = argv[++i];
        else if (v && strcmp(a, "--svg") == 0)
            c->svg = argv[++i];
        else if (v && strcmp(a, "--shapes") == 0)
            c->shapes = argv[++i];
        else if (v && strcmp(a, "--conv-shapes") == 0)
            c->conv_shapes = argv[++i];
        else if (v && strcmp(a, "--baseline") == 0)
            c->baseline = argv[++i];
        else if (v && strcmp(a, "--budget") == 0)
            budget_s = atof(argv[++i]);
        else if (v && strcmp(a, "--passes") == 0) {
            c->passes = atoi(argv[++i]);
            if (c->passes < 1 || c->passes > 9)
                return usage();
        }
        else if (v && strcmp(a, "--workspace-limit") == 0)
            c->workspace_limit = (size_t)strtoull(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--reference-gflop") == 0)
            reference_gflop = atof(argv[++i]);
        else if (v && strcmp(a, "--suite") == 0) {
            if (!pick(argv[++i], "conv", "transposed", "convt", c->suite))
                return usage();
        } else if (v && strcmp(a, "--layout") == 0) {
            if (!pick(argv[++i], "nchw", "nhwc", NULL, c->layout))
                return usage();
        } else if (v && strcmp(a, "--pass") == 0) {
            if (!pick(argv[++i], "fwd", "fwd+bwd", "fwdbwd", c->pass))
                return usage();
        } else if (v && strcmp(a, "--threads") == 0) {
            ++i;
            c->n_threads = 0;
            for (const char *p = v; *p && c->n_threads < 8;) {
                const int t = atoi(p);
                if (t < 1)
                    return false;
                c->threads[c->n_threads++] = t;
                p = strchr(p, ',');
                if (!p)
                    break;
                ++p;
            }
        } else {
            return usage();
        }
    }
    if (!parse_providers(providers ? providers : default_providers, providers != NULL, c))
        return false;
    c->b.seconds = budget_s > 0 ? budget_s : c->quick ? 0.1 : 1.0;
    c->b.min_runs = 3;
    c->b.max_runs = 10000;
    c->b.warmup_s = c->quick ? 0.02 : 0.1;
    /* the whole transposed suite (its largest row is 1.85 GFLOP), the conv suite but VGG */
    c->reference_gflop = reference_gflop >= 0 ? reference_gflop : c->quick ? 0.05 : 2.0;
    c->family_cap_s = c->quick ? 0.5 : 5;
    c->every_row = c->algos == NULL;
    if (!c->algos)
        c->algos = default_algos;
    return c->n_threads > 0;
}

/* ---- one shape, one suite ------------------------------------------------------------- */

/* tconv's own results, the yardstick of every other cell (auto, default options, NCHW). */
static void reference_results(const shape *s, const tensors *t, tensors *ref)
{
    const tconv_geometry *g = &s->g;
    if (g->layer == TCONV_LAYER_CONV) {
        tconv_conv_forward(g, TCONV_ALGO_AUTO, TCONV_F32, t->in, t->weight, t->bias, ref->out);
        tconv_conv_backward(g, TCONV_ALGO_AUTO, TCONV_F32, t->in, t->weight, t->grad_out,
                            ref->grad_in, ref->grad_weight, ref->grad_bias);
    } else {
        tconv_convt_forward(g, TCONV_ALGO_AUTO, TCONV_F32, t->in, t->weight, t->bias, ref->out);
        tconv_convt_backward(g, TCONV_ALGO_AUTO, TCONV_F32, t->in, t->weight, t->grad_out,
                             ref->grad_in, ref->grad_weight, ref->grad_bias);
    }
}

static void bench_shape(results *r, const shape *s, const config *c, bool torch_ok,
                        progress *pr)
{
    tensors t = tensors_new(&s->g, true, 42);
    tensors ref = tensors_new(&s->g, false, 7);
    reference_results(s, &t, &ref);
    tconv_cells(r, s, &t, &ref, c, pr);
    gemm_cells(r, s, &t, c, pr);
    peer_cells(r, s, &t, &ref, c, torch_ok, pr);
    tensors_free(&t);
    tensors_free(&ref);
}

typedef struct suite {
    tconv_layer layer;
    const char *path;
    shape *shapes;
    int n;
} suite;

/* Reads a suite's file and keeps the shapes --filter names. */
static bool suite_read(suite *su, tconv_layer layer, const char *path, const char *filter)
{
    su->layer = layer;
    su->path = path;
    su->shapes = NULL;
    const int n_all = shapes_read(path, layer, &su->shapes);
    if (n_all < 0)
        return false;
    su->n = 0;
    for (int i = 0; i < n_all; ++i)
        if (matches(filter, su->shapes[i].name))
            su->shapes[su->n++] = su->shapes[i];
    return true;
}

/* Cells are found by shape name: the suites must not share one. */
static bool names_distinct(const suite *a, const suite *b)
{
    for (int i = 0; i < a->n; ++i)
        for (int j = 0; j < b->n; ++j)
            if (strcmp(a->shapes[i].name, b->shapes[j].name) == 0) {
                fprintf(stderr, "tconv_bench: shape %s is in both %s and %s\n",
                        a->shapes[i].name, a->path, b->path);
                return false;
            }
    return true;
}

/* The FMA peak per thread count: the best of the measurements so far (at the start and
 * after each suite), so that a busy moment of a shared machine costs one measurement. */
static void measure_peak(run_info *info, const config *c)
{
    for (int i = 0; i < c->n_threads; ++i) {
        const double g = fma_peak_gflops(c->threads[i], &info->peak_isa);
        info->peak[i] = g > info->peak[i] ? g : info->peak[i];
    }
    ++info->peak_measurements;
}

static void run_suite(const suite *su, results *r, run_info *info, const config *c,
                      const char *torch_note, bool torch_ok, progress *pr)
{
    printf("\n=== Suite %s: %s, %d shapes (%s)\n", suite_name(su->layer), su->path, su->n,
           su->layer == TCONV_LAYER_CONV ? "convolution: tconv_conv_forward_ex / _backward_ex"
                                         : "transposed convolution: tconv_convt_forward_ex / "
                                           "_backward_ex");
    for (int i = 0; i < su->n; ++i) {
        bench_shape(r, &su->shapes[i], c, torch_ok, pr);
        if (c->passes == 1)
            report_shape(r, &su->shapes[i], info);
    }
    for (int p = 1; p < c->passes; ++p)
        for (int i = 0; i < su->n; ++i) {
            results again = {0};
            bench_shape(&again, &su->shapes[i], c, torch_ok, pr);
            results_keep_faster(r, &again);
            free(again.cells);
        }
    for (int i = 0; c->passes > 1 && i < su->n; ++i)
        report_shape(r, &su->shapes[i], info);
    shape family[8];
    int n_family = 0;
    if (su->layer == TCONV_LAYER_CONVT && c->family)
        n_family = family_cells(r, family, c, pr);
    measure_peak(info, c);
    describe_run(c, info, torch_note); /* the load now */
    report_summary(r, su->shapes, su->n, info);
    if (n_family)
        report_family(r, family, n_family);
    if (c->svg)
        report_plots(r, su->shapes, su->n, family, n_family, c->svg, info);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    config c;
    if (!parse(argc, argv, &c))
        return 2;
    suite suites[2];
    int n_suites = 0;
    const tconv_layer order[2] = {TCONV_LAYER_CONVT, TCONV_LAYER_CONV}; /* transposed first */
    for (int i = 0; i < 2; ++i) {
        if (!c.suite[order[i]])
            continue;
        if (!suite_read(&suites[n_suites], order[i],
                        order[i] == TCONV_LAYER_CONV ? c.conv_shapes : c.shapes, c.filter))
            return 1;
        ++n_suites;
    }
    if (n_suites == 2 && !names_distinct(&suites[0], &suites[1]))
        return 1;
    results baseline = {0};
    if (c.baseline && !results_read_csv(&baseline, c.baseline))
        return 1;

    char torch_note[256] = "PyTorch not asked for";
    bool torch_ok = false;
    if (c.peers) {
        char why[200] = "";
        torch_ok = torch_start(TCONV_BENCH_DIR "/torch_peer.py", why, sizeof why);
        snprintf(torch_note, sizeof torch_note, "%s", torch_ok ? torch_version() : why);
        if (!torch_ok)
            fprintf(stderr, "tconv_bench: PyTorch peer unavailable: %s\n", why);
    }
    run_info info;
    memset(&info, 0, sizeof info);
    measure_peak(&info, &c);
    info.baseline = c.baseline ? &baseline : NULL;
    info.baseline_path = c.baseline;
    describe_run(&c, &info, torch_note);
    printf("%s\n", info.header);

    results r = {0};
    progress pr = {0, now_seconds()};
    for (int i = 0; i < n_suites; ++i)
        run_suite(&suites[i], &r, &info, &c, torch_note, torch_ok, &pr);
    if (torch_ok)
        torch_stop();
    describe_run(&c, &info, torch_note);
    if (c.csv && report_csv(&r, c.csv, &info))
        printf("\nCSV: %s\n", c.csv);
    printf("\n%d cells in %.0f s (%d measurements in %d passes); %s\n", r.count,
           now_seconds() - pr.start, pr.done, c.passes, info.env);
    for (int i = 0; i < n_suites; ++i)
        free(suites[i].shapes);
    free(r.cells);
    free(baseline.cells);
    return 0;
}
