/*
 * The three products on a sweep of seeded random geometries:
 *   - every algorithm (dense and sparse included) x dtype against the float64 gather
 *     oracle, with the dot-product error bound of common.h (float32: 2·L·2⁻²⁴·(|C|·|x|)
 *     per element);
 *     scatter/float64 against gather/float64 is the check of the two textbook views
 *     against each other: two loop nests that share nothing but the geometry;
 *   - the adjoint identity ⟨C x, y⟩ = ⟨x, Cᵀ y⟩ for every algorithm: apply_t is the
 *     transpose of apply, the whole point of the library;
 *   - the weight identity ⟨C_W x, y⟩ = ⟨W, wgrad(y, x)⟩: wgrad is the derivative of apply
 *     with respect to the weight;
 *   - every algorithm gives the same bits with 1, 2 and 3 threads (dense and sparse on
 *     fewer geometries, in test_matrix.c: forcing 3 threads costs them most).
 */
#include "common.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SWEEP_GEOMETRIES 320

static const tconv_algo algos[] = {TCONV_ALGO_AUTO,    TCONV_ALGO_GEMM,   TCONV_ALGO_PHASE,
                                   TCONV_ALGO_DENSE,   TCONV_ALGO_SPARSE, TCONV_ALGO_SCATTER,
                                   TCONV_ALGO_GATHER};
static const tconv_dtype dtypes[] = {TCONV_F64, TCONV_F32};

static void run(const tconv_geometry *g, tconv_product p, tconv_algo algo, tconv_dtype dt,
                const tensor *a, const tensor *b, tensor *out, int threads)
{
    tconv_options opt = {0};
    opt.num_threads = threads;
    tconv_error err = {0};
    const void *pa = tensor_data(a, dt), *pb = tensor_data(b, dt);
    const tconv_status s =
        tconv_product_run(g, p, algo, dt, pa, p == TCONV_WGRAD ? pb : NULL,
                          p == TCONV_WGRAD ? NULL : pb, tensor_data(out, dt), &opt, &err);
    cr_assert_eq(s, TCONV_OK, "%s %s product %d failed: %s [%s]", tconv_algo_name(algo),
                 dt == TCONV_F64 ? "f64" : "f32", (int)p, err.message, describe(g));
    if (dt == TCONV_F32)
        tensor_f32_to_f64(out);
}

/* The operands of product p: a and b, and the output's tensor. */
static void operands(tconv_product p, tconv_tensor *a, tconv_tensor *b, tconv_tensor *out)
{
    const tconv_tensor A[3] = {TCONV_TENSOR_X, TCONV_TENSOR_Y, TCONV_TENSOR_Y};
    const tconv_tensor B[3] = {TCONV_TENSOR_WEIGHT, TCONV_TENSOR_WEIGHT, TCONV_TENSOR_X};
    const tconv_tensor O[3] = {TCONV_TENSOR_Y, TCONV_TENSOR_X, TCONV_TENSOR_WEIGHT};
    *a = A[p];
    *b = B[p];
    *out = O[p];
}

ParameterizedTestParameters(products, sweep)
{
    static uint64_t seeds[SWEEP_GEOMETRIES];
    for (int i = 0; i < SWEEP_GEOMETRIES; ++i)
        seeds[i] = (uint64_t)i + 1;
    return cr_make_param_array(uint64_t, seeds, SWEEP_GEOMETRIES);
}

