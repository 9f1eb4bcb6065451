/*
 * openssl.c - the verdict inside OpenSSL's handshake: the cert-verify callback,
 * the post-handshake gate and session tagging (include/pinset/openssl.h).
 *
 * State without globals (STYLE.md section 6): every pinset_ossl allocates its
 * own ex_data indices (SSL_CTX, SSL, SSL_SESSION) and frees them with its
 * last reference. Each item stored at those indices holds a reference to the
 * pinset_ossl, so the indices outlive every object that uses them; the
 * cert-verify callback gets the pinset_ossl as its argument, and the
 * application passes it to the gate. docs/verdict.md has the details.
 */
#include <stdatomic.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>

#include <pinset/host.h>
#include <pinset/openssl.h>

#include "internal.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/rfc3339.h"
#include "verdict/check_int.h"

/*
 * A small cache of spki pins keyed by the exact contents of a
 * SubjectPublicKeyInfo: the algorithm OID, its parameters when they are
 * absent, NULL or an OID (other parameters are never cached), and the
 * public-key BIT STRING's bytes and unused-bit flags. Equal keys encode to
 * identical DER, so the cached SHA-256 is the one hashing would give. It
 * saves re-encoding and hashing the same keys (a server's chain, the trust
 * anchors) on every handshake.
 */
#define SPKI_CACHE_SLOTS   8
#define SPKI_CACHE_KEY_MAX 600 /* bytes of public key; longer keys are not cached */

struct spki_slot {
    ASN1_OBJECT *alg;   /* NULL = empty */
    int ptype;          /* V_ASN1_UNDEF (absent), V_ASN1_NULL or V_ASN1_OBJECT */
    ASN1_OBJECT *param; /* for V_ASN1_OBJECT */
    long flags;         /* the BIT STRING's unused-bit flags */
    int len;
    unsigned char key[SPKI_CACHE_KEY_MAX];
    uint8_t pin[PINSET_PIN_LEN];
};

struct pinset_ossl {
    atomic_size_t refs;
    CRYPTO_RWLOCK *lock; /* guards policy and the spki cache */
    pinset_policy *policy;
    pinset_ossl_opts opts;
    int ctx_idx, ssl_idx, sess_idx;
    pinset_ossl_observer_fn observer;
    void *observer_payload;
    EVP_MD *md; /* SHA-256, fetched once */
    struct spki_slot cache[SPKI_CACHE_SLOTS];
    unsigned int cache_next;
};

/*
 * What a verdict was decided over, kept so that the gate can decide it again
 * later (a resumed session, a connection reused for another request): the
 * pins of the validated chain and that chain's validity period. Pin and rule
 * times then count at the moment of the gate, not of the handshake.
 */
struct basis {
    int path_ok;        /* the chain validated */
    int cert_known;     /* cert pins were computed (a rule needed them) */
    int windowed;       /* not_before/not_after hold the chain's validity */
    int64_t not_before; /* latest notBefore in the validated chain */
    int64_t not_after;  /* earliest notAfter in the validated chain */
    size_t n;           /* pins below; 0 when no rule pins the names (nothing hashed) */
    size_t given;       /* certificates in the validated chain (> PINSET_CHAIN_MAX: too long) */
    pinset_cert_pins pins[PINSET_CHAIN_MAX];
};

/* A session's tag: under which policy, for which host and port, over what it passed. */
struct sess_tag {
    pinset_ossl *pin; /* reference */
    uint8_t digest[32];
    char host[PINSET_HOST_MAX];
    unsigned int port;
    pinset_verdict verdict;
    struct basis basis;
};

/* Per-SSL state. */
struct ssl_state {
    pinset_ossl *pin;        /* reference */
    pinset_policy *override; /* reference or NULL */
    pinset_policy *used;     /* the snapshot of the last check (reference) */
    unsigned int port;
    int checked;               /* the cert-verify callback recorded a verdict */
    pinset_verdict cb_verdict; /* the verdict the callback recorded */
    X509 *leaf;                /* the leaf that verdict is about (reference) */
    struct basis basis;        /* what the callback decided over */
    pinset_result *result;
};

static pinset_ossl *ossl_ref(pinset_ossl *pin)
{
    atomic_fetch_add(&pin->refs, 1);
    return pin;
}

static void ossl_unref(pinset_ossl *pin)
{
    if (pin == NULL || atomic_fetch_sub(&pin->refs, 1) != 1) {
        return;
    }
    /*
     * Last reference: no SSL_CTX, SSL or SSL_SESSION holds our data any more,
     * so the indices can go. CRYPTO_free_ex_index only retires the index (it
     * is safe while OpenSSL iterates the callbacks of another object).
     */
    CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL_CTX, pin->ctx_idx);
    CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL, pin->ssl_idx);
    CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL_SESSION, pin->sess_idx);
    pinset_policy_free(pin->policy);
    for (size_t i = 0; i < SPKI_CACHE_SLOTS; i++) {
        ASN1_OBJECT_free(pin->cache[i].alg);
        ASN1_OBJECT_free(pin->cache[i].param);
    }
    EVP_MD_free(pin->md);
    CRYPTO_THREAD_lock_free(pin->lock);
    pinset__free(pin);
}

/* ---- ex_data callbacks ---- */

static void ctx_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    ossl_unref(ptr);
}

static int ctx_dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                      long argl, void *argp)
{
    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    /* SSL_CTX objects are not duplicated; drop it rather than share a reference */
    *from_d = NULL;
    return 1;
}

