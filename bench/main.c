/*
 * tconv_bench: transposed convolution, float32, every shape of bench/shapes.csv, by every
 * tconv algorithm and by the peers in the same run: PyTorch (a Python child), oneDNN
 * (its C API, plain and blocked layouts) and a bare cblas_sgemm of the same GEMM. Per cell
 * (shape x algorithm x pass x threads): warm-up, then the median of repeated runs within
 * a time budget. The peers' results are checked against tconv's once per shape.
 *
 *   tconv_bench [--quick] [--filter a,b] [--algo a,b] [--threads 1,2] [--pass fwd,fwd+bwd]
 *               [--budget S] [--csv FILE] [--svg DIR] [--shapes FILE]
 *               [--workspace-limit BYTES] [--no-peers] [--no-family]
 *
 * Table and summary on stdout, progress on stderr.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);

#ifndef TCONV_BENCH_DIR
#define TCONV_BENCH_DIR "bench"
#endif

/* The tconv algorithms asked for by default; those this build lacks are skipped. */
static const char *const default_algos = "auto,gemm,phase,dense,sparse,scatter,gather";
/* The reference loops: slow by design. */
static const char *const reference_algos[] = {"dense", "sparse", "scatter", "gather"};

typedef struct config {
    bool quick, peers, family;
    const char *shapes, *csv, *svg;
    const char *filter, *algos;
    bool every_row; /* no --algo: every tconv algorithm, sgemm and the peers */
    int threads[8], n_threads;
    bool pass[2];
    budget b;
    size_t workspace_limit;
    double reference_gflop; /* the reference loops run on shapes up to this many GFLOP */
    double family_cap_s;    /* a family series stops after a run this long */
} config;

static void usage(void)
{
    fprintf(stderr,
            "usage: tconv_bench [options]\n"
            "  --quick              short budgets; reference loops on small shapes only\n"
            "  --filter a,b         shapes whose name contains one of these\n"
            "  --algo a,b           tconv algorithms (default %s);\n"
            "                       peers: torch, onednn, onednn_any, sgemm\n"
            "  --threads 1,2        thread counts (default 1,2)\n"
            "  --pass fwd,fwd+bwd   passes (default both)\n"
            "  --budget S           seconds of measured runs per cell (default 1, quick 0.1)\n"
            "  --csv FILE           write every cell as CSV\n"
            "  --svg DIR            write the plots (gnuplot) into DIR\n"
            "  --shapes FILE        shapes (default %s/shapes.csv)\n"
            "  --workspace-limit B  tconv_options.workspace_limit (default 0: the library's)\n"
            "  --no-peers           tconv only\n"
            "  --no-family          skip the map-size family\n",
            default_algos, TCONV_BENCH_DIR);
}

/* Whether `name` is one of the comma-separated items of `list`. */
static bool listed(const char *list, const char *name)
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

static bool parse(int argc, char **argv, config *c)
{
    memset(c, 0, sizeof *c);
    c->peers = c->family = true;
    c->shapes = TCONV_BENCH_DIR "/shapes.csv";
    c->algos = NULL;
    c->threads[0] = 1, c->threads[1] = 2, c->n_threads = 2;
    c->pass[PASS_FWD] = c->pass[PASS_FWDBWD] = true;
    double budget_s = -1;
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
        else if (v && strcmp(a, "--csv") == 0)
            c->csv = argv[++i];
        else if (v && strcmp(a, "--svg") == 0)
            c->svg = argv[++i];
        else if (v && strcmp(a, "--shapes") == 0)
            c->shapes = argv[++i];
        else if (v && strcmp(a, "--budget") == 0)
            budget_s = atof(argv[++i]);
        else if (v && strcmp(a, "--workspace-limit") == 0)
            c->workspace_limit = (size_t)strtoull(argv[++i], NULL, 10);
        else if (v && strcmp(a, "--pass") == 0) {
            ++i;
            c->pass[PASS_FWD] = listed(v, "fwd");
            c->pass[PASS_FWDBWD] = listed(v, "fwd+bwd") || listed(v, "fwdbwd");
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
            usage();
            return false;
        }
    }
    c->b.seconds = budget_s > 0 ? budget_s : c->quick ? 0.1 : 1.0;
    c->b.min_runs = 3;
    c->b.max_runs = 10000;
    c->b.warmup_s = c->quick ? 0.02 : 0.1;
    c->reference_gflop = c->quick ? 0.05 : INFINITY;
    c->family_cap_s = c->quick ? 0.5 : 5;
    c->every_row = c->algos == NULL;
    if (!c->algos)
        c->algos = default_algos;
    return c->n_threads > 0;
}

