/*
 * dsse.c - the DSSE envelope: strict base64, PAE, the envelope's JSON and
 * the signatures over the PAE (secure-systems-lab/dsse protocol.md and
 * envelope.md, v1.0). Nothing here knows what the payload means.
 */
#include "update/dsse.h"

#include <jansson.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "internal.h"
#include "util/base64.h"
#include "util/digest.h"
#include "util/hex.h"

pinset_err pinset__b64_encode(struct pinset__buf *out, const uint8_t *buf, size_t len)
{
    size_t n = 4 * ((len + 2) / 3);
    pinset_err err;
    int w;

    if (len > (size_t)PINSET_UPDATE_MAX_SIZE) {
        return PINSET_E_LIMIT;
    }
    err = pinset__buf_reserve(out, n);
    if (err != PINSET_OK) {
        return err;
    }
    w = EVP_EncodeBlock(out->p + out->len, buf, (int)len);
    if (w < 0 || (size_t)w != n) {
        return PINSET_E_INTERNAL;
    }
    pinset__buf_commit(out, n);
    return PINSET_OK;
}

/*
 * Decode canonical padded standard base64 (RFC 4648 section 4): length a
 * multiple of 4, '=' only as the last one or two characters, zero unused
 * bits (RFC 4648 section 3.5: the low 2 or 4 bits of the last character
 * before the padding). DSSE also allows URL-safe and unpadded forms on
 * input; pinset writes and reads only this one.
 */
pinset_err pinset__b64_decode(uint8_t **out, size_t *out_len, const char *s, size_t len,
                              pinset_diag *diag)
{
    size_t pad = 0, n;
    uint8_t *p = NULL;
    int w;

    *out = NULL;
    *out_len = 0;
    if (len == 0 || len % 4 != 0 || len > (size_t)PINSET_UPDATE_MAX_SIZE) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "not padded standard base64 (length %zu)", len);
    }
    pad = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < len - pad; i++) {
        if (pinset__b64_digit((unsigned char)s[i], 0) < 0) {
            return PINSET_DIAG(diag, PINSET_E_PARSE,
                               "not padded standard base64 (bad character at %zu)", i);
        }
    }
    if (pad > 0 &&
        (pinset__b64_digit((unsigned char)s[len - pad - 1], 0) & (pad == 1 ? 0x03 : 0x0f)) != 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "base64 is not canonical");
    }
    n = len / 4 * 3;
    p = pinset__alloc(n + 1);
    if (p == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    w = EVP_DecodeBlock(p, (const unsigned char *)s, (int)len);
    if (w < 0 || (size_t)w != n) {
        pinset__free(p);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "not padded standard base64");
    }
    *out = p;
    *out_len = n - pad;
    return PINSET_OK;
}

/*
 * obj must have only the keys in `keys` (n of them), and the first nreq of
 * them; the error names the first other one.
 */
static pinset_err keys_in(json_t *obj, const char *const *keys, size_t n, size_t nreq,
                          const char *where, pinset_diag *diag)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "%s is not a json object", where);
    }
    json_object_foreach(obj, k, v)
    {
        size_t i = 0;
        (void)v;
        while (i < n && strcmp(k, keys[i]) != 0) {
            i++;
        }
        if (i == n) {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "unknown key in %s", where);
        }
    }
    for (size_t i = 0; i < nreq; i++) {
        if (json_object_get(obj, keys[i]) == NULL) {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "%s has no \"%s\"", where, keys[i]);
        }
    }
    return PINSET_OK;
}

/* obj must have exactly the keys in `keys` (n of them). */
static pinset_err exact_keys(json_t *obj, const char *const *keys, size_t n, const char *where,
                             pinset_diag *diag)
{
    return keys_in(obj, keys, n, n, where, diag);
}