static void state_free(struct ssl_state *st)
{
    if (st == NULL) {
        return;
    }
    pinset_policy_free(st->override);
    pinset_policy_free(st->used);
    X509_free(st->leaf);
    pinset_result_free(st->result);
    ossl_unref(st->pin);
    pinset__free(st);
}

static void ssl_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    state_free(ptr);
}

static int ssl_dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                      long argl, void *argp)
{
    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    /* SSL_dup: the copy has not been checked; it starts without a verdict */
    *from_d = NULL;
    return 1;
}

static void sess_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    struct sess_tag *tag = ptr;

    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (tag != NULL) {
        pinset_ossl *pin = tag->pin;

        pinset__free(tag);
        ossl_unref(pin);
    }
}

/*
 * OpenSSL copies ex_data pointers when it duplicates a session (TLS 1.3 does
 * so for every new ticket): give the copy its own tag, or none on failure.
 */
static int sess_dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                       long argl, void *argp)
{
    struct sess_tag *src = *from_d, *copy;

    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    if (src == NULL) {
        return 1;
    }
    copy = pinset__alloc(sizeof(*copy));
    if (copy != NULL) {
        *copy = *src;
        ossl_ref(copy->pin);
    }
    *from_d = copy;
    return 1;
}

/* ---- life cycle ---- */

pinset_err pinset_ossl_new(pinset_ossl **out, pinset_policy *policy, const pinset_ossl_opts *opts,
                           pinset_diag *diag)
{
    pinset_ossl *pin;

    if (out == NULL || policy == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "ossl: out or policy is null");
    }
    *out = NULL;
    if (opts != NULL && (opts->version != PINSET_OSSL_OPTS_VERSION || opts->flags != 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "ossl: unknown options version or flags");
    }
    pin = pinset__alloc(sizeof(*pin));
    if (pin == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "ossl: out of memory");
    }
    pin->ctx_idx = pin->ssl_idx = pin->sess_idx = -1;
    ERR_set_mark();
    pin->lock = CRYPTO_THREAD_lock_new();
    pin->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pin->lock != NULL && pin->md != NULL) {
        pin->ctx_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, ctx_dup_cb, ctx_free_cb);
        pin->ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, ssl_dup_cb, ssl_free_cb);
        pin->sess_idx = SSL_SESSION_get_ex_new_index(0, NULL, NULL, sess_dup_cb, sess_free_cb);
    }
    if (pin->lock == NULL || pin->md == NULL || pin->ctx_idx < 0 || pin->ssl_idx < 0 ||
        pin->sess_idx < 0) {
        pinset_err err = PINSET_DIAG_OSSL(diag, PINSET_E_NOMEM, "ossl: cannot allocate ex_data");

        if (pin->ctx_idx >= 0) {
            CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL_CTX, pin->ctx_idx);
        }
        if (pin->ssl_idx >= 0) {
            CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL, pin->ssl_idx);
        }
        if (pin->sess_idx >= 0) {
            CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL_SESSION, pin->sess_idx);
        }
        EVP_MD_free(pin->md);
        CRYPTO_THREAD_lock_free(pin->lock);
        pinset__free(pin);
        return err;
    }
    ERR_pop_to_mark();
    atomic_init(&pin->refs, 1);
    pin->policy = pinset_policy_ref(policy);
    if (opts != NULL) {
        pin->opts = *opts;
    } else {
        pinset_ossl_opts def = PINSET_OSSL_OPTS_INIT;

        pin->opts = def;
    }
    *out = pin;
    return PINSET_OK;
}

void pinset_ossl_free(pinset_ossl *pin)
{
    ossl_unref(pin);
}

