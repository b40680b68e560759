/*
 * The library's one allocator. Products never allocate (they cannot fail: everything they
 * need comes from the planned workspace), so the only memory the library itself asks for
 * is the workspace of a call, and it is asked for here: a caller's hooks, and the tests
 * that inject failures through them, see every byte.
 */
#include "internal.h"

#include <stdlib.h>

void *tconv__alloc(const tconv_options *opt, size_t bytes)
{
    if (bytes == 0)
        return NULL; /* nothing to ask for; callers never request an empty block */
    return opt && opt->alloc ? opt->alloc(opt->alloc_ctx, bytes) : malloc(bytes);
}

void tconv__free(const tconv_options *opt, void *ptr)
{
    if (!ptr)
        return;
    if (opt && opt->free)
        opt->free(opt->alloc_ctx, ptr);
    else
        free(ptr);
}
