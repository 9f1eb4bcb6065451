/*
 * test_cli_serve.c - the collector's report parsers and classifier
 * (src/serve/report.c, classify.c), HTML escaping (web.c) and client
 * address truncation (server.c), on the check PKI of tests/data/pki.d/40-check.sh:
 * RFC 7469 and TrustKit reports accepted; every kind of refusal with its
 * reason; each class reached by the report that defines it.
 */
#define _POSIX_C_SOURCE 200809L

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <serve/classify.h>
#include <serve/report.h>
#include <serve/server.h>
#include <serve/web.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <pinset/pinset.h>

static char dir[512];
static char *leaf, *inter, *rogue_leaf, *rogue_root;
static char pin_int[64], pin_backup[64], pin_rogue[64];

static char *slurp(const char *name)
{
    char p[600];
    FILE *f;
    char *buf = calloc(1, 65536);
    size_t n;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "r");
    assert_non_null(f);
    n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void env_pin(const char *name, char *out)
{
    char *env = slurp("pins.env");
    char *p = strstr(env, name);
    assert_non_null(p);
    p += strlen(name) + 1;
    size_t n = strcspn(p, "\n");
    memcpy(out, p, n);
    out[n] = '\0';
    free(env);
}

static int setup(void **state)
{
    const char *td = getenv("PINSET_TESTDATA");
    (void)state;
    if (td == NULL) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s/check", td);
    leaf = slurp("leaf.crt.pem");
    inter = slurp("int.crt.pem");
    rogue_leaf = slurp("rogue-leaf.crt.pem");
    rogue_root = slurp("rogue-root.crt.pem");
    env_pin("PIN_INT", pin_int);
    env_pin("PIN_BACKUP", pin_backup);
    env_pin("PIN_ROGUE", pin_rogue);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(leaf);
    free(inter);
    free(rogue_leaf);
    free(rogue_root);
    return 0;
}

static json_t *hpkp(const char *pin)
{
    char t[128];
    snprintf(t, sizeof(t), "pin-sha256=\"%s\"", pin);
    return json_string(t);
}

static json_t *rfc_report(const char *host, const char *a, const char *b, const char *known,
                          int64_t when)
{
    char date[32];
    time_t t = (time_t)when;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *chain = json_pack("[s, s]", a, b);
    return json_pack("{s:s, s:s, s:i, s:n, s:b, s:s, s:O, s:o, s:[o]}", "date-time", date,
                     "hostname", host, "port", 443, "effective-expiration-date",
                     "include-subdomains", 0, "noted-hostname", host, "served-certificate-chain",
                     chain, "validated-certificate-chain", chain, "known-pins", hpkp(known));
}

/* Parse a JSON document; returns report_parse's value, reason in why. */
static int parse_json(report *r, json_t *doc, char *why)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    int rc = report_parse(r, (const uint8_t *)text, strlen(text), why, REPORT_REASON_MAX);
    free(text);
    json_decref(doc);
    return rc;
}

static int parse_text(report *r, const char *text, char *why)
{
    return report_parse(r, (const uint8_t *)text, strlen(text), why, REPORT_REASON_MAX);
}

static void rfc7469_report_parses(void **state)
{
    report *r = malloc(sizeof(*r));
    char why[REPORT_REASON_MAX];
    json_t *doc = rfc_report("Pass.Check.Test.", leaf, inter, pin_int, 1800000000);

    (void)state;
    json_object_set_new(doc, "pinset-verdict", json_string("FAIL"));
    json_object_set_new(doc, "pinset-rule", json_pack("{s:s, s:i}", "host", "x", "index", 0));
    assert_int_equal(parse_json(r, doc, why), 0);
    assert_int_equal(r->format, REPORT_RFC7469);
    assert_string_equal(r->host, "pass.check.test"); /* canonical */
    assert_int_equal(r->port, 443);
    assert_int_equal(r->served.count, 2);
    assert_int_equal(r->validated.count, 2);
    assert_string_equal(r->served.certs[1].pin, pin_int);
    assert_int_equal(r->known_count, 1);
    assert_string_equal(r->known[0], pin_int);
    assert_int_equal(r->date_time, 1800000000);
    assert_int_equal(r->expires, -1);
    assert_string_equal(r->pinset_verdict, "FAIL");
    report_clear(r);
    /* port 0: unknown, as libpinset writes it when the application did not say */
    doc = rfc_report("pass.check.test", leaf, inter, pin_int, 1800000000);
    json_object_set_new(doc, "port", json_integer(0));
    assert_int_equal(parse_json(r, doc, why), 0);
    assert_int_equal(r->port, 0);
    assert_non_null(strstr(r->served.certs[0].issuer, "CN="));
    report_clear(r);
    free(r);
}

