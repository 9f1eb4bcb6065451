/*
 * classify.c - classify_report: the classes of classify.h, in order.
 */
#include <pthread.h>
#include <serve/classify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <util/digest.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common.h"

static const char *const names[CLASS_COUNT] = {
    "clock-skew", "stale-client", "interception", "rotation-drift", "unclassified",
};

static const char *const actions[CLASS_COUNT] = {
    "the client's clock is wrong, not the server: nothing to change in the policy; tell the "
    "client's owners to fix the device clock",
    "the server's key is pinned by the current policy but these clients carry older pins: ship "
    "the current policy to them (see the app versions) before enforcing",
    "the chain ends in a root that neither the trust store nor the policy knows: a middlebox or "
    "an attacker; do not pin these keys, find the networks (client addresses) and keep enforcing",
    "the server shows a publicly valid key that the policy does not pin: if this is a planned "
    "rotation, add the new key (pinset backup-key, pinset plan) and ship the policy; if not, "
    "find out who issued it",
    "no check decided this report: collect with --policy and a trust store, then look at the "
    "chains",
};

const char *classify_name(report_class c)
{
    return (unsigned)c < CLASS_COUNT ? names[c] : "unclassified";
}

report_class classify_from_name(const char *name)
{
    for (int i = 0; i < CLASS_COUNT; i++) {
        if (name != NULL && strcmp(names[i], name) == 0) {
            return (report_class)i;
        }
    }
    return CLASS_COUNT;
}

const char *classify_action(report_class c)
{
    return (unsigned)c < CLASS_COUNT ? actions[c] : actions[CLASS_UNCLASSIFIED];
}

/* The pins that count as "pinned": the policy's rule, else the report's known pins. */
typedef struct pinned {
    char pins[64][REPORT_PIN_B64];
    size_t count;
    int from_policy;
} pinned;

static void pinned_of(pinned *p, const report *r, const pinset_policy *policy)
{
    const pinset_rule *rule = NULL;
    const char *host = r->noted_host[0] != '\0' ? r->noted_host : r->host;

    memset(p, 0, sizeof(*p));
    if (policy != NULL) {
        rule = pinset_policy_lookup(policy, host, strlen(host), NULL);
        if (rule == NULL && r->noted_host[0] != '\0') {
            rule = pinset_policy_lookup(policy, r->host, strlen(r->host), NULL);
        }
    }
    if (rule != NULL && !pinset_rule_is_exclusion(rule)) {
        p->from_policy = 1;
        for (size_t i = 0; i < pinset_rule_pin_count(rule) && p->count < 64; i++) {
            const pinset_pin *pin = pinset_rule_pin(rule, i);
            char text[PINSET_PIN_STR_MAX];
            if (pin != NULL && pin->kind == PINSET_PIN_SPKI &&
                pinset_pin_format(text, sizeof(text), pin, PINSET_PIN_FMT_BASE64) == PINSET_OK &&
                strlen(text) < REPORT_PIN_B64) {
                memcpy(p->pins[p->count++], text, strlen(text) + 1);
            }
        }
        return;
    }
    for (size_t i = 0; i < r->known_count; i++) {
        memcpy(p->pins[p->count++], r->known[i], REPORT_PIN_B64);
    }
}

static int has_pin(const char (*pins)[REPORT_PIN_B64], size_t n, const char *pin)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(pins[i], pin) == 0) {
            return 1;
        }
    }
    return 0;
}

#define VCACHE_SLOTS        1024
#define VCACHE_SLOT_SECONDS 300

typedef struct vcache_entry {
    uint8_t key[32];
    int used, trusted;
} vcache_entry;

struct classify_cache {
    pthread_mutex_t lock;
    vcache_entry slots[VCACHE_SLOTS];
};

