/*
 * test_formats_android.c - the Android Network Security Config converter
 * (src/formats/android.c, android_out.c in libpinset-formats): every case of
 * tests/corpora/vectors/aosp-network-security-config.json (parse accept and
 * reject, host resolution through pinset_policy_lookup), AOSP's semantics
 * (inheritance, an empty pin-set, SHA-256 of 32 octets, trimmed text,
 * lower-cased domains, expiration = fail-open, Android's base64 decoder),
 * domains Android accepts and pinset cannot pin, TrustKit-Android's
 * <trustkit-config>, hostile input (DTD, XXE, billion laughs, deep nesting,
 * UTF-16, bad UTF-8, a million domains), the exporter and its fidelity list,
 * the round trip native -> android -> native, and allocation failures.
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

#define PIN_A        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN_E        "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA="
#define PIN_I        "IIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIA="
#define HEAD         "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n"
#define TAIL         "</network-security-config>\n"
#define PIN(b)       "<pin digest=\"SHA-256\">" b "</pin>"
#define CFG(d, body) "<domain-config><domain>" d "</domain>" body "</domain-config>\n"
#define CFGS(d, body) \
    "<domain-config><domain includeSubdomains=\"true\">" d "</domain>" body "</domain-config>\n"

static pinset_err import_n(pinset_policy **p, pinset_fidelity **f, const char *text, size_t len,
                           pinset_diag *d)
{
    return pinset_formats_import(p, f, (const uint8_t *)text, len, PINSET_FORMAT_ANDROID, NULL, d);
}

static pinset_policy *import_ok(const char *text, pinset_fidelity **f)
{
    return formats_import_ok(pinset_formats_import, PINSET_FORMAT_ANDROID, text, f);
}

/* Expect a refusal with code, a message part, and (line != 0) the line and (col != 0) column. */
static void fails_n(const char *text, size_t len, pinset_err code, const char *part, size_t line,
                    size_t col)
{
    pinset_policy *p = (pinset_policy *)(uintptr_t)1;
    pinset_fidelity *f = (pinset_fidelity *)(uintptr_t)1;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = import_n(&p, &f, text, len, &d);

    if (err != code) {
        fail_msg("'%.200s': got %s (%s), want %s", text, pinset_err_name(err), d.message,
                 pinset_err_name(code));
    }
    assert_null(p);
    assert_null(f);
    if (part != NULL && strstr(d.message, part) == NULL) {
        fail_msg("'%.200s': message '%s' lacks '%s'", text, d.message, part);
    }
    assert_true(d.line >= 1);
    assert_true(d.column >= 1);
    if (line != 0 && (d.line != line || (col != 0 && d.column != col))) {
        fail_msg("'%.200s': at %zu:%zu, want %zu:%zu (%s)", text, d.line, d.column, line, col,
                 d.message);
    }
    assert_null(strchr(d.message, '\n'));
}

static void fails(const char *text, pinset_err code, const char *part, size_t line, size_t col)
{
    fails_n(text, strlen(text), code, part, line, col);
}

static const pinset_rule *lookup(const pinset_policy *p, const char *host, pinset_match *m)
{
    return pinset_policy_lookup(p, host, strlen(host), m);
}

/* The number of pins of the rule that pins `host`, or 0 when the host is not pinned. */
static size_t pinned(const pinset_policy *p, const char *host)
{
    pinset_match m = PINSET_MATCH_NONE;
    const pinset_rule *r = lookup(p, host, &m);

    if (r == NULL || m == PINSET_MATCH_EXCLUDED || m == PINSET_MATCH_NONE) {
        return 0;
    }
    return pinset_rule_pin_count(r);
}