static int is_keyid(const char *s, size_t len)
{
    if (len != PINSET__KEYID_HEX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/*
 * A signature's delegation: a JSON object (a DSSE envelope of its own,
 * checked by delegate.c), kept as compact JSON text. Its own signature
 * covers its payload's bytes, not this text, so re-serialising it is safe.
 */
static pinset_err parse_delegation(struct pinset__dsse_sig *sig, json_t *obj, size_t i,
                                   pinset_diag *diag)
{
    char path[64];
    char *text;

    snprintf(path, sizeof(path), "signatures[%zu].delegation", i);
    if (!json_is_object(obj)) {
        pinset__diag_path(diag, path);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "delegation is not a json object");
    }
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (strlen(text) > PINSET_UPDATE_MAX_DELEGATION_SIZE) {
        free(text);
        pinset__diag_path(diag, path);
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "delegation larger than %d octets",
                           PINSET_UPDATE_MAX_DELEGATION_SIZE);
    }
    sig->deleg_len = strlen(text);
    sig->deleg = pinset__strndup(text, sig->deleg_len);
    free(text);
    return sig->deleg != NULL ? PINSET_OK : PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
}

static pinset_err parse_sig(struct pinset__dsse_sig *sig, json_t *obj, size_t i, int outer,
                            pinset_diag *diag)
{
    static const char *const keys[] = {"keyid", "sig", "delegation"};
    char path[64];
    const json_t *kid = json_object_get(obj, "keyid"), *s = json_object_get(obj, "sig");
    pinset_err err;

    snprintf(path, sizeof(path), "signatures[%zu]", i);
    /* only an update's signatures may carry a delegation; a delegation's may not */
    err = keys_in(obj, keys, outer ? 3 : 2, 2, "a signature", diag);
    if (err != PINSET_OK) {
        pinset__diag_path(diag, path);
        return err;
    }
    if (!json_is_string(kid) || !is_keyid(json_string_value(kid), json_string_length(kid))) {
        snprintf(path, sizeof(path), "signatures[%zu].keyid", i);
        pinset__diag_path(diag, path);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "keyid is not 64 lower-case hex digits");
    }
    memcpy(sig->keyid, json_string_value(kid), PINSET__KEYID_HEX + 1);
    snprintf(path, sizeof(path), "signatures[%zu].sig", i);
    if (!json_is_string(s)) {
        pinset__diag_path(diag, path);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "sig is not a string");
    }
    err = pinset__b64_decode(&sig->sig, &sig->sig_len, json_string_value(s), json_string_length(s),
                             diag);
    if (err != PINSET_OK) {
        pinset__diag_path(diag, path);
        return err;
    }
    if (json_object_get(obj, "delegation") != NULL) {
        err = parse_delegation(sig, json_object_get(obj, "delegation"), i, diag);
    }
    return err;
}

static pinset_err parse_root(struct pinset__dsse *env, json_t *root, int outer, pinset_diag *diag)
{
    static const char *const keys[] = {"payloadType", "payload", "signatures"};
    const json_t *type = json_object_get(root, "payloadType");
    const json_t *body = json_object_get(root, "payload");
    const json_t *sigs = json_object_get(root, "signatures");
    pinset_err err = exact_keys(root, keys, 3, "the envelope", diag);

    if (err != PINSET_OK) {
        return err;
    }
    if (!json_is_string(type) || json_string_length(type) == 0) {
        pinset__diag_path(diag, "payloadType");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "payloadType is not a non-empty string");
    }
    env->type = pinset__strndup(json_string_value(type), json_string_length(type));
    if (env->type == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    env->type_len = json_string_length(type);
    if (!json_is_string(body)) {
        pinset__diag_path(diag, "payload");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "payload is not a string");
    }
    err = pinset__b64_decode(&env->body, &env->body_len, json_string_value(body),
                             json_string_length(body), diag);
    if (err != PINSET_OK) {
        pinset__diag_path(diag, "payload");
        return err;
    }
    if (!json_is_array(sigs) || json_array_size(sigs) == 0) {
        pinset__diag_path(diag, "signatures");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "signatures is not a non-empty array");
    }
    if (json_array_size(sigs) > PINSET_UPDATE_MAX_SIGNATURES) {
        pinset__diag_path(diag, "signatures");
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "more than %d signatures",
                           PINSET_UPDATE_MAX_SIGNATURES);
    }
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        err = parse_sig(&env->sigs[i], json_array_get(sigs, i), i, outer, diag);
        env->nsig = i + 1;
        if (err != PINSET_OK) {
            return err;
        }
    }
    return PINSET_OK;
}

