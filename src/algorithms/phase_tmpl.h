/*
 * The phase algorithm for one element type (included by algo_phase.c with T and TC
 * defined). Names: α = an active phase (phase_at), j = a tap of it (tap_of), q = a
 * position of the phase grid, o = q + off a position of y.
 */


/* x_c = the phases src[α][q] interleaved, plus b, for the grid lines l0..l1: x position
 * q·s + φ (per axis) takes src + α·stride + (l - l0)·Q2 + q2, or 0 in a phase without
 * taps. */
static void TC(interleave)(const tconv__shape *sh, const phases *ph, const T *src,
                           int64_t stride, int64_t l0, int64_t l1, T b, T *x_c)
{
    const phase_axis *A = ph->ax;
    const int64_t s2 = sh->s[2];
    for (int64_t l = l0; l < l1; ++l) {
        const int64_t q0 = l / A[1].Q, q1 = l % A[1].Q;
        for (int64_t f0 = 0; f0 < sh->s[0] && q0 * sh->s[0] + f0 < sh->x[0]; ++f0)
        for (int64_t f1 = 0; f1 < sh->s[1] && q1 * sh->s[1] + f1 < sh->x[1]; ++f1) {
            const int64_t i0 = q0 * sh->s[0] + f0, i1 = q1 * sh->s[1] + f1;
            const int64_t a0 = A[0].index[f0], a1 = A[1].index[f1];
            T *row = x_c + (i0 * sh->x[1] + i1) * sh->x[2];
            for (int64_t f2 = 0; f2 < s2 && f2 < sh->x[2]; ++f2) {
                const int64_t a2 = A[2].index[f2], n = (sh->x[2] - f2 + s2 - 1) / s2;
                if (a0 < 0 || a1 < 0 || a2 < 0) {
                    for (int64_t q2 = 0; q2 < n; ++q2)
                        row[q2 * s2 + f2] = b;
                    continue;
                }
                const T *from = src + ((a0 * A[1].active + a1) * A[2].active + a2) * stride +
                                (l - l0) * A[2].Q;
                for (int64_t q2 = 0; q2 < n; ++q2)
                    row[q2 * s2 + f2] = from[q2] + b;
            }
        }
    }
}

/* xd[α][q] = x_c[q·s + φ] for the positions of every active phase inside X (the rest of
 * the grid is never read). */
TCONV__VECTOR_CLONES
static void TC(deinterleave)(const tconv__shape *sh, const phases *ph, const T *x_c, T *xd)
{
    const phase_axis *A = ph->ax;
    const int64_t s2 = sh->s[2];
    for (int64_t alpha = 0; alpha < ph->active; ++alpha) {
        const phase f = phase_at(ph, alpha);
        const int64_t f0 = A[0].phi[f.i[0]], f1 = A[1].phi[f.i[1]], f2 = A[2].phi[f.i[2]];
        T *dst = xd + alpha * ph->grid;
        for (int64_t q0 = 0; q0 < A[0].count[f.i[0]]; ++q0)
        for (int64_t q1 = 0; q1 < A[1].count[f.i[1]]; ++q1) {
            const T *row = x_c + ((q0 * sh->s[0] + f0) * sh->x[1] + q1 * sh->s[1] + f1) *
                                     sh->x[2] + f2;
            T *d = dst + (q0 * A[1].Q + q1) * A[2].Q;
            for (int64_t q2 = 0; q2 < A[2].count[f.i[2]]; ++q2)
                d[q2] = row[q2 * s2];
        }
    }
}

/* ---- GEMM branch: apply_t ------------------------------------------------------------- */

/* wpack[g][α][cx][(cy, j)] = w[g·C_y/g + cy][cx][tap j of α], team-shared. */
static void TC(pack_weights)(const tconv__shape *sh, const phases *ph, const T *w, T *wpack)
{
    const int64_t rows = sh->cyg * ph->taps;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < sh->groups * ph->active; ++t) {
        const int64_t g = t / ph->active;
        const phase f = phase_at(ph, t % ph->active);
        T *block = wpack + g * sh->cxg * rows + sh->cxg * sh->cyg * f.tap0;
        for (int64_t j = 0; j < f.ntaps; ++j) {
            int64_t off[3];
            const int64_t kk = tap_of(sh, ph, &f, j, off);
            for (int64_t cy = 0; cy < sh->cyg; ++cy)
                for (int64_t cx = 0; cx < sh->cxg; ++cx)
                    block[cx * sh->cyg * f.ntaps + cy * f.ntaps + j] =
                        w[((g * sh->cyg + cy) * sh->cxg + cx) * sh->k_count + kk];
        }
    }
}

/* Rows (cy, j) of phase α of the columns, for image y_c's grid lines l0..l1:
 * row[(l - l0)·Q2 + q2] = y_c[cy][q + off_j], 0 outside y or past the phase's extent. */
static void TC(phase_rows)(const tconv__shape *sh, const phases *ph, const phase *f,
                           const T *y_c, int64_t l0, int64_t l1, T *rows, int64_t ld)
{
    const phase_axis *A = ph->ax;
    for (int64_t j = 0; j < f->ntaps; ++j) {
        int64_t off[3], lo[3], hi[3];
        tap_of(sh, ph, f, j, off);
        for (int a = 0; a < 3; ++a)
            shifted_range(A[a].count[f->i[a]], off[a], sh->y[a], &lo[a], &hi[a]);
        T *row = rows + j * ld;
        for (int64_t l = l0; l < l1; ++l) {
            const int64_t q0 = l / A[1].Q, q1 = l % A[1].Q;
            T *dst = row + (l - l0) * A[2].Q;
            if (q0 < lo[0] || q0 >= hi[0] || q1 < lo[1] || q1 >= hi[1]) {
                memset(dst, 0, (size_t)A[2].Q * sizeof(T));
                continue;
            }
            const T *src = y_c + ((q0 + off[0]) * sh->y[1] + q1 + off[1]) * sh->y[2] + off[2];
            memset(dst, 0, (size_t)lo[2] * sizeof(T));
            memcpy(dst + lo[2], src + lo[2], (size_t)(hi[2] - lo[2]) * sizeof(T));
            memset(dst + hi[2], 0, (size_t)(A[2].Q - hi[2]) * sizeof(T));
        }
    }
}

/* x = Cᵀ y, one GEMM per phase: chunk by chunk and group by group,
 *   cols = phase-wise im2col of y                       (rows shared by the team)
 *   xbuf_α[C_x/g][width] = wpack_α · cols_α             (every phase's tiles shared)
 *   x = xbuf interleaved                                (channels shared) */
