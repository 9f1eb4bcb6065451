/*
 * test_update.c - signed policy updates (update.h): sign then verify with
 * Ed25519 and P-256, and each rejection with its own code and reason:
 * tampered payload or payloadType, a re-serialised payload, another key,
 * an unknown keyid, no signature, expired, not yet valid, out of scope,
 * malformed envelopes and payloads, oversized inputs, allocation failures.
 * Envelopes for the hostile cases are built here from the DSSE parts
 * (PAE, base64, a raw signature), so that each differs from a valid one in
 * exactly the way its name says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <pinset/policy.h>
#include <pinset/update.h>

#include "internal.h"
#include "update/dsse.h"
#include "util/buf.h"

/* 2026-11-27T00:00:00Z */
#define NOW 1795737600
#define DAY 86400

#define PIN_A "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define PIN_E "\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=\""

static const char policy_text[] =
    "{\"version\": 1, \"rules\": ["
    " {\"host\": \"api.example.com\", \"pins\": [{\"sha256\": " PIN_A "},"
    "  {\"sha256\": " PIN_E ", \"role\": \"backup\"}]},"
    " {\"host\": \"example.org\", \"include_subdomains\": true, \"pins\": [{\"sha256\": " PIN_A
    "}, {\"sha256\": " PIN_E ", \"role\": \"backup\"}]}]}";

#define POLICY_JSON                                                                        \
    "{\"version\":1,\"rules\":[{\"host\":\"api.example.com\",\"pins\":[{\"sha256\":" PIN_A \
    "},{\"sha256\":" PIN_E ",\"role\":\"backup\"}]}]}"

static EVP_PKEY *ed1, *ed2, *p256, *rsa;

static int setup(void **state)
{
    (void)state;
    ed1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    return ed1 != NULL && ed2 != NULL && p256 != NULL && rsa != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ed1);
    EVP_PKEY_free(ed2);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(rsa);
    return 0;
}

static pinset_policy *load_policy(void)
{
    pinset_policy *p = NULL;
    assert_int_equal(
        pinset_policy_parse(&p, (const uint8_t *)policy_text, strlen(policy_text), NULL),
        PINSET_OK);
    return p;
}

/* Sign policy_text with key into b (initialised here). */
static pinset_err sign_doc(struct pinset__buf *b, EVP_PKEY *key, uint64_t serial, int64_t issued,
                           int64_t expires, const char *const *scope, size_t nscope)
{
    pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
    pinset_policy *p = load_policy();
    pinset_err err;

    o.serial = serial;
    o.issued_at = issued;
    o.expires_at = expires;
    o.scope = scope;
    o.scope_count = nscope;
    pinset__buf_init(b, PINSET_UPDATE_MAX_SIZE, 0);
    err = pinset_update_sign(p, &o, key, pinset__buf_sink, b, NULL);
    pinset_policy_free(p);
    return err;
}

static pinset_err verify(pinset_update **u, const struct pinset__buf *b, EVP_PKEY *key, int64_t now,
                         pinset_diag *d)
{
    const EVP_PKEY *trusted[1] = {key};
    return pinset_update_verify(u, b->p, b->len, trusted, 1, now, d);
}

/*
 * An envelope whose signature by `signer` covers PAE(sign_type, sign_body)
 * while the envelope carries type and body (NULL: the signed ones) and the
 * keyid of `named` (NULL: the signer's).
 */
static void craft(struct pinset__buf *out, EVP_PKEY *signer, EVP_PKEY *named, const char *sign_type,
                  const char *sign_body, const char *type, const char *body)
{
    struct pinset__buf pae;
    char keyid[PINSET__KEYID_HEX + 1];
    uint8_t *sig = NULL;
    size_t sig_len = 0;

    type = type != NULL ? type : sign_type;
    body = body != NULL ? body : sign_body;
    assert_int_equal(pinset__dsse_pae(&pae, sign_type, strlen(sign_type),
                                      (const uint8_t *)sign_body, strlen(sign_body)),
                     PINSET_OK);
    assert_int_equal(pinset__dsse_sign(&sig, &sig_len, signer, pae.p, pae.len, NULL), PINSET_OK);
    assert_int_equal(pinset__dsse_keyid(keyid, named != NULL ? named : signer, NULL), PINSET_OK);
    pinset__buf_init(out, PINSET_UPDATE_MAX_SIZE * 2, 0);
    assert_int_equal(pinset__buf_append(out, "{\"payloadType\":\"", 16), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, type, strlen(type)), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, "\",\"payload\":\"", 13), PINSET_OK);
    assert_int_equal(pinset__b64_encode(out, (const uint8_t *)body, strlen(body)), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, "\",\"signatures\":[{\"keyid\":\"", 26), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, keyid, strlen(keyid)), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, "\",\"sig\":\"", 9), PINSET_OK);
    assert_int_equal(pinset__b64_encode(out, sig, sig_len), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, "\"}]}", 4), PINSET_OK);
    pinset__free(sig);
    pinset__buf_free(&pae);
}