pinset_err pinset__dsse_parse(struct pinset__dsse *env, const uint8_t *doc, size_t len,
                              pinset_diag *diag)
{
    return pinset__dsse_parse_as(env, doc, len, 1, diag);
}

pinset_err pinset__dsse_parse_as(struct pinset__dsse *env, const uint8_t *doc, size_t len,
                                 int outer, pinset_diag *diag)
{
    json_error_t jerr;
    json_t *root;
    pinset_err err;

    memset(env, 0, sizeof(*env));
    if (len > PINSET_UPDATE_MAX_SIZE) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "document larger than %zu octets",
                           PINSET_UPDATE_MAX_SIZE);
    }
    root = json_loadb((const char *)doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        pinset__diag_pos(diag, SIZE_MAX, jerr.line > 0 ? (size_t)jerr.line : 0,
                         jerr.column > 0 ? (size_t)jerr.column : 0, 0);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "envelope is not json: %s", jerr.text);
    }
    err = parse_root(env, root, outer, diag);
    json_decref(root);
    return err;
}

void pinset__dsse_free(struct pinset__dsse *env)
{
    if (env == NULL) {
        return;
    }
    pinset__free(env->type);
    pinset__free(env->body);
    for (size_t i = 0; i < env->nsig; i++) {
        pinset__free(env->sigs[i].sig);
        pinset__free(env->sigs[i].deleg);
    }
    memset(env, 0, sizeof(*env));
}

pinset_err pinset__dsse_pae(struct pinset__buf *out, const char *type, size_t type_len,
                            const uint8_t *body, size_t body_len)
{
    char head[64];
    int w;
    pinset_err err;

    pinset__buf_init(out, type_len + body_len + 2 * sizeof(head), 0);
    w = snprintf(head, sizeof(head), "DSSEv1 %zu ", type_len);
    err = pinset__buf_append(out, head, (size_t)w);
    if (err == PINSET_OK) {
        err = pinset__buf_append(out, type, type_len);
    }
    w = snprintf(head, sizeof(head), " %zu ", body_len);
    if (err == PINSET_OK) {
        err = pinset__buf_append(out, head, (size_t)w);
    }
    if (err == PINSET_OK && body_len > 0) {
        err = pinset__buf_append(out, body, body_len);
    }
    return err;
}

pinset_err pinset__dsse_keyid(char out[PINSET__KEYID_HEX + 1], const EVP_PKEY *key,
                              pinset_diag *diag)
{
    uint8_t md[PINSET__SHA256_LEN];
    unsigned char *der = NULL;
    int n;

    out[0] = '\0';
    ERR_set_mark();
    n = i2d_PUBKEY(key, &der);
    if (n <= 0 || pinset__sha256(md, der, (size_t)n, NULL, NULL) != 1) {
        OPENSSL_free(der);
        return PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, "cannot encode the public key");
    }
    OPENSSL_free(der);
    ERR_pop_to_mark();
    pinset__hex_encode(out, md, sizeof(md)); /* PINSET__KEYID_HEX digits */
    return PINSET_OK;
}

EVP_PKEY *pinset__dsse_public(const EVP_PKEY *key)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *pub = NULL;
    int n;

    ERR_set_mark();
    n = i2d_PUBKEY(key, &der);
    if (n > 0) {
        p = der;
        pub = d2i_PUBKEY(NULL, &p, n);
    }
    OPENSSL_free(der);
    ERR_pop_to_mark();
    return pub;
}

