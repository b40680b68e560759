/* Depthwise products on channels-last tensors (see depthwise_tmpl.h). */
#include "internal.h"

#include <string.h>

/* Channels per run of running sums. */
#define RUN 64

/* The taps of one axis that connect a position to the other side, and where they land. */
typedef struct taps {
    int64_t n;
    int64_t k[TCONV__DEPTHWISE_MAX_TAPS], at[TCONV__DEPTHWISE_MAX_TAPS];
} taps;

/* Output position o of axis a reads input i = o·s - p + k·d: the taps inside the map. */
static void reading_taps(const tconv__shape *sh, int a, int64_t o, taps *t)
{
    t->n = 0;
    for (int64_t k = 0; k < sh->k[a]; ++k) {
        const int64_t i = o * sh->s[a] - sh->p[a] + k * sh->d[a];
        if ((uint64_t)i < (uint64_t)sh->x[a]) /* 0 <= i < X: one unsigned compare */
            t->k[t->n] = k, t->at[t->n++] = i;
    }
}

/* Input position i of axis a is reached from the outputs o with o·s = i + p - k·d. Without
 * a division per tap (they were a third of a channels-last depthwise call): v = i + p - k·d
 * is kept as q·s + r, 0 <= r < s, and stepped down by d; with d = 1 the hits are every
 * s-th tap from k = r. */
static void reached_taps_undilated(const tconv__shape *sh, int a, int64_t q, int64_t r,
                                   taps *t)
{
    const int64_t s = sh->s[a], K = sh->k[a], Y = sh->y[a];
    t->n = 0;
    for (int64_t k = r; k < K && q >= 0; k += s, --q)
        if (q < Y)
            t->k[t->n] = k, t->at[t->n++] = q;
}

static void reached_taps(const tconv__shape *sh, int a, int64_t i, taps *t)
{
    const int64_t s = sh->s[a], d = sh->d[a], K = sh->k[a], Y = sh->y[a];
    const int64_t v = i + sh->p[a]; /* >= 0: i and p are */
    int64_t q = v / s, r = v % s;
    if (d == 1) {
        reached_taps_undilated(sh, a, q, r, t);
        return;
    }
    t->n = 0;
    const int64_t dq = d / s, dr = d % s;
    for (int64_t k = 0; k < K && q >= 0; ++k) {
        if (r == 0 && q < Y)
            t->k[t->n] = k, t->at[t->n++] = q;
        r -= dr, q -= dq;
        if (r < 0)
            r += s, --q;
    }
}

#define TCONV_TEMPLATE "kernels/depthwise_tmpl.h"
#include "instantiate.h"

bool tconv__depthwise_fits(const tconv__shape *sh)
{
    return sh->cxg == 1 && sh->cyg == 1 && sh->k[0] <= TCONV__DEPTHWISE_MAX_TAPS &&
           sh->k[1] <= TCONV__DEPTHWISE_MAX_TAPS && sh->k[2] <= TCONV__DEPTHWISE_MAX_TAPS;
}
