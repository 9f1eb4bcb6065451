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
 * ones: the updater (pinset_updater_apply, pinset_updater_load) does, in a
 * state directory. A root key may sign documents itself or delegate to
 * signing keys (pinset_update_delegate): a delegation is a DSSE envelope of
 * its own, signed by the root, carried in the signature it authorises, so a
 * client needs nothing but the root keys. A threshold of signatures by
 * distinct keys can be required (pinset_update_verify_threshold). The
 * updater reads documents given to it (libpinset-curl's
 * pinset_curl_update_fetch fetches them over HTTP); it does not swap the
 * OpenSSL hook's policy (the caller hands the new policy to
 * pinset_ossl_set_policy, and to libpinset-curl's reporter, if any, with
 * pinset_reporter_set_policy).
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

/** The DSSE payloadType of a delegation from a root key to a signing key. */
#define PINSET_UPDATE_DELEGATION_TYPE "application/vnd.pinset.delegation+json"
/** The largest delegation (its envelope, as JSON) one signature may carry: 64 KiB. */
#define PINSET_UPDATE_MAX_DELEGATION_SIZE 65536

/**
 * Current version of struct pinset_update_sign_options. Version 1 (without
 * `delegation`) is still accepted.
 */
#define PINSET_UPDATE_SIGN_OPTIONS_VERSION 2

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
    /**
     * Version 2: the delegation (from pinset_update_delegate, as written)
     * that authorises the signing key, carried in its signature; NULL when
     * the key is a root key and signs directly. Borrowed.
     */
    const uint8_t *delegation;
    /** Length of delegation. */
    size_t delegation_len;
} pinset_update_sign_options;

/** Static initialiser for struct pinset_update_sign_options. */
#define PINSET_UPDATE_SIGN_OPTIONS_INIT                               \
    {                                                                 \
        PINSET_UPDATE_SIGN_OPTIONS_VERSION, 0, 0, 0, NULL, 0, NULL, 0 \
    }

/**
 * Current version of struct pinset_update_delegate_options. Version 1
 * (without the scope) is still accepted.
 */
#define PINSET_UPDATE_DELEGATE_OPTIONS_VERSION 2

/**
 * What a delegation says besides the signing key. Initialise with
 * PINSET_UPDATE_DELEGATE_OPTIONS_INIT.
 *
 * Ownership: caller-allocated; holds no heap memory.
 */
typedef struct pinset_update_delegate_options {
    unsigned int version;
    /**
     * The delegation's serial, 1 to INT64_MAX: a generation. The updater
     * keeps the highest it has accepted and refuses a delegation below it,
     * so issuing generation N+1 to the new signing keys revokes the keys of
     * generation N for every client that has seen N+1.
     */
    uint64_t serial;
    /** Seconds since the epoch; 0 = the current time. */
    int64_t not_before;
    /** Seconds since the epoch; must be after not_before: the signing key's expiry. */
    int64_t expires_at;
    /**
     * Version 2: the hosts the signing key may sign for ("host" or
     * "*.domain", as the scope of pinset_update_sign_options); its documents
     * must then have a scope within this one. NULL with scope_count 0: any
     * host. Borrowed.
     */
    const char *const *scope;
    /** Number of entries in scope, at most PINSET_UPDATE_MAX_SCOPE. */
    size_t scope_count;
} pinset_update_delegate_options;

