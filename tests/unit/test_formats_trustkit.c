/*
 * test_formats_trustkit.c - TrustKit's configuration as JSON
 * (PINSET_FORMAT_TRUSTKIT, src/lib/formats/trustkit.c): every configuration
 * and lookup case of tests/corpora/vectors/trustkit.json, its validator
 * cases that the model and the verdict decide (on TrustKit's own
 * certificates in tests/corpora/trustkit-certs), what TrustKit rejects
 * (import errors with the JSON path and position) and ignores (the fidelity
 * list), hostile input, the exporter, round trips and allocation failures.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pinset/check.h>
#include <pinset/convert.h>
#include <pinset/policy.h>

#include "formats_test.h"
#include "internal.h"

#define PIN_T "TQEtdMbmwFgYUifM4LDF+xgEtd0z69mPGmkp014d6ZY="
#define PIN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define TWO   "\"" PIN_T "\", \"" PIN_A "\""
#define NOW   1795737600 /* 2026-11-27T00:00:00Z */

static pinset_err import(pinset_policy **p, pinset_fidelity **f, const char *text, pinset_diag *d)
{
    return pinset_policy_import(p, f, (const uint8_t *)text, strlen(text), PINSET_FORMAT_TRUSTKIT,
                                NULL, d);
}

static pinset_policy *import_ok(const char *text)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    if (import(&p, NULL, text, &d) != PINSET_OK) {
        fail_msg("refused '%s': %s (%s)", text, d.message, d.path);
    }
    return p;
}

/* The corpus writes TrustKit's keys short: hashes, includeSubdomains,
 * excludeSubdomainFromParentPolicy. */
static void tk_domain(char *doc, size_t cap, const char *host, json_t *e, int first)
{
    json_t *hashes = json_object_get(e, "hashes"), *h;
    size_t n = strlen(doc), i;
    const char *sep = "";

    n += (size_t)snprintf(doc + n, cap - n, "%s\"%s\": {", first ? "" : ",", host);
    if (json_object_get(e, "includeSubdomains") != NULL) {
        n += (size_t)snprintf(doc + n, cap - n, "\"TSKIncludeSubdomains\": %s",
                              json_is_true(json_object_get(e, "includeSubdomains")) ? "true"
                                                                                    : "false");
        sep = ", ";
    }
    if (json_object_get(e, "excludeSubdomainFromParentPolicy") != NULL) {
        n += (size_t)snprintf(
            doc + n, cap - n, "%s\"TSKExcludeSubdomainFromParentPolicy\": %s", sep,
            json_is_true(json_object_get(e, "excludeSubdomainFromParentPolicy")) ? "true"
                                                                                 : "false");
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

/* ---- the corpus: configuration cases ---- */

static void expect_reject(const char *doc, const char *what)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = import(&p, &f, doc, &d);

    if (err == PINSET_OK) {
        fail_msg("%s: accepted '%s'", what, doc);
    }
    assert_int_equal(err, PINSET_E_PARSE);
    assert_null(p);
    assert_null(f);
    assert_true(d.line > 0 && d.column > 0); /* where, as well as why */
    assert_true(strstr(d.path, "TSKPinnedDomains") == d.path);
    assert_non_null(strstr(d.message, "TrustKit refuses"));
}

/* The cases stated in words: one configuration each, built here. */
static void rule_case(const char *name, const char *expect)
{
    if (strstr(name, "invalid pin") != NULL) {
        expect_reject("{\"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": [\"" PIN_T
                      "\", \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"]}}}",
                      name);
    } else if (strstr(name, "invalid domain") != NULL) {
        expect_reject("{\"TSKPinnedDomains\": {\"good.nosuchtld\": {\"TSKPublicKeyHashes\": [" TWO
                      "]}}}",
                      name);
        expect_reject(
            "{\"TSKPinnedDomains\": {\"localhost\": {\"TSKPublicKeyHashes\": [" TWO "]}}}", name);
    } else if (strstr(name, "enforcePinning=NO") != NULL) {
        pinset_policy *p =
            import_ok("{\"TSKPinnedDomains\": {\"good.com\": {\"TSKEnforcePinning\": "
                      "false, \"TSKPublicKeyHashes\": [\"" PIN_T "\"]}}}");
        const pinset_rule *r = pinset_policy_rule(p, 0);
        assert_int_equal(pinset_rule_mode(r), PINSET_MODE_REPORT);
        assert_int_equal(pinset_rule_min_pins(r), 1);
        pinset_policy_free(p);
    } else if (strstr(name, "bad expiration") != NULL) {
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        assert_int_equal(import(&p, NULL,
                                "{\"TSKPinnedDomains\": {\"good.com\": {\"TSKExpirationDate\": "
                                "\"01/01/2030\", \"TSKPublicKeyHashes\": [" TWO "]}}}",
                                &d),
                         PINSET_E_PARSE);
        assert_string_equal(d.path, "TSKPinnedDomains[\"good.com\"].TSKExpirationDate");
    } else {
        fail_msg("unknown rule case '%s' (%s)", name, expect);
    }
}

