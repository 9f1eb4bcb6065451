/*
 * diag.c - the helpers that fill a caller's pinset_diag (see diag.h).
 */
#include "util/diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "util/base.h"

pinset_err pinset__diag_set(pinset_diag *diag, pinset_err code, const char *file, int line,
                            const char *fmt, ...)
{
    va_list ap;

    if (diag == NULL) {
        return code;
    }
    diag->code = code;
    va_start(ap, fmt);
    (void)vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
    va_end(ap);
#ifndef NDEBUG
    diag->src_file = file;
    diag->src_line = line;
#else
    (void)file;
    (void)line;
#endif
    return code;
}

void pinset__diag_pos(pinset_diag *diag, size_t object, size_t line, size_t column, size_t offset)
{
    if (diag == NULL) {
        return;
    }
    diag->object = object;
    diag->line = line;
    diag->column = column;
    diag->offset = offset;
}

void pinset__diag_offset(pinset_diag *diag, size_t offset)
{
    if (diag == NULL) {
        return;
    }
    diag->offset = offset;
    diag->has_offset = 1;
}

void pinset__diag_object(pinset_diag *diag, size_t index, const char *label, size_t label_len)
{
    if (diag == NULL) {
        return;
    }
    diag->object = index;
    diag->label[0] = '\0';
    if (label != NULL && index != SIZE_MAX) {
        size_t n = label_len < sizeof(diag->label) - 1 ? label_len : sizeof(diag->label) - 1;

        memcpy(diag->label, label, n);
        diag->label[n] = '\0';
    }
}

void pinset__diag_input(pinset_diag *diag, const char *name)
{
    if (diag != NULL) {
        diag->input = name;
    }
}

void pinset__diag_path(pinset_diag *diag, const char *path)
{
    size_t n;

    if (diag == NULL || path == NULL) {
        return;
    }
    n = strlen(path);
    if (n < sizeof(diag->path)) {
        memcpy(diag->path, path, n + 1);
        return;
    }
    /* keep the end, which names the value; the start is the path's root */
    memcpy(diag->path, "...", 3);
    memcpy(diag->path + 3, path + n - (sizeof(diag->path) - 4), sizeof(diag->path) - 4);
    diag->path[sizeof(diag->path) - 1] = '\0';
}

pinset_err pinset__diag_openssl(pinset_diag *diag, pinset_err code, const char *file, int line,
                                const char *prefix)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

    if (reason == NULL) {
        reason = "unknown openssl error";
    }
    (void)pinset__diag_set(diag, code, file, line, "%s: %s", prefix, reason);
    ERR_pop_to_mark();
    return code;
}
