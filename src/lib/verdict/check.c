/*
 * check.c - the verdict: match a host's pins against a validated chain.
 *
 * Pure: no I/O, no clock, and no allocation once the result exists (the
 * result owns a digest context that every check reuses). docs/verdict.md
 * explains each rule and the bypass it closes.
 */
#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <pinset/check.h>

#include "core/der.h"
#include "internal.h"
#include "policy/policy_int.h"
#include "util/digest.h"
#include "verdict/check_int.h"

struct pinset_result {
    EVP_MD *md;
    EVP_MD_CTX *mdctx;
    pinset_verdict verdict;
    pinset_reason reason;
    pinset_match how;
    pinset_mode mode;
    int expired;
    int cert_known; /* 0: the caller computed spki pins only (see pinset__check_pins_ex) */
    int matched;
    size_t match_index;
    size_t match_depth;
    int64_t now;
    pinset_host_type type;
    const pinset_rule *rule;
    size_t nchain;
    size_t given; /* certificates in the chain as given (nchain, or more than PINSET_CHAIN_MAX) */
    pinset_cert_pins chain[PINSET_CHAIN_MAX];
    char host[PINSET_HOST_MAX];
};

pinset_err pinset_result_new(pinset_result **out, pinset_diag *diag)
{
    pinset_result *r;

    if (out == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "result: out is null");
    }
    *out = NULL;
    r = pinset__alloc(sizeof(*r));
    if (r == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "result: out of memory");
    }
    ERR_set_mark();
    r->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    r->mdctx = EVP_MD_CTX_new();
    if (r->md == NULL || r->mdctx == NULL) {
        pinset_err err = PINSET_DIAG_OSSL(diag, PINSET_E_CRYPTO, "result: sha256 unavailable");

        pinset_result_free(r);
        return err;
    }
    ERR_pop_to_mark();
    pinset_result_reset(r);
    *out = r;
    return PINSET_OK;
}

pinset_result *pinset__result_new_bare(void)
{
    pinset_result *r = pinset__alloc(sizeof(*r));

    if (r != NULL) {
        pinset_result_reset(r);
    }
    return r;
}

void pinset_result_free(pinset_result *result)
{
    if (result == NULL) {
        return;
    }
    EVP_MD_CTX_free(result->mdctx);
    EVP_MD_free(result->md);
    pinset__free(result);
}

void pinset_result_reset(pinset_result *result)
{
    if (result == NULL) {
        return;
    }
    result->verdict = PINSET_VERDICT_NONE;
    result->reason = PINSET_REASON_NOT_CHECKED;
    result->how = PINSET_MATCH_NONE;
    result->mode = PINSET_MODE_ENFORCE;
    result->expired = 0;
    result->cert_known = 1;
    result->matched = 0;
    result->match_index = 0;
    result->match_depth = 0;
    result->now = 0;
    result->rule = NULL;
    result->nchain = 0;
    result->given = 0;
    result->host[0] = '\0';
}

void pinset__result_set(pinset_result *result, pinset_verdict verdict, pinset_reason reason)
{
    result->verdict = verdict;
    result->reason = reason;
    if (verdict != PINSET_VERDICT_PASS) {
        result->matched = 0;
    }
}

const EVP_MD *pinset__result_md(const pinset_result *result)
{
    return result->md;
}

void pinset__result_copy(pinset_result *dst, const pinset_result *src)
{
    EVP_MD *md = dst->md;
    EVP_MD_CTX *mdctx = dst->mdctx;

    *dst = *src;
    dst->md = md;
    dst->mdctx = mdctx;
}

