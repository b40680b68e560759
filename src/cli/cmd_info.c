/* `tconv info`: what this build computes with: its version, every GEMM provider built in
 * (version, kernels or ISA, threading) and the default rule, and the algorithms. */
#include "cli.h"

#include <tconv/tconv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tconv_cmd_info(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: tconv info\n");
        return 2;
    }
    printf("tconv %s\n\nGEMM providers built in:\n", tconv_version_string());
    const size_t n = tconv_blas_info(NULL, 0) + 1;
    char *text = malloc(n);
    if (!text)
        return 1;
    tconv_blas_info(text, n);
    for (char *line = text, *end; line; line = end ? end + 1 : NULL) { /* one per line */
        end = strchr(line, '\n');
        printf("  %.*s\n", end ? (int)(end - line) : (int)strlen(line), line);
    }
    free(text);
    char rule[256];
    tconv_provider_info(TCONV_PROVIDER_DEFAULT, rule, sizeof rule);
    printf("default (options.provider = 0): %s\n\nalgorithms:", rule);
    for (int a = 0; a < TCONV_ALGO_COUNT + 8; ++a) {
        const char *name = tconv_algo_name((tconv_algo)a);
        if (name[0] != '?')
            printf(" %s", name);
    }
    printf("\n");
    return 0;
}
