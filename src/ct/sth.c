/*
 * sth.c - log keys and signed tree heads (see sth.h).
 */
#include "ct/sth.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ct/err.h"
#include "util/base.h"

/*
 * Strict base64 is on the CT monitor's hot path (every entry of every batch),
 * so it decodes a group of four characters with four table lookups and ORs:
 * b64_dec[k][c] is the value of character c shifted into place k of the
 * group's 24 bits, or B64_BAD (bits no valid group sets) for a character
 * outside the RFC 4648 section 4 alphabet, '=' included.
 */
#define B64_VAL(c)                               \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'      \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26 \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52 \
     : (c) == '+'               ? 62             \
     : (c) == '/'               ? 63             \
                                : -1)
#define B64_BAD        0xff000000u
#define B64_T(c, sh)   (B64_VAL(c) < 0 ? B64_BAD : (uint32_t)B64_VAL(c) << (sh))
#define B64_R4(c, sh)  B64_T(c, sh), B64_T((c) + 1, sh), B64_T((c) + 2, sh), B64_T((c) + 3, sh)
#define B64_R16(c, sh) B64_R4(c, sh), B64_R4((c) + 4, sh), B64_R4((c) + 8, sh), B64_R4((c) + 12, sh)
#define B64_R64(c, sh) \
    B64_R16(c, sh), B64_R16((c) + 16, sh), B64_R16((c) + 32, sh), B64_R16((c) + 48, sh)
#define B64_R256(sh) B64_R64(0, sh), B64_R64(64, sh), B64_R64(128, sh), B64_R64(192, sh)

static const uint32_t b64_dec[4][256] = {
    {B64_R256(18)}, {B64_R256(12)}, {B64_R256(6)}, {B64_R256(0)}};

int ct_b64_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = 0, pad = 0, full;
    uint32_t bad = 0, w;

    if (len % 4 != 0) {
        return -1;
    }
    if (len > 0 && s[len - 1] == '=') {
        pad = s[len - 2] == '=' ? 2 : 1;
    }
    if (len / 4 * 3 - pad > cap) {
        return -1;
    }
    full = pad > 0 ? len - 4 : len; /* the groups without padding */
    for (size_t i = 0; i < full; i += 4) {
        w = b64_dec[0][s[i]] | b64_dec[1][s[i + 1]] | b64_dec[2][s[i + 2]] | b64_dec[3][s[i + 3]];
        bad |= w;
        out[n] = (uint8_t)(w >> 16);
        out[n + 1] = (uint8_t)(w >> 8);
        out[n + 2] = (uint8_t)w;
        n += 3;
    }
    if (pad > 0) {
        const unsigned char *g = s + len - 4;

        w = b64_dec[0][g[0]] | b64_dec[1][g[1]] | (pad == 1 ? b64_dec[2][g[2]] : 0);
        bad |= w;
        /* Canonical: the bits that padding drops are zero. */
        if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0)) {
            return -1;
        }
        out[n++] = (uint8_t)(w >> 16);
        if (pad == 1) {
            out[n++] = (uint8_t)(w >> 8);
        }
    }
    if (bad & B64_BAD) {
        return -1;
    }
    *out_len = n;
    return 0;
}

int ct_log_key_parse(ct_log_key *out, const uint8_t *text, size_t len, char *err, size_t errcap)
{
    EVP_PKEY *pkey = NULL;
    unsigned char *der = NULL;
    int der_len, ok = 0;
    unsigned int n = 0;

    memset(out, 0, sizeof(*out));
    if (len >= 5 && memcmp(text, "-----", 5) == 0) {
        BIO *b = BIO_new_mem_buf(text, (int)(len > 1 << 20 ? 1 << 20 : len));

        pkey = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    } else {
        uint8_t buf[4096];
        size_t blen = 0, tl = len;
        const unsigned char *p = buf;

        while (tl > 0 && (text[tl - 1] == '\n' || text[tl - 1] == '\r' || text[tl - 1] == ' ')) {
            tl--;
        }
        if (ct_b64_decode(buf, sizeof(buf), &blen, (const char *)text, tl) != 0) {
            ct_seterr(err, errcap,
                      "not a PEM public key, nor base64 of a DER SubjectPublicKeyInfo");
            goto out;
        }
        pkey = d2i_PUBKEY(NULL, &p, (long)blen);
        if (pkey != NULL && p != buf + blen) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    if (pkey == NULL) {
        ct_seterr(err, errcap, "not a public key that OpenSSL can read");
        goto out;
    }
    if (!(EVP_PKEY_is_a(pkey, "EC") ||
          (EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048))) {
        ct_seterr(err, errcap, "a log key must be ECDSA P-256 or RSA of 2048 bits or more");
        goto out;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64] = "";
        size_t glen = 0;

        if (EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof(group), &glen) != 1 ||
            strcmp(group, "prime256v1") != 0) {
            ct_seterr(err, errcap, "an ECDSA log key must be on P-256");
            goto out;
        }
    }
    der_len = i2d_PUBKEY(pkey, &der);
    if (der_len <= 0 ||
        EVP_Digest(der, (size_t)der_len, out->log_id, &n, EVP_sha256(), NULL) != 1) {
        ct_seterr(err, errcap, "cannot encode the key");
        goto out;
    }
    out->pkey = pkey;
    pkey = NULL;
    ok = 1;