static void trustkit_report_parses(void **state)
{
    report *r = malloc(sizeof(*r));
    char why[REPORT_REASON_MAX];
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:b, s:[s], s:[o], s:i, s:n}",
        "app-bundle-id", "com.example.app", "app-version", "1.2", "app-platform", "IOS",
        "app-platform-version", "17.0", "app-vendor-id", "ABC", "trustkit-version", "3.0.3",
        "date-time", "2027-01-01T00:00:00Z", "hostname", "api.example.com", "port", 443,
        "noted-hostname", "example.com", "include-subdomains", 1, "enforce-pinning", 0,
        "validated-certificate-chain", rogue_leaf, "known-pins", hpkp(pin_int), "validation-result",
        1, "known-pins-expiration-date");

    (void)state;
    assert_int_equal(parse_json(r, doc, why), 0);
    assert_int_equal(r->format, REPORT_TRUSTKIT);
    assert_string_equal(r->app_bundle_id, "com.example.app");
    assert_string_equal(r->trustkit_version, "3.0.3");
    assert_string_equal(r->noted_host, "example.com");
    assert_int_equal(r->validation_result, 1);
    assert_string_equal(report_trustkit_result_name(r->validation_result),
                        "failed-no-matching-pin");
    assert_int_equal(r->enforce_pinning, 0);
    assert_int_equal(r->include_subdomains, 1);
    assert_int_equal(r->served.count, 0);
    assert_int_equal(r->validated.count, 1);
    report_clear(r);
    free(r);
}

/* TrustKit-Android's PinningFailureReport also carries the served chain (TrustKit for iOS does
 * not): such a report is read, with both chains. */
static void trustkit_android_report_parses(void **state)
{
    report *r = malloc(sizeof(*r));
    char why[REPORT_REASON_MAX];
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:b, s:[s], s:[s, s], s:[o], s:i}",
        "app-bundle-id", "com.example.app", "app-version", "1.2", "app-platform", "ANDROID",
        "app-vendor-id", "ABC", "trustkit-version", "1.1.3", "date-time", "2027-01-01T00:00:00Z",
        "hostname", "api.example.com", "port", 443, "noted-hostname", "example.com",
        "include-subdomains", 1, "enforce-pinning", 1, "validated-certificate-chain", rogue_leaf,
        "served-certificate-chain", rogue_leaf, rogue_root, "known-pins", hpkp(pin_int),
        "validation-result", 1);

    (void)state;
    assert_int_equal(parse_json(r, doc, why), 0);
    assert_int_equal(r->format, REPORT_TRUSTKIT);
    assert_string_equal(r->app_platform, "ANDROID");
    assert_int_equal(r->served.count, 2);
    assert_int_equal(r->validated.count, 1);
    report_clear(r);
    free(r);
}

typedef struct refusal {
    const char *member; /* set to value ("-": delete) */
    const char *value;  /* JSON text */
    const char *reason; /* substring of the reason */
} refusal;