/* Whether the fidelity list has an entry whose field and reason hold both parts. */
static int lost(const pinset_fidelity *f, const char *field, const char *reason)
{
    for (size_t i = 0; i < pinset_fidelity_count(f); i++) {
        if (strstr(pinset_fidelity_field(f, i), field) != NULL &&
            strstr(pinset_fidelity_reason(f, i), reason) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* ---- the AOSP corpus ---- */

/* What AOSP's tests expect each looked-up host to resolve to: pins, or 0 = not pinned. */
static const struct {
    const char *file, *host;
    size_t pins;
} lookups[] = {
    {"pins1.xml", "android.com", 1},
    {"pins1.xml", "google.com", 0},
    {"bad_pin.xml", "android.com", 1},
    {"bad_pin.xml", "google.com", 0},
    {"expired_pin.xml", "android.com", 1},
    {"override_pins.xml", "android.com", 1},
    {"override_dedup.xml", "android.com", 1},
    {"subdomains.xml", "android.com", 0},
    {"subdomains.xml", "developer.android.com", 0},
    {"subdomains.xml", "google.com", 0},
    {"domain1.xml", "android.com", 0},
    {"domain1.xml", "developer.android.com", 0},
    {"domain1.xml", "google.com", 0},
    {"multiple_domains.xml", "android.com", 0},
    {"multiple_domains.xml", "google.com", 0},
    {"multiple_domains.xml", "developer.android.com", 0},
    {"multiple_configs.xml", "android.com", 0},
    {"multiple_configs.xml", "google.com", 0},
    {"nested_domains.xml", "android.com", 0},
    {"nested_domains.xml", "developer.android.com", 1},
    {"nested_domains_override.xml", "android.com", 0},
    {"nested_domains_override.xml", "developer.android.com", 0},
    {"domain_whitespace.xml", "android.com", 1},
    {"domain_whitespace.xml", "developer.android.com", 1},
    {"attributes.xml", "", 0},
};

static void corpus_cases(void **state)
{
    json_t *v = load_vectors("aosp-network-security-config.json");
    json_t *c;
    size_t i, accepted = 0, rejected = 0, looked = 0, visited = 0;

    (void)state;
    json_array_foreach(json_object_get(v, "cases"), i, c)
    {
        const char *file = strrchr(json_string_value(json_object_get(c, "file")), '/') + 1;
        const char *xml = json_string_value(json_object_get(c, "xml"));
        json_t *expect = json_object_get(c, "expect"), *lk = json_object_get(expect, "lookup");
        const char *parse = json_string_value(json_object_get(expect, "parse"));
        pinset_policy *p = NULL;
        pinset_fidelity *f = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err = import_n(&p, &f, xml, strlen(xml), &d);
        const char *host;
        json_t *val;

        if (strncmp(parse, "reject", 6) == 0) {
            if (err != PINSET_E_PARSE) {
                fail_msg("%s: accepted, AOSP rejects it (%s)", file,
                         json_string_value(json_object_get(expect, "why")));
            }
            assert_true(d.line >= 2);
            rejected++;
            continue;
        }
        assert_true(strncmp(parse, "accept", 6) == 0);
        if (err != PINSET_OK) {
            fail_msg("%s: refused (%s at %zu:%zu), AOSP accepts it", file, d.message, d.line,
                     d.column);
        }
        accepted++;
        json_object_foreach(lk, host, val)
        {
            size_t k;
            int found = 0;
            if (strcmp(host, "hasPerDomainConfigs") == 0) {
                assert_true(json_is_false(val));
                assert_int_equal(pinset_policy_rule_count(p), 0);
                continue;
            }
            for (k = 0; k < PINSET_ARRAY_SIZE(lookups); k++) {
                if (strcmp(lookups[k].file, file) == 0 && strcmp(lookups[k].host, host) == 0) {
                    found = 1;
                    if (host[0] != '\0' && pinned(p, host) != lookups[k].pins) {
                        fail_msg("%s: %s pinned by %zu pins, want %zu (%s)", file, host,
                                 pinned(p, host), lookups[k].pins, json_string_value(val));
                    }
                }
            }
            if (!found) {
                fail_msg("%s: lookup of '%s' has no expectation here", file, host);
            }
            looked++;
        }
        for (size_t k = 0; k < PINSET_ARRAY_SIZE(lookups); k++) {
            /* AOSP's connection expectations of the files without lookups, offline */
            if (strcmp(lookups[k].file, file) == 0) {
                visited++;
                if (lookups[k].host[0] != '\0' && pinned(p, lookups[k].host) != lookups[k].pins) {
                    fail_msg("%s: %s pinned by %zu pins, want %zu", file, lookups[k].host,
                             pinned(p, lookups[k].host), lookups[k].pins);
                }
            }
        }
        if (strcmp(file, "expired_pin.xml") == 0) {
            /* expiration = fail-open after the date: midnight starting 2015-01-01 */
            const pinset_rule *r = pinset_policy_rule(p, 0);
            assert_int_equal(pinset_rule_expires(r), 1420070400);
            assert_int_equal(pinset_rule_on_expiry(r), PINSET_ON_EXPIRY_FAIL_OPEN);
            assert_true(lost(f, "<pin-set> (line 6)", "local date"));
        }
        if (strcmp(file, "override_pins.xml") == 0) {
            assert_true(lost(f, "<certificates>", "overridePins"));
        }
        if (strcmp(file, "override_dedup.xml") == 0) {
            assert_true(lost(f, "<debug-overrides>", "debuggable builds only"));
            assert_false(lost(f, "<certificates>", "overridePins"));
        }
        if (strcmp(file, "ct_domains.xml") == 0) {
            /* subdomain_user.android.com: '_' is carried, as Android accepts it */
            assert_false(lost(f, "<domain> (line 13)", "'_'"));
            assert_true(lost(f, "<certificateTransparency>", "Certificate Transparency"));
        }
        if (strcmp(file, "domain_whitespace.xml") == 0) {
            assert_true(formats_has_pin(pinset_policy_rule(p, 1),
                                        "zCTnfLwLKbS9S2sbp+uFz4KZOocFvXxkV06Ce9O5M2w="));
            assert_false(lost(f, "<pin>", "non-canonical")); /* trimmed, not rewritten */
        }
        pinset_fidelity_free(f);
        pinset_policy_free(p);
    }
    assert_int_equal(accepted + rejected, 22);
    assert_int_equal(rejected, 7);
    assert_int_equal(looked, 20); /* every lookup of the corpus */
    assert_int_equal(visited, PINSET_ARRAY_SIZE(lookups));
    json_decref(v);
}

/* ---- AOSP's semantics ---- */

static void inheritance_and_lookup(void **state)
{
    static const char *xml = HEAD CFGS(
        "example.com",
        "<pin-set expiration=\"2030-06-30\">" PIN(PIN_A) PIN(
            PIN_E) "</pin-set>"
                   "<domain-config><domain includeSubdomains=\"true\">api.example.com</domain>"
                   "<domain-config><domain>v1.api.example.com</domain>"
                   "<pin-set>" PIN(
                       PIN_I) "</pin-set></domain-config>"
                              "</domain-config>"
                              "<domain-config><domain includeSubdomains=\"true\">static.example.com</domain>"
                              "<pin-set /></domain-config>"
                              "<domain-config><domain>open.example.com</domain><pin-set></pin-set>"
                              "</domain-config>")
        CFG("Other.EXAMPLE.org", "<pin-set>" PIN(PIN_I) "</pin-set>")
            CFGS("free.example.net", "<pin-set/>") TAIL;
    pinset_fidelity *f = NULL;
    pinset_policy *p = import_ok(xml, &f);
    pinset_match m;
    const pinset_rule *r;

    (void)state;
    (void)f;
    /* exact beats subdomain, the longest includeSubdomains domain wins */
    assert_int_equal(pinned(p, "example.com"), 2);
    assert_int_equal(pinned(p, "www.example.com"), 2);
    r = lookup(p, "x.api.example.com", &m);
    assert_int_equal(m, PINSET_MATCH_SUBDOMAIN);
    assert_string_equal(pinset_rule_host(r), "api.example.com");
    /* a child inherits its parent's pin-set, with its expiration */
    assert_true(formats_has_pin(r, PIN_A) && formats_has_pin(r, PIN_E));
    assert_int_equal(pinset_rule_expires(r), 1909008000);
    assert_int_equal(pinset_rule_on_expiry(r), PINSET_ON_EXPIRY_FAIL_OPEN);
    /* ... unless it has its own */
    r = lookup(p, "v1.api.example.com", &m);
    assert_int_equal(m, PINSET_MATCH_EXACT);
    assert_int_equal(pinset_rule_pin_count(r), 1);
    assert_true(formats_has_pin(r, PIN_I));
    assert_int_equal(pinset_rule_expires(r), 0);
    /* v1 has no includeSubdomains: its names fall to api.example.com */
    assert_string_equal(pinset_rule_host(lookup(p, "a.v1.api.example.com", &m)), "api.example.com");
    /* an empty pin-set turns pinning off for the domain (and its subtree) */
    r = lookup(p, "static.example.com", &m);
    assert_int_equal(m, PINSET_MATCH_EXCLUDED);
    assert_true(pinset_rule_is_exclusion(r));
    assert_int_equal(pinned(p, "img.static.example.com"), 0);
    assert_int_equal(pinned(p, "open.example.com"), 0);
    assert_int_equal(pinned(p, "a.open.example.com"), 2);
    /* domains are lower-cased */
    assert_int_equal(pinned(p, "other.example.org"), 1);
    /* an unpinned domain under no pinned one needs no rule at all */
    assert_null(lookup(p, "free.example.net", &m));
    assert_int_equal(pinset_policy_rule_count(p), 6);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static void pins_and_digests(void **state)
{
    pinset_fidelity *f = NULL;
    pinset_policy *p;

    (void)state;
    /* Android's decoder: unused bits, missing padding, characters outside the alphabet */
    p = import_ok(HEAD CFG("a.com",
                           "<pin-set>" PIN("\n  BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n")
                               PIN("EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA")
                                   PIN("IIIIIIIIII IIIIIIIIIIIIIIIIIIIIIIIIIIIIIIII"
                                       "A=") PIN(PIN_A) PIN(PIN_A) "</pin-set>") TAIL,
                  &f);
    assert_int_equal(pinset_rule_pin_count(pinset_policy_rule(p, 0)), 4); /* a set: A once */
    assert_true(
        formats_has_pin(pinset_policy_rule(p, 0), "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="));
    assert_true(formats_has_pin(pinset_policy_rule(p, 0), PIN_E));
    assert_true(formats_has_pin(pinset_policy_rule(p, 0), PIN_I));
    assert_true(
        lost(f, "<pin> (line 3)", "stored as BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="));
    assert_true(lost(f, "<pin>", "stored as " PIN_E));
    assert_true(lost(f, "<pin>", "stored as " PIN_I));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    /* the digest attribute is SHA-256, in any case; the digest 32 octets */
    p = import_ok(
        HEAD CFG("a.com", "<pin-set><pin digest=\"sha-256\">" PIN_A "</pin></pin-set>") TAIL, NULL);
    pinset_policy_free(p);
    fails(HEAD CFG("a.com", "<pin-set><pin digest=\"SHA-1\">" PIN_A "</pin></pin-set>") TAIL,
          PINSET_E_PARSE, "unsupported pin digest algorithm: SHA-1", 3, 47);
    fails(HEAD CFG("a.com", "<pin-set>" PIN("AAAAAAAAAAAAAAAAAAAAAAAAAAA=") "</pin-set>") TAIL,
          PINSET_E_PARSE, "digest length 20 does not match expected length for SHA-256 of 32", 3,
          47);
    fails(HEAD CFG("a.com", "<pin-set>" PIN("   ") "</pin-set>") TAIL, PINSET_E_PARSE,
          "digest length 0", 3, 47);
    fails(HEAD CFG("a.com", "<pin-set>" PIN("AAAA=AAA") "</pin-set>") TAIL, PINSET_E_PARSE,
          "invalid pin digest", 3, 47);
    fails(HEAD CFG("a.com", "<pin-set>" PIN("A<b/>") "</pin-set>") TAIL, PINSET_E_PARSE,
          "pin contains additional elements", 0, 0);
    fails(HEAD CFG("a.com", "<pin-set>" PIN(PIN_A) "</pin-set><pin-set/>") TAIL, PINSET_E_PARSE,
          "multiple pin-set", 0, 0);
    fails(HEAD CFG("a.com", "<pin-set expiration=\"2015-02-29\">" PIN(PIN_A) "</pin-set>") TAIL,
          PINSET_E_PARSE, "invalid expiration date", 3, 38);
    fails(HEAD CFG("a.com", "<pin-set expiration=\"tomorrow\">" PIN(PIN_A) "</pin-set>") TAIL,
          PINSET_E_PARSE, "invalid expiration date", 3, 38);
    fails(HEAD CFG("a.com", "<pin-set expiration=\"2015-13-01\">" PIN(PIN_A) "</pin-set>") TAIL,
          PINSET_E_PARSE, "invalid expiration date", 3, 38);
    /* SimpleDateFormat reads numbers of any width and ignores trailing text */
    f = NULL;
    p = import_ok(
        HEAD CFG("a.com", "<pin-set expiration=\"2030-6-30 x\">" PIN(PIN_A) "</pin-set>") TAIL, &f);
    assert_int_equal(pinset_rule_expires(pinset_policy_rule(p, 0)), 1909008000);
    assert_true(lost(f, "<pin-set>", "read as 2030-06-30"));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    /* an expiration before 1970: the pins never count, the domain is not pinned */
    f = NULL;
    p = import_ok(
        HEAD CFG("a.com", "<pin-set expiration=\"1969-12-31\">" PIN(PIN_A) "</pin-set>") TAIL, &f);
    assert_int_equal(pinset_policy_rule_count(p), 0);
    assert_true(lost(f, "<pin-set>", "before 1970"));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static void domains(void **state)
{
    pinset_fidelity *f = NULL;
    pinset_policy *p;

    (void)state;
    p = import_ok(
        HEAD CFGS("example.com",
                  "<pin-set>" PIN(PIN_A) "</pin-set>"
                                         "<domain>subdomain_user.example.com</domain>"
                                         "<domain>  </domain><domain>trailing.example.com.</domain>"
                                         "<domain>*.example.com</domain><domain>B\xc3\x9c"
                                         "CHER.example</domain>") TAIL,
        &f);
    /* '_' is accepted, as Android accepts it */
    assert_int_equal(pinned(p, "subdomain_user.example.com"), 1);
    assert_true(lost(f, "<domain>", "an empty domain matches no host"));
    assert_true(lost(f, "<domain>", "trailing dot"));
    assert_true(lost(f, "<domain>", "'*.example.com' is not a host name"));
    assert_true(lost(f, "<domain>", "its canonical form 'xn--bcher-kva.example'"));
    assert_int_equal(pinset_policy_rule_count(p), 3);
    assert_int_equal(pinned(p, "xn--bcher-kva.example"), 1);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    /* what AOSP throws on */
    fails(HEAD CFG("a.com", "") "<domain-config><domain>A.com</domain></domain-config>" TAIL,
          PINSET_E_PARSE, "a.com has already been specified (line 3)", 4, 16);
    /* the message is one line even when the domain's text is not */
    fails(HEAD CFG("a.com\n b", "") CFG("a.com\n b", "") TAIL, PINSET_E_PARSE,
          "a.com? b has already been specified (line 3)", 5, 16);
    fails(HEAD "<domain-config><domain></domain></domain-config>" TAIL, PINSET_E_PARSE,
          "domain name missing", 3, 16);
    fails(HEAD "<domain-config></domain-config>" TAIL, PINSET_E_PARSE, "no domain elements", 0, 0);
    fails(HEAD CFG("a.com<x/>", "") TAIL, PINSET_E_PARSE, "domain contains additional elements", 0,
          0);
    fails(HEAD CFG("a.com", "") CFG("xn--bcher-kva.example", "") CFG("b\xc3\xbc"
                                                                     "cher.example",
                                                                     "") TAIL,
          PINSET_E_PARSE, "names the same host as the domain at line 4", 5, 16);
    fails(HEAD
          "<domain-config><domain includeSubdomains=\"yes\">a.com</domain></domain-config>" TAIL,
          PINSET_E_PARSE, "includeSubdomains: expected true or false", 3, 16);
    fails(HEAD "<base-config/><base-config/>" TAIL, PINSET_E_PARSE, "only one base-config", 3, 15);
    fails(HEAD
          "<base-config><domain-config><domain>a.com</domain></domain-config></base-config>" TAIL,
          PINSET_E_PARSE, "nested domain-config not allowed in base-config", 3, 14);
    fails(HEAD CFG("a.com", "<trust-anchors/><trust-anchors/>") TAIL, PINSET_E_PARSE,
          "multiple trust-anchor", 0, 0);
    fails(HEAD CFG("a.com", "<trust-anchors><certificates src=\"disk\"/></trust-anchors>") TAIL,
          PINSET_E_PARSE, "unknown certificates src 'disk'", 0, 0);
    fails(HEAD CFG("a.com", "<trust-anchors><certificates/></trust-anchors>") TAIL, PINSET_E_PARSE,
          "missing src", 0, 0);
    fails("<trustkit-config/>", PINSET_E_PARSE, "not <network-security-config>", 1, 1);
}

static void trustkit_config(void **state)
{
    static const char *xml =
        HEAD CFGS("example.com",
                  "<pin-set>" PIN(PIN_A)
                      PIN(PIN_E) "</pin-set>"
                                 "<trustkit-config enforcePinning=\"false\">"
                                 "<report-uri> https://r.example.net/log </report-uri>"
                                 "<report-uri>http://r2.example.net/</report-uri>"
                                 "</trustkit-config>" CFG("api.example.com", ""))
            CFG("enforced.com",
                "<pin-set>" PIN(PIN_A) PIN(PIN_E) "</pin-set>"
                                                  "<trustkit-config enforcePinning=\"TRUE\" "
                                                  "disableDefaultReportUri=\"true\"/>") TAIL;
    pinset_fidelity *f = NULL;
    pinset_policy *p = import_ok(xml, &f);
    const pinset_rule *r = pinset_policy_rule(p, 0);

    (void)state;
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_REPORT);
    assert_int_equal(pinset_rule_report_uri_count(r), 2);
    assert_string_equal(pinset_rule_report_uri(r, 0), "https://r.example.net/log");
    /* the nested config inherits TrustKit's settings with the pins */
    r = pinset_policy_rule(p, 1);
    assert_string_equal(pinset_rule_host(r), "api.example.com");
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_REPORT);
    assert_int_equal(pinset_rule_report_uri_count(r), 2);
    r = pinset_policy_rule(p, 2);
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_ENFORCE);
    assert_int_equal(pinset_rule_report_uri_count(r), 0);
    assert_true(lost(f, "<trustkit-config>", "default server"));
    assert_true(lost(f, "<trustkit-config> (line 3)", "report mode"));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    fails(HEAD CFG("a.com", "<trustkit-config><report-uri>ftp://x/</report-uri></trustkit-config>")
              TAIL,
          PINSET_E_PARSE, "report-uri: expected an http", 3, 55);
    /* what the native parser refuses is placed at the rule's <domain> */
    fails(HEAD CFG("a.com",
                   "<pin-set>" PIN(PIN_A) "</pin-set><trustkit-config>"
                                          "<report-uri>https://</report-uri></trustkit-config>")
              TAIL,
          PINSET_E_PARSE, "expected an http or https uri", 3, 16);
}

/* ---- hostile input ---- */

static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1), *q;

    assert_non_null(s);
    memcpy(s, head, hl);
    q = s + hl;
    for (size_t i = 0; i < n; i++, q += ul) {
        memcpy(q, unit, ul);
    }
    memcpy(q, tail, tl + 1);
    *len = hl + ul * n + tl;
    return s;
}

