/*
 * dsse.h - the DSSE envelope (secure-systems-lab/dsse, envelope.md and
 * protocol.md, v1.0): strict base64, the PAE encoding, the envelope's JSON,
 * and the Ed25519 / ECDSA P-256 signatures over the PAE. Internal; the
 * payload's meaning is update.c's.
 */
#ifndef PINSET_UPDATE_DSSE_H
#define PINSET_UPDATE_DSSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <pinset/error.h>
#include <pinset/update.h>

#include "util/buf.h"

/* The SHA-256 keyid in hex: 64 digits. */
#define PINSET__KEYID_HEX 64

struct pinset__dsse_sig {
    char keyid[PINSET__KEYID_HEX + 1];
    uint8_t *sig;
    size_t sig_len;
    char *deleg; /* the signature's delegation envelope as compact JSON, or NULL */
    size_t deleg_len;
};

/* A parsed (not yet verified) envelope. */
struct pinset__dsse {
    char *type; /* NUL-terminated; type_len octets */
    size_t type_len;
    uint8_t *body; /* the decoded payload, exactly as signed */
    size_t body_len;
    struct pinset__dsse_sig sigs[PINSET_UPDATE_MAX_SIGNATURES];
    size_t nsig;
};

/*
 * Parse an envelope: JSON of exactly payloadType, payload and signatures;
 * each signature exactly keyid (64 lower-case hex digits) and sig; payload
 * and sig canonical padded standard base64 (RFC 4648 section 4). Returns
 * PINSET_OK, PINSET_E_PARSE, PINSET_E_LIMIT or PINSET_E_NOMEM; the caller
 * releases env with pinset__dsse_free (also on failure).
 */
pinset_err pinset__dsse_parse(struct pinset__dsse *env, const uint8_t *doc, size_t len,
                              pinset_diag *diag);
/* As pinset__dsse_parse; outer 0: a delegation's envelope (no signature may carry a delegation). */
pinset_err pinset__dsse_parse_as(struct pinset__dsse *env, const uint8_t *doc, size_t len,
                                 int outer, pinset_diag *diag);
void pinset__dsse_free(struct pinset__dsse *env);

/*
 * Write an envelope (one line of JSON and a newline) into out: type, the
 * body in base64, and env's signatures with their delegations (each
 * signature's keyid, sig and deleg as parsed or made).
 */
pinset_err pinset__dsse_write(struct pinset__buf *out, const char *type, const uint8_t *body,
                              size_t body_len, const struct pinset__dsse_sig *sigs, size_t nsig);

/*
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN
 * the decimal byte count without leading zeros (protocol.md, "Signature
 * definition"), into out (initialised here; the caller frees it).
 */
pinset_err pinset__dsse_pae(struct pinset__buf *out, const char *type, size_t type_len,
                            const uint8_t *body, size_t body_len);

/* Strict canonical base64 of buf into out (appended; NUL-terminated by the buffer). */
pinset_err pinset__b64_encode(struct pinset__buf *out, const uint8_t *buf, size_t len);

/*
 * Decode strict canonical padded base64 into *out (from pinset__alloc),
 * PINSET_OK, PINSET_E_PARSE or PINSET_E_NOMEM.
 */
pinset_err pinset__b64_decode(uint8_t **out, size_t *out_len, const char *s, size_t len,
                              pinset_diag *diag);

/* The keyid (64 hex digits and NUL) of a key's public half. PINSET_OK or PINSET_E_CRYPTO/NOMEM. */
pinset_err pinset__dsse_keyid(char out[PINSET__KEYID_HEX + 1], const EVP_PKEY *key,
                              pinset_diag *diag);

/* A fresh public-key-only copy of key (from its SPKI DER), or NULL. */
EVP_PKEY *pinset__dsse_public(const EVP_PKEY *key);

/*
 * Sign msg with key (Ed25519: pure; EC P-256: ECDSA over SHA-256, DER).
 * *sig is from pinset__alloc. PINSET_OK, PINSET_E_UNSUPPORTED (another key
 * type), PINSET_E_CRYPTO or PINSET_E_NOMEM.
 */
pinset_err pinset__dsse_sign(uint8_t **sig, size_t *sig_len, EVP_PKEY *key, const uint8_t *msg,
                             size_t msg_len, pinset_diag *diag);

/* 1 when sig is key's valid signature of msg, 0 when not (or on any failure). */
int pinset__dsse_verify(EVP_PKEY *key, const uint8_t *sig, size_t sig_len, const uint8_t *msg,
                        size_t msg_len);

/* PINSET_OK when key is Ed25519 or EC P-256, else PINSET_E_UNSUPPORTED. */
pinset_err pinset__dsse_key_ok(const EVP_PKEY *key, pinset_diag *diag);

#endif /* PINSET_UPDATE_DSSE_H */
