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
 * Which names a rule covers besides its host (the native format's
 * `include_subdomains`). Values are append-only. A lookup that finds a rule
 * through its SUBDOMAINS or ONE_LABEL scope says PINSET_MATCH_SUBDOMAIN.
 */
typedef enum pinset_scope {
    PINSET_SCOPE_EXACT = 0,      /**< the host only (`false`) */
    PINSET_SCOPE_SUBDOMAINS = 1, /**< the host and every name below it, at any depth (`true`) */
    /**
     * Every name exactly one label below the host, and not the host itself
     * (`"one-label"`; OkHttp's `*.example.com`: `a.example.com`, not
     * `example.com`, not `a.b.example.com`). A rule of this scope may sit
     * beside an exact or SUBDOMAINS rule for the same host.
     */
    PINSET_SCOPE_ONE_LABEL = 2
} pinset_scope;

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
PINSET_API PINSET_MUST_CHECK pinset_err pinset_policy_parse(pinset_policy **out, const uint8_t *buf,
                                                            size_t len, pinset_diag *diag);

/**
 * Read a policy file and parse it. Only a regular file of at most 256 MiB is
 * read; error messages start with the file name.
 *
 * @param out  receives the policy (reference count 1)
 * @param path the file
 * @param diag optional detail, as for pinset_policy_parse
 * @return as pinset_policy_parse, plus PINSET_E_IO
 * Ownership: release with pinset_policy_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_policy_load(pinset_policy **out, const char *path,
                                                           pinset_diag *diag);

/**
 * Write the policy in the native JSON format, in its canonical form
 * (docs/policy-format.md): parsing the output gives the same model, and
 * writing that again gives the same bytes.
 *
 * @param policy  the policy
 * @param write   the sink, called with chunks of at most 4096 octets
 * @param payload passed to the sink
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_IO (the sink refused)
 * Thread-safety: safe.
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
 * SHA-256 over the policy's canonical form (exactly what pinset_policy_write
 * emits): its generation. Two policies with the same model have the same
 * digest. Computed once at parse time.
 *
 * @param policy the policy; NULL gives 32 zero octets
 * @param out    receives the digest
 * Thread-safety: safe.
 */
PINSET_API void pinset_policy_digest(const pinset_policy *policy, uint8_t out[32]);

/** Number of rules, in document order (0 for NULL). */
PINSET_API size_t pinset_policy_rule_count(const pinset_policy *policy);
/** The i-th rule; borrowed, valid while the policy lives; NULL when out of range. */
PINSET_API const pinset_rule *pinset_policy_rule(const pinset_policy *policy, size_t i);

/**
 * Find the rule for a host. The host is canonicalised first (see host.h);
 * exact beats subdomain, the longest matching parent wins (at the host's
 * immediate parent a PINSET_SCOPE_ONE_LABEL rule beats a
 * PINSET_SCOPE_SUBDOMAINS one), an exclusion wins over its parent. Cost grows with the number of
 * labels, not of rules.
 *
 * @param policy the policy
 * @param host,len the host in any accepted spelling
 * @param how_out optional: how the rule was found (PINSET_MATCH_NONE with NULL)
 * @return the rule (for PINSET_MATCH_EXCLUDED, the exclusion rule), or NULL
 *         when the host is not pinned or not a valid host name
 * Lifetime: the rule is borrowed, valid while the policy lives.
 * Thread-safety: safe; no allocation, and no libidn2 call for a host that is
 * already canonical.
 */
PINSET_API const pinset_rule *pinset_policy_lookup(const pinset_policy *policy, const char *host,
                                                   size_t len, pinset_match *how_out);

/*
 * ---- rule getters ----
 * All take a rule from pinset_policy_rule or pinset_policy_lookup. Strings
 * and pins are borrowed and valid while the policy lives. A NULL rule gives
 * NULL, 0 or the first enum value. Thread-safety: safe (the policy is immutable).
 */