pinset_err pinset_result_copy(pinset_result *dst, const pinset_result *src)
{
    if (dst == NULL || src == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    if (dst != src) {
        pinset__result_copy(dst, src);
    }
    return PINSET_OK;
}

/* ---- the decision ---- */

static int pin_eq(const pinset_pin *want, const pinset_cert_pins *have)
{
    const pinset_pin *p = want->kind == PINSET_PIN_CERT ? &have->cert : &have->spki;

    if (p->kind != want->kind) {
        return 0; /* a cert pin that was not computed (kind left as spki) never matches */
    }
    /* constant time over the fixed 32 bytes (STYLE.md section 7) */
    return CRYPTO_memcmp(want->sha256, p->sha256, PINSET_PIN_LEN) == 0;
}

static int role_allows(pinset_role role, size_t depth)
{
    switch (role) {
    case PINSET_ROLE_LEAF:
        return depth == 0;
    case PINSET_ROLE_CA:
        return depth >= 1;
    case PINSET_ROLE_ANY:
    case PINSET_ROLE_BACKUP:
        return 1;
    default:
        return 0; /* an unknown role never matches: fail closed */
    }
}

/* A blocked key anywhere in the chain fails the rule (like Chromium's bad_static_spki_hashes). */
static int find_blocked(pinset_result *r)
{
    size_t n = pinset_rule_blocked_count(r->rule);

    for (size_t d = 0; d < r->nchain; d++) {
        for (size_t i = 0; i < n; i++) {
            if (pin_eq(pinset_rule_blocked(r->rule, i), &r->chain[d])) {
                r->matched = 1;
                r->match_index = i;
                r->match_depth = d;
                return 1;
            }
        }
    }
    return 0;
}

/*
 * First match, leaf first. Returns PINSET_REASON_NONE on a match, else
 * ROLE_MISMATCH when some pin was in the chain but only where its role
 * forbids it, else NO_MATCH.
 */
static pinset_reason find_pin(pinset_result *r)
{
    size_t n = pinset_rule_pin_count(r->rule);
    int wrong_place = 0;

    for (size_t d = 0; d < r->nchain; d++) {
        for (size_t i = 0; i < n; i++) {
            int64_t not_after = pinset_rule_pin_not_after(r->rule, i);

            /* a pin past its not_after no longer counts */
            if (not_after != 0 && r->now > not_after) {
                continue;
            }
            if (!pin_eq(pinset_rule_pin(r->rule, i), &r->chain[d])) {
                continue;
            }
            if (!role_allows(pinset_rule_pin_role(r->rule, i), d)) {
                wrong_place = 1;
                continue;
            }
            r->matched = 1;
            r->match_index = i;
            r->match_depth = d;
            return PINSET_REASON_NONE;
        }
    }
    return wrong_place ? PINSET_REASON_ROLE_MISMATCH : PINSET_REASON_NO_MATCH;
}

static void decide(pinset_result *r, const pinset_policy *policy)
{
    pinset_reason why;

    r->rule = pinset__policy_lookup_canon(policy, r->host, strlen(r->host), r->type, &r->how);
    if (r->rule == NULL || r->how == PINSET_MATCH_EXCLUDED || r->how == PINSET_MATCH_NONE) {
        pinset__result_set(r, PINSET_VERDICT_NOT_PINNED, PINSET_REASON_NONE);
        return;
    }
    r->mode = pinset_rule_mode(r->rule);
    if (pinset_rule_expires(r->rule) != 0 && r->now >= pinset_rule_expires(r->rule)) {
        r->expired = 1;
        switch (pinset_rule_on_expiry(r->rule)) {
        case PINSET_ON_EXPIRY_FAIL_OPEN:
            pinset__result_set(r, PINSET_VERDICT_EXPIRED_OPEN, PINSET_REASON_NONE);
            return;
        case PINSET_ON_EXPIRY_REPORT:
            r->mode = PINSET_MODE_REPORT;
            break;
        case PINSET_ON_EXPIRY_FAIL_CLOSED:
            break; /* the rule stays in force as written (an expiry never escalates report mode) */
        case PINSET_ON_EXPIRY_NONE:
        default:
            /* an expiry without on_expiry cannot be parsed; fail closed if it appears */
            r->mode = PINSET_MODE_ENFORCE;
            break;
        }
    }
    /*
     * A chain too long to hold fails the rule in every mode, like a missing
     * one: its pins were never computed. The host and rule stay recorded so
     * that the result explains itself and produces its report.
     */
    if (r->given > PINSET_CHAIN_MAX) {
        pinset__result_set(r, PINSET_VERDICT_FAIL, PINSET_REASON_CHAIN_TOO_LONG);
        return;
    }
    if (!r->cert_known && pinset__rule_needs_cert(r->rule)) {
        pinset__result_set(r, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL); /* caller's bug */
        return;
    }
    /* a pinned host with no certificate fails in every mode (like a path failure) */
    if (r->nchain == 0) {
        pinset__result_set(r, PINSET_VERDICT_FAIL, PINSET_REASON_NO_CHAIN);
        return;
    }
    /*
     * A blocked key fails the rule in every mode, even where another pin
     * matches: it names a key known to be bad, which report mode (made for
     * rolling out new pins) must not wave through.
     */
    if (find_blocked(r)) {
        r->verdict = PINSET_VERDICT_FAIL; /* matched stays set: which blocked key, at which depth */
        r->reason = PINSET_REASON_BLOCKED;
        return;
    }
    /* a rule made of blocked keys only (a deny list) has nothing else to match */
    if (pinset_rule_pin_count(r->rule) == 0) {
        pinset__result_set(r, PINSET_VERDICT_PASS, PINSET_REASON_NONE);
        return;
    }
    why = find_pin(r);
    if (why == PINSET_REASON_NONE) {
        pinset__result_set(r, PINSET_VERDICT_PASS, PINSET_REASON_NONE);
        return;
    }
    r->verdict =
        r->mode == PINSET_MODE_REPORT ? PINSET_VERDICT_REPORT_ONLY_FAIL : PINSET_VERDICT_FAIL;
    r->reason = why;
}

/* Common start: reset, record time and canonical host. 0 = go on to decide(). */
static int begin(pinset_result *r, const char *host, size_t host_len, int64_t now)
{
    pinset_result_reset(r);
    r->now = now;
    r->type = PINSET_HOST_DNS;
    if (host == NULL || host_len == 0) {
        pinset__result_set(r, PINSET_VERDICT_FAIL, PINSET_REASON_BAD_HOST);
        return -1;
    }
    /* pinset_host_canon skips libidn2 (and its allocations) for names already canonical */
    if (pinset_host_canon(r->host, sizeof(r->host), &r->type, host, host_len, NULL) != PINSET_OK) {
        r->host[0] = '\0';
        pinset__result_set(r, PINSET_VERDICT_FAIL, PINSET_REASON_BAD_HOST);
        return -1;
    }
    return 0;
}

int pinset__rule_needs_cert(const pinset_rule *rule)
{
    for (size_t i = 0; i < pinset_rule_pin_count(rule); i++) {
        if (pinset_rule_pin(rule, i)->kind == PINSET_PIN_CERT) {
            return 1;
        }
    }
    for (size_t i = 0; i < pinset_rule_blocked_count(rule); i++) {
        if (pinset_rule_blocked(rule, i)->kind == PINSET_PIN_CERT) {
            return 1;
        }
    }
    return 0;
}

pinset_err pinset__check_pins_ex(pinset_result *result, const pinset_policy *policy,
                                 const char *host, size_t host_len, const pinset_cert_pins *chain,
                                 size_t count, int64_t now, int cert_known)
{
    if (result == NULL || policy == NULL || (chain == NULL && count != 0)) {
        return PINSET_E_INVALID_ARG;
    }
    if (begin(result, host, host_len, now) != 0) {
        return PINSET_OK;
    }
    result->given = count;
    result->cert_known = cert_known;
    if (count > PINSET_CHAIN_MAX) {
        decide(result, policy); /* the chain is not read: chain-too-long under the host's rule */
        return PINSET_OK;
    }
    for (size_t i = 0; i < count; i++) {
        result->chain[i].spki = chain[i].spki;
        result->chain[i].spki.kind = PINSET_PIN_SPKI;
        result->chain[i].cert = chain[i].cert;
        /* an uncomputed cert pin keeps kind spki so that no cert pin can match it */
        result->chain[i].cert.kind = cert_known ? PINSET_PIN_CERT : PINSET_PIN_SPKI;
    }
    result->nchain = count;
    decide(result, policy);
    return PINSET_OK;
}

pinset_err pinset_check_pins(pinset_result *result, const pinset_policy *policy, const char *host,
                             size_t host_len, const pinset_cert_pins *chain, size_t count,
                             int64_t now)
{
    return pinset__check_pins_ex(result, policy, host, host_len, chain, count, now, 1);
}

static pinset_err digest(pinset_result *r, uint8_t out[PINSET_PIN_LEN], const uint8_t *buf,
                         size_t len)
{
    /* the result's fetched md and reused context: no fetch, no allocation (util/digest.c) */
    return pinset__sha256(out, buf, len, r->md, r->mdctx) ? PINSET_OK : PINSET_E_CRYPTO;
}

/*
 * The slow path for a certificate the DER walker declines: OpenSSL's parser
 * (allocates). Hashes the certificate's own SubjectPublicKeyInfo encoding.
 */
static pinset_err spki_slow(pinset_result *r, uint8_t out[PINSET_PIN_LEN], const uint8_t *der,
                            size_t len)
{
    const unsigned char *p = der;
    unsigned char *spki = NULL;
    X509 *x;
    int n;
    pinset_err err = PINSET_E_PARSE;

    if (len > (size_t)0x7fffffff) {
        return PINSET_E_LIMIT;
    }
    x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || p != der + len) {
        goto out;
    }
    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    if (n <= 0) {
        err = PINSET_E_CRYPTO;
        goto out;
    }
    err = digest(r, out, spki, (size_t)n);
out:
    OPENSSL_free(spki);
    X509_free(x);
    return err;
}

