/*
 * test_formats.c - the conversion layer (pinset/convert.h): format names and
 * detection, the HPKP header and curl list importers against every case of
 * the browsers' and curl's own test data (tests/corpora/vectors), hostile
 * input, the exporters' fidelity lists, round trips native -> X -> native,
 * and allocation failures.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pinset/convert.h>
#include <pinset/formats.h>
#include <pinset/policy.h>

#include "formats_test.h"
#include "internal.h"

/* 2026-11-27T00:00:00Z: the import time that maps max-age to an expiry */
#define NOW     1795737600
#define CAP     5184000 /* 60 days: the browsers' max-age cap */
#define HOST    "example.com"
#define PIN_A   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN_E   "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA="
#define PIN_I   "IIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIA="
#define PIN_M   "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMA="
#define PIN_Q   "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQA="
#define HDR_MAX 16384

static pinset_err import_str(pinset_policy **p, pinset_fidelity **f, const char *text,
                             pinset_format fmt, const char *host, int64_t now, pinset_diag *d)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;

    o.host = host;
    o.now = now;
    return pinset_policy_import(p, f, (const uint8_t *)text, strlen(text), fmt, &o, d);
}

/* ---- names and detection ---- */

static void format_names_round_trip(void **state)
{
    (void)state;
    for (int f = PINSET_FORMAT_NATIVE; f <= PINSET_FORMAT_CURL; f++) {
        assert_int_equal(pinset_format_from_name(pinset_format_name((pinset_format)f)), f);
    }
    assert_int_equal(PINSET_FORMAT_NATIVE, 1);
    assert_int_equal(PINSET_FORMAT_HPKP, 2);
    assert_int_equal(PINSET_FORMAT_CURL, 3);
    assert_string_equal(pinset_format_name((pinset_format)99), "unknown");
    assert_int_equal(pinset_format_from_name("HPKP"), PINSET_FORMAT_HPKP);
    assert_int_equal(pinset_format_from_name("json"), PINSET_FORMAT_NATIVE);
    assert_int_equal(pinset_format_from_name("nosuch"), PINSET_FORMAT_UNKNOWN);
    /* the formats of libpinset-formats are named and numbered here too */
    assert_int_equal(PINSET_FORMAT_ANDROID, 9);
    assert_int_equal(PINSET_FORMAT_TRUSTKIT_PLIST, 10);
    assert_int_equal(PINSET_FORMAT_ATS, 11);
    assert_int_equal(PINSET_FORMAT_ENVOY, 12);
    for (int f = PINSET_FORMAT_NATIVE; f <= PINSET_FORMAT_ENVOY; f++) {
        assert_int_equal(pinset_format_from_name(pinset_format_name((pinset_format)f)), f);
    }
    assert_string_equal(pinset_format_name(PINSET_FORMAT_TRUSTKIT_PLIST), "trustkit-plist");
    assert_string_equal(pinset_format_name((pinset_format)13), "unknown");
    assert_int_equal(pinset_format_from_name(NULL), PINSET_FORMAT_UNKNOWN);
}

static pinset_format detect(const char *text, const char *name)
{
    return pinset_format_detect((const uint8_t *)text, strlen(text), name);
}

static void detection_by_content_then_name(void **state)
{
    (void)state;
    assert_int_equal(detect("  {\"version\": 1}", "x.hpkp"), PINSET_FORMAT_NATIVE);
    assert_int_equal(detect("sha256//" PIN_A, NULL), PINSET_FORMAT_CURL);
    assert_int_equal(detect("Public-Key-Pins: max-age=1", "p.json"), PINSET_FORMAT_HPKP);
    assert_int_equal(detect("public-key-pins-report-only: x", NULL), PINSET_FORMAT_HPKP);
    assert_int_equal(detect("max-age=3; pin-sha256=\"" PIN_A "\"", NULL), PINSET_FORMAT_HPKP);
    assert_int_equal(detect("includeSubDomains; pin-sha256=\"x\"", NULL), PINSET_FORMAT_HPKP);
    assert_int_equal(detect("includeSubDomains; MAX-AGE=0", NULL), PINSET_FORMAT_HPKP);
    /* content says nothing: the extension breaks the tie */
    assert_int_equal(detect("garbage", "a.curl"), PINSET_FORMAT_CURL);
    assert_int_equal(detect("garbage", "dir.json/a"), PINSET_FORMAT_UNKNOWN);
    assert_int_equal(detect("garbage", NULL), PINSET_FORMAT_UNKNOWN);
    assert_int_equal(pinset_format_detect(NULL, 0, "p.hpkp"), PINSET_FORMAT_HPKP);
    /* markup: Android's XML, property lists (TrustKit's when TSKConfiguration occurs, else ATS) */
    assert_int_equal(detect("<?xml version=\"1.0\"?>\n<network-security-config>", "a.plist"),
                     PINSET_FORMAT_ANDROID);
    assert_int_equal(detect("\xEF\xBB\xBF <trustkit-config/>", NULL), PINSET_FORMAT_ANDROID);
    assert_int_equal(
        detect("<?xml version=\"1.0\"?><plist><dict><key>TSKConfiguration</key>", NULL),
        PINSET_FORMAT_TRUSTKIT_PLIST);
    assert_int_equal(detect("<!DOCTYPE plist><plist><dict><key>NSAppTransportSecurity</key>", NULL),
                     PINSET_FORMAT_ATS);
    assert_int_equal(detect("bplist00\x01\x02TSKConfiguration", "x.xml"),
                     PINSET_FORMAT_TRUSTKIT_PLIST);
    assert_int_equal(detect("bplist00\x01\x02", "x.xml"), PINSET_FORMAT_ATS);
    assert_int_equal(detect("<html>", "n.xml"), PINSET_FORMAT_ANDROID);
    assert_int_equal(detect("<html>", NULL), PINSET_FORMAT_UNKNOWN);
    assert_int_equal(detect("garbage", "e.yaml"), PINSET_FORMAT_ENVOY);
    assert_int_equal(detect("garbage", "e.YML"), PINSET_FORMAT_ENVOY);
    assert_int_equal(detect("garbage", "Info.plist"), PINSET_FORMAT_ATS);
}

