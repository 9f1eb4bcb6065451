/*
 * input.c - the tool's inputs (see input.h): standard input for "-", read
 * with src/util's bounded reader and parsed by the library.
 */
#include "input.h"

#include <stdint.h>
#include <unistd.h>
#include <util/read.h>

#include "out.h"

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

/* The lines of what an import did not carry over (a conversion says more: pinset convert). */
static void say_lost(const char *cmd, const char *name, pinset_format fmt, const pinset_fidelity *f)
{
    for (size_t i = 0; f != NULL && i < pinset_fidelity_count(f); i++) {
        size_t rule = pinset_fidelity_rule(f, i);
        const char *host = pinset_fidelity_host(f, i);

        if (rule == SIZE_MAX) {
            cli_err(cmd, "%s: %s: not carried over: %s: %s", name, pinset_format_name(fmt),
                    pinset_fidelity_field(f, i), pinset_fidelity_reason(f, i));
        } else {
            cli_err(cmd, "%s: %s: not carried over: rules[%zu] (%s): %s: %s", name,
                    pinset_format_name(fmt), rule, host != NULL ? host : "",
                    pinset_fidelity_field(f, i), pinset_fidelity_reason(f, i));
        }
    }
}

pinset_err cli_policy_read(pinset_policy **out, const char *cmd, const char *path, size_t max,
                           const char *host, pinset_diag *diag)
{
    pinset_convert_options opts = PINSET_CONVERT_OPTIONS_INIT;
    const char *name = cli_is_stdin(path) ? CLI_STDIN_NAME : path;
    pinset_fidelity *fid = NULL;
    struct pinset__buf buf;
    pinset_format fmt;
    pinset_err err;

    *out = NULL;
    if (diag != NULL) {
        diag->input = name; /* every failure names the input, as pinset_policy_load does */
    }
    err = cli_is_stdin(path)
              ? pinset__read_fd(&buf, STDIN_FILENO, CLI_STDIN_NAME, max, CLI_STDIN_TIMEOUT_MS, diag)
              : pinset__read_path(&buf, path, max, 0, 0, diag); /* a regular file, as the library */
    if (err != PINSET_OK) {
        return err;
    }
    fmt = pinset_format_detect(buf.p, buf.len, cli_is_stdin(path) ? NULL : path);
    if (fmt == PINSET_FORMAT_UNKNOWN || fmt == PINSET_FORMAT_NATIVE) {
        err = pinset_policy_parse(out, buf.p, buf.len, diag); /* its messages, unknown or not */
    } else {
        opts.host = host;
        err = pinset_formats_import(out, &fid, buf.p, buf.len, fmt, &opts, diag);
        if (err == PINSET_E_INVALID_ARG && host == NULL && diag != NULL) {
            snprintf(
                diag->message, sizeof(diag->message),
                "the %s format names no host: convert it with 'pinset convert --host HOST' first",
                pinset_format_name(fmt));
            diag->code = err = PINSET_E_UNSUPPORTED;
        }
        if (err == PINSET_OK) {
            char safe[512];
            out_safe_copy(safe, sizeof(safe), name);
            say_lost(cmd, safe, fmt, fid);
        }
        pinset_fidelity_free(fid);
    }
    pinset__buf_free(&buf);
    return err;
}