static void TC(gemm_apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const plan *pl, const T *y, const T *w,
                             T *x, T *ws)
{
    const tconv__shape *sh = &c->sh;
    const phases *ph = &pl->ph;
    const int64_t rows = sh->cyg * ph->taps, lines = ph->ax[0].Q * ph->ax[1].Q;
    const int64_t Q2 = ph->ax[2].Q;
    int64_t cols_at, xbuf_at;
    buffer_offsets(pl, sizeof(T), &cols_at, &xbuf_at);
    T *wpack = ws, *cols = ws + cols_at, *xbuf = ws + xbuf_at;
#pragma omp parallel num_threads(tconv__team(c, pp))
    {
        tconv__team_member();
        TC(pack_weights)(sh, ph, w, wpack);
        for (int64_t n0 = 0; n0 < sh->batch; n0 += pl->images)
        for (int64_t l0 = 0; l0 < lines; l0 += pl->lines)
        for (int64_t g = 0; g < sh->groups; ++g) {
            const int64_t images = min64(pl->images, sh->batch - n0);
            const int64_t l1 = min64(lines, l0 + pl->lines);
            const int64_t width = images > 1 ? images * ph->grid : (l1 - l0) * Q2;
#pragma omp for schedule(static)
            for (int64_t t = 0; t < images * ph->active * sh->cyg; ++t) {
                const int64_t i = t / sh->cyg / ph->active, cy = t % sh->cyg;
                const phase f = phase_at(ph, t / sh->cyg % ph->active);
                const T *y_c = y + ((n0 + i) * sh->cy + g * sh->cyg + cy) * sh->y_count;
                T *r = cols + (sh->cyg * f.tap0 + cy * f.ntaps) * width + i * ph->grid;
                TC(phase_rows)(sh, ph, &f, y_c, l0, l1, r, width);
            }
            const int64_t per = tconv__tiles(sh->cxg, TCONV__TILE_M) *
                                tconv__tiles(width, TCONV__TILE_N);
            T *x_ng = x + (n0 * sh->cx + g * sh->cxg) * sh->x_count;
#pragma omp for schedule(dynamic)
            for (int64_t t = 0; t < ph->active * per; ++t) {
                const int64_t alpha = t / per;
                const phase f = phase_at(ph, alpha);
                const int64_t K = sh->cyg * f.ntaps;
                TC(tconv__mm_tile)(c, false, false, sh->cxg, width, K,
                                     wpack + (g * sh->cxg * rows + sh->cxg * sh->cyg * f.tap0),
                                     K, cols + sh->cyg * f.tap0 * width, width, (T)0,
                                     pl->in_place ? x_ng + l0 * sh->x[2]
                                                  : xbuf + alpha * sh->cxg * width,
                                     pl->in_place ? sh->x_count : width, t % per);
                if (pl->in_place && c->bias) { /* the tile's rows of x, while in cache */
                    const int64_t tn = tconv__tiles(width, TCONV__TILE_N), tile = t % per;
                    const int64_t i0 = tile / tn * TCONV__TILE_M, j0 = tile % tn * TCONV__TILE_N;
                    const T *b = (const T *)c->bias + g * sh->cxg + i0;
                    T *rows_x = x_ng + l0 * sh->x[2] + i0 * sh->x_count + j0;
                    for (int64_t m = 0; m < min64(TCONV__TILE_M, sh->cxg - i0); ++m)
                        for (int64_t j = 0; j < min64(TCONV__TILE_N, width - j0); ++j)
                            rows_x[m * sh->x_count + j] += b[m];
                }
            }
            if (pl->in_place)
                continue;
#pragma omp for schedule(static)
            for (int64_t t = 0; t < images * sh->cxg; ++t) {
                const int64_t i = t / sh->cxg, cx = t % sh->cxg;
                const T b = c->bias ? ((const T *)c->bias)[g * sh->cxg + cx] : (T)0;
                TC(interleave)(sh, ph, xbuf + cx * width + i * ph->grid, sh->cxg * width, l0, l1,
                               b, x_ng + (i * sh->cx + cx) * sh->x_count);
            }
        }
    }
}

/* ---- loops branch ----------------------------------------------------------------------- */

/* The rows of one tap: d[q + doff] += wv · s[q + soff] over the box lo..hi of positions q,
 * with d a 3-axis block of extents (·, D1, D2) and s one of (·, S1, S2). */
TCONV__VECTOR_CLONES
static void TC(tap_axpy)(T *d, int64_t D1, int64_t D2, const int64_t doff[3], const T *s,
                         int64_t S1, int64_t S2, const int64_t soff[3], const int64_t lo[3],
                         const int64_t hi[3], T wv)
{
    for (int64_t q0 = lo[0]; q0 < hi[0]; ++q0)
        for (int64_t q1 = lo[1]; q1 < hi[1]; ++q1) {
            const T *src = s + ((q0 + soff[0]) * S1 + q1 + soff[1]) * S2 + soff[2];
            T *dst = d + ((q0 + doff[0]) * D1 + q1 + doff[1]) * D2 + doff[2];
            for (int64_t q2 = lo[2]; q2 < hi[2]; ++q2)
                dst[q2] += wv * src[q2];
        }
}

/* row[q·S + φ] = src[φ·grid + q] for q < n, φ < S: S planes interleaved into one line.
 * With S a constant the compiler turns it into vector shuffles and contiguous stores. */
static inline void TC(interleave_line)(T *restrict row, const T *restrict src, int64_t grid,
                                       int64_t n, const int S)
{
    for (int64_t q = 0; q < n; ++q)
        for (int f = 0; f < S; ++f)
            row[q * S + f] = src[f * grid + q];
}

/* Lines (q0·s0 + φ0, q1·s1 + φ1) of an x channel, from the planes P[a2][q] of its phases
 * (φ0, φ1, φ2) for each phase φ2 of the last axis (a2: its active index; b where it has
 * no taps): each x line is written once. When every φ2 has taps and s2 is 2, 4 or 8
 * (e.g. FCN's depthwise x8 upsampling), P[φ2] is plane φ2 and a line is written front to back, in
 * vectors: the planes' strided stores were most of the time of a depthwise layer. */
TCONV__VECTOR_CLONES
static void TC(store_lines)(const tconv__shape *sh, const phases *ph, int64_t a0, int64_t a1,
                            const T *P, T b, T *x_c)
{
    const phase_axis *A = ph->ax;
    const int64_t s2 = sh->s[2], X2 = sh->x[2], full = X2 / s2;
    const int64_t f0 = A[0].phi[a0], f1 = A[1].phi[a1];
    const bool whole = A[2].active == s2 && (s2 == 2 || s2 == 4 || s2 == 8);
    for (int64_t q0 = 0; q0 < A[0].count[a0]; ++q0)
        for (int64_t q1 = 0; q1 < A[1].count[a1]; ++q1) {
            T *row = x_c + ((q0 * sh->s[0] + f0) * sh->x[1] + q1 * sh->s[1] + f1) * X2;
            const T *src = P + (q0 * A[1].Q + q1) * A[2].Q;
            if (whole) {
                if (s2 == 2)
                    TC(interleave_line)(row, src, ph->grid, full, 2);
                else if (s2 == 4)
                    TC(interleave_line)(row, src, ph->grid, full, 4);
                else
                    TC(interleave_line)(row, src, ph->grid, full, 8);
                for (int64_t f2 = 0; f2 < X2 - full * s2; ++f2) /* the phases one longer */
                    row[full * s2 + f2] = src[f2 * ph->grid + full];
                continue;
            }
            for (int64_t f2 = 0; f2 < s2 && f2 < X2; ++f2) {
                const int64_t a2 = A[2].index[f2], n2 = (X2 - f2 + s2 - 1) / s2;
                if (a2 < 0) {
                    for (int64_t q2 = 0; q2 < n2; ++q2)
                        row[q2 * s2 + f2] = b;
                    continue;
                }
                const T *from = src + a2 * ph->grid;
                for (int64_t q2 = 0; q2 < n2; ++q2)
                    row[q2 * s2 + f2] = from[q2];
            }
        }
}

