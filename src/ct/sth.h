/*
 * sth.h - a CT log's key and its signed tree heads (RFC 6962 §3.5 and §4.3):
 * the key from a PEM file or from a log list entry's base64 DER
 * SubjectPublicKeyInfo, the log ID (SHA-256 of that DER), the get-sth JSON
 * parsed, and the tree-head signature (a TLS `digitally-signed` struct,
 * SHA-256 with ECDSA or RSA) verified.
 */
#ifndef PINSET_CT_STH_H
#define PINSET_CT_STH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ct/merkle.h"

/* The largest DigitallySigned we accept (an RSA-8192 signature and its four header bytes). */
#define CT_MAX_SIG 1028

typedef struct ct_log_key {
    EVP_PKEY *pkey;
    uint8_t log_id[CT_HASH_LEN]; /* SHA-256 of the DER SubjectPublicKeyInfo (RFC 6962 §3.2) */
} ct_log_key;

/*
 * Read a log key: a PEM "PUBLIC KEY" file, or (when `text` starts with no
 * "-----") the base64 DER SubjectPublicKeyInfo of a log list entry's "key".
 * ECDSA P-256 and RSA (2048 bits or more) only. 0, or -1 with a reason in err.
 */
int ct_log_key_parse(ct_log_key *out, const uint8_t *text, size_t len, char *err, size_t errcap);
void ct_log_key_free(ct_log_key *k);

typedef struct ct_sth {
    uint64_t tree_size;
    uint64_t timestamp; /* milliseconds since the epoch */
    uint8_t root[CT_HASH_LEN];
    uint8_t sig[CT_MAX_SIG]; /* the DigitallySigned struct as sent */
    size_t sig_len;
} ct_sth;

/* Parse a get-sth response body (JSON). 0, or -1 with the field and reason in err. */
int ct_sth_parse(ct_sth *out, const uint8_t *body, size_t len, char *err, size_t errcap);
/*
 * Verify the tree-head signature: the DigitallySigned (hash sha256, signature
 * ecdsa or rsa matching the key) over version v1, signature_type tree_hash,
 * timestamp, tree_size and root (RFC 6962 §3.5). 1 when valid, else 0 with the reason in err.
 */
int ct_sth_verify(const ct_sth *sth, const ct_log_key *key, char *err, size_t errcap);
/* The 50 bytes a log signs for a tree head (RFC 6962 §3.5 TreeHeadSignature). */
void ct_sth_signed_data(uint8_t out[50], uint64_t timestamp, uint64_t tree_size,
                        const uint8_t root[CT_HASH_LEN]);

/* Strict base64 (RFC 4648 §4, padded) into out (cap bytes). 0 and *out_len, or -1. */
int ct_b64_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t len);

#endif /* PINSET_CT_STH_H */