/* A TSKConfiguration key beyond the first 4096 octets of a property list still decides. */
static void detection_plist_key_late(void **state)
{
    static const char head[] = "<?xml version=\"1.0\"?><plist><dict>";
    static const char key[] = "<key>TSKConfiguration</key>";
    size_t n = 8192 + sizeof(head) + sizeof(key);
    char *s = malloc(n);

    (void)state;
    assert_non_null(s);
    memset(s, ' ', n);
    memcpy(s, head, sizeof(head) - 1);
    memcpy(s + 8192, key, sizeof(key) - 1);
    assert_int_equal(pinset_format_detect((const uint8_t *)s, n, NULL),
                     PINSET_FORMAT_TRUSTKIT_PLIST);
    memset(s + 8192, ' ', sizeof(key) - 1);
    assert_int_equal(pinset_format_detect((const uint8_t *)s, n, NULL), PINSET_FORMAT_ATS);
    free(s);
}

/* libpinset names the markup formats but converts none: it says which library does. */
static void markup_formats_belong_to_libpinset_formats(void **state)
{
    static const char doc[] = "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                              "\"pins\": [\"" PIN_A "\", \"" PIN_E "\"]}]}";
    pinset_policy *p = NULL;
    pinset_policy *q = (pinset_policy *)1;
    pinset_fidelity *f = (pinset_fidelity *)1;
    pinset_diag d = PINSET_DIAG_INIT;
    static struct sbuf s;

    (void)state;
    assert_int_equal(pinset_policy_parse(&p, (const uint8_t *)doc, strlen(doc), NULL), PINSET_OK);
    for (int fmt = PINSET_FORMAT_ANDROID; fmt <= PINSET_FORMAT_ENVOY; fmt++) {
        s.n = 0;
        assert_int_equal(
            pinset_policy_import(&q, &f, (const uint8_t *)"<x/>", 4, (pinset_format)fmt, NULL, &d),
            PINSET_E_UNSUPPORTED);
        assert_null(q);
        assert_null(f);
        assert_non_null(strstr(d.message, "libpinset-formats"));
        d = (pinset_diag)PINSET_DIAG_INIT;
        assert_int_equal(pinset_policy_export(&f, p, (pinset_format)fmt, NULL, sink, &s, &d),
                         PINSET_E_UNSUPPORTED);
        assert_int_equal(s.n, 0);
        assert_non_null(strstr(d.message, "pinset_formats_export"));
        d = (pinset_diag)PINSET_DIAG_INIT;
    }
    assert_int_equal(pinset_policy_export(NULL, p, (pinset_format)13, NULL, sink, &s, NULL),
                     PINSET_E_INVALID_ARG);
    pinset_policy_free(p);
}

/* The public fidelity constructors: what converters outside libpinset use. */
static void fidelity_built_from_outside(void **state)
{
    pinset_fidelity *f = NULL;
    char long_reason[600];

    (void)state;
    assert_int_equal(pinset_fidelity_new(NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_fidelity_new(&f), PINSET_OK);
    assert_int_equal(pinset_fidelity_count(f), 0);
    assert_int_equal(pinset_fidelity_add(f, 3, "a.example", "expires", "no expiry here"),
                     PINSET_OK);
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    assert_int_equal(pinset_fidelity_add(f, SIZE_MAX, NULL, "mode", long_reason), PINSET_OK);
    assert_int_equal(pinset_fidelity_add(f, 0, NULL, NULL, "x"), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_fidelity_add(f, 0, NULL, "x", NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_fidelity_add(NULL, 0, NULL, "x", "y"), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_fidelity_count(f), 2);
    assert_int_equal(pinset_fidelity_rule(f, 0), 3);
    assert_string_equal(pinset_fidelity_host(f, 0), "a.example");
    assert_string_equal(pinset_fidelity_field(f, 0), "expires");
    assert_string_equal(pinset_fidelity_reason(f, 0), "no expiry here");
    assert_int_equal(pinset_fidelity_rule(f, 1), SIZE_MAX);
    assert_null(pinset_fidelity_host(f, 1));
    assert_int_equal(strlen(pinset_fidelity_reason(f, 1)), PINSET_DIAG_MESSAGE_MAX - 1);
    pinset_fidelity_free(f);
}

/* libpinset-formats passes libpinset's own formats on, with the same results. */
static void formats_library_passes_the_rest_on(void **state)
{
    static const char list[] = "sha256//" PIN_A ";sha256//" PIN_E;
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    static struct sbuf s;

    (void)state;
    s.n = 0;
    o.host = "example.com";
    assert_int_equal(pinset_formats_import(&p, &f, (const uint8_t *)list, strlen(list),
                                           PINSET_FORMAT_CURL, &o, &d),
                     PINSET_OK);
    assert_int_equal(pinset_policy_rule_count(p), 1);
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 0)), "example.com");
    pinset_fidelity_free(f);
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_CURL, &o, sink, &s, &d), PINSET_OK);
    assert_non_null(strstr(s.b, "sha256//" PIN_A));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    /* and refuses what none converts, as libpinset does */
    assert_int_equal(
        pinset_formats_import(&p, NULL, (const uint8_t *)"x", 1, PINSET_FORMAT_UNKNOWN, NULL, &d),
        PINSET_E_INVALID_ARG);
    assert_int_equal(
        pinset_formats_import(&p, NULL, (const uint8_t *)"x", 1, PINSET_FORMAT_ENVOY, NULL, &d),
        PINSET_E_UNSUPPORTED);
    assert_null(p);
}

/* ---- HPKP: the corpus ---- */

struct hpkp_expect {
    int has_max_age;
    long long max_age; /* as the model keeps it: expires - NOW, clamped at CAP */
    int subdomains;    /* -1: not said */
    long pins;         /* -1: not said */
    const char *report_uri;
    int report_only;
};