static void refusals_name_member_and_reason(void **state)
{
    static const refusal cases[] = {
        {"extra", "1", "unknown member \"extra\""},
        {"port", "-", "missing member \"port\""},
        {"port", "65536", "port: not an integer from 0 to 65535"},
        {"port", "-1", "port: not an integer from 0 to 65535"},
        {"port", "\"443\"", "port: not an integer"},
        {"hostname", "\"exa mple.com\"", "hostname: not a host name"},
        {"hostname", "\"<script>\"", "hostname: not a host name"},
        {"date-time", "\"yesterday\"", "date-time: not an RFC 3339 date-time"},
        {"known-pins", "[\"sha256/abc\"]", "known-pins: [0]: not a pin-sha256"},
        {"known-pins", "\"x\"", "known-pins: not an array"},
        {"served-certificate-chain", "[\"hello\"]", "[0]: not a PEM certificate"},
        {"served-certificate-chain",
         "[\"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"]",
         "[0]: certificate does not parse"},
        {"served-certificate-chain", "[1]", "[0]: not a string"},
        {"include-subdomains", "\"yes\"", "include-subdomains: not true or false"},
        {"pinset-verdict", "\"0123456789012345678901234567890123\"", "longer than 31 bytes"},
        {NULL, NULL, NULL},
    };
    report *r = malloc(sizeof(*r));
    char why[REPORT_REASON_MAX];

    (void)state;
    for (const refusal *c = cases; c->member != NULL; c++) {
        json_t *doc = rfc_report("a.example", leaf, inter, pin_int, 1800000000);
        if (strcmp(c->value, "-") == 0) {
            json_object_del(doc, c->member);
        } else {
            json_object_set_new(doc, c->member, json_loads(c->value, JSON_DECODE_ANY, NULL));
        }
        assert_int_equal(parse_json(r, doc, why), -1);
        if (strstr(why, c->reason) == NULL) {
            fail_msg("%s=%s: reason '%s', want '%s'", c->member, c->value, why, c->reason);
        }
        assert_int_equal(r->served.count, 0); /* nothing kept */
    }
    /* two certificates in one entry */
    {
        char *two = malloc(strlen(leaf) + strlen(inter) + 1);
        memcpy(two, leaf, strlen(leaf));
        memcpy(two + strlen(leaf), inter, strlen(inter) + 1);
        json_t *doc = rfc_report("a.example", two, inter, pin_int, 1800000000);
        assert_int_equal(parse_json(r, doc, why), -1);
        assert_non_null(strstr(why, "more than one certificate"));
        free(two);
    }
    /* TrustKit's own rules */
    assert_int_equal(parse_text(r, "{\"validation-result\": 9}", why), -1);
    assert_non_null(strstr(why, "trustkit report: validation-result: not a TrustKit validation"));
    assert_int_equal(parse_text(r, "{\"app-bundle-id\": \"x\"}", why), -1);
    assert_non_null(strstr(why, "trustkit report: missing member"));
    assert_int_equal(
        parse_text(r, "{\"app-bundle-id\": \"x\", \"effective-expiration-date\": null}", why), -1);
    assert_non_null(strstr(why, "unknown member \"effective-expiration-date\""));
    free(r);
}

static void bounds_and_syntax_refused(void **state)
{
    report *r = malloc(sizeof(*r));
    char why[REPORT_REASON_MAX];
    char *big = malloc(REPORT_MAX_BODY + 2);

    (void)state;
    memset(big, ' ', REPORT_MAX_BODY + 1);
    big[REPORT_MAX_BODY + 1] = '\0';
    assert_int_equal(parse_text(r, big, why), -2);
    assert_non_null(strstr(why, "at most 65536"));
    free(big);
    assert_int_equal(parse_text(r, "{\"a\":[[[[{}]]]]}", why), -1);
    assert_non_null(strstr(why, "nested deeper than 4"));
    /* brackets inside strings do not count */
    assert_int_equal(parse_text(r, "{\"x\":\"[[[[[[\"}", why), -1);
    assert_non_null(strstr(why, "unknown member"));
    assert_int_equal(parse_text(r, "[]", why), -1);
    assert_non_null(strstr(why, "not a JSON object"));
    assert_int_equal(parse_text(r, "{\"port\":1,\"port\":2}", why), -1);
    assert_non_null(strstr(why, "not JSON"));
    assert_int_equal(parse_text(r, "{", why), -1);
    assert_non_null(strstr(why, "not JSON: line 1"));
    assert_int_equal(report_parse(r, (const uint8_t *)"", 0, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "empty body"));
    assert_int_equal(report_parse(r, (const uint8_t *)"{\"a\":\"\0\"}", 9, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "not JSON"));
    free(r);
}

