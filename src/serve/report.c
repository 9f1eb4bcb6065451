/*
 * report.c - strict parsers of RFC 7469 and TrustKit pin-failure reports
 * (report.h). jansson reads the JSON (duplicate keys refused, no NUL in
 * strings) after a byte scan bounds its nesting; each member is then
 * checked against one table per format.
 */
#include <jansson.h>
#include <serve/report.h>
#include <stdio.h>
#include <string.h>
#include <util/digest.h>
#include <util/hex.h>
#include <util/rfc3339.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common.h"

typedef enum member_kind {
    M_DATE,      /* RFC 3339 date-time (or full-date), string */
    M_DATE_NULL, /* the same, or null */
    M_HOST,      /* a host name */
    M_PORT,      /* integer 0..65535 (0: unknown) */
    M_BOOL,
    M_CHAIN,   /* array of PEM certificates */
    M_PINS,    /* array of pin-sha256="..." */
    M_FIELD,   /* a string up to REPORT_MAX_FIELD - 1 bytes */
    M_RESULT,  /* TrustKit validation-result: integer 0..5 */
    M_IGNORED, /* pinset's informational members: checked for type only */
} member_kind;

typedef struct member {
    const char *name;
    member_kind kind;
    int required;
    size_t off; /* where it goes in struct report (unused for some kinds) */
} member;

#define OFF(f) offsetof(report, f)

static const member rfc7469_members[] = {
    {"date-time", M_DATE, 1, OFF(date_time)},
    {"hostname", M_HOST, 1, OFF(host)},
    {"port", M_PORT, 1, OFF(port)},
    {"effective-expiration-date", M_DATE_NULL, 0, OFF(expires)},
    {"include-subdomains", M_BOOL, 0, OFF(include_subdomains)},
    {"noted-hostname", M_HOST, 0, OFF(noted_host)},
    {"served-certificate-chain", M_CHAIN, 1, OFF(served)},
    {"validated-certificate-chain", M_CHAIN, 1, OFF(validated)},
    {"known-pins", M_PINS, 1, OFF(known)},
    {"pinset-verdict", M_FIELD, 0, OFF(pinset_verdict)},
    {"pinset-reason", M_FIELD, 0, OFF(pinset_reason)},
    {"pinset-mode", M_FIELD, 0, OFF(pinset_mode)},
    {"pinset-rule", M_IGNORED, 0, 0},
    {"pinset-match", M_IGNORED, 0, 0},
    {"pinset-rule-expired", M_IGNORED, 0, 0},
    {"pinset-matched-pin", M_IGNORED, 0, 0},
    {"pinset-known-cert-pins", M_IGNORED, 0, 0},
    {NULL, M_IGNORED, 0, 0},
};

static const member trustkit_members[] = {
    {"app-bundle-id", M_FIELD, 1, OFF(app_bundle_id)},
    {"app-version", M_FIELD, 1, OFF(app_version)},
    {"app-platform", M_FIELD, 0, OFF(app_platform)},
    {"app-platform-version", M_FIELD, 0, OFF(app_platform_version)},
    {"app-vendor-id", M_FIELD, 0, OFF(app_vendor_id)},
    {"trustkit-version", M_FIELD, 0, OFF(trustkit_version)},
    {"date-time", M_DATE_NULL, 0, OFF(date_time)},
    {"hostname", M_HOST, 1, OFF(host)},
    {"port", M_PORT, 1, OFF(port)},
    {"noted-hostname", M_HOST, 1, OFF(noted_host)},
    {"include-subdomains", M_BOOL, 0, OFF(include_subdomains)},
    {"enforce-pinning", M_BOOL, 0, OFF(enforce_pinning)},
    {"validated-certificate-chain", M_CHAIN, 1, OFF(validated)},
    /* TrustKit-Android's PinningFailureReport sends it too; TrustKit for iOS does not */
    {"served-certificate-chain", M_CHAIN, 0, OFF(served)},
    {"known-pins", M_PINS, 1, OFF(known)},
    {"validation-result", M_RESULT, 1, OFF(validation_result)},
    {"known-pins-expiration-date", M_DATE_NULL, 0, OFF(expires)},
    {NULL, M_IGNORED, 0, 0},
};

