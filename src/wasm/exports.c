/*
 * tconv.wasm: the library and the `tconv` command compiled for WebAssembly (WASI), for the
 * page `tconv explain --html` writes and for the tests. A reactor module: the host calls
 * _initialize once, then these functions. Strings cross as NUL-terminated UTF-8 in the
 * module's memory: the host puts its own into buffers from tw_alloc and frees them, and
 * frees with tw_free the strings it is given.
 *
 *   tw_page(args, title)  the page's section for the geometry of `tconv explain <args>`,
 *                         as JSON (explain_page_json); a geometry the library refuses gives
 *                         {"ok":false,"message": the library's message}
 *   tw_run(line)          `tconv <line>` as the command runs it; its output goes to the
 *                         host's stdout and stderr (WASI fd 1 and 2); the exit status
 *
 * Arguments are split at spaces, without quoting: none that the page or the tests pass
 * holds one.
 */
#define _POSIX_C_SOURCE 200809L /* strdup, strtok_r */

#include "cli/cli.h"
#include "cli/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TW_EXPORT(name) __attribute__((export_name(#name)))

/* Up to this many arguments in one call. */
#define TW_MAX_ARGS 64

TW_EXPORT(tw_alloc) void *tw_alloc(size_t bytes)
{
    return malloc(bytes ? bytes : 1);
}

TW_EXPORT(tw_free) void tw_free(void *p)
{
    free(p);
}

/* Splits a copy of `line` at spaces into argv after `first`; the copy is returned (free
 * it), NULL when out of memory or when there are too many arguments. */
static char *split(const char *first, const char *line, int *argc, char **argv)
{
    char *copy = strdup(line ? line : "");
    if (!copy)
        return NULL;
    *argc = 0;
    argv[(*argc)++] = (char *)first;
    for (char *save = NULL, *t = strtok_r(copy, " \t\n", &save); t;
         t = strtok_r(NULL, " \t\n", &save)) {
        if (*argc == TW_MAX_ARGS) {
            free(copy);
            return NULL;
        }
        argv[(*argc)++] = t;
    }
    argv[*argc] = NULL;
    return copy;
}

TW_EXPORT(tw_run) int tw_run(const char *line)
{
    char *argv[TW_MAX_ARGS + 1];
    int argc;
    char *copy = split("tconv", line, &argc, argv);
    if (!copy) {
        fprintf(stderr, "tconv: out of memory, or more than %d arguments\n", TW_MAX_ARGS);
        fflush(stderr);
        return 2;
    }
    const int status = tconv_cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    free(copy);
    return status;
}

/* The JSON of a refusal, as an owned string. */
static char *refusal(explain_buf *msg, const char *fallback)
{
    explain_buf out = {0};
    explain_page_json_error(&out, msg && msg->data ? msg->data : fallback);
    if (msg)
        explain_buf_free(msg);
    if (out.failed)
        explain_buf_free(&out);
    return out.data; /* NULL when even this ran out of memory */
}

TW_EXPORT(tw_page) char *tw_page(const char *args, const char *title)
{
    char *argv[TW_MAX_ARGS + 1];
    int argc;
    char *copy = split("explain", args, &argc, argv);
    if (!copy)
        return refusal(NULL, "out of memory, or too many arguments");
    explain_request r;
    explain_buf msg = {0};
    const int parsed = explain_parse(argc, argv, &r, &msg);
    tconv_geometry g;
    const char *own_title = "The geometry given on the command line";
    char *result = NULL;
    if (parsed) {
        /* the command's hint about --help means nothing on the page */
        char *hint = msg.data ? strstr(msg.data, "\n(tconv explain --help") : NULL;
        if (hint)
            *hint = '\0';
        result = refusal(&msg, parsed < 0 ? "--help asks for no geometry" : "out of memory");
    } else if (r.custom && !explain_request_geometry(&r, &g, &msg)) {
        result = refusal(&msg, "out of memory");
    } else {
        if (!r.custom)
            explain_seed_geometry(r.example ? (int)r.example : 1, &g, &own_title);
        explain_model m;
        tconv_error err;
        if (explain_model_init(&m, title && *title ? title : own_title, &g, &err) != TCONV_OK) {
            explain_buf_printf(&msg, "%s", err.message);
            result = refusal(&msg, "out of memory");
        } else {
            explain_check(&m, r.batch, (uint64_t)r.seed, EXPLAIN_PAGE_CHECK_MAX_MACS);
            explain_buf out = {0};
            explain_page_json(&out, &m);
            explain_model_free(&m);
            if (out.failed)
                explain_buf_free(&out);
            result = out.data;
        }
    }
    free(copy);
    return result ? result : refusal(NULL, "out of memory");
}
