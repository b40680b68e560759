/*
 * The default rule's choice per GEMM, as tconv.h documents it, for a plan that found
 * oneDNN's kernels the widest: float32 GEMMs go to onednn but for a reduction shorter than
 * 32 terms and a transposed B, for C of at most 1024 rows, of at most 128 columns, or of
 * fewer than 512 whose reduction has 1024 terms or more and is more than twice the rows of
 * C, which go to the fallback (openblas where it is built).
 */
#include "common.h"
#include "gemm/provider.h"

#include <criterion/criterion.h>

Test(provider_rule, onednn_but_where_it_was_measured_slower)
{
    const tconv__provider *wide = &tconv__provider_onednn, *fallback = tconv__provider_fallback();
#ifdef TCONV_HAVE_OPENBLAS
    cr_assert_eq(fallback, &tconv__provider_openblas);
#endif
    /* (tb, m, n, k) -> the provider */
    cr_assert_eq(tconv__provider_default(wide, false, 16, 100, 8192), wide);
    cr_assert_eq(tconv__provider_default(wide, true, 16, 100, 8192), fallback);
    cr_assert_eq(tconv__provider_default(wide, true, 64, 64, 4096), fallback);
    cr_assert_eq(tconv__provider_default(wide, true, 256, 511, 1024), fallback);
    cr_assert_eq(tconv__provider_default(wide, true, 256, 512, 1024), wide);
    cr_assert_eq(tconv__provider_default(wide, true, 512, 100, 1024), fallback);
    cr_assert_eq(tconv__provider_default(wide, true, 512, 200, 1024), wide);
    cr_assert_eq(tconv__provider_default(wide, true, 128, 200, 1023), wide);
    cr_assert_eq(tconv__provider_default(wide, true, 3136, 64, 256), wide);
    cr_assert_eq(tconv__provider_default(wide, true, 1025, 64, 4096), wide);
    cr_assert_eq(tconv__provider_default(wide, true, 64, 48, 512), fallback);
    cr_assert_eq(tconv__provider_default(wide, true, 1024, 128, 256), fallback);
    cr_assert_eq(tconv__provider_default(wide, true, 1024, 129, 256), wide);
    cr_assert_eq(tconv__provider_default(wide, false, 64, 48, 512), wide);
    cr_assert_eq(tconv__provider_default(wide, false, 4096, 4096, 31), fallback);
    cr_assert_eq(tconv__provider_default(wide, true, 4096, 4096, 31), fallback);
    cr_assert_eq(tconv__provider_default(wide, false, 4096, 4096, 32), wide);
    /* no wide provider found: the fallback whatever the shape */
    cr_assert_eq(tconv__provider_default(NULL, false, 4096, 4096, 4096), fallback);
}
