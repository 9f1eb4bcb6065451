/*
 * android_out.c - the one model out as an Android Network Security Config:
 * one <network-security-config> with a <domain-config> per rule (its
 * <domain includeSubdomains>, and a <pin-set> with the rule's key pins and
 * the expiration date). An exclusion is a <domain-config> with an empty
 * <pin-set/>, which turns pinning off for its domain as Android reads it.
 *
 * What the format cannot say is listed in the fidelity list: report-only
 * mode (written unpinned: Android would enforce), certificate pins and
 * roles, blocked pins, per-pin expiry, labels, min_pins, report URIs,
 * on_expiry other than fail-open, the one-label scope, and the local-date
 * reading of the expiration. Text is escaped by xml_text (expat writes
 * nothing), though canonical hosts, pins and dates hold no character that
 * needs it.
 */
#include <stdio.h>

#include "util/rfc3339.h"
#include "xf.h"

struct aout {
    pinset_fidelity *f;
    const pinset_rule *r;
    size_t index;
    const char *host;
    struct pinset__buf *out;
    pinset_err err;
};

static void put(struct aout *o, const char *s)
{
    if (o->err == PINSET_OK) {
        o->err = pinset__buf_append(o->out, s, strlen(s));
    }
}

/* XML character data or an attribute value: &, <, >, " and ' escaped. */
static void xml_text(struct aout *o, const char *s)
{
    for (; *s != '\0' && o->err == PINSET_OK; s++) {
        switch (*s) {
        case '&':
            put(o, "&amp;");
            break;
        case '<':
            put(o, "&lt;");
            break;
        case '>':
            put(o, "&gt;");
            break;
        case '"':
            put(o, "&quot;");
            break;
        case '\'':
            put(o, "&apos;");
            break;
        default:
            o->err = pinset__buf_append(o->out, s, 1);
        }
    }
}

static void lose(struct aout *o, const char *field, const char *reason)
{
    if (o->err == PINSET_OK) {
        o->err = pinset_fidelity_add(o->f, o->index, o->host, field, reason);
    }
}