pinset_err pinset_ossl_set_policy(pinset_ossl *pin, pinset_policy *policy)
{
    pinset_policy *old;

    if (pin == NULL || policy == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    pinset_policy_ref(policy);
    if (!CRYPTO_THREAD_write_lock(pin->lock)) {
        pinset_policy_free(policy);
        return PINSET_E_INTERNAL;
    }
    old = pin->policy;
    pin->policy = policy;
    CRYPTO_THREAD_unlock(pin->lock);
    pinset_policy_free(old);
    return PINSET_OK;
}

/* A reference to the current snapshot (the override, else the attached policy). */
static pinset_policy *snapshot(pinset_ossl *pin, const struct ssl_state *st)
{
    pinset_policy *p = NULL;

    if (st != NULL && st->override != NULL) {
        return pinset_policy_ref(st->override);
    }
    if (!CRYPTO_THREAD_read_lock(pin->lock)) {
        return NULL;
    }
    p = pinset_policy_ref(pin->policy);
    CRYPTO_THREAD_unlock(pin->lock);
    return p;
}

static struct ssl_state *state_of(const pinset_ossl *pin, const SSL *ssl)
{
    return SSL_get_ex_data(ssl, pin->ssl_idx);
}

static struct ssl_state *state_get(pinset_ossl *pin, SSL *ssl)
{
    struct ssl_state *st = state_of(pin, ssl);

    if (st != NULL) {
        return st;
    }
    st = pinset__alloc(sizeof(*st));
    if (st == NULL) {
        return NULL;
    }
    st->result = pinset__result_new_bare();
    if (st->result == NULL) {
        pinset__free(st);
        return NULL;
    }
    st->pin = ossl_ref(pin);
    ERR_set_mark();
    if (!SSL_set_ex_data(ssl, pin->ssl_idx, st)) {
        ERR_pop_to_mark();
        state_free(st);
        return NULL;
    }
    ERR_pop_to_mark();
    return st;
}

pinset_err pinset_ossl_override(pinset_ossl *pin, SSL *ssl, pinset_policy *policy)
{
    struct ssl_state *st;

    if (pin == NULL || ssl == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    st = state_get(pin, ssl);
    if (st == NULL) {
        return PINSET_E_NOMEM;
    }
    pinset_policy_free(st->override);
    st->override = policy != NULL ? pinset_policy_ref(policy) : NULL;
    return PINSET_OK;
}

pinset_err pinset_ossl_set_port(pinset_ossl *pin, SSL *ssl, unsigned int port)
{
    struct ssl_state *st;

    if (pin == NULL || ssl == NULL || port > 65535) {
        return PINSET_E_INVALID_ARG;
    }
    st = state_get(pin, ssl);
    if (st == NULL) {
        return PINSET_E_NOMEM;
    }
    st->port = port;
    return PINSET_OK;
}

/* ---- the cert-verify callback ---- */

static int64_t now_of(const pinset_ossl *pin)
{
    if (pin->opts.clock != NULL) {
        return pin->opts.clock(pin->opts.clock_payload);
    }
    return (int64_t)time(NULL);
}

/*
 * SHA-256 of an encoding with the pre-fetched md, through a stack buffer
 * (util/digest.c): X509_digest() would re-fetch SHA-256 and allocate on
 * every call.
 */
static int hash_i2d(uint8_t out[PINSET_PIN_LEN], pinset__i2d_fn i2d, const void *obj,
                    const EVP_MD *md)
{
    uint8_t stackbuf[4096]; /* certificates and keys in the wild fit */

    return pinset__sha256_i2d(out, i2d, obj, md, stackbuf, sizeof(stackbuf), 0) ==
           PINSET__DIGEST_OK;
}

static int i2d_cert(const void *x, unsigned char **pp)
{
    return i2d_X509((const X509 *)x, pp);
}

static int i2d_spki(const void *x, unsigned char **pp)
{
    /* the certificate's own SubjectPublicKeyInfo, as encoded in it */
    return i2d_X509_PUBKEY(X509_get_X509_PUBKEY((const X509 *)x), pp);
}

/* The cache key of a certificate's key; 0 when it is not cacheable. */
static int spki_key(const X509 *x, const ASN1_OBJECT **alg, int *ptype, const ASN1_OBJECT **param,
                    const ASN1_BIT_STRING **bits)
{
    X509_ALGOR *algor = NULL;
    const void *pval = NULL;

    if (!X509_PUBKEY_get0_param(NULL, NULL, NULL, &algor, X509_get_X509_PUBKEY(x)) ||
        algor == NULL) {
        return 0;
    }
    X509_ALGOR_get0(alg, ptype, &pval, algor);
    *param = *ptype == V_ASN1_OBJECT ? pval : NULL;
    *bits = X509_get0_pubkey_bitstr(x);
    return *alg != NULL && *bits != NULL && (*bits)->length >= 0 &&
           (*bits)->length <= SPKI_CACHE_KEY_MAX &&
           (*ptype == V_ASN1_UNDEF || *ptype == V_ASN1_NULL ||
            (*ptype == V_ASN1_OBJECT && *param != NULL));
}

static int slot_matches(const struct spki_slot *e, const ASN1_OBJECT *alg, int ptype,
                        const ASN1_OBJECT *param, const ASN1_BIT_STRING *bits)
{
    return e->alg != NULL && e->len == bits->length && e->ptype == ptype &&
           e->flags == (bits->flags & 0x0f) && memcmp(e->key, bits->data, (size_t)e->len) == 0 &&
           OBJ_cmp(e->alg, alg) == 0 && (ptype != V_ASN1_OBJECT || OBJ_cmp(e->param, param) == 0);
}

/* The spki pin of a certificate: from the cache, or hashed and cached. */
static int spki_pin(pinset_ossl *pin, uint8_t out[PINSET_PIN_LEN], const X509 *x)
{
    const ASN1_OBJECT *alg = NULL, *param = NULL;
    const ASN1_BIT_STRING *bits = NULL;
    struct spki_slot *e;
    int ptype = V_ASN1_UNDEF, hit = 0;

    if (!spki_key(x, &alg, &ptype, &param, &bits)) {
        return hash_i2d(out, i2d_spki, x, pin->md);
    }
    if (CRYPTO_THREAD_read_lock(pin->lock)) {
        for (size_t i = 0; i < SPKI_CACHE_SLOTS && !hit; i++) {
            if (slot_matches(&pin->cache[i], alg, ptype, param, bits)) {
                memcpy(out, pin->cache[i].pin, PINSET_PIN_LEN);
                hit = 1;
            }
        }
        CRYPTO_THREAD_unlock(pin->lock);
    }
    if (hit) {
        return 1;
    }
    if (!hash_i2d(out, i2d_spki, x, pin->md)) {
        return 0;
    }
    if (CRYPTO_THREAD_write_lock(pin->lock)) {
        e = &pin->cache[pin->cache_next++ % SPKI_CACHE_SLOTS];
        ASN1_OBJECT_free(e->alg);
        ASN1_OBJECT_free(e->param);
        e->alg = OBJ_dup(alg);
        e->param = param != NULL ? OBJ_dup(param) : NULL;
        if (e->alg == NULL || (param != NULL && e->param == NULL)) {
            ASN1_OBJECT_free(e->alg);
            ASN1_OBJECT_free(e->param);
            e->alg = e->param = NULL; /* out of memory: leave the slot empty */
        }
        e->ptype = ptype;
        e->flags = bits->flags & 0x0f;
        e->len = bits->length;
        if (bits->length > 0) {
            memcpy(e->key, bits->data, (size_t)bits->length);
        }
        memcpy(e->pin, out, PINSET_PIN_LEN);
        CRYPTO_THREAD_unlock(pin->lock);
    }
    return 1;
}

/* The pins of one certificate; the cert pin only when a rule needs it. */
static int pins_of(pinset_ossl *pin, pinset_cert_pins *out, const X509 *x, int need_cert)
{
    memset(out, 0, sizeof(*out));
    out->spki.kind = PINSET_PIN_SPKI;
    out->cert.kind = PINSET_PIN_CERT;
    if (need_cert && !hash_i2d(out->cert.sha256, i2d_cert, x, pin->md)) {
        return 0;
    }
    return spki_pin(pin, out->spki.sha256, x);
}

/*
 * What the names the application verifies need: returns 1 when a rule pins
 * any of them (else the chain need not be hashed at all: the verdict is
 * NOT_PINNED whatever it holds), and sets *need_cert when such a rule has a
 * cert pin. A wrong "not pinned" here cannot pass a pinned host: the check
 * then sees an empty chain, which fails (no-chain).
 */
static int names_pinned(const pinset_policy *policy, X509_STORE_CTX *xctx, const char *ip,
                        int *need_cert)
{
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(xctx);
    const pinset_rule *rule;
    pinset_match how;
    const char *host;
    int pinned = 0;

    *need_cert = 0;
    for (int i = 0; X509_VERIFY_PARAM_get0_host(vp, i) != NULL; i++) {
        host = X509_VERIFY_PARAM_get0_host(vp, i);
        rule = pinset_policy_lookup(policy, host, strlen(host), &how);
        if (rule != NULL && how != PINSET_MATCH_EXCLUDED) {
            pinned = 1;
            *need_cert |= pinset__rule_needs_cert(rule);
        }
    }
    if (ip != NULL) { /* OpenSSL checks the IP as well as the names */
        rule = pinset_policy_lookup(policy, ip, strlen(ip), &how);
        if (rule != NULL && how != PINSET_MATCH_EXCLUDED) {
            pinned = 1;
            *need_cert |= pinset__rule_needs_cert(rule);
        }
    }
    return pinned;
}

/*
 * DER copies of every certificate of a stack (reports only), however many:
 * a report shows the whole chain. Returns 0 (and *out NULL) when the stack
 * is empty or a copy fails; the report then goes without that chain.
 */
static size_t ders_of(pinset_cert **out, STACK_OF(X509) * sk)
{
    int count = sk == NULL ? 0 : sk_X509_num(sk);
    pinset_cert *c;

    *out = NULL;
    if (count <= 0 || (c = pinset__alloc_array((size_t)count, sizeof(*c))) == NULL) {
        return 0;
    }
    for (int i = 0; i < count; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(sk_X509_value(sk, i), &der);

        if (len <= 0) {
            for (int j = 0; j < i; j++) {
                OPENSSL_free((void *)(uintptr_t)c[j].der);
            }
            pinset__free(c);
            return 0;
        }
        c[i].der = der;
        c[i].len = (size_t)len;
    }
    *out = c;
    return (size_t)count;
}

static void ders_free(pinset_cert *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        OPENSSL_free((void *)(uintptr_t)c[i].der);
    }
    pinset__free(c);
}

/* The most a report document may take (util/buf.h bounds every growable buffer). */
#define REPORT_MAX ((size_t)16 << 20)

/* Build and hand over a report; never changes the verdict, never fails the handshake. */
static void report(const pinset_ossl *pin, const struct ssl_state *st, X509_STORE_CTX *xctx,
                   X509_STORE_CTX *strict)
{
    pinset_cert *served = NULL, *validated = NULL;
    pinset_report_input in = PINSET_REPORT_INPUT_INIT;
    struct pinset__buf d;

    if (pin->opts.report == NULL || !pinset_report_wanted(st->result)) {
        return;
    }
    in.port = st->port;
    in.served_count = ders_of(&served, X509_STORE_CTX_get0_untrusted(xctx));
    in.served = served;
    if (pinset_result_reason(st->result) != PINSET_REASON_PATH_INVALID) {
        in.validated_count =
            ders_of(&validated, X509_STORE_CTX_get0_chain(strict != NULL ? strict : xctx));
    }
    in.validated = validated;
    pinset__buf_init(&d, REPORT_MAX, 0);
    if (pinset_report_write(st->result, &in, pinset__buf_sink, &d, NULL) == PINSET_OK &&
        d.p != NULL) {
        pin->opts.report((const char *)d.p, d.len, pin->opts.report_payload);
    }
    pinset__buf_free(&d);
    ders_free(served, in.served_count);
    ders_free(validated, in.validated_count);
}

/*
 * Check one host name against the validated chain (chain == NULL: the path
 * failed). n may exceed PINSET_CHAIN_MAX: the pins are then not read, and a
 * rule for the host fails with chain-too-long.
 */
static void check_host(struct ssl_state *st, const pinset_policy *policy, const char *host,
                       const pinset_cert_pins *pins, size_t n, int64_t now, int need_cert)
{
    if (pinset__check_pins_ex(st->result, policy, host, strlen(host), pins, n, now, need_cert) !=
        PINSET_OK) {
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
        return;
    }
    if (pins == NULL) {
        /*
         * Path validation failed: a pinned host has FAIL (no-chain) in every
         * mode; others keep OpenSSL's say. Either way the reason is the path.
         */
        pinset__result_set(st->result, pinset_result_verdict(st->result),
                           PINSET_REASON_PATH_INVALID);
    }
}

/*
 * The verdict for every identity the application verifies: each name set
 * with SSL_set1_host/SSL_add1_host (OpenSSL accepts a certificate that
 * matches any of them) and the IP (which OpenSSL requires as well). The
 * first identity whose verdict does not allow the connection decides; else
 * the first one that a rule pins, else the first. Returns 0 when no host and
 * no IP was set.
 */
static int check_names(struct ssl_state *st, const pinset_policy *policy, X509_VERIFY_PARAM *vp,
                       const char *ip, const pinset_cert_pins *pins, size_t n, int64_t now,
                       int need_cert)
{
    pinset_result *keep = NULL;
    int hosts = 0, total, kept_rule = 0;

    while (X509_VERIFY_PARAM_get0_host(vp, hosts) != NULL) {
        hosts++;
    }
    total = hosts + (ip != NULL);
    if (total > 1) {
        keep = pinset__result_new_bare();
        if (keep == NULL) {
            pinset_result_reset(st->result);
            pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
            goto out;
        }
    }
    for (int i = 0; i < total; i++) {
        check_host(st, policy, i < hosts ? X509_VERIFY_PARAM_get0_host(vp, i) : ip, pins, n, now,
                   need_cert);
        if (!pinset_verdict_allows(pinset_result_verdict(st->result))) {
            goto out; /* this identity's refusal stands */
        }
        if (keep != NULL && (i == 0 || (!kept_rule && pinset_result_rule(st->result) != NULL))) {
            pinset__result_copy(keep, st->result);
            kept_rule = pinset_result_rule(st->result) != NULL;
        }
    }
    if (keep != NULL) {
        pinset__result_copy(st->result, keep);
    }
out:
    pinset_result_free(keep);
    return total > 0;
}

/*
 * Under SSL_VERIFY_NONE OpenSSL ignores a failed verification. A pinned
 * mismatch must still fail the handshake: switch this SSL to
 * SSL_VERIFY_PEER so that OpenSSL sends the alert and aborts. The
 * connection is dead either way.
 */
static void force_fail(SSL *ssl, X509_STORE_CTX *xctx)
{
    if (X509_STORE_CTX_get_error(xctx) == X509_V_OK) {
        X509_STORE_CTX_set_error(xctx, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    if (ssl != NULL && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0) {
        SSL_set_verify(ssl, SSL_get_verify_mode(ssl) | SSL_VERIFY_PEER, NULL);
    }
}

static int strict_cb(int ok, X509_STORE_CTX *xctx)
{
    (void)xctx;
    return ok;
}

/* 1 when the application installed a verify callback (on the SSL or SSL_CTX, or on the store). */
static int app_verify_cb(const SSL *ssl, X509_STORE_CTX *xctx)
{
    return SSL_get_verify_callback(ssl) != NULL ||
           X509_STORE_get_verify_cb(X509_STORE_CTX_get0_store(xctx)) != NULL;
}

/*
 * An application verify callback can accept an error and clear it
 * (X509_STORE_CTX_set_error(ctx, X509_V_OK)): X509_verify_cert() then
 * returns 1 with no error left, over a chain that does not validate (its
 * links may be names only). For a pinned host, validate the same leaf,
 * untrusted certificates, store and parameters again without the
 * application's callback. Returns the store context whose chain validated,
 * or NULL.
 */
static X509_STORE_CTX *verify_strict(X509_STORE_CTX *xctx)
{
    X509_STORE_CTX *s = X509_STORE_CTX_new();

    if (s == NULL ||
        !X509_STORE_CTX_init(s, X509_STORE_CTX_get0_store(xctx), X509_STORE_CTX_get0_cert(xctx),
                             X509_STORE_CTX_get0_untrusted(xctx)) ||
        !X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(s), X509_STORE_CTX_get0_param(xctx))) {
        X509_STORE_CTX_free(s);
        return NULL;
    }
    X509_STORE_CTX_set_verify_cb(s, strict_cb);
    if (X509_verify_cert(s) != 1 || X509_STORE_CTX_get_error(s) != X509_V_OK) {
        X509_STORE_CTX_free(s);
        return NULL;
    }
    return s;
}

/* An ASN1_TIME as seconds since the epoch; 0 when it cannot be read. */
static int asn1_time_posix(int64_t *out, const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return 0;
    }
    *out = pinset__time_from_tm(&tm);
    return 1;
}

/* The validated chain's validity period: the latest notBefore and the earliest notAfter. */
static void chain_window(struct basis *b, STACK_OF(X509) * chain)
{
    b->windowed = chain != NULL && sk_X509_num(chain) > 0;
    b->not_before = INT64_MIN;
    b->not_after = INT64_MAX;
    for (int i = 0; b->windowed && i < sk_X509_num(chain); i++) {
        const X509 *x = sk_X509_value(chain, i);
        int64_t nb, na;

        if (!asn1_time_posix(&nb, X509_get0_notBefore(x)) ||
            !asn1_time_posix(&na, X509_get0_notAfter(x))) {
            b->windowed = 0; /* unreadable (OpenSSL validated it): decided by OpenSSL alone */
            break;
        }
        b->not_before = nb > b->not_before ? nb : b->not_before;
        b->not_after = na < b->not_after ? na : b->not_after;
    }
}

static int decide(pinset_ossl *pin, struct ssl_state *st, SSL *ssl, X509_STORE_CTX *xctx,
                  int path_ok)
{
    pinset_cert_pins pins[PINSET_CHAIN_MAX];
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xctx);
    X509_STORE_CTX *strict = NULL;
    /* NULL when no IP was set (with an error on the queue, under the caller's mark) */
    char *ip = X509_VERIFY_PARAM_get1_ip_asc(X509_STORE_CTX_get0_param(xctx));
    int64_t now = now_of(pin);
    int need_cert = 0, allow = 0;
    size_t n = 0;

    if (path_ok && names_pinned(st->used, xctx, ip, &need_cert)) {
        if (app_verify_cb(ssl, xctx)) {
            strict = verify_strict(xctx);
            path_ok = strict != NULL; /* a failure here is a path failure like any other */
            chain = path_ok ? X509_STORE_CTX_get0_chain(strict) : NULL;
        }
        n = chain == NULL ? 0 : (size_t)sk_X509_num(chain);
        /* a chain too long to hold is not hashed: check_names fails it under its rule */
        for (size_t i = 0; n <= PINSET_CHAIN_MAX && i < n; i++) {
            if (!pins_of(pin, &pins[i], sk_X509_value(chain, (int)i), need_cert)) {
                pinset_result_reset(st->result);
                pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
                goto out;
            }
        }
        chain_window(&st->basis, chain);
    }
    st->basis.path_ok = path_ok;
    st->basis.cert_known = need_cert;
    st->basis.given = n;
    st->basis.n = n <= PINSET_CHAIN_MAX ? n : 0;
    if (st->basis.n > 0) {
        memcpy(st->basis.pins, pins, st->basis.n * sizeof(pins[0]));
    }
    if (!check_names(st, st->used, X509_STORE_CTX_get0_param(xctx), ip, path_ok ? pins : NULL, n,
                     now, need_cert)) {
        pinset_result_reset(st->result);
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_NO_HOST);
        goto out;
    }
    report(pin, st, xctx, strict);
    allow = pinset_verdict_allows(pinset_result_verdict(st->result));
