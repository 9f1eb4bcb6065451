/*
 * test_policy.c - the policy model, its JSON format and lookup: every field,
 * every error with its path and position, lookup precedence, the canonical
 * writer and digest, reference counting, allocation failures, and the
 * TrustKit and OkHttp lookup vectors translated into our model.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include <pinset/policy.h>

#include "internal.h"
#include "policy/policy_int.h"

#define PIN_T "TQEtdMbmwFgYUifM4LDF+xgEtd0z69mPGmkp014d6ZY="
#define PIN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBE="

static pinset_policy *parse_ok(const char *doc)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = pinset_policy_parse(&p, (const uint8_t *)doc, strlen(doc), &d);

    if (err != PINSET_OK) {
        fail_msg("parse failed: %s: %s (line %zu col %zu path %s)", pinset_err_name(err), d.message,
                 d.line, d.column, d.path);
    }
    assert_non_null(p);
    return p;
}

/* Expects a parse failure with `code`, the JSON `path`, and (when line != 0) the position. */
static void parse_fails(const char *doc, pinset_err code, const char *path, size_t line, size_t col,
                        const char *msg_part)
{
    pinset_policy *p = (pinset_policy *)(uintptr_t)1;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = pinset_policy_parse(&p, (const uint8_t *)doc, strlen(doc), &d);

    if (err != code) {
        fail_msg("doc %s: got %s (%s), want %s", doc, pinset_err_name(err), d.message,
                 pinset_err_name(code));
    }
    assert_null(p);
    assert_int_equal(d.code, code);
    if (strcmp(d.path, path) != 0) {
        fail_msg("doc %s: path '%s', want '%s' (%s)", doc, d.path, path, d.message);
    }
    if (line != 0 && (d.line != line || d.column != col)) {
        fail_msg("doc %s: at %zu:%zu, want %zu:%zu (%s)", doc, d.line, d.column, line, col,
                 d.message);
    }
    if (msg_part != NULL && strstr(d.message, msg_part) == NULL) {
        fail_msg("message '%s' lacks '%s'", d.message, msg_part);
    }
    /* one line, lower case start, no trailing period */
    assert_null(strchr(d.message, '\n'));
    assert_true(d.message[0] != '\0');
    assert_true(d.message[strlen(d.message) - 1] != '.');
}

static const char *full_doc =
    "{\n"
    "  \"version\": 1,\n"
    "  \"pinsets\": {\n"
    "    \"shared\": {\"pins\": [\"sha256/" PIN_T "\",\n"
    "      {\"sha256\": \"" PIN_A "\", \"role\": \"backup\", \"label\": \"next key\"}]}\n"
    "  },\n"
    "  \"rules\": [\n"
    "    {\"host\": \"Example.COM.\", \"include_subdomains\": true, \"pinset\": \"shared\",\n"
    "     \"pins\": [{\"sha256\": \"" PIN_B "\", \"kind\": \"cert\", \"role\": \"leaf\",\n"
    "                \"not_after\": \"2027-01-01T00:00:00Z\"}],\n"
    "     \"blocked\": [{\"sha256\": \"" PIN_A "\", \"kind\": \"cert\"}, \"" PIN_B "\"],\n"
    "     \"expires\": \"2028-02-29\", \"on_expiry\": \"fail-closed\",\n"
    "     \"report_uris\": [\"https://report.example/pins\", \"http://r2.example\"],\n"
    "     \"min_pins\": 3, \"mode\": \"enforce\"},\n"
    "    {\"host\": \"bücher.example\", \"mode\": \"report\", \"pins\": [\"" PIN_T "\"],\n"
    "     \"expires\": \"2030-06-15T12:34:56Z\", \"on_expiry\": \"report\"},\n"
    "    {\"host\": \"open.example.com\", \"exclude\": true, \"include_subdomains\": true},\n"
    "    {\"host\": \"[2001:DB8::1]\", \"pinset\": \"shared\"}\n"
    "  ]\n"
    "}\n";

static void parse_every_field(void **state)
{
    pinset_policy *p = parse_ok(full_doc);
    const pinset_rule *r;
    pinset_pin want;

    (void)state;
    assert_int_equal(pinset_policy_rule_count(p), 4);

    r = pinset_policy_rule(p, 0);
    assert_string_equal(pinset_rule_host(r), "example.com");
    assert_true(pinset_rule_include_subdomains(r));
    assert_false(pinset_rule_is_exclusion(r));
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_ENFORCE);
    assert_string_equal(pinset_rule_pinset_name(r), "shared");
    assert_int_equal(pinset_rule_pin_count(r), 3); /* the set's two, then its own */
    assert_int_equal(pinset_pin_parse(&want, PIN_T, strlen(PIN_T), PINSET_PIN_SPKI, NULL),
                     PINSET_OK);
    assert_true(pinset_pin_equal(pinset_rule_pin(r, 0), &want));
    assert_int_equal(pinset_rule_pin_role(r, 0), PINSET_ROLE_ANY);
    assert_null(pinset_rule_pin_label(r, 0));
    assert_int_equal(pinset_rule_pin_role(r, 1), PINSET_ROLE_BACKUP);
    assert_string_equal(pinset_rule_pin_label(r, 1), "next key");
    assert_int_equal(pinset_rule_pin(r, 2)->kind, PINSET_PIN_CERT);
    assert_int_equal(pinset_rule_pin_role(r, 2), PINSET_ROLE_LEAF);
    assert_int_equal(pinset_rule_pin_not_after(r, 2), 1798761600); /* date -u -d 2027-01-01 +%s */
    assert_int_equal(pinset_rule_pin_not_after(r, 0), 0);
    assert_null(pinset_rule_pin(r, 3));
    assert_int_equal(pinset_rule_blocked_count(r), 2);
    assert_int_equal(pinset_rule_blocked(r, 0)->kind, PINSET_PIN_CERT);
    assert_int_equal(pinset_rule_blocked(r, 1)->kind, PINSET_PIN_SPKI);
    assert_null(pinset_rule_blocked(r, 2));
    assert_int_equal(pinset_rule_expires(r), 1835395200); /* 2028-02-29, a leap day */
    assert_int_equal(pinset_rule_on_expiry(r), PINSET_ON_EXPIRY_FAIL_CLOSED);
    assert_int_equal(pinset_rule_report_uri_count(r), 2);
    assert_string_equal(pinset_rule_report_uri(r, 0), "https://report.example/pins");
    assert_string_equal(pinset_rule_report_uri(r, 1), "http://r2.example");
    assert_null(pinset_rule_report_uri(r, 2));
    assert_int_equal(pinset_rule_min_pins(r), 3);
    assert_int_equal(pinset_rule_index(r), 0);

    r = pinset_policy_rule(p, 1);
    assert_string_equal(pinset_rule_host(r), "xn--bcher-kva.example");
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_REPORT);
    assert_null(pinset_rule_pinset_name(r));
    assert_int_equal(pinset_rule_pin_count(r), 1);
    assert_int_equal(pinset_rule_min_pins(r), 1);         /* report mode default */
    assert_int_equal(pinset_rule_expires(r), 1907757296); /* date -u -d "2030-06-15 12:34:56" +%s */
    assert_int_equal(pinset_rule_on_expiry(r), PINSET_ON_EXPIRY_REPORT);
    assert_int_equal(pinset_rule_blocked_count(r), 0);
    assert_int_equal(pinset_rule_report_uri_count(r), 0);

    r = pinset_policy_rule(p, 2);
    assert_true(pinset_rule_is_exclusion(r));
    assert_true(pinset_rule_include_subdomains(r));
    assert_int_equal(pinset_rule_pin_count(r), 0);
    assert_int_equal(pinset_rule_min_pins(r), 0);
    assert_int_equal(pinset_rule_on_expiry(r), PINSET_ON_EXPIRY_NONE);

    r = pinset_policy_rule(p, 3);
    assert_string_equal(pinset_rule_host(r), "2001:db8::1");
    assert_int_equal(pinset_rule_min_pins(r), 2); /* enforce mode default */
    assert_int_equal(pinset_rule_pin_count(r), 2);
    assert_null(pinset_policy_rule(p, 4));
    pinset_policy_free(p);
}

static void getters_tolerate_null(void **state)
{
    uint8_t dg[32];

    (void)state;
    assert_null(pinset_rule_host(NULL));
    assert_int_equal(pinset_rule_pin_count(NULL), 0);
    assert_null(pinset_rule_pin(NULL, 0));
    assert_int_equal(pinset_policy_rule_count(NULL), 0);
    assert_null(pinset_policy_rule(NULL, 0));
    assert_null(pinset_policy_lookup(NULL, "a.com", 5, NULL));
    memset(dg, 0xff, sizeof(dg));
    pinset_policy_digest(NULL, dg);
    assert_int_equal(dg[0], 0);
    pinset_policy_free(NULL);
    assert_null(pinset_policy_ref(NULL));
}

