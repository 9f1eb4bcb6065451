/*
 * test_formats_plist.c - property lists and Envoy (libpinset-formats,
 * src/formats/plist.c, plist_bound.c, envoy.c): TrustKit's TSKConfiguration
 * in XML and binary plists (the configuration and lookup cases of
 * tests/corpora/vectors/trustkit.json as plists, the plist types TrustKit
 * cannot read, refused with the key path), Apple ATS's NSPinnedDomains (the
 * one-label subdomain scope, leaf and CA identities, refusals and the
 * fidelity list), hostile binary plists (cycles, out-of-range offsets and
 * references, exponential sharing, deep nesting), round trips native ->
 * plist -> native, and Envoy YAML read back with libyaml's parser.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <plist/plist.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include <cmocka.h>

#include <pinset/convert.h>
#include <pinset/formats.h>
#include <pinset/policy.h>

#include "formats_test.h"

#define PIN_T "TQEtdMbmwFgYUifM4LDF+xgEtd0z69mPGmkp014d6ZY="
#define PIN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define TWO   "\"" PIN_T "\", \"" PIN_A "\""

/* ---- helpers: JSON text -> property list (XML or binary) with libplist ---- */

static plist_t to_plist(json_t *v)
{
    plist_t n = NULL;
    const char *k;
    json_t *e;
    size_t i;

    if (json_is_object(v)) {
        n = plist_new_dict();
        json_object_foreach(v, k, e)
        {
            plist_dict_set_item(n, k, to_plist(e));
        }
    } else if (json_is_array(v)) {
        n = plist_new_array();
        json_array_foreach(v, i, e)
        {
            plist_array_append_item(n, to_plist(e));
        }
    } else if (json_is_string(v)) {
        n = plist_new_string(json_string_value(v));
    } else if (json_is_boolean(v)) {
        n = plist_new_bool(json_is_true(v));
    } else if (json_is_integer(v)) {
        n = plist_new_uint((uint64_t)json_integer_value(v));
    } else {
        fail_msg("no plist form for this JSON value");
    }
    return n;
}

/* A JSON document as a property list; binary when bin. Free with free(). */
static char *plist_of(const char *json, int bin, uint32_t *len)
{
    json_error_t jerr;
    json_t *v = json_loads(json, 0, &jerr);
    plist_t p;
    char *out = NULL, *copy;

    if (v == NULL) {
        fail_msg("bad test JSON '%s': %s", json, jerr.text);
    }
    p = to_plist(v);
    json_decref(v);
    if (bin) {
        plist_to_bin(p, &out, len);
    } else {
        plist_to_xml(p, &out, len);
    }
    plist_free(p);
    copy = malloc(*len + 1);
    memcpy(copy, out, *len);
    copy[*len] = '\0';
    free(out);
    return copy;
}

static pinset_err import_raw(pinset_policy **p, pinset_fidelity **f, const void *buf, size_t len,
                             pinset_format fmt, pinset_diag *d)
{
    return pinset_formats_import(p, f, buf, len, fmt, NULL, d);
}

/* Import JSON `json` turned into a plist (binary when bin). */
static pinset_err import_json(pinset_policy **p, pinset_fidelity **f, const char *json, int bin,
                              pinset_format fmt, pinset_diag *d)
{
    uint32_t len = 0;
    char *pl = plist_of(json, bin, &len);
    pinset_err err = import_raw(p, f, pl, len, fmt, d);

    free(pl);
    return err;
}

static long find_loss(const pinset_fidelity *f, const char *field, const char *reason)
{
    for (size_t i = 0; i < pinset_fidelity_count(f); i++) {
        if (strstr(pinset_fidelity_field(f, i), field) != NULL &&
            strstr(pinset_fidelity_reason(f, i), reason) != NULL) {
            return (long)i;
        }
    }
    return -1;
}

/* ---- TrustKit: the corpus as plists ---- */

/* The corpus's short keys (hashes, includeSubdomains, ...) as a TSKConfiguration plist JSON. */
static void tk_config(char *doc, size_t cap, json_t *cfg)
{
    const char *host;
    json_t *e;
    int first = 1;

    (void)snprintf(doc, cap,
                   "{\"CFBundleIdentifier\": \"com.example.app\", \"TSKConfiguration\": "
                   "{\"TSKSwizzleNetworkDelegates\": false, \"TSKPinnedDomains\": {");
    json_object_foreach(cfg, host, e)
    {
        json_t *hashes = json_object_get(e, "hashes"), *h, *sub, *exc;
        size_t i, n = strlen(doc);
        const char *sep = "";
        n += (size_t)snprintf(doc + n, cap - n, "%s\"%s\": {", first ? "" : ",", host);
        first = 0;
        if ((sub = json_object_get(e, "includeSubdomains")) != NULL) {
            n += (size_t)snprintf(doc + n, cap - n, "\"TSKIncludeSubdomains\": %s",
                                  json_is_true(sub) ? "true" : "false");
            sep = ", ";
        }
        if ((exc = json_object_get(e, "excludeSubdomainFromParentPolicy")) != NULL) {
            n += (size_t)snprintf(doc + n, cap - n, "%s\"TSKExcludeSubdomainFromParentPolicy\": %s",
                                  sep, json_is_true(exc) ? "true" : "false");
            sep = ", ";
        }
        if (hashes != NULL) {
            n += (size_t)snprintf(doc + n, cap - n, "%s\"TSKPublicKeyHashes\": [", sep);
            json_array_foreach(hashes, i, h)
            {
                n += (size_t)snprintf(doc + n, cap - n, "%s\"%s\"", i == 0 ? "" : ",",
                                      json_string_value(h));
            }
            n += (size_t)snprintf(doc + n, cap - n, "]");
        }
        (void)snprintf(doc + n, cap - n, "}");
    }
    (void)snprintf(doc + strlen(doc), cap - strlen(doc), "}}}");
}