out:
    X509_STORE_CTX_free(strict);
    OPENSSL_free(ip);
    return allow;
}

static int cert_verify_cb(X509_STORE_CTX *xctx, void *arg)
{
    pinset_ossl *pin = arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct ssl_state *st;
    int ok, path_ok, allow;

    ok = X509_verify_cert(xctx);
    if (ssl != NULL && SSL_is_server(ssl)) {
        return ok; /* a server checking client certificates: pins are for servers */
    }
    /*
     * An application verify callback can make X509_verify_cert() return 1
     * over an error it chose to ignore; pins need a chain with no error.
     */
    path_ok = ok > 0 && X509_STORE_CTX_get_error(xctx) == X509_V_OK;
    ERR_set_mark();
    st = ssl == NULL ? NULL : state_get(pin, ssl);
    if (st == NULL) {
        ERR_pop_to_mark();
        force_fail(ssl, xctx);
        return 0;
    }
    st->checked = 0;
    st->cb_verdict = PINSET_VERDICT_NONE;
    memset(&st->basis, 0, sizeof(st->basis));
    X509_free(st->leaf);
    st->leaf = NULL;
    pinset_policy_free(st->used);
    st->used = snapshot(pin, st);
    if (st->used == NULL) {
        pinset_result_reset(st->result);
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_INTERNAL);
        allow = 0;
    } else {
        allow = decide(pin, st, ssl, xctx, path_ok);
    }
    st->checked = 1;
    st->cb_verdict = pinset_result_verdict(st->result);
    if (X509_STORE_CTX_get0_cert(xctx) != NULL && X509_up_ref(X509_STORE_CTX_get0_cert(xctx))) {
        st->leaf = X509_STORE_CTX_get0_cert(xctx);
    }
    if (pin->observer != NULL) {
        pin->observer(ssl, st->result, st->used, pin->observer_payload);
    }
    ERR_pop_to_mark();
    if (!allow) {
        force_fail(ssl, xctx); /* a path failure on a pinned host too, in every mode */
        return 0;
    }
    /*
     * A path failure on a host no rule pins: OpenSSL's own answer stands
     * (including an error the application's verify callback chose to
     * accept, and SSL_VERIFY_NONE).
     */
    return path_ok ? 1 : (ok > 0 ? ok : 0);
}

