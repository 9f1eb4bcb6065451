/*
 * test_bundle.c - loading certificates, keys, CSRs and PKCS#12 (src/lib/load/,
 * core/pem.c): every format and label over the generated test PKI (pins checked
 * against the openssl command-line pipeline), unusual-but-valid inputs,
 * hostile inputs (each: error code, the object in the diag's fields, bounded
 * time), the TrustKit corpus, and an allocation-failure walk.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include <pinset/bundle.h>
#include <pinset/openssl.h>

#include "core/pem.h"
#include "internal.h"

static const char *const types[] = {"rsa2048", "rsa3072", "rsa4096", "rsa8192", "rsapss",
                                    "ec256",   "ec384",   "ec521",   "ed25519", "ed448"};

static const char *pass = "pinset-test-pass";

/* ---- helpers ---- */

static const char *tdir(void)
{
    const char *d = getenv("PINSET_TESTDATA");

    assert_non_null(d);
    return d;
}

static char *path_of(const char *dir, const char *name)
{
    static char buf[4][1024];
    static int slot;
    char *p = buf[slot++ % 4];

    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

static char *tpath(const char *fmt, ...)
{
    char name[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    return path_of(tdir(), name);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pinset_load_opts opts_with(unsigned int flags, const char *passphrase)
{
    pinset_load_opts o = PINSET_LOAD_OPTS_INIT;

    o.flags = flags;
    o.passphrase = passphrase;
    o.passphrase_len = passphrase != NULL ? strlen(passphrase) : 0;
    return o;
}

static pinset_bundle *load_ok(const char *path, unsigned int flags, const char *passphrase)
{
    pinset_load_opts o = opts_with(flags, passphrase);
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_bundle *b = NULL;
    pinset_err err = pinset_bundle_read_file(&b, path, &o, &d);

    if (err != PINSET_OK) {
        fail_msg("%s: %s: %s", path, pinset_err_name(err), d.message);
    }
    assert_non_null(b);
    return b;
}

static pinset_bundle *parse_ok(const uint8_t *buf, size_t len, unsigned int flags);

static pinset_err parse_err(const uint8_t *buf, size_t len, unsigned int flags, pinset_diag *d)
{
    pinset_load_opts o = opts_with(flags, NULL);
    pinset_bundle *b = NULL;
    pinset_err err;

    pinset_diag_init(d);
    err = pinset_bundle_parse(&b, buf, len, &o, d);
    if (err == PINSET_OK) {
        assert_non_null(b);
        pinset_bundle_free(b);
    } else {
        assert_null(b);
        assert_int_equal(d->code, err);
    }
    return err;
}

/* Parse in both flag modes and expect the same error code and a message containing want. */
static void expect_err(const uint8_t *buf, size_t len, pinset_err code, const char *want)
{
    static const unsigned int modes[] = {0, PINSET_LOAD_PINS_ONLY};

    for (size_t i = 0; i < 2; i++) {
        pinset_diag d;
        double t0 = now_s();
        pinset_err err = parse_err(buf, len, modes[i], &d);

        if (err != code || strstr(d.message, want) == NULL) {
            fail_msg("mode %u: got %s \"%s\", want %s \"%s\"", modes[i], pinset_err_name(err),
                     d.message, pinset_err_name(code), want);
        }
        /* the message is the reason only: where it happened is in the fields */
        assert_true(strncmp(d.message, "object ", 7) != 0);
        assert_true(now_s() - t0 < 5.0);
    }
}

/* As expect_err, and the failure is located in object `object` (0-based) labelled `label`. */
static void expect_err_at(const uint8_t *buf, size_t len, pinset_err code, size_t object,
                          const char *label, const char *want)
{
    pinset_diag d;

    expect_err(buf, len, code, want);
    assert_int_equal(parse_err(buf, len, 0, &d), code);
    if (d.object != object || strcmp(d.label, label) != 0) {
        fail_msg("at object %zu (%s), want object %zu (%s): %s", d.object, d.label, object, label,
                 d.message);
    }
}

static void spki_b64(const pinset_object *o, char *out)
{
    pinset_pin pin;

    assert_int_equal(pinset_object_pin(&pin, o, PINSET_PIN_SPKI), PINSET_OK);
    assert_int_equal(pinset_pin_format(out, PINSET_PIN_STR_MAX, &pin, PINSET_PIN_FMT_BASE64),
                     PINSET_OK);
}

/* The reference pipeline: openssl x509 -pubkey | pkey -pubin -outform DER | dgst | base64. */
static void openssl_spki_pin(const char *cert, char *out, size_t cap)
{
    char cmd[2048];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof(cmd),
             "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin -outform DER | "
             "openssl dgst -sha256 -binary | base64",
             cert);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, cap - 1, p);
    assert_int_equal(pclose(p), 0);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
        out[--n] = '\0';
    }
    assert_int_equal(n, 44);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int have_openssl(void)
{
    return system("openssl version >/dev/null 2>&1") == 0;
}

/* ---- every format, every key type ---- */

static const char *expected_type(const char *t)
{
    if (strncmp(t, "rsapss", 6) == 0) {
        return "RSA-PSS";
    }
    if (strncmp(t, "rsa", 3) == 0) {
        return "RSA";
    }
    if (strncmp(t, "ec", 2) == 0) {
        return "EC";
    }
    return strcmp(t, "ed25519") == 0 ? "ED25519" : "ED448";
}

static void check_single(const char *path, pinset_object_type type, const char *t,
                         unsigned int flags, const char *passphrase, const char *want_pin)
{
    pinset_bundle *b = load_ok(path, flags, passphrase);
    const pinset_object *o = pinset_bundle_get(b, 0);
    char got[PINSET_PIN_STR_MAX];

    assert_int_equal(pinset_bundle_count(b), 1);
    assert_int_equal(pinset_object_get_type(o), type);
    spki_b64(o, got);
    if (strcmp(got, want_pin) != 0) {
        fail_msg("%s: spki pin %s, openssl says %s", path, got, want_pin);
    }
    if (type != PINSET_OBJ_CERT || !(flags & PINSET_LOAD_PINS_ONLY)) {
        assert_non_null(pinset_object_key_type(o));
        assert_string_equal(pinset_object_key_type(o), expected_type(t));
    }
    pinset_bundle_free(b);
}

static void every_format_matches_openssl(void **state)
{
    static const unsigned int modes[] = {0, PINSET_LOAD_PINS_ONLY};

    (void)state;
    if (!have_openssl()) {
        skip();
    }
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(types); i++) {
        const char *t = types[i];
        char want[64];

        openssl_spki_pin(tpath("leaf-%s.crt.pem", t), want, sizeof(want));
        for (size_t m = 0; m < 2; m++) {
            unsigned int f = modes[m];

            check_single(tpath("leaf-%s.crt.pem", t), PINSET_OBJ_CERT, t, f, NULL, want);
            check_single(tpath("leaf-%s.crt.der", t), PINSET_OBJ_CERT, t, f, NULL, want);
            check_single(tpath("leaf-%s.pub.pem", t), PINSET_OBJ_PUBKEY, t, f, NULL, want);
            check_single(tpath("leaf-%s.pub.der", t), PINSET_OBJ_PUBKEY, t, f, NULL, want);
            check_single(tpath("leaf-%s.key.pem", t), PINSET_OBJ_PRIVKEY, t, f, NULL, want);
            check_single(tpath("leaf-%s.key.der", t), PINSET_OBJ_PRIVKEY, t, f, NULL, want);
            check_single(tpath("leaf-%s.csr.pem", t), PINSET_OBJ_CSR, t, f, NULL, want);
            check_single(tpath("leaf-%s.csr.der", t), PINSET_OBJ_CSR, t, f, NULL, want);
            check_single(tpath("leaf-%s.key.enc.pem", t), PINSET_OBJ_PRIVKEY, t, f, pass, want);
            check_single(tpath("leaf-%s.key.enc.der", t), PINSET_OBJ_PRIVKEY, t, f, pass, want);
        }
    }
}

