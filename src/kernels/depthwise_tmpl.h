/*
 * Depthwise products on channels-last tensors, for one element type (included by
 * depthwise.c through instantiate.h): one x channel per y channel (C_x/g = C_y/g = 1), so
 * every tap is a product of channel vectors,
 *
 *   apply     y[o][c]  = Σ_k w[c][k] · x[i(o, k)][c]
 *   apply_t   x[i][c]  = Σ_(o, k): i(o, k) = i  w[c][k] · y[o][c]
 *   wgrad     dw[c][k] = Σ_o y[o][c] · x[i(o, k)][c]   (in parts over runs of lines)
 *
 * with i(o, k) = o·s - p + k·d per axis, vectorised over c (contiguous). apply and
 * apply_t take channels in runs of at most RUN so that a position's sums stay in L1.
 * Every element sums its terms in a fixed order: taps ascending (apply, apply_t),
 * positions ascending within a part (wgrad; the caller adds the parts in order).
 * wt is the weight in [tap][channel] order (depthwise_weight).
 */

/* wt[k][c] = w[c][k] */
void TC(tconv__depthwise_weight)(const tconv__shape *sh, const T *w, T *wt)
{
    for (int64_t c = 0; c < sh->cy; ++c)
        for (int64_t k = 0; k < sh->k_count; ++k)
            wt[k * sh->cy + c] = w[c * sh->k_count + k];
}

/* One output position's V = C channels (a layer of at most 32): the bias, then every tap's
 * product added in registers, stored once. The channels are covered by ceil(V / L)
 * vectors of L lanes, the last one ending at V (it overlaps the one before when L does
 * not divide V: the shared lanes get the same sums in the same order, so both stores
 * write the same bits). A scalar array of V sums (the form before) was kept on the stack
 * by GCC for V not a multiple of the vector width, a store and a reload per tap: 21
 * channels ran at half the channels-first speed. vec is 64, 32 or 16 bytes, chosen by V
 * (small_position); at most four vectors. The same for the channels c0 .. c0 + V of a
 * layer of C > 32 (C rows of wt and src), in runs of four 64-byte vectors (built in the
 * output, a run cost a load and a store per product: 128 channels ran at half the
 * channels-first speed). */
#define TCONV__DW_POSITION(name, vec)                                                          \
    static TCONV__ALWAYS_INLINE void name(const tconv__shape *sh, const taps *t0,             \
                                          const taps *t1, const taps *t2,                     \
                                          const int64_t *in_ext, const T *src, const T *wt,   \
                                          const T *bias, T *to, int64_t C, int64_t c0,        \
                                          const int V)                                        \
    {                                                                                          \
        const int L = (int)(sizeof(vec) / sizeof(T)), n = (V + L - 1) / L;                     \
        vec acc[4];                                                                            \
        TCONV__UNROLL(4)                                                                       \
        for (int u = 0; u < n; ++u) {                                                          \
            acc[u] = (vec){0};                                                                 \
            if (bias)                                                                          \
                memcpy(&acc[u], bias + c0 + (u < n - 1 ? u * L : V - L), sizeof acc[u]);       \
        }                                                                                      \
        for (int64_t a = 0; a < t0->n; ++a)                                                    \
            for (int64_t b = 0; b < t1->n; ++b)                                                \
                for (int64_t e = 0; e < t2->n; ++e) {                                          \
                    const int64_t k = (t0->k[a] * sh->k[1] + t1->k[b]) * sh->k[2] + t2->k[e];  \
                    const int64_t at =                                                         \
                        (t0->at[a] * in_ext[1] + t1->at[b]) * in_ext[2] + t2->at[e];           \
                    const T *wk = wt + k * C + c0, *from = src + at * C + c0;                  \
                    TCONV__UNROLL(4)                                                           \
                    for (int u = 0; u < n; ++u) {                                              \
                        const int c = u < n - 1 ? u * L : V - L;                               \
                        vec wv, fv;                                                            \
                        memcpy(&wv, wk + c, sizeof wv);                                        \
                        memcpy(&fv, from + c, sizeof fv);                                      \
                        acc[u] += wv * fv;                                                     \
                    }                                                                          \
                }                                                                              \
        TCONV__UNROLL(4)                                                                       \
        for (int u = 0; u < n; ++u)                                                            \
            memcpy(to + c0 + (u < n - 1 ? u * L : V - L), &acc[u], sizeof acc[u]);             \
    }