/* ---- errors ---- */

#define RULE_HEAD "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"" PIN_T "\"]"

static void errors_name_path_and_position(void **state)
{
    (void)state;
    /* semantic errors located by re-scanning the text */
    parse_fails(
        "{\"version\": 1,\n \"rules\": [\n  {\"host\": \"a.example\",\n   \"pins\": [\"" PIN_T
        "\", {\"sha256\": \"nope\"}]}]}",
        PINSET_E_PARSE, "rules[0].pins[1].sha256", 4, 72, "base64");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"" PIN_T
                "\"]},\n {\"host\": \"b.example\", \"pins\": [\"" PIN_T "\"], \"bogus\": 1}]}",
                PINSET_E_PARSE, "rules[1].bogus", 2, 82, "unknown key 'bogus'");
    parse_fails("{\"version\": 1, \"extra\": true, \"rules\": []}", PINSET_E_PARSE, "extra", 1, 16,
                "unknown key");
    /* syntax errors: jansson's position, no path */
    parse_fails("{\"version\": 1,\n \"rules\": [}", PINSET_E_PARSE, "", 2, 12, "invalid json");
    parse_fails("{\"version\": 1, \"rules\": [], \"rules\": []}", PINSET_E_PARSE, "", 0, 0,
                "duplicate");
    parse_fails("", PINSET_E_PARSE, "", 0, 0, "invalid json");
    parse_fails("[]", PINSET_E_PARSE, "", 0, 0, "expected a policy object");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a\\u0000b\", \"pins\": [\"" PIN_T
                "\"]}]}",
                PINSET_E_PARSE, "", 0, 0, "invalid json");
}

static void errors_version_and_top(void **state)
{
    (void)state;
    parse_fails("{\"rules\": []}", PINSET_E_PARSE, "", 0, 0, "missing key 'version'");
    parse_fails("{\"version\": 2, \"rules\": []}", PINSET_E_UNSUPPORTED, "version", 1, 13, NULL);
    parse_fails("{\"version\": \"1\", \"rules\": []}", PINSET_E_PARSE, "version", 1, 13,
                "expected the integer 1");
    parse_fails("{\"version\": 1.0, \"rules\": []}", PINSET_E_PARSE, "version", 0, 0, NULL);
    parse_fails("{\"version\": 1}", PINSET_E_PARSE, "", 0, 0, "missing key 'rules'");
    parse_fails("{\"version\": 1, \"rules\": {}}", PINSET_E_PARSE, "rules", 1, 25,
                "expected an array of rules");
    parse_fails("{\"version\": 1, \"rules\": [7]}", PINSET_E_PARSE, "rules[0]", 1, 26,
                "expected a rule object");
}

static void errors_in_rules(void **state)
{
    (void)state;
    parse_fails("{\"version\": 1, \"rules\": [{\"pins\": [\"" PIN_T "\"]}]}", PINSET_E_PARSE,
                "rules[0]", 0, 0, "missing key 'host'");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"*.a.example\", \"pins\": [\"" PIN_T
                "\"]}]}",
                PINSET_E_PARSE, "rules[0].host", 1, 35, "wildcard");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": 5, \"pins\": [\"" PIN_T "\"]}]}",
                PINSET_E_PARSE, "rules[0].host", 0, 0, "got an integer");
    parse_fails(RULE_HEAD ", \"include_subdomains\": \"yes\"}]}", PINSET_E_PARSE,
                "rules[0].include_subdomains", 0, 0, "true or false");
    parse_fails(RULE_HEAD ", \"mode\": \"block\"}]}", PINSET_E_PARSE, "rules[0].mode", 0, 0,
                "'enforce' or 'report'");
    parse_fails(RULE_HEAD ", \"expires\": \"2027-01-01\"}]}", PINSET_E_PARSE, "rules[0].expires", 0,
                0, "explicit 'on_expiry'");
    parse_fails(RULE_HEAD ", \"on_expiry\": \"fail-open\"}]}", PINSET_E_PARSE, "rules[0].on_expiry",
                0, 0, "without 'expires'");
    parse_fails(RULE_HEAD ", \"expires\": \"2027-01-01\", \"on_expiry\": \"maybe\"}]}",
                PINSET_E_PARSE, "rules[0].on_expiry", 0, 0, NULL);
    parse_fails(RULE_HEAD ", \"min_pins\": -1}]}", PINSET_E_PARSE, "rules[0].min_pins", 0, 0, NULL);
    parse_fails(RULE_HEAD ", \"min_pins\": 257}]}", PINSET_E_PARSE, "rules[0].min_pins", 0, 0,
                NULL);
    parse_fails(RULE_HEAD ", \"min_pins\": 2.5}]}", PINSET_E_PARSE, "rules[0].min_pins", 0, 0,
                NULL);
    parse_fails(RULE_HEAD ", \"report_uris\": [\"ftp://x\"]}]}", PINSET_E_PARSE,
                "rules[0].report_uris[0]", 0, 0, NULL);
    parse_fails(RULE_HEAD ", \"report_uris\": [\"https://a b\"]}]}", PINSET_E_PARSE,
                "rules[0].report_uris[0]", 0, 0, NULL);
    parse_fails(RULE_HEAD ", \"report_uris\": \"https://x\"}]}", PINSET_E_PARSE,
                "rules[0].report_uris", 0, 0, NULL);
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\"}]}", PINSET_E_PARSE,
                "rules[0]", 0, 0, "a rule needs pins");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": []}]}",
                PINSET_E_PARSE, "rules[0]", 0, 0, "a rule needs pins");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"127.0.0.1\", \"include_subdomains\": "
                "true, \"pins\": [\"" PIN_T "\"]}]}",
                PINSET_E_PARSE, "rules[0].include_subdomains", 0, 0, "no subdomains");
}

static void errors_in_times(void **state)
{
    static const char *const bad[] = {
        "2027-02-29",
        "2027-13-01",
        "2027-00-10",
        "2027-01-32",
        "2027-01-01T24:00:00Z",
        "2027-01-01T00:60:00Z",
        "2027-01-01T00:00:60Z",
        "2027-01-01T00:00:00+01:00",
        "2027-01-01T00:00:00",
        "2027-01-01T00:00:00.5Z",
        "27-01-01",
        "1969-12-31",
        "1970-01-01T00:00:00Z",
        "2027-1-01",
        "2027/01/01",
        "",
    };
    char doc[512];
    int64_t t = 0;

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(bad); i++) {
        (void)snprintf(doc, sizeof(doc),
                       RULE_HEAD ", \"expires\": \"%s\", \"on_expiry\": \"fail-open\"}]}", bad[i]);
        parse_fails(doc, PINSET_E_PARSE, "rules[0].expires", 0, 0, NULL);
    }
    assert_int_equal(pinset__parse_time("2000-02-29", 10, &t), 0);
    assert_int_equal(t, 951782400);
    assert_int_equal(pinset__parse_time("1970-01-01T00:00:01z", 20, &t), 0);
    assert_int_equal(t, 1);
    assert_int_equal(pinset__parse_time("9999-12-31t23:59:59Z", 20, &t), 0);
    assert_int_equal(t, 253402300799LL);
    assert_int_equal(pinset__parse_time("2100-02-29", 10, &t), -1);
}

static void errors_in_pins(void **state)
{
    (void)state;
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"sha1/"
                "DmxUShsZuNiqPQsX2Oi9uv2sCnw=\"]}]}",
                PINSET_E_UNSUPPORTED, "rules[0].pins[0]", 0, 0, NULL);
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [{\"kind\": "
                "\"spki\"}]}]}",
                PINSET_E_PARSE, "rules[0].pins[0]", 0, 0, "missing key 'sha256'");
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"kind\": \"sha1\"}]}]}",
        PINSET_E_PARSE, "rules[0].pins[0].kind", 0, 0, NULL);
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"role\": \"root\"}]}]}",
        PINSET_E_PARSE, "rules[0].pins[0].role", 0, 0, NULL);
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"label\": \"\"}]}]}",
        PINSET_E_PARSE, "rules[0].pins[0].label", 0, 0, NULL);
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"label\": \"a\\nb\"}]}]}",
        PINSET_E_PARSE, "rules[0].pins[0].label", 0, 0, "control character");
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [{\"sha256\": \"" PIN_T
        "\", \"pin\": 1}]}]}",
        PINSET_E_PARSE, "rules[0].pins[0].pin", 0, 0, "unknown key");
    /* blocked entries take sha256 and kind only */
    parse_fails(RULE_HEAD ", \"blocked\": [{\"sha256\": \"" PIN_A "\", \"role\": \"leaf\"}]}]}",
                PINSET_E_PARSE, "rules[0].blocked[0].role", 0, 0, "unknown key");
    parse_fails(RULE_HEAD ", \"pins\": [true]}]}", PINSET_E_PARSE, "", 0, 0, "duplicate");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [true]}]}",
                PINSET_E_PARSE, "rules[0].pins[0]", 0, 0, "expected a pin");
}