static void corpus_config_cases(void **state)
{
    json_t *v = load_vectors("trustkit.json"), *cases = json_object_get(v, "config_parse"), *c;
    size_t i, ran = 0;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        json_t *cfg = json_object_get(c, "config"), *e;
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        const char *host;
        char doc[4096] = "{\"TSKSwizzleNetworkDelegates\": false, \"TSKPinnedDomains\": {";
        int first = 1;

        ran++;
        if (cfg == NULL) {
            rule_case(name, expect);
            continue;
        }
        json_object_foreach(cfg, host, e)
        {
            tk_domain(doc, sizeof(doc), host, e, first);
            first = 0;
        }
        (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "}}");
        if (strncmp(expect, "accept", 6) == 0) {
            pinset_policy *p = import_ok(doc);
            const pinset_rule *r = pinset_policy_lookup(p, "unsecured.good.com", 18, NULL);
            assert_non_null(r);
            assert_string_equal(pinset_rule_host(r), "unsecured.good.com");
            assert_int_equal(pinset_rule_is_exclusion(r), strstr(name, "NoPublicKey") != NULL);
            pinset_policy_free(p);
        } else {
            expect_reject(doc, name);
        }
    }
    assert_int_equal(ran, json_array_size(cases));
    assert_int_equal(ran, 11);
    json_decref(v);
}

/* ---- the corpus: lookups, "good.com +sub, www.good.com" ---- */