/* Verify a crafted payload signed properly by ed1; return the code, message in d. */
static pinset_err verify_payload(const char *body, pinset_diag *d)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    pinset_err err;

    craft(&b, ed1, NULL, PINSET_UPDATE_PAYLOAD_TYPE, body, NULL, NULL);
    pinset_diag_init(d);
    err = verify(&u, &b, ed1, NOW, d);
    assert_true(err != PINSET_OK || u != NULL);
    pinset_update_free(u);
    pinset__buf_free(&b);
    return err;
}

/* Verify raw envelope text against ed1. */
static pinset_err verify_text(const char *text, pinset_diag *d)
{
    const EVP_PKEY *trusted[1] = {ed1};
    pinset_update *u = NULL;
    pinset_err err;

    pinset_diag_init(d);
    err = pinset_update_verify(&u, (const uint8_t *)text, strlen(text), trusted, 1, NOW, d);
    assert_null(u);
    return err;
}

static void pae_matches_the_spec_vector(void **state)
{
    struct pinset__buf b;
    static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";

    (void)state;
    assert_int_equal(pinset__dsse_pae(&b, "http://example.com/HelloWorld", 29,
                                      (const uint8_t *)"hello world", 11),
                     PINSET_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.p, want, b.len);
    pinset__buf_free(&b);
}

static void sign_then_verify(EVP_PKEY *key)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    pinset_policy *p = load_policy();
    char keyid[PINSET_UPDATE_KEYID_MAX];
    uint8_t d1[32], d2[32];

    assert_int_equal(sign_doc(&b, key, 7, NOW - DAY, NOW + 30 * DAY, NULL, 0), PINSET_OK);
    assert_int_equal(b.p[b.len - 1], '\n');
    assert_int_equal(verify(&u, &b, key, NOW, NULL), PINSET_OK);
    assert_int_equal(pinset_update_serial(u), 7);
    assert_int_equal(pinset_update_issued_at(u), NOW - DAY);
    assert_int_equal(pinset_update_expires_at(u), NOW + 30 * DAY);
    assert_int_equal(pinset_update_scope_count(u), 0);
    assert_null(pinset_update_scope(u, 0));
    pinset_policy_digest(p, d1);
    pinset_policy_digest(pinset_update_policy(u), d2);
    assert_memory_equal(d1, d2, 32);
    assert_int_equal(pinset_update_keyid(keyid, sizeof(keyid), key, NULL), PINSET_OK);
    assert_string_equal(pinset_update_keyid_used(u), keyid);
    /* the policy is reference counted: a reference outlives the update */
    pinset_policy_free(p);
    p = pinset_policy_ref(pinset_update_policy(u));
    pinset_update_free(u);
    assert_int_equal(pinset_policy_rule_count(p), 2);
    assert_string_equal(pinset_rule_host(pinset_policy_rule(p, 1)), "example.org");
    pinset_policy_free(p);
    pinset__buf_free(&b);
}

static void sign_then_verify_ed25519(void **state)
{
    (void)state;
    sign_then_verify(ed1);
}

static void sign_then_verify_p256(void **state)
{
    (void)state;
    sign_then_verify(p256);
}