static void errors_in_pinsets(void **state)
{
    (void)state;
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pinset\": \"nope\"}]}",
                PINSET_E_PARSE, "rules[0].pinset", 1, 58, "unknown pin-set 'nope'");
    parse_fails("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": []}}, \"rules\": []}",
                PINSET_E_PARSE, "pinsets.s.pins", 0, 0, "at least one pin");
    parse_fails("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": [\"" PIN_T
                "\"], \"mode\": \"report\"}}, \"rules\": []}",
                PINSET_E_PARSE, "pinsets.s.mode", 0, 0, "unknown key");
    parse_fails("{\"version\": 1, \"pinsets\": {\"a b\": {\"pins\": [\"" PIN_T
                "\"]}}, \"rules\": []}",
                PINSET_E_PARSE, "pinsets[\"a b\"]", 0, 0, "pin-set name");
    parse_fails("{\"version\": 1, \"pinsets\": {\"s\": [\"" PIN_T "\"]}, \"rules\": []}",
                PINSET_E_PARSE, "pinsets.s", 1, 33, "pin-set object");
    parse_fails("{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": [\"x\"]}}, \"rules\": []}",
                PINSET_E_PARSE, "pinsets.s.pins[0]", 1, 43, NULL);
}

static void errors_in_exclusions_and_duplicates(void **state)
{
    (void)state;
    /* an exclusion carries no pins */
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"include_subdomains\": true, "
        "\"pins\": [\"" PIN_T "\"]}, {\"host\": \"b.a.example\", \"exclude\": true, \"pins\": "
        "[\"" PIN_T "\"]}]}",
        PINSET_E_PARSE, "rules[1].pins", 0, 0, "an exclusion carries no pins");
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"include_subdomains\": true, "
        "\"pins\": [\"" PIN_T "\"]}, {\"host\": \"b.a.example\", \"exclude\": true, \"mode\": "
        "\"report\"}]}",
        PINSET_E_PARSE, "rules[1].mode", 0, 0, NULL);
    /* an exclusion needs a parent that covers it */
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"" PIN_T
                "\"]}, {\"host\": \"b.a.example\", \"exclude\": true}]}",
                PINSET_E_PARSE, "rules[1].host", 0, 0, "no parent rule");
    /* duplicate hosts, after canonicalisation */
    parse_fails(
        "{\"version\": 1, \"rules\": [{\"host\": \"xn--bcher-kva.example\", \"pins\": [\"" PIN_T
        "\"]},\n {\"host\": \"BÜCHER.example.\", \"pins\": [\"" PIN_T "\"]}]}",
        PINSET_E_PARSE, "rules[1].host", 2, 11, "duplicate rule for host");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"::1\", \"pins\": [\"" PIN_T
                "\"]}, {\"host\": \"[0::1]\", \"pins\": [\"" PIN_T "\"]}]}",
                PINSET_E_PARSE, "rules[1].host", 0, 0, "duplicate");
}

static void errors_on_limits(void **state)
{
    char *doc;
    size_t cap = 64 * 1024, n = 0;
    static const uint8_t tiny[] = "{}";
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    /* too deep: refused before jansson recurses */
    parse_fails("{\"version\": 1, \"rules\": [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
                PINSET_E_LIMIT, "", 1, 40, "nesting");
    /* the size bound is checked before the buffer is read */
    assert_int_equal(pinset_policy_parse(&p, tiny, PINSET_MAX_POLICY_SIZE + 1, &d), PINSET_E_LIMIT);
    assert_null(p);
    /* 257 pins in one rule */
    doc = malloc(cap);
    assert_non_null(doc);
    n += (size_t)snprintf(doc + n, cap - n,
                          "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [");
    for (int i = 0; i <= PINSET_MAX_PINS_PER_RULE; i++) {
        n += (size_t)snprintf(doc + n, cap - n, "%s\"%064x\"", i == 0 ? "" : ",", i);
    }
    (void)snprintf(doc + n, cap - n, "]}]}");
    parse_fails(doc, PINSET_E_LIMIT, "rules[0].pins", 0, 0, "exceed the limit");
    /* a pin-set's pins count toward the rule's limit */
    n = 0;
    n += (size_t)snprintf(doc + n, cap - n, "{\"version\": 1, \"pinsets\": {\"s\": {\"pins\": [");
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(doc + n, cap - n, "%s\"%064x\"", i == 0 ? "" : ",", i);
    }
    n += (size_t)snprintf(
        doc + n, cap - n,
        "]}}, \"rules\": [{\"host\": \"a.example\", \"pinset\": \"s\", \"pins\": [");
    for (int i = 0; i < 57; i++) {
        n += (size_t)snprintf(doc + n, cap - n, "%s\"%064x\"", i == 0 ? "" : ",", i + 1000);
    }
    (void)snprintf(doc + n, cap - n, "]}]}");
    parse_fails(doc, PINSET_E_LIMIT, "rules[0].pins", 0, 0, NULL);
    free(doc);
}

/* Many pin-sets, written in scrambled order: every reference resolves to its own set. */
static void many_pinsets_resolve(void **state)
{
    size_t cap = 256 * 1024, n = 0;
    char *doc = malloc(cap);
    pinset_policy *p;

    (void)state;
    assert_non_null(doc);
    n += (size_t)snprintf(doc + n, cap - n, "{\"version\": 1, \"pinsets\": {");
    for (int i = 0; i < 300; i++) {
        int k = (i * 7919) % 300; /* a permutation of 0..299 */
        n += (size_t)snprintf(doc + n, cap - n, "%s\"set-%d\": {\"pins\": [\"%064x\"]}",
                              i == 0 ? "" : ", ", k, k + 1);
    }
    n += (size_t)snprintf(doc + n, cap - n, "}, \"rules\": [");
    for (int k = 0; k < 300; k++) {
        n += (size_t)snprintf(doc + n, cap - n,
                              "%s{\"host\": \"h%d.example\", \"pinset\": \"set-%d\"}",
                              k == 0 ? "" : ", ", k, k);
    }
    (void)snprintf(doc + n, cap - n, "]}");
    p = parse_ok(doc);
    for (int k = 0; k < 300; k++) {
        char name[32], hex[80];
        const pinset_rule *r = pinset_policy_rule(p, (size_t)k);
        pinset_pin want;
        (void)snprintf(name, sizeof(name), "set-%d", k);
        (void)snprintf(hex, sizeof(hex), "%064x", k + 1);
        assert_string_equal(pinset_rule_pinset_name(r), name);
        assert_int_equal(pinset_rule_pin_count(r), 1);
        assert_int_equal(pinset_pin_parse(&want, hex, 64, PINSET_PIN_SPKI, NULL), PINSET_OK);
        assert_true(pinset_pin_equal(pinset_rule_pin(r, 0), &want));
    }
    /* a name that sorts between two existing ones is still unknown */
    pinset_policy_free(p);
    free(doc);
    parse_fails("{\"version\": 1, \"pinsets\": {\"a\": {\"pins\": [\"" PIN_T
                "\"]}, \"c\": {\"pins\": "
                "[\"" PIN_T "\"]}}, \"rules\": [{\"host\": \"x.example\", \"pinset\": \"b\"}]}",
                PINSET_E_PARSE, "rules[0].pinset", 0, 0, "unknown pin-set 'b'");
    parse_fails("{\"version\": 1, \"pinsets\": {\"a\": {\"pins\": [\"" PIN_T
                "\"]}}, \"rules\": [{\"host\": \"x.example\", \"pinset\": \"a \"}]}",
                PINSET_E_PARSE, "rules[0].pinset", 0, 0, NULL);
}

/* Hostile hosts inside a policy: the host error keeps its code and gains a path. */
static void hostile_hosts_in_policy(void **state)
{
    char doc[4096], label[80];

    (void)state;
    memset(label, 'a', 64);
    label[64] = '\0';
    (void)snprintf(doc, sizeof(doc),
                   "{\"version\": 1, \"rules\": [{\"host\": \"%s.example\", \"pins\": [\"" PIN_T
                   "\"]}]}",
                   label);
    parse_fails(doc, PINSET_E_LIMIT, "rules[0].host", 1, 35, "exceeds 63");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"127.1\", \"pins\": [\"" PIN_T "\"]}]}",
                PINSET_E_PARSE, "rules[0].host", 0, 0, "dotted-quad");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"fe80::1%eth0\", \"pins\": [\"" PIN_T
                "\"]}]}",
                PINSET_E_PARSE, "rules[0].host", 0, 0, "zone");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"\", \"pins\": [\"" PIN_T "\"]}]}",
                PINSET_E_PARSE, "rules[0].host", 0, 0, "empty");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a\\u0009b.example\", \"pins\": [\"" PIN_T
                "\"]}]}",
                PINSET_E_PARSE, "rules[0].host", 0, 0, "0x09");
}

