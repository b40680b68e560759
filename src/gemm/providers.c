/*
 * The table of GEMM providers this build has, the rule the default follows, and the
 * public functions that name and describe them.
 */
#include "gemm/provider.h"

#include <stdio.h>
#include <string.h>

static const tconv__provider *const table[] = {
#ifdef TCONV_HAVE_OPENBLAS
    &tconv__provider_openblas,
#endif
#ifdef TCONV_HAVE_ONEDNN
    &tconv__provider_onednn,
#endif
    &tconv__provider_reference,
};

static const char *const names[TCONV_PROVIDER_COUNT] = {"default", "openblas", "onednn",
                                                        "reference"};

/* The built provider with this id; NULL for default and for one this build lacks. */
static const tconv__provider *find(tconv_provider id)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (table[i]->id == id)
            return table[i];
    return NULL;
}

const char *tconv__provider_name_of(const tconv__provider *p)
{
    return p->name;
}

static bool serves(const tconv__provider *p, tconv_dtype dtype)
{
    return dtype == TCONV_F64 ? p->dgemm != NULL : p->sgemm != NULL;
}

const tconv__provider *tconv__provider_fallback(void)
{
    return table[0]; /* openblas when built, the reference loops otherwise */
}

/*
 * The default rule: a fixed rule, never a timing taken at run time, so a call's results
 * never depend on the machine's load. For each dtype, the provider whose kernels run the
 * widest fused multiply-adds on this CPU (vector_bits), the first of the table on a tie
 * (openblas where it is built): oneDNN earns its place where it runs AVX-512 and OpenBLAS
 * does not (its table does not know the CPU, or OPENBLAS_CORETYPE holds it to AVX2).
 *
 * How far the wide provider is trusted then depends on whether its wider FMAs are also
 * faster ones (tconv__provider_widest says). Where they are (Intel's AVX-512 cores, AMD
 * from Zen 5: one 512-bit FMA per port and cycle; the Intel parts with a single 512-bit FMA
 * port, some Xeon Silver and Bronze, are taken as full rate too: no fixed record tells
 * them apart), dnnl_sgemm ran 1.2-2x OpenBLAS's AVX2 kernels on nearly every GEMM tconv
 * makes, short reductions included (Intel Xeon with AMX, one thread, GFLOP/s against
 * OpenBLAS's: 336 x 1024 x 21 107-150 against 80, 64 x 48 x 512 with B transposed 122
 * against 80, 64 x 256 x 3136 150 against 96, 360 x 520 x 16 150 against tconv's short
 * kernel's 60), and only a transposed B of a few dozen columns and
 * rows over a long reduction stays with the fallback: TCONV__FEW_ROWS_NT < m <=
 * TCONV__SOME_ROWS_NT, TCONV__FEW_COLS_NT < n <= TCONV__NARROW_NT, k >= TCONV__LONG_K_NT
 * (16 x 100 x 8192 43 against 60, 16 x 48 x 2048 45 against 58, 32 x 100 x 8192 63 against
 * 73; with 8 or 64 rows, or 16 or 256 columns, dnnl led again).
 *
 * Where they are not (AMD Zen 4 splits a 512-bit FMA into two 256-bit halves, so both
 * providers peak alike), the fallback keeps the GEMMs dnnl_sgemm (oneDNN 2.6) was measured
 * slower on: a reduction shorter than TCONV__WIDE_MIN_K (the weight gradient over a small
 * batch, e.g.), and a transposed B of few columns that C has few rows for, which
 * dnnl_sgemm packs slowly: at most TCONV__NARROW_NT columns, or fewer than
 * TCONV__WIDE_MIN_N_NT with a long reduction (TCONV__WIDE_MAX_K_NT terms or more, and more
 * than twice the rows), C having at most TCONV__MANY_ROWS_NT rows. Measured on AMD EPYC
 * Zen 4, AVX-512, one thread, GFLOP/s against OpenBLAS's: 64 x 48 x 512 48 against 83
 * (DCGAN's last layer's weight gradient), 256 x 64 x 256 88 against 100, 16 x 100 x 8192
 * 10 against 62, 64 x 64 x 4096 37 against 90, 128 x 128 x 2048 88 against 101,
 * 64 x 256 x 3136 57-70 against 70-86; with more rows, more columns or a shorter reduction
 * it kept up or led: 3136 x 64 x 256 82 against 73, 512 x 256 x 256 93 against 86,
 * 128 x 288 x 392 111 against 100, 64 x 512 x 4608 73 against 66.
 *
 * Before any of this, GEMMs of at most tconv__short_k terms run tconv's own kernel (short.c;
 * tconv__mm decides): TCONV__SHORT_K, or TCONV__SHORT_K_FAST_WIDE beside a faster wide
 * provider (its 256-bit multiplies and adds ran at 0.4-0.7x dnnl_sgemm's speed from 4 terms
 * up on the Intel Xeon: 128 x 1024 x 8 60 against 83, 64 x 4096 x 6 35 against 98; alike
 * at 3) unless the GEMM adds a bias: the kernel writes it with the product, where a
 * provider's C is filled with it first, a pass more over an output that a short reduction
 * makes large for its work (speech_1d channels-last, 12796 x 512 x 10: 2.6 against 3.3 ms
 * at one thread).
 */