static void keyid_is_the_spki_sha256(void **state)
{
    char keyid[PINSET_UPDATE_KEYID_MAX], small[64];
    unsigned char *der = NULL;
    uint8_t md[32];
    unsigned int mdlen = 0;
    char want[65];
    int n;

    (void)state;
    n = i2d_PUBKEY(p256, &der);
    assert_true(n > 0);
    assert_int_equal(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL), 1);
    OPENSSL_free(der);
    for (int i = 0; i < 32; i++) {
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    }
    assert_int_equal(pinset_update_keyid(keyid, sizeof(keyid), p256, NULL), PINSET_OK);
    assert_string_equal(keyid, want);
    assert_int_equal(pinset_update_keyid(small, sizeof(small), p256, NULL),
                     PINSET_E_BUFFER_TOO_SMALL);
    assert_string_equal(small, "");
}

/* Strict base64 (RFC 4648 section 4): padded, standard alphabet, unused bits zero. */
static void base64_is_canonical_only(void **state)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: refused */
    } cases[] = {
        {"Zg==", "f"},  {"Zm8=", "fo"}, {"Zm9v", "foo"},  {"AA==", "\0"},  {"Zh==", NULL},
        {"Zg=A", NULL}, {"Zm9=", NULL}, {"Zm8", NULL},    {"Zg===", NULL}, {"Z===", NULL},
        {"====", NULL}, {"Zm-v", NULL}, {"Zm_v", NULL},   {"Zm 9v", NULL}, {"Zm9v\n", NULL},
        {"AB==", NULL}, {"AAB=", NULL}, {"AAA=", "\0\0"}, {"", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *out = NULL;
        size_t n = 0;
        pinset_err e = pinset__b64_decode(&out, &n, cases[i].in, strlen(cases[i].in), NULL);

        if (cases[i].out == NULL) {
            assert_int_equal(e, PINSET_E_PARSE);
            assert_null(out);
        } else {
            size_t want =
                strlen(cases[i].in) / 4 * 3 - (cases[i].in[3] == '=') - (cases[i].in[2] == '=');

            assert_int_equal(e, PINSET_OK);
            assert_int_equal(n, want);
            assert_memory_equal(out, cases[i].out, n);
            pinset__free(out);
        }
    }
}

static void tampered_payload_byte_is_refused(void **state)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    const char *good = "{\"serial\":1,\"issued_at\":\"2026-11-01T00:00:00Z\","
                       "\"expires_at\":\"2027-01-01T00:00:00Z\",\"policy\":" POLICY_JSON "}";
    const char *bad = "{\"serial\":2,\"issued_at\":\"2026-11-01T00:00:00Z\","
                      "\"expires_at\":\"2027-01-01T00:00:00Z\",\"policy\":" POLICY_JSON "}";

    (void)state;
    assert_int_equal(verify_payload(good, &d), PINSET_OK);
    craft(&b, ed1, NULL, PINSET_UPDATE_PAYLOAD_TYPE, good, NULL, bad);
    assert_int_equal(verify(&u, &b, ed1, NOW, &d), PINSET_E_CRYPTO);
    assert_null(u);
    assert_string_equal(d.message, "the signature by a trusted key does not verify");
    pinset__buf_free(&b);
}

static void reserialised_payload_is_refused(void **state)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    const char *signed_text = "{\"serial\":1,\"issued_at\":\"2026-11-01T00:00:00Z\","
                              "\"expires_at\":\"2027-01-01T00:00:00Z\",\"policy\":" POLICY_JSON "}";
    /* the same JSON value: other key order and whitespace */
    const char *same = "{\"issued_at\": \"2026-11-01T00:00:00Z\", \"serial\": 1,"
                       " \"expires_at\": \"2027-01-01T00:00:00Z\", \"policy\": " POLICY_JSON "}";

    (void)state;
    craft(&b, ed1, NULL, PINSET_UPDATE_PAYLOAD_TYPE, signed_text, NULL, same);
    assert_int_equal(verify(&u, &b, ed1, NOW, NULL), PINSET_E_CRYPTO);
    pinset__buf_free(&b);
}

