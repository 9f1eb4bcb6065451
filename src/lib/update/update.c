/*
 * update.c - signed policy updates (update.h, docs/update-protocol.md): the
 * payload (serial, validity window, scope, policy), its checks in the
 * documented order, and signing. The envelope and the signatures are
 * dsse.c's.
 */
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include <openssl/err.h>

#include <pinset/host.h>
#include <pinset/update.h>

#include "internal.h"
#include "update/delegate.h"
#include "update/dsse.h"
#include "update/updater.h"
#include "util/digest.h"
#include "util/rfc3339.h"

/* The most trusted keys one call may pass. */
#define MAX_TRUSTED 64

struct pinset_update {
    uint64_t serial;
    int64_t issued_at;
    int64_t expires_at;
    pinset_policy *policy;
    char **scope;
    size_t nscope;
    char keyid[PINSET__KEYID_HEX + 1];
    size_t nsigners;
    uint64_t deleg_serial;
    int64_t key_expires;
    /* the keys whose signatures count, with what their delegations allow */
    struct signer {
        char keyid[PINSET__KEYID_HEX + 1];
        uint64_t deleg_serial; /* 0: a root's signature */
        int64_t key_expires;   /* 0: a root's signature */
        char **scope;          /* the delegation's scope, or NULL (any host) */
        size_t nscope;
    } signers[PINSET_UPDATE_MAX_SIGNATURES];
};

static void free_scope(char **scope, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pinset__free(scope[i]);
    }
    pinset__free(scope);
}

void pinset_update_free(pinset_update *u)
{
    if (u == NULL) {
        return;
    }
    pinset_policy_free(u->policy);
    free_scope(u->scope, u->nscope);
    for (size_t i = 0; i < u->nsigners; i++) {
        free_scope(u->signers[i].scope, u->signers[i].nscope);
    }
    pinset__free(u);
}

uint64_t pinset_update_serial(const pinset_update *u)
{
    return u != NULL ? u->serial : 0;
}

int64_t pinset_update_issued_at(const pinset_update *u)
{
    return u != NULL ? u->issued_at : 0;
}

int64_t pinset_update_expires_at(const pinset_update *u)
{
    return u != NULL ? u->expires_at : 0;
}

pinset_policy *pinset_update_policy(const pinset_update *u)
{
    return u != NULL ? u->policy : NULL;
}

size_t pinset_update_scope_count(const pinset_update *u)
{
    return u != NULL ? u->nscope : 0;
}

const char *pinset_update_scope(const pinset_update *u, size_t i)
{
    return u != NULL && i < u->nscope ? u->scope[i] : NULL;
}

const char *pinset_update_keyid_used(const pinset_update *u)
{
    return u != NULL ? u->keyid : NULL;
}

size_t pinset_update_signer_count(const pinset_update *u)
{
    return u != NULL ? u->nsigners : 0;
}

uint64_t pinset_update_delegation_serial(const pinset_update *u)
{
    return u != NULL ? u->deleg_serial : 0;
}

int64_t pinset_update_key_expires_at(const pinset_update *u)
{
    return u != NULL ? u->key_expires : 0;
}

pinset_err pinset_update_keyid(char *buf, size_t cap, const EVP_PKEY *key, pinset_diag *diag)
{
    char id[PINSET__KEYID_HEX + 1];
    pinset_err err;

    if (buf != NULL && cap > 0) {
        buf[0] = '\0';
    }
    if (buf == NULL || key == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
    }
    if (cap < PINSET_UPDATE_KEYID_MAX) {
        return PINSET_DIAG(diag, PINSET_E_BUFFER_TOO_SMALL, "keyid buffer too small");
    }
    err = pinset__dsse_keyid(id, key, diag);
    if (err == PINSET_OK) {
        memcpy(buf, id, sizeof(id));
    }
    return err;
}

/* ---- scope ---- */

/* 1 when name is strictly below dom (ends with "." dom). */
static int below(const char *name, const char *dom)
{
    size_t n = strlen(name), d = strlen(dom);

    return n > d + 1 && name[n - d - 1] == '.' && memcmp(name + n - d, dom, d) == 0;
}

