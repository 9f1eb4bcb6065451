/*
 * input.c - the tool's inputs (see input.h): standard input for "-", read
 * with src/util's bounded reader and parsed by the library.
 */
#include "input.h"

#include <unistd.h>
#include <util/read.h>

/* Standard input is a pipe more often than not: the time bound the library keeps for FIFOs. */
#define CLI_STDIN_TIMEOUT_MS 30000L
/* The library's default bound for one bundle input (pinset_load_opts.max_input = 0). */
#define CLI_BUNDLE_MAX ((size_t)64 * 1024 * 1024)

int cli_is_stdin(const char *path)
{
    return strcmp(path, "-") == 0;
}

pinset_err cli_bundle_read(pinset_bundle **out, const char *path, const pinset_load_opts *opts,
                           pinset_diag *diag)
{
    size_t max = opts != NULL && opts->max_input != 0 ? opts->max_input : CLI_BUNDLE_MAX;
    struct pinset__buf buf;
    pinset_err err;

    if (!cli_is_stdin(path)) {
        return pinset_bundle_read_file(out, path, opts, diag);
    }
    *out = NULL;
    err = pinset__read_fd(&buf, STDIN_FILENO, CLI_STDIN_NAME, max, CLI_STDIN_TIMEOUT_MS, diag);
    if (err == PINSET_OK && buf.len == 0) {
        err = PINSET_E_PARSE;
        if (diag != NULL) {
            diag->code = err; /* the reader named the input (diag->input) */
            snprintf(diag->message, sizeof(diag->message), "empty input");
        }
    }
    if (err == PINSET_OK) {
        err = pinset_bundle_parse(out, buf.p, buf.len, opts, diag);
    }
    pinset__buf_free(&buf); /* wiped: the input may hold private keys */
    return err;
}

pinset_err cli_policy_read(pinset_policy **out, const char *path, size_t max, pinset_diag *diag)
{
    struct pinset__buf buf;
    pinset_err err;

    if (!cli_is_stdin(path)) {
        return pinset_policy_load(out, path, diag);
    }
    *out = NULL;
    err = pinset__read_fd(&buf, STDIN_FILENO, CLI_STDIN_NAME, max, CLI_STDIN_TIMEOUT_MS, diag);
    if (err == PINSET_OK) {
        err = pinset_policy_parse(out, buf.p, buf.len, diag);
    }
    pinset__buf_free(&buf);
    return err;
}
