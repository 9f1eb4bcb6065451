/*
 * diag.h - filling a caller's pinset_diag without global state: the code,
 * a one-line message, positions, the document path and OpenSSL's reason.
 * Internal; not installed.
 */
#ifndef PINSET_UTIL_DIAG_H
#define PINSET_UTIL_DIAG_H

#include <stddef.h>

#include <pinset/error.h>

/*
 * Record `code` and a printf-style message in diag (which may be NULL) and
 * return `code`, so that a caller writes `return PINSET_DIAG(diag, PINSET_E_PARSE, "...")`.
 * Messages: one line, lower case, no trailing period, no secrets.
 */
pinset_err pinset__diag_set(pinset_diag *diag, pinset_err code, const char *file, int line,
                            const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
#define PINSET_DIAG(diag, code, ...) \
    pinset__diag_set((diag), (code), __FILE__, __LINE__, __VA_ARGS__)
/*
 * Where a failure happened goes into the diag's fields, never into the
 * message (which is the reason only): pinset_diag_format() renders both.
 *
 * Set position fields (any may be 0 / SIZE_MAX = unknown) without touching
 * the message. `object` is the 0-based index of the object in the input.
 * The offset is recorded but not shown; pinset__diag_offset shows it.
 */
void pinset__diag_pos(pinset_diag *diag, size_t object, size_t line, size_t column, size_t offset);
/* Record a byte offset that locates the failure (inputs without lines: DER). */
void pinset__diag_offset(pinset_diag *diag, size_t offset);
/* The object (0-based index, SIZE_MAX = none) and its label ("CERTIFICATE"; may be NULL). */
void pinset__diag_object(pinset_diag *diag, size_t index, const char *label, size_t label_len);
/* The input's name: a path the caller passed (borrowed, not copied). */
void pinset__diag_input(pinset_diag *diag, const char *name);
/*
 * Set the document path (e.g. "rules[3].pins[1].sha256"). A path too long
 * for the field keeps its end, after "...".
 */
void pinset__diag_path(pinset_diag *diag, const char *path);
/*
 * Copy the reason of the most recent OpenSSL error above the current mark into
 * diag as "<prefix>: <reason>", then pop to the mark. Call after ERR_set_mark().
 */
pinset_err pinset__diag_openssl(pinset_diag *diag, pinset_err code, const char *file, int line,
                                const char *prefix);
#define PINSET_DIAG_OSSL(diag, code, prefix) \
    pinset__diag_openssl((diag), (code), __FILE__, __LINE__, (prefix))

#endif /* PINSET_UTIL_DIAG_H */