/* 1 when some entry covers the name itself. */
static int covers_name(char *const *scope, size_t n, const char *host)
{
    for (size_t i = 0; i < n; i++) {
        const char *e = scope[i];
        if (e[0] == '*' ? below(host, e + 2) : strcmp(host, e) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 when some entry covers every name strictly below host. */
static int covers_below(char *const *scope, size_t n, const char *host)
{
    for (size_t i = 0; i < n; i++) {
        const char *e = scope[i];
        if (e[0] == '*' && (strcmp(host, e + 2) == 0 || below(host, e + 2))) {
            return 1;
        }
    }
    return 0;
}

int pinset__update_scope_within(char *const *inner, size_t ninner, char *const *outer,
                                size_t nouter)
{
    for (size_t i = 0; i < ninner; i++) {
        const char *e = inner[i];
        /* "host": that name; "*.dom": every name below dom */
        if (e[0] == '*' ? !covers_below(outer, nouter, e + 2) : !covers_name(outer, nouter, e)) {
            return 0;
        }
    }
    return 1;
}

/* PINSET_OK when every rule speaks only for names the scope covers, else PINSET_E_NO_MATCH. */
static pinset_err check_scope(const pinset_policy *p, char *const *scope, size_t n,
                              pinset_diag *diag)
{
    char path[64];

    for (size_t i = 0; i < pinset_policy_rule_count(p); i++) {
        const pinset_rule *r = pinset_policy_rule(p, i);
        const char *h = pinset_rule_host(r);
        int ok;

        switch (pinset_rule_scope(r)) {
        case PINSET_SCOPE_SUBDOMAINS:
            ok = covers_name(scope, n, h) && covers_below(scope, n, h);
            break;
        case PINSET_SCOPE_ONE_LABEL:
            ok = covers_below(scope, n, h);
            break;
        case PINSET_SCOPE_EXACT:
        default:
            ok = covers_name(scope, n, h);
            break;
        }
        if (!ok) {
            snprintf(path, sizeof(path), "policy.rules[%zu].host", i);
            pinset__diag_path(diag, path);
            return PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                               "the rule speaks for names outside the document's scope");
        }
    }
    return PINSET_OK;
}

/*
 * Canonicalise a scope entry ("host" or "*.domain") into out. strict: the
 * entry must already be canonical (verification: what was signed is what
 * is matched).
 */
pinset_err pinset__update_scope_canon(char out[PINSET_HOST_MAX + 2], const char *s, size_t len,
                                      int strict, pinset_diag *diag)
{
    size_t skip = len > 2 && s[0] == '*' && s[1] == '.' ? 2 : 0;
    pinset_host_type type;
    pinset_err err;

    memcpy(out, s, skip);
    err = pinset_host_canon(out + skip, PINSET_HOST_MAX, &type, s + skip, len - skip, NULL);
    if (err != PINSET_OK || (skip != 0 && type != PINSET_HOST_DNS)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "scope entry is not a host name or *.domain");
    }
    if (strict && (strlen(out) != len || memcmp(out, s, len) != 0)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "scope entry is not in canonical form");
    }
    return PINSET_OK;
}

static pinset_err add_scope(pinset_update *u, const char *s, size_t len, int strict,
                            pinset_diag *diag)
{
    char canon[PINSET_HOST_MAX + 2];
    pinset_err err = pinset__update_scope_canon(canon, s, len, strict, diag);

    if (err != PINSET_OK) {
        return err;
    }
    u->scope[u->nscope] = pinset__strndup(canon, strlen(canon));
    if (u->scope[u->nscope] == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    u->nscope++;
    return PINSET_OK;
}

/* ---- the payload ---- */

static pinset_err payload_keys(json_t *root, pinset_diag *diag)
{
    static const char *const keys[] = {"serial", "issued_at", "expires_at", "scope", "policy"};
    const char *k;
    json_t *v;

    if (!json_is_object(root)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "payload is not a json object");
    }
    json_object_foreach(root, k, v)
    {
        size_t i = 0;
        (void)v;
        while (i < PINSET_ARRAY_SIZE(keys) && strcmp(k, keys[i]) != 0) {
            i++;
        }
        if (i == PINSET_ARRAY_SIZE(keys)) {
            pinset__diag_path(diag, k);
            return PINSET_DIAG(diag, PINSET_E_PARSE,
                               "unknown key (expected serial, issued_at, expires_at, scope, "
                               "policy)");
        }
    }
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(keys); i++) {
        if (i != 3 && json_object_get(root, keys[i]) == NULL) {
            pinset__diag_path(diag, keys[i]);
            return PINSET_DIAG(diag, PINSET_E_PARSE, "missing key");
        }
    }
    return PINSET_OK;
}

/* serial, issued_at, expires_at and the scope's entries (not yet checked against anything). */
static pinset_err payload_fields(pinset_update *u, json_t *root, pinset_diag *diag)
{
    json_t *serial = json_object_get(root, "serial"), *scope = json_object_get(root, "scope");
    pinset_err err;

    if (!json_is_integer(serial) || json_integer_value(serial) < 1) {
        pinset__diag_path(diag, "serial");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "serial is not an integer of at least 1");
    }
    u->serial = (uint64_t)json_integer_value(serial);
    err = pinset__update_json_time(&u->issued_at, root, "issued_at", diag);
    if (err == PINSET_OK) {
        err = pinset__update_json_time(&u->expires_at, root, "expires_at", diag);
    }
    if (err == PINSET_OK && u->expires_at <= u->issued_at) {
        pinset__diag_path(diag, "expires_at");
        err = PINSET_DIAG(diag, PINSET_E_PARSE, "expires_at is not after issued_at");
    }
    if (err != PINSET_OK || scope == NULL) {
        return err;
    }
    if (!json_is_array(scope) || json_array_size(scope) == 0 ||
        json_array_size(scope) > PINSET_UPDATE_MAX_SCOPE) {
        pinset__diag_path(diag, "scope");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "scope is not an array of 1 to %d hosts",
                           PINSET_UPDATE_MAX_SCOPE);
    }
    u->scope = pinset__alloc_array(json_array_size(scope), sizeof(*u->scope));
    if (u->scope == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < json_array_size(scope); i++) {
        json_t *e = json_array_get(scope, i);
        char path[32];
        err = json_is_string(e) ? add_scope(u, json_string_value(e), json_string_length(e), 1, diag)
                                : PINSET_DIAG(diag, PINSET_E_PARSE, "scope entry is not a string");
        if (err != PINSET_OK) {
            snprintf(path, sizeof(path), "scope[%zu]", i);
            pinset__diag_path(diag, path);
            return err;
        }
    }
    return PINSET_OK;
}