/* The pins Android can hold (SPKI, any role); what it cannot, listed. Returns how many. */
static size_t pins(struct aout *o, int write)
{
    char b64[PINSET_PIN_STR_MAX], field[48];
    size_t n = 0;

    for (size_t i = 0; i < pinset_rule_pin_count(o->r) && o->err == PINSET_OK; i++) {
        const pinset_pin *p = pinset_rule_pin(o->r, i);
        pinset_role role = pinset_rule_pin_role(o->r, i);
        if (p->kind != PINSET_PIN_SPKI) {
            if (write) {
                (void)snprintf(field, sizeof(field), "pins[%zu]", i);
                lose(o, field, "Android pins are key (SPKI) hashes: a cert pin is not written");
            }
            continue;
        }
        n++;
        if (!write) {
            continue;
        }
        if (role == PINSET_ROLE_LEAF || role == PINSET_ROLE_CA) {
            (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
            lose(o, field,
                 role == PINSET_ROLE_LEAF
                     ? "Android matches a pin anywhere in the chain: the role 'leaf' is not kept"
                     : "Android matches a pin anywhere in the chain: the role 'ca' is not kept");
        } else if (role == PINSET_ROLE_BACKUP) {
            (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
            lose(o, field, "Android has no backup pins: written as an ordinary pin");
        }
        if (pinset_rule_pin_not_after(o->r, i) != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].not_after", i);
            lose(o, field, "Android has no expiry for one pin: the pin is kept without it");
        }
        if (pinset_rule_pin_label(o->r, i) != NULL) {
            (void)snprintf(field, sizeof(field), "pins[%zu].label", i);
            lose(o, field, "Android pins have no labels");
        }
        if (o->err == PINSET_OK) {
            o->err = pinset_pin_format(b64, sizeof(b64), p, PINSET_PIN_FMT_BASE64);
        }
        put(o, "      <pin digest=\"SHA-256\">");
        xml_text(o, b64);
        put(o, "</pin>\n");
    }
    return n;
}

/* The expiration attribute, or none (fail-closed keeps enforcing: no date). */
static void expiration(struct aout *o)
{
    int64_t t = pinset_rule_expires(o->r), y;
    pinset_on_expiry on = pinset_rule_on_expiry(o->r);
    unsigned m, d;
    char date[32];

    if (t == 0) {
        return;
    }
    if (on == PINSET_ON_EXPIRY_FAIL_CLOSED) {
        lose(o, "on_expiry",
             "Android stops checking the pins after its expiration date: 'fail-closed' is kept "
             "by writing no expiration (the pins never expire)");
        return;
    }
    if (on != PINSET_ON_EXPIRY_FAIL_OPEN) {
        lose(o, "on_expiry",
             "Android stops checking the pins after its expiration date (fail-open): 'report' "
             "is not kept");
    }
    /* midnight starting the day: never later than the model says */
    pinset__civil_from_days(t / 86400, &y, &m, &d);
    (void)snprintf(date, sizeof(date), "%04lld-%02u-%02u", (long long)y, m, d);
    lose(o, "expires",
         t % 86400 != 0 ? "Android's expiration is a date, read in the device's time zone: "
                          "written as the day the rule expires, so pinning stops up to a day "
                          "early (or up to 14 hours off by time zone)"
                        : "Android's expiration is a date, read in the device's time zone: "
                          "pinning stops up to 14 hours off the UTC midnight");
    put(o, " expiration=\"");
    xml_text(o, date);
    put(o, "\"");
}

static void settings(struct aout *o)
{
    size_t def = pinset_rule_mode(o->r) == PINSET_MODE_ENFORCE ? 2 : 1;
    const char *name = pinset_rule_pinset_name(o->r);

    if (name != NULL) {
        char why[160];
        (void)snprintf(why, sizeof(why),
                       "Android's pin-sets have no names: the pins of '%.64s' are written in the "
                       "rule's own <pin-set>",
                       name);
        lose(o, "pinset", why);
    }
    if (pinset_rule_blocked_count(o->r) > 0) {
        lose(o, "blocked", "Android has no blocked pins: not written");
    }
    if (pinset_rule_report_uri_count(o->r) > 0) {
        lose(o, "report_uris", "Android's Network Security Config sends no reports");
    }
    if (pinset_rule_min_pins(o->r) != def) {
        lose(o, "min_pins", "Android has no pin threshold");
    }
}

static void rule(struct aout *o)
{
    int excl = pinset_rule_is_exclusion(o->r);
    int report = !excl && pinset_rule_mode(o->r) == PINSET_MODE_REPORT;
    size_t n = excl || report ? 0 : pins(o, 0);

    if (pinset_rule_scope(o->r) == PINSET_SCOPE_ONE_LABEL) {
        lose(o, "include_subdomains",
             "Android has no one-label scope: the rule is not written, so the names one label "
             "below its host are not pinned by it");
        return;
    }
    put(o, "  <domain-config>\n    <domain includeSubdomains=\"");
    put(o, pinset_rule_include_subdomains(o->r) ? "true" : "false");
    put(o, "\">");
    xml_text(o, o->host);
    put(o, "</domain>\n");
    if (report) {
        lose(o, "mode",
             "Android has no report-only mode: written with an empty pin-set (not pinned), "
             "since Android would enforce the pins");
    } else if (!excl && n == 0) {
        lose(o, "pins",
             "no key pin Android can hold: written with an empty pin-set, so Android does not "
             "pin the host");
        (void)pins(o, 1);
    }
    if (excl || n == 0) {
        put(o, "    <pin-set />\n  </domain-config>\n");
        if (!excl) {
            settings(o);
        }
        return;
    }
    put(o, "    <pin-set");
    expiration(o);
    put(o, ">\n");
    (void)pins(o, 1);
    put(o, "    </pin-set>\n  </domain-config>\n");
    settings(o);
}

pinset_err xf_android_export(pinset_fidelity *f, const pinset_policy *p,
                             const pinset_convert_options *opts, struct pinset__buf *out,
                             pinset_diag *diag)
{
    struct aout o = {f, NULL, 0, NULL, out, PINSET_OK};

    (void)opts; /* every rule is written */
    put(&o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<network-security-config>\n");
    for (size_t i = 0; i < pinset_policy_rule_count(p) && o.err == PINSET_OK; i++) {
        o.r = pinset_policy_rule(p, i);
        o.index = pinset_rule_index(o.r);
        o.host = pinset_rule_host(o.r);
        rule(&o);
    }
    put(&o, "</network-security-config>\n");
    if (o.err == PINSET_E_LIMIT) {
        return PINSET_DIAG(diag, o.err, "the document would exceed %zu octets", XF_MAX_DOC);
    }
    return o.err == PINSET_OK ? PINSET_OK : PINSET_DIAG(diag, o.err, "%s", pinset_strerror(o.err));
}
