/*
 * test_host.c - host canonicalisation: case, trailing dot, IDNA, limits,
 * IP literals and the hostile spellings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <pinset/host.h>

#include "core/host_int.h"
#include "internal.h"

/* Canonicalises s (strlen) and checks the result and its type. */
static void expect_canon(const char *in, const char *want, pinset_host_type want_type)
{
    char buf[PINSET_HOST_MAX];
    pinset_host_type type = (pinset_host_type)0;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = pinset_host_canon(buf, sizeof(buf), &type, in, strlen(in), &d);

    if (err != PINSET_OK) {
        fail_msg("'%s': unexpected %s: %s", in, pinset_err_name(err), d.message);
    }
    if (strcmp(buf, want) != 0) {
        fail_msg("'%s': got '%s', want '%s'", in, buf, want);
    }
    assert_int_equal(type, want_type);
}

static void expect_reject(const char *in, size_t len, pinset_err want)
{
    char buf[PINSET_HOST_MAX];
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    memset(buf, 'x', sizeof(buf));
    err = pinset_host_canon(buf, sizeof(buf), NULL, in, len, &d);
    if (err != want) {
        fail_msg("'%.*s': got %s, want %s (%s)", (int)len, in, pinset_err_name(err),
                 pinset_err_name(want), d.message);
    }
    assert_string_equal(buf, ""); /* never a partial result */
    assert_int_equal(d.code, want);
    assert_true(strncmp(d.message, "host: ", 6) == 0);
}

static void reject(const char *in, pinset_err want)
{
    expect_reject(in, strlen(in), want);
}

static void case_and_trailing_dot(void **state)
{
    (void)state;
    expect_canon("example.com", "example.com", PINSET_HOST_DNS);
    expect_canon("WWW.Example.COM", "www.example.com", PINSET_HOST_DNS);
    expect_canon("www.example.com.", "www.example.com", PINSET_HOST_DNS);
    expect_canon("localhost", "localhost", PINSET_HOST_DNS);
    expect_canon("a-b.c0.example", "a-b.c0.example", PINSET_HOST_DNS);
    /* only one trailing dot is the root */
    reject("www.example.com..", PINSET_E_PARSE);
    reject(".", PINSET_E_PARSE);
    /* an ideographic full stop counts as a dot: still only one trailing dot */
    expect_canon("example\xe3\x80\x82", "example", PINSET_HOST_DNS);
    reject("example\xe3\x80\x82.", PINSET_E_PARSE);
    reject("example.\xe3\x80\x82", PINSET_E_PARSE);
    reject("b\xc3\xbc"
           "cher.example..",
           PINSET_E_PARSE);
}

static void idn_ulabel_equals_alabel(void **state)
{
    (void)state;
    expect_canon("bücher.example", "xn--bcher-kva.example", PINSET_HOST_DNS);
    expect_canon("xn--bcher-kva.example", "xn--bcher-kva.example", PINSET_HOST_DNS);
    expect_canon("XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example", PINSET_HOST_DNS);
    expect_canon("BÜCHER.Example.", "xn--bcher-kva.example", PINSET_HOST_DNS);
    /* IDNA 2008 / UTS #46 non-transitional: sharp s stays (not "ss") */
    expect_canon("faß.de", "xn--fa-hia.de", PINSET_HOST_DNS);
    /* full-width letters and the ideographic full stop map to ASCII */
    expect_canon("ｅｘａｍｐｌｅ.com", "example.com", PINSET_HOST_DNS);
    expect_canon("example\xe3\x80\x82"
                 "com",
                 "example.com", PINSET_HOST_DNS);
}

static void idn_invalid_rejected(void **state)
{
    (void)state;
    reject("\xf0\x9f\x98\x80.example", PINSET_E_PARSE); /* emoji: disallowed in IDNA 2008 */
    reject("xn--ls8h.la", PINSET_E_PARSE);              /* an A-label that decodes to an emoji */
    reject("xn--zz.example", PINSET_E_PARSE);           /* not punycode */
    reject("xn--.example", PINSET_E_PARSE);
    reject("xn--a.example", PINSET_E_PARSE);
    reject("b\xfc"
           "cher.example",
           PINSET_E_PARSE);         /* Latin-1, not UTF-8 */
    reject("\xc3", PINSET_E_PARSE); /* truncated UTF-8 */
}