/* Import one header for HOST at NOW and check what the corpus expects. */
static void check_accept(const char *header, const struct hpkp_expect *e, const char *what)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    const pinset_rule *r;
    pinset_err err = import_str(&p, &f, header, PINSET_FORMAT_HPKP, HOST, NOW, &d);

    if (err != PINSET_OK) {
        fail_msg("%s: refused '%s': %s", what, header, d.message);
    }
    if (e->has_max_age && e->max_age == 0 && !e->report_only) {
        /* max-age=0: forget the host's pins; the host is not pinned, and the list says so */
        assert_int_equal(pinset_policy_rule_count(p), 0);
        assert_true(formats_find_loss(f, "max_age") >= 0);
        pinset_fidelity_free(f);
        pinset_policy_free(p);
        return;
    }
    assert_int_equal(pinset_policy_rule_count(p), 1);
    r = pinset_policy_rule(p, 0);
    assert_string_equal(pinset_rule_host(r), HOST);
    if (e->has_max_age && !e->report_only) {
        assert_false(pinset_rule_is_exclusion(r));
        assert_int_equal(pinset_rule_expires(r) - NOW, e->max_age);
        assert_int_equal(pinset_rule_on_expiry(r), PINSET_ON_EXPIRY_FAIL_OPEN);
        /* a capped max-age is said, an uncapped one is not */
        assert_int_equal(formats_find_loss(f, "max_age") >= 0, e->max_age == CAP);
    }
    if (e->subdomains >= 0) {
        assert_int_equal(pinset_rule_include_subdomains(r), e->subdomains);
    }
    if (e->pins >= 0) {
        assert_int_equal(pinset_rule_pin_count(r), (size_t)e->pins);
    }
    if (e->report_uri != NULL) {
        assert_int_equal(pinset_rule_report_uri_count(r), 1);
        assert_string_equal(pinset_rule_report_uri(r, 0), e->report_uri);
    }
    assert_int_equal(pinset_rule_mode(r),
                     e->report_only ? PINSET_MODE_REPORT : PINSET_MODE_ENFORCE);
    for (size_t i = 0; i < pinset_rule_pin_count(r); i++) {
        assert_int_equal(pinset_rule_pin_role(r, i), PINSET_ROLE_ANY);
        assert_int_equal(pinset_rule_pin(r, i)->kind, PINSET_PIN_SPKI);
    }
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static void check_reject(const char *header, const char *what)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = import_str(&p, &f, header, PINSET_FORMAT_HPKP, HOST, NOW, &d);

    if (err == PINSET_OK) {
        fail_msg("%s: accepted '%s'", what, header);
    }
    assert_int_equal(err, PINSET_E_PARSE);
    assert_int_equal(d.code, err);
    assert_true(d.message[0] != '\0');
    assert_null(p);
    assert_null(f);
}

static long long clamp(long long v)
{
    return v > CAP ? CAP : v;
}

/* "min(39408299, 5184000)=5184000 (60-day cap)" or a number. */
static long long expected_age(const json_t *v)
{
    const char *s, *eq;

    if (json_is_integer(v)) {
        return clamp((long long)json_integer_value(v));
    }
    s = json_string_value(v);
    assert_non_null(s);
    eq = strrchr(s, '=');
    assert_non_null(eq);
    return strtoll(eq + 1, NULL, 10);
}

static void expect_from_json(const json_t *ex, struct hpkp_expect *e)
{
    const json_t *v;

    memset(e, 0, sizeof(*e));
    e->subdomains = -1;
    e->pins = -1;
    if ((v = json_object_get(ex, "max_age")) != NULL) {
        e->has_max_age = 1;
        e->max_age = expected_age(v);
    }
    if ((v = json_object_get(ex, "include_subdomains")) != NULL) {
        e->subdomains = json_is_true(v);
    }
    if ((v = json_object_get(ex, "pins")) != NULL) {
        e->pins = (long)json_integer_value(v);
    }
    if ((v = json_object_get(ex, "report_uri")) != NULL) {
        e->report_uri = json_string_value(v);
    }
    e->report_only = json_is_true(json_object_get(ex, "report_only"));
}

static void rfc7469_examples_all_accepted(void **state)
{
    json_t *v = load_vectors("hpkp-headers.json");
    const json_t *cases = json_object_get(v, "rfc7469_examples");
    char header[HDR_MAX];
    size_t i;
    json_t *c;

    (void)state;
    assert_int_equal(json_array_size(cases), 6);
    json_array_foreach(cases, i, c)
    {
        struct hpkp_expect e;
        const char *name = json_string_value(json_object_get(c, "header"));
        expect_from_json(json_object_get(c, "expect"), &e);
        e.report_only = strcmp(name, "Public-Key-Pins-Report-Only") == 0;
        /* with the header name, as a server sends it */
        (void)snprintf(header, sizeof(header), "%s: %s", name,
                       json_string_value(json_object_get(c, "value")));
        check_accept(header, &e, "rfc7469_examples");
    }
    json_decref(v);
}

/*
 * Chromium's accepted headers that pinset refuses on purpose, and why
 * (docs/formats.md, "HPKP: where the browsers disagree"). Chromium's parser
 * took single quotes as quoting; RFC 7469 section 2.1 values are tokens or
 * double-quoted strings (RFC 7230 section 3.2.6), and "'" is a token
 * character, so Firefox's parser and pinset read '999' as a malformed
 * max-age and 'http://...' as an unquoted report-uri.
 */
static const struct {
    size_t index;
    const char *why;
} chromium_not_followed[] = {
    {12, "max-age='999': single quotes are not quoting (RFC 7230 section 3.2.6); Firefox agrees"},
    {13, "report-uri='...': single quotes are not quoting; report-uri must be a quoted-string"},
    {14, "report-uri='...': single quotes are not quoting (the report-only part is followed: "
         "see the double-quoted twin below)"},
};

