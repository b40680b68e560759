/*
 * The few OpenMP runtime calls the library makes, so that a build without OpenMP (the
 * WebAssembly one, or any port without threads) compiles the same sources: there every
 * parallel region runs on the calling thread alone (the pragmas are ignored).
 */
#ifndef TCONV_THREADS_H
#define TCONV_THREADS_H

#include <stdbool.h>

#ifdef _OPENMP
#include <omp.h>

static inline int tconv__thread_num(void)
{
    return omp_get_thread_num();
}

/* Whether the caller runs inside an active parallel region. */
static inline bool tconv__in_parallel(void)
{
    return omp_in_parallel() != 0;
}

/* Threads a parallel region started here would get: OpenMP's default. */
static inline int tconv__max_threads(void)
{
    return omp_get_max_threads();
}

/* Later parallel regions and OpenMP-sized libraries called from this thread use `n`
 * threads (scoped to the current region's implicit task). */
static inline void tconv__set_max_threads(int n)
{
    omp_set_num_threads(n);
}
#else
static inline int tconv__thread_num(void)
{
    return 0;
}

static inline bool tconv__in_parallel(void)
{
    return false;
}

static inline int tconv__max_threads(void)
{
    return 1;
}

static inline void tconv__set_max_threads(int n)
{
    (void)n;
}
#endif

#endif /* TCONV_THREADS_H */