static void hostile(void **state)
{
    size_t len;
    char *s;

    (void)state;
    /* XXE: an external entity never resolves, the DTD stops the parse */
    fails("<?xml version=\"1.0\"?>\n<!DOCTYPE n [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
          "<network-security-config>&x;</network-security-config>",
          PINSET_E_PARSE, "document type declaration", 2, 0);
    /* billion laughs */
    fails("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
          "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
          "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>\n"
          "<network-security-config><domain-config><domain>&lol3;</domain></domain-config>"
          "</network-security-config>",
          PINSET_E_PARSE, "document type declaration", 2, 0);
    fails("<!DOCTYPE network-security-config SYSTEM \"http://127.0.0.1:9/x.dtd\">"
          "<network-security-config/>",
          PINSET_E_PARSE, "no DTD", 1, 0);
    /* an undeclared entity is an error, never expanded */
    fails(HEAD CFG("&x;", "") TAIL, PINSET_E_PARSE, "invalid xml: undefined entity", 0, 0);
    /* 10,000 levels of nesting */
    s = repeat(HEAD, "<domain-config>", 10000, "", &len);
    fails_n(s, len, PINSET_E_LIMIT, "nested deeper than 64 levels", 3, 0 + 1 + 15 * 63);
    free(s);
    /* UTF-16, with and without a byte order mark; another encoding; bad UTF-8 */
    fails_n("\xff\xfe<\0n\0", 6, PINSET_E_PARSE, "UTF-16 is not read", 1, 1);
    fails_n("\xfe\xff\0<\0n", 6, PINSET_E_PARSE, "UTF-16 is not read", 1, 1);
    fails_n("<\0?\0x\0", 6, PINSET_E_PARSE, "UTF-16 is not read", 1, 1);
    fails("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<network-security-config/>",
          PINSET_E_PARSE, "encoding 'ISO-8859-1' is not read", 1, 0 + 1);
    fails(HEAD CFG("a\xc3(.com", "") TAIL, PINSET_E_PARSE, "invalid xml: not well-formed", 3, 25);
    fails(HEAD CFG("a\xed\xa0\x80.com", "") TAIL, PINSET_E_PARSE, "invalid xml", 3, 25);
    fails_n(HEAD "\0" TAIL, strlen(HEAD) + 1 + strlen(TAIL), PINSET_E_PARSE, "invalid xml", 3, 1);
    fails("", PINSET_E_PARSE, "invalid xml: no element found", 1, 1);
    fails(HEAD, PINSET_E_PARSE, "invalid xml", 0, 0);
    /* a document over 256 MiB is refused before a byte of it is read */
    {
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        assert_int_equal(import_n(&p, NULL, "<", (size_t)257 * 1024 * 1024, &d), PINSET_E_LIMIT);
        assert_null(p);
        assert_non_null(strstr(d.message, "over the"));
    }
    /* text per element is bounded */
    s = repeat(HEAD "<domain-config><domain>", "a", 5000, "</domain></domain-config>" TAIL, &len);
    fails_n(s, len, PINSET_E_LIMIT, "text longer than 4096 octets", 0, 0);
    free(s);
    /* a million domains: refused at the 200,001st, bounded time and memory */
    s = repeat(HEAD "<domain-config>", "<domain>a.com</domain>\n", 1000000, "</domain-config>" TAIL,
               &len);
    fails_n(s, len, PINSET_E_PARSE, "a.com has already been specified (line 3)", 4, 1);
    free(s);
    {
        /* distinct names, each 8 letters */
        size_t n = 1000000, unit = strlen("<domain>aaaaaaaa.com</domain>\n");
        const char *h = HEAD "<domain-config>", *t = "</domain-config>" TAIL;
        char *q;
        len = strlen(h) + n * unit + strlen(t);
        s = malloc(len + 1);
        assert_non_null(s);
        memcpy(s, h, strlen(h));
        q = s + strlen(h);
        for (size_t i = 0; i < n; i++, q += unit) {
            char name[9];
            size_t x = i;
            for (int k = 7; k >= 0; k--, x /= 26) {
                name[k] = (char)('a' + x % 26);
            }
            name[8] = '\0';
            (void)snprintf(q, unit + 1, "<domain>%s.com</domain>\n", name);
        }
        memcpy(q, t, strlen(t) + 1);
        fails_n(s, len, PINSET_E_LIMIT, "more than 200000 domains", 200003, 1);
        free(s);
    }
}

