/*
 * test_formats_chromium.c - Chromium's static pins JSON
 * (PINSET_FORMAT_CHROMIUM, src/lib/formats/chromium.c): pinsets and entries
 * into rules, pin-sets, blocked pins and report uris; what is not a pin
 * (HSTS-only entries, mode, policy, Expect-CT) in the fidelity list;
 * refusals with the JSON path and position; hostile input; the exporter's
 * fidelity list; round trips native -> Chromium -> native; allocation
 * failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pinset/convert.h>
#include <pinset/policy.h>

#include "formats_test.h"
#include "internal.h"

#define PIN_T "TQEtdMbmwFgYUifM4LDF+xgEtd0z69mPGmkp014d6ZY="
#define PIN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN_E "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA="
#define TWO   "\"sha256/" PIN_T "\", \"sha256/" PIN_A "\""

static pinset_err import(pinset_policy **p, pinset_fidelity **f, const char *text, pinset_diag *d)
{
    return pinset_policy_import(p, f, (const uint8_t *)text, strlen(text), PINSET_FORMAT_CHROMIUM,
                                NULL, d);
}

/* The shape of transport_security_state_static.json, comments included. */
static const char doc_static[] =
    "// Copyright: the header comment of Chromium's file\n"
    "{\n"
    "  \"pinsets\": [\n"
    "    {\"name\": \"test\", \"static_spki_hashes\": [" TWO "],\n"
    "     \"bad_static_spki_hashes\": [\"sha256/" PIN_E "\", \"sha256/" PIN_E "\"],\n"
    "     \"report_uri\": \"http://report-example.test/test\"},\n"
    "    /* a pinset of one host */\n"
    "    {\"name\": \"solo.example.com\", \"static_spki_hashes\": [\"sha256/" PIN_T "\"]},\n"
    "    {\"name\": \"unused\", \"static_spki_hashes\": [\"sha256/" PIN_A "\"],\n"
    "     \"bad_static_spki_hashes\": [\"sha256/" PIN_E "\"]}\n"
    "  ],\n"
    "  \"entries\": [\n"
    "    {\"name\": \"pinningtest.appspot.com\", \"policy\": \"test\", \"pins\": \"test\"},\n"
    "    {\"name\": \"pinning-test.badssl.com\", \"policy\": \"test\", \"mode\": "
    "\"force-https\", \"include_subdomains\": false, \"include_subdomains_for_pinning\": true, "
    "\"pins\": \"test\"},\n"
    "    {\"name\": \"hsts.example.com\", \"policy\": \"custom\", \"mode\": \"force-https\", "
    "\"include_subdomains\": true},\n"
    "    {\"name\": \"solo.example.com\", \"pins\": \"solo.example.com\", \"include_subdomains\": "
    "true, \"expect_ct\": true}\n"
    "  ]\n"
    "}\n";

