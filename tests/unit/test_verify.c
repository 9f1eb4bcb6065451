/*
 * test_verify.c - the pure verdict (src/lib/verdict/check.c): lookup, roles, blocked keys,
 * expiry and not_after with a test-controlled clock, host spellings, the
 * explanation, hostile inputs, and no allocation on the success path.
 * Chains come from the attack PKI (tests/data/pki.d/20-attack.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>

#include <pinset/check.h>
#include <pinset/policy.h>

#include "internal.h"

#define BACKUP "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
#define T_2029 1861920000 /* 2029-01-01T00:00:00Z */
#define T_2030 1893456000 /* 2030-01-01T00:00:00Z */

static char dir[1024];

struct der {
    uint8_t *buf;
    size_t len;
};

static struct der leaf_ec, leaf_ec_rot, int_ca, root_ca, rogue_leaf;
static char p_leaf_ec[64], p_leaf_ec_cert[64], p_int[64], p_root[64];

static struct der read_der(const char *name)
{
    char path[1200];
    struct der d = {NULL, 0};
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    d.buf = malloc((size_t)n);
    assert_non_null(d.buf);
    assert_int_equal(fread(d.buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    d.len = (size_t)n;
    return d;
}

static void b64_of(char *out, const struct der *d, pinset_pin_kind kind)
{
    pinset_pin pin;

    assert_int_equal(pinset_pin_from_cert_der(&pin, d->buf, d->len, kind, NULL), PINSET_OK);
    assert_int_equal(pinset_pin_format(out, 64, &pin, PINSET_PIN_FMT_BASE64), PINSET_OK);
}

static pinset_policy *policy_of(const char *fmt, ...)
{
    char json[8192];
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(json, sizeof(json), fmt, ap);
    va_end(ap);
    if (pinset_policy_parse(&p, (const uint8_t *)json, strlen(json), &d) != PINSET_OK) {
        fail_msg("policy: %s at %s\n%s", d.message, d.path, json);
    }
    return p;
}

/* The genuine chain: leaf-ec, int, root (as validation builds it). */
static size_t genuine(pinset_cert *c)
{
    c[0] = (pinset_cert){leaf_ec.buf, leaf_ec.len};
    c[1] = (pinset_cert){int_ca.buf, int_ca.len};
    c[2] = (pinset_cert){root_ca.buf, root_ca.len};
    return 3;
}

static pinset_result *check(const pinset_policy *p, const char *host, const pinset_cert *chain,
                            size_t n, int64_t now)
{
    pinset_result *r = NULL;

    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    assert_int_equal(pinset_check(r, p, host, strlen(host), chain, n, now, NULL), PINSET_OK);
    return r;
}

/* ---- the zero value, names ---- */

static void zero_is_never_pass(void **state)
{
    pinset_result *r = NULL;

    (void)state;
    assert_int_equal(PINSET_VERDICT_NONE, 0);
    assert_false(pinset_verdict_allows((pinset_verdict)0));
    assert_false(pinset_verdict_allows(PINSET_VERDICT_FAIL));
    assert_false(pinset_verdict_allows((pinset_verdict)99));
    assert_true(pinset_verdict_allows(PINSET_VERDICT_PASS));
    assert_true(pinset_verdict_allows(PINSET_VERDICT_NOT_PINNED));
    assert_true(pinset_verdict_allows(PINSET_VERDICT_EXPIRED_OPEN));
    assert_true(pinset_verdict_allows(PINSET_VERDICT_REPORT_ONLY_FAIL));
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_NONE);
    assert_int_equal(pinset_result_verdict(NULL), PINSET_VERDICT_NONE);
    assert_string_equal(pinset_verdict_name(PINSET_VERDICT_REPORT_ONLY_FAIL), "REPORT_ONLY_FAIL");
    assert_string_equal(pinset_verdict_name((pinset_verdict)42), "UNKNOWN");
    assert_string_equal(pinset_reason_name(PINSET_REASON_ROLE_MISMATCH), "role-mismatch");
    assert_string_equal(pinset_reason_name((pinset_reason)-1), "unknown");
    assert_string_equal(pinset_reason_name(PINSET_REASON_INTERNAL), "internal");
    pinset_result_free(r);
    pinset_result_free(NULL);
}

/* ---- lookup ---- */

static void lookup_exact_subdomain_excluded_unpinned(void **state)
{
    pinset_cert c[3];
    size_t n = genuine(c);
    pinset_policy *p = policy_of(
        "{\"version\": 1, \"rules\": ["
        "{\"host\": \"example.com\", \"include_subdomains\": true, \"pins\": [\"%s\", \"%s\"]},"
        "{\"host\": \"skip.example.com\", \"exclude\": true},"
        "{\"host\": \"www.example.com\", \"pins\": [\"%s\", \"%s\"]}]}",
        p_int, BACKUP, p_root, BACKUP);
    pinset_result *r;
    size_t idx = 99, depth = 99;

    (void)state;
    r = check(p, "example.com", c, n, T_2029);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
    assert_int_equal(pinset_result_match(r), PINSET_MATCH_EXACT);
    assert_true(pinset_result_matched(r, &idx, &depth));
    assert_int_equal(idx, 0);
    assert_int_equal(depth, 1); /* the intermediate */
    pinset_result_free(r);

    r = check(p, "a.b.example.com", c, n, T_2029);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
    assert_int_equal(pinset_result_match(r), PINSET_MATCH_SUBDOMAIN);
    assert_string_equal(pinset_rule_host(pinset_result_rule(r)), "example.com");
    pinset_result_free(r);

    /* exact beats subdomain: www has its own rule (root pin, depth 2) */
    r = check(p, "www.example.com", c, n, T_2029);
    assert_int_equal(pinset_result_match(r), PINSET_MATCH_EXACT);
    assert_true(pinset_result_matched(r, NULL, &depth));
    assert_int_equal(depth, 2);
    pinset_result_free(r);

    /* an exclusion takes the host out, even with a rogue chain */
    c[0] = (pinset_cert){rogue_leaf.buf, rogue_leaf.len};
    r = check(p, "skip.example.com", c, 1, T_2029);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_NOT_PINNED);
    assert_int_equal(pinset_result_match(r), PINSET_MATCH_EXCLUDED);
    pinset_result_free(r);