/* ---- environment ------------------------------------------------------------------------ */

static void cpu_model(char *buf, size_t size)
{
    snprintf(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[120];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            const char *v = strchr(line, ':');
            snprintf(buf, size, "%s", v ? v + 2 : line);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    fclose(f);
}

static double load_at_start = -1;

static double load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static bool is_avx512_core(const char *core)
{
    const char *avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof avx512 / sizeof avx512[0]; ++i)
        if (strcasestr(core, avx512[i]))
            return true;
    return false;
}

static void describe_run(const config *c, run_info *info, const char *torch_note)
{
    const char *core = openblas_get_corename();
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    char cpu[128], when[64];
    cpu_model(cpu, sizeof cpu);
    const time_t t = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
    info->avx512 = is_avx512_core(core);
    if (load_at_start < 0)
        load_at_start = load_average();
    snprintf(info->env, sizeof info->env,
             "OpenBLAS core %s (OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s), %ld cores, "
             "load %.2f at start, %.2f now",
             core, ct ? ct : "(unset)", l2 ? l2 : "(unset)", sysconf(_SC_NPROCESSORS_ONLN),
             load_at_start, load_average());
    snprintf(info->header, sizeof info->header,
             "tconv_bench %s, %s\n"
             "machine: %s, %ld cores, load average %.2f at start\n"
             "BLAS:    OpenBLAS core %s, OPENBLAS_CORETYPE=%s, OPENBLAS_L2_SIZE=%s (%s)\n"
             "peers:   %s; %s\n"
             "timing:  float32, median of >= %d runs within %.2g s per cell after %.2g s of "
             "warm-up; tconv with a caller workspace allocated once; workspace_limit %zu "
             "(0: default %zu)\n",
             tconv_version_string(), when, cpu, sysconf(_SC_NPROCESSORS_ONLN), load_at_start,
             core, ct ? ct : "(unset)", l2 ? l2 : "(unset)", openblas_get_config(),
             torch_note, onednn_version(), c->b.min_runs, c->b.seconds, c->b.warmup_s,
             c->workspace_limit, (size_t)TCONV_WORKSPACE_LIMIT_DEFAULT);
    info->threads = c->threads;
    info->n_threads = c->n_threads;
    info->workspace_limit = c->workspace_limit ? c->workspace_limit
                                               : TCONV_WORKSPACE_LIMIT_DEFAULT;
}

/* ---- tensors -------------------------------------------------------------------------- */

static float *random_floats(int64_t n, uint64_t *state)
{
    float *v = aligned_alloc(64, ((size_t)(n ? n : 1) * sizeof(float) + 63) / 64 * 64);
    for (int64_t i = 0; i < n; ++i) {
        *state = *state * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = (float)((double)(*state >> 40) / (double)(1ull << 23) - 1.0);
    }
    return v;
}