/* ---- export ---- */

static void export_golden_and_fidelity(void **state)
{
    static const char *native =
        "{\"version\": 1, \"rules\": ["
        "{\"host\": \"example.com\", \"include_subdomains\": true, \"expires\": \"2030-06-30\","
        " \"on_expiry\": \"fail-open\", \"pins\": [\"" PIN_A "\", \"" PIN_E "\"]},"
        "{\"host\": \"static.example.com\", \"exclude\": true},"
        "{\"host\": \"report.example.com\", \"mode\": \"report\", \"pins\": [\"" PIN_A "\"]},"
        "{\"host\": \"roles.example.com\", \"expires\": \"2030-06-30T12:00:00Z\","
        " \"on_expiry\": \"fail-closed\", \"min_pins\": 1, \"report_uris\": [\"https://r.example/\"],"
        " \"blocked\": [\"" PIN_I "\"], \"pins\": [{\"sha256\": \"" PIN_A "\", \"role\": \"leaf\","
        " \"label\": \"k\"}, {\"sha256\": \"" PIN_E "\", \"kind\": \"cert\"},"
        " {\"sha256\": \"" PIN_I "\", \"role\": \"backup\", \"not_after\": \"2031-01-01\"}]},"
        "{\"host\": \"example.com\", \"include_subdomains\": \"one-label\", \"pins\": [\"" PIN_A
        "\"]},"
        "{\"host\": \"certs.example.com\", \"pins\": [{\"sha256\": \"" PIN_E
        "\", \"kind\": \"cert\"}]}]}";
    static const char *want =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n"
        "  <domain-config>\n    <domain includeSubdomains=\"true\">example.com</domain>\n"
        "    <pin-set expiration=\"2030-06-30\">\n"
        "      <pin digest=\"SHA-256\">" PIN_A "</pin>\n"
        "      <pin digest=\"SHA-256\">" PIN_E "</pin>\n"
        "    </pin-set>\n  </domain-config>\n"
        "  <domain-config>\n    <domain includeSubdomains=\"false\">static.example.com</domain>\n"
        "    <pin-set />\n  </domain-config>\n"
        "  <domain-config>\n    <domain includeSubdomains=\"false\">report.example.com</domain>\n"
        "    <pin-set />\n  </domain-config>\n"
        "  <domain-config>\n    <domain includeSubdomains=\"false\">roles.example.com</domain>\n"
        "    <pin-set>\n"
        "      <pin digest=\"SHA-256\">" PIN_A "</pin>\n"
        "      <pin digest=\"SHA-256\">" PIN_I "</pin>\n"
        "    </pin-set>\n  </domain-config>\n"
        "  <domain-config>\n    <domain includeSubdomains=\"false\">certs.example.com</domain>\n"
        "    <pin-set />\n  </domain-config>\n"
        "</network-security-config>\n";
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    struct sbuf out;

    (void)state;
    assert_int_equal(pinset_policy_parse(&p, (const uint8_t *)native, strlen(native), NULL),
                     PINSET_OK);
    out.n = 0;
    out.b[0] = '\0';
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ANDROID, NULL, sink, &out, NULL),
                     PINSET_OK);
    assert_string_equal(out.b, want);
    assert_true(lost(f, "expires", "time zone"));
    assert_true(lost(f, "mode", "no report-only mode"));
    assert_true(lost(f, "on_expiry", "'fail-closed' is kept by writing no expiration"));
    assert_true(lost(f, "min_pins", "no pin threshold"));
    assert_true(lost(f, "report_uris", "sends no reports"));
    assert_true(lost(f, "blocked", "no blocked pins"));
    assert_true(lost(f, "pins[0].role", "'leaf'"));
    assert_true(lost(f, "pins[0].label", "no labels"));
    assert_true(lost(f, "pins[1]", "cert pin"));
    assert_true(lost(f, "pins[2].role", "no backup pins"));
    assert_true(lost(f, "pins[2].not_after", "no expiry for one pin"));
    assert_true(lost(f, "include_subdomains", "no one-label scope"));
    assert_true(lost(f, "pins", "no key pin Android can hold"));
    assert_int_equal(pinset_fidelity_rule(f, 0), 0);
    assert_string_equal(pinset_fidelity_host(f, 0), "example.com");
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    /* a named pin-set: its pins in each rule's own <pin-set>, the name listed */
    p = import_ok(HEAD CFG("a.com", "<domain>b.com</domain><pin-set>" PIN(PIN_A)
                                        PIN(PIN_E) "</pin-set>") TAIL,
                  NULL);
    assert_string_equal(pinset_rule_pinset_name(pinset_policy_rule(p, 1)), "android-line-3");
    out.n = 0;
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ANDROID, NULL, sink, &out, NULL),
                     PINSET_OK);
    assert_true(lost(f, "pinset", "the pins of 'android-line-3' are written in the rule's own"));
    assert_int_equal(pinset_fidelity_count(f), 2);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