static void misuse(void **state)
{
    pinset_policy *p = NULL;

    (void)state;
    assert_int_equal(pinset_policy_parse(NULL, (const uint8_t *)"{}", 2, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_policy_parse(&p, NULL, 2, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_policy_load(&p, NULL, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_policy_write(NULL, NULL, NULL), PINSET_E_INVALID_ARG);
}

/* ---- lookup ---- */

static const char *lookup_doc =
    "{\"version\": 1, \"pinsets\": {\"k\": {\"pins\": [\"" PIN_T "\", \"" PIN_A
    "\"]}}, \"rules\": [\n"
    " {\"host\": \"example.com\", \"include_subdomains\": true, \"pinset\": \"k\"},\n"
    " {\"host\": \"www.example.com\", \"pinset\": \"k\"},\n"
    " {\"host\": \"api.example.com\", \"include_subdomains\": true, \"pinset\": \"k\"},\n"
    " {\"host\": \"open.example.com\", \"exclude\": true},\n"
    " {\"host\": \"dev.example.com\", \"exclude\": true, \"include_subdomains\": true},\n"
    " {\"host\": \"pinned.dev.example.com\", \"pinset\": \"k\"},\n"
    " {\"host\": \"exact.org\", \"pinset\": \"k\"},\n"
    " {\"host\": \"192.0.2.1\", \"pinset\": \"k\"},\n"
    " {\"host\": \"2001:db8::1\", \"pinset\": \"k\"},\n"
    " {\"host\": \"bücher.example\", \"include_subdomains\": true, \"pinset\": \"k\"}\n"
    "]}";

static void expect_lookup(const pinset_policy *p, const char *host, const char *want_rule,
                          pinset_match want_how)
{
    pinset_match how = (pinset_match)99;
    const pinset_rule *r = pinset_policy_lookup(p, host, strlen(host), &how);

    if (want_rule == NULL) {
        if (r != NULL) {
            fail_msg("'%s': got rule '%s', want none", host, pinset_rule_host(r));
        }
    } else if (r == NULL || strcmp(pinset_rule_host(r), want_rule) != 0) {
        fail_msg("'%s': got '%s', want '%s'", host, r != NULL ? pinset_rule_host(r) : "(none)",
                 want_rule);
    }
    if (how != want_how) {
        fail_msg("'%s': match %d, want %d", host, (int)how, (int)want_how);
    }
}

static void lookup_precedence(void **state)
{
    pinset_policy *p = parse_ok(lookup_doc);

    (void)state;
    /* exact beats subdomain */
    expect_lookup(p, "www.example.com", "www.example.com", PINSET_MATCH_EXACT);
    expect_lookup(p, "example.com", "example.com", PINSET_MATCH_EXACT);
    /* www.example.com has no include_subdomains: its children fall to example.com */
    expect_lookup(p, "a.www.example.com", "example.com", PINSET_MATCH_SUBDOMAIN);
    /* the longest covering parent wins */
    expect_lookup(p, "v1.api.example.com", "api.example.com", PINSET_MATCH_SUBDOMAIN);
    expect_lookup(p, "x.v1.api.example.com", "api.example.com", PINSET_MATCH_SUBDOMAIN);
    expect_lookup(p, "other.example.com", "example.com", PINSET_MATCH_SUBDOMAIN);
    /* an exclusion wins over its parent; without include_subdomains only for itself */
    expect_lookup(p, "open.example.com", "open.example.com", PINSET_MATCH_EXCLUDED);
    expect_lookup(p, "a.open.example.com", "example.com", PINSET_MATCH_SUBDOMAIN);
    /* with include_subdomains it takes the subtree out, but an exact rule inside still pins */
    expect_lookup(p, "dev.example.com", "dev.example.com", PINSET_MATCH_EXCLUDED);
    expect_lookup(p, "x.y.dev.example.com", "dev.example.com", PINSET_MATCH_EXCLUDED);
    expect_lookup(p, "pinned.dev.example.com", "pinned.dev.example.com", PINSET_MATCH_EXACT);
    /* not covered */
    expect_lookup(p, "www.exact.org", NULL, PINSET_MATCH_NONE);
    expect_lookup(p, "notexample.com", NULL, PINSET_MATCH_NONE);
    expect_lookup(p, "example.com.evil.net", NULL, PINSET_MATCH_NONE);
    expect_lookup(p, "com", NULL, PINSET_MATCH_NONE);
    /* spelling does not matter */
    expect_lookup(p, "WWW.Example.Com.", "www.example.com", PINSET_MATCH_EXACT);
    expect_lookup(p, "shop.BÜCHER.example", "xn--bcher-kva.example", PINSET_MATCH_SUBDOMAIN);
    expect_lookup(p, "shop.xn--bcher-kva.example", "xn--bcher-kva.example", PINSET_MATCH_SUBDOMAIN);
    /* IP literals match only exactly, in any spelling */
    expect_lookup(p, "192.0.2.1", "192.0.2.1", PINSET_MATCH_EXACT);
    expect_lookup(p, "[2001:DB8:0::1]", "2001:db8::1", PINSET_MATCH_EXACT);
    expect_lookup(p, "192.0.2.2", NULL, PINSET_MATCH_NONE);
    expect_lookup(p, "0xc0.0.2.1", NULL, PINSET_MATCH_NONE);
    /* invalid names are never pinned (and never match a parent) */
    expect_lookup(p, ".example.com", NULL, PINSET_MATCH_NONE);
    expect_lookup(p, "a..example.com", NULL, PINSET_MATCH_NONE);
    expect_lookup(p, "", NULL, PINSET_MATCH_NONE);
    {
        pinset_match how = PINSET_MATCH_EXACT;
        assert_null(pinset_policy_lookup(p, "www.example.com\0x", 17, &how));
        assert_int_equal(how, PINSET_MATCH_NONE);
        assert_non_null(pinset_policy_lookup(p, "www.example.com", 15, NULL));
    }
    /* the internal fast path agrees */
    assert_ptr_equal(pinset__policy_lookup_canon(p, "x.api.example.com", 17, PINSET_HOST_DNS, NULL),
                     pinset_policy_lookup(p, "X.API.example.com", 17, NULL));
    pinset_policy_free(p);
}

static void lookup_many_rules(void **state)
{
    /* enough rules to force collisions in the open-addressing table */
    size_t n = 5000, cap = n * 96 + 256, len = 0;
    char *doc = malloc(cap);
    pinset_policy *p;
    char host[64];

    (void)state;
    assert_non_null(doc);
    len += (size_t)snprintf(doc + len, cap - len,
                            "{\"version\": 1, \"pinsets\": {\"k\": {\"pins\": [\"" PIN_T
                            "\"]}}, \"rules\": [");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(
            doc + len, cap - len, "%s{\"host\": \"h%zu.example\", \"pinset\": \"k\"%s}",
            i == 0 ? "" : ",", i, i % 2 ? ", \"include_subdomains\": true" : "");
    }
    (void)snprintf(doc + len, cap - len, "]}");
    p = parse_ok(doc);
    for (size_t i = 0; i < n; i++) {
        const pinset_rule *r;
        int k = snprintf(host, sizeof(host), "h%zu.example", i);
        r = pinset_policy_lookup(p, host, (size_t)k, NULL);
        assert_non_null(r);
        assert_int_equal(pinset_rule_index(r), i);
        k = snprintf(host, sizeof(host), "a.h%zu.example", i);
        r = pinset_policy_lookup(p, host, (size_t)k, NULL);
        if (i % 2) {
            assert_non_null(r);
            assert_int_equal(pinset_rule_index(r), i);
        } else {
            assert_null(r);
        }
    }
    assert_null(pinset_policy_lookup(p, "h5000.example", 13, NULL));
    pinset_policy_free(p);
    free(doc);
}

/* ---- writer and digest ---- */

struct sbuf {
    char *b;
    size_t n, cap;
};

static int sink(const char *buf, size_t len, void *payload)
{
    struct sbuf *s = payload;

    if (s->n + len + 1 > s->cap) {
        size_t ncap = (s->n + len + 1) * 2;
        char *nb = realloc(s->b, ncap);
        if (nb == NULL) {
            return 1;
        }
        s->b = nb;
        s->cap = ncap;
    }
    memcpy(s->b + s->n, buf, len);
    s->n += len;
    s->b[s->n] = '\0';
    return 0;
}

static int refuse(const char *buf, size_t len, void *payload)
{
    (void)buf;
    (void)len;
    (void)payload;
    return 1;
}

static void round_trip_and_digest(void **state)
{
    pinset_policy *p = parse_ok(full_doc), *q;
    struct sbuf one = {0}, two = {0};
    uint8_t d1[32], d2[32];

    (void)state;
    assert_int_equal(pinset_policy_write(p, sink, &one), PINSET_OK);
    q = parse_ok(one.b);
    assert_int_equal(pinset_policy_write(q, sink, &two), PINSET_OK);
    assert_string_equal(one.b, two.b); /* write is a fixed point */
    pinset_policy_digest(p, d1);
    pinset_policy_digest(q, d2);
    assert_memory_equal(d1, d2, 32);
    /* same model, same answers */
    assert_int_equal(pinset_policy_rule_count(p), pinset_policy_rule_count(q));
    for (size_t i = 0; i < pinset_policy_rule_count(p); i++) {
        const pinset_rule *a = pinset_policy_rule(p, i), *b = pinset_policy_rule(q, i);
        assert_string_equal(pinset_rule_host(a), pinset_rule_host(b));
        assert_int_equal(pinset_rule_pin_count(a), pinset_rule_pin_count(b));
        for (size_t k = 0; k < pinset_rule_pin_count(a); k++) {
            assert_true(pinset_pin_equal(pinset_rule_pin(a, k), pinset_rule_pin(b, k)));
            assert_int_equal(pinset_rule_pin_not_after(a, k), pinset_rule_pin_not_after(b, k));
        }
        assert_int_equal(pinset_rule_expires(a), pinset_rule_expires(b));
        assert_int_equal(pinset_rule_min_pins(a), pinset_rule_min_pins(b));
    }
    /* the digest is SHA-256 over exactly what write emits */
    {
        uint8_t want[32];
        unsigned int n = 0;
        assert_int_equal(EVP_Digest(one.b, one.n, want, &n, EVP_sha256(), NULL), 1);
        assert_memory_equal(d1, want, 32);
    }
    /* a sink that refuses gives PINSET_E_IO */
    assert_int_equal(pinset_policy_write(p, refuse, NULL), PINSET_E_IO);
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(one.b);
    free(two.b);
}

static void digest_tracks_the_model_not_the_spelling(void **state)
{
    /* same model: key order, host spelling, pin text form, explicit defaults */
    const char *a =
        "{\"version\": 1, \"rules\": [{\"host\": \"bücher.example\", \"pins\": [\"" PIN_T
        "\", \"" PIN_A "\"]}]}";
    const char *b =
        "{\"rules\": [{\"pins\": [{\"sha256\": \"sha256/" PIN_T
        "\", \"kind\": \"spki\", \"role\": \"any\"}, \"pin-sha256=\\\"" PIN_A
        "\\\"\"], \"mode\": \"enforce\", \"min_pins\": 2, \"include_subdomains\": false, "
        "\"host\": \"XN--BCHER-KVA.example.\"}], \"version\": 1}";
    const char *c =
        "{\"version\": 1, \"rules\": [{\"host\": \"bücher.example\", \"pins\": [\"" PIN_T
        "\", \"" PIN_A "\"], \"min_pins\": 1}]}";
    pinset_policy *pa = parse_ok(a), *pb = parse_ok(b), *pc = parse_ok(c);
    uint8_t da[32], db[32], dc[32];

    (void)state;
    pinset_policy_digest(pa, da);
    pinset_policy_digest(pb, db);
    pinset_policy_digest(pc, dc);
    assert_memory_equal(da, db, 32);
    assert_memory_not_equal(da, dc, 32);
    pinset_policy_free(pa);
    pinset_policy_free(pb);
    pinset_policy_free(pc);
}

static void refcount(void **state)
{
    pinset_policy *p = parse_ok(full_doc);

    (void)state;
    assert_ptr_equal(pinset_policy_ref(p), p);
    assert_ptr_equal(pinset_policy_ref(p), p);
    pinset_policy_free(p);
    pinset_policy_free(p);
    /* still alive: ASan would flag a use after free */
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 0)), "example.com");
    pinset_policy_free(p);
}