/* The embedded policy, through the one policy parser; its path gets a "policy." prefix. */
static pinset_err payload_policy(pinset_update *u, json_t *obj, pinset_diag *diag)
{
    char *text;
    pinset_err err;

    if (!json_is_object(obj)) {
        pinset__diag_path(diag, "policy");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "policy is not a json object");
    }
    /* The signature was verified over the payload's bytes; this text only feeds the parser. */
    text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    err = pinset_policy_parse(&u->policy, (const uint8_t *)text, strlen(text), diag);
    free(text);
    if (err != PINSET_OK && diag != NULL) {
        char path[PINSET_DIAG_PATH_MAX + 8];
        int w = snprintf(path, sizeof(path), "policy%s%s", diag->path[0] != '\0' ? "." : "",
                         diag->path);
        (void)w;
        pinset__diag_path(diag, path);
        diag->line = 0;
        diag->column = 0;
        diag->has_offset = 0;
    }
    return err;
}

static pinset_err check_time(const pinset_update *u, int64_t now, pinset_diag *diag)
{
    char t[PINSET__TIME_TEXT_MAX];

    if (u->expires_at <= now) {
        (void)pinset__time_write(t, sizeof(t), u->expires_at);
        pinset__diag_path(diag, "expires_at");
        return PINSET_DIAG(diag, PINSET_E_EXPIRED, "the document expired at %s", t);
    }
    /* in unsigned: no overflow whatever the caller's `now` */
    if (u->issued_at > now && (uint64_t)u->issued_at - (uint64_t)now > PINSET_UPDATE_CLOCK_SKEW) {
        (void)pinset__time_write(t, sizeof(t), u->issued_at);
        pinset__diag_path(diag, "issued_at");
        return PINSET_DIAG(diag, PINSET_E_EXPIRED, "the document is not valid yet: issued at %s",
                           t);
    }
    return PINSET_OK;
}

/* Steps 4 to 7 of pinset_update_verify on the verified payload bytes. */
static pinset_err parse_payload(pinset_update *u, const uint8_t *body, size_t len, int64_t now,
                                int timed, pinset_diag *diag)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    pinset_err err;

    if (root == NULL) {
        pinset__diag_path(diag, "payload");
        return PINSET_DIAG(diag, PINSET_E_PARSE, "payload is not json: %s", jerr.text);
    }
    err = payload_keys(root, diag);
    if (err == PINSET_OK) {
        err = payload_fields(u, root, diag);
    }
    if (err == PINSET_OK && timed) {
        err = check_time(u, now, diag);
    }
    if (err == PINSET_OK) {
        err = payload_policy(u, json_object_get(root, "policy"), diag);
    }
    if (err == PINSET_OK && u->scope != NULL) {
        err = check_scope(u->policy, u->scope, u->nscope, diag);
    }
    json_decref(root);
    return err;
}

/* What one signature of a document gave. */
struct sig_result {
    pinset_updater_status why; /* PINSET_UPDATER_APPLIED: it counts */
    pinset_err err;
    pinset_diag diag;
    uint64_t deleg_serial; /* its delegation's, 0 for a root's signature */
    int64_t key_expires;   /* its delegation's expires_at, 0 for a root's */
    char **scope;          /* its delegation's scope (taken from it), or NULL */
    size_t nscope;
    EVP_PKEY *key; /* the key it verified with (owned), or NULL */
};

static void fail(struct sig_result *r, pinset_updater_status why, pinset_err err)
{
    r->why = why;
    r->err = err;
}

static void free_keys(EVP_PKEY **keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        EVP_PKEY_free(keys[i]);
    }
}

