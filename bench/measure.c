/* Timing by the median of repeated runs, and the peak resident set size. */
#define _GNU_SOURCE
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double measure(void (*fn)(void *), void *ctx, const budget *b, int *runs)
{
    /* warm-up: caches, page faults, thread teams */
    const double w0 = now_seconds();
    double first = 0;
    do {
        const double t = now_seconds();
        fn(ctx);
        if (first == 0)
            first = now_seconds() - t;
    } while (now_seconds() - w0 < b->warmup_s);

    const int most = first > b->seconds ? 1 : b->max_runs;
    double *t = malloc((size_t)most * sizeof *t);
    int n = 0;
    const double start = now_seconds();
    while (n < most && (n < b->min_runs || now_seconds() - start < b->seconds)) {
        const double t0 = now_seconds();
        fn(ctx);
        t[n++] = now_seconds() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, by_value);
    const double median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    free(t);
    *runs = n;
    return 1e3 * median;
}

void rss_reset(void)
{
    /* what earlier cells freed goes back to the system first (glibc keeps it otherwise),
     * so that the peak is this cell's */
    malloc_trim(0);
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f); /* 5: reset the peak resident set size */
        fclose(f);
    }
}

int64_t rss_peak(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    int64_t kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = atoll(line + 6);
            break;
        }
    fclose(f);
    return kib < 0 ? -1 : kib * 1024;
}