    r = check(p, "example.org", c, 1, T_2029);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_NOT_PINNED);
    assert_null(pinset_result_rule(r));
    assert_false(pinset_result_matched(r, NULL, NULL));
    pinset_result_free(r);

    /* a rogue leaf under the pinned rule */
    r = check(p, "example.com", c, 1, T_2029);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_NO_MATCH);
    pinset_result_free(r);
    pinset_policy_free(p);
}

/* Naive design caught: looking up the host as spelled. */
/*
 * Naive design caught: a host handed over with its length, cut at an
 * embedded NUL (C-string handling) and looked up as its harmless prefix.
 * Such a name cannot be canonicalised, so it fails closed, never NOT_PINNED,
 * with pinset_check and pinset_check_pins alike.
 */
static void embedded_nul_fails_closed(void **state)
{
    static const char evil[] = "unpinned.example\0example.com";
    static const char tail[] = "example.com\0.unpinned.example";
    const char *const hosts[] = {evil, tail};
    const size_t lens[] = {sizeof(evil) - 1, sizeof(tail) - 1};
    pinset_cert c[1] = {{rogue_leaf.buf, rogue_leaf.len}};
    pinset_cert_pins pins[1];
    pinset_policy *p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"include_subdomains\": true, \"pins\": [\"%s\", \"%s\"]}]}",
                                 p_int, BACKUP);
    pinset_result *r = NULL;

    (void)state;
    memset(pins, 0, sizeof(pins));
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(pinset_check(r, p, hosts[i], lens[i], c, 1, T_2029, NULL), PINSET_OK);
        assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
        assert_int_equal(pinset_result_reason(r), PINSET_REASON_BAD_HOST);
        assert_int_equal(pinset_check_pins(r, p, hosts[i], lens[i], pins, 1, T_2029), PINSET_OK);
        assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
        assert_int_equal(pinset_result_reason(r), PINSET_REASON_BAD_HOST);
    }
    pinset_result_free(r);
    pinset_policy_free(p);
}