typedef T TC(dw_64) __attribute__((vector_size(64)));
typedef T TC(dw_32) __attribute__((vector_size(32)));
typedef T TC(dw_16) __attribute__((vector_size(16)));
TCONV__DW_POSITION(TC(position_64), TC(dw_64))
TCONV__DW_POSITION(TC(position_32), TC(dw_32))
TCONV__DW_POSITION(TC(position_16), TC(dw_16))
#undef TCONV__DW_POSITION

/* V below one 16-byte vector: scalar sums, few enough to stay in registers. */
static TCONV__ALWAYS_INLINE void TC(position_scalar)(const tconv__shape *sh, const taps *t0,
                                                     const taps *t1, const taps *t2,
                                                     const int64_t *in_ext, const T *src,
                                                     const T *wt, const T *bias, T *to,
                                                     const int V)
{
    T acc[4];
    for (int v = 0; v < V; ++v)
        acc[v] = bias ? bias[v] : (T)0;
    for (int64_t a = 0; a < t0->n; ++a)
        for (int64_t b = 0; b < t1->n; ++b)
            for (int64_t e = 0; e < t2->n; ++e) {
                const int64_t k = (t0->k[a] * sh->k[1] + t1->k[b]) * sh->k[2] + t2->k[e];
                const int64_t at = (t0->at[a] * in_ext[1] + t1->at[b]) * in_ext[2] + t2->at[e];
                for (int v = 0; v < V; ++v)
                    acc[v] += wt[k * V + v] * src[at * V + v];
            }
    for (int v = 0; v < V; ++v)
        to[v] = acc[v];
}

/* The widest vector that V channels fill (V a constant of the caller's switch). */
static TCONV__ALWAYS_INLINE void TC(small_position)(const tconv__shape *sh, const taps *t0,
                                                    const taps *t1, const taps *t2,
                                                    const int64_t *in_ext, const T *src,
                                                    const T *wt, const T *bias, T *to,
                                                    const int V)
{
    const int lanes16 = (int)(16 / sizeof(T));
    if (V >= 4 * lanes16)
        TC(position_64)(sh, t0, t1, t2, in_ext, src, wt, bias, to, V, 0, V);
    else if (V >= 2 * lanes16)
        TC(position_32)(sh, t0, t1, t2, in_ext, src, wt, bias, to, V, 0, V);
    else if (V >= lanes16)
        TC(position_16)(sh, t0, t1, t2, in_ext, src, wt, bias, to, V, 0, V);
    else
        TC(position_scalar)(sh, t0, t1, t2, in_ext, src, wt, bias, to, V);
}

/* The output lines l0..l1 of image n: y of apply (from x), or x of apply_t (from y, when
 * `transposed`): each element is the bias, then its taps added in ascending order. */