/* Copies rows lo..hi-1 (on axis 1) of channel `from` (extents e) into the bordered buffer
 * at the plan's offsets. */
static void TC(fill_border_rows)(const plan *pl, const int64_t e[3], const T *from, T *buf,
                                 int64_t lo, int64_t hi)
{
    const int64_t P1 = pl->pad_ext[1], P2 = pl->pad_ext[2];
    for (int64_t i0 = 0; i0 < e[0]; ++i0)
        for (int64_t i1 = lo; i1 < hi; ++i1)
            memcpy(buf + ((i0 + pl->pad_lo[0]) * P1 + i1 + pl->pad_lo[1]) * P2 + pl->pad_lo[2],
                   from + (i0 * e[1] + i1) * e[2], (size_t)e[2] * sizeof(T));
}

/* The whole channel. */
static void TC(fill_border)(const plan *pl, const int64_t e[3], const T *from, T *buf)
{
    TC(fill_border_rows)(pl, e, from, buf, 0, e[1]);
}

/* The y channels of group g of image n, each into its bordered copy (see border_of):
 * y at offset pad_lo, zeros around it. */
static void TC(border_y)(const tconv__shape *sh, const plan *pl, const T *y, int64_t n,
                         int64_t g, T *yb)
{
    memset(yb, 0, (size_t)(sh->cyg * pl->pad_count) * sizeof(T));
    for (int64_t cy = 0; cy < sh->cyg; ++cy)
        TC(fill_border)(pl, sh->y, y + (n * sh->cy + g * sh->cyg + cy) * sh->y_count,
                        yb + cy * pl->pad_count);
}

/* The weight gradient's vectors over bordered rows: 32 bytes (9 sums stay in registers in
 * the x86-64-v3 clone too); padded_block's lanes. */
#define PADDED_LANES ((int)(32 / sizeof(T)))
typedef T TC(padded_vec) __attribute__((vector_size(32)));

/* Outputs o2..o2+V-1 of one output row (V below a vector): acc = b (first input channel)
 * or the output, plus each tap's weight times the bordered input row it reads, in tap
 * order. The tail of a row after its whole vectors. */
static TCONV__ALWAYS_INLINE void TC(padded_block)(const rows_view *v, const T *xr,
                                                  const T *w_c, bool first, T b, T *yr,
                                                  const int V)
{
    const int64_t P1 = v->P1, P2 = v->P2, K1 = v->k[1], K2 = v->k[2];
    T acc[PADDED_LANES];
    for (int e = 0; e < V; ++e)
        acc[e] = first ? b : yr[e];
    for (int64_t k0 = 0; k0 < v->k[0]; ++k0)
        for (int64_t k1 = 0; k1 < K1; ++k1) {
            const T *restrict row = xr + (k0 * v->d[0] * P1 + k1 * v->d[1]) * P2;
            const T *restrict wk = w_c + (k0 * K1 + k1) * K2;
            for (int64_t k2 = 0; k2 < K2; ++k2) {
                const T wv = wk[k2];
                const T *restrict at = row + k2 * v->d[2];
                for (int e = 0; e < V; ++e)
                    acc[e] += wv * at[e];
            }
        }
    for (int e = 0; e < V; ++e)
        yr[e] = acc[e];
}

/* The rows' whole vectors: 64 bytes where a row holds one (a 512-bit register in the
 * x86-64-v4 clone), else 32 (padded_rows_tmpl.h). */
#define PR_BYTES 64
#define PR(name) TC(name##_64)
#include "algorithms/padded_rows_tmpl.h"
#undef PR_BYTES
#undef PR
#define PR_BYTES 32
#define PR(name) TC(name##_32)
#include "algorithms/padded_rows_tmpl.h"
#undef PR_BYTES
#undef PR

/* out (+)= w_c ⋆ xp for one input channel over its bordered copy xp (stride 1 on the last
 * axis): each row in vectors of 64 bytes, or 32 when narrower, two rows at once for a 3x3
 * kernel of stride 1 and no dilation down the rows; rows narrower than 32 bytes summed
 * lane by lane (padded_block). Every element sums its taps in the same order whichever
 * the form. */
TCONV__VECTOR_CLONES
static void TC(padded_rows)(const rows_view *v, const T *xp, const T *w_c, bool first, T b,
                            T *out)
{
    const int64_t P1 = v->P1, P2 = v->P2, O1 = v->out[1], O2 = v->out[2];
    const bool k33 = v->k[0] == 1 && v->k[1] == 3 && v->k[2] == 3 && v->d[2] == 1;
    const bool pairs = k33 && v->s[1] == 1 && v->d[1] == 1;
    const bool wide = O2 * (int64_t)sizeof(T) >= 64, narrow = O2 * (int64_t)sizeof(T) < 32;
    for (int64_t o0 = 0; o0 < v->out[0]; ++o0)
        for (int64_t o1 = 0; o1 < O1;) {
            T *yr = out + (o0 * O1 + o1) * O2;
            const T *xr = xp + (o0 * v->s[0] * P1 + o1 * v->s[1]) * P2;
            const int R = pairs && o1 + 1 < O1 ? 2 : 1;
            if (narrow)
                for (int j = 0; j < R; ++j) /* R = 1: pairs need no dilation */
                    switch (O2) {
#define TCONV__REST(n)                                                                         \
    case n:                                                                                    \
        if (n < PADDED_LANES)                                                                  \
            TC(padded_block)(v, xr + j * P2, w_c, first, b, yr + j * O2,                       \
                             n < PADDED_LANES ? n : 1);                                        \
        break;
                        TCONV__REST(1) TCONV__REST(2) TCONV__REST(3) TCONV__REST(4)
                        TCONV__REST(5) TCONV__REST(6) TCONV__REST(7)
#undef TCONV__REST
                    default:
                        break;
                    }
            else if (wide && R == 2)
                TC(row_64)(v, xr, w_c, first, b, yr, k33, 2, false);
            else if (wide)
                TC(row_64)(v, xr, w_c, first, b, yr, k33, 1, false);
            else if (R == 2)
                TC(row_32)(v, xr, w_c, first, b, yr, k33, 2, false);
            else
                TC(row_32)(v, xr, w_c, first, b, yr, k33, 1, false);
            o1 += R;
        }
}

/*
 * out (+)= w_c ⋆ x for a 3x3 kernel of stride 1, padding 1 and no dilation on a map of
 * H >= 5 rows, each at least a 64-byte vector wide (in_place_rows): output rows 2..H-3
 * read x itself, rows o1-1..o1+1 (all inside the map); a row's first vector keeps its left
 * taps' first lane and its last vector its right taps' last lane at zero, which is what
 * the border holds. So each element gets the bordered rows' operations in their order,
 * and the same bits. Rows 0, 1, H-2 and H-1 go through the bordered copy, of which
 * only input rows 0..2 and H-3..H-1 are filled (fill_border's range).
 */