/* A signature by a signing key: its delegation, then the signature with the delegated key. */
static void check_delegated(struct sig_result *r, const struct pinset__dsse_sig *sig,
                            const struct pinset__buf *pae, const char (*ids)[PINSET__KEYID_HEX + 1],
                            const struct pinset__verify_args *va)
{
    struct pinset__delegation d;
    char t[PINSET__TIME_TEXT_MAX];
    pinset_updater_status why;
    pinset_err err;

    err = pinset__delegation_open(&d, &why, (const uint8_t *)sig->deleg, sig->deleg_len, ids,
                                  va->roots, va->nroots, &r->diag);
    if (err != PINSET_OK) {
        fail(r, why, err);
        return;
    }
    if (strcmp(d.keyid, sig->keyid) != 0) {
        fail(r, PINSET_UPDATER_DELEGATION_MISMATCH,
             PINSET_DIAG(&r->diag, PINSET_E_NO_MATCH,
                         "the delegation is for another key (keyid %.16s...)", d.keyid));
    } else if (va->timed && d.expires_at <= va->now) {
        (void)pinset__time_write(t, sizeof(t), d.expires_at);
        fail(r, PINSET_UPDATER_KEY_EXPIRED,
             PINSET_DIAG(&r->diag, PINSET_E_EXPIRED, "the signing key's delegation expired at %s",
                         t));
    } else if (va->timed && d.not_before > va->now &&
               (uint64_t)d.not_before - (uint64_t)va->now > PINSET_UPDATE_CLOCK_SKEW) {
        (void)pinset__time_write(t, sizeof(t), d.not_before);
        fail(r, PINSET_UPDATER_KEY_EXPIRED,
             PINSET_DIAG(&r->diag, PINSET_E_EXPIRED,
                         "the signing key's delegation is not valid before %s", t));
    } else if (d.serial < va->deleg_floor) {
        fail(r, PINSET_UPDATER_DELEGATION_ROLLBACK,
             PINSET_DIAG(&r->diag, PINSET_E_NO_MATCH,
                         "delegation rollback: delegation serial %llu is below the highest "
                         "accepted, %llu",
                         (unsigned long long)d.serial, (unsigned long long)va->deleg_floor));
    } else if (!pinset__dsse_verify(d.key, sig->sig, sig->sig_len, pae->p, pae->len)) {
        fail(r, PINSET_UPDATER_INVALID,
             PINSET_DIAG(&r->diag, PINSET_E_CRYPTO,
                         "the signature by a delegated key does not verify"));
    } else {
        r->deleg_serial = d.serial;
        r->key_expires = d.expires_at;
        r->scope = d.scope; /* checked against the document's once its payload is read */
        r->nscope = d.nscope;
        r->key = d.key; /* the key, whatever the encoding its keyid was taken from */
        d.scope = NULL;
        d.nscope = 0;
        d.key = NULL;
    }
    pinset__delegation_free(&d);
}

/* One signature: by a root key directly, or by a signing key with its delegation. */
static void check_one(struct sig_result *r, const struct pinset__dsse_sig *sig,
                      const struct pinset__buf *pae, const char (*ids)[PINSET__KEYID_HEX + 1],
                      const struct pinset__verify_args *va)
{
    r->why = PINSET_UPDATER_APPLIED;
    r->err = PINSET_OK;
    if (sig->deleg != NULL) {
        check_delegated(r, sig, pae, ids, va);
        return;
    }
    for (size_t k = 0; k < va->nroots; k++) {
        EVP_PKEY *pub;
        int ok;
        if (strcmp(sig->keyid, ids[k]) != 0) {
            continue;
        }
        pub = pinset__dsse_public(va->roots[k]);
        ok = pub != NULL && pinset__dsse_verify(pub, sig->sig, sig->sig_len, pae->p, pae->len);
        if (ok) {
            r->key = pub;
        } else {
            EVP_PKEY_free(pub);
        }
        if (!ok) {
            fail(r, PINSET_UPDATER_INVALID,
                 PINSET_DIAG(&r->diag, PINSET_E_CRYPTO,
                             "the signature by a trusted key does not verify"));
        }
        return;
    }
    fail(r, PINSET_UPDATER_UNKNOWN_KEY,
         PINSET_DIAG(&r->diag, PINSET_E_NO_MATCH, "no signature by a trusted key (unknown keyid)"));
}

/*
 * Step 2: the signatures that count (a root's, or a signing key's with a
 * valid delegation from a root) by distinct keyids reach the threshold.
 * A keyid is a hint (DSSE), but here it must be the key's: each signature
 * is tried against one key at most, so an envelope cannot make the
 * verifier try every key on every signature.
 */