static const char *const trustkit_results[] = {
    "success",
    "failed-no-matching-pin",
    "failed-invalid-certificate-chain",
    "error-invalid-parameters",
    "failed-user-defined-trust-anchor",
    "error-could-not-generate-spki-hash",
};

const char *report_trustkit_result_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof(trustkit_results) / sizeof(trustkit_results[0])) {
        return "unknown";
    }
    return trustkit_results[code];
}

const char *report_format_name(report_format f)
{
    return f == REPORT_TRUSTKIT ? "trustkit" : "rfc7469";
}

void report_clear(report *r)
{
    report_chain *chains[2] = {&r->served, &r->validated};

    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < chains[c]->count; i++) {
            X509_free(chains[c]->certs[i].x509);
        }
    }
    memset(r, 0, sizeof(*r));
    r->date_time = -1;
    r->expires = -1;
    r->enforce_pinning = -1;
    r->validation_result = -1;
}

/* The deepest nesting of arrays and objects outside strings, stopping past `max`. */
static size_t json_depth(const uint8_t *buf, size_t len, size_t max)
{
    size_t depth = 0, deepest = 0;
    int in_str = 0, esc = 0;

    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (in_str) {
            if (esc) {
                esc = 0;
            } else if (c == '\\') {
                esc = 1;
            } else if (c == '"') {
                in_str = 0;
            }
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > max) {
                    return deepest;
                }
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

/* The length of the well-formed UTF-8 sequence (RFC 3629) at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
    }
    return 0;
}

/* Replace control characters and bytes that are not UTF-8 with '?', and cut at cap - 1 bytes on
 * a character boundary: the text stays valid UTF-8 (JSON, and so the stored detail, holds only
 * that). */
static void safe_copy(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0;

    while (s[i] != '\0' && o + 1 < cap) {
        size_t n = utf8_len(s + i); /* stops at the NUL: no byte past it is read */
        if (n == 0 || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
            dst[o++] = '?';
            i++;
            continue;
        }
        if (o + n >= cap) {
            break;
        }
        memcpy(dst + o, s + i, n);
        o += n;
        i += n;
    }
    dst[o] = '\0';
}

static void cert_name(char *dst, size_t cap, const X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    char tmp[REPORT_NAME_MAX + 4]; /* safe_copy cuts on a character boundary */
    int n;

    dst[0] = '\0';
    if (b == NULL) {
        return;
    }
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        n = BIO_read(b, tmp, (int)sizeof(tmp) - 1);
        tmp[n > 0 ? n : 0] = '\0';
        safe_copy(dst, cap, tmp);
    }
    BIO_free(b);
}

static int pin_b64(char out[REPORT_PIN_B64], const uint8_t sha[32])
{
    return EVP_EncodeBlock((unsigned char *)out, sha, 32) == 44 ? 0 : -1;
}

/* ---- the certificate cache: report floods repeat the same few chains ---- */

#define CACHE_SLOTS 1024

typedef struct cache_entry {
    uint8_t text_sha[32]; /* SHA-256 of the PEM text as the report gave it */
    report_cert cert;     /* holds one reference to cert.x509 */
} cache_entry;

struct report_cache {
    pthread_mutex_t lock;
    cache_entry slots[CACHE_SLOTS];
    unsigned long hits, misses;
};

