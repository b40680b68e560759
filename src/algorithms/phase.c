/*
 * The phase algorithm: stride-phase (sub-pixel) decomposition of the transposed product.
 *
 * Along one axis, x position i = q·s + φ (phase φ = i mod s) receives y through exactly
 * the taps k with (φ + p - k·d) ≡ 0 (mod s), from o = q + (φ + p - k·d)/s. So every phase
 * of x is an ordinary stride-1 correlation of y with a sub-kernel of about ⌈k/s⌉ taps
 * (every s/gcd(s,d)-th tap). The s^dims phases are independent:
 *
 *   apply_t:  x_φ[C_x/g][q] = W_φ · cols_φ,   cols_φ[(cy, j)][q] = y[cy][q + off_j]
 *
 * one GEMM per phase, each writing its own x positions once: no multiplications by the
 * zeros the collection view inserts, no scatter-add as in col2im. A phase with no taps
 * is zero.
 *
 * The other two products are stride-s convolutions, which read x without inserted zeros
 * already: they are the gemm algorithm's (im2col reads each phase of x in place).
 *
 * With very few channels per group (depthwise layers) a GEMM per phase would be a dot
 * product; there the same decomposition runs as plain vectorisable loops, for all three
 * products: each is a stride-1 correlation between y and a phase of x.
 */
#include "internal.h"

#include "threads.h"
#include <stddef.h>
#include <string.h>

/* Phases per axis the tables hold; a larger stride is refused (auto then uses gemm). */
#define TCONV__PHASE_MAX_STRIDE 64
/* At most this many channel pairs per group (C_x/g · C_y/g): loops instead of GEMMs. */
#define TCONV__PHASE_LOOP_CHANNELS 4
/* Batch folding stops once a phase GEMM has this many columns. */
#define TCONV__PHASE_FOLD_COLUMNS ((int64_t)1024)
/* Lanes of the weight-gradient accumulators: enough for one vector register. */
#define TCONV__PHASE_LANES 16

/* The phases of one axis. Positions q run over Q = ⌈X/s⌉ for every phase (a uniform
 * grid); a phase whose last position lies past X has q < count[φ] only. */
typedef struct phase_axis {
    int64_t Q;       /* grid positions per phase */
    int64_t active;  /* phases with at least one tap (inside X) */
    int64_t taps;    /* taps over all active phases */
    int64_t step;    /* tap step inside a phase: s / gcd(s, d) */
    int64_t shift;   /* offset step between a phase's taps: d / gcd(s, d) */
    int64_t index[TCONV__PHASE_MAX_STRIDE]; /* active index of phase φ, or -1 */
    /* per active phase: */
    int64_t phi[TCONV__PHASE_MAX_STRIDE];   /* the phase */
    int64_t count[TCONV__PHASE_MAX_STRIDE]; /* positions inside X */
    int64_t first[TCONV__PHASE_MAX_STRIDE]; /* its first tap */
    int64_t ntaps[TCONV__PHASE_MAX_STRIDE]; /* its number of taps */
    int64_t off[TCONV__PHASE_MAX_STRIDE];   /* y offset of its first tap: o = q + off */
    int64_t prefix[TCONV__PHASE_MAX_STRIDE];/* taps of the active phases before it */
} phase_axis;

typedef struct phases {
    phase_axis ax[3];
    int64_t active; /* active phases over the three axes (the product) */
    int64_t taps;   /* Σ over active phases of their taps: rows per y channel */
    int64_t grid;   /* Q0·Q1·Q2: positions of one phase of one image */
} phases;

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        const int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Tabulates an axis; false if its stride exceeds the table. */
static bool axis_phases(const tconv__shape *sh, int a, phase_axis *ax)
{
    const int64_t s = sh->s[a], d = sh->d[a], p = sh->p[a], K = sh->k[a], X = sh->x[a];
    if (s > TCONV__PHASE_MAX_STRIDE)
        return false;
    const int64_t g = gcd64(s, d);
    ax->Q = (X + s - 1) / s;
    ax->step = s / g;
    ax->shift = d / g;
    ax->active = ax->taps = 0;
    for (int64_t phi = 0; phi < s; ++phi) {
        ax->index[phi] = -1;
        if (phi >= X)
            continue;
        int64_t k = 0;
        while (k < K && k < ax->step && ((phi + p - k * d) % s + s) % s != 0)
            ++k;
        if (k == K || k == ax->step)
            continue;
        const int64_t i = ax->active++;
        ax->index[phi] = i;
        ax->phi[i] = phi;
        ax->count[i] = (X - phi + s - 1) / s;
        ax->first[i] = k;
        ax->ntaps[i] = (K - k + ax->step - 1) / ax->step;
        ax->off[i] = (phi + p - k * d) / s; /* exact: the numerator is a multiple of s */
        ax->prefix[i] = ax->taps;
        ax->taps += ax->ntaps[i];
    }
    return true;
}

