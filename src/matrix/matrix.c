/*
 * The transformation matrix C of one image, built from the geometry: which entries copy
 * which weight, row by row, as CSR or dense. The algorithms `dense` and `sparse` and the
 * public builders (matrix_api.c) all read C through tconv__matrix_row.
 *
 * Row (cy, o) of C holds the weights that carry X into Y element o of channel cy: column
 * (cx, i) copies tap k when cx is in cy's group and, on every axis, i = o·s - p + k·d.
 */
#include "internal.h"

#include "threads.h"
#include <string.h>

/* ⌊a / b⌋ and ⌈a / b⌉ for b > 0 and any sign of a (C's `/` truncates toward zero). Only a
 * quotient and a remainder: no a + b that could overflow for huge strides or paddings. */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && a < 0);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a / b + (a % b != 0 && a > 0);
}

static int64_t gcd(int64_t a, int64_t b)
{
    while (b) {
        const int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The taps of one row along one axis: n of them, from tap k in steps of dk, reaching the
 * partner positions pos, pos + dpos, ... (ascending). */
typedef struct run {
    int64_t n, k, dk, pos, dpos;
} run;

/* Row of C, axis a, Y position o: the taps k with 0 <= i = o·s - p + k·d < X. They are
 * consecutive: k in [klo, khi), and i ascends with k in steps of d. */
static run run_of_c(const tconv__shape *sh, int a, int64_t o)
{
    const int64_t base = o * sh->s[a] - sh->p[a]; /* i of tap 0 */
    int64_t klo = ceil_div(-base, sh->d[a]);
    int64_t khi = floor_div(sh->x[a] - 1 - base, sh->d[a]) + 1;
    klo = klo > 0 ? klo : 0;
    khi = khi < sh->k[a] ? khi : sh->k[a];
    if (khi <= klo)
        return (run){0, 0, 0, 0, 0};
    return (run){khi - klo, klo, 1, base + klo * sh->d[a], sh->d[a]};
}

/*
 * Row of Cᵀ, axis a, X position i: the taps k for which o = (i + p - k·d) / s is a whole
 * number in [0, Y). The division is exact for k in one residue class modulo
 * s' = s / gcd(s, d); o then falls by d / gcd(s, d) per step of s' in k. Walking k
 * downwards from the largest valid tap makes o ascend, as CSR columns must.
 */
static run run_of_ct(const tconv__shape *sh, int a, int64_t i)
{
    const int64_t t = i + sh->p[a], s = sh->s[a], d = sh->d[a];
    int64_t kmin = ceil_div(t - (sh->y[a] - 1) * s, d); /* o <= Y - 1 */
    int64_t kmax = floor_div(t, d);                      /* o >= 0 */
    kmin = kmin > 0 ? kmin : 0;
    kmax = kmax < sh->k[a] - 1 ? kmax : sh->k[a] - 1;
    /* The largest tap of the residue class: found within s' steps when the class meets
     * [kmin, kmax], else the walk ends below kmin (at most K steps). */
    int64_t k = kmax;
    while (k >= kmin && (t - k * d) % s != 0)
        --k;
    if (k < kmin)
        return (run){0, 0, 0, 0, 0};
    const int64_t g = gcd(s, d), step = s / g;
    return (run){(k - kmin) / step + 1, k, -step, (t - k * d) / s, d / g};
}

/* Row-major strides of a 3-axis extent. */
static void strides_of(const int64_t e[3], int64_t st[3])
{
    st[2] = 1;
    st[1] = e[2];
    st[0] = e[1] * e[2];
}

void tconv__matrix_row(const tconv__shape *sh, bool transposed, int64_t r, tconv__row *row)
{
    const int64_t K = sh->k_count;
    const int64_t *key_extent = transposed ? sh->x : sh->y;
    const int64_t *partner_extent = transposed ? sh->y : sh->x;
    const int64_t key_count = transposed ? sh->x_count : sh->y_count;
    const int64_t ch = r / key_count;
    int64_t key = r % key_count, kst[3], pst[3], pos[3];
    strides_of(sh->k, kst);
    strides_of(partner_extent, pst);
    for (int a = 2; a >= 0; --a) {
        pos[a] = key % key_extent[a];
        key /= key_extent[a];
    }

    if (!transposed) { /* ch = cy; partners: the C_x/g channels cx of its group */
        const int64_t g = ch / sh->cyg;
        row->n[0] = sh->cxg;
        row->col0 = g * sh->cxg * sh->x_count;
        row->dcol[0] = sh->x_count;
        row->w0 = ch * sh->cxg * K;
        row->dw[0] = K;
    } else { /* ch = cx; partners: the C_y/g channels cy of its group */
        const int64_t g = ch / sh->cxg, cxl = ch % sh->cxg;
        row->n[0] = sh->cyg;
        row->col0 = g * sh->cyg * sh->y_count;
        row->dcol[0] = sh->y_count;
        row->w0 = (g * sh->cyg * sh->cxg + cxl) * K;
        row->dw[0] = sh->cxg * K;
    }
    for (int a = 0; a < 3; ++a) {
        const run u = transposed ? run_of_ct(sh, a, pos[a]) : run_of_c(sh, a, pos[a]);
        row->n[a + 1] = u.n;
        row->col0 += u.pos * pst[a];
        row->w0 += u.k * kst[a];
        /* a run of one entry takes no step, and its step may not even fit in int64 (a huge
         * dilation); a longer run's steps stay inside the matrix */
        row->dcol[a + 1] = u.n > 1 ? u.dpos * pst[a] : 0;
        row->dw[a + 1] = u.n > 1 ? u.dk * kst[a] : 0;
    }
}

/*
 * The non-zero count in closed form. The axes are independent and every channel pair of
 * a group contributes the same pattern, so
 *
 *   nnz = C_y · (C_x/g) · Π_a N_a,
 *   N_a = Σ_{k=0}^{K_a-1} max(0, min(Y_a - 1, ⌊(X_a - 1 + p_a - k·d_a) / s_a⌋)
 *                                - max(0, ⌈(p_a - k·d_a) / s_a⌉) + 1),
 *
 * where the k-th term counts the Y positions o whose tap k lands inside the map
 * (0 <= o·s - p + k·d < X) rather than in the padding. With p = 0 no tap reaches the
 * padding, N_a = Y_a·K_a, and nnz = C_y·(C_x/g)·|Sy|·Πk: the multiplications of the
 * convolution way. The seed's 5x5 * 3x3 example: 1·1·(3·3)·(3·3) = 81 of 9·25 = 225.
 *
 * The sum runs over taps or, when the map is shorter than the kernel, over positions (the
 * same count, row by row, as tconv__matrix_row gives it): min(K_a, Y_a) steps. Past
 * TCONV__NNZ_WALK steps on an axis the matrix algorithms refuse the geometry rather than
 * spend seconds in a planner. tconv__matrix_row counts over positions; the tests count the
 * dense structure entry by entry: three computations that must agree.
 */
#define TCONV__NNZ_WALK ((int64_t)1 << 24)

tconv_status tconv__matrix_nnz(const tconv__shape *sh, int64_t *nnz, tconv_error *err)
{
    int64_t total;
    if (!tconv__mul(sh->cy, sh->cxg, &total))
        return tconv__fail(err, TCONV_EOVERFLOW, "the transformation matrix's non-zero count "
                           "overflows int64");
    for (int a = 0; a < 3; ++a) {
        const int64_t X = sh->x[a], Y = sh->y[a], s = sh->s[a], p = sh->p[a], d = sh->d[a];
        int64_t N = 0; /* up to Y·K, which may not fit: summed with a check */
        bool fits = true;
        if (sh->k[a] > TCONV__NNZ_WALK && Y > TCONV__NNZ_WALK)
            return tconv__fail(err, TCONV_EUNSUPPORTED,
                               "the transformation matrix of a kernel of %lld taps over a map "
                               "of %lld positions (axis %d) is beyond the matrix algorithms",
                               (long long)sh->k[a], (long long)Y, a - sh->lead);
        if (sh->k[a] <= Y) {
            for (int64_t k = 0; k < sh->k[a] && fits; ++k) {
                int64_t hi = floor_div(X - 1 + p - k * d, s), lo = ceil_div(p - k * d, s);
                hi = hi < Y - 1 ? hi : Y - 1;
                lo = lo > 0 ? lo : 0;
                fits = tconv__add(N, hi >= lo ? hi - lo + 1 : 0, &N);
            }
        } else {
            for (int64_t o = 0; o < Y && fits; ++o)
                fits = tconv__add(N, run_of_c(sh, a, o).n, &N);
        }
        if (!fits || !tconv__mul(total, N, &total))
            return tconv__fail(err, TCONV_EOVERFLOW, "the transformation matrix's non-zero "
                               "count overflows int64");
    }
    *nnz = total;
    return TCONV_OK;
}

void tconv__csr_build(const tconv__shape *sh, bool transposed, int threads, int64_t *row_ptr,
                      int64_t *col, int64_t *widx)
{
    const int64_t rows = tconv__matrix_rows(sh, transposed);
    /* counts in parallel, the running sum in one fixed order, then every row in place */
    row_ptr[0] = 0;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        tconv__row row;
        tconv__matrix_row(sh, transposed, r, &row);
        row_ptr[r + 1] = tconv__row_count(&row);
    }
    for (int64_t r = 0; r < rows; ++r)
        row_ptr[r + 1] += row_ptr[r];
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        tconv__row row;
        tconv__row_it it;
        tconv__matrix_row(sh, transposed, r, &row);
        int64_t j = row_ptr[r];
        for (tconv__row_begin(&it, &row); it.more; tconv__row_step(&it), ++j) {
            col[j] = it.col;
            if (widx)
                widx[j] = it.w;
        }
    }
}

void tconv__structure_fill(const tconv__shape *sh, bool transposed, int threads, int64_t *index)
{
    const int64_t rows = tconv__matrix_rows(sh, transposed);
    const int64_t cols = tconv__matrix_rows(sh, !transposed);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        int64_t *ir = index + r * cols;
        tconv__row row;
        tconv__row_it it;
        for (int64_t c = 0; c < cols; ++c)
            ir[c] = -1;
        tconv__matrix_row(sh, transposed, r, &row);
        for (tconv__row_begin(&it, &row); it.more; tconv__row_step(&it))
            ir[it.col] = it.w;
    }
}

#define TCONV_TEMPLATE "matrix/matrix_tmpl.h"
#include "instantiate.h"
