/*
 * out.c - output helpers for the pinset tool: colour, terminal-safe text,
 * JSON, the progress line and time formatting.
 */
#define _POSIX_C_SOURCE 200809L

#include "out.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <util/rfc3339.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "common.h"

/* ---- colour ---- */

int out_color_parse(const char *s, out_color_mode *out)
{
    if (s == NULL) {
        return -1;
    }
    if (strcmp(s, "auto") == 0) {
        *out = OUT_COLOR_AUTO;
    } else if (strcmp(s, "never") == 0) {
        *out = OUT_COLOR_NEVER;
    } else if (strcmp(s, "always") == 0) {
        *out = OUT_COLOR_ALWAYS;
    } else {
        return -1;
    }
    return 0;
}

int out_color_enabled(FILE *f, out_color_mode mode)
{
    const char *no_color;

    switch (mode) {
    case OUT_COLOR_ALWAYS:
        return 1;
    case OUT_COLOR_NEVER:
        return 0;
    case OUT_COLOR_AUTO:
    default:
        break;
    }
    /* https://no-color.org: set to any non-empty value disables colour. */
    no_color = getenv("NO_COLOR");
    if (no_color != NULL && no_color[0] != '\0') {
        return 0;
    }
    return isatty(fileno(f)) == 1;
}

const char *out_sgr(int color, out_style style)
{
    if (!color) {
        return "";
    }
    switch (style) {
    case OUT_BOLD:
        return "\033[1m";
    case OUT_DIM:
        return "\033[2m";
    case OUT_RED:
        return "\033[31m";
    case OUT_GREEN:
        return "\033[32m";
    case OUT_YELLOW:
        return "\033[33m";
    case OUT_CYAN:
        return "\033[36m";
    case OUT_PLAIN:
    default:
        return "";
    }
}

out_style out_result_style(const char *result)
{
    if (strcmp(result, "PASS") == 0) {
        return OUT_GREEN;
    }
    if (strcmp(result, "FAIL") == 0 || strcmp(result, "ERROR") == 0) {
        return OUT_RED;
    }
    return OUT_YELLOW; /* REPORT_ONLY_FAIL, NOT_PINNED, EXPIRED_OPEN: let through, look at it */
}

const char *out_sgr_reset(int color)
{
    return color ? "\033[0m" : "";
}

/* ---- text ---- */

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void out_safe(FILE *f, const char *s)
{
    if (s == NULL) {
        fputc('-', f);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        fputc(is_control(*p) ? '?' : *p, f);
    }
}

void out_safe_copy(char *buf, size_t cap, const char *s)
{
    size_t n = 0;

    if (cap == 0) {
        return;
    }
    if (s == NULL) {
        s = "-";
    }
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && n + 1 < cap; p++) {
        buf[n++] = is_control(*p) ? '?' : (char)*p;
    }
    buf[n] = '\0';
}

/* ---- JSON ---- */

json_t *out_json_str(const char *s)
{
    json_t *v;
    char *copy;
    size_t len;

    if (s == NULL) {
        return json_null();
    }
    v = json_string(s); /* NULL when s is not valid UTF-8 (or out of memory) */
    if (v != NULL) {
        return v;
    }
    len = strlen(s);
    copy = malloc(len + 1);
    if (copy == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        copy[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    copy[len] = '\0';
    v = json_string(copy);
    free(copy);
    return v;
}

int out_json_set(json_t *obj, const char *key, json_t *value)
{
    if (value == NULL) {
        return -1;
    }
    return json_object_set_new(obj, key, value) == 0 ? 0 : -1;
}

int out_json_dump(FILE *f, const json_t *doc)
{
    /* jansson >= 2.8 keeps insertion order; JSON_PRESERVE_ORDER says so explicitly. */
    if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        return -1;
    }
    return fputc('\n', f) == EOF ? -1 : 0;
}

/* ---- progress ---- */

int out_progress_enabled(void)
{
    return isatty(STDERR_FILENO) == 1;
}

/*
 * Whether a progress line is on screen. This is the tool's only mutable
 * file-scope state; the library itself has none.
 */
static int progress_shown;

void out_progress(const char *fmt, ...)
{
    va_list ap;

    if (!out_progress_enabled()) {
        return;
    }
    fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    progress_shown = 1;
}

void out_progress_done(void)
{
    if (!progress_shown) {
        return;
    }
    fputs("\r\033[K", stderr);
    fflush(stderr);
    progress_shown = 0;
}

/* ---- time ---- */

int out_time_iso(char *buf, size_t cap, int64_t t)
{
    if (cap == 0) {
        return -1;
    }
    if (pinset__time_write(buf, cap, t) != 0) {
        snprintf(buf, cap, "invalid time");
        return -1;
    }
    return 0;
}

void out_time_relative(char *buf, size_t cap, int64_t t, int64_t now)
{
    static const struct {
        int64_t secs;
        const char *name;
    } units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
    int future = t >= now;
    /* Unsigned distance: no overflow even for INT64_MIN/INT64_MAX. */
    uint64_t d = future ? (uint64_t)t - (uint64_t)now : (uint64_t)now - (uint64_t)t;

    if (d == 0) {
        snprintf(buf, cap, "now");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t n = d / (uint64_t)units[i].secs;
        if (n == 0) {
            continue;
        }
        snprintf(buf, cap, "%s%llu %s%s%s", future ? "in " : "", (unsigned long long)n,
                 units[i].name, n == 1 ? "" : "s", future ? "" : " ago");
        return;
    }
}

/* ---- parsing times (--now) ---- */

/* "@SECONDS" since the epoch (a tool convention), 1 to 11 digits. */
static int parse_epoch(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    int64_t v = 0;

    if (n < 1 || n > 11) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1) {
        return -1;
    }
    *out = v;
    return 0;
}

int out_parse_time(const char *s, int64_t *out)
{
    int64_t t;

    if (s[0] == '@') {
        return parse_epoch(s + 1, out);
    }
    /* RFC 3339 with fractions and offsets (util/rfc3339.c) */
    if (pinset__time_parse(&t, s, strlen(s), PINSET__TIME_LENIENT) != 0 || t < 1) {
        return -1; /* 0 would mean "the current time" to the library */
    }
    *out = t;
    return 0;
}

/* ---- certificate names ---- */

void out_x509_name(char *buf, size_t cap, const X509_NAME *name)
{
    BIO *b;
    int n;

    if (cap == 0) {
        return;
    }
    snprintf(buf, cap, "?");
    b = BIO_new(BIO_s_mem());
    if (b == NULL || name == NULL) {
        BIO_free(b);
        return;
    }
    /* RFC 2253 order and escaping, UTF-8 kept, control characters escaped */
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_read(b, buf, cap > INT_MAX ? INT_MAX : (int)cap - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
}
