/*
 * report.h - the collector's report parsers: RFC 7469 section 3 documents
 * (with pinset's own "pinset-" members) and TrustKit's pin-failure reports
 * (TSKPinFailureReport: its app fields and validation-result codes).
 *
 * Reports are untrusted. A body is refused before parsing when over
 * REPORT_MAX_BODY bytes or nested deeper than REPORT_MAX_DEPTH; then the
 * schema is strict: every member known, of its type, within its bound;
 * required members present; every certificate one PEM certificate OpenSSL
 * parses; every known pin an spki pin. Each refusal names the member and
 * the reason. docs/collector.md lists the schemas.
 */
#ifndef PINSET_SERVE_REPORT_H
#define PINSET_SERVE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define REPORT_MAX_BODY   65536 /* bytes of one report */
#define REPORT_MAX_DEPTH  4     /* nesting of arrays and objects */
#define REPORT_MAX_CHAIN  16    /* certificates per chain */
#define REPORT_MAX_PINS   32    /* known pins */
#define REPORT_MAX_FIELD  256   /* bytes of an app field (TrustKit) */
#define REPORT_PIN_B64    45    /* a base64 SHA-256 and its NUL */
#define REPORT_NAME_MAX   256   /* a certificate name, shown */
#define REPORT_REASON_MAX 256

typedef enum report_format { REPORT_RFC7469 = 0, REPORT_TRUSTKIT = 1 } report_format;

/* One certificate of a chain. */
typedef struct report_cert {
    X509 *x509;                    /* owned */
    char pin[REPORT_PIN_B64];      /* spki pin, base64 */
    char subject[REPORT_NAME_MAX]; /* RFC 2253, control characters replaced */
    char issuer[REPORT_NAME_MAX];
    int64_t not_before, not_after;
    uint8_t der_sha[32]; /* SHA-256 of the DER certificate */
} report_cert;

typedef struct report_chain {
    report_cert certs[REPORT_MAX_CHAIN];
    size_t count;
} report_chain;

typedef struct report {
    report_format format;
    char host[256];       /* hostname, canonical */
    char noted_host[256]; /* noted-hostname, canonical; "" when absent */
    unsigned int port;
    int64_t date_time; /* the client's clock; -1 when absent (TrustKit may send null) */
    int64_t expires;   /* effective-expiration-date / known-pins-expiration-date; -1 none */
    int include_subdomains;
    report_chain served;    /* RFC 7469; TrustKit-Android sends it too */
    report_chain validated; /* may be empty */
    char known[REPORT_MAX_PINS][REPORT_PIN_B64];
    size_t known_count;
    /* TrustKit */
    char app_bundle_id[REPORT_MAX_FIELD], app_version[REPORT_MAX_FIELD];
    char app_platform[REPORT_MAX_FIELD], app_platform_version[REPORT_MAX_FIELD];
    char app_vendor_id[REPORT_MAX_FIELD], trustkit_version[REPORT_MAX_FIELD];
    int enforce_pinning;   /* -1 absent */
    int validation_result; /* -1 absent (RFC 7469) */
    /* pinset's own members (RFC 7469 from libpinset), "" when absent */
    char pinset_verdict[32], pinset_reason[64], pinset_mode[32];
    /* 1 when date_time is the client's local time written as UTC: TrustKit-Android formats it
     * with android.text.format.DateFormat, which has no 'Z' (offset) letter and writes it as is */
    int date_local;
} report;

/* The validation-result codes of TrustKit (TSKTrustEvaluationResult). */
const char *report_trustkit_result_name(int code);
const char *report_format_name(report_format f);

/*
 * Parse a report of either format, told apart by its members (TrustKit's
 * have "app-bundle-id" or "validation-result"). `now` bounds nothing; it
 * is kept for symmetry with the classifier. Returns 0 with *out filled (free
 * with report_clear), or -1 with the reason in reason (REPORT_REASON_MAX)
 * and *out cleared. Returns -2 when len is over REPORT_MAX_BODY.
 */
int report_parse(report *out, const uint8_t *buf, size_t len, char *reason, size_t cap);
/*
 * A cache of parsed certificates by the SHA-256 of their PEM text (1,024 slots,
 * one per hash prefix, the newest wins): a flood of reports repeats the
 * same few chains, and parsing a certificate is most of a report's cost.
 * Thread-safe (one mutex). NULL from _new when out of memory.
 */
typedef struct report_cache report_cache;
report_cache *report_cache_new(void);
void report_cache_free(report_cache *c);
void report_cache_stats(report_cache *c, unsigned long *hits, unsigned long *misses);
/* report_parse with a certificate cache (NULL: none); the result is the same. */
int report_parse_cached(report *out, const uint8_t *buf, size_t len, report_cache *cache,
                        char *reason, size_t cap);
/* Free what a parsed report owns; the struct may be parsed into again. */
void report_clear(report *r);
/* A chain's pins, ' '-separated, leaf first, into buf. */
void report_chain_pins(const report_chain *c, char *buf, size_t cap);
/* The known pins, ' '-separated. */
void report_known_pins(const report *r, char *buf, size_t cap);
/*
 * The dedup key: SHA-256 over the canonical fields (format, host, port,
 * noted host, class, served and validated chain pins, known pins in sorted
 * order, TrustKit's app-bundle-id and validation-result, the served and
 * validated chains' certificate digests), each followed by a NUL byte.
 */
int report_dedup_key(uint8_t out[32], const report *r, const char *class_name);

#endif /* PINSET_SERVE_REPORT_H */
