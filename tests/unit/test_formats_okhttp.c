/*
 * test_formats_okhttp.c - the OkHttp CertificatePinner converter
 * (src/lib/formats/okhttp.c): names and detection, every host-pattern and
 * pin-parsing case of tests/corpora/vectors/okhttp-certificatepinner.json
 * through the importer and lookup, OkHttp's union semantics (a host that
 * several patterns match takes the pins of all, in the model and in the
 * verdict), errors with line and column, Okio's base64, the exporters (list,
 * Kotlin, Java) and their fidelity lists, round trips native -> okhttp ->
 * native, and allocation failures.
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

#include <pinset/check.h>
#include <pinset/convert.h>
#include <pinset/policy.h>

#include "formats_test.h"
#include "internal.h"

#define PIN_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN_E "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA="
#define PIN_I "IIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIIA="
#define PIN_M "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMA="

static pinset_err import(pinset_policy **p, pinset_fidelity **f, const char *text, pinset_diag *d)
{
    return pinset_policy_import(p, f, (const uint8_t *)text, strlen(text), PINSET_FORMAT_OKHTTP,
                                NULL, d);
}

static pinset_policy *import_ok(const char *text, pinset_fidelity **f)
{
    return formats_import_ok(pinset_policy_import, PINSET_FORMAT_OKHTTP, text, f);
}

/* Expect a refusal with code, a message part, and (line != 0) the position. */
static void import_fails(const char *text, pinset_err code, const char *part, size_t line,
                         size_t col)
{
    pinset_policy *p = (pinset_policy *)(uintptr_t)1;
    pinset_fidelity *f = (pinset_fidelity *)(uintptr_t)1;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = import(&p, &f, text, &d);

    if (err != code) {
        fail_msg("'%s': got %s (%s), want %s", text, pinset_err_name(err), d.message,
                 pinset_err_name(code));
    }
    assert_null(p);
    assert_null(f);
    if (part != NULL && strstr(d.message, part) == NULL) {
        fail_msg("'%s': message '%s' lacks '%s'", text, d.message, part);
    }
    if (line != 0 && (d.line != line || d.column != col)) {
        fail_msg("'%s': at %zu:%zu, want %zu:%zu (%s)", text, d.line, d.column, line, col,
                 d.message);
    }
    assert_null(strchr(d.message, '\n'));
}

/* Index of the first fidelity entry whose reason holds part, or -1. */
static long find_reason(const pinset_fidelity *f, const char *part)
{
    for (size_t i = 0; i < pinset_fidelity_count(f); i++) {
        if (strstr(pinset_fidelity_reason(f, i), part) != NULL) {
            return (long)i;
        }
    }
    return -1;
}

static void export_to(const pinset_policy *p, pinset_format fmt, struct sbuf *out,
                      pinset_fidelity **f)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    out->n = 0;
    out->b[0] = '\0';
    err = pinset_policy_export(f, p, fmt, NULL, sink, out, &d);
    if (err != PINSET_OK) {
        fail_msg("export: %s: %s", pinset_err_name(err), d.message);
    }
}

/* ---- names and detection ---- */

