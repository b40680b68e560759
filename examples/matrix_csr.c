/* The seed's Figure 2 through the API: the 9 x 25 matrix of a 3x3 convolution over a 5x5
 * input, in CSR, each non-zero with the index of the weight it copies (values: pass a
 * weight tensor and a value array too). */
#include <tconv/tconv.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const int64_t in_size[2] = {5, 5}, kernel[2] = {3, 3};
    tconv_geometry g;
    tconv_matrix_info info;
    tconv_error err;
    if (tconv_geometry_init_conv(&g, 2, 1, 1, 1, 1, in_size, kernel, NULL, NULL, NULL, &err) ||
        tconv_matrix_info_get(&g, TCONV_F32, &info, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    printf("C is %lld x %lld with %lld non-zeros\n", (long long)info.rows,
           (long long)info.cols, (long long)info.nnz);
    tconv_csr csr = {malloc((size_t)(info.rows + 1) * sizeof(int64_t)),
                     malloc((size_t)info.nnz * sizeof(int64_t)),
                     malloc((size_t)info.nnz * sizeof(int64_t)), NULL};
    if (!csr.row_ptr || !csr.col || !csr.weight_index ||
        tconv_matrix_csr(&g, TCONV_APPLY, TCONV_F32, NULL, &csr, NULL, &err)) {
        fprintf(stderr, "%s\n", csr.row_ptr ? err.message : "out of memory");
        return 1;
    }
    for (int64_t r = 0; r < info.rows; ++r) { /* row r: output (r / 3, r % 3) */
        printf("row %lld:", (long long)r);
        for (int64_t j = csr.row_ptr[r]; j < csr.row_ptr[r + 1]; ++j)
            printf(" x%lld=w%lld", (long long)csr.col[j], (long long)csr.weight_index[j]);
        printf("\n");
    }
    free(csr.row_ptr), free(csr.col), free(csr.weight_index);
    return 0;
}
