/*
 * The default rule's choice per GEMM, as tconv.h documents it, for a plan that found
 * oneDNN's kernels the widest, in its two regimes. Where the CPU splits 512-bit FMAs into
 * halves (AMD Zen 4), float32 GEMMs go to onednn but for a reduction shorter than 32 terms
 * and a transposed B, for C of at most 1024 rows, of at most 128 columns, or of fewer than
 * 512 whose reduction has 1024 terms or more and is more than twice the rows of C, which go
 * to the fallback (openblas where it is built). Where they run at full rate, only a
 * transposed B of 33-128 columns for 9-32 rows over 2048 terms or more goes there. The
 * short-reduction kernel's bound follows the regime too.
 */
#include "common.h"
#include "gemm/provider.h"

#include <criterion/criterion.h>
#include <string.h>

static const tconv__provider *rule(bool faster, bool tb, int64_t m, int64_t n, int64_t k)
{
    return tconv__provider_rule(&tconv__provider_onednn, faster, tb, m, n, k);
}

Test(provider_rule, halved_fmas_onednn_but_where_it_was_measured_slower)
{
    const tconv__provider *wide = &tconv__provider_onednn, *fallback = tconv__provider_fallback();
#ifdef TCONV_HAVE_OPENBLAS
    cr_assert_eq(fallback, &tconv__provider_openblas);
#endif
    /* (tb, m, n, k) -> the provider */
    cr_assert_eq(rule(false, false, 16, 100, 8192), wide);
    cr_assert_eq(rule(false, true, 16, 100, 8192), fallback);
    cr_assert_eq(rule(false, true, 64, 64, 4096), fallback);
    cr_assert_eq(rule(false, true, 256, 511, 1024), fallback);
    cr_assert_eq(rule(false, true, 256, 512, 1024), wide);
    cr_assert_eq(rule(false, true, 512, 100, 1024), fallback);
    cr_assert_eq(rule(false, true, 512, 200, 1024), wide);
    cr_assert_eq(rule(false, true, 128, 200, 1023), wide);
    cr_assert_eq(rule(false, true, 3136, 64, 256), wide);
    cr_assert_eq(rule(false, true, 1025, 64, 4096), wide);
    cr_assert_eq(rule(false, true, 64, 48, 512), fallback);
    cr_assert_eq(rule(false, true, 1024, 128, 256), fallback);
    cr_assert_eq(rule(false, true, 1024, 129, 256), wide);
    cr_assert_eq(rule(false, false, 64, 48, 512), wide);
    cr_assert_eq(rule(false, false, 4096, 4096, 31), fallback);
    cr_assert_eq(rule(false, true, 4096, 4096, 31), fallback);
    cr_assert_eq(rule(false, false, 4096, 4096, 32), wide);
    /* no wide provider found: the fallback whatever the shape */
    cr_assert_eq(tconv__provider_rule(NULL, false, false, 4096, 4096, 4096), fallback);
    cr_assert_eq(tconv__provider_rule(NULL, true, false, 4096, 4096, 4096), fallback);
}

Test(provider_rule, full_rate_fmas_onednn_but_few_rows_and_columns_over_a_long_reduction)
{
    const tconv__provider *wide = &tconv__provider_onednn, *fallback = tconv__provider_fallback();
    /* the fallback's corner: 8 < m <= 32, 32 < n <= 128, k >= 2048, B transposed */
    cr_assert_eq(rule(true, true, 16, 100, 8192), fallback);
    cr_assert_eq(rule(true, true, 9, 33, 2048), fallback);
    cr_assert_eq(rule(true, true, 32, 128, 2048), fallback);
    /* each bound crossed by one */
    cr_assert_eq(rule(true, false, 16, 100, 8192), wide);
    cr_assert_eq(rule(true, true, 8, 100, 8192), wide);
    cr_assert_eq(rule(true, true, 33, 100, 8192), wide);
    cr_assert_eq(rule(true, true, 16, 32, 8192), wide);
    cr_assert_eq(rule(true, true, 16, 129, 8192), wide);
    cr_assert_eq(rule(true, true, 16, 100, 2047), wide);
    /* where the halved regime sends GEMMs to the fallback, full rate keeps onednn */
    cr_assert_eq(rule(true, true, 64, 64, 4096), wide);
    cr_assert_eq(rule(true, true, 64, 48, 512), wide);
    cr_assert_eq(rule(true, true, 64, 256, 3136), wide);
    cr_assert_eq(rule(true, false, 336, 1024, 21), wide);
    cr_assert_eq(rule(true, true, 4096, 4096, 4), wide);
}

Test(provider_rule, short_kernel_bound_follows_the_regime)
{
    tconv__ctx c;
    memset(&c, 0, sizeof c);
    c.widest = &tconv__provider_onednn;
    c.wide_faster = false;
    cr_assert_eq(tconv__short_k(&c, false), TCONV__SHORT_K);
    cr_assert_eq(tconv__short_k(&c, true), TCONV__SHORT_K);
    c.wide_faster = true;
    cr_assert_eq(tconv__short_k(&c, false), 3);
    cr_assert_eq(tconv__short_k(&c, true), TCONV__SHORT_K); /* the bias written with it */
    c.provider = &tconv__provider_onednn; /* a named provider takes every GEMM */
    cr_assert_eq(tconv__short_k(&c, false), 0);
    cr_assert_eq(tconv__short_k(&c, true), 0);
    c.provider = tconv__provider_fallback();
    c.wide_faster = false;
    cr_assert_eq(tconv__short_k(&c, true), 0);
}

Test(provider_rule, faster_only_for_a_wider_provider_than_the_fallback)
{
    bool faster = true;
    const tconv__provider *w32 = tconv__provider_widest(TCONV_F32, &faster);
    cr_assert(w32 != NULL);
    if (w32 == tconv__provider_fallback() ||
        w32->vector_bits() <= tconv__provider_fallback()->vector_bits())
        cr_assert(!faster, "%s: no wider than the fallback, yet faster", w32->name);
    faster = true;
    tconv__provider_widest(TCONV_F64, &faster); /* oneDNN serves float32 only */
    cr_assert(!faster);
}