static void import_maps_pinsets_and_entries(void **state)
{
    pinset_policy *p = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    const pinset_rule *r;

    (void)state;
    if (import(&p, &f, doc_static, &d) != PINSET_OK) {
        fail_msg("%s at %s %zu:%zu", d.message, d.path, d.line, d.column);
    }
    assert_int_equal(pinset_policy_rule_count(p), 3); /* the HSTS-only entry is not a rule */
    r = pinset_policy_rule(p, 0);
    assert_string_equal(pinset_rule_host(r), "pinningtest.appspot.com");
    assert_string_equal(pinset_rule_pinset_name(r), "test");
    assert_int_equal(pinset_rule_pin_count(r), 2);
    assert_int_equal(pinset_rule_blocked_count(r), 1); /* a bad hash twice counts once */
    assert_int_equal(pinset_rule_report_uri_count(r), 1);
    assert_string_equal(pinset_rule_report_uri(r, 0), "http://report-example.test/test");
    assert_false(pinset_rule_include_subdomains(r));
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_ENFORCE);
    /* include_subdomains_for_pinning decides the pins' scope, not the HSTS flag */
    r = pinset_policy_rule(p, 1);
    assert_true(pinset_rule_include_subdomains(r));
    assert_int_equal(pinset_rule_blocked_count(r), 1);
    /* a pinset named by one entry of its own name: the rule's own pins */
    r = pinset_policy_rule(p, 2);
    assert_null(pinset_rule_pinset_name(r));
    assert_int_equal(pinset_rule_pin_count(r), 1);
    /* also when the entry spells the host otherwise (found by fuzz_chromium) */
    {
        pinset_policy *q = NULL;
        assert_int_equal(
            import(&q, NULL,
                   "{\"pinsets\": [{\"name\": \"solo.example.com\", "
                   "\"static_spki_hashes\": [\"sha256/" PIN_T "\"]}], \"entries\": "
                   "[{\"name\": \"SOLO.example.com.\", \"pins\": \"solo.example.com\"}]}",
                   NULL),
            PINSET_OK);
        assert_null(pinset_rule_pinset_name(pinset_policy_rule(q, 0)));
        pinset_policy_free(q);
    }
    assert_true(pinset_rule_include_subdomains(r));
    assert_non_null(pinset_policy_lookup(p, "a.solo.example.com", 18, NULL));
    /* what is not a pin rule, listed */
    assert_true(formats_find_loss(f, "entries[2]") >= 0);
    assert_string_equal(pinset_fidelity_host(f, (size_t)formats_find_loss(f, "entries[2]")),
                        "hsts.example.com");
    assert_true(formats_find_loss(f, "mode") >= 0);
    assert_true(formats_find_loss(f, "policy") >= 0);
    assert_true(formats_find_loss(f, "include_subdomains") >= 0);
    assert_true(formats_find_loss(f, "expect_ct") >= 0);
    assert_true(formats_find_loss(f, "unused") >= 0); /* its bad hash has no rule to go to */
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static void refusals_with_path(void **state)
{
    static const struct {
        const char *doc, *path, *msg;
        pinset_err err;
    } cases[] = {
        {"{\"pinsets\": []}", "", "missing key 'entries'", PINSET_E_PARSE},
        {"{\"pinsets\": {}, \"entries\": []}", "pinsets", "expected an array", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\", \"static_spki_hashes\": [\"GoogleBackup2048\"]}], "
         "\"entries\": []}",
         "pinsets[0].static_spki_hashes[0]", ".pins file", PINSET_E_UNSUPPORTED},
        {"{\"pinsets\": [{\"name\": \"g\", \"static_spki_hashes\": [\"sha256/AAAA\"]}], "
         "\"entries\": []}",
         "pinsets[0].static_spki_hashes[0]", "", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\", \"static_spki_hashes\": [\"sha1/" PIN_A "\"]}], "
         "\"entries\": []}",
         "pinsets[0].static_spki_hashes[0]", "sha256/", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g g\"}], \"entries\": []}", "pinsets[0].name", "pinset name",
         PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\"}, {\"name\": \"g\"}], \"entries\": []}",
         "pinsets[1].name", "a second pinset", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\"}], \"entries\": [{\"name\": \"a.com\", \"pins\": "
         "\"h\"}]}",
         "entries[0].pins", "no pinset named 'h'", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\"}], \"entries\": [{\"name\": \"a.com\", \"pins\": "
         "\"g\"}]}",
         "entries[0].pins", "no static hashes", PINSET_E_PARSE},
        {"{\"pinsets\": [], \"entries\": [{\"name\": \"a.com\", \"pinz\": \"g\"}]}",
         "entries[0].pinz", "unknown key 'pinz'", PINSET_E_PARSE},
        {"{\"pinsets\": [], \"entries\": [{\"name\": \"a.com\", \"include_subdomains\": 1}]}",
         "entries[0].include_subdomains", "expected a boolean", PINSET_E_PARSE},
        {"{\"pinsets\": [], \"entries\": [{\"policy\": \"test\"}]}", "entries[0]",
         "missing key 'name'", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\", \"static_spki_hashes\": [" TWO "]}], \"entries\": "
         "[{\"name\": \"a.com\", \"pins\": \"g\"}, {\"name\": \"A.COM\", \"pins\": \"g\"}]}",
         "entries[1].name", "a second entry for 'a.com'", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\", \"static_spki_hashes\": [" TWO "]}], \"entries\": "
         "[{\"name\": \"a..com\", \"pins\": \"g\"}]}",
         "entries[0].name", "", PINSET_E_PARSE},
        {"{\"pinsets\": [{\"name\": \"g\", \"report_uri\": \"mailto:x@y\"}], \"entries\": []}",
         "pinsets[0].report_uri", "not an http(s) report uri", PINSET_E_PARSE},
        {"{\"pinsets\": [], \"entries\": [], \"entries\": []}", "", "duplicate object key",
         PINSET_E_PARSE},
    };

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(cases); i++) {
        pinset_policy *p = NULL;
        pinset_fidelity *f = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err = import(&p, &f, cases[i].doc, &d);
        if (err != cases[i].err || strstr(d.message, cases[i].msg) == NULL ||
            strcmp(d.path, cases[i].path) != 0 || d.line != 1 || d.column == 0) {
            fail_msg("case %zu: %s '%s' at '%s' %zu:%zu", i, pinset_err_name(err), d.message,
                     d.path, d.line, d.column);
        }
        assert_null(p);
        assert_null(f);
    }
}

