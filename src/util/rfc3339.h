/*
 * rfc3339.h - the one RFC 3339 (section 5.6) time parser and writer, in UTC
 * seconds since the epoch, and the civil-calendar conversions under them
 * (proleptic Gregorian; H. Hinnant's days_from_civil / civil_from_days).
 * Internal; not installed.
 */
#ifndef PINSET_UTIL_RFC3339_H
#define PINSET_UTIL_RFC3339_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* OpenSSL's ASN1_TIME, declared here so that this header pulls in no OpenSSL header. */
struct asn1_string_st;

/* Buffer size for pinset__time_write: "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define PINSET__TIME_TEXT_MAX 21

/* Flags for pinset__time_parse. */
#define PINSET__TIME_LENIENT \
    0x1u /* also fractions, +HH:MM/-HH:MM offsets, ' ' for 'T', second 60 */

/* Days from 1970-01-01 to a proleptic Gregorian y-m-d (m 1-12, d 1-31). */
int64_t pinset__days_from_civil(int64_t y, int64_t m, int64_t d);

/* The inverse: the y-m-d of a day count from 1970-01-01. */
void pinset__civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* A broken-down UTC time (from gmtime_r or ASN1_TIME_to_tm) as seconds since the epoch. */
int64_t pinset__time_from_tm(const struct tm *tm);

/*
 * An ASN1_TIME (a certificate's notBefore/notAfter) as seconds since the
 * epoch. Returns 0, or -1 when t is NULL or OpenSSL cannot read it; leaves
 * OpenSSL's error queue as it was.
 */
int pinset__time_from_asn1(int64_t *out, const struct asn1_string_st *t);

/*
 * Parse s[0..len) (not NUL-terminated) into seconds since the epoch: a
 * date-time "2027-01-01T00:00:00Z" ('T' and 'Z' in either case) or a bare
 * full-date "2027-01-01" (midnight UTC). Strict by default: no fractions,
 * offsets or leap seconds, and years from 1970. Returns 0, or -1 when
 * malformed (an impossible date such as 2100-02-29 included).
 */
int pinset__time_parse(int64_t *out, const char *s, size_t len, unsigned flags);

/*
 * Write t as "YYYY-MM-DDTHH:MM:SSZ" into buf. Returns 0, or -1 (buf then
 * holds "" when cap > 0) when cap is below PINSET__TIME_TEXT_MAX or t lies
 * outside years 0000 to 9999.
 */
int pinset__time_write(char *buf, size_t cap, int64_t t);

#endif /* PINSET_UTIL_RFC3339_H */
