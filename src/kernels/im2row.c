/* Channels-last im2col / col2im over three axes (1-D and 2-D have leading unit axes). */
#include "internal.h"

#include <string.h>

/* Tap t as its per-axis kernel indices. */
static void tap_coords(const tconv__shape *sh, int64_t t, int64_t k[3])
{
    k[2] = t % sh->k[2];
    k[1] = t / sh->k[2] % sh->k[1];
    k[0] = t / sh->k[2] / sh->k[1];
}

/* The next tap in row-major order (the last wraps to the first). */
static void next_tap(const tconv__shape *sh, int64_t k[3])
{
    if (++k[2] < sh->k[2])
        return;
    k[2] = 0;
    if (++k[1] < sh->k[1])
        return;
    k[1] = 0;
    if (++k[0] == sh->k[0])
        k[0] = 0;
}

/* The input position output position o reads through tap k (i = o·s - p + k·d per axis),
 * flattened into *at; false when it lies in the padding. One unsigned compare per axis
 * tests 0 <= i < X: a negative i wraps to a huge unsigned value. */
static bool position_of(const tconv__shape *sh, int64_t o0, int64_t o1, int64_t o2,
                        const int64_t k[3], int64_t *at)
{
    const int64_t i0 = o0 * sh->s[0] - sh->p[0] + k[0] * sh->d[0];
    const int64_t i1 = o1 * sh->s[1] - sh->p[1] + k[1] * sh->d[1];
    const int64_t i2 = o2 * sh->s[2] - sh->p[2] + k[2] * sh->d[2];
    if ((uint64_t)i0 >= (uint64_t)sh->x[0] || (uint64_t)i1 >= (uint64_t)sh->x[1] ||
        (uint64_t)i2 >= (uint64_t)sh->x[2])
        return false;
    *at = (i0 * sh->x[1] + i1) * sh->x[2] + i2;
    return true;
}

bool tconv__taps_merge(const tconv__shape *sh)
{
    return sh->groups == 1 && sh->d[2] == 1 && sh->k[2] > 1;
}

/* Whether a call with `width` columns per tap takes the merged runs: all of x's channels
 * (a block of them would cut the runs). */
static bool merges_taps(const tconv__shape *sh, int64_t width)
{
    return tconv__taps_merge(sh) && width == sh->cx;
}

#define TCONV_TEMPLATE "kernels/im2row_tmpl.h"
#include "instantiate.h"