static void corpus_lookups(void **state)
{
    json_t *v = load_vectors("trustkit.json"), *cases = json_object_get(v, "domain_lookup"), *c;
    size_t i;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        char cfg[256], doc[2048] = "{\"TSKPinnedDomains\": {", want[128];
        const char *host = json_string_value(json_object_get(c, "host"));
        json_t *expect = json_object_get(c, "expect");
        char *tok, *save = NULL;
        pinset_policy *p;
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
        (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "}}");
        p = import_ok(doc);
        r = pinset_policy_lookup(p, host, strlen(host), NULL);
        if (json_is_null(expect)) {
            if (r != NULL) {
                fail_msg("lookup case %zu: '%s' matched '%s'", i, host, pinset_rule_host(r));
            }
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

/* ---- the corpus: validator cases on TrustKit's certificates ---- */

static uint8_t *read_cert(const char *rel, size_t *len)
{
    char path[1024];
    FILE *fp;
    uint8_t *b = malloc(65536);

    (void)snprintf(path, sizeof(path), "%s/tests/corpora/trustkit-certs/%s",
                   getenv("PINSET_SOURCE_DIR"), rel);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    *len = fread(b, 1, 65536, fp);
    fclose(fp);
    return b;
}

/* "TwyN...Jvw= (leaf)": the full pin, from the corpus's table of computed pins. */
static void expand_pin(const json_t *table, const char *abbrev, char *out, size_t cap)
{
    size_t n = strcspn(abbrev, " ");
    const char *dots = strstr(abbrev, "...");
    const char *key;
    json_t *val;

    (void)snprintf(out, cap, "%.*s", (int)n, abbrev);
    if (dots == NULL || dots > abbrev + n) {
        return;
    }
    json_object_foreach((json_t *)table, key, val)
    {
        const char *full = json_string_value(val);
        size_t pre = (size_t)(dots - abbrev), suf = n - pre - 3;
        if (strncmp(full, abbrev, pre) == 0 && strncmp(full + 44 - suf, dots + 3, suf) == 0) {
            (void)snprintf(out, cap, "%.44s", full);
            return;
        }
    }
    if (strncmp(abbrev, "BBBB", 4) == 0) {
        (void)snprintf(out, cap, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=");
        return;
    }
    fail_msg("no pin for '%s'", abbrev);
}

/* What TrustKit decides, as a verdict of the model; 0 when the case is path validation's. */
static pinset_verdict expected_verdict(const char *expect)
{
    if (strstr(expect, "InvalidCertificateChain") != NULL) {
        return PINSET_VERDICT_NONE; /* path validation (the caller's), not the pin check */
    }
    if (strncmp(expect, "Success", 7) == 0) {
        return PINSET_VERDICT_PASS;
    }
    if (strstr(expect, "expired") != NULL) {
        return PINSET_VERDICT_EXPIRED_OPEN;
    }
    if (strstr(expect, "report-only") != NULL) {
        return PINSET_VERDICT_REPORT_ONLY_FAIL;
    }
    if (strstr(expect, "NotPinned") != NULL) {
        return PINSET_VERDICT_NOT_PINNED;
    }
    return PINSET_VERDICT_FAIL;
}

static pinset_verdict run_case(const char *doc, const char *host, const pinset_cert *chain)
{
    pinset_policy *p = import_ok(doc);
    pinset_result *res = NULL;
    pinset_verdict v;

    assert_int_equal(pinset_result_new(&res, NULL), PINSET_OK);
    assert_int_equal(pinset_check(res, p, host, strlen(host), chain, 2, NOW, NULL), PINSET_OK);
    v = pinset_result_verdict(res);
    pinset_result_free(res);
    pinset_policy_free(p);
    return v;
}

static void corpus_validator_cases(void **state)
{
    json_t *v = load_vectors("trustkit.json"), *cases = NULL, *table = NULL, *c, *pin;
    const char *key;
    json_t *val;
    size_t i, j, ran = 0, skipped = 0;
    pinset_cert chain[2];
    uint8_t *leaf, *root;

    (void)state;
    json_object_foreach(v, key, val)
    {
        if (strncmp(key, "validator_cases", 15) == 0) {
            cases = val;
        } else if (strncmp(key, "spki_sha256_of_test_certs", 25) == 0) {
            table = val;
        }
    }
    assert_non_null(cases);
    /* the validated chain of www.good.com: its leaf, then GoodRootCA (the anchor) */
    leaf = read_cert("RSA_4096/www.good.com.der", &chain[0].len);
    root = read_cert("RSA_4096/GoodRootCA.der", &chain[1].len);
    chain[0].der = leaf;
    chain[1].der = root;
    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        json_t *pins = json_object_get(c, "pins"), *exp = json_object_get(c, "expirationDate");
        json_t *enf = json_object_get(c, "enforcePinning");
        pinset_verdict want = expected_verdict(expect);
        char doc[2048], p[64];
        pinset_verdict got;

        if (want == PINSET_VERDICT_NONE) {
            skipped++;
            continue;
        }
        if (pins == NULL) {
            /* testDomainNotPinned / testExcludedSubdomain */
            assert_int_equal(want, PINSET_VERDICT_NOT_PINNED);
            got = run_case("{\"TSKPinnedDomains\": {\"good.com\": {\"TSKIncludeSubdomains\": true, "
                           "\"TSKPublicKeyHashes\": [" TWO "]}, \"www.good.com\": "
                           "{\"TSKExcludeSubdomainFromParentPolicy\": true}}}",
                           "www.good.com", chain);
            assert_int_equal(got, want);
            got = run_case("{\"TSKPinnedDomains\": {\"other.com\": {\"TSKPublicKeyHashes\": [" TWO
                           "]}}}",
                           "www.good.com", chain);
            assert_int_equal(got, want);
            ran++;
            continue;
        }
        (void)snprintf(
            doc, sizeof(doc),
            "{\"TSKPinnedDomains\": {\"www.good.com\": {\"TSKEnforcePinning\": %s%s%s%s, "
            "\"TSKPublicKeyHashes\": [",
            enf != NULL && !json_is_true(enf) ? "false" : "true",
            exp != NULL ? ", \"TSKExpirationDate\": \"" : "",
            exp != NULL ? json_string_value(exp) : "", exp != NULL ? "\"" : "");
        json_array_foreach(pins, j, pin)
        {
            expand_pin(table, json_string_value(pin), p, sizeof(p));
            (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "%s\"%s\"",
                           j == 0 ? "" : ", ", p);
        }
        (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "]}}}");
        got = run_case(doc, "www.good.com", chain);
        if (got != want) {
            fail_msg("%s: verdict %s, want %s", name, pinset_verdict_name(got),
                     pinset_verdict_name(want));
        }
        ran++;
    }
    /* chain stuffing, with the injected certificate's real key: still not on the validated path */
    assert_int_equal(run_case("{\"TSKPinnedDomains\": {\"www.good.com\": {\"TSKPublicKeyHashes\": "
                              "[\"K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=\", \"" PIN_A
                              "\"]}}}",
                              "www.good.com", chain),
                     PINSET_VERDICT_FAIL);
    assert_int_equal(ran, 9);
    assert_int_equal(skipped, 2);
    free(leaf);
    free(root);
    json_decref(v);
}

/* ---- what TrustKit rejects and ignores ---- */

static void rejects_with_path(void **state)
{
    static const struct {
        const char *doc, *path, *msg;
        pinset_err err;
    } cases[] = {
        {"{\"TSKSwizzleNetworkDelegates\": true}", "", "no pinned domains", PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": []}", "TSKPinnedDomains", "expected an object", PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": \"" PIN_T "\"}}}",
         "TSKPinnedDomains[\"good.com\"].TSKPublicKeyHashes", "expected an array", PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"good.com\": {\"TSKIncludeSubdomains\": \"YES\", "
         "\"TSKPublicKeyHashes\": [" TWO "]}}}",
         "TSKPinnedDomains[\"good.com\"].TSKIncludeSubdomains", "expected a boolean",
         PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": [7, \"" PIN_A "\"]}}}",
         "TSKPinnedDomains[\"good.com\"].TSKPublicKeyHashes[0]", "expected a base64",
         PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"good.com\": {\"TSKReportUris\": [\"ftp://x\"], "
         "\"TSKPublicKeyHashes\": [" TWO "]}}}",
         "TSKPinnedDomains[\"good.com\"].TSKReportUris[0]", "not an http(s) report uri",
         PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"127.0.0.1\": {\"TSKPublicKeyHashes\": [" TWO "]}}}",
         "TSKPinnedDomains[\"127.0.0.1\"]", "not IP addresses", PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"b\\u00fccher.de\": {\"TSKPublicKeyHashes\": [" TWO "]}}}", NULL,
         "internationalised", PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": [" TWO "]}, "
         "\"GOOD.com\": {\"TSKPublicKeyHashes\": [" TWO "]}}}",
         "TSKPinnedDomains[\"GOOD.com\"]", "same domain", PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"good.com\": {}, \"good.com\": {}}}", "", "duplicate object key",
         PINSET_E_PARSE},
        {"{\"TSKConfiguration\": {\"TSKPinnedDomains\": {\"github.io\": {\"TSKIncludeSubdomains\": "
         "true, \"TSKPublicKeyHashes\": [" TWO "]}}}}",
         "TSKConfiguration.TSKPinnedDomains[\"github.io\"]", "public suffix", PINSET_E_PARSE},
        {"{\"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": [" TWO "]}}", "",
         "invalid json", PINSET_E_PARSE},
    };

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(cases); i++) {
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err = import(&p, NULL, cases[i].doc, &d);
        if (err != cases[i].err || strstr(d.message, cases[i].msg) == NULL ||
            (cases[i].path != NULL && strcmp(d.path, cases[i].path) != 0)) {
            fail_msg("case %zu: %s '%s' at '%s'", i, pinset_err_name(err), d.message, d.path);
        }
        /* a key written with \u escapes is not found in the text: no position then */
        if (cases[i].path != NULL && (d.line != 1 || d.column == 0)) {
            fail_msg("case %zu: no position", i);
        }
        assert_null(p);
    }
}