static void host_spellings_find_the_rule(void **state)
{
    pinset_cert c[1] = {{NULL, 0}};
    pinset_policy *p =
        policy_of("{\"version\": 1, \"rules\": ["
                  "{\"host\": \"example.com\", \"pins\": [\"%s\", \"%s\"]},"
                  "{\"host\": \"xn--bcher-kva.example\", \"pins\": [\"%s\", \"%s\"]}]}",
                  p_int, BACKUP, p_int, BACKUP);
    static const char *const pinned[] = {"Example.COM",
                                         "example.com.",
                                         "EXAMPLE.COM.",
                                         "xn--bcher-kva.example",
                                         "b\xc3\xbc"
                                         "cher.example",
                                         "B\xc3\x9c"
                                         "CHER.example",
                                         "XN--BCHER-KVA.EXAMPLE."};
    static const char *const bad[] = {"example..com", ".example.com",  "example.com..",
                                      "exa mple.com", "example.com/x", "-"};
    pinset_result *r;

    (void)state;
    c[0] = (pinset_cert){rogue_leaf.buf, rogue_leaf.len};
    for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
        r = check(p, pinned[i], c, 1, T_2029);
        if (pinset_result_verdict(r) != PINSET_VERDICT_FAIL ||
            pinset_result_reason(r) != PINSET_REASON_NO_MATCH) {
            fail_msg("%s: verdict %s (%s)", pinned[i],
                     pinset_verdict_name(pinset_result_verdict(r)),
                     pinset_reason_name(pinset_result_reason(r)));
        }
        assert_non_null(pinset_result_rule(r));
        pinset_result_free(r);
    }
    /* invalid names fail closed: a pinned lookup cannot be ruled out */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = check(p, bad[i], c, 1, T_2029);
        if (pinset_result_verdict(r) != PINSET_VERDICT_FAIL ||
            pinset_result_reason(r) != PINSET_REASON_BAD_HOST) {
            fail_msg("%s: verdict %s", bad[i], pinset_verdict_name(pinset_result_verdict(r)));
        }
        pinset_result_free(r);
    }
    pinset_policy_free(p);
    /* IP literals: OpenSSL's X509_VERIFY_PARAM_get1_ip_asc spells IPv6 in full */
    p = policy_of("{\"version\": 1, \"rules\": ["
                  "{\"host\": \"::1\", \"pins\": [\"%s\", \"%s\"]},"
                  "{\"host\": \"192.0.2.7\", \"pins\": [\"%s\", \"%s\"]}]}",
                  p_int, BACKUP, p_int, BACKUP);
    {
        static const char *const ips[] = {"0:0:0:0:0:0:0:1", "::1", "[::1]", "192.0.2.7"};

        for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
            r = check(p, ips[i], c, 1, T_2029);
            if (pinset_result_reason(r) != PINSET_REASON_NO_MATCH) {
                fail_msg("%s: reason %s", ips[i], pinset_reason_name(pinset_result_reason(r)));
            }
            pinset_result_free(r);
        }
        /* an IP is matched exactly: no parent rule */
        r = check(p, "192.0.2.8", c, 1, T_2029);
        assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_NOT_PINNED);
        pinset_result_free(r);
    }
    /* an embedded NUL */
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    assert_int_equal(pinset_check(r, p, "example.com\0.evil", 17, c, 1, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_BAD_HOST);
    assert_int_equal(pinset_check(r, p, "", 0, c, 1, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_BAD_HOST);
    assert_int_equal(pinset_check(r, p, NULL, 0, c, 1, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    pinset_result_free(r);
    pinset_policy_free(p);
}

/* ---- roles, kinds, blocked ---- */

static pinset_reason reason_with(const char *pins, const char *extra, const pinset_cert *c,
                                 size_t n, pinset_verdict *v)
{
    pinset_policy *p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"pins\": [%s]%s}]}",
                                 pins, extra);
    pinset_result *r = check(p, "example.com", c, n, T_2029);
    pinset_reason why = pinset_result_reason(r);

    *v = pinset_result_verdict(r);
    pinset_result_free(r);
    pinset_policy_free(p);
    return why;
}

static void roles_and_kinds(void **state)
{
    pinset_cert c[3];
    size_t n = genuine(c);
    char pins[512];
    pinset_verdict v;

    (void)state;
    /* leaf role on the CA key: present, wrong place */
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"leaf\"}, \"%s\"", p_int, BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_ROLE_MISMATCH);
    assert_int_equal(v, PINSET_VERDICT_FAIL);
    /* ca role on the leaf key */
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\"", p_leaf_ec,
             BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_ROLE_MISMATCH);
    /* ca role on the root (depth 2) and the intermediate; leaf role on the leaf */
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"ca\"}, \"%s\"", p_root, BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_NONE);
    assert_int_equal(v, PINSET_VERDICT_PASS);
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"leaf\"}, \"%s\"", p_leaf_ec,
             BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_NONE);
    /* backup matches anywhere */
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"role\": \"backup\"}, \"%s\"", p_int,
             BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_NONE);
    assert_int_equal(v, PINSET_VERDICT_PASS);
    /* a cert pin is not a key pin: rotation keeps the key, changes the certificate */
    c[0] = (pinset_cert){leaf_ec_rot.buf, leaf_ec_rot.len};
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"kind\": \"cert\"}, \"%s\"", p_leaf_ec_cert,
             BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_NO_MATCH);
    snprintf(pins, sizeof(pins), "\"%s\", \"%s\"", p_leaf_ec, BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_NONE);
    /* and the spki digest under kind cert does not match either */
    snprintf(pins, sizeof(pins), "{\"sha256\": \"%s\", \"kind\": \"cert\"}, \"%s\"", p_leaf_ec,
             BACKUP);
    assert_int_equal(reason_with(pins, "", c, n, &v), PINSET_REASON_NO_MATCH);
}

