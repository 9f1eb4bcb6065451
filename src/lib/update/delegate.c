/*
 * delegate.c - delegations from a root key to a signing key (delegate.h,
 * update.h pinset_update_delegate, docs/update-protocol.md): making one,
 * and opening one in the order the protocol gives: the envelope, the root's
 * signature over the exact payload bytes, the type, and only then the
 * payload.
 */
#include "update/delegate.h"

#include <stdio.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "internal.h"
#include "util/rfc3339.h"

void pinset__delegation_free(struct pinset__delegation *d)
{
    if (d != NULL) {
        EVP_PKEY_free(d->key);
        for (size_t i = 0; i < d->nscope; i++) {
            pinset__free(d->scope[i]);
        }
        pinset__free(d->scope);
        memset(d, 0, sizeof(*d));
    }
}

/* The scope: canonical entries (canon 0: canonicalise them), 1 to PINSET_UPDATE_MAX_SCOPE. */
static pinset_err add_scope(struct pinset__delegation *d, const char *const *entries,
                            const size_t *lens, size_t n, int strict, pinset_diag *diag)
{
    char canon[PINSET_HOST_MAX + 2];
    pinset_err err;

    if (n == 0 || n > PINSET_UPDATE_MAX_SCOPE) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "the delegation's scope has not 1 to %d entries",
                           PINSET_UPDATE_MAX_SCOPE);
    }
    d->scope = pinset__alloc_array(n, sizeof(*d->scope));
    if (d->scope == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        err = pinset__update_scope_canon(canon, entries[i], lens[i], strict, diag);
        if (err != PINSET_OK) {
            char path[32];
            snprintf(path, sizeof(path), "scope[%zu]", i);
            pinset__diag_path(diag, path);
            return err;
        }
        d->scope[i] = pinset__strndup(canon, strlen(canon));
        if (d->scope[i] == NULL) {
            return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        }
        d->nscope = i + 1;
    }
    return PINSET_OK;
}

/* The payload's optional scope (strict: canonical entries, as signed). */
static pinset_err read_scope(struct pinset__delegation *d, json_t *v, pinset_diag *diag)
{
    const char *entries[PINSET_UPDATE_MAX_SCOPE];
    size_t lens[PINSET_UPDATE_MAX_SCOPE], n = json_array_size(v);

    if (!json_is_array(v) || n == 0 || n > PINSET_UPDATE_MAX_SCOPE) {
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "the delegation's scope is not an array of 1 to %d hosts",
                           PINSET_UPDATE_MAX_SCOPE);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "a delegation scope entry is not a string");
        }
        entries[i] = json_string_value(e);
        lens[i] = json_string_length(e);
    }
    return add_scope(d, entries, lens, n, 1, diag);
}

pinset_err pinset__update_json_time(int64_t *out, json_t *obj, const char *key, pinset_diag *diag)
{
    json_t *v = json_object_get(obj, key);

    /* one spelling: "YYYY-MM-DDTHH:MM:SSZ", what pinset writes (no bare date) */
    if (!json_is_string(v) || json_string_length(v) != 20 || json_string_value(v)[10] != 'T' ||
        json_string_value(v)[19] != 'Z' ||
        pinset__time_parse(out, json_string_value(v), json_string_length(v), 0) != 0) {
        pinset__diag_path(diag, key);
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "not an rfc 3339 utc time such as \"2027-01-01T00:00:00Z\"");
    }
    return PINSET_OK;
}

/* The public key in base64 DER SPKI, of a type pinset signs with. */
static pinset_err read_key(struct pinset__delegation *d, json_t *v, pinset_diag *diag)
{
    const unsigned char *p;
    uint8_t *der = NULL;
    size_t n = 0;
    pinset_err err;

    if (!json_is_string(v)) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "key is not a string");
        goto out;
    }
    err = pinset__b64_decode(&der, &n, json_string_value(v), json_string_length(v), diag);
    if (err != PINSET_OK) {
        goto out;
    }
    p = der;
    ERR_set_mark();
    d->key = n <= 4096 ? d2i_PUBKEY(NULL, &p, (long)n) : NULL;
    ERR_pop_to_mark();
    if (d->key == NULL || p != der + n) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "key is not a DER SubjectPublicKeyInfo");
        goto out;
    }
    err = pinset__dsse_key_ok(d->key, diag);
    if (err != PINSET_OK) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "key is neither ed25519 nor ec p-256");
    }
