/*
 * Copies of finished output past the caches. A layer whose output is far larger than the
 * caches writes each line once and never reads it back: ordinary stores first read every
 * line they write into the cache (the write-allocate read), a third of a depthwise layer's
 * memory traffic. Non-temporal stores write whole lines straight to memory. SSE2's 16-byte
 * form is in every x86-64 CPU (the CPU's write-combining buffers merge it into full lines);
 * elsewhere the copy is a memcpy. Bytes are copied, never changed, so one copy serves both
 * element types and the bits are the same either way.
 */
#include "internal.h"

#include <string.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void tconv__stream(void *dst, const void *src, size_t bytes)
{
#if defined(__SSE2__)
    unsigned char *d = dst;
    const unsigned char *s = src;
    size_t head = (16 - ((uintptr_t)d & 15)) & 15; /* to a 16-byte boundary */
    if (head > bytes)
        head = bytes;
    memcpy(d, s, head);
    size_t i = head;
    for (; i + 16 <= bytes; i += 16)
        _mm_stream_si128((__m128i *)(void *)(d + i),
                         _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
    memcpy(d + i, s + i, bytes - i);
#else
    memcpy(dst, src, bytes);
#endif
}

void tconv__stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence(); /* the streamed lines are seen before what the thread writes next */
#endif
}

size_t tconv__stream_threshold(void)
{
    long llc = -1;
#if defined(_SC_LEVEL3_CACHE_SIZE)
    llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
#endif
    const size_t floor = (size_t)TCONV__STREAM_BYTES;
    return llc > 0 && (size_t)llc / 2 > floor ? (size_t)llc / 2 : floor;
}
