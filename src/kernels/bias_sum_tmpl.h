/*
 * The channels-first bias gradient's sums, for one element type (included by the bias pass,
 * core/bias_tmpl.h, and by phase's weight gradient, which sums grad_y as it reads it:
 * algorithms/phase_tmpl.h). One order for both, so that a gradient asked alone has the
 * bits it has with the others: a channel's planes in image order, each plane's rows (lines
 * of the last axis) in order; a row's whole 32-byte vectors summed lane by lane in T
 * (from zero), those V lanes (V = 32 / sizeof(T)) then added into V sums in
 * double, and the rest of the row, in order, into one more double (bias_row_end); the
 * total is the V sums in order, then that one. (One chain of additions through a plane
 * waited on the adder at every element: 3.5 ms for a 12.8 MB gradient; a conversion to
 * double per vector cost phase's weight gradient a tenth.)
 */

typedef double TC(bias_lanes) __attribute__((vector_size(sizeof(double) * (32 / sizeof(T)))));
typedef T TC(bias_in) __attribute__((vector_size(32)));

typedef struct TC(bias_sum) {
    TC(bias_lanes) lanes;
    double rest;
} TC(bias_sum);

/* The row's lane sums f into s, then its rest (n elements from `rest`). */
static TCONV__ALWAYS_INLINE void TC(bias_row_end)(TC(bias_in) f, const T *rest, int64_t n,
                                                  TC(bias_sum) *s)
{
    s->lanes += __builtin_convertvector(f, TC(bias_lanes));
    double r = s->rest;
    for (int64_t i = 0; i < n; ++i)
        r += (double)rest[i];
    s->rest = r;
}

static TCONV__ALWAYS_INLINE void TC(bias_sum_row)(const T *row, int64_t n, TC(bias_sum) *s)
{
    const int64_t V = (int64_t)(32 / sizeof(T)), whole = n / V * V;
    TC(bias_in) f = {0}; /* the row's vectors, in order, from zero */
    for (int64_t i = 0; i < whole; i += V) {
        TC(bias_in) v;
        memcpy(&v, row + i, sizeof v);
        f += v;
    }
    TC(bias_row_end)(f, row + whole, n - whole, s);
}

static inline double TC(bias_sum_total)(const TC(bias_sum) *s)
{
    double total = 0;
    for (int l = 0; l < (int)(32 / sizeof(T)); ++l)
        total += s->lanes[l];
    return total + s->rest;
}