out:
    pinset__free(der);
    return err;
}

static pinset_err parse_payload(struct pinset__delegation *d, const uint8_t *body, size_t len,
                                pinset_diag *diag)
{
    static const char *const keys[] = {"serial",     "keyid",      "key",
                                       "not_before", "expires_at", "scope"};
    char id[PINSET__KEYID_HEX + 1];
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr), *serial,
           *kid;
    const char *k;
    json_t *v;
    pinset_err err = PINSET_OK;

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return PINSET_DIAG(diag, PINSET_E_PARSE, "the delegation's payload is not a json object");
    }
    json_object_foreach(root, k, v)
    {
        size_t i = 0;
        while (i < PINSET_ARRAY_SIZE(keys) && strcmp(k, keys[i]) != 0) {
            i++;
        }
        if (i == PINSET_ARRAY_SIZE(keys)) {
            err = PINSET_DIAG(diag, PINSET_E_PARSE,
                              "unknown key in the delegation (expected serial, keyid, key, "
                              "not_before, expires_at, scope)");
            goto out;
        }
    }
    serial = json_object_get(root, "serial");
    kid = json_object_get(root, "keyid");
    if (!json_is_integer(serial) || json_integer_value(serial) < 1) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "the delegation's serial is not an integer >= 1");
        goto out;
    }
    d->serial = (uint64_t)json_integer_value(serial);
    if (!json_is_string(kid) || json_string_length(kid) != PINSET__KEYID_HEX) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "the delegation's keyid is not 64 hex digits");
        goto out;
    }
    memcpy(d->keyid, json_string_value(kid), PINSET__KEYID_HEX + 1);
    err = read_key(d, json_object_get(root, "key"), diag);
    if (err == PINSET_OK) {
        err = pinset__update_json_time(&d->not_before, root, "not_before", diag);
    }
    if (err == PINSET_OK) {
        err = pinset__update_json_time(&d->expires_at, root, "expires_at", diag);
    }
    if (err == PINSET_OK && d->expires_at <= d->not_before) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE,
                          "the delegation's expires_at is not after not_before");
    }
    if (err == PINSET_OK && json_object_get(root, "scope") != NULL) {
        err = read_scope(d, json_object_get(root, "scope"), diag);
    }
    if (err == PINSET_OK) {
        err = pinset__dsse_keyid(id, d->key, diag);
    }
    if (err == PINSET_OK && strcmp(id, d->keyid) != 0) {
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "the delegation's key does not have its keyid");
    }
out:
    json_decref(root);
    return err;
}

static int is_delegation(const struct pinset__dsse *env)
{
    return env->type_len == strlen(PINSET_UPDATE_DELEGATION_TYPE) &&
           memcmp(env->type, PINSET_UPDATE_DELEGATION_TYPE, env->type_len) == 0;
}

/*
 * Some signature of env is a root's and verifies: 1, else 0 (*known: a root
 * keyid was seen); -1 when memory ran out.
 */
static int root_signed(const struct pinset__dsse *env,
                       const char (*root_ids)[PINSET__KEYID_HEX + 1], const EVP_PKEY *const *roots,
                       size_t nroots, int *known)
{
    struct pinset__buf pae;
    int ok = 0;

    *known = 0;
    if (pinset__dsse_pae(&pae, env->type, env->type_len, env->body, env->body_len) != PINSET_OK) {
        pinset__buf_free(&pae);
        return -1;
    }
    for (size_t i = 0; i < env->nsig && !ok; i++) {
        for (size_t k = 0; k < nroots; k++) {
            EVP_PKEY *pub;
            if (strcmp(env->sigs[i].keyid, root_ids[k]) != 0) {
                continue;
            }
            *known = 1;
            pub = pinset__dsse_public(roots[k]);
            ok = pub != NULL &&
                 pinset__dsse_verify(pub, env->sigs[i].sig, env->sigs[i].sig_len, pae.p, pae.len);
            EVP_PKEY_free(pub);
            break;
        }
    }
    pinset__buf_free(&pae);
    return ok;
}