/** The rule's host in canonical form (see host.h). */
PINSET_API const char *pinset_rule_host(const pinset_rule *rule);
/**
 * 1 when the rule also covers every name below its host (scope
 * PINSET_SCOPE_SUBDOMAINS), else 0 (also for PINSET_SCOPE_ONE_LABEL).
 */
PINSET_API int pinset_rule_include_subdomains(const pinset_rule *rule);
/** Which names the rule covers: PINSET_SCOPE_EXACT for NULL. */
PINSET_API pinset_scope pinset_rule_scope(const pinset_rule *rule);
/** 1 when the rule is an exclusion (it takes its host, or subtree, out of a parent's policy). */
PINSET_API int pinset_rule_is_exclusion(const pinset_rule *rule);
/** What a mismatch does: PINSET_MODE_ENFORCE (default) or PINSET_MODE_REPORT. */
PINSET_API pinset_mode pinset_rule_mode(const pinset_rule *rule);
/** The pin-set the rule names, or NULL when it names its pins directly only. */
PINSET_API const char *pinset_rule_pinset_name(const pinset_rule *rule);
/** Pins: the named pin-set's pins followed by the rule's own (0 for an exclusion). */
PINSET_API size_t pinset_rule_pin_count(const pinset_rule *rule);
/** The i-th pin (0-based, see pinset_rule_pin_count), or NULL when out of range. */
PINSET_API const pinset_pin *pinset_rule_pin(const pinset_rule *rule, size_t i);
/** Where the i-th pin must match; PINSET_ROLE_ANY when out of range. */
PINSET_API pinset_role pinset_rule_pin_role(const pinset_rule *rule, size_t i);
/** The i-th pin's label, or NULL when it has none. */
PINSET_API const char *pinset_rule_pin_label(const pinset_rule *rule, size_t i);
/** Seconds since the epoch after which the pin no longer counts; 0 = never. */
PINSET_API int64_t pinset_rule_pin_not_after(const pinset_rule *rule, size_t i);
/** Number of blocked pins: a chain that contains one fails the rule. */
PINSET_API size_t pinset_rule_blocked_count(const pinset_rule *rule);
/** The i-th blocked pin, or NULL when out of range. */
PINSET_API const pinset_pin *pinset_rule_blocked(const pinset_rule *rule, size_t i);
/** Seconds since the epoch when the rule expires; 0 = never. */
PINSET_API int64_t pinset_rule_expires(const pinset_rule *rule);
/** What the rule does once expired; PINSET_ON_EXPIRY_NONE when it does not expire. */
PINSET_API pinset_on_expiry pinset_rule_on_expiry(const pinset_rule *rule);
/**
 * The backup-pin rule: how many distinct pins the rule should have (default 2
 * in enforce mode, 1 in report mode, 0 for an exclusion). The parser only
 * records it; lint and the verdict decide what fewer pins mean.
 */
PINSET_API size_t pinset_rule_min_pins(const pinset_rule *rule);
/** Number of report URIs. */
PINSET_API size_t pinset_rule_report_uri_count(const pinset_rule *rule);
/** The i-th report URI, or NULL when out of range. */
PINSET_API const char *pinset_rule_report_uri(const pinset_rule *rule, size_t i);
/** The rule's index in the policy (document order). */
PINSET_API size_t pinset_rule_index(const pinset_rule *rule);

/**
 * The policy format's names of the model's enumerations: "enforce" / "report";
 * "any" / "leaf" / "ca" / "backup"; "none" / "fail-open" / "fail-closed" /
 * "report"; for lookups "none" / "exact" / "subdomain" / "excluded"; for
 * scopes "exact" / "subdomains" / "one-label".
 *
 * @return a static string, never NULL ("unknown" for out-of-range values)
 * Thread-safety: safe.
 */
PINSET_API const char *pinset_mode_name(pinset_mode mode);
PINSET_API const char *pinset_role_name(pinset_role role);
PINSET_API const char *pinset_on_expiry_name(pinset_on_expiry on_expiry);
PINSET_API const char *pinset_match_name(pinset_match match);
PINSET_API const char *pinset_scope_name(pinset_scope scope);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_POLICY_H */
