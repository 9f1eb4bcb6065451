/*
 * lint.c - rules about a policy's health, checked offline.
 *
 * Every rule reads the policy through its model (policy_int.h, read-only) and
 * reports through one emit() path. docs/lint-rules.md documents each rule id;
 * the ids are listed once, in rule_ids[] below.
 */
#include <inttypes.h>
#include <libpsl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pinset/lint.h>

#include "internal.h"
#include "policy/policy_int.h"
#include "policy/uri.h"

#define SECONDS_PER_DAY  86400
#define MAX_WARN_DAYS    36500u
#define LINT_PATH_MAX    320
#define LINT_MESSAGE_MAX 1024
#define LINT_FIX_MAX     256

struct pinset_lint_finding {
    pinset_lint_severity severity;
    const char *id;
    size_t rule;
    const char *host;
    char path[LINT_PATH_MAX];
    char message[LINT_MESSAGE_MAX];
    char fix[LINT_FIX_MAX];
};

/* Every id pinset_lint_run can report; docs/lint-rules.md has one section per id. */
static const char *const rule_ids[] = {
    "too-few-pins",
    "no-backup-pin",
    "backup-pin-is-current",
    "duplicate-pin",
    "pin-blocked",
    "pin-expired",
    "pin-expiring",
    "rule-expired",
    "rule-expiring",
    "fail-closed-expiry",
    "public-suffix-subdomains",
    "leaf-only-pinning",
    "report-uri-invalid",
    "report-uri-not-https",
    "report-uri-pinned-host",
    "redundant-rule",
    "unused-pinset",
    /* append only: pinset_lint_rule_id(i) is public */
    "no-rules",
    "public-suffix-host",
};

/* What a run carries from rule to rule. */
struct lint_ctx {
    const pinset_policy *p;
    int64_t now;
    int64_t warn;
    pinset_lint_fn fn;
    void *payload;
    int stopped;
};

/* Summary of one pin-set, computed once: many rules may share it. */
struct set_summary {
    size_t live;         /* distinct pins not expired at `now` */
    size_t live_backup;  /* of which with role backup */
    size_t live_current; /* live pins with a role other than backup */
    size_t live_leaf;    /* of which role leaf */
    size_t first_user;   /* index of the first rule that names it, or SIZE_MAX */
    size_t leaf_users;  /* rules leaf-only through this pin-set alone (no live pins of their own) */
    size_t first_leaf;  /* the first of them, or SIZE_MAX */
    size_t alone_users; /* rules with no live pins of their own: their pins are the set's */
    size_t first_alone; /* the first of them, or SIZE_MAX */
    int alone_enforce;  /* one of them enforces */
};

/* ---- emitting ---- */

static void emit(struct lint_ctx *c, pinset_lint_severity sev, const char *id,
                 const struct pinset_rule *rule, const char *path, const char *fix, const char *fmt,
                 ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 7, 8)))
#endif
    ;

static void emit(struct lint_ctx *c, pinset_lint_severity sev, const char *id,
                 const struct pinset_rule *rule, const char *path, const char *fix, const char *fmt,
                 ...)
{
    struct pinset_lint_finding f;
    va_list ap;

    if (c->stopped) {
        return;
    }
    memset(&f, 0, sizeof(f));
    f.severity = sev;
    f.id = id;
    f.rule = rule != NULL ? rule->index : SIZE_MAX;
    f.host = rule != NULL ? pinset__policy_str(c->p, rule->host) : NULL;
    snprintf(f.path, sizeof(f.path), "%s", path);
    snprintf(f.fix, sizeof(f.fix), "%s", fix);
    va_start(ap, fmt);
    vsnprintf(f.message, sizeof(f.message), fmt, ap);
    va_end(ap);
    if (c->fn(&f, c->payload) != 0) {
        c->stopped = 1;
    }
}

/* ---- small helpers ---- */

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm), for messages. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    yoe = z - era * 146097;
    yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
    doy = (z - era * 146097) - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* A time as RFC 3339 UTC ("2026-11-27T15:30:14Z"). */