static void ignored_keys_are_listed(void **state)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    const pinset_rule *r;

    (void)state;
    assert_int_equal(
        import(
            &p, &f,
            "{\"TSKSwizzleNetworkDelegates\": true, \"TSKIgnorePinningForUserDefinedTrustAnchors\": "
            "false, \"Other\": 1, \"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": "
            "[\"" PIN_T "\", \"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\", \"" PIN_T "\"], "
            "\"TSKPublicKeyAlgorithms\": [\"TSKAlgorithmRsa2048\"], \"TSKFuture\": 1, "
            "\"TSKExpirationDate\": \"2027-03-04\", \"TSKReportUris\": [\"https://r.good.com/\"]}}}",
            NULL),
        PINSET_OK);
    assert_true(formats_find_loss(f, "TSKSwizzleNetworkDelegates") >= 0);
    assert_true(formats_find_loss(f, "TSKIgnorePinningForUserDefinedTrustAnchors") >= 0);
    assert_true(formats_find_loss(f, "Other") >= 0);
    assert_true(formats_find_loss(f, "TSKPublicKeyAlgorithms") >= 0);
    assert_true(formats_find_loss(f, "TSKFuture") >= 0);
    assert_true(formats_find_loss(f, "TSKPublicKeyHashes") >= 0); /* the non-canonical BBBB...B= */
    assert_true(formats_find_loss(f, "TSKDisableDefaultReportUri") >= 0);
    assert_int_equal(pinset_fidelity_count(f), 7);
    assert_int_equal(pinset_fidelity_rule(f, 3), 0);
    assert_string_equal(pinset_fidelity_host(f, 3), "good.com");
    r = pinset_policy_rule(p, 0);
    assert_int_equal(pinset_rule_pin_count(r), 2); /* a set: the repeated pin counts once */
    assert_string_equal(pinset_rule_report_uri(r, 0), "https://r.good.com/");
    assert_int_equal(pinset_rule_expires(r), 1804118400); /* 2027-03-04T00:00:00Z */
    assert_int_equal(pinset_rule_on_expiry(r), PINSET_ON_EXPIRY_FAIL_OPEN);
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_ENFORCE);
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