/* Naive design caught: first match wins and hides the blocked key. */
static void blocked_beats_a_match(void **state)
{
    pinset_cert c[3];
    size_t n = genuine(c);
    char pins[256], extra[256];
    pinset_verdict v;
    pinset_policy *p;
    pinset_result *r;
    size_t idx, depth;

    (void)state;
    snprintf(pins, sizeof(pins), "\"%s\", \"%s\"", p_int, BACKUP);
    snprintf(extra, sizeof(extra), ", \"blocked\": [\"%s\"]", p_root);
    assert_int_equal(reason_with(pins, extra, c, n, &v), PINSET_REASON_BLOCKED);
    assert_int_equal(v, PINSET_VERDICT_FAIL);
    /* a blocked key fails in report mode too: report mode is for rolling out pins, not bad keys */
    snprintf(extra, sizeof(extra), ", \"blocked\": [\"%s\"], \"mode\": \"report\"", p_root);
    assert_int_equal(reason_with(pins, extra, c, n, &v), PINSET_REASON_BLOCKED);
    assert_int_equal(v, PINSET_VERDICT_FAIL);
    /* which blocked pin, at which depth */
    p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": [%s], "
                  "\"blocked\": [\"%s\", {\"sha256\": \"%s\", \"kind\": \"cert\"}]}]}",
                  pins, BACKUP, p_leaf_ec_cert);
    r = check(p, "example.com", c, n, T_2029);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_BLOCKED);
    assert_true(pinset_result_matched(r, &idx, &depth));
    assert_int_equal(idx, 1);
    assert_int_equal(depth, 0);
    pinset_result_free(r);
    pinset_policy_free(p);
}