static void names_and_detection(void **state)
{
    (void)state;
    assert_int_equal(PINSET_FORMAT_OKHTTP, 4);
    assert_int_equal(PINSET_FORMAT_OKHTTP_KOTLIN, 5);
    assert_int_equal(PINSET_FORMAT_OKHTTP_JAVA, 6);
    assert_string_equal(pinset_format_name(PINSET_FORMAT_OKHTTP), "okhttp");
    assert_string_equal(pinset_format_name(PINSET_FORMAT_OKHTTP_KOTLIN), "okhttp-kotlin");
    assert_string_equal(pinset_format_name(PINSET_FORMAT_OKHTTP_JAVA), "okhttp-java");
    for (int f = PINSET_FORMAT_OKHTTP; f <= PINSET_FORMAT_OKHTTP_JAVA; f++) {
        assert_int_equal(pinset_format_from_name(pinset_format_name((pinset_format)f)), f);
    }
    assert_int_equal(pinset_format_from_name("OkHttp"), PINSET_FORMAT_OKHTTP);
    /* by content: a pattern then sha256/ after a blank or a comma */
    assert_int_equal(pinset_format_detect((const uint8_t *)"example.com sha256/" PIN_A, 55, NULL),
                     PINSET_FORMAT_OKHTTP);
    assert_int_equal(pinset_format_detect((const uint8_t *)"# pins\n*.a.com,sha256/x", 23, "x.txt"),
                     PINSET_FORMAT_OKHTTP);
    assert_int_equal(pinset_format_detect((const uint8_t *)"a.com\tsha1/x", 12, NULL),
                     PINSET_FORMAT_OKHTTP);
    /* the others are still told apart: curl's sha256// and HPKP's pin-sha256= */
    assert_int_equal(pinset_format_detect((const uint8_t *)"sha256//" PIN_A, 52, NULL),
                     PINSET_FORMAT_CURL);
    assert_int_equal(pinset_format_detect((const uint8_t *)"max-age=1; pin-sha256=\"x\"", 25, NULL),
                     PINSET_FORMAT_HPKP);
    /* the extension breaks a tie */
    assert_int_equal(pinset_format_detect((const uint8_t *)"garbage", 7, "pins.okhttp"),
                     PINSET_FORMAT_OKHTTP);
}

/* ---- the corpus ---- */

/*
 * Every hostname_matching case: the pattern is imported as a one-line list
 * and the host looked up in the model. Our deliberate differences, as in
 * test_policy.c: a host with an empty label is never pinned (OkHttp's quirk),
 * and one trailing dot is removed before lookup (OkHttp issue #9724).
 */
static void corpus_host_patterns(void **state)
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
        char text[512];
        pinset_policy *p;
        const pinset_rule *r;

        if (note != NULL && strstr(note, "quirk") != NULL) {
            want = 0;
        }
        if (note != NULL && strstr(note, "trailing-dot") != NULL) {
            want = 1;
        }
        (void)snprintf(text, sizeof(text), "%s sha256/" PIN_A "\n", pattern);
        p = import_ok(text, NULL);
        r = pinset_policy_lookup(p, host, strlen(host), NULL);
        if ((r != NULL) != want) {
            fail_msg("okhttp case %zu: pattern '%s' host '%s': match %d, want %d", i, pattern, host,
                     r != NULL, want);
        }
        wild += strncmp(pattern, "*.", 2) == 0;
        if (strncmp(pattern, "*.", 2) == 0) {
            assert_int_equal(pinset_rule_scope(pinset_policy_rule(p, 0)), PINSET_SCOPE_ONE_LABEL);
        } else if (strncmp(pattern, "**.", 3) == 0) {
            assert_int_equal(pinset_rule_scope(pinset_policy_rule(p, 0)), PINSET_SCOPE_SUBDOMAINS);
        }
        pinset_policy_free(p);
        ran++;
    }
    assert_int_equal(ran, 35);
    assert_int_equal(wild, 13);
    json_decref(v);
}

/* Every pin_string_parse case with a pattern and a pin: accepted or refused as OkHttp does. */
static void corpus_pin_parsing(void **state)
{
    json_t *v = load_vectors("okhttp-certificatepinner.json");
    json_t *cases = json_object_get(v, "pin_string_parse");
    size_t i, ran = 0;
    json_t *c;

    (void)state;
    json_array_foreach(cases, i, c)
    {
        const char *pattern = json_string_value(json_object_get(c, "pattern"));
        const char *pin = json_string_value(json_object_get(c, "pin"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        char text[512];
        pinset_policy *p = NULL;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err err;

        if (pattern == NULL) {
            continue; /* the note: wrong-length digests are refused (errors_with_position) */
        }
        (void)snprintf(text, sizeof(text), "%s %s", pattern, pin);
        err = import(&p, NULL, text, &d);
        if (strncmp(expect, "accept", 6) == 0) {
            static const uint8_t zero[32] = {0};
            assert_int_equal(err, PINSET_OK);
            assert_memory_equal(pinset_rule_pin(pinset_policy_rule(p, 0), 0)->sha256, zero, 32);
            assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 0)), "example.co.uk");
            assert_int_equal(pinset_rule_scope(pinset_policy_rule(p, 0)), PINSET_SCOPE_SUBDOMAINS);
        } else {
            if (err == PINSET_OK) {
                fail_msg("pin case %zu '%s': accepted, want %s", i, text, expect);
            }
            assert_true(d.line == 1 && d.column >= 1);
        }
        pinset_policy_free(p);
        ran++;
    }
    assert_int_equal(ran, 6);
    json_decref(v);
}