struct worker {
    pinset_policy *policy;
    size_t found;
};

static void *lookup_worker(void *arg)
{
    struct worker *w = arg;
    static const char *const hosts[] = {"example.com",      "a.b.example.com",
                                        "open.example.com", "xn--bcher-kva.example",
                                        "2001:db8::1",      "nope.test"};

    for (size_t i = 0; i < 20000; i++) {
        const char *h = hosts[i % PINSET_ARRAY_SIZE(hosts)];
        w->found += pinset_policy_lookup(w->policy, h, strlen(h), NULL) != NULL;
    }
    pinset_policy_free(w->policy); /* each thread drops its own reference */
    return NULL;
}

/* Many threads share one policy; the last reference frees it (ASan/TSan check). */
static void shared_between_threads(void **state)
{
    pinset_policy *p = parse_ok(full_doc);
    pthread_t t[4];
    struct worker w[4];

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        w[i].policy = pinset_policy_ref(p);
        w[i].found = 0;
        assert_int_equal(pthread_create(&t[i], NULL, lookup_worker, &w[i]), 0);
    }
    pinset_policy_free(p); /* the workers may now hold the last references */
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        /* example.com, a.b.example.com (subdomain), open.example.com (exclusion),
         * bücher, 2001:db8::1 match; nope.test does not: 5 of every 6 */
        assert_int_equal(w[i].found, 20000 / 6 * 5 + (20000 % 6 > 5 ? 5 : 20000 % 6));
    }
}

static void allocation_failures(void **state)
{
    (void)state;
    for (unsigned long n = 1; n < 10000; n++) {
        pinset_policy *p = NULL;
        pinset_err err;
        pinset__alloc_fail_at(n);
        err = pinset_policy_parse(&p, (const uint8_t *)full_doc, strlen(full_doc), NULL);
        pinset__alloc_fail_at(0);
        if (err == PINSET_OK) {
            assert_non_null(p);
            pinset_policy_free(p);
            return; /* every earlier allocation has failed once */
        }
        assert_int_equal(err, PINSET_E_NOMEM);
        assert_null(p);
    }
    fail_msg("parse never succeeded");
}

/* ---- load ---- */

static void load_files(void **state)
{
    char path[] = "/tmp/pinset-test-policy-XXXXXX";
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    int fd = mkstemp(path);
    const char *bad = "{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pinset\": \"x\"}]}";

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, full_doc, strlen(full_doc)), (ssize_t)strlen(full_doc));
    assert_int_equal(pinset_policy_load(&p, path, &d), PINSET_OK);
    assert_int_equal(pinset_policy_rule_count(p), 4);
    pinset_policy_free(p);
    /* a semantic error names the file, the path and the position */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, bad, strlen(bad), 0), (ssize_t)strlen(bad));
    assert_int_equal(pinset_policy_load(&p, path, &d), PINSET_E_PARSE);
    assert_null(p);
    assert_string_equal(d.input, path); /* where is in the fields, the message is the reason */
    assert_null(strstr(d.message, path));
    assert_null(strstr(d.message, "rules[0]"));
    assert_non_null(strstr(d.message, "unknown pin-set"));
    assert_string_equal(d.path, "rules[0].pinset");
    assert_int_equal(d.line, 1);
    (void)close(fd);
    (void)unlink(path);
    /* missing file, directory */
    pinset_diag_init(&d);
    assert_int_equal(pinset_policy_load(&p, path, &d), PINSET_E_IO);
    assert_string_equal(d.input, path); /* the name is a field, not in the message */
    assert_null(strstr(d.message, path));
    pinset_diag_init(&d);
    assert_int_equal(pinset_policy_load(&p, "/tmp", &d), PINSET_E_IO);
    assert_string_equal(d.input, "/tmp");
    assert_non_null(strstr(d.message, "not a regular file"));
    /* a FIFO is refused without blocking in open() */
    {
        char fifo[] = "/tmp/pinset-test-fifo-XXXXXX";
        int tfd = mkstemp(fifo);
        assert_true(tfd >= 0);
        (void)close(tfd);
        (void)unlink(fifo);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        pinset_diag_init(&d);
        assert_int_equal(pinset_policy_load(&p, fifo, &d), PINSET_E_IO);
        assert_non_null(strstr(d.message, "not a regular file"));
        (void)unlink(fifo);
    }
    /* an empty file is invalid json, named */
    {
        char empty[] = "/tmp/pinset-test-empty-XXXXXX";
        int efd = mkstemp(empty);
        assert_true(efd >= 0);
        (void)close(efd);
        pinset_diag_init(&d);
        assert_int_equal(pinset_policy_load(&p, empty, &d), PINSET_E_PARSE);
        assert_string_equal(d.input, empty);
        assert_true(strncmp(d.message, "invalid json", 12) == 0);
        (void)unlink(empty);
    }
}