pinset_err pinset_ossl_attach(pinset_ossl *pin, SSL_CTX *ctx, pinset_diag *diag)
{
    if (pin == NULL || ctx == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "ossl: pin or ctx is null");
    }
    if (SSL_CTX_get_ex_data(ctx, pin->ctx_idx) == NULL) {
        ERR_set_mark();
        if (!SSL_CTX_set_ex_data(ctx, pin->ctx_idx, pin)) {
            return PINSET_DIAG_OSSL(diag, PINSET_E_NOMEM, "ossl: cannot attach to ctx");
        }
        ERR_pop_to_mark();
        ossl_ref(pin);
    }
    SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, pin);
    return PINSET_OK;
}

/* ---- after the handshake ---- */

/*
 * The canonical host (or IP) the application set on ssl; 0 when none, or
 * when it verifies more than one identity (several names, or a name and an
 * IP): sessions are kept only for connections to exactly one, so that a tag
 * names everything the session's pins were checked for.
 */
static int ssl_host(char *buf, size_t cap, const SSL *ssl)
{
    X509_VERIFY_PARAM *vp = SSL_get0_param((SSL *)(uintptr_t)ssl);
    const char *host = X509_VERIFY_PARAM_get0_host(vp, 0);
    char *ip;
    pinset_err err = PINSET_E_INVALID_ARG;

    ERR_set_mark();
    ip = X509_VERIFY_PARAM_get1_ip_asc(vp); /* raises an error when there is no IP */
    ERR_pop_to_mark();
    if (host != NULL && X509_VERIFY_PARAM_get0_host(vp, 1) == NULL && ip == NULL) {
        err = pinset_host_canon(buf, cap, NULL, host, strlen(host), NULL);
    } else if (host == NULL && ip != NULL) {
        err = pinset_host_canon(buf, cap, NULL, ip, strlen(ip), NULL);
    }
    OPENSSL_free(ip);
    return err == PINSET_OK;
}

