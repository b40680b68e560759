/* Tensor copies between the two layouts and strided views (the runs' adapters). */
#include "internal.h"
#include "kernels/transpose.h"

#include <string.h>

/* o = the axes ordered by decreasing |stride| of `st` (ties: logical order); axes of
 * extent 1 go first, where their stride does not matter. */
static void order_by_stride(const int64_t e[5], const int64_t st[5], int o[5])
{
    for (int i = 0; i < 5; ++i)
        o[i] = i;
    for (int i = 1; i < 5; ++i)
        for (int j = i; j > 0; --j) {
            const int a = o[j - 1], b = o[j];
            const int64_t sa = e[a] == 1 ? INT64_MAX : st[a] < 0 ? -st[a] : st[a];
            const int64_t sb = e[b] == 1 ? INT64_MAX : st[b] < 0 ? -st[b] : st[b];
            if (sb > sa) {
                o[j - 1] = b;
                o[j] = a;
            }
        }
}

/* The axis of extent > 1 with the smallest |stride| in `st` when that stride is small
 * enough for its neighbours to share cache lines (else -1: no axis worth tiling for). */
static int densest_axis(const int64_t e[5], const int64_t st[5])
{
    int best = -1;
    int64_t least = INT64_MAX;
    for (int i = 0; i < 5; ++i) {
        const int64_t s = st[i] < 0 ? -st[i] : st[i];
        if (e[i] > 1 && s < least) {
            least = s;
            best = i;
        }
    }
    return least <= 4 ? best : -1;
}

/* Side of the square tiles of a transposing copy: 16 lines of 16 float64 are 2 KiB. */
#define TCONV__COPY_TILE 16

#define TCONV_TEMPLATE "kernels/layout_tmpl.h"
#include "instantiate.h"

void tconv__dense_strides(const tconv__shape *sh, bool x_side, tconv_layout layout,
                          int64_t st[5])
{
    const int64_t *ext = x_side ? sh->x : sh->y;
    const int64_t C = x_side ? sh->cx : sh->cy, count = x_side ? sh->x_count : sh->y_count;
    const bool last = layout == TCONV_LAYOUT_CHANNELS_LAST;
    st[0] = C * count;
    st[1] = last ? 1 : count;
    st[4] = last ? C : 1;
    st[3] = st[4] * ext[2];
    st[2] = st[3] * ext[1];
}

void tconv__extents(const tconv__shape *sh, bool x_side, int64_t e[5])
{
    const int64_t *ext = x_side ? sh->x : sh->y;
    e[0] = sh->batch;
    e[1] = x_side ? sh->cx : sh->cy;
    e[2] = ext[0], e[3] = ext[1], e[4] = ext[2];
}