report_cache *report_cache_new(void)
{
    report_cache *c = calloc(1, sizeof(*c));

    if (c != NULL && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void report_cache_free(report_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        X509_free(c->slots[i].cert.x509);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void report_cache_stats(report_cache *c, unsigned long *hits, unsigned long *misses)
{
    pthread_mutex_lock(&c->lock);
    *hits = c->hits;
    *misses = c->misses;
    pthread_mutex_unlock(&c->lock);
}

static size_t slot_of(const uint8_t sha[32])
{
    return ((size_t)sha[0] << 8 | sha[1]) % CACHE_SLOTS;
}

static int cache_get(report_cache *c, const uint8_t sha[32], report_cert *out)
{
    cache_entry *e = &c->slots[slot_of(sha)];
    int hit;

    pthread_mutex_lock(&c->lock);
    hit = e->cert.x509 != NULL && memcmp(e->text_sha, sha, 32) == 0;
    if (hit) {
        *out = e->cert;
        X509_up_ref(out->x509);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static void cache_put(report_cache *c, const uint8_t sha[32], const report_cert *cert)
{
    cache_entry *e = &c->slots[slot_of(sha)];
    X509 *old;

    X509_up_ref(cert->x509);
    pthread_mutex_lock(&c->lock);
    old = e->cert.x509;
    memcpy(e->text_sha, sha, 32);
    e->cert = *cert;
    pthread_mutex_unlock(&c->lock);
    X509_free(old);
}

/* SHA-256 with one fetched EVP_MD for the process (implicit fetches take OpenSSL's locks). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static int sha256(uint8_t out[32], const void *buf, size_t len)
{
    pthread_once(&sha256_once, fetch_sha256);
    return pinset__sha256(out, buf, len, sha256_md, NULL) ? 0 : -1;
}

/* The certificate's fields from its parsed form (x holds the reference given to c). */
static int fill_cert(report_cert *c, X509 *x, char *why, size_t cap)
{
    uint8_t sha[32];
    unsigned char *der = NULL;
    int dlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

    if (dlen <= 0 || sha256(sha, der, (size_t)dlen) != 0 || pin_b64(c->pin, sha) != 0) {
        OPENSSL_free(der);
        snprintf(why, cap, "certificate's public key does not encode");
        return -1;
    }
    OPENSSL_free(der);
    c->x509 = x;
    cert_name(c->subject, sizeof(c->subject), X509_get_subject_name(x));
    cert_name(c->issuer, sizeof(c->issuer), X509_get_issuer_name(x));
    if (pinset__time_from_asn1(&c->not_before, X509_get0_notBefore(x)) != 0 ||
        pinset__time_from_asn1(&c->not_after, X509_get0_notAfter(x)) != 0) {
        c->not_before = 0;
        c->not_after = 0;
    }
    return 0;
}

/* One PEM certificate, alone in the string (white space may follow it). */
static int parse_cert(report_cert *c, const char *pem, size_t len, report_cache *cache, char *why,
                      size_t cap)
{
    BIO *b;
    char *name = NULL, *header = NULL, rest;
    unsigned char *der = NULL;
    long dlen = 0;
    int ok, extra = 0;
    uint8_t sha[32], text_sha[32];
    const unsigned char *p;
    X509 *x;

    if (len == 0 || len > 16384) {
        snprintf(why, cap, "certificate of %zu bytes (1 to 16384)", len);
        return -1;
    }
    if (len < 27 || memcmp(pem, "-----BEGIN CERTIFICATE-----", 27) != 0) {
        snprintf(why, cap, "not a PEM certificate (no BEGIN CERTIFICATE line)");
        return -1;
    }
    /* the same text parses the same way: the cache is keyed by the text's digest */
    if (sha256(text_sha, pem, len) != 0) {
        snprintf(why, cap, "certificate does not hash");
        return -1;
    }
    if (cache != NULL && cache_get(cache, text_sha, c)) {
        return 0;
    }
    b = BIO_new_mem_buf(pem, (int)len);
    if (b == NULL) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    ERR_set_mark();
    ok = PEM_read_bio(b, &name, &header, &der, &dlen) == 1;
    while (ok && BIO_read(b, &rest, 1) == 1) {
        if (rest != '\n' && rest != '\r' && rest != ' ' && rest != '\t') {
            extra = 1;
            break;
        }
    }
    ERR_pop_to_mark();
    BIO_free(b);
    if (!ok || strcmp(name, "CERTIFICATE") != 0 || header[0] != '\0' || dlen <= 0) {
        snprintf(why, cap, "certificate does not parse");
        goto bad;
    }
    if (extra) {
        snprintf(why, cap, "more than one certificate in one entry");
        goto bad;
    }
    if (sha256(sha, der, (size_t)dlen) != 0) {
        snprintf(why, cap, "certificate does not hash");
        goto bad;
    }
    p = der;
    ERR_set_mark();
    x = d2i_X509(NULL, &p, dlen);
    ERR_pop_to_mark();
    if (x == NULL || p != der + dlen) {
        X509_free(x);
        snprintf(why, cap, "certificate does not parse");
        goto bad;
    }
    if (fill_cert(c, x, why, cap) != 0) {
        X509_free(x);
        c->x509 = NULL;
        goto bad;
    }
    memcpy(c->der_sha, sha, 32);
    if (cache != NULL) {
        cache_put(cache, text_sha, c);
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    return 0;
bad:
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    return -1;
}

static int parse_chain(report_chain *chain, const json_t *v, report_cache *cache, char *why,
                       size_t cap)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v)) {
        snprintf(why, cap, "not an array");
        return -1;
    }
    if (json_array_size(v) > REPORT_MAX_CHAIN) {
        snprintf(why, cap, "%zu certificates (at most %d)", json_array_size(v), REPORT_MAX_CHAIN);
        return -1;
    }
    json_array_foreach(v, i, e)
    {
        char inner[160];
        if (!json_is_string(e)) {
            snprintf(why, cap, "[%zu]: not a string", i);
            return -1;
        }
        if (parse_cert(&chain->certs[i], json_string_value(e), json_string_length(e), cache, inner,
                       sizeof(inner)) != 0) {
            snprintf(why, cap, "[%zu]: %s", i, inner);
            return -1;
        }
        chain->count = i + 1;
    }
    return 0;
}

static int parse_pins(report *r, const json_t *v, char *why, size_t cap)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v)) {
        snprintf(why, cap, "not an array");
        return -1;
    }
    if (json_array_size(v) > REPORT_MAX_PINS) {
        snprintf(why, cap, "%zu pins (at most %d)", json_array_size(v), REPORT_MAX_PINS);
        return -1;
    }
    json_array_foreach(v, i, e)
    {
        const char *s;
        size_t n;
        pinset_pin pin;
        static const char pre[] = "pin-sha256=\"";

        if (!json_is_string(e)) {
            snprintf(why, cap, "[%zu]: not a string", i);
            return -1;
        }
        s = json_string_value(e);
        n = json_string_length(e);
        /* RFC 7469 section 3: each is a pin directive, pin-sha256="base64" */
        if (n != sizeof(pre) - 1 + 44 + 1 || memcmp(s, pre, sizeof(pre) - 1) != 0 ||
            s[n - 1] != '"' || pinset_pin_parse(&pin, s, n, PINSET_PIN_SPKI, NULL) != PINSET_OK) {
            snprintf(why, cap, "[%zu]: not a pin-sha256=\"...\" pin", i);
            return -1;
        }
        if (pin_b64(r->known[i], pin.sha256) != 0) {
            snprintf(why, cap, "[%zu]: pin does not encode", i);
            return -1;
        }
        r->known_count = i + 1;
    }
    return 0;
}

