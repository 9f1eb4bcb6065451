/*
 * pinset/convert.h - other platforms' pin formats, in and out of the one
 * policy model.
 *
 * pinset_policy_import reads a document in a format into a pinset_policy
 * (the same model pinset_policy_parse builds); pinset_policy_export writes a
 * policy out in a format. Both return a fidelity list: every part of the
 * input that did not carry over into the output, each with its rule (index
 * and host), the field and the reason. Nothing is dropped silently.
 * docs/formats.md says what maps to what for each format.
 *
 * Caveats: a converter checks syntax and what the target can express; it
 * does not know the server's chain, so it cannot tell whether an HPKP
 * header's backup pin is really outside the chain (RFC 7469 section 4.3).
 */
#ifndef PINSET_CONVERT_H
#define PINSET_CONVERT_H

#include <pinset/common.h>
#include <pinset/error.h>
#include <pinset/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Pin formats. Values are append-only: never renumbered, removed or reused.
 */
typedef enum pinset_format {
    PINSET_FORMAT_UNKNOWN = 0, /**< not a format: detection found none */
    PINSET_FORMAT_NATIVE = 1,  /**< pinset's own JSON (docs/policy-format.md) */
    PINSET_FORMAT_HPKP = 2,    /**< an RFC 7469 Public-Key-Pins(-Report-Only) header */
    PINSET_FORMAT_CURL = 3,    /**< a curl --pinnedpubkey list, `sha256//A;sha256//B` */
    /** OkHttp CertificatePinner patterns and pins, one `PATTERN sha256/B64...` per line */
    PINSET_FORMAT_OKHTTP = 4,
    /** OkHttp's `CertificatePinner.Builder()` chain in Kotlin (written only) */
    PINSET_FORMAT_OKHTTP_KOTLIN = 5,
    /** OkHttp's `CertificatePinner.Builder()` chain in Java (written only) */
    PINSET_FORMAT_OKHTTP_JAVA = 6,
    PINSET_FORMAT_CHROMIUM = 7, /**< Chromium's static pins JSON (`pinsets`, `entries`) */
    PINSET_FORMAT_TRUSTKIT = 8, /**< TrustKit's TSKConfiguration dictionary as JSON */
    /*
     * The formats below need a markup library: libpinset-formats reads and
     * writes them (pinset/formats.h); libpinset names and detects them only.
     */
    /** Android Network Security Config XML (and TrustKit-Android's `<trustkit-config>`) */
    PINSET_FORMAT_ANDROID = 9,
    /** TrustKit's TSKConfiguration in a property list (an Info.plist), XML or binary */
    PINSET_FORMAT_TRUSTKIT_PLIST = 10,
    /** Apple ATS `NSAppTransportSecurity` / `NSPinnedDomains` in a property list, XML or binary */
    PINSET_FORMAT_ATS = 11,
    /** Envoy's `validation_context` (`verify_certificate_spki`) as YAML (written only) */
    PINSET_FORMAT_ENVOY = 12
} pinset_format;

/** The fidelity list of a conversion: what did not carry over. */
typedef struct pinset_fidelity pinset_fidelity;

/** Current version of struct pinset_convert_options. */
#define PINSET_CONVERT_OPTIONS_VERSION 1

/**
 * Options of pinset_policy_import and pinset_policy_export. Initialise with
 * PINSET_CONVERT_OPTIONS_INIT; zero fields mean "not given".
 *
 * Ownership: caller-allocated; holds no heap memory; `host` is borrowed for
 *            the call only.
 */
typedef struct pinset_convert_options {
    unsigned int version;
    /**
     * Import: the host the document is for (required by PINSET_FORMAT_HPKP
     * and PINSET_FORMAT_CURL, which name none). HPKP and CURL export: write
     * only the rule that names this host (exact, canonical comparison); the
     * native writer writes every rule.
     */
    const char *host;
    /**
     * HPKP import: map max-age to an expiry, `expires = now + max-age` with
     * on_expiry fail-open (what a browser does once max-age has passed).
     * HPKP export: write max-age = expires - now for a rule that expires.
     * Seconds since the epoch, at most 253402300799 (the end of 9999); 0 =
     * not given (max-age is then listed as lost).
     */
    int64_t now;
    /**
     * HPKP export: the max-age of a rule that does not expire (or when `now`
     * is 0), in seconds; 0 = 5184000 (60 days, the browsers' cap).
     */
    int64_t max_age;
} pinset_convert_options;