static void legacy_forms_load(void **state)
{
    static const char *const rsa[] = {"leaf-rsa2048.key.trad.pem", "leaf-rsa2048.key.trad.der",
                                      "leaf-rsa2048.key.trad.enc.pem", "leaf-rsa2048.rsapub.pem",
                                      "leaf-rsa2048.rsapub.der"};
    static const char *const ec[] = {"leaf-ec256.key.trad.pem", "leaf-ec256.key.trad.der",
                                     "leaf-ec256.key.trad.enc.pem"};
    char want[64];

    (void)state;
    if (!have_openssl()) {
        skip();
    }
    openssl_spki_pin(tpath("leaf-rsa2048.crt.pem"), want, sizeof(want));
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(rsa); i++) {
        check_single(tpath("%s", rsa[i]),
                     strstr(rsa[i], "rsapub") ? PINSET_OBJ_PUBKEY : PINSET_OBJ_PRIVKEY, "rsa2048",
                     0, strstr(rsa[i], ".enc.") ? pass : NULL, want);
    }
    openssl_spki_pin(tpath("leaf-ec256.crt.pem"), want, sizeof(want));
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(ec); i++) {
        check_single(tpath("%s", ec[i]), PINSET_OBJ_PRIVKEY, "ec256", 0,
                     strstr(ec[i], ".enc.") ? pass : NULL, want);
    }
}

static void pkcs12_objects(void **state)
{
    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(types); i++) {
        pinset_bundle *b = load_ok(tpath("leaf-%s.p12", types[i]), 0, pass);
        char leaf[PINSET_PIN_STR_MAX], key[PINSET_PIN_STR_MAX];

        /* the leaf, the intermediate, then the key's public half */
        assert_int_equal(pinset_bundle_count(b), 3);
        assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, 0)), PINSET_OBJ_CERT);
        assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, 1)), PINSET_OBJ_CERT);
        assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, 2)), PINSET_OBJ_PRIVKEY);
        assert_int_equal(pinset_object_is_ca(pinset_bundle_get(b, 1)), 1);
        spki_b64(pinset_bundle_get(b, 0), leaf);
        spki_b64(pinset_bundle_get(b, 2), key);
        assert_string_equal(leaf, key);
        pinset_bundle_free(b);
    }
}

static void key_description(void **state)
{
    static const struct {
        const char *t;
        const char *group;
        unsigned int bits;
    } want[] = {{"rsa2048", NULL, 2048}, {"rsa3072", NULL, 3072}, {"rsa4096", NULL, 4096},
                {"rsa8192", NULL, 8192}, {"rsapss", NULL, 2048},  {"ec256", "P-256", 256},
                {"ec384", "P-384", 384}, {"ec521", "P-521", 521}, {"ed25519", NULL, 256},
                {"ed448", NULL, 456}};

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(want); i++) {
        const char *files[] = {"crt.pem", "pub.pem", "key.pem", "csr.pem"};

        for (size_t f = 0; f < PINSET_ARRAY_SIZE(files); f++) {
            pinset_bundle *b = load_ok(tpath("leaf-%s.%s", want[i].t, files[f]), 0, NULL);
            const pinset_object *o = pinset_bundle_get(b, 0);

            assert_string_equal(pinset_object_key_type(o), expected_type(want[i].t));
            if (want[i].group == NULL) {
                assert_null(pinset_object_key_group(o));
            } else {
                assert_string_equal(pinset_object_key_group(o), want[i].group);
            }
            assert_int_equal(pinset_object_key_bits(o), want[i].bits);
            pinset_bundle_free(b);
        }
    }
}

static void certificate_description(void **state)
{
    pinset_bundle *b = load_ok(tpath("leaf-ec256.fullchain.pem"), 0, NULL);
    const pinset_object *leaf = pinset_bundle_get(b, 0);
    const pinset_object *inter = pinset_bundle_get(b, 1);
    int64_t nb = 0, na = 0;
    size_t len = 0, flen = 0;
    uint8_t *file;

    (void)state;
    assert_int_equal(pinset_bundle_count(b), 3);
    assert_null(pinset_bundle_get(b, 3));
    assert_string_equal(pinset_object_subject(leaf), "CN=leaf-ec256.test,O=pinset test,C=ZZ");
    assert_string_equal(pinset_object_issuer(leaf),
                        "CN=pinset test intermediate,O=pinset test,C=ZZ");
    assert_string_equal(pinset_object_subject(inter),
                        "CN=pinset test intermediate,O=pinset test,C=ZZ");
    assert_int_equal(pinset_object_is_ca(leaf), 0);
    assert_int_equal(pinset_object_is_ca(inter), 1);
    assert_int_equal(pinset_object_is_ca(pinset_bundle_get(b, 2)), 1);
    assert_int_equal(pinset_object_validity(leaf, &nb, &na), PINSET_OK);
    assert_true(na - nb == (int64_t)3650 * 86400);
    assert_true(nb > 1700000000 && nb < (int64_t)time(NULL) + 60);
    assert_non_null(pinset_object_x509(leaf));
    /* the DER is the certificate's own bytes */
    file = slurp(tpath("leaf-ec256.crt.der"), &flen);
    assert_non_null(pinset_object_der(leaf, &len));
    assert_int_equal(len, flen);
    assert_memory_equal(pinset_object_der(leaf, &len), file, flen);
    free(file);
    pinset_bundle_free(b);

    /* keys: no subject, issuer, validity or certificate; a CSR has a subject */
    b = load_ok(tpath("leaf-ec256.csr.pem"), 0, NULL);
    assert_string_equal(pinset_object_subject(pinset_bundle_get(b, 0)),
                        "CN=leaf-ec256.test,O=pinset test,C=ZZ");
    assert_null(pinset_object_issuer(pinset_bundle_get(b, 0)));
    assert_int_equal(pinset_object_validity(pinset_bundle_get(b, 0), &nb, &na),
                     PINSET_E_UNSUPPORTED);
    assert_null(pinset_object_x509(pinset_bundle_get(b, 0)));
    pinset_bundle_free(b);
}

