/*
 * parse_rule.c - the parts of a native policy document: pins, blocked pins,
 * report URIs, named pin-sets and rules (docs/policy-format.md). The
 * document level, the failure path and the typed readers are in parse.c.
 */
#include <stdio.h>

#include <pinset/policy.h>

#include "policy/names.h"
#include "policy/parse.h"

/* ---- pins ---- */

static pinset_err parse_sha256(struct pctx *c, const json_t *v, pinset_pin_kind kind,
                               pinset_pin *out)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = pinset__pj_want(c, v, JSON_STRING, "a sha-256 pin string");

    if (err != PINSET_OK) {
        return err;
    }
    err = pinset_pin_parse(out, json_string_value(v), json_string_length(v), kind, &d);
    if (err != PINSET_OK) {
        return pinset__pj_fail(c, err, "%s",
                               d.message[0] != '\0' ? d.message : pinset_strerror(err));
    }
    return PINSET_OK;
}

#define PIN_KEYS     "sha256, kind, role, label, not_after"
#define BLOCKED_KEYS "sha256, kind"

/*
 * One pin: a string (any pin text form; kind spki, role any) or an object.
 * `blocked` restricts the object to sha256 and kind.
 */
static pinset_err parse_pin(struct pctx *c, json_t *v, int blocked, struct pinset__pin_entry *out)
{
    const json_t *sha = NULL, *val;
    const char *key;
    pinset_err err = PINSET_OK;
    int kind = PINSET_PIN_SPKI, role = PINSET_ROLE_ANY;

    memset(out, 0, sizeof(*out));
    if (json_is_string(v)) {
        return parse_sha256(c, v, PINSET_PIN_SPKI, &out->pin);
    }
    if (!json_is_object(v)) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "expected a pin (a string or an object), got %s",
                               pinset__pj_type_name(v));
    }
    json_object_foreach(v, key, val)
    {
        push_key(c, key);
        if (strcmp(key, "sha256") == 0) {
            sha = val;
        } else if (strcmp(key, "kind") == 0) {
            err = pinset__pj_want_enum(c, val, pinset__policy_kind_names, 2, "'spki' or 'cert'",
                                       &kind);
        } else if (!blocked && strcmp(key, "role") == 0) {
            err = pinset__pj_want_enum(c, val, pinset__policy_role_names, 4,
                                       "'any', 'leaf', 'ca' or 'backup'", &role);
        } else if (!blocked && strcmp(key, "label") == 0) {
            err = pinset__pj_want_text(c, val, MAX_LABEL_LEN, "a label");
            if (err == PINSET_OK) {
                err = pinset__policy_add_str(c->p, &out->label, json_string_value(val),
                                             json_string_length(val));
                if (err != PINSET_OK) {
                    err = pinset__pj_fail(c, err, "out of memory");
                }
            }
        } else if (!blocked && strcmp(key, "not_after") == 0) {
            err = pinset__pj_want_time(c, val, &out->not_after);
        } else {
            pop(c);
            return pinset__pj_unknown_key(c, key, blocked ? BLOCKED_KEYS : PIN_KEYS);
        }
        pop(c);
        if (err != PINSET_OK) {
            return err;
        }
    }
    if (sha == NULL) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "missing key 'sha256'");
    }
    push_key(c, "sha256");
    err = parse_sha256(c, sha, (pinset_pin_kind)kind, &out->pin);
    pop(c);
    out->role = (uint8_t)role;
    return err;
}

/* An array of pins appended to the policy's pin array; first and count get the range. */
static pinset_err parse_pin_array(struct pctx *c, const json_t *arr, size_t max, uint32_t *first,
                                  uint32_t *count)
{
    size_t n = 0;
    pinset_err err = pinset__pj_want_array(c, arr, "an array of pins", "pins", max, &n);

    if (err != PINSET_OK) {
        return err;
    }
    *first = (uint32_t)c->p->npins;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        struct pinset__pin_entry e, *slot;
        push_idx(c, i);
        err = parse_pin(c, json_array_get(arr, i), 0, &e);
        if (err == PINSET_OK) {
            slot = pinset__policy_add_pin(c->p);
            if (slot == NULL) {
                err = pinset__pj_fail(c, PINSET_E_NOMEM, "out of memory");
            } else {
                *slot = e;
            }
        }
        pop(c);
        if (err != PINSET_OK) {
            return err;
        }
    }
    *count = (uint32_t)n;
    return PINSET_OK;
}