TCONV__VECTOR_CLONES
static void TC(rows_in_place)(const rows_view *v, const T *x, const T *w_c, bool first, T b,
                              T *out)
{
    const int64_t H = v->out[1], W = v->out[2];
    rows_view in = *v;
    in.P2 = W; /* the map's own row pitch */
    for (int64_t o1 = 2; o1 < H - 2;) {
        const T *xr = x + (o1 - 1) * W - 1;
        if (o1 + 1 < H - 2)
            TC(row_64)(&in, xr, w_c, first, b, out + o1 * W, true, 2, true);
        else
            TC(row_64)(&in, xr, w_c, first, b, out + o1 * W, true, 1, true);
        o1 += o1 + 1 < H - 2 ? 2 : 1;
    }
}

/* out (+)= w_c ⋆ (the input channel): its edge rows from the bordered copy xp, the others
 * in place from x (rows_in_place). */
static void TC(padded_rows_edges)(const rows_view *v, const T *xp, const T *x, const T *w_c,
                                  bool first, T b, T *out)
{
    const int64_t H = v->out[1], W = v->out[2];
    rows_view edge = *v;
    edge.out[1] = 2;
    TC(padded_rows)(&edge, xp, w_c, first, b, out);
    TC(rows_in_place)(v, x, w_c, first, b, out);
    TC(padded_rows)(&edge, xp + (H - 2) * v->P2, w_c, first, b, out + (H - 2) * W);
}

/*
 * apply (from x, `transposed` false) or apply_t (from y, every stride 1, the kernel
 * flipped) through padded_rows. A task is an (image, output channel); its group's input
 * channels are read through the thread's bordered copy, whose border stays zero and whose
 * interior is copied in only when the input channel changes. Every output element is the
 * bias, then its input channels in order, each with its taps in order.
 */
static void TC(padded_product_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const plan *pl = op->plan;
    const bool transposed = op->product == TCONV_APPLY_T;
    const T *in = op->a, *w = op->b;
    T *out = op->out, *ws = op->ws;
    const tconv__shape *sh = &c->sh;
    const int64_t K = sh->k_count;
    const int64_t co = transposed ? sh->cx : sh->cy, cog = transposed ? sh->cxg : sh->cyg;
    const int64_t ci = transposed ? sh->cy : sh->cx, cig = transposed ? sh->cyg : sh->cxg;
    const int64_t *in_ext = transposed ? sh->y : sh->x, *out_ext = transposed ? sh->x : sh->y;
    const int64_t in_count = transposed ? sh->y_count : sh->x_count;
    const int64_t out_count = transposed ? sh->x_count : sh->y_count;
    const int64_t one[3] = {1, 1, 1}, *stride = transposed ? one : sh->s;
    const rows_view v = {{out_ext[0], out_ext[1], out_ext[2]},
                         {stride[0], stride[1], stride[2]},
                         {sh->d[0], sh->d[1], sh->d[2]}, {sh->k[0], sh->k[1], sh->k[2]},
                         pl->pad_ext[1], pl->pad_ext[2]};
    T *buf = (T *)tconv__thread_ws(pp, ws, tconv__thread_num());
    T *wf = buf + pl->pad_count; /* apply_t: one channel pair's taps, flipped */
    T *sums = wf + (transposed ? K : 0); /* streamed: the output channel's sums */
    memset(buf, 0, (size_t)pl->pad_count * sizeof(T));
    int64_t held = -1; /* the input channel buf holds */
    /* Equal tasks, in one run per thread: each thread then reads its input in order, which
     * the hardware prefetches across channels (with tasks dealt out one by one, a depthwise
     * layer ran 1.2x slower on two threads). */
#pragma omp for schedule(static)
    for (int64_t t = 0; t < sh->batch * co; ++t) {
        T *out_c = out + t * out_count;
        const int64_t n = t / co, g = t % co / cog, o = t % cog;
        const T b = c->bias ? ((const T *)c->bias)[t % co] : (T)0;
        for (int64_t i = 0; i < cig; ++i) {
            const int64_t ic = n * ci + g * cig + i;
            if (ic != held && pl->interior) { /* the rows the edge rows read */
                TC(fill_border_rows)(pl, in_ext, in + ic * in_count, buf, 0, 3);
                TC(fill_border_rows)(pl, in_ext, in + ic * in_count, buf, in_ext[1] - 3,
                                     in_ext[1]);
                held = ic;
            } else if (ic != held) {
                TC(fill_border)(pl, in_ext, in + ic * in_count, buf);
                held = ic;
            }
            const int64_t cy = transposed ? i : o, cx = transposed ? o : i;
            const T *w_c = w + ((g * sh->cyg + cy) * sh->cxg + cx) * K;
            if (transposed)
                for (int64_t k = 0; k < K; ++k)
                    wf[k] = w_c[K - 1 - k];
            if (pl->interior)
                TC(padded_rows_edges)(&v, buf, in + ic * in_count, transposed ? wf : w_c,
                                      i == 0, b, pl->streamed ? sums : out_c);
            else
                TC(padded_rows)(&v, buf, transposed ? wf : w_c, i == 0, b,
                                pl->streamed ? sums : out_c);
        }
        if (pl->streamed)
            tconv__stream(out_c, sums, (size_t)out_count * sizeof(T));
    }
    if (pl->streamed)
        tconv__stream_fence();
}

static void TC(padded_product)(const tconv__ctx *c, const tconv__product_plan *pp,
                               const plan *pl, bool transposed, const T *in, const T *w,
                               T *out, T *ws)
{
    const tconv_product p = transposed ? TCONV_APPLY_T : TCONV_APPLY;
    const tconv__region_args op = {c, pp, in, w, NULL, out, NULL, ws, p, pl};
    tconv__region(tconv__team(c, pp), TC(padded_product_region), &op);
}

/* x = Cᵀ y, phase by phase: each phase plane of x channel cx is a stride-1 correlation of
 * y with that phase's taps, summed over (cy, j) in one fixed order; the planes that share
 * (φ0, φ1) are then written into their x lines together. x lines whose (φ0, φ1) has no taps
 * hold the bias alone. y is read through bordered copies, so every tap covers its whole
 * plane. Task t = (image n, x channel), in `thread`'s buffers. */
