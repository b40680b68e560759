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
 * The default rule, by dtype and shape alone (a fixed rule: never a timing taken at run
 * time, so a call's results never depend on the machine's load). float32: onednn when
 * built, except where its JIT kernels lose to OpenBLAS's (see tconv.h); openblas for
 * float64; the reference loops without any BLAS.
 */
#define TCONV__ONEDNN_MIN_K 32
#define TCONV__ONEDNN_MIN_SIDE 32

const tconv__provider *tconv__provider_default(tconv_dtype dtype, int64_t m, int64_t n,
                                               int64_t k)
{
#ifdef TCONV_HAVE_ONEDNN
    if (dtype == TCONV_F32 && k >= TCONV__ONEDNN_MIN_K &&
        (m >= TCONV__ONEDNN_MIN_SIDE || n >= TCONV__ONEDNN_MIN_SIDE))
        return &tconv__provider_onednn;
#endif
    (void)dtype, (void)m, (void)n, (void)k;
    return tconv__provider_fallback();
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
        const tconv__provider *f = tconv__provider_fallback();
#ifdef TCONV_HAVE_ONEDNN
        const char *f32 = "onednn (openblas for k < 32, or fewer than 32 rows and columns)";
#else
        const char *f32 = f->name;
#endif
        const int n = snprintf(buf, buf ? size : 0, "float32: %s; float64: %s", f32, f->name);
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