/* A rule of blocked keys only is a deny list: it refuses those keys and nothing else. */
static void blocked_only_rule_is_a_deny_list(void **state)
{
    pinset_cert c[3];
    size_t n = genuine(c);
    pinset_policy *p;
    pinset_result *r;

    (void)state;
    p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                  "\"blocked\": [\"%s\"]}]}",
                  BACKUP);
    r = check(p, "example.com", c, n, T_2029);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
    pinset_result_free(r);
    pinset_policy_free(p);
    p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                  "\"blocked\": [\"%s\"]}]}",
                  p_int);
    r = check(p, "example.com", c, n, T_2029);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_BLOCKED);
    pinset_result_free(r);
    pinset_policy_free(p);
}

/* ---- time ---- */

static void expiry_and_not_after(void **state)
{
    pinset_cert c[3], rogue[1];
    size_t n = genuine(c);
    static const char *const modes[] = {"fail-open", "fail-closed", "report"};
    static const pinset_verdict after_rogue[] = {PINSET_VERDICT_EXPIRED_OPEN, PINSET_VERDICT_FAIL,
                                                 PINSET_VERDICT_REPORT_ONLY_FAIL};
    pinset_result *r;
    pinset_policy *p;

    (void)state;
    rogue[0] = (pinset_cert){rogue_leaf.buf, rogue_leaf.len};
    for (size_t i = 0; i < 3; i++) {
        p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": "
                      "[\"%s\", \"%s\"], \"expires\": \"2030-01-01T00:00:00Z\", \"on_expiry\": "
                      "\"%s\"}]}",
                      p_int, BACKUP, modes[i]);
        r = check(p, "example.com", rogue, 1, T_2030 - 1); /* one second before */
        assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
        assert_false(pinset_result_rule_expired(r));
        pinset_result_free(r);
        r = check(p, "example.com", rogue, 1, T_2030); /* at the instant: expired */
        assert_int_equal(pinset_result_verdict(r), after_rogue[i]);
        assert_true(pinset_result_rule_expired(r));
        assert_int_equal(pinset_result_time(r), T_2030);
        pinset_result_free(r);
        r = check(p, "example.com", c, n, T_2030 + 86400);
        assert_true(pinset_verdict_allows(pinset_result_verdict(r)));
        if (i != 0) {
            assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
        }
        pinset_result_free(r);
        pinset_policy_free(p);
    }
    /* fail-closed keeps a report-mode rule reporting: an expiry never escalates */
    p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"mode\": \"report\", "
                  "\"pins\": [\"%s\"], \"expires\": \"2030-01-01T00:00:00Z\", "
                  "\"on_expiry\": \"fail-closed\"}]}",
                  p_int);
    r = check(p, "example.com", rogue, 1, T_2030 + 1);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_REPORT_ONLY_FAIL);
    assert_true(pinset_result_rule_expired(r));
    assert_int_equal(pinset_result_mode(r), PINSET_MODE_REPORT);
    pinset_result_free(r);
    pinset_policy_free(p);
    /* a pin counts through its not_after second, not after it */
    p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"pins\": "
                  "[{\"sha256\": \"%s\", \"not_after\": \"2030-01-01T00:00:00Z\"}, \"%s\"]}]}",
                  p_int, BACKUP);
    r = check(p, "example.com", c, n, T_2030);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
    pinset_result_free(r);
    r = check(p, "example.com", c, n, T_2030 + 1);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_NO_MATCH);
    pinset_result_free(r);
    pinset_policy_free(p);
}

/* ---- chains ---- */

static void empty_chain_fails_when_pinned_in_every_mode(void **state)
{
    pinset_verdict v;
    char pins[128];

    (void)state;
    snprintf(pins, sizeof(pins), "\"%s\", \"%s\"", p_int, BACKUP);
    assert_int_equal(reason_with(pins, "", NULL, 0, &v), PINSET_REASON_NO_CHAIN);
    assert_int_equal(v, PINSET_VERDICT_FAIL);
    assert_int_equal(reason_with(pins, ", \"mode\": \"report\"", NULL, 0, &v),
                     PINSET_REASON_NO_CHAIN);
    assert_int_equal(v, PINSET_VERDICT_FAIL);
}

