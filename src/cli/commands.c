/* The `tconv` command's dispatcher: the native program's main and the WebAssembly
 * module's tw_run both start here. */
#include "cli.h"

#include <tconv/tconv.h>

#include <stdio.h>
#include <string.h>

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"explain", tconv_cmd_explain, "the transformation matrix of a geometry, taught"},
    {"demo", tconv_cmd_demo, "the seed's example worked by every algorithm"},
    {"info", tconv_cmd_info, "the GEMM providers and algorithms this build has"},
};

static int usage(FILE *to)
{
    fprintf(to,
            "tconv %s: convolution and transposed convolution through the matrix view\n\n"
            "usage: tconv <command> [options]\n\ncommands:\n",
            tconv_version_string());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].help);
    return to == stderr ? 2 : 0;
}

int tconv_cli_main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    if (!strcmp(argv[1], "--version")) {
        printf("tconv %s\n", tconv_version_string());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "tconv: unknown command '%s'\n\n", argv[1]);
    return usage(stderr);
}
