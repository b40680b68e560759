/*
 * Copies of finished output past the caches. A layer whose output is far larger than the
 * caches writes each line once and never reads it back: ordinary stores first read every
 * line they write into the cache (the write-allocate read), a third of a depthwise layer's
 * memory traffic. Non-temporal stores write whole lines straight to memory. SSE2's 16-byte
 * form is in every x86-64 CPU (the CPU's write-combining buffers merge it into full lines);
 * elsewhere the copy is a memcpy. The values are copied, never changed: the bits are the
 * same either way.
 */
#include "internal.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void tconv__stream_f32(float *dst, const float *src, int64_t n)
{
#if defined(__SSE2__)
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(dst + i) & 15) != 0; ++i) /* to a 16-byte boundary */
        dst[i] = src[i];
    for (; i + 4 <= n; i += 4)
        _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    for (; i < n; ++i)
        dst[i] = src[i];
#else
    memcpy(dst, src, (size_t)n * sizeof *dst);
#endif
}

void tconv__stream_f64(double *dst, const double *src, int64_t n)
{
#if defined(__SSE2__)
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(dst + i) & 15) != 0; ++i)
        dst[i] = src[i];
    for (; i + 2 <= n; i += 2)
        _mm_stream_pd(dst + i, _mm_loadu_pd(src + i));
    for (; i < n; ++i)
        dst[i] = src[i];
#else
    memcpy(dst, src, (size_t)n * sizeof *dst);
#endif
}

void tconv__stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence(); /* the streamed lines are seen before what the thread writes next */
#endif
}