pinset_err pinset__dsse_key_ok(const EVP_PKEY *key, pinset_diag *diag)
{
    char group[64];

    if (EVP_PKEY_is_a(key, "ED25519")) {
        return PINSET_OK;
    }
    ERR_set_mark();
    if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) == 1 &&
        (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)) {
        ERR_pop_to_mark();
        return PINSET_OK;
    }
    ERR_pop_to_mark();
    return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "the key is neither ed25519 nor ec p-256");
}

/* The digest a key type signs with: none for Ed25519 (pure), SHA-256 for ECDSA. */
static const char *md_for(const EVP_PKEY *key)
{
    return EVP_PKEY_is_a(key, "ED25519") ? NULL : "SHA256";
}

pinset_err pinset__dsse_sign(uint8_t **sig, size_t *sig_len, EVP_PKEY *key, const uint8_t *msg,
                             size_t msg_len, pinset_diag *diag)
{
    EVP_MD_CTX *ctx = NULL;
    uint8_t *p = NULL;
    size_t n = 0;
    pinset_err err = pinset__dsse_key_ok(key, diag);

    *sig = NULL;
    *sig_len = 0;
    if (err != PINSET_OK) {
        return err;
    }
    ERR_set_mark();
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestSignInit_ex(ctx, NULL, md_for(key), NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(ctx, NULL, &n, msg, msg_len) != 1 || n == 0) {
        err = PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, "cannot sign");
        goto out;
    }
    p = pinset__alloc(n);
    if (p == NULL) {
        ERR_pop_to_mark();
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        goto out;
    }
    if (EVP_DigestSign(ctx, p, &n, msg, msg_len) != 1) {
        err = PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, "cannot sign");
        goto out;
    }
    ERR_pop_to_mark();
    *sig = p;
    *sig_len = n;
    p = NULL;
out:
    pinset__free(p);
    EVP_MD_CTX_free(ctx);
    return err;
}

int pinset__dsse_verify(EVP_PKEY *key, const uint8_t *sig, size_t sig_len, const uint8_t *msg,
                        size_t msg_len)
{
    EVP_MD_CTX *ctx;
    int ok;

    ERR_set_mark();
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL &&
         EVP_DigestVerifyInit_ex(ctx, NULL, md_for(key), NULL, NULL, key, NULL) == 1 &&
         EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_pop_to_mark();
    return ok;
}

static pinset_err put(struct pinset__buf *b, const char *s)
{
    return pinset__buf_append(b, s, strlen(s));
}

pinset_err pinset__dsse_write(struct pinset__buf *out, const char *type, const uint8_t *body,
                              size_t body_len, const struct pinset__dsse_sig *sigs, size_t nsig)
{
    /* type is one of pinset's constants: no JSON escape needed */
    pinset_err err = put(out, "{\"payloadType\":\"");

    if (err == PINSET_OK) {
        err = put(out, type);
    }
    if (err == PINSET_OK) {
        err = put(out, "\",\"payload\":\"");
    }
    if (err == PINSET_OK) {
        err = pinset__b64_encode(out, body, body_len);
    }
    if (err == PINSET_OK) {
        err = put(out, "\",\"signatures\":[");
    }
    for (size_t i = 0; err == PINSET_OK && i < nsig; i++) {
        err = put(out, i == 0 ? "{\"keyid\":\"" : ",{\"keyid\":\"");
        if (err == PINSET_OK) {
            err = put(out, sigs[i].keyid);
        }
        if (err == PINSET_OK) {
            err = put(out, "\",\"sig\":\"");
        }
        if (err == PINSET_OK) {
            err = pinset__b64_encode(out, sigs[i].sig, sigs[i].sig_len);
        }
        if (err == PINSET_OK) {
            err = put(out, "\"");
        }
        if (err == PINSET_OK && sigs[i].deleg != NULL) {
            err = put(out, ",\"delegation\":");
            if (err == PINSET_OK) {
                err = pinset__buf_append(out, sigs[i].deleg, sigs[i].deleg_len);
            }
        }
        if (err == PINSET_OK) {
            err = put(out, "}");
        }
    }
    if (err == PINSET_OK) {
        err = put(out, "]}\n");
    }
    return err;
}