/* Hostile files (issue 2's list, for policies): a 2 GB sparse file and /dev/zero. */
static void load_hostile_files(void **state)
{
    char path[] = "/tmp/pinset-test-huge-XXXXXX";
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    /* refused by its size, before a byte is read (reading 2 GB would time out) */
    assert_int_equal(ftruncate(fd, (off_t)2048 * 1024 * 1024), 0);
    (void)close(fd);
    assert_int_equal(pinset_policy_load(&p, path, &d), PINSET_E_LIMIT);
    assert_null(p);
    assert_string_equal(d.input, path);
    assert_null(strstr(d.message, path));
    assert_non_null(strstr(d.message, "exceeds"));
    (void)unlink(path);
    /* a character device that never ends */
    pinset_diag_init(&d);
    assert_int_equal(pinset_policy_load(&p, "/dev/zero", &d), PINSET_E_IO);
    assert_null(p);
    assert_string_equal(d.input, "/dev/zero");
    assert_non_null(strstr(d.message, "not a regular file"));
}

/* Hostile bytes: invalid UTF-8, a raw NUL, a byte order mark, numbers out of range. */
static void hostile_bytes(void **state)
{
    static const char with_nul[] = "{\"version\": 1, \"rules\": []}\0";
    static const char nul_in_string[] = "{\"version\": 1, \"rules\": [{\"host\": \"a\0b\"}]}";
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"\xff.example\", \"pins\": [\"" PIN_T
                "\"]}]}",
                PINSET_E_PARSE, "", 0, 0, "invalid json");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"\xc3.example\", \"pins\": [\"" PIN_T
                "\"]}]}",
                PINSET_E_PARSE, "", 0, 0, "invalid json");
    parse_fails("\xef\xbb\xbf{\"version\": 1, \"rules\": []}", PINSET_E_PARSE, "", 0, 0,
                "invalid json");
    parse_fails("{\"version\": 18446744073709551617, \"rules\": []}", PINSET_E_PARSE, "", 0, 0,
                "invalid json");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"" PIN_T
                "\"], \"min_pins\": 1e400}]}",
                PINSET_E_PARSE, "", 0, 0, "invalid json");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.example\", \"pins\": [\"" PIN_T
                "\"], \"min_pins\": 4294967298}]}",
                PINSET_E_PARSE, "rules[0].min_pins", 0, 0, NULL);
    /* raw NUL bytes, counted in the length: after the document and inside a string */
    assert_int_equal(pinset_policy_parse(&p, (const uint8_t *)with_nul, sizeof(with_nul) - 1, &d),
                     PINSET_E_PARSE);
    assert_null(p);
    assert_non_null(strstr(d.message, "invalid json"));
    pinset_diag_init(&d);
    assert_int_equal(
        pinset_policy_parse(&p, (const uint8_t *)nul_in_string, sizeof(nul_in_string) - 1, &d),
        PINSET_E_PARSE);
    assert_null(p);
    assert_non_null(strstr(d.message, "invalid json"));
}

static void load_allocation_failures(void **state)
{
    char path[] = "/tmp/pinset-test-policy-XXXXXX";
    int fd = mkstemp(path);
    int done = 0;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, full_doc, strlen(full_doc)), (ssize_t)strlen(full_doc));
    (void)close(fd);
    for (unsigned long n = 1; n < 10000 && !done; n++) {
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err;
        pinset__alloc_fail_at(n);
        err = pinset_policy_load(&p, path, &d);
        pinset__alloc_fail_at(0);
        if (err == PINSET_OK) {
            pinset_policy_free(p);
            done = 1;
        } else {
            assert_int_equal(err, PINSET_E_NOMEM);
            assert_null(p);
            assert_string_equal(d.input, path);
        }
    }
    (void)unlink(path);
    assert_true(done);
}

/* ---- peer vectors ---- */

static json_t *load_vectors(const char *name)
{
    const char *src = getenv("PINSET_SOURCE_DIR");
    char path[1024];
    json_error_t jerr;
    json_t *v;

    if (src == NULL) {
        fail_msg("PINSET_SOURCE_DIR is not set (run through ctest)");
    }
    (void)snprintf(path, sizeof(path), "%s/tests/corpora/vectors/%s", src, name);
    v = json_load_file(path, 0, &jerr);
    if (v == NULL) {
        fail_msg("%s: %s", path, jerr.text);
    }
    return v;
}

/* Appends one rule to a policy document being built. */
/* sub: 0 exact, 1 include_subdomains, 2 one-label */
static void add_rule(char *doc, size_t cap, const char *host, int sub, int first)
{
    static const char *const scope[] = {"false", "true", "\"one-label\""};
    size_t n = strlen(doc);

    (void)snprintf(doc + n, cap - n,
                   "%s{\"host\": \"%s\", \"include_subdomains\": %s, \"pins\": [\"" PIN_T
                   "\", \"" PIN_A "\"]}",
                   first ? "" : ",", host, scope[sub]);
}

/*
 * TrustKit's domain_lookup cases: configs are written as
 * "good.com +sub, www.good.com" (a comma-separated list; "+sub" means
 * includeSubdomains). The expected answer is the rule's domain or null.
 */
static void trustkit_domain_lookup(void **state)
{
    json_t *v = load_vectors("trustkit.json");
    json_t *cases = json_object_get(v, "domain_lookup");
    size_t i, ran = 0;
    json_t *c;

    (void)state;
    assert_true(json_is_array(cases));
    json_array_foreach(cases, i, c)
    {
        char cfg[256], doc[2048], want[256];
        const char *host = json_string_value(json_object_get(c, "host"));
        const json_t *expect = json_object_get(c, "expect");
        char *tok, *save = NULL;
        int first = 1;
        pinset_policy *p;
        const pinset_rule *r;

        (void)snprintf(cfg, sizeof(cfg), "%s", json_string_value(json_object_get(c, "config")));
        (void)snprintf(doc, sizeof(doc), "{\"version\": 1, \"rules\": [");
        for (tok = strtok_r(cfg, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            char name[128];
            int sub = strstr(tok, "+sub") != NULL;
            while (*tok == ' ') {
                tok++;
            }
            (void)snprintf(name, sizeof(name), "%.*s", (int)strcspn(tok, " "), tok);
            add_rule(doc, sizeof(doc), name, sub, first);
            first = 0;
        }
        (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "]}");
        p = parse_ok(doc);
        r = pinset_policy_lookup(p, host, strlen(host), NULL);
        if (json_is_null(expect)) {
            if (r != NULL) {
                fail_msg("trustkit case %zu (%s): '%s' matched '%s', want none", i,
                         json_string_value(json_object_get(c, "config")), host,
                         pinset_rule_host(r));
            }
        } else {
            /* "www.good.com (exact beats includeSubdomains)": the domain is the first word */
            (void)snprintf(want, sizeof(want), "%.*s", (int)strcspn(json_string_value(expect), " "),
                           json_string_value(expect));
            if (r == NULL || strcmp(pinset_rule_host(r), want) != 0) {
                fail_msg("trustkit case %zu: '%s' matched '%s', want '%s'", i, host,
                         r != NULL ? pinset_rule_host(r) : "(none)", want);
            }
        }
        pinset_policy_free(p);
        ran++;
    }
    assert_int_equal(ran, json_array_size(cases));
    assert_true(ran >= 10);
    json_decref(v);
}

/* Translates one TrustKit domain entry into a rule of our model. */
static void trustkit_rule(char *doc, size_t cap, const char *host, json_t *e, int first)
{
    json_t *hashes = json_object_get(e, "hashes"), *h;
    size_t n = strlen(doc), i;

    n += (size_t)snprintf(doc + n, cap - n, "%s{\"host\": \"%s\"", first ? "" : ",", host);
    if (json_is_true(json_object_get(e, "includeSubdomains"))) {
        n += (size_t)snprintf(doc + n, cap - n, ", \"include_subdomains\": true");
    }
    if (json_is_true(json_object_get(e, "excludeSubdomainFromParentPolicy"))) {
        n += (size_t)snprintf(doc + n, cap - n, ", \"exclude\": true");
    }
    if (hashes != NULL) {
        n += (size_t)snprintf(doc + n, cap - n, ", \"pins\": [");
        json_array_foreach(hashes, i, h)
        {
            n += (size_t)snprintf(doc + n, cap - n, "%s\"%s\"", i == 0 ? "" : ",",
                                  json_string_value(h));
        }
        n += (size_t)snprintf(doc + n, cap - n, "]");
    }
    (void)snprintf(doc + n, cap - n, "}");
}

/*
 * TrustKit's configuration cases that our model decides (exclusions); the
 * others (fewer than two distinct pins, public suffixes, an empty policy)
 * are lint's concern: the model exposes what lint needs and accepts them.
 */
static void trustkit_config_parse(void **state)
{
    json_t *v = load_vectors("trustkit.json");
    json_t *cases = json_object_get(v, "config_parse");
    size_t i, decided = 0;
    json_t *c;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        json_t *cfg = json_object_get(c, "config"), *e;
        const char *expect = json_string_value(json_object_get(c, "expect"));
        const char *host;
        char doc[4096];
        int first = 1;
        pinset_policy *p = NULL;
        pinset_err err;

        if (cfg == NULL) {
            continue; /* a rule described in words only */
        }
        (void)snprintf(doc, sizeof(doc), "{\"version\": 1, \"rules\": [");
        json_object_foreach(cfg, host, e)
        {
            trustkit_rule(doc, sizeof(doc), host, e, first);
            first = 0;
        }
        (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "]}");
        err = pinset_policy_parse(&p, (const uint8_t *)doc, strlen(doc), NULL);
        if (strncmp(expect, "accept", 6) == 0) {
            assert_int_equal(err, PINSET_OK);
            if (strstr(expect, "unsecured.good.com") != NULL) {
                const pinset_rule *r = pinset_policy_lookup(p, "unsecured.good.com", 18, NULL);
                assert_non_null(r);
                assert_string_equal(pinset_rule_host(r), "unsecured.good.com");
            }
            decided++;
        } else if (strstr(expect, "exclusion") != NULL) {
            assert_int_equal(err, PINSET_E_PARSE);
            decided++;
        } else if (strstr(expect, "distinct pins") != NULL) {
            /* lint's input: min_pins 2 and two copies of one pin */
            const pinset_rule *r;
            assert_int_equal(err, PINSET_OK);
            r = pinset_policy_rule(p, 0);
            assert_int_equal(pinset_rule_min_pins(r), 2);
            assert_int_equal(pinset_rule_pin_count(r), 2);
            assert_true(pinset_pin_equal(pinset_rule_pin(r, 0), pinset_rule_pin(r, 1)));
        } else {
            assert_int_equal(err, PINSET_OK); /* public suffix, empty: lint */
        }
        pinset_policy_free(p);
    }
    assert_true(decided >= 4);
    json_decref(v);
}

