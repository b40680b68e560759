/*
 * `tconv demo`: the seed's example. Two 3x3 feature maps go back through a 3x3 kernel with
 * stride 2 and padding 1 to one 5x5 map, computed by every algorithm in both precisions,
 * with the GEMM provider and the layout given (default: the build's rule, channels-first).
 */
#include "cli.h"

#include <tconv/tconv.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static void print_map(const char *title, const double *v, int64_t rows, int64_t cols)
{
    printf("%s\n", title);
    for (int64_t r = 0; r < rows; ++r) {
        printf("   ");
        for (int64_t c = 0; c < cols; ++c)
            printf(" %7.2f", v[r * cols + c]);
        printf("\n");
    }
}

static int demo_usage(void)
{
    fprintf(stderr, "usage: tconv demo [--provider NAME] [--layout channels-first|channels-last]\n"
                    "  --provider  the GEMM provider: default, openblas, onednn, reference\n"
                    "              (tconv info lists those this build has)\n"
                    "  --layout    the activations' memory order\n");
    return 2;
}

/* The tensors of a 2-channel 3x3 input, moved channels-last (an 1-channel output is the
 * same in both layouts). */
static void to_channels_last(const double *in, double *out)
{
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < 9; ++i)
            out[i * 2 + c] = in[c * 9 + i];
}

int tconv_cmd_demo(int argc, char **argv)
{
    tconv_options opt = {0};
    for (int i = 1; i < argc; ++i) {
        if (i + 1 < argc && !strcmp(argv[i], "--provider")) {
            if (tconv_provider_from_name(argv[++i], &opt.provider) != TCONV_OK) {
                fprintf(stderr, "tconv demo: unknown provider '%s'\n", argv[i]);
                return demo_usage();
            }
        } else if (i + 1 < argc && !strcmp(argv[i], "--layout")) {
            ++i;
            if (!strcmp(argv[i], "channels-last"))
                opt.layout = TCONV_LAYOUT_CHANNELS_LAST;
            else if (strcmp(argv[i], "channels-first") != 0)
                return demo_usage();
        } else {
            return demo_usage();
        }
    }
    const int64_t in_size[2] = {3, 3}, kernel[2] = {3, 3}, stride[2] = {2, 2};
    const int64_t padding[2] = {1, 1};
    tconv_geometry g;
    tconv_error err;
    if (tconv_geometry_init_transposed(&g, 2, 1, 2, 1, 1, in_size, kernel, stride, padding,
                                       NULL, NULL, &err) != TCONV_OK) {
        fprintf(stderr, "tconv demo: %s\n", err.message);
        return 1;
    }
    char line[256];
    tconv_geometry_format(&g, line, sizeof line);
    printf("The seed's example: ConvTranspose2d(2 -> 1, kernel 3, stride 2, padding 1)\n"
           "  %s\n"
           "  output size per axis: (in-1)*stride - 2*padding + dilation*(kernel-1) + "
           "output_padding + 1\n"
           "                      = (3-1)*2 - 2*1 + 1*(3-1) + 0 + 1 = 5\n\n",
           line);

    /* Channel 0 goes through a bilinear kernel, channel 1 through a centre tap that shows
     * where each input element lands in the output (every other position). */
    const double shown[2 * 9] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 0, 0, 0, 0, 0, 0, 0, 100};
    double moved[2 * 9];
    to_channels_last(shown, moved);
    const double *in = opt.layout == TCONV_LAYOUT_CHANNELS_LAST ? moved : shown;
    const double weight[2 * 9] = {1, 2, 1, 2, 4, 2, 1, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    const double bias[1] = {0.5};
    print_map("input channel 0 (tc_input)", shown, 3, 3);
    print_map("input channel 1", shown + 9, 3, 3);
    print_map("weight[0][0] (bilinear)", weight, 3, 3);
    print_map("weight[1][0] (centre tap)", weight + 9, 3, 3);
    printf("bias: %.2f\n\n", bias[0]);

    const tconv_algo algos[] = {TCONV_ALGO_GEMM,   TCONV_ALGO_PHASE,   TCONV_ALGO_DENSE,
                                TCONV_ALGO_SPARSE, TCONV_ALGO_SCATTER, TCONV_ALGO_GATHER};
    double ref[25];
    int have_ref = 0; /* the first result computed is the one the others are compared with */
    double worst = 0;
    int ok = 1;
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; ++a) {
        for (int t = 0; t < 2; ++t) {
            if (!tconv_provider_available(opt.provider, t ? TCONV_F32 : TCONV_F64)) {
                if (a == 0)
                    printf("(%s: provider %s does not serve it here, skipped)\n",
                           t ? "float32" : "float64", tconv_provider_name(opt.provider));
                continue;
            }
            double out64[25];
            float in32[18], w32[18], b32[1] = {(float)bias[0]}, out32[25];
            for (int i = 0; i < 18; ++i) {
                in32[i] = (float)in[i];
                w32[i] = (float)weight[i];
            }
            tconv_status s;
            if (t == 0)
                s = tconv_convt_forward_ex(&g, algos[a], TCONV_F64, in, weight, bias, out64,
                                           &opt, &err);
            else
                s = tconv_convt_forward_ex(&g, algos[a], TCONV_F32, in32, w32, b32, out32,
                                           &opt, &err);
            if (s != TCONV_OK) {
                fprintf(stderr, "tconv demo: %s: %s\n", tconv_algo_name(algos[a]),
                        err.message);
                return 1;
            }
            if (t == 1)
                for (int i = 0; i < 25; ++i)
                    out64[i] = out32[i];
            char title[96];
            snprintf(title, sizeof title, "output by %s, %s", tconv_algo_name(algos[a]),
                     t ? "float32" : "float64");
            if (!have_ref) {
                have_ref = 1;
                for (int i = 0; i < 25; ++i)
                    ref[i] = out64[i];
                print_map(title, out64, 5, 5);
                continue;
            }
            double diff = 0;
            for (int i = 0; i < 25; ++i)
                diff = fmax(diff, fabs(out64[i] - ref[i]));
            worst = fmax(worst, diff);
            ok &= diff == 0;
            printf("%-30s largest difference from gemm/%s: %g\n", title,
                   tconv_provider_available(opt.provider, TCONV_F64) ? "float64" : "float32",
                   diff);
        }
    }
    printf("\n%s: every algorithm gives the same 5x5 map (largest difference %g).\n",
           ok ? "agree" : "DISAGREE", worst);
    printf("Channel 0 alone is 4x the bilinear interpolation of the input (4 + 2j + 6i);\n"
           "channel 1 adds 100 where its two non-zero inputs land, at (0,0) and (4,4).\n");
    return ok ? 0 : 1;
}
