/*
 * The Winograd convolution F(2x2, 3x3) on channels-last tensors, for one element type
 * (included by winograd.c through instantiate.h). Every 2x2 block of outputs (a tile) of
 * a 3x3, stride-1 correlation is
 *
 *   y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,   d the tile's 4x4 input, g the 3x3 kernel,
 *
 *   Bᵀ = | 1  0 -1  0 |   G = | 1    0    0   |   Aᵀ = | 1  1  1  0 |
 *        | 0  1  1  0 |       | 1/2  1/2  1/2 |        | 0  1 -1 -1 |
 *        | 0 -1  1  0 |       | 1/2 -1/2  1/2 |
 *        | 0  1  0 -1 |       | 0    0    1   |
 *
 * so summed over input channels the 16 element-wise products are 16 GEMMs,
 *
 *   M[ξ][tile][cy] = Σ_cx V[ξ][tile][cx] · U[ξ][cy][cx],   ξ = 4i + j of the 4x4,
 *
 * 16 multiplications per channel pair and tile of 4 outputs where im2col's GEMM makes 36.
 * apply_t with stride 1 is the same correlation of y with the flipped kernel, its channels
 * the other way round, padded by 2 - p.
 * U = G g Gᵀ is made once per call (shared, rows of output channels split among the team);
 * a task takes a chunk of tiles and a block of output channels: V for its tiles, the 16
 * GEMMs, then Aᵀ M A plus the bias written to y. Every transform runs on vectors of
 * channels (contiguous in channels-last); a channel count no vector width divides takes
 * its last vector overlapping the one before, which recomputes the same lanes with the
 * same operations: the same bits. Every output is written by one task, its sums in a fixed
 * order (the GEMMs' cut depends on the shape alone): bit-identical for any thread count.
 */

typedef T TC(wino_vec) __attribute__((vector_size(64)));

/* V = Bᵀ d B, rows first (i), then columns (j); d and v are 4x4, ξ = 4i + j. */
#define TCONV__WINO_INPUT(E, d, v)                                                                 \
    do {                                                                                           \
        E t_[16];                                                                                  \
        for (int j_ = 0; j_ < 4; ++j_) {                                                           \
            t_[0 + j_] = d[0 + j_] - d[8 + j_];                                                    \
            t_[4 + j_] = d[4 + j_] + d[8 + j_];                                                    \
            t_[8 + j_] = d[8 + j_] - d[4 + j_];                                                    \
            t_[12 + j_] = d[4 + j_] - d[12 + j_];                                                  \
        }                                                                                          \
        for (int i_ = 0; i_ < 4; ++i_) {                                                           \
            v[4 * i_ + 0] = t_[4 * i_ + 0] - t_[4 * i_ + 2];                                       \
            v[4 * i_ + 1] = t_[4 * i_ + 1] + t_[4 * i_ + 2];                                       \
            v[4 * i_ + 2] = t_[4 * i_ + 2] - t_[4 * i_ + 1];                                       \
            v[4 * i_ + 3] = t_[4 * i_ + 1] - t_[4 * i_ + 3];                                       \
        }                                                                                          \
    } while (0)

/* U = G g Gᵀ: g is 3x3 (row r, column s at 3r + s), u 4x4. */
#define TCONV__WINO_WEIGHT(E, g, u, half)                                                          \
    do {                                                                                           \
        E t_[12];                                                                                  \
        for (int s_ = 0; s_ < 3; ++s_) {                                                           \
            t_[s_] = g[s_];                                                                        \
            t_[3 + s_] = (g[s_] + g[3 + s_] + g[6 + s_]) * half;                                   \
            t_[6 + s_] = (g[s_] - g[3 + s_] + g[6 + s_]) * half;                                   \
            t_[9 + s_] = g[6 + s_];                                                                \
        }                                                                                          \
        for (int i_ = 0; i_ < 4; ++i_) {                                                           \
            u[4 * i_ + 0] = t_[3 * i_];                                                            \
            u[4 * i_ + 1] = (t_[3 * i_] + t_[3 * i_ + 1] + t_[3 * i_ + 2]) * half;                 \
            u[4 * i_ + 2] = (t_[3 * i_] - t_[3 * i_ + 1] + t_[3 * i_ + 2]) * half;                 \
            u[4 * i_ + 3] = t_[3 * i_ + 2];                                                        \
        }                                                                                          \
    } while (0)

