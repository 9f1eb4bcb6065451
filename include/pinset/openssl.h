/*
 * pinset/openssl.h - adapters for OpenSSL objects. The only public header
 * that includes <openssl/...>. OpenSSL objects passed in are borrowed; when
 * pinset keeps one it takes its own reference.
 */
#ifndef PINSET_OPENSSL_H
#define PINSET_OPENSSL_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <pinset/bundle.h>
#include <pinset/error.h>
#include <pinset/pin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pins from OpenSSL objects ---- */

/**
 * Compute a certificate's pin. The spki pin hashes the certificate's own
 * SubjectPublicKeyInfo DER, never a re-encoding of the decoded key.
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_CRYPTO
 * Thread-safety: safe for distinct or unmodified certificates.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_x509(pinset_pin *out, const X509 *cert,
                                                             pinset_pin_kind kind,
                                                             pinset_diag *diag);

/**
 * Compute the spki pin of a key (public, or the public half of a private key).
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_CRYPTO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_pkey(pinset_pin *out, const EVP_PKEY *key,
                                                             pinset_diag *diag);

/**
 * Compute the spki pin of a certificate request's key.
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_CRYPTO
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_pin_from_x509_req(pinset_pin *out,
                                                                 const X509_REQ *req,
                                                                 pinset_diag *diag);

/**
 * The certificate behind a bundle object.
 * @return borrowed, valid until the bundle is freed; NULL when not a certificate
 *         or loaded with PINSET_LOAD_PINS_ONLY
 */
PINSET_API const X509 *pinset_object_x509(const pinset_object *obj);

/* ---- the verdict hooks (see check.h) follow below ---- */

#ifdef __cplusplus
}
#endif

#include <pinset/check.h>
#include <pinset/policy.h>
#include <pinset/report.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The verdict hooks put pinset_check() inside OpenSSL's handshake:
 *
 *   pinset_ossl *pin;
 *   pinset_ossl_new(&pin, policy, NULL, NULL);
 *   pinset_ossl_attach(pin, ctx, NULL);          // once per SSL_CTX
 *   ssl = SSL_new(ctx);
 *   SSL_set1_host(ssl, "example.com");           // required: the pinned lookup uses this name
 *   SSL_set_tlsext_host_name(ssl, "example.com");
 *   pinset_ossl_set_port(pin, ssl, 443);         // optional: reports and session keys
 *   if (SSL_connect(ssl) == 1 && pinset_ossl_check(pin, ssl) == PINSET_OK) { ...use it... }
 *
 * During the handshake a cert-verify callback (SSL_CTX_set_cert_verify_callback)
 * runs X509_verify_cert() first, then checks the pins of the host that the
 * application set with SSL_set1_host()/SSL_add1_host() (every name), and of the
 * IP set with X509_VERIFY_PARAM_set1_ip_asc(), against
 * X509_STORE_CTX_get0_chain(): the validated chain, never the chain the peer
 * sent (when the application has a verify callback, which could clear an
 * error it accepted, a pinned host's chain is validated once more without
 * it). A mismatch fails the handshake (X509_V_ERR_APPLICATION_VERIFICATION),
 * also when the application set SSL_VERIFY_NONE. A path-validation failure on
 * a pinned host fails the handshake in every mode, report mode included. With
 * no host and no IP set, the handshake fails (reason no-host): pinset does not
 * guess a name from SNI. After the handshake, pinset_ossl_check() is the gate:
 * it fails closed unless this connection got an allowing verdict, which covers
 * resumed sessions (no certificate is checked), PSK and peers without a
 * certificate.
 *
 * Sessions: keep and offer them only through pinset_ossl_get1_session() and
 * pinset_ossl_set_session(). A session is handed out only after a PASS (or
 * NOT_PINNED) verdict and is tagged with the policy digest, the host and the
 * port; pinset_ossl_set_session() refuses it for another host or port or
 * after the policy changed, and the gate fails a resumed connection whose
 * session (the one that actually resumed) carries no matching tag, or whose
 * verdict, decided again at the time of the gate, no longer allows it.
 * Sessions are kept only for connections that verify exactly one name or one
 * IP.
 *
 * State: a pinset_ossl is reference counted; each attached SSL_CTX, each SSL
 * it has seen and each tagged SSL_SESSION holds a reference, so it may be
 * freed by the application at any time after attaching. Its OpenSSL ex_data
 * indices are allocated per pinset_ossl (pinset keeps no global state) and
 * released with the last reference. docs/verdict.md explains the design.
 *
 * Caveats: the gate must be called by the application (or by the libcurl
 * helper, libpinset-curl): without it a resumed session is not checked. Only client
 * connections are pinned: on a server-side SSL of an attached context the
 * callback only runs X509_verify_cert(). pinset does not check
 * revocation or the host name itself (OpenSSL does, given SSL_set1_host).
 */

/** Seconds since the epoch; a test hook to control the clock of pin checks. */
typedef int64_t (*pinset_clock_fn)(void *payload);

/** Current version of struct pinset_ossl_opts. */
#define PINSET_OSSL_OPTS_VERSION 1