static void label_and_name_limits(void **state)
{
    char name[400];

    (void)state;
    /* a label of exactly 63 octets is fine, 64 is not */
    memset(name, 'a', 63);
    (void)snprintf(name + 63, sizeof(name) - 63, ".example");
    expect_canon(name, name, PINSET_HOST_DNS);
    memset(name, 'a', 64);
    (void)snprintf(name + 64, sizeof(name) - 64, ".example");
    reject(name, PINSET_E_LIMIT);

    /* the length counts octets of the A-label form, not characters of the input */
    memset(name, 0, sizeof(name));
    for (size_t i = 0; i < 10; i++) {
        memcpy(name + 2 * i, "\xc3\xbc", 2);
    }
    expect_canon(name, "xn--tdaaaaaaaaaa", PINSET_HOST_DNS); /* python3 punycode codec */
}

static void limits_exact(void **state)
{
    char name[400];
    char want[400];

    (void)state;
    memset(name, 0, sizeof(name));
    for (size_t i = 0; i < 253; i++) {
        name[i] = (i % 64 == 63) ? '.' : 'b';
    }
    memcpy(want, name, sizeof(want));
    name[253] = '.';
    expect_canon(name, want, PINSET_HOST_DNS); /* 253 + root dot */
    name[253] = 'b';
    reject(name, PINSET_E_LIMIT); /* 254 */
    /* a U-label whose A-label form is too long */
    memset(name, 0, sizeof(name));
    for (size_t i = 0; i < 30; i++) {
        memcpy(name + 2 * i, "\xc3\xbc", 2); /* 30 x u-umlaut: the A-label is longer */
    }
    memcpy(name + 60, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", 50);
    expect_reject(name, strlen(name), PINSET_E_LIMIT);
    /* the output buffer */
    {
        char small[8];
        pinset_err err = pinset_host_canon(small, sizeof(small), NULL, "example.com", 11, NULL);
        assert_int_equal(err, PINSET_E_BUFFER_TOO_SMALL);
        assert_string_equal(small, "");
        err = pinset_host_canon(small, sizeof(small), NULL, "EXAMPLE.COM", 11, NULL);
        assert_int_equal(err, PINSET_E_BUFFER_TOO_SMALL);
        assert_string_equal(small, "");
    }
}

static void malformed_names(void **state)
{
    (void)state;
    expect_reject("exa\0mple.com", 12, PINSET_E_PARSE);
    expect_reject("example.com\0", 12, PINSET_E_PARSE);
    reject("", PINSET_E_PARSE);
    reject(".example.com", PINSET_E_PARSE);
    reject("a..example.com", PINSET_E_PARSE);
    reject("-a.example.com", PINSET_E_PARSE);
    reject("a-.example.com", PINSET_E_PARSE);
    reject("a b.example.com", PINSET_E_PARSE);
    reject("a/b", PINSET_E_PARSE);
    reject("user@example.com", PINSET_E_PARSE);
    reject("example.com:443", PINSET_E_PARSE); /* parsed as IPv6, which it is not */
    /* patterns are the converters' concern */
    reject("*.example.com", PINSET_E_PARSE);
    reject("**.example.com", PINSET_E_PARSE);
    reject("www.*.com", PINSET_E_PARSE);
}

static void reserved_hyphens_in_ascii_labels(void **state)
{
    (void)state;
    /* real hosts use "--" in positions 3-4 (not an A-label): accepted as ASCII */
    expect_canon("r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com", PINSET_HOST_DNS);
}

static void ipv4_literals(void **state)
{
    (void)state;
    expect_canon("127.0.0.1", "127.0.0.1", PINSET_HOST_IPV4);
    expect_canon("192.0.2.1.", "192.0.2.1", PINSET_HOST_IPV4);
    expect_canon("255.255.255.255", "255.255.255.255", PINSET_HOST_IPV4);
    /* the legacy inet_aton forms and their look-alikes */
    reject("127.1", PINSET_E_PARSE);
    reject("127.0.1", PINSET_E_PARSE);
    reject("2130706433", PINSET_E_PARSE);
    reject("0x7f.0.0.1", PINSET_E_PARSE);
    reject("0x7f000001", PINSET_E_PARSE);
    reject("0177.0.0.1", PINSET_E_PARSE);
    reject("127.0.0.01", PINSET_E_PARSE);
    reject("256.0.0.1", PINSET_E_PARSE);
    reject("1.2.3.4.5", PINSET_E_PARSE);
    reject("example.123", PINSET_E_PARSE); /* a numeric last label is an IPv4 attempt */
    reject("1.2.3.0x4", PINSET_E_PARSE);
    /* a U-label name that maps to a numeric form is no back door */
    reject("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1", PINSET_E_PARSE); /* full-width 127 */
}

static void ipv6_literals(void **state)
{
    (void)state;
    expect_canon("::1", "::1", PINSET_HOST_IPV6);
    expect_canon("[::1]", "::1", PINSET_HOST_IPV6);
    expect_canon("2001:DB8:0:0:0:0:0:1", "2001:db8::1", PINSET_HOST_IPV6);
    expect_canon("[2001:0db8:0000:0000:0001:0000:0000:0001]", "2001:db8::1:0:0:1",
                 PINSET_HOST_IPV6);
    expect_canon("::ffff:192.0.2.1", "::ffff:192.0.2.1", PINSET_HOST_IPV6);
    reject("fe80::1%eth0", PINSET_E_PARSE);
    reject("[fe80::1%25eth0]", PINSET_E_PARSE);
    reject("[::1", PINSET_E_PARSE);
    reject("::1]", PINSET_E_PARSE);
    reject("[]", PINSET_E_PARSE);
    reject("[127.0.0.1]", PINSET_E_PARSE);
    reject("[example.com]", PINSET_E_PARSE);
    reject("1:2:3:4:5:6:7:8:9", PINSET_E_PARSE);
    reject("[::1]:443", PINSET_E_PARSE);
}

static void idempotent_on_examples(void **state)
{
    static const char *const in[] = {"Bücher.example.", "WWW.EXAMPLE.COM",       "[::1]",
                                     "2001:DB8::1",     "xn--bcher-kva.example", "10.0.0.1",
                                     "faß.de"};
    char once[PINSET_HOST_MAX], twice[PINSET_HOST_MAX];

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(in); i++) {
        pinset_host_type t1, t2;
        assert_int_equal(pinset_host_canon(once, sizeof(once), &t1, in[i], strlen(in[i]), NULL),
                         PINSET_OK);
        assert_int_equal(pinset_host_canon(twice, sizeof(twice), &t2, once, strlen(once), NULL),
                         PINSET_OK);
        assert_string_equal(once, twice);
        assert_int_equal(t1, t2);
    }
}

