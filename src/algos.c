/* The table of algorithms, references last, and the rule `auto` follows. */
#include "internal.h"

#include <string.h>

static const tconv__algo *const table[] = {
    &tconv__algo_gemm,
    &tconv__algo_phase,
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

bool tconv__fuses_bias(const tconv__algo *a)
{
    return a == &tconv__algo_gemm;
}

/*
 * auto, by shape alone (so the choice never depends on the thread count), among the
 * production algorithms only:
 *   1. gemm when its layout needs no col2im accumulation: pointwise (1x1 kernel, stride 1)
 *      or tiled (kernel == stride without padding or dilation; 1x1 input maps);
 *   2. phase when it accepts the geometry (stride <= 64 per axis) and the layer is
 *      depthwise-like (C_x/g · C_y/g <= 4: its plain loops beat GEMMs of one row) or
 *      strided (each phase one GEMM instead of col2im's scatter-add);
 *   3. gemm otherwise.
 */
const tconv__algo *tconv__algo_resolve(tconv_algo a, const tconv__ctx *c)
{
    if (a != TCONV_ALGO_AUTO)
        return find(a);
    const tconv__shape *sh = &c->sh;
    if (tconv__gemm_layout_of(sh) != TCONV__LAYOUT_GENERAL)
        return &tconv__algo_gemm;
    size_t bytes;
    if (tconv__algo_phase.plan(c, TCONV_APPLY_T, &bytes, NULL) != TCONV_OK)
        return &tconv__algo_gemm;
    const bool strided = sh->s[0] > 1 || sh->s[1] > 1 || sh->s[2] > 1;
    if (tconv__phase_uses_loops(sh) || strided)
        return &tconv__algo_phase;
    return &tconv__algo_gemm;
}
