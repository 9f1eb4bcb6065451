/*
 * test_pin.c - pin values: every text form, hostile text, formatting,
 * comparison, and pins computed from DER, X509, EVP_PKEY and X509_REQ.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <pinset/openssl.h>
#include <pinset/pin.h>

#include "internal.h"

/* ---- helpers ---- */

static pinset_err parse_str(pinset_pin *out, const char *s, pinset_diag *d)
{
    return pinset_pin_parse(out, s, strlen(s), PINSET_PIN_SPKI, d);
}

static void fill(pinset_pin *p, uint8_t byte)
{
    memset(p->sha256, byte, sizeof(p->sha256));
    p->kind = PINSET_PIN_SPKI;
}

/* Parse must fail with `code` and a message containing `needle`. */
static void expect_fail(const char *s, size_t len, pinset_err code, const char *needle)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_pin p;

    fill(&p, 0x5a);
    assert_int_equal(pinset_pin_parse(&p, s, len, PINSET_PIN_SPKI, &d), code);
    assert_int_equal(d.code, code);
    if (strstr(d.message, needle) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\" (input %.60s)", d.message, needle, s);
    }
    /* out is untouched on failure */
    for (size_t i = 0; i < PINSET_PIN_LEN; i++) {
        assert_int_equal(p.sha256[i], 0x5a);
    }
}

static void expect_fail_str(const char *s, pinset_err code, const char *needle)
{
    expect_fail(s, strlen(s), code, needle);
}

/* Read a file below tests/corpora of the source tree. */
static uint8_t *read_corpus(const char *rel, size_t *len)
{
    const char *src = getenv("PINSET_SOURCE_DIR");
    char path[1024];
    FILE *f;
    uint8_t *buf;
    long n;

    assert_non_null(src);
    assert_true(snprintf(path, sizeof(path), "%s/tests/corpora/%s", src, rel) < (int)sizeof(path));
    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* An inaccessible mapping: any read of it crashes, so a test proves a length check comes first. */
static char *no_access_map(size_t len)
{
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    assert_true(p != MAP_FAILED);
    return p;
}

static void sha256_of(uint8_t out[32], const uint8_t *data, size_t len)
{
    unsigned int n = 0;

    assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
}

/* ---- parsing: every form ---- */

/* SHA-256("") = e3b0c442...b855, written in every form. */
static const uint8_t empty_sha256[32] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};

static void parse_every_form_of_one_digest(void **state)
{
    static const char *const forms[] = {
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "pin-sha256=\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"",
        "pin-sha256 = \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"",
        "pin-sha256\t=\t\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"",
        "PIN-SHA256=\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:"
        "B8:55",
        "e3:b0:c4:42:98:fc:1c:14:9a:fb:f4:c8:99:6f:b9:24:27:ae:41:e4:64:9b:93:4c:a4:95:99:1b:78:52:"
        "b8:55",
        " \t\r\n sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\r\n\t ",
        "\v\fe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
    };

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(forms); i++) {
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_pin p;

        memset(&p, 0, sizeof(p));
        if (parse_str(&p, forms[i], &d) != PINSET_OK) {
            fail_msg("form %zu (%s) rejected: %s", i, forms[i], d.message);
        }
        assert_memory_equal(p.sha256, empty_sha256, 32);
        assert_int_equal(p.kind, PINSET_PIN_SPKI);
    }
}

/* OkHttp's "sha256/" before base64 that starts with '/' looks like curl's "sha256//" */
static void parse_okhttp_digest_starting_with_slash(void **state)
{
    pinset_pin p;
    pinset_pin q;

    (void)state;
    assert_int_equal(parse_str(&p, "sha256///////////////////////////////////////////8=", NULL),
                     PINSET_OK);
    fill(&q, 0xff);
    assert_true(pinset_pin_equal(&p, &q));
    assert_int_equal(parse_str(&p,
                               "sha256///"
                               "/////////////////////////////////////////8=",
                               NULL),
                     PINSET_OK);
    assert_true(pinset_pin_equal(&p, &q));
    expect_fail_str("sha256//AAAA", PINSET_E_PARSE, "encodes 3 bytes");
}

/* A bare base64 digest can start with "sha256/" or "sha1/": 44 base64 characters are a digest. */
static void parse_bare_digest_that_looks_like_a_prefix(void **state)
{
    static const char *const texts[] = {
        "sha256//HBSa+/TImW+5JCeuQeRsha2MpJWZG3hSuFA=",
        "sha1//HBSa+/TImW+5JCeuQeRsha2MpJWZG3hSuFUAA=",
        "pin+sha256/TImW+5JCeuQeRsha2MpJWZG3hSuFUAAA=",
    };
    char buf[PINSET_PIN_STR_MAX];
    pinset_pin p;
    pinset_pin q;

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(texts); i++) {
        assert_int_equal(strlen(texts[i]), 44);
        assert_int_equal(parse_str(&p, texts[i], NULL), PINSET_OK);
        assert_int_equal(pinset_pin_format(buf, sizeof(buf), &p, PINSET_PIN_FMT_BASE64), PINSET_OK);
        assert_string_equal(buf, texts[i]);
        /* and it round-trips through OkHttp's form, "sha256/" + "sha256//..." */
        assert_int_equal(pinset_pin_format(buf, sizeof(buf), &p, PINSET_PIN_FMT_OKHTTP), PINSET_OK);
        assert_int_equal(parse_str(&q, buf, NULL), PINSET_OK);
        assert_true(pinset_pin_equal(&p, &q));
    }
}