static tensors tensors_new(const tconv_geometry *g, bool with_inputs, uint64_t seed)
{
    tensors t;
    memset(&t, 0, sizeof t);
    t.n_in = tconv_tensor_numel(g, TCONV_TENSOR_Y);
    t.n_out = tconv_tensor_numel(g, TCONV_TENSOR_X);
    t.n_weight = tconv_tensor_numel(g, TCONV_TENSOR_WEIGHT);
    t.n_bias = tconv_tensor_numel(g, TCONV_TENSOR_X_BIAS);
    uint64_t st = seed;
    if (with_inputs) {
        t.in = random_floats(t.n_in, &st);
        t.weight = random_floats(t.n_weight, &st);
        t.bias = random_floats(t.n_bias, &st);
        t.grad_out = random_floats(t.n_out, &st);
    }
    t.out = random_floats(t.n_out, &st);
    t.grad_in = random_floats(t.n_in, &st);
    t.grad_weight = random_floats(t.n_weight, &st);
    t.grad_bias = random_floats(t.n_bias, &st);
    return t;
}

static void tensors_free(tensors *t)
{
    free(t->in), free(t->weight), free(t->bias), free(t->grad_out);
    free(t->out), free(t->grad_in), free(t->grad_weight), free(t->grad_bias);
}

/* Outputs of the same inputs: got (a peer's) against ref (tconv's). Returns the worst
 * relative error of the four outputs. */
static double compare(const tensors *got, const tensors *ref)
{
    const double e[4] = {rel_error(got->out, ref->out, ref->n_out),
                         rel_error(got->grad_in, ref->grad_in, ref->n_in),
                         rel_error(got->grad_weight, ref->grad_weight, ref->n_weight),
                         rel_error(got->grad_bias, ref->grad_bias, ref->n_bias)};
    return fmax(fmax(e[0], e[1]), fmax(e[2], e[3]));
}

/* float32 results of the same computation agree to this (relative to the largest value):
 * a wrong computation is off by O(1). */
#define AGREEMENT 1e-4

/* ---- cells ------------------------------------------------------------------------------ */

typedef struct progress {
    int done;
    double start;
} progress;

static void note_progress(progress *pr, const cell *c)
{
    ++pr->done;
    fprintf(stderr, "[%4d cells, %5.0f s] %-10s %-11s %-7s %dt %10.3f ms %8.2f GFLOP/s\n",
            pr->done, now_seconds() - pr->start, c->shape, c->algo, pass_name(c->pass),
            c->threads, c->ms, c->gflops);
}

static cell *new_cell(results *r, const shape *s, const char *algo, pass p, int threads)
{
    cell *c = results_add(r);
    snprintf(c->shape, sizeof c->shape, "%s", s->name);
    snprintf(c->algo, sizeof c->algo, "%s", algo);
    snprintf(c->check, sizeof c->check, "-");
    c->pass = p;
    c->threads = threads;
    c->workspace_bytes = c->peak_rss_bytes = -1;
    return c;
}

static void finish_cell(cell *c, const shape *s, double ms, int runs, progress *pr)
{
    c->ms = ms;
    c->runs = runs;
    c->gflops = s->flops * (c->pass == PASS_FWD ? 1 : 3) / (ms * 1e-3) / 1e9;
    note_progress(pr, c);
}

typedef struct tconv_job {
    const shape *s;
    tconv_algo algo;
    pass p;
    tensors *t;
    tconv_options opt;
    tconv_status status;
} tconv_job;

static void run_tconv(void *ctx)
{
    tconv_job *j = ctx;
    const tconv_geometry *g = &j->s->g;
    tensors *t = j->t;
    j->status = tconv_convt_forward_ex(g, j->algo, TCONV_F32, t->in, t->weight, t->bias, t->out,
                                       &j->opt, NULL);
    if (j->p == PASS_FWDBWD && j->status == TCONV_OK)
        j->status = tconv_convt_backward_ex(g, j->algo, TCONV_F32, t->in, t->weight,
                                            t->grad_out, t->grad_in, t->grad_weight,
                                            t->grad_bias, &j->opt, NULL);
}