/* ---- union semantics ---- */

static void union_of_matching_patterns(void **state)
{
    pinset_fidelity *f = NULL;
    pinset_policy *p;
    const pinset_rule *r;

    (void)state;
    /* good.com + www.good.com (trustkit.json's pair, as OkHttp patterns) */
    p = import_ok("**.good.com sha256/" PIN_A "\nwww.good.com sha256/" PIN_E "\n", &f);
    r = pinset_policy_lookup(p, "www.good.com", 12, NULL);
    assert_string_equal(pinset_rule_host(r), "www.good.com");
    assert_int_equal(pinset_rule_pin_count(r), 2);
    assert_true(formats_has_pin(r, PIN_E) && formats_has_pin(r, PIN_A));
    r = pinset_policy_lookup(p, "mail.good.com", 13, NULL);
    assert_string_equal(pinset_rule_host(r), "good.com");
    assert_int_equal(pinset_rule_pin_count(r), 1);
    assert_false(formats_has_pin(r, PIN_E)); /* the narrower pattern's pin stays on its host */
    assert_true(find_reason(f, "of '**.good.com' added to 'www.good.com'") >= 0);
    assert_int_equal(pinset_fidelity_rule(f, 0), 1);
    pinset_fidelity_free(f);
    pinset_policy_free(p);

    /* the corpus's pin_check_semantics: '*.example.com' A and 'a.example.com' B */
    p = import_ok("*.example.com sha256/" PIN_A "\na.example.com sha256/" PIN_E "\n"
                  "**.com.example sha256/" PIN_I "\n",
                  &f);
    r = pinset_policy_lookup(p, "a.example.com", 13, NULL);
    assert_true(formats_has_pin(r, PIN_A) && formats_has_pin(r, PIN_E) &&
                !formats_has_pin(r, PIN_M));
    r = pinset_policy_lookup(p, "b.example.com", 13, NULL);
    assert_int_equal(pinset_rule_pin_count(r), 1);
    assert_null(pinset_policy_lookup(p, "example.com", 11, NULL));
    pinset_fidelity_free(f);
    pinset_policy_free(p);

    /* three levels: '**.com' covers '**.b.com', which covers '*.a.b.com' and 'x.a.b.com' */
    p = import_ok("x.a.b.com sha256/" PIN_A "\n*.a.b.com sha256/" PIN_E "\n"
                  "**.b.com sha256/" PIN_I "\n**.com sha256/" PIN_M "\n",
                  NULL);
    r = pinset_policy_lookup(p, "x.a.b.com", 9, NULL);
    assert_int_equal(pinset_rule_pin_count(r), 4);
    r = pinset_policy_lookup(p, "y.a.b.com", 9, NULL);
    assert_int_equal(pinset_rule_pin_count(r), 3);
    assert_false(formats_has_pin(r, PIN_A));
    r = pinset_policy_lookup(p, "z.y.a.b.com", 11, NULL);
    assert_string_equal(pinset_rule_host(r), "b.com");
    assert_int_equal(pinset_rule_pin_count(r), 2);
    pinset_policy_free(p);

    /* 'example.com' beside '**.example.com': one rule; the exact pins are listed, not spread */
    p = import_ok("example.com sha256/" PIN_A "\n**.example.com sha256/" PIN_E "\n", &f);
    assert_int_equal(pinset_policy_rule_count(p), 1);
    r = pinset_policy_rule(p, 0);
    assert_int_equal(pinset_rule_scope(r), PINSET_SCOPE_SUBDOMAINS);
    assert_false(formats_has_pin(r, PIN_A));
    assert_true(find_reason(f, "is not kept") >= 0);
    pinset_fidelity_free(f);
    pinset_policy_free(p);

    /* '**.a.example.com' itself is also matched by '*.example.com': listed, not merged */
    p = import_ok("*.example.com sha256/" PIN_A "\n**.a.example.com sha256/" PIN_E "\n", &f);
    r = pinset_policy_lookup(p, "b.a.example.com", 15, NULL);
    assert_false(formats_has_pin(r, PIN_A));
    assert_true(find_reason(f, "(stricter)") >= 0);
    pinset_fidelity_free(f);
    pinset_policy_free(p);

    /* the same pattern on several lines is one rule; a repeated pin counts once */
    p = import_ok("a.com sha256/" PIN_A "\nb.com sha256/" PIN_E "\nA.com. sha256/" PIN_I
                  " sha256/" PIN_A "\n",
                  NULL);
    assert_int_equal(pinset_policy_rule_count(p), 2);
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 0)), "a.com");
    assert_int_equal(pinset_rule_pin_count(pinset_policy_rule(p, 0)), 2);
    pinset_policy_free(p);
}

