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

/* Channels per task of the channels-last sum: a run of lanes read contiguously. */
#define TCONV__BIAS_LANES 16

/* grad_bias[ch] = Σ_n Σ_i g[n][ch][i], in double, batch then space order. Every channel is
 * summed by one task in that order (channels-first: one channel per task; channels-last: a
 * run of adjacent channels, read row by row), so the order never depends on the thread
 * count. */
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
        double sum = 0;
        for (int64_t n = 0; n < c->sh.batch; ++n) {
            const T *p = g + (n * channels + ch) * count;
            for (int64_t i = 0; i < count; ++i)
                sum += p[i];
        }
        grad_bias[ch] = (T)sum;
    }
}
