/*
 * pinset/check.h - the verdict: does a validated chain satisfy a host's pins?
 *
 * pinset_check() takes a policy, the host name the application verified, the
 * chain that path validation produced (leaf first) and the time, and fills a
 * caller-owned pinset_result with a verdict and its explanation: the rule that
 * applied and how it was found, the spki and cert pins of every chain
 * element, and which pin matched at which depth.
 *
 * The check is pure: no I/O, no clock (time is a parameter), and pinset
 * allocates nothing once the result exists, so a result can be reused for
 * any number of checks (one per thread at a time). pinset_check_pins
 * allocates nothing at all; pinset_check hashes DER through OpenSSL 3.0's
 * EVP, which allocates a provider digest context per hash.
 *
 * Caveats: pinset_check does NOT validate the chain (signatures, dates,
 * names, revocation). The chain must be the one OpenSSL validated
 * (X509_STORE_CTX_get0_chain() after X509_verify_cert() succeeded, or
 * SSL_get0_verified_chain()), never the chain the peer sent: matching pins
 * against the sent chain is the "chain stuffing" bypass (CVE-2016-2402).
 * The OpenSSL hooks in openssl.h do this for you.
 */
#ifndef PINSET_CHECK_H
#define PINSET_CHECK_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/pin.h>
#include <pinset/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest chain pinset_check accepts (leaf included). */
#define PINSET_CHAIN_MAX 16

/**
 * The verdict. The zero value is PINSET_VERDICT_NONE, which never lets a
 * connection through: a zeroed or never-filled result is not a PASS.
 */
typedef enum pinset_verdict {
    PINSET_VERDICT_NONE = 0,            /**< no check ran: treat as a failure */
    PINSET_VERDICT_PASS = 1,            /**< a pin of the rule matched the validated chain */
    PINSET_VERDICT_FAIL = 2,            /**< enforced failure; see pinset_result_reason */
    PINSET_VERDICT_NOT_PINNED = 3,      /**< no rule applies (or an exclusion does) */
    PINSET_VERDICT_EXPIRED_OPEN = 4,    /**< the rule expired with on_expiry fail-open */
    PINSET_VERDICT_REPORT_ONLY_FAIL = 5 /**< a mismatch under report mode: let through, report */
} pinset_verdict;

/** Why a verdict is not a clean PASS (also kept for REPORT_ONLY_FAIL). */
typedef enum pinset_reason {
    PINSET_REASON_NONE = 0,           /**< nothing wrong */
    PINSET_REASON_NO_MATCH = 1,       /**< no pin of the rule is in the chain */
    PINSET_REASON_BLOCKED = 2,        /**< a blocked key is in the chain */
    PINSET_REASON_ROLE_MISMATCH = 3,  /**< a pin is in the chain, but not where its role allows */
    PINSET_REASON_NO_CHAIN = 4,       /**< no certificate: nothing to check */
    PINSET_REASON_BAD_HOST = 5,       /**< the host is not a valid name or IP literal */
    PINSET_REASON_NO_HOST = 6,        /**< hooks: the application verified no host name or IP */
    PINSET_REASON_PATH_INVALID = 7,   /**< hooks: path validation failed */
    PINSET_REASON_NOT_CHECKED = 8,    /**< hooks: no verdict was recorded for the connection */
    PINSET_REASON_CHAIN_TOO_LONG = 9, /**< more than PINSET_CHAIN_MAX certificates */
    PINSET_REASON_INTERNAL = 10       /**< hashing failed or out of memory: failed closed */
} pinset_reason;

/** One DER certificate of a chain (borrowed for the duration of a call). */
typedef struct pinset_cert {
    const uint8_t *der;
    size_t len;
} pinset_cert;

/** The two pins of one chain element, as computed by the caller. */
typedef struct pinset_cert_pins {
    pinset_pin spki; /**< kind PINSET_PIN_SPKI */
    pinset_pin cert; /**< kind PINSET_PIN_CERT */
} pinset_cert_pins;

/** A reusable verdict with its explanation. Opaque. */
typedef struct pinset_result pinset_result;

/**
 * Create a result (and the digest context it reuses for every check).
 *
 * @param out  receives the result; its verdict is PINSET_VERDICT_NONE
 * @param diag optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_CRYPTO
 * Ownership: release with pinset_result_free.
 * Thread-safety: safe; the result itself is used by one thread at a time.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_result_new(pinset_result **out, pinset_diag *diag);

/** Free a result. NULL is a no-op. */
PINSET_API void pinset_result_free(pinset_result *result);

/** Reset a result to PINSET_VERDICT_NONE (forgets the rule and chain). NULL is a no-op. */
PINSET_API void pinset_result_reset(pinset_result *result);