static pinset_err check_signatures(pinset_update *u, pinset_updater_status *why,
                                   const struct pinset__dsse *env,
                                   const struct pinset__verify_args *va, pinset_diag *diag)
{
    char ids[MAX_TRUSTED][PINSET__KEYID_HEX + 1];
    const char *counted[PINSET_UPDATE_MAX_SIGNATURES];
    EVP_PKEY *keys[PINSET_UPDATE_MAX_SIGNATURES]; /* the counted signatures' keys */
    struct sig_result r, first;
    struct pinset__buf pae;
    unsigned int threshold = va->threshold > 0 ? va->threshold : 1;
    size_t n = 0;
    pinset_err err;
    int have = 0;

    for (size_t k = 0; k < va->nroots; k++) {
        err = pinset__dsse_keyid(ids[k], va->roots[k], diag);
        if (err != PINSET_OK) {
            return err;
        }
    }
    err = pinset__dsse_pae(&pae, env->type, env->type_len, env->body, env->body_len);
    if (err != PINSET_OK) {
        pinset__buf_free(&pae);
        return PINSET_DIAG(diag, err, "out of memory");
    }
    memset(&first, 0, sizeof(first));
    for (size_t i = 0; i < env->nsig; i++) {
        int dup = 0;
        char path[64];
        for (size_t c = 0; c < n; c++) {
            dup |= strcmp(counted[c], env->sigs[i].keyid) == 0;
        }
        if (dup) {
            continue; /* distinct keys count once: the same keyid first */
        }
        memset(&r, 0, sizeof(r));
        r.diag = diag != NULL ? *diag : (pinset_diag)PINSET_DIAG_INIT;
        check_one(&r, &env->sigs[i], &pae, (const char(*)[PINSET__KEYID_HEX + 1]) ids, va);
        for (size_t c = 0; c < n && r.key != NULL; c++) {
            dup |= EVP_PKEY_eq(r.key, keys[c]) == 1;
        }
        if (dup) {
            /* one key under another encoding of its SubjectPublicKeyInfo: another keyid */
            free_scope(r.scope, r.nscope);
            EVP_PKEY_free(r.key);
            continue;
        }
        if (r.err == PINSET_E_NOMEM) {
            /* no verdict on a document when memory ran out */
            free_keys(keys, n);
            pinset__buf_free(&pae);
            if (diag != NULL) {
                *diag = r.diag;
            }
            return PINSET_E_NOMEM;
        }
        if (r.why == PINSET_UPDATER_APPLIED) {
            struct signer *sg = &u->signers[n];
            memcpy(sg->keyid, env->sigs[i].keyid, sizeof(sg->keyid));
            sg->deleg_serial = r.deleg_serial;
            sg->key_expires = r.key_expires;
            sg->scope = r.scope;
            sg->nscope = r.nscope;
            keys[n] = r.key;
            counted[n++] = env->sigs[i].keyid;
            u->nsigners = n;
            continue;
        }
        /* a root's signature: "signatures" as before delegations; a delegated one: which */
        if (env->sigs[i].deleg == NULL) {
            snprintf(path, sizeof(path), "signatures");
        } else {
            snprintf(path, sizeof(path), "signatures[%zu]%s", i,
                     r.why != PINSET_UPDATER_INVALID || r.err == PINSET_E_PARSE ? ".delegation"
                                                                                : "");
        }
        pinset__diag_path(&r.diag, path);
        /* the first failure that says more than "unknown keyid" */
        if (!have ||
            (first.why == PINSET_UPDATER_UNKNOWN_KEY && r.why != PINSET_UPDATER_UNKNOWN_KEY)) {
            first = r;
            have = 1;
        }
    }
    free_keys(keys, n);
    pinset__buf_free(&pae);
    if (n >= threshold) {
        return PINSET_OK; /* for now: scoped delegations are checked after the payload */
    }
    if (n == 0 && have) {
        if (diag != NULL) {
            *diag = first.diag;
        }
        *why = first.why;
        return first.err;
    }
    *why = PINSET_UPDATER_THRESHOLD;
    pinset__diag_path(diag, "signatures");
    return PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                       "threshold not met: %zu of %u required signatures by distinct trusted keys",
                       n, threshold);
}

/*
 * After the payload: a signature whose delegation has a scope counts only
 * when the document has a scope within it. Then the threshold again, and
 * what the counted signatures give (keyid used, delegation serial, key
 * expiry).
 */
static pinset_err check_delegation_scopes(pinset_update *u, pinset_updater_status *why,
                                          unsigned int threshold, pinset_diag *diag)
{
    size_t kept = 0;

    for (size_t i = 0; i < u->nsigners; i++) {
        struct signer *sg = &u->signers[i];
        if (sg->scope != NULL &&
            (u->scope == NULL ||
             !pinset__update_scope_within(u->scope, u->nscope, sg->scope, sg->nscope))) {
            free_scope(sg->scope, sg->nscope);
            continue;
        }
        u->signers[kept++] = *sg;
    }
    u->nsigners = kept;
    if (kept < (threshold > 0 ? threshold : 1)) {
        *why = PINSET_UPDATER_DELEGATION_SCOPE;
        pinset__diag_path(diag, "scope");
        return PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                           "the document's scope is not within the signing key's delegation "
                           "(%zu of %u required signatures remain)",
                           kept, threshold > 0 ? threshold : 1);
    }
    memcpy(u->keyid, u->signers[0].keyid, sizeof(u->keyid));
    for (size_t i = 0; i < kept; i++) {
        const struct signer *sg = &u->signers[i];
        if (sg->deleg_serial > u->deleg_serial) {
            u->deleg_serial = sg->deleg_serial;
        }
        if (sg->key_expires != 0 && (u->key_expires == 0 || sg->key_expires < u->key_expires)) {
            u->key_expires = sg->key_expires;
        }
    }
    return PINSET_OK;
}