/* Found by fuzz_trustkit: the host of a list entry written after the report uris grew the arena. */
static void host_survives_arena_growth(void **state)
{
    char *doc = malloc(40000);
    size_t k = (size_t)snprintf(doc, 40000,
                                "{\"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": "
                                "[" TWO "], \"TSKReportUris\": [");
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;

    (void)state;
    for (int i = 0; i < 16; i++) {
        k += (size_t)snprintf(doc + k, 40000 - k, "%s\"https://r.good.com/%02d/", i ? "," : "", i);
        memset(doc + k, 'x', 2000);
        k += 2000;
        doc[k++] = '"';
    }
    (void)snprintf(doc + k, 40000 - k, "], \"TSKFuture\": 1}}}");
    assert_int_equal(import(&p, &f, doc, NULL), PINSET_OK);
    assert_int_equal(pinset_fidelity_count(f), 2);
    assert_string_equal(pinset_fidelity_host(f, 0), "good.com");
    assert_string_equal(pinset_fidelity_host(f, 1), "good.com");
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    free(doc);
}

static void hostile_input(void **state)
{
    size_t n = 100000;
    char *deep = malloc(2 * n + 64);
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    assert_int_equal(import(&p, NULL, deep, &d), PINSET_E_LIMIT);
    assert_int_equal(d.line, 1);
    assert_int_equal(d.column, 17);
    free(deep);
    /* 300 hashes for one domain: more than a rule holds */
    {
        char *doc = malloc(20000);
        size_t k = (size_t)snprintf(
            doc, 20000, "{\"TSKPinnedDomains\": {\"good.com\": {\"TSKPublicKeyHashes\": [");
        for (int i = 0; i < 300; i++) {
            k += (size_t)snprintf(doc + k, 20000 - k, "%s\"" PIN_A "\"", i ? "," : "");
        }
        (void)snprintf(doc + k, 20000 - k, "]}}}");
        assert_int_equal(import(&p, NULL, doc, &d), PINSET_E_LIMIT);
        assert_string_equal(d.path, "TSKPinnedDomains[\"good.com\"].TSKPublicKeyHashes");
        free(doc);
    }
    assert_int_equal(import(&p, NULL, "{\"TSKPinnedDomains\": {\"a\\u0000.com\": {}}}", &d),
                     PINSET_E_PARSE);
    assert_null(strchr(d.path, '\n'));
    /* jansson quotes the input in its message: kept on one line */
    assert_int_equal(import(&p, NULL, "{\"TSK\\\n\n/{{{}", &d), PINSET_E_PARSE);
    assert_null(strchr(d.message, '\n'));
    assert_int_equal(import(&p, NULL, "\xff\xfe{", &d), PINSET_E_PARSE);
    assert_int_equal(import(&p, NULL, "", &d), PINSET_E_PARSE);
    assert_null(p);
}

