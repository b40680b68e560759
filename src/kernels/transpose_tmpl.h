/*
 * The matrix transpose for one element type (included by transpose.c through
 * instantiate.h), in square tiles of one cache line a side (16 float32, 8 float64): a
 * tile reads whole lines of the source and writes whole lines of the destination, and the
 * tiles run along the destination's rows, which are written front to back. Measured on
 * dcgan_2's 8 MB weight (512 x 4096 float32, one thread): 0.9-1.1 ms; tiles along the
 * source's rows 1.3-1.8 ms; a tile of 8 rows x 64 columns (half lines of the destination,
 * completed a tile later) 3-4 ms; the same through a buffer on the stack 1.7-2.9 ms.
 */
void TC(tconv__transpose)(int64_t rows, int64_t cols, const T *restrict src, int64_t lds,
                          T *restrict dst, int64_t ldd)
{
    enum { B = 64 / sizeof(T), W = 16 / sizeof(T) };
    const int64_t bi = rows / W * W, bj = cols / W * W; /* the part made of blocks */
    for (int64_t j0 = 0; j0 < bj; j0 += B)
        for (int64_t i0 = 0; i0 < bi; i0 += B) {
            const int64_t j1 = j0 + B < bj ? j0 + B : bj, i1 = i0 + B < bi ? i0 + B : bi;
            for (int64_t j = j0; j < j1; j += W)
                for (int64_t i = i0; i < i1; i += W)
                    TC(tconv__block_t)(src + i * lds + j, lds, dst + j * ldd + i, ldd);
        }
    for (int64_t j = 0; j < cols; ++j) /* what the blocks left: the last rows and columns */
        for (int64_t i = j < bj ? bi : 0; i < rows; ++i)
            dst[j * ldd + i] = src[i * lds + j];
}