TCONV__VECTOR_CLONES
static void TC(depthwise_lines)(const tconv__shape *sh, bool transposed, const T *in,
                                const T *wt, const T *bias, int64_t n, int64_t l0, int64_t l1,
                                T *out)
{
    const int64_t C = sh->cy;
    const int64_t *in_ext = transposed ? sh->y : sh->x, *out_ext = transposed ? sh->x : sh->y;
    const int64_t in_count = transposed ? sh->y_count : sh->x_count;
    const int64_t out_count = transposed ? sh->x_count : sh->y_count;
    const T *src = in + n * in_count * C;
    T *dst = out + n * out_count * C;
    taps t0, t1, t2;
    for (int64_t l = l0; l < l1; ++l) {
        if (transposed) {
            reached_taps(sh, 0, l / out_ext[1], &t0);
            reached_taps(sh, 1, l % out_ext[1], &t1);
        } else {
            reading_taps(sh, 0, l / out_ext[1], &t0);
            reading_taps(sh, 1, l % out_ext[1], &t1);
        }
        /* undilated apply_t: position q2 + p2 = q·s2 + r stepped along the line (the
         * division of reached_taps per position was a sixth of a 21-channel layer) */
        const bool stepped = transposed && sh->d[2] == 1;
        int64_t q = sh->p[2] / sh->s[2], r = sh->p[2] % sh->s[2];
        for (int64_t q2 = 0; q2 < out_ext[2]; ++q2) {
            if (stepped) {
                reached_taps_undilated(sh, 2, q, r, &t2);
                if (++r == sh->s[2])
                    r = 0, ++q;
            } else if (transposed) {
                reached_taps(sh, 2, q2, &t2);
            } else {
                reading_taps(sh, 2, q2, &t2);
            }
            T *restrict to = dst + (l * out_ext[2] + q2) * C;
            if (C <= 32) {
                switch (C) {
#define TCONV__SMALL(n)                                                                        \
    case n:                                                                                    \
        TC(small_position)(sh, &t0, &t1, &t2, in_ext, src, wt, bias, to, n);                   \
        break;
                    TCONV__SMALL(1) TCONV__SMALL(2) TCONV__SMALL(3) TCONV__SMALL(4)
                    TCONV__SMALL(5) TCONV__SMALL(6) TCONV__SMALL(7) TCONV__SMALL(8)
                    TCONV__SMALL(9) TCONV__SMALL(10) TCONV__SMALL(11) TCONV__SMALL(12)
                    TCONV__SMALL(13) TCONV__SMALL(14) TCONV__SMALL(15) TCONV__SMALL(16)
                    TCONV__SMALL(17) TCONV__SMALL(18) TCONV__SMALL(19) TCONV__SMALL(20)
                    TCONV__SMALL(21) TCONV__SMALL(22) TCONV__SMALL(23) TCONV__SMALL(24)
                    TCONV__SMALL(25) TCONV__SMALL(26) TCONV__SMALL(27) TCONV__SMALL(28)
                    TCONV__SMALL(29) TCONV__SMALL(30) TCONV__SMALL(31) TCONV__SMALL(32)
#undef TCONV__SMALL
                default:
                    break;
                }
                continue;
            }
            /* Runs of 4 vectors in registers; the channels after them (fewer than a run)
             * build in `to` itself (in L1): the first tap writes bias + its product, the
             * others add theirs. A staging array cost two small memcpys per position, a
             * fifth of a 21-channel call. */
            const int64_t run = 4 * (int64_t)(sizeof(TC(dw_64)) / sizeof(T));
            int64_t whole = 0;
            for (; whole + run <= C; whole += run)
                TC(position_64)(sh, &t0, &t1, &t2, in_ext, src, wt, bias, to, C, whole,
                                (int)run);
            for (int64_t c0 = whole; c0 < C; c0 += RUN) {
                const int64_t nc = C - c0 < RUN ? C - c0 : RUN;
                T *restrict tc = to + c0;
                const T *restrict bc = bias ? bias + c0 : NULL;
                bool first = true;
                for (int64_t a = 0; a < t0.n; ++a)
                    for (int64_t b = 0; b < t1.n; ++b)
                        for (int64_t e = 0; e < t2.n; ++e) {
                            const int64_t k = (t0.k[a] * sh->k[1] + t1.k[b]) * sh->k[2] + t2.k[e];
                            const int64_t at = (t0.at[a] * in_ext[1] + t1.at[b]) * in_ext[2] +
                                               t2.at[e];
                            const T *restrict wk = wt + k * C + c0;
                            const T *restrict from = src + at * C + c0;
                            if (!first)
                                for (int64_t c = 0; c < nc; ++c)
                                    tc[c] += wk[c] * from[c];
                            else if (bc)
                                for (int64_t c = 0; c < nc; ++c)
                                    tc[c] = bc[c] + wk[c] * from[c];
                            else
                                for (int64_t c = 0; c < nc; ++c)
                                    tc[c] = wk[c] * from[c];
                            first = false;
                        }
                if (first) /* no tap reaches this position: the bias alone */
                    for (int64_t c = 0; c < nc; ++c)
                        tc[c] = bc ? bc[c] : (T)0;
            }
        }
    }
}