static const char *chromium_deviation(size_t index)
{
    for (size_t k = 0; k < sizeof(chromium_not_followed) / sizeof(chromium_not_followed[0]); k++) {
        if (chromium_not_followed[k].index == index) {
            return chromium_not_followed[k].why;
        }
    }
    return NULL;
}

static void chromium_cases(void **state)
{
    json_t *v = load_vectors("hpkp-headers.json");
    const json_t *chr = json_object_get(v, "chromium");
    const json_t *rej = json_object_get(chr, "reject"), *acc = json_object_get(chr, "accept");
    char header[HDR_MAX];
    size_t i, followed = 0, deviations = 0;
    json_t *c;

    (void)state;
    assert_int_equal(json_array_size(rej), 37);
    assert_int_equal(json_array_size(acc), 15);
    json_array_foreach(rej, i, c)
    {
        check_reject(json_string_value(c), "chromium reject");
        followed++;
    }
    json_array_foreach(acc, i, c)
    {
        struct hpkp_expect e;
        const char *name = json_string_value(json_object_get(c, "header"));
        expect_from_json(json_object_get(c, "expect"), &e);
        e.report_only = name != NULL && strcmp(name, "Public-Key-Pins-Report-Only") == 0;
        (void)snprintf(header, sizeof(header), "%s: %s", name != NULL ? name : "Public-Key-Pins",
                       json_string_value(json_object_get(c, "value")));
        if (chromium_deviation(i) != NULL) {
            print_message("chromium accept[%zu] not followed: %s\n", i, chromium_deviation(i));
            check_reject(header, "chromium accept (not followed)");
            deviations++;
            continue;
        }
        check_accept(header, &e, "chromium accept");
        followed++;
    }
    /* the point of accept[14], double-quoted: a report-only header needs no max-age */
    {
        struct hpkp_expect e = {0, 0, 0, 2, "http://foo.com", 1};
        check_accept("Public-Key-Pins-Report-Only: pin-sha256=\"" PIN_A "\"; pin-sha256=\"" PIN_E
                     "\"; report-uri=\"http://foo.com\"",
                     &e, "chromium accept[14], double-quoted");
    }
    assert_int_equal(followed, 49);
    assert_int_equal(deviations, 3);
    json_decref(v);
}