static pinset_err parse_blocked(struct pctx *c, const json_t *arr, struct pinset_rule *r)
{
    size_t n = 0;
    pinset_err err = pinset__pj_want_array(c, arr, "an array of pins", "blocked pins",
                                           PINSET_MAX_PINS_PER_RULE, &n);

    if (err != PINSET_OK) {
        return err;
    }
    r->blocked_first = (uint32_t)c->p->nblocked;
    for (size_t i = 0; i < n; i++) {
        struct pinset__pin_entry e;
        pinset_pin *slot;
        push_idx(c, i);
        err = parse_pin(c, json_array_get(arr, i), 1, &e);
        if (err == PINSET_OK) {
            slot = pinset__policy_add_blocked(c->p);
            if (slot == NULL) {
                err = pinset__pj_fail(c, PINSET_E_NOMEM, "out of memory");
            } else {
                *slot = e.pin;
            }
        }
        pop(c);
        if (err != PINSET_OK) {
            return err;
        }
    }
    r->blocked_count = (uint32_t)n;
    return PINSET_OK;
}

static int prefix_nocase(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);

    if (n <= k) {
        return 0;
    }
    for (size_t i = 0; i < k; i++) {
        char ch = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (ch != prefix[i]) {
            return 0;
        }
    }
    return 1;
}

static int uri_ok(const char *s, size_t n)
{
    if (!prefix_nocase(s, n, "https://") && !prefix_nocase(s, n, "http://")) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static pinset_err parse_uris(struct pctx *c, const json_t *arr, struct pinset_rule *r)
{
    size_t n = 0;
    pinset_err err = pinset__pj_want_array(c, arr, "an array of report uris", "report uris",
                                           MAX_URIS_PER_RULE, &n);

    if (err != PINSET_OK) {
        return err;
    }
    r->uris_first = (uint32_t)c->p->nuris;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        uint32_t *slot;
        push_idx(c, i);
        err = pinset__pj_want_text(c, v, MAX_URI_LEN, "an http or https uri");
        if (err == PINSET_OK && !uri_ok(json_string_value(v), json_string_length(v))) {
            err = pinset__pj_fail(c, PINSET_E_PARSE,
                                  "expected an http or https uri without spaces, got '%.64s'",
                                  json_string_value(v));
        }
        if (err == PINSET_OK) {
            slot = pinset__policy_add_uri(c->p);
            if (slot == NULL) {
                err = pinset__pj_fail(c, PINSET_E_NOMEM, "out of memory");
            } else {
                err =
                    pinset__policy_add_str(c->p, slot, json_string_value(v), json_string_length(v));
                if (err != PINSET_OK) {
                    err = pinset__pj_fail(c, err, "out of memory");
                }
            }
        }
        pop(c);
        if (err != PINSET_OK) {
            return err;
        }
    }
    r->uris_count = (uint32_t)n;
    return PINSET_OK;
}

/* ---- pin-sets ---- */

static int pinset_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > MAX_PINSET_NAME) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.')) {
            return 0;
        }
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static pinset_err parse_one_pinset(struct pctx *c, const char *name, json_t *v)
{
    struct pinset__pinset *ps;
    const json_t *val, *pins = NULL;
    const char *key;
    uint32_t off = 0, first = 0, count = 0;
    pinset_err err;

    if (!pinset_name_ok(name, strlen(name))) {
        return pinset__pj_fail(
            c, PINSET_E_PARSE,
            "a pin-set name is 1 to %d characters of letters, digits, '.', '_' and '-'",
            MAX_PINSET_NAME);
    }
    err = pinset__pj_want(c, v, JSON_OBJECT, "a pin-set object");
    if (err != PINSET_OK) {
        return err;
    }
    json_object_foreach(v, key, val)
    {
        if (strcmp(key, "pins") != 0) {
            return pinset__pj_unknown_key(c, key, "pins");
        }
        pins = val;
    }
    if (pins == NULL) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "missing key 'pins'");
    }
    push_key(c, "pins");
    err = parse_pin_array(c, pins, PINSET_MAX_PINS_PER_RULE, &first, &count);
    if (err == PINSET_OK && count == 0) {
        err = pinset__pj_fail(c, PINSET_E_PARSE, "a pin-set needs at least one pin");
    }
    pop(c);
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset__policy_add_str(c->p, &off, name, strlen(name));
    ps = err == PINSET_OK ? pinset__policy_add_pinset(c->p) : NULL;
    if (ps == NULL) {
        return pinset__pj_fail(c, err == PINSET_OK ? PINSET_E_NOMEM : err, "out of memory");
    }
    ps->name = off;
    ps->first = first;
    ps->count = count;
    return PINSET_OK;
}

