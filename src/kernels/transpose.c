/* The matrix transpose of the weight rearrangements (transpose_tmpl.h). */
#include "kernels/transpose.h"

#define TCONV_TEMPLATE "kernels/transpose_tmpl.h"
#include "instantiate.h"
