/* Bias for one element type (included by bias.c with T and TC defined). */

/* t[n][ch][count] += bias[ch] */
static void TC(bias_add)(const tconv__ctx *c, int64_t channels, int64_t count, const T *bias,
                         T *t)
{
    const int64_t planes = c->sh.batch * channels;
#pragma omp parallel for num_threads(c->threads) schedule(static)
    for (int64_t pl = 0; pl < planes; ++pl) {
        const T b = bias[pl % channels];
        T *p = t + pl * count;
        for (int64_t i = 0; i < count; ++i)
            p[i] += b;
    }
}

/* grad_bias[ch] = Σ_n Σ_i g[n][ch][i], in double, batch then space order: one thread per
 * channel, so the order never depends on the thread count. */
static void TC(bias_grad)(const tconv__ctx *c, int64_t channels, int64_t count, const T *g,
                          T *grad_bias)
{
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
