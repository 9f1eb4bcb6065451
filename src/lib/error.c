/*
 * error.c - error strings (pinset_strerror, pinset_err_name) and pinset_diag_init;
 * the helpers that fill a diag live in src/util/diag.c.
 */
#include <stdio.h>

#include <openssl/err.h>

#include <pinset/error.h>

#include "internal.h"

static const struct {
    const char *name;
    const char *text;
} errors[] = {
    [PINSET_OK] = {"PINSET_OK", "success"},
    [PINSET_E_INVALID_ARG] = {"PINSET_E_INVALID_ARG", "invalid argument"},
    [PINSET_E_NOMEM] = {"PINSET_E_NOMEM", "out of memory"},
    [PINSET_E_PARSE] = {"PINSET_E_PARSE", "malformed input"},
    [PINSET_E_UNSUPPORTED] = {"PINSET_E_UNSUPPORTED", "not supported"},
    [PINSET_E_LIMIT] = {"PINSET_E_LIMIT", "input exceeds a limit"},
    [PINSET_E_IO] = {"PINSET_E_IO", "input/output error"},
    [PINSET_E_TLS] = {"PINSET_E_TLS", "tls error"},
    [PINSET_E_CRYPTO] = {"PINSET_E_CRYPTO", "cryptographic operation failed"},
    [PINSET_E_NO_MATCH] = {"PINSET_E_NO_MATCH", "no pin matched"},
    [PINSET_E_EXPIRED] = {"PINSET_E_EXPIRED", "expired"},
    [PINSET_E_BUFFER_TOO_SMALL] = {"PINSET_E_BUFFER_TOO_SMALL", "buffer too small"},
    [PINSET_E_INTERNAL] = {"PINSET_E_INTERNAL", "internal error"},
    [PINSET_E_PASSPHRASE] = {"PINSET_E_PASSPHRASE", "missing or wrong passphrase"},
};

const char *pinset_strerror(pinset_err err)
{
    if ((size_t)err >= PINSET_ARRAY_SIZE(errors) || errors[err].text == NULL) {
        return "unknown error";
    }
    return errors[err].text;
}

const char *pinset_err_name(pinset_err err)
{
    if ((size_t)err >= PINSET_ARRAY_SIZE(errors) || errors[err].name == NULL) {
        return "PINSET_E_UNKNOWN";
    }
    return errors[err].name;
}

void pinset_diag_init(pinset_diag *diag)
{
    static const pinset_diag init = PINSET_DIAG_INIT;

    if (diag != NULL) {
        *diag = init;
    }
}