/*
 * OkHttp's host cases that apply to our model: exact patterns, and "**."
 * patterns, which mean the host and all its subdomains (include_subdomains),
 * and "*." patterns, exactly one label below the host and not the host
 * (include_subdomains "one-label").
 * Where OkHttp documents a quirk or a bug (empty labels match; a trailing
 * dot skips pinning, issue #9724) we assert our deliberate difference.
 */
static void okhttp_hostname_matching(void **state)
{
    json_t *v = load_vectors("okhttp-certificatepinner.json");
    json_t *cases = json_object_get(v, "hostname_matching");
    size_t i, ran = 0, wild = 0;
    json_t *c;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        const char *pattern = json_string_value(json_object_get(c, "pattern"));
        const char *host = json_string_value(json_object_get(c, "host"));
        const char *note = json_string_value(json_object_get(c, "note"));
        int want = json_is_true(json_object_get(c, "match"));
        int sub = 0;
        char doc[1024];
        pinset_policy *p;
        const pinset_rule *r;

        if (strncmp(pattern, "*.", 2) == 0) {
            pattern += 2;
            sub = 2; /* exactly one label: include_subdomains "one-label" */
        } else if (strncmp(pattern, "**.", 3) == 0) {
            pattern += 3;
            sub = 1;
        }
        if (note != NULL && strstr(note, "quirk") != NULL) {
            want = 0; /* a host with an empty label is invalid: never pinned by a parent */
        }
        if (note != NULL && strstr(note, "trailing-dot") != NULL) {
            want = 1; /* one trailing dot is removed before lookup */
        }
        doc[0] = '\0';
        (void)snprintf(doc, sizeof(doc), "{\"version\": 1, \"rules\": [");
        add_rule(doc, sizeof(doc), pattern, sub, 1);
        (void)snprintf(doc + strlen(doc), sizeof(doc) - strlen(doc), "]}");
        p = parse_ok(doc);
        r = pinset_policy_lookup(p, host, strlen(host), NULL);
        if ((r != NULL) != want) {
            fail_msg("okhttp case %zu: pattern '%s' host '%s': match %d, want %d", i, pattern, host,
                     r != NULL, want);
        }
        pinset_policy_free(p);
        ran++;
        wild += sub == 2;
    }
    assert_int_equal(ran, 35); /* every case, the 13 with "*." included */
    assert_int_equal(wild, 13);
    json_decref(v);
}

/* The complete example in docs/policy-format.md parses and means what it says. */
static void documented_example(void **state)
{
    const char *src = getenv("PINSET_SOURCE_DIR");
    char path[1024];
    char *text, *start, *end;
    FILE *f;
    long size;
    pinset_policy *p;
    pinset_match how;
    const pinset_rule *r;

    (void)state;
    if (src == NULL) {
        fail_msg("PINSET_SOURCE_DIR is not set (run through ctest)");
    }
    (void)snprintf(path, sizeof(path), "%s/docs/policy-format.md", src);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    start = strstr(text, "```json\n");
    assert_non_null(start);
    start += 8;
    end = strstr(start, "```");
    assert_non_null(end);
    *end = '\0';
    p = parse_ok(start);
    assert_int_equal(pinset_policy_rule_count(p), 5);
    r = pinset_policy_lookup(p, "www.example.com", strlen("www.example.com"), &how);
    assert_string_equal(pinset_rule_host(r), "example.com");
    assert_int_equal(how, PINSET_MATCH_SUBDOMAIN);
    r = pinset_policy_lookup(p, "img.static.example.com", strlen("img.static.example.com"), &how);
    assert_int_equal(how, PINSET_MATCH_EXCLUDED);
    r = pinset_policy_lookup(p, "api.example.com", strlen("api.example.com"), &how);
    assert_int_equal(how, PINSET_MATCH_EXACT);
    assert_int_equal(pinset_rule_pin_count(r), 3);
    assert_int_equal(pinset_rule_blocked_count(r), 1);
    r = pinset_policy_lookup(p, "xn--bcher-kva.example", strlen("xn--bcher-kva.example"), &how);
    assert_int_equal(pinset_rule_mode(r), PINSET_MODE_REPORT);
    pinset_policy_free(p);
    free(text);
}

/* The enumerations' names are the policy format's own words, and out-of-range values are safe. */
static void enum_names_match_the_format(void **state)
{
    (void)state;
    assert_string_equal(pinset_mode_name(PINSET_MODE_ENFORCE), "enforce");
    assert_string_equal(pinset_mode_name(PINSET_MODE_REPORT), "report");
    assert_string_equal(pinset_role_name(PINSET_ROLE_ANY), "any");
    assert_string_equal(pinset_role_name(PINSET_ROLE_LEAF), "leaf");
    assert_string_equal(pinset_role_name(PINSET_ROLE_CA), "ca");
    assert_string_equal(pinset_role_name(PINSET_ROLE_BACKUP), "backup");
    assert_string_equal(pinset_on_expiry_name(PINSET_ON_EXPIRY_NONE), "none");
    assert_string_equal(pinset_on_expiry_name(PINSET_ON_EXPIRY_FAIL_OPEN), "fail-open");
    assert_string_equal(pinset_on_expiry_name(PINSET_ON_EXPIRY_FAIL_CLOSED), "fail-closed");
    assert_string_equal(pinset_on_expiry_name(PINSET_ON_EXPIRY_REPORT), "report");
    assert_string_equal(pinset_match_name(PINSET_MATCH_NONE), "none");
    assert_string_equal(pinset_match_name(PINSET_MATCH_EXACT), "exact");
    assert_string_equal(pinset_match_name(PINSET_MATCH_SUBDOMAIN), "subdomain");
    assert_string_equal(pinset_match_name(PINSET_MATCH_EXCLUDED), "excluded");
    assert_string_equal(pinset_mode_name((pinset_mode)9), "unknown");
    assert_string_equal(pinset_role_name((pinset_role)-1), "unknown");
    assert_string_equal(pinset_on_expiry_name((pinset_on_expiry)4), "unknown");
    assert_string_equal(pinset_match_name((pinset_match)4), "unknown");
    assert_string_equal(pinset_scope_name(PINSET_SCOPE_EXACT), "exact");
    assert_string_equal(pinset_scope_name(PINSET_SCOPE_SUBDOMAINS), "subdomains");
    assert_string_equal(pinset_scope_name(PINSET_SCOPE_ONE_LABEL), "one-label");
    assert_string_equal(pinset_scope_name((pinset_scope)3), "unknown");
    assert_int_equal(pinset_rule_scope(NULL), PINSET_SCOPE_EXACT);
}