/*
 * The corpus's pin_check_semantics, decided by the verdict on an imported list:
 * '*.example.com' pin A and 'a.example.com' pin E; a chain with A passes, a
 * chain with E passes, a third key fails; a host no pattern matches is not
 * pinned; any one pin of several in the chain passes, at any depth.
 */
static void union_in_the_verdict(void **state)
{
    static const char *const keys[] = {PIN_A, PIN_E, PIN_I};
    pinset_policy *p = import_ok("*.example.com sha256/" PIN_A "\na.example.com sha256/" PIN_E "\n"
                                 "b.example.com sha256/" PIN_E " sha256/" PIN_M "\n",
                                 NULL);
    pinset_result *res = NULL;
    pinset_cert_pins chain[2];
    static const struct {
        const char *host;
        size_t key, depth;
        pinset_verdict want;
    } cases[] = {
        {"a.example.com", 0, 0, PINSET_VERDICT_PASS},
        {"a.example.com", 1, 0, PINSET_VERDICT_PASS},
        {"a.example.com", 2, 0, PINSET_VERDICT_FAIL},
        {"a.example.com", 0, 1, PINSET_VERDICT_PASS}, /* any depth: OkHttp has no role */
        {"c.example.com", 0, 0, PINSET_VERDICT_PASS},
        {"c.example.com", 1, 0, PINSET_VERDICT_FAIL},
        {"b.example.com", 0, 0, PINSET_VERDICT_PASS},
        {"example.com", 2, 0, PINSET_VERDICT_NOT_PINNED},
        {"x.c.example.com", 2, 0, PINSET_VERDICT_NOT_PINNED},
    };

    (void)state;
    assert_int_equal(pinset_result_new(&res, NULL), PINSET_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(chain, 0, sizeof(chain));
        for (size_t d = 0; d < 2; d++) {
            /* the other element's key: one no rule names */
            const char *k = d == cases[i].depth ? keys[cases[i].key] : PIN_I;
            assert_int_equal(pinset_pin_parse(&chain[d].spki, k, strlen(k), PINSET_PIN_SPKI, NULL),
                             PINSET_OK);
            chain[d].cert = chain[d].spki;
            chain[d].cert.kind = PINSET_PIN_CERT;
        }
        assert_int_equal(
            pinset_check_pins(res, p, cases[i].host, strlen(cases[i].host), chain, 2, 1795737600),
            PINSET_OK);
        if (pinset_result_verdict(res) != cases[i].want) {
            fail_msg("case %zu (%s): %s, want %s", i, cases[i].host,
                     pinset_verdict_name(pinset_result_verdict(res)),
                     pinset_verdict_name(cases[i].want));
        }
    }
    pinset_result_free(res);
    pinset_policy_free(p);
}