static int parse_member(report *r, const member *m, const json_t *v, report_cache *cache, char *why,
                        size_t cap)
{
    char *base = (char *)r;

    switch (m->kind) {
    case M_DATE:
    case M_DATE_NULL: {
        int64_t t;
        if (m->kind == M_DATE_NULL && json_is_null(v)) {
            return 0;
        }
        if (!json_is_string(v)) {
            snprintf(why, cap, "not a string");
            return -1;
        }
        if (pinset__time_parse(&t, json_string_value(v), json_string_length(v), 0) != 0) {
            snprintf(why, cap, "not an RFC 3339 date-time");
            return -1;
        }
        memcpy(base + m->off, &t, sizeof(t));
        return 0;
    }
    case M_HOST: {
        char *dst = base + m->off;
        if (!json_is_string(v)) {
            snprintf(why, cap, "not a string");
            return -1;
        }
        if (pinset_host_canon(dst, 256, NULL, json_string_value(v), json_string_length(v), NULL) !=
            PINSET_OK) {
            dst[0] = '\0';
            snprintf(why, cap, "not a host name");
            return -1;
        }
        return 0;
    }
    case M_PORT:
        /* 0: unknown, as libpinset writes it when the application did not say (report.h) */
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535) {
            snprintf(why, cap, "not an integer from 0 to 65535");
            return -1;
        }
        r->port = (unsigned int)json_integer_value(v);
        return 0;
    case M_BOOL: {
        int b;
        if (!json_is_boolean(v)) {
            snprintf(why, cap, "not true or false");
            return -1;
        }
        b = json_is_true(v);
        memcpy(base + m->off, &b, sizeof(b));
        return 0;
    }
    case M_CHAIN:
        return parse_chain((report_chain *)(void *)(base + m->off), v, cache, why, cap);
    case M_PINS:
        return parse_pins(r, v, why, cap);
    case M_FIELD: {
        size_t limit = m->off == OFF(pinset_verdict) || m->off == OFF(pinset_mode) ? 32
                       : m->off == OFF(pinset_reason)                              ? 64
                                                      : REPORT_MAX_FIELD;
        if (!json_is_string(v)) {
            snprintf(why, cap, "not a string");
            return -1;
        }
        if (json_string_length(v) >= limit) {
            snprintf(why, cap, "longer than %zu bytes", limit - 1);
            return -1;
        }
        safe_copy(base + m->off, limit, json_string_value(v));
        return 0;
    }
    case M_RESULT:
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) >=
                (json_int_t)(sizeof(trustkit_results) / sizeof(trustkit_results[0]))) {
            snprintf(why, cap, "not a TrustKit validation result (0 to 5)");
            return -1;
        }
        r->validation_result = (int)json_integer_value(v);
        return 0;
    case M_IGNORED:
        if (json_is_object(v) || json_is_array(v)) {
            /* pinset-rule {host, index}, pinset-known-cert-pins [...]: bounded by the depth cap */
            return 0;
        }
        if (!json_is_string(v) && !json_is_boolean(v) && !json_is_null(v)) {
            snprintf(why, cap, "not a string, boolean or null");
            return -1;
        }
        return 0;
    }
    snprintf(why, cap, "internal error");
    return -1;
}

