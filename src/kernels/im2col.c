/* im2col / col2im over three axes (1-D and 2-D are 3-D with leading unit axes). */
#include "internal.h"

#include <string.h>

/* One row of the column matrix: a channel and a kernel tap, with per axis the offset
 * i - o*s and the range [lo, hi) of output positions whose input lies inside the map. */
typedef struct tap {
    int64_t ch;
    int64_t off[3], lo[3], hi[3];
} tap;

/* Smallest o >= 0 with o*s + off >= 0, and one past the largest with o*s + off < X,
 * clamped to [0, Y]. off = k*d - p lies in [-p, d(k-1)], so -off and X - 1 - off fit
 * (the geometry keeps x + 2p + d(k-1) within int64); the ceiling is taken as
 * (a - 1)/s + 1, since a + s - 1 may not fit when the stride is huge. */
static void axis_range(int64_t s, int64_t off, int64_t X, int64_t Y, int64_t *lo, int64_t *hi)
{
    int64_t l = off >= 0 ? 0 : (-off - 1) / s + 1;
    int64_t h = X - 1 - off < 0 ? 0 : (X - 1 - off) / s + 1;
    *lo = l < Y ? l : Y;
    *hi = h < Y ? h : Y;
    if (*hi < *lo)
        *hi = *lo;
}

static void tap_of_row(const tconv__shape *sh, int64_t r, tap *t)
{
    int64_t kk = r % sh->k_count;
    t->ch = r / sh->k_count;
    for (int a = 2; a >= 0; --a) {
        const int64_t k = kk % sh->k[a];
        kk /= sh->k[a];
        t->off[a] = k * sh->d[a] - sh->p[a];
        axis_range(sh->s[a], t->off[a], sh->x[a], sh->y[a], &t->lo[a], &t->hi[a]);
    }
}

/* Along the last axis, input position o2·s2 + off is phase *f of the phase plane, at its
 * position o2 + *shift. */
static void phase_shift(int64_t off, int64_t s2, int64_t *f, int64_t *shift)
{
    *f = ((off % s2) + s2) % s2;
    *shift = (off - *f) / s2;
}

#define TCONV_TEMPLATE "kernels/im2col_tmpl.h"
#include "instantiate.h"
