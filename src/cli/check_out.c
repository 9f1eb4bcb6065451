/*
 * check_out.c - helpers shared by `pinset check` and `pinset explain` (check_out.h).
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "check_out.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "common.h"
#include "input.h"
#include "netopt.h"
#include "out.h"
#include "suggest.h"

/* The library's bound for one policy document (pinset_policy_load). */
#define CHK_POLICY_MAX ((size_t)256 * 1024 * 1024)

/* ---- did you mean ---- */

static size_t count_labels(const char *h, size_t len)
{
    size_t n = len > 0;

    for (size_t i = 0; i < len; i++) {
        n += h[i] == '.';
    }
    return n;
}

/*
 * Whether a and b (of a length apart by at most 1) may be one edit apart: an
 * edit changes the first or the last character, not both, unless the words
 * are two characters long. A cheap filter before the distance.
 */
static int may_be_near(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == 0 || blen == 0 || (alen > blen ? alen - blen : blen - alen) > 1) {
        return 0;
    }
    return alen <= 2 || blen <= 2 || tolower((unsigned char)a[0]) == tolower((unsigned char)b[0]) ||
           tolower((unsigned char)a[alen - 1]) == tolower((unsigned char)b[blen - 1]);
}

/*
 * One digit for another in the same place (web1 vs web2): numbered hosts of one
 * fleet, not a typo. Not suggested.
 */
static int digit_changed(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen) {
        return 0;
    }
    for (size_t i = 0; i < alen; i++) {
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) {
            return isdigit((unsigned char)a[i]) && isdigit((unsigned char)b[i]);
        }
    }
    return 0;
}

/* One edit apart, and not a fleet's numbering. */
static int one_edit(const char *a, size_t alen, const char *b, size_t blen)
{
    return may_be_near(a, alen, b, blen) && suggest_distance(a, alen, b, blen, 1) == 1 &&
           !digit_changed(a, alen, b, blen);
}

/* Whether `cand` is pinned by a rule of the policy (not an exclusion); the rule or NULL. */
static const pinset_rule *pinned_by(const pinset_policy *policy, const char *cand)
{
    pinset_match how;
    const pinset_rule *r = pinset_policy_lookup(policy, cand, strlen(cand), &how);

    return r != NULL && !pinset_rule_is_exclusion(r) ? r : NULL;
}

const pinset_rule *chk_near_host(char *buf, size_t cap, const pinset_policy *policy,
                                 const char *host)
{
    size_t hlen = strlen(host), hlabels = count_labels(host, hlen);

    if (hlen == 0 || hlen > SUGGEST_MAX_LEN) {
        return NULL;
    }
    for (size_t i = 0; i < pinset_policy_rule_count(policy); i++) {
        const pinset_rule *r = pinset_policy_rule(policy, i);
        const char *rh = pinset_rule_host(r);
        size_t rlen = strlen(rh), rlabels;
        const pinset_rule *hit;

        if (pinset_rule_is_exclusion(r)) {
            continue;
        }
        if (one_edit(host, hlen, rh, rlen) && (hit = pinned_by(policy, rh)) != NULL) {
            snprintf(buf, cap, "%s", rh);
            return hit;
        }
        if (pinset_rule_include_subdomains(r) && rlen < hlen &&
            hlabels > (rlabels = count_labels(rh, rlen))) {
            /* the host's last rlabels labels against the rule's domain */
            const char *suffix = host + hlen;
            size_t seen = 0;
            while (suffix > host && seen < rlabels) {
                suffix--;
                seen += *suffix == '.';
            }
            suffix += *suffix == '.';
            if (one_edit(suffix, strlen(suffix), rh, rlen)) {
                int w = snprintf(buf, cap, "%.*s%s", (int)(suffix - host), host, rh);
                if (w > 0 && (size_t)w < cap && (hit = pinned_by(policy, buf)) != NULL) {
                    return hit;
                }
            }
        }
    }
    return NULL;
}

/* ---- what a host presented ---- */

