/*
 * openssl_int.h - what the files of the OpenSSL hook (adapters/openssl*.c)
 * share: the hook's state (struct pinset_ossl), the per-SSL state, what a
 * verdict was decided over, a session's tag, and the few functions one file
 * calls in another. Internal; not installed.
 */
#ifndef PINSET_OPENSSL_INT_H
#define PINSET_OPENSSL_INT_H

#include <stdatomic.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>

#include <pinset/host.h>
#include <pinset/openssl.h>

#include "internal.h"
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
    pinset_ossl_port_fn port_source;
    void *port_payload;
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
    int has_ip;         /* the connection verified an IP (X509_VERIFY_PARAM_set1_ip) */
    int64_t not_before; /* latest notBefore in the validated chain */
    int64_t not_after;  /* earliest notAfter in the validated chain */
    size_t given;       /* certificates in the validated chain, 0 when nothing was hashed (no rule
                           pins the names); > PINSET_CHAIN_MAX: too long, pins not hashed */
    pinset_cert_pins pins[PINSET_CHAIN_MAX]; /* the first `given` of them, when <= the max */
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
    int gate_reported;         /* the gate sent a report for this connection */
    X509 *leaf;                /* the leaf that verdict is about (reference) */
    struct basis basis;        /* what the callback decided over */
    pinset_result *result;
};

/* ---- openssl.c: life cycle and per-SSL state ---- */

pinset_ossl *pinset__ossl_ref(pinset_ossl *pin);
void pinset__ossl_unref(pinset_ossl *pin);

/* The SSL_SESSION ex_data free callback: frees a session's tag (and its reference). */
void pinset__ossl_free_tag(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                           void *argp);

/* A reference to the current snapshot (the override, else the attached policy). */
pinset_policy *pinset__ossl_snapshot(pinset_ossl *pin, const struct ssl_state *st);

/* The state of ssl, or NULL when it has none. */
struct ssl_state *pinset__ossl_find_state(const pinset_ossl *pin, const SSL *ssl);

/* The state of ssl, made when it has none; NULL when out of memory. */
struct ssl_state *pinset__ossl_get_state(pinset_ossl *pin, SSL *ssl);

/* ---- openssl_cache.c: pins of a certificate ---- */

/* The pins of one certificate; the cert pin only when a rule needs it. */
int pinset__ossl_hash_pins(pinset_ossl *pin, pinset_cert_pins *out, const X509 *x, int need_cert);

/* ---- openssl_verify.c: the verdict over a chain ---- */

/* The hook's clock (the options' clock, else time()). */
int64_t pinset__ossl_read_clock(const pinset_ossl *pin);

void pinset__ossl_check_host(struct ssl_state *st, const pinset_policy *policy, const char *host,
                             const pinset_cert_pins *pins, size_t n, int64_t now, int need_cert);
int pinset__ossl_check_names(struct ssl_state *st, const pinset_policy *policy,
                             X509_VERIFY_PARAM *vp, const char *ip, const pinset_cert_pins *pins,
                             size_t n, int64_t now, int need_cert);

/*
 * Hand the report of st->result (when it calls for one) to the report
 * callback, with the chains given (either may be NULL). Never changes the
 * verdict, never fails.
 */
void pinset__ossl_report(const pinset_ossl *pin, const struct ssl_state *st,
                         STACK_OF(X509) * served, STACK_OF(X509) * validated);

#endif /* PINSET_OPENSSL_INT_H */
