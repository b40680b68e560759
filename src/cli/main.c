/* `tconv`: a small command that teaches and checks the library. */
#include "cli.h"

int main(int argc, char **argv)
{
    return tconv_cli_main(argc, argv);
}