static void pins_only_matches_full(void **state)
{
    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(types); i++) {
        pinset_bundle *full = load_ok(tpath("leaf-%s.fullchain.pem", types[i]), 0, NULL);
        pinset_bundle *fast =
            load_ok(tpath("leaf-%s.fullchain.pem", types[i]), PINSET_LOAD_PINS_ONLY, NULL);

        assert_int_equal(pinset_bundle_count(full), 3);
        assert_int_equal(pinset_bundle_count(fast), 3);
        for (size_t j = 0; j < 3; j++) {
            const pinset_object *a = pinset_bundle_get(full, j), *f = pinset_bundle_get(fast, j);
            pinset_pin pa, pf;

            for (int k = PINSET_PIN_SPKI; k <= PINSET_PIN_CERT; k++) {
                assert_int_equal(pinset_object_pin(&pa, a, (pinset_pin_kind)k), PINSET_OK);
                assert_int_equal(pinset_object_pin(&pf, f, (pinset_pin_kind)k), PINSET_OK);
                assert_true(pinset_pin_equal(&pa, &pf));
                assert_int_equal(pf.kind, k);
            }
            assert_null(pinset_object_subject(f));
            assert_null(pinset_object_issuer(f));
            assert_null(pinset_object_key_type(f));
            assert_null(pinset_object_x509(f));
        }
        pinset_bundle_free(full);
        pinset_bundle_free(fast);
    }
}

static void cert_pin_is_hash_of_der(void **state)
{
    pinset_bundle *b = load_ok(tpath("leaf-rsa2048.crt.der"), 0, NULL);
    uint8_t md[32];
    unsigned int n = 0;
    size_t len = 0;
    const uint8_t *der = pinset_object_der(pinset_bundle_get(b, 0), &len);
    pinset_pin pin;

    (void)state;
    assert_int_equal(EVP_Digest(der, len, md, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(pinset_object_pin(&pin, pinset_bundle_get(b, 0), PINSET_PIN_CERT), PINSET_OK);
    assert_memory_equal(pin.sha256, md, 32);
    /* keys have no cert pin */
    pinset_bundle_free(b);
    b = load_ok(tpath("leaf-rsa2048.pub.pem"), 0, NULL);
    assert_int_equal(pinset_object_pin(&pin, pinset_bundle_get(b, 0), PINSET_PIN_CERT),
                     PINSET_E_UNSUPPORTED);
    assert_int_equal(pinset_object_pin(NULL, pinset_bundle_get(b, 0), PINSET_PIN_SPKI),
                     PINSET_E_INVALID_ARG);
    pinset_bundle_free(b);
}

/*
 * A certificate the DER walker declines but OpenSSL accepts (a critical flag
 * of 0x01 instead of DER's 0xff): pins-only mode falls back to OpenSSL and
 * gives the same pins as full mode.
 */
static void pins_only_fallback(void **state)
{
    static const uint8_t crit[] = {0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff};
    size_t len, i;
    uint8_t *der = slurp(tpath("leaf-ec256.crt.der"), &len);
    pinset_bundle *orig = load_ok(tpath("leaf-ec256.crt.der"), 0, NULL), *full, *fast;
    pinset_pin o, a, f, ca, cf;
    uint8_t md[32];
    unsigned int n = 0;

    (void)state;
    for (i = 0; i + sizeof(crit) <= len; i++) {
        if (memcmp(der + i, crit, sizeof(crit)) == 0) {
            break;
        }
    }
    assert_true(i + sizeof(crit) <= len);
    der[i + sizeof(crit) - 1] = 0x01;
    full = parse_ok(der, len, 0);
    fast = parse_ok(der, len, PINSET_LOAD_PINS_ONLY);
    assert_int_equal(pinset_object_pin(&o, pinset_bundle_get(orig, 0), PINSET_PIN_SPKI), 0);
    assert_int_equal(pinset_object_pin(&a, pinset_bundle_get(full, 0), PINSET_PIN_SPKI), 0);
    assert_int_equal(pinset_object_pin(&f, pinset_bundle_get(fast, 0), PINSET_PIN_SPKI), 0);
    assert_true(pinset_pin_equal(&o, &a));
    assert_true(pinset_pin_equal(&o, &f));
    assert_int_equal(pinset_object_pin(&ca, pinset_bundle_get(full, 0), PINSET_PIN_CERT), 0);
    assert_int_equal(pinset_object_pin(&cf, pinset_bundle_get(fast, 0), PINSET_PIN_CERT), 0);
    assert_true(pinset_pin_equal(&ca, &cf));
    assert_int_equal(EVP_Digest(der, len, md, &n, EVP_sha256(), NULL), 1);
    assert_memory_equal(cf.sha256, md, 32);
    assert_null(pinset_object_subject(pinset_bundle_get(fast, 0)));
    pinset_bundle_free(orig);
    pinset_bundle_free(full);
    pinset_bundle_free(fast);
    free(der);
}

static void renewal_same_spki_different_cert(void **state)
{
    pinset_bundle *a = load_ok(tpath("renew-1.crt.pem"), 0, NULL);
    pinset_bundle *b = load_ok(tpath("renew-2.crt.der"), PINSET_LOAD_PINS_ONLY, NULL);
    pinset_pin sa, sb, ca, cb;

    (void)state;
    assert_int_equal(pinset_object_pin(&sa, pinset_bundle_get(a, 0), PINSET_PIN_SPKI), PINSET_OK);
    assert_int_equal(pinset_object_pin(&sb, pinset_bundle_get(b, 0), PINSET_PIN_SPKI), PINSET_OK);
    assert_int_equal(pinset_object_pin(&ca, pinset_bundle_get(a, 0), PINSET_PIN_CERT), PINSET_OK);
    assert_int_equal(pinset_object_pin(&cb, pinset_bundle_get(b, 0), PINSET_PIN_CERT), PINSET_OK);
    assert_true(pinset_pin_equal(&sa, &sb));
    assert_false(pinset_pin_equal(&ca, &cb));
    pinset_bundle_free(a);
    pinset_bundle_free(b);
}

/* ---- unusual but valid PEM ---- */

static pinset_bundle *parse_ok(const uint8_t *buf, size_t len, unsigned int flags)
{
    pinset_load_opts o = opts_with(flags, pass);
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_bundle *b = NULL;
    pinset_err err = pinset_bundle_parse(&b, buf, len, &o, &d);

    if (err != PINSET_OK) {
        fail_msg("%s: %s", pinset_err_name(err), d.message);
    }
    return b;
}

static void unusual_valid_pem(void **state)
{
    size_t len, n = 0;
    uint8_t *pem = slurp(tpath("leaf-ec384.crt.pem"), &len);
    uint8_t *crlf = malloc(len * 2), *text;
    pinset_bundle *b;
    char cmd[1024];
    FILE *p;

    (void)state;
    /* CRLF line ends */
    for (size_t i = 0; i < len; i++) {
        if (pem[i] == '\n') {
            crlf[n++] = '\r';
        }
        crlf[n++] = pem[i];
    }
    b = parse_ok(crlf, n, 0);
    assert_int_equal(pinset_bundle_count(b), 1);
    pinset_bundle_free(b);
    /* no trailing newline (CRLF and LF) */
    b = parse_ok(crlf, n - 2, 0);
    pinset_bundle_free(b);
    b = parse_ok(pem, len - 1, 0);
    pinset_bundle_free(b);
    /* text before BEGIN, as `openssl x509 -text` writes */
    if (have_openssl()) {
        snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -text", tpath("leaf-ec384.crt.pem"));
        p = popen(cmd, "r");
        assert_non_null(p);
        text = malloc(1 << 20);
        n = fread(text, 1, 1 << 20, p);
        assert_int_equal(pclose(p), 0);
        assert_true(n > len);
        assert_true(strncmp((char *)text, "Certificate:", 12) == 0);
        b = parse_ok(text, n, 0);
        assert_int_equal(pinset_bundle_count(b), 1);
        assert_string_equal(pinset_object_subject(pinset_bundle_get(b, 0)),
                            "CN=leaf-ec384.test,O=pinset test,C=ZZ");
        pinset_bundle_free(b);
        free(text);
    }
    free(crlf);
    free(pem);
}

static void mixed_bundle(void **state)
{
    static const pinset_object_type want[] = {PINSET_OBJ_CERT, PINSET_OBJ_PRIVKEY, PINSET_OBJ_CERT,
                                              PINSET_OBJ_PUBKEY, PINSET_OBJ_CSR};
    pinset_bundle *b = load_ok(tpath("mixed.pem"), 0, NULL);

    (void)state;
    assert_int_equal(pinset_bundle_count(b), PINSET_ARRAY_SIZE(want));
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(want); i++) {
        assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, i)), want[i]);
    }
    assert_string_equal(pinset_object_key_type(pinset_bundle_get(b, 3)), "ED25519");
    pinset_bundle_free(b);
}

