/* The `tconv` command's subcommands. Each returns the process exit status. */
#ifndef TCONV_CLI_H
#define TCONV_CLI_H

int tconv_cmd_demo(int argc, char **argv);
int tconv_cmd_explain(int argc, char **argv);

#endif