pinset_err pinset__pj_pinsets(struct pctx *c, json_t *obj)
{
    const char **names = NULL;
    const char *key;
    const json_t *val;
    size_t n, i = 0;
    pinset_err err = pinset__pj_want(c, obj, JSON_OBJECT, "an object of named pin-sets");

    if (err != PINSET_OK || json_object_size(obj) == 0) {
        return err;
    }
    n = json_object_size(obj);
    names = pinset__alloc_array(n, sizeof(*names));
    if (names == NULL) {
        return pinset__pj_fail(c, PINSET_E_NOMEM, "out of memory");
    }
    json_object_foreach(obj, key, val)
    {
        names[i++] = key;
    }
    /* canonical order, and what pinset__policy_find_pinset's binary search needs */
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n && err == PINSET_OK; i++) {
        push_key(c, names[i]);
        err = parse_one_pinset(c, names[i], json_object_get(obj, names[i]));
        pop(c);
    }
    pinset__free(names);
    return err;
}

/* ---- rules ---- */

#define RULE_KEYS                                                                         \
    "host, include_subdomains, exclude, mode, pinset, pins, blocked, min_pins, expires, " \
    "on_expiry, report_uris"

struct rule_keys {
    const json_t *host, *subdomains, *exclude, *mode, *pinset, *pins, *blocked, *min_pins, *expires,
        *on_expiry, *uris;
};

static pinset_err collect_rule_keys(struct pctx *c, json_t *v, struct rule_keys *k)
{
    static const struct {
        const char *name;
        size_t off;
    } table[] = {
        {"host", offsetof(struct rule_keys, host)},
        {"include_subdomains", offsetof(struct rule_keys, subdomains)},
        {"exclude", offsetof(struct rule_keys, exclude)},
        {"mode", offsetof(struct rule_keys, mode)},
        {"pinset", offsetof(struct rule_keys, pinset)},
        {"pins", offsetof(struct rule_keys, pins)},
        {"blocked", offsetof(struct rule_keys, blocked)},
        {"min_pins", offsetof(struct rule_keys, min_pins)},
        {"expires", offsetof(struct rule_keys, expires)},
        {"on_expiry", offsetof(struct rule_keys, on_expiry)},
        {"report_uris", offsetof(struct rule_keys, uris)},
    };
    const char *key;
    const json_t *val;

    memset(k, 0, sizeof(*k));
    json_object_foreach(v, key, val)
    {
        size_t i;
        for (i = 0; i < PINSET_ARRAY_SIZE(table); i++) {
            if (strcmp(key, table[i].name) == 0) {
                memcpy((char *)k + table[i].off, &val, sizeof(val));
                break;
            }
        }
        if (i == PINSET_ARRAY_SIZE(table)) {
            return pinset__pj_unknown_key(c, key, RULE_KEYS);
        }
    }
    return PINSET_OK;
}

static pinset_err parse_host(struct pctx *c, const json_t *v, struct pinset_rule *r)
{
    char canon[PINSET_HOST_MAX];
    pinset_host_type type = PINSET_HOST_DNS;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    push_key(c, "host");
    err = pinset__pj_want(c, v, JSON_STRING, "a host name or ip address");
    if (err == PINSET_OK) {
        err = pinset_host_canon(canon, sizeof(canon), &type, json_string_value(v),
                                json_string_length(v), &d);
        if (err != PINSET_OK) {
            err = pinset__pj_fail(c, err, "%s", d.message);
        }
    }
    if (err == PINSET_OK) {
        err = pinset__policy_add_str(c->p, &r->host, canon, strlen(canon));
        if (err != PINSET_OK) {
            err = pinset__pj_fail(c, err, "out of memory");
        }
        r->host_len = (uint16_t)strlen(canon);
        r->host_type = (uint8_t)type;
    }
    pop(c);
    return err;
}

static pinset_err want_bool(struct pctx *c, const json_t *v, const char *key, int *out)
{
    pinset_err err;

    *out = 0;
    if (v == NULL) {
        return PINSET_OK;
    }
    push_key(c, key);
    err = pinset__pj_want(c, v, JSON_TRUE, "true or false");
    pop(c);
    *out = json_is_true(v);
    return err;
}

