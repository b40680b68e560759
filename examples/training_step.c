#include <tconv/tconv.h>
#include <stdio.h>
#include <stdlib.h>

/* Conv2d(1 -> 1, kernel 2, bias) on a 3x3 input, planned once and run for two steps with
 * one workspace the caller owns: forward, then all three gradients of sum(y). */
int main(void)
{
    const int64_t in_size[2] = {3, 3}, kernel[2] = {2, 2};
    tconv_geometry g;
    tconv_error err;
    if (tconv_geometry_init_conv(&g, 2, /*batch*/ 1, /*in*/ 1, /*out*/ 1, /*groups*/ 1, in_size,
                                 kernel, NULL, NULL, NULL, &err))
        return fprintf(stderr, "%s\n", err.message), 1;
    tconv_plan *fwd, *bwd;
    if (tconv_plan_create(&fwd, &g, TCONV_CONV_FORWARD, 0, TCONV_ALGO_AUTO, TCONV_F32, NULL,
                          &err) ||
        tconv_plan_create(&bwd, &g, TCONV_CONV_BACKWARD, TCONV_GRAD_ALL, TCONV_ALGO_AUTO,
                          TCONV_F32, NULL, &err))
        return fprintf(stderr, "%s\n", err.message), 1;
    size_t f_bytes, b_bytes; /* one workspace serves both plans, at their thread count */
    tconv_plan_workspace_size(fwd, 0, &f_bytes, NULL);
    tconv_plan_workspace_size(bwd, 0, &b_bytes, NULL);
    const size_t bytes = f_bytes > b_bytes ? f_bytes : b_bytes;
    void *ws = bytes ? malloc(bytes) : NULL;

    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, 1}, b[1] = {0.5f};
    float y[4], gy[4] = {1, 1, 1, 1}, gx[9], gw[4], gb[1];
    for (int step = 0; step < 2; ++step) /* a layer runs many times: no re-planning */
        if (tconv_plan_forward(fwd, x, w, b, y, ws, bytes, &err) ||
            tconv_plan_backward(bwd, x, w, gy, gx, gw, gb, ws, bytes, &err))
            return fprintf(stderr, "%s\n", err.message), 1;
    printf("y  %4.1f %4.1f / %4.1f %4.1f\n", y[0], y[1], y[2], y[3]);
    printf("gx %4.1f %4.1f %4.1f / %4.1f %4.1f %4.1f / %4.1f %4.1f %4.1f\n", gx[0], gx[1], gx[2],
           gx[3], gx[4], gx[5], gx[6], gx[7], gx[8]);
    printf("gw %4.1f %4.1f / %4.1f %4.1f   gb %4.1f\n", gw[0], gw[1], gw[2], gw[3], gb[0]);
    free(ws);
    tconv_plan_destroy(fwd);
    tconv_plan_destroy(bwd);
    return 0;
}
