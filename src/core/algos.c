/* The table of algorithms, references last, and the rule `auto` follows. */
#include "internal.h"

#include <string.h>

static const tconv__algo *const table[] = {
    &tconv__algo_gemm,
    &tconv__algo_phase,
    &tconv__algo_dense,
    &tconv__algo_sparse,
    &tconv__algo_scatter,
    &tconv__algo_gather,
};

/* The table entry with this id; NULL for auto and for unknown values. */
static const tconv__algo *find(tconv_algo a)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (table[i]->id == a)
            return table[i];
    return NULL;
}

const char *tconv_algo_name(tconv_algo a)
{
    if (a == TCONV_ALGO_AUTO)
        return "auto";
    const tconv__algo *algo = find(a);
    return algo ? algo->name : "?";
}

tconv_status tconv_algo_from_name(const char *name, tconv_algo *out)
{
    if (!name || !out)
        return TCONV_EINVAL;
    if (strcmp(name, "auto") == 0) {
        *out = TCONV_ALGO_AUTO;
        return TCONV_OK;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (strcmp(name, table[i]->name) == 0) {
            *out = table[i]->id;
            return TCONV_OK;
        }
    return TCONV_EINVAL;
}

const char *tconv__path_name(const tconv__algo *a, int path)
{
    static const char *const gemm[] = {"im2col/col2im", "tiled col2im", "pointwise",
                                       "unit map", "im2col of the whole batch, GEMMs by rows",
                                       "Winograd F(2x2, 3x3)"};
    if ((a == &tconv__algo_gemm || a == &tconv__algo_phase) && path >= 0 && path < 6)
        return gemm[path];
    if (a == &tconv__algo_phase)
        return path == 16   ? "phase loops"
               : path == 18 ? "channels-last depthwise loops"
               : path == 19 ? "phase loops over a bordered copy"
               : path == 20 ? "phase loops over a bordered copy, output streamed past the caches"
               : path == 21 ? "phase loops over a bordered copy of the edge rows, the others in place"
               : path == 22 ? "phase loops over a bordered copy of the edge rows, the others in "
                              "place, output streamed past the caches"
                            : "phase GEMMs";
    if (a == &tconv__algo_dense)
        return "the whole matrix";
    if (a == &tconv__algo_sparse)
        return "CSR";
    return "plain loops";
}

/*
 * auto, by shape alone (so the choice never depends on the thread count), among the
 * production algorithms only (never dense or sparse, which build the whole matrix
 * on every call, nor the reference loops): phase when the layer is depthwise-like
 * (C_x/g · C_y/g <= 4, where a GEMM degenerates to a dot product and phase runs plain
 * loops) and phase accepts
 * the geometry (stride <= 64 per axis); gemm otherwise. Measured (tconv_bench): with GEMMs
 * of real size gemm wins, since phase's per-phase im2col copies y Πk/Πs times over while
 * gemm's col2im reads its tile from cache; on depthwise layers phase's loops win by 3x.
 */
const tconv__algo *tconv__algo_resolve(tconv_algo a, const tconv__ctx *c)
{
    if (a != TCONV_ALGO_AUTO)
        return find(a);
    tconv__product_plan pp;
    if (tconv__phase_uses_loops(&c->sh) &&
        tconv__algo_phase.plan(c, TCONV_APPLY_T, &pp, NULL) == TCONV_OK)
        return &tconv__algo_phase;
    return &tconv__algo_gemm;
}

/*
 * auto in channels-last: gemm computes on channels-first copies of the activations
 * (kernels/layout.c's tiled transposes) instead of its own formulation where that
 * formulation loses more than the copies cost. Measured (tconv_bench, 2-core AMD EPYC):
 *   - a unit map whose weight outweighs the activations (DCGAN's first layer): the
 *     channels-last GEMM needs the weight reordered on every call, channels-first reads it
 *     as it is (dcgan_z 0.21x of channels-first natively, 0.82x through copies);
 *   - 2 to 15 x channels per group whose taps do not merge into runs of x (groups, or a
 *     dilated last axis: kernels/im2row.c): im2row and row2im move runs that short a tap
 *     at a time (r50_stem did so at 0.57x of channels-first, 0.82x through copies). Where
 *     they merge, the native form is as fast as channels-first (r50_stem, dcgan_5) and a
 *     copy of the activations is a pass over memory more: no detour. One channel lies the
 *     same in both layouts and stays (speech_1d: the copies would cost 2x).
 */
static bool detours_to_channels_first(const tconv__ctx *c)
{
    const tconv__shape *sh = &c->sh;
    if (sh->cxg > 1 && sh->cxg < 16 && !tconv__taps_merge(sh))
        return true;
    const double weight = (double)sh->cy * (double)sh->cxg * (double)sh->k_count;
    const double acts = (double)sh->batch * ((double)sh->cx * (double)sh->x_count +
                                             (double)sh->cy * (double)sh->y_count);
    return tconv__gemm_path_of(sh) == TCONV__PATH_UNIT_MAP && sh->groups == 1 &&
           sh->k_count > 1 && weight > acts;
}

/* The activations' bytes: what the copies of a detour move (in and out). */
static double activation_bytes(const tconv__ctx *c)
{
    const tconv__shape *sh = &c->sh;
    return (double)sh->batch * ((double)sh->cx * (double)sh->x_count +
                                (double)sh->cy * (double)sh->y_count) *
           (double)tconv__dtype_size(c->dtype);
}

/*
 * auto's channels-first transposed forward: gemm computes on channels-last copies where
 * its channels-last formulation wins by more than the copies cost. That formulation
 * multiplies a tile's Y rows as they lie (channels-first packs a folded tile's images side
 * by side) and its col2im adds whole vectors of x channels, where channels-first adds
 * lines of x as short as the map (8 floats on DCGAN's 8x8 maps, half an AVX-512 vector)
 * through a strided, overlapping pattern. It pays on the general path (im2col / col2im)
 * with x channels enough to fill the vectors (TCONV__DETOUR_MIN_CHANNELS per group), while
 * the copies fit the workspace bound (workspace_limit, 64 MiB by default).
 * Measured (2-core AMD EPYC, Zen 4, float32, NCHW in and out, copies included, against
 * the native channels-first path): dcgan_2 1.22-1.25x at one and two threads, dilated
 * 1.06-1.23x, fcn_x2 1.09-1.13x, 32 -> 16 channels k4 s2 at 32x32 1.35x, stride1 1.03x,
 * dcgan_3 and dcgan_4 within the noise. Not on the tiled path (kernel == stride), whose
 * col2im is a permutation already: unet_3 ran 0.75-0.83x through the copies (24 MB of
 * activations for 1 GFLOP), unet_1 and unet_2 no faster.
 */
#define TCONV__DETOUR_MIN_CHANNELS 16
static bool detours_to_channels_last(const tconv__ctx *c)
{
    const tconv__shape *sh = &c->sh;
    /* the copies (Y in, X out) live in the workspace: no more of them than its bound, so
     * that a layout the caller did not ask for never doubles a large layer's memory */
    return tconv__gemm_path_of(sh) == TCONV__PATH_GENERAL &&
           sh->cxg >= TCONV__DETOUR_MIN_CHANNELS && activation_bytes(c) <= (double)c->ws_limit;
}

/*
 * auto's channels-first convolution forward: on channels-last copies where the gemm
 * algorithm's Winograd branch takes the channels-last layer (3x3, stride 1: winograd.c),
 * but for the whole-batch path, which stays ahead of it on a 7x7 map (ResNet-50's 512
 * channels, batch 4: 8.1 ms against 9.2 through the copies, one thread, Intel Xeon);
 * measured through the copies against the channels-first im2col (Intel Xeon, float32,
 * OPENBLAS_CORETYPE=Haswell, one / two threads): ResNet-50's 3x3 layers at 56x56 1.46 /
 * 1.50x, at 28x28 1.53 / 1.46x, VGG's at 56x56 1.51 / 1.67x, U-Net's first at 128x128
 * 1.41 / 1.41x. And for small
 * output maps (at most TCONV__DETOUR_MAX_MAP positions per image) of many channels, on the
 * general path but where the whole batch's columns make one shared matrix (a 7x7 map).
 * Channels-first cuts such a map's columns into tiles of a hundred or so, while
 * channels-last multiplies the batch's rows at once. Measured (2-core Intel Xeon, AVX-512,
 * float32, copies included): ResNet-50's 3x3 layer at 14x14 (256 channels, batch 4)
 * 1.11-1.18x; at 28x28 and 56x56, at 7x7 (whole-batch path) and on 1x1 layers the copies
 * cost more than they save (0.4-1.0x).
 */
#define TCONV__DETOUR_MAX_MAP 256
/* Whether product p of this channels-first context would take the Winograd branch in
 * channels-last, outside the whole-batch maps, with copies that fit the bound: the
 * detours below for it. */
static bool winograd_detour(const tconv__ctx *c, tconv_product p)
{
    tconv__ctx last = *c;
    last.layout = TCONV_LAYOUT_CHANNELS_LAST;
    return tconv__winograd_applies(&last, p) && !tconv__gemm_apply_whole(c) &&
           activation_bytes(c) <= (double)c->ws_limit;
}

static bool conv_detours_to_channels_last(const tconv__ctx *c)
{
    const tconv__shape *sh = &c->sh;
    if (winograd_detour(c, TCONV_APPLY))
        return true;
    return tconv__gemm_path_of(sh) == TCONV__PATH_GENERAL &&
           sh->cxg >= TCONV__DETOUR_MIN_CHANNELS && sh->cyg >= TCONV__DETOUR_MIN_CHANNELS &&
           sh->y_count <= TCONV__DETOUR_MAX_MAP && !tconv__gemm_apply_whole(c) &&
           activation_bytes(c) <= (double)c->ws_limit;
}

/*
 * auto's channels-first backward: on channels-last copies where its input gradient takes
 * the Winograd branch (a convolution's apply_t, the correlation of grad_y with the flipped
 * kernel; a transposed convolution's apply, which then runs apart from its weight
 * gradient rather than fused), but for the maps whose convolution forward keeps the
 * whole-batch path. Measured (Intel Xeon, float32, OPENBLAS_CORETYPE=Haswell, all three
 * gradients, copies included, against the native channels-first backward, one / two
 * threads): convolution, ResNet-50's 3x3 layers at 56x56 1.28 / 1.18x, at 28x28 1.27 /
 * 1.24x, at 14x14 1.33 / 1.28x, VGG's 1.27 / 1.24x, U-Net's first 1.34 / 1.30x, the 7x7
 * one (whole batch) 0.8x, which stays; transposed, the suite's stride1 1.16 / 1.07x.
 */
static bool conv_backward_detours_to_channels_last(const tconv__ctx *c, bool conv)
{
    return winograd_detour(c, conv ? TCONV_APPLY_T : TCONV_APPLY);
}

/*
 * auto's channels-last product apply (a convolution's forward, a transposed one's input
 * gradient): on channels-first copies where channels-first runs it over the whole batch's
 * columns (small maps of many channels: tconv__gemm_apply_whole), a path channels-last has
 * no counterpart for, and the copies fit the bound. Measured (Intel Xeon, float32,
 * OPENBLAS_CORETYPE=Haswell, copies included, against the native channels-last call,
 * one / two threads): dcgan_2's backward 1.13 / 1.16x, ResNet-50's 7x7 layer's forward
 * 1.18 / 1.10x (natively it took Winograd: 64 tiles).
 */
static bool apply_detours_to_channels_first(const tconv__ctx *c, bool forward, bool conv)
{
    if (forward != conv) /* apply is not among the products */
        return false;
    tconv__ctx first = *c;
    first.layout = TCONV_LAYOUT_CHANNELS_FIRST;
    return tconv__gemm_apply_whole(&first) && activation_bytes(c) <= (double)c->ws_limit;
}

tconv_layout tconv__auto_layout(const tconv__ctx *c, const tconv__algo *a, bool forward,
                               bool conv)
{
    if (a != &tconv__algo_gemm)
        return c->layout;
    if (c->layout == TCONV_LAYOUT_CHANNELS_LAST)
        return detours_to_channels_first(c) || apply_detours_to_channels_first(c, forward, conv)
                   ? TCONV_LAYOUT_CHANNELS_FIRST
                   : c->layout;
    const bool detour = forward ? (conv ? conv_detours_to_channels_last(c)
                                        : detours_to_channels_last(c))
                                : conv_backward_detours_to_channels_last(c, conv);
    return detour ? TCONV_LAYOUT_CHANNELS_LAST : c->layout;
}