static void hostile_input(void **state)
{
    size_t n = 10000;
    char *big = malloc(100000);
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    size_t k;

    (void)state;
    memset(big, '{', n);
    big[n] = '\0';
    assert_int_equal(import(&p, NULL, big, &d), PINSET_E_LIMIT);
    assert_int_equal(d.column, 17);
    /* 300 hashes in one pinset: more than a rule holds */
    k = (size_t)snprintf(big, 100000, "{\"pinsets\": [{\"name\": \"g\", \"static_spki_hashes\": [");
    for (int i = 0; i < 300; i++) {
        k += (size_t)snprintf(big + k, 100000 - k, "%s\"sha256/" PIN_A "\"", i ? "," : "");
    }
    (void)snprintf(big + k, 100000 - k, "]}], \"entries\": []}");
    assert_int_equal(import(&p, NULL, big, &d), PINSET_E_LIMIT);
    assert_string_equal(d.path, "pinsets[0].static_spki_hashes");
    free(big);
    assert_int_equal(import(&p, NULL, "/* never closed\n{\"pinsets\": [], \"entries\": []}", &d),
                     PINSET_E_PARSE);
    assert_string_equal(d.message, "unterminated comment");
    /* a comment marker inside a string is text */
    assert_int_equal(import(&p, NULL,
                            "{\"pinsets\": [], \"entries\": [{\"name\": \"a.com\", \"policy\": "
                            "\"//x\"}]}",
                            &d),
                     PINSET_OK);
    pinset_policy_free(p);
    p = NULL;
    assert_int_equal(import(&p, NULL, "[1, 2]", &d), PINSET_E_PARSE);
    assert_int_equal(import(&p, NULL, "{\"pinsets\": [], \"entries\": [7]}", &d), PINSET_E_PARSE);
    assert_string_equal(d.path, "entries[0]");
    assert_null(p);
}

/* ---- export ---- */

static pinset_err export(const pinset_policy *p, const char *host, pinset_fidelity **f,
                         struct sbuf *out, pinset_diag *d)
{
    return formats_export(p, PINSET_FORMAT_CHROMIUM, host, 0, f, out, d);
}

#define LOSSY                                                                                    \
    "{\"version\": 1, \"pinsets\": {\"ps\": {\"pins\": [{\"sha256\": \"" PIN_A "\", \"label\": " \
    "\"x\"}]}}, \"rules\": [{\"host\": \"good.com\", \"include_subdomains\": true, \"pinset\": " \
    "\"ps\", \"pins\": [{\"sha256\": \"" PIN_T "\", \"role\": \"leaf\", \"not_after\": "         \
    "\"2030-01-01\"}, {\"sha256\": \"" PIN_T "\", \"kind\": \"cert\"}], \"mode\": \"report\", "  \
    "\"min_pins\": 3, \"expires\": \"2030-01-01\", \"on_expiry\": \"fail-open\", "               \
    "\"report_uris\": [\"https://a.test/\", "                                                    \
    "\"https://b.test/\"]}, {\"host\": \"x.good.com\", \"exclude\": true}]}"

