/* The table of algorithms, reference last, and the rule `auto` follows. */
#include "internal.h"

#include <string.h>

static const tconv__algo *const table[] = {
    &tconv__algo_gemm,
    &tconv__algo_scatter,
    &tconv__algo_gather,
};

const char *tconv_algo_name(tconv_algo a)
{
    if (a == TCONV_ALGO_AUTO)
        return "auto";
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (table[i]->id == a)
            return table[i]->name;
    return "?";
}

tconv_status tconv_algo_from_name(const char *name, tconv_algo *out)
{
    if (!name || !out)
        return TCONV_EINVAL;
    for (int a = 0; a < TCONV_ALGO_COUNT; ++a)
        if (strcmp(name, tconv_algo_name((tconv_algo)a)) == 0) {
            *out = (tconv_algo)a;
            return TCONV_OK;
        }
    return TCONV_EINVAL;
}

/* auto: the gemm path is the only production algorithm so far. */
const tconv__algo *tconv__algo_resolve(tconv_algo a, const tconv__ctx *c)
{
    (void)c;
    if (a == TCONV_ALGO_AUTO)
        return &tconv__algo_gemm;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (table[i]->id == a)
            return table[i];
    return NULL;
}
