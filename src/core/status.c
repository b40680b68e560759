/* Status strings, error records, version, and the byte arithmetic every planner uses. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

#define TCONV__STR(x) #x
#define TCONV__XSTR(x) TCONV__STR(x)

const char *tconv_version_string(void)
{
    return TCONV__XSTR(TCONV_VERSION_MAJOR) "." TCONV__XSTR(
        TCONV_VERSION_MINOR) "." TCONV__XSTR(TCONV_VERSION_PATCH);
}

unsigned tconv_version(void)
{
    return TCONV_VERSION_HEX;
}

const char *tconv_status_str(tconv_status s)
{
    switch (s) {
#define TCONV__STATUS_TEXT(name, text)                                                         \
    case TCONV_##name:                                                                         \
        return text;
        TCONV_STATUS_MAP(TCONV__STATUS_TEXT)
#undef TCONV__STATUS_TEXT
    default:
        return "unknown status";
    }
}

const char *tconv_status_name(tconv_status s)
{
    switch (s) {
#define TCONV__STATUS_NAME(name, text)                                                         \
    case TCONV_##name:                                                                         \
        return #name;
        TCONV_STATUS_MAP(TCONV__STATUS_NAME)
#undef TCONV__STATUS_NAME
    default:
        return "?";
    }
}

tconv_status tconv__fail(tconv_error *err, tconv_status s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = s;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return s;
}

bool tconv__ws_add(size_t *total, size_t bytes)
{
    size_t rounded;
    if (__builtin_add_overflow(bytes, TCONV__ALIGN - 1, &rounded))
        return false;
    rounded &= ~(TCONV__ALIGN - 1);
    return !__builtin_add_overflow(*total, rounded, total);
}

bool tconv__elem_bytes(int64_t count, tconv_dtype dtype, size_t *bytes)
{
    int64_t b;
    if (count < 0 || !tconv__mul(count, (int64_t)tconv__dtype_size(dtype), &b))
        return false;
    *bytes = 0;
    return tconv__ws_add(bytes, (size_t)b);
}

bool tconv__plan_ws(tconv__product_plan *pp, tconv_dtype dtype, int64_t shared,
                    int64_t per_thread, int team)
{
    size_t s, t, total;
    if (!tconv__elem_bytes(shared, dtype, &s) || !tconv__elem_bytes(per_thread, dtype, &t) ||
        __builtin_mul_overflow(t, (size_t)(team > 0 ? team : 1), &total) ||
        __builtin_add_overflow(total, s, &total))
        return false;
    pp->shared = s;
    pp->per_thread = t;
    pp->team = team > 0 ? team : 1;
    return true;
}