ParameterizedTest(uint64_t *seed, products, sweep)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    rng r = {*seed};

    for (int p = 0; p < 3; ++p) {
        tconv_tensor ta, tb, to;
        operands((tconv_product)p, &ta, &tb, &to);
        tensor a = tensor_random(numel(&g, ta), &r), b = tensor_random(numel(&g, tb), &r);
        tensor aa = tensor_abs(&a), ab = tensor_abs(&b);
        tensor ref = tensor_new(numel(&g, to)), bound = tensor_new(ref.n);
        tensor out = tensor_new(ref.n);
        oracle(&g, (tconv_product)p, a.d, b.d, ref.d);
        oracle(&g, (tconv_product)p, aa.d, ab.d, bound.d);
        const int64_t L = reduction_length(&g, (tconv_product)p);

        for (size_t i = 0; i < sizeof algos / sizeof algos[0]; ++i)
            for (size_t j = 0; j < sizeof dtypes / sizeof dtypes[0]; ++j) {
                char what[160];
                snprintf(what, sizeof what, "%s/%s product %d [%s]", tconv_algo_name(algos[i]),
                         dtypes[j] == TCONV_F64 ? "f64" : "f32", p, describe(&g));
                run(&g, (tconv_product)p, algos[i], dtypes[j], &a, &b, &out, 0);
                expect_close(out.d, ref.d, bound.d, ref.n, L, dtype_eps(dtypes[j]), what);
            }

        /* thread count never changes a bit */
        for (size_t i = 0; i < sizeof algos / sizeof algos[0]; ++i)
            for (int j = 0; j < 2 && algos[i] != TCONV_ALGO_DENSE &&
                            algos[i] != TCONV_ALGO_SPARSE; ++j) {
                tensor one = tensor_new(ref.n);
                run(&g, (tconv_product)p, algos[i], dtypes[j], &a, &b, &one, 1);
                for (int threads = 2; threads <= 3; ++threads) {
                    run(&g, (tconv_product)p, algos[i], dtypes[j], &a, &b, &out, threads);
                    cr_assert(memcmp(tensor_data(&one, dtypes[j]), tensor_data(&out, dtypes[j]),
                                     (size_t)ref.n * (dtypes[j] == TCONV_F64 ? 8 : 4)) == 0,
                              "%s product %d: %d threads differ from 1 [%s]",
                              tconv_algo_name(algos[i]), p, threads, describe(&g));
                }
                tensor_free(&one);
            }
        tensor_free(&a), tensor_free(&b), tensor_free(&aa), tensor_free(&ab);
        tensor_free(&ref), tensor_free(&bound), tensor_free(&out);
    }
}

/* ⟨C x, y⟩ = ⟨x, Cᵀ y⟩ and ⟨C_W x, y⟩ = ⟨W, wgrad(y, x)⟩ in float64, every algorithm. */
ParameterizedTestParameters(products, adjoint)
{
    static uint64_t seeds[SWEEP_GEOMETRIES];
    for (int i = 0; i < SWEEP_GEOMETRIES; ++i)
        seeds[i] = 1000 + (uint64_t)i;
    return cr_make_param_array(uint64_t, seeds, SWEEP_GEOMETRIES);
}

ParameterizedTest(uint64_t *seed, products, adjoint)
{
    tconv_geometry g;
    random_geometry(*seed, &g);
    rng r = {*seed};
    tensor x = tensor_random(numel(&g, TCONV_TENSOR_X), &r);
    tensor y = tensor_random(numel(&g, TCONV_TENSOR_Y), &r);
    tensor w = tensor_random(numel(&g, TCONV_TENSOR_WEIGHT), &r);
    tensor ax = tensor_abs(&x), ay = tensor_abs(&y), aw = tensor_abs(&w);
    tensor cx = tensor_new(y.n), cty = tensor_new(x.n), dw = tensor_new(w.n);
    tensor bound_y = tensor_new(y.n);

    /* Σ|terms| of ⟨C x, y⟩ is ⟨|C||x|, |y|⟩; each side sums at most L_apply·|y| + ... terms */
    oracle(&g, TCONV_APPLY, ax.d, aw.d, bound_y.d);
    const double mag = dot(bound_y.d, ay.d, y.n);
    const double terms = (double)(reduction_length(&g, TCONV_APPLY) * (y.n + 1) +
                                  reduction_length(&g, TCONV_APPLY_T) * (x.n + 1) +
                                  reduction_length(&g, TCONV_WGRAD) * (w.n + 1));
    const double tol = 2 * terms * dtype_eps(TCONV_F64) * mag + 1e-300;

    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; ++i) {
        run(&g, TCONV_APPLY, algos[i], TCONV_F64, &x, &w, &cx, 0);
        run(&g, TCONV_APPLY_T, algos[i], TCONV_F64, &y, &w, &cty, 0);
        run(&g, TCONV_WGRAD, algos[i], TCONV_F64, &y, &x, &dw, 0);
        const double lhs = dot(cx.d, y.d, y.n), rhs = dot(x.d, cty.d, x.n);
        const double wside = dot(w.d, dw.d, w.n);
        cr_assert(fabs(lhs - rhs) <= tol, "%s: <Cx,y> = %.17g but <x,C^T y> = %.17g [%s]",
                  tconv_algo_name(algos[i]), lhs, rhs, describe(&g));
        cr_assert(fabs(lhs - wside) <= tol, "%s: <C_W x,y> = %.17g but <W,wgrad> = %.17g [%s]",
                  tconv_algo_name(algos[i]), lhs, wside, describe(&g));
    }
    tensor_free(&x), tensor_free(&y), tensor_free(&w), tensor_free(&ax), tensor_free(&ay);
    tensor_free(&aw), tensor_free(&cx), tensor_free(&cty), tensor_free(&dw);
    tensor_free(&bound_y);
}
