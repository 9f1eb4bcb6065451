/*
 * test_uri.c - the report-URI checker (src/lib/policy/uri.c) accepts the
 * grammar of docs/lint-rules.md and nothing else: hostile inputs included
 * (very long, NUL and control bytes, bad percent-encoding, bad ports,
 * userinfo, malformed UTF-8, IPv6 literals).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <pinset/host.h>

#include "internal.h"
#include "policy/uri.h"

static pinset_err parse(struct pinset__uri *u, const char *s, pinset_diag *d)
{
    return pinset__uri_parse(u, s, strlen(s), d);
}

static void accepted(void **state)
{
    static const struct {
        const char *uri, *host;
        int https;
        unsigned int port;
        pinset_host_type type;
    } ok[] = {
        {"https://reports.example.net/pinset", "reports.example.net", 1, 0, PINSET_HOST_DNS},
        {"https://reports.example.net", "reports.example.net", 1, 0, PINSET_HOST_DNS},
        {"HTTPS://Report.Example.COM./r", "report.example.com", 1, 0, PINSET_HOST_DNS},
        {"http://collector.example.net/r", "collector.example.net", 0, 0, PINSET_HOST_DNS},
        {"https://h.example:1/", "h.example", 1, 1, PINSET_HOST_DNS},
        {"https://h.example:65535", "h.example", 1, 65535, PINSET_HOST_DNS},
        {"https://h.example:08443/x", "h.example", 1, 8443, PINSET_HOST_DNS},
        {"https://192.0.2.1:443/r", "192.0.2.1", 1, 443, PINSET_HOST_IPV4},
        {"https://[::1]:8443/r", "::1", 1, 8443, PINSET_HOST_IPV6},
        {"https://[2001:DB8:0:0::1]/r", "2001:db8::1", 1, 0, PINSET_HOST_IPV6},
        {"https://[::ffff:192.0.2.1]/", "::ffff:192.0.2.1", 1, 0, PINSET_HOST_IPV6},
        {"https://h.example?q=1", "h.example", 1, 0, PINSET_HOST_DNS},
        {"https://h.example#frag", "h.example", 1, 0, PINSET_HOST_DNS},
        {"https://h.example/a/b;c=d/e:f@g/%41%7e?x=/y?z&w=%2F#f/r?a", "h.example", 1, 0,
         PINSET_HOST_DNS},
        {"https://h.example/!$&'()*+,;=-._~", "h.example", 1, 0, PINSET_HOST_DNS},
        {"https://h.example/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x94\x92", "h.example", 1, 0,
         PINSET_HOST_DNS},
        {"https://b\xc3\xbc"
         "cher.example/",
         "xn--bcher-kva.example", 1, 0, PINSET_HOST_DNS},
        {"https://xn--bcher-kva.example/", "xn--bcher-kva.example", 1, 0, PINSET_HOST_DNS},
    };

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(ok); i++) {
        struct pinset__uri u;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err e = parse(&u, ok[i].uri, &d);

        if (e != PINSET_OK) {
            fail_msg("refused %s: %s", ok[i].uri, d.message);
        }
        assert_string_equal(u.host, ok[i].host);
        assert_int_equal(u.https, ok[i].https);
        assert_int_equal(u.port, ok[i].port);
        assert_int_equal(u.type, ok[i].type);
    }
}

static void refused(void **state)
{
    static const struct {
        const char *uri, *why;
    } bad[] = {
        /* scheme and shape */
        {"", "not an absolute"},
        {"ftp://h.example/", "not an absolute"},
        {"httpx://h.example/", "not an absolute"},
        {"https:/h.example/", "not an absolute"},
        {"https:h.example", "not an absolute"},
        {"//h.example/", "not an absolute"},
        {"https ://h.example/", "not an absolute"},
        /* host */
        {"https://", "no host"},
        {"https:///path", "no host"},
        {"https://:443/", "no host"},
        {"https://h_x.example/", "bad character in the host"},
        {"https://h.example\\@evil.example/", "userinfo"},
        {"https://h.example\\evil.example/", "bad character in the host"},
        {"https://h..example/", "bad host"},
        {"https://-h.example/", "bad host"},
        {"https://*.example/", "bad character in the host"},
        {"https://127.1/", "bad host"},
        {"https://0x7f.0.0.1/", "bad host"},
        {"https://h%2eexample/", "bad character in the host"},
        {"https://b\xc3\xbc\xc3"
         "cher.example/",
         "bad character in the host"},
        /* userinfo */
        {"https://user@h.example/", "userinfo"},
        {"https://user:pass@h.example/", "userinfo"},
        {"https://pinned.example@evil.example/", "userinfo"},
        {"https://@h.example/", "userinfo"},
        /* ipv6 */
        {"https://[::1/", "ipv6"},
        {"https://[]/", "ipv6"},
        {"https://[::1]x/", "after the ipv6 literal"},
        {"https://[fe80::1%25eth0]/", "ipv6 literal"},
        {"https://[v1.x]/", "ipv6 literal"},
        {"https://[192.0.2.1]/", "bad host"},
        {"https://[::1::2]/", "bad host"},
        {"https://::1/", "no host"},
        /* ports */
        {"https://h.example:/", "empty port"},
        {"https://h.example:0/", "out of range"},
        {"https://h.example:65536/", "out of range"},
        {"https://h.example:99999/r", "out of range"},
        {"https://h.example:000443/", "out of range"},
        {"https://h.example:44a/", "port"},
        {"https://h.example:-1/", "port"},
        {"https://h.example:443:443/", "port"},
        {"https://h.example: 443/", "port"},
        /* path, query, fragment */
        {"https://h.example/a b", "control or space"},
        {"https://h.example/a\tb", "control or space"},
        {"https://h.example/a\r\nb", "control or space"},
        {"https://h.example/\x7f", "control or space"},
        {"https://h.example/\x1b[31m", "control or space"},
        {"https://h.example/%", "percent-encoding"},
        {"https://h.example/%4", "percent-encoding"},
        {"https://h.example/%4g", "percent-encoding"},
        {"https://h.example/%%41", "percent-encoding"},
        {"https://h.example/%00", "percent-encoded nul"},
        {"https://h.example/a#b#c", "bad character"},
        {"https://h.example/<script>", "bad character"},
        {"https://h.example/a\"b", "bad character"},
        {"https://h.example/{x}", "bad character"},
        {"https://h.example/[x]", "bad character"},
        {"https://h.example/a\\b", "bad character"},
        {"https://h.example/`", "bad character"},
        {"https://h.example/^|", "bad character"},
        /* malformed or forbidden UTF-8 */
        {"https://h.example/\xc3", "bad character"},
        {"https://h.example/\x80", "bad character"},
        {"https://h.example/\xc0\xaf", "bad character"},         /* overlong '/' */
        {"https://h.example/\xe0\x80\xaf", "bad character"},     /* overlong '/' */
        {"https://h.example/\xed\xa0\x80", "bad character"},     /* a surrogate */
        {"https://h.example/\xf4\x90\x80\x80", "bad character"}, /* past U+10FFFF */
        {"https://h.example/\xf5\x80\x80\x80", "bad character"},
        {"https://h.example/\xc2\x85", "bad character"},     /* U+0085, a C1 control */
        {"https://h.example/\xe2\x80\xae", "bad character"}, /* U+202E, right-to-left override */
        {"https://h.example/\xe2\x81\xa6", "bad character"}, /* U+2066 */
        {"https://h.example/\xef\xbf\xbf", "bad character"}, /* U+FFFF */
        {"https://h.example/\xee\x80\x80", "bad character"}, /* U+E000, private use */
    };

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(bad); i++) {
        struct pinset__uri u;
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_err e = parse(&u, bad[i].uri, &d);

        if (e != PINSET_E_PARSE) {
            fail_msg("accepted %s (%s)", bad[i].uri, pinset_err_name(e));
        }
        if (strstr(d.message, bad[i].why) == NULL) {
            fail_msg("%s: message '%s' lacks '%s'", bad[i].uri, d.message, bad[i].why);
        }
        assert_string_equal(u.host, "");
        assert_null(memchr(d.message, '\n', strlen(d.message)));
    }
}

