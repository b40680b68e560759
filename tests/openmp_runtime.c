/*
 * clang's OpenMP code calls LLVM's libomp (__kmpc_*), while Debian's OpenBLAS (OpenMP
 * build) is linked against GCC's libgomp (GOMP_*, omp_*). libomp also exports the GOMP
 * ABI under the same symbol versions, so when it is loaded first it serves OpenBLAS too
 * and the process has one runtime. This checks that the symbols OpenBLAS binds to
 * (GOMP_parallel, omp_set_num_threads) come from the object that serves our code.
 */
#define _GNU_SOURCE
#include "openmp_runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static const char *object_of(const char *symbol)
{
    Dl_info info;
    void *p = dlsym(RTLD_DEFAULT, symbol);
    if (!p || !dladdr(p, &info) || !info.dli_fname)
        return NULL;
    return info.dli_fname;
}

const char *openmp_runtime_split(char *buf, size_t size)
{
    /* our regions: libomp's entry for clang builds, libgomp's for gcc builds */
    const char *ours = object_of("__kmpc_fork_call");
    if (!ours)
        ours = object_of("GOMP_parallel");
    const char *blas_region = object_of("GOMP_parallel");
    const char *blas_threads = object_of("omp_set_num_threads");
    if (ours && blas_region && blas_threads && strcmp(ours, blas_region) == 0 &&
        strcmp(ours, blas_threads) == 0)
        return NULL;
    snprintf(buf, size, "library regions served by %s, GOMP_parallel by %s, "
             "omp_set_num_threads by %s", ours ? ours : "(none)",
             blas_region ? blas_region : "(none)", blas_threads ? blas_threads : "(none)");
    return buf;
}