static void tampered_payload_type_is_refused(void **state)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    const char *body = "{\"serial\":1,\"issued_at\":\"2026-11-01T00:00:00Z\","
                       "\"expires_at\":\"2027-01-01T00:00:00Z\",\"policy\":" POLICY_JSON "}";

    (void)state;
    craft(&b, ed1, NULL, PINSET_UPDATE_PAYLOAD_TYPE, body, "application/json", NULL);
    assert_int_equal(verify(&u, &b, ed1, NOW, NULL), PINSET_E_CRYPTO);
    pinset__buf_free(&b);
    /* signed as another type: the signature holds, the type does not */
    craft(&b, ed1, NULL, "application/json", body, NULL, NULL);
    assert_int_equal(verify(&u, &b, ed1, NOW, &d), PINSET_E_UNSUPPORTED);
    assert_string_equal(d.path, "payloadType");
    pinset__buf_free(&b);
}

static void other_keys_are_refused(void **state)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    const EVP_PKEY *both[2] = {ed2, p256};

    (void)state;
    /* signed by ed2, named ed2, trusted ed1: an unknown key */
    assert_int_equal(sign_doc(&b, ed2, 1, NOW, NOW + DAY, NULL, 0), PINSET_OK);
    assert_int_equal(verify(&u, &b, ed1, NOW, &d), PINSET_E_NO_MATCH);
    assert_string_equal(d.message, "no signature by a trusted key (unknown keyid)");
    /* the same document verifies when ed2 is among the trusted keys */
    assert_int_equal(pinset_update_verify(&u, b.p, b.len, both, 2, NOW, NULL), PINSET_OK);
    pinset_update_free(u);
    u = NULL;
    pinset__buf_free(&b);
    /* signed by ed2 under ed1's keyid: a forgery */
    craft(&b, ed2, ed1, PINSET_UPDATE_PAYLOAD_TYPE, "{}", NULL, NULL);
    assert_int_equal(verify(&u, &b, ed1, NOW, NULL), PINSET_E_CRYPTO);
    pinset__buf_free(&b);
    /* a valid signature by the trusted ed1 filed under ed2's keyid: not tried, unknown key */
    craft(&b, ed1, ed2, PINSET_UPDATE_PAYLOAD_TYPE, "{}", NULL, NULL);
    assert_int_equal(verify(&u, &b, ed1, NOW, NULL), PINSET_E_NO_MATCH);
    pinset__buf_free(&b);
    /* a P-256 signature checked with an Ed25519 key of the same keyid cannot happen; a P-256
       signature under the P-256 keyid by another P-256 key is a forgery */
    {
        EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        assert_non_null(other);
        craft(&b, other, p256, PINSET_UPDATE_PAYLOAD_TYPE, "{}", NULL, NULL);
        assert_int_equal(verify(&u, &b, p256, NOW, NULL), PINSET_E_CRYPTO);
        pinset__buf_free(&b);
        EVP_PKEY_free(other);
    }
}

static void one_good_signature_among_others_is_enough(void **state)
{
    struct pinset__buf good, bad, two;
    pinset_update *u = NULL;
    const char *body = "{\"serial\":3,\"issued_at\":\"2026-11-01T00:00:00Z\","
                       "\"expires_at\":\"2027-01-01T00:00:00Z\",\"policy\":" POLICY_JSON "}";
    const char *gs, *bs;

    (void)state;
    craft(&good, ed1, NULL, PINSET_UPDATE_PAYLOAD_TYPE, body, NULL, NULL);
    craft(&bad, ed2, NULL, PINSET_UPDATE_PAYLOAD_TYPE, body, NULL, NULL);
    gs = strstr((const char *)good.p, "[{");
    bs = strstr((const char *)bad.p, "[{");
    pinset__buf_init(&two, 1 << 20, 0);
    /* envelope head of `bad`, its signature, then good's signature */
    assert_int_equal(pinset__buf_append(&two, bad.p, (size_t)(bs - (const char *)bad.p) + 1),
                     PINSET_OK);
    assert_int_equal(pinset__buf_append(&two, bs + 1, strlen(bs + 1) - 2), PINSET_OK);
    assert_int_equal(pinset__buf_append(&two, ",", 1), PINSET_OK);
    assert_int_equal(pinset__buf_append(&two, gs + 1, strlen(gs + 1)), PINSET_OK);
    assert_int_equal(verify(&u, &two, ed1, NOW, NULL), PINSET_OK);
    assert_int_equal(pinset_update_serial(u), 3);
    pinset_update_free(u);
    pinset__buf_free(&good);
    pinset__buf_free(&bad);
    pinset__buf_free(&two);
}