static bool phases_of(const tconv__shape *sh, phases *ph)
{
    ph->active = ph->taps = ph->grid = 1;
    for (int a = 0; a < 3; ++a) {
        if (!axis_phases(sh, a, &ph->ax[a]))
            return false;
        ph->active *= ph->ax[a].active;
        ph->taps *= ph->ax[a].taps;
        ph->grid *= ph->ax[a].Q;
    }
    return true;
}

/* One active phase of the three axes: its per-axis indices, taps and the first tap's
 * position among all taps (phases in lexicographic order, taps (j0, j1, j2) inside). */
typedef struct phase {
    int64_t i[3];
    int64_t ntaps, tap0;
} phase;

static phase phase_at(const phases *ph, int64_t alpha)
{
    const phase_axis *A = ph->ax;
    phase f;
    f.i[2] = alpha % A[2].active;
    f.i[1] = alpha / A[2].active % A[1].active;
    f.i[0] = alpha / A[2].active / A[1].active;
    const int64_t t0 = A[0].ntaps[f.i[0]], t1 = A[1].ntaps[f.i[1]], t2 = A[2].ntaps[f.i[2]];
    f.ntaps = t0 * t1 * t2;
    f.tap0 = A[0].prefix[f.i[0]] * A[1].taps * A[2].taps +
             t0 * (A[1].prefix[f.i[1]] * A[2].taps + t1 * A[2].prefix[f.i[2]]);
    return f;
}

/* Tap j of phase f: its flattened kernel index; off[a] = its y offset per axis. */
static int64_t tap_of(const tconv__shape *sh, const phases *ph, const phase *f, int64_t j,
                      int64_t off[3])
{
    const phase_axis *A = ph->ax;
    const int64_t t1 = A[1].ntaps[f->i[1]], t2 = A[2].ntaps[f->i[2]];
    const int64_t jj[3] = {j / t2 / t1, j / t2 % t1, j % t2};
    int64_t kk = 0;
    for (int a = 0; a < 3; ++a) {
        const phase_axis *ax = &A[a];
        kk = kk * sh->k[a] + ax->first[f->i[a]] + jj[a] * ax->step;
        off[a] = ax->off[f->i[a]] - jj[a] * ax->shift;
    }
    return kk;
}

/* [lo, hi) of positions q < count with 0 <= q + off < Y. */
static void shifted_range(int64_t count, int64_t off, int64_t Y, int64_t *lo, int64_t *hi)
{
    *lo = off < 0 ? (-off < count ? -off : count) : 0;
    *hi = Y - off < count ? Y - off : count;
    if (*hi < *lo)
        *hi = *lo;
}

bool tconv__phase_uses_loops(const tconv__shape *sh)
{
    return sh->cxg * sh->cyg <= TCONV__PHASE_LOOP_CHANNELS;
}

/*
 * One call's plan. GEMM branch of apply_t, per chunk (images folded, or grid lines):
 *   wpack[g][α][C_x/g][(cy, j)]   the weight regrouped per phase (once per call)
 *   cols[(α, cy, j)][width]       phase-wise im2col of y
 *   xbuf[α][C_x/g][width]         the GEMMs' results, interleaved into x afterwards; a
 *                                 single unfolded phase (stride 1) is written in place.
 * Loops branch: per thread, one phase plane of an x channel (apply_t), or all its phases
 * (apply, and wgrad with its accumulators), or for apply with s2 = 1 one x channel with
 * its padding made real (padding_of).
 */