static void parse_sets_the_kind_given(void **state)
{
    pinset_pin p;

    (void)state;
    assert_int_equal(pinset_pin_parse(&p, "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                                      52, PINSET_PIN_CERT, NULL),
                     PINSET_OK);
    assert_int_equal(p.kind, PINSET_PIN_CERT);
    assert_int_equal(pinset_pin_parse(&p, "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                                      52, (pinset_pin_kind)7, NULL),
                     PINSET_E_INVALID_ARG);
}

static void parse_known_vectors(void **state)
{
    /* RFC 7469 §2.1.5 example pins */
    static const char *const rfc[] = {
        "pin-sha256=\"d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM=\"",
        "pin-sha256=\"E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g=\"",
        "pin-sha256=\"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\"",
    };
    pinset_pin p;
    pinset_pin q;
    char buf[PINSET_PIN_STR_MAX];

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(rfc); i++) {
        assert_int_equal(parse_str(&p, rfc[i], NULL), PINSET_OK);
        assert_int_equal(pinset_pin_format(buf, sizeof(buf), &p, PINSET_PIN_FMT_HPKP), PINSET_OK);
        assert_string_equal(buf, rfc[i]);
    }
    /* d6qz... = 77 aa b3 46 ... */
    assert_int_equal(parse_str(&p, rfc[0], NULL), PINSET_OK);
    assert_int_equal(p.sha256[0], 0x77);
    assert_int_equal(p.sha256[1], 0xaa);
    assert_int_equal(p.sha256[2], 0xb3);

    assert_int_equal(parse_str(&p, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL),
                     PINSET_OK);
    fill(&q, 0x00);
    assert_memory_equal(p.sha256, q.sha256, 32);
    assert_int_equal(parse_str(&p, "//////////////////////////////////////////8=", NULL),
                     PINSET_OK);
    fill(&q, 0xff);
    assert_memory_equal(p.sha256, q.sha256, 32);
    assert_int_equal(
        parse_str(&p,
                  "FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:FF:"
                  "FF:FF:FF:FF:FF:FF",
                  NULL),
        PINSET_OK);
    assert_memory_equal(p.sha256, q.sha256, 32);
}

/* ---- parsing: hostile input ---- */

#define B64_ZERO "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void parse_rejects_malformed_base64(void **state)
{
    (void)state;
    expect_fail_str("AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA=", PINSET_E_PARSE, "whitespace");
    expect_fail_str("sha256// AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", PINSET_E_PARSE,
                    "whitespace");
    expect_fail_str("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\tA=", PINSET_E_PARSE,
                    "whitespace");
    /* base64url */
    expect_fail_str("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=", PINSET_E_PARSE, "base64url");
    expect_fail_str("sha256/47DEQpj8HBSa+_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", PINSET_E_PARSE,
                    "base64url");
    /* padding */
    expect_fail_str("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", PINSET_E_PARSE, "missing '='");
    expect_fail_str("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", PINSET_E_PARSE,
                    "missing '='");
    expect_fail_str("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU==", PINSET_E_PARSE, "extra '='");
    expect_fail_str("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMp=WZG3hSuFU=", PINSET_E_PARSE, "'='");
    /* 31, 33 and 0 bytes */
    expect_fail_str("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", PINSET_E_PARSE,
                    "encodes 31 bytes");
    expect_fail_str("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", PINSET_E_PARSE,
                    "encodes 33 bytes");
    expect_fail_str("sha256//", PINSET_E_PARSE, "encodes 0 bytes");
    expect_fail_str("sha256/", PINSET_E_PARSE, "encodes 0 bytes");
    expect_fail_str("pin-sha256=\"\"", PINSET_E_PARSE, "encodes 0 bytes");
    expect_fail_str("QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", PINSET_E_PARSE,
                    "encodes 36");
    /* non-canonical: the two unused low bits must be zero */
    expect_fail_str("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", PINSET_E_PARSE,
                    "non-canonical");
    expect_fail_str("//////////////////////////////////////////9=", PINSET_E_PARSE,
                    "non-canonical");
    expect_fail_str("sha256//"
                    "//////////////////////////////////////////8",
                    PINSET_E_PARSE, "missing '='");
    /* other characters */
    expect_fail_str("AAAAAAAAAAAAAAAAAAAAAA*AAAAAAAAAAAAAAAAAAAA=", PINSET_E_PARSE, "'*'");
    expect_fail_str("AAAAAAAAAAAAAAAAAAAAAA\xc3\xa9"
                    "AAAAAAAAAAAAAAAAAAA=",
                    PINSET_E_PARSE, "0xc3");
}

static void parse_rejects_embedded_nul(void **state)
{
    static const char with_nul[] = "AAAAAAAAAAAAAAAAAAAAAA\0AAAAAAAAAAAAAAAAAAAA=";
    static const char nul_after[] = B64_ZERO "\0";
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_pin p;

    (void)state;
    expect_fail(with_nul, sizeof(with_nul) - 1, PINSET_E_PARSE, "has an embedded nul byte");
    expect_fail(nul_after, sizeof(nul_after) - 1, PINSET_E_PARSE, "nul");
    expect_fail("\0", 1, PINSET_E_PARSE, "nul");
    /* the position is recorded */
    assert_int_equal(pinset_pin_parse(&p, with_nul, sizeof(with_nul) - 1, PINSET_PIN_SPKI, &d),
                     PINSET_E_PARSE);
    assert_int_equal(d.offset, 22);
    assert_int_equal(d.column, 23);
}

static void parse_rejects_bad_hex(void **state)
{
    (void)state;
    expect_fail_str("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8",
                    PINSET_E_PARSE, "62 hex digits");
    expect_fail_str("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85500",
                    PINSET_E_PARSE, "66 hex digits");
    expect_fail_str("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g",
                    PINSET_E_PARSE, "'g'");
    expect_fail_str("e3b0c44298fc1c149afbf4c8996fb924 27ae41e4649b934ca495991b7852b855",
                    PINSET_E_PARSE, "whitespace");
    /* 31 pairs, 33 pairs, wrong separators, single digits */
    expect_fail_str("E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:"
                    "99:1B:78:52:B8",
                    PINSET_E_PARSE, "32 colon-separated");
    expect_fail_str("E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:"
                    "99:1B:78:52:B8:55:00",
                    PINSET_E_PARSE, "32 colon-separated");
    expect_fail_str("E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:"
                    "99:1B:78:52:B8:55:",
                    PINSET_E_PARSE, "32 colon-separated");
    expect_fail_str("E3:B0-C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:"
                    "99:1B:78:52:B8:55",
                    PINSET_E_PARSE, "expected ':'");
    expect_fail_str(
        "E3::B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:"
        "99:1B:78:52:B8:55",
        PINSET_E_PARSE, "':'");
    expect_fail_str("E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:"
                    "99:1B:78:52:B8:5",
                    PINSET_E_PARSE, "32 colon-separated");
}

static void parse_rejects_bad_hpkp(void **state)
{
    (void)state;
    expect_fail_str("pin-sha256=" B64_ZERO, PINSET_E_PARSE, "quoted string");
    expect_fail_str("pin-sha256=\"" B64_ZERO, PINSET_E_PARSE, "closing quote");
    expect_fail_str("pin-sha256=\"" B64_ZERO "\"; max-age=10", PINSET_E_PARSE, "after the closing");
    expect_fail_str("pin-sha256 \"" B64_ZERO "\"", PINSET_E_PARSE, "expected '='");
    expect_fail_str("pin-sha256=\" " B64_ZERO "\"", PINSET_E_PARSE, "whitespace");
    expect_fail_str("pin-sha256=\"sha256/" B64_ZERO "\"", PINSET_E_PARSE, "encodes 37 bytes");
    expect_fail_str(
        "pin-sha256=\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
        PINSET_E_PARSE, "encodes");
}

/* Other digests are named as unsupported, not read as base64 of the wrong length. */
static void parse_refuses_other_digests(void **state)
{
    (void)state;
    expect_fail_str("md5/1B2M2Y8AsgTpgAmY7PhCfg==", PINSET_E_UNSUPPORTED,
                    "md5 pins are not supported");
    expect_fail_str("MD5//1B2M2Y8AsgTpgAmY7PhCfg==", PINSET_E_UNSUPPORTED, "md5");
    expect_fail_str("sha384/OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb",
                    PINSET_E_UNSUPPORTED, "sha384 pins are not supported");
    expect_fail_str(
        "pin-sha512 = \"z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\"",
        PINSET_E_UNSUPPORTED, "sha512");
    expect_fail_str("sha3-256/p//G+L8e12ZRwUdWoGHWYvWA/03kO0n6gtgKS4D4Q0o=", PINSET_E_UNSUPPORTED,
                    "sha3-256");
}

static void parse_refuses_sha1(void **state)
{
    (void)state;
    expect_fail_str("sha1/4a9f7be3d4cbd4ea4ab5cd5c5a1e1a8b8f6f3a2=", PINSET_E_UNSUPPORTED,
                    "sha-1 pins are not supported");
    expect_fail_str("sha1//hvfkN/qlp/zhXR3cuerq6jd2Z7g=", PINSET_E_UNSUPPORTED, "collision-prone");
    expect_fail_str("pin-sha1=\"hvfkN/qlp/zhXR3cuerq6jd2Z7g=\"", PINSET_E_UNSUPPORTED, "sha256");
    expect_fail_str("  PIN-SHA1 = \"hvfkN/qlp/zhXR3cuerq6jd2Z7g=\" ", PINSET_E_UNSUPPORTED,
                    "sha-1");
}

static void parse_rejects_empty_and_misuse(void **state)
{
    pinset_pin p;

    (void)state;
    expect_fail("", 0, PINSET_E_PARSE, "empty");
    expect_fail_str(" \t\r\n", PINSET_E_PARSE, "empty");
    expect_fail_str("sha384/" B64_ZERO, PINSET_E_UNSUPPORTED, "sha384 pins are not supported");
    assert_int_equal(pinset_pin_parse(NULL, B64_ZERO, 44, PINSET_PIN_SPKI, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_parse(&p, NULL, 44, PINSET_PIN_SPKI, NULL), PINSET_E_INVALID_ARG);
}

static void parse_limits_length_without_reading(void **state)
{
    const size_t big = 1024 * 1024;
    char *none = no_access_map(big);
    char long_text[PINSET_MAX_PIN_TEXT + 1];
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_pin p;

    (void)state;
    /* A read of any byte of `none` would crash: the limit is checked first. */
    assert_int_equal(pinset_pin_parse(&p, none, big, PINSET_PIN_SPKI, &d), PINSET_E_LIMIT);
    assert_non_null(strstr(d.message, "limit"));
    assert_int_equal(pinset_pin_parse(&p, none, PINSET_MAX_PIN_TEXT + 1, PINSET_PIN_SPKI, NULL),
                     PINSET_E_LIMIT);
    /* exactly the limit is parsed (and fails as text, not as a limit) */
    memset(long_text, ' ', sizeof(long_text));
    memcpy(long_text, B64_ZERO, 44);
    assert_int_equal(pinset_pin_parse(&p, long_text, PINSET_MAX_PIN_TEXT, PINSET_PIN_SPKI, NULL),
                     PINSET_OK);
    assert_int_equal(
        pinset_pin_parse(&p, long_text, PINSET_MAX_PIN_TEXT + 1, PINSET_PIN_SPKI, NULL),
        PINSET_E_LIMIT);
    assert_int_equal(munmap(none, big), 0);
}

/* ---- lists ---- */

static void list_parses_curl_lists(void **state)
{
    static const char list[] =
        " sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= ;\tsha256//" B64_ZERO " ;"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";
    pinset_pin pins[4];
    size_t n = 99;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(pinset_pin_parse_list(pins, 4, &n, list, strlen(list), PINSET_PIN_CERT, &d),
                     PINSET_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(pins[0].sha256, empty_sha256, 32);
    assert_memory_equal(pins[2].sha256, empty_sha256, 32);
    assert_int_equal(pins[1].sha256[0], 0);
    assert_int_equal(pins[1].kind, PINSET_PIN_CERT);
    /* one element */
    assert_int_equal(pinset_pin_parse_list(pins, 1, &n, B64_ZERO, 44, PINSET_PIN_SPKI, NULL),
                     PINSET_OK);
    assert_int_equal(n, 1);
}

static void list_rejects_bad_elements(void **state)
{
    static const struct {
        const char *text;
        pinset_err code;
        size_t object;
    } cases[] = {
        {"", PINSET_E_PARSE, 0},
        {";", PINSET_E_PARSE, 0},
        {B64_ZERO ";", PINSET_E_PARSE, 1},
        {B64_ZERO ";;" B64_ZERO, PINSET_E_PARSE, 1},
        {B64_ZERO "; \t ;" B64_ZERO, PINSET_E_PARSE, 1},
        {";" B64_ZERO, PINSET_E_PARSE, 0},
        {B64_ZERO ";" B64_ZERO ";sha256//bad", PINSET_E_PARSE, 2},
        {B64_ZERO ";sha1//hvfkN/qlp/zhXR3cuerq6jd2Z7g=", PINSET_E_UNSUPPORTED, 1},
        {B64_ZERO "," B64_ZERO, PINSET_E_PARSE, 0},
    };
    pinset_pin pins[4];

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(cases); i++) {
        pinset_diag d = PINSET_DIAG_INIT;
        size_t n = 99;

        assert_int_equal(pinset_pin_parse_list(pins, 4, &n, cases[i].text, strlen(cases[i].text),
                                               PINSET_PIN_SPKI, &d),
                         cases[i].code);
        assert_int_equal(n, 0);
        if (d.object != cases[i].object) {
            fail_msg("case %zu: object %zu, expected %zu (%s)", i, d.object, cases[i].object,
                     d.message);
        }
    }
}

static void list_limits(void **state)
{
    char text[(PINSET_MAX_PIN_LIST + 1) * 45];
    const size_t big = 1024 * 1024;
    char *none = no_access_map(big);
    pinset_pin pins[PINSET_MAX_PIN_LIST + 1];
    pinset_diag d = PINSET_DIAG_INIT;
    size_t n;

    (void)state;
    for (size_t i = 0; i <= PINSET_MAX_PIN_LIST; i++) {
        memcpy(text + i * 45, B64_ZERO ";", 45);
    }
    /* exactly the maximum */
    assert_int_equal(pinset_pin_parse_list(pins, PINSET_ARRAY_SIZE(pins), &n, text,
                                           PINSET_MAX_PIN_LIST * 45 - 1, PINSET_PIN_SPKI, NULL),
                     PINSET_OK);
    assert_int_equal(n, PINSET_MAX_PIN_LIST);
    /* one more */
    assert_int_equal(pinset_pin_parse_list(pins, PINSET_ARRAY_SIZE(pins), &n, text,
                                           sizeof(text) - 1, PINSET_PIN_SPKI, &d),
                     PINSET_E_LIMIT);
    assert_int_equal(d.object, PINSET_MAX_PIN_LIST);
    /* a huge list is refused before it is read */
    assert_int_equal(pinset_pin_parse_list(pins, 4, &n, none, big, PINSET_PIN_SPKI, NULL),
                     PINSET_E_LIMIT);
    /* a huge element inside an acceptable list */
    {
        char *el = malloc(PINSET_MAX_PIN_TEXT + 100);

        assert_non_null(el);
        memset(el, ' ', PINSET_MAX_PIN_TEXT + 100);
        memcpy(el, B64_ZERO ";", 45);
        assert_int_equal(
            pinset_pin_parse_list(pins, 4, &n, el, PINSET_MAX_PIN_TEXT + 100, PINSET_PIN_SPKI, &d),
            PINSET_E_LIMIT);
        assert_int_equal(d.object, 1);
        free(el);
    }
    assert_int_equal(munmap(none, big), 0);
}

static void list_buffer_too_small_reports_count(void **state)
{
    static const char list[] = B64_ZERO ";" B64_ZERO ";" B64_ZERO;
    pinset_pin pins[2];
    size_t n = 0;

    (void)state;
    assert_int_equal(pinset_pin_parse_list(pins, 2, &n, list, strlen(list), PINSET_PIN_SPKI, NULL),
                     PINSET_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3);
    assert_int_equal(pinset_pin_parse_list(NULL, 0, &n, list, strlen(list), PINSET_PIN_SPKI, NULL),
                     PINSET_E_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3);
    assert_int_equal(pinset_pin_parse_list(NULL, 2, &n, list, strlen(list), PINSET_PIN_SPKI, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(
        pinset_pin_parse_list(pins, 2, NULL, list, strlen(list), PINSET_PIN_SPKI, NULL),
        PINSET_E_INVALID_ARG);
}

/* ---- formatting ---- */

static void format_known_digest_in_every_form(void **state)
{
    static const struct {
        pinset_pin_fmt fmt;
        const char *text;
    } cases[] = {
        {PINSET_PIN_FMT_BASE64, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {PINSET_PIN_FMT_HPKP, "pin-sha256=\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\""},
        {PINSET_PIN_FMT_CURL, "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {PINSET_PIN_FMT_OKHTTP, "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {PINSET_PIN_FMT_HEX, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {PINSET_PIN_FMT_HEX_COLON, "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:"
                                   "9B:93:4C:A4:95:99:1B:78:52:B8:55"},
    };
    pinset_pin p;

    (void)state;
    memcpy(p.sha256, empty_sha256, 32);
    p.kind = PINSET_PIN_SPKI;
    assert_int_equal(pinset_pin_str_max(), PINSET_PIN_STR_MAX);
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(cases); i++) {
        char buf[PINSET_PIN_STR_MAX];
        size_t len = strlen(cases[i].text);

        assert_true(len < PINSET_PIN_STR_MAX);
        assert_int_equal(pinset_pin_format(buf, sizeof(buf), &p, cases[i].fmt), PINSET_OK);
        assert_string_equal(buf, cases[i].text);
        /* exactly enough, then one byte short: "" and BUFFER_TOO_SMALL */
        assert_int_equal(pinset_pin_format(buf, len + 1, &p, cases[i].fmt), PINSET_OK);
        assert_string_equal(buf, cases[i].text);
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(pinset_pin_format(buf, len, &p, cases[i].fmt), PINSET_E_BUFFER_TOO_SMALL);
        assert_string_equal(buf, "");
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(pinset_pin_format(buf, 1, &p, cases[i].fmt), PINSET_E_BUFFER_TOO_SMALL);
        assert_int_equal(buf[0], '\0');
        assert_int_equal(buf[1], 'x');
        assert_int_equal(pinset_pin_format(NULL, 0, &p, cases[i].fmt), PINSET_E_BUFFER_TOO_SMALL);
    }
}

static void format_rejects_misuse(void **state)
{
    char buf[PINSET_PIN_STR_MAX];
    pinset_pin p;

    (void)state;
    fill(&p, 1);
    buf[0] = 'x';
    assert_int_equal(pinset_pin_format(buf, sizeof(buf), NULL, PINSET_PIN_FMT_HEX),
                     PINSET_E_INVALID_ARG);
    assert_string_equal(buf, "");
    buf[0] = 'x';
    assert_int_equal(pinset_pin_format(buf, sizeof(buf), &p, (pinset_pin_fmt)6),
                     PINSET_E_INVALID_ARG);
    assert_string_equal(buf, "");
    assert_int_equal(pinset_pin_format(buf, sizeof(buf), &p, (pinset_pin_fmt)-1),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_format(NULL, 10, &p, PINSET_PIN_FMT_HEX), PINSET_E_INVALID_ARG);
}

static void format_round_trips_every_form(void **state)
{
    (void)state;
    for (int round = 0; round < 200; round++) {
        pinset_pin p;

        if (round == 0) {
            fill(&p, 0x00);
        } else if (round == 1) {
            fill(&p, 0xff);
        } else {
            assert_int_equal(RAND_bytes(p.sha256, sizeof(p.sha256)), 1);
        }
        p.kind = (round & 1) != 0 ? PINSET_PIN_CERT : PINSET_PIN_SPKI;
        for (int fmt = PINSET_PIN_FMT_BASE64; fmt <= PINSET_PIN_FMT_HEX_COLON; fmt++) {
            char buf[PINSET_PIN_STR_MAX];
            pinset_pin q;

            assert_int_equal(pinset_pin_format(buf, sizeof(buf), &p, (pinset_pin_fmt)fmt),
                             PINSET_OK);
            assert_int_equal(pinset_pin_parse(&q, buf, strlen(buf), p.kind, NULL), PINSET_OK);
            assert_true(pinset_pin_equal(&p, &q));
        }
    }
}

/* ---- equality ---- */

static void equal_compares_kind_and_every_byte(void **state)
{
    pinset_pin a;
    pinset_pin b;

    (void)state;
    fill(&a, 0x42);
    b = a;
    assert_int_equal(pinset_pin_equal(&a, &b), 1);
    for (size_t i = 0; i < PINSET_PIN_LEN; i++) {
        b = a;
        b.sha256[i] ^= 0x01;
        assert_int_equal(pinset_pin_equal(&a, &b), 0);
        b.sha256[i] ^= 0x81;
        assert_int_equal(pinset_pin_equal(&a, &b), 0);
    }
    b = a;
    b.kind = PINSET_PIN_CERT;
    assert_int_equal(pinset_pin_equal(&a, &b), 0);
    assert_int_equal(pinset_pin_equal(NULL, &b), 0);
    assert_int_equal(pinset_pin_equal(&a, NULL), 0);
    assert_int_equal(pinset_pin_equal(NULL, NULL), 0);
}

/* ---- computing pins ---- */

/*
 * TrustKit's test certificates and their SPKI pins, recorded independently
 * with the openssl CLI (x509 -pubkey | pkey -pubin -outform DER | sha256)
 * in /work/shared/corpora/vectors/trustkit.json.
 */
static const struct {
    const char *file;
    const char *spki_b64;
} trustkit[] = {
    {"RSA_4096/GoodRootCA.der", "S5z3Fz5ZfZAGJOBZjK6TYBquyLLKO+BndKXBlL3nPjo="},
    {"RSA_4096/www.good.com.der", "TwyNzy19zZi7cKfPsucs1E+h8ODOCPMrT8681sFWJvw="},
    {"RSA_4096/www.good.com.selfsigned.der", "naw8JswG9YvBkitP4iGuyEgbFxssEMM/v4m7MglIzEw="},
    {"RSA_2048/GlobalSignRootCA.der", "K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q="},
    {"RSA_2048/GlobalSignDomainValidationCA-SHA256-G2.der",
     "PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw="},
    {"RSA_2048/www.globalsign.com.der", "NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc="},
    {"ECDSA_sec256r1/www.cloudflare.com.der", "Gc7EN2acfkbE0dUOAd34tr1XLr+JdkTiTrMAfhESQHI="},
    {"ECDSA_sec384r1/GeoTrust_Primary_CA_G2_ECC.der",
     "vPtEqrmtAhAVcGtBIep2HIHJ6IlnWQ9vlK50TciLePs="},
};

static const struct {
    const char *file;
    const char *spki_b64;
} trustkit_pem[] = {
    {"TrustAnchor/anchor-ca.cert.pem", "H6ts7uvqaU077Y8GlTM7nP31ir2ykBr61+oKjuvKSt0="},
    {"TrustAnchor/anchor-intermediate.cert.pem", "F7Ccr6gV7uhEbZpPyHjgnISgm41M4lvA5DzwbM7IPag="},
    {"TrustAnchor/anchor-fake.yahoo.com.cert.pem", "5TU3+y0opwa6D+rddQUQ0gpS/G2U8su3aUBqtsEaAKw="},
};

static void trustkit_certs_match_recorded_pins(void **state)
{
    char rel[256];

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(trustkit); i++) {
        size_t len;
        uint8_t *der;
        const unsigned char *p;
        pinset_pin want, from_der, from_x509, from_spki, cert_pin, cert_pin2, from_key;
        uint8_t cert_sha[32];
        unsigned char *spki_der = NULL;
        int spki_len;
        X509 *x;
        pinset_diag d = PINSET_DIAG_INIT;

        (void)snprintf(rel, sizeof(rel), "trustkit-certs/%s", trustkit[i].file);
        der = read_corpus(rel, &len);
        assert_int_equal(parse_str(&want, trustkit[i].spki_b64, NULL), PINSET_OK);

        if (pinset_pin_from_cert_der(&from_der, der, len, PINSET_PIN_SPKI, &d) != PINSET_OK) {
            fail_msg("%s: %s", trustkit[i].file, d.message);
        }
        if (!pinset_pin_equal(&from_der, &want)) {
            fail_msg("%s: spki pin differs from the recorded one", trustkit[i].file);
        }
        p = der;
        x = d2i_X509(NULL, &p, (long)len);
        assert_non_null(x);
        assert_int_equal(pinset_pin_from_x509(&from_x509, x, PINSET_PIN_SPKI, NULL), PINSET_OK);
        assert_true(pinset_pin_equal(&from_x509, &want));
        assert_int_equal(pinset_pin_from_pkey(&from_key, X509_get0_pubkey(x), NULL), PINSET_OK);
        assert_true(pinset_pin_equal(&from_key, &want));

        spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki_der);
        assert_true(spki_len > 0);
        assert_int_equal(pinset_pin_from_spki_der(&from_spki, spki_der, (size_t)spki_len, NULL),
                         PINSET_OK);
        assert_true(pinset_pin_equal(&from_spki, &want));

        /* cert pins: SHA-256 of the file, same from DER and X509, and never equal to the spki pin
         */
        sha256_of(cert_sha, der, len);
        assert_int_equal(pinset_pin_from_cert_der(&cert_pin, der, len, PINSET_PIN_CERT, NULL),
                         PINSET_OK);
        assert_int_equal(cert_pin.kind, PINSET_PIN_CERT);
        assert_memory_equal(cert_pin.sha256, cert_sha, 32);
        assert_int_equal(pinset_pin_from_x509(&cert_pin2, x, PINSET_PIN_CERT, NULL), PINSET_OK);
        assert_true(pinset_pin_equal(&cert_pin, &cert_pin2));
        assert_false(pinset_pin_equal(&cert_pin, &from_der));
        assert_memory_not_equal(cert_pin.sha256, from_der.sha256, 32);

        OPENSSL_free(spki_der);
        X509_free(x);
        free(der);
    }
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(trustkit_pem); i++) {
        size_t len;
        uint8_t *pem;
        BIO *bio;
        X509 *x;
        pinset_pin want, got;

        (void)snprintf(rel, sizeof(rel), "trustkit-certs/%s", trustkit_pem[i].file);
        pem = read_corpus(rel, &len);
        bio = BIO_new_mem_buf(pem, (int)len);
        assert_non_null(bio);
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        assert_non_null(x);
        assert_int_equal(parse_str(&want, trustkit_pem[i].spki_b64, NULL), PINSET_OK);
        assert_int_equal(pinset_pin_from_x509(&got, x, PINSET_PIN_SPKI, NULL), PINSET_OK);
        assert_true(pinset_pin_equal(&got, &want));
        X509_free(x);
        BIO_free(bio);
        free(pem);
    }
}

/*
 * The spki pin hashes the certificate's own SPKI bytes. Rewrite www.good.com's
 * rsaEncryption AlgorithmIdentifier without its NULL parameters (allowed by
 * BER readers, and what OpenSSL re-encodes as "05 00"): the pin must be the
 * hash of the bytes in the certificate, not of OpenSSL's re-encoding.
 */
static void spki_pin_uses_the_certificates_own_encoding(void **state)
{
    static const uint8_t rsa_alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                      0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    size_t len;
    uint8_t *der = read_corpus("trustkit-certs/RSA_4096/www.good.com.der", &len);
    uint8_t *mod = malloc(len);
    size_t at = 0;
    size_t spki;
    size_t spki_len;
    uint8_t want[32];
    pinset_pin got, reencoded, original;
    X509 *x;
    const unsigned char *p;

    (void)state;
    assert_non_null(mod);
    while (at + sizeof(rsa_alg) <= len && memcmp(der + at, rsa_alg, sizeof(rsa_alg)) != 0) {
        at++;
    }
    assert_true(at + sizeof(rsa_alg) <= len);
    spki = at - 4;
    /* cert, tbs and spki all use two-byte long-form lengths (0x82 hi lo) */
    assert_int_equal(der[0 + 1], 0x82);
    assert_int_equal(der[4 + 1], 0x82);
    assert_int_equal(der[spki + 1], 0x82);
    memcpy(mod, der, at);
    memcpy(mod + at, der + at, sizeof(rsa_alg) - 2);
    mod[at + 1] = 0x0b;
    memcpy(mod + at + sizeof(rsa_alg) - 2, der + at + sizeof(rsa_alg), len - at - sizeof(rsa_alg));
    for (size_t hdr = 0; hdr < 3; hdr++) {
        size_t off = hdr == 0 ? 0 : hdr == 1 ? 4 : spki;
        size_t l = (size_t)mod[off + 2] << 8 | mod[off + 3];

        l -= 2;
        mod[off + 2] = (uint8_t)(l >> 8);
        mod[off + 3] = (uint8_t)(l & 0xff);
    }
    spki_len = 4 + ((size_t)mod[spki + 2] << 8 | mod[spki + 3]);
    sha256_of(want, mod + spki, spki_len);

    p = mod;
    x = d2i_X509(NULL, &p, (long)(len - 2));
    if (x == NULL) {
        free(mod);
        free(der);
        skip(); /* this OpenSSL does not decode absent RSA parameters */
    }
    assert_int_equal(pinset_pin_from_cert_der(&got, mod, len - 2, PINSET_PIN_SPKI, NULL),
                     PINSET_OK);
    assert_memory_equal(got.sha256, want, 32);
    assert_int_equal(pinset_pin_from_x509(&got, x, PINSET_PIN_SPKI, NULL), PINSET_OK);
    assert_memory_equal(got.sha256, want, 32);
    assert_int_equal(pinset_pin_from_spki_der(&got, mod + spki, spki_len, NULL), PINSET_OK);
    assert_memory_equal(got.sha256, want, 32);
    /* the re-encoded key gives the original certificate's pin: a different value */
    assert_int_equal(pinset_pin_from_pkey(&reencoded, X509_get0_pubkey(x), NULL), PINSET_OK);
    assert_int_equal(pinset_pin_from_cert_der(&original, der, len, PINSET_PIN_SPKI, NULL),
                     PINSET_OK);
    assert_true(pinset_pin_equal(&reencoded, &original));
    assert_memory_not_equal(reencoded.sha256, want, 32);
    X509_free(x);
    free(mod);
    free(der);
}

/* EVP_PKEY_Q_keygen takes a size only for "RSA" */
static EVP_PKEY *keygen_rsa_pss(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    EVP_PKEY *key = NULL;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 1024), 1);
    assert_int_equal(EVP_PKEY_generate(ctx, &key), 1);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static EVP_PKEY *keygen(int which)
{
    switch (which) {
    case 0:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    case 1:
        return keygen_rsa_pss();
    case 2:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case 3:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case 4:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    case 5:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    case 6:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    default:
        return NULL;
    }
}

static X509 *self_signed(EVP_PKEY *key, int eddsa)
{
    X509 *x = X509_new();

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                                (const unsigned char *)"pin.test", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
    assert_int_equal(X509_set_pubkey(x, key), 1);
    assert_true(X509_sign(x, key, eddsa ? NULL : EVP_sha256()) > 0);
    return x;
}

static X509_REQ *request(EVP_PKEY *key, int eddsa)
{
    X509_REQ *r = X509_REQ_new();

    assert_non_null(r);
    assert_int_equal(X509_REQ_set_pubkey(r, key), 1);
    assert_true(X509_REQ_sign(r, key, eddsa ? NULL : EVP_sha256()) > 0);
    return r;
}

static void every_key_type_gives_one_pin_by_every_path(void **state)
{
    (void)state;
    for (int which = 0; which <= 6; which++) {
        EVP_PKEY *key = keygen(which);
        int eddsa = which >= 5;
        X509 *x;
        X509_REQ *req;
        unsigned char *spki = NULL;
        unsigned char *cert = NULL;
        int spki_len, cert_len;
        pinset_pin k, s, c, cx, r, other;
        pinset_diag d = PINSET_DIAG_INIT;

        if (key == NULL) {
            fail_msg("key type %d: keygen failed", which);
        }
        x = self_signed(key, eddsa);
        req = request(key, eddsa);
        spki_len = i2d_PUBKEY(key, &spki);
        cert_len = i2d_X509(x, &cert);
        assert_true(spki_len > 0 && cert_len > 0);

        assert_int_equal(pinset_pin_from_pkey(&k, key, NULL), PINSET_OK);
        if (pinset_pin_from_spki_der(&s, spki, (size_t)spki_len, &d) != PINSET_OK) {
            fail_msg("key type %d: %s", which, d.message);
        }
        assert_int_equal(
            pinset_pin_from_cert_der(&c, cert, (size_t)cert_len, PINSET_PIN_SPKI, NULL), PINSET_OK);
        assert_int_equal(pinset_pin_from_x509(&cx, x, PINSET_PIN_SPKI, NULL), PINSET_OK);
        assert_int_equal(pinset_pin_from_x509_req(&r, req, NULL), PINSET_OK);
        assert_true(pinset_pin_equal(&k, &s));
        assert_true(pinset_pin_equal(&k, &c));
        assert_true(pinset_pin_equal(&k, &cx));
        assert_true(pinset_pin_equal(&k, &r));
        assert_int_equal(k.kind, PINSET_PIN_SPKI);
        /* and the cert pin is the certificate's hash, a different value */
        assert_int_equal(
            pinset_pin_from_cert_der(&other, cert, (size_t)cert_len, PINSET_PIN_CERT, NULL),
            PINSET_OK);
        assert_false(pinset_pin_equal(&other, &c));

        OPENSSL_free(spki);
        OPENSSL_free(cert);
        X509_REQ_free(req);
        X509_free(x);
        EVP_PKEY_free(key);
    }
}

static void compute_rejects_bad_der_and_keeps_error_queue(void **state)
{
    EVP_PKEY *key = keygen(2);
    X509 *x = self_signed(key, 0);
    unsigned char *spki = NULL;
    unsigned char *cert = NULL;
    int spki_len = i2d_PUBKEY(key, &spki);
    int cert_len = i2d_X509(x, &cert);
    uint8_t buf[4096];
    const size_t big = PINSET_MAX_DER_SIZE + 1;
    uint8_t *none = (uint8_t *)no_access_map(big);
    pinset_pin p;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_true(spki_len > 0 && cert_len > 0 && (size_t)cert_len + 1 < sizeof(buf));
    ERR_clear_error();
    ERR_raise(ERR_LIB_USER, 42); /* the caller's own pending error */

    /* trailing bytes */
    memcpy(buf, spki, (size_t)spki_len);
    buf[spki_len] = 0;
    assert_int_equal(pinset_pin_from_spki_der(&p, buf, (size_t)spki_len + 1, &d), PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "1 trailing bytes"));
    assert_int_equal(d.has_offset, 1); /* where: the offset, not the message */
    assert_int_equal(d.offset, (size_t)spki_len);
    memcpy(buf, cert, (size_t)cert_len);
    buf[cert_len] = 0x30;
    assert_int_equal(pinset_pin_from_cert_der(&p, buf, (size_t)cert_len + 1, PINSET_PIN_CERT, &d),
                     PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "trailing"));
    /* truncated, garbage, empty, wrong type */
    assert_int_equal(pinset_pin_from_spki_der(&p, spki, (size_t)spki_len - 1, &d), PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "not a subjectpublickeyinfo"));
    assert_int_equal(pinset_pin_from_cert_der(&p, cert, (size_t)cert_len - 1, PINSET_PIN_SPKI, &d),
                     PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "certificate"));
    memset(buf, 0xff, 64);
    assert_int_equal(pinset_pin_from_spki_der(&p, buf, 64, NULL), PINSET_E_PARSE);
    assert_int_equal(pinset_pin_from_cert_der(&p, buf, 64, PINSET_PIN_SPKI, NULL), PINSET_E_PARSE);
    assert_int_equal(pinset_pin_from_spki_der(&p, buf, 0, NULL), PINSET_E_PARSE);
    assert_int_equal(pinset_pin_from_cert_der(&p, buf, 0, PINSET_PIN_CERT, NULL), PINSET_E_PARSE);
    assert_int_equal(pinset_pin_from_spki_der(&p, cert, (size_t)cert_len, NULL), PINSET_E_PARSE);
    assert_int_equal(pinset_pin_from_cert_der(&p, spki, (size_t)spki_len, PINSET_PIN_SPKI, NULL),
                     PINSET_E_PARSE);
    /* oversized input is refused before it is read */
    assert_int_equal(pinset_pin_from_spki_der(&p, none, big, NULL), PINSET_E_LIMIT);
    assert_int_equal(pinset_pin_from_cert_der(&p, none, big, PINSET_PIN_CERT, NULL),
                     PINSET_E_LIMIT);
    /* a key object with no key in it */
    {
        EVP_PKEY *empty = EVP_PKEY_new();

        assert_non_null(empty);
        assert_int_equal(pinset_pin_from_pkey(&p, empty, &d), PINSET_E_CRYPTO);
        assert_non_null(strstr(d.message, "key"));
        EVP_PKEY_free(empty);
    }
    /* a certificate and a request with no key in them */
    {
        X509 *blank = X509_new();
        X509_REQ *blank_req = X509_REQ_new();

        assert_non_null(blank);
        assert_non_null(blank_req);
        assert_int_equal(pinset_pin_from_x509(&p, blank, PINSET_PIN_SPKI, &d), PINSET_E_CRYPTO);
        assert_non_null(strstr(d.message, "certificate spki: "));
        assert_int_equal(pinset_pin_from_x509(&p, blank, PINSET_PIN_CERT, &d), PINSET_E_CRYPTO);
        assert_int_equal(pinset_pin_from_x509_req(&p, blank_req, &d), PINSET_E_CRYPTO);
        assert_non_null(strstr(d.message, "certificate request"));
        X509_REQ_free(blank_req);
        X509_free(blank);
    }
    /* misuse */
    assert_int_equal(pinset_pin_from_spki_der(NULL, spki, (size_t)spki_len, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_from_spki_der(&p, NULL, 10, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_from_cert_der(&p, cert, (size_t)cert_len, (pinset_pin_kind)3, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_from_x509(&p, NULL, PINSET_PIN_SPKI, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_from_x509(&p, x, (pinset_pin_kind)3, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_from_pkey(NULL, key, NULL), PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_pin_from_x509_req(&p, NULL, NULL), PINSET_E_INVALID_ARG);

    /* the caller's queue holds its one error, nothing of ours */
    assert_int_equal(ERR_GET_LIB(ERR_peek_last_error()), ERR_LIB_USER);
    assert_int_equal(ERR_GET_REASON(ERR_get_error()), 42);
    assert_int_equal(ERR_get_error(), 0);

    /* and a success leaves it alone too */
    ERR_raise(ERR_LIB_USER, 43);
    assert_int_equal(pinset_pin_from_cert_der(&p, cert, (size_t)cert_len, PINSET_PIN_SPKI, NULL),
                     PINSET_OK);
    assert_int_equal(pinset_pin_from_x509(&p, x, PINSET_PIN_CERT, NULL), PINSET_OK);
    assert_int_equal(ERR_GET_REASON(ERR_get_error()), 43);
    assert_int_equal(ERR_get_error(), 0);

    assert_int_equal(munmap(none, big), 0);
    OPENSSL_free(spki);
    OPENSSL_free(cert);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* ---- allocation failure: every allocating function, each allocation in turn ---- */

static void allocation_failures_are_clean(void **state)
{
    EVP_PKEY *key = keygen(5);
    X509 *x = self_signed(key, 1);
    X509_REQ *req = request(key, 1);
    unsigned char *cert = NULL;
    int cert_len = i2d_X509(x, &cert);
    pinset_pin want;
    pinset_pin want_cert;

    (void)state;
    assert_true(cert_len > 0);
    assert_int_equal(pinset_pin_from_pkey(&want, key, NULL), PINSET_OK);
    assert_int_equal(pinset_pin_from_x509(&want_cert, x, PINSET_PIN_CERT, NULL), PINSET_OK);
    for (int fn = 0; fn < 6; fn++) {
        unsigned long n;
        int failures = 0;

        for (n = 1; n < 100; n++) {
            pinset_pin p;
            pinset_diag d = PINSET_DIAG_INIT;
            pinset_err err = PINSET_E_INTERNAL;
            size_t count = 0;

            memset(&p, 0, sizeof(p));
            pinset__alloc_fail_at(n);
            switch (fn) {
            case 0:
                err = pinset_pin_from_pkey(&p, key, &d);
                break;
            case 1:
                err = pinset_pin_from_x509(&p, x, PINSET_PIN_SPKI, &d);
                break;
            case 2:
                err = pinset_pin_from_x509(&p, x, PINSET_PIN_CERT, &d);
                break;
            case 3:
                err = pinset_pin_from_x509_req(&p, req, &d);
                break;
            case 4:
                err = pinset_pin_from_cert_der(&p, cert, (size_t)cert_len, PINSET_PIN_SPKI, &d);
                break;
            default:
                err = pinset_pin_parse_list(&p, 1, &count, B64_ZERO, 44, PINSET_PIN_SPKI, &d);
                break;
            }
            pinset__alloc_fail_at(0);
            if (err == PINSET_OK) {
                if (fn != 5) {
                    assert_true(pinset_pin_equal(&p, fn == 2 ? &want_cert : &want));
                }
                break;
            }
            assert_int_equal(err, PINSET_E_NOMEM);
            assert_non_null(strstr(d.message, "out of memory"));
            failures++;
        }
        assert_true(n < 100);
        /* the functions that encode into a buffer of ours do allocate */
        if (fn < 5) {
            assert_true(failures >= 1);
        }
    }
    OPENSSL_free(cert);
    X509_REQ_free(req);
    X509_free(x);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_every_form_of_one_digest),
        cmocka_unit_test(parse_okhttp_digest_starting_with_slash),
        cmocka_unit_test(parse_bare_digest_that_looks_like_a_prefix),
        cmocka_unit_test(parse_sets_the_kind_given),
        cmocka_unit_test(parse_known_vectors),
        cmocka_unit_test(parse_rejects_malformed_base64),
        cmocka_unit_test(parse_rejects_embedded_nul),
        cmocka_unit_test(parse_rejects_bad_hex),
        cmocka_unit_test(parse_rejects_bad_hpkp),
        cmocka_unit_test(parse_refuses_sha1),
        cmocka_unit_test(parse_refuses_other_digests),
        cmocka_unit_test(parse_rejects_empty_and_misuse),
        cmocka_unit_test(parse_limits_length_without_reading),
        cmocka_unit_test(list_parses_curl_lists),
        cmocka_unit_test(list_rejects_bad_elements),
        cmocka_unit_test(list_limits),
        cmocka_unit_test(list_buffer_too_small_reports_count),
        cmocka_unit_test(format_known_digest_in_every_form),
        cmocka_unit_test(format_rejects_misuse),
        cmocka_unit_test(format_round_trips_every_form),
        cmocka_unit_test(equal_compares_kind_and_every_byte),
        cmocka_unit_test(trustkit_certs_match_recorded_pins),
        cmocka_unit_test(spki_pin_uses_the_certificates_own_encoding),
        cmocka_unit_test(every_key_type_gives_one_pin_by_every_path),
        cmocka_unit_test(compute_rejects_bad_der_and_keeps_error_queue),
        cmocka_unit_test(allocation_failures_are_clean),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