static void chain_pins_are_recorded_and_match_precomputed(void **state)
{
    pinset_cert c[3];
    pinset_cert_pins pre[3];
    size_t n = genuine(c);
    pinset_policy *p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"pins\": [\"%s\", \"%s\"]}]}",
                                 p_root, BACKUP);
    pinset_result *r = check(p, "example.com", c, n, T_2029), *r2 = NULL;

    (void)state;
    assert_int_equal(pinset_result_chain_len(r), 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(
            pinset_pin_from_cert_der(&pre[i].spki, c[i].der, c[i].len, PINSET_PIN_SPKI, NULL),
            PINSET_OK);
        assert_int_equal(
            pinset_pin_from_cert_der(&pre[i].cert, c[i].der, c[i].len, PINSET_PIN_CERT, NULL),
            PINSET_OK);
        assert_true(pinset_pin_equal(pinset_result_chain_pin(r, i, PINSET_PIN_SPKI), &pre[i].spki));
        assert_true(pinset_pin_equal(pinset_result_chain_pin(r, i, PINSET_PIN_CERT), &pre[i].cert));
    }
    assert_null(pinset_result_chain_pin(r, 3, PINSET_PIN_SPKI));
    assert_int_equal(pinset_result_new(&r2, NULL), PINSET_OK);
    assert_int_equal(pinset_check_pins(r2, p, "example.com", 11, pre, n, T_2029), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r2), PINSET_VERDICT_PASS);
    /* reusing a result forgets the previous check */
    assert_int_equal(pinset_check_pins(r2, p, "example.org", 11, pre, 1, T_2029), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r2), PINSET_VERDICT_NOT_PINNED);
    assert_int_equal(pinset_result_chain_len(r2), 1);
    pinset_result_reset(r2);
    assert_int_equal(pinset_result_verdict(r2), PINSET_VERDICT_NONE);
    pinset_result_free(r2);
    pinset_result_free(r);
    pinset_policy_free(p);
}