static void tk_corpus_config_cases(void **state)
{
    json_t *v = load_vectors("trustkit.json"), *cases = json_object_get(v, "config_parse"), *c;
    size_t i, ran = 0;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        json_t *cfg = json_object_get(c, "config");
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        char doc[4096];

        if (cfg == NULL) {
            continue; /* the rules stated in words: below and in test_formats_trustkit.c */
        }
        tk_config(doc, sizeof(doc), cfg);
        for (int bin = 0; bin <= 1; bin++) {
            pinset_policy *p = NULL;
            pinset_fidelity *f = NULL;
            pinset_diag d = PINSET_DIAG_INIT;
            pinset_err err = import_json(&p, &f, doc, bin, PINSET_FORMAT_TRUSTKIT_PLIST, &d);
            if (strncmp(expect, "accept", 6) == 0) {
                const pinset_rule *r;
                if (err != PINSET_OK) {
                    fail_msg("%s: refused: %s (%s)", name, d.message, d.path);
                }
                r = pinset_policy_lookup(p, "unsecured.good.com", 18, NULL);
                assert_non_null(r);
                assert_string_equal(pinset_rule_host(r), "unsecured.good.com");
                assert_int_equal(pinset_rule_is_exclusion(r), strstr(name, "NoPublicKey") != NULL);
            } else {
                if (err == PINSET_OK) {
                    fail_msg("%s: accepted", name);
                }
                assert_int_equal(err, PINSET_E_PARSE);
                assert_null(p);
                assert_null(f);
                /* the plist's key path, and no line of the generated JSON */
                assert_true(strstr(d.path, "TSKConfiguration.TSKPinnedDomains") == d.path);
                assert_int_equal(d.line, 0);
                assert_non_null(strstr(d.message, "TrustKit refuses"));
            }
            pinset_policy_free(p);
            pinset_fidelity_free(f);
        }
        ran++;
    }
    assert_int_equal(ran, 7);
    json_decref(v);
}

static void tk_corpus_lookups(void **state)
{
    json_t *v = load_vectors("trustkit.json"), *cases = json_object_get(v, "domain_lookup"), *c;
    size_t i;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        char cfg[256], doc[2048] = "{\"TSKConfiguration\": {\"TSKPinnedDomains\": {", want[128];
        const char *host = json_string_value(json_object_get(c, "host"));
        json_t *expect = json_object_get(c, "expect");
        char *tok, *save = NULL;
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        const pinset_rule *r;

        (void)snprintf(cfg, sizeof(cfg), "%s", json_string_value(json_object_get(c, "config")));
        for (tok = strtok_r(cfg, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') {
                tok++;
            }
            (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc),
                           "%s\"%.*s\": {\"TSKIncludeSubdomains\": %s, \"TSKPublicKeyHashes\": "
                           "[" TWO "]}",
                           doc[strlen(doc) - 1] == '{' ? "" : ", ", (int)strcspn(tok, " "), tok,
                           strstr(tok, "+sub") != NULL ? "true" : "false");
        }
        (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "}}}");
        if (import_json(&p, NULL, doc, (int)(i % 2), PINSET_FORMAT_TRUSTKIT_PLIST, &d) !=
            PINSET_OK) {
            fail_msg("lookup case %zu: refused: %s", i, d.message);
        }
        r = pinset_policy_lookup(p, host, strlen(host), NULL);
        if (json_is_null(expect)) {
            assert_null(r);
        } else {
            (void)snprintf(want, sizeof(want), "%.*s", (int)strcspn(json_string_value(expect), " "),
                           json_string_value(expect));
            if (r == NULL || strcmp(pinset_rule_host(r), want) != 0) {
                fail_msg("lookup case %zu: '%s' matched '%s', want '%s'", i, host,
                         r != NULL ? pinset_rule_host(r) : "(none)", want);
            }
        }
        pinset_policy_free(p);
    }
    assert_int_equal(json_array_size(cases), 10);
    json_decref(v);
}

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
#define XML_TAIL "</dict></plist>\n"
#define TK_DOMAIN(body)                                                                        \
    XML_HEAD "<key>TSKConfiguration</key><dict><key>TSKPinnedDomains</key><dict><key>good.com" \
             "</key><dict>" body "</dict></dict></dict>" XML_TAIL
#define HASHES                                                                     \
    "<key>TSKPublicKeyHashes</key><array><string>" PIN_T "</string><string>" PIN_A \
    "</string></array>"