/* ---- export ---- */

static pinset_err export(const pinset_policy *p, const char *host, pinset_fidelity **f,
                         struct sbuf *out, pinset_diag *d)
{
    return formats_export(p, PINSET_FORMAT_TRUSTKIT, host, 0, f, out, d);
}

#define LOSSY                                                                                      \
    "{\"version\": 1, \"pinsets\": {\"ps\": {\"pins\": [{\"sha256\": \"" PIN_A "\", \"label\": "   \
    "\"x\"}]}}, \"rules\": [{\"host\": \"good.com\", \"pinset\": \"ps\", \"pins\": [{\"sha256\": " \
    "\"" PIN_T "\", \"role\": \"leaf\", \"not_after\": \"2030-01-01\"}, {\"sha256\": \"" PIN_T     \
    "\", \"kind\": \"cert\"}], \"blocked\": [\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=\"], "  \
    "\"min_pins\": 3, \"expires\": \"2030-01-01T12:00:00Z\", \"on_expiry\": \"fail-closed\"}]}"

static void export_lists_what_trustkit_cannot_say(void **state)
{
    pinset_policy *p = formats_parse_native(LOSSY);
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));
    static const char *const lost[] = {"pins[1].role", "pins[1].not_after", "pins[2]",
                                       "expires",      "on_expiry",         "min_pins",
                                       "pinset",       "pins[0].label",     "blocked"};

    (void)state;
    assert_int_equal(export(p, NULL, &f, out, NULL), PINSET_OK);
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(lost); i++) {
        if (formats_find_loss(f, lost[i]) < 0) {
            fail_msg("'%s' not listed", lost[i]);
        }
    }
    assert_int_equal(pinset_fidelity_count(f), PINSET_ARRAY_SIZE(lost));
    assert_non_null(strstr(out->b, "\"TSKExpirationDate\": \"2030-01-01\""));
    assert_non_null(strstr(out->b, "\"TSKDisableDefaultReportUri\": true"));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    free(out);
}

static void export_refuses_what_trustkit_refuses(void **state)
{
    static const char *const docs[] = {
        "{\"version\": 1, \"rules\": [{\"host\": \"good.com\", \"pins\": [\"" PIN_A "\"]}]}",
        "{\"version\": 1, \"rules\": [{\"host\": \"co.uk\", \"include_subdomains\": true, "
        "\"pins\": [" TWO "]}]}",
        "{\"version\": 1, \"rules\": [{\"host\": \"intranet\", \"pins\": [" TWO "]}]}",
        "{\"version\": 1, \"rules\": []}",
    };
    struct sbuf *out = calloc(1, sizeof(*out));

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(docs); i++) {
        pinset_policy *p = formats_parse_native(docs[i]);
        pinset_fidelity *f = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        assert_int_equal(export(p, NULL, &f, out, &d), PINSET_E_UNSUPPORTED);
        assert_non_null(strstr(d.message, "TrustKit"));
        assert_null(f);
        pinset_policy_free(p);
    }
    free(out);
}