pinset_err pinset__delegation_open(struct pinset__delegation *d, pinset_updater_status *why,
                                   const uint8_t *text, size_t len,
                                   const char (*root_ids)[PINSET__KEYID_HEX + 1],
                                   const EVP_PKEY *const *roots, size_t nroots, pinset_diag *diag)
{
    struct pinset__dsse env;
    pinset_err err;
    int known = 0, signed_ok;

    memset(d, 0, sizeof(*d));
    *why = PINSET_UPDATER_INVALID;
    err = pinset__dsse_parse_as(&env, text, len, 0, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    signed_ok = root_signed(&env, root_ids, roots, nroots, &known);
    if (signed_ok < 0) {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        goto out;
    }
    if (signed_ok == 0) {
        *why = PINSET_UPDATER_DELEGATION_UNTRUSTED;
        err = known ? PINSET_DIAG(diag, PINSET_E_CRYPTO,
                                  "the delegation's signature by the root does not verify")
                    : PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                                  "the delegation is not signed by a trusted root (unknown keyid)");
        goto out;
    }
    /* after the signature, as for a document: a root-signed update is not a delegation */
    if (!is_delegation(&env)) {
        *why = PINSET_UPDATER_DELEGATION_UNTRUSTED;
        err = PINSET_DIAG(diag, PINSET_E_NO_MATCH, "the delegation's payloadType is not %s",
                          PINSET_UPDATE_DELEGATION_TYPE);
        goto out;
    }
    err = parse_payload(d, env.body, env.body_len, diag);
out:
    if (err != PINSET_OK) {
        pinset__delegation_free(d);
    }
    pinset__dsse_free(&env);
    return err;
}

pinset_err pinset__delegation_peek(struct pinset__delegation *d, const uint8_t *text, size_t len,
                                   pinset_diag *diag)
{
    struct pinset__dsse env;
    pinset_err err;

    memset(d, 0, sizeof(*d));
    err = pinset__dsse_parse_as(&env, text, len, 0, diag);
    if (err == PINSET_OK && !is_delegation(&env)) {
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "not a delegation: payloadType is not %s",
                          PINSET_UPDATE_DELEGATION_TYPE);
    }
    if (err == PINSET_OK) {
        err = parse_payload(d, env.body, env.body_len, diag);
    }
    if (err != PINSET_OK) {
        pinset__delegation_free(d);
    }
    pinset__dsse_free(&env);
    return err;
}

/* The payload: serial, keyid, key (base64 DER SPKI), not_before, expires_at, scope. */
static pinset_err write_payload(struct pinset__buf *pl, const EVP_PKEY *signer, const char *keyid,
                                const pinset_update_delegate_options *o, int64_t nb,
                                const struct pinset__delegation *sc)
{
    char head[256], t1[PINSET__TIME_TEXT_MAX], t2[PINSET__TIME_TEXT_MAX];
    unsigned char *der = NULL;
    pinset_err err;
    int n;

    if (pinset__time_write(t1, sizeof(t1), nb) != 0 ||
        pinset__time_write(t2, sizeof(t2), o->expires_at) != 0) {
        return PINSET_E_INVALID_ARG;
    }
    ERR_set_mark();
    n = i2d_PUBKEY(signer, &der);
    ERR_pop_to_mark();
    if (n <= 0) {
        return PINSET_E_CRYPTO;
    }
    snprintf(head, sizeof(head), "{\"serial\":%llu,\"keyid\":\"%s\",\"key\":\"",
             (unsigned long long)o->serial, keyid);
    err = pinset__buf_append(pl, head, strlen(head));
    if (err == PINSET_OK) {
        err = pinset__b64_encode(pl, der, (size_t)n);
    }
    snprintf(head, sizeof(head), "\",\"not_before\":\"%s\",\"expires_at\":\"%s\"", t1, t2);
    if (err == PINSET_OK) {
        err = pinset__buf_append(pl, head, strlen(head));
    }
    for (size_t i = 0; err == PINSET_OK && i < sc->nscope; i++) {
        err = pinset__buf_append(pl, i == 0 ? ",\"scope\":[\"" : ",\"", i == 0 ? 11 : 2);
        if (err == PINSET_OK) {
            err = pinset__buf_append(pl, sc->scope[i], strlen(sc->scope[i])); /* no escape needed */
        }
        if (err == PINSET_OK) {
            err = pinset__buf_append(pl, i + 1 == sc->nscope ? "\"]" : "\"",
                                     i + 1 == sc->nscope ? 2 : 1);
        }
    }
    if (err == PINSET_OK) {
        err = pinset__buf_append(pl, "}", 1);
    }
    OPENSSL_free(der);
    return err;
}