/* Replace "-----BEGIN OLD-----" / END labels in a PEM text. */
static char *relabel(const char *pem, const char *old, const char *new_label)
{
    char *out = malloc(strlen(pem) + 200), *w = out;
    const char *r = pem;
    size_t ol = strlen(old);

    while (*r != '\0') {
        if (strncmp(r, old, ol) == 0 && r >= pem + 6 && (r[-1] == ' ')) {
            memcpy(w, new_label, strlen(new_label));
            w += strlen(new_label);
            r += ol;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return out;
}

static void alternative_labels(void **state)
{
    size_t len;
    char *pem = (char *)slurp(tpath("leaf-rsa3072.crt.pem"), &len), *x;
    char *csr;
    pinset_bundle *b;
    char cmd[1024];
    FILE *p;

    (void)state;
    pem[len] = '\0';
    x = relabel(pem, "CERTIFICATE-----", "X509 CERTIFICATE-----");
    assert_non_null(strstr(x, "BEGIN X509 CERTIFICATE"));
    b = parse_ok((uint8_t *)x, strlen(x), 0);
    assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, 0)), PINSET_OBJ_CERT);
    pinset_bundle_free(b);
    free(x);
    csr = (char *)slurp(tpath("leaf-rsa3072.csr.pem"), &len);
    csr[len] = '\0';
    x = relabel(csr, "CERTIFICATE REQUEST-----", "NEW CERTIFICATE REQUEST-----");
    b = parse_ok((uint8_t *)x, strlen(x), 0);
    assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, 0)), PINSET_OBJ_CSR);
    pinset_bundle_free(b);
    free(x);
    free(csr);
    /* TRUSTED CERTIFICATE: the certificate plus trust settings; pins are the certificate's */
    if (have_openssl()) {
        char *t = malloc(65536);
        size_t n;
        pinset_bundle *plain = parse_ok((uint8_t *)pem, strlen(pem), 0);
        pinset_pin a, c;

        snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -trustout -addtrust serverAuth",
                 tpath("leaf-rsa3072.crt.pem"));
        p = popen(cmd, "r");
        n = fread(t, 1, 65535, p);
        assert_int_equal(pclose(p), 0);
        t[n] = '\0';
        assert_non_null(strstr(t, "BEGIN TRUSTED CERTIFICATE"));
        for (unsigned int f = 0; f <= PINSET_LOAD_PINS_ONLY; f++) {
            b = parse_ok((uint8_t *)t, n, f);
            assert_int_equal(pinset_bundle_count(b), 1);
            assert_int_equal(pinset_object_pin(&a, pinset_bundle_get(b, 0), PINSET_PIN_CERT), 0);
            assert_int_equal(pinset_object_pin(&c, pinset_bundle_get(plain, 0), PINSET_PIN_CERT),
                             0);
            assert_true(pinset_pin_equal(&a, &c));
            pinset_bundle_free(b);
        }
        pinset_bundle_free(plain);
        free(t);
    }
    free(pem);
}

static void ten_thousand_certificates(void **state)
{
    size_t len;
    uint8_t *pem = slurp(tpath("leaf-ec256.crt.pem"), &len);
    size_t count = 10000;
    uint8_t *big = malloc(len * count);

    (void)state;
    for (size_t i = 0; i < count; i++) {
        memcpy(big + i * len, pem, len);
    }
    for (unsigned int f = 0; f <= PINSET_LOAD_PINS_ONLY; f++) {
        double t0 = now_s();
        pinset_bundle *b = parse_ok(big, len * count, f);

        assert_int_equal(pinset_bundle_count(b), count);
        assert_non_null(pinset_bundle_get(b, count - 1));
        pinset_bundle_free(b);
        assert_true(now_s() - t0 < 60.0);
    }
    free(big);
    free(pem);
}

/* ---- hostile input ---- */