/* native -> TrustKit -> native: everything TrustKit can say comes back byte for byte. */
static void round_trip(const char *doc)
{
    pinset_policy *p = formats_parse_native(doc), *q;
    struct sbuf *mid = calloc(1, sizeof(*mid));
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;

    assert_non_null(mid);
    formats_export_whole(pinset_policy_export, p, PINSET_FORMAT_TRUSTKIT, &o, mid);
    q = formats_import_whole(pinset_policy_import, mid->b, mid->n, PINSET_FORMAT_TRUSTKIT, NULL,
                             mid->b);
    formats_assert_same(p, q);
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(mid);
}

static void round_trips(void **state)
{
    (void)state;
    round_trip(
        "{\"version\": 1, \"rules\": [{\"host\": \"good.com\", \"include_subdomains\": true, "
        "\"pins\": [" TWO "], \"expires\": \"2030-01-02\", \"on_expiry\": \"fail-open\", "
        "\"report_uris\": [\"https://r.good.com/a\", \"http://r.good.com/b\"]}, "
        "{\"host\": \"www.good.com\", \"exclude\": true}, {\"host\": \"api.example.org\", "
        "\"mode\": \"report\", \"pins\": [\"" PIN_A "\"]}]}");
    round_trip("{\"version\": 1, \"rules\": [{\"host\": \"xn--bcher-kva.de\", \"pins\": [" TWO
               "]}]}");
}

static void detection(void **state)
{
    static const char tk[] = "{\"TSKSwizzleNetworkDelegates\": false, \"TSKPinnedDomains\": {}}";
    static const char plist[] = "{\n  \"TSKConfiguration\" : {}}";

    (void)state;
    assert_int_equal(PINSET_FORMAT_TRUSTKIT, 8);
    assert_string_equal(pinset_format_name(PINSET_FORMAT_TRUSTKIT), "trustkit");
    assert_int_equal(pinset_format_from_name("TrustKit"), PINSET_FORMAT_TRUSTKIT);
    assert_int_equal(pinset_format_detect((const uint8_t *)tk, strlen(tk), "x.json"),
                     PINSET_FORMAT_TRUSTKIT);
    assert_int_equal(pinset_format_detect((const uint8_t *)plist, strlen(plist), NULL),
                     PINSET_FORMAT_TRUSTKIT);
    /* a native label that reads "TSKPinnedDomains" is a value, not a key */
    assert_int_equal(
        pinset_format_detect((const uint8_t *)"{\"label\": \"TSKPinnedDomains\"}", 29, NULL),
        PINSET_FORMAT_NATIVE);
    /* content says nothing yet: the name breaks the tie */
    assert_int_equal(pinset_format_detect((const uint8_t *)"{}", 2, "app/trustkit.json"),
                     PINSET_FORMAT_TRUSTKIT);
}

static void allocation_failures(void **state)
{
    static const char doc[] =
        "{\"TSKSwizzleNetworkDelegates\": true, \"TSKPinnedDomains\": {\"good.com\": "
        "{\"TSKIncludeSubdomains\": true, \"TSKPublicKeyHashes\": [" TWO "], \"TSKReportUris\": "
        "[\"https://r.good.com/\"]}, \"www.good.com\": {\"TSKExcludeSubdomainFromParentPolicy\": "
        "true}}}";
    pinset_policy *lossy = formats_parse_native(LOSSY);

    (void)state;
    alloc_fail_import_export(PINSET_FORMAT_TRUSTKIT, doc, 2, lossy);
    pinset_policy_free(lossy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpus_config_cases),
        cmocka_unit_test(corpus_lookups),
        cmocka_unit_test(corpus_validator_cases),
        cmocka_unit_test(rejects_with_path),
        cmocka_unit_test(ignored_keys_are_listed),
        cmocka_unit_test(host_survives_arena_growth),
        cmocka_unit_test(hostile_input),
        cmocka_unit_test(export_lists_what_trustkit_cannot_say),
        cmocka_unit_test(export_refuses_what_trustkit_refuses),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(detection),
        cmocka_unit_test(allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