/* y = Aᵀ m A: m is 4x4, y 2x2 (row a, column b at 2a + b). */
#define TCONV__WINO_OUTPUT(E, m, y)                                                                \
    do {                                                                                           \
        E s_[8];                                                                                   \
        for (int j_ = 0; j_ < 4; ++j_) {                                                           \
            s_[j_] = m[j_] + m[4 + j_] + m[8 + j_];                                                \
            s_[4 + j_] = m[4 + j_] - m[8 + j_] - m[12 + j_];                                       \
        }                                                                                          \
        for (int a_ = 0; a_ < 2; ++a_) {                                                           \
            y[2 * a_] = s_[4 * a_] + s_[4 * a_ + 1] + s_[4 * a_ + 2];                              \
            y[2 * a_ + 1] = s_[4 * a_ + 1] - s_[4 * a_ + 2] - s_[4 * a_ + 3];                      \
        }                                                                                          \
    } while (0)

/* Channel offset of vector u of n covering C channels, the last one ending at C. */
static inline int64_t TC(wino_lane)(int64_t u, int64_t n, int64_t C, int64_t L)
{
    return u < n - 1 ? u * L : C - L;
}

/* U[ξ][cy][0..C_x) for y channel cy, from its kernels w[cy][cx][3x3] (flipped for apply_t,
 * whose correlation runs the kernel backwards), through wt (C_x·9 scratch: the taps by
 * channel, [tap][cx]). */
TCONV__VECTOR_CLONES
static void TC(wino_weight)(const tconv__shape *sh, const T *w, int64_t cy, bool flip, T *wt, T *u)
{
    typedef TC(wino_vec) vec;
    const int64_t C = sh->cx, L = (int64_t)(sizeof(vec) / sizeof(T)), n = (C + L - 1) / L;
    const int64_t stride = sh->cy * C; /* between U's 16 matrices */
    TC(tconv__transpose)(C, 9, w + cy * C * 9, 9, wt, C);
    const vec half = (vec){0} + (T)0.5;
    for (int64_t q = 0; q < n; ++q) {
        const int64_t c = TC(wino_lane)(q, n, C, L);
        vec g[9], r[16];
        for (int k = 0; k < 9; ++k)
            memcpy(&g[k], wt + (flip ? 8 - k : k) * C + c, sizeof g[k]);
        TCONV__WINO_WEIGHT(vec, g, r, half);
        for (int e = 0; e < 16; ++e)
            memcpy(u + e * stride + cy * C + c, &r[e], sizeof r[e]);
    }
}

/* V[ξ][tile - t0][0..C_in) for the tiles t0..t1 (ld C_in, ξ stride `vs`) of the input `in`
 * (x for apply, y for apply_t); a tap outside it reads `zero` (C_in zeros). */
TCONV__VECTOR_CLONES
static void TC(wino_input)(const winoplan *pl, const T *in, int64_t t0, int64_t t1, const T *zero,
                           T *v, int64_t vs)
{
    typedef TC(wino_vec) vec;
    const int64_t C = pl->cin, L = (int64_t)(sizeof(vec) / sizeof(T)), n = (C + L - 1) / L;
    const int64_t X1 = pl->in[0], X2 = pl->in[1], per_image = pl->th * pl->tw;
    for (int64_t t = t0; t < t1; ++t) {
        const int64_t img = t / per_image, a = t % per_image / pl->tw, b = t % pl->tw;
        const int64_t r0 = 2 * a - pl->pad[0], c0 = 2 * b - pl->pad[1];
        const T *src[16];
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) {
                const int64_t r = r0 + i, q = c0 + j;
                src[4 * i + j] =
                    r >= 0 && r < X1 && q >= 0 && q < X2 ? in + ((img * X1 + r) * X2 + q) * C : zero;
            }
        T *to = v + (t - t0) * C;
        for (int64_t u = 0; u < n; ++u) {
            const int64_t c = TC(wino_lane)(u, n, C, L);
            vec d[16], r[16];
            for (int e = 0; e < 16; ++e)
                memcpy(&d[e], src[e] + c, sizeof d[e]);
            TCONV__WINO_INPUT(vec, d, r);
            for (int e = 0; e < 16; ++e)
                memcpy(to + e * vs + c, &r[e], sizeof r[e]);
        }
    }
}

/* The output (y for apply, x for apply_t) at the tiles t0..t1, channels cy0..cy0 + B, from
 * M[ξ][tile - t0][0..B) (ld B, ξ stride `ms`), plus the bias; a tile's outputs past the
 * output's edge are not written. The last block of channels may be narrower than a vector
 * (321 channels in blocks of 80 leave 1): its lanes are scalars, with the same operations,
 * since an overlapping vector would reach into the block before, another task's. */
