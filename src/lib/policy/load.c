/*
 * load.c - pinset_policy_load: read a policy file with the util reader
 * (regular files only) and parse it. diag.input names the file for every
 * failure; the message is the reason only.
 */
#include <pinset/policy.h>

#include "internal.h"
#include "policy/policy_int.h"
#include "util/diag.h"
#include "util/read.h"

static pinset_err load_file(pinset_policy **out, const char *path, pinset_diag *diag);

pinset_err pinset_policy_load(pinset_policy **out, const char *path, pinset_diag *diag)
{
    /* every failure names the file: in diag.input, never in the message */
    pinset__diag_input(diag, path);
    return load_file(out, path, diag);
}

static pinset_err load_file(pinset_policy **out, const char *path, pinset_diag *diag)
{
    struct pinset__buf buf;
    pinset_err err;

    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || path == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
    }
    /* regular files only: a policy is a document, not a stream */
    err = pinset__read_path(&buf, path, PINSET_MAX_POLICY_SIZE, 0, 0, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    err = pinset_policy_parse(out, buf.p, buf.len, diag);
out:
    pinset__buf_free(&buf);
    return err;
}
