/*
 * pinset/update.h - signed policy updates: a policy, its serial, its
 * validity window and the hosts it may speak for, in a DSSE envelope
 * ("Dead Simple Signing Envelope", secure-systems-lab/dsse, protocol.md and
 * envelope.md) signed with Ed25519 or ECDSA P-256. docs/update-protocol.md
 * is the reference: the document, the signature, the keyid, the order of
 * the checks and the threat model.
 *
 * The signature is verified over the exact payload bytes the envelope
 * carries (nothing is re-serialised before verification); only then is the
 * payload parsed.
 *
 * Keys are OpenSSL EVP_PKEY objects, declared here as `struct evp_pkey_st`
 * (OpenSSL 3's name for EVP_PKEY) so that this header needs no OpenSSL
 * header; include <openssl/evp.h> to make or load one.
 *
 * Caveats: verification alone does not stop rollback. A valid, unexpired
 * document with an older serial than one already applied still verifies;
 * the caller must keep the highest serial it has applied and refuse lower
 * ones (the planned updater does). There is no signing-key delegation or
 * threshold yet: every trusted key may sign alone.
 */
#ifndef PINSET_UPDATE_H
#define PINSET_UPDATE_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/** OpenSSL's EVP_PKEY (a public key, or a key pair for signing). */
struct evp_pkey_st;

/** A verified update document; opaque, immutable. */
typedef struct pinset_update pinset_update;

/** The DSSE payloadType of a pinset policy update. */
#define PINSET_UPDATE_PAYLOAD_TYPE "application/vnd.pinset.policy-update+json"
/** The largest update document (the envelope) pinset_update_verify reads: 16 MiB. */
#define PINSET_UPDATE_MAX_SIZE ((size_t)16 * 1024 * 1024)
/** The most signatures one envelope may carry. */
#define PINSET_UPDATE_MAX_SIGNATURES 16
/** The most entries a scope may have. */
#define PINSET_UPDATE_MAX_SCOPE 1024
/**
 * Clock skew allowed on issued_at, in seconds (5 minutes): a document issued
 * up to this far in the verifier's future is accepted. None is allowed on
 * expires_at: a document is expired from its expires_at on.
 */
#define PINSET_UPDATE_CLOCK_SKEW 300
/** Buffer size for a keyid: 64 lower-case hex digits and the NUL. */
#define PINSET_UPDATE_KEYID_MAX 65

/** Current version of struct pinset_update_sign_options. */
#define PINSET_UPDATE_SIGN_OPTIONS_VERSION 1

/**
 * What pinset_update_sign puts in the payload besides the policy.
 * Initialise with PINSET_UPDATE_SIGN_OPTIONS_INIT.
 *
 * Ownership: caller-allocated; holds no heap memory; `scope` is borrowed.
 */
typedef struct pinset_update_sign_options {
    unsigned int version;
    /** The document's serial: 1 to INT64_MAX (JSON parsers read 64-bit signed integers). */
    uint64_t serial;
    /** Seconds since the epoch; 0 = the current time. */
    int64_t issued_at;
    /** Seconds since the epoch; must be after issued_at. */
    int64_t expires_at;
    /**
     * The hosts the document may speak for: "host" (that name or IP only)
     * or "*.domain" (every name below domain, at any depth, not domain
     * itself). NULL with scope_count 0: no scope (the document may speak for
     * any host).
     */
    const char *const *scope;
    /** Number of entries in scope, at most PINSET_UPDATE_MAX_SCOPE. */
    size_t scope_count;
} pinset_update_sign_options;

/** Static initialiser for struct pinset_update_sign_options. */
#define PINSET_UPDATE_SIGN_OPTIONS_INIT                      \
    {                                                        \
        PINSET_UPDATE_SIGN_OPTIONS_VERSION, 0, 0, 0, NULL, 0 \
    }