TCONV__VECTOR_CLONES
static void TC(wino_output)(const winoplan *pl, const T *m, int64_t ms, int64_t t0, int64_t t1,
                            int64_t cy0, int64_t B, const T *bias, T *y)
{
    typedef TC(wino_vec) vec;
    const int64_t C = pl->cout, L = (int64_t)(sizeof(vec) / sizeof(T)), n = (B + L - 1) / L;
    const int64_t Y1 = pl->out[0], Y2 = pl->out[1], per_image = pl->th * pl->tw;
    for (int64_t t = t0; t < t1; ++t) {
        const int64_t img = t / per_image, a = t % per_image / pl->tw, b = t % pl->tw;
        const int64_t r0 = 2 * a, c0 = 2 * b;
        const bool down = r0 + 1 < Y1, right = c0 + 1 < Y2;
        T *at = y + ((img * Y1 + r0) * Y2 + c0) * C + cy0;
        T *to[4] = {at, right ? at + C : NULL, down ? at + Y2 * C : NULL,
                    down && right ? at + (Y2 + 1) * C : NULL};
        const T *from = m + (t - t0) * B;
        for (int64_t c = 0; B < L && c < B; ++c) { /* a block narrower than a vector */
            T s[16], r[4];
            for (int e = 0; e < 16; ++e)
                s[e] = from[e * ms + c];
            TCONV__WINO_OUTPUT(T, s, r);
            for (int e = 0; e < 4; ++e)
                if (to[e])
                    to[e][c] = r[e] + (bias ? bias[cy0 + c] : (T)0);
        }
        for (int64_t u = 0; B >= L && u < n; ++u) {
            const int64_t c = TC(wino_lane)(u, n, B, L);
            vec s[16], r[4], add = (vec){0};
            for (int e = 0; e < 16; ++e)
                memcpy(&s[e], from + e * ms + c, sizeof s[e]);
            if (bias)
                memcpy(&add, bias + cy0 + c, sizeof add);
            TCONV__WINO_OUTPUT(vec, s, r);
            for (int e = 0; e < 4; ++e)
                if (to[e]) {
                    r[e] += add;
                    memcpy(to[e] + c, &r[e], sizeof r[e]);
                }
        }
    }
}

/* y = C x (apply: in = x, out = y) or x = Cᵀ y (apply_t: in = y, out = x): U (shared),
 * then tasks of (chunk of tiles, block of output channels). U is [ξ][C_y][C_x] for both:
 * apply multiplies by its rows of output channels transposed, apply_t by its columns. */
static void TC(wino_region)(const tconv__region_args *op)
{
    const tconv__ctx *c = op->c;
    const tconv__product_plan *pp = op->pp;
    const tconv__shape *sh = &c->sh;
    const winoplan *pl = (const winoplan *)pp->data.bytes;
    const T *in = op->a, *w = op->b, *bias = c->bias;
    T *out = op->out, *u = op->ws;
    T *v = tconv__thread_ws(pp, op->ws, tconv__thread_num());
    T *m = v + pl->v_elems, *zero = m + pl->m_elems, *wt = zero + pl->zero_elems;
    const int64_t Cin = pl->cin, Cout = pl->cout, tc = pl->chunk, plane = sh->cy * sh->cx;
    memset(zero, 0, sizeof(T) * (size_t)Cin);
#pragma omp for schedule(static)
    for (int64_t cy = 0; cy < sh->cy; ++cy)
        TC(wino_weight)(sh, w, cy, pl->transposed, wt, u);
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < pl->chunks * pl->blocks; ++task) {
        const int64_t q = task / pl->blocks, blk = task % pl->blocks;
        const int64_t t0 = q * tc, t1 = min64(pl->tiles, t0 + tc);
        const int64_t o0 = blk * pl->per_block, B = min64(Cout, o0 + pl->per_block) - o0;
        TC(wino_input)(pl, in, t0, t1, zero, v, tc * Cin);
        for (int e = 0; e < 16; ++e) {
            const T *ue = u + e * plane;
            if (pl->transposed) /* U[ξ][C_y][o0..o0 + B) */
                MM(c, false, false, t1 - t0, B, Cin, 1, v + e * tc * Cin, Cin, ue + o0, sh->cx, 0,
                   m + e * tc * B, B);
            else /* U[ξ][o0..o0 + B][C_x]ᵀ */
                MM(c, false, true, t1 - t0, B, Cin, 1, v + e * tc * Cin, Cin, ue + o0 * Cin, Cin, 0,
                   m + e * tc * B, B);
        }
        TC(wino_output)(pl, m, tc * B, t0, t1, o0, B, bias, out);
    }
}

static void TC(wino_run)(const tconv__ctx *c, const tconv__product_plan *pp, const T *in,
                         const T *w, T *out, T *ws)
{
    const tconv__region_args op = {c, pp, in, w, NULL, out, NULL, ws, 0, NULL};
    tconv__region(tconv__team(c, pp), TC(wino_region), &op);
}