/** Static initialiser for struct pinset_update_delegate_options. */
#define PINSET_UPDATE_DELEGATE_OPTIONS_INIT                      \
    {                                                            \
        PINSET_UPDATE_DELEGATE_OPTIONS_VERSION, 0, 0, 0, NULL, 0 \
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
 * With opts->delegation, the signature carries that delegation; it must
 * be a well-formed delegation for this key (PINSET_E_NO_MATCH when it names
 * another key, or has a scope the document's scope is not within). Its root
 * signature is not checked here (the signer need
 * not hold the root's public key): pinset_update_verify does.
 *
 * @return PINSET_OK, PINSET_E_INVALID_ARG (NULL argument, unknown options
 *         version, serial 0 or above INT64_MAX, expires_at not after
 *         issued_at, too many scope entries), PINSET_E_PARSE (a scope entry
 *         is not a host or *.domain, a malformed delegation),
 *         PINSET_E_NO_MATCH (a rule outside the scope, a delegation for
 *         another key), PINSET_E_UNSUPPORTED (another key type), PINSET_E_CRYPTO,
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
 * Delegate from a root key to a signing key: a DSSE envelope of type
 * PINSET_UPDATE_DELEGATION_TYPE whose payload is JSON of exactly serial,
 * keyid (the signing key's, see pinset_update_keyid), key (its DER
 * SubjectPublicKeyInfo in base64), not_before, expires_at and, when given,
 * scope (canonical entries), signed by the root; one line of JSON and a
 * newline. `pinset sign --delegation` carries
 * it in the signing key's signatures.
 *
 * @param signer  the signing key (borrowed; only its public half is used)
 * @param opts    serial and validity window (required)
 * @param root    the root's private key: Ed25519 or EC P-256 (borrowed)
 * @param write   the sink
 * @param payload passed to the sink
 * @param diag    optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG (NULL argument, unknown options
 *         version, serial 0 or above INT64_MAX, expires_at not after
 *         not_before, too many scope entries), PINSET_E_PARSE (a scope entry
 *         is not a host or *.domain), PINSET_E_UNSUPPORTED (a key of another type),
 *         PINSET_E_CRYPTO, PINSET_E_NOMEM, PINSET_E_IO (the sink refused)
 * Ownership: nothing retained.
 * Thread-safety: safe for distinct keys.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_update_delegate(
    const struct evp_pkey_st *signer, const pinset_update_delegate_options *opts,
    struct evp_pkey_st *root, pinset_write_fn write, void *payload, pinset_diag *diag);

/**
 * Add a signature to a signed document (for a threshold of signatures):
 * the same payload bytes and type, the signatures already there (with their
 * delegations) as they are, and one more by key, with its delegation when
 * given. The existing signatures are not verified here. A key that has
 * already signed the document is refused.
 *
 * @param doc,len        the document (an envelope as pinset_update_sign writes)
 * @param key            the private key (borrowed)
 * @param delegation     its delegation (borrowed), or NULL for a root key
 * @param delegation_len length of delegation
 * @param write          the sink
 * @param payload        passed to the sink
 * @param diag           optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_PARSE (the document or
 *         the delegation), PINSET_E_LIMIT (already PINSET_UPDATE_MAX_SIGNATURES
 *         signatures), PINSET_E_NO_MATCH (a delegation for another key),
 *         PINSET_E_UNSUPPORTED (the payload type, or the key type),
 *         PINSET_E_CRYPTO, PINSET_E_NOMEM, PINSET_E_IO
 * Ownership: nothing retained.
 * Thread-safety: safe for distinct keys.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_update_cosign(
    const uint8_t *doc, size_t len, struct evp_pkey_st *key, const uint8_t *delegation,
    size_t delegation_len, pinset_write_fn write, void *payload, pinset_diag *diag);

/**
 * Verify an update document and build its policy. In this order, stopping
 * at the first failure:
 * 1. the envelope: JSON of exactly payloadType, payload and signatures (1 to
 *    PINSET_UPDATE_MAX_SIGNATURES of exactly keyid and sig), canonical
 *    padded standard base64 (PINSET_E_PARSE; PINSET_E_LIMIT for size);
 * 2. the signatures: a signature counts only when its keyid is the keyid of
 *    a trusted (root) key (see pinset_update_keyid) and it verifies with that
 *    key over PAE(payloadType, payload) of the bytes as received, or when it
 *    carries a valid delegation from a trusted key to the key that made it
 *    (pinset_update_verify_threshold says which checks, and the refusals).
 *    None by a trusted key: PINSET_E_NO_MATCH; one by a trusted key that does
 *    not verify, and none that does: PINSET_E_CRYPTO;
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
/** The keyid of the (first) key whose signature verified and counted (64 hex digits). */
PINSET_API const char *pinset_update_keyid_used(const pinset_update *update);
/** How many distinct keys' signatures verified and counted towards the threshold. */
PINSET_API size_t pinset_update_signer_count(const pinset_update *update);
/**
 * The highest serial of the delegations that counted; 0 when only root
 * keys signed.
 */
PINSET_API uint64_t pinset_update_delegation_serial(const pinset_update *update);
/**
 * The earliest expires_at of the delegations that counted (when a signing
 * key it relies on expires); 0 when only root keys signed.
 */
PINSET_API int64_t pinset_update_key_expires_at(const pinset_update *update);

/*
 * ---- the updater: the applied document and the highest serial, in a state directory ----
 *
 * A state directory holds `current.dsse` (the applied document, as received)
 * and `state` (the highest serial applied, the issued_at and the payload's
 * SHA-256 seen with it). It must exist, be a directory owned by the
 * effective user and not be writable by group or others. Writes go through
 * a temporary in the directory, fsync, rename and an fsync of the
 * directory; `state` is written before `current.dsse`, so that after a crash
 * at any point the persisted serial is never below that of the document in
 * use (docs/update-protocol.md, "The updater"). One process at a time
 * updates a directory (an flock(2) on it serialises callers).
 */

/** What pinset_updater_apply did, or why it refused. */
typedef enum pinset_updater_status {
    PINSET_UPDATER_APPLIED = 0,   /**< the document is now the current one */
    PINSET_UPDATER_UNCHANGED = 1, /**< the same serial and payload as the current one (rewritten) */
    PINSET_UPDATER_INVALID = 2,   /**< pinset_update_verify refused it (its code is returned) */
    PINSET_UPDATER_ROLLBACK = 3,  /**< a serial lower than the highest applied */
    PINSET_UPDATER_EQUIVOCATION = 4, /**< the highest serial applied, with another payload */
    PINSET_UPDATER_CLOCK_ROLLBACK =
        5, /**< a higher serial issued before the newest issued_at seen */
    PINSET_UPDATER_STATE_ERROR =
        6, /**< the state directory is refused or cannot be read or written */
    PINSET_UPDATER_UNKNOWN_KEY =
        7, /**< no signature by a root key or by a key with a delegation (unknown keyid) */
    PINSET_UPDATER_KEY_EXPIRED = 8, /**< the signing key's delegation expired (or not valid yet) */
    PINSET_UPDATER_DELEGATION_UNTRUSTED =
        9, /**< a delegation not signed by a trusted root (or not a delegation) */
    PINSET_UPDATER_DELEGATION_MISMATCH = 10, /**< a delegation for another key */
    PINSET_UPDATER_THRESHOLD =
        11, /**< fewer signatures by distinct trusted keys than the threshold */
    PINSET_UPDATER_DELEGATION_ROLLBACK =
        12, /**< a delegation older than the highest delegation serial accepted */
    PINSET_UPDATER_DELEGATION_SCOPE =
        13, /**< the document's scope is not within its signing key's delegation */
    PINSET_UPDATER_UP_TO_DATE =
        14 /**< (pinset_curl_update_apply_index) the index names no newer serial: nothing fetched */
} pinset_updater_status;

/** pinset_updater_load flag: the current document is past its expires_at (see on_stale). */
#define PINSET_UPDATER_STALE 0x1u
/** pinset_updater_load flag: no document has been applied yet (use the bootstrap policy). */
#define PINSET_UPDATER_EMPTY 0x2u
/**
 * pinset_updater_load flag: the clock is behind the state: the applied
 * document was issued more than PINSET_UPDATE_CLOCK_SKEW seconds after
 * `now` (the clock went back, or is wrong). The document is still returned;
 * report it, and do not trust `now` for expiry decisions.
 */
#define PINSET_UPDATER_CLOCK_BEHIND 0x4u
/** The name of the applied document in a state directory. */
#define PINSET_UPDATER_CURRENT "current.dsse"
/** The name of the state file in a state directory. */
#define PINSET_UPDATER_STATE "state"

/**
 * Verify a document and, when it is newer than the state, apply it: persist
 * its serial, then the document. Checks, in order (the first failure wins,
 * and leaves the state directory as it was):
 * 1. the state directory (PINSET_UPDATER_STATE_ERROR: PINSET_E_IO when it is
 *    missing, not a directory, owned by another user or group/world-writable,
 *    or a read fails; PINSET_E_PARSE when `state` is malformed);
 * 2. everything pinset_update_verify checks (PINSET_UPDATER_INVALID, its code);
 * 3. the serial is not below the highest applied (PINSET_UPDATER_ROLLBACK,
 *    PINSET_E_NO_MATCH "rollback: ...");
 * 4. at the same serial, the payload is byte for byte the applied one
 *    (PINSET_UPDATER_EQUIVOCATION, PINSET_E_NO_MATCH "equivocation: ...");
 *    the same payload again is PINSET_UPDATER_UNCHANGED and PINSET_OK;
 * 5. a higher serial is not issued before the newest issued_at seen
 *    (PINSET_UPDATER_CLOCK_ROLLBACK, PINSET_E_NO_MATCH "clock rolled back: ...").
 *
 * @param update_out receives the applied (or unchanged) update; NULL on refusal
 * @param status_out receives what happened (optional, may be NULL)
 * @param state_dir  the state directory (must exist)
 * @param doc,len    the document
 * @param trusted    the trusted keys (borrowed), ntrusted of them, as pinset_update_verify
 * @param ntrusted   number of trusted keys
 * @param now        seconds since the epoch; 0 = the current time
 * @param diag       optional detail: the reason (and the path, for verification
 *                   failures); for PINSET_UPDATER_STATE_ERROR its input names the
 *                   state directory (borrowed: state_dir)
 * @return PINSET_OK, PINSET_E_NO_MATCH (steps 3 to 5), the codes of
 *         pinset_update_verify, PINSET_E_IO, PINSET_E_PARSE, PINSET_E_INVALID_ARG,
 *         PINSET_E_NOMEM
 * Ownership: release *update_out with pinset_update_free.
 * Thread-safety: safe; calls on one directory are serialised by a lock.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_updater_apply(
    pinset_update **update_out, pinset_updater_status *status_out, const char *state_dir,
    const uint8_t *doc, size_t len, const struct evp_pkey_st *const *trusted, size_t ntrusted,
    int64_t now, pinset_diag *diag);

/**
 * Load the current document from a state directory and verify it again
 * (signature, payload, policy and scope against the trusted keys, and
 * against the state: its serial is not above the persisted one, and at the
 * persisted serial its payload digest is the persisted one). Its validity
 * window is not enforced: a document past its expires_at is returned with
 * PINSET_UPDATER_STALE set, never silently used as fresh and never silently
 * dropped. The caller then applies its on_stale choice
 * (docs/update-protocol.md): keep the stale policy, fall back to its
 * bootstrap policy, or fail closed. With no document applied yet, *update_out
 * is NULL and PINSET_UPDATER_EMPTY is set.
 *
 * @param update_out receives the current update, or NULL (PINSET_UPDATER_EMPTY)
 * @param flags_out  receives PINSET_UPDATER_STALE, PINSET_UPDATER_EMPTY and
 *                   PINSET_UPDATER_CLOCK_BEHIND (optional)
 * @param state_dir  the state directory
 * @param trusted    the trusted keys (borrowed), ntrusted of them
 * @param ntrusted   number of trusted keys
 * @param now        seconds since the epoch; 0 = the current time
 * @param diag       optional detail; on failure its input names the state directory
 * @return PINSET_OK, PINSET_E_IO (the directory is refused, a read fails),
 *         PINSET_E_PARSE (a malformed or inconsistent state), the codes of
 *         pinset_update_verify but PINSET_E_EXPIRED, PINSET_E_INVALID_ARG, PINSET_E_NOMEM
 * Ownership: release *update_out with pinset_update_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_updater_load(
    pinset_update **update_out, unsigned int *flags_out, const char *state_dir,
    const struct evp_pkey_st *const *trusted, size_t ntrusted, int64_t now, pinset_diag *diag);

/**
 * pinset_update_verify with a threshold, and the reason of a refusal.
 * Step 2 becomes: each signature counts when it is by a root key (its keyid
 * is a root's and it verifies with it), or by a signing key whose
 * delegation (carried in the signature) is signed by a root, names that
 * keyid and key, is valid at `now` (not_before - PINSET_UPDATE_CLOCK_SKEW
 * <= now < expires_at) and the signature verifies with the delegated key.
 * Each key counts once, compared as a key (one key under two encodings of
 * its SubjectPublicKeyInfo, two keyids, counts once); at least `threshold`
 * must count. When none
 * counts, the reason is that of the first signature that failed for a reason
 * other than an unknown keyid, else PINSET_UPDATER_UNKNOWN_KEY:
 *
 * | status | code |
 * |---|---|
 * | PINSET_UPDATER_UNKNOWN_KEY | PINSET_E_NO_MATCH |
 * | PINSET_UPDATER_INVALID (a signature that does not verify) | PINSET_E_CRYPTO |
 * | PINSET_UPDATER_INVALID (a malformed delegation) | PINSET_E_PARSE |
 * | PINSET_UPDATER_DELEGATION_UNTRUSTED | PINSET_E_NO_MATCH, PINSET_E_CRYPTO |
 * | PINSET_UPDATER_DELEGATION_MISMATCH | PINSET_E_NO_MATCH |
 * | PINSET_UPDATER_KEY_EXPIRED | PINSET_E_EXPIRED |
 * | PINSET_UPDATER_THRESHOLD (some counted, too few) | PINSET_E_NO_MATCH |
 * | PINSET_UPDATER_DELEGATION_SCOPE (after step 4) | PINSET_E_NO_MATCH |
 *
 * A signature whose delegation has a scope counts only when the document has
 * a scope within it (every name the document may speak for, the delegation
 * covers too); that is checked once the payload is read (after step 4), and
 * the threshold again then: too few left is PINSET_UPDATER_DELEGATION_SCOPE.
 *
 * Other refusals (the envelope, the payload, its time, the policy, the
 * scope) are PINSET_UPDATER_INVALID with pinset_update_verify's codes.
 *
 * @param out        receives the update
 * @param status_out receives PINSET_UPDATER_APPLIED when valid, else the reason
 *                   above (optional, may be NULL)
 * @param doc,len    the document
 * @param roots      the root keys (borrowed), nroots of them (at least 1)
 * @param nroots     number of root keys
 * @param threshold  how many distinct keys must sign; 0 or 1: one
 * @param now        seconds since the epoch; 0 = the current time
 * @param diag       optional detail
 * @return as pinset_update_verify
 * Ownership: release *out with pinset_update_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_update_verify_threshold(
    pinset_update **out, pinset_updater_status *status_out, const uint8_t *doc, size_t len,
    const struct evp_pkey_st *const *roots, size_t nroots, unsigned int threshold, int64_t now,
    pinset_diag *diag);

/**
 * pinset_updater_apply with a threshold (see pinset_update_verify_threshold)
 * and the delegation floor: the state also keeps the highest delegation
 * serial accepted, and a delegation below it does not count
 * (PINSET_UPDATER_DELEGATION_ROLLBACK, PINSET_E_NO_MATCH, when no signature
 * counts for that reason first). Verification refusals give the statuses of
 * pinset_update_verify_threshold. pinset_updater_apply is this with
 * threshold 1.
 *
 * Parameters, return values, ownership and thread-safety as
 * pinset_updater_apply, plus:
 * @param update_out receives the applied (or unchanged) update
 * @param status_out what happened (optional)
 * @param state_dir  the state directory
 * @param doc,len    the document
 * @param roots      the root keys, nroots of them
 * @param nroots     number of root keys
 * @param threshold  how many distinct keys must sign; 0 or 1: one
 * @param now        seconds since the epoch; 0 = the current time
 * @param diag       optional detail
 * @return as pinset_updater_apply
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_updater_apply_threshold(
    pinset_update **update_out, pinset_updater_status *status_out, const char *state_dir,
    const uint8_t *doc, size_t len, const struct evp_pkey_st *const *roots, size_t nroots,
    unsigned int threshold, int64_t now, pinset_diag *diag);

/**
 * pinset_updater_load with a threshold. The delegations' validity windows
 * are not enforced at load either: a document whose signing key has expired
 * is returned with PINSET_UPDATER_STALE. pinset_updater_load is this with
 * threshold 1.
 *
 * @param update_out receives the current update, or NULL
 * @param flags_out  receives PINSET_UPDATER_STALE, PINSET_UPDATER_EMPTY and
 *                   PINSET_UPDATER_CLOCK_BEHIND (optional)
 * @param state_dir  the state directory
 * @param roots      the root keys, nroots of them
 * @param nroots     number of root keys
 * @param threshold  how many distinct keys must sign; 0 or 1: one
 * @param now        seconds since the epoch; 0 = the current time
 * @param diag       optional detail
 * @return as pinset_updater_load
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_updater_load_threshold(
    pinset_update **update_out, unsigned int *flags_out, const char *state_dir,
    const struct evp_pkey_st *const *roots, size_t nroots, unsigned int threshold, int64_t now,
    pinset_diag *diag);

/** What to enforce once the current document is stale beyond the grace period. */
typedef enum pinset_updater_on_stale {
    PINSET_ON_STALE_KEEP = 0,       /**< keep the last applied policy (reported stale) */
    PINSET_ON_STALE_BOOTSTRAP = 1,  /**< fall back to the bootstrap policy */
    PINSET_ON_STALE_FAIL_CLOSED = 2 /**< enforce nothing: refuse (the caller fails closed) */
} pinset_updater_on_stale;

/**
 * Choose the policy to enforce from what pinset_updater_load returned: the
 * current document's policy while it is fresh, or stale for less than
 * `grace` seconds after its expires_at; after that the on_stale choice. With
 * no current document (PINSET_UPDATER_EMPTY), the bootstrap policy. Never a
 * silent fail-open: a refusal returns an error and no policy.
 *
 * @param out       receives a new reference to the policy to enforce (release
 *                  with pinset_policy_free); NULL on failure
 * @param stale_out set to 1 when the current document is past its expires_at,
 *                  whatever was chosen; else 0 (optional, may be NULL)
 * @param current   the loaded update, or NULL
 * @param bootstrap the policy compiled into the application, or NULL (borrowed)
 * @param on_stale  the choice once stale beyond grace
 * @param grace     seconds after expires_at during which the stale policy is still kept (>= 0)
 * @param now       seconds since the epoch; 0 = the current time
 * @param diag      optional detail
 * @return PINSET_OK; PINSET_E_EXPIRED (stale beyond grace with
 *         PINSET_ON_STALE_FAIL_CLOSED, or with PINSET_ON_STALE_BOOTSTRAP and no
 *         bootstrap policy); PINSET_E_NO_MATCH (no current document and no
 *         bootstrap policy); PINSET_E_INVALID_ARG
 * Ownership: *out is a new reference.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_updater_choose(
    pinset_policy **out, int *stale_out, const pinset_update *current, pinset_policy *bootstrap,
    pinset_updater_on_stale on_stale, int64_t grace, int64_t now, pinset_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_UPDATE_H */