static void empty_and_garbage(void **state)
{
    uint8_t garbage[4096];
    pinset_diag d;
    char path[] = "/tmp/pinset-bundle-XXXXXX";
    int fd;

    (void)state;
    expect_err((const uint8_t *)"", 0, PINSET_E_PARSE, "empty input");
    srand(7);
    for (size_t i = 0; i < sizeof(garbage); i++) {
        garbage[i] = (uint8_t)rand();
    }
    garbage[0] = 0x01;
    expect_err(garbage, sizeof(garbage), PINSET_E_PARSE, "neither pem nor der");
    garbage[0] = 0x30;
    assert_int_equal(parse_err(garbage, sizeof(garbage), 0, &d), PINSET_E_PARSE);
    /* empty file */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    {
        pinset_bundle *b = NULL;

        pinset_diag_init(&d);
        assert_int_equal(pinset_bundle_read_file(&b, path, NULL, &d), PINSET_E_PARSE);
        assert_string_equal(d.message, "empty input");
        assert_ptr_equal(d.input, path);
        assert_null(b);
    }
    /* a parse error after reading, and a refused option, keep the file's name */
    {
        static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        pinset_load_opts o = PINSET_LOAD_OPTS_INIT;
        pinset_bundle *b = NULL;

        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, pem, sizeof(pem) - 1), (ssize_t)(sizeof(pem) - 1));
        close(fd);
        pinset_diag_init(&d);
        assert_int_equal(pinset_bundle_read_file(&b, path, NULL, &d), PINSET_E_PARSE);
        assert_ptr_equal(d.input, path);
        assert_string_equal(d.message, "missing end line");
        assert_int_equal(d.object, 0);
        assert_string_equal(d.label, "CERTIFICATE");
        assert_int_equal(d.line, 1);
        o.version = 99;
        pinset_diag_init(&d);
        assert_int_equal(pinset_bundle_read_file(&b, path, &o, &d), PINSET_E_INVALID_ARG);
        assert_ptr_equal(d.input, path);
        assert_null(b);
    }
    unlink(path);
    /* API misuse */
    assert_int_equal(pinset_bundle_parse(NULL, (const uint8_t *)"x", 1, NULL, NULL),
                     PINSET_E_INVALID_ARG);
    {
        pinset_bundle *b = NULL;
        pinset_load_opts o = PINSET_LOAD_OPTS_INIT;

        o.version = 99;
        assert_int_equal(pinset_bundle_parse(&b, (const uint8_t *)"x", 1, &o, NULL),
                         PINSET_E_INVALID_ARG);
        assert_int_equal(pinset_bundle_parse(&b, NULL, 5, NULL, NULL), PINSET_E_INVALID_ARG);
    }
}

static void read_file_refuses_non_files(void **state)
{
    pinset_bundle *b = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    double t0 = now_s();

    (void)state;
    assert_int_equal(pinset_bundle_read_file(&b, "/dev/zero", NULL, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "not a regular file"));
    assert_string_equal(d.input, "/dev/zero");
    assert_null(strstr(d.message, "/dev/zero"));
    assert_int_equal(pinset_bundle_read_file(&b, tdir(), NULL, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "directory"));
    assert_int_equal(pinset_bundle_read_file(&b, "/nonexistent/x.pem", NULL, &d), PINSET_E_IO);
    assert_null(b);
    assert_true(now_s() - t0 < 2.0);
}

static void sparse_and_huge_files(void **state)
{
    char path[] = "/tmp/pinset-bundle-XXXXXX";
    pinset_bundle *b = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    double t0;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    /* a 2 GB sparse file: refused by its size, before reading */
    assert_int_equal(ftruncate(fd, (off_t)2 * 1024 * 1024 * 1024), 0);
    t0 = now_s();
    assert_int_equal(pinset_bundle_read_file(&b, path, NULL, &d), PINSET_E_LIMIT);
    assert_non_null(strstr(d.message, "exceeds the limit"));
    assert_true(now_s() - t0 < 1.0);
    /* a 100 MB PEM (a real one: repeated certificates) */
    {
        size_t len;
        uint8_t *pem = slurp(tpath("leaf-ec256.crt.pem"), &len);
        size_t total = 0;

        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        while (total < (size_t)100 * 1024 * 1024) {
            assert_int_equal(write(fd, pem, len), (ssize_t)len);
            total += len;
        }
        free(pem);
    }
    close(fd);
    t0 = now_s();
    assert_int_equal(pinset_bundle_read_file(&b, path, NULL, &d), PINSET_E_LIMIT);
    assert_true(now_s() - t0 < 1.0);
    /* an explicit smaller limit */
    {
        pinset_load_opts o = PINSET_LOAD_OPTS_INIT;

        o.max_input = 100;
        assert_int_equal(pinset_bundle_read_file(&b, tpath("leaf-ec256.crt.pem"), &o, &d),
                         PINSET_E_LIMIT);
        /* under the limit: parsed (and refused as garbage, not for its size) */
        assert_int_equal(pinset_bundle_parse(&b, (const uint8_t *)"0123456789", 10, &o, &d),
                         PINSET_E_PARSE);
        o.max_input = 9;
        assert_int_equal(pinset_bundle_parse(&b, (const uint8_t *)"0123456789", 10, &o, &d),
                         PINSET_E_LIMIT);
    }
    unlink(path);
    assert_null(b);
}

/* Fork a writer that writes file `src` (or `bytes` zero-filled bytes of PEM-ish text) into fifo. */
static pid_t fifo_writer(const char *fifo, const char *src, size_t bytes, int hold_open)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(fifo, O_WRONLY);
        char buf[65536];

        if (fd < 0) {
            _exit(1);
        }
        if (src != NULL) {
            int in = open(src, O_RDONLY);
            ssize_t n;

            while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0) {
                if (write(fd, buf, (size_t)n) != n) {
                    _exit(1);
                }
            }
        }
        memset(buf, 'A', sizeof(buf));
        for (size_t done = 0; done < bytes; done += sizeof(buf)) {
            if (write(fd, buf, sizeof(buf)) < 0) {
                _exit(0); /* the reader gave up: expected */
            }
        }
        if (hold_open) {
            sleep(5);
        }
        _exit(0);
    }
    return pid;
}