/* What a plist can hold and TrustKit cannot read: refused with the key path. */
static void tk_wrong_types(void **state)
{
    static const struct {
        const char *doc, *path, *msg;
    } cases[] = {
        {TK_DOMAIN("<key>TSKPublicKeyHashes</key><array><data>AAAA</data></array>"),
         "TSKConfiguration.TSKPinnedDomains[\"good.com\"].TSKPublicKeyHashes[0]", "a <data>"},
        {TK_DOMAIN(HASHES "<key>TSKIncludeSubdomains</key><real>1.0</real>"),
         "TSKConfiguration.TSKPinnedDomains[\"good.com\"].TSKIncludeSubdomains", "a <real>"},
        {TK_DOMAIN(HASHES "<key>TSKReportUris</key><date>2030-01-01T00:00:00Z</date>"),
         "TSKConfiguration.TSKPinnedDomains[\"good.com\"].TSKReportUris", "a <date>"},
        {TK_DOMAIN(HASHES "<key>TSKEnforcePinning</key><integer>1</integer>"),
         "TSKConfiguration.TSKPinnedDomains[\"good.com\"].TSKEnforcePinning", "boolean"},
        {TK_DOMAIN("<key>TSKPublicKeyHashes</key><string>" PIN_T "</string>"),
         "TSKConfiguration.TSKPinnedDomains[\"good.com\"].TSKPublicKeyHashes", "array"},
        {XML_HEAD "<key>TSKConfiguration</key><array/>" XML_TAIL, "TSKConfiguration",
         "not a <dict>"},
        {XML_HEAD "<key>CFBundleName</key><string>x</string>" XML_TAIL, "", "no TSKConfiguration"},
        {"<?xml version=\"1.0\"?><plist version=\"1.0\"><array/></plist>", "",
         "root is an <array>"},
        {"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>a</key>", "",
         "not a valid XML property list"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err = import_raw(&p, NULL, cases[i].doc, strlen(cases[i].doc),
                                    PINSET_FORMAT_TRUSTKIT_PLIST, &d);
        if (err != PINSET_E_PARSE || strstr(d.message, cases[i].msg) == NULL ||
            strcmp(d.path, cases[i].path) != 0) {
            fail_msg("case %zu: %s '%s' at '%s'", i, pinset_err_name(err), d.message, d.path);
        }
        assert_null(p);
    }
}

/* A <date> where TrustKit reads 'yyyy-MM-dd': its UTC date, listed. */
static void tk_date_expiry(void **state)
{
    static const char doc[] =
        TK_DOMAIN(HASHES "<key>TSKExpirationDate</key><date>2030-01-02T00:00:00Z</date>");
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(import_raw(&p, &f, doc, strlen(doc), PINSET_FORMAT_TRUSTKIT_PLIST, &d),
                     PINSET_OK);
    assert_int_equal(pinset_rule_expires(pinset_policy_rule(p, 0)), 1893542400); /* 2030-01-02 */
    assert_true(find_loss(f, "TSKExpirationDate", "a <date>") >= 0);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

/* ---- ATS ---- */

#define ATS(domains)                                                                              \
    XML_HEAD "<key>CFBundleName</key><string>App</string><key>NSAppTransportSecurity</key><dict>" \
             "<key>NSPinnedDomains</key><dict>" domains "</dict></dict>" XML_TAIL
#define ID(b64) "<dict><key>SPKI-SHA256-BASE64</key><string>" b64 "</string></dict>"

static pinset_policy *ats_ok(const char *doc, pinset_fidelity **f)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    if (import_raw(&p, f, doc, strlen(doc), PINSET_FORMAT_ATS, &d) != PINSET_OK) {
        fail_msg("refused: %s at '%s'", d.message, d.path);
    }
    return p;
}

/* NSIncludesSubdomains: the domain and the names one label below it, not deeper (Apple's docs). */
static void ats_subdomain_scope(void **state)
{
    static const char doc[] = ATS(
        "<key>example.com</key><dict><key>NSIncludesSubdomains</key><true/>"
        "<key>NSPinnedCAIdentities</key><array>" ID(
            PIN_A) "</array></dict>"
                   "<key>Leaf.Example.org</key><dict><key>NSPinnedLeafIdentities</key><array>" ID(
                       PIN_T) ID(PIN_A) "</array></dict>");
    pinset_fidelity *f = NULL;
    pinset_policy *p = ats_ok(doc, &f);
    const pinset_rule *r;

    (void)state;
    r = pinset_policy_lookup(p, "example.com", 11, NULL);
    assert_non_null(r);
    assert_int_equal(pinset_rule_scope(r), PINSET_SCOPE_EXACT);
    assert_int_equal(pinset_rule_pin_role(r, 0), PINSET_ROLE_CA);
    r = pinset_policy_lookup(p, "math.example.com", 16, NULL);
    assert_non_null(r);
    assert_int_equal(pinset_rule_scope(r), PINSET_SCOPE_ONE_LABEL);
    assert_int_equal(pinset_rule_pin_role(r, 0), PINSET_ROLE_CA);
    assert_null(pinset_policy_lookup(p, "advanced.math.example.com", 25, NULL));
    r = pinset_policy_lookup(p, "leaf.example.org", 16, NULL);
    assert_non_null(r);
    assert_int_equal(pinset_rule_pin_count(r), 2);
    assert_int_equal(pinset_rule_pin_role(r, 1), PINSET_ROLE_LEAF);
    assert_null(pinset_policy_lookup(p, "a.leaf.example.org", 18, NULL));
    assert_int_equal(pinset_fidelity_count(f), 0);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static void ats_listed(void **state)
{
    static const char doc[] = XML_HEAD
        "<key>NSAppTransportSecurity</key><dict><key>NSAllowsArbitraryLoads</key><false/>"
        "<key>NSPinnedDomains</key><dict><key>example.com</key><dict>"
        "<key>NSPinnedLeafIdentities</key><array>" ID(PIN_T) ID(
            PIN_T) "</array>"
                   "<key>NSPinnedCAIdentities</key><array>" ID(
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=") "</array>"
                                                                       "<key>NSExceptionMinimumTLSVersion</key><string>TLSv1.2</string>"
                                                                       "</dict><key>192.0.2.1</key><dict><key>NSIncludesSubdomains</key><true/>"
                                                                       "<key>NSPinnedLeafIdentities</key><array>" ID(
                                                                           PIN_T) "</array></dict></dict></dict>" XML_TAIL;
    pinset_fidelity *f = NULL;
    pinset_policy *p = ats_ok(doc, &f);
    const pinset_rule *r = pinset_policy_lookup(p, "example.com", 11, NULL);
    char b64[64];

    (void)state;
    assert_true(find_loss(f, "NSAppTransportSecurity.NSAllowsArbitraryLoads", "not pinning") >= 0);
    assert_true(find_loss(f, "NSPinnedLeafIdentities[1]", "twice") >= 0);
    assert_true(find_loss(f, "NSPinnedCAIdentities[0].SPKI-SHA256-BASE64", "not canonical") >= 0);
    assert_true(find_loss(f, "NSExceptionMinimumTLSVersion", "not read") >= 0);
    assert_true(find_loss(f, "[\"example.com\"]", "wider than ATS") >= 0);
    assert_true(find_loss(f, "[\"192.0.2.1\"].NSIncludesSubdomains", "IP address") >= 0);
    assert_int_equal(pinset_rule_pin_count(r), 2);
    assert_int_equal(
        pinset_pin_format(b64, sizeof(b64), pinset_rule_pin(r, 1), PINSET_PIN_FMT_BASE64),
        PINSET_OK);
    assert_string_equal(b64, PIN_A);                  /* stored canonical */
    assert_int_equal(pinset_policy_rule_count(p), 2); /* the IP address: one rule */
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static void ats_refusals(void **state)
{
    static const struct {
        const char *doc, *path, *msg;
    } cases[] = {
        {ATS("<key>example.com</key><dict><key>NSIncludesSubdomains</key><true/></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"example.com\"]", "no identity"},
        {ATS("<key>example.com</key><dict><key>NSPinnedLeafIdentities</key><array/></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"example.com\"]", "no identity"},
        {ATS("<key>example.com</key><dict><key>NSIncludesSubdomains</key><string>YES</string>"
             "<key>NSPinnedLeafIdentities</key><array>" ID(PIN_T) "</array></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"example.com\"].NSIncludesSubdomains",
         "not <true/> or <false/>"},
        {ATS("<key>example.com</key><dict><key>NSPinnedLeafIdentities</key><array>"
             "<dict><key>SPKI-SHA256-BASE64</key><data>AAAA</data></dict></array></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"example.com\"].NSPinnedLeafIdentities[0]."
         "SPKI-SHA256-BASE64",
         "a <data>, not a <string>"},
        {ATS("<key>example.com</key><dict><key>NSPinnedCAIdentities</key><array>" ID(
             "sha256/" PIN_T) "</array></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"example.com\"].NSPinnedCAIdentities[0]."
         "SPKI-SHA256-BASE64",
         "not the base64"},
        {ATS("<key>example.com</key><dict><key>NSPinnedCAIdentities</key><dict/></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"example.com\"].NSPinnedCAIdentities",
         "not an <array>"},
        {ATS("<key>*.example.com</key><dict><key>NSPinnedLeafIdentities</key><array>" ID(
             PIN_T) "</array></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"*.example.com\"]", "not a domain name"},
        {ATS("<key>example.com</key><dict><key>NSPinnedLeafIdentities</key><array>" ID(
             PIN_T) "</array></dict><key>EXAMPLE.com</key><dict><key>NSPinnedLeafIdentities</key>"
                    "<array>" ID(PIN_T) "</array></dict>"),
         "NSAppTransportSecurity.NSPinnedDomains[\"EXAMPLE.com\"]", "a second entry"},
        {XML_HEAD "<key>NSAppTransportSecurity</key><dict/>" XML_TAIL, "NSAppTransportSecurity",
         "no NSPinnedDomains"},
        {XML_HEAD XML_TAIL, "", "no NSAppTransportSecurity"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pinset_policy *p = NULL;
        pinset_fidelity *f = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err =
            import_raw(&p, &f, cases[i].doc, strlen(cases[i].doc), PINSET_FORMAT_ATS, &d);
        if (err != PINSET_E_PARSE || strstr(d.message, cases[i].msg) == NULL ||
            strcmp(d.path, cases[i].path) != 0) {
            fail_msg("case %zu: %s '%s' at '%s'", i, pinset_err_name(err), d.message, d.path);
        }
        assert_null(p);
        assert_null(f);
    }
}

/* More identities than a rule may hold: refused before any is compared with another. */
static void ats_too_many_identities(void **state)
{
    size_t cap = 300 * 128 + 1024, n = 0;
    char *doc = malloc(cap);
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    n += (size_t)snprintf(doc + n, cap - n,
                          XML_HEAD "<key>NSAppTransportSecurity</key><dict><key>NSPinnedDomains"
                                   "</key><dict><key>a.example</key><dict><key>"
                                   "NSPinnedLeafIdentities</key><array>");
    for (int i = 0; i < 257; i++) {
        n += (size_t)snprintf(doc + n, cap - n, ID(PIN_T));
    }
    (void)snprintf(doc + n, cap - n, "</array></dict></dict></dict>" XML_TAIL);
    assert_int_equal(import_raw(&p, NULL, doc, strlen(doc), PINSET_FORMAT_ATS, &d), PINSET_E_LIMIT);
    assert_string_equal(d.path, "NSAppTransportSecurity.NSPinnedDomains[\"a.example\"]."
                                "NSPinnedLeafIdentities");
    assert_null(p);
    free(doc);
}

/* An Info.plist with both TrustKit's and ATS's pins: each reader lists the other's. */
static void both_in_one_plist(void **state)
{
    static const char doc[] =
        XML_HEAD "<key>TSKConfiguration</key><dict><key>TSKPinnedDomains</key><dict><key>good.com"
                 "</key><dict>" HASHES "</dict></dict></dict><key>NSAppTransportSecurity</key>"
                 "<dict><key>NSPinnedDomains</key><dict><key>x.example</key><dict>"
                 "<key>NSPinnedLeafIdentities</key><array>" ID(PIN_T) "</array></dict></dict>"
                                                                      "</dict>" XML_TAIL;
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;

    (void)state;
    assert_int_equal(pinset_format_detect((const uint8_t *)doc, strlen(doc), "Info.plist"),
                     PINSET_FORMAT_TRUSTKIT_PLIST);
    assert_int_equal(import_raw(&p, &f, doc, strlen(doc), PINSET_FORMAT_TRUSTKIT_PLIST, NULL),
                     PINSET_OK);
    assert_true(find_loss(f, "NSAppTransportSecurity.NSPinnedDomains", "--from ats") >= 0);
    assert_null(pinset_policy_lookup(p, "x.example", 9, NULL));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    assert_int_equal(import_raw(&p, &f, doc, strlen(doc), PINSET_FORMAT_ATS, NULL), PINSET_OK);
    assert_true(find_loss(f, "TSKConfiguration", "--from trustkit-plist") >= 0);
    assert_null(pinset_policy_lookup(p, "good.com", 8, NULL));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

/* ---- hostile property lists ---- */

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    }
}

/*
 * A binary plist of `nobj` objects with 4-octet offsets and references:
 * object i < nobj-1 an array of `fan` references to refs(i), the last one
 * <false/>. Returns its length.
 */
static size_t bplist(uint8_t *b, size_t nobj, unsigned fan, size_t (*refs)(size_t))
{
    size_t n = 8, *off = calloc(nobj, sizeof(size_t)), ot;

    memcpy(b, "bplist00", 8);
    for (size_t i = 0; i < nobj; i++) {
        off[i] = n;
        if (i == nobj - 1) {
            b[n++] = 0x08;
            continue;
        }
        b[n++] = (uint8_t)(0xA0 | fan);
        for (unsigned k = 0; k < fan; k++) {
            put_be(b + n, refs(i), 4);
            n += 4;
        }
    }
    ot = n;
    for (size_t i = 0; i < nobj; i++) {
        put_be(b + n, off[i], 4);
        n += 4;
    }
    memset(b + n, 0, 32);
    b[n + 6] = 4;
    b[n + 7] = 4;
    put_be(b + n + 8, nobj, 8);
    put_be(b + n + 16, 0, 8);
    put_be(b + n + 24, ot, 8);
    free(off);
    return n + 32;
}

static size_t next_ref(size_t i)
{
    return i + 1;
}

static size_t self_ref(size_t i)
{
    return i;
}

static size_t back_ref(size_t i)
{
    return i == 2 ? 0 : i + 1;
}

static size_t far_ref(size_t i)
{
    return i + 60000;
}

static void expect_hostile(const uint8_t *b, size_t len, pinset_err want, const char *msg,
                           int has_offset)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = import_raw(&p, NULL, b, len, PINSET_FORMAT_ATS, &d);

    if (err != want || strstr(d.message, msg) == NULL) {
        fail_msg("want %s '%s', got %s '%s'", pinset_err_name(want), msg, pinset_err_name(err),
                 d.message);
    }
    assert_int_equal(d.has_offset, has_offset);
    if (has_offset) {
        assert_true(d.offset < len);
    }
    assert_null(p);
}

static void hostile_binary(void **state)
{
    uint8_t *b = calloc(1, 4 * 1024 * 1024);
    size_t n;

    (void)state;
    /* a cycle through three arrays, and an array holding itself */
    n = bplist(b, 4, 1, back_ref);
    expect_hostile(b, n, PINSET_E_PARSE, "cyclic reference to object 0", 1);
    n = bplist(b, 2, 1, self_ref);
    expect_hostile(b, n, PINSET_E_PARSE, "cyclic reference", 1);
    /* a reference past the last object */
    n = bplist(b, 3, 1, far_ref);
    expect_hostile(b, n, PINSET_E_PARSE, "a reference to object 60000 of 3", 1);
    /* 40 arrays each naming the next twice: 2^40 values once expanded, in 600 octets */
    n = bplist(b, 40, 2, next_ref);
    assert_true(n < 600);
    expect_hostile(b, n, PINSET_E_LIMIT, "expands to more than", 1);
    /* 100,000 nested arrays: libplist 2.2 alone overflows the stack */
    n = bplist(b, 100000, 1, next_ref);
    expect_hostile(b, n, PINSET_E_LIMIT, "nested deeper than 64", 1);
    /* offset table past the end, an object offset inside the trailer, sizes out of range */
    n = bplist(b, 3, 1, next_ref);
    put_be(b + n - 8, n, 8);
    expect_hostile(b, n, PINSET_E_PARSE, "outside the document", 1);
    n = bplist(b, 3, 1, next_ref);
    put_be(b + n - 32 - 12 + 4, n - 10, 4); /* object 1's offset */
    expect_hostile(b, n, PINSET_E_PARSE, "outside the objects", 1);
    n = bplist(b, 3, 1, next_ref);
    b[n - 32 + 7] = 9;
    expect_hostile(b, n, PINSET_E_PARSE, "reference size 9", 1);
    n = bplist(b, 3, 1, next_ref);
    put_be(b + n - 16, 7, 8);
    expect_hostile(b, n, PINSET_E_PARSE, "top object 7 of 3", 1);
    expect_hostile((const uint8_t *)"bplist00\x08", 9, PINSET_E_PARSE, "shorter than", 1);
    /* an array claiming 2^62 elements */
    n = bplist(b, 3, 1, next_ref);
    b[8] = 0xAF;
    b[9] = 0x13;
    expect_hostile(b, n, PINSET_E_PARSE, "past the objects", 1);
    /* a string with a NUL, on which libplist 2.2 aborts: an array holding "a\0b" */
    {
        static const uint8_t nul[] = {'b', 'p', 'l', 'i', 's', 't', '0', '0', 0xA1, 1, 0x53, 'a',
                                      0,   'b', 8,   10,  0,   0,   0,   0,   0,    0, 1,    1,
                                      0,   0,   0,   0,   0,   0,   0,   2,   0,    0, 0,    0,
                                      0,   0,   0,   0,   0,   0,   0,   0,   0,    0, 0,    14};
        expect_hostile(nul, sizeof(nul), PINSET_E_PARSE, "a string holding a NUL", 1);
    }
    /* within the bounds, libplist reads it: the root is an array */
    n = bplist(b, 50, 1, next_ref);
    expect_hostile(b, n, PINSET_E_PARSE, "root is an <array>", 0);
    free(b);
}

static void hostile_xml(void **state)
{
    size_t depth = 10000, n = 0;
    char *b = malloc(depth * 20 + 256);
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    static const char utf16[] = "\xff\xfe<\0p\0l\0i\0s\0t\0>\0";

    (void)state;
    n += (size_t)snprintf(b + n, 64, "<?xml version=\"1.0\"?><plist version=\"1.0\">");
    for (size_t i = 0; i < depth; i++) {
        memcpy(b + n, "<array>", 7);
        n += 7;
    }
    for (size_t i = 0; i < depth; i++) {
        memcpy(b + n, "</array>", 8);
        n += 8;
    }
    n += (size_t)snprintf(b + n, 64, "</plist>");
    assert_int_equal(import_raw(&p, NULL, b, n, PINSET_FORMAT_TRUSTKIT_PLIST, &d), PINSET_E_LIMIT);
    assert_non_null(strstr(d.message, "nested deeper than 64"));
    assert_true(d.has_offset);
    free(b);
    /* a million and one elements: refused before libplist builds a node for each */
    b = malloc(8 * 1000001 + 64);
    n = (size_t)snprintf(b, 64, "<plist version=\"1.0\"><array>");
    for (size_t i = 0; i < 1000001; i++) {
        memcpy(b + n, "<true/>", 7);
        n += 7;
    }
    assert_int_equal(import_raw(&p, NULL, b, n, PINSET_FORMAT_ATS, &d), PINSET_E_LIMIT);
    assert_non_null(strstr(d.message, "more than 1000000 elements"));
    free(b);
    /* over 64 MiB: refused unread */
    b = calloc(1, 65 * 1024 * 1024);
    assert_int_equal(import_raw(&p, NULL, b, 65 * 1024 * 1024, PINSET_FORMAT_ATS, &d),
                     PINSET_E_LIMIT);
    free(b);
    assert_int_equal(import_raw(&p, NULL, utf16, sizeof(utf16) - 1, PINSET_FORMAT_ATS, &d),
                     PINSET_E_PARSE);
    assert_int_equal(import_raw(&p, NULL, "", 0, PINSET_FORMAT_ATS, &d), PINSET_E_PARSE);
    /* a raw NUL in a string (XML has none; libplist 2.2 takes it, then aborts on it) */
    {
        static const char nul[] = "<plist version=\"1.0\"><dict><key>NSAppTransportSecurity</key>"
                                  "<string>a\0b</string></dict></plist>";
        assert_int_equal(import_raw(&p, NULL, nul, sizeof(nul) - 1, PINSET_FORMAT_ATS, &d),
                         PINSET_E_PARSE);
        assert_non_null(strstr(d.message, "a NUL octet"));
        assert_int_equal(d.offset, 69);
    }
    assert_null(p);
}

/* ---- round trips ---- */

static void round_trip(const char *doc, pinset_format fmt, int bin)
{
    pinset_policy *p = formats_parse_native(doc), *q;
    struct sbuf *mid = calloc(1, sizeof(*mid));
    char *in;
    uint32_t len;

    assert_non_null(mid);
    formats_export_whole(pinset_formats_export, p, fmt, NULL, mid);
    in = mid->b;
    len = (uint32_t)mid->n;
    if (bin) { /* the same document as a binary plist */
        plist_t pl = NULL;
        plist_from_xml(mid->b, len, &pl);
        assert_non_null(pl);
        in = NULL;
        plist_to_bin(pl, &in, &len);
        plist_free(pl);
        assert_non_null(in);
    }
    q = formats_import_whole(pinset_formats_import, in, len, fmt, NULL, mid->b);
    if (bin) {
        free(in);
    }
    formats_assert_same(p, q);
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(mid);
}

static void round_trips(void **state)
{
    static const char tk[] =
        "{\"version\": 1, \"rules\": [{\"host\": \"good.com\", \"include_subdomains\": true, "
        "\"pins\": [" TWO "], \"expires\": \"2030-01-02\", \"on_expiry\": \"fail-open\", "
        "\"report_uris\": [\"https://r.good.com/a\"]}, "
        "{\"host\": \"www.good.com\", \"exclude\": true}, {\"host\": \"api.example.org\", "
        "\"mode\": \"report\", \"pins\": [\"" PIN_A "\"]}, "
        "{\"host\": \"xn--bcher-kva.de\", \"pins\": [" TWO "]}]}";
    static const char ats[] =
        "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": ["
        "{\"sha256\": \"" PIN_T "\", \"role\": \"leaf\"}, {\"sha256\": \"" PIN_A
        "\", \"role\": \"leaf\"}]}, {\"host\": \"example.com\", \"include_subdomains\": "
        "\"one-label\", \"pins\": [{\"sha256\": \"" PIN_T "\", \"role\": \"leaf\"}, "
        "{\"sha256\": \"" PIN_A "\", \"role\": \"leaf\"}]}, {\"host\": \"ca.example.net\", "
        "\"pins\": [{\"sha256\": \"" PIN_A "\", \"role\": \"ca\"}, {\"sha256\": \"" PIN_T
        "\", \"role\": \"ca\"}]}, {\"host\": \"192.0.2.7\", \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"role\": \"leaf\"}, {\"sha256\": \"" PIN_A "\", \"role\": \"leaf\"}]}]}";

    (void)state;
    round_trip(tk, PINSET_FORMAT_TRUSTKIT_PLIST, 0);
    round_trip(tk, PINSET_FORMAT_TRUSTKIT_PLIST, 1);
    round_trip(ats, PINSET_FORMAT_ATS, 0);
    round_trip(ats, PINSET_FORMAT_ATS, 1);
}

/* ATS export: what ATS cannot say is listed; what it cannot carry at all is refused. */
static void ats_export_lists(void **state)
{
    pinset_policy *p = formats_parse_native(
        "{\"version\": 1, \"pinsets\": {\"k\": {\"pins\": [\"" PIN_T "\"]}}, \"rules\": ["
        "{\"host\": \"good.com\", \"include_subdomains\": true, \"pinset\": \"k\", \"mode\": "
        "\"report\", \"expires\": \"2030-01-01\", \"on_expiry\": \"fail-open\", \"pins\": "
        "[{\"sha256\": \"4d012d74c6e6c058185227ccc0b0c5fb1804b5dd33ebd98f1a6929d35e1de996\", "
        "\"kind\": \"cert\"}], \"blocked\": [\"" PIN_A "\"], \"report_uris\": "
        "[\"https://r.example/\"]}, {\"host\": \"www.good.com\", \"exclude\": true}, "
        "{\"host\": \"x.org\", \"include_subdomains\": \"one-label\", \"pins\": [{\"sha256\": \"" PIN_A
        "\", \"role\": \"leaf\"}, {\"sha256\": \"" PIN_T "\", \"role\": \"ca\"}]}]}");
    pinset_policy *cert =
        formats_parse_native("{\"version\": 1, \"rules\": [{\"host\": \"good.com\", \"pins\": "
                             "[{\"sha256\": \"" PIN_A "\", \"kind\": \"cert\"}]}]}");
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));
    pinset_diag d = PINSET_DIAG_INIT;
    static const char *const want[][2] = {
        {"pins[0].role", "written as a leaf identity"},
        {"pins[1]", "cert pin is not written"},
        {"include_subdomains", "deeper names are not pinned"},
        {"mode", "report-only"},
        {"expires", "do not expire"},
        {"report_uris", "no reports"},
        {"blocked", "no blocked keys"},
        {"pinset", "named pin-sets"},
        {"exclude", "no exclusions"},
        {"include_subdomains", "the host is pinned as well"},
        {"pins", "ATS is stricter"},
    };
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;

    (void)state;
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ATS, NULL, sink, out, &d),
                     PINSET_OK);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (find_loss(f, want[i][0], want[i][1]) < 0) {
            fail_msg("not listed: %s (%s)", want[i][0], want[i][1]);
        }
    }
    assert_non_null(strstr(out->b, "<key>x.org</key>"));
    assert_int_equal(pinset_fidelity_count(f), sizeof(want) / sizeof(want[0]));
    assert_null(strstr(out->b, "www.good.com"));
    pinset_fidelity_free(f);
    out->n = 0;
    assert_int_equal(pinset_formats_export(&f, cert, PINSET_FORMAT_ATS, NULL, sink, out, &d),
                     PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "no key pin that ATS can carry"));
    assert_int_equal(out->n, 0);
    assert_null(f);
    o.host = "nothere.example";
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ATS, &o, sink, out, &d),
                     PINSET_E_UNSUPPORTED);
    pinset_policy_free(p);
    pinset_policy_free(cert);
    free(out);
}

/* A host rule and its one-label rule become one domain; what the one-label rule says beyond
 * its pins (here report URIs) is listed against it, not dropped. */
static void ats_export_merge_lists_partner(void **state)
{
    pinset_policy *p = formats_parse_native(
        "{\"version\": 1, \"rules\": [{\"host\": \"good.com\", \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"role\": \"leaf\"}]}, {\"host\": \"good.com\", \"include_subdomains\": \"one-label\", "
        "\"report_uris\": [\"https://r.example/\"], \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"role\": \"leaf\"}]}]}");
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));

    (void)state;
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ATS, NULL, sink, out, NULL),
                     PINSET_OK);
    assert_non_null(strstr(out->b, "<key>NSIncludesSubdomains</key>\n\t\t\t\t<true/>"));
    assert_int_equal(pinset_fidelity_count(f), 1);
    assert_int_equal(pinset_fidelity_rule(f, 0), 1);
    assert_string_equal(pinset_fidelity_field(f, 0), "report_uris");
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    free(out);
}

