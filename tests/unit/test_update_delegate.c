/*
 * test_update_delegate.c - signing keys authorised by a root key
 * (update.h: pinset_update_delegate, pinset_update_sign with a delegation,
 * pinset_update_cosign, pinset_update_verify_threshold and the updater's
 * delegation floor; docs/update-protocol.md "Signing keys and delegations"):
 * a delegated key signs and verifies with nothing but the root; each
 * refusal with its own status and reason (unknown key, expired signing key,
 * a delegation not signed by a root or not a delegation, a delegation for
 * another key, a threshold not met, one key counted once, an older
 * delegation replayed after a newer one, a document wider than its key's
 * delegation scope); a document signed before its
 * key expired is loaded stale; a cached document issued in the clock's
 * future is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include <pinset/policy.h>
#include <pinset/update.h>

#include "internal.h"
#include "tmpdir.h"
#include "util/buf.h"

/* 2026-11-27T00:00:00Z */
#define NOW 1795737600
#define DAY 86400

static const char policy_text[] =
    "{\"version\": 1, \"rules\": [{\"host\": \"api.example.com\", \"pins\": ["
    "{\"sha256\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
    "{\"sha256\": \"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=\", \"role\": \"backup\"}]}]}";

static EVP_PKEY *root, *root2, *signer_a, *signer_b, *stranger;

static int setup(void **state)
{
    (void)state;
    root = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    root2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    signer_a = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    signer_b = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    stranger = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return root && root2 && signer_a && signer_b && stranger ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(root);
    EVP_PKEY_free(root2);
    EVP_PKEY_free(signer_a);
    EVP_PKEY_free(signer_b);
    EVP_PKEY_free(stranger);
    return 0;
}

/* A delegation from by to key: serial, valid [nb, exp). */
static void delegate(struct pinset__buf *b, EVP_PKEY *key, EVP_PKEY *by, uint64_t serial,
                     int64_t nb, int64_t exp)
{
    pinset_update_delegate_options o = PINSET_UPDATE_DELEGATE_OPTIONS_INIT;

    o.serial = serial;
    o.not_before = nb;
    o.expires_at = exp;
    pinset__buf_init(b, PINSET_UPDATE_MAX_DELEGATION_SIZE, 0);
    assert_int_equal(pinset_update_delegate(key, &o, by, pinset__buf_sink, b, NULL), PINSET_OK);
}

/* A document signed by key (with deleg unless NULL). */
static pinset_err sign(struct pinset__buf *b, EVP_PKEY *key, const struct pinset__buf *deleg,
                       uint64_t serial, int64_t issued, pinset_diag *d)
{
    pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
    pinset_policy *p = NULL;
    pinset_err err;

    assert_int_equal(
        pinset_policy_parse(&p, (const uint8_t *)policy_text, strlen(policy_text), NULL),
        PINSET_OK);
    o.serial = serial;
    o.issued_at = issued;
    o.expires_at = issued + 30 * DAY;
    o.delegation = deleg != NULL ? deleg->p : NULL;
    o.delegation_len = deleg != NULL ? deleg->len : 0;
    pinset__buf_init(b, PINSET_UPDATE_MAX_SIZE, 0);
    err = pinset_update_sign(p, &o, key, pinset__buf_sink, b, d);
    pinset_policy_free(p);
    return err;
}

static void cosign(struct pinset__buf *out, const struct pinset__buf *doc, EVP_PKEY *key,
                   const struct pinset__buf *deleg)
{
    pinset__buf_init(out, PINSET_UPDATE_MAX_SIZE, 0);
    assert_int_equal(pinset_update_cosign(doc->p, doc->len, key, deleg ? deleg->p : NULL,
                                          deleg ? deleg->len : 0, pinset__buf_sink, out, NULL),
                     PINSET_OK);
}

/* Verify against `root` alone; the status, and the error through *err. */
static pinset_updater_status verify(const struct pinset__buf *doc, unsigned threshold, int64_t now,
                                    pinset_err *err, pinset_diag *d)
{
    const EVP_PKEY *roots[1] = {root};
    pinset_updater_status st = PINSET_UPDATER_STATE_ERROR;
    pinset_update *u = NULL;

    *err = pinset_update_verify_threshold(&u, &st, doc->p, doc->len, roots, 1, threshold, now, d);
    assert_true((*err == PINSET_OK) == (u != NULL));
    pinset_update_free(u);
    return st;
}

