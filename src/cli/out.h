/*
 * out.h - output helpers shared by every command of the pinset tool: colour
 * (only on a terminal, never with NO_COLOR, overridden by --color), text
 * that is safe to show on a terminal, JSON through jansson with keys in
 * insertion order, a progress line on stderr, and time formatting.
 *
 * stdout carries results only; diagnostics and progress go to stderr.
 */
#ifndef PINSET_CLI_OUT_H
#define PINSET_CLI_OUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

/* ---- colour ---- */

typedef enum out_color_mode {
    OUT_COLOR_AUTO = 0, /* on a terminal, unless NO_COLOR is set to a non-empty value */
    OUT_COLOR_NEVER = 1,
    OUT_COLOR_ALWAYS = 2 /* even when piped, and even with NO_COLOR */
} out_color_mode;

typedef enum out_style {
    OUT_PLAIN = 0,
    OUT_BOLD,
    OUT_DIM,
    OUT_RED,
    OUT_GREEN,
    OUT_YELLOW,
    OUT_CYAN
} out_style;

/* The --color, -q/--quiet and -v/--verbose entries of a command's option table: one wording. */
#define OUT_OPT_COLOR                                                                \
    {                                                                                \
        "color", 0, "WHEN", "colour in text output: auto (default), never or always" \
    }
/* The verdict names' colours in text output: PASS green, FAIL and ERROR red, the rest yellow. */
out_style out_result_style(const char *result);
/* Parse "never", "auto" or "always" (the --color argument). 0 on success, -1 otherwise. */
int out_color_parse(const char *s, out_color_mode *out);
/* Whether output to `f` should be coloured under `mode` (looks at isatty and NO_COLOR). */
int out_color_enabled(FILE *f, out_color_mode mode);
/*
 * The escape sequence that starts `style`, or "" when `color` is 0.
 * out_sgr_reset gives the sequence that ends it (or "").
 */
const char *out_sgr(int color, out_style style);
const char *out_sgr_reset(int color);

/* ---- text ---- */

/*
 * Write `s` with every control character (C0, DEL) replaced by '?', so that
 * untrusted text (a certificate subject, a file name) cannot move the cursor,
 * recolour the terminal or forge an extra output line. NULL writes "-".
 */
void out_safe(FILE *f, const char *s);
/* As out_safe, into buf (always NUL-terminated; truncated to cap - 1 bytes). */
void out_safe_copy(char *buf, size_t cap, const char *s);

/* ---- JSON (jansson) ---- */

/*
 * A JSON string for untrusted text: the text itself when it is valid UTF-8,
 * otherwise a copy with every byte outside printable ASCII replaced by '?'.
 * NULL gives JSON null. Returns NULL only when out of memory.
 */
json_t *out_json_str(const char *s);
/*
 * Set obj[key] = value, stealing the reference to value (as json_object_set_new).
 * Keys keep their insertion order in the output. Returns 0, or -1 when value is
 * NULL (out of memory) or the set fails.
 */
int out_json_set(json_t *obj, const char *key, json_t *value);
/* Write a JSON document followed by a newline: 2-space indent, keys in insertion order. 0 or -1. */
int out_json_dump(FILE *f, const json_t *doc);

/* ---- progress (stderr, only when stderr is a terminal) ---- */

/* Whether progress lines are shown (stderr is a terminal). */
int out_progress_enabled(void);
/* Replace the progress line with a new one (printf format). No-op unless stderr is a terminal. */
void out_progress(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Erase the progress line, if one is shown. */
void out_progress_done(void);

/* ---- time ---- */

/* Buffer size that holds any time written by out_time_iso / out_time_relative. */
#define OUT_TIME_MAX 48

/*
 * Seconds since the epoch as RFC 3339 UTC, "2026-11-27T15:30:14Z". Returns 0,
 * or -1 (and writes "invalid time") when the time cannot be represented.
 */
int out_time_iso(char *buf, size_t cap, int64_t t);
/*
 * Parse a time given on the command line (--now): an RFC 3339 date-time
 * ("2027-01-01T00:00:00Z", fractions and +HH:MM/-HH:MM offsets allowed), a
 * full-date ("2027-01-01", midnight UTC) or "@SECONDS" since the epoch.
 * Returns 0 and sets *out (at least 1: 0 means "now" to the library), or -1.
 */
int out_parse_time(const char *s, int64_t *out);

/*
 * A certificate name in RFC 2253 order and escaping, UTF-8 kept, into buf
 * ("?" when it cannot be printed, truncated to fit).
 */
void out_x509_name(char *buf, size_t cap, const X509_NAME *name);
/*
 * The distance from `now` to `t` in the largest whole unit: "in 3 days",
 * "5 hours ago", "now" (within a second). Units: seconds, minutes, hours, days.
 */
void out_time_relative(char *buf, size_t cap, int64_t t, int64_t now);

#endif /* PINSET_CLI_OUT_H */
