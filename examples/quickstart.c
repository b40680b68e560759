#include <tconv/tconv.h>
#include <stdio.h>

int main(void) /* ConvTranspose2d(2 -> 1, kernel 3, stride 2, padding 1): 3x3 -> 5x5 */
{
    const int64_t in_size[2] = {3, 3}, kernel[2] = {3, 3}, stride[2] = {2, 2}, pad[2] = {1, 1};
    tconv_geometry g;
    tconv_error err;
    if (tconv_geometry_init_transposed(&g, 2, /*batch*/ 1, /*in*/ 2, /*out*/ 1, /*groups*/ 1,
                                       in_size, kernel, stride, pad, NULL, NULL, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    float in[2 * 3 * 3], weight[2 * 1 * 3 * 3], bias[1] = {0.5f}, out[5 * 5];
    for (int i = 0; i < 18; ++i)
        in[i] = (float)(i % 9 + 1), weight[i] = i == 4 ? 1.0f : 0.0f;
    if (tconv_convt_forward_ex(&g, TCONV_ALGO_AUTO, TCONV_F32, in, weight, bias, out, NULL,
                               &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    for (int i = 0; i < 25; ++i)
        printf("%5.1f%s", out[i], i % 5 == 4 ? "\n" : " ");
    return 0;
}