static report_class classify_json(json_t *doc, const pinset_policy *pol, X509_STORE *trust,
                                  int64_t now, char *why)
{
    report *r = malloc(sizeof(*r));
    report_class c;

    assert_int_equal(parse_json(r, doc, why), 0);
    c = classify_report(r, pol, trust, now, why, 256);
    report_clear(r);
    free(r);
    return c;
}

static void classes_as_defined(void **state)
{
    char p[600], why[REPORT_REASON_MAX];
    pinset_policy *pol = NULL;
    X509_STORE *trust = X509_STORE_new();
    int64_t now = (int64_t)time(NULL);

    (void)state;
    snprintf(p, sizeof(p), "%s/policies/check.json", dir);
    assert_int_equal(pinset_policy_load(&pol, p, NULL), PINSET_OK);
    snprintf(p, sizeof(p), "%s/root.crt.pem", dir);
    assert_int_equal(X509_STORE_load_file(trust, p), 1);

    /* a chain from the rogue root, pinned by nobody */
    assert_int_equal(
        classify_json(rfc_report("rogue.check.test", rogue_leaf, rogue_root, pin_int, now), pol,
                      trust, now, why),
        CLASS_INTERCEPTION);
    /* the genuine public chain for a rule that pins other keys */
    assert_int_equal(classify_json(rfc_report("expiring.check.test", leaf, inter, pin_backup, now),
                                   pol, trust, now, why),
                     CLASS_ROTATION_DRIFT);
    assert_non_null(strstr(why, "valid public chain"));
    /* the policy pins the intermediate, the client knows only the backup */
    assert_int_equal(classify_json(rfc_report("pass.check.test", leaf, inter, pin_backup, now), pol,
                                   trust, now, why),
                     CLASS_STALE_CLIENT);
    assert_non_null(strstr(why, pin_int));
    /* the client's clock a day ahead */
    assert_int_equal(
        classify_json(rfc_report("rogue.check.test", rogue_leaf, rogue_root, pin_int, now + 86400),
                      pol, trust, now, why),
        CLASS_CLOCK_SKEW);
    /* the client's clock before the leaf's notBefore (a year back) */
    assert_int_equal(
        classify_json(rfc_report("pass.check.test", leaf, inter, pin_int, now - 400 * 86400), pol,
                      trust, now, why),
        CLASS_CLOCK_SKEW);
    /* the chain holds the pinned key the client knows */
    assert_int_equal(classify_json(rfc_report("pass.check.test", leaf, inter, pin_int, now), pol,
                                   trust, now, why),
                     CLASS_UNCLASSIFIED);
    /* without a policy: the report's own known pins decide */
    assert_int_equal(classify_json(rfc_report("other.check.test", leaf, inter, pin_rogue, now),
                                   NULL, trust, now, why),
                     CLASS_ROTATION_DRIFT);
    /* without trust anchors nothing verifies */
    assert_int_equal(classify_json(rfc_report("unknown.test", leaf, inter, pin_rogue, now), NULL,
                                   NULL, now, why),
                     CLASS_INTERCEPTION);
    assert_string_equal(classify_name(CLASS_STALE_CLIENT), "stale-client");
    assert_int_equal(classify_from_name("rotation-drift"), CLASS_ROTATION_DRIFT);
    assert_int_equal(classify_from_name("nope"), CLASS_COUNT);
    pinset_policy_free(pol);
    X509_STORE_free(trust);
}

/* An interceptor's chain padded with the genuine (public) pinned intermediate, which did not
 * issue its leaf: the pin is not on the chain's path, so still interception. */
