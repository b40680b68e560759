/*
 * The bordered rows' whole vectors, for one element type T and one vector width (included
 * by phase_tmpl.h twice per type: PR_BYTES 64 for rows of at least 64 bytes, 32 below,
 * PR(name) the name with the width's suffix). Each output vector's sums are in a register:
 * the bias (the first input channel) or the output so far, plus each tap's weight times
 * the bordered input it reads, taps in order (k0, k1, k2).
 *
 * A row is cut into blocks of at most 4 vectors. The block that ends a row ends at the
 * row's last element, so its last vector overlaps the one before (when the vector width
 * does not divide the row): the shared lanes get the same operations in the same order,
 * and both stores write the same bits. A block loads every sum before it stores any, and
 * the row's last block holds at least two vectors when the row has two, so an overlapped
 * lane is never added twice. The rows that ended in a scalar tail of up to a vector
 * (the form before) spent a third of a 56-wide row's time there.
 */

typedef T PR(vec) __attribute__((vector_size(PR_BYTES)));
/* The same lanes as integers of T's width: masks for the rows read in place. */
typedef __typeof__(_Generic((T)0, float: (int32_t)0, default: (int64_t)0)) PR(lane_bits);
typedef PR(lane_bits) PR(mask) __attribute__((vector_size(PR_BYTES)));

/* in with the lanes that m clears set to +0, bit by bit (a product with 0 would turn an
 * infinity there into NaN): what a zero border would have given. */
static TCONV__ALWAYS_INLINE void PR(keep)(PR(vec) *in, const PR(mask) *m)
{
    PR(mask) bits;
    memcpy(&bits, in, sizeof bits);
    bits &= *m;
    memcpy(in, &bits, sizeof *in);
}

/* Vector u of a block of NV starts at u·L, the last at `last` (= (NV-1)·L inside a row). */
static TCONV__ALWAYS_INLINE int64_t PR(at)(int u, int NV, int64_t last)
{
    return u == NV - 1 ? last : (int64_t)u * (int64_t)(PR_BYTES / sizeof(T));
}

static TCONV__ALWAYS_INLINE void PR(start)(PR(vec) *acc, bool first, T b, const T *yr,
                                           const int NV, int64_t last)
{
    TCONV__UNROLL(4)
    for (int u = 0; u < NV; ++u) {
        if (first)
            acc[u] = (PR(vec)){0} + b;
        else
            memcpy(&acc[u], yr + PR(at)(u, NV, last), sizeof acc[u]);
    }
}

static TCONV__ALWAYS_INLINE void PR(store)(const PR(vec) *acc, T *yr, const int NV,
                                           int64_t last)
{
    TCONV__UNROLL(4)
    for (int u = 0; u < NV; ++u)
        memcpy(yr + PR(at)(u, NV, last), &acc[u], sizeof acc[u]);
}

/* Any kernel, one output row. */
static TCONV__ALWAYS_INLINE void PR(vectors)(const rows_view *v, const T *xr, const T *w_c,
                                             bool first, T b, T *yr, const int NV,
                                             int64_t last)
{
    const int64_t P1 = v->P1, P2 = v->P2, K1 = v->k[1], K2 = v->k[2], D2 = v->d[2];
    PR(vec) acc[4];
    PR(start)(acc, first, b, yr, NV, last);
    for (int64_t k0 = 0; k0 < v->k[0]; ++k0)
        for (int64_t k1 = 0; k1 < K1; ++k1) {
            const T *row = xr + (k0 * v->d[0] * P1 + k1 * v->d[1]) * P2;
            const T *wk = w_c + (k0 * K1 + k1) * K2;
            for (int64_t k2 = 0; k2 < K2; ++k2) {
                const T wv = wk[k2];
                TCONV__UNROLL(4)
                for (int u = 0; u < NV; ++u) {
                    PR(vec) in;
                    memcpy(&in, row + k2 * D2 + PR(at)(u, NV, last), sizeof in);
                    acc[u] += wv * in;
                }
            }
        }
    PR(store)(acc, yr, NV, last);
}

