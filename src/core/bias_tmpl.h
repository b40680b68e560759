/* Bias for one element type (included by bias.c through instantiate.h), in both layouts:
 * channels-first t[n][ch][count], channels-last t[n][count][ch]. */

/* t += bias over the channels */
static void TC(bias_add)(const tconv__ctx *c, int64_t channels, int64_t count, const T *bias,
                         T *t)
{
    const int64_t planes = c->sh.batch * (c->layout == TCONV_LAYOUT_CHANNELS_LAST ? count
                                                                                  : channels);
    const bool last = c->layout == TCONV_LAYOUT_CHANNELS_LAST;
#pragma omp parallel for num_threads(c->threads) schedule(static)
    for (int64_t pl = 0; pl < planes; ++pl) {
        if (last) { /* one position: a row of channels */
            T *p = t + pl * channels;
            for (int64_t ch = 0; ch < channels; ++ch)
                p[ch] += bias[ch];
        } else {
            const T b = bias[pl % channels];
            T *p = t + pl * count;
            for (int64_t i = 0; i < count; ++i)
                p[i] += b;
        }
    }
}

/* Lanes of both sums: channels per task of the channels-last one (read contiguously), and
 * positions of a plane (i mod 16) in the channels-first one. */
#define TCONV__BIAS_LANES 16

/* Σ_i p[i] for i < count into lane[i mod 16], in double: four vectors of independent sums
 * (one chain of additions through a whole plane waited on the adder's latency at every
 * element: 3.5 ms for a 12.8 MB gradient, where reading it takes 0.6). */
typedef double TC(bias_lanes) __attribute__((vector_size(32)));
typedef T TC(bias_in) __attribute__((vector_size(4 * sizeof(T))));

_Static_assert(TCONV__BIAS_LANES == 16, "plane_lanes sums four vectors of four lanes");

TCONV__VECTOR_CLONES
static void TC(plane_lanes)(const T *p, int64_t count, double lane[TCONV__BIAS_LANES])
{
    TC(bias_lanes) acc[4];
    memcpy(acc, lane, sizeof acc);
    int64_t i = 0;
    for (; i + TCONV__BIAS_LANES <= count; i += TCONV__BIAS_LANES)
        for (int v = 0; v < 4; ++v) {
            TC(bias_in) in;
            memcpy(&in, p + i + 4 * v, sizeof in);
            acc[v] += __builtin_convertvector(in, TC(bias_lanes));
        }
    memcpy(lane, acc, sizeof acc);
    for (int64_t j = 0; i < count; ++i, ++j)
        lane[j] += p[i];
}

/* grad_bias[ch] = Σ_n Σ_i g[n][ch][i], in double. Every channel is summed by one task in a
 * fixed order (channels-first: one channel per task, position i of each image into lane
 * i mod 16, images in order, then the lanes in order; channels-last: a run of adjacent
 * channels, read row by row), so the sums never depend on the thread count. */
static void TC(bias_grad)(const tconv__ctx *c, int64_t channels, int64_t count, const T *g,
                          T *grad_bias)
{
    if (c->layout == TCONV_LAYOUT_CHANNELS_LAST) {
        const int64_t runs = (channels + TCONV__BIAS_LANES - 1) / TCONV__BIAS_LANES;
#pragma omp parallel for num_threads(c->threads) schedule(static)
        for (int64_t r = 0; r < runs; ++r) {
            const int64_t c0 = r * TCONV__BIAS_LANES;
            const int64_t n_ch = channels - c0 < TCONV__BIAS_LANES ? channels - c0
                                                                   : TCONV__BIAS_LANES;
            double sum[TCONV__BIAS_LANES] = {0};
            for (int64_t row = 0; row < c->sh.batch * count; ++row)
                for (int64_t j = 0; j < n_ch; ++j)
                    sum[j] += g[row * channels + c0 + j];
            for (int64_t j = 0; j < n_ch; ++j)
                grad_bias[c0 + j] = (T)sum[j];
        }
        return;
    }
#pragma omp parallel for num_threads(c->threads) schedule(static)
    for (int64_t ch = 0; ch < channels; ++ch) {
        double lane[TCONV__BIAS_LANES] = {0};
        for (int64_t n = 0; n < c->sh.batch; ++n)
            TC(plane_lanes)(g + (n * channels + ch) * count, count, lane);
        double sum = 0;
        for (int j = 0; j < TCONV__BIAS_LANES; ++j)
            sum += lane[j];
        grad_bias[ch] = (T)sum;
    }
}