static pinset_err hash_cert(pinset_result *r, pinset_cert_pins *out, const pinset_cert *c)
{
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    pinset_err err;

    out->spki.kind = PINSET_PIN_SPKI;
    out->cert.kind = PINSET_PIN_CERT;
    if (c->der == NULL || c->len == 0) {
        return PINSET_E_INVALID_ARG;
    }
    if (c->len > PINSET_MAX_DER_SIZE) {
        return PINSET_E_LIMIT;
    }
    err = digest(r, out->cert.sha256, c->der, c->len);
    if (err != PINSET_OK) {
        return err;
    }
    if (pinset__der_cert_spki(c->der, c->len, &spki, &spki_len) == PINSET_OK) {
        return digest(r, out->spki.sha256, spki, spki_len);
    }
    return spki_slow(r, out->spki.sha256, c->der, c->len);
}

pinset_err pinset_check(pinset_result *result, const pinset_policy *policy, const char *host,
                        size_t host_len, const pinset_cert *chain, size_t count, int64_t now,
                        pinset_diag *diag)
{
    pinset_err err = PINSET_OK;

    if (result == NULL || policy == NULL || (chain == NULL && count != 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "check: result, policy or chain is null");
    }
    if (begin(result, host, host_len, now) != 0) {
        return PINSET_OK;
    }
    result->given = count;
    if (count > PINSET_CHAIN_MAX) {
        decide(result, policy); /* nothing hashed: chain-too-long under the host's rule */
        return PINSET_OK;
    }
    ERR_set_mark();
    for (size_t i = 0; i < count; i++) {
        err = hash_cert(result, &result->chain[i], &chain[i]);
        if (err != PINSET_OK) {
            ERR_pop_to_mark();
            result->nchain = i;
            pinset__result_set(result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
            return PINSET_DIAG(diag, err, "check: cannot hash chain certificate %zu", i);
        }
    }
    ERR_pop_to_mark();
    result->nchain = count;
    result->cert_known = 1;
    decide(result, policy);
    return PINSET_OK;
}

/* ---- names and getters ---- */

int pinset_verdict_allows(pinset_verdict verdict)
{
    switch (verdict) {
    case PINSET_VERDICT_PASS:
    case PINSET_VERDICT_NOT_PINNED:
    case PINSET_VERDICT_EXPIRED_OPEN:
    case PINSET_VERDICT_REPORT_ONLY_FAIL:
        return 1;
    case PINSET_VERDICT_NONE:
    case PINSET_VERDICT_FAIL:
    default:
        return 0;
    }
}

const char *pinset_verdict_name(pinset_verdict verdict)
{
    switch (verdict) {
    case PINSET_VERDICT_NONE:
        return "NONE";
    case PINSET_VERDICT_PASS:
        return "PASS";
    case PINSET_VERDICT_FAIL:
        return "FAIL";
    case PINSET_VERDICT_NOT_PINNED:
        return "NOT_PINNED";
    case PINSET_VERDICT_EXPIRED_OPEN:
        return "EXPIRED_OPEN";
    case PINSET_VERDICT_REPORT_ONLY_FAIL:
        return "REPORT_ONLY_FAIL";
    default:
        return "UNKNOWN";
    }
}

const char *pinset_reason_name(pinset_reason reason)
{
    static const char *const names[] = {
        "none",    "no-match",     "blocked",     "role-mismatch",  "no-chain", "bad-host",
        "no-host", "path-invalid", "not-checked", "chain-too-long", "internal",
    };

    if ((unsigned int)reason >= PINSET_ARRAY_SIZE(names)) {
        return "unknown";
    }
    return names[reason];
}

pinset_verdict pinset_result_verdict(const pinset_result *result)
{
    return result == NULL ? PINSET_VERDICT_NONE : result->verdict;
}

pinset_reason pinset_result_reason(const pinset_result *result)
{
    return result == NULL ? PINSET_REASON_NOT_CHECKED : result->reason;
}

const char *pinset_result_host(const pinset_result *result)
{
    return result == NULL ? NULL : result->host;
}

const pinset_rule *pinset_result_rule(const pinset_result *result)
{
    return result == NULL ? NULL : result->rule;
}

pinset_match pinset_result_match(const pinset_result *result)
{
    return result == NULL ? PINSET_MATCH_NONE : result->how;
}

pinset_mode pinset_result_mode(const pinset_result *result)
{
    return result == NULL ? PINSET_MODE_ENFORCE : result->mode;
}

int pinset_result_rule_expired(const pinset_result *result)
{
    return result != NULL && result->expired;
}

int64_t pinset_result_time(const pinset_result *result)
{
    return result == NULL ? 0 : result->now;
}

size_t pinset_result_chain_len(const pinset_result *result)
{
    return result == NULL ? 0 : result->nchain;
}

const pinset_pin *pinset_result_chain_pin(const pinset_result *result, size_t depth,
                                          pinset_pin_kind kind)
{
    if (result == NULL || depth >= result->nchain) {
        return NULL;
    }
    if (kind == PINSET_PIN_CERT) {
        return result->cert_known ? &result->chain[depth].cert : NULL;
    }
    return &result->chain[depth].spki;
}

int pinset_result_matched(const pinset_result *result, size_t *pin_index_out, size_t *depth_out)
{
    if (result == NULL || !result->matched) {
        return 0;
    }
    if (pin_index_out != NULL) {
        *pin_index_out = result->match_index;
    }
    if (depth_out != NULL) {
        *depth_out = result->match_depth;
    }
    return 1;
}

pinset_err pinset_result_explain(char *buf, size_t cap, const pinset_result *r)
{
    char what[160] = "";
    int n;

    if (buf == NULL || cap == 0 || r == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    if (r->verdict == PINSET_VERDICT_PASS && r->matched) {
        snprintf(what, sizeof(what), "pin %zu matched at depth %zu", r->match_index,
                 r->match_depth);
    } else if (r->reason == PINSET_REASON_BLOCKED && r->matched) {
        snprintf(what, sizeof(what), "blocked key %zu found at depth %zu", r->match_index,
                 r->match_depth);
    } else if (r->reason == PINSET_REASON_CHAIN_TOO_LONG) {
        snprintf(what, sizeof(what), "chain of %zu certificates, more than %d", r->given,
                 PINSET_CHAIN_MAX);
    } else if (r->reason == PINSET_REASON_NO_MATCH || r->reason == PINSET_REASON_ROLE_MISMATCH) {
        snprintf(what, sizeof(what), "no pin matched %zu certificate%s", r->nchain,
                 r->nchain == 1 ? "" : "s");
    } else {
        snprintf(what, sizeof(what), "%zu certificate%s", r->nchain, r->nchain == 1 ? "" : "s");
    }
    if (r->rule == NULL) {
        n = snprintf(buf, cap, "%s (%s): host \"%s\": no rule: %s", pinset_verdict_name(r->verdict),
                     pinset_reason_name(r->reason), r->host, what);
    } else {
        n = snprintf(buf, cap, "%s (%s): host \"%s\": rule \"%s\" (%s, %s%s): %s",
                     pinset_verdict_name(r->verdict), pinset_reason_name(r->reason), r->host,
                     pinset_rule_host(r->rule), pinset_match_name(r->how),
                     r->mode == PINSET_MODE_REPORT ? "report" : "enforce",
                     r->expired ? ", expired" : "", what);
    }
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return PINSET_E_BUFFER_TOO_SMALL;
    }
    return PINSET_OK;
}