classify_cache *classify_cache_new(void)
{
    classify_cache *c = calloc(1, sizeof(*c));

    if (c != NULL && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void classify_cache_free(classify_cache *c)
{
    if (c != NULL) {
        pthread_mutex_destroy(&c->lock);
        free(c);
    }
}

/* The key: SHA-256 over each certificate's DER digest, the time slot and the host (a chain valid
 * for one name is not for another). */
static int vcache_key(uint8_t out[32], const report_chain *c, const char *host, int64_t now)
{
    uint8_t buf[REPORT_MAX_CHAIN * 32 + 8 + 256];
    size_t n = 0, hl = strlen(host);
    int64_t slot = now / VCACHE_SLOT_SECONDS;

    if (hl >= 256) {
        return -1;
    }
    for (size_t i = 0; i < c->count; i++) {
        memcpy(buf + n, c->certs[i].der_sha, 32);
        n += 32;
    }
    memcpy(buf + n, &slot, sizeof(slot));
    n += sizeof(slot);
    memcpy(buf + n, host, hl);
    n += hl;
    return pinset__sha256(out, buf, n, NULL, NULL) ? 0 : -1;
}

static int verifies_uncached(const report_chain *c, const char *host, X509_STORE *trust,
                             int64_t now);

/* Whether the chain verifies for host, through the cache when there is one. */
static int verifies(const report_chain *c, const char *host, X509_STORE *trust,
                    classify_cache *cache, int64_t now)
{
    uint8_t key[32];
    vcache_entry *e;
    int trusted;

    if (cache == NULL || trust == NULL || c->count == 0 || vcache_key(key, c, host, now) != 0) {
        return verifies_uncached(c, host, trust, now);
    }
    e = &cache->slots[((size_t)key[0] << 8 | key[1]) % VCACHE_SLOTS];
    pthread_mutex_lock(&cache->lock);
    if (e->used && memcmp(e->key, key, 32) == 0) {
        trusted = e->trusted;
        pthread_mutex_unlock(&cache->lock);
        return trusted;
    }
    pthread_mutex_unlock(&cache->lock);
    trusted = verifies_uncached(c, host, trust, now);
    pthread_mutex_lock(&cache->lock);
    memcpy(e->key, key, 32);
    e->used = 1;
    e->trusted = trusted;
    pthread_mutex_unlock(&cache->lock);
    return trusted;
}

/*
 * Whether the chain verifies against the trust store at `now` (leaf first, the rest untrusted)
 * as a TLS server's chain for host: a publicly valid chain for another name is not "valid" here.
 */
static int verifies_uncached(const report_chain *c, const char *host, X509_STORE *trust,
                             int64_t now)
{
    X509_STORE_CTX *ctx;
    STACK_OF(X509) * rest;
    int ok = 0;

    if (trust == NULL || c->count == 0) {
        return 0;
    }
    ERR_set_mark();
    ctx = X509_STORE_CTX_new();
    rest = sk_X509_new_null();
    if (ctx != NULL && rest != NULL) {
        int pushed = 1;
        for (size_t i = 1; i < c->count && pushed; i++) {
            pushed = sk_X509_push(rest, c->certs[i].x509) > 0;
        }
        if (pushed && X509_STORE_CTX_init(ctx, trust, c->certs[0].x509, rest) == 1) {
            X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
            X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
            ok = X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) == 1 &&
                 (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ||
                  X509_VERIFY_PARAM_set1_host(param, host, 0) == 1) &&
                 X509_verify_cert(ctx) == 1;
        }
    }
    sk_X509_free(rest);
    X509_STORE_CTX_free(ctx);
    ERR_pop_to_mark();
    return ok;
}

/* How many certificates from the leaf on form a path: each signed the one before it. */
static size_t path_len(const report_chain *c)
{
    size_t n = 1;

    ERR_set_mark();
    while (n < c->count) {
        X509 *subject = c->certs[n - 1].x509, *issuer = c->certs[n].x509;
        EVP_PKEY *key = X509_get0_pubkey(issuer);
        if (X509_check_issued(issuer, subject) != X509_V_OK || key == NULL ||
            X509_verify(subject, key) != 1) {
            break;
        }
        n++;
    }
    ERR_pop_to_mark();
    return n;
}

report_class classify_report(const report *r, const pinset_policy *policy, X509_STORE *trust,
                             int64_t now, char *why, size_t cap)
{
    return classify_report_cached(r, policy, trust, NULL, now, why, cap);
}

report_class classify_report_cached(const report *r, const pinset_policy *policy, X509_STORE *trust,
                                    classify_cache *cache, int64_t now, char *why, size_t cap)
{
    const report_chain *chain = r->served.count > 0 ? &r->served : &r->validated;
    pinned *p = calloc(1, sizeof(*p));
    report_class c = CLASS_UNCLASSIFIED;
    const report_cert *leaf = chain->count > 0 ? &chain->certs[0] : NULL;
    const char *pinned_key = NULL;

    /* a local time written as UTC is off by the client's UTC offset: up to 14 hours either way */
    int64_t slack = r->date_local ? CLASSIFY_LOCAL_SLACK : 0;

    snprintf(why, cap, "no check held");
    if (p == NULL) {
        return c;
    }
    if (r->date_time >= 0 && r->date_time > now + CLASSIFY_SKEW_MAX + slack) {
        snprintf(why, cap, "the client's date-time is %lld s ahead of the receive time",
                 (long long)(r->date_time - now));
        c = CLASS_CLOCK_SKEW;
        goto done;
    }
    if (r->date_time >= 0 && leaf != NULL && leaf->not_after > 0 &&
        (r->date_time + slack < leaf->not_before || r->date_time - slack > leaf->not_after) &&
        now >= leaf->not_before && now <= leaf->not_after) {
        snprintf(why, cap,
                 "the client's date-time lies outside the leaf's validity period, the receive "
                 "time inside it");
        c = CLASS_CLOCK_SKEW;
        goto done;
    }
    pinned_of(p, r, policy);
    /* only the chain's path counts: a certificate appended to a served chain (an interceptor
     * can send the genuine intermediate along) does not make its key "in the chain" */
    size_t path = chain->count > 0 ? path_len(chain) : 0;
    for (size_t i = 0; i < path && pinned_key == NULL; i++) {
        if (has_pin((const char(*)[REPORT_PIN_B64])p->pins, p->count, chain->certs[i].pin)) {
            pinned_key = chain->certs[i].pin;
        }
    }
    if (p->from_policy && pinned_key != NULL &&
        !has_pin((const char(*)[REPORT_PIN_B64])r->known, r->known_count, pinned_key)) {
        snprintf(why, cap, "the current policy pins %s of the chain; the client's pins lack it",
                 pinned_key);
        c = CLASS_STALE_CLIENT;
        goto done;
    }
    int trusted = verifies(chain, r->host, trust, cache, now);
    if (chain->count > 0 && !trusted && pinned_key == NULL) {
        snprintf(why, cap,
                 "the chain does not verify against the trust store and its root's key is not "
                 "pinned");
        c = CLASS_INTERCEPTION;
        goto done;
    }
    if (trusted && pinned_key == NULL) {
        snprintf(why, cap, "a valid public chain whose leaf key %s is not pinned", leaf->pin);
        c = CLASS_ROTATION_DRIFT;
        goto done;
    }
    if (chain->count == 0) {
        snprintf(why, cap, "the report holds no certificate");
    } else if (pinned_key != NULL) {
        snprintf(why, cap, "the chain holds the pinned key %s", pinned_key);
    }
done:
    free(p);
    return c;
}