pinset_err pinset_update_delegate(const EVP_PKEY *signer, const pinset_update_delegate_options *o,
                                  EVP_PKEY *root, pinset_write_fn write, void *payload,
                                  pinset_diag *diag)
{
    struct pinset__dsse_sig sig;
    struct pinset__delegation sc; /* the scope only */
    struct pinset__buf pl, pae, env;
    char keyid[PINSET__KEYID_HEX + 1];
    int64_t nb;
    pinset_err err;

    memset(&sig, 0, sizeof(sig));
    memset(&sc, 0, sizeof(sc));
    pinset__buf_init(&pl, PINSET_UPDATE_MAX_DELEGATION_SIZE, 0);
    pinset__buf_init(&pae, 0, 0);
    pinset__buf_init(&env, PINSET_UPDATE_MAX_DELEGATION_SIZE, 0);
    if (signer == NULL || o == NULL || root == NULL || write == NULL) {
        err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
        goto out;
    }
    nb = o->not_before != 0 ? o->not_before : (int64_t)time(NULL);
    if ((o->version != 1 && o->version != PINSET_UPDATE_DELEGATE_OPTIONS_VERSION) ||
        o->serial == 0 || o->serial > (uint64_t)INT64_MAX || o->expires_at <= nb ||
        (o->version >= 2 &&
         ((o->scope == NULL && o->scope_count > 0) || o->scope_count > PINSET_UPDATE_MAX_SCOPE))) {
        err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                          "bad options: version, serial (1 to 2^63-1) or expires_at not after "
                          "not_before");
        goto out;
    }
    err = pinset__dsse_key_ok(signer, diag);
    if (err == PINSET_OK) {
        err = pinset__dsse_key_ok(root, diag);
    }
    if (err == PINSET_OK && o->version >= 2 && o->scope_count > 0) {
        size_t lens[PINSET_UPDATE_MAX_SCOPE];
        for (size_t i = 0; i < o->scope_count; i++) {
            if (o->scope[i] == NULL) {
                err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null scope entry");
                goto out;
            }
            lens[i] = strlen(o->scope[i]);
        }
        err = add_scope(&sc, o->scope, lens, o->scope_count, 0, diag);
    }
    if (err == PINSET_OK) {
        err = pinset__dsse_keyid(keyid, signer, diag);
    }
    if (err == PINSET_OK) {
        err = pinset__dsse_keyid(sig.keyid, root, diag);
    }
    if (err != PINSET_OK) {
        goto out;
    }
    err = write_payload(&pl, signer, keyid, o, nb, &sc);
    if (err == PINSET_OK) {
        err = pinset__dsse_pae(&pae, PINSET_UPDATE_DELEGATION_TYPE,
                               strlen(PINSET_UPDATE_DELEGATION_TYPE), pl.p, pl.len);
    }
    if (err != PINSET_OK) {
        err = PINSET_DIAG(diag, err, "cannot build the delegation");
        goto out;
    }
    err = pinset__dsse_sign(&sig.sig, &sig.sig_len, root, pae.p, pae.len, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    err = pinset__dsse_write(&env, PINSET_UPDATE_DELEGATION_TYPE, pl.p, pl.len, &sig, 1);
    if (err != PINSET_OK) {
        err = PINSET_DIAG(diag, err, "cannot build the delegation");
        goto out;
    }
    if (write((const char *)env.p, env.len, payload) != 0) {
        err = PINSET_DIAG(diag, PINSET_E_IO, "the output refused the delegation");
    }
out:
    pinset__delegation_free(&sc);
    pinset__free(sig.sig);
    pinset__buf_free(&pl);
    pinset__buf_free(&pae);
    pinset__buf_free(&env);
    return err;
}
