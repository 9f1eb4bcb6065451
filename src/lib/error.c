/*
 * error.c - error strings (pinset_strerror, pinset_err_name), pinset_diag_init
 * and pinset_diag_format, the one renderer of a diag; the helpers that fill a
 * diag live in src/util/diag.c.
 */
#include <stdio.h>
#include <string.h>

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

/* ---- one line for a diag ---- */

struct line {
    char *buf;
    size_t cap, len; /* len counts every character, also those past cap */
};

static void put(struct line *l, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, l->len++) {
        unsigned char c = (unsigned char)s[i];

        if (l->len + 1 < l->cap) {
            l->buf[l->len] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
        }
    }
}

/* The length of a NUL-terminated field, never past its size. */
static size_t bounded_len(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);

    return nul != NULL ? (size_t)(nul - s) : cap;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* A number in decimal. */
static void putn(struct line *l, size_t a)
{
    char tmp[24];
    size_t n = 0;

    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + a % 10);
        a /= 10;
    } while (a != 0 && n < sizeof(tmp));
    put(l, tmp + sizeof(tmp) - n, n);
}

size_t pinset_diag_format(char *buf, size_t cap, const pinset_diag *diag)
{
    struct line l = {buf, buf == NULL ? 0 : cap, 0};
    int where = 0; /* something was written before the reason */

    if (diag == NULL) {
        puts_(&l, "unknown error");
    } else {
        if (diag->input != NULL && diag->input[0] != '\0') {
            puts_(&l, diag->input);
            where = 1;
        }
        if (diag->line > 0) {
            puts_(&l, where ? ":" : "");
            putn(&l, diag->line);
            if (diag->column > 0) {
                puts_(&l, ":");
                putn(&l, diag->column);
            }
            where = 1;
        } else if (diag->has_offset) {
            puts_(&l, where ? ": byte " : "byte ");
            putn(&l, diag->offset);
            where = 1;
        }
        if (where) {
            puts_(&l, ": ");
        }
        if (diag->object != (size_t)-1) {
            puts_(&l, "object ");
            putn(&l, diag->object + 1);
            if (diag->label[0] != '\0') {
                puts_(&l, " (");
                put(&l, diag->label, bounded_len(diag->label, sizeof(diag->label)));
                puts_(&l, ")");
            }
            puts_(&l, ": ");
        }
        if (diag->path[0] != '\0') {
            put(&l, diag->path, bounded_len(diag->path, sizeof(diag->path)));
            puts_(&l, ": ");
        }
        if (diag->message[0] != '\0') {
            put(&l, diag->message, bounded_len(diag->message, sizeof(diag->message)));
        } else {
            puts_(&l, pinset_strerror(diag->code));
        }
    }
    if (l.cap > 0) {
        l.buf[l.len < l.cap ? l.len : l.cap - 1] = '\0';
    }
    return l.len;
}
