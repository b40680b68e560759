/*
 * Every GEMM of the library, in the fixed tiles that make results independent of the
 * thread count, handed to the call's provider.
 */
#include "gemm/provider.h"

#include <string.h>

#define TCONV_TEMPLATE "gemm/matmul_tmpl.h"
#include "instantiate.h"
