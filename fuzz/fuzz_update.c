/*
 * fuzz_update.c - fuzz target for signed policy updates.
 *
 * Target functions: pinset_update_verify_threshold (the DSSE envelope
 * parser, strict base64, the signature check, delegations and their parser,
 * the payload parser, the validity window, the embedded policy and the
 * scope check), pinset__dsse_pae.
 * The first input byte picks the mode: odd, the rest is an envelope checked
 * against two fixed keys (Ed25519 and P-256), with a threshold of 1 or, when
 * the byte is 3 mod 4, 2; 'D', the rest is a delegation's payload that this
 * target signs with the fixed Ed25519 key (the root) and carries in an
 * update's signature, so that the fuzzer reaches the delegation parser
 * behind a valid root signature; any other even byte, the rest is a payload
 * that this target signs with the fixed Ed25519 key, so that the fuzzer
 * reaches the payload parser behind a valid signature.
 * Properties checked (abort on violation): a refusal returns no update and
 * sets the diag's code to the returned one with a non-empty one-line
 * message; an accepted update has a serial of at least 1, a window around
 * the verification time, a policy, and a keyid of 64 hex digits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <pinset/update.h>

#include "update/dsse.h"
#include "util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2027-01-01T00:00:00Z */
#define NOW 1798761600

/* Fixed test keys: an Ed25519 seed and a P-256 scalar, both public knowledge. */
static const uint8_t ed_seed[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static EVP_PKEY *ed_key(void)
{
    static EVP_PKEY *key;
    if (key == NULL) {
        key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, ed_seed, sizeof(ed_seed));
    }
    return key;
}

static EVP_PKEY *ec_key(void)
{
    static EVP_PKEY *key;
    if (key == NULL) {
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }
    return key;
}

static void check(pinset_err err, const pinset_update *u, const pinset_diag *d)
{
    if (err != PINSET_OK) {
        if (u != NULL || d->code != err || d->message[0] == '\0' ||
            strchr(d->message, '\n') != NULL) {
            abort();
        }
        return;
    }
    if (u == NULL || pinset_update_serial(u) < 1 || pinset_update_expires_at(u) <= NOW ||
        pinset_update_issued_at(u) > NOW + PINSET_UPDATE_CLOCK_SKEW ||
        pinset_update_policy(u) == NULL || strlen(pinset_update_keyid_used(u)) != 64) {
        abort();
    }
}

/* An envelope of type around payload, signed with the Ed25519 key; NULL when it cannot be made. */
static struct pinset__buf *wrap_as(struct pinset__buf *out, const char *type, const uint8_t *p,
                                   size_t n)
{
    struct pinset__buf pae;
    char keyid[PINSET__KEYID_HEX + 1];
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    int ok;

    pinset__buf_init(out, PINSET_UPDATE_MAX_SIZE, 0);
    ok = pinset__dsse_pae(&pae, type, strlen(type), p, n) == PINSET_OK &&
         pinset__dsse_sign(&sig, &sig_len, ed_key(), pae.p, pae.len, NULL) == PINSET_OK &&
         pinset__dsse_keyid(keyid, ed_key(), NULL) == PINSET_OK &&
         pinset__buf_append(out, "{\"payloadType\":\"", 16) == PINSET_OK &&
         pinset__buf_append(out, type, strlen(type)) == PINSET_OK &&
         pinset__buf_append(out, "\",\"payload\":\"", 13) == PINSET_OK &&
         pinset__b64_encode(out, p, n) == PINSET_OK &&
         pinset__buf_append(out, "\",\"signatures\":[{\"keyid\":\"", 26) == PINSET_OK &&
         pinset__buf_append(out, keyid, strlen(keyid)) == PINSET_OK &&
         pinset__buf_append(out, "\",\"sig\":\"", 9) == PINSET_OK &&
         pinset__b64_encode(out, sig, sig_len) == PINSET_OK &&
         pinset__buf_append(out, "\"}]}", 4) == PINSET_OK;
    pinset__free(sig);
    pinset__buf_free(&pae);
    if (!ok) {
        pinset__buf_free(out);
        return NULL;
    }
    return out;
}

static struct pinset__buf *wrap(struct pinset__buf *out, const uint8_t *p, size_t n)
{
    return wrap_as(out, PINSET_UPDATE_PAYLOAD_TYPE, p, n);
}

/*
 * An update whose one signature (by a key named in no root) carries a
 * delegation of payload p, signed by the Ed25519 root; NULL when it cannot
 * be made.
 */
static struct pinset__buf *wrap_delegated(struct pinset__buf *out, const uint8_t *p, size_t n)
{
    /* {"serial":1,"issued_at":"2026-12-31T00:00:00Z","expires_at":"2027-02-01T00:00:00Z","policy":{"version":1,"rules":[]}}
     */
    static const char head[] =
        "{\"payloadType\":\"" PINSET_UPDATE_PAYLOAD_TYPE "\",\"payload\":\""
        "eyJzZXJpYWwiOjEsImlzc3VlZF9hdCI6IjIwMjYtMTItMzFUMDA6MDA6MDBaIiwiZXhwaXJlc19hdCI6IjIwMjct"
        "MDItMDFUMDA6MDA6MDBaIiwicG9saWN5Ijp7InZlcnNpb24iOjEsInJ1bGVzIjpbXX19\",\"signatures\":"
        "[{\"keyid\":\"" /* 64 hex digits */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"sig\":\"AAAA\","
        "\"delegation\":";
    struct pinset__buf deleg;
    int ok;

    if (wrap_as(&deleg, PINSET_UPDATE_DELEGATION_TYPE, p, n) == NULL) {
        return NULL;
    }
    pinset__buf_init(out, PINSET_UPDATE_MAX_SIZE, 0);
    ok = pinset__buf_append(out, head, strlen(head)) == PINSET_OK &&
         pinset__buf_append(out, deleg.p, deleg.len) == PINSET_OK &&
         pinset__buf_append(out, "}]}", 3) == PINSET_OK;
    pinset__buf_free(&deleg);
    if (!ok) {
        pinset__buf_free(out);
        return NULL;
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const EVP_PKEY *trusted[2];
    struct pinset__buf env;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    trusted[0] = ed_key();
    trusted[1] = ec_key();
    if (size == 0 || trusted[0] == NULL || trusted[1] == NULL) {
        return 0;
    }
    if (data[0] & 1) {
        err = pinset_update_verify_threshold(&u, NULL, data + 1, size - 1, trusted, 2,
                                             (data[0] & 3) == 3 ? 2 : 1, NOW, &d);
    } else if (data[0] == 'D') {
        if (wrap_delegated(&env, data + 1, size - 1) == NULL) {
            return 0;
        }
        err = pinset_update_verify(&u, env.p, env.len, trusted, 2, NOW, &d);
        pinset__buf_free(&env);
    } else {
        if (wrap(&env, data + 1, size - 1) == NULL) {
            return 0;
        }
        err = pinset_update_verify(&u, env.p, env.len, trusted, 2, NOW, &d);
        pinset__buf_free(&env);
    }
    check(err, u, &d);
    pinset_update_free(u);
    return 0;
}
