/*
 * fuzz_report.h - the property both report fuzz targets check: a body
 * parses (then every bound holds, every string is NUL-terminated and free of
 * control characters, and the dedup key computes) or is refused with a
 * one-line reason and nothing kept.
 */
#ifndef PINSET_FUZZ_REPORT_H
#define PINSET_FUZZ_REPORT_H

#include <serve/report.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_report_check_str(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            abort();
        }
    }
}

/* The cached parse (the collector's) must give what the plain parse gives, hit or miss. */
static void fuzz_report_cached_same(const uint8_t *data, size_t size, int rc_plain,
                                    const report *plain)
{
    static report_cache *cache;
    static report c; /* large: not on the stack */
    char reason[REPORT_REASON_MAX];

    if (cache == NULL && (cache = report_cache_new()) == NULL) {
        abort();
    }
    for (int round = 0; round < 2; round++) { /* a miss, then a hit */
        int rc = report_parse_cached(&c, data, size, cache, reason, sizeof(reason));
        if (rc != rc_plain) {
            abort();
        }
        if (rc == 0) {
            if (c.served.count != plain->served.count ||
                c.validated.count != plain->validated.count || strcmp(c.host, plain->host) != 0) {
                abort();
            }
            for (size_t i = 0; i < c.served.count; i++) {
                if (strcmp(c.served.certs[i].pin, plain->served.certs[i].pin) != 0 ||
                    strcmp(c.served.certs[i].subject, plain->served.certs[i].subject) != 0) {
                    abort();
                }
            }
            report_clear(&c);
        }
    }
}

static void fuzz_report_one(const uint8_t *data, size_t size, report_format want)
{
    static report r; /* large: not on the stack */
    char reason[REPORT_REASON_MAX];
    uint8_t key[32];
    int rc;

    reason[0] = '\0';
    rc = report_parse(&r, data, size, reason, sizeof(reason));
    fuzz_report_cached_same(data, size, rc, &r);
    if (rc != 0) {
        if (reason[0] == '\0' || strchr(reason, '\n') != NULL || r.served.count != 0 ||
            r.validated.count != 0 || r.known_count != 0 ||
            (rc == -2) != (size > REPORT_MAX_BODY)) {
            abort();
        }
        return;
    }
    (void)want; /* both formats are reachable from either target's corpus */
    if (r.host[0] == '\0' || r.port > 65535 || r.served.count > REPORT_MAX_CHAIN ||
        r.validated.count > REPORT_MAX_CHAIN || r.known_count > REPORT_MAX_PINS ||
        (r.format == REPORT_TRUSTKIT && (r.served.count != 0 || r.validation_result < 0))) {
        abort();
    }
    fuzz_report_check_str(r.app_bundle_id, sizeof(r.app_bundle_id));
    fuzz_report_check_str(r.app_version, sizeof(r.app_version));
    fuzz_report_check_str(r.pinset_reason, sizeof(r.pinset_reason));
    for (size_t i = 0; i < r.served.count; i++) {
        if (strlen(r.served.certs[i].pin) != 44 || r.served.certs[i].x509 == NULL) {
            abort();
        }
        fuzz_report_check_str(r.served.certs[i].subject, REPORT_NAME_MAX);
    }
    for (size_t i = 0; i < r.known_count; i++) {
        if (strlen(r.known[i]) != 44) {
            abort();
        }
    }
    if (report_dedup_key(key, &r, "unclassified") != 0) {
        abort();
    }
    report_clear(&r);
}

#endif /* PINSET_FUZZ_REPORT_H */