int report_parse(report *out, const uint8_t *buf, size_t len, char *reason, size_t cap)
{
    return report_parse_cached(out, buf, len, NULL, reason, cap);
}

int report_parse_cached(report *out, const uint8_t *buf, size_t len, report_cache *cache,
                        char *reason, size_t cap)
{
    json_t *doc;
    json_error_t jerr;
    const member *table;
    const char *key;
    json_t *v;
    size_t depth;

    memset(out, 0, sizeof(*out));
    report_clear(out);
    if (len > REPORT_MAX_BODY) {
        snprintf(reason, cap, "report of %zu bytes (at most %d)", len, REPORT_MAX_BODY);
        return -2;
    }
    if (len == 0) {
        snprintf(reason, cap, "empty body");
        return -1;
    }
    depth = json_depth(buf, len, REPORT_MAX_DEPTH);
    if (depth > REPORT_MAX_DEPTH) {
        snprintf(reason, cap, "JSON nested deeper than %d", REPORT_MAX_DEPTH);
        return -1;
    }
    doc = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        char text[JSON_ERROR_TEXT_LENGTH + 1];
        safe_copy(text, sizeof(text), jerr.text);
        snprintf(reason, cap, "not JSON: line %d, column %d: %s", jerr.line, jerr.column, text);
        return -1;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(reason, cap, "not a JSON object");
        return -1;
    }
    if (json_object_get(doc, "app-bundle-id") != NULL ||
        json_object_get(doc, "validation-result") != NULL) {
        out->format = REPORT_TRUSTKIT;
        table = trustkit_members;
    } else {
        out->format = REPORT_RFC7469;
        table = rfc7469_members;
    }
    json_object_foreach(doc, key, v)
    {
        const member *m = table;
        char why[200], name[64];
        while (m->name != NULL && strcmp(m->name, key) != 0) {
            m++;
        }
        safe_copy(name, sizeof(name), key);
        if (m->name == NULL) {
            snprintf(reason, cap, "%s report: unknown member \"%s\"",
                     report_format_name(out->format), name);
            goto bad;
        }
        if (parse_member(out, m, v, cache, why, sizeof(why)) != 0) {
            snprintf(reason, cap, "%s report: %s: %s", report_format_name(out->format), name, why);
            goto bad;
        }
    }
    out->date_local = out->format == REPORT_TRUSTKIT && strcmp(out->app_platform, "ANDROID") == 0;
    for (const member *m = table; m->name != NULL; m++) {
        if (m->required && json_object_get(doc, m->name) == NULL) {
            snprintf(reason, cap, "%s report: missing member \"%s\"",
                     report_format_name(out->format), m->name);
            goto bad;
        }
    }
    json_decref(doc);
    return 0;