/* 1 when the tag was made under policy p, for the host and port this connection names. */
static int tag_matches(const pinset_policy *p, const struct ssl_state *st, const SSL *ssl,
                       const struct sess_tag *tag)
{
    char host[PINSET_HOST_MAX];
    uint8_t digest[32];

    pinset_policy_digest(p, digest);
    if (CRYPTO_memcmp(digest, tag->digest, sizeof(digest)) != 0) {
        return 0; /* another policy generation */
    }
    if (!ssl_host(host, sizeof(host), ssl) || strcmp(host, tag->host) != 0) {
        return 0;
    }
    return tag->port == (st == NULL ? 0 : st->port);
}

/* When OpenSSL checks certificate validity for this connection; 0 when it does not. */
static int verify_time(int64_t *out, const SSL *ssl)
{
    X509_VERIFY_PARAM *vp = SSL_get0_param((SSL *)(uintptr_t)ssl);
    unsigned long flags = X509_VERIFY_PARAM_get_flags(vp);

    if ((flags & X509_V_FLAG_NO_CHECK_TIME) != 0) {
        return 0;
    }
    *out = (flags & X509_V_FLAG_USE_CHECK_TIME) != 0 ? (int64_t)X509_VERIFY_PARAM_get_time(vp)
                                                     : (int64_t)time(NULL);
    return 1;
}

