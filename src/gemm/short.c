/*
 * tconv's own GEMM for a short reduction (at most TCONV__SHORT_K terms per output), which
 * the default rule prefers to a BLAS: with beta = 0 OpenBLAS first zeroes C, then reads it
 * back to add the product, three passes over a C that a product of ten terms writes in
 * one (the zeroing was 40% of a 1-D speech front-end's forward under perf).
 */
#include "internal.h"

#include <string.h>

/* Blocks of 4 rows by 2 vectors of 32 bytes: 8 sums in AVX2's 16 registers beside the
 * loads. (GCC's vectors wider than the clone's registers went through the stack.) */
#define TCONV__SHORT_VECTOR_BYTES 32
#define SHORT_ROWS ((int64_t)4)
#define SHORT_VECS ((int64_t)2)
/* Columns of B's panel: 1 KB a row. */
#define SHORT_PANEL ((int64_t)(1024 / sizeof(T)))

#define TCONV_TEMPLATE "gemm/short_tmpl.h"
#include "instantiate.h"