static void validity_window_is_checked(void **state)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(sign_doc(&b, ed1, 1, NOW - 10 * DAY, NOW, NULL, 0), PINSET_OK);
    assert_int_equal(verify(&u, &b, ed1, NOW - 1, NULL), PINSET_OK);
    pinset_update_free(u);
    u = NULL;
    assert_int_equal(verify(&u, &b, ed1, NOW, &d), PINSET_E_EXPIRED);
    assert_string_equal(d.message, "the document expired at 2026-11-27T00:00:00Z");
    assert_int_equal(verify(&u, &b, ed1, 0, NULL), PINSET_E_EXPIRED); /* 0: the current time */
    pinset__buf_free(&b);
    assert_int_equal(
        sign_doc(&b, ed1, 1, (int64_t)time(NULL) - 1, (int64_t)time(NULL) + DAY, NULL, 0),
        PINSET_OK);
    assert_int_equal(verify(&u, &b, ed1, 0, NULL), PINSET_OK);
    pinset_update_free(u);
    u = NULL;
    assert_string_equal(d.path, "expires_at");
    pinset__buf_free(&b);

    assert_int_equal(sign_doc(&b, ed1, 1, NOW + PINSET_UPDATE_CLOCK_SKEW, NOW + DAY, NULL, 0),
                     PINSET_OK);
    assert_int_equal(verify(&u, &b, ed1, NOW, NULL), PINSET_OK); /* within the skew */
    pinset_update_free(u);
    u = NULL;
    pinset_diag_init(&d);
    assert_int_equal(verify(&u, &b, ed1, NOW - 1, &d), PINSET_E_EXPIRED);
    assert_non_null(strstr(d.message, "not valid yet"));
    assert_string_equal(d.path, "issued_at");
    pinset__buf_free(&b);
}

static void scope_is_enforced(void **state)
{
    struct pinset__buf b;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    const char *ok[] = {"API.example.com", "example.org", "*.example.org"};
    const char *wide[] = {"*.com", "*.org", "example.org"};
    const char *no_apex[] = {"api.example.com", "*.example.org"};
    const char *no_sub[] = {"api.example.com", "example.org"};
    const char *bad[] = {"*.*.example.com"};

    (void)state;
    assert_int_equal(sign_doc(&b, ed1, 1, NOW, NOW + DAY, ok, 3), PINSET_OK);
    assert_int_equal(verify(&u, &b, ed1, NOW, NULL), PINSET_OK);
    assert_int_equal(pinset_update_scope_count(u), 3);
    assert_string_equal(pinset_update_scope(u, 0), "api.example.com"); /* canonical */
    assert_string_equal(pinset_update_scope(u, 2), "*.example.org");
    pinset_update_free(u);
    u = NULL;
    pinset__buf_free(&b);
    assert_int_equal(sign_doc(&b, ed1, 1, NOW, NOW + DAY, wide, 3), PINSET_OK);
    pinset__buf_free(&b);
    /* the signer refuses what the verifier would */
    assert_int_equal(sign_doc(&b, ed1, 1, NOW, NOW + DAY, no_apex, 2), PINSET_E_NO_MATCH);
    pinset__buf_free(&b);
    assert_int_equal(sign_doc(&b, ed1, 1, NOW, NOW + DAY, no_sub, 2), PINSET_E_NO_MATCH);
    pinset__buf_free(&b);
    assert_int_equal(sign_doc(&b, ed1, 1, NOW, NOW + DAY, bad, 1), PINSET_E_PARSE);
    pinset__buf_free(&b);
    /* the verifier, on a document signed outside pinset_update_sign */
    assert_int_equal(
        verify_payload("{\"serial\":1,\"issued_at\":\"2026-11-01T00:00:00Z\","
                       "\"expires_at\":\"2027-01-01T00:00:00Z\",\"scope\":[\"*.example.net\"],"
                       "\"policy\":" POLICY_JSON "}",
                       &d),
        PINSET_E_NO_MATCH);
    assert_string_equal(d.path, "policy.rules[0].host");
    assert_string_equal(d.message, "the rule speaks for names outside the document's scope");
    /* the apex alone is not below *.example.com */
    assert_int_equal(
        verify_payload("{\"serial\":1,\"issued_at\":\"2026-11-01T00:00:00Z\","
                       "\"expires_at\":\"2027-01-01T00:00:00Z\",\"scope\":[\"*.api.example.com\"],"
                       "\"policy\":" POLICY_JSON "}",
                       &d),
        PINSET_E_NO_MATCH);
    /* entries must be canonical as signed */
    assert_int_equal(
        verify_payload("{\"serial\":1,\"issued_at\":\"2026-11-01T00:00:00Z\","
                       "\"expires_at\":\"2027-01-01T00:00:00Z\",\"scope\":[\"API.example.com\"],"
                       "\"policy\":" POLICY_JSON "}",
                       &d),
        PINSET_E_PARSE);
    assert_string_equal(d.path, "scope[0]");
}

