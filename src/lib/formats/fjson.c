/*
 * fjson.c - the JSON documents of foreign formats (Chromium's static pins,
 * TrustKit's configuration): one bounded loader with the native parser's
 * limits (size, nesting, duplicate keys refused), so that a hostile document
 * fails with a reason and a line and column, never a crash or a hang.
 */
#include <jansson.h>

#include "formats/formats.h"
#include "util/jsonpath.h"

static pinset_err fail_at(const uint8_t *b, size_t at, pinset_diag *diag, pinset_err err,
                          const char *msg)
{
    size_t line, col;

    pinset__json_pos(b, at, &line, &col);
    pinset__diag_pos(diag, SIZE_MAX, line, col, at);
    return PINSET_DIAG(diag, err, "%s", msg);
}

/* Blank a comment starting at b[i] (keeping line ends); the index after it, or SIZE_MAX. */
static size_t blank_comment(uint8_t *b, size_t n, size_t i)
{
    if (b[i + 1] == '/') {
        for (; i < n && b[i] != '\n'; i++) {
            b[i] = ' ';
        }
        return i;
    }
    for (size_t j = i + 2; j + 1 < n; j++) {
        if (b[j] == '*' && b[j + 1] == '/') {
            for (size_t k = i; k <= j + 1; k++) {
                b[k] = b[k] == '\n' ? '\n' : ' ';
            }
            return j + 2;
        }
    }
    return SIZE_MAX;
}

/* One pass: nesting depth (checked before jansson recurses) and, optionally, comments. */
static pinset_err scan(uint8_t *b, size_t n, int comments, pinset_diag *diag)
{
    size_t depth = 0;
    int in_str = 0;

    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (b[i] == '\\') {
                i++;
            } else if (b[i] == '"') {
                in_str = 0;
            }
        } else if (b[i] == '"') {
            in_str = 1;
        } else if (comments && b[i] == '/' && i + 1 < n && (b[i + 1] == '/' || b[i + 1] == '*')) {
            size_t next = blank_comment(b, n, i);
            if (next == SIZE_MAX) {
                return fail_at(b, i, diag, PINSET_E_PARSE, "unterminated comment");
            }
            i = next - 1;
        } else if (b[i] == '{' || b[i] == '[') {
            if (++depth > PINSET_MAX_POLICY_DEPTH) {
                return fail_at(b, i, diag, PINSET_E_LIMIT, "json nesting deeper than 16");
            }
        } else if ((b[i] == '}' || b[i] == ']') && depth > 0) {
            depth--;
        }
    }
    return PINSET_OK;
}

pinset_err pinset__fjson_load(struct json_t **root_out, uint8_t **text_out, const uint8_t *buf,
                              size_t len, int comments, pinset_diag *diag)
{
    json_error_t jerr;
    uint8_t *text;
    pinset_err err;

    *root_out = NULL;
    *text_out = NULL;
    if (len > PINSET_MAX_POLICY_SIZE) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "document of %zu octets exceeds %zu", len,
                           PINSET_MAX_POLICY_SIZE);
    }
    text = pinset__alloc(len + 1);
    if (text == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (len > 0) {
        memcpy(text, buf, len);
    }
    err = scan(text, len, comments, diag);
    if (err != PINSET_OK) {
        pinset__free(text);
        return err;
    }
    *root_out = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (*root_out == NULL) {
        err = json_error_code(&jerr) == json_error_out_of_memory ? PINSET_E_NOMEM : PINSET_E_PARSE;
        pinset__diag_pos(diag, SIZE_MAX, jerr.line > 0 ? (size_t)jerr.line : 0,
                         jerr.column > 0 ? (size_t)jerr.column : 0, jerr.position);
        pinset__free(text);
        (void)PINSET_DIAG(diag, err, "invalid json: %s", jerr.text);
        pinset__fjson_clean(diag); /* jansson quotes the input */
        return err;
    }
    *text_out = text;
    return PINSET_OK;
}

static void one_line(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = '?';
        }
    }
}

void pinset__fjson_clean(pinset_diag *diag)
{
    if (diag != NULL) {
        one_line(diag->message);
        one_line(diag->path);
    }
}
