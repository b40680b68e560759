/*
 * Compiles one per-type template for float and for double. The including file defines
 * TCONV_TEMPLATE as the template's file name, then includes this. Inside the template, T
 * is the element type, TC(name) the name with the type's suffix (_f32, _f64) and GEMM the
 * type's tconv__gemm. No include guard: each template is included through it once.
 */
#ifndef TCONV_TEMPLATE
#error "define TCONV_TEMPLATE as the template to compile"
#endif

#define T float
#define TC(name) name##_f32
#define GEMM tconv__gemm_f32
#include TCONV_TEMPLATE
#undef T
#undef TC
#undef GEMM

#define T double
#define TC(name) name##_f64
#define GEMM tconv__gemm_f64
#include TCONV_TEMPLATE
#undef T
#undef TC
#undef GEMM

#undef TCONV_TEMPLATE