typedef struct plan {
    bool loops;
    bool padded;           /* loops: direct rows over a bordered x (apply, s2 = 1) or y
                            * with the kernel flipped (apply_t, every s = 1) */
    bool streamed;         /* padded: each output channel summed in the thread's buffer,
                            * then stored past the caches (streams_output) */
    bool interior;         /* padded: the interior rows read from the input itself, only
                            * the edge rows through the copy (reads_in_place) */
    int team;              /* loops: threads that get a buffer (the bound may cap them) */
    int64_t per_thread;    /* loops: elements per thread */
    int64_t pad_lo[3], pad_ext[3], pad_count; /* loops: a bordered y (apply_t) or x (apply,
                                               * padded) channel */
    int64_t images, lines; /* GEMM: chunk = images of whole grids, or grid lines */
    bool in_place;         /* GEMM: the phase GEMM writes x itself */
    int64_t wpack, cols, xbuf;
    phases ph; /* last: derived from the shape, so a product plan keeps what comes before
                * it and the product tabulates the phases again (kept_bytes) */
} plan;

/* What a product plan keeps of `plan`: everything but the phase tables. */
static size_t kept_bytes(void)
{
    return offsetof(plan, ph);
}

_Static_assert(offsetof(plan, ph) <= TCONV__PLAN_DATA, "the phase plan outgrows its room");

/* The products' paths besides gemm's own (apply and wgrad outside the loops are gemm's). */
#define PHASE_PATH_LOOPS 16
#define PHASE_PATH_GEMM 17
#define PHASE_PATH_DEPTHWISE_NHWC 18
#define PHASE_PATH_PADDED 19 /* loops over a bordered copy (padding_of, flipped_padding_of) */
#define PHASE_PATH_PADDED_STREAMED 20 /* the same, the output stored past the caches */
#define PHASE_PATH_IN_PLACE 21 /* a 3x3's interior rows in place, the edge rows bordered */
#define PHASE_PATH_IN_PLACE_STREAMED 22 /* the same, the output stored past the caches */

/* Parts of the channels-last depthwise weight gradient: runs of lines, each summed into
 * its own Πk·C partial, then the partials added in order. A fixed count, so the sums do
 * not depend on the team; channel runs over the whole batch (the first form) read 64 of
 * every C·4 bytes of both tensors per pass and ran 7x slower than channels-first. */
#define PHASE_DEPTHWISE_WGRAD_PARTS 32