/* Bytes the length says are there, NUL included; nothing past the length is read. */
static void embedded_nul_and_length(void **state)
{
    static const char with_nul[] = "https://h.example/a\0b";
    struct pinset__uri u;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(pinset__uri_parse(&u, with_nul, sizeof(with_nul) - 1, &d), PINSET_E_PARSE);
    assert_string_equal(d.message, "control or space character");
    assert_int_equal(d.offset, 19);
    assert_int_equal(d.has_offset, 1);
    /* a NUL in the host */
    assert_int_equal(pinset__uri_parse(&u, "https://h\0x.example/", 20, NULL), PINSET_E_PARSE);
    /* a prefix of a longer string: the cut is the end */
    assert_int_equal(pinset__uri_parse(&u, "https://h.example/%41", 19, NULL), PINSET_E_PARSE);
    assert_int_equal(pinset__uri_parse(&u, "https://h.example:4431", 21, NULL), PINSET_OK);
    assert_int_equal(u.port, 443);
    assert_int_equal(pinset__uri_parse(&u, "https://h.example/\xc3\xa9", 19, NULL), PINSET_E_PARSE);
    assert_int_equal(pinset__uri_parse(NULL, "https://h.example/", 18, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset__uri_parse(&u, NULL, 0, NULL), PINSET_E_INVALID_ARG);
}

static void very_long(void **state)
{
    static char uri[PINSET_URI_MAX + 2];
    static char host[300];
    struct pinset__uri u;
    pinset_diag d = PINSET_DIAG_INIT;
    size_t n;

    (void)state;
    /* exactly the bound: accepted */
    n = (size_t)snprintf(uri, sizeof(uri), "https://h.example/");
    memset(uri + n, 'a', PINSET_URI_MAX - n);
    uri[PINSET_URI_MAX] = '\0';
    assert_int_equal(parse(&u, uri, &d), PINSET_OK);
    /* one more: refused before anything is read */
    uri[PINSET_URI_MAX] = 'a';
    uri[PINSET_URI_MAX + 1] = '\0';
    assert_int_equal(parse(&u, uri, &d), PINSET_E_LIMIT);
    assert_non_null(strstr(d.message, "longer than 2048"));
    /* a host label of 64 octets, a host of 254 */
    memset(host, 'a', 64);
    host[64] = '\0';
    snprintf(uri, sizeof(uri), "https://%s.example/", host);
    assert_int_equal(parse(&u, uri, &d), PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "bad host"));
    memset(host, 'a', 254);
    host[63] = host[127] = host[191] = '.';
    host[254] = '\0';
    snprintf(uri, sizeof(uri), "https://%s/", host);
    assert_int_equal(parse(&u, uri, &d), PINSET_E_PARSE);
    host[253] = '\0';
    snprintf(uri, sizeof(uri), "https://%s/", host);
    assert_int_equal(parse(&u, uri, &d), PINSET_OK);
    /* a long run of percent-encoding, cut inside the last escape */
    n = (size_t)snprintf(uri, sizeof(uri), "https://h.example/");
    while (n + 3 <= PINSET_URI_MAX) {
        memcpy(uri + n, "%41", 3);
        n += 3;
    }
    uri[n] = '\0';
    assert_int_equal(parse(&u, uri, &d), PINSET_OK);
    uri[n - 1] = '\0';
    assert_int_equal(parse(&u, uri, &d), PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "percent-encoding"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepted),
        cmocka_unit_test(refused),
        cmocka_unit_test(embedded_nul_and_length),
        cmocka_unit_test(very_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
