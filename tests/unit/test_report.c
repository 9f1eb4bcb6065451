/*
 * test_report.c - RFC 7469 section 3 report documents (report.c): every
 * member with its type, PEM chains that decode back to the same DER,
 * known-pins strings, pinset's members, and refusals.
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

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <pinset/check.h>
#include <pinset/policy.h>
#include <pinset/report.h>

#include "internal.h"

#define BACKUP "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
#define T_2029 1861920000 /* 2029-01-01T00:00:00Z */

struct der {
    uint8_t *buf;
    size_t len;
};

static struct der rogue_leaf, rogue_root, int_ca;
static char p_int[64];

static struct der read_der(const char *name)
{
    char path[1200];
    struct der d = {NULL, 0};
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/attack/%s", getenv("PINSET_TESTDATA"), name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    d.buf = malloc((size_t)n);
    assert_non_null(d.buf);
    assert_int_equal(fread(d.buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    d.len = (size_t)n;
    return d;
}

struct sink {
    char *text;
    size_t len;
    int calls;
    int refuse;
};

static int to_sink(const char *buf, size_t len, void *payload)
{
    struct sink *s = payload;

    s->calls++;
    if (s->refuse) {
        return 1;
    }
    free(s->text);
    s->text = malloc(len + 1);
    assert_non_null(s->text);
    memcpy(s->text, buf, len);
    s->text[len] = '\0';
    s->len = len;
    return 0;
}

static pinset_policy *policy(const char *extra)
{
    char json[2048];
    pinset_policy *p = NULL;

    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"include_subdomains\": "
             "true, \"pins\": [\"%s\", \"%s\", {\"sha256\": \"%s\", \"kind\": \"cert\"}]%s}]}",
             p_int, BACKUP, BACKUP, extra);
    assert_int_equal(pinset_policy_parse(&p, (const uint8_t *)json, strlen(json), NULL), PINSET_OK);
    return p;
}

static void pem_decodes_to(const char *pem, const struct der *want)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    unsigned char *der = NULL;
    int n;

    assert_non_null(x);
    n = i2d_X509(x, &der);
    assert_int_equal((size_t)n, want->len);
    assert_memory_equal(der, want->buf, want->len);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(b);
}

static void rfc7469_members(void **state)
{
    pinset_cert served[2] = {{rogue_leaf.buf, rogue_leaf.len}, {int_ca.buf, int_ca.len}};
    pinset_cert validated[2] = {{rogue_leaf.buf, rogue_leaf.len}, {rogue_root.buf, rogue_root.len}};
    pinset_report_input in = PINSET_REPORT_INPUT_INIT;
    pinset_policy *p =
        policy(", \"expires\": \"2030-06-01T00:00:00Z\", \"on_expiry\": \"fail-open\"");
    pinset_result *r = NULL;
    struct sink s = {0};
    json_t *doc, *v;
    json_error_t jerr;

    (void)state;
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    assert_int_equal(pinset_check(r, p, "WWW.Example.com", 15, validated, 2, T_2029, NULL),
                     PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    assert_true(pinset_report_wanted(r));
    in.port = 8443;
    in.served = served;
    in.served_count = 2;
    in.validated = validated;
    in.validated_count = 2;
    assert_int_equal(pinset_report_write(r, &in, to_sink, &s, NULL), PINSET_OK);
    assert_int_equal(s.calls, 1);
    /* building the report did not touch the verdict */
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);

    doc = json_loads(s.text, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(doc);
    /* RFC 7469 section 3 */
    assert_string_equal(json_string_value(json_object_get(doc, "date-time")),
                        "2029-01-01T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(doc, "hostname")), "www.example.com");
    assert_int_equal(json_integer_value(json_object_get(doc, "port")), 8443);
    assert_string_equal(json_string_value(json_object_get(doc, "effective-expiration-date")),
                        "2030-06-01T00:00:00Z");
    assert_true(json_is_true(json_object_get(doc, "include-subdomains")));
    assert_string_equal(json_string_value(json_object_get(doc, "noted-hostname")), "example.com");
    v = json_object_get(doc, "served-certificate-chain");
    assert_int_equal(json_array_size(v), 2);
    pem_decodes_to(json_string_value(json_array_get(v, 0)), &rogue_leaf);
    pem_decodes_to(json_string_value(json_array_get(v, 1)), &int_ca);
    v = json_object_get(doc, "validated-certificate-chain");
    assert_int_equal(json_array_size(v), 2);
    pem_decodes_to(json_string_value(json_array_get(v, 1)), &rogue_root);
    v = json_object_get(doc, "known-pins");
    assert_int_equal(json_array_size(v), 2); /* spki pins only */
    {
        char want[128];

        snprintf(want, sizeof(want), "pin-sha256=\"%s\"", p_int);
        assert_string_equal(json_string_value(json_array_get(v, 0)), want);
    }
    assert_int_equal(json_array_size(json_object_get(doc, "pinset-known-cert-pins")), 1);
    /* pinset's members */
    assert_string_equal(json_string_value(json_object_get(doc, "pinset-verdict")), "FAIL");
    assert_string_equal(json_string_value(json_object_get(doc, "pinset-reason")), "no-match");
    assert_string_equal(json_string_value(json_object_get(doc, "pinset-mode")), "enforce");
    assert_string_equal(json_string_value(json_object_get(doc, "pinset-match")), "subdomain");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "pinset-rule"), "host")),
        "example.com");
    assert_true(json_is_null(json_object_get(doc, "pinset-matched-pin")));
    json_decref(doc);
    free(s.text);
    pinset_result_free(r);
    pinset_policy_free(p);
}