static void padded_chain_still_interception(void **state)
{
    char p[600], why[REPORT_REASON_MAX];
    pinset_policy *pol = NULL;
    X509_STORE *trust = X509_STORE_new();
    int64_t now = (int64_t)time(NULL);

    (void)state;
    snprintf(p, sizeof(p), "%s/policies/check.json", dir);
    assert_int_equal(pinset_policy_load(&pol, p, NULL), PINSET_OK);
    snprintf(p, sizeof(p), "%s/root.crt.pem", dir);
    assert_int_equal(X509_STORE_load_file(trust, p), 1);
    /* a current client (knows the intermediate's pin) */
    assert_int_equal(classify_json(rfc_report("pass.check.test", rogue_leaf, inter, pin_int, now),
                                   pol, trust, now, why),
                     CLASS_INTERCEPTION);
    /* an older client (knows only the backup): not "stale-client" */
    assert_int_equal(
        classify_json(rfc_report("pass.check.test", rogue_leaf, inter, pin_backup, now), pol, trust,
                      now, why),
        CLASS_INTERCEPTION);
    /* without a policy, the client's own pins */
    assert_int_equal(classify_json(rfc_report("unknown.test", rogue_leaf, inter, pin_int, now),
                                   NULL, trust, now, why),
                     CLASS_INTERCEPTION);
    /* the genuine chain holding the pinned key is still not interception */
    assert_int_equal(classify_json(rfc_report("pass.check.test", leaf, inter, pin_int, now), pol,
                                   trust, now, why),
                     CLASS_UNCLASSIFIED);
    pinset_policy_free(pol);
    X509_STORE_free(trust);
}

/* A self-signed certificate (PEM, malloc'd) whose subject is `prefix` ASCII letters, then OU
 * entries of two-byte UTF-8 characters: its RFC 2253 text is longer than REPORT_NAME_MAX. */
static char *long_utf8_subject_cert(int prefix)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIO *b = BIO_new(BIO_s_mem());
    char ou[200], *pem, *data;
    long n;

    assert_non_null(key);
    assert_non_null(x);
    for (int e = 0; e < 4; e++) {
        size_t k = 0;
        for (int i = 0; i < (e == 3 ? prefix : 0); i++) {
            ou[k++] = 'a';
        }
        for (int i = 0; i < 60; i++) {
            ou[k++] = (char)0xc3; /* U+00E9 */
            ou[k++] = (char)0xa9;
        }
        ou[k] = '\0';
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_UTF8,
                                                    (const unsigned char *)ou, -1, -1, 0),
                         1);
    }
    assert_int_equal(X509_set_version(x, 2), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    assert_int_equal(PEM_write_bio_X509(b, x), 1);
    n = BIO_get_mem_data(b, &data);
    pem = calloc(1, (size_t)n + 1);
    memcpy(pem, data, (size_t)n);
    BIO_free(b);
    X509_NAME_free(name);
    X509_free(x);
    EVP_PKEY_free(key);
    return pem;
}

/* A long subject is cut on a character boundary: the text stays UTF-8, so the certificate is not
 * dropped from the report's stored detail (JSON holds UTF-8 only). */
static void long_names_stay_utf8(void **state)
{
    report *r = malloc(sizeof(*r));
    char why[REPORT_REASON_MAX];

    (void)state;
    for (int prefix = 0; prefix < 4; prefix++) {
        char *pem = long_utf8_subject_cert(prefix);
        json_t *s;
        assert_int_equal(
            parse_json(r, rfc_report("a.example", pem, inter, pin_int, 1800000000), why), 0);
        assert_true(strlen(r->served.certs[0].subject) > REPORT_NAME_MAX - 8);
        s = json_string(r->served.certs[0].subject);
        assert_non_null(s);
        json_decref(s);
        s = json_string(r->served.certs[0].issuer);
        assert_non_null(s);
        json_decref(s);
        report_clear(r);
        free(pem);
    }
    free(r);
}

/* TrustKit-Android writes the device's local time with a literal 'Z'
 * (android.text.format.DateFormat has no offset letter): a client nine hours east of UTC is not
 * "clock-skew", so an interception it reports stays interception; TrustKit for iOS writes UTC, so
 * the same date is skew there. */
