/*
 * pinset/policy.h - pin policies: per-host rules, shared pin-sets, lookup.
 *
 * A policy is a list of rules. A rule names a host (exact, or with
 * include_subdomains) and its pins, directly or through a named pin-set shared
 * by many rules. A policy is immutable once built and reference counted: it
 * may be shared by any number of threads, and a policy update swaps one
 * snapshot for another without touching handshakes in flight.
 *
 * The native format is JSON; docs/policy-format.md is its reference.
 *
 * Caveats: a policy does not validate certificate paths; that is OpenSSL's
 * job, done before any pin is looked at.
 */
#ifndef PINSET_POLICY_H
#define PINSET_POLICY_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/pin.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pinset_policy pinset_policy;
typedef struct pinset_rule pinset_rule;

/** What a rule does on a mismatch. */
typedef enum pinset_mode {
    PINSET_MODE_ENFORCE = 0, /**< fail the handshake */
    PINSET_MODE_REPORT = 1   /**< record, report, let it pass */
} pinset_mode;

/** What an expired rule does. There is no default: a rule with `expires` must say. */
typedef enum pinset_on_expiry {
    PINSET_ON_EXPIRY_NONE = 0,        /**< the rule does not expire */
    PINSET_ON_EXPIRY_FAIL_OPEN = 1,   /**< stop pinning: the host is treated as not pinned */
    PINSET_ON_EXPIRY_FAIL_CLOSED = 2, /**< keep enforcing; the verdict says expired */
    PINSET_ON_EXPIRY_REPORT = 3       /**< check and report, but let it pass */
} pinset_on_expiry;

/** Where in the chain a pin must match. */
typedef enum pinset_role {
    PINSET_ROLE_ANY = 0,   /**< any certificate of the validated chain */
    PINSET_ROLE_LEAF = 1,  /**< only the leaf */
    PINSET_ROLE_CA = 2,    /**< only a CA certificate of the validated chain */
    PINSET_ROLE_BACKUP = 3 /**< a key not deployed yet; matches anywhere like ANY */
} pinset_role;

/** How a lookup found its rule. */
typedef enum pinset_match {
    PINSET_MATCH_NONE = 0,      /**< no rule: the host is not pinned */
    PINSET_MATCH_EXACT = 1,     /**< the rule names this host */
    PINSET_MATCH_SUBDOMAIN = 2, /**< a parent's rule with include_subdomains */
    PINSET_MATCH_EXCLUDED = 3   /**< an exclusion rule takes the host out: not pinned */
} pinset_match;

/**
 * Parse a policy document (native JSON). Strict: unknown keys are errors.
 *
 * @param out  receives the policy (reference count 1)
 * @param buf,len the document
 * @param diag optional: line, column, and the JSON path of the failing value
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_PARSE,
 *         PINSET_E_UNSUPPORTED, PINSET_E_LIMIT
 * Ownership: release with pinset_policy_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_policy_parse(pinset_policy **out,
                                                            const uint8_t *buf, size_t len,
                                                            pinset_diag *diag);

/**
 * Read a policy file (bounded) and parse it. As pinset_policy_parse, plus PINSET_E_IO.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_policy_load(pinset_policy **out, const char *path,
                                                           pinset_diag *diag);

/**
 * Write the policy in the native JSON format; parsing the output gives the same model.
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_IO (the sink refused)
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_policy_write(const pinset_policy *policy,
                                                            pinset_write_fn write, void *payload);

/**
 * Take a reference.
 * @return policy
 * Thread-safety: safe (atomic).
 */
PINSET_API pinset_policy *pinset_policy_ref(pinset_policy *policy);

/** Drop a reference; the last one frees. NULL is a no-op. Thread-safety: safe (atomic). */
PINSET_API void pinset_policy_free(pinset_policy *policy);

/**
 * SHA-256 over the policy's canonical form: its generation. Two policies with
 * the same model have the same digest.
 */
PINSET_API void pinset_policy_digest(const pinset_policy *policy, uint8_t out[32]);

/** Number of rules, in document order. */
PINSET_API size_t pinset_policy_rule_count(const pinset_policy *policy);
/** The i-th rule; borrowed, valid while the policy lives; NULL when out of range. */
PINSET_API const pinset_rule *pinset_policy_rule(const pinset_policy *policy, size_t i);

/**
 * Find the rule for a host. The host is canonicalised first (see host.h);
 * exact beats subdomain, the longest matching parent wins, an exclusion wins
 * over its parent. Cost grows with the number of labels, not of rules.
 *
 * @param policy the policy
 * @param host,len the host in any accepted spelling
 * @param how_out optional: how the rule was found
 * @return the rule (for PINSET_MATCH_EXCLUDED, the exclusion rule), or NULL
 *         when the host is not pinned or not a valid host name
 */
PINSET_API const pinset_rule *pinset_policy_lookup(const pinset_policy *policy, const char *host,
                                                   size_t len, pinset_match *how_out);

/* ---- rule getters: all borrowed, valid while the policy lives ---- */
PINSET_API const char *pinset_rule_host(const pinset_rule *rule); /**< canonical host */
PINSET_API int pinset_rule_include_subdomains(const pinset_rule *rule);
PINSET_API int pinset_rule_is_exclusion(const pinset_rule *rule);
PINSET_API pinset_mode pinset_rule_mode(const pinset_rule *rule);
/** The pin-set the rule names, or NULL when it names its pins directly only. */
PINSET_API const char *pinset_rule_pinset_name(const pinset_rule *rule);
/** Pins: the named pin-set's pins followed by the rule's own. */
PINSET_API size_t pinset_rule_pin_count(const pinset_rule *rule);
PINSET_API const pinset_pin *pinset_rule_pin(const pinset_rule *rule, size_t i);
PINSET_API pinset_role pinset_rule_pin_role(const pinset_rule *rule, size_t i);
PINSET_API const char *pinset_rule_pin_label(const pinset_rule *rule, size_t i); /**< or NULL */
/** Seconds since the epoch after which the pin no longer counts; 0 = never. */
PINSET_API int64_t pinset_rule_pin_not_after(const pinset_rule *rule, size_t i);
PINSET_API size_t pinset_rule_blocked_count(const pinset_rule *rule);
PINSET_API const pinset_pin *pinset_rule_blocked(const pinset_rule *rule, size_t i);
/** Seconds since the epoch when the rule expires; 0 = never. */
PINSET_API int64_t pinset_rule_expires(const pinset_rule *rule);
PINSET_API pinset_on_expiry pinset_rule_on_expiry(const pinset_rule *rule);
PINSET_API size_t pinset_rule_min_pins(const pinset_rule *rule);
PINSET_API size_t pinset_rule_report_uri_count(const pinset_rule *rule);
PINSET_API const char *pinset_rule_report_uri(const pinset_rule *rule, size_t i);
/** The rule's index in the policy (document order). */
PINSET_API size_t pinset_rule_index(const pinset_rule *rule);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_POLICY_H */
