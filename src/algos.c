/* The table of algorithms, reference last, and the rule `auto` follows. */
#include "internal.h"

#include <string.h>

static const tconv__algo *const table[] = {
    &tconv__algo_gemm,
    &tconv__algo_dense,
    &tconv__algo_sparse,
    &tconv__algo_scatter,
    &tconv__algo_gather,
};

/* The table entry with this id; NULL for auto and for unknown values. */
static const tconv__algo *find(tconv_algo a)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (table[i]->id == a)
            return table[i];
    return NULL;
}

const char *tconv_algo_name(tconv_algo a)
{
    if (a == TCONV_ALGO_AUTO)
        return "auto";
    const tconv__algo *algo = find(a);
    return algo ? algo->name : "?";
}

tconv_status tconv_algo_from_name(const char *name, tconv_algo *out)
{
    if (!name || !out)
        return TCONV_EINVAL;
    if (strcmp(name, "auto") == 0) {
        *out = TCONV_ALGO_AUTO;
        return TCONV_OK;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (strcmp(name, table[i]->name) == 0) {
            *out = table[i]->id;
            return TCONV_OK;
        }
    return TCONV_EINVAL;
}

/* auto: the gemm path is the only production algorithm so far. dense and sparse build the
 * whole transformation matrix on every call: teaching and benchmark paths, never chosen. */
const tconv__algo *tconv__algo_resolve(tconv_algo a, const tconv__ctx *c)
{
    (void)c;
    return a == TCONV_ALGO_AUTO ? &tconv__algo_gemm : find(a);
}