/**
 * Copy a verdict and its explanation from one result into another, e.g. to
 * keep the result of a connection whose SSL is about to be freed (see
 * pinset_ossl_set_observer). Allocates nothing.
 *
 * @param dst a result from pinset_result_new, overwritten (it keeps its own
 *            digest context); dst == src is a no-op
 * @param src the result to copy
 * @return PINSET_OK, PINSET_E_INVALID_ARG (dst or src is NULL)
 * Ownership: nothing is shared but the rule: the copy's pinset_result_rule is
 *            borrowed from the same policy as src's.
 * Lifetime: keep that policy alive (pinset_policy_ref) for as long as you read
 *           the copy's rule.
 * Thread-safety: src must not change during the call; dst is used by one thread at a time.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_result_copy(pinset_result *dst,
                                                           const pinset_result *src);

/**
 * Decide the verdict for a validated chain given as DER certificates.
 *
 * Rules (docs/verdict.md): the host is canonicalised (host.h) and looked up
 * (exact beats subdomain, the longest parent wins, an exclusion wins over its
 * parent). No rule or an exclusion: NOT_PINNED. A rule whose `expires` is at or
 * before `now` acts by its on_expiry: fail-open gives EXPIRED_OPEN, report
 * checks and gives REPORT_ONLY_FAIL on a mismatch, fail-closed keeps the rule
 * in force as written (pinset_result_rule_expired says so). A pin whose not_after is before `now`
 * does not count. Role `leaf` matches depth 0 only, `ca` depth 1 and up, `any`
 * and `backup` anywhere. A blocked key anywhere in the chain fails even when
 * another pin matches, in every mode; a rule of blocked keys only passes any
 * other chain. In report mode every other mismatch becomes REPORT_ONLY_FAIL;
 * an empty chain or an invalid host fails in every mode.
 *
 * @param result the caller's result, overwritten
 * @param policy the policy snapshot; it must outlive the use of the result's rule
 * @param host,host_len the host name or IP literal the application verified
 * @param chain,count the validated chain, leaf first (count may be 0: NO_CHAIN)
 * @param now seconds since the epoch
 * @param diag optional detail when the return value is not PINSET_OK
 * @return PINSET_OK when a verdict was reached (read it with
 *         pinset_result_verdict: a FAIL verdict is still PINSET_OK);
 *         PINSET_E_INVALID_ARG; PINSET_E_PARSE or PINSET_E_LIMIT for a
 *         chain element that is empty, not a certificate or too large, and
 *         PINSET_E_CRYPTO when hashing failed (in each of these cases the
 *         verdict is FAIL, reason INTERNAL)
 * Ownership: nothing retained but borrowed pointers into `policy`.
 * Thread-safety: safe with distinct results; the policy may be shared.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_check(pinset_result *result,
                                                     const pinset_policy *policy, const char *host,
                                                     size_t host_len, const pinset_cert *chain,
                                                     size_t count, int64_t now, pinset_diag *diag);

/**
 * As pinset_check, with the chain elements' pins already computed. Allocates
 * nothing and hashes nothing.
 *
 * @return PINSET_OK, PINSET_E_INVALID_ARG
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_check_pins(pinset_result *result,
                                                          const pinset_policy *policy,
                                                          const char *host, size_t host_len,
                                                          const pinset_cert_pins *chain,
                                                          size_t count, int64_t now);

/**
 * Whether a verdict lets a connection through: PASS, NOT_PINNED,
 * EXPIRED_OPEN and REPORT_ONLY_FAIL do; NONE and FAIL (and unknown values) do not.
 * @return 1 or 0
 */
PINSET_API int pinset_verdict_allows(pinset_verdict verdict);

/** "PASS", "FAIL", "NOT_PINNED", "EXPIRED_OPEN", "REPORT_ONLY_FAIL", "NONE"; "UNKNOWN" otherwise.
 */
PINSET_API const char *pinset_verdict_name(pinset_verdict verdict);

/** "none", "no-match", "blocked", "role-mismatch", "no-chain", ...; "unknown" otherwise. */
PINSET_API const char *pinset_reason_name(pinset_reason reason);

/* ---- the explanation: getters on a result (NULL result gives NONE / 0 / NULL) ---- */

/** The verdict. */
PINSET_API pinset_verdict pinset_result_verdict(const pinset_result *result);
/** Why it is not a clean PASS; PINSET_REASON_NONE for PASS and NOT_PINNED. */
PINSET_API pinset_reason pinset_result_reason(const pinset_result *result);
/** The canonical host that was looked up ("" when it was invalid). Borrowed, valid until the next
 * check. */
PINSET_API const char *pinset_result_host(const pinset_result *result);
/** The rule that applied (for EXCLUDED, the exclusion rule), or NULL. Borrowed from the policy. */
PINSET_API const pinset_rule *pinset_result_rule(const pinset_result *result);
/** How the rule was found. */
PINSET_API pinset_match pinset_result_match(const pinset_result *result);
/** The mode that applied: the rule's, or REPORT for an expired rule with on_expiry report. */
PINSET_API pinset_mode pinset_result_mode(const pinset_result *result);
/** 1 when the rule had expired at `now`, else 0. */
PINSET_API int pinset_result_rule_expired(const pinset_result *result);
/** The time the check used. */
PINSET_API int64_t pinset_result_time(const pinset_result *result);
/** Number of chain elements recorded (0 when there was no chain). */
PINSET_API size_t pinset_result_chain_len(const pinset_result *result);
/**
 * The pin of chain element `depth` (0 = leaf).
 * @return borrowed, valid until the next check; NULL when out of range, and
 *         for PINSET_PIN_CERT in a result of the OpenSSL hooks when no rule for
 *         the host has a cert pin (the hooks then skip hashing whole certificates)
 */
PINSET_API const pinset_pin *pinset_result_chain_pin(const pinset_result *result, size_t depth,
                                                     pinset_pin_kind kind);
/**
 * The pin that decided a PASS (or, for BLOCKED, the blocked pin that matched).
 *
 * @param pin_index_out optional: index in the rule's pins (pinset_rule_pin) or,
 *                      for BLOCKED, in its blocked list (pinset_rule_blocked)
 * @param depth_out     optional: chain depth where it matched (0 = leaf)
 * @return 1 when there is one, else 0 (outputs untouched)
 */
PINSET_API int pinset_result_matched(const pinset_result *result, size_t *pin_index_out,
                                     size_t *depth_out);

/**
 * A one-line English explanation, e.g.
 * `FAIL (no-match): rule "example.com" (exact, enforce): no pin matched 3 certificates`.
 * On PINSET_E_BUFFER_TOO_SMALL `buf` holds the empty string.
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_BUFFER_TOO_SMALL
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_result_explain(char *buf, size_t cap,
                                                              const pinset_result *result);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_CHECK_H */