static void fifos(void **state)
{
    char dir[] = "/tmp/pinset-fifo-XXXXXX";
    char fifo[256];
    pinset_bundle *b = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    double t0;
    pid_t pid;
    int status;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/f", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* no writer: empty input at once */
    t0 = now_s();
    assert_int_equal(pinset_bundle_read_file(&b, fifo, NULL, &d), PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "empty input"));
    assert_true(now_s() - t0 < 1.0);
    /* a writer: loads (the writer opens first; open blocks until we... so retry briefly) */
    pid = fifo_writer(fifo, tpath("leaf-ec256.fullchain.pem"), 0, 0);
    for (int i = 0; i < 200; i++) {
        pinset_err err;

        sleep_ms(10);
        err = pinset_bundle_read_file(&b, fifo, NULL, &d);
        if (err == PINSET_OK) {
            break;
        }
        assert_int_equal(err, PINSET_E_PARSE); /* writer not connected yet: empty */
    }
    assert_non_null(b);
    assert_int_equal(pinset_bundle_count(b), 3);
    pinset_bundle_free(b);
    b = NULL;
    waitpid(pid, &status, 0);
    /* a writer that never finishes: the time limit */
    pinset__bundle_set_read_timeout_ms(300);
    pid = fifo_writer(fifo, tpath("leaf-ec256.crt.pem"), 0, 1);
    for (int i = 0; i < 200; i++) {
        pinset_err err;

        sleep_ms(10);
        t0 = now_s();
        err = pinset_bundle_read_file(&b, fifo, NULL, &d);
        if (err != PINSET_E_PARSE) {
            assert_int_equal(err, PINSET_E_IO);
            assert_non_null(strstr(d.message, "no end of input"));
            assert_true(now_s() - t0 < 3.0);
            break;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    /* a writer sending 100 MB: refused at the limit, without reading it all */
    pinset__bundle_set_read_timeout_ms(20000);
    pid = fifo_writer(fifo, NULL, (size_t)100 * 1024 * 1024, 0);
    for (int i = 0; i < 200; i++) {
        pinset_err err;

        sleep_ms(10);
        err = pinset_bundle_read_file(&b, fifo, NULL, &d);
        if (err != PINSET_E_PARSE) {
            assert_int_equal(err, PINSET_E_LIMIT);
            break;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    pinset__bundle_set_read_timeout_ms(0);
    assert_null(b);
    unlink(fifo);
    rmdir(dir);
}

static const char cert_begin[] = "-----BEGIN CERTIFICATE-----\n";
static const char cert_end[] = "-----END CERTIFICATE-----\n";

/* A PEM text: one good certificate, then `second` (object 1). */
static char *after_good(const char *second)
{
    size_t len;
    char *pem = (char *)slurp(tpath("leaf-ec256.crt.pem"), &len);
    char *out = malloc(len + strlen(second) + 1);

    memcpy(out, pem, len);
    memcpy(out + len, second, strlen(second) + 1);
    free(pem);
    return out;
}

static char *b64(const uint8_t *der, size_t len)
{
    char *out = malloc(len * 2 + 8);
    int n = EVP_EncodeBlock((unsigned char *)out, der, (int)len);

    out[n] = '\0';
    return out;
}

/* A PEM block with the given label around der, after a good certificate. */
static char *block(const char *label, const uint8_t *der, size_t len)
{
    char *body = b64(der, len);
    size_t cap = strlen(body) + strlen(body) / 64 + 200;
    char *text = malloc(cap), *w = text, *all;

    w += snprintf(w, cap, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < strlen(body); i += 64) {
        w += snprintf(w, cap - (size_t)(w - text), "%.64s\n", body + i);
    }
    snprintf(w, cap - (size_t)(w - text), "-----END %s-----\n", label);
    all = after_good(text);
    free(text);
    free(body);
    return all;
}

static void expect_pem_err(const char *text, pinset_err code, const char *want)
{
    expect_err((const uint8_t *)text, strlen(text), code, want);
}

static void expect_pem_err_at(const char *text, pinset_err code, size_t object, const char *label,
                              const char *want)
{
    expect_err_at((const uint8_t *)text, strlen(text), code, object, label, want);
}

static void malformed_pem(void **state)
{
    char *t;
    pinset_diag d;

    (void)state;
    t = after_good("-----BEGIN CERTIFICATE-----\nMIIB\n");
    expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE", "missing end line");
    free(t);
    t = after_good("-----BEGIN CERTIFICATE-----\nMIIB\n-----END PUBLIC KEY-----\n");
    expect_pem_err(t, PINSET_E_PARSE, "does not match the begin label");
    assert_int_equal(parse_err((uint8_t *)t, strlen(t), 0, &d), PINSET_E_PARSE);
    assert_int_equal(d.object, 1);
    assert_true(d.line > 1);
    free(t);
    t = after_good("-----BEGIN CERTIFICATE-----\nMII*AAAA\n-----END CERTIFICATE-----\n");
    expect_pem_err(t, PINSET_E_PARSE, "invalid character 0x2a in pem body");
    free(t);
    t = after_good("-----BEGIN CERTIFICATE-----\nMIIB\n-----BEGIN CERTIFICATE-----\n");
    expect_pem_err(t, PINSET_E_PARSE, "missing end line before");
    free(t);
    t = after_good("-----END CERTIFICATE-----\n");
    expect_pem_err(t, PINSET_E_PARSE, "end line without a begin line");
    free(t);
    t = after_good("-----BEGIN CERTIFICATE-----\nMII=AAAA\n-----END CERTIFICATE-----\n");
    expect_pem_err(t, PINSET_E_PARSE, "padding");
    free(t);
    t = after_good("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    expect_pem_err(t, PINSET_E_PARSE, "empty pem body");
    free(t);
    t = after_good("-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n");
    expect_pem_err_at(t, PINSET_E_UNSUPPORTED, 1, "X509 CRL", "unsupported pem label");
    free(t);
    t = after_good(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n");
    expect_pem_err_at(t, PINSET_E_UNSUPPORTED, 1, "EC PARAMETERS", "unsupported pem label");
    free(t);
    /* NUL bytes: in a body, and in text before BEGIN */
    {
        size_t len;
        uint8_t *pem = slurp(tpath("leaf-ec256.crt.pem"), &len);

        pem[40] = '\0';
        expect_err_at(pem, len, PINSET_E_PARSE, 0, "CERTIFICATE", "nul byte");
        assert_int_equal(parse_err(pem, len, 0, &d), PINSET_E_PARSE);
        assert_int_equal(d.line, 2);
        assert_int_equal(d.column, 41 - 28);
        free(pem);
        expect_err((const uint8_t *)"hi\0there\n-----BEGIN CERTIFICATE-----\n", 37, PINSET_E_PARSE,
                   "nul byte");
    }
    /* a block whose decoded DER exceeds PINSET_MAX_DER_SIZE */
    {
        size_t lines = PINSET_MAX_DER_SIZE / 48 + 100, n = 0;
        char *big = malloc(lines * 65 + 100);

        memcpy(big, cert_begin, strlen(cert_begin));
        n = strlen(cert_begin);
        for (size_t i = 0; i < lines; i++) {
            memset(big + n, 'A', 64);
            big[n + 64] = '\n';
            n += 65;
        }
        memcpy(big + n, cert_end, strlen(cert_end) + 1);
        expect_pem_err_at(big, PINSET_E_LIMIT, 0, "CERTIFICATE", "decoded object larger than");
        free(big);
    }
    /* an over-long line */
    {
        size_t n = PINSET_MAX_PEM_LINE + 100;
        char *big = malloc(n + 100);

        memcpy(big, cert_begin, strlen(cert_begin));
        memset(big + strlen(cert_begin), 'A', n);
        memcpy(big + strlen(cert_begin) + n, "\n", 2);
        expect_pem_err_at(big, PINSET_E_LIMIT, 0, "CERTIFICATE", "pem line is longer than");
        assert_int_equal(parse_err((const uint8_t *)big, strlen(big), 0, &d), PINSET_E_LIMIT);
        assert_int_equal(d.line, 2);
        free(big);
    }
}

/* Occurrences of word in s. */
static size_t count_of(const char *s, const char *word)
{
    size_t n = 0;

    for (const char *p = strstr(s, word); p != NULL; p = strstr(p + 1, word)) {
        n++;
    }
    return n;
}

/* pinset_diag_format of a bundle error names the input, the object (from 1) and its label once. */
static void diag_format_bundle(void **state)
{
    char *t = after_good("-----BEGIN CERTIFICATE-----\nMIIB\n");
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_bundle *b = NULL;
    char line[512], want[512];

    (void)state;
    d.input = "chain.pem";
    assert_int_equal(pinset_bundle_parse(&b, (const uint8_t *)t, strlen(t), NULL, &d),
                     PINSET_E_PARSE);
    assert_null(b);
    assert_string_equal(d.input, "chain.pem");
    assert_int_equal(d.object, 1);
    assert_string_equal(d.label, "CERTIFICATE");
    assert_string_equal(d.message, "missing end line");
    assert_true(d.line > 1);
    (void)pinset_diag_format(line, sizeof(line), &d);
    snprintf(want, sizeof(want), "chain.pem:%zu: object 2 (CERTIFICATE): missing end line", d.line);
    assert_string_equal(line, want);
    assert_int_equal(count_of(line, "chain.pem"), 1);
    assert_int_equal(count_of(line, "object"), 1);
    assert_int_equal(count_of(line, "CERTIFICATE"), 1);
    free(t);
}

static void malformed_der(void **state)
{
    size_t len;
    uint8_t *der = slurp(tpath("leaf-rsa2048.crt.der"), &len);
    uint8_t *buf = malloc(len + 16);
    char *t;

    (void)state;
    /* trailing bytes: raw, and inside a PEM block */
    memcpy(buf, der, len);
    memcpy(buf + len, "\x05\x00", 2);
    expect_err(buf, len + 2, PINSET_E_PARSE, "2 trailing bytes");
    t = block("CERTIFICATE", buf, len + 2);
    expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE", "2 trailing bytes");
    free(t);
    /* truncated */
    expect_err(der, len - 10, PINSET_E_PARSE, "truncated der");
    t = block("CERTIFICATE", der, len - 10);
    expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE", "truncated der");
    free(t);
    expect_err(der, 1, PINSET_E_PARSE, "truncated der header");
    /* indefinite-length BER at the top */
    memcpy(buf, der, len);
    {
        /* 30 82 hi lo -> 30 80 ... 00 00 */
        uint8_t *ind = malloc(len + 16);
        size_t n = 0;

        assert_int_equal(der[1], 0x82);
        ind[n++] = 0x30;
        ind[n++] = 0x80;
        memcpy(ind + n, der + 4, len - 4);
        n += len - 4;
        ind[n++] = 0;
        ind[n++] = 0;
        expect_err(ind, n, PINSET_E_PARSE, "indefinite-length");
        t = block("CERTIFICATE", ind, n);
        expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE", "indefinite-length");
        free(t);
        free(ind);
    }
    /* length overflow */
    expect_err((const uint8_t *)"\x30\x88\xff\xff\xff\xff\xff\xff\xff\xff\x00", 11, PINSET_E_PARSE,
               "invalid der length");
    expect_err((const uint8_t *)"\x30\x84\x7f\xff\xff\xff\x02\x01\x00", 9, PINSET_E_PARSE,
               "truncated der");
    expect_err((const uint8_t *)"\x30\x05\x02\x01\x00", 5, PINSET_E_PARSE,
               "truncated der: length 7 exceeds the 5 bytes present");
    /* a valid outer length around an inner element whose length overflows */
    expect_err((const uint8_t *)"\x30\x06\x02\x84\xff\xff\xff\xff", 8, PINSET_E_PARSE,
               "der element at offset 2 overruns its container");
    expect_err((const uint8_t *)"\x30\x06\x02\x88\xff\xff\xff\xff", 8, PINSET_E_PARSE,
               "invalid der length encoding at offset 2");
    /* a constructed (BER) OCTET STRING inside */
    expect_err((const uint8_t *)"\x30\x06\x24\x04\x04\x02\x41\x42", 8, PINSET_E_PARSE,
               "constructed string (ber) at offset 2");
    /* indefinite length inside a certificate (its TBSCertificate), which d2i_X509 accepts */
    {
        size_t tbs = ((size_t)der[6] << 8) | der[7], n = 0, inner = len - 4 + 2 - 2;
        uint8_t *ind = malloc(len + 16);

        assert_int_equal(der[4], 0x30);
        assert_int_equal(der[5], 0x82);
        ind[n++] = 0x30;
        ind[n++] = 0x82;
        ind[n++] = (uint8_t)(inner >> 8);
        ind[n++] = (uint8_t)inner;
        ind[n++] = 0x30;
        ind[n++] = 0x80;
        memcpy(ind + n, der + 8, tbs);
        n += tbs;
        ind[n++] = 0;
        ind[n++] = 0;
        memcpy(ind + n, der + 8 + tbs, len - 8 - tbs);
        n += len - 8 - tbs;
        assert_int_equal(n, inner + 4);
        expect_err(ind, n, PINSET_E_PARSE, "indefinite-length ber encoding is not der at offset 4");
        t = block("CERTIFICATE", ind, n);
        expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE",
                          "indefinite-length ber encoding is not der at offset 4");
        free(t);
        free(ind);
    }
    /* non-minimal length (not DER) */
    expect_err((const uint8_t *)"\x30\x81\x03\x02\x01\x00", 6, PINSET_E_PARSE,
               "invalid der length");
    free(buf);
    free(der);
}

/* Deeply nested SEQUENCEs with definite lengths (a "nesting bomb"). */
static uint8_t *nested(size_t depth, size_t *len_out)
{
    size_t cap = depth * 6 + 16, n;
    uint8_t *buf = malloc(cap);

    /* build inside out at the end of the buffer */
    n = cap;
    buf[--n] = 0x00;
    buf[--n] = 0x05; /* NULL */
    for (size_t i = 0; i < depth; i++) {
        size_t content = cap - n, k = 0;

        /* minimal DER length */
        if (content < 0x80) {
            buf[--n] = (uint8_t)content;
        } else {
            for (size_t v = content; v != 0; v >>= 8, k++) {
                buf[--n] = (uint8_t)v;
            }
            buf[--n] = (uint8_t)(0x80 | k);
        }
        buf[--n] = 0x30;
    }
    memmove(buf, buf + n, cap - n);
    *len_out = cap - n;
    return buf;
}

static void nesting_bomb(void **state)
{
    size_t len;
    uint8_t *buf = nested(50000, &len);
    char *t;

    (void)state;
    expect_err_at(buf, len, PINSET_E_PARSE, 0, "der", "der nested deeper than 32 levels");
    t = block("CERTIFICATE", buf, len);
    expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE", "der nested deeper than 32 levels");
    free(t);
    t = block("PUBLIC KEY", buf, len);
    expect_pem_err_at(t, PINSET_E_PARSE, 1, "PUBLIC KEY", "der nested deeper than 32 levels");
    free(t);
    free(buf);
    /* within the framing limit: OpenSSL's decoders refuse it */
    buf = nested(30, &len);
    expect_err(buf, len, PINSET_E_PARSE, "not a certificate, public key");
    t = block("CERTIFICATE", buf, len);
    expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE", "not a certificate: ");
    free(t);
    free(buf);
}

static void mislabelled_objects(void **state)
{
    size_t len;
    uint8_t *der = slurp(tpath("leaf-ec256.pub.der"), &len);
    char *t = block("CERTIFICATE", der, len);

    (void)state;
    expect_pem_err_at(t, PINSET_E_PARSE, 1, "CERTIFICATE",
                      "contains a public key (subjectpublickeyinfo), not a certificate");
    free(t);
    free(der);
    der = slurp(tpath("leaf-ec256.crt.der"), &len);
    t = block("PUBLIC KEY", der, len);
    expect_pem_err(t, PINSET_E_PARSE, "contains a certificate, not a public key");
    free(t);
    free(der);
}

static void passphrases(void **state)
{
    static const char *const enc[] = {"leaf-ec256.key.enc.pem", "leaf-ec256.key.enc.der",
                                      "leaf-rsa2048.key.trad.enc.pem",
                                      "leaf-ec256.key.trad.enc.pem", "leaf-ed25519.p12"};

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(enc); i++) {
        pinset_load_opts none = opts_with(0, NULL), wrong = opts_with(0, "not-the-pass");
        pinset_diag d = PINSET_DIAG_INIT;
        pinset_bundle *b = NULL;
        double t0 = now_s();

        assert_int_equal(pinset_bundle_read_file(&b, tpath("%s", enc[i]), &none, &d),
                         PINSET_E_PASSPHRASE);
        assert_non_null(strstr(d.message, "needs a passphrase"));
        assert_int_equal(d.object, 0);
        assert_string_equal(d.input, tpath("%s", enc[i]));
        assert_int_equal(pinset_bundle_read_file(&b, tpath("%s", enc[i]), &wrong, &d),
                         PINSET_E_PASSPHRASE);
        if (strstr(d.message, "wrong passphrase") == NULL) {
            fail_msg("%s: %s", enc[i], d.message);
        }
        assert_null(b);
        assert_true(now_s() - t0 < 10.0);
    }
}

static void pkcs12_empty_password(void **state)
{
    pinset_load_opts wrong = opts_with(0, "not-the-pass");
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_bundle *b = load_ok(tpath("leaf-ec256.nopass.p12"), 0, NULL);

    (void)state;
    assert_int_equal(pinset_bundle_count(b), 2);
    assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, 0)), PINSET_OBJ_CERT);
    assert_int_equal(pinset_object_get_type(pinset_bundle_get(b, 1)), PINSET_OBJ_PRIVKEY);
    pinset_bundle_free(b);
    b = NULL;
    assert_int_equal(pinset_bundle_read_file(&b, tpath("leaf-ec256.nopass.p12"), &wrong, &d),
                     PINSET_E_PASSPHRASE);
    assert_string_equal(d.message, "wrong passphrase");
    assert_int_equal(d.object, 0);
    assert_string_equal(d.label, "pkcs#12");
}

