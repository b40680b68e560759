/* Which OpenMP runtime serves the process: the library's parallel regions and OpenBLAS's
 * must be served by one runtime, or the thread count the library sets for BLAS
 * (src/blas.c) would not reach BLAS. */
#ifndef TCONV_TESTS_OPENMP_RUNTIME_H
#define TCONV_TESTS_OPENMP_RUNTIME_H

#include <stddef.h>

/* NULL when one runtime serves every OpenMP entry point the process uses; otherwise a
 * description of the split, written into buf. */
const char *openmp_runtime_split(char *buf, size_t size);

#endif