static void expect(const struct pinset__buf *doc, unsigned threshold, int64_t now,
                   pinset_updater_status want, pinset_err want_err, const char *reason)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    assert_int_equal(verify(doc, threshold, now, &err, &d), want);
    assert_int_equal(err, want_err);
    if (reason != NULL) {
        if (strstr(d.message, reason) == NULL) {
            fail_msg("message \"%s\" lacks \"%s\"", d.message, reason);
        }
    }
}

static void delegated_key_signs(void **state)
{
    const EVP_PKEY *roots[1] = {root};
    struct pinset__buf dA, doc;
    pinset_update *u = NULL;
    char kid[PINSET_UPDATE_KEYID_MAX];

    (void)state;
    delegate(&dA, signer_a, root, 3, NOW - DAY, NOW + 10 * DAY);
    assert_int_equal(sign(&doc, signer_a, &dA, 1, NOW, NULL), PINSET_OK);
    assert_int_equal(pinset_update_verify(&u, doc.p, doc.len, roots, 1, NOW, NULL), PINSET_OK);
    assert_int_equal(pinset_update_keyid(kid, sizeof(kid), signer_a, NULL), PINSET_OK);
    assert_string_equal(pinset_update_keyid_used(u), kid);
    assert_int_equal(pinset_update_delegation_serial(u), 3);
    assert_int_equal(pinset_update_key_expires_at(u), NOW + 10 * DAY);
    assert_int_equal(pinset_update_signer_count(u), 1);
    pinset_update_free(u);
    /* the signing key alone is not trusted as a root: without its delegation it is unknown */
    pinset__buf_free(&doc);
    assert_int_equal(sign(&doc, signer_a, NULL, 1, NOW, NULL), PINSET_OK);
    expect(&doc, 1, NOW, PINSET_UPDATER_UNKNOWN_KEY, PINSET_E_NO_MATCH,
           "no signature by a trusted key (unknown keyid)");
    /* the root signs directly */
    pinset__buf_free(&doc);
    assert_int_equal(sign(&doc, root, NULL, 1, NOW, NULL), PINSET_OK);
    expect(&doc, 1, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
    pinset__buf_free(&doc);
    pinset__buf_free(&dA);
}

static void delegation_refusals(void **state)
{
    struct pinset__buf dA, dStranger, dForB, doc, upd;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    /* expired signing key, and one not valid yet */
    delegate(&dA, signer_a, root, 1, NOW - 10 * DAY, NOW + DAY);
    assert_int_equal(sign(&doc, signer_a, &dA, 1, NOW, NULL), PINSET_OK);
    expect(&doc, 1, NOW + DAY, PINSET_UPDATER_KEY_EXPIRED, PINSET_E_EXPIRED,
           "the signing key's delegation expired at");
    expect(&doc, 1, NOW - 11 * DAY, PINSET_UPDATER_KEY_EXPIRED, PINSET_E_EXPIRED,
           "the signing key's delegation is not valid before");
    pinset__buf_free(&doc);

    /* a delegation not signed by a trusted root */
    delegate(&dStranger, signer_a, stranger, 1, NOW - DAY, NOW + DAY);
    assert_int_equal(sign(&doc, signer_a, &dStranger, 1, NOW, NULL), PINSET_OK);
    expect(&doc, 1, NOW, PINSET_UPDATER_DELEGATION_UNTRUSTED, PINSET_E_NO_MATCH,
           "the delegation is not signed by a trusted root");
    pinset__buf_free(&doc);

    /* a root-signed update is not a delegation (type confusion) */
    assert_int_equal(sign(&upd, root, NULL, 1, NOW, NULL), PINSET_OK);
    assert_int_equal(sign(&doc, signer_a, &upd, 1, NOW, &d), PINSET_E_UNSUPPORTED);
    pinset__buf_free(&doc);
    pinset__buf_free(&upd);

    /* a delegation for another key: the signer refuses it, and so does the verifier */
    delegate(&dForB, signer_b, root, 1, NOW - DAY, NOW + DAY);
    assert_int_equal(sign(&doc, signer_a, &dForB, 1, NOW, &d), PINSET_E_NO_MATCH);
    assert_non_null(strstr(d.message, "the delegation is for another key"));
    pinset__buf_free(&doc);

    /* a threshold of 2 with one signature */
    assert_int_equal(sign(&doc, signer_a, &dA, 1, NOW, NULL), PINSET_OK);
    expect(&doc, 2, NOW, PINSET_UPDATER_THRESHOLD, PINSET_E_NO_MATCH,
           "threshold not met: 1 of 2 required");
    pinset__buf_free(&doc);

    pinset__buf_free(&dA);
    pinset__buf_free(&dStranger);
    pinset__buf_free(&dForB);
}

/* Swap the delegation carried by sigs[0] of doc for another (as an attacker can). */
static void swap_delegation(struct pinset__buf *out, const struct pinset__buf *doc,
                            const struct pinset__buf *deleg)
{
    const char *s = (const char *)doc->p, *at = strstr(s, ",\"delegation\":");
    size_t head, dl = deleg->len - 1; /* without its newline */

    assert_non_null(at);
    head = (size_t)(at - s) + strlen(",\"delegation\":");
    pinset__buf_init(out, PINSET_UPDATE_MAX_SIZE, 0);
    assert_int_equal(pinset__buf_append(out, s, head), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, deleg->p, dl), PINSET_OK);
    assert_int_equal(pinset__buf_append(out, "}]}\n", 4), PINSET_OK);
}