static void firefox_cases(void **state)
{
    json_t *v = load_vectors("hpkp-headers.json");
    const json_t *ff = json_object_get(v, "firefox");
    const json_t *rej = json_object_get(ff, "reject"), *acc = json_object_get(ff, "accept");
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    size_t i, n = 0;
    json_t *c;

    (void)state;
    assert_int_equal(json_array_size(rej), 14);
    assert_int_equal(json_array_size(acc), 12);
    json_array_foreach(rej, i, c)
    {
        check_reject(json_string_value(c), "firefox reject");
        n++;
    }
    json_array_foreach(acc, i, c)
    {
        const char *value = json_string_value(json_object_get(c, "value"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        struct hpkp_expect e = {1, 0, -1, -1, NULL, 0};
        if (strncmp(expect, "remove", 6) == 0) {
            e.max_age = 0;
        } else if (strstr(expect, "clamped to pref max 100000") != NULL) {
            /*
             * Firefox's test sets security.cert_pinning.max_max_age_seconds to
             * 100000; the pref's default, like Chromium's cap, is 60 days, and
             * pinset caps at 60 days: 200000 stays 200000.
             */
            e.max_age = 200000;
            print_message("firefox accept[%zu]: accepted; max-age capped at 60 days (the pref's "
                          "default), not the test's 100000\n",
                          i);
        } else {
            e.max_age = 69403;
            e.pins = 2;
        }
        check_accept(value, &e, "firefox accept");
        n++;
    }
    assert_int_equal(n, 26);
    /* non-canonical base64 (unused bits set) as Firefox accepts: stored canonical, and said */
    assert_int_equal(
        import_str(&p, &f,
                   "max-age=69403;pin-sha256=\"VCIlmPM9NkgFQtrs4Oa5TeFcDu6MWRTKSNdePEh"
                   "OgD8=\";pin-sha256=\"ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ=\";",
                   PINSET_FORMAT_HPKP, HOST, NOW, NULL),
        PINSET_OK);
    {
        char b64[PINSET_PIN_STR_MAX];
        const pinset_rule *r = pinset_policy_rule(p, 0);
        assert_int_equal(
            pinset_pin_format(b64, sizeof(b64), pinset_rule_pin(r, 1), PINSET_PIN_FMT_BASE64),
            PINSET_OK);
        assert_string_equal(b64, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZY=");
        assert_true(formats_find_loss(f, "pins[1]") >= 0);
        assert_non_null(strstr(pinset_fidelity_reason(f, (size_t)formats_find_loss(f, "pins[1]")),
                               "non-canonical"));
    }
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    json_decref(v);
}

/* ---- HPKP: grammar and hostile input ---- */

static void expect_error(const char *text, pinset_format fmt, pinset_err want, const char *msg,
                         size_t offset)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = import_str(&p, &f, text, fmt, HOST, NOW, &d);

    if (err != want) {
        fail_msg("'%.80s': got %s (%s), want %s", text, pinset_err_name(err), d.message,
                 pinset_err_name(want));
    }
    assert_null(p);
    assert_null(f);
    if (strstr(d.message, msg) == NULL) {
        fail_msg("'%.80s': message '%s' lacks '%s'", text, d.message, msg);
    }
    assert_null(strchr(d.message, '\n'));
    if (offset != SIZE_MAX) {
        assert_int_equal(d.has_offset, 1);
        assert_int_equal(d.offset, offset);
    }
}

#define TWO_PINS "pin-sha256=\"" PIN_A "\"; pin-sha256=\"" PIN_E "\""

static void hpkp_hostile_input(void **state)
{
    char big[9000];

    (void)state;
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "max-age=1; " TWO_PINS, strlen("max-age=1; " TWO_PINS));
    expect_error(big, PINSET_FORMAT_HPKP, PINSET_E_LIMIT, "at most 8192 octets", 8192);
    expect_error("max-age=1; " TWO_PINS "\r\nSet-Cookie: a=b", PINSET_FORMAT_HPKP, PINSET_E_PARSE,
                 "CR or LF", 11 + strlen(TWO_PINS));
    expect_error("max-age=1;\n" TWO_PINS, PINSET_FORMAT_HPKP, PINSET_E_PARSE, "CR or LF", 10);
    expect_error("max-age=1; pin-sha256=" PIN_A "; pin-sha256=\"" PIN_E "\"", PINSET_FORMAT_HPKP,
                 PINSET_E_PARSE, "pin-sha256 wants a quoted string", 11);
    expect_error("max-age=1; max-age=2; " TWO_PINS, PINSET_FORMAT_HPKP, PINSET_E_PARSE,
                 "duplicate directive 'max-age'", 11);
    expect_error("max-age=1; includeSubDomains; INCLUDESUBDOMAINS; " TWO_PINS, PINSET_FORMAT_HPKP,
                 PINSET_E_PARSE, "duplicate directive", 30);
    expect_error("max-age=1; " TWO_PINS "; report-uri=\"https://a.example/\"; "
                 "report-uri=\"https://a.example/\"",
                 PINSET_FORMAT_HPKP, PINSET_E_PARSE, "duplicate directive 'report-uri'", SIZE_MAX);
    expect_error("max-age=1; pin-sha256=\"" PIN_A "\"; pin-sha256=\"" PIN_A "\"",
                 PINSET_FORMAT_HPKP, PINSET_E_PARSE, "backup pin", 0);
    expect_error(TWO_PINS, PINSET_FORMAT_HPKP, PINSET_E_PARSE, "missing max-age", 0);
    expect_error("max-age=1", PINSET_FORMAT_HPKP, PINSET_E_PARSE, "no pin-sha256", 0);
    expect_error("Strict-Transport-Security: max-age=1", PINSET_FORMAT_HPKP, PINSET_E_PARSE,
                 "not an HPKP header", 0);
    expect_error("max-age=1; report-uri=\"https://a.example/\x01\"; " TWO_PINS, PINSET_FORMAT_HPKP,
                 PINSET_E_PARSE, "control character", SIZE_MAX);
    expect_error("max-age=1; report-uri=\"ftp://a.example/\"; " TWO_PINS, PINSET_FORMAT_HPKP,
                 PINSET_E_PARSE, "report-uri is not an http(s) uri", 22);
    expect_error("max-age=1; pin-sha256=\"" PIN_A "\"; pin-sha1=\"x\"; pin-sha256=\"AAAA\"",
                 PINSET_FORMAT_HPKP, PINSET_E_PARSE, "not the base64", SIZE_MAX);
    expect_error("max-age=1; includeSubDomains=yes; " TWO_PINS, PINSET_FORMAT_HPKP, PINSET_E_PARSE,
                 "takes no value", 11);
    {
        /* NUL inside: refused, never read as the end of the header */
        static const char nul[] = "max-age=1; \0" TWO_PINS;
        pinset_policy *p = NULL;
        pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
        pinset_diag d = PINSET_DIAG_INIT;
        o.host = HOST;
        assert_int_equal(pinset_policy_import(&p, NULL, (const uint8_t *)nul, sizeof(nul) - 1,
                                              PINSET_FORMAT_HPKP, &o, &d),
                         PINSET_E_PARSE);
        assert_int_equal(d.offset, 11);
        /* no host: an API misuse, not an input error */
        o.host = NULL;
        assert_int_equal(pinset_policy_import(&p, NULL, (const uint8_t *)"max-age=1", 9,
                                              PINSET_FORMAT_HPKP, &o, &d),
                         PINSET_E_INVALID_ARG);
        assert_int_equal(pinset_policy_import(&p, NULL, (const uint8_t *)"x", 1,
                                              PINSET_FORMAT_UNKNOWN, NULL, NULL),
                         PINSET_E_INVALID_ARG);
        /* a time past 9999 could overflow now + max-age: refused */
        o.host = HOST;
        o.now = INT64_MAX;
        assert_int_equal(pinset_policy_import(&p, NULL, (const uint8_t *)TWO_PINS "; max-age=1",
                                              strlen(TWO_PINS "; max-age=1"), PINSET_FORMAT_HPKP,
                                              &o, &d),
                         PINSET_E_INVALID_ARG);
    }
}

static void hpkp_fidelity_on_import(void **state)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    const pinset_rule *r;

    (void)state;
    /* without a time, max-age cannot become an expiry: it is listed as lost */
    assert_int_equal(import_str(&p, &f, "Public-Key-Pins: max-age=600; " TWO_PINS "; fancy=1\r\n",
                                PINSET_FORMAT_HPKP, HOST, 0, NULL),
                     PINSET_OK);
    r = pinset_policy_rule(p, 0);
    assert_int_equal(pinset_rule_expires(r), 0);
    assert_int_equal(pinset_fidelity_count(f), 2);
    assert_int_equal(pinset_fidelity_rule(f, 0), 0);
    assert_string_equal(pinset_fidelity_host(f, 0), HOST);
    assert_string_equal(pinset_fidelity_field(f, 0), "directive");
    assert_non_null(strstr(pinset_fidelity_reason(f, 0), "'fancy'"));
    assert_string_equal(pinset_fidelity_field(f, 1), "max_age");
    assert_non_null(strstr(pinset_fidelity_reason(f, 1), "max-age=600"));
    assert_int_equal(pinset_rule_min_pins(r), 2);
    /* out of range and NULL */
    assert_int_equal(pinset_fidelity_rule(f, 2), SIZE_MAX);
    assert_null(pinset_fidelity_reason(f, 2));
    assert_null(pinset_fidelity_field(NULL, 0));
    assert_int_equal(pinset_fidelity_count(NULL), 0);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    pinset_fidelity_free(NULL);
}

/* ---- curl: the corpus and curl's splitting ---- */