#define TCONV__WIDE_MIN_K 32
#define TCONV__WIDE_MAX_K_NT 1024
#define TCONV__WIDE_MIN_N_NT 512
#define TCONV__NARROW_NT 128
#define TCONV__MANY_ROWS_NT 1024
#define TCONV__FEW_ROWS_NT 8
#define TCONV__SOME_ROWS_NT 32
#define TCONV__FEW_COLS_NT 32
#define TCONV__LONG_K_NT 2048
#define TCONV__SHORT_K_FAST_WIDE ((int64_t)3)

/* Whether this CPU splits each 512-bit FMA into two 256-bit ones (AMD family 19h: Zen 4;
 * Zen 3, of the same family, has no AVX-512 to split). libgcc read the CPU once at load
 * (__builtin_cpu_is reads that record: no cpuid, which costs microseconds in a VM). */
static bool halves_wide_fma(void)
{
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    __builtin_cpu_init(); /* a no-op once libgcc's constructor has run */
    return __builtin_cpu_is("amdfam19h");
#else
    return false;
#endif
}

/* Each provider's vector_bits is asked once: oneDNN's takes 66 ns (Intel Xeon), and a
 * plan is made for every call of the layer entry points (the seed's whole call: 1 us). */
const tconv__provider *tconv__provider_widest(tconv_dtype dtype, bool *faster)
{
    const tconv__provider *best = NULL;
    int best_bits = 0, fallback_bits = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i) {
        if (!serves(table[i], dtype))
            continue;
        const int bits = table[i]->vector_bits();
        if (table[i] == tconv__provider_fallback())
            fallback_bits = bits;
        if (!best || bits > best_bits)
            best = table[i], best_bits = bits;
    }
    if (faster)
        *faster = best && best != tconv__provider_fallback() && best_bits > fallback_bits &&
                  (best_bits < 512 || !halves_wide_fma());
    return best;
}

/* The short kernel's bound under the default rule: `faster` as tconv__provider_widest. */
static int64_t short_k_bound(bool faster, bool bias)
{
    return faster && !bias ? TCONV__SHORT_K_FAST_WIDE : TCONV__SHORT_K;
}

int64_t tconv__short_k(const tconv__ctx *c, bool bias)
{
    return c->provider ? 0 : short_k_bound(c->wide_faster, bias);
}

const tconv__provider *tconv__provider_rule(const tconv__provider *wide, bool faster, bool tb,
                                            int64_t m, int64_t n, int64_t k)
{
    if (!wide)
        return tconv__provider_fallback();
    if (faster) {
        const bool slow_nt = tb && m > TCONV__FEW_ROWS_NT && m <= TCONV__SOME_ROWS_NT &&
                             n > TCONV__FEW_COLS_NT && n <= TCONV__NARROW_NT &&
                             k >= TCONV__LONG_K_NT;
        return slow_nt ? tconv__provider_fallback() : wide;
    }
    const bool long_k = k >= TCONV__WIDE_MAX_K_NT && k > 2 * m && n < TCONV__WIDE_MIN_N_NT;
    const bool slow_nt = tb && m <= TCONV__MANY_ROWS_NT && (n <= TCONV__NARROW_NT || long_k);
    return k >= TCONV__WIDE_MIN_K && !slow_nt ? wide : tconv__provider_fallback();
}

const tconv__provider *tconv__provider_default(const tconv__ctx *c, bool tb, int64_t m,
                                               int64_t n, int64_t k)
{
    return tconv__provider_rule(c->widest, c->wide_faster, tb, m, n, k);
}