static void report_mode_and_blocked(void **state)
{
    pinset_cert chain[1] = {{int_ca.buf, int_ca.len}};
    pinset_policy *p = NULL;
    pinset_result *r = NULL;
    struct sink s = {0};
    char json[1024];
    json_t *doc, *m;

    (void)state;
    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"mode\": \"report\", "
             "\"pins\": [\"%s\"], \"blocked\": [\"%s\"]}]}",
             p_int, p_int);
    assert_int_equal(pinset_policy_parse(&p, (const uint8_t *)json, strlen(json), NULL), PINSET_OK);
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    assert_int_equal(pinset_check(r, p, "example.com", 11, chain, 1, T_2029, NULL), PINSET_OK);
    /* a blocked key fails even in report mode; the report still says the rule's mode */
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_report_write(r, NULL, to_sink, &s, NULL), PINSET_OK);
    doc = json_loads(s.text, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "pinset-verdict")), "FAIL");
    assert_string_equal(json_string_value(json_object_get(doc, "pinset-mode")), "report");
    assert_string_equal(json_string_value(json_object_get(doc, "pinset-reason")), "blocked");
    assert_int_equal(json_integer_value(json_object_get(doc, "port")), 0);
    assert_true(json_is_null(json_object_get(doc, "effective-expiration-date")));
    assert_int_equal(json_array_size(json_object_get(doc, "served-certificate-chain")), 0);
    m = json_object_get(doc, "pinset-matched-pin");
    assert_string_equal(json_string_value(json_object_get(m, "pin")), p_int);
    assert_int_equal(json_integer_value(json_object_get(m, "depth")), 0);
    json_decref(doc);
    free(s.text);
    pinset_result_free(r);
    pinset_policy_free(p);
}

