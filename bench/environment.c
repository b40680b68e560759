/* What the reports say about the machine and the run: the CPU and its vector ISA, the
 * load, OpenBLAS's core and the variables that steer it, the GEMM providers tconv has
 * built in and its default rule, the FMA peak (the best measurement so far), the peers. */
#define _GNU_SOURCE
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);

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

static const char *cpu_vector_isa(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return "AVX-512F: yes";
    if (__builtin_cpu_supports("avx2"))
        return "AVX-512F: no, AVX2: yes";
    return "AVX-512F: no, AVX2: no";
#else
    return "not x86-64";
#endif
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

/* tconv_blas_info's lines, indented under the first. */
static void providers_text(char *buf, size_t size)
{
    char raw[2048];
    tconv_blas_info(raw, sizeof raw);
    size_t at = 0;
    for (const char *p = raw; *p && at + 1 < size; ++p) {
        buf[at++] = *p;
        if (*p == '\n' && at + 10 < size) {
            memcpy(buf + at, "         ", 9);
            at += 9;
        }
    }
    buf[at] = '\0';
}

void describe_run(const config *c, run_info *info, const char *torch_note)
{
    const char *core = openblas_get_corename();
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    char cpu[128], when[64], providers[2048], rule[256], peak[256] = "", asked[128] = "";
    cpu_model(cpu, sizeof cpu);
    const time_t t = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
    info->avx512 = is_avx512_core(core);
    if (load_at_start < 0)
        load_at_start = load_average();
    providers_text(providers, sizeof providers);
    tconv_provider_info(TCONV_PROVIDER_DEFAULT, rule, sizeof rule);
    for (int i = 0; i < c->n_threads; ++i) {
        const size_t used = strlen(peak);
        snprintf(peak + used, sizeof peak - used, "%s%.1f GFLOP/s at %dt", i ? ", " : "",
                 info->peak[i], c->threads[i]);
    }
    for (int i = 0; i < c->n_providers; ++i) {
        const size_t used = strlen(asked);
        snprintf(asked + used, sizeof asked - used, "%s%s", i ? "," : "",
                 tconv_provider_name(c->providers[i]));
    }
    snprintf(info->env, sizeof info->env,
             "OpenBLAS core %s (OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s), %ld cores, "
             "load %.2f at start, %.2f now",
             core, ct ? ct : "(unset)", l2 ? l2 : "(unset)", sysconf(_SC_NPROCESSORS_ONLN),
             load_at_start, load_average());
    snprintf(info->header, sizeof info->header,
             "tconv_bench %s, %s\n"
             "machine: %s (%s), %ld cores, load average %.2f at start\n"
             "peak:    float32 FMA loop, %s: %s (best of %d)\n"
             "BLAS:    OpenBLAS core %s, OPENBLAS_CORETYPE=%s, OPENBLAS_L2_SIZE=%s (%s)\n"
             "GEMM:    providers measured: %s; default rule: %s\n"
             "         %s\n"
             "peers:   %s; %s\n"
             "timing:  float32, median of >= %d runs within %.2g s per cell after %.2g s of "
             "warm-up, the faster of %d passes over the suite; tconv with a caller workspace "
             "allocated once; workspace_limit %zu (0: default %zu)\n",
             tconv_version_string(), when, cpu, cpu_vector_isa(), sysconf(_SC_NPROCESSORS_ONLN),
             load_at_start, info->peak_isa, peak, info->peak_measurements, core,
             ct ? ct : "(unset)", l2 ? l2 : "(unset)", openblas_get_config(), asked, rule,
             providers, torch_note, onednn_version(), c->b.min_runs, c->b.seconds,
             c->b.warmup_s, c->passes, c->workspace_limit, (size_t)TCONV_WORKSPACE_LIMIT_DEFAULT);
    info->threads = c->threads;
    info->n_threads = c->n_threads;
    info->providers = c->providers;
    info->n_providers = c->n_providers;
    info->workspace_limit = c->workspace_limit ? c->workspace_limit
                                               : TCONV_WORKSPACE_LIMIT_DEFAULT;
}