/* Workspace bytes of a job's pass, or a refusal with its message. */
static tconv_status job_workspace(tconv_job *j, size_t *bytes, tconv_error *err)
{
    size_t f = 0, b = 0;
    tconv_status s = tconv_workspace_size(&j->s->g, TCONV_CONVT_FORWARD, j->algo, TCONV_F32,
                                          &j->opt, &f, err);
    if (s == TCONV_OK && j->p == PASS_FWDBWD)
        s = tconv_workspace_size(&j->s->g, TCONV_CONVT_BACKWARD, j->algo, TCONV_F32, &j->opt, &b,
                                 err);
    *bytes = f > b ? f : b;
    return s;
}

/* One tconv cell; false if the algorithm refuses the shape (said on stderr). */
static bool tconv_cell(results *r, const shape *s, const char *name, tconv_algo algo, pass p,
                       int threads, tensors *t, const config *c, progress *pr)
{
    tconv_job j = {s, algo, p, t, {0}, TCONV_OK};
    j.opt.num_threads = threads;
    j.opt.workspace_limit = c->workspace_limit;
    size_t bytes = 0;
    tconv_error err = {0};
    if (job_workspace(&j, &bytes, &err) != TCONV_OK) {
        fprintf(stderr, "  %s skips %s: %s\n", name, s->name, err.message);
        return false;
    }
    void *ws = bytes ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
    if (bytes && !ws) {
        fprintf(stderr, "  %s skips %s: no memory for %zu bytes of workspace\n", name, s->name,
                bytes);
        return false;
    }
    j.opt.workspace = ws;
    j.opt.workspace_bytes = bytes;
    omp_set_num_threads(threads);
    rss_reset();
    run_tconv(&j);
    if (j.status != TCONV_OK) {
        fprintf(stderr, "  %s fails on %s: %s\n", name, s->name, tconv_status_str(j.status));
        free(ws);
        return false;
    }
    cell *k = new_cell(r, s, name, p, threads);
    if (algo == TCONV_ALGO_AUTO) {
        tconv_algo chosen;
        if (tconv_algo_choose(&s->g, TCONV_F32, &j.opt, &chosen, NULL) == TCONV_OK)
            snprintf(k->note, sizeof k->note, "%s", tconv_algo_name(chosen));
    }
    int runs;
    const double ms = measure(run_tconv, &j, &c->b, &runs);
    k->workspace_bytes = (int64_t)bytes;
    k->peak_rss_bytes = rss_peak();
    finish_cell(k, s, ms, runs, pr);
    free(ws);
    return true;
}

/* The bare cblas_sgemm of the gemm path's GEMM: (C_x/g·Πk) x (N·|Sy|) x (C_y/g), g times,
 * threaded by OpenBLAS itself: the throughput the GEMM view can at most reach. */
typedef struct sgemm_job {
    int64_t m, n, k, groups;
    const float *a, *b;
    float *c;
} sgemm_job;

static void run_sgemm(void *ctx)
{
    const sgemm_job *j = ctx;
    for (int64_t g = 0; g < j->groups; ++g)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)j->m, (int)j->n, (int)j->k,
                    1.0f, j->a + g * j->k * j->m, (int)j->m, j->b + g * j->k * j->n, (int)j->n,
                    0.0f, j->c, (int)j->n);
}