/*
 * Decide again, at the gate, over what a verdict was decided over (the pins
 * of the validated chain), under `policy`, for `host` (a resumed session's
 * one identity) or, with host NULL, every identity the connection verifies.
 * Pin and rule times count at the hook's clock now; a PASS also needs the
 * validated chain to be within its validity period at the time OpenSSL
 * checks validity. A REPORT_ONLY_FAIL is let through only by the handshake
 * that produced (and reported) it: report_sent. The result goes to
 * st->result. Returns 1 when the connection may go on.
 */
static int redecide(pinset_ossl *pin, struct ssl_state *st, const SSL *ssl,
                    const pinset_policy *policy, const char *host, const struct basis *b,
                    int report_sent)
{
    const pinset_cert_pins *pins = b->path_ok ? b->pins : NULL;
    int64_t now = now_of(pin), t = 0;
    pinset_verdict v;

    if (host != NULL) {
        check_host(st, policy, host, pins, b->given, now, b->cert_known);
    } else {
        X509_VERIFY_PARAM *vp = SSL_get0_param((SSL *)(uintptr_t)ssl);
        char *ip;
        int named;

        ERR_set_mark();
        ip = X509_VERIFY_PARAM_get1_ip_asc(vp); /* raises an error when there is no IP */
        ERR_pop_to_mark();
        named = check_names(st, policy, vp, ip, pins, b->given, now, b->cert_known);
        OPENSSL_free(ip);
        if (!named) {
            pinset_result_reset(st->result);
            pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_NO_HOST);
            return 0;
        }
    }
    v = pinset_result_verdict(st->result);
    if (v == PINSET_VERDICT_PASS && b->windowed && verify_time(&t, ssl) &&
        (t < b->not_before || t > b->not_after)) {
        pinset__result_set(st->result, PINSET_VERDICT_FAIL, PINSET_REASON_PATH_INVALID);
        return 0;
    }
    if (v == PINSET_VERDICT_REPORT_ONLY_FAIL && !report_sent) {
        return 0;
    }
    return pinset_verdict_allows(v);
}

/*
 * A resumed connection: the session that resumed must carry a tag made under
 * the current policy for this host and port, and its verdict, decided again
 * now, must allow the connection. The connection keeps the snapshot its
 * result's rule belongs to.
 */
static int resumed_allows(pinset_ossl *pin, struct ssl_state *st, const SSL *ssl,
                          const struct sess_tag *tag)
{
    pinset_policy *p = snapshot(pin, st);

    if (p == NULL || !tag_matches(p, st, ssl, tag)) {
        pinset_policy_free(p);
        pinset_result_reset(st->result);
        return 0;
    }
    pinset_policy_free(st->used);
    st->used = p;
    return redecide(pin, st, ssl, p, tag->host, &tag->basis, 0);
}

