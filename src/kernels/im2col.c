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
    const int64_t r = off % s2; /* in (-s2, s2): adding s2 only to a negative one cannot
                                 * overflow, where (r + s2) % s2 did for a stride near
                                 * INT64_MAX (found by the fuzzer) */
    *f = r < 0 ? r + s2 : r;
    *shift = (off - *f) / s2;
}

/* im2col of short lines through phase planes (im2col_tmpl.h): along each axis, tap k's
 * offset k·d - p = s·shift + f reads phase f of x at plane position o + shift - least,
 * where least is the smallest shift of the axis; a plane has `extent` = Y + (largest -
 * least) positions per axis, x's or zeros (padding). */
#define PLANES_MOST 4096 /* elements of one channel's planes, on the stack */
#define PLANES_TAPS 256  /* taps whose plane offsets are tabulated */
#define TCONV__PLANES_LINE 17 /* lines shorter than this take the planes */
_Static_assert(TCONV__PLANES_LINE <= 32, "copy_short copies runs shorter than 32");
typedef struct planes {
    int64_t least[3], extent[3], count;
} planes;

/* The planes of a shape, if one channel's fit PLANES_MOST elements. */
static bool planes_of(const tconv__shape *sh, planes *pl)
{
    pl->count = 1;
    for (int a = 0; a < 3; ++a) {
        int64_t f, lo, hi;
        phase_shift(-sh->p[a], sh->s[a], &f, &lo);
        phase_shift((sh->k[a] - 1) * sh->d[a] - sh->p[a], sh->s[a], &f, &hi);
        pl->least[a] = lo;
        pl->extent[a] = sh->y[a] + hi - lo;
        if (sh->s[a] > PLANES_MOST || pl->extent[a] > PLANES_MOST ||
            pl->count * sh->s[a] * pl->extent[a] > PLANES_MOST)
            return false;
        pl->count *= sh->s[a] * pl->extent[a];
    }
    return true;
}

/* Whether im2col takes a span through phase planes: whole images of lines shorter than
 * TCONV__PLANES_LINE, at most PLANES_TAPS taps, planes within PLANES_MOST. Measured
 * (im2col alone, columns in L2, Intel Xeon): 8x8 and 4x4 outputs of 4x4 stride-2 kernels
 * 2.0x and 2.3x, 7x7 and 14x14 outputs of 3x3 kernels 3.4x and 1.8x, 16x16 at stride 1
 * 1.6x and 2 1.25x; past 16 positions a line the rows' own copies are as fast or faster
 * (28x28 of a stride-2 3x3 kernel 0.6-0.8x through planes). */
static bool by_planes(const tconv__shape *sh, const tconv__span *sp, planes *pl)
{
    return sh->y[2] < TCONV__PLANES_LINE && sp->l0 == 0 && sp->l1 == sh->y[0] * sh->y[1] &&
           sh->k_count <= PLANES_TAPS && planes_of(sh, pl);
}

bool tconv__im2col_by_planes(const tconv__shape *sh, const tconv__span *sp)
{
    planes pl;
    return by_planes(sh, sp, &pl);
}

#define TCONV_TEMPLATE "kernels/im2col_tmpl.h"
#include "instantiate.h"
