/*
 * Compiles one per-type template for float and for double. The including file defines
 * TCONV_TEMPLATE as the template's file name, then includes this. Inside the template, T
 * is the element type, TC(name) the name with the type's suffix (_f32, _f64), MM the type's
 * tconv__mm and PGEMM the type's member of a provider (sgemm, dgemm). No include guard:
 * each template is included through it once.
 */
#ifndef TCONV_TEMPLATE
#error "define TCONV_TEMPLATE as the template to compile"
#endif

#define T float
#define TC(name) name##_f32
#define MM tconv__mm_f32
#define PGEMM sgemm
#include TCONV_TEMPLATE
#undef T
#undef TC
#undef MM
#undef PGEMM

#define T double
#define TC(name) name##_f64
#define MM tconv__mm_f64
#define PGEMM dgemm
#include TCONV_TEMPLATE
#undef T
#undef TC
#undef MM
#undef PGEMM

#undef TCONV_TEMPLATE