/** Static initialiser for struct pinset_convert_options. */
#define PINSET_CONVERT_OPTIONS_INIT                \
    {                                              \
        PINSET_CONVERT_OPTIONS_VERSION, NULL, 0, 0 \
    }

/**
 * The name of a format, as `pinset convert --to` spells it: "native", "hpkp",
 * "curl", "okhttp", "okhttp-kotlin", "okhttp-java", "chromium", "trustkit",
 * "android", "trustkit-plist", "ats", "envoy".
 *
 * @param format any value
 * @return a static string, never NULL ("unknown" for other values)
 * Thread-safety: safe.
 */
PINSET_API const char *pinset_format_name(pinset_format format);

/**
 * The format a name stands for (ASCII case-insensitive; "json" is also
 * NATIVE).
 *
 * @param name a NUL-terminated name; NULL gives PINSET_FORMAT_UNKNOWN
 * @return the format, or PINSET_FORMAT_UNKNOWN
 * Thread-safety: safe.
 */
PINSET_API pinset_format pinset_format_from_name(const char *name);

/**
 * Guess a document's format from its content, with its file name as a hint.
 * Content decides: a JSON object with top-level `pinsets` and `entries` is
 * CHROMIUM, one with `TSKPinnedDomains` (or `TSKConfiguration`) is TRUSTKIT,
 * any other JSON object is NATIVE; XML with a `<network-security-config>` or
 * `<trustkit-config>` element is ANDROID; a property list (XML `<plist` or
 * binary `bplist00`) holding the key `TSKConfiguration` is TRUSTKIT_PLIST,
 * any other property list is ATS; text that starts with
 * `sha256//` is CURL, text that starts with `Public-Key-Pins` or holds an
 * RFC 7469 directive (`max-age`, `pin-sha256=`) is HPKP, text with a pin
 * `sha256/` (or `sha1/`) after a blank or a comma is OKHTTP. The name (its
 * extension, `.json`, `.hpkp`, `.curl`, `.okhttp`) only breaks a tie the
 * content leaves open (`.xml` ANDROID, `.plist` ATS, `.yaml`/`.yml` ENVOY).
 *
 * @param buf,len the document (need not be NUL-terminated)
 * @param name    optional file name, or NULL
 * @return the format, or PINSET_FORMAT_UNKNOWN when none fits
 * Thread-safety: safe; reads at most the first 4096 octets of buf, except
 * that a property list is searched for `TSKConfiguration` in its first MiB
 * (an Info.plist's keys can come late).
 */
PINSET_API pinset_format pinset_format_detect(const uint8_t *buf, size_t len, const char *name);

