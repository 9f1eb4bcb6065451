/*
 * common.h - shared by every file of the pinset tool. Includes the public
 * API only (never src/lib), and poisons the banned functions.
 */
#ifndef PINSET_CLI_COMMON_H
#define PINSET_CLI_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/formats.h>
#include <pinset/pinset.h>

/* Exit codes: stable, documented in pinset(1). */
enum {
    EXIT_OK = 0,       /* success */
    EXIT_NEGATIVE = 1, /* a check or lint found a problem (no pin matched, lint errors) */
    EXIT_USAGE = 2,    /* bad command line */
    EXIT_INPUT = 3,    /* input could not be read or parsed */
    EXIT_NETWORK = 4,  /* network or TLS error */
    EXIT_INTERNAL = 5  /* internal error or out of memory */
};

/* Print "pinset: <cmd>: <message>" to stderr. */
void cli_err(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/*
 * Print "pinset: <cmd>: <pinset_diag_format(d)>" to stderr: one line, the
 * input's name whole, never a message taken apart.
 */
void cli_err_diag(const char *cmd, const pinset_diag *d);
/*
 * Standard output could not be written (call it right after the failing write
 * or fflush). When its reader has gone (`pinset check ... | head -1`) the
 * command ends quietly, by SIGPIPE, as cat and grep do (status 141 in a
 * shell); otherwise it says why and returns EXIT_INTERNAL.
 */
int cli_output_failed(const char *cmd);
/* Map a library error to an exit code. */
int cli_exit_for(pinset_err err);

#if defined(__GNUC__) && !(defined(__clang__) && defined(_FORTIFY_SOURCE))
#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok atoi atol strncpy sscanf
#endif

#endif /* PINSET_CLI_COMMON_H */
