/*
 * input.h - the tool's inputs: "-" is standard input (a tool convention; the
 * library reads paths only). Standard input is read with the utility
 * layer's bounded reader, then handed to the library's parse functions.
 */
#ifndef PINSET_CLI_INPUT_H
#define PINSET_CLI_INPUT_H

#include "common.h"

/* How standard input is named in output and messages. */
#define CLI_STDIN_NAME "standard input"

/* True for the path "-" (standard input). */
int cli_is_stdin(const char *path);

/*
 * Load a bundle from path, or from standard input for "-" (bounded by
 * opts->max_input or the library's 64 MiB, and by 30 s for a pipe);
 * as pinset_bundle_read_file.
 */
pinset_err cli_bundle_read(pinset_bundle **out, const char *path, const pinset_load_opts *opts,
                           pinset_diag *diag);

/*
 * Load a policy from path, or from standard input for "-", in any format
 * pinset reads (pinset_format_detect: by content, the name as a hint):
 * pinset's JSON as pinset_policy_load; another format through
 * pinset_policy_import, with `host` for the formats that name none (HPKP,
 * curl; NULL: refused, saying so). What the import did not carry over is
 * said on stderr, one line each, as `pinset: CMD: FILE: FORMAT: not carried
 * over: ...`. diag->input names the input on failure.
 */
pinset_err cli_policy_read(pinset_policy **out, const char *cmd, const char *path, size_t max,
                           const char *host, pinset_diag *diag);

#endif /* PINSET_CLI_INPUT_H */