bad:
    json_decref(doc);
    report_clear(out);
    return -1;
}

static void join(char *buf, size_t cap, const char *const *items, size_t n)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i > 0 ? " " : "", items[i]);
        if (w < 0 || (size_t)w >= cap - used) {
            return;
        }
        used += (size_t)w;
    }
}

void report_chain_pins(const report_chain *c, char *buf, size_t cap)
{
    const char *items[REPORT_MAX_CHAIN];

    for (size_t i = 0; i < c->count; i++) {
        items[i] = c->certs[i].pin;
    }
    join(buf, cap, items, c->count);
}

void report_known_pins(const report *r, char *buf, size_t cap)
{
    const char *items[REPORT_MAX_PINS];

    for (size_t i = 0; i < r->known_count; i++) {
        items[i] = r->known[i];
    }
    join(buf, cap, items, r->known_count);
}

static int cmp_pin(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* A chain's certificates as the hex SHA-256 of their DER, ' '-separated. */
static void chain_ders(const report_chain *c, char *buf, size_t cap)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->count && used + 66 <= cap; i++) {
        if (i > 0) {
            buf[used++] = ' ';
        }
        pinset__hex_encode(buf + used, c->certs[i].der_sha, 32);
        used += 64;
    }
}

int report_dedup_key(uint8_t out[32], const report *r, const char *class_name)
{
    char served[REPORT_MAX_CHAIN * REPORT_PIN_B64], validated[REPORT_MAX_CHAIN * REPORT_PIN_B64];
    char known[REPORT_MAX_PINS * REPORT_PIN_B64], port[16], result[16];
    char served_der[REPORT_MAX_CHAIN * 65], validated_der[REPORT_MAX_CHAIN * 65];
    char sorted[REPORT_MAX_PINS][REPORT_PIN_B64];
    const char *items[REPORT_MAX_PINS];
    const char *fields[12];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    report_chain_pins(&r->served, served, sizeof(served));
    report_chain_pins(&r->validated, validated, sizeof(validated));
    /* the known pins are a set: their order does not make another key */
    memcpy(sorted, r->known, r->known_count * REPORT_PIN_B64);
    qsort(sorted, r->known_count, REPORT_PIN_B64, cmp_pin);
    for (size_t i = 0; i < r->known_count; i++) {
        items[i] = sorted[i];
    }
    join(known, sizeof(known), items, r->known_count);
    /* the certificates themselves, not only their keys: the stored detail (names, validity) is
     * the first report's, so a report with other certificates over the same keys is another row */
    chain_ders(&r->served, served_der, sizeof(served_der));
    chain_ders(&r->validated, validated_der, sizeof(validated_der));
    snprintf(port, sizeof(port), "%u", r->port);
    snprintf(result, sizeof(result), "%d", r->validation_result);
    fields[0] = report_format_name(r->format);
    fields[1] = r->host;
    fields[2] = port;
    fields[3] = r->noted_host;
    fields[4] = class_name;
    fields[5] = served;
    fields[6] = validated;
    fields[7] = known;
    fields[8] = r->app_bundle_id;
    fields[9] = result;
    fields[10] = served_der;
    fields[11] = validated_der;
    pthread_once(&sha256_once, fetch_sha256);
    ok = ctx != NULL &&
         EVP_DigestInit_ex(ctx, sha256_md != NULL ? sha256_md : EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < 12; i++) {
        ok = EVP_DigestUpdate(ctx, fields[i], strlen(fields[i]) + 1) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}