static void export_lists_what_chromium_cannot_say(void **state)
{
    pinset_policy *p = formats_parse_native(LOSSY);
    pinset_fidelity *f = NULL;
    struct sbuf *out = calloc(1, sizeof(*out));
    static const char *const lost[] = {
        "mode",         "expires",           "min_pins", "pinset",         "pins[0].label",
        "pins[1].role", "pins[1].not_after", "pins[2]",  "report_uris[1]", "exclude"};

    (void)state;
    assert_int_equal(export(p, NULL, &f, out, NULL), PINSET_OK);
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(lost); i++) {
        if (formats_find_loss(f, lost[i]) < 0) {
            fail_msg("'%s' not listed", lost[i]);
        }
    }
    /* and the pin-set no entry names is written too, without its label */
    assert_int_equal(pinset_fidelity_count(f), PINSET_ARRAY_SIZE(lost) + 1);
    assert_int_equal(pinset_fidelity_rule(f, PINSET_ARRAY_SIZE(lost)), SIZE_MAX);
    assert_non_null(strstr(out->b, "\"name\": \"good.com\""));
    assert_non_null(strstr(out->b, "\"name\": \"ps\""));
    assert_non_null(strstr(out->b, "\"report_uri\": \"https://a.test/\""));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    free(out);
}

static void export_refusals(void **state)
{
    pinset_policy *p =
        formats_parse_native("{\"version\": 1, \"rules\": [{\"host\": \"a.com\", \"pins\": "
                             "[{\"sha256\": \"" PIN_A "\", \"kind\": \"cert\"}]}]}");
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    struct sbuf *out = calloc(1, sizeof(*out));

    (void)state;
    assert_int_equal(export(p, NULL, &f, out, &d), PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "no key pin"));
    assert_null(f);
    assert_int_equal(export(p, "b.com", &f, out, &d), PINSET_E_UNSUPPORTED);
    pinset_policy_free(p);
    /* a pin-set named like another rule's host, with other pins: the names would clash */
    p = formats_parse_native(
        "{\"version\": 1, \"pinsets\": {\"b.com\": {\"pins\": [\"" PIN_A "\"]}}, "
        "\"rules\": [{\"host\": \"a.com\", \"pinset\": \"b.com\"}, {\"host\": \"b.com\", "
        "\"pins\": [\"" PIN_T "\"]}]}");
    assert_int_equal(export(p, NULL, &f, out, &d), PINSET_E_UNSUPPORTED);
    assert_non_null(strstr(d.message, "clash"));
    pinset_policy_free(p);
    /* a pin-set named after the host of its only rule reads back as the rule's own pins */
    p = formats_parse_native("{\"version\": 1, \"pinsets\": {\"a.com\": {\"pins\": [\"" PIN_A
                             "\"]}}, "
                             "\"rules\": [{\"host\": \"a.com\", \"pinset\": \"a.com\"}]}");
    assert_int_equal(export(p, NULL, &f, out, &d), PINSET_OK);
    assert_int_equal(pinset_fidelity_count(f), 1);
    assert_string_equal(pinset_fidelity_field(f, 0), "pinset");
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    /* a pin-set shared by rules with other blocked keys: the second gets a pinset of its own */
    p = formats_parse_native(
        "{\"version\": 1, \"pinsets\": {\"g\": {\"pins\": [\"" PIN_A "\"]}}, \"rules\": "
        "[{\"host\": \"a.com\", \"pinset\": \"g\", \"blocked\": [\"" PIN_E "\"]}, "
        "{\"host\": \"b.com\", \"pinset\": \"g\"}]}");
    assert_int_equal(export(p, NULL, &f, out, &d), PINSET_OK);
    assert_int_equal(pinset_fidelity_count(f), 1);
    assert_string_equal(pinset_fidelity_field(f, 0), "pinset");
    assert_string_equal(pinset_fidelity_host(f, 0), "b.com");
    assert_non_null(strstr(out->b, "\"pins\": \"b.com\""));
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    free(out);
}

