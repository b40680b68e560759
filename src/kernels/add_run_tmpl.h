/*
 * d[j] += s[j] for one element type: a fragment of the im2col and im2row templates
 * (included by each once per type, through instantiate.h; hence no include guard), whose
 * col2im and row2im add runs of a line into x.
 *
 * Whole 32-byte vectors, a 16-byte one, then single elements. The vectorised loop GCC
 * makes of the plain form costs its set-up on every call, most of a short run's time
 * (row2im's runs of 12: 4 taps of 3 channels, about 60 instructions each), and in the
 * AVX-512 clone it never filled its 16-wide vectors on col2im's runs of 8 (a DCGAN
 * layer's 8x8 map), which ran scalar. */
typedef T TC(run_vec) __attribute__((vector_size(32)));
typedef T TC(run_half) __attribute__((vector_size(16)));

static TCONV__ALWAYS_INLINE void TC(add_run)(T *restrict d, const T *restrict s, int64_t n)
{
    const int64_t V = 32 / sizeof(T), H = 16 / sizeof(T);
    int64_t j = 0;
    for (; j + V <= n; j += V) {
        TC(run_vec) a, b;
        memcpy(&a, d + j, sizeof a), memcpy(&b, s + j, sizeof b);
        a += b;
        memcpy(d + j, &a, sizeof a);
    }
    if (j + H <= n) {
        TC(run_half) a, b;
        memcpy(&a, d + j, sizeof a), memcpy(&b, s + j, sizeof b);
        a += b;
        memcpy(d + j, &a, sizeof a);
        j += H;
    }
    for (; j < n; ++j)
        d[j] += s[j];
}