static void curl_corpus_cases(void **state)
{
    json_t *v = load_vectors("curl-pinnedpubkey.json");
    const json_t *cases = json_object_get(v, "cases");
    size_t i, accepted = 0, refused = 0, restated = 0;
    json_t *c;

    (void)state;
    assert_int_equal(json_array_size(cases), 10);
    json_array_foreach(cases, i, c)
    {
        const char *args = json_string_value(json_object_get(c, "args"));
        const char *at = args != NULL ? strstr(args, "--pinnedpubkey ") : NULL;
        char value[256];
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err;
        size_t k = 0;

        if (at == NULL) {
            restated++; /* 2033/2079/2087: Schannel variants of 2034/2037/2041 */
            continue;
        }
        at += strlen("--pinnedpubkey ");
        while (at[k] != '\0' && at[k] != ' ' && k < sizeof(value) - 1) {
            value[k] = at[k];
            k++;
        }
        value[k] = '\0';
        if (strchr(value, '<') != NULL) {
            /* "sha256//<base64 sha256 of the key>": the key is generated at curl's build time */
            (void)snprintf(value, sizeof(value), "sha256//" PIN_M);
        }
        err = import_str(&p, NULL, value, PINSET_FORMAT_CURL, HOST, 0, &d);
        if (strncmp(value, "sha256//", 8) == 0 && strlen(value) == 52) {
            /* a well-formed hash: a pin (whether it matches is the verdict's business) */
            assert_int_equal(err, PINSET_OK);
            assert_int_equal(pinset_rule_pin_role(pinset_policy_rule(p, 0), 0), PINSET_ROLE_LEAF);
            accepted++;
        } else if (strncmp(value, "sha256//", 8) == 0) {
            /* test_17_19 "sha256//ffff": curl never matches it, so pinset refuses it */
            assert_int_equal(err, PINSET_E_PARSE);
            assert_non_null(strstr(d.message, "never matches"));
            refused++;
        } else {
            /* a key file: curl's file form, not a list; the list importer refuses it */
            assert_int_equal(err, PINSET_E_PARSE);
            assert_non_null(strstr(d.message, "file name"));
            refused++;
        }
        pinset_policy_free(p);
    }
    assert_int_equal(accepted, 3);
    assert_int_equal(refused, 6);
    assert_int_equal(restated, 1);
    json_decref(v);
}

static void curl_whitespace_and_splitting(void **state)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    const pinset_rule *r;

    (void)state;
    /* what curl never matches, pinset does not accept (curl splits at ";sha256//" only) */
    expect_error("sha256//" PIN_A "; sha256//" PIN_E, PINSET_FORMAT_CURL, PINSET_E_PARSE,
                 "';' not followed by 'sha256//'", 52);
    expect_error("sha256//" PIN_A ";  sha256//" PIN_E, PINSET_FORMAT_CURL, PINSET_E_PARSE,
                 "never matches", 52);
    expect_error("sha256//" PIN_A " ", PINSET_FORMAT_CURL, PINSET_E_PARSE, "whitespace", 52);
    expect_error(" sha256//" PIN_A, PINSET_FORMAT_CURL, PINSET_E_PARSE, "file name", 0);
    expect_error("sha256// " PIN_A, PINSET_FORMAT_CURL, PINSET_E_PARSE, "whitespace", 8);
    expect_error("sha256//" PIN_A "\r\n", PINSET_FORMAT_CURL, PINSET_E_PARSE, "whitespace", 52);
    expect_error("sha256//" PIN_A ";;sha256//" PIN_E, PINSET_FORMAT_CURL, PINSET_E_PARSE, "';'",
                 52);
    expect_error("sha256//" PIN_A ";" PIN_E, PINSET_FORMAT_CURL, PINSET_E_PARSE, "';'", 52);
    expect_error("sha256//" PIN_A ";sha256//", PINSET_FORMAT_CURL, PINSET_E_PARSE, "44 characters",
                 61);
    expect_error("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", PINSET_FORMAT_CURL,
                 PINSET_E_PARSE, "44 characters", 8);
    expect_error("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_", PINSET_FORMAT_CURL,
                 PINSET_E_PARSE, "base64url", 50);
    expect_error("sha256//ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ=", PINSET_FORMAT_CURL,
                 PINSET_E_PARSE, "never matches", 8);
    expect_error("SHA256//" PIN_A, PINSET_FORMAT_CURL, PINSET_E_PARSE, "file name", 0);
    expect_error("sha1//" PIN_A, PINSET_FORMAT_CURL, PINSET_E_PARSE, "file name", 0);
    expect_error("", PINSET_FORMAT_CURL, PINSET_E_PARSE, "file name", 0);
    {
        char big[(PINSET_MAX_PIN_LIST + 1) * 54 + 16];
        size_t n = 0;
        for (int i = 0; i <= PINSET_MAX_PIN_LIST; i++) {
            n += (size_t)snprintf(big + n, sizeof(big) - n, "%ssha256//%.42s%c=", i ? ";" : "",
                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                  "AEIMQUYcgkosw048"[i % 16]);
        }
        expect_error(big, PINSET_FORMAT_CURL, PINSET_E_LIMIT, "more than 64 pins", SIZE_MAX);
    }
    /* a file's final newline is not part of the value; duplicates count once */
    assert_int_equal(import_str(&p, &f, "sha256//" PIN_A ";sha256//" PIN_E ";sha256//" PIN_A "\n",
                                PINSET_FORMAT_CURL, "Example.COM.", 0, NULL),
                     PINSET_OK);
    r = pinset_policy_rule(p, 0);
    assert_string_equal(pinset_rule_host(r), HOST);
    assert_int_equal(pinset_rule_pin_count(r), 2);
    assert_int_equal(pinset_rule_pin_role(r, 1), PINSET_ROLE_LEAF);
    assert_int_equal(pinset_rule_include_subdomains(r), 0);
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_ENFORCE);
    assert_int_equal(pinset_fidelity_count(f), 0);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

/* ---- export: fidelity lists ---- */