/*
 * include_subdomains: true, false, or "one-label" (PINSET_SCOPE_ONE_LABEL,
 * added within version 1: a reader that predates it refuses the file).
 */
static pinset_err want_scope(struct pctx *c, const json_t *v, pinset_scope *out)
{
    pinset_err err = PINSET_OK;

    *out = PINSET_SCOPE_EXACT;
    if (v == NULL) {
        return PINSET_OK;
    }
    push_key(c, "include_subdomains");
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "one-label") == 0 &&
            json_string_length(v) == strlen("one-label")) {
            *out = PINSET_SCOPE_ONE_LABEL;
        } else {
            err = pinset__pj_fail(c, PINSET_E_PARSE, "expected true or false, or \"one-label\"");
        }
    } else {
        err = pinset__pj_want(c, v, JSON_TRUE, "true or false, or \"one-label\"");
        *out = json_is_true(v) ? PINSET_SCOPE_SUBDOMAINS : PINSET_SCOPE_EXACT;
    }
    pop(c);
    return err;
}

/* An exclusion names a host and, optionally, its subtree; nothing else. */
static pinset_err check_exclusion(struct pctx *c, const struct rule_keys *k)
{
    const struct {
        const char *name;
        const json_t *v;
    } forbidden[] = {
        {"mode", k->mode},           {"pinset", k->pinset},     {"pins", k->pins},
        {"blocked", k->blocked},     {"min_pins", k->min_pins}, {"expires", k->expires},
        {"on_expiry", k->on_expiry}, {"report_uris", k->uris},
    };

    for (size_t i = 0; i < PINSET_ARRAY_SIZE(forbidden); i++) {
        if (forbidden[i].v != NULL) {
            pinset_err err;
            push_key(c, forbidden[i].name);
            err = pinset__pj_fail(c, PINSET_E_PARSE,
                                  "an exclusion carries no pins or settings, only host and "
                                  "include_subdomains");
            pop(c);
            return err;
        }
    }
    return PINSET_OK;
}

static pinset_err parse_rule_pins(struct pctx *c, const struct rule_keys *k, struct pinset_rule *r)
{
    size_t from_set = 0;
    pinset_err err = PINSET_OK;

    if (k->pinset != NULL) {
        push_key(c, "pinset");
        err = pinset__pj_want(c, k->pinset, JSON_STRING, "the name of a pin-set");
        if (err == PINSET_OK) {
            r->pinset = pinset__policy_find_pinset(c->p, json_string_value(k->pinset),
                                                   json_string_length(k->pinset));
            if (r->pinset < 0) {
                err = pinset__pj_fail(c, PINSET_E_PARSE, "unknown pin-set '%.64s'",
                                      json_string_value(k->pinset));
            } else {
                from_set = c->p->pinsets[r->pinset].count;
            }
        }
        pop(c);
    }
    if (err == PINSET_OK && k->pins != NULL) {
        push_key(c, "pins");
        err = parse_pin_array(c, k->pins, PINSET_MAX_PINS_PER_RULE - from_set, &r->pins_first,
                              &r->pins_count);
        pop(c);
    }
    if (err == PINSET_OK && k->blocked != NULL) {
        push_key(c, "blocked");
        err = parse_blocked(c, k->blocked, r);
        pop(c);
    }
    if (err == PINSET_OK && from_set + r->pins_count + r->blocked_count == 0) {
        err =
            pinset__pj_fail(c, PINSET_E_PARSE, "a rule needs pins: name a 'pinset' or list 'pins'");
    }
    return err;
}

static pinset_err parse_rule_settings(struct pctx *c, const struct rule_keys *k,
                                      struct pinset_rule *r)
{
    pinset_err err = PINSET_OK;
    int v = 0;