static void malformed_envelopes_are_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\"}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":[]}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":{}}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":\"\",\"sig\":"
        "\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":"
        "\"00000000000000000000000000000000000000000000000000000000000000AA\",\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e30\",\"signatures\":[{\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e3-=\",\"signatures\":[{\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e31=\",\"signatures\":[{\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"A\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"extra\":1,\"signatures\":[{\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"payload\":\"e30=\",\"signatures\":[{"
        "\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":"
        "\"0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AA==\","
        "\"cert\":\"x\"}]}",
    };
    pinset_diag d;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pinset_err err = verify_text(bad[i], &d);
        if (err != PINSET_E_PARSE) {
            fail_msg("case %zu: %s: %s", i, pinset_err_name(err), d.message);
        }
        assert_true(d.message[0] != '\0');
    }
    /* well-formed, but the keyid is no trusted key's */
    assert_int_equal(
        verify_text("{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":"
                    "\"0000000000000000000000000000000000000000000000000000000000000000\","
                    "\"sig\":\"AA==\"}]}",
                    &d),
        PINSET_E_NO_MATCH);
}

static void malformed_payloads_are_refused(void **state)
{
#define T1 "\"issued_at\":\"2026-11-01T00:00:00Z\""
#define T2 "\"expires_at\":\"2027-01-01T00:00:00Z\""
    static const struct {
        const char *body;
        const char *path;
    } bad[] = {
        {"not json", "payload"},
        {"[1]", ""},
        {"{\"serial\":1," T1 "," T2 ",\"policy\":" POLICY_JSON ",\"extra\":1}", "extra"},
        {"{\"serial\":1," T1 "," T2 "}", "policy"},
        {"{" T1 "," T2 ",\"policy\":" POLICY_JSON "}", "serial"},
        {"{\"serial\":\"1\"," T1 "," T2 ",\"policy\":" POLICY_JSON "}", "serial"},
        {"{\"serial\":0," T1 "," T2 ",\"policy\":" POLICY_JSON "}", "serial"},
        {"{\"serial\":1.5," T1 "," T2 ",\"policy\":" POLICY_JSON "}", "serial"},
        {"{\"serial\":99999999999999999999," T1 "," T2 ",\"policy\":" POLICY_JSON "}", "payload"},
        {"{\"serial\":1,\"issued_at\":\"yesterday\"," T2 ",\"policy\":" POLICY_JSON "}",
         "issued_at"},
        /* one spelling of a time: no bare date, no lower-case t or z */
        {"{\"serial\":1,\"issued_at\":\"2026-11-01\"," T2 ",\"policy\":" POLICY_JSON "}",
         "issued_at"},
        {"{\"serial\":1," T1 ",\"expires_at\":\"2027-01-01t00:00:00z\",\"policy\":" POLICY_JSON "}",
         "expires_at"},
        {"{\"serial\":1,\"issued_at\":\"2027-01-01T00:00:00Z\"," T2 ",\"policy\":" POLICY_JSON "}",
         "expires_at"},
        {"{\"serial\":1,\"serial\":2," T1 "," T2 ",\"policy\":" POLICY_JSON "}", "payload"},
        {"{\"serial\":1," T1 "," T2 ",\"scope\":[],\"policy\":" POLICY_JSON "}", "scope"},
        {"{\"serial\":1," T1 "," T2 ",\"scope\":[1],\"policy\":" POLICY_JSON "}", "scope[0]"},
        {"{\"serial\":1," T1 "," T2 ",\"policy\":[]}", "policy"},
        {"{\"serial\":1," T1 "," T2 ",\"policy\":{\"version\":1,\"rules\":[{\"host\":\"a b\"}]}}",
         "policy.rules[0].host"},
        {"{\"serial\":1," T1 "," T2 ",\"policy\":{\"version\":1,\"rulez\":[]}}", "policy.rulez"},
    };
    pinset_diag d;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pinset_err err = verify_payload(bad[i].body, &d);
        if (err != PINSET_E_PARSE || strcmp(d.path, bad[i].path) != 0) {
            fail_msg("case %zu: %s at '%s': %s", i, pinset_err_name(err), d.path, d.message);
        }
    }
