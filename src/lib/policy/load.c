/*
 * load.c - pinset_policy_load: read a policy file with the util reader
 * (regular files only) and parse it.
 */
#include <stdio.h>

#include <pinset/policy.h>

#include "internal.h"
#include "policy/policy_int.h"
#include "util/read.h"

/* Messages quote the input: keep them one line of printable text. */
static void one_line(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = '?';
        }
    }
}

static pinset_err load_file(pinset_policy **out, const char *path, pinset_diag *diag);

pinset_err pinset_policy_load(pinset_policy **out, const char *path, pinset_diag *diag)
{
    pinset_err err = load_file(out, path, diag);

    if (err != PINSET_OK && diag != NULL) {
        one_line(diag->message); /* the file name may hold control characters too */
    }
    return err;
}

static pinset_err load_file(pinset_policy **out, const char *path, pinset_diag *diag)
{
    struct pinset__buf buf;
    pinset_err err;

    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || path == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "policy: null argument");
    }
    /* regular files only: a policy is a document, not a stream */
    err = pinset__read_path(&buf, path, PINSET_MAX_POLICY_SIZE, 0, 0, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    err = pinset_policy_parse(out, buf.p, buf.len, diag);
    if (err != PINSET_OK && diag != NULL) {
        char msg[PINSET_DIAG_MESSAGE_MAX];
        (void)snprintf(msg, sizeof(msg), "%s", diag->message);
        (void)snprintf(diag->message, sizeof(diag->message), "%.96s: %.150s", path, msg);
    }
out:
    pinset__buf_free(&buf);
    return err;
}