pinset_err pinset_ossl_check(pinset_ossl *pin, const SSL *ssl)
{
    struct ssl_state *st;
    X509 *peer;

    if (pin == NULL || ssl == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    if (!SSL_is_init_finished(ssl)) {
        return PINSET_E_TLS;
    }
    st = state_of(pin, ssl);
    if (SSL_session_reused(ssl)) {
        /*
         * No certificate was checked in this handshake: only the tag of the
         * session that actually resumed counts (not what was offered, which
         * the application may have replaced with SSL_set_session).
         */
        const SSL_SESSION *sess = SSL_get_session(ssl);
        const struct sess_tag *tag =
            sess == NULL ? NULL : SSL_SESSION_get_ex_data(sess, pin->sess_idx);

        if (st == NULL || tag == NULL) {
            if (st != NULL) {
                pinset_result_reset(st->result);
            }
            return PINSET_E_NO_MATCH;
        }
        return resumed_allows(pin, st, ssl, tag) ? PINSET_OK : PINSET_E_NO_MATCH;
    }
    if (st == NULL || !st->checked || st->leaf == NULL) {
        return PINSET_E_NO_MATCH; /* no verdict: no certificate, PSK, or not attached */
    }
    /* the verdict must be about the certificate this connection presented */
    peer = SSL_get0_peer_certificate(ssl);
    if (peer == NULL || X509_cmp(peer, st->leaf) != 0) {
        return PINSET_E_NO_MATCH;
    }
    if (!pinset_verdict_allows(st->cb_verdict) || st->used == NULL) {
        return PINSET_E_NO_MATCH; /* the handshake's refusal stands */
    }
    /* decided again: a connection kept open (or reused by libcurl) meets today's times */
    return redecide(pin, st, ssl, st->used, NULL, &st->basis,
                    st->cb_verdict == PINSET_VERDICT_REPORT_ONLY_FAIL)
               ? PINSET_OK
               : PINSET_E_NO_MATCH;
}

const pinset_result *pinset_ossl_result(const pinset_ossl *pin, const SSL *ssl)
{
    const struct ssl_state *st;

    if (pin == NULL || ssl == NULL) {
        return NULL;
    }
    st = state_of(pin, ssl);
    return st == NULL ? NULL : st->result;
}

SSL_SESSION *pinset_ossl_get1_session(pinset_ossl *pin, const SSL *ssl)
{
    struct ssl_state *st;
    struct sess_tag *tag;
    SSL_SESSION *sess;
    pinset_verdict v;

    if (pin == NULL || ssl == NULL || pinset_ossl_check(pin, ssl) != PINSET_OK) {
        return NULL;
    }
    st = state_of(pin, ssl);
    v = pinset_result_verdict(st->result); /* a resumed one: its session's tag's verdict */
    if (v != PINSET_VERDICT_PASS && v != PINSET_VERDICT_NOT_PINNED) {
        return NULL; /* time- or report-dependent verdicts are decided afresh */
    }
    sess = SSL_get1_session((SSL *)(uintptr_t)ssl);
    if (sess == NULL) {
        return NULL;
    }
    /*
     * A session is tagged once and its tag never replaced: a resumed session
     * (or OpenSSL's copy of it) may be shared with other threads that read
     * the tag.
     */
    tag = SSL_SESSION_get_ex_data(sess, pin->sess_idx);
    if (tag != NULL) {
        /* the gate just matched it (a resumed connection) against st->used */
        if (st->used != NULL && tag_matches(st->used, st, ssl, tag)) {
            return sess;
        }
        SSL_SESSION_free(sess);
        return NULL;
    }
    tag = SSL_session_reused(ssl) ? NULL : pinset__alloc(sizeof(*tag));
    if (tag == NULL || !ssl_host(tag->host, sizeof(tag->host), ssl)) {
        pinset__free(tag);
        SSL_SESSION_free(sess);
        return NULL;
    }
    pinset_policy_digest(st->used, tag->digest);
    tag->port = st->port;
    tag->verdict = v;
    tag->basis = st->basis;
    tag->pin = ossl_ref(pin);
    ERR_set_mark();
    if (!SSL_SESSION_set_ex_data(sess, pin->sess_idx, tag)) {
        ERR_pop_to_mark();
        sess_free_cb(NULL, tag, NULL, 0, 0, NULL);
        SSL_SESSION_free(sess);
        return NULL;
    }
    ERR_pop_to_mark();
    return sess;
}

pinset_err pinset_ossl_set_session(pinset_ossl *pin, SSL *ssl, SSL_SESSION *sess)
{
    const struct sess_tag *tag;
    struct ssl_state *st;

    if (pin == NULL || ssl == NULL || sess == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    tag = SSL_SESSION_get_ex_data(sess, pin->sess_idx);
    st = state_get(pin, ssl); /* the gate needs the state of a resumed connection */
    if (st == NULL) {
        return PINSET_E_NOMEM;
    }
    /* offered only when the gate would let it resume now */
    if (tag == NULL || !resumed_allows(pin, st, ssl, tag)) {
        return PINSET_E_NO_MATCH;
    }
    ERR_set_mark();
    if (SSL_set_session(ssl, sess) != 1) {
        ERR_pop_to_mark();
        return PINSET_E_TLS;
    }
    ERR_pop_to_mark();
    return PINSET_OK;
}

/* ---- observing verdicts (for libpinset-curl and other wrappers) ---- */

void pinset_ossl_set_observer(pinset_ossl *pin, pinset_ossl_observer_fn fn, void *payload)
{
    if (pin == NULL) {
        return;
    }
    pin->observer = fn;
    pin->observer_payload = fn == NULL ? NULL : payload;
}

pinset_policy *pinset_ossl_get1_policy(pinset_ossl *pin)
{
    return pin == NULL ? NULL : snapshot(pin, NULL);
}

pinset_policy *pinset_ossl_get1_result_policy(const pinset_ossl *pin, const SSL *ssl)
{
    const struct ssl_state *st;

    if (pin == NULL || ssl == NULL) {
        return NULL;
    }
    st = state_of(pin, ssl);
    return st == NULL || st->used == NULL ? NULL : pinset_policy_ref(st->used);
}