/**
 * Options of a pinset_ossl. Initialise with PINSET_OSSL_OPTS_INIT.
 */
typedef struct pinset_ossl_opts {
    unsigned int version;
    unsigned int flags;      /**< reserved, must be 0 */
    pinset_report_fn report; /**< optional: receives a report for every FAIL and REPORT_ONLY_FAIL */
    void *report_payload;
    pinset_clock_fn clock; /**< optional: the time of pin checks; NULL = time(NULL). For tests. */
    void *clock_payload;
} pinset_ossl_opts;

/** Static initialiser for pinset_ossl_opts. */
#define PINSET_OSSL_OPTS_INIT                               \
    {                                                       \
        PINSET_OSSL_OPTS_VERSION, 0, NULL, NULL, NULL, NULL \
    }

/** Pins attached to OpenSSL: a policy snapshot, options and ex_data indices. Opaque. */
typedef struct pinset_ossl pinset_ossl;

/**
 * Create the OpenSSL hook state for a policy.
 *
 * @param out    receives it (one reference, the caller's)
 * @param policy the policy; pinset takes its own reference
 * @param opts   optional (NULL for defaults); copied
 * @param diag   optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_CRYPTO
 * Ownership: release the caller's reference with pinset_ossl_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_ossl_new(pinset_ossl **out, pinset_policy *policy,
                                                        const pinset_ossl_opts *opts,
                                                        pinset_diag *diag);

/**
 * Drop the caller's reference. Attached contexts, SSLs and tagged sessions keep theirs.
 * NULL is a no-op. Thread-safety: safe (atomic).
 */
PINSET_API void pinset_ossl_free(pinset_ossl *pin);

/**
 * Attach to an SSL_CTX: installs the cert-verify callback (replacing any
 * other) and takes a reference that the SSL_CTX drops when it is freed.
 * Attaching the same context twice is a no-op; attaching another pinset_ossl
 * to a context replaces the callback.
 *
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM
 * Thread-safety: the SSL_CTX must not be in use by another thread.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_ossl_attach(pinset_ossl *pin, SSL_CTX *ctx,
                                                           pinset_diag *diag);

/**
 * Swap in a new policy snapshot. Handshakes in flight keep the snapshot they
 * started checking with; sessions tagged under the old policy are refused.
 *
 * @return PINSET_OK, PINSET_E_INVALID_ARG
 * Thread-safety: safe, also while handshakes run.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_ossl_set_policy(pinset_ossl *pin,
                                                               pinset_policy *policy);

/**
 * Use another policy for one connection (before its handshake).
 *
 * @param policy the policy (pinset takes a reference); NULL removes the override
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM
 * Ownership: the reference is dropped when the SSL is freed.
 * Thread-safety: as the SSL.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_ossl_override(pinset_ossl *pin, SSL *ssl,
                                                             pinset_policy *policy);

/**
 * Tell pinset the server's port (OpenSSL does not know it): used in reports
 * and to key sessions. 0 = unknown (the default).
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM
 * Thread-safety: as the SSL.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_ossl_set_port(pinset_ossl *pin, SSL *ssl,
                                                             unsigned int port);

/**
 * The post-handshake gate. Fails closed unless this connection's handshake
 * is complete and got an allowing verdict: PASS, NOT_PINNED, EXPIRED_OPEN or
 * REPORT_ONLY_FAIL from the cert-verify callback for the certificate the
 * peer actually presented, or, for a resumed session, when the session that
 * resumed carries the tag of pinset_ossl_get1_session and it still matches
 * the policy, host and port (pinset must have state for the SSL:
 * pinset_ossl_set_session or pinset_ossl_set_port).
 *
 * Every call decides the verdict again over the pins of the validated chain
 * it was decided over, at the time of the call: a pin past its not_after, a
 * rule past its expires, or (under a rule) a validated chain outside its
 * validity period at OpenSSL's check time refuses a resumed session or a
 * connection kept open and reused (validity read with the parameters the
 * handshake uses). A REPORT_ONLY_FAIL goes on, as report mode does; one that
 * the handshake did not report (it appeared since, or the connection
 * resumed) is reported by the gate, once per connection.
 * docs/verdict.md, "The gate", lists what is re-checked.
 *
 * @return PINSET_OK (let it through); PINSET_E_NO_MATCH (a failing or missing
 *         verdict); PINSET_E_TLS (handshake not complete); PINSET_E_INVALID_ARG
 * Thread-safety: as the SSL.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_ossl_check(pinset_ossl *pin, const SSL *ssl);

/**
 * The connection's recorded result (verdict and explanation).
 * @return borrowed, valid until the SSL is freed or its next handshake; NULL when none
 * Thread-safety: as the SSL.
 */
PINSET_API const pinset_result *pinset_ossl_result(const pinset_ossl *pin, const SSL *ssl);