#undef T1
#undef T2
}

static void oversized_inputs_are_refused(void **state)
{
    const EVP_PKEY *trusted[1] = {ed1};
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    size_t big = PINSET_UPDATE_MAX_SIZE + 1;
    uint8_t *doc = malloc(big);
    struct pinset__buf b;

    (void)state;
    assert_non_null(doc);
    memset(doc, ' ', big);
    assert_int_equal(pinset_update_verify(&u, doc, big, trusted, 1, NOW, &d), PINSET_E_LIMIT);
    free(doc);
    /* 17 signatures */
    pinset__buf_init(&b, 1 << 20, 0);
    assert_int_equal(
        pinset__buf_append(&b,
                           "{\"payloadType\":\"t\",\"payload\":\"e30=\","
                           "\"signatures\":[",
                           strlen("{\"payloadType\":\"t\",\"payload\":\"e30=\",\"signatures\":[")),
        PINSET_OK);
    for (int i = 0; i <= PINSET_UPDATE_MAX_SIGNATURES; i++) {
        const char *s = "{\"keyid\":\"0000000000000000000000000000000000000000000000000000000000"
                        "000000\",\"sig\":\"AA==\"}";
        if (i > 0) {
            assert_int_equal(pinset__buf_append(&b, ",", 1), PINSET_OK);
        }
        assert_int_equal(pinset__buf_append(&b, s, strlen(s)), PINSET_OK);
    }
    assert_int_equal(pinset__buf_append(&b, "]}", 2), PINSET_OK);
    assert_int_equal(verify(&u, &b, ed1, NOW, &d), PINSET_E_LIMIT);
    assert_null(u);
    pinset__buf_free(&b);
}

static void sign_refuses_bad_arguments(void **state)
{
    struct pinset__buf b;
    pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
    pinset_policy *p = load_policy();
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    assert_int_equal(sign_doc(&b, ed1, 0, NOW, NOW + DAY, NULL, 0), PINSET_E_INVALID_ARG);
    pinset__buf_free(&b);
    assert_int_equal(sign_doc(&b, ed1, (uint64_t)INT64_MAX + 1, NOW, NOW + DAY, NULL, 0),
                     PINSET_E_INVALID_ARG);
    pinset__buf_free(&b);
    assert_int_equal(sign_doc(&b, ed1, 1, NOW, NOW, NULL, 0), PINSET_E_INVALID_ARG);
    pinset__buf_free(&b);
    assert_int_equal(sign_doc(&b, rsa, 1, NOW, NOW + DAY, NULL, 0), PINSET_E_UNSUPPORTED);
    pinset__buf_free(&b);
    o.serial = 1;
    o.expires_at = NOW + DAY;
    o.issued_at = NOW;
    o.version = 99;
    assert_int_equal(pinset_update_sign(p, &o, ed1, pinset__buf_sink, &b, &d),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_update_sign(NULL, &o, ed1, pinset__buf_sink, &b, &d),
                     PINSET_E_INVALID_ARG);
    pinset_policy_free(p);
}

static int refuse_sink(const char *buf, size_t len, void *payload)
{
    (void)buf;
    (void)len;
    (void)payload;
    return 1;
}

static void sign_reports_a_refusing_sink(void **state)
{
    pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
    pinset_policy *p = load_policy();

    (void)state;
    o.serial = 1;
    o.issued_at = NOW;
    o.expires_at = NOW + DAY;
    assert_int_equal(pinset_update_sign(p, &o, ed1, refuse_sink, NULL, NULL), PINSET_E_IO);
    pinset_policy_free(p);
}

