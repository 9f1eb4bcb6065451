/*
 * formats.h - the conversion layer shared by formats.c (dispatch, detection),
 * fidelity.c (the list of what did not carry over) and one file per foreign
 * format (hpkp.c, curl.c, okhttp.c, chromium.c, trustkit.c; fjson.c reads the
 * JSON of the last two). A converter reads into and writes out of the one
 * model with the build side of policy/policy_int.h. Internal; not installed.
 */
#ifndef PINSET_FORMATS_H
#define PINSET_FORMATS_H

#include <stdio.h>

#include <pinset/convert.h>

#include "internal.h"
#include "policy/policy_int.h"
#include "util/buf.h"

/* Largest HPKP header read, name included (issue 10: "HPKP headers over 8 KB"). */
#define PINSET_MAX_HPKP_HEADER 8192
/* Largest curl list read: PINSET_MAX_PIN_LIST pins of 53 octets, with room to spare. */
#define PINSET_MAX_CURL_LIST 16384
/* Longest line of an OkHttp pattern/pin list: a pattern and 256 pins, with room to spare. */
#define PINSET_MAX_OKHTTP_LINE 16384
/*
 * Most pin entries an OkHttp import may make: OkHttp's union semantics copy
 * a broad pattern's pins into every narrower rule it covers, so a short list
 * could otherwise grow a policy of millions of rules times 256 pins.
 */
#define PINSET_MAX_OKHTTP_PINS 262144
/* The last second of 9999: times the native format can write (and opts->now may be). */
#define PINSET_FMT_TIME_MAX 253402300799LL
/* The browsers' cap on max-age (Chromium kMaxHPKPAgeSecs, Firefox's default pref): 60 days. */
#define PINSET_HPKP_MAX_AGE_CAP 5184000

/* ---- fidelity.c ---- */

pinset_err pinset__fidelity_new(pinset_fidelity **out);
/*
 * Append an entry: the rule's index (SIZE_MAX: the document), its host (may
 * be NULL), the field and a printf-style reason. PINSET_OK or PINSET_E_NOMEM.
 */
pinset_err pinset__fidelity_add(pinset_fidelity *f, size_t rule, const char *host,
                                const char *field, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* ---- formats.c: helpers every converter uses ---- */

/* Canonicalise opts->host into r's host (PINSET_E_INVALID_ARG when NULL). */
pinset_err pinset__fmt_rule_host(pinset_policy *p, struct pinset_rule *r, const char *host,
                                 pinset_diag *diag);
/* Append a pin to p's pin array unless the rule's range already holds it; *added_out 0 or 1. */
pinset_err pinset__fmt_add_pin(pinset_policy *p, struct pinset_rule *r, const pinset_pin *pin,
                               pinset_role role, int *added_out);
/*
 * The rules an export writes: opts->host's rule alone (found by canonical
 * host), else every rule. *first_out and *count_out index p->rules.
 * PINSET_E_UNSUPPORTED when no rule names opts->host.
 */
pinset_err pinset__fmt_select(const pinset_policy *p, const pinset_convert_options *opts,
                              size_t *first_out, size_t *count_out, pinset_diag *diag);
/* The rule's i-th pin entry (pin-set's pins first, then its own), as the getters count. */
const struct pinset__pin_entry *pinset__fmt_pin(const pinset_policy *p, const struct pinset_rule *r,
                                                size_t i);
size_t pinset__fmt_pin_count(const pinset_policy *p, const struct pinset_rule *r);
/* Report a rule's fields no foreign format carries (labels, blocked pins, pin-set name). */
pinset_err pinset__fmt_lose_common(pinset_fidelity *f, const pinset_policy *p,
                                   const struct pinset_rule *r, const char *fmt_name);
/*
 * The rule settings a pin list cannot hold (curl, OkHttp): report mode,
 * expires, report URIs, min_pins other than 2; then pinset__fmt_lose_common.
 */
pinset_err pinset__fmt_lose_settings(pinset_fidelity *f, const pinset_policy *p,
                                     const struct pinset_rule *r, const char *fmt_name);

/* ---- one file per format ---- */

pinset_err pinset__hpkp_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf, size_t len,
                               const pinset_convert_options *opts, pinset_diag *diag);
pinset_err pinset__hpkp_export(pinset_fidelity *f, const pinset_policy *p,
                               const pinset_convert_options *opts, struct pinset__buf *out,
                               pinset_diag *diag);
pinset_err pinset__curl_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf, size_t len,
                               const pinset_convert_options *opts, pinset_diag *diag);
pinset_err pinset__curl_export(pinset_fidelity *f, const pinset_policy *p,
                               const pinset_convert_options *opts, struct pinset__buf *out,
                               pinset_diag *diag);

pinset_err pinset__okhttp_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf,
                                 size_t len, const pinset_convert_options *opts, pinset_diag *diag);
/* style: PINSET_FORMAT_OKHTTP (the list), _OKHTTP_KOTLIN or _OKHTTP_JAVA (builder code). */
pinset_err pinset__okhttp_export(pinset_fidelity *f, const pinset_policy *p, pinset_format style,
                                 const pinset_convert_options *opts, struct pinset__buf *out,
                                 pinset_diag *diag);
/* OkHttp's spelling of a rule's scope: "", "*." or "**.". */
const char *pinset__okhttp_prefix(const struct pinset_rule *r);
/*
 * The other rules whose OkHttp patterns match names of r (into out[0..cap)):
 * for an exact rule the parent's one-label rule and the include_subdomains
 * rules of its proper parents; for a one-label rule its own host's and its
 * parents' include_subdomains rules; for an include_subdomains rule its
 * parents'. Needs an indexed policy. Returns how many.
 */
size_t pinset__okhttp_covering(const pinset_policy *p, const struct pinset_rule *r,
                               const struct pinset_rule **out, size_t cap);
/* For an include_subdomains rule: the parent's one-label rule, which also matches its host. */
const struct pinset_rule *pinset__okhttp_self_wildcard(const pinset_policy *p,
                                                       const struct pinset_rule *r);
/* ---- JSON formats (fjson.c): one bounded loader, the native parser's limits ---- */

struct json_t;
/*
 * Parse buf[0..len) as one JSON document: at most PINSET_MAX_POLICY_SIZE
 * octets and PINSET_MAX_POLICY_DEPTH levels, duplicate keys refused, errors
 * with line and column. With `comments`, // and block comments outside
 * strings are blanked first (Chromium's files carry them). *text_out
 * receives the (blanked) copy that positions refer to; free it with
 * pinset__free, and the document with json_decref.
 */
pinset_err pinset__fjson_load(struct json_t **root_out, uint8_t **text_out, const uint8_t *buf,
                              size_t len, int comments, pinset_diag *diag);
/* Messages quote the input: make diag's message and path one line of printable text. */
void pinset__fjson_clean(pinset_diag *diag);

/* Chromium and TrustKit import finish the policy themselves (to name the JSON path of a clash). */
pinset_err pinset__chromium_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf,
                                   size_t len, const pinset_convert_options *opts,
                                   pinset_diag *diag);
pinset_err pinset__chromium_export(pinset_fidelity *f, const pinset_policy *p,
                                   const pinset_convert_options *opts, struct pinset__buf *out,
                                   pinset_diag *diag);
pinset_err pinset__trustkit_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf,
                                   size_t len, const pinset_convert_options *opts,
                                   pinset_diag *diag);
pinset_err pinset__trustkit_export(pinset_fidelity *f, const pinset_policy *p,
                                   const pinset_convert_options *opts, struct pinset__buf *out,
                                   pinset_diag *diag);

#endif /* PINSET_FORMATS_H */
