/*
 * check_out.h - shared by `pinset check` and `pinset explain`: loading the
 * policy, --now, the TLS context that carries pinset's verdict hook, names
 * of the policy model's enums, rule and pin JSON, and the rotation-readiness
 * analysis.
 *
 * Every verdict here comes from the library (pinset_check, pinset_check_pins
 * or the OpenSSL hook); this file never decides whether a pin matches.
 */
#ifndef PINSET_CLI_CHECK_OUT_H
#define PINSET_CLI_CHECK_OUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <pinset/openssl.h>

/*
 * Load a policy file in any format pinset reads (cli_policy_read: `host` for
 * the formats that name none, or NULL); on failure print "pinset: CMD:
 * FILE:LINE:COL: message" and return the exit status (3 for unreadable or
 * invalid input), else 0.
 */
int chk_load_policy(const char *cmd, const char *path, const char *host, pinset_policy **out);
/* The same, and on failure the one-line diagnostic (without "pinset: CMD: ") also into msg,
   cut to cap bytes (cap 0: not copied). */
int chk_load_policy_msg(const char *cmd, const char *path, const char *host, pinset_policy **out,
                        char *msg, size_t cap);

/* Parse --now: an RFC 3339 UTC time "2027-01-01T00:00:00Z", a date "2027-01-01" (midnight
   UTC), or "@SECONDS" since the epoch. 0 on success, -1 otherwise. */

/* Whole days from `now` to `t`, rounded down (negative once `t` is past). */
int64_t chk_days(int64_t t, int64_t now);

/* RFC 3339 text of t, or "never" for 0. */
void chk_time_text(char *buf, size_t cap, int64_t t);

/* A certificate's notAfter as seconds since the epoch; 0 when unreadable. */
int64_t chk_cert_not_after(const X509 *x);

/*
 * A client TLS context as a pinned client would use: TLS >= 1.2, no session
 * cache, SSL_VERIFY_PEER, trust from cafile/capath (or the system store),
 * and, when now != 0, path validation at that time. NULL with a message.
 */
SSL_CTX *chk_client_ctx(const char *cafile, const char *capath, int64_t now, char *err,
                        size_t errcap);

/* Enum names as used in the JSON output. */
const char *chk_kind_name(pinset_pin_kind k); /* "spki", "cert" */

/* The base64 text of a pin (never fails: "?" when it cannot be formatted). */
void chk_pin_text(char *buf, size_t cap, const pinset_pin *pin);

/* One of the rule's pins as JSON: index, sha256, kind, role, label, not_after, expired. */
json_t *chk_pin_json(const pinset_rule *rule, size_t i, int64_t now);

/* Where the rule came from: rule index and path ("rules[3]"), host, include_subdomains, exclusion,
   mode, pin-set, min_pins, expires, on_expiry. NULL rule gives JSON null. */
json_t *chk_rule_json(const pinset_rule *rule);

/*
 * "Did you mean": for a host that no rule covers, the host name one edit away
 * that a pinning rule does cover (a misspelt exact host, or the misspelt
 * domain of a subdomain rule: "api.exmaple.com" -> "api.example.com"), into
 * buf. Returns that rule, or NULL when none is one edit away.
 */
const pinset_rule *chk_near_host(char *buf, size_t cap, const pinset_policy *policy,
                                 const char *host);

/*
 * What a host presented, as check's text prints it under a failing host: per
 * element of the validated chain, "[depth] subject" and "spki <base64>" on
 * two lines, each line after the first starting with `indent` (subjects from
 * OpenSSL's verified chain, pins from the verdict's own record of it).
 * Returns a malloc'd string, or NULL when there is no chain or no memory.
 */
char *chk_served_text(const STACK_OF(X509) * verified, const pinset_result *pr, const char *indent);

/*
 * Rotation readiness of a host whose live result has a rule and a validated chain.
 *
 * backup_pins: pins of the rule that count at `now` (not past their not_after), are
 *   in no element of the validated chain, compared by kind and digest (RFC 7469
 *   section 4.3: a backup pin is one the live chain does not hold), and are keys
 *   a rotation can still go to: not role leaf (a leaf pin outside the chain is a
 *   retired key, counted in retired_leaf_pins).
 * backup_live: pins of role backup that ARE in the live chain: the declared
 *   backup has been rotated to, and is a backup no more (first_backup_live).
 * new_leaf_passes: the verdict, computed again by pinset_check_pins over the same
 *   validated chain with the leaf's spki and cert pins replaced by values that no
 *   pin of the rule holds, is PASS: the host survives a new leaf key that the policy
 *   does not name (a pin matches a CA at depth >= 1).
 * backup_leaf_passes: the same with the leaf's spki replaced by one of the backup
 *   pins (spki kind) in turn; PASS for at least one: the host survives moving the
 *   leaf to that backup key (backup_leaf_pin is its index).
 * ready: backup_pins >= 1 and (new_leaf_passes or backup_leaf_passes).
 */
typedef struct chk_rotation {
    int analysed; /* 0: no rule, an exclusion, or no validated chain */
    size_t backup_pins;
    size_t first_backup;      /* index of the first backup pin (valid when backup_pins > 0) */
    size_t backup_live;       /* role backup pins in the live chain */
    size_t first_backup_live; /* the first of them (valid when backup_live > 0) */
    size_t retired_leaf_pins; /* role leaf pins outside the live chain */
    int new_leaf_passes;
    int backup_leaf_passes;
    size_t backup_leaf_pin;
    int ready;
    int64_t pins_not_after; /* earliest not_after among the rule's pins; 0 = none */
} chk_rotation;

/*
 * Analyse `live` (a result from the hook or pinset_check) with the scratch result `tmp`.
 * Returns 0, or -1 when the library refused (out of memory): then analysed is 0.
 */
int chk_rotation_analyse(chk_rotation *out, pinset_result *tmp, const pinset_policy *policy,
                         const pinset_result *live, int64_t now);

/* Rotation readiness as JSON (null when not analysed). */
json_t *chk_rotation_json(const chk_rotation *rot, const pinset_rule *rule, int64_t now);

#endif /* PINSET_CLI_CHECK_OUT_H */