out:
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return ok ? 0 : -1;
}

void ct_log_key_free(ct_log_key *k)
{
    if (k != NULL) {
        EVP_PKEY_free(k->pkey);
        k->pkey = NULL;
    }
}

static int get_u64(const json_t *root, const char *key, uint64_t *out, char *err, size_t cap)
{
    const json_t *v = json_object_get(root, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        ct_seterr(err, cap, "%s: missing or not a non-negative integer", key);
        return -1;
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_b64(const json_t *root, const char *key, uint8_t *out, size_t cap, size_t *len,
                   char *err, size_t errcap)
{
    const json_t *v = json_object_get(root, key);

    if (!json_is_string(v) ||
        ct_b64_decode(out, cap, len, json_string_value(v), json_string_length(v)) != 0) {
        ct_seterr(err, errcap, "%s: missing, not base64, or longer than %zu bytes", key, cap);
        return -1;
    }
    return 0;
}

int ct_sth_parse(ct_sth *out, const uint8_t *body, size_t len, char *err, size_t errcap)
{
    json_error_t je;
    json_t *root;
    size_t rlen = 0;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL || !json_is_object(root)) {
        ct_seterr(err, errcap, "get-sth: not a JSON object (%s)", root == NULL ? je.text : "type");
        goto out;
    }
    if (get_u64(root, "tree_size", &out->tree_size, err, errcap) != 0 ||
        get_u64(root, "timestamp", &out->timestamp, err, errcap) != 0 ||
        get_b64(root, "sha256_root_hash", out->root, sizeof(out->root), &rlen, err, errcap) != 0 ||
        get_b64(root, "tree_head_signature", out->sig, sizeof(out->sig), &out->sig_len, err,
                errcap) != 0) {
        goto out;
    }
    if (rlen != CT_HASH_LEN) {
        ct_seterr(err, errcap, "sha256_root_hash: %zu bytes, not 32", rlen);
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

void ct_sth_signed_data(uint8_t out[50], uint64_t timestamp, uint64_t tree_size,
                        const uint8_t root[CT_HASH_LEN])
{
    out[0] = 0; /* version v1 */
    out[1] = 1; /* signature_type tree_hash */
    for (int i = 0; i < 8; i++) {
        out[2 + i] = (uint8_t)(timestamp >> (56 - 8 * i));
        out[10 + i] = (uint8_t)(tree_size >> (56 - 8 * i));
    }
    memcpy(out + 18, root, CT_HASH_LEN);
}

int ct_sth_verify(const ct_sth *sth, const ct_log_key *key, char *err, size_t errcap)
{
    uint8_t tbs[50];
    EVP_MD_CTX *ctx = NULL;
    size_t slen;
    int want_alg, ok = 0;

    /* RFC 5246 §4.7 digitally-signed: hash(1) sig(1) opaque<0..2^16-1>. */
    if (sth->sig_len < 4) {
        ct_seterr(err, errcap, "tree_head_signature: shorter than its header");
        return 0;
    }
    slen = ((size_t)sth->sig[2] << 8) | sth->sig[3];
    if (slen + 4 != sth->sig_len) {
        ct_seterr(err, errcap, "tree_head_signature: length %zu does not match the %zu bytes sent",
                  slen, sth->sig_len - 4);
        return 0;
    }
    want_alg = EVP_PKEY_is_a(key->pkey, "EC") ? 3 : 1;
    if (sth->sig[0] != 4 || sth->sig[1] != want_alg) {
        ct_seterr(err, errcap,
                  "tree_head_signature: algorithm %u/%u, not sha256 with the log key's",
                  sth->sig[0], sth->sig[1]);
        return 0;
    }
    ct_sth_signed_data(tbs, sth->timestamp, sth->tree_size, sth->root);
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
         EVP_DigestVerify(ctx, sth->sig + 4, slen, tbs, sizeof(tbs)) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        ct_seterr(err, errcap, "tree_head_signature: does not verify with the log key");
    }
    return ok;
}