static void TC(loops_apply_t_task)(const void *arg, int64_t t, int thread)
{
    const tconv__region_args *op = arg;
    const plan *pl = op->plan;
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const phases *ph = &pl->ph;
    const phase_axis *A = ph->ax;
    const T *bias = c->bias, *y = op->a, *w = op->b;
    const bool gaps = A[0].active < min64(sh->s[0], sh->x[0]) ||
                      A[1].active < min64(sh->s[1], sh->x[1]) || A[2].active == 0;
    T *P = (T *)tconv__thread_ws(op->pp, op->ws, thread);
    T *yb = P + A[2].active * ph->grid;
    const int64_t n = t / sh->cx, g = t % sh->cx / sh->cxg, cx = t % sh->cxg;
    const T b = bias ? bias[t % sh->cx] : (T)0;
    T *x_c = (T *)op->out + t * sh->x_count;
    for (int64_t i = 0; gaps && i < sh->x_count; ++i)
        x_c[i] = b;
    if (ph->active)
        TC(border_y)(sh, pl, y, n, g, yb);
    for (int64_t alpha = 0; alpha < ph->active; ++alpha) {
        const phase f = phase_at(ph, alpha);
        T *plane = P + f.i[2] * ph->grid;
        const int64_t lo[3] = {0, 0, 0};
        const int64_t hi[3] = {A[0].count[f.i[0]], A[1].count[f.i[1]], A[2].count[f.i[2]]};
        for (int64_t q = 0; q < ph->grid; ++q)
            plane[q] = b;
        for (int64_t cy = 0; cy < sh->cyg; ++cy) {
            const T *w_c = w + ((g * sh->cyg + cy) * sh->cxg + cx) * sh->k_count;
            for (int64_t j = 0; j < f.ntaps; ++j) {
                int64_t off[3];
                const T wv = w_c[tap_of(sh, ph, &f, j, off)];
                for (int d = 0; d < 3; ++d)
                    off[d] += pl->pad_lo[d];
                TC(tap_axpy)(plane, A[1].Q, A[2].Q, zero3, yb + cy * pl->pad_count,
                             pl->pad_ext[1], pl->pad_ext[2], off, lo, hi,
                             wv); /* plane[q] += wv · y[q + off] */
            }
        }
        if (f.i[2] == A[2].active - 1) /* the last plane of this (φ0, φ1) */
            TC(store_lines)(sh, ph, f.i[0], f.i[1], P, b, x_c);
    }
}

static void TC(loops_apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const plan *pl, const T *y, const T *w,
                              T *x, T *ws)
{
    if (pl->padded) {
        TC(padded_product)(c, pp, pl, true, y, w, x, ws);
        return;
    }
    const tconv__region_args a = {c, pp, y, w, NULL, x, NULL, ws, TCONV_APPLY_T, pl};
    tconv__for_tasks(tconv__team(c, pp), c->sh.batch * c->sh.cx, true, TC(loops_apply_t_task),
                     &a);
}

/* The products of one tap, box lo..hi: lane[l] += Σ v[q + off] · s[q], the last axis dealt
 * to TCONV__PHASE_LANES lanes in a fixed pattern (vectorisable without reassociation): full
 * blocks, and half a block of a row's tail, summed in vector registers that stay there from
 * row to row (an array of scalars was moved out of them and back on every row, most of the
 * instructions of a 56-wide depthwise layer), added to `lane` once at the end; the rest of
 * a row's tail straight into `lane`. */
typedef T TC(lanes_vec) __attribute__((vector_size(32)));

TCONV__VECTOR_CLONES
static void TC(tap_lanes)(T *lane, const T *v, int64_t V1, int64_t V2, const T *s, int64_t S1,
                          int64_t S2, const int64_t off[3], const int64_t lo[3],
                          const int64_t hi[3])
{
    enum { L = TCONV__PHASE_LANES, VN = 32 / sizeof(T), NV = L / VN };
    TC(lanes_vec) acc[NV];
    for (int k = 0; k < NV; ++k)
        acc[k] = (TC(lanes_vec)){0};
    for (int64_t q0 = lo[0]; q0 < hi[0]; ++q0)
        for (int64_t q1 = lo[1]; q1 < hi[1]; ++q1) {
            const T *src = s + (q0 * S1 + q1) * S2;
            const T *val = v + ((q0 + off[0]) * V1 + q1 + off[1]) * V2 + off[2];
            int64_t q2 = lo[2];
            for (; q2 + L <= hi[2]; q2 += L)
                for (int k = 0; k < NV; ++k) {
                    TC(lanes_vec) a, b;
                    memcpy(&a, val + q2 + k * VN, sizeof a);
                    memcpy(&b, src + q2 + k * VN, sizeof b);
                    acc[k] += a * b;
                }
            int l = 0;
            if (q2 + L / 2 <= hi[2])
                for (; l < L / 2; l += VN) {
                    TC(lanes_vec) a, b;
                    memcpy(&a, val + q2 + l, sizeof a);
                    memcpy(&b, src + q2 + l, sizeof b);
                    acc[l / VN] += a * b;
                }
            for (; q2 + l < hi[2]; ++l)
                lane[l] += val[q2 + l] * src[q2 + l];
        }
    for (int k = 0; k < NV; ++k) {
        T part[VN];
        memcpy(part, &acc[k], sizeof part);
        for (int e = 0; e < VN; ++e)
            lane[k * VN + e] += part[e];
    }
}

/* y = C x: per (image, y channel), y = Σ_cx Σ_α Σ_j w_j · shift(xd_α, -off_j), with xd the
 * phases of x channel cx. Task t = (image n, y channel), in `thread`'s buffer. */
static void TC(loops_apply_task)(const void *arg, int64_t t, int thread)
{
    const tconv__region_args *op = arg;
    const plan *pl = op->plan;
    const tconv__ctx *c = op->c;
    const tconv__shape *sh = &c->sh;
    const phases *ph = &pl->ph;
    const phase_axis *A = ph->ax;
    const T *x = op->a, *w = op->b;
    T *xd = (T *)tconv__thread_ws(op->pp, op->ws, thread);
    const int64_t n = t / sh->cy, g = t % sh->cy / sh->cyg, cy = t % sh->cyg;
    T *y_c = (T *)op->out + t * sh->y_count;
    const T b = c->bias ? ((const T *)c->bias)[t % sh->cy] : (T)0;
    for (int64_t o = 0; o < sh->y_count; ++o)
        y_c[o] = b;
    for (int64_t cx = 0; cx < sh->cxg; ++cx) {
        TC(deinterleave)(sh, ph, x + (n * sh->cx + g * sh->cxg + cx) * sh->x_count, xd);
        const T *w_c = w + ((g * sh->cyg + cy) * sh->cxg + cx) * sh->k_count;
        for (int64_t alpha = 0; alpha < ph->active; ++alpha) {
            const phase f = phase_at(ph, alpha);
            for (int64_t j = 0; j < f.ntaps; ++j) {
                int64_t off[3], lo[3], hi[3];
                const T wv = w_c[tap_of(sh, ph, &f, j, off)];
                for (int d = 0; d < 3; ++d)
                    shifted_range(A[d].count[f.i[d]], off[d], sh->y[d], &lo[d], &hi[d]);
                TC(tap_axpy)(y_c, sh->y[1], sh->y[2], off, xd + alpha * ph->grid, A[1].Q,
                             A[2].Q, zero3, lo, hi, wv); /* y[q+off] += wv·xd */
            }
        }
    }
}

static void TC(loops_apply)(const tconv__ctx *c, const tconv__product_plan *pp, const plan *pl, const T *x, const T *w, T *y,
                            T *ws)
{
    if (pl->padded) {
        TC(padded_product)(c, pp, pl, false, x, w, y, ws);
        return;
    }
    const tconv__region_args a = {c, pp, x, w, NULL, y, NULL, ws, TCONV_APPLY, pl};
    tconv__for_tasks(tconv__team(c, pp), c->sh.batch * c->sh.cy, true, TC(loops_apply_task), &a);
}

