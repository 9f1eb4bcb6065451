/*
 * openssl.c - the OpenSSL hook's life cycle and per-SSL state
 * (include/pinset/openssl.h): ex_data indices and callbacks, pinset_ossl_new
 * and _free, the policy swap, per-SSL override and port, and the observer,
 * port source and policy getters used by libpinset-curl. The cert-verify
 * callback is in openssl_verify.c, the spki cache in openssl_cache.c, the
 * post-handshake gate and session tags in openssl_gate.c; openssl_int.h
 * holds what they share.
 *
 * State without globals (STYLE.md section 6): every pinset_ossl allocates its
 * own ex_data indices (SSL_CTX, SSL, SSL_SESSION) and frees them with its
 * last reference. Each item stored at those indices holds a reference to the
 * pinset_ossl, so the indices outlive every object that uses them; the
 * cert-verify callback gets the pinset_ossl as its argument, and the
 * application passes it to the gate. docs/verdict.md has the details.
 */
#include "adapters/openssl_int.h"

pinset_ossl *pinset__ossl_ref(pinset_ossl *pin)
{
    atomic_fetch_add(&pin->refs, 1);
    return pin;
}

void pinset__ossl_unref(pinset_ossl *pin)
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
    pinset__ossl_unref(ptr);
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
    pinset__ossl_unref(st->pin);
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

void pinset__ossl_free_tag(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                           void *argp)
{
    struct sess_tag *tag = ptr;

    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (tag != NULL) {
        pinset_ossl *pin = tag->pin;

        pinset__free(tag);
        pinset__ossl_unref(pin);
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
        pinset__ossl_ref(copy->pin);
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
        pin->sess_idx =
            SSL_SESSION_get_ex_new_index(0, NULL, NULL, sess_dup_cb, pinset__ossl_free_tag);
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
    pinset__ossl_unref(pin);
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
pinset_policy *pinset__ossl_snapshot(pinset_ossl *pin, const struct ssl_state *st)
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

struct ssl_state *pinset__ossl_find_state(const pinset_ossl *pin, const SSL *ssl)
{
    return SSL_get_ex_data(ssl, pin->ssl_idx);
}

struct ssl_state *pinset__ossl_get_state(pinset_ossl *pin, SSL *ssl)
{
    struct ssl_state *st = pinset__ossl_find_state(pin, ssl);

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
    st->pin = pinset__ossl_ref(pin);
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
    st = pinset__ossl_get_state(pin, ssl);
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
    st = pinset__ossl_get_state(pin, ssl);
    if (st == NULL) {
        return PINSET_E_NOMEM;
    }
    st->port = port;
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

void pinset_ossl_set_port_source(pinset_ossl *pin, pinset_ossl_port_fn fn, void *payload)
{
    if (pin == NULL) {
        return;
    }
    pin->port_source = fn;
    pin->port_payload = fn == NULL ? NULL : payload;
}

pinset_policy *pinset_ossl_get1_policy(pinset_ossl *pin)
{
    return pin == NULL ? NULL : pinset__ossl_snapshot(pin, NULL);
}

pinset_policy *pinset_ossl_get1_result_policy(const pinset_ossl *pin, const SSL *ssl)
{
    const struct ssl_state *st;

    if (pin == NULL || ssl == NULL) {
        return NULL;
    }
    st = pinset__ossl_find_state(pin, ssl);
    return st == NULL || st->used == NULL ? NULL : pinset_policy_ref(st->used);
}