    if (k->mode != NULL) {
        push_key(c, "mode");
        err = pinset__pj_want_enum(c, k->mode, pinset__policy_mode_names, 2,
                                   "'enforce' or 'report'", &v);
        pop(c);
        r->mode = (uint8_t)v;
    }
    /* the backup-pin rule's default: enforcing wants two pins, reporting one */
    r->min_pins = r->mode == PINSET_MODE_ENFORCE ? 2 : 1;
    if (err == PINSET_OK && k->min_pins != NULL) {
        push_key(c, "min_pins");
        if (!json_is_integer(k->min_pins) || json_integer_value(k->min_pins) < 0 ||
            json_integer_value(k->min_pins) > PINSET_MAX_PINS_PER_RULE) {
            err = pinset__pj_fail(c, PINSET_E_PARSE, "expected an integer from 0 to %d",
                                  PINSET_MAX_PINS_PER_RULE);
        } else {
            r->min_pins = (uint16_t)json_integer_value(k->min_pins);
        }
        pop(c);
    }
    if (err == PINSET_OK && k->expires != NULL) {
        push_key(c, "expires");
        err = pinset__pj_want_time(c, k->expires, &r->expires);
        pop(c);
    }
    if (err == PINSET_OK && k->on_expiry != NULL) {
        push_key(c, "on_expiry");
        err = pinset__pj_want_enum(c, k->on_expiry, pinset__policy_expiry_names + 1, 3,
                                   "'fail-open', 'fail-closed' or 'report'", &v);
        r->on_expiry = (uint8_t)(v + 1);
        if (err == PINSET_OK && k->expires == NULL) {
            err = pinset__pj_fail(c, PINSET_E_PARSE, "'on_expiry' without 'expires'");
        }
        pop(c);
    }
    if (err == PINSET_OK && k->expires != NULL && k->on_expiry == NULL) {
        push_key(c, "expires");
        err = pinset__pj_fail(
            c, PINSET_E_PARSE,
            "'expires' needs an explicit 'on_expiry' ('fail-open', 'fail-closed' or "
            "'report')");
        pop(c);
    }
    if (err == PINSET_OK && k->uris != NULL) {
        push_key(c, "report_uris");
        err = parse_uris(c, k->uris, r);
        pop(c);
    }
    return err;
}

static pinset_err parse_rule(struct pctx *c, json_t *v)
{
    struct rule_keys k;
    struct pinset_rule *r;
    pinset_err err;
    pinset_scope scope = PINSET_SCOPE_EXACT;
    int excl = 0;

    err = pinset__pj_want(c, v, JSON_OBJECT, "a rule object");
    if (err == PINSET_OK) {
        err = collect_rule_keys(c, v, &k);
    }
    if (err != PINSET_OK) {
        return err;
    }
    if (k.host == NULL) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "missing key 'host'");
    }
    r = pinset__policy_add_rule(c->p);
    if (r == NULL) {
        return pinset__pj_fail(
            c, c->p->nrules >= PINSET_MAX_RULES ? PINSET_E_LIMIT : PINSET_E_NOMEM,
            c->p->nrules >= PINSET_MAX_RULES ? "too many rules" : "out of memory");
    }
    err = parse_host(c, k.host, r);
    if (err == PINSET_OK) {
        err = want_scope(c, k.subdomains, &scope);
    }
    if (err == PINSET_OK) {
        err = want_bool(c, k.exclude, "exclude", &excl);
    }
    if (err == PINSET_OK && scope != PINSET_SCOPE_EXACT && r->host_type != PINSET_HOST_DNS) {
        push_key(c, "include_subdomains");
        err = pinset__pj_fail(c, PINSET_E_PARSE, "an ip address has no subdomains");
        pop(c);
    }
    if (err == PINSET_OK && scope == PINSET_SCOPE_ONE_LABEL && excl) {
        push_key(c, "include_subdomains");
        err = pinset__pj_fail(c, PINSET_E_PARSE,
                              "an exclusion takes out a host or its subtree: \"one-label\" is "
                              "not allowed");
        pop(c);
    }
    r->flags = (uint8_t)((scope == PINSET_SCOPE_SUBDOMAINS ? RULE_F_SUBDOMAINS : 0) |
                         (scope == PINSET_SCOPE_ONE_LABEL ? RULE_F_ONE_LABEL : 0) |
                         (excl ? RULE_F_EXCLUDE : 0));
    if (err != PINSET_OK) {
        return err;
    }
    if (excl) {
        return check_exclusion(c, &k);
    }
    err = parse_rule_pins(c, &k, r);
    if (err == PINSET_OK) {
        err = parse_rule_settings(c, &k, r);
    }
    return err;
}

pinset_err pinset__pj_rules(struct pctx *c, const json_t *arr)
{
    size_t n = 0;
    pinset_err err =
        pinset__pj_want_array(c, arr, "an array of rules", "rules", PINSET_MAX_RULES, &n);

    if (err != PINSET_OK) {
        return err;
    }
    for (size_t i = 0; i < n && err == PINSET_OK; i++) {
        push_idx(c, i);
        err = parse_rule(c, json_array_get(arr, i));
        pop(c);
    }
    return err;
}