/* y for the lines l0..l1 (o0·Y1 + o1) of image n. */
void TC(tconv__depthwise_apply)(const tconv__shape *sh, const T *x, const T *wt,
                                const T *bias, int64_t n, int64_t l0, int64_t l1, T *y)
{
    TC(depthwise_lines)(sh, false, x, wt, bias, n, l0, l1, y);
}

/* x for the lines l0..l1 (i0·X1 + i1) of image n. */
void TC(tconv__depthwise_apply_t)(const tconv__shape *sh, const T *y, const T *wt,
                                  const T *bias, int64_t n, int64_t l0, int64_t l1, T *x)
{
    TC(depthwise_lines)(sh, true, y, wt, bias, n, l0, l1, x);
}

/* Outputs o2 of a line whose tap k2 reads inside x along the last axis: lo..hi-1. */
static inline void TC(inside_last)(const tconv__shape *sh, int64_t k2, int64_t *lo,
                                   int64_t *hi)
{
    const int64_t s = sh->s[2], q = sh->p[2] - k2 * sh->d[2]; /* o2·s >= q, o2·s < X2 + q */
    *lo = q > 0 ? (q + s - 1) / s : 0;
    *hi = sh->x[2] + q > 0 ? (sh->x[2] + q - 1) / s + 1 : 0;
    if (*hi > sh->y[2])
        *hi = sh->y[2];
}

/* Vectors per register block of the weight gradient. */
#define WGRAD_VECS 4

/* pk[c] += Σ_o yr[o·C + c] · xr[o·s2C + c], o < count, for the channels of nv vectors of
 * V lanes: at c0, c0 + V, ..., the last one at `last` (c0 + (nv - 1)·V, or less when it
 * ends at the last channel: then it overlaps the one before, whose lanes it does not add
 * again). Each channel's sum runs in a lane, positions ascending, then joins pk. Then all
 * C channels of a (line, tap): blocks of four vectors, the rest in one to four, the last
 * ending at channel C. For vectors of 64 bytes (C of at least one) and of 32 (C below):
 * four of 32 bytes waited on their additions' latency, 128 channels at 0.6x the
 * channels-first speed. */
#define TCONV__DW_WGRAD(vectors, channels, vec)                                                \
    static TCONV__ALWAYS_INLINE void vectors(const T *yr, const T *xr, int64_t C,              \
                                                    int64_t s2, int64_t count, int64_t c0,     \
                                                    int64_t last, const int nv, T *pk)         \
    {                                                                                          \
        const int64_t V = (int64_t)(sizeof(vec) / sizeof(T));                                  \
        vec acc[WGRAD_VECS] = {{0}};                                                           \
        for (int64_t o = 0; o < count; ++o)                                                    \
            for (int u = 0; u < nv; ++u) {                                                     \
                const int64_t c = u < nv - 1 ? c0 + u * V : last;                              \
                vec yv, xv;                                                                    \
                memcpy(&yv, yr + o * C + c, sizeof yv);                                        \
                memcpy(&xv, xr + o * s2 * C + c, sizeof xv);                                   \
                acc[u] += yv * xv;                                                             \
            }                                                                                  \
        for (int u = 0; u < nv - 1; ++u)                                                       \
            for (int64_t e = 0; e < V; ++e)                                                    \
                pk[c0 + u * V + e] += acc[u][e];                                               \
        for (int64_t e = c0 + (nv - 1) * V - last; e < V; ++e)                                 \
            pk[last + e] += acc[nv - 1][e];                                                    \
    }                                                                                          \
    static TCONV__ALWAYS_INLINE void channels(const T *yr, const T *xr, int64_t C,             \
                                                     int64_t s2, int64_t count, T *pk)         \
    {                                                                                          \
        const int64_t V = (int64_t)(sizeof(vec) / sizeof(T)), B = WGRAD_VECS * V;              \
        int64_t c0 = 0;                                                                        \
        for (; c0 + B <= C; c0 += B)                                                           \
            vectors(yr, xr, C, s2, count, c0, c0 + B - V, WGRAD_VECS, pk);                     \
        if (c0 == C)                                                                           \
            return;                                                                            \
        switch ((C - c0 + V - 1) / V) {                                                        \
        case 1: vectors(yr, xr, C, s2, count, c0, C - V, 1, pk); break;                        \
        case 2: vectors(yr, xr, C, s2, count, c0, C - V, 2, pk); break;                        \
        case 3: vectors(yr, xr, C, s2, count, c0, C - V, 3, pk); break;                        \
        default: vectors(yr, xr, C, s2, count, c0, C - V, 4, pk); break;                       \
        }                                                                                      \
    }