/* ---- errors ---- */

static void errors_with_position(void **state)
{
    char big[20000];

    (void)state;
    import_fails("example.com sha1/" PIN_A, PINSET_E_UNSUPPORTED, "sha1", 1, 13);
    import_fails("example.com md5/" PIN_A, PINSET_E_PARSE, "'sha256/'", 1, 13);
    import_fails("# c\nexample.com sha256/" PIN_A "\na.*.com sha256/" PIN_A, PINSET_E_PARSE,
                 "unexpected pattern", 3, 3);
    import_fails("***.a.com sha256/" PIN_A, PINSET_E_PARSE, "unexpected pattern", 1, 1);
    import_fails("*.*.a.com sha256/" PIN_A, PINSET_E_PARSE, "unexpected pattern", 1, 3);
    import_fails("a.com*.b sha256/" PIN_A, PINSET_E_PARSE, "unexpected pattern", 1, 6);
    import_fails("a..com sha256/" PIN_A, PINSET_E_PARSE, "invalid pattern", 1, 1);
    import_fails("*.192.0.2.1 sha256/" PIN_A, PINSET_E_PARSE, "invalid pattern", 1, 1);
    import_fails("*. sha256/" PIN_A, PINSET_E_PARSE, "invalid pattern", 1, 1);
    import_fails("example.com", PINSET_E_PARSE, "no pin", 1, 12);
    import_fails("example.com sha256/a", PINSET_E_PARSE, "invalid pin hash", 1, 21);
    import_fails("example.com sha256/AAAA*AAA", PINSET_E_PARSE, "base64", 1, 24);
    import_fails("example.com sha256/AAAAAAAAAAAAAAAAAAAAAA==", PINSET_E_PARSE, "32 octets", 1, 13);
    import_fails("example.com sha256/AAAA=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", PINSET_E_PARSE,
                 "base64", 1, 24);
    import_fails("example.com sha256/" PIN_A "\x01", PINSET_E_PARSE, "control", 1, 64);
    import_fails("", PINSET_E_PARSE, "no pattern", 0, 0);
    import_fails("# only a comment\n\n", PINSET_E_PARSE, "no pattern", 0, 0);
    /* more than 256 distinct pins for one pattern, alone or beside '**.' of the same host */
    for (int with_sub = 0; with_sub < 2; with_sub++) {
        static char many[257 * 64 + 128];
        size_t n = 0;
        pinset_policy *p = NULL;
        if (with_sub) {
            n += (size_t)snprintf(many + n, sizeof(many) - n, "**.a.com sha256/" PIN_A "\n");
        }
        for (int k = 0; k < 257; k++) {
            pinset_pin pin;
            char b64[PINSET_PIN_STR_MAX];
            memset(&pin, 0, sizeof(pin));
            pin.kind = PINSET_PIN_SPKI;
            pin.sha256[0] = (uint8_t)k;
            pin.sha256[1] = (uint8_t)(k >> 8);
            assert_int_equal(pinset_pin_format(b64, sizeof(b64), &pin, PINSET_PIN_FMT_OKHTTP),
                             PINSET_OK);
            n += (size_t)snprintf(many + n, sizeof(many) - n, "a.com %s\n", b64);
        }
        assert_int_equal(import(&p, NULL, many, NULL), PINSET_E_LIMIT);
        assert_null(p);
    }
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    import_fails(big, PINSET_E_LIMIT, "longer", 1, 1);
    /* the written-only forms cannot be read */
    {
        pinset_policy *p = NULL;
        assert_int_equal(pinset_policy_import(&p, NULL, (const uint8_t *)"x", 1,
                                              PINSET_FORMAT_OKHTTP_KOTLIN, NULL, NULL),
                         PINSET_E_UNSUPPORTED);
        assert_null(p);
    }
}