/* ---- Envoy, read back with libyaml's parser ---- */

static yaml_node_t *get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    assert_int_equal(map->type, YAML_MAPPING_NODE);
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0) {
            return yaml_document_get_node(doc, pr->value);
        }
    }
    return NULL;
}

static const char *item(yaml_document_t *doc, yaml_node_t *seq, size_t i)
{
    yaml_node_t *n;

    assert_non_null(seq);
    assert_int_equal(seq->type, YAML_SEQUENCE_NODE);
    assert_true(seq->data.sequence.items.start + i < seq->data.sequence.items.top);
    n = yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
    assert_int_equal(n->type, YAML_SCALAR_NODE);
    return (const char *)n->data.scalar.value;
}

static void envoy_yaml(void **state)
{
    pinset_policy *p = formats_parse_native(
        "{\"version\": 1, \"rules\": [{\"host\": \"api.example.com\", \"pins\": ["
        "{\"sha256\": \"" PIN_T "\", \"role\": \"leaf\"}, {\"sha256\": \"" PIN_A
        "\", \"role\": \"ca\"}, {\"sha256\": "
        "\"1111111111111111111111111111111111111111111111111111111111111111\", \"kind\": "
        "\"cert\", \"role\": \"leaf\"}]}, {\"host\": \"192.0.2.9\", \"mode\": \"report\", "
        "\"pins\": [\"" PIN_A "\"]}, {\"host\": \"example.org\", \"include_subdomains\": true, "
        "\"pins\": [\"" PIN_T "\"]}, {\"host\": \"www.example.org\", \"exclude\": true}]}");
    pinset_policy *ca =
        formats_parse_native("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": "
                             "[{\"sha256\": \"" PIN_A "\", \"role\": \"ca\"}]}]}");
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));
    pinset_diag d = PINSET_DIAG_INIT;
    yaml_parser_t yp;
    yaml_document_t doc[4];
    size_t ndoc = 0;
    yaml_node_t *vc;
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;

    (void)state;
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ENVOY, NULL, sink, out, &d),
                     PINSET_OK);
    assert_true(yaml_parser_initialize(&yp));
    yaml_parser_set_input_string(&yp, (const unsigned char *)out->b, out->n);
    for (;;) {
        assert_true(ndoc < 4);
        assert_true(yaml_parser_load(&yp, &doc[ndoc]));
        if (yaml_document_get_root_node(&doc[ndoc]) == NULL) {
            yaml_document_delete(&doc[ndoc]);
            break;
        }
        ndoc++;
    }
    yaml_parser_delete(&yp);
    assert_int_equal(ndoc, 3); /* the exclusion is not written */
    /* 1: sni, the leaf key and the leaf certificate; the CA pin is not written */
    assert_string_equal(
        (char *)get(&doc[0], yaml_document_get_root_node(&doc[0]), "sni")->data.scalar.value,
        "api.example.com");
    vc = get(&doc[0], get(&doc[0], yaml_document_get_root_node(&doc[0]), "common_tls_context"),
             "validation_context");
    assert_non_null(vc);
    assert_string_equal(item(&doc[0], get(&doc[0], vc, "verify_certificate_spki"), 0), PIN_T);
    assert_int_equal(get(&doc[0], vc, "verify_certificate_spki")->data.sequence.items.top -
                         get(&doc[0], vc, "verify_certificate_spki")->data.sequence.items.start,
                     1);
    assert_string_equal(item(&doc[0], get(&doc[0], vc, "verify_certificate_hash"), 0),
                        "1111111111111111111111111111111111111111111111111111111111111111");
    /* 2: an IP address: no sni */
    assert_null(get(&doc[1], yaml_document_get_root_node(&doc[1]), "sni"));
    for (size_t i = 0; i < ndoc; i++) {
        yaml_document_delete(&doc[i]);
    }
    assert_true(find_loss(f, "pins[1]", "a CA pin is not written") >= 0);
    assert_true(find_loss(f, "host", "IP address") >= 0);
    assert_true(find_loss(f, "mode", "report-only") >= 0);
    assert_true(find_loss(f, "pins[0].role", "matches only the leaf") >= 0);
    assert_true(find_loss(f, "include_subdomains", "one host") >= 0);
    assert_true(find_loss(f, "exclude", "no exclusions") >= 0);
    pinset_fidelity_free(f);
    /* one host */
    out->n = 0;
    o.host = "EXAMPLE.org";
    assert_int_equal(pinset_formats_export(&f, p, PINSET_FORMAT_ENVOY, &o, sink, out, &d),
                     PINSET_OK);
    assert_non_null(strstr(out->b, "sni: example.org\n"));
    assert_null(strstr(out->b, "api.example.com"));
    pinset_fidelity_free(f);
    /* CA pins only: nothing Envoy can check */
    out->n = 0;
    assert_int_equal(pinset_formats_export(&f, ca, PINSET_FORMAT_ENVOY, NULL, sink, out, &d),
                     PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "no leaf pin"));
    assert_int_equal(out->n, 0);
    /* and Envoy is written only */
    {
        pinset_policy *none = NULL;
        assert_int_equal(import_raw(&none, NULL, "a: b", 4, PINSET_FORMAT_ENVOY, &d),
                         PINSET_E_UNSUPPORTED);
        assert_null(none);
    }
    pinset_policy_free(p);
    pinset_policy_free(ca);
    free(out);
}