/**
 * The keyid of a key: the SHA-256 of the DER SubjectPublicKeyInfo of its
 * public half, in 64 lower-case hex digits. It is the same digest as the
 * key's spki pin (`openssl pkey -pubin -outform DER | openssl dgst -sha256`).
 *
 * @param buf,cap receives the keyid, NUL-terminated; PINSET_UPDATE_KEYID_MAX suffices;
 *                empty on failure
 * @param key     the key (borrowed; public or private)
 * @param diag    optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_BUFFER_TOO_SMALL, PINSET_E_CRYPTO,
 *         PINSET_E_NOMEM
 * Ownership: nothing retained.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_update_keyid(char *buf, size_t cap,
                                                            const struct evp_pkey_st *key,
                                                            pinset_diag *diag);

/**
 * Sign a policy as an update document: the payload (JSON: serial,
 * issued_at, expires_at, scope when given, and the policy in its canonical
 * native form) in a DSSE envelope with one signature, written as one line
 * of JSON and a newline. Ed25519 keys sign the PAE bytes (pure Ed25519);
 * ECDSA P-256 keys sign their SHA-256 (DER-encoded signature).
 *
 * A scope entry is canonicalised (lower case, A-labels) as written; a
 * policy with a rule outside the scope is refused, as the verifier would.
 *
 * @param policy  the policy (borrowed)
 * @param opts    serial, times and scope (required)
 * @param key     the private key: Ed25519 or EC P-256 (borrowed, not modified;
 *                non-const because OpenSSL's signing calls take it so)
 * @param write   the sink
 * @param payload passed to the sink
 * @param diag    optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG (NULL argument, unknown options
 *         version, serial 0 or above INT64_MAX, expires_at not after
 *         issued_at, too many scope entries), PINSET_E_PARSE (a scope entry
 *         is not a host or *.domain), PINSET_E_NO_MATCH (a rule outside the
 *         scope), PINSET_E_UNSUPPORTED (another key type), PINSET_E_CRYPTO,
 *         PINSET_E_NOMEM, PINSET_E_IO (the sink refused)
 * Ownership: nothing retained.
 * Thread-safety: safe for distinct keys (OpenSSL's rules for a shared key).
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_update_sign(const pinset_policy *policy,
                                                           const pinset_update_sign_options *opts,
                                                           struct evp_pkey_st *key,
                                                           pinset_write_fn write, void *payload,
                                                           pinset_diag *diag);

/**
 * Verify an update document and build its policy. In this order, stopping
 * at the first failure:
 * 1. the envelope: JSON of exactly payloadType, payload and signatures (1 to
 *    PINSET_UPDATE_MAX_SIGNATURES of exactly keyid and sig), canonical
 *    padded standard base64 (PINSET_E_PARSE; PINSET_E_LIMIT for size);
 * 2. the signatures: a signature counts only when its keyid is the keyid of
 *    a trusted key (see pinset_update_keyid) and it verifies with that key
 *    over PAE(payloadType, payload) of the bytes as received. None by a
 *    trusted key: PINSET_E_NO_MATCH; one by a trusted key that does not
 *    verify, and none that does: PINSET_E_CRYPTO;
 * 3. the payloadType is PINSET_UPDATE_PAYLOAD_TYPE (PINSET_E_UNSUPPORTED);
 * 4. the payload: JSON of exactly serial, issued_at, expires_at, policy and
 *    the optional scope, each of its type (PINSET_E_PARSE);
 * 5. time: expires_at > now and issued_at <= now + PINSET_UPDATE_CLOCK_SKEW
 *    (PINSET_E_EXPIRED, the message says which);
 * 6. the policy, through pinset_policy_parse (its error; diag path starts
 *    with "policy");
 * 7. the scope, when present: every rule (exclusions too) speaks only for
 *    names the scope covers (PINSET_E_NO_MATCH).
 *
 * @param out      receives the update
 * @param doc,len  the document (at most PINSET_UPDATE_MAX_SIZE octets)
 * @param trusted  the keys to trust (borrowed; public or private; only the
 *                 public half is used), ntrusted of them (at least 1)
 * @param ntrusted number of trusted keys
 * @param now      the time to judge validity at, seconds since the epoch; 0 = the current time
 * @param diag     optional detail: the reason, and the path
 *                 (`signatures[1].sig`, `expires_at`, `policy.rules[0].host`)
 * @return PINSET_OK and the errors above, PINSET_E_INVALID_ARG, PINSET_E_NOMEM
 * Ownership: release *out with pinset_update_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_update_verify(
    pinset_update **out, const uint8_t *doc, size_t len, const struct evp_pkey_st *const *trusted,
    size_t ntrusted, int64_t now, pinset_diag *diag);

/** Release an update (its policy too, unless referenced elsewhere). NULL is a no-op. */
PINSET_API void pinset_update_free(pinset_update *update);

/*
 * ---- getters ----
 * A NULL update gives 0 or NULL. Strings and the policy are borrowed, valid
 * until the update is freed. Thread-safety: safe (the update is immutable).
 */

/** The document's serial. */
PINSET_API uint64_t pinset_update_serial(const pinset_update *update);
/** issued_at, seconds since the epoch. */
PINSET_API int64_t pinset_update_issued_at(const pinset_update *update);
/** expires_at, seconds since the epoch. */
PINSET_API int64_t pinset_update_expires_at(const pinset_update *update);
/**
 * The policy. Take a reference with pinset_policy_ref to keep it after the
 * update is freed (e.g. to hand it to pinset_ossl_set_policy).
 */
PINSET_API pinset_policy *pinset_update_policy(const pinset_update *update);
/** Number of scope entries; 0 when the document has no scope. */
PINSET_API size_t pinset_update_scope_count(const pinset_update *update);
/** The i-th scope entry ("host" or "*.domain"), or NULL when out of range. */
PINSET_API const char *pinset_update_scope(const pinset_update *update, size_t i);
/** The keyid of the trusted key whose signature verified (64 hex digits). */
PINSET_API const char *pinset_update_keyid_used(const pinset_update *update);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_UPDATE_H */