/* Blank lines, comments, CRLF, a BOM and commas are fine; patterns are canonicalised. */
static void list_syntax(void **state)
{
    pinset_policy *p;

    (void)state;
    p = import_ok("\xEF\xBB\xBF# OkHttp pins\r\n\r\n  EXAMPLE.com, sha256/" PIN_A ",sha256/" PIN_E
                  "\r\n\t*.MyExample.Com sha256/" PIN_A "\n"
                  "\xCF\x83khttp.com sha256/" PIN_A,
                  NULL);
    assert_int_equal(pinset_policy_rule_count(p), 3);
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 0)), "example.com");
    assert_int_equal(pinset_rule_pin_count(pinset_policy_rule(p, 0)), 2);
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 1)), "myexample.com");
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 2)), "xn--khttp-fde.com");
    /* what the import makes: enforce, the native min_pins default, pins of role any */
    assert_int_equal(pinset_rule_mode(pinset_policy_rule(p, 0)), PINSET_MODE_ENFORCE);
    assert_int_equal(pinset_rule_min_pins(pinset_policy_rule(p, 0)), 2);
    assert_int_equal(pinset_rule_pin_role(pinset_policy_rule(p, 0), 1), PINSET_ROLE_ANY);
    assert_int_equal(pinset_rule_pin(pinset_policy_rule(p, 0), 1)->kind, PINSET_PIN_SPKI);
    pinset_policy_free(p);
}

/* Okio's decoder: both alphabets, padding optional, unused bits ignored; stored canonical, listed.
 */