pinset_err pinset__update_verify(pinset_update **out, uint8_t digest[PINSET__SHA256_LEN],
                                 pinset_updater_status *why, const uint8_t *doc, size_t len,
                                 const struct pinset__verify_args *va, pinset_diag *diag)
{
    struct pinset__verify_args a;
    struct pinset__dsse env;
    pinset_update *u = NULL;
    pinset_err err;

    memset(&env, 0, sizeof(env));
    *why = PINSET_UPDATER_INVALID;
    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || va == NULL || (doc == NULL && len > 0) || va->roots == NULL ||
        va->nroots == 0 || va->nroots > MAX_TRUSTED ||
        va->threshold > PINSET_UPDATE_MAX_SIGNATURES) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "null argument, 0 or over %d keys, or a threshold over %d", MAX_TRUSTED,
                           PINSET_UPDATE_MAX_SIGNATURES);
    }
    a = *va;
    for (size_t k = 0; k < a.nroots; k++) {
        if (a.roots[k] == NULL) {
            return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null trusted key");
        }
        /* a trusted key of another type would be used with a digest no signer chose */
        if (pinset__dsse_key_ok(a.roots[k], diag) != PINSET_OK) {
            return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                               "trusted key %zu is neither ed25519 nor ec p-256", k);
        }
    }
    if (a.now < 0) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "a time before 1970");
    }
    if (a.now == 0) {
        a.now = (int64_t)time(NULL);
    }
    err = pinset__dsse_parse(&env, doc, len, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    u = pinset__alloc(sizeof(*u));
    if (u == NULL) {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
        goto out;
    }
    err = check_signatures(u, why, &env, &a, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    *why = PINSET_UPDATER_INVALID;
    if (env.type_len != strlen(PINSET_UPDATE_PAYLOAD_TYPE) ||
        memcmp(env.type, PINSET_UPDATE_PAYLOAD_TYPE, env.type_len) != 0) {
        pinset__diag_path(diag, "payloadType");
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "payloadType is not %s",
                          PINSET_UPDATE_PAYLOAD_TYPE);
        goto out;
    }
    err = parse_payload(u, env.body, env.body_len, a.now, a.timed, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    err = check_delegation_scopes(u, why, a.threshold, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    if (digest != NULL && !pinset__sha256(digest, env.body, env.body_len, NULL, NULL)) {
        err = PINSET_DIAG(diag, PINSET_E_CRYPTO, "cannot hash the payload");
        goto out;
    }
    *why = PINSET_UPDATER_APPLIED;
    *out = u;
    u = NULL;
out:
    pinset_update_free(u);
    pinset__dsse_free(&env);
    return err;
}

pinset_err pinset_update_verify_threshold(pinset_update **out, pinset_updater_status *status_out,
                                          const uint8_t *doc, size_t len,
                                          const EVP_PKEY *const *roots, size_t nroots,
                                          unsigned int threshold, int64_t now, pinset_diag *diag)
{
    struct pinset__verify_args va = {roots, nroots, threshold, 0, now, 1};
    pinset_updater_status why;
    pinset_err err = pinset__update_verify(out, NULL, &why, doc, len, &va, diag);

    if (status_out != NULL) {
        *status_out = why;
    }
    return err;
}

pinset_err pinset_update_verify(pinset_update **out, const uint8_t *doc, size_t len,
                                const EVP_PKEY *const *trusted, size_t ntrusted, int64_t now,
                                pinset_diag *diag)
{
    return pinset_update_verify_threshold(out, NULL, doc, len, trusted, ntrusted, 1, now, diag);
}

/* ---- signing ---- */

static pinset_err put(struct pinset__buf *b, const char *s)
{
    return pinset__buf_append(b, s, strlen(s));
}

/* The payload's JSON: serial, times, scope (canonical entries), then the canonical policy. */
static pinset_err write_payload(struct pinset__buf *pl, const pinset_policy *policy,
                                const pinset_update *u)
{
    char head[160], t1[PINSET__TIME_TEXT_MAX], t2[PINSET__TIME_TEXT_MAX];
    pinset_err err;

    if (pinset__time_write(t1, sizeof(t1), u->issued_at) != 0 ||
        pinset__time_write(t2, sizeof(t2), u->expires_at) != 0) {
        return PINSET_E_INVALID_ARG;
    }
    snprintf(head, sizeof(head), "{\"serial\":%llu,\"issued_at\":\"%s\",\"expires_at\":\"%s\"",
             (unsigned long long)u->serial, t1, t2);
    err = put(pl, head);
    for (size_t i = 0; err == PINSET_OK && i < u->nscope; i++) {
        err = put(pl, i == 0 ? ",\"scope\":[\"" : ",\"");
        if (err == PINSET_OK) {
            err = put(pl, u->scope[i]); /* canonical hosts need no JSON escape */
        }
        if (err == PINSET_OK) {
            err = put(pl, i + 1 == u->nscope ? "\"]" : "\"");
        }
    }
    if (err == PINSET_OK) {
        err = put(pl, ",\"policy\":");
    }
    if (err == PINSET_OK) {
        err = pinset_policy_write(policy, pinset__buf_sink, pl);
        if (err == PINSET_E_IO) {
            err = pl->len + 4096 > pl->max ? PINSET_E_LIMIT : PINSET_E_NOMEM;
        }
    }
    if (err == PINSET_OK) {
        err = put(pl, "}");
    }
    return err;
}

/*
 * The delegation for the key whose keyid is keyid, as compact JSON text
 * (into *text, from pinset__alloc; no newline): well-formed, a delegation,
 * and for this key. Its root signature is the verifier's to check.
 */
static pinset_err delegation_text(char **text, size_t *text_len, const uint8_t *deleg,
                                  size_t deleg_len, const char *keyid, const pinset_update *u,
                                  pinset_diag *diag)
{
    struct pinset__delegation d;
    struct pinset__dsse env;
    struct pinset__buf b;
    pinset_err err;

    *text = NULL;
    *text_len = 0;
    if (deleg_len > PINSET_UPDATE_MAX_DELEGATION_SIZE) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "delegation larger than %d octets",
                           PINSET_UPDATE_MAX_DELEGATION_SIZE);
    }
    err = pinset__delegation_peek(&d, deleg, deleg_len, diag);
    if (err != PINSET_OK) {
        return err;
    }
    if (strcmp(d.keyid, keyid) != 0) {
        err = PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                          "the delegation is for another key (keyid %.16s...)", d.keyid);
        pinset__delegation_free(&d);
        return err;
    }
    /* u: the document being signed (its scope), or NULL (cosign: the verifier checks) */
    if (u != NULL && d.scope != NULL &&
        (u->scope == NULL ||
         !pinset__update_scope_within(u->scope, u->nscope, d.scope, d.nscope))) {
        pinset__delegation_free(&d);
        return PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                           "the document's scope is not within the delegation's scope");
    }
    pinset__delegation_free(&d);
    err = pinset__dsse_parse_as(&env, deleg, deleg_len, 0, diag);
    pinset__buf_init(&b, PINSET_UPDATE_MAX_DELEGATION_SIZE, 0);
    if (err == PINSET_OK) {
        err = pinset__dsse_write(&b, env.type, env.body, env.body_len, env.sigs, env.nsig);
        if (err != PINSET_OK) {
            err = PINSET_DIAG(diag, err, "cannot write the delegation");
        }
    }
    if (err == PINSET_OK) {
        *text_len = b.len - 1; /* without the newline */
        *text = pinset__strndup((const char *)b.p, *text_len);
        err = *text != NULL ? PINSET_OK : PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    pinset__buf_free(&b);
    pinset__dsse_free(&env);
    return err;
}

