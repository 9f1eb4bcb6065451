/*
 * pinset/lint.h - a policy's health, checked offline.
 *
 * pinset_lint_run walks a parsed policy and hands each finding to a caller
 * callback: its severity, a stable rule id (`no-backup-pin`), the document
 * path it concerns (`rules[3]`, `rules[3].pins[1]`, `pinsets.corp[0]`), why it
 * matters and how to fix it. docs/lint-rules.md lists every rule id.
 *
 * Problems that make a document invalid (malformed values, unknown keys,
 * duplicate hosts, an exclusion without a parent) are not findings: the
 * parser rejects them (pinset_policy_parse and its diag).
 *
 * Caveats: lint does not touch the network. It cannot tell whether a pin is
 * in a server's live chain (so "backup" means "declared with role backup"),
 * nor how long a leaf certificate lives; `pinset check` answers those against
 * live servers.
 */
#ifndef PINSET_LINT_H
#define PINSET_LINT_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How serious a finding is. Values are stable. */
typedef enum pinset_lint_severity {
    PINSET_LINT_INFO = 0,    /**< worth knowing; nothing breaks */
    PINSET_LINT_WARNING = 1, /**< a risk or a likely mistake */
    PINSET_LINT_ERROR = 2    /**< the policy will break clients or leave hosts unprotected */
} pinset_lint_severity;

/** One finding; opaque, borrowed by the callback for the duration of the call only. */
typedef struct pinset_lint_finding pinset_lint_finding;

/** Current version of struct pinset_lint_options. */
#define PINSET_LINT_OPTIONS_VERSION 1
/** Default for pinset_lint_options.warn_days. */
#define PINSET_LINT_WARN_DAYS_DEFAULT 30

/**
 * Options for pinset_lint_run. Initialise with PINSET_LINT_OPTIONS_INIT.
 *
 * Ownership: caller-allocated; holds no heap memory.
 */
typedef struct pinset_lint_options {
    unsigned int version;
    /** The time to judge expiry at, in seconds since the epoch; 0 = the current time. */
    int64_t now;
    /** Pins and rules expiring within this many days are flagged (at most 36500). */
    unsigned int warn_days;
} pinset_lint_options;

/** Static initialiser for struct pinset_lint_options. */
#define PINSET_LINT_OPTIONS_INIT                                      \
    {                                                                 \
        PINSET_LINT_OPTIONS_VERSION, 0, PINSET_LINT_WARN_DAYS_DEFAULT \
    }

/**
 * Called once per finding, in document order of the rules.
 *
 * @param finding the finding; borrowed, valid only during this call
 * @param payload the caller's pointer, passed through unchanged
 * @return 0 to continue, non-zero to stop (pinset_lint_run then returns PINSET_E_IO)
 */
typedef int (*pinset_lint_fn)(const pinset_lint_finding *finding, void *payload);

/**
 * Run every lint rule over a policy.
 *
 * @param policy  the policy (borrowed; not modified)
 * @param opts    optional (NULL for defaults)
 * @param fn      receives each finding
 * @param payload passed to fn
 * @param diag    optional detail on failure
 * @return PINSET_OK (also when there are findings), PINSET_E_INVALID_ARG (NULL
 *         policy or fn, unknown options version, warn_days out of range),
 *         PINSET_E_NOMEM, PINSET_E_IO (fn asked to stop)
 * Ownership: nothing retained after the call.
 * Thread-safety: safe; a policy may be linted by several threads at once.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_lint_run(const pinset_policy *policy,
                                                        const pinset_lint_options *opts,
                                                        pinset_lint_fn fn, void *payload,
                                                        pinset_diag *diag);

/* ---- finding getters: strings are borrowed, valid only during the callback ---- */

/** The severity. */
PINSET_API pinset_lint_severity pinset_lint_finding_severity(const pinset_lint_finding *finding);
/** The stable rule id, e.g. "no-backup-pin" (a static string). */
PINSET_API const char *pinset_lint_finding_id(const pinset_lint_finding *finding);
/** The document path the finding concerns, e.g. "rules[3].pins[1]" or "pinsets.corp[0]". */
PINSET_API const char *pinset_lint_finding_path(const pinset_lint_finding *finding);
/** Why it matters: one line, lower case, no trailing period. */
PINSET_API const char *pinset_lint_finding_message(const pinset_lint_finding *finding);
/** How to fix it: one line, lower case, no trailing period. */
PINSET_API const char *pinset_lint_finding_fix(const pinset_lint_finding *finding);
/** The index of the rule concerned, or SIZE_MAX for a pin-set or policy-wide finding. */
PINSET_API size_t pinset_lint_finding_rule(const pinset_lint_finding *finding);
/** The canonical host of the rule concerned, or NULL for a pin-set or policy-wide finding. */
PINSET_API const char *pinset_lint_finding_host(const pinset_lint_finding *finding);

/**
 * The name of a severity: "info", "warning" or "error".
 * @return a static string; "unknown" for out-of-range values
 */
PINSET_API const char *pinset_lint_severity_name(pinset_lint_severity severity);

/**
 * The i-th rule id that pinset_lint_run can report, for documentation and tooling.
 * @return a static string, or NULL when i is out of range
 * Thread-safety: safe.
 */
PINSET_API const char *pinset_lint_rule_id(size_t i);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_LINT_H */