tconv_status tconv__provider_select(tconv_provider requested, tconv_dtype dtype,
                                    const tconv__provider **out, tconv_error *err)
{
    *out = NULL;
    if (requested == TCONV_PROVIDER_DEFAULT)
        return TCONV_OK;
    if ((unsigned)requested >= TCONV_PROVIDER_COUNT)
        return tconv__fail(err, TCONV_EINVAL, "options.provider = %d: not a GEMM provider",
                           (int)requested);
    const tconv__provider *p = find(requested);
    if (!p)
        return tconv__fail(err, TCONV_EUNSUPPORTED, "options.provider = %s: this build of "
                           "tconv has no %s provider", names[requested], names[requested]);
    if (!serves(p, dtype))
        return tconv__fail(err, TCONV_EUNSUPPORTED, "options.provider = %s serves float32 "
                           "only, not float64", names[requested]);
    *out = p;
    return TCONV_OK;
}

bool tconv__gemm_prefers_untransposed(const tconv__ctx *c, int64_t k)
{
#ifdef TCONV_HAVE_ONEDNN
    const tconv__provider *p = c->provider ? c->provider
                                           : tconv__provider_default(c, false, 0, 0, k);
    return p == &tconv__provider_onednn;
#else
    (void)c, (void)k;
    return false;
#endif
}

void tconv__team_member(void)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (table[i]->single_thread)
            table[i]->single_thread();
}

/* ---- public ------------------------------------------------------------------------- */

const char *tconv_provider_name(tconv_provider p)
{
    return (unsigned)p < TCONV_PROVIDER_COUNT ? names[p] : "?";
}

tconv_status tconv_provider_from_name(const char *name, tconv_provider *out)
{
    if (!name || !out)
        return TCONV_EINVAL;
    for (int i = 0; i < TCONV_PROVIDER_COUNT; ++i)
        if (strcmp(name, names[i]) == 0) {
            *out = (tconv_provider)i;
            return TCONV_OK;
        }
    return TCONV_EINVAL;
}

int tconv_provider_available(tconv_provider p, tconv_dtype dtype)
{
    if (dtype != TCONV_F32 && dtype != TCONV_F64)
        return 0;
    if (p == TCONV_PROVIDER_DEFAULT)
        return 1;
    const tconv__provider *q = (unsigned)p < TCONV_PROVIDER_COUNT ? find(p) : NULL;
    return q && serves(q, dtype);
}

/* snprintf into the rest of a buffer: advances `at` by the full length. */
static void append(char *buf, size_t size, size_t *at, const char *text)
{
    const size_t n = strlen(text);
    if (buf && *at < size) {
        const size_t room = size - *at;
        memcpy(buf + *at, text, n < room ? n : room - 1);
        buf[*at + (n < room ? n : room - 1)] = '\0';
    }
    *at += n;
}

size_t tconv_provider_info(tconv_provider p, char *buf, size_t size)
{
    if (buf && size)
        buf[0] = '\0';
    if (p == TCONV_PROVIDER_DEFAULT) {
        bool faster;
        const tconv__provider *f32 = tconv__provider_widest(TCONV_F32, &faster);
        const tconv__provider *f64 = tconv__provider_widest(TCONV_F64, NULL);
        const tconv__provider *f = tconv__provider_fallback();
        const char *except = f32 == f ? ""
                             : faster ? ", full-rate: a few transposed-B GEMMs: openblas"
                                      : ", split into halves: k < 32 and some transposed-B "
                                        "GEMMs: openblas";
        const int n = snprintf(
            buf, buf ? size : 0, "the provider with the widest kernels on this CPU: float32 "
            "%s (%d-bit%s), float64 %s (%d-bit); GEMMs with k <= %d (float32 without a bias), "
            "%d (the rest): tconv's short-reduction kernel", f32->name, f32->vector_bits(),
            except, f64->name, f64->vector_bits(), (int)short_k_bound(faster, false),
            (int)short_k_bound(faster, true));
        return n < 0 ? 0 : (size_t)n;
    }
    const tconv__provider *q = (unsigned)p < TCONV_PROVIDER_COUNT ? find(p) : NULL;
    if (!q) {
        const int n = snprintf(buf, buf ? size : 0, "%s: not built", tconv_provider_name(p));
        return n < 0 ? 0 : (size_t)n;
    }
    return q->info(buf, size);
}

size_t tconv_blas_info(char *buf, size_t size)
{
    size_t at = 0;
    if (buf && size)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i) {
        char line[512];
        table[i]->info(line, sizeof line);
        append(buf, size, &at, i ? "\n" : "");
        append(buf, size, &at, table[i]->name);
        append(buf, size, &at, ": ");
        append(buf, size, &at, line);
    }
    return at;
}