/* native -> android -> native keeps everything Android can express, byte for byte */
static void round_trip(void **state)
{
    static const char *native =
        "{\"version\": 1, \"rules\": ["
        "{\"host\": \"example.com\", \"include_subdomains\": true, \"expires\": \"2030-06-30\","
        " \"on_expiry\": \"fail-open\", \"pins\": [\"" PIN_A "\", \"" PIN_E "\"]},"
        "{\"host\": \"static.example.com\", \"exclude\": true, \"include_subdomains\": true},"
        "{\"host\": \"api.example.com\", \"pins\": [\"" PIN_I "\", \"" PIN_A "\"]},"
        "{\"host\": \"b\\u00fccher.example\", \"pins\": [\"" PIN_E "\", \"" PIN_I "\"]},"
        "{\"host\": \"192.0.2.10\", \"pins\": [\"" PIN_E "\", \"" PIN_A "\"]}]}";
    pinset_policy *p = NULL, *q = NULL;
    pinset_fidelity *f = NULL, *g = NULL;
    struct sbuf xml, a, b;

    (void)state;
    assert_int_equal(pinset_policy_parse(&p, (const uint8_t *)native, strlen(native), NULL),
                     PINSET_OK);
    xml.n = a.n = b.n = 0;
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ANDROID, NULL, sink, &xml, NULL),
                     PINSET_OK);
    /* only the expiration's time zone is listed */
    assert_int_equal(pinset_fidelity_count(f), 1);
    assert_true(lost(f, "expires", "time zone"));
    q = import_ok(xml.b, &g);
    assert_int_equal(pinset_policy_write(p, sink, &a), PINSET_OK);
    assert_int_equal(pinset_policy_write(q, sink, &b), PINSET_OK);
    assert_string_equal(a.b, b.b);
    pinset_fidelity_free(f);
    pinset_fidelity_free(g);
    pinset_policy_free(p);
    pinset_policy_free(q);
}

/* ---- allocation failures ---- */

static void allocation_failures(void **state)
{
    static const char *xml = HEAD CFGS(
        "example.com",
        "<pin-set expiration=\"2030-01-01\">" PIN(PIN_A) PIN(
            "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=") "</pin-set>"
                                                            "<trust-anchors><certificates src=\"system\" "
                                                            "overridePins=\"true\"/></trust-anchors>"
                                                            "<trustkit-config><report-uri>https://r/</report-uri>"
                                                            "</trustkit-config>" CFG(
                                                                "a.example.com", "<pin-set/>")
                                                                CFG("b.example.com", "")
                                                                    CFG("c_d.example.com", ""))
        TAIL;

    (void)state;
    alloc_fail_until_ok(pinset_formats_import, PINSET_FORMAT_ANDROID, xml, pinset_formats_export,
                        PINSET_FORMAT_ANDROID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_cases),
        cmocka_unit_test(inheritance_and_lookup),
        cmocka_unit_test(pins_and_digests),
        cmocka_unit_test(domains),
        cmocka_unit_test(trustkit_config),
        cmocka_unit_test(hostile),
        cmocka_unit_test(export_golden_and_fidelity),
        cmocka_unit_test(round_trip),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