static void verify_refuses_misuse(void **state)
{
    const EVP_PKEY *none[1] = {NULL};
    pinset_update *u = NULL;

    (void)state;
    assert_int_equal(pinset_update_verify(NULL, (const uint8_t *)"{}", 2, none, 1, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_update_verify(&u, (const uint8_t *)"{}", 2, none, 1, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_update_verify(&u, (const uint8_t *)"{}", 2, none, 0, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_null(u);
    {
        /* a trusted key of another type (RSA) is refused, and so is a time before 1970 */
        EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        const EVP_PKEY *one[1] = {rsa}, *good[1] = {ed};
        assert_non_null(rsa);
        assert_non_null(ed);
        assert_int_equal(pinset_update_verify(&u, (const uint8_t *)"{}", 2, one, 1, NOW, NULL),
                         PINSET_E_UNSUPPORTED);
        assert_int_equal(pinset_update_verify(&u, (const uint8_t *)"{}", 2, good, 1, -1, NULL),
                         PINSET_E_INVALID_ARG);
        assert_int_equal(
            pinset_update_verify(&u, (const uint8_t *)"{}", 2, good, 1, INT64_MIN, NULL),
            PINSET_E_INVALID_ARG);
        assert_null(u);
        EVP_PKEY_free(rsa);
        EVP_PKEY_free(ed);
    }
    assert_int_equal(pinset_update_serial(NULL), 0);
    assert_null(pinset_update_policy(NULL));
    assert_null(pinset_update_keyid_used(NULL));
    pinset_update_free(NULL);
}

static void allocation_failures_are_clean(void **state)
{
    struct pinset__buf b;
    const char *scope[] = {"*.example.com", "example.org", "*.example.org"};
    int done = 0;

    (void)state;
    assert_int_equal(sign_doc(&b, p256, 5, NOW, NOW + DAY, scope, 3), PINSET_OK);
    for (unsigned long k = 1; k < 200 && !done; k++) {
        pinset_update *u = NULL;
        pinset_err err;
        pinset__alloc_fail_at(k);
        err = verify(&u, &b, p256, NOW, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        if (err == PINSET_OK) {
            assert_int_equal(pinset_update_serial(u), 5);
            done = 1;
        }
        pinset_update_free(u);
    }
    assert_true(done);
    done = 0;
    for (unsigned long k = 1; k < 200 && !done; k++) {
        pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
        pinset_policy *p = load_policy();
        struct pinset__buf out;
        pinset_err err;
        o.serial = 5;
        o.issued_at = NOW;
        o.expires_at = NOW + DAY;
        o.scope = scope;
        o.scope_count = 3;
        pinset__buf_init(&out, PINSET_UPDATE_MAX_SIZE, 0);
        pinset__alloc_fail_at(k);
        err = pinset_update_sign(p, &o, p256, pinset__buf_sink, &out, NULL);
        pinset__alloc_fail_at(0);
        /* the sink's own allocation failing is reported as the sink's refusal */
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM || err == PINSET_E_IO);
        done = err == PINSET_OK;
        pinset__buf_free(&out);
        pinset_policy_free(p);
    }
    assert_true(done);
    pinset__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pae_matches_the_spec_vector),
        cmocka_unit_test(sign_then_verify_ed25519),
        cmocka_unit_test(sign_then_verify_p256),
        cmocka_unit_test(keyid_is_the_spki_sha256),
        cmocka_unit_test(base64_is_canonical_only),
        cmocka_unit_test(tampered_payload_byte_is_refused),
        cmocka_unit_test(reserialised_payload_is_refused),
        cmocka_unit_test(tampered_payload_type_is_refused),
        cmocka_unit_test(other_keys_are_refused),
        cmocka_unit_test(one_good_signature_among_others_is_enough),
        cmocka_unit_test(validity_window_is_checked),
        cmocka_unit_test(scope_is_enforced),
        cmocka_unit_test(malformed_envelopes_are_refused),
        cmocka_unit_test(malformed_payloads_are_refused),
        cmocka_unit_test(oversized_inputs_are_refused),
        cmocka_unit_test(sign_refuses_bad_arguments),
        cmocka_unit_test(sign_reports_a_refusing_sink),
        cmocka_unit_test(verify_refuses_misuse),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