static void okio_base64(void **state)
{
    static const struct {
        const char *written, *canonical;
    } cases[] = {
        {"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=",
         "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", PIN_A},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA===", PIN_A},
        {"-_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
         "+/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        pinset_fidelity *f = NULL;
        pinset_policy *p;
        (void)snprintf(text, sizeof(text), "example.com sha256/%s\n", cases[i].written);
        p = import_ok(text, &f);
        assert_true(formats_has_pin(pinset_policy_rule(p, 0), cases[i].canonical));
        assert_int_equal(pinset_fidelity_count(f), 1);
        assert_non_null(strstr(pinset_fidelity_reason(f, 0), "not canonical"));
        assert_int_equal(pinset_fidelity_rule(f, 0), SIZE_MAX);
        assert_string_equal(pinset_fidelity_host(f, 0), "example.com");
        pinset_fidelity_free(f);
        pinset_policy_free(p);
    }
    {
        /* a canonical pin is not listed */
        pinset_fidelity *f = NULL;
        pinset_policy *p = import_ok("example.com sha256/" PIN_A, &f);
        assert_int_equal(pinset_fidelity_count(f), 0);
        pinset_fidelity_free(f);
        pinset_policy_free(p);
    }
}

/* ---- export ---- */

static const char *code_doc =
    "{\"version\": 1, \"rules\": ["
    "{\"host\": \"example.com\", \"include_subdomains\": \"one-label\", \"pins\": [\"" PIN_A
    "\", \"" PIN_E "\"]},"
    "{\"host\": \"b\xC3\xBC"
    "cher.example\", \"include_subdomains\": true, \"pins\": [\"" PIN_I "\", \"" PIN_M "\"]},"
    "{\"host\": \"api.example.com\", \"pins\": [\"" PIN_A "\", \"" PIN_E "\"]}]}";

static void export_list_and_code(void **state)
{
    pinset_policy *p = formats_parse_native(code_doc);
    pinset_fidelity *f = NULL;
    struct sbuf out;

    (void)state;
    export_to(p, PINSET_FORMAT_OKHTTP, &out, &f);
    assert_string_equal(out.b, "*.example.com sha256/" PIN_A " sha256/" PIN_E "\n"
                               "**.xn--bcher-kva.example sha256/" PIN_I " sha256/" PIN_M "\n"
                               "api.example.com sha256/" PIN_A " sha256/" PIN_E "\n");
    assert_int_equal(pinset_fidelity_count(f), 0);
    pinset_fidelity_free(f);
    export_to(p, PINSET_FORMAT_OKHTTP_KOTLIN, &out, &f);
    assert_string_equal(
        out.b,
        "val certificatePinner = CertificatePinner.Builder()\n"
        "    .add(\"*.example.com\", \"sha256/" PIN_A "\", \"sha256/" PIN_E "\")\n"
        "    .add(\"**.xn--bcher-kva.example\", \"sha256/" PIN_I "\", \"sha256/" PIN_M "\")\n"
        "    .add(\"api.example.com\", \"sha256/" PIN_A "\", \"sha256/" PIN_E "\")\n"
        "    .build()\n");
    pinset_fidelity_free(f);
    export_to(p, PINSET_FORMAT_OKHTTP_JAVA, &out, &f);
    assert_string_equal(
        out.b,
        "CertificatePinner certificatePinner = new CertificatePinner.Builder()\n"
        "    .add(\"*.example.com\", \"sha256/" PIN_A "\", \"sha256/" PIN_E "\")\n"
        "    .add(\"**.xn--bcher-kva.example\", \"sha256/" PIN_I "\", \"sha256/" PIN_M "\")\n"
        "    .add(\"api.example.com\", \"sha256/" PIN_A "\", \"sha256/" PIN_E "\")\n"
        "    .build();\n");
    pinset_fidelity_free(f);
    pinset_policy_free(p);
}

static void export_fidelity(void **state)
{
    static const char *doc =
        "{\"version\": 1, \"pinsets\": {\"keys\": {\"pins\": [\"" PIN_M "\"]}}, \"rules\": ["
        "{\"host\": \"example.com\", \"include_subdomains\": true, \"mode\": \"report\", "
        "\"pinset\": \"keys\", \"min_pins\": 3, \"expires\": \"2030-01-01\", \"on_expiry\": "
        "\"fail-open\", \"report_uris\": [\"https://r.example.net/\"], \"blocked\": [\"" PIN_I
        "\"], \"pins\": ["
        "{\"sha256\": \"" PIN_A "\", \"role\": \"leaf\", \"label\": \"l\"},"
        "{\"sha256\": \"" PIN_E "\", \"role\": \"ca\", \"not_after\": \"2030-01-01\"},"
        "{\"sha256\": \"" PIN_I "\", \"role\": \"backup\"},"
        "{\"sha256\": \"" PIN_A "\", \"kind\": \"cert\"}]},"
        "{\"host\": \"static.example.com\", \"exclude\": true},"
        "{\"host\": \"www.example.com\", \"pins\": [\"" PIN_A "\"]}]}";
    static const char *const want[] = {
        "no report mode",
        "no expiry: the pins",
        "sends no reports",
        "no min_pins",
        "no named pin-sets",
        "no pin labels",
        "no blocked keys",
        "role 'leaf'",
        "role 'ca'",
        "no backup pins",
        "expiry date for a pin",
        "cert pin is not written",
        "no exclusions",
        "also accept the pins of '**.example.com'",
    };
    pinset_policy *p = formats_parse_native(doc);
    pinset_fidelity *f = NULL;
    struct sbuf out;

    (void)state;
    export_to(p, PINSET_FORMAT_OKHTTP, &out, &f);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (find_reason(f, want[i]) < 0) {
            fail_msg("no fidelity entry with '%s'", want[i]);
        }
    }
    assert_null(strstr(out.b, "static.example.com"));
    assert_int_equal(pinset_fidelity_count(f), sizeof(want) / sizeof(want[0]));
    pinset_fidelity_free(f);
    pinset_policy_free(p);

    /* a rule with only cert pins cannot be written */
    p = formats_parse_native(
        "{\"version\": 1, \"rules\": [{\"host\": \"a.com\", \"pins\": [{\"sha256\": "
        "\"" PIN_A "\", \"kind\": \"cert\"}]}]}");
    {
        pinset_diag d = PINSET_DIAG_INIT;
        out.n = 0;
        assert_int_equal(pinset_policy_export(&f, p, PINSET_FORMAT_OKHTTP, NULL, sink, &out, &d),
                         PINSET_E_UNSUPPORTED);
        assert_null(f);
        assert_non_null(strstr(d.message, "no pin OkHttp can carry"));
        assert_int_equal(out.n, 0);
    }
    pinset_policy_free(p);
}