/* How many parts a call's weight gradient has (fewer when y has fewer lines). */
static int64_t depthwise_wgrad_parts(const tconv__shape *sh)
{
    const int64_t lines = sh->batch * sh->y[0] * sh->y[1];
    return lines < PHASE_DEPTHWISE_WGRAD_PARTS ? (lines > 0 ? lines : 1)
                                               : PHASE_DEPTHWISE_WGRAD_PARTS;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/*
 * apply_t's loops read each y channel through a copy with a zero border, wide enough that
 * every tap of every phase covers its whole plane: a tap then adds full rows, where the
 * map's edges would otherwise leave rows one short (31 of 32 positions), whose ragged
 * ends cost more than the rest of the row. Along an axis, phase i's taps read
 * q + off for q in [0, count_i) and off in [off_i - (ntaps_i - 1)·shift, off_i]; the copy
 * holds y at offset lo and spans ext. False if its size overflows.
 */
static bool border_of(const tconv__shape *sh, const phases *ph, plan *pl)
{
    pl->pad_count = 1;
    for (int a = 0; a < 3; ++a) {
        const phase_axis *A = &ph->ax[a];
        int64_t lo = 0, end = sh->y[a]; /* the copy spans [-lo, end) of y's positions */
        for (int64_t i = 0; i < A->active; ++i) {
            const int64_t least = A->off[i] - (A->ntaps[i] - 1) * A->shift;
            int64_t last; /* one past the furthest position read */
            if (least < -lo)
                lo = -least;
            if (!tconv__add(A->count[i], A->off[i], &last))
                return false;
            if (last > end)
                end = last;
        }
        pl->pad_lo[a] = lo;
        if (!tconv__add(lo, end, &pl->pad_ext[a]) ||
            !tconv__mul(pl->pad_count, pl->pad_ext[a], &pl->pad_count))
            return false;
    }
    return true;
}

/*
 * The bordered copy of a direct correlation's input channel (padded_rows): the input of
 * extents `in` at offset lo[a] per axis, spanning what the last of the `out` outputs
 * reads with stride s and its last tap. Sets the plan's border; false if it overflows.
 */
static bool border_for(const tconv__shape *sh, const int64_t in[3], const int64_t out[3],
                       const int64_t s[3], const int64_t lo[3], plan *pl)
{
    int64_t count = 1;
    for (int a = 0; a < 3; ++a) {
        const int64_t reach = (out[a] - 1) * s[a] + (sh->k[a] - 1) * sh->d[a] + 1;
        pl->pad_lo[a] = lo[a];
        pl->pad_ext[a] = in[a] + lo[a] > reach ? in[a] + lo[a] : reach;
        int64_t up; /* rows of 16 elements' multiples: on 64 bytes in float32 (4%) */
        if (a == 2 && pl->pad_ext[a] > 16 && tconv__add(pl->pad_ext[a], 15, &up))
            pl->pad_ext[a] = up / 16 * 16;
        if (!tconv__mul(count, pl->pad_ext[a], &count))
            return false;
    }
    pl->pad_count = count;
    pl->padded = true;
    return true;
}

/*
 * Whether the bordered rows stream their output (channels · count elements per image, from
 * in_channels · in_count): when the layer's activations take at least c->stream_bytes
 * (tconv__stream_threshold(): half the last-level cache), each output channel is
 * summed in the thread's buffer (count more elements, added to *per_thread) and copied
 * out with stores past the caches, which saves the write-allocate read of every line.
 * Smaller layers are written in place: the next layer reads them from cache, and so is an
 * output whose buffer would not fit the workspace bound (`budget` elements per thread).
 * False only on overflow.
 */
static bool streams_output(const tconv__ctx *c, int64_t channels, int64_t count,
                           int64_t in_channels, int64_t in_count, int64_t budget, plan *pl,
                           int64_t *per_thread)
{
    int64_t more;
    pl->streamed = false;
    const double bytes = (double)c->sh.batch *
                         ((double)channels * (double)count +
                          (double)in_channels * (double)in_count) *
                         (double)tconv__dtype_size(c->dtype);
    if (!c->stream_bytes || bytes < (double)c->stream_bytes || count < 64)
        return true; /* small: in place */
    if (!tconv__add(*per_thread, count, &more))
        return false;
    if (more > budget)
        return true; /* the buffer does not fit the workspace bound: in place */
    pl->streamed = true;
    *per_thread = more;
    return true;
}

/*
 * apply's loops when the last axis has stride 1 read each x channel through a copy with
 * its zero padding made real: position o·s + k·d of the copy is x's o·s - p + k·d, so
 * every tap of every output is inside it and an output vector sums all its taps in
 * registers (padded_rows).
 */
static bool padding_of(const tconv__shape *sh, plan *pl)
{
    return border_for(sh, sh->x, sh->y, sh->s, sh->p, pl);
}

/*
 * apply_t's loops when every stride is 1: x[i] = Σ_k w[k]·y[i + p - k·d] is a correlation
 * of y with the flipped kernel, padding p' = (K-1)·d - p, so it runs as apply's bordered
 * rows do. False (the phase planes then) where p > (K-1)·d on an axis.
 */
static bool flipped_padding_of(const tconv__shape *sh, plan *pl)
{
    static const int64_t one[3] = {1, 1, 1};
    int64_t lo[3];
    for (int a = 0; a < 3; ++a) {
        lo[a] = (sh->k[a] - 1) * sh->d[a] - sh->p[a];
        if (sh->s[a] != 1 || lo[a] < 0)
            return false;
    }
    return border_for(sh, sh->y, sh->x, one, lo, pl);
}

/*
 * Whether the bordered rows of a product from input extents `in` to `out` may read their
 * interior in place (rows_in_place): a 3x3 kernel of stride 1, padding 1 (border offsets
 * of 1) and no dilation on one plane, so that the output has the input's extents, of at
 * least 5 rows, each at least a 64-byte vector. The copy then holds 6 rows of the plane,
 * not all of them: for MobileNet's depthwise 3x3 at 56x56 the copy was 38% of the
 * forward's time on one thread (AMD EPYC Zen 4, perf), the input read twice.
 */
static bool reads_in_place(const tconv__ctx *c, const int64_t in[3], const int64_t out[3],
                           const int64_t s[3], const plan *pl)
{
    const tconv__shape *sh = &c->sh;
    const int64_t size = (int64_t)tconv__dtype_size(c->dtype);
    return pl->padded && sh->k[0] == 1 && sh->k[1] == 3 && sh->k[2] == 3 && sh->d[1] == 1 &&
           sh->d[2] == 1 && s[1] == 1 && s[2] == 1 && pl->pad_lo[1] == 1 &&
           pl->pad_lo[2] == 1 && in[0] == 1 && out[0] == 1 && in[1] == out[1] &&
           in[2] == out[2] && out[1] >= 5 && out[2] * size >= 64;
}

static tconv_status plan_of(const tconv__ctx *c, tconv_product p, plan *pl, tconv_error *err)
{
    const tconv__shape *sh = &c->sh;
    /* the phase tables (10 KB, most of the plan) are written by phases_of as far as they
     * are read: zeroing them cost a tiny layer's call more than its arithmetic */
    memset(pl, 0, offsetof(plan, ph));
    for (int a = 0; a < 3; ++a)
        if (sh->s[a] > TCONV__PHASE_MAX_STRIDE)
            return tconv__fail(err, TCONV_EUNSUPPORTED, "phase: stride %lld on an axis exceeds "
                               "the %d phases per axis this algorithm tabulates",
                               (long long)sh->s[a], TCONV__PHASE_MAX_STRIDE);
    phases_of(sh, &pl->ph);
    const phases *ph = &pl->ph;
    const size_t size = tconv__dtype_size(c->dtype);
    const int64_t budget = c->ws_limit > 3 * TCONV__ALIGN
                               ? (int64_t)((c->ws_limit - 3 * TCONV__ALIGN) / size) : 0;

    /* loops: the planes of the phases φ2 of one (φ0, φ1) and the bordered y channels of
     * the group (apply_t), or the phases of one x channel plus, for wgrad, lane
     * accumulators */
    int64_t per_thread = ph->ax[2].active * ph->grid, border;
    bool sized = tconv__phase_uses_loops(sh);
    static const int64_t one[3] = {1, 1, 1};
    if (sized && p == TCONV_APPLY_T && sh->x_count > 0 && flipped_padding_of(sh, pl)) {
        sized = tconv__add(pl->pad_count, sh->k_count, &per_thread) && /* + flipped taps */
                streams_output(c, sh->cx, sh->x_count, sh->cy, sh->y_count, budget, pl,
                               &per_thread);
        pl->interior = reads_in_place(c, sh->y, sh->x, one, pl);
    }
    else if (sized && p == TCONV_APPLY_T)
        sized = border_of(sh, ph, pl) && tconv__mul(sh->cyg, pl->pad_count, &border) &&
                tconv__add(per_thread, border, &per_thread);
    else if (sized && p == TCONV_APPLY && sh->s[2] == 1 && sh->y_count > 0) {
        sized = padding_of(sh, pl);
        per_thread = pl->pad_count;
        sized = sized && streams_output(c, sh->cy, sh->y_count, sh->cx, sh->x_count, budget,
                                        pl, &per_thread);
        pl->interior = reads_in_place(c, sh->x, sh->y, sh->s, pl);
    } else if (sized && p == TCONV_WGRAD && sh->s[2] == 1 && sh->y_count > 0 &&
               sh->x_count > 0) {
        sized = padding_of(sh, pl); /* padded_wgrad: one bordered x channel */
        per_thread = pl->pad_count;
        pl->interior = reads_in_place(c, sh->x, sh->y, sh->s, pl);
    } else if (sized) {
        int64_t lanes = 0; /* wgrad's lane sums, checked: a huge kernel's taps overflow */
        sized = tconv__mul(ph->active, ph->grid, &per_thread) &&
                (p != TCONV_WGRAD || tconv__mul(ph->taps, TCONV__PHASE_LANES, &lanes)) &&
                tconv__add(per_thread, lanes, &per_thread);
    }
    if (sized && (per_thread ? per_thread : 1) <= budget) {
        pl->loops = true;
        pl->per_thread = per_thread ? per_thread : 1; /* a real buffer even when idle */
        const int64_t fit = budget / pl->per_thread; /* >= 1: one thread's buffer fits */
        pl->team = (int)min64(c->threads, fit);
        return TCONV_OK;
    }
    if (p != TCONV_APPLY_T || sh->batch == 0 || ph->active == 0)
        return TCONV_OK; /* gemm's products (sized by tconv__gemm_plan), or nothing to do */

    const int64_t rows = sh->cyg * ph->taps;
    int64_t wpack;
    if (rows > TCONV__BLAS_INT_MAX || sh->cxg > TCONV__BLAS_INT_MAX ||
        !tconv__mul(sh->cx, rows, &wpack))
        return tconv__fail(err, TCONV_EUNSUPPORTED, "phase: a GEMM dimension exceeds the BLAS "
                           "integer range (%lld)", (long long)TCONV__BLAS_INT_MAX);
    pl->wpack = wpack;
    const bool one_phase = sh->s[0] == 1 && sh->s[1] == 1 && sh->s[2] == 1;
    const int64_t per_column = rows + ph->active * sh->cxg; /* cols + xbuf */
    const int64_t left = budget - wpack, lines = ph->ax[0].Q * ph->ax[1].Q;
    int64_t fold = min64(sh->batch, (TCONV__PHASE_FOLD_COLUMNS + ph->grid - 1) / ph->grid);
    if (one_phase && 2 * ph->grid >= TCONV__PHASE_FOLD_COLUMNS)
        fold = 1; /* big enough alone, and then written in place */
    fold = min64(fold, min64(left > 0 ? left / per_column / ph->grid : 0,
                             TCONV__BLAS_INT_MAX / ph->grid));
    pl->images = 1;
    pl->lines = lines;
    if (fold >= 2) {
        pl->images = fold;
        pl->cols = rows * fold * ph->grid;
        pl->xbuf = ph->active * sh->cxg * fold * ph->grid;
        return TCONV_OK;
    }
    pl->in_place = one_phase;
    int64_t per_line; /* past int64 it cannot fit any bound: no line at all */
    if (!tconv__mul(one_phase ? rows : per_column, ph->ax[2].Q, &per_line))
        per_line = INT64_MAX;
    pl->lines = min64(lines, left > 0 ? left / per_line : 0);
    if (pl->lines == 0)
        return tconv__fail(err, TCONV_EWORKSPACE, "phase: workspace_limit = %zu bytes cannot "
                           "hold the weights regrouped by phase and the columns of one line "
                           "(%lld + %lld elements of %zu bytes)", c->ws_limit,
                           (long long)wpack, (long long)per_line, size);
    pl->cols = rows * pl->lines * ph->ax[2].Q;
    pl->xbuf = one_phase ? 0 : ph->active * sh->cxg * pl->lines * ph->ax[2].Q;
    return TCONV_OK;
}

/* Element offsets of the three GEMM-branch buffers, each aligned. */
static void buffer_offsets(const plan *pl, size_t size, int64_t *cols, int64_t *xbuf)
{
    const int64_t per = (int64_t)(TCONV__ALIGN / size);
    *cols = (pl->wpack + per - 1) / per * per;
    *xbuf = *cols + (pl->cols + per - 1) / per * per;
}

/* No shift, for tap_axpy's side that is not shifted. */
static const int64_t zero3[3] = {0, 0, 0};

/* Lines of a task of the channels-last depthwise loops: a batch's lines cut so that there
 * are TCONV__PHASE_MIN_TASKS tasks at least when there are that many lines. */
#define TCONV__PHASE_MIN_TASKS 16
static int64_t depthwise_lines(const tconv__shape *sh, int64_t lines)
{
    const int64_t all = sh->batch * lines;
    const int64_t per = (all + TCONV__PHASE_MIN_TASKS - 1) / TCONV__PHASE_MIN_TASKS;
    return per < 1 ? 1 : per > lines ? lines : per;
}

/* What padded_rows computes: outputs of extents `out` over a bordered input whose rows
 * are P1 x P2, output o reading o·s + k·d for taps k of extents `k`. */
typedef struct rows_view {
    int64_t out[3], s[3], d[3], k[3], P1, P2;
} rows_view;

#define TCONV_TEMPLATE "algorithms/phase_tmpl.h"
#include "instantiate.h"

/* Channels-last depthwise layers (one x channel per y channel) take the loops of
 * kernels/depthwise.c as they are, when the weight in [tap][channel] order and the weight
 * gradient's running sums (of a team as large as the call may ask for) fit under the
 * bound; every other call computes on channels-first copies. */
static bool takes_channels_last(const tconv__ctx *c)
{
    const tconv__shape *sh = &c->sh;
    if (!tconv__phase_uses_loops(sh) || !tconv__depthwise_fits(sh))
        return false;
    const size_t size = tconv__dtype_size(c->dtype);
    const double need = (1.0 + (double)PHASE_DEPTHWISE_WGRAD_PARTS) * (double)sh->cy *
                            (double)sh->k_count * (double)size + 4 * TCONV__ALIGN;
    return need <= (double)c->ws_limit;
}

static tconv_status plan_depthwise_nhwc(const tconv__ctx *c, tconv_product p,
                                        tconv__product_plan *pp)
{
    if (p == TCONV__APPLY_WGRAD) {
        pp->path = TCONV__PATH_DECLINED;
        return TCONV_OK;
    }
    pp->path = PHASE_PATH_DEPTHWISE_NHWC;
    const int64_t K = c->sh.k_count;
    /* apply, apply_t: the weight in [tap][channel] order; wgrad: its partials */
    const int64_t shared =
        (p == TCONV_WGRAD ? depthwise_wgrad_parts(&c->sh) : 1) * c->sh.cy * K;
    return tconv__plan_ws(pp, c->dtype, shared, 0, c->threads)
               ? TCONV_OK : TCONV_EOVERFLOW;
}

static tconv_status plan_product(const tconv__ctx *c, tconv_product p, tconv__product_plan *pp,
                                 tconv_error *err)
{
    if (c->layout == TCONV_LAYOUT_CHANNELS_LAST) { /* only takes_channels_last shapes */
        const tconv_status s = plan_depthwise_nhwc(c, p, pp);
        return s == TCONV_OK ? s : tconv__fail(err, s, "phase: workspace size overflows");
    }
    plan pl;
    tconv_status s = plan_of(c, p == TCONV__APPLY_WGRAD ? TCONV_WGRAD : p, &pl, err);
    if (s != TCONV_OK)
        return s;
    if (!pl.loops && p != TCONV_APPLY_T)
        return tconv__gemm_plan(c, p, pp, err); /* gemm's products, the fused one too */
    if (p == TCONV__APPLY_WGRAD) { /* the loops have no columns to share */
        pp->path = TCONV__PATH_DECLINED;
        return TCONV_OK;
    }
    memcpy(pp->data.bytes, &pl, kept_bytes());
    pp->path = !pl.loops   ? PHASE_PATH_GEMM
               : pl.interior ? (pl.streamed ? PHASE_PATH_IN_PLACE_STREAMED : PHASE_PATH_IN_PLACE)
               : pl.padded ? (pl.streamed ? PHASE_PATH_PADDED_STREAMED : PHASE_PATH_PADDED)
                           : PHASE_PATH_LOOPS;
    pp->sums_bias = p == TCONV_WGRAD && pl.loops && pl.padded; /* padded_wgrad_region */
    /* loops: a buffer per thread; GEMM branch: wpack, cols, xbuf shared by the team */
    int64_t shared = 0;
    const int64_t parts[3] = {pl.wpack, pl.cols, pl.xbuf};
    for (int i = 0; i < 3; ++i) {
        size_t b;
        if (!tconv__elem_bytes(parts[i], c->dtype, &b) ||
            !tconv__add(shared, (int64_t)(b / tconv__dtype_size(c->dtype)), &shared))
            return tconv__fail(err, TCONV_EOVERFLOW, "phase: workspace size overflows");
    }
    if (!tconv__plan_ws(pp, c->dtype, shared, pl.loops ? pl.per_thread : 0,
                        pl.loops ? pl.team : c->threads))
        return tconv__fail(err, TCONV_EOVERFLOW, "phase: workspace size overflows");
    return TCONV_OK;
}

TCONV__DTYPE_DISPATCH(apply)
TCONV__DTYPE_DISPATCH(apply_t)
TCONV__DTYPE_DISPATCH(wgrad)

const tconv__algo tconv__algo_phase = {TCONV_ALGO_PHASE, "phase", plan_product, apply, apply_t,
                                       wgrad, tconv__gemm_apply_wgrad, true,
                                       takes_channels_last};
