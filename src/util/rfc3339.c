/*
 * rfc3339.c - the one RFC 3339 time parser and writer (see rfc3339.h).
 */
#include "util/rfc3339.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>

#include "util/base.h"

#define SECONDS_PER_DAY 86400
#define TIME_MIN        (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define TIME_MAX        253402300799LL   /* 9999-12-31T23:59:59Z */

int64_t pinset__days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void pinset__civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t pinset__time_from_tm(const struct tm *tm)
{
    return pinset__days_from_civil((int64_t)tm->tm_year + 1900, (int64_t)tm->tm_mon + 1,
                                   (int64_t)tm->tm_mday) *
               SECONDS_PER_DAY +
           (int64_t)tm->tm_hour * 3600 + (int64_t)tm->tm_min * 60 + (int64_t)tm->tm_sec;
}

static int digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "+HH:MM" or "-HH:MM" (len 6) into signed seconds east of UTC; -1 when malformed. */
static int parse_offset(const char *s, size_t len, int64_t *out)
{
    int64_t oh, om;

    if (len != 6 || (s[0] != '+' && s[0] != '-') || digits(s + 1, 2, &oh) != 0 || s[3] != ':' ||
        digits(s + 4, 2, &om) != 0 || oh > 23 || om > 59) {
        return -1;
    }
    *out = (s[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    return 0;
}

/* The time after the date, "THH:MM:SS[.frac](Z|+HH:MM|-HH:MM)", into seconds of the day. */
static int parse_clock(const char *s, size_t len, unsigned flags, int64_t *secs)
{
    int lenient = (flags & PINSET__TIME_LENIENT) != 0;
    int64_t h, mi, se, off = 0;
    size_t i = 9;

    if (len < 10 || (s[0] != 'T' && s[0] != 't' && !(lenient && s[0] == ' ')) ||
        digits(s + 1, 2, &h) != 0 || s[3] != ':' || digits(s + 4, 2, &mi) != 0 || s[6] != ':' ||
        digits(s + 7, 2, &se) != 0) {
        return -1;
    }
    if (lenient && s[i] == '.') {
        do {
            i++;
        } while (i < len && s[i] >= '0' && s[i] <= '9');
    }
    if (i == len - 1 && (s[i] == 'Z' || s[i] == 'z')) {
        off = 0;
    } else if (!lenient || i >= len || parse_offset(s + i, len - i, &off) != 0) {
        return -1;
    }
    /* RFC 3339 allows a leap second (60); leniently it is the same instant as :59 */
    if (h > 23 || mi > 59 || se > (lenient ? 60 : 59)) {
        return -1;
    }
    *secs = h * 3600 + mi * 60 + (se == 60 ? 59 : se) - off;
    return 0;
}

int pinset__time_parse(int64_t *out, const char *s, size_t len, unsigned flags)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y, mo, d, secs = 0;

    if (s == NULL || len < 10 || ((flags & PINSET__TIME_LENIENT) == 0 && len != 10 && len != 20)) {
        return -1;
    }
    if (digits(s, 4, &y) != 0 || s[4] != '-' || digits(s + 5, 2, &mo) != 0 || s[7] != '-' ||
        digits(s + 8, 2, &d) != 0) {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y))) {
        return -1;
    }
    if ((flags & PINSET__TIME_LENIENT) == 0 && y < 1970) {
        return -1;
    }
    if (len > 10 && parse_clock(s + 10, len - 10, flags, &secs) != 0) {
        return -1;
    }
    *out = pinset__days_from_civil(y, mo, d) * SECONDS_PER_DAY + secs;
    return 0;
}

int pinset__time_from_asn1(int64_t *out, const struct asn1_string_st *t)
{
    struct tm tm;
    int ok;

    memset(&tm, 0, sizeof(tm));
    ERR_set_mark();
    ok = t != NULL && ASN1_TIME_to_tm(t, &tm) == 1;
    ERR_pop_to_mark();
    if (!ok) {
        return -1;
    }
    *out = pinset__time_from_tm(&tm);
    return 0;
}

int pinset__time_write(char *buf, size_t cap, int64_t t)
{
    int64_t days, secs, y;
    unsigned m, d;

    if (cap > 0) {
        buf[0] = '\0';
    }
    if (cap < PINSET__TIME_TEXT_MAX || t < TIME_MIN || t > TIME_MAX) {
        return -1;
    }
    days = t / SECONDS_PER_DAY;
    secs = t % SECONDS_PER_DAY;
    if (secs < 0) {
        secs += SECONDS_PER_DAY;
        days--;
    }
    pinset__civil_from_days(days, &y, &m, &d);
    (void)snprintf(buf, cap, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)y, m, d,
                   (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
    return 0;
}