static void detection(void **state)
{
    uint32_t len = 0;
    char *tk = plist_of("{\"TSKConfiguration\": {\"TSKPinnedDomains\": {}}}", 1, &len);
    static const char ats[] = ATS("");

    (void)state;
    assert_int_equal(pinset_format_detect((const uint8_t *)tk, len, NULL),
                     PINSET_FORMAT_TRUSTKIT_PLIST);
    assert_int_equal(pinset_format_detect((const uint8_t *)ats, strlen(ats), "Info.plist"),
                     PINSET_FORMAT_ATS);
    free(tk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tk_corpus_config_cases),
        cmocka_unit_test(tk_corpus_lookups),
        cmocka_unit_test(tk_wrong_types),
        cmocka_unit_test(tk_date_expiry),
        cmocka_unit_test(ats_subdomain_scope),
        cmocka_unit_test(ats_listed),
        cmocka_unit_test(ats_refusals),
        cmocka_unit_test(ats_too_many_identities),
        cmocka_unit_test(both_in_one_plist),
        cmocka_unit_test(hostile_binary),
        cmocka_unit_test(hostile_xml),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(ats_export_lists),
        cmocka_unit_test(ats_export_merge_lists_partner),
        cmocka_unit_test(envoy_yaml),
        cmocka_unit_test(detection),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