/**
 * Read a document in a format into a policy.
 *
 * NATIVE is pinset_policy_parse (its fidelity list is empty). HPKP and CURL
 * need opts->host and give one rule for it; OKHTTP names its hosts (one rule
 * per pattern, with the pins of the broader patterns that cover it);
 * OKHTTP_KOTLIN and OKHTTP_JAVA are written only (PINSET_E_UNSUPPORTED);
 * CHROMIUM and TRUSTKIT name their hosts and ignore it. ANDROID,
 * TRUSTKIT_PLIST, ATS and ENVOY are libpinset-formats' (pinset/formats.h):
 * here they give PINSET_E_UNSUPPORTED. docs/formats.md lists what each
 * format's fields become.
 *
 * @param out          receives the policy (reference count 1); NULL on failure
 * @param fidelity_out receives the fidelity list (possibly empty); NULL on
 *                     failure. May be NULL when the caller does not want it.
 * @param buf,len      the document
 * @param format       its format (PINSET_FORMAT_UNKNOWN is refused)
 * @param opts         options, or NULL for the defaults
 * @param diag         optional: the reason, and where (line and column, or
 *                     byte offset for one-line formats)
 * @return PINSET_OK, PINSET_E_INVALID_ARG (NULL out, unknown format, missing
 *         host), PINSET_E_NOMEM, PINSET_E_PARSE, PINSET_E_UNSUPPORTED,
 *         PINSET_E_LIMIT
 * Ownership: release the policy with pinset_policy_free and the list with
 *            pinset_fidelity_free. The input is not retained.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_policy_import(
    pinset_policy **out, pinset_fidelity **fidelity_out, const uint8_t *buf, size_t len,
    pinset_format format, const pinset_convert_options *opts, pinset_diag *diag);

/**
 * Write a policy in a format. NATIVE is pinset_policy_write. HPKP writes one
 * header line per rule (only opts->host's rule when given); CURL writes the
 * leaf-key pins of one rule (opts->host's, or the only rule) as one line;
 * OKHTTP writes one `PATTERN sha256/B64...` line per rule, OKHTTP_KOTLIN and
 * OKHTTP_JAVA a `CertificatePinner.Builder()` chain (every rule: opts->host
 * is not used). CHROMIUM and TRUSTKIT write one JSON document (only
 * opts->host's rule when given).
 *
 * @param fidelity_out receives the fidelity list (possibly empty); NULL on
 *                     failure. May be NULL.
 * @param policy       the policy
 * @param format       the target format
 * @param opts         options, or NULL for the defaults
 * @param write        the sink, called with chunks of at most 4096 octets;
 *                     on failure it may have received part of the document
 * @param payload      passed to the sink
 * @param diag         optional detail
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM, PINSET_E_IO (the
 *         sink refused), PINSET_E_UNSUPPORTED (the format cannot express the
 *         selected rules at all: no rule for opts->host, a curl list for
 *         several hosts, a rule with no pin the format can carry)
 * Ownership: release the list with pinset_fidelity_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_policy_export(
    pinset_fidelity **fidelity_out, const pinset_policy *policy, pinset_format format,
    const pinset_convert_options *opts, pinset_write_fn write, void *payload, pinset_diag *diag);

/**
 * Number of entries in a fidelity list (0 for NULL).
 * Thread-safety: safe.
 */
PINSET_API size_t pinset_fidelity_count(const pinset_fidelity *fidelity);

/**
 * @name Fidelity entry getters
 * The i-th entry (0-based, in document order) of a fidelity list. Strings are
 * borrowed, valid until the list is freed. Out of range (or NULL list):
 * SIZE_MAX and NULL.
 * Thread-safety: safe.
 * @{
 */
/** The index of the rule the entry is about, or SIZE_MAX for the document. */
PINSET_API size_t pinset_fidelity_rule(const pinset_fidelity *fidelity, size_t i);
/** That rule's host (canonical), or NULL when none is known. */
PINSET_API const char *pinset_fidelity_host(const pinset_fidelity *fidelity, size_t i);
/** The field that did not carry over: a model path (`pins[1].role`, `expires`) or a directive. */
PINSET_API const char *pinset_fidelity_field(const pinset_fidelity *fidelity, size_t i);
/** Why, one line: what the format cannot express and what was done instead. */
PINSET_API const char *pinset_fidelity_reason(const pinset_fidelity *fidelity, size_t i);
/** @} */

/** Free a fidelity list. NULL is a no-op. */
PINSET_API void pinset_fidelity_free(pinset_fidelity *fidelity);

/**
 * A new, empty fidelity list, for converters outside libpinset (such as
 * libpinset-formats) that give their callers the same list.
 *
 * @param out receives the list; NULL on failure
 * @return PINSET_OK, PINSET_E_INVALID_ARG (NULL out), PINSET_E_NOMEM
 * Ownership: release with pinset_fidelity_free.
 * Thread-safety: safe.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_fidelity_new(pinset_fidelity **out);

/**
 * Append an entry to a fidelity list: what did not carry over.
 *
 * @param fidelity the list
 * @param rule     the rule's index, or SIZE_MAX for the document
 * @param host     the rule's host, or NULL
 * @param field    the field (a model path or a directive), not NULL
 * @param reason   why, one line, not NULL (copied; cut to PINSET_DIAG_MESSAGE_MAX - 1 octets)
 * @return PINSET_OK, PINSET_E_INVALID_ARG, PINSET_E_NOMEM
 * Thread-safety: not on the same list from several threads.
 */
PINSET_API PINSET_MUST_CHECK pinset_err pinset_fidelity_add(pinset_fidelity *fidelity, size_t rule,
                                                            const char *host, const char *field,
                                                            const char *reason);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_CONVERT_H */
