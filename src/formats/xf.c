/*
 * xf.c - what libpinset-formats' converters share: finishing an import
 * through the native parser, and writing a built document to a sink.
 */
#include "xf.h"

pinset_err xf_finish(pinset_policy **out, json_t *doc, pinset_diag *diag)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    pinset_err err;

    *out = NULL;
    if (text == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    err = pinset_policy_parse(out, (const uint8_t *)text, strlen(text), diag);
    free(text);
    if (err != PINSET_OK && diag != NULL) {
        /* the generated text's positions would mislead: keep the reason and the path */
        pinset__diag_pos(diag, SIZE_MAX, 0, 0, 0);
    }
    return err;
}