TCONV__DW_WGRAD(TC(wgrad_64_vectors), TC(wgrad_64_channels), TC(dw_64))
TCONV__DW_WGRAD(TC(wgrad_32_vectors), TC(wgrad_32_channels), TC(dw_32))
#undef TCONV__DW_WGRAD

/* part[k][c] += Σ over y's lines line0..line1 (across images) of y[o][c] · x[i(o, k)][c]:
 * per line and tap, the line's positions summed in registers for blocks of channels
 * (both tensors contiguous along c), then added to part: blocks of four vectors, then the
 * rest in one to four vectors, the last one ending at channel C (21 channels had been
 * summed one at a time, strided, at a third of the speed of channels-first); under one
 * vector of channels, one channel at a time. (Adding every product into part in memory
 * made each a store: the stores bound it.) Fixed order per (tap, channel): lines
 * ascending, a line's positions ascending. */
TCONV__VECTOR_CLONES
void TC(tconv__depthwise_wgrad_part)(const tconv__shape *sh, const T *y, const T *x,
                                     int64_t line0, int64_t line1, T *part)
{
    const int64_t C = sh->cy, Y1 = sh->y[1], Y2 = sh->y[2], K = sh->k_count;
    const int64_t K1 = sh->k[1], K2 = sh->k[2], X2 = sh->x[2], s2 = sh->s[2];
    const int64_t lines = sh->y[0] * Y1, V64 = 64 / (int64_t)sizeof(T), V32 = V64 / 2;
    for (int64_t j = 0; j < K * C; ++j)
        part[j] = 0;
    taps t0, t1;
    for (int64_t line = line0; line < line1; ++line) {
        const int64_t n = line / lines, l = line % lines;
        const T *xn = x + n * sh->x_count * C;
        const T *yl = y + (n * sh->y_count + l * Y2) * C;
        reading_taps(sh, 0, l / Y1, &t0);
        reading_taps(sh, 1, l % Y1, &t1);
        for (int64_t a = 0; a < t0.n; ++a)
            for (int64_t b = 0; b < t1.n; ++b)
                for (int64_t k2 = 0; k2 < K2; ++k2) {
                    int64_t lo, hi;
                    TC(inside_last)(sh, k2, &lo, &hi);
                    if (hi <= lo)
                        continue;
                    const int64_t k = (t0.k[a] * K1 + t1.k[b]) * K2 + k2;
                    /* x position of output lo through this tap, then s2 positions a step */
                    const T *xr = xn + (((t0.at[a] * sh->x[1] + t1.at[b]) * X2 + lo * s2 -
                                         sh->p[2] + k2 * sh->d[2]) * C);
                    const T *yr = yl + lo * C;
                    T *pk = part + k * C;
                    const int64_t count = hi - lo;
                    if (C >= V64) {
                        TC(wgrad_64_channels)(yr, xr, C, s2, count, pk);
                        continue;
                    }
                    if (C >= V32) {
                        TC(wgrad_32_channels)(yr, xr, C, s2, count, pk);
                        continue;
                    }
                    for (int64_t c = 0; c < C; ++c) {
                        T sum = 0;
                        for (int64_t o = 0; o < count; ++o)
                            sum += yr[o * C + c] * xr[o * s2 * C + c];
                        pk[c] += sum;
                    }
                }
    }
}

#undef WGRAD_VECS