/* "-" is an ordinary path to the library: standard input is the tool's convention (test_util). */
static void dash_is_a_path(void **state)
{
    pinset_bundle *b = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(pinset_bundle_read_file(&b, "-", NULL, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "cannot open"));
    assert_string_equal(d.input, "-");
    assert_null(b);
}

/* ---- outside vectors: TrustKit's certificates ---- */

static void trustkit_corpus(void **state)
{
    const char *src = getenv("PINSET_SOURCE_DIR");
    char path[1024];
    json_error_t jerr;
    json_t *root, *pins = NULL;
    const char *key;
    json_t *val;
    size_t checked = 0;

    (void)state;
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/tests/corpora/vectors/trustkit.json", src);
    root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    json_object_foreach(root, key, val)
    {
        if (strncmp(key, "spki_sha256_of_test_certs", 25) == 0) {
            pins = val;
        }
    }
    assert_non_null(pins);
    json_object_foreach(pins, key, val)
    {
        const char *want = json_string_value(val);
        char got[PINSET_PIN_STR_MAX];

        if (strcmp(key, "CAVEAT") == 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/tests/corpora/trustkit-certs/%s", src, key);
        for (unsigned int f = 0; f <= PINSET_LOAD_PINS_ONLY; f++) {
            pinset_bundle *b = load_ok(path, f, NULL);

            assert_int_equal(pinset_bundle_count(b), 1);
            spki_b64(pinset_bundle_get(b, 0), got);
            if (strncmp(want, got, 44) != 0) {
                fail_msg("%s: %s, trustkit.json says %.44s", key, got, want);
            }
            pinset_bundle_free(b);
        }
        checked++;
    }
    assert_int_equal(checked, 11);
    json_decref(root);
}

/* ---- allocation failures ---- */

static void allocation_failure_walk(void **state)
{
    size_t len;
    uint8_t *pem = slurp(tpath("mixed.pem"), &len);
    unsigned long n;

    (void)state;
    for (unsigned int f = 0; f <= PINSET_LOAD_PINS_ONLY; f++) {
        for (n = 1; n < 10000; n++) {
            pinset_bundle *b = NULL;
            pinset_diag d = PINSET_DIAG_INIT;
            pinset_err err;

            pinset__alloc_fail_at(n);
            err = pinset_bundle_parse(&b, pem, len, NULL, &d);
            pinset__alloc_fail_at(0);
            if (err == PINSET_OK) {
                assert_int_equal(pinset_bundle_count(b), 5);
                pinset_bundle_free(b);
                break;
            }
            assert_int_equal(err, PINSET_E_NOMEM);
            assert_null(b);
        }
        assert_true(n > 5);
        assert_true(n < 10000);
    }
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_format_matches_openssl),
        cmocka_unit_test(legacy_forms_load),
        cmocka_unit_test(pkcs12_objects),
        cmocka_unit_test(key_description),
        cmocka_unit_test(certificate_description),
        cmocka_unit_test(pins_only_matches_full),
        cmocka_unit_test(cert_pin_is_hash_of_der),
        cmocka_unit_test(pins_only_fallback),
        cmocka_unit_test(renewal_same_spki_different_cert),
        cmocka_unit_test(unusual_valid_pem),
        cmocka_unit_test(mixed_bundle),
        cmocka_unit_test(alternative_labels),
        cmocka_unit_test(ten_thousand_certificates),
        cmocka_unit_test(empty_and_garbage),
        cmocka_unit_test(read_file_refuses_non_files),
        cmocka_unit_test(sparse_and_huge_files),
        cmocka_unit_test(fifos),
        cmocka_unit_test(malformed_pem),
        cmocka_unit_test(diag_format_bundle),
        cmocka_unit_test(malformed_der),
        cmocka_unit_test(nesting_bomb),
        cmocka_unit_test(mislabelled_objects),
        cmocka_unit_test(passphrases),
        cmocka_unit_test(pkcs12_empty_password),
        cmocka_unit_test(dash_is_a_path),
        cmocka_unit_test(trustkit_corpus),
        cmocka_unit_test(allocation_failure_walk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
