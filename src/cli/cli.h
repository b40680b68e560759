/* The `tconv` command's subcommands. Each returns the process exit status. */
#ifndef TCONV_CLI_H
#define TCONV_CLI_H

/* `tconv <argv[1]> ...`: the subcommand argv[1] with the rest (argv[0] is not read). */
int tconv_cli_main(int argc, char **argv);

int tconv_cmd_demo(int argc, char **argv);
int tconv_cmd_explain(int argc, char **argv);
int tconv_cmd_info(int argc, char **argv);

#endif