static void trustkit_android_local_time_not_skew(void **state)
{
    char p[600], why[REPORT_REASON_MAX], date[32];
    X509_STORE *trust = X509_STORE_new();
    int64_t now = (int64_t)time(NULL);
    time_t local = (time_t)(now + 9 * 3600);
    struct tm tm;

    (void)state;
    snprintf(p, sizeof(p), "%s/root.crt.pem", dir);
    assert_int_equal(X509_STORE_load_file(trust, p), 1);
    gmtime_r(&local, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (int android = 0; android < 2; android++) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:[s, s], s:[o], s:i}",
                                "app-bundle-id", "com.example.app", "app-version", "1.2",
                                "app-platform", android ? "ANDROID" : "IOS", "date-time", date,
                                "hostname", "rogue.check.test", "port", 443, "noted-hostname",
                                "rogue.check.test", "validated-certificate-chain", rogue_leaf,
                                rogue_root, "known-pins", hpkp(pin_int), "validation-result", 1);
        assert_int_equal(classify_json(doc, NULL, trust, now, why),
                         android ? CLASS_INTERCEPTION : CLASS_CLOCK_SKEW);
    }
    X509_STORE_free(trust);
}

/* A publicly valid chain for another name is no rotation (whose advice is to pin its key): it
 * does not verify for the report's host, so it is interception; and a verification cached for
 * one host is not reused for another. */
static void chain_for_another_name_is_interception(void **state)
{
    char p[600], why[REPORT_REASON_MAX];
    X509_STORE *trust = X509_STORE_new();
    classify_cache *vcache = classify_cache_new();
    int64_t now = (int64_t)time(NULL);
    report *r = malloc(sizeof(*r));

    (void)state;
    snprintf(p, sizeof(p), "%s/root.crt.pem", dir);
    assert_int_equal(X509_STORE_load_file(trust, p), 1);
    /* the leaf names check.test, *.check.test, localhost and 127.0.0.1, not other.test */
    assert_int_equal(
        classify_json(rfc_report("other.test", leaf, inter, pin_rogue, now), NULL, trust, now, why),
        CLASS_INTERCEPTION);
    assert_int_equal(
        classify_json(rfc_report("127.0.0.2", leaf, inter, pin_rogue, now), NULL, trust, now, why),
        CLASS_INTERCEPTION);
    assert_int_equal(
        classify_json(rfc_report("127.0.0.1", leaf, inter, pin_rogue, now), NULL, trust, now, why),
        CLASS_ROTATION_DRIFT);
    /* through the cache: first the name the chain is for, then another */
    assert_int_equal(parse_json(r, rfc_report("api.check.test", leaf, inter, pin_rogue, now), why),
                     0);
    assert_int_equal(classify_report_cached(r, NULL, trust, vcache, now, why, 256),
                     CLASS_ROTATION_DRIFT);
    report_clear(r);
    assert_int_equal(parse_json(r, rfc_report("other.test", leaf, inter, pin_rogue, now), why), 0);
    assert_int_equal(classify_report_cached(r, NULL, trust, vcache, now, why, 256),
                     CLASS_INTERCEPTION);
    report_clear(r);
    free(r);
    classify_cache_free(vcache);
    X509_STORE_free(trust);
}

static void dedup_key_covers_canonical_fields(void **state)
{
    report *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    char why[REPORT_REASON_MAX];
    uint8_t ka[32], kb[32];

    (void)state;
    assert_int_equal(parse_json(a, rfc_report("a.example", leaf, inter, pin_int, 1800000000), why),
                     0);
    /* another date-time and spelling of the host: the same key */
    assert_int_equal(parse_json(b, rfc_report("A.Example", leaf, inter, pin_int, 1800000500), why),
                     0);
    assert_int_equal(report_dedup_key(ka, a, "interception"), 0);
    assert_int_equal(report_dedup_key(kb, b, "interception"), 0);
    assert_memory_equal(ka, kb, 32);
    assert_int_equal(report_dedup_key(kb, b, "clock-skew"), 0);
    assert_memory_not_equal(ka, kb, 32);
    b->port = 8443;
    assert_int_equal(report_dedup_key(kb, b, "interception"), 0);
    assert_memory_not_equal(ka, kb, 32);
    report_clear(a);
    report_clear(b);
    free(a);
    free(b);
}