static const char *one_label_doc =
    "{\"version\": 1, \"rules\": [\n"
    "  {\"host\": \"example.com\", \"pins\": [\"" PIN_A "\"]},\n"
    "  {\"host\": \"example.com\", \"include_subdomains\": \"one-label\", \"pins\": [\"" PIN_B
    "\"]},\n"
    "  {\"host\": \"api.example.com\", \"include_subdomains\": true, \"pins\": [\"" PIN_T "\"]},\n"
    "  {\"host\": \"api.example.com\", \"include_subdomains\": \"one-label\", \"pins\": [\"" PIN_A
    "\"]},\n"
    "  {\"host\": \"v1.api.example.com\", \"pins\": [\"" PIN_B "\"]},\n"
    "  {\"host\": \"org\", \"include_subdomains\": true, \"pins\": [\"" PIN_T "\"]},\n"
    "  {\"host\": \"a.org\", \"include_subdomains\": \"one-label\", \"pins\": [\"" PIN_B "\"]},\n"
    "  {\"host\": \"x.a.org\", \"exclude\": true}\n"
    "]}";

/*
 * The one-label scope (OkHttp's "*."): the names exactly one label below the
 * host, not the host, not deeper. Precedence: the host's own rule, then its
 * immediate parent's one-label rule, then that parent's include_subdomains
 * rule, then the longer covering ancestor first.
 */
static void one_label_scope(void **state)
{
    pinset_policy *p = parse_ok(one_label_doc), *q;
    struct sbuf one = {0}, two = {0};
    const pinset_rule *r;

    (void)state;
    /* getters */
    assert_int_equal(pinset_rule_scope(pinset_policy_rule(p, 0)), PINSET_SCOPE_EXACT);
    assert_int_equal(pinset_rule_scope(pinset_policy_rule(p, 1)), PINSET_SCOPE_ONE_LABEL);
    assert_int_equal(pinset_rule_scope(pinset_policy_rule(p, 2)), PINSET_SCOPE_SUBDOMAINS);
    assert_int_equal(pinset_rule_include_subdomains(pinset_policy_rule(p, 1)), 0);
    assert_int_equal(pinset_rule_include_subdomains(pinset_policy_rule(p, 2)), 1);
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 1)), "example.com");
    /* the host itself is the exact rule's; a one-label rule never covers its own host */
    expect_lookup(p, "example.com", "example.com", PINSET_MATCH_EXACT);
    r = pinset_policy_lookup(p, "example.com", 11, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 0));
    /* one label below: the one-label rule */
    r = pinset_policy_lookup(p, "www.example.com", 15, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 1));
    /* two labels below: nothing (example.com has no include_subdomains) */
    expect_lookup(p, "a.www.example.com", NULL, PINSET_MATCH_NONE);
    /* exact beats the parent's one-label rule */
    r = pinset_policy_lookup(p, "api.example.com", 15, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 2));
    /* at the same parent, one-label beats include_subdomains; deeper, only the latter */
    r = pinset_policy_lookup(p, "v2.api.example.com", 18, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 3));
    expect_lookup(p, "v2.api.example.com", "api.example.com", PINSET_MATCH_SUBDOMAIN);
    r = pinset_policy_lookup(p, "x.v2.api.example.com", 20, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 2));
    r = pinset_policy_lookup(p, "v1.api.example.com", 18, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 4));
    /* a one-label rule beats a shorter any-depth ancestor; an exclusion beats it */
    r = pinset_policy_lookup(p, "b.a.org", 7, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 6));
    r = pinset_policy_lookup(p, "a.org", 5, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 5));
    r = pinset_policy_lookup(p, "c.b.a.org", 9, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 5));
    expect_lookup(p, "x.a.org", "x.a.org", PINSET_MATCH_EXCLUDED);
    /* spelling and empty labels */
    r = pinset_policy_lookup(p, "WWW.Example.COM.", 16, NULL);
    assert_ptr_equal(r, pinset_policy_rule(p, 1));
    expect_lookup(p, ".example.com", NULL, PINSET_MATCH_NONE);
    /* the canonical form says "one-label", reads back the same, and is a fixed point */
    assert_int_equal(pinset_policy_write(p, sink, &one), PINSET_OK);
    assert_non_null(strstr(one.b, "\"include_subdomains\": \"one-label\""));
    q = parse_ok(one.b);
    assert_int_equal(pinset_policy_write(q, sink, &two), PINSET_OK);
    assert_string_equal(one.b, two.b);
    for (size_t i = 0; i < pinset_policy_rule_count(p); i++) {
        assert_int_equal(pinset_rule_scope(pinset_policy_rule(p, i)),
                         pinset_rule_scope(pinset_policy_rule(q, i)));
    }
    r = pinset_policy_lookup(q, "www.example.com", 15, NULL);
    assert_ptr_equal(r, pinset_policy_rule(q, 1));
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(one.b);
    free(two.b);
    /* a policy without the new scope is written exactly as before */
    p = parse_ok(full_doc);
    memset(&one, 0, sizeof(one));
    assert_int_equal(pinset_policy_write(p, sink, &one), PINSET_OK);
    assert_null(strstr(one.b, "one-label"));
    pinset_policy_free(p);
    free(one.b);
    /* every allocation of a parse with one-label keys fails cleanly once */
    for (unsigned long n = 1; n < 10000; n++) {
        pinset_err err;
        p = NULL;
        pinset__alloc_fail_at(n);
        err = pinset_policy_parse(&p, (const uint8_t *)one_label_doc, strlen(one_label_doc), NULL);
        pinset__alloc_fail_at(0);
        if (err == PINSET_OK) {
            pinset_policy_free(p);
            return;
        }
        assert_int_equal(err, PINSET_E_NOMEM);
        assert_null(p);
    }
    fail_msg("parse never succeeded");
}

static void one_label_errors(void **state)
{
    (void)state;
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.com\", \"include_subdomains\": "
                "\"one\", \"pins\": [\"" PIN_A "\"]}]}",
                PINSET_E_PARSE, "rules[0].include_subdomains", 0, 0, "one-label");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.com\", \"include_subdomains\": 1, "
                "\"pins\": [\"" PIN_A "\"]}]}",
                PINSET_E_PARSE, "rules[0].include_subdomains", 0, 0, NULL);
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"192.0.2.1\", \"include_subdomains\": "
                "\"one-label\", \"pins\": [\"" PIN_A "\"]}]}",
                PINSET_E_PARSE, "rules[0].include_subdomains", 0, 0, "ip address");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.com\", \"include_subdomains\": true, "
                "\"pins\": [\"" PIN_A "\"]}, {\"host\": \"b.a.com\", \"exclude\": true, "
                "\"include_subdomains\": \"one-label\"}]}",
                PINSET_E_PARSE, "rules[1].include_subdomains", 0, 0, "exclusion");
    parse_fails("{\"version\": 1, \"rules\": [{\"host\": \"a.com\", \"include_subdomains\": "
                "\"one-label\", \"pins\": [\"" PIN_A "\"]}, {\"host\": \"A.com.\", "
                "\"include_subdomains\": \"one-label\", \"pins\": [\"" PIN_B "\"]}]}",
                PINSET_E_PARSE, "rules[1].host", 0, 0, "duplicate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_every_field),
        cmocka_unit_test(getters_tolerate_null),
        cmocka_unit_test(errors_name_path_and_position),
        cmocka_unit_test(errors_version_and_top),
        cmocka_unit_test(errors_in_rules),
        cmocka_unit_test(errors_in_times),
        cmocka_unit_test(errors_in_pins),
        cmocka_unit_test(errors_in_pinsets),
        cmocka_unit_test(errors_in_exclusions_and_duplicates),
        cmocka_unit_test(errors_on_limits),
        cmocka_unit_test(many_pinsets_resolve),
        cmocka_unit_test(hostile_hosts_in_policy),
        cmocka_unit_test(misuse),
        cmocka_unit_test(lookup_precedence),
        cmocka_unit_test(lookup_many_rules),
        cmocka_unit_test(round_trip_and_digest),
        cmocka_unit_test(digest_tracks_the_model_not_the_spelling),
        cmocka_unit_test(refcount),
        cmocka_unit_test(shared_between_threads),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(load_files),
        cmocka_unit_test(load_hostile_files),
        cmocka_unit_test(hostile_bytes),
        cmocka_unit_test(load_allocation_failures),
        cmocka_unit_test(trustkit_domain_lookup),
        cmocka_unit_test(trustkit_config_parse),
        cmocka_unit_test(okhttp_hostname_matching),
        cmocka_unit_test(documented_example),
        cmocka_unit_test(enum_names_match_the_format),
        cmocka_unit_test(one_label_scope),
        cmocka_unit_test(one_label_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