static void fmt_time(char *buf, size_t cap, int64_t t)
{
    int64_t days = t / SECONDS_PER_DAY, secs = t % SECONDS_PER_DAY, y;
    unsigned m, d;

    if (secs < 0) {
        secs += SECONDS_PER_DAY;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, cap, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d, (unsigned)(secs / 3600),
             (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
}

/* Whole days from now to t, rounded down (t >= now). */
static int64_t days_left(const struct lint_ctx *c, int64_t t)
{
    return (t - c->now) / SECONDS_PER_DAY;
}

/* As the verdict (verdict/check.c): a pin counts up to and including its not_after second. */
static int expired(const struct lint_ctx *c, int64_t not_after)
{
    return not_after != 0 && c->now > not_after;
}

/* As the verdict: a rule has expired from its expires second on. */
static int rule_expired(const struct lint_ctx *c, int64_t expires)
{
    return expires != 0 && c->now >= expires;
}

/* Not expired yet, but within the warning window. */
static int expiring(const struct lint_ctx *c, int64_t not_after)
{
    return not_after != 0 && not_after >= c->now && not_after - c->now <= c->warn;
}

static int same_pin(const pinset_pin *a, const pinset_pin *b)
{
    return pinset_pin_equal(a, b);
}

static size_t set_len(const struct pinset_rule *r)
{
    return r->pinset < 0 ? 0 : r->policy->pinsets[r->pinset].count;
}

/* The i-th pin of a rule: the pin-set's pins first, then its own (as the public getter). */
static const struct pinset__pin_entry *entry(const struct pinset_rule *r, size_t i)
{
    size_t n = set_len(r);

    if (i < n) {
        return &r->policy->pins[r->policy->pinsets[r->pinset].first + i];
    }
    return &r->policy->pins[r->pins_first + (i - n)];
}

/* Path of a rule's i-th pin: "pinsets.NAME[k]" or "rules[R].pins[k]". */
static void pin_path(char *buf, size_t cap, const struct pinset_rule *r, size_t i)
{
    size_t n = set_len(r);

    if (i < n) {
        snprintf(buf, cap, "pinsets.%s[%zu]",
                 pinset__policy_str(r->policy, r->policy->pinsets[r->pinset].name), i);
    } else {
        snprintf(buf, cap, "rules[%" PRIu32 "].pins[%zu]", r->index, i - n);
    }
}

static void pin_text(char *buf, size_t cap, const pinset_pin *pin)
{
    if (pinset_pin_format(buf, cap, pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        snprintf(buf, cap, "?");
    }
}

/* ---- pin-level rules: run once per pin entry (a pin-set's pins once, not per rule) ---- */

static void lint_pin_entry(struct lint_ctx *c, const struct pinset_rule *rule, const char *path,
                           const struct pinset__pin_entry *e)
{
    char when[32], pin[PINSET_PIN_STR_MAX];

    if (e->not_after == 0) {
        return;
    }
    fmt_time(when, sizeof(when), e->not_after);
    pin_text(pin, sizeof(pin), &e->pin);
    if (expired(c, e->not_after)) {
        emit(
            c, PINSET_LINT_WARNING, "pin-expired", rule, path,
            "remove the pin, or replace it with the key that took its place",
            "pin %s expired at %s and no longer counts: it matches nothing and does not count toward min_pins",
            pin, when);
    } else if (expiring(c, e->not_after)) {
        emit(c, PINSET_LINT_WARNING, "pin-expiring", rule, path,
             "add the successor key as a pin (role backup) and ship the policy before the date",
             "pin %s expires at %s, in %" PRId64 " days", pin, when, days_left(c, e->not_after));
    }
}

/*
 * Pairs of equal pins among a rule's first n pins, each reported at the later
 * entry of the pair, and only when that entry is at or after `later_from` (so
 * that a pin-set's own pairs are reported once, at the pin-set). `where` is
 * the rule a finding names, NULL for a pin-set.
 */
static void lint_pin_pairs(struct lint_ctx *c, const struct pinset_rule *rule,
                           const struct pinset_rule *where, size_t n, size_t later_from)
{
    char path[LINT_PATH_MAX], pin[PINSET_PIN_STR_MAX];

    for (size_t j = later_from; j < n && !c->stopped; j++) {
        const struct pinset__pin_entry *b = entry(rule, j);
        for (size_t i = 0; i < j; i++) {
            const struct pinset__pin_entry *a = entry(rule, i);
            int ab = a->role == PINSET_ROLE_BACKUP, bb = b->role == PINSET_ROLE_BACKUP;
            if (!same_pin(&a->pin, &b->pin)) {
                continue;
            }
            pin_path(path, sizeof(path), rule, j);
            pin_text(pin, sizeof(pin), &b->pin);
            if (ab != bb) {
                /* RFC 7469 §4.3: a backup pin must not be in the current chain */
                emit(
                    c, PINSET_LINT_ERROR, "backup-pin-is-current", where, path,
                    "generate a new key pair, keep it offline, and pin that key as the backup",
                    "pin %s is listed both as backup and as a current (%s) pin, so the rule has no key to rotate to (RFC 7469 section 4.3)",
                    pin, pinset_role_name((pinset_role)(ab ? b->role : a->role)));
            } else {
                emit(c, PINSET_LINT_WARNING, "duplicate-pin", where, path,
                     "remove the repeated pin",
                     "pin %s is listed twice; it counts once toward min_pins", pin);
            }
            break; /* one finding per later entry */
        }
    }
}

/*
 * Leaf-only in the sense that breaks at a rotation: some current pin, every
 * current pin for a leaf, and no backup to rotate to (docs/lint-rules.md).
 */
static int leaf_only(size_t current, size_t leaf, size_t backup)
{
    return current > 0 && current == leaf && backup == 0;
}

/* How many of a rule's own pins (not its pin-set's) are unexpired. */
static size_t own_live(const struct lint_ctx *c, const struct pinset_rule *r)
{
    size_t n = 0;

    for (size_t j = set_len(r); j < set_len(r) + r->pins_count; j++) {
        n += !expired(c, entry(r, j)->not_after);
    }
    return n;
}

/* ---- pin-sets ---- */

static void summarise_set(struct lint_ctx *c, const struct pinset__pinset *s,
                          struct set_summary *out)
{
    const pinset_policy *p = c->p;

    out->live = out->live_backup = out->live_current = out->live_leaf = 0;
    for (size_t j = 0; j < s->count; j++) {
        const struct pinset__pin_entry *b = &p->pins[s->first + j];
        int dup = 0;
        if (expired(c, b->not_after)) {
            continue;
        }
        for (size_t i = 0; i < j && !dup; i++) {
            const struct pinset__pin_entry *a = &p->pins[s->first + i];
            dup = !expired(c, a->not_after) && same_pin(&a->pin, &b->pin);
        }
        out->live += !dup;
        if (b->role == PINSET_ROLE_BACKUP) {
            out->live_backup++;
        } else {
            out->live_current++;
            out->live_leaf += b->role == PINSET_ROLE_LEAF;
        }
    }
}

/*
 * Which rules rely on their pin-set alone (no live pins of their own): what is
 * wrong with the pin-set (no backup, leaf-only) is reported once, at the pin-set.
 */
static void count_leaf_users(struct lint_ctx *c, struct set_summary *sums)
{
    const pinset_policy *p = c->p;

    for (size_t r = 0; r < p->nrules; r++) {
        const struct pinset_rule *rule = &p->rules[r];
        struct set_summary *s;
        if (rule->pinset < 0 || (rule->flags & RULE_F_EXCLUDE) != 0 || own_live(c, rule) > 0) {
            continue;
        }
        s = &sums[rule->pinset];
        if (s->alone_users++ == 0) {
            s->first_alone = r;
        }
        s->alone_enforce |= rule->mode == PINSET_MODE_ENFORCE;
        if (!leaf_only(s->live_current, s->live_leaf, s->live_backup)) {
            continue;
        }
        if (s->leaf_users++ == 0) {
            s->first_leaf = r;
        }
    }
}

/* The rule-level no-backup-pin (lint_pin_counts), said once for the rules that rely on a pin-set.
 */
static void lint_set_no_backup(struct lint_ctx *c, const char *name, const struct set_summary *s)
{
    char path[LINT_PATH_MAX];
    int certain = s->live < 2;

    if (s->alone_users == 0 || s->live_backup > 0 || s->live == 0) {
        return;
    }
    snprintf(path, sizeof(path), "pinsets.%s", name);
    emit(
        c, certain && s->alone_enforce ? PINSET_LINT_ERROR : PINSET_LINT_WARNING, "no-backup-pin",
        NULL, path,
        "generate a spare key pair, keep it offline, and add its spki pin with role backup",
        certain
            ? "pin-set '%s' has no backup pin and only %zu distinct unexpired pin%s, and %zu rule%s rel%s on it alone (the first is rules[%zu], '%.253s'): the first key rotation locks clients out (RFC 7469 section 4.3)"
            : "no pin of pin-set '%s' has role backup (%zu distinct unexpired pin%s; pinset cannot tell offline whether one is a key outside the live chain), and %zu rule%s rel%s on it alone (the first is rules[%zu], '%.253s') (RFC 7469 section 4.3)",
        name, s->live, s->live == 1 ? "" : "s", s->alone_users, s->alone_users == 1 ? "" : "s",
        s->alone_users == 1 ? "ies" : "y", s->first_alone,
        pinset__policy_str(c->p, c->p->rules[s->first_alone].host));
}

static void lint_set_leaf_only(struct lint_ctx *c, const char *name, const struct set_summary *s)
{
    char path[LINT_PATH_MAX];

    if (s->leaf_users == 0) {
        return;
    }
    snprintf(path, sizeof(path), "pinsets.%s", name);
    emit(
        c, PINSET_LINT_WARNING, "leaf-only-pinning", NULL, path,
        "pin the issuing ca key (role ca) as well, or add a backup pin (role backup) for the next leaf key",
        "every current pin of pin-set '%s' has role leaf and none has role backup, and %zu rule%s rel%s on it alone (the first is rules[%zu], '%.253s'): leaf-only pinning breaks at every key rotation, and short-lived certificates such as 90-day acme certificates rotate often",
        name, s->leaf_users, s->leaf_users == 1 ? "" : "s", s->leaf_users == 1 ? "ies" : "y",
        s->first_leaf, pinset__policy_str(c->p, c->p->rules[s->first_leaf].host));
}

static void lint_sets(struct lint_ctx *c, struct set_summary *sums)
{
    const pinset_policy *p = c->p;
    char path[LINT_PATH_MAX];

    for (size_t k = 0; k < p->npinsets; k++) {
        sums[k].first_user = sums[k].first_leaf = sums[k].first_alone = SIZE_MAX;
        sums[k].leaf_users = sums[k].alone_users = 0;
        sums[k].alone_enforce = 0;
        summarise_set(c, &p->pinsets[k], &sums[k]);
    }
    for (size_t r = p->nrules; r-- > 0;) {
        if (p->rules[r].pinset >= 0) {
            sums[p->rules[r].pinset].first_user = r;
        }
    }
    count_leaf_users(c, sums);
    for (size_t k = 0; k < p->npinsets && !c->stopped; k++) {
        const struct pinset__pinset *s = &p->pinsets[k];
        const char *name = pinset__policy_str(p, s->name);
        if (sums[k].first_user == SIZE_MAX) {
            snprintf(path, sizeof(path), "pinsets.%s", name);
            emit(c, PINSET_LINT_INFO, "unused-pinset", NULL, path,
                 "remove the pin-set, or name it in the rules it was meant for",
                 "pin-set '%s' is not named by any rule", name);
        }
        lint_set_no_backup(c, name, &sums[k]);
        lint_set_leaf_only(c, name, &sums[k]);
        for (size_t i = 0; i < s->count; i++) {
            snprintf(path, sizeof(path), "pinsets.%s[%zu]", name, i);
            lint_pin_entry(c, NULL, path, &p->pins[s->first + i]);
        }
    }
    /* pairs inside a used pin-set: through the first rule that names it, reported once */
    for (size_t k = 0; k < p->npinsets && !c->stopped; k++) {
        if (sums[k].first_user != SIZE_MAX) {
            lint_pin_pairs(c, &p->rules[sums[k].first_user], NULL, p->pinsets[k].count, 1);
        }
    }
}

/* ---- rule-level rules ---- */

/* Counts over a rule's live pins: the pin-set's summary plus its own pins. */
struct rule_counts {
    size_t live, backup, current, leaf;
};

static void count_rule(struct lint_ctx *c, const struct pinset_rule *r,
                       const struct set_summary *sums, struct rule_counts *out)
{
    size_t n = set_len(r), total = n + r->pins_count;

    memset(out, 0, sizeof(*out));
    if (r->pinset >= 0) {
        const struct set_summary *s = &sums[r->pinset];
        out->live = s->live;
        out->backup = s->live_backup;
        out->current = s->live_current;
        out->leaf = s->live_leaf;
    }
    for (size_t j = n; j < total; j++) {
        const struct pinset__pin_entry *b = entry(r, j);
        int dup = 0;
        if (expired(c, b->not_after)) {
            continue;
        }
        for (size_t i = 0; i < j && !dup; i++) {
            const struct pinset__pin_entry *a = entry(r, i);
            dup = !expired(c, a->not_after) && same_pin(&a->pin, &b->pin);
        }
        out->live += !dup;
        if (b->role == PINSET_ROLE_BACKUP) {
            out->backup++;
        } else {
            out->current++;
            out->leaf += b->role == PINSET_ROLE_LEAF;
        }
    }
}

static void lint_pin_counts(struct lint_ctx *c, const struct pinset_rule *r, const char *path,
                            const struct rule_counts *k)
{
    int enforce = r->mode == PINSET_MODE_ENFORCE;

    if (k->live == 0) {
        /* verdict/check.c: a rule with no pin that counts matches no chain */
        emit(c, enforce ? PINSET_LINT_ERROR : PINSET_LINT_WARNING, "too-few-pins", r, path,
             "add the pins of the keys the host uses, plus a backup pin",
             "the rule has no unexpired pin: every chain fails it%s",
             enforce ? ", so clients refuse the host" : "");
    } else if (r->min_pins > 0 && k->live < r->min_pins) {
        emit(
            c, enforce ? PINSET_LINT_ERROR : PINSET_LINT_WARNING, "too-few-pins", r, path,
            "add pins (at least one for a key that is not deployed yet, role backup) or lower min_pins",
            "the rule has %zu distinct unexpired pin%s but min_pins is %u", k->live,
            k->live == 1 ? "" : "s", (unsigned)r->min_pins);
    }
    /*
     * RFC 7469 §4.3: at least one pin must be for a key outside the current
     * chain. Offline, only a pin declared with role backup says so. With a
     * single distinct pin there is certainly no spare key: an error when
     * enforcing. With two or more, one may be a spare not marked as such.
     * With none, too-few-pins has said it all.
     */
    /* a rule with no live pin of its own takes its pin-set's: reported there (lint_set_no_backup)
     */
    if (k->backup == 0 && k->live > 0 && (r->pinset < 0 || own_live(c, r) > 0)) {
        int certain = k->live < 2;
        emit(
            c, certain && enforce ? PINSET_LINT_ERROR : PINSET_LINT_WARNING, "no-backup-pin", r,
            path,
            "generate a spare key pair, keep it offline, and add its spki pin with role backup",
            certain
                ? "the rule has no backup pin and only %zu distinct unexpired pin%s: the first key rotation locks clients out (RFC 7469 section 4.3)"
                : "no pin has role backup; pinset cannot tell offline whether any of the %zu pin%s is a key outside the live chain (RFC 7469 section 4.3)",
            k->live, k->live == 1 ? "" : "s");
    }
    /* a rule with no live pin of its own is leaf-only through its pin-set: reported there */
    if (leaf_only(k->current, k->leaf, k->backup) && (r->pinset < 0 || own_live(c, r) > 0)) {
        emit(
            c, PINSET_LINT_WARNING, "leaf-only-pinning", r, path,
            "pin the issuing ca key (role ca) as well, or add a backup pin (role backup) for the next leaf key",
            "every current pin has role leaf and none has role backup: leaf-only pinning breaks at every key rotation, and short-lived certificates such as 90-day acme certificates rotate often");
    }
}

static void lint_blocked(struct lint_ctx *c, const struct pinset_rule *r)
{
    const pinset_policy *p = c->p;
    size_t n = set_len(r) + r->pins_count;
    char ppath[LINT_PATH_MAX], pin[PINSET_PIN_STR_MAX];

    for (size_t b = 0; b < r->blocked_count && !c->stopped; b++) {
        const pinset_pin *bp = &p->blocked[r->blocked_first + b];
        for (size_t i = 0; i < n; i++) {
            if (!same_pin(&entry(r, i)->pin, bp)) {
                continue;
            }
            pin_path(ppath, sizeof(ppath), r, i);
            pin_text(pin, sizeof(pin), bp);
            emit(c, PINSET_LINT_ERROR, "pin-blocked", r, ppath,
                 "remove the key from either pins or blocked",
                 "pin %s is also blocked by rules[%" PRIu32
                 "].blocked[%zu]: a chain with this key always fails the rule",
                 pin, r->index, b);
            break;
        }
    }
}

static void lint_expiry(struct lint_ctx *c, const struct pinset_rule *r)
{
    char path[LINT_PATH_MAX], when[32];

    if (r->expires == 0) {
        return;
    }
    snprintf(path, sizeof(path), "rules[%" PRIu32 "].expires", r->index);
    fmt_time(when, sizeof(when), r->expires);
    if (rule_expired(c, r->expires)) {
        int closed = r->on_expiry == PINSET_ON_EXPIRY_FAIL_CLOSED;
        emit(
            c, closed ? PINSET_LINT_ERROR : PINSET_LINT_WARNING, "rule-expired", r, path,
            "review the pins and ship the policy with a new expires date",
            closed
                ? "the rule expired at %s and on_expiry is fail-closed: clients keep enforcing pins nobody vouches for any more, and refuse the host after a key change"
                : "the rule expired at %s: with on_expiry %s its pins are no longer enforced",
            when, r->on_expiry == PINSET_ON_EXPIRY_REPORT ? "report" : "fail-open");
        return;
    }
    if (expiring(c, r->expires)) {
        emit(c, PINSET_LINT_WARNING, "rule-expiring", r, path,
             "review the pins and ship the policy with a later expires date",
             "the rule expires at %s, in %" PRId64 " days", when, days_left(c, r->expires));
    }
    if (r->on_expiry == PINSET_ON_EXPIRY_FAIL_CLOSED) {
        snprintf(path, sizeof(path), "rules[%" PRIu32 "].on_expiry", r->index);
        emit(
            c, PINSET_LINT_WARNING, "fail-closed-expiry", r, path,
            "use on_expiry fail-open or report unless every client is sure to update in time",
            "on_expiry fail-closed with expires %s: a client that misses the next policy keeps enforcing these pins after that date, whatever the rule's mode, and is locked out when the keys change",
            when);
    }
}

static void lint_public_suffix(struct lint_ctx *c, const struct pinset_rule *r)
{
    const psl_ctx_t *psl;
    char path[LINT_PATH_MAX];
    const char *host = pinset__policy_str(c->p, r->host);

    if ((r->flags & RULE_F_EXCLUDE) != 0 || r->host_type != PINSET_HOST_DNS) {
        return;
    }
    psl = psl_builtin();
    if (psl == NULL) {
        return;
    }
    /*
     * Both sections of the list (ICANN and private: github.io), as TrustKit
     * refuses a domain that is a suffix of either, but not the implicit "*"
     * rule, so that an internal single-label name (corp) is not taken for a
     * public suffix.
     */
    if (!psl_is_public_suffix2(psl, host, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)) {
        return;
    }
    if ((r->flags & (RULE_F_SUBDOMAINS | RULE_F_ONE_LABEL)) != 0) {
        /* a one-label rule on a suffix pins every domain registered directly under it */
        snprintf(path, sizeof(path), "rules[%" PRIu32 "].include_subdomains", r->index);
        emit(
            c, PINSET_LINT_ERROR, "public-suffix-subdomains", r, path,
            "pin each registrable domain you control in its own rule",
            "'%s' is a public suffix: include_subdomains pins every domain registered under it, including other owners' sites",
            host);
        return;
    }
    snprintf(path, sizeof(path), "rules[%" PRIu32 "].host", r->index);
    emit(
        c, PINSET_LINT_ERROR, "public-suffix-host", r, path,
        "pin each registrable domain you control (such as example.co.uk, not co.uk) in its own rule",
        "'%s' is a public suffix, under which many owners register their domains: a rule for the suffix itself pins none of them, and is most likely meant for a domain registered under it",
        host);
}

/* ---- report URIs ---- */

static void lint_uri_host(struct lint_ctx *c, const struct pinset_rule *r, const char *path,
                          const char *uri, const char *host)
{
    const pinset_rule *hit;
    pinset_match how = PINSET_MATCH_NONE;

    hit = pinset_policy_lookup(c->p, host, strlen(host), &how);
    if (hit == NULL || (how != PINSET_MATCH_EXACT && how != PINSET_MATCH_SUBDOMAIN)) {
        return;
    }
    /*
     * RFC 7469 §2.1.4: a report to a pinned host must itself pass pin
     * validation, so an interception or a key change that breaks the pins
     * also swallows the report about it.
     */
    if (hit->mode == PINSET_MODE_ENFORCE) {
        emit(
            c, PINSET_LINT_ERROR, "report-uri-pinned-host", r, path,
            "send reports to a host that this policy does not pin",
            "report uri %.200s is on '%.253s', which rules[%" PRIu32
            "] pins in enforce mode: a client whose pin check fails there cannot deliver the report",
            uri, host, hit->index);
    } else {
        emit(
            c, PINSET_LINT_WARNING, "report-uri-pinned-host", r, path,
            "send reports to a host that this policy does not pin",
            "report uri %.200s is on '%.253s', which rules[%" PRIu32
            "] pins in report mode: once that rule enforces, a client whose pin check fails there cannot deliver the report",
            uri, host, hit->index);
    }
}

/* One report URI, checked against the grammar of docs/lint-rules.md (policy/uri.c). */
static void lint_uri(struct lint_ctx *c, const struct pinset_rule *r, size_t i)
{
    const char *uri = pinset__policy_str(c->p, c->p->uris[r->uris_first + i]);
    char path[LINT_PATH_MAX];
    struct pinset__uri u;
    pinset_diag why = PINSET_DIAG_INIT;

    snprintf(path, sizeof(path), "rules[%" PRIu32 "].report_uris[%zu]", r->index, i);
    if (pinset__uri_parse(&u, uri, strlen(uri), &why) != PINSET_OK) {
        emit(c, PINSET_LINT_ERROR, "report-uri-invalid", r, path,
             "write an absolute https url, e.g. https://reports.example.net/pinset",
             "report uri '%.200s' is not a usable url: %s%s%zu", uri, why.message,
             why.has_offset ? " at offset " : "", why.has_offset ? why.offset : (size_t)0);
        return;
    }
    if (!u.https) {
        emit(
            c, PINSET_LINT_WARNING, "report-uri-not-https", r, path, "use an https url",
            "report uri %.200s uses http: reports travel in clear text, and whoever intercepts the connection can read or drop them",
            uri);
    }
    lint_uri_host(c, r, path, uri, u.host);
}

static pinset_err lint_uris(struct lint_ctx *c, const struct pinset_rule *r)
{
    for (size_t i = 0; i < r->uris_count && !c->stopped; i++) {
        lint_uri(c, r, i);
    }
    return PINSET_OK;
}

/* ---- redundant rules ---- */

/*
 * The rule lookup would find for all of r's names without r: for an exact
 * rule, the immediate parent's one-label rule, else the nearest proper
 * parent with include_subdomains; for an include_subdomains rule, that
 * parent only (a one-label rule covers none of its subtree); for a one-label
 * rule (its names are its host's children), its own host's
 * include_subdomains rule, else that parent.
 */
static const struct pinset_rule *parent_of(const pinset_policy *p, const struct pinset_rule *r)
{
    const char *host = pinset__policy_str(p, r->host);
    int exact = (r->flags & (RULE_F_SUBDOMAINS | RULE_F_ONE_LABEL)) == 0;
    const struct pinset_rule *q;

    if (r->host_type != PINSET_HOST_DNS) {
        return NULL;
    }
    if ((r->flags & RULE_F_ONE_LABEL) != 0) {
        q = pinset__policy_find(p, host, r->host_len);
        if (q != NULL && (q->flags & RULE_F_SUBDOMAINS) != 0) {
            return q;
        }
    }
    for (size_t i = 0; i < r->host_len; i++) {
        if (host[i] != '.') {
            continue;
        }
        if ((r->flags & RULE_F_SUBDOMAINS) != 0 &&
            pinset__policy_find_one_label(p, host + i + 1, r->host_len - i - 1) != NULL) {
            /*
             * Without the rule, its own host would fall to the parent's one-label
             * rule and its subtree to another: no one rule takes its place.
             */
            return NULL;
        }
        if (exact) {
            exact = 0; /* only the immediate parent's one-label rule covers the host */
            q = pinset__policy_find_one_label(p, host + i + 1, r->host_len - i - 1);
            if (q != NULL) {
                return q;
            }
        }
        q = pinset__policy_find(p, host + i + 1, r->host_len - i - 1);
        if (q != NULL && (q->flags & RULE_F_SUBDOMAINS) != 0) {
            return q;
        }
    }
    return NULL;
}

static int entry_equal(const struct pinset__pin_entry *a, const struct pinset__pin_entry *b)
{
    return a->role == b->role && a->not_after == b->not_after && same_pin(&a->pin, &b->pin);
}

/* Every pin entry of a is in b (as a set). */
static int pins_within(const struct pinset_rule *a, const struct pinset_rule *b)
{
    size_t na = set_len(a) + a->pins_count, nb = set_len(b) + b->pins_count;

    for (size_t i = 0; i < na; i++) {
        int found = 0;
        for (size_t j = 0; j < nb && !found; j++) {
            found = entry_equal(entry(a, i), entry(b, j));
        }
        if (!found) {
            return 0;
        }
    }
    return 1;
}

static int same_lists(const pinset_policy *p, const struct pinset_rule *a,
                      const struct pinset_rule *b)
{
    if (a->blocked_count != b->blocked_count || a->uris_count != b->uris_count) {
        return 0;
    }
    for (size_t i = 0; i < a->blocked_count; i++) {
        if (!same_pin(&p->blocked[a->blocked_first + i], &p->blocked[b->blocked_first + i])) {
            return 0;
        }
    }
    for (size_t i = 0; i < a->uris_count; i++) {
        if (strcmp(pinset__policy_str(p, p->uris[a->uris_first + i]),
                   pinset__policy_str(p, p->uris[b->uris_first + i])) != 0) {
            return 0;
        }
    }
    if (a->pinset == b->pinset && a->pins_count == 0 && b->pins_count == 0) {
        return 1;
    }
    return pins_within(a, b) && pins_within(b, a);
}

static void lint_redundant(struct lint_ctx *c, const struct pinset_rule *r, const char *path)
{
    const struct pinset_rule *q;

    if ((r->flags & RULE_F_EXCLUDE) != 0) {
        return;
    }
    q = parent_of(c->p, r);
    if (q == NULL || (q->flags & RULE_F_EXCLUDE) != 0) {
        return;
    }
    if (q->mode != r->mode || q->on_expiry != r->on_expiry || q->expires != r->expires ||
        q->min_pins != r->min_pins || !same_lists(c->p, r, q)) {
        return;
    }
    emit(c, PINSET_LINT_INFO, "redundant-rule", r, path,
         "remove the rule; its parent already covers the host",
         "the rule for '%s%s' gives exactly what rules[%" PRIu32 "] ('%s%s'%s) already gives it",
         (r->flags & RULE_F_ONE_LABEL) != 0 ? "*." : "", pinset__policy_str(c->p, r->host),
         q->index, (q->flags & RULE_F_ONE_LABEL) != 0 ? "*." : "",
         pinset__policy_str(c->p, q->host),
         (q->flags & RULE_F_ONE_LABEL) != 0 ? "" : ", include_subdomains");
}

/* ---- the policy as a whole ---- */

static void lint_policy(struct lint_ctx *c)
{
    if (c->p->nrules > 0) {
        return;
    }
    /* TrustKit refuses a configuration without pinned domains for the same reason */
    emit(
        c, PINSET_LINT_ERROR, "no-rules", NULL, "rules",
        "add a rule for each host the policy is meant to pin",
        "the policy has no rules: it pins no host, so a client that ships it checks no connection at all");
}

/* ---- the run ---- */

static pinset_err lint_rule(struct lint_ctx *c, const struct pinset_rule *r,
                            const struct set_summary *sums)
{
    char path[LINT_PATH_MAX];
    struct rule_counts k;

    snprintf(path, sizeof(path), "rules[%" PRIu32 "]", r->index);
    if ((r->flags & RULE_F_EXCLUDE) != 0) {
        return PINSET_OK; /* an exclusion holds nothing else; the parser checked its parent */
    }
    for (size_t i = set_len(r); i < set_len(r) + r->pins_count; i++) {
        char ppath[LINT_PATH_MAX];
        pin_path(ppath, sizeof(ppath), r, i);
        lint_pin_entry(c, r, ppath, entry(r, i));
    }
    lint_pin_pairs(c, r, r, set_len(r) + r->pins_count, set_len(r) > 0 ? set_len(r) : 1);
    count_rule(c, r, sums, &k);
    lint_pin_counts(c, r, path, &k);
    lint_blocked(c, r);
    lint_expiry(c, r);
    lint_public_suffix(c, r);
    lint_redundant(c, r, path);
    return lint_uris(c, r);
}

pinset_err pinset_lint_run(const pinset_policy *policy, const pinset_lint_options *opts,
                           pinset_lint_fn fn, void *payload, pinset_diag *diag)
{
    pinset_lint_options defaults = PINSET_LINT_OPTIONS_INIT;
    struct lint_ctx c;
    struct set_summary *sums = NULL;
    pinset_err err = PINSET_OK;

    if (policy == NULL || fn == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "lint needs a policy and a callback");
    }
    if (opts == NULL) {
        opts = &defaults;
    }
    if (opts->version != PINSET_LINT_OPTIONS_VERSION) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "unknown lint options version %u",
                           opts->version);
    }
    if (opts->warn_days > MAX_WARN_DAYS) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "warn_days %u is over the limit of %u",
                           opts->warn_days, MAX_WARN_DAYS);
    }
    memset(&c, 0, sizeof(c));
    c.p = policy;
    c.now = opts->now != 0 ? opts->now : (int64_t)time(NULL);
    c.warn = (int64_t)opts->warn_days * SECONDS_PER_DAY;
    c.fn = fn;
    c.payload = payload;
    if (policy->npinsets > 0) {
        sums = pinset__alloc_array(policy->npinsets, sizeof(*sums));
        if (sums == NULL) {
            return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory linting the policy");
        }
    }
    lint_sets(&c, sums);
    lint_policy(&c);
    for (size_t i = 0; i < policy->nrules && !c.stopped && err == PINSET_OK; i++) {
        err = lint_rule(&c, &policy->rules[i], sums);
    }
    pinset__free(sums);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory linting the policy");
    }
    if (c.stopped) {
        return PINSET_DIAG(diag, PINSET_E_IO, "the lint callback stopped the run");
    }
    return PINSET_OK;
}

