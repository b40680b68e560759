/* Helpers shared by the test suites: seeded random geometries and tensors, and tolerance
 * checks that follow the error analysis of a dot product. */
#ifndef TCONV_TESTS_COMMON_H
#define TCONV_TESTS_COMMON_H

#include <tconv/tconv.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* splitmix64: small, seedable, the same on every machine. */
typedef struct rng {
    uint64_t state;
} rng;

uint64_t rng_next(rng *r);
/* Uniform integer in [lo, hi]. */
int64_t rng_int(rng *r, int64_t lo, int64_t hi);
/* Uniform in [-1, 1), exactly representable in float32 so both precisions see the same
 * numbers. */
double rng_value(rng *r);

/* A tensor held in both precisions: d is the float64 copy, f the float32 one. */
typedef struct tensor {
    int64_t n;
    double *d;
    float *f;
} tensor;

tensor tensor_new(int64_t n);
tensor tensor_random(int64_t n, rng *r);
void tensor_free(tensor *t);
/* The buffer of one precision. */
void *tensor_data(const tensor *t, tconv_dtype dt);
/* Copies the float32 buffer into the float64 one (after a float32 computation). */
void tensor_f32_to_f64(tensor *t);
/* Absolute values, for error bounds. */
tensor tensor_abs(const tensor *t);

/* Draws a geometry from `seed`: 1-D to 3-D, conv or transposed (sometimes through the
 * output_size form), groups 1-4, dilation 1-3, output_padding, asymmetric per-axis
 * values, batch 0-3. Small enough for the reference loops. Always valid. */
void random_geometry(uint64_t seed, tconv_geometry *g);

/* Element count of a tensor of g. */
int64_t numel(const tconv_geometry *g, tconv_tensor t);

/* Longest sum one output element of product p is made of. */
int64_t reduction_length(const tconv_geometry *g, tconv_product p);

/* Machine epsilon of a dtype. */
double dtype_eps(tconv_dtype dt);

/*
 * Elementwise check |got - ref| <= 2 * L * eps * bound + tiny, where bound = |C|·|x| (the
 * same product over absolute values) bounds the sum of the magnitudes of the terms: the
 * classical bound on a length-L dot product with rounding unit eps, twice for the
 * reference's own error. Returns the largest |got - ref| / (L * eps * bound) seen; fails
 * the test (with `what` and the index) past the bound.
 */
double expect_close(const double *got, const double *ref, const double *bound, int64_t n,
                    int64_t L, double eps, const char *what);

/* ⟨a, b⟩ in float64. */
double dot(const double *a, const double *b, int64_t n);

/* Runs one product in float64 with gather (the oracle). */
void oracle(const tconv_geometry *g, tconv_product p, const double *a, const double *b,
            double *out);

/* Every algorithm of this build, auto first: the ids whose name is not "?", scanned some
 * way past TCONV_ALGO_COUNT so that one added later is covered without editing the tests
 * that use this list. Returns how many were written (at most max). */
int all_algorithms(tconv_algo *out, int max);

/* The byte every test writes over an output before a call that must refuse, and the
 * check that the refusal left all n bytes of it as they were. */
#define SENTINEL 0x5A
bool untouched(const void *p, size_t n);

/* The X (x_side) or Y tensor of g moved from (N, C, spatial...) to (N, spatial..., C), or
 * back: plain loops of the test's own. */
void channels_last(const tconv_geometry *g, bool x_side, bool back, const double *src,
                   double *dst);

/* Describes a geometry for failure messages. */
const char *describe(const tconv_geometry *g);

#endif