/* Two reports whose certificates differ but hold the same keys (a forged certificate needs no
 * valid signature to be reported) are two rows: the stored detail shows the first report's names.
 * The known pins are a set: their order makes no other key. */
static void dedup_key_covers_certificates(void **state)
{
    report *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    char why[REPORT_REASON_MAX];
    uint8_t ka[32], kb[32];
    BIO *bio = BIO_new_mem_buf(leaf, -1), *outb = BIO_new(BIO_s_mem());
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    EVP_PKEY *other = EVP_EC_gen("P-256");
    X509_NAME *name = X509_NAME_new();
    char *forged, *data;
    long n;
    json_t *doc;

    (void)state;
    assert_non_null(x);
    /* the leaf's key under a benign-looking name, signed by a key of nobody's */
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                                (const unsigned char *)"Benign CA", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, name), 1);
    assert_true(X509_sign(x, other, EVP_sha256()) > 0);
    assert_int_equal(PEM_write_bio_X509(outb, x), 1);
    n = BIO_get_mem_data(outb, &data);
    forged = calloc(1, (size_t)n + 1);
    memcpy(forged, data, (size_t)n);
    assert_int_equal(parse_json(a, rfc_report("a.example", leaf, inter, pin_int, 1800000000), why),
                     0);
    assert_int_equal(
        parse_json(b, rfc_report("a.example", forged, inter, pin_int, 1800000000), why), 0);
    assert_string_equal(a->served.certs[0].pin, b->served.certs[0].pin);
    assert_int_equal(report_dedup_key(ka, a, "interception"), 0);
    assert_int_equal(report_dedup_key(kb, b, "interception"), 0);
    assert_memory_not_equal(ka, kb, 32);
    report_clear(a);
    report_clear(b);
    /* two known pins, in either order */
    doc = rfc_report("a.example", leaf, inter, pin_int, 1800000000);
    json_object_set_new(doc, "known-pins", json_pack("[o, o]", hpkp(pin_int), hpkp(pin_backup)));
    assert_int_equal(parse_json(a, doc, why), 0);
    doc = rfc_report("a.example", leaf, inter, pin_int, 1800000000);
    json_object_set_new(doc, "known-pins", json_pack("[o, o]", hpkp(pin_backup), hpkp(pin_int)));
    assert_int_equal(parse_json(b, doc, why), 0);
    assert_int_equal(report_dedup_key(ka, a, "interception"), 0);
    assert_int_equal(report_dedup_key(kb, b, "interception"), 0);
    assert_memory_equal(ka, kb, 32);
    report_clear(a);
    report_clear(b);
    free(a);
    free(b);
    free(forged);
    X509_NAME_free(name);
    EVP_PKEY_free(other);
    X509_free(x);
    BIO_free(bio);
    BIO_free(outb);
}

static void caches_give_the_same_results(void **state)
{
    report *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    report_cache *cache = report_cache_new();
    classify_cache *vcache = classify_cache_new();
    X509_STORE *trust = X509_STORE_new();
    char why[REPORT_REASON_MAX], p[600], *text;
    unsigned long hits = 0, misses = 0;
    int64_t now = (int64_t)time(NULL);
    json_t *doc = rfc_report("rogue.check.test", rogue_leaf, rogue_root, pin_int, now);

    (void)state;
    snprintf(p, sizeof(p), "%s/root.crt.pem", dir);
    assert_int_equal(X509_STORE_load_file(trust, p), 1);
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_int_equal(report_parse(a, (const uint8_t *)text, strlen(text), why, sizeof(why)), 0);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(
            report_parse_cached(b, (const uint8_t *)text, strlen(text), cache, why, sizeof(why)),
            0);
        for (size_t i = 0; i < 2; i++) {
            assert_string_equal(a->served.certs[i].pin, b->served.certs[i].pin);
            assert_string_equal(a->served.certs[i].subject, b->served.certs[i].subject);
            assert_memory_equal(a->served.certs[i].der_sha, b->served.certs[i].der_sha, 32);
            assert_int_equal(a->served.certs[i].not_after, b->served.certs[i].not_after);
        }
        assert_int_equal(classify_report_cached(b, NULL, trust, vcache, now, why, 256),
                         classify_report(a, NULL, trust, now, why, 256));
        report_clear(b);
    }
    report_cache_stats(cache, &hits, &misses);
    /* two distinct certificates, each served and validated, three rounds: 2 misses, the rest hits
     */
    assert_int_equal(misses, 2);
    assert_int_equal(hits, 10);
    /* a hostile entry is refused the same way with a cache */
    json_t *bad = rfc_report("a.example", leaf, inter, pin_int, now);
    json_object_set_new(
        bad, "served-certificate-chain",
        json_pack("[s]", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
    char *bt = json_dumps(bad, JSON_COMPACT);
    json_decref(bad);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(
            report_parse_cached(b, (const uint8_t *)bt, strlen(bt), cache, why, sizeof(why)), -1);
        assert_non_null(strstr(why, "certificate does not parse"));
    }
    free(bt);
    free(text);
    report_clear(a);
    free(a);
    free(b);
    report_cache_free(cache);
    classify_cache_free(vcache);
    X509_STORE_free(trust);
}