/* dW[cy][cx][k] = Σ_n Σ_q y[q + off] · xd[q]: per (group, cy, cx), products accumulated in
 * TCONV__PHASE_LANES lanes (vectorisable, fixed order) and the lanes summed at the end.
 * Task t = (group, y channel, x channel), in `thread`'s buffers. */
static void TC(loops_wgrad_task)(const void *arg, int64_t t, int thread)
{
    const tconv__region_args *op = arg;
    const plan *pl = op->plan;
    const tconv__shape *sh = &op->c->sh;
    const phases *ph = &pl->ph;
    const phase_axis *A = ph->ax;
    enum { L = TCONV__PHASE_LANES };
    const T *y = op->a, *x = op->b;
    T *xd = (T *)tconv__thread_ws(op->pp, op->ws, thread);
    T *acc = xd + ph->active * ph->grid;
    const int64_t cyt = t / sh->cxg, g = cyt / sh->cyg, cx = t % sh->cxg;
    memset(acc, 0, (size_t)(ph->taps * L) * sizeof(T));
    for (int64_t n = 0; n < sh->batch; ++n) {
        TC(deinterleave)(sh, ph, x + (n * sh->cx + g * sh->cxg + cx) * sh->x_count, xd);
        const T *y_c = y + (n * sh->cy + cyt) * sh->y_count;
        for (int64_t alpha = 0; alpha < ph->active; ++alpha) {
            const phase f = phase_at(ph, alpha);
            for (int64_t j = 0; j < f.ntaps; ++j) {
                int64_t off[3], lo[3], hi[3];
                tap_of(sh, ph, &f, j, off);
                for (int d = 0; d < 3; ++d)
                    shifted_range(A[d].count[f.i[d]], off[d], sh->y[d], &lo[d], &hi[d]);
                TC(tap_lanes)(acc + (f.tap0 + j) * L, y_c, sh->y[1], sh->y[2],
                              xd + alpha * ph->grid, A[1].Q, A[2].Q, off, lo, hi);
            }
        }
    }
    /* taps in no active phase (their phase lies past X) never contribute */
    T *dw_c = (T *)op->out + t * sh->k_count;
    memset(dw_c, 0, (size_t)sh->k_count * sizeof(T));
    for (int64_t alpha = 0; alpha < ph->active; ++alpha) {
        const phase f = phase_at(ph, alpha);
        for (int64_t j = 0; j < f.ntaps; ++j) {
            int64_t off[3];
            const T *lane = acc + (f.tap0 + j) * L;
            T sum = 0;
            for (int l = 0; l < L; ++l)
                sum += lane[l];
            dw_c[tap_of(sh, ph, &f, j, off)] = sum;
        }
    }
}

static void TC(loops_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const plan *pl, const T *y, const T *x, T *dw,
                            T *ws)
{
    const tconv__region_args a = {c, pp, y, x, NULL, dw, NULL, ws, TCONV_WGRAD, pl};
    tconv__for_tasks(tconv__team(c, pp), c->sh.cy * c->sh.cxg, true, TC(loops_wgrad_task), &a);
}

/* ---- wgrad over a bordered x ----------------------------------------------------------- */

#include "kernels/bias_sum_tmpl.h"
_Static_assert(sizeof(TC(padded_vec)) == sizeof(TC(bias_in)),
               "wgrad_rows sums grad_y in the bias gradient's vectors");

/* Taps per pass of padded_wgrad: their sums stay in vector registers. */
#define PADDED_WGRAD_TAPS 9

/* padded_vec's lanes as integers of T's width: the masks of the rows read in place. */
typedef __typeof__(_Generic((T)0, float: (int32_t)0, default: (int64_t)0)) TC(padded_bits);
typedef TC(padded_bits) TC(padded_mask) __attribute__((vector_size(32)));

/* in with the lanes m clears set to +0, bit by bit: what the zero border holds. */
static TCONV__ALWAYS_INLINE void TC(padded_keep)(TC(padded_vec) *in, TC(padded_mask) m)
{
    TC(padded_mask) bits;
    memcpy(&bits, in, sizeof bits);
    bits &= m;
    memcpy(in, &bits, sizeof *in);
}

/* NG taps of one plane pair: acc[j] += y[o] · xp[o·s + off[j]] over whole vectors of each
 * output row o1 of r0..r1-1, tail[j] += the same over the rest of the row, in output
 * order; with SUM, each row of y also into *sum (the bias gradient's order:
 * kernels/bias_sum_tmpl.h). IN_PLACE (a 3x3 of stride 1, padding 1, NG = 9, rows 2..O1-3
 * only, so that every load stays inside the channel; v->P2 the map's own width): xp is the x channel itself, row o1 reading rows
 * o1-1..o1+1 from one element before their start; the left taps' lane at the row's first
 * element and the right taps' at its last read the neighbouring row's element, and are
 * cleared: the border's zeros, so the same operations in the same order as bordered. */
static TCONV__ALWAYS_INLINE void TC(wgrad_rows)(const rows_view *v, const T *xp, const T *y_c,
                                               const int64_t *off, TC(padded_vec) *acc_io,
                                               T *tail, const int NG, const bool SUM,
                                               TC(bias_sum) *sum, const bool IN_PLACE,
                                               int64_t r0, int64_t r1)
{
    const int64_t P1 = v->P1, P2 = v->P2, O1 = v->out[1], O2 = v->out[2];
    const int64_t L = PADDED_LANES, whole = O2 / L * L;
    TC(padded_vec) acc[PADDED_WGRAD_TAPS];
    int64_t o[PADDED_WGRAD_TAPS];
    TC(padded_mask) left, right; /* all lanes but the first; all but the last */
    memset(&left, 0xff, sizeof left);
    right = left;
    left[0] = 0;
    right[L - 1] = 0;
    TCONV__UNROLL(9)
    for (int j = 0; j < NG; ++j)
        acc[j] = acc_io[j], o[j] = off[j];
    for (int64_t o0 = 0; o0 < v->out[0]; ++o0)
        for (int64_t o1 = r0; o1 < r1; ++o1) {
            const T *yr = y_c + (o0 * O1 + o1) * O2;
            const T *xr = IN_PLACE ? xp + (o1 - 1) * P2 - 1
                                   : xp + (o0 * v->s[0] * P1 + o1 * v->s[1]) * P2;
            TC(bias_in) ysum = {0};
            for (int64_t o2 = 0; o2 < whole; o2 += L) {
                TC(padded_vec) yv;
                memcpy(&yv, yr + o2, sizeof yv);
                if (SUM)
                    ysum += yv; /* bias_sum_row's f */
                TCONV__UNROLL(9)
                for (int j = 0; j < NG; ++j) {
                    TC(padded_vec) in;
                    memcpy(&in, xr + o2 + o[j], sizeof in);
                    if (IN_PLACE && j % 3 == 0 && o2 == 0)
                        TC(padded_keep)(&in, left);
                    if (IN_PLACE && j % 3 == 2 && o2 + L == O2)
                        TC(padded_keep)(&in, right);
                    acc[j] += yv * in;
                }
            }
            for (int64_t o2 = whole; o2 < O2; ++o2)
                TCONV__UNROLL(9)
                for (int j = 0; j < NG; ++j) {
                    const bool border = IN_PLACE && j % 3 == 2 && o2 == O2 - 1;
                    tail[j] += yr[o2] * (border ? (T)0 : xr[o2 + o[j]]);
                }
            if (SUM)
                TC(bias_row_end)(ysum, yr + whole, O2 - whole, sum);
        }
    TCONV__UNROLL(9)
    for (int j = 0; j < NG; ++j)
        acc_io[j] = acc[j];
}