/* '_' is a host character (DNS allows it, Android accepts it), anywhere in an ASCII label. */
static void underscores_accepted(void **state)
{
    (void)state;
    expect_canon("subdomain_user.Android.com", "subdomain_user.android.com", PINSET_HOST_DNS);
    expect_canon("_dmarc.example.com", "_dmarc.example.com", PINSET_HOST_DNS);
    expect_canon("a_.example.com.", "a_.example.com", PINSET_HOST_DNS);
    assert_true(pinset__host_is_canonical_dns("a_b.example.com", 15));
    /* the other rules still hold around it */
    reject("_-.example.com", PINSET_E_PARSE);
    reject("a_b..example.com", PINSET_E_PARSE);
    reject("a_b.example.1", PINSET_E_PARSE);
}

static void fast_path_agrees(void **state)
{
    (void)state;
    assert_true(pinset__host_is_canonical_dns("www.example.com", 15));
    assert_false(pinset__host_is_canonical_dns("WWW.example.com", 15));
    assert_false(pinset__host_is_canonical_dns("www.example.com.", 16));
    assert_false(pinset__host_is_canonical_dns("xn--bcher-kva.example", 21));
    assert_false(pinset__host_is_canonical_dns("1.2.3.4", 7));
    assert_false(pinset__host_is_canonical_dns("a..b", 4));
    assert_false(pinset__host_is_canonical_dns("-a.b", 4));
    assert_false(pinset__host_is_canonical_dns("a-.b", 4));
    assert_false(pinset__host_is_canonical_dns("", 0));
    assert_false(pinset__host_is_canonical_dns("a\0b", 3));
}

static void misuse(void **state)
{
    char buf[PINSET_HOST_MAX];

    (void)state;
    assert_int_equal(pinset_host_canon(NULL, 10, NULL, "a", 1, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_host_canon(buf, 0, NULL, "a", 1, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_host_canon(buf, sizeof(buf), NULL, NULL, 1, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_host_canon(buf, sizeof(buf), NULL, NULL, 0, NULL), PINSET_E_PARSE);
    {
        char big[2000];
        memset(big, 'a', sizeof(big));
        assert_int_equal(pinset_host_canon(buf, sizeof(buf), NULL, big, sizeof(big), NULL),
                         PINSET_E_LIMIT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(case_and_trailing_dot),
        cmocka_unit_test(idn_ulabel_equals_alabel),
        cmocka_unit_test(idn_invalid_rejected),
        cmocka_unit_test(label_and_name_limits),
        cmocka_unit_test(limits_exact),
        cmocka_unit_test(malformed_names),
        cmocka_unit_test(reserved_hyphens_in_ascii_labels),
        cmocka_unit_test(ipv4_literals),
        cmocka_unit_test(ipv6_literals),
        cmocka_unit_test(idempotent_on_examples),
        cmocka_unit_test(underscores_accepted),
        cmocka_unit_test(fast_path_agrees),
        cmocka_unit_test(misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