static void hostile_chains(void **state)
{
    pinset_cert c[PINSET_CHAIN_MAX + 1];
    uint8_t junk[64];
    pinset_policy *p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"pins\": [\"%s\", \"%s\"]}]}",
                                 p_int, BACKUP);
    pinset_result *r = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    for (size_t i = 0; i < PINSET_CHAIN_MAX + 1; i++) {
        c[i] = (pinset_cert){int_ca.buf, int_ca.len};
    }
    assert_int_equal(pinset_check(r, p, "example.com", 11, c, PINSET_CHAIN_MAX + 1, T_2029, NULL),
                     PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_CHAIN_TOO_LONG);
    /* garbage, a truncated certificate, an empty element: hashing fails closed */
    memset(junk, 0x30, sizeof(junk));
    c[0] = (pinset_cert){junk, sizeof(junk)};
    assert_int_not_equal(pinset_check(r, p, "example.com", 11, c, 1, T_2029, &d), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_result_reason(r), PINSET_REASON_INTERNAL);
    assert_string_equal(d.message, "check: cannot hash chain certificate 0");
    c[0] = (pinset_cert){leaf_ec.buf, leaf_ec.len - 1};
    assert_int_not_equal(pinset_check(r, p, "example.com", 11, c, 1, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    c[0] = (pinset_cert){NULL, 0};
    assert_int_not_equal(pinset_check(r, p, "example.com", 11, c, 1, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_FAIL);
    /* misuse */
    assert_int_equal(pinset_check(NULL, p, "example.com", 11, c, 1, 0, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_check(r, NULL, "example.com", 11, c, 1, 0, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_check(r, p, "example.com", 11, NULL, 1, 0, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_check_pins(r, p, "example.com", 11, NULL, 1, 0), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_result_new(NULL, NULL), PINSET_E_INVALID_ARG);
    pinset_result_free(r);
    pinset_policy_free(p);
}

static void explanation(void **state)
{
    pinset_cert c[3];
    size_t n = genuine(c);
    pinset_policy *p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"include_subdomains\": true, \"pins\": [\"%s\", \"%s\"]}]}",
                                 p_int, BACKUP);
    pinset_result *r = check(p, "WWW.example.com", c, n, T_2029);
    char buf[512], tiny[8];

    (void)state;
    assert_int_equal(pinset_result_explain(buf, sizeof(buf), r), PINSET_OK);
    assert_string_equal(buf, "PASS (none): host \"www.example.com\": rule \"example.com\" "
                             "(subdomain, enforce): pin 0 matched at depth 1");
    assert_string_equal(pinset_result_host(r), "www.example.com");
    assert_int_equal(pinset_result_explain(tiny, sizeof(tiny), r), PINSET_E_BUFFER_TOO_SMALL);
    assert_string_equal(tiny, "");
    assert_int_equal(pinset_result_explain(NULL, 10, r), PINSET_E_INVALID_ARG);
    pinset_result_free(r);
    c[0] = (pinset_cert){rogue_leaf.buf, rogue_leaf.len};
    r = check(p, "example.com", c, 1, T_2029);
    assert_int_equal(pinset_result_explain(buf, sizeof(buf), r), PINSET_OK);
    assert_string_equal(buf, "FAIL (no-match): host \"example.com\": rule \"example.com\" "
                             "(exact, enforce): no pin matched 1 certificate");
    pinset_result_free(r);
    pinset_policy_free(p);
}

/* pinset_result_copy: the whole explanation, into a result that outlives the original */
static void result_copy(void **state)
{
    pinset_cert c[3];
    size_t n = genuine(c), idx = 9, depth = 9;
    pinset_policy *p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"include_subdomains\": true, \"pins\": [\"%s\", \"%s\"]}]}",
                                 p_int, BACKUP);
    pinset_result *r = check(p, "WWW.example.com", c, n, T_2029), *copy = NULL;
    char a[512], b[512];

    (void)state;
    assert_int_equal(pinset_result_new(&copy, NULL), PINSET_OK);
    assert_int_equal(pinset_result_copy(copy, r), PINSET_OK);
    assert_int_equal(pinset_result_explain(a, sizeof(a), r), PINSET_OK);
    pinset_result_free(r);
    assert_int_equal(pinset_result_explain(b, sizeof(b), copy), PINSET_OK);
    assert_string_equal(a, b);
    assert_int_equal(pinset_result_verdict(copy), PINSET_VERDICT_PASS);
    assert_string_equal(pinset_result_host(copy), "www.example.com");
    assert_ptr_equal(pinset_result_rule(copy), pinset_policy_lookup(p, "example.com", 11, NULL));
    assert_int_equal(pinset_result_chain_len(copy), n);
    assert_int_equal(pinset_result_matched(copy, &idx, &depth), 1);
    assert_int_equal(idx, 0);
    assert_int_equal(depth, 1);
    /* the copy keeps its own digest context: it still checks */
    assert_int_equal(pinset_check(copy, p, "example.com", 11, c, 1, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_verdict(copy), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_result_copy(copy, copy), PINSET_OK);
    assert_int_equal(pinset_result_verdict(copy), PINSET_VERDICT_FAIL);
    assert_int_equal(pinset_result_copy(NULL, copy), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_result_copy(copy, NULL), PINSET_E_INVALID_ARG);
    pinset_result_free(copy);
    pinset_policy_free(p);
}

/* ---- no allocation on the success path ---- */

static unsigned long ossl_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    ossl_allocs++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    ossl_allocs++;
    return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    free(p);
}

static void no_allocation_on_the_success_path(void **state)
{
    pinset_cert c[3];
    pinset_cert_pins pre[3];
    size_t n = genuine(c);
    pinset_policy *p = policy_of("{\"version\": 1, \"rules\": [{\"host\": \"example.com\", "
                                 "\"pins\": [\"%s\", \"%s\"]}]}",
                                 p_root, BACKUP);
    pinset_result *r = NULL;
    unsigned long ours, theirs;

    (void)state;
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_OK);
    /* a first check warms the digest context */
    assert_int_equal(pinset_check(r, p, "example.com", 11, c, n, T_2029, NULL), PINSET_OK);
    for (size_t i = 0; i < n; i++) {
        pre[i].spki = *pinset_result_chain_pin(r, i, PINSET_PIN_SPKI);
        pre[i].cert = *pinset_result_chain_pin(r, i, PINSET_PIN_CERT);
    }
    /* precomputed pins: nothing at all is allocated */
    ours = pinset__alloc_count();
    theirs = ossl_allocs;
    assert_int_equal(pinset_check_pins(r, p, "example.com", 11, pre, n, T_2029), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
    assert_int_equal(pinset__alloc_count(), ours);
    assert_int_equal(ossl_allocs, theirs);
    /*
     * DER chain: pinset allocates nothing; OpenSSL 3.0's EVP_DigestInit_ex
     * re-creates its provider digest context on every init (at most one per
     * hash: two per certificate), which pinset cannot avoid through EVP.
     */
    assert_int_equal(pinset_check(r, p, "example.com", 11, c, n, T_2029, NULL), PINSET_OK);
    assert_int_equal(pinset_result_verdict(r), PINSET_VERDICT_PASS);
    assert_int_equal(pinset__alloc_count(), ours);
    assert_true(ossl_allocs - theirs <= 2 * n);
    pinset_result_free(r);
    pinset_policy_free(p);
}

static void allocation_failure(void **state)
{
    pinset_result *r = (pinset_result *)1;

    (void)state;
    pinset__alloc_fail_at(1);
    assert_int_equal(pinset_result_new(&r, NULL), PINSET_E_NOMEM);
    assert_null(r);
    pinset__alloc_fail_at(0);
}

static int setup(void **state)
{
    const char *data = getenv("PINSET_TESTDATA");

    (void)state;
    if (data == NULL) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s/attack", data);
    leaf_ec = read_der("leaf-ec.crt.der");
    leaf_ec_rot = read_der("leaf-ec-rot.crt.der");
    int_ca = read_der("int.crt.der");
    root_ca = read_der("root.crt.der");
    rogue_leaf = read_der("rogue-leaf.crt.der");
    b64_of(p_leaf_ec, &leaf_ec, PINSET_PIN_SPKI);
    b64_of(p_leaf_ec_cert, &leaf_ec, PINSET_PIN_CERT);
    b64_of(p_int, &int_ca, PINSET_PIN_SPKI);
    b64_of(p_root, &root_ca, PINSET_PIN_SPKI);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(leaf_ec.buf);
    free(leaf_ec_rot.buf);
    free(int_ca.buf);
    free(root_ca.buf);
    free(rogue_leaf.buf);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(zero_is_never_pass),
        cmocka_unit_test(lookup_exact_subdomain_excluded_unpinned),
        cmocka_unit_test(host_spellings_find_the_rule),
        cmocka_unit_test(embedded_nul_fails_closed),
        cmocka_unit_test(roles_and_kinds),
        cmocka_unit_test(blocked_beats_a_match),
        cmocka_unit_test(blocked_only_rule_is_a_deny_list),
        cmocka_unit_test(expiry_and_not_after),
        cmocka_unit_test(empty_chain_fails_when_pinned_in_every_mode),
        cmocka_unit_test(chain_pins_are_recorded_and_match_precomputed),
        cmocka_unit_test(hostile_chains),
        cmocka_unit_test(explanation),
        cmocka_unit_test(result_copy),
        cmocka_unit_test(no_allocation_on_the_success_path),
        cmocka_unit_test(allocation_failure),
    };

    /* count OpenSSL's allocations (test binaries only; before any OpenSSL call) */
    if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free)) {
        return 1;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