TCONV__VECTOR_CLONES
static void TC(wgrad_plane)(const rows_view *v, const T *xp, const T *y_c, const int64_t *off,
                            int64_t ng, TC(padded_vec) *acc, T *tail, TC(bias_sum) *sum,
                            int64_t r0, int64_t r1)
{
    switch (ng) {
#define TCONV__TAPS(n)                                                                         \
    case n:                                                                                    \
        if (sum)                                                                               \
            TC(wgrad_rows)(v, xp, y_c, off, acc, tail, n, true, sum, false, r0, r1);           \
        else                                                                                   \
            TC(wgrad_rows)(v, xp, y_c, off, acc, tail, n, false, NULL, false, r0, r1);         \
        break;
        TCONV__TAPS(1) TCONV__TAPS(2) TCONV__TAPS(3) TCONV__TAPS(4) TCONV__TAPS(5)
        TCONV__TAPS(6) TCONV__TAPS(7) TCONV__TAPS(8) TCONV__TAPS(9)
#undef TCONV__TAPS
    default:
        break;
    }
}

/* The rows r0..r1-1 of a 3x3 layer's plane pair read from the x channel itself
 * (wgrad_rows' IN_PLACE; off holds the taps' offsets at the map's own width). */
TCONV__VECTOR_CLONES
static void TC(wgrad_plane_in_place)(const rows_view *v, const T *x, const T *y_c,
                                     const int64_t *off, TC(padded_vec) *acc, T *tail,
                                     TC(bias_sum) *sum, int64_t r0, int64_t r1)
{
    rows_view in = *v;
    in.P2 = v->out[2];
    if (sum)
        TC(wgrad_rows)(&in, x, y_c, off, acc, tail, 9, true, sum, true, r0, r1);
    else
        TC(wgrad_rows)(&in, x, y_c, off, acc, tail, 9, false, NULL, true, r0, r1);
}

/*
 * dW[cy][cx][k] = Σ_n Σ_o y[o] · xp[o·s + k·d] with xp the bordered copy of x (padding_of;
 * the last axis has stride 1): per (y channel, x channel of its group), one y vector read
 * once for up to PADDED_WGRAD_TAPS taps whose sums stay in registers (the phase planes'
 * loops took one pass over the plane per tap), images in order, then each tap's lanes in
 * order plus its tail. A task's order is fixed: the bits never depend on the team.
 */
static void TC(padded_wgrad_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const plan *pl = op->plan;
    const T *y = op->a, *x = op->b;
    T *dw = op->out, *ws = op->ws;
    const tconv__shape *sh = &c->sh;
    const rows_view v = {{sh->y[0], sh->y[1], sh->y[2]}, {sh->s[0], sh->s[1], sh->s[2]},
                         {sh->d[0], sh->d[1], sh->d[2]}, {sh->k[0], sh->k[1], sh->k[2]},
                         pl->pad_ext[1], pl->pad_ext[2]};
    const int64_t K = sh->k_count, P1 = pl->pad_ext[1], P2 = pl->pad_ext[2], O1 = sh->y[1];
    T *buf = (T *)tconv__thread_ws(pp, ws, tconv__thread_num());
    memset(buf, 0, (size_t)pl->pad_count * sizeof(T));
    /* equal tasks in runs per thread, as padded_product_region's (depthwise: 1.05-1.1x) */
#pragma omp for schedule(static)
    for (int64_t t = 0; t < sh->cy * sh->cxg; ++t) {
        const int64_t cyt = t / sh->cxg, g = cyt / sh->cyg, cx = t % sh->cxg;
        T *dw_c = dw + t * K;
        for (int64_t k0 = 0; k0 < K; k0 += PADDED_WGRAD_TAPS) {
            const int64_t ng = K - k0 < PADDED_WGRAD_TAPS ? K - k0 : PADDED_WGRAD_TAPS;
            int64_t off[PADDED_WGRAD_TAPS], off_in_place[PADDED_WGRAD_TAPS];
            for (int64_t j = 0; j < ng; ++j) {
                const int64_t k = k0 + j, a2 = k % sh->k[2], a1 = k / sh->k[2] % sh->k[1];
                const int64_t a0 = k / (sh->k[2] * sh->k[1]);
                off[j] = (a0 * sh->d[0] * P1 + a1 * sh->d[1]) * P2 + a2 * sh->d[2];
                off_in_place[j] = a1 * sh->x[2] + a2; /* interior: 3x3, no dilation */
            }
            TC(padded_vec) acc[PADDED_WGRAD_TAPS];
            T tail[PADDED_WGRAD_TAPS] = {0};
            for (int64_t j = 0; j < PADDED_WGRAD_TAPS; ++j)
                acc[j] = (TC(padded_vec)){0};
            /* the bias gradient of y channel cyt, where asked: in its first task's first
             * pass, from the y planes read here anyway, images in order */
            const bool sums = c->grad_bias && cx == 0 && k0 == 0;
            TC(bias_sum) bias_sum = {{0}, 0};
            for (int64_t n = 0; n < sh->batch; ++n) {
                /* the copy holds one x channel: refilled per image (and per pass) */
                const T *x_c = x + (n * sh->cx + g * sh->cxg + cx) * sh->x_count;
                const T *y_c = y + (n * sh->cy + cyt) * sh->y_count;
                TC(bias_sum) *s = sums ? &bias_sum : NULL;
                if (!pl->interior) {
                    TC(fill_border)(pl, sh->x, x_c, buf);
                    TC(wgrad_plane)(&v, buf, y_c, off, ng, acc, tail, s, 0, O1);
                    continue;
                }
                /* rows in order: the two first through the copy of input rows 0..2, the
                 * interior in place, the two last through the copy of rows O1-3..O1-1 */
                TC(fill_border_rows)(pl, sh->x, x_c, buf, 0, 3);
                TC(fill_border_rows)(pl, sh->x, x_c, buf, O1 - 3, O1);
                TC(wgrad_plane)(&v, buf, y_c, off, ng, acc, tail, s, 0, 2);
                TC(wgrad_plane_in_place)(&v, x_c, y_c, off_in_place, acc, tail, s, 2, O1 - 2);
                TC(wgrad_plane)(&v, buf, y_c, off, ng, acc, tail, s, O1 - 2, O1);
            }
            if (sums)
                ((T *)c->grad_bias)[cyt] = (T)TC(bias_sum_total)(&bias_sum);
            for (int64_t j = 0; j < ng; ++j) {
                T sum = 0;
                for (int l = 0; l < PADDED_LANES; ++l)
                    sum += acc[j][l];
                dw_c[k0 + j] = sum + tail[j];
            }
        }
    }
}

static void TC(padded_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp,
                             const plan *pl, const T *y, const T *x, T *dw, T *ws)
{
    const tconv__region_args op = {c, pp, y, x, NULL, dw, NULL, ws, TCONV_WGRAD, pl};
    tconv__region(tconv__team(c, pp), TC(padded_wgrad_region), &op);
}

