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
    struct tm tm;
    time_t tt = (time_t)t;

    if (cap == 0) {
        return -1;
    }
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
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

static int num(const char *s, size_t n, long *out)
{
    long v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int64_t days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

/* The time part after the date: "THH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; seconds into *secs. */
static int parse_clock(const char *s, int64_t *secs)
{
    long h, mi, se, oh = 0, om = 0;
    int sign = 0;

    if ((s[0] != 'T' && s[0] != 't' && s[0] != ' ') || strlen(s) < 10 || num(s + 1, 2, &h) ||
        s[3] != ':' || num(s + 4, 2, &mi) || s[6] != ':' || num(s + 7, 2, &se)) {
        return -1;
    }
    s += 9;
    if (*s == '.') {
        do {
            s++;
        } while (*s >= '0' && *s <= '9');
    }
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        sign = 0;
    } else if ((s[0] == '+' || s[0] == '-') && strlen(s) == 6 && !num(s + 1, 2, &oh) &&
               s[3] == ':' && !num(s + 4, 2, &om) && oh <= 23 && om <= 59) {
        sign = s[0] == '+' ? 1 : -1;
    } else {
        return -1;
    }
    /* RFC 3339 allows a leap second (60); it is the same instant as :59 here */
    if (h > 23 || mi > 59 || se > 60) {
        return -1;
    }
    *secs = h * 3600 + mi * 60 + (se == 60 ? 59 : se) - sign * (oh * 3600 + om * 60);
    return 0;
}

int out_parse_time(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long y, m, d;
    int64_t secs = 0;
    int leap;

    if (s[0] == '@') {
        size_t n = strlen(s + 1);
        long v;

        if (n < 1 || n > 11 || num(s + 1, n, &v) != 0 || v < 1) {
            return -1;
        }
        *out = v;
        return 0;
    }
    if (strlen(s) < 10 || num(s, 4, &y) || s[4] != '-' || num(s + 5, 2, &m) || s[7] != '-' ||
        num(s + 8, 2, &d) || m < 1 || m > 12 || d < 1) {
        return -1;
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap)) {
        return -1;
    }
    if (s[10] != '\0' && parse_clock(s + 10, &secs) != 0) {
        return -1;
    }
    *out = days_from_civil(y, m, d) * 86400 + secs;
    /* 0 would mean "the current time" to the library */
    return *out >= 1 ? 0 : -1;
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