/**
 * The connection's session, for resumption, only when the connection passed
 * the gate with PASS or NOT_PINNED and verifies exactly one name or IP; it is
 * tagged with the policy digest, host and port and the validated chain's pins
 * and validity period, so that the gate can decide it again on resumption
 * (once: a tag is never replaced).
 * With TLS 1.3, call it after reading application data (tickets arrive late).
 *
 * @return a new reference (SSL_SESSION_free it), or NULL
 * Thread-safety: as the SSL; do not call it for one session from two threads at once.
 */
PINSET_API SSL_SESSION *pinset_ossl_get1_session(pinset_ossl *pin, const SSL *ssl);

/**
 * Offer a session for resumption (SSL_set_session) if it was tagged by
 * pinset_ossl_get1_session under the current policy for the host set on
 * `ssl` and the port given by pinset_ossl_set_port (call both first).
 *
 * @return PINSET_OK (offered); PINSET_E_NO_MATCH (refused: untagged, another
 *         host or port, the policy changed, or the gate would refuse it now:
 *         a pin or rule expired, the chain's validity ended; nothing is offered);
 *         PINSET_E_INVALID_ARG; PINSET_E_NOMEM; PINSET_E_TLS
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_ossl_set_session(pinset_ossl *pin, SSL *ssl,
                                                                SSL_SESSION *sess);

/* ---- observing verdicts: for wrappers such as libpinset-curl (curl.h) ---- */

/**
 * An observer of verdicts, called at the end of every cert-verify callback
 * of a client connection, after pinset recorded the verdict and before
 * OpenSSL continues (or fails) the handshake. A wrapper that does not own the
 * SSL, such as libcurl's, which frees it when the handshake fails, uses it to
 * keep the result (pinset_result_copy) while the SSL still exists.
 *
 * @param ssl     the connection; do not change it
 * @param result  its result (as pinset_ossl_result)
 * @param policy  the policy snapshot the verdict was decided under: the one
 *                pinset_result_rule(result) points into
 * @param payload the payload given to pinset_ossl_set_observer
 * Lifetime: ssl, result and policy are borrowed for the duration of the call;
 *           take a reference (pinset_policy_ref) to keep the policy.
 * Thread-safety: runs on the handshake's thread; several handshakes may call
 *                it at once.
 */
typedef void (*pinset_ossl_observer_fn)(const SSL *ssl, const pinset_result *result,
                                        pinset_policy *policy, void *payload);

/**
 * Install the observer of verdicts (one per pinset_ossl), replacing any
 * other; fn NULL removes it. It sees every connection of every context the
 * pinset_ossl is attached to. NULL pin is a no-op.
 *
 * Ownership: payload is borrowed: remove the observer before freeing it.
 * Thread-safety: not safe while a handshake may run on an attached context:
 *                install it before attaching and remove it when no handshake
 *                can start (pinset_ossl has no lock on this path).
 */
PINSET_API void pinset_ossl_set_observer(pinset_ossl *pin, pinset_ossl_observer_fn fn,
                                         void *payload);

/**
 * A source of a connection's port, for a wrapper that knows it but does not
 * get hold of the SSL before its handshake, such as libcurl's (its SSL_CTX
 * callback runs before the SSL exists): called by the cert-verify callback of
 * a client connection whose port was not set with pinset_ossl_set_port.
 *
 * @param ssl     the connection; do not change it
 * @param payload the payload given to pinset_ossl_set_port_source
 * @return the server's port (1 to 65535), used as pinset_ossl_set_port's
 *         would be (reports, session tags); 0 (or a larger value) = unknown
 * Thread-safety: runs on the handshake's thread; several handshakes may call
 *                it at once.
 */
typedef unsigned int (*pinset_ossl_port_fn)(const SSL *ssl, void *payload);

/**
 * Install the source of ports (one per pinset_ossl), replacing any other;
 * fn NULL removes it. A port given with pinset_ossl_set_port wins over it.
 * NULL pin is a no-op.
 *
 * Ownership: payload is borrowed: remove the source before freeing it.
 * Thread-safety: as pinset_ossl_set_observer: install it before attaching
 *                and remove it when no handshake can start.
 */
PINSET_API void pinset_ossl_set_port_source(pinset_ossl *pin, pinset_ossl_port_fn fn,
                                            void *payload);

/**
 * The policy now in force: the one given to pinset_ossl_new or the last
 * pinset_ossl_set_policy (per-SSL overrides not included).
 *
 * @return a new reference, or NULL when pin is NULL or a lock failed
 * Ownership: release it with pinset_policy_free.
 * Thread-safety: safe, also while pinset_ossl_set_policy runs.
 */
PINSET_API pinset_policy *pinset_ossl_get1_policy(pinset_ossl *pin);

/**
 * The policy snapshot the connection's recorded result was decided under:
 * the one pinset_result_rule(pinset_ossl_result(pin, ssl)) points into, to
 * keep a copy of that result readable after the SSL is freed.
 *
 * @return a new reference, or NULL when no verdict was recorded for the SSL
 * Ownership: release it with pinset_policy_free.
 * Thread-safety: as the SSL.
 */
PINSET_API pinset_policy *pinset_ossl_get1_result_policy(const pinset_ossl *pin, const SSL *ssl);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_OPENSSL_H */