/* native -> Chromium -> native: everything Chromium can say comes back byte for byte. */
static void round_trip(const char *doc, const char *host)
{
    pinset_policy *p = formats_parse_native(doc), *q;
    struct sbuf *mid = calloc(1, sizeof(*mid));
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;

    assert_non_null(mid);
    o.host = host;
    formats_export_whole(pinset_policy_export, p, PINSET_FORMAT_CHROMIUM, &o, mid);
    q = formats_import_whole(pinset_policy_import, mid->b, mid->n, PINSET_FORMAT_CHROMIUM, NULL,
                             mid->b);
    if (host != NULL) {
        pinset_policy_free(p);
        p = formats_parse_native(
            "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"" PIN_T "\"]}]}");
    }
    formats_assert_same(p, q);
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(mid);
}

static void round_trips(void **state)
{
    (void)state;
    /* a shared pin-set with its blocked key and report uri; a rule's own pins; an unused pin-set */
    round_trip("{\"version\": 1, \"pinsets\": {\"google\": {\"pins\": [\"" PIN_T "\", \"" PIN_A
               "\"]}, \"spare\": {\"pins\": [\"" PIN_E "\"]}}, \"rules\": ["
               "{\"host\": \"google.com\", \"include_subdomains\": true, \"pinset\": \"google\", "
               "\"blocked\": [\"" PIN_E "\"], \"report_uris\": [\"http://r.test/\"]}, "
               "{\"host\": \"youtube.com\", \"pinset\": \"google\", \"blocked\": [\"" PIN_E
               "\"], \"report_uris\": [\"http://r.test/\"]}, "
               "{\"host\": \"own.example\", \"pins\": [\"" PIN_T "\", \"" PIN_E "\"]}]}",
               NULL);
    /* one host of a policy */
    round_trip("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"" PIN_T
               "\"]}, {\"host\": \"b.example\", \"pins\": [\"" PIN_A "\"]}]}",
               "a.example");
}

static void detection(void **state)
{
    static const char bare[] = "{\"pinsets\": [], \"entries\": []}";
    static const char late[] = "// a comment\n{}";

    (void)state;
    assert_int_equal(PINSET_FORMAT_CHROMIUM, 7);
    assert_string_equal(pinset_format_name(PINSET_FORMAT_CHROMIUM), "chromium");
    assert_int_equal(pinset_format_from_name("CHROMIUM"), PINSET_FORMAT_CHROMIUM);
    assert_int_equal(pinset_format_detect((const uint8_t *)doc_static, strlen(doc_static), NULL),
                     PINSET_FORMAT_CHROMIUM);
    assert_int_equal(pinset_format_detect((const uint8_t *)bare, strlen(bare), "p.json"),
                     PINSET_FORMAT_CHROMIUM);
    assert_int_equal(pinset_format_detect((const uint8_t *)late, strlen(late), NULL),
                     PINSET_FORMAT_CHROMIUM);
    assert_int_equal(pinset_format_detect((const uint8_t *)"{}", 2,
                                          "net/http/transport_security_state_static.json"),
                     PINSET_FORMAT_CHROMIUM);
    /* native pin-sets are not Chromium's: no entries */
    assert_int_equal(
        pinset_format_detect((const uint8_t *)"{\"version\": 1, \"pinsets\": {}}", 29, NULL),
        PINSET_FORMAT_NATIVE);
}

static void allocation_failures(void **state)
{
    pinset_policy *lossy = formats_parse_native(LOSSY);

    (void)state;
    alloc_fail_import_export(PINSET_FORMAT_CHROMIUM, doc_static, 7, lossy);
    pinset_policy_free(lossy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(import_maps_pinsets_and_entries),
        cmocka_unit_test(refusals_with_path),
        cmocka_unit_test(hostile_input),
        cmocka_unit_test(export_lists_what_chromium_cannot_say),
        cmocka_unit_test(export_refusals),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(detection),
        cmocka_unit_test(allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