/* ---- getters ---- */

pinset_lint_severity pinset_lint_finding_severity(const pinset_lint_finding *finding)
{
    return finding == NULL ? PINSET_LINT_INFO : finding->severity;
}

const char *pinset_lint_finding_id(const pinset_lint_finding *finding)
{
    return finding == NULL ? NULL : finding->id;
}

const char *pinset_lint_finding_path(const pinset_lint_finding *finding)
{
    return finding == NULL ? NULL : finding->path;
}

const char *pinset_lint_finding_message(const pinset_lint_finding *finding)
{
    return finding == NULL ? NULL : finding->message;
}

const char *pinset_lint_finding_fix(const pinset_lint_finding *finding)
{
    return finding == NULL ? NULL : finding->fix;
}

size_t pinset_lint_finding_rule(const pinset_lint_finding *finding)
{
    return finding == NULL ? SIZE_MAX : finding->rule;
}

const char *pinset_lint_finding_host(const pinset_lint_finding *finding)
{
    return finding == NULL ? NULL : finding->host;
}

const char *pinset_lint_severity_name(pinset_lint_severity severity)
{
    switch (severity) {
    case PINSET_LINT_INFO:
        return "info";
    case PINSET_LINT_WARNING:
        return "warning";
    case PINSET_LINT_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

const char *pinset_lint_rule_id(size_t i)
{
    return i < PINSET_ARRAY_SIZE(rule_ids) ? rule_ids[i] : NULL;
}