char *chk_served_text(const STACK_OF(X509) * verified, const pinset_result *pr, const char *indent)
{
    size_t n = pinset_result_chain_len(pr);
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    int bad = 0;

    if (n == 0) {
        return NULL;
    }
    f = open_memstream(&buf, &len);
    if (f == NULL) {
        return NULL;
    }
    for (size_t d = 0; d < n && !bad; d++) {
        const pinset_pin *spki = pinset_result_chain_pin(pr, d, PINSET_PIN_SPKI);
        X509 *x = verified != NULL && (size_t)sk_X509_num(verified) == n
                      ? sk_X509_value(verified, (int)d)
                      : NULL;
        char name[512], b64[PINSET_PIN_STR_MAX];

        if (x != NULL) {
            out_x509_name(name, sizeof(name), X509_get_subject_name(x));
        } else {
            snprintf(name, sizeof(name), "?");
        }
        if (spki == NULL ||
            pinset_pin_format(b64, sizeof(b64), spki, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
            snprintf(b64, sizeof(b64), "?");
        }
        fprintf(f, "%s[%zu] ", d == 0 ? "" : indent, d);
        out_safe(f, name);
        bad = fprintf(f, "\n%s    spki %s\n", indent, b64) < 0;
    }
    if (fclose(f) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- the policy ---- */

int chk_load_policy(const char *cmd, const char *path, const char *host, pinset_policy **out)
{
    return chk_load_policy_msg(cmd, path, host, out, NULL, 0);
}

int chk_load_policy_msg(const char *cmd, const char *path, const char *host, pinset_policy **out,
                        char *msg, size_t cap)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    *out = NULL;
    err = cli_policy_read(out, cmd, path, CHK_POLICY_MAX, host, &d);
    if (err == PINSET_OK) {
        return 0;
    }
    cli_err_diag(cmd, &d); /* the library set d.input to path */
    if (cap > 0) {
        (void)pinset_diag_format(msg, cap, &d); /* cut to fit: this copy is for a status line */
    }
    return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
}

/* ---- time ---- */

int64_t chk_days(int64_t t, int64_t now)
{
    int64_t diff = t - now;

    /* round toward minus infinity: 1 second past is day -1, not day 0 */
    return diff >= 0 ? diff / 86400 : -((-diff + 86399) / 86400);
}

void chk_time_text(char *buf, size_t cap, int64_t t)
{
    if (t == 0) {
        snprintf(buf, cap, "never");
        return;
    }
    (void)out_time_iso(buf, cap, t);
}

int64_t chk_cert_not_after(const X509 *x)
{
    const ASN1_TIME *na = x != NULL ? X509_get0_notAfter(x) : NULL;
    ASN1_TIME *epoch;
    int day = 0, sec = 0, ok;

    if (na == NULL) {
        return 0;
    }
    epoch = ASN1_TIME_set(NULL, 0);
    ok = epoch != NULL && ASN1_TIME_diff(&day, &sec, epoch, na) == 1;
    ASN1_TIME_free(epoch);
    ERR_clear_error();
    return ok ? (int64_t)day * 86400 + sec : 0;
}

/* ---- the TLS context ---- */

SSL_CTX *chk_client_ctx(const char *cafile, const char *capath, int64_t now, char *err,
                        size_t errcap)
{
    SSL_CTX *ctx;
    char why[300], name[256];
    int ok;

    /* from a configuration file too (pinset monitor): a FIFO would block OpenSSL's read */
    for (int dir = 0; dir <= 1; dir++) {
        const char *path = dir ? capath : cafile;
        if (path != NULL && netopt_anchors_usable(path, dir, why, sizeof(why)) != 0) {
            out_safe_copy(name, sizeof(name), path);
            snprintf(err, errcap, "cannot load trust anchors from %s: %s", name, why);
            return NULL;
        }
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        snprintf(err, errcap, "cannot create a tls context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ERR_clear_error();
    if (cafile != NULL || capath != NULL) {
        ok = SSL_CTX_load_verify_locations(ctx, cafile, capath);
    } else {
        ok = SSL_CTX_set_default_verify_paths(ctx);
    }
    if (ok != 1) {
        const char *reason = ERR_reason_error_string(ERR_peek_last_error());

        out_safe_copy(name, sizeof(name), cafile != NULL ? cafile : capath);
        if (cafile != NULL || capath != NULL) {
            snprintf(err, errcap, "cannot load trust anchors from %s: %s", name,
                     reason != NULL ? reason : "no certificate");
        } else {
            snprintf(err, errcap, "cannot load the system trust store");
        }
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (now != 0) {
        X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ctx), (time_t)now);
    }
    return ctx;
}

/* ---- names ---- */

const char *chk_kind_name(pinset_pin_kind k)
{
    switch (k) {
    case PINSET_PIN_SPKI:
        return "spki";
    case PINSET_PIN_CERT:
        return "cert";
    default:
        return "unknown";
    }
}

void chk_pin_text(char *buf, size_t cap, const pinset_pin *pin)
{
    if (pin == NULL || pinset_pin_format(buf, cap, pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        snprintf(buf, cap, "?");
    }
}

/* ---- JSON ---- */

static json_t *time_json(int64_t t)
{
    char buf[OUT_TIME_MAX];

    if (t == 0) {
        return json_null();
    }
    (void)out_time_iso(buf, sizeof(buf), t);
    return json_string(buf);
}

json_t *chk_pin_json(const pinset_rule *rule, size_t i, int64_t now)
{
    json_t *o = json_object();
    char pin[PINSET_PIN_STR_MAX];
    const pinset_pin *p = pinset_rule_pin(rule, i);
    int64_t na = pinset_rule_pin_not_after(rule, i);
    int bad = 0;

    if (o == NULL || p == NULL) {
        json_decref(o);
        return NULL;
    }
    chk_pin_text(pin, sizeof(pin), p);
    bad |= out_json_set(o, "index", json_integer((json_int_t)i));
    bad |= out_json_set(o, "sha256", json_string(pin));
    bad |= out_json_set(o, "kind", json_string(chk_kind_name(p->kind)));
    bad |= out_json_set(o, "role", json_string(pinset_role_name(pinset_rule_pin_role(rule, i))));
    bad |= out_json_set(o, "label", out_json_str(pinset_rule_pin_label(rule, i)));
    bad |= out_json_set(o, "not_after", time_json(na));
    bad |= out_json_set(o, "expired", json_boolean(na != 0 && na <= now));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *chk_rule_json(const pinset_rule *rule)
{
    char path[32];
    json_t *o;
    int bad = 0;

    if (rule == NULL) {
        return json_null();
    }
    o = json_object();
    if (o == NULL) {
        return NULL;
    }
    snprintf(path, sizeof(path), "rules[%zu]", pinset_rule_index(rule));
    bad |= out_json_set(o, "index", json_integer((json_int_t)pinset_rule_index(rule)));
    bad |= out_json_set(o, "path", json_string(path));
    bad |= out_json_set(o, "host", json_string(pinset_rule_host(rule)));
    bad |=
        out_json_set(o, "include_subdomains", json_boolean(pinset_rule_include_subdomains(rule)));
    bad |= out_json_set(o, "scope", json_string(pinset_scope_name(pinset_rule_scope(rule))));
    bad |= out_json_set(o, "exclusion", json_boolean(pinset_rule_is_exclusion(rule)));
    bad |= out_json_set(o, "mode", json_string(pinset_mode_name(pinset_rule_mode(rule))));
    bad |= out_json_set(o, "pinset", out_json_str(pinset_rule_pinset_name(rule)));
    bad |= out_json_set(o, "min_pins", json_integer((json_int_t)pinset_rule_min_pins(rule)));
    bad |= out_json_set(o, "expires", time_json(pinset_rule_expires(rule)));
    bad |= out_json_set(o, "on_expiry",
                        json_string(pinset_on_expiry_name(pinset_rule_on_expiry(rule))));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- rotation readiness ---- */

static int in_chain(const pinset_pin *p, const pinset_cert_pins *chain, size_t n)
{
    for (size_t d = 0; d < n; d++) {
        if (pinset_pin_equal(p, &chain[d].spki) || pinset_pin_equal(p, &chain[d].cert)) {
            return 1;
        }
    }
    return 0;
}

/* Whether some pin or blocked pin of the rule has these 32 bytes (whatever its kind). */
static int rule_holds(const pinset_rule *rule, const uint8_t sha[PINSET_PIN_LEN])
{
    for (size_t i = 0; i < pinset_rule_pin_count(rule); i++) {
        if (memcmp(pinset_rule_pin(rule, i)->sha256, sha, PINSET_PIN_LEN) == 0) {
            return 1;
        }
    }
    for (size_t i = 0; i < pinset_rule_blocked_count(rule); i++) {
        if (memcmp(pinset_rule_blocked(rule, i)->sha256, sha, PINSET_PIN_LEN) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A digest derived from `from` that the rule does not hold: the key of a hypothetical new leaf. */
static void unknown_pin(pinset_pin *out, const pinset_pin *from, const pinset_rule *rule)
{
    *out = *from;
    for (size_t i = 0; i < PINSET_PIN_LEN; i++) {
        out->sha256[i] ^= 0xA5;
    }
    for (unsigned int k = 0; k < 256 && rule_holds(rule, out->sha256); k++) {
        out->sha256[0]++;
    }
}

/* The verdict of the same rule over `chain` (a modified copy of the live one). */
static int passes(pinset_result *tmp, const pinset_policy *policy, const char *host,
                  const pinset_cert_pins *chain, size_t n, int64_t now)
{
    if (pinset_check_pins(tmp, policy, host, strlen(host), chain, n, now) != PINSET_OK) {
        return -1;
    }
    return pinset_result_verdict(tmp) == PINSET_VERDICT_PASS;
}

int chk_rotation_analyse(chk_rotation *out, pinset_result *tmp, const pinset_policy *policy,
                         const pinset_result *live, int64_t now)
{
    pinset_cert_pins chain[PINSET_CHAIN_MAX], alt[PINSET_CHAIN_MAX];
    const pinset_rule *rule = pinset_result_rule(live);
    const char *host = pinset_result_host(live);
    size_t n = pinset_result_chain_len(live);
    int r;

    memset(out, 0, sizeof(*out));
    if (rule == NULL || pinset_rule_is_exclusion(rule) || n == 0 || n > PINSET_CHAIN_MAX ||
        host == NULL || host[0] == '\0') {
        return 0;
    }
    for (size_t d = 0; d < n; d++) {
        const pinset_pin *s = pinset_result_chain_pin(live, d, PINSET_PIN_SPKI);
        const pinset_pin *c = pinset_result_chain_pin(live, d, PINSET_PIN_CERT);
        if (s == NULL) {
            return 0;
        }
        chain[d].spki = *s;
        if (c != NULL) {
            chain[d].cert = *c;
        } else {
            /* the hook hashes certificates only for rules with cert pins: none can match */
            unknown_pin(&chain[d].cert, s, rule);
            chain[d].cert.kind = PINSET_PIN_CERT;
        }
    }
    for (size_t i = 0; i < pinset_rule_pin_count(rule); i++) {
        int64_t na = pinset_rule_pin_not_after(rule, i);
        if (na != 0 && (out->pins_not_after == 0 || na < out->pins_not_after)) {
            out->pins_not_after = na;
        }
        pinset_role role = pinset_rule_pin_role(rule, i);
        if (na != 0 && na <= now) {
            continue;
        }
        if (in_chain(pinset_rule_pin(rule, i), chain, n)) {
            if (role == PINSET_ROLE_BACKUP && out->backup_live++ == 0) {
                out->first_backup_live = i; /* rotated to: no longer a spare */
            }
            continue;
        }
        if (role == PINSET_ROLE_LEAF) {
            out->retired_leaf_pins++; /* the key the leaf had: not one to rotate to */
            continue;
        }
        if (out->backup_pins++ == 0) {
            out->first_backup = i;
        }
    }
    /* a new leaf key that no pin names */
    memcpy(alt, chain, n * sizeof(*alt));
    unknown_pin(&alt[0].spki, &chain[0].spki, rule);
    unknown_pin(&alt[0].cert, &chain[0].cert, rule);
    r = passes(tmp, policy, host, alt, n, now);
    if (r < 0) {
        return -1;
    }
    out->new_leaf_passes = r;
    /* a new leaf on one of the backup keys */
    for (size_t i = 0; i < pinset_rule_pin_count(rule) && !out->backup_leaf_passes; i++) {
        const pinset_pin *p = pinset_rule_pin(rule, i);
        int64_t na = pinset_rule_pin_not_after(rule, i);
        if (p->kind != PINSET_PIN_SPKI || (na != 0 && na <= now) || in_chain(p, chain, n) ||
            pinset_rule_pin_role(rule, i) == PINSET_ROLE_LEAF) {
            continue;
        }
        alt[0].spki = *p;
        r = passes(tmp, policy, host, alt, n, now);
        if (r < 0) {
            return -1;
        }
        if (r) {
            out->backup_leaf_passes = 1;
            out->backup_leaf_pin = i;
        }
    }
    out->ready = out->backup_pins > 0 && (out->new_leaf_passes || out->backup_leaf_passes);
    out->analysed = 1;
    return 0;
}

json_t *chk_rotation_json(const chk_rotation *rot, const pinset_rule *rule, int64_t now)
{
    json_t *o;
    int bad = 0;

    if (!rot->analysed) {
        return json_null();
    }
    o = json_object();
    if (o == NULL) {
        return NULL;
    }
    bad |= out_json_set(o, "ready", json_boolean(rot->ready));
    bad |= out_json_set(o, "backup_pins", json_integer((json_int_t)rot->backup_pins));
    bad |= out_json_set(o, "backup_pin",
                        rot->backup_pins > 0 ? chk_pin_json(rule, rot->first_backup, now)
                                             : json_null());
    bad |= out_json_set(o, "backup_live", json_integer((json_int_t)rot->backup_live));
    bad |= out_json_set(o, "retired_leaf_pins", json_integer((json_int_t)rot->retired_leaf_pins));
    bad |= out_json_set(o, "new_leaf_key_passes", json_boolean(rot->new_leaf_passes));
    bad |= out_json_set(o, "backup_leaf_key_passes", json_boolean(rot->backup_leaf_passes));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