static pinset_err sign_opts_ok(pinset_update *u, const pinset_policy *policy,
                               const pinset_update_sign_options *o, pinset_diag *diag)
{
    pinset_err err;

    if ((o->version != 1 && o->version != PINSET_UPDATE_SIGN_OPTIONS_VERSION) || o->serial == 0 ||
        o->serial > (uint64_t)INT64_MAX || (o->scope == NULL && o->scope_count > 0) ||
        o->scope_count > PINSET_UPDATE_MAX_SCOPE) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "bad options: version, serial (1 to 2^63-1) or scope");
    }
    u->serial = o->serial;
    u->issued_at = o->issued_at != 0 ? o->issued_at : (int64_t)time(NULL);
    u->expires_at = o->expires_at;
    if (u->expires_at <= u->issued_at) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "expires_at is not after issued_at");
    }
    if (o->scope_count == 0) {
        return PINSET_OK;
    }
    u->scope = pinset__alloc_array(o->scope_count, sizeof(*u->scope));
    if (u->scope == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < o->scope_count; i++) {
        char path[32];
        err = o->scope[i] == NULL ? PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null scope entry")
                                  : add_scope(u, o->scope[i], strlen(o->scope[i]), 0, diag);
        if (err != PINSET_OK) {
            snprintf(path, sizeof(path), "scope[%zu]", i);
            pinset__diag_path(diag, path);
            return err;
        }
    }
    return check_scope(policy, u->scope, u->nscope, diag);
}

static pinset_err emit(const struct pinset__buf *b, pinset_write_fn write, void *payload)
{
    for (size_t off = 0; off < b->len; off += 4096) {
        size_t n = b->len - off < 4096 ? b->len - off : 4096;
        if (write((const char *)b->p + off, n, payload) != 0) {
            return PINSET_E_IO;
        }
    }
    return PINSET_OK;
}