/* ---- round trips ---- */

static void round_trips(void **state)
{
    /* everything OkHttp can express: patterns of the three kinds, narrower rules holding the
       pins of the broader ones, IDN, an IP address, the native defaults */
    static const char *doc =
        "{\"version\": 1, \"rules\": ["
        "{\"host\": \"example.com\", \"include_subdomains\": true, \"pins\": [\"" PIN_A "\"]},"
        "{\"host\": \"a.example.com\", \"include_subdomains\": \"one-label\", \"pins\": [\"" PIN_E
        "\", \"" PIN_A "\"]},"
        "{\"host\": \"x.a.example.com\", \"pins\": [\"" PIN_I "\", \"" PIN_E "\", \"" PIN_A "\"]},"
        "{\"host\": \"a.example.com\", \"pins\": [\"" PIN_M "\", \"" PIN_A "\"]},"
        "{\"host\": \"xn--bcher-kva.example\", \"pins\": [\"" PIN_A "\", \"" PIN_M "\"]},"
        "{\"host\": \"192.0.2.1\", \"pins\": [\"" PIN_A "\", \"" PIN_M "\"]}]}";
    pinset_policy *p = formats_parse_native(doc), *q = NULL;
    pinset_fidelity *f = NULL;
    struct sbuf mid, one, two;

    (void)state;
    export_to(p, PINSET_FORMAT_OKHTTP, &mid, &f);
    assert_int_equal(pinset_fidelity_count(f), 0);
    pinset_fidelity_free(f);
    q = import_ok(mid.b, &f);
    assert_int_equal(pinset_fidelity_count(f), 0);
    pinset_fidelity_free(f);
    one.n = two.n = 0;
    assert_int_equal(pinset_policy_write(p, sink, &one), PINSET_OK);
    assert_int_equal(pinset_policy_write(q, sink, &two), PINSET_OK);
    assert_string_equal(one.b, two.b);
    pinset_policy_free(q);
    /* okhttp -> native -> okhttp keeps the list (once merged) */
    q = import_ok(mid.b, NULL);
    export_to(q, PINSET_FORMAT_OKHTTP, &one, NULL);
    assert_string_equal(one.b, mid.b);
    pinset_policy_free(q);
    pinset_policy_free(p);
}

/* ---- allocation failures ---- */

static void allocation_failures(void **state)
{
    static const char *text = "**.good.com sha256/" PIN_A "\nwww.good.com sha256/" PIN_E "\n"
                              "*.example.com sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n"
                              "a.example.com sha256/" PIN_I "\nexample.com sha256/" PIN_M "\n"
                              "**.example.com sha256/" PIN_A "\n";

    (void)state;
    alloc_fail_until_ok(pinset_policy_import, PINSET_FORMAT_OKHTTP, text, pinset_policy_export,
                        PINSET_FORMAT_OKHTTP_KOTLIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_detection),  cmocka_unit_test(corpus_host_patterns),
        cmocka_unit_test(corpus_pin_parsing),   cmocka_unit_test(union_of_matching_patterns),
        cmocka_unit_test(union_in_the_verdict), cmocka_unit_test(errors_with_position),
        cmocka_unit_test(list_syntax),          cmocka_unit_test(okio_base64),
        cmocka_unit_test(export_list_and_code), cmocka_unit_test(export_fidelity),
        cmocka_unit_test(round_trips),          cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