static void planted_delegations(void **state)
{
    struct pinset__buf dA, dForB, upd, doc, bad;

    (void)state;
    delegate(&dA, signer_a, root, 1, NOW - DAY, NOW + DAY);
    delegate(&dForB, signer_b, root, 1, NOW - DAY, NOW + DAY);
    assert_int_equal(sign(&doc, signer_a, &dA, 1, NOW, NULL), PINSET_OK);
    /* the verifier, given a delegation for another key */
    swap_delegation(&bad, &doc, &dForB);
    expect(&bad, 1, NOW, PINSET_UPDATER_DELEGATION_MISMATCH, PINSET_E_NO_MATCH,
           "the delegation is for another key");
    pinset__buf_free(&bad);
    /* a document signed by the root, carried as a delegation */
    assert_int_equal(sign(&upd, root, NULL, 1, NOW, NULL), PINSET_OK);
    swap_delegation(&bad, &doc, &upd);
    expect(&bad, 1, NOW, PINSET_UPDATER_DELEGATION_UNTRUSTED, PINSET_E_NO_MATCH,
           "the delegation's payloadType is not");
    pinset__buf_free(&bad);
    /* a delegation whose root signature was tampered with */
    {
        struct pinset__buf t;
        char *sig;
        pinset__buf_init(&t, PINSET_UPDATE_MAX_DELEGATION_SIZE, 0);
        assert_int_equal(pinset__buf_append(&t, dA.p, dA.len), PINSET_OK);
        sig = strstr((char *)t.p, "\"sig\":\"");
        assert_non_null(sig);
        sig[8] = sig[8] == 'A' ? 'B' : 'A';
        swap_delegation(&bad, &doc, &t);
        expect(&bad, 1, NOW, PINSET_UPDATER_DELEGATION_UNTRUSTED, PINSET_E_CRYPTO,
               "the delegation's signature by the root does not verify");
        pinset__buf_free(&bad);
        pinset__buf_free(&t);
    }
    pinset__buf_free(&upd);
    pinset__buf_free(&doc);
    pinset__buf_free(&dA);
    pinset__buf_free(&dForB);
}