pinset_err pinset_update_sign(const pinset_policy *policy, const pinset_update_sign_options *opts,
                              EVP_PKEY *key, pinset_write_fn write, void *payload,
                              pinset_diag *diag)
{
    pinset_update u;
    struct pinset__buf pl, env, pae;
    struct pinset__dsse_sig sig;
    pinset_err err;

    memset(&u, 0, sizeof(u));
    memset(&sig, 0, sizeof(sig));
    pinset__buf_init(&pl, PINSET_UPDATE_MAX_SIZE / 4 * 3 - 1024, 0);
    pinset__buf_init(&env, PINSET_UPDATE_MAX_SIZE, 0);
    pinset__buf_init(&pae, 0, 0);
    if (policy == NULL || opts == NULL || key == NULL || write == NULL) {
        err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
        goto out;
    }
    err = sign_opts_ok(&u, policy, opts, diag);
    if (err == PINSET_OK) {
        err = pinset__dsse_key_ok(key, diag);
    }
    if (err == PINSET_OK) {
        err = pinset__dsse_keyid(sig.keyid, key, diag);
    }
    if (err == PINSET_OK && opts->version >= 2 && opts->delegation != NULL) {
        err = delegation_text(&sig.deleg, &sig.deleg_len, opts->delegation, opts->delegation_len,
                              sig.keyid, &u, diag);
        if (err != PINSET_OK) {
            pinset__diag_path(diag, "delegation");
        }
    }
    if (err != PINSET_OK) {
        goto out;
    }
    err = write_payload(&pl, policy, &u);
    if (err == PINSET_OK) {
        err = pinset__dsse_pae(&pae, PINSET_UPDATE_PAYLOAD_TYPE, strlen(PINSET_UPDATE_PAYLOAD_TYPE),
                               pl.p, pl.len);
    }
    if (err != PINSET_OK) {
        err = PINSET_DIAG(diag, err,
                          err == PINSET_E_LIMIT ? "the document would be too large"
                                                : "cannot build the payload");
        goto out;
    }
    err = pinset__dsse_sign(&sig.sig, &sig.sig_len, key, pae.p, pae.len, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    err = pinset__dsse_write(&env, PINSET_UPDATE_PAYLOAD_TYPE, pl.p, pl.len, &sig, 1);
    if (err != PINSET_OK) {
        err = PINSET_DIAG(
            diag, err, err == PINSET_E_LIMIT ? "the document would be too large" : "out of memory");
        goto out;
    }
    err = emit(&env, write, payload);
    if (err != PINSET_OK) {
        err = PINSET_DIAG(diag, err, "the output refused the document");
    }
out:
    for (size_t i = 0; i < u.nscope; i++) {
        pinset__free(u.scope[i]);
    }
    pinset__free(u.scope);
    pinset__free(sig.sig);
    pinset__free(sig.deleg);
    pinset__buf_free(&pl);
    pinset__buf_free(&env);
    pinset__buf_free(&pae);
    return err;
}

pinset_err pinset_update_cosign(const uint8_t *doc, size_t len, EVP_PKEY *key,
                                const uint8_t *delegation, size_t delegation_len,
                                pinset_write_fn write, void *payload, pinset_diag *diag)
{
    struct pinset__dsse env;
    struct pinset__dsse_sig *sig;
    struct pinset__buf out, pae;
    pinset_err err;

    memset(&env, 0, sizeof(env));
    pinset__buf_init(&out, PINSET_UPDATE_MAX_SIZE, 0);
    pinset__buf_init(&pae, 0, 0);
    if (key == NULL || write == NULL || (doc == NULL && len > 0) ||
        (delegation == NULL && delegation_len > 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
    }
    err = pinset__dsse_key_ok(key, diag);
    if (err == PINSET_OK) {
        err = pinset__dsse_parse(&env, doc, len, diag);
    }
    if (err != PINSET_OK) {
        goto out;
    }
    if (env.type_len != strlen(PINSET_UPDATE_PAYLOAD_TYPE) ||
        memcmp(env.type, PINSET_UPDATE_PAYLOAD_TYPE, env.type_len) != 0) {
        pinset__diag_path(diag, "payloadType");
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "payloadType is not %s",
                          PINSET_UPDATE_PAYLOAD_TYPE);
        goto out;
    }
    if (env.nsig == PINSET_UPDATE_MAX_SIGNATURES) {
        err = PINSET_DIAG(diag, PINSET_E_LIMIT, "the document already has %d signatures",
                          PINSET_UPDATE_MAX_SIGNATURES);
        goto out;
    }
    sig = &env.sigs[env.nsig];
    err = pinset__dsse_keyid(sig->keyid, key, diag);
    for (size_t i = 0; err == PINSET_OK && i < env.nsig; i++) {
        if (strcmp(env.sigs[i].keyid, sig->keyid) == 0) {
            err =
                PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "the key has already signed the document");
        }
    }
    if (err == PINSET_OK && delegation != NULL) {
        err = delegation_text(&sig->deleg, &sig->deleg_len, delegation, delegation_len, sig->keyid,
                              NULL, diag);
        if (err != PINSET_OK) {
            pinset__diag_path(diag, "delegation");
        }
    }
    env.nsig++; /* sig is freed with env from here on */
    if (err == PINSET_OK) {
        err = pinset__dsse_pae(&pae, env.type, env.type_len, env.body, env.body_len);
        if (err != PINSET_OK) {
            err = PINSET_DIAG(diag, err, "out of memory");
        }
    }
    if (err == PINSET_OK) {
        err = pinset__dsse_sign(&sig->sig, &sig->sig_len, key, pae.p, pae.len, diag);
    }
    if (err == PINSET_OK) {
        err = pinset__dsse_write(&out, env.type, env.body, env.body_len, env.sigs, env.nsig);
        if (err != PINSET_OK) {
            err = PINSET_DIAG(diag, err,
                              err == PINSET_E_LIMIT ? "the document would be too large"
                                                    : "out of memory");
        }
    }
    if (err == PINSET_OK && emit(&out, write, payload) != PINSET_OK) {
        err = PINSET_DIAG(diag, PINSET_E_IO, "the output refused the document");
    }
out:
    pinset__dsse_free(&env);
    pinset__buf_free(&out);
    pinset__buf_free(&pae);
    return err;
}