static void html_escapes_everything(void **state)
{
    struct pinset__buf b;

    (void)state;
    pinset__buf_init(&b, 4096, 0);
    assert_int_equal(web_escape(&b, "<script>alert('x')</script>\"&\x01"), 0);
    assert_string_equal((const char *)b.p,
                        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;?");
    pinset__buf_free(&b);
    assert_non_null(strstr(web_csp(), "default-src 'none'"));
    assert_null(strstr(web_csp(), "unsafe-inline"));
}

static void client_addresses_truncated(void **state)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    char buf[64];

    (void)state;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    inet_pton(AF_INET, "203.0.113.77", &in.sin_addr);
    serve_truncate_addr((struct sockaddr *)&in, buf, sizeof(buf));
    assert_string_equal(buf, "203.0.113.0/24");
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8:abcd:12::1", &in6.sin6_addr);
    serve_truncate_addr((struct sockaddr *)&in6, buf, sizeof(buf));
    assert_string_equal(buf, "2001:db8:abcd::/48");
    inet_pton(AF_INET6, "::ffff:198.51.100.9", &in6.sin6_addr);
    serve_truncate_addr((struct sockaddr *)&in6, buf, sizeof(buf));
    assert_string_equal(buf, "198.51.100.0/24");
    serve_truncate_addr(NULL, buf, sizeof(buf));
    assert_string_equal(buf, "unknown");
}

static void listen_addresses_parse(void **state)
{
    struct sockaddr_storage ss;
    size_t len = 0;

    (void)state;
    assert_int_equal(serve_parse_listen("127.0.0.1:8080", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(serve_parse_listen("[::1]:0", &ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(serve_parse_listen(":443", &ss, &len), 0);
    assert_int_equal(serve_parse_listen("127.0.0.1", &ss, &len), -1);
    assert_int_equal(serve_parse_listen("127.0.0.1:65536", &ss, &len), -1);
    assert_int_equal(serve_parse_listen("127.0.0.1:-1", &ss, &len), -1);
    assert_int_equal(serve_parse_listen("localhost:80", &ss, &len), -1);
    assert_int_equal(serve_parse_listen("[::1:80", &ss, &len), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc7469_report_parses),
        cmocka_unit_test(trustkit_report_parses),
        cmocka_unit_test(trustkit_android_report_parses),
        cmocka_unit_test(refusals_name_member_and_reason),
        cmocka_unit_test(bounds_and_syntax_refused),
        cmocka_unit_test(classes_as_defined),
        cmocka_unit_test(padded_chain_still_interception),
        cmocka_unit_test(chain_for_another_name_is_interception),
        cmocka_unit_test(trustkit_android_local_time_not_skew),
        cmocka_unit_test(long_names_stay_utf8),
        cmocka_unit_test(dedup_key_covers_canonical_fields),
        cmocka_unit_test(dedup_key_covers_certificates),
        cmocka_unit_test(caches_give_the_same_results),
        cmocka_unit_test(html_escapes_everything),
        cmocka_unit_test(client_addresses_truncated),
        cmocka_unit_test(listen_addresses_parse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