static void threshold(void **state)
{
    struct pinset__buf dA, dB, doc, two, twice, three;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    delegate(&dA, signer_a, root, 1, NOW - DAY, NOW + DAY);
    delegate(&dB, signer_b, root, 1, NOW - DAY, NOW + DAY);
    assert_int_equal(sign(&doc, signer_a, &dA, 1, NOW, NULL), PINSET_OK);
    cosign(&two, &doc, signer_b, &dB);
    expect(&two, 2, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
    expect(&two, 3, NOW, PINSET_UPDATER_THRESHOLD, PINSET_E_NO_MATCH,
           "threshold not met: 2 of 3 required");
    /* the root's own signature counts as a third key */
    cosign(&three, &two, root, NULL);
    expect(&three, 3, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
    /* the same key twice counts once: cosign refuses it, and a copied signature does not count */
    pinset__buf_init(&twice, PINSET_UPDATE_MAX_SIZE, 0);
    assert_int_equal(
        pinset_update_cosign(doc.p, doc.len, signer_a, dA.p, dA.len, pinset__buf_sink, &twice, &d),
        PINSET_E_INVALID_ARG);
    pinset__buf_free(&twice);
    {
        /* [sigA, sigA] by hand */
        const char *s = (const char *)doc.p, *open = strstr(s, "\"signatures\":[") + 14;
        size_t head = (size_t)(open - s), body = doc.len - head - 3; /* minus "]}\n" */
        pinset__buf_init(&twice, PINSET_UPDATE_MAX_SIZE, 0);
        assert_int_equal(pinset__buf_append(&twice, s, head + body), PINSET_OK);
        assert_int_equal(pinset__buf_append(&twice, ",", 1), PINSET_OK);
        assert_int_equal(pinset__buf_append(&twice, open, body), PINSET_OK);
        assert_int_equal(pinset__buf_append(&twice, "]}\n", 3), PINSET_OK);
        expect(&twice, 1, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
        expect(&twice, 2, NOW, PINSET_UPDATER_THRESHOLD, PINSET_E_NO_MATCH,
               "threshold not met: 1 of 2 required");
        pinset__buf_free(&twice);
    }
    pinset__buf_free(&doc);
    pinset__buf_free(&two);
    pinset__buf_free(&three);
    pinset__buf_free(&dA);
    pinset__buf_free(&dB);
}

/*
 * One P-256 key under two encodings of its SubjectPublicKeyInfo (the point
 * uncompressed and compressed) has two keyids. Two delegations to it (the
 * root re-issued one from a converted .pub file) must not let the holder
 * of that one key count twice toward a threshold: distinct keys, not
 * distinct keyids.
 */
static void one_key_two_encodings(void **state)
{
    struct pinset__buf dB, dBc, doc, two;
    char id[PINSET_UPDATE_KEYID_MAX], idc[PINSET_UPDATE_KEYID_MAX];
    EVP_PKEY *kc = EVP_PKEY_dup(signer_b);

    (void)state;
    assert_non_null(kc);
    assert_int_equal(EVP_PKEY_set_utf8_string_param(kc, "point-format", "compressed"), 1);
    assert_int_equal(pinset_update_keyid(id, sizeof(id), signer_b, NULL), PINSET_OK);
    assert_int_equal(pinset_update_keyid(idc, sizeof(idc), kc, NULL), PINSET_OK);
    assert_string_not_equal(id, idc); /* two keyids, one key */
    delegate(&dB, signer_b, root, 1, NOW - DAY, NOW + DAY);
    delegate(&dBc, kc, root, 1, NOW - DAY, NOW + DAY);
    assert_int_equal(sign(&doc, signer_b, &dB, 1, NOW, NULL), PINSET_OK);
    cosign(&two, &doc, kc, &dBc);
    expect(&two, 1, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
    expect(&two, 2, NOW, PINSET_UPDATER_THRESHOLD, PINSET_E_NO_MATCH,
           "threshold not met: 1 of 2 required");
    pinset__buf_free(&doc);
    pinset__buf_free(&two);
    pinset__buf_free(&dB);
    pinset__buf_free(&dBc);
    EVP_PKEY_free(kc);
}

static pinset_err apply(pinset_updater_status *st, const char *dir, const struct pinset__buf *b,
                        int64_t now, pinset_diag *d)
{
    const EVP_PKEY *roots[1] = {root};
    pinset_update *u = NULL;
    pinset_err err = pinset_updater_apply_threshold(&u, st, dir, b->p, b->len, roots, 1, 1, now, d);

    assert_true((err == PINSET_OK) == (u != NULL));
    pinset_update_free(u);
    return err;
}

/* Rotation of the signing key: generation 2 (key B) revokes generation 1 (key A). */
static void delegation_rollback(void **state)
{
    const EVP_PKEY *roots[1] = {root};
    struct pinset__buf dA1, dB2, docA1, docB2, docA3;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_updater_status st;
    pinset_update *u = NULL;
    unsigned int flags = 0;
    char *dir = testlib_tmpdir("delegate");

    (void)state;
    assert_non_null(dir);
    delegate(&dA1, signer_a, root, 1, NOW - DAY, NOW + 10 * DAY);
    delegate(&dB2, signer_b, root, 2, NOW - DAY, NOW + 10 * DAY);
    assert_int_equal(sign(&docA1, signer_a, &dA1, 1, NOW, NULL), PINSET_OK);
    assert_int_equal(sign(&docB2, signer_b, &dB2, 2, NOW + 1, NULL), PINSET_OK);
    assert_int_equal(sign(&docA3, signer_a, &dA1, 3, NOW + 2, NULL), PINSET_OK);
    assert_int_equal(apply(&st, dir, &docA1, NOW + 3, NULL), PINSET_OK);
    assert_int_equal(apply(&st, dir, &docB2, NOW + 3, NULL), PINSET_OK);
    assert_int_equal(st, PINSET_UPDATER_APPLIED);
    /* key A's delegation (generation 1) is now below the floor, even with a higher serial */
    assert_int_equal(apply(&st, dir, &docA3, NOW + 3, &d), PINSET_E_NO_MATCH);
    assert_int_equal(st, PINSET_UPDATER_DELEGATION_ROLLBACK);
    assert_non_null(strstr(d.message, "delegation serial 1 is below the highest accepted, 2"));
    /* the state is that of docB2 */
    assert_int_equal(pinset_updater_load_threshold(&u, &flags, dir, roots, 1, 1, NOW + 3, NULL),
                     PINSET_OK);
    assert_int_equal(pinset_update_serial(u), 2);
    assert_int_equal(flags, 0);
    pinset_update_free(u);
    /* once key B's delegation expires, the loaded document is stale */
    assert_int_equal(
        pinset_updater_load_threshold(&u, &flags, dir, roots, 1, 1, NOW + 10 * DAY, NULL),
        PINSET_OK);
    assert_int_equal(flags, PINSET_UPDATER_STALE);
    pinset_update_free(u);
    /* the clock went back: the document was issued after "now" beyond the skew */
    assert_int_equal(
        pinset_updater_load(&u, &flags, dir, roots, 1, NOW - PINSET_UPDATE_CLOCK_SKEW - 10, NULL),
        PINSET_OK);
    assert_int_equal(flags & PINSET_UPDATER_CLOCK_BEHIND, PINSET_UPDATER_CLOCK_BEHIND);
    pinset_update_free(u);
    assert_int_equal(pinset_updater_load(&u, &flags, dir, roots, 1, NOW + 1, NULL), PINSET_OK);
    assert_int_equal(flags & PINSET_UPDATER_CLOCK_BEHIND, 0);
    pinset_update_free(u);
    pinset__buf_free(&dA1);
    pinset__buf_free(&dB2);
    pinset__buf_free(&docA1);
    pinset__buf_free(&docB2);
    pinset__buf_free(&docA3);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
}

/* A document with a scope, signed by key with deleg. */
static pinset_err sign_scoped(struct pinset__buf *b, EVP_PKEY *key, const struct pinset__buf *deleg,
                              const char *const *scope, size_t n, pinset_diag *d)
{
    pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
    pinset_policy *p = NULL;
    pinset_err err;

    assert_int_equal(
        pinset_policy_parse(&p, (const uint8_t *)policy_text, strlen(policy_text), NULL),
        PINSET_OK);
    o.serial = 1;
    o.issued_at = NOW;
    o.expires_at = NOW + DAY;
    o.scope = scope;
    o.scope_count = n;
    o.delegation = deleg->p;
    o.delegation_len = deleg->len;
    pinset__buf_init(b, PINSET_UPDATE_MAX_SIZE, 0);
    err = pinset_update_sign(p, &o, key, pinset__buf_sink, b, d);
    pinset_policy_free(p);
    return err;
}

/* A delegation with a scope: the key's documents must have a scope within it. */
static void scoped_delegations(void **state)
{
    static const char *const dscope[] = {"*.EXAMPLE.com"};
    static const char *const inside[] = {"api.example.com"};
    static const char *const wider[] = {"api.example.com", "*.example.org"};
    static const char *const sub[] = {"*.api.example.com", "api.example.com"};
    pinset_update_delegate_options o = PINSET_UPDATE_DELEGATE_OPTIONS_INIT;
    struct pinset__buf dS, dAny, doc, bad, two;
    pinset_diag d = PINSET_DIAG_INIT;
    const EVP_PKEY *roots[1] = {root};
    pinset_update *u = NULL;

    (void)state;
    o.serial = 1;
    o.not_before = NOW - DAY;
    o.expires_at = NOW + DAY;
    o.scope = dscope;
    o.scope_count = 1;
    pinset__buf_init(&dS, PINSET_UPDATE_MAX_DELEGATION_SIZE, 0);
    assert_int_equal(pinset_update_delegate(signer_a, &o, root, pinset__buf_sink, &dS, NULL),
                     PINSET_OK);
    assert_non_null(strstr((const char *)dS.p, "\"payload\""));
    delegate(&dAny, signer_a, root, 1, NOW - DAY, NOW + DAY);

    /* within: valid */
    assert_int_equal(sign_scoped(&doc, signer_a, &dS, inside, 1, NULL), PINSET_OK);
    expect(&doc, 1, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
    pinset__buf_free(&doc);
    assert_int_equal(sign_scoped(&doc, signer_a, &dS, sub, 2, NULL), PINSET_OK);
    expect(&doc, 1, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
    pinset__buf_free(&doc);

    /* the signer refuses a document wider than the delegation, or with no scope */
    assert_int_equal(sign_scoped(&doc, signer_a, &dS, wider, 2, &d), PINSET_E_NO_MATCH);
    assert_non_null(strstr(d.message, "the document's scope is not within the delegation's scope"));
    pinset__buf_free(&doc);
    assert_int_equal(sign(&doc, signer_a, &dS, 1, NOW, &d), PINSET_E_NO_MATCH);
    pinset__buf_free(&doc);

    /* the verifier refuses them too (documents signed under an unscoped delegation, swapped) */
    assert_int_equal(sign_scoped(&doc, signer_a, &dAny, wider, 2, NULL), PINSET_OK);
    swap_delegation(&bad, &doc, &dS);
    expect(&bad, 1, NOW, PINSET_UPDATER_DELEGATION_SCOPE, PINSET_E_NO_MATCH,
           "the document's scope is not within the signing key's delegation");
    /* with the root's signature too, a threshold of 2 is not met: the scoped key does not count */
    cosign(&two, &bad, root, NULL);
    expect(&two, 1, NOW, PINSET_UPDATER_APPLIED, PINSET_OK, NULL);
    assert_int_equal(
        pinset_update_verify_threshold(&u, NULL, two.p, two.len, roots, 1, 1, NOW, NULL),
        PINSET_OK);
    assert_int_equal(pinset_update_signer_count(u), 1);
    assert_int_equal(pinset_update_delegation_serial(u), 0); /* only the root counted */
    pinset_update_free(u);
    expect(&two, 2, NOW, PINSET_UPDATER_DELEGATION_SCOPE, PINSET_E_NO_MATCH,
           "(1 of 2 required signatures remain)");
    pinset__buf_free(&two);
    pinset__buf_free(&bad);
    pinset__buf_free(&doc);
    assert_int_equal(sign(&doc, signer_a, &dAny, 1, NOW, NULL), PINSET_OK); /* no scope */
    swap_delegation(&bad, &doc, &dS);
    expect(&bad, 1, NOW, PINSET_UPDATER_DELEGATION_SCOPE, PINSET_E_NO_MATCH, NULL);
    pinset__buf_free(&bad);
    pinset__buf_free(&doc);
    pinset__buf_free(&dS);
    pinset__buf_free(&dAny);
}

/* Hostile delegations: malformed or oversized ones are refused before anything is trusted. */
static void malformed_delegations(void **state)
{
    static const char *const bad[] = {
        "[]",
        "{\"payloadType\":\"x\"}",
        "{\"payloadType\":\"application/vnd.pinset.delegation+json\",\"payload\":\"e30=\","
        "\"signatures\":[{\"keyid\":\"" /* 64 zeros */
        "0000000000000000000000000000000000000000000000000000000000000000\",\"sig\":\"AAAA\","
        "\"delegation\":{}}]}",
    };
    struct pinset__buf doc, bd;
    pinset_diag d = PINSET_DIAG_INIT;

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(bad); i++) {
        pinset__buf_init(&bd, 4096, 0);
        assert_int_equal(pinset__buf_append(&bd, bad[i], strlen(bad[i])), PINSET_OK);
        assert_int_not_equal(sign(&doc, signer_a, &bd, 1, NOW, &d), PINSET_OK);
        pinset__buf_free(&doc);
        pinset__buf_free(&bd);
    }
}

/* Every allocation failure in delegate, sign, cosign and verify is PINSET_E_NOMEM (or the sink's
 * PINSET_E_IO), leaks nothing, and a later call succeeds. */
static void allocation_failures_are_clean(void **state)
{
    const EVP_PKEY *roots[1] = {root};
    struct pinset__buf dA, dB, doc, two;
    int done;

    (void)state;
    delegate(&dA, signer_a, root, 1, NOW - DAY, NOW + DAY);
    delegate(&dB, signer_b, root, 1, NOW - DAY, NOW + DAY);
    assert_int_equal(sign(&doc, signer_a, &dA, 1, NOW, NULL), PINSET_OK);
    cosign(&two, &doc, signer_b, &dB);
    done = 0;
    for (unsigned long k = 1; k < 300 && !done; k++) {
        pinset_update_delegate_options o = PINSET_UPDATE_DELEGATE_OPTIONS_INIT;
        struct pinset__buf out;
        pinset_err err;
        o.serial = 1;
        o.not_before = NOW;
        o.expires_at = NOW + DAY;
        pinset__buf_init(&out, PINSET_UPDATE_MAX_DELEGATION_SIZE, 0);
        pinset__alloc_fail_at(k);
        err = pinset_update_delegate(signer_a, &o, root, pinset__buf_sink, &out, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM || err == PINSET_E_IO);
        done = err == PINSET_OK;
        pinset__buf_free(&out);
    }
    assert_true(done);
    done = 0;
    for (unsigned long k = 1; k < 300 && !done; k++) {
        pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
        pinset_policy *p = NULL;
        struct pinset__buf out;
        pinset_err err;
        assert_int_equal(
            pinset_policy_parse(&p, (const uint8_t *)policy_text, strlen(policy_text), NULL),
            PINSET_OK);
        o.serial = 1;
        o.issued_at = NOW;
        o.expires_at = NOW + DAY;
        o.delegation = dA.p;
        o.delegation_len = dA.len;
        pinset__buf_init(&out, PINSET_UPDATE_MAX_SIZE, 0);
        pinset__alloc_fail_at(k);
        err = pinset_update_sign(p, &o, signer_a, pinset__buf_sink, &out, NULL);
        pinset__alloc_fail_at(0);
        pinset_policy_free(p);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM || err == PINSET_E_IO);
        done = err == PINSET_OK;
        pinset__buf_free(&out);
    }
    assert_true(done);
    done = 0;
    for (unsigned long k = 1; k < 300 && !done; k++) {
        struct pinset__buf out;
        pinset_err err;
        pinset__buf_init(&out, PINSET_UPDATE_MAX_SIZE, 0);
        pinset__alloc_fail_at(k);
        err = pinset_update_cosign(doc.p, doc.len, signer_b, dB.p, dB.len, pinset__buf_sink, &out,
                                   NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM || err == PINSET_E_IO);
        done = err == PINSET_OK;
        pinset__buf_free(&out);
    }
    assert_true(done);
    done = 0;
    for (unsigned long k = 1; k < 300 && !done; k++) {
        pinset_updater_status st;
        pinset_update *u = NULL;
        pinset_err err;
        pinset__alloc_fail_at(k);
        err = pinset_update_verify_threshold(&u, &st, two.p, two.len, roots, 1, 2, NOW, NULL);
        pinset__alloc_fail_at(0);
        if (err != PINSET_OK && err != PINSET_E_NOMEM) {
            fail_msg("allocation %lu: %s", k, pinset_err_name(err));
        }
        assert_true((err == PINSET_OK) == (u != NULL));
        if (err == PINSET_OK) {
            assert_int_equal(pinset_update_signer_count(u), 2);
            done = 1;
        }
        pinset_update_free(u);
    }
    assert_true(done);
    pinset__buf_free(&dA);
    pinset__buf_free(&dB);
    pinset__buf_free(&doc);
    pinset__buf_free(&two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delegated_key_signs),           cmocka_unit_test(delegation_refusals),
        cmocka_unit_test(planted_delegations),           cmocka_unit_test(threshold),
        cmocka_unit_test(one_key_two_encodings),         cmocka_unit_test(delegation_rollback),
        cmocka_unit_test(malformed_delegations),         cmocka_unit_test(scoped_delegations),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