static void sgemm_cell(results *r, const shape *s, int threads, const tensors *t,
                       const config *c, progress *pr)
{
    const tconv_geometry *g = &s->g;
    int64_t kc = 1, yc = 1;
    for (int a = 0; a < g->dims; ++a)
        kc *= g->kernel[a], yc *= g->y_size[a];
    sgemm_job j = {g->x_channels / g->groups * kc, g->batch * yc, g->y_channels / g->groups,
                   g->groups, t->weight, t->in, NULL};
    j.c = aligned_alloc(64, ((size_t)(j.m * j.n) * sizeof(float) + 63) / 64 * 64);
    omp_set_num_threads(threads);
    rss_reset();
    cell *k = new_cell(r, s, "sgemm", PASS_FWD, threads);
    snprintf(k->note, sizeof k->note, "%lldx%lldx%lld", (long long)j.m, (long long)j.n,
             (long long)j.k);
    int runs;
    const double ms = measure(run_sgemm, &j, &c->b, &runs);
    k->workspace_bytes = (int64_t)(j.m * j.n) * (int64_t)sizeof(float);
    k->peak_rss_bytes = rss_peak();
    finish_cell(k, s, ms, runs, pr);
    free(j.c);
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

static void onednn_cells(results *r, const shape *s, bool any, const tensors *t,
                         const tensors *ref, const config *c, progress *pr)
{
    const char *name = any ? "onednn_any" : "onednn";
    char why[256] = "";
    tensors got = tensors_new(&s->g, false, 1);
    for (int i = 0; i < c->n_threads; ++i) {
        omp_set_num_threads(c->threads[i]); /* oneDNN sizes its kernels when they are made */
        onednn_peer *peer = onednn_create(s, any, t, why, sizeof why);
        if (!peer) {
            fprintf(stderr, "  %s skips %s: %s\n", name, s->name, why);
            break;
        }
        char check[16] = "-";
        if (i == 0) { /* once per shape: the same numbers as tconv? */
            onednn_forward(peer);
            onednn_backward(peer);
            onednn_results(peer, &got);
            const double e = compare(&got, ref);
            snprintf(check, sizeof check, "%s", e <= AGREEMENT ? "ok" : "FAIL");
            fprintf(stderr, "  %s on %s agrees with tconv to %.1e%s\n", name, s->name, e,
                    e <= AGREEMENT ? "" : ": MISMATCH, its timings are not comparable");
        }
        for (int p = 0; p < 2; ++p) {
            if (!c->pass[p])
                continue;
            onednn_job j = {peer, (pass)p};
            rss_reset();
            cell *k = new_cell(r, s, name, (pass)p, c->threads[i]);
            snprintf(k->check, sizeof k->check, "%s", check);
            int runs;
            const double ms = measure(run_onednn, &j, &c->b, &runs);
            k->workspace_bytes = onednn_scratchpad_bytes(peer);
            k->peak_rss_bytes = rss_peak();
            finish_cell(k, s, ms, runs, pr);
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
    const double e = compare(&got, ref);
    fprintf(stderr, "  torch on %s agrees with tconv to %.1e%s\n", s->name, e,
            e <= AGREEMENT ? "" : ": MISMATCH, its timings are not comparable");
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
            cell *k = new_cell(r, s, "torch", (pass)p, c->threads[i]);
            snprintf(k->check, sizeof k->check, "%s", e <= AGREEMENT ? "ok" : "FAIL");
            k->peak_rss_bytes = rss;
            finish_cell(k, s, ms, runs, pr);
        }
}

static bool is_reference(const char *name)
{
    for (size_t i = 0; i < sizeof reference_algos / sizeof reference_algos[0]; ++i)
        if (strcmp(name, reference_algos[i]) == 0)
            return true;
    return false;
}

/* Every cell of one shape. */
static void bench_shape(results *r, const shape *s, const config *c, bool torch_ok,
                        progress *pr)
{
    tensors t = tensors_new(&s->g, true, 42);
    /* tconv's own results, the yardstick of the peers' (auto, default options) */
    tensors ref = tensors_new(&s->g, false, 7);
    tconv_convt_forward(&s->g, TCONV_ALGO_AUTO, TCONV_F32, t.in, t.weight, t.bias, ref.out);
    tconv_convt_backward(&s->g, TCONV_ALGO_AUTO, TCONV_F32, t.in, t.weight, t.grad_out,
                         ref.grad_in, ref.grad_weight, ref.grad_bias);

    for (const char *p = c->algos; *p;) {
        const char *end = strchr(p, ',');
        char name[24];
        snprintf(name, sizeof name, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
        p += strlen(name) + (end != NULL);
        tconv_algo algo;
        if (tconv_algo_from_name(name, &algo) != TCONV_OK)
            continue; /* not in this build (yet), or a peer's name */
        if (is_reference(name) && s->flops > c->reference_gflop * 1e9)
            continue;
        for (int i = 0; i < c->n_threads; ++i)
            for (int q = 0; q < 2; ++q)
                if (c->pass[q] &&
                    !tconv_cell(r, s, name, algo, (pass)q, c->threads[i], &t, c, pr))
                    goto next_algo;
    next_algo:;
    }
    if (c->every_row || listed(c->algos, "sgemm"))
        for (int i = 0; i < c->n_threads; ++i)
            if (c->pass[PASS_FWD])
                sgemm_cell(r, s, c->threads[i], &t, c, pr);
    if (c->peers) {
        const bool all = c->every_row;
        if (torch_ok && (all || listed(c->algos, "torch")))
            torch_cells(r, s, &t, &ref, c, pr);
        if (onednn_available() && (all || listed(c->algos, "onednn")))
            onednn_cells(r, s, false, &t, &ref, c, pr);
        if (onednn_available() && (all || listed(c->algos, "onednn_any")))
            onednn_cells(r, s, true, &t, &ref, c, pr);
    }
    tensors_free(&t);
    tensors_free(&ref);
}

/* The map-size family: forward, 1 thread, the reference loops and the fast paths, each
 * series stopped once a run takes longer than the cap. */
static int bench_family(results *r, shape *family, const config *c, progress *pr)
{
    const char *series[] = {"dense", "sparse", "gemm", "phase", "scatter", "gather"};
    const int sizes = c->quick ? 6 : 8; /* 4 .. 128 or 512 */
    for (int i = 0; i < sizes; ++i)
        shape_family((int64_t)4 << i, &family[i]);
    budget b = c->b;
    b.min_runs = 1;
    for (size_t a = 0; a < sizeof series / sizeof series[0]; ++a) {
        tconv_algo algo;
        if (tconv_algo_from_name(series[a], &algo) != TCONV_OK)
            continue;
        for (int i = 0; i < sizes; ++i) {
            tensors t = tensors_new(&family[i].g, true, 3);
            config one = *c;
            one.b = b;
            const bool ok = tconv_cell(r, &family[i], series[a], algo, PASS_FWD, 1, &t, &one, pr);
            tensors_free(&t);
            const cell *k = results_find(r, family[i].name, series[a], PASS_FWD, 1);
            if (!ok || !k || k->ms * 1e-3 > c->family_cap_s)
                break;
        }
    }
    return sizes;
}

int main(int argc, char **argv)
{
    config c;
    if (!parse(argc, argv, &c))
        return 2;
    shape *all = NULL;
    const int n_all = shapes_read(c.shapes, &all);
    if (n_all < 0)
        return 1;
    int n = 0;
    for (int i = 0; i < n_all; ++i)
        if (matches(c.filter, all[i].name))
            all[n++] = all[i];

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
    describe_run(&c, &info, torch_note);
    printf("%s\n", info.header);

    results r = {0};
    progress pr = {0, now_seconds()};
    for (int i = 0; i < n; ++i) {
        bench_shape(&r, &all[i], &c, torch_ok, &pr);
        report_shape(&r, &all[i], &info);
    }
    if (torch_ok)
        torch_stop();
    shape family[8];
    int n_family = 0;
    if (c.family)
        n_family = bench_family(&r, family, &c, &pr);

    describe_run(&c, &info, torch_note); /* the load at the end */
    report_summary(&r, all, n, &info);
    if (n_family)
        report_family(&r, family, n_family);
    if (c.csv && report_csv(&r, c.csv, &info))
        printf("\nCSV: %s\n", c.csv);
    if (c.svg)
        report_plots(&r, all, n, family, n_family, c.svg, &info);
    printf("\n%d cells in %.0f s; %s\n", pr.done, now_seconds() - pr.start, info.env);
    free(r.cells);
    free(all);
    return 0;
}