/* Every field of a lossy rule that the target cannot carry is named, with the reason. */
#define LOSSY                                                                                    \
    "{\"version\": 1, \"pinsets\": {\"corp\": {\"pins\": [{\"sha256\": \"" PIN_Q                 \
    "\", \"role\": \"ca\", \"label\": \"corp ca\"}]}}, \"rules\": [{\"host\": \"example.com\", " \
    "\"include_subdomains\": true, \"mode\": \"report\", \"pinset\": \"corp\", \"pins\": ["      \
    "{\"sha256\": \"" PIN_A "\", \"role\": \"leaf\", \"not_after\": \"2027-01-01\"}, "           \
    "{\"sha256\": \"" PIN_E "\", \"role\": \"backup\"}, \"" PIN_I "\", "                         \
    "{\"sha256\": \"" PIN_M "\", \"kind\": \"cert\"}], \"blocked\": [\"" PIN_M "\"], "           \
    "\"min_pins\": 3, \"expires\": \"2028-01-01\", \"on_expiry\": \"fail-closed\", "             \
    "\"report_uris\": [\"https://r.example/a\", \"https://r.example/b\"]}]}"

static void expect_loss(const pinset_fidelity *f, const char *field, const char *reason)
{
    long i = formats_find_loss(f, field);

    if (i < 0) {
        fail_msg("no loss for field '%s'", field);
    }
    assert_int_equal(pinset_fidelity_rule(f, (size_t)i), 0);
    assert_string_equal(pinset_fidelity_host(f, (size_t)i), HOST);
    if (strstr(pinset_fidelity_reason(f, (size_t)i), reason) == NULL) {
        fail_msg("loss '%s': '%s' lacks '%s'", field, pinset_fidelity_reason(f, (size_t)i), reason);
    }
}

static void curl_export_names_what_curl_ignores(void **state)
{
    pinset_policy *p = formats_parse_native(LOSSY);
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));

    (void)state;
    assert_int_equal(formats_export(p, PINSET_FORMAT_CURL, NULL, 0, &f, out, NULL), PINSET_OK);
    /* leaf-key pins only: the leaf pin and the role-any pin */
    assert_string_equal(out->b, "sha256//" PIN_A ";sha256//" PIN_I "\n");
    expect_loss(f, "pins[0]", "curl checks only the leaf key: the CA pin cannot be used by curl");
    expect_loss(f, "pins[2]",
                "curl checks only the leaf key: the backup pin cannot be used by curl");
    expect_loss(f, "pins[3].role", "matches only as the leaf's key");
    expect_loss(f, "pins[4]", "cert pin");
    expect_loss(f, "pins[1].not_after", "no expiry date for a pin");
    expect_loss(f, "host", "curl has no host: the list applies to the one host");
    expect_loss(f, "include_subdomains", "no subdomains");
    expect_loss(f, "mode", "no report mode");
    expect_loss(f, "expires", "no expiry");
    expect_loss(f, "report_uris", "no reports");
    expect_loss(f, "min_pins", "3");
    expect_loss(f, "pinset", "'corp'");
    expect_loss(f, "pins[0].label", "no pin labels");
    expect_loss(f, "blocked", "no blocked keys");
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    free(out);
}

static void hpkp_export_names_what_hpkp_cannot_express(void **state)
{
    pinset_policy *p = formats_parse_native(LOSSY);
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));

    (void)state;
    assert_int_equal(formats_export(p, PINSET_FORMAT_HPKP, HOST, 0, &f, out, NULL), PINSET_OK);
    assert_string_equal(out->b, "Public-Key-Pins-Report-Only: pin-sha256=\"" PIN_Q
                                "\"; pin-sha256=\"" PIN_A "\"; pin-sha256=\"" PIN_E
                                "\"; pin-sha256=\"" PIN_I "\"; includeSubDomains; "
                                "report-uri=\"https://r.example/a\"\n");
    expect_loss(f, "pins[0].role", "role 'ca' is not kept");
    expect_loss(f, "pins[1].role", "role 'leaf' is not kept");
    expect_loss(f, "pins[1].not_after", "HPKP has no expiry date for a pin");
    expect_loss(f, "pins[2].role", "no backup role");
    expect_loss(f, "pins[4]", "SPKI hashes");
    expect_loss(f, "expires", "no lifetime");
    expect_loss(f, "report_uris[1]", "one report-uri");
    expect_loss(f, "min_pins", "3");
    expect_loss(f, "blocked", "no blocked keys");
    assert_int_equal(formats_find_loss(f, "host"), -1); /* the host was named: nothing lost there */
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    free(out);
}

static void export_refusals(void **state)
{
    pinset_policy *two =
        formats_parse_native("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", "
                             "\"include_subdomains\": true, \"pins\": "
                             "[\"" PIN_A "\", \"" PIN_E "\"]}, {\"host\": \"b.example\", "
                             "\"pins\": [{\"sha256\": \"" PIN_A "\", \"role\": \"ca\"}]}, "
                             "{\"host\": \"x.a.example\", \"exclude\": true}]}");
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(formats_export(two, PINSET_FORMAT_CURL, NULL, 0, &f, out, &d),
                     PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "3 rules"));
    assert_null(f);
    assert_int_equal(out->n, 0);
    assert_int_equal(formats_export(two, PINSET_FORMAT_CURL, "b.example", 0, &f, out, &d),
                     PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "no leaf-key pin"));
    assert_int_equal(out->n, 0); /* a failed export writes nothing */
    assert_int_equal(formats_export(two, PINSET_FORMAT_CURL, "x.a.example", 0, &f, out, &d),
                     PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "exclusion"));
    assert_int_equal(formats_export(two, PINSET_FORMAT_HPKP, "nowhere.example", 0, &f, out, &d),
                     PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "no rule names host 'nowhere.example'"));
    /* HPKP: one header line per rule, each without its host; an exclusion is max-age=0 */
    assert_int_equal(formats_export(two, PINSET_FORMAT_HPKP, NULL, 0, &f, out, &d), PINSET_OK);
    assert_string_equal(out->b, "Public-Key-Pins: max-age=5184000; pin-sha256=\"" PIN_A
                                "\"; pin-sha256=\"" PIN_E "\"; includeSubDomains\n"
                                "Public-Key-Pins: max-age=5184000; pin-sha256=\"" PIN_A "\"\n"
                                "Public-Key-Pins: max-age=0\n");
    assert_int_equal(pinset_fidelity_rule(f, 0), 0);
    assert_string_equal(pinset_fidelity_field(f, 0), "host");
    assert_non_null(strstr(pinset_fidelity_reason(f, 0), "HPKP has no host"));
    assert_true(formats_find_loss(f, "pins") >= 0);    /* b.example: one pin, no backup */
    assert_true(formats_find_loss(f, "exclude") >= 0); /* x.a.example: max-age=0 forgets, no rule */
    pinset_fidelity_free(f);
    pinset_policy_free(two);
    free(out);
}

