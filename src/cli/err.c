/*
 * err.c - the tool's one-line messages on stderr ("pinset: CMD: ...", common.h),
 * in pinset_cli so that every piece of the tool (and the tests that link it)
 * has them, not only main.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

void cli_err(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "pinset: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_err_diag(const char *cmd, const pinset_diag *d)
{
    char small[512];
    size_t n = pinset_diag_format(small, sizeof(small), d);
    char *line = small;

    if (n >= sizeof(small)) {
        line = malloc(n + 1); /* a long input name: print it whole */
        if (line != NULL) {
            (void)pinset_diag_format(line, n + 1, d);
        } else {
            line = small;
        }
    }
    cli_err(cmd, "%s", line);
    if (line != small) {
        free(line);
    }
}