/* ---- the three products ---------------------------------------------------------------- */

/* ---- channels-last depthwise layers: the loops of kernels/depthwise.c ----------------- */

/* The operands of a channels-last depthwise product, for its tasks. */
typedef struct TC(depthwise_args) {
    const tconv__shape *sh;
    const T *in, *w, *bias; /* wgrad: y, x, none */
    T *out, *ws;
    bool t_;
    int64_t chunks, per, lines; /* apply: runs of `per` of an image's `lines` output lines;
                                 * wgrad: `chunks` parts of the batch's `lines` lines */
} TC(depthwise_args);

/* Task t of depthwise_nhwc: run t % chunks of image t / chunks. */
static void TC(depthwise_nhwc_task)(const void *arg, int64_t t, int thread)
{
    const TC(depthwise_args) *op = arg;
    const int64_t n = t / op->chunks, l0 = t % op->chunks * op->per;
    const int64_t l1 = l0 + op->per < op->lines ? l0 + op->per : op->lines;
    (void)thread;
    if (op->t_)
        TC(tconv__depthwise_apply_t)(op->sh, op->in, op->w, op->bias, n, l0, l1, op->out);
    else
        TC(tconv__depthwise_apply)(op->sh, op->in, op->w, op->bias, n, l0, l1, op->out);
}

/* apply (conv direction) or apply_t: tasks are runs of one image's output lines. */
static void TC(depthwise_nhwc)(const tconv__ctx *c, const tconv__product_plan *pp, bool t_,
                               const T *in, const T *w, T *out, T *ws)
{
    const tconv__shape *sh = &c->sh;
    const int64_t lines = t_ ? sh->x[0] * sh->x[1] : sh->y[0] * sh->y[1];
    const int64_t per = depthwise_lines(sh, lines), chunks = (lines + per - 1) / per;
    T *wt = ws;
    TC(tconv__depthwise_weight)(sh, w, wt);
    const TC(depthwise_args) op = {sh, in, wt, c->bias, out, ws, t_, chunks, per, lines};
    tconv__for_tasks(tconv__team(c, pp), sh->batch * chunks, true, TC(depthwise_nhwc_task),
                     &op);
}

/* Task r of depthwise_nhwc_wgrad's first pass: part r's sums. */
static void TC(depthwise_part_task)(const void *arg, int64_t r, int thread)
{
    const TC(depthwise_args) *op = arg;
    const int64_t parts = op->chunks, KC = op->sh->k_count * op->sh->cy;
    (void)thread;
    TC(tconv__depthwise_wgrad_part)(op->sh, op->in, op->w, r * op->lines / parts,
                                    (r + 1) * op->lines / parts, op->ws + r * KC);
}

/* Task ch of its second pass: channel ch's taps, the parts added in order. */
static void TC(depthwise_sum_task)(const void *arg, int64_t ch, int thread)
{
    const TC(depthwise_args) *op = arg;
    const tconv__shape *sh = op->sh;
    const int64_t parts = op->chunks, KC = sh->k_count * sh->cy;
    (void)thread;
    for (int64_t k = 0; k < sh->k_count; ++k) {
        T sum = op->ws[k * sh->cy + ch];
        for (int64_t r = 1; r < parts; ++r)
            sum += op->ws[r * KC + k * sh->cy + ch];
        op->out[ch * sh->k_count + k] = sum;
    }
}

/* wgrad: tasks are the parts (runs of lines); then every dw element adds its parts in
 * order. */
static void TC(depthwise_nhwc_wgrad)(const tconv__ctx *c, const tconv__product_plan *pp,
                                     const T *y, const T *x, T *dw, T *ws)
{
    const tconv__shape *sh = &c->sh;
    const int64_t parts = depthwise_wgrad_parts(sh);
    const int64_t lines = sh->batch * sh->y[0] * sh->y[1];
    const TC(depthwise_args) op = {sh, y, x, NULL, dw, ws, false, parts, 0, lines};
    const int team = tconv__team(c, pp);
    tconv__for_tasks(team, parts, true, TC(depthwise_part_task), &op);
    tconv__for_tasks(team, sh->cy, false, TC(depthwise_sum_task), &op);
}

/* The plan of a product: what its plan kept, and the phase tables again. */
static void TC(load)(const tconv__ctx *c, const tconv__product_plan *pp, plan *pl)
{
    memcpy(pl, pp->data.bytes, kept_bytes());
    phases_of(&c->sh, &pl->ph);
}

static void TC(apply)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                      const void *b, void *out, void *ws)
{
    if (pp->path == PHASE_PATH_DEPTHWISE_NHWC) {
        TC(depthwise_nhwc)(c, pp, false, a, b, out, ws);
        return;
    }
    if (pp->path != PHASE_PATH_LOOPS && pp->path != PHASE_PATH_PADDED &&
        pp->path != PHASE_PATH_PADDED_STREAMED && pp->path != PHASE_PATH_IN_PLACE &&
        pp->path != PHASE_PATH_IN_PLACE_STREAMED) {
        tconv__gemm_apply(c, pp, a, b, out, ws);
        return;
    }
    plan pl;
    TC(load)(c, pp, &pl);
    TC(loops_apply)(c, pp, &pl, a, b, out, ws);
}

static void TC(apply_t)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                        const void *b, void *out, void *ws)
{
    if (c->sh.batch == 0)
        return;
    if (pp->path == PHASE_PATH_DEPTHWISE_NHWC) {
        TC(depthwise_nhwc)(c, pp, true, a, b, out, ws);
        return;
    }
    plan pl;
    TC(load)(c, pp, &pl);
    if (pl.loops)
        TC(loops_apply_t)(c, pp, &pl, a, b, out, ws);
    else if (pl.ph.active == 0) /* every tap lands past X: x is the bias alone */
        for (int64_t t = 0; t < c->sh.batch * c->sh.cx; ++t)
            for (int64_t i = 0; i < c->sh.x_count; ++i)
                ((T *)out)[t * c->sh.x_count + i] =
                    c->bias ? ((const T *)c->bias)[t % c->sh.cx] : (T)0;
    else
        TC(gemm_apply_t)(c, pp, &pl, a, b, out, ws);
}

static void TC(wgrad)(const tconv__ctx *c, const tconv__product_plan *pp, const void *a,
                      const void *b, void *out, void *ws)
{
    if (pp->path == PHASE_PATH_DEPTHWISE_NHWC) {
        TC(depthwise_nhwc_wgrad)(c, pp, a, b, out, ws);
        return;
    }
    if (pp->path != PHASE_PATH_LOOPS && pp->path != PHASE_PATH_PADDED &&
        pp->path != PHASE_PATH_IN_PLACE) {
        tconv__gemm_wgrad(c, pp, a, b, out, ws);
        return;
    }
    plan pl;
    TC(load)(c, pp, &pl);
    if (pl.padded)
        TC(padded_wgrad)(c, pp, &pl, a, b, out, ws);
    else
        TC(loops_wgrad)(c, pp, &pl, a, b, out, ws);
}

#undef PADDED_WGRAD_TAPS
#undef PADDED_LANES