/* ---- round trips: native -> X -> native keeps what X can express ---- */

static void round_trip(const char *doc, pinset_format fmt, int64_t now)
{
    pinset_policy *p = formats_parse_native(doc), *q;
    struct sbuf *mid = calloc(1, sizeof(*mid));
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;

    assert_non_null(mid);
    o.host = HOST;
    o.now = now;
    formats_export_whole(pinset_policy_export, p, fmt, &o, mid);
    q = formats_import_whole(pinset_policy_import, mid->b, mid->n, fmt, &o, mid->b);
    formats_assert_same(p, q);
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(mid);
}

static void round_trips(void **state)
{
    (void)state;
    /* HPKP: subdomains, enforce, two pins, a report uri, an expiry mapped through max-age */
    round_trip("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"include_subdomains\": "
               "true, \"pins\": [\"" PIN_A "\", \"" PIN_E "\"], \"expires\": "
               "\"2027-01-01T00:00:00Z\", \"on_expiry\": \"fail-open\", \"report_uris\": "
               "[\"https://r.example/x?a=b;c\"]}]}",
               PINSET_FORMAT_HPKP, NOW);
    /* HPKP: a report uri the importer would refuse is not written, but listed */
    {
        pinset_policy *p =
            formats_parse_native("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"pins\": [\"" PIN_A "\", \"" PIN_E "\"], \"report_uris\": "
                                 "[\"https://r.example/\\\"x\", \"https://s.example/\"]}]}");
        pinset_fidelity *f = NULL;
        struct sbuf *out = calloc(1, sizeof(*out));
        assert_int_equal(formats_export(p, PINSET_FORMAT_HPKP, HOST, 0, &f, out, NULL), PINSET_OK);
        assert_non_null(strstr(out->b, "; report-uri=\"https://s.example/\"\n"));
        expect_loss(f, "report_uris[0]", "not an absolute http(s) uri");
        pinset_fidelity_free(f);
        pinset_policy_free(p);
        free(out);
    }
    /* HPKP report-only: one pin is enough, no lifetime */
    round_trip("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"mode\": \"report\", "
               "\"pins\": [\"" PIN_A "\"], \"report_uris\": [\"https://r.example/\"]}]}",
               PINSET_FORMAT_HPKP, NOW);
    /* curl: leaf-key pins of an enforcing rule for one host */
    round_trip("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": [{\"sha256\": "
               "\"" PIN_A "\", \"role\": \"leaf\"}, {\"sha256\": \"" PIN_E "\", \"role\": "
               "\"leaf\"}]}]}",
               PINSET_FORMAT_CURL, 0);
    /* native: the same document */
    round_trip(LOSSY, PINSET_FORMAT_NATIVE, 0);
}

/* ---- allocation failures ---- */

static void allocation_failures(void **state)
{
    static const char hdr[] = "Public-Key-Pins: max-age=10; " TWO_PINS "; includeSubDomains; "
                              "report-uri=\"https://r.example/\"; unknown=1";
    pinset_policy *lossy = formats_parse_native(LOSSY);
    struct sbuf *out = calloc(1, sizeof(*out));
    int done_import = 0, done_export = 0;

    (void)state;
    for (unsigned long k = 1; k < 200 && !(done_import && done_export); k++) {
        pinset_policy *p = NULL;
        pinset_fidelity *f = NULL;
        pinset_err err;
        pinset__alloc_fail_at(k);
        err = import_str(&p, &f, hdr, PINSET_FORMAT_HPKP, HOST, 0, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        if (err == PINSET_OK) {
            assert_int_equal(pinset_fidelity_count(f), 2);
            done_import = 1;
        } else {
            assert_null(p);
            assert_null(f);
        }
        pinset_fidelity_free(f);
        pinset_policy_free(p);
        pinset__alloc_fail_at(k);
        err = formats_export(lossy, k % 2 ? PINSET_FORMAT_CURL : PINSET_FORMAT_HPKP, NULL, 0, &f,
                             out, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        if (err == PINSET_OK) {
            assert_true(pinset_fidelity_count(f) > 5);
            done_export = k > 60;
        } else {
            assert_null(f);
        }
        pinset_fidelity_free(f);
    }
    assert_true(done_import);
    pinset_policy_free(lossy);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_names_round_trip),
        cmocka_unit_test(detection_by_content_then_name),
        cmocka_unit_test(detection_plist_key_late),
        cmocka_unit_test(markup_formats_belong_to_libpinset_formats),
        cmocka_unit_test(fidelity_built_from_outside),
        cmocka_unit_test(formats_library_passes_the_rest_on),
        cmocka_unit_test(rfc7469_examples_all_accepted),
        cmocka_unit_test(chromium_cases),
        cmocka_unit_test(firefox_cases),
        cmocka_unit_test(hpkp_hostile_input),
        cmocka_unit_test(hpkp_fidelity_on_import),
        cmocka_unit_test(curl_corpus_cases),
        cmocka_unit_test(curl_whitespace_and_splitting),
        cmocka_unit_test(curl_export_names_what_curl_ignores),
        cmocka_unit_test(hpkp_export_names_what_hpkp_cannot_express),
        cmocka_unit_test(export_refusals),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