static void refusals(void **state)
{
    pinset_cert chain[PINSET_CHAIN_MAX + 1];
    pinset_report_input in = PINSET_REPORT_INPUT_INIT;
    pinset_policy *p = policy("");
    pinset_result *r = NULL;
    struct sink s = {0};
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    for (size_t i = 0; i < PINSET_CHAIN_MAX + 1; i++) {
        chain[i] = (pinset_cert){int_ca.buf, int_ca.len};
    }
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    /* no rule (not pinned): nothing to report, nobody to report to */
    assert_int_equal(pinset_check(r, p, "example.org", 11, chain, 1, T_2029, NULL), PINSET_OK);
    assert_false(pinset_report_wanted(r));
    assert_int_equal(pinset_report_write(r, NULL, to_sink, &s, &d), PINSET_E_INVALID_ARG);
    assert_string_equal(d.message, "report: result without a rule or no sink");
    /* a PASS is not wanted, but can still be written */
    assert_int_equal(pinset_check(r, p, "example.com", 11, chain, 1, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
    assert_false(pinset_report_wanted(r));
    in.served = chain;
    in.served_count = PINSET_CHAIN_MAX + 1;
    /* a chain longer than a verdict holds is reported whole, never cut */
    assert_int_equal(pinset_report_write(r, &in, to_sink, &s, NULL), PINSET_OK);
    {
        json_t *doc = json_loads(s.text, 0, NULL);

        assert_non_null(doc);
        assert_int_equal(json_array_size(json_object_get(doc, "served-certificate-chain")),
                         PINSET_CHAIN_MAX + 1);
        json_decref(doc);
    }
    in.served_count = 1;
    in.port = 70000;
    assert_int_equal(pinset_report_write(r, &in, to_sink, &s, NULL), PINSET_E_INVALID_ARG);
    in.port = 443;
    in.version = 99;
    assert_int_equal(pinset_report_write(r, &in, to_sink, &s, NULL), PINSET_E_INVALID_ARG);
    in.version = PINSET_REPORT_INPUT_VERSION;
    in.served = NULL;
    assert_int_equal(pinset_report_write(r, &in, to_sink, &s, NULL), PINSET_E_INVALID_ARG);
    in.served = chain;
    /* an empty certificate cannot be written as PEM */
    chain[0] = (pinset_cert){int_ca.buf, 0};
    assert_int_equal(pinset_report_write(r, &in, to_sink, &s, &d), PINSET_E_INVALID_ARG);
    assert_string_equal(d.message, "report: served chain element 0 is empty or too large");
    chain[0] = (pinset_cert){int_ca.buf, int_ca.len};
    s.refuse = 1;
    assert_int_equal(pinset_report_write(r, &in, to_sink, &s, NULL), PINSET_E_IO);
    assert_int_equal(pinset_report_write(r, &in, NULL, &s, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_report_write(NULL, &in, to_sink, &s, NULL), PINSET_E_INVALID_ARG);
    free(s.text);
    pinset_result_free(r);
    pinset_policy_free(p);
}

static void allocation_failures_do_not_leak(void **state)
{
    pinset_cert chain[1] = {{rogue_leaf.buf, rogue_leaf.len}};
    pinset_report_input in = PINSET_REPORT_INPUT_INIT;
    pinset_policy *p = policy("");
    pinset_result *r = NULL;
    struct sink s = {0};
    pinset_err err = PINSET_E_NOMEM;

    (void)state;
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    assert_int_equal(pinset_check(r, p, "example.com", 11, chain, 1, T_2029, NULL), PINSET_OK);
    in.served = chain;
    in.served_count = 1;
    for (unsigned long n = 1; n < 50 && err == PINSET_E_NOMEM; n++) {
        pinset__alloc_fail_at(n);
        err = pinset_report_write(r, &in, to_sink, &s, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
    }
    assert_int_equal(err, PINSET_OK);
    free(s.text);
    pinset_result_free(r);
    pinset_policy_free(p);
}

static int setup(void **state)
{
    pinset_pin pin;

    (void)state;
    if (getenv("PINSET_TESTDATA") == NULL) {
        return -1;
    }
    rogue_leaf = read_der("rogue-leaf.crt.der");
    rogue_root = read_der("rogue-root.crt.der");
    int_ca = read_der("int.crt.der");
    if (pinset_pin_from_cert_der(&pin, int_ca.buf, int_ca.len, PINSET_PIN_SPKI, NULL) !=
            PINSET_OK ||
        pinset_pin_format(p_int, sizeof(p_int), &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(rogue_leaf.buf);
    free(rogue_root.buf);
    free(int_ca.buf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc7469_members),
        cmocka_unit_test(report_mode_and_blocked),
        cmocka_unit_test(refusals),
        cmocka_unit_test(allocation_failures_do_not_leak),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
