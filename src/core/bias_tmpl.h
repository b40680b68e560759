/* Bias for one element type (included by bias.c through instantiate.h), in both layouts:
 * channels-first t[n][ch][count], channels-last t[n][count][ch]. */

/* The operands of a bias task. */
typedef struct TC(bias_args) {
    const tconv__ctx *c;
    int64_t channels, count;
    int64_t row;   /* bias_grad in channels-first: elements per row (the last axis) */
    int64_t block; /* bias_grad in channels-last: channels per task */
    const T *in; /* bias_add: the bias; bias_grad: the gradient summed */
    T *out;      /* bias_add: the tensor; bias_grad: the bias's gradient */
} TC(bias_args);

/* Plane t of bias_add: a position's row of channels (channels-last) or one channel of an
 * image (channels-first). */
static void TC(bias_add_plane)(const void *arg, int64_t t, int thread)
{
    const TC(bias_args) *op = arg;
    const int64_t channels = op->channels, count = op->count;
    const T *bias = op->in;
    (void)thread;
    if (op->c->layout == TCONV_LAYOUT_CHANNELS_LAST) {
        T *p = op->out + t * channels;
        for (int64_t ch = 0; ch < channels; ++ch)
            p[ch] += bias[ch];
    } else {
        const T b = bias[t % channels];
        T *p = op->out + t * count;
        for (int64_t i = 0; i < count; ++i)
            p[i] += b;
    }
}

/* t += bias over the channels */
static void TC(bias_add)(const tconv__ctx *c, int64_t channels, int64_t count, const T *bias,
                         T *t)
{
    const int64_t planes = c->sh.batch * (c->layout == TCONV_LAYOUT_CHANNELS_LAST ? count
                                                                                  : channels);
    const TC(bias_args) op = {c, channels, count, 0, 0, bias, t};
    tconv__for_tasks(tconv__pass_team(c->threads, c->sh.batch * channels * count), planes, false,
                     TC(bias_add_plane), &op);
}

/* Channels per task of the channels-last sum: a 1 KB run of float32 of each row (2 KB of
 * sums). */
#define TCONV__BIAS_BLOCK 256

#include "kernels/bias_sum_tmpl.h"

/* Task r of bias_grad in channels-last: the block of channels r·block and on, every row read
 * along its channels (a 16-channel run per task read 64 bytes a row, a new page every row
 * or two: 23-27% of speech_1d's channels-last forward + backward, 512 channels, under
 * perf). Each channel is summed over the rows in order, whatever the block. */
TCONV__VECTOR_CLONES
static void TC(bias_grad_run)(const void *arg, int64_t r, int thread)
{
    const TC(bias_args) *op = arg;
    const int64_t channels = op->channels, rows = op->c->sh.batch * op->count;
    const int64_t c0 = r * op->block;
    const int64_t n_ch = channels - c0 < op->block ? channels - c0 : op->block;
    (void)thread;
    double sum[TCONV__BIAS_BLOCK] = {0};
    for (int64_t row = 0; row < rows; ++row) { /* (an empty batch may pass no tensor) */
        const T *g = op->in + row * channels + c0;
        for (int64_t j = 0; j < n_ch; ++j)
            sum[j] += g[j];
    }
    for (int64_t j = 0; j < n_ch; ++j)
        op->out[c0 + j] = (T)sum[j];
}

/* Task ch of bias_grad in channels-first: one channel over the batch, row by row. */
TCONV__VECTOR_CLONES
static void TC(bias_grad_channel)(const void *arg, int64_t ch, int thread)
{
    const TC(bias_args) *op = arg;
    const int64_t channels = op->channels, count = op->count, row = op->row;
    (void)thread;
    TC(bias_sum) sum = {{0}, 0};
    for (int64_t n = 0; n < op->c->sh.batch; ++n) {
        const T *plane = op->in + (n * channels + ch) * count;
        for (int64_t i = 0; row > 0 && i < count; i += row)
            TC(bias_sum_row)(plane + i, row, &sum);
    }
    op->out[ch] = (T)TC(bias_sum_total)(&sum);
}

/* grad_bias[ch] = Σ_n Σ_i g[n][ch][i], in double. Every channel is summed by one task in a
 * fixed order (channels-first: bias_sum_tmpl.h's, rows of `row` elements; channels-last:
 * a run of adjacent channels, read row by row), so the sums never depend on the thread
 * count. */
static void TC(bias_grad)(const tconv__ctx *c, int64_t channels, int64_t count, int64_t row,
                          const T *g, T *grad_bias)
{
    const int team = tconv__pass_team(c->threads, c->sh.batch * channels * count);
    /* channels-last: one block of whole 16-channel runs per thread, at most BIAS_BLOCK */
    const int64_t runs = tconv__tiles(tconv__tiles(channels, team), 16);
    const int64_t share = runs < 1 ? 16 : runs * 16;
    const TC(bias_args) op = {c, channels, count, row,
                              share < TCONV__BIAS_BLOCK ? share : TCONV__BIAS_BLOCK, g, grad_bias};
    if (c->layout == TCONV_LAYOUT_CHANNELS_LAST)
        tconv__for_tasks(team, tconv__tiles(channels, op.block), false, TC(bias_grad_run), &op);
    else
        tconv__for_tasks(team, channels, false, TC(bias_grad_channel), &op);
}