/* A 2-D 3x3 kernel without dilation on the last axis, R = 1 or 2 output rows (R = 2: rows
 * o1 and o1 + 1 of stride 1 and no dilation on that axis, which read input rows r = j + k1
 * of 0..3): each input vector is loaded once for the output rows it feeds, and 2·NV
 * chains of sums overlap (4 chains of 512-bit sums alone waited on their latency). The
 * taps unrolled over row pointers (a loop over k0 around them made GCC hoist every
 * address and spill them). In place (rows read from the input itself, without a border),
 * the first vector's left taps keep the lanes of `left` and the last vector's right taps
 * those of `right`: the lanes that read the neighbouring row's element. */
static TCONV__ALWAYS_INLINE void PR(vectors_3x3)(const rows_view *v, const T *xr,
                                                 const T *w_c, bool first, T b, T *yr,
                                                 const int R, const int NV, int64_t last,
                                                 const bool in_place, PR(mask) left,
                                                 PR(mask) right)
{
    const int64_t D1 = v->d[1] * v->P2, O2 = v->out[2];
    PR(vec) acc[2][4];
    TCONV__UNROLL(2)
    for (int j = 0; j < R; ++j)
        PR(start)(acc[j], first, b, yr + j * O2, NV, last);
    TCONV__UNROLL(4)
    for (int r = 0; r < R + 2; ++r)
        TCONV__UNROLL(3)
        for (int k2 = 0; k2 < 3; ++k2)
            TCONV__UNROLL(4)
            for (int u = 0; u < NV; ++u) {
                PR(vec) in;
                memcpy(&in, xr + r * D1 + k2 + PR(at)(u, NV, last), sizeof in);
                if (in_place && k2 == 0 && u == 0)
                    PR(keep)(&in, &left);
                if (in_place && k2 == 2 && u == NV - 1)
                    PR(keep)(&in, &right);
                TCONV__UNROLL(2)
                for (int j = 0; j < R; ++j) {
                    const int k1 = r - j;
                    if (k1 >= 0 && k1 < 3)
                        acc[j][u] += w_c[k1 * 3 + k2] * in;
                }
            }
    TCONV__UNROLL(2)
    for (int j = 0; j < R; ++j)
        PR(store)(acc[j], yr + j * O2, NV, last);
}

/* One block of NV (a literal) vectors from element o2 of the rows; the row's last block
 * when `end`. */
#define PR_BLOCK(NV, last, end)                                                                \
    do {                                                                                       \
        const PR(mask) lm = o2 == 0 ? left_lane : all, rm = (end) ? right_lane : all;          \
        if (k33 && R == 2)                                                                     \
            PR(vectors_3x3)(v, xr + o2, w_c, first, b, yr + o2, 2, NV, last, in_place, lm,     \
                            rm);                                                               \
        else if (k33)                                                                          \
            PR(vectors_3x3)(v, xr + o2, w_c, first, b, yr + o2, 1, NV, last, in_place, lm,     \
                            rm);                                                               \
        else                                                                                   \
            PR(vectors)(v, xr + o2, w_c, first, b, yr + o2, NV, last);                         \
    } while (0)

/* The R output rows at yr (at least one vector wide) from the input at xr: bordered, or
 * (in_place, 3x3 only) the input rows themselves, one element before the row's start. */
static TCONV__ALWAYS_INLINE void PR(row)(const rows_view *v, const T *xr, const T *w_c,
                                         bool first, T b, T *yr, bool k33, int R,
                                         const bool in_place)
{
    const int64_t L = (int64_t)(PR_BYTES / sizeof(T)), O2 = v->out[2];
    PR(mask) all, left_lane, right_lane; /* every lane; all but the first; all but the last */
    memset(&all, 0xff, sizeof all);
    left_lane = right_lane = all;
    left_lane[0] = 0;
    right_lane[L - 1] = 0;
    int64_t left = (O2 + L - 1) / L, o2 = 0; /* vectors, the last ending at O2 */
    for (; left > 5; left -= 4, o2 += 4 * L)
        PR_BLOCK(4, 3 * L, false);
    if (left == 5) { /* 3 + 2: the last block keeps two */
        PR_BLOCK(3, 2 * L, false);
        left -= 3, o2 += 3 * L;
    }
    const int64_t last = O2 - L - o2;
    switch (left) {
    case 4: PR_BLOCK(4, last, true); break;
    case 3: PR_BLOCK(3, last, true); break;
    case 2: PR_BLOCK(2, last, true); break;
    default: PR_BLOCK(1, last, true); break;
    }
}

#undef PR_BLOCK
