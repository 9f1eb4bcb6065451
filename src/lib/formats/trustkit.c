/*
 * trustkit.c - TrustKit's configuration as a JSON dictionary (the
 * TSKConfiguration dictionary of an Info.plist, or that dictionary under a
 * "TSKConfiguration" key), in and out of the model.
 *
 * The rules are TrustKit's own (TrustKit/parse_configuration.m,
 * parseTrustKitConfiguration, at datatheorem/TrustKit c48790f3): what
 * TrustKit raises an exception on is an import error with the JSON path;
 * what it silently ignores is listed in the fidelity list. The plist forms
 * (XML and binary) are read elsewhere, with libplist.
 */
#include <jansson.h>
#include <libpsl.h>
#include <stdio.h>

#include <pinset/convert.h>

#include "formats/formats.h"
#include "policy/parse.h"
#include "policy/uri.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/rfc3339.h"

#define K_DOMAINS   "TSKPinnedDomains"
#define K_HASHES    "TSKPublicKeyHashes"
#define K_SUBS      "TSKIncludeSubdomains"
#define K_ENFORCE   "TSKEnforcePinning"
#define K_URIS      "TSKReportUris"
#define K_NODEFAULT "TSKDisableDefaultReportUri"
#define K_EXPIRES   "TSKExpirationDate"
#define K_EXCLUDE   "TSKExcludeSubdomainFromParentPolicy"
#define MAX_URIS    16

struct tctx {
    struct pctx c; /* first: the JSON path and the failure path of the native parser */
    pinset_fidelity *f;
    size_t rule;      /* the index of the rule being read */
    const char *host; /* its canonical host, for fidelity entries (host_buf), or NULL */
    char host_buf[PINSET_HOST_MAX]; /* a copy: the arena moves as strings are added */
};

/* ---- domains: what TrustKit's domain registry accepts ---- */

/*
 * TrustKit raises when GetRegistryLength(domain) is 0 (no known public
 * suffix under the domain, a single label, an IP address) and, with
 * TSKIncludeSubdomains, when the domain is itself a public suffix. Both
 * sections of the public suffix list count (TrustKit refuses amazonaws.com
 * sites too), not the implicit "*" rule.
 */
static const char *domain_problem(const char *canon, pinset_host_type type, int subdomains)
{
    const psl_ctx_t *psl = psl_builtin();
    const char *tld = strrchr(canon, '.');

    if (type != PINSET_HOST_DNS) {
        return "TrustKit pins domain names, not IP addresses";
    }
    if (tld == NULL) {
        return "TrustKit refuses a single-label domain (no public suffix under it)";
    }
    if (psl == NULL) {
        return NULL; /* no list built in: nothing more can be said */
    }
    if (!psl_is_public_suffix2(psl, tld + 1, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)) {
        return "TrustKit refuses a domain under no known public suffix";
    }
    if (subdomains && psl_is_public_suffix2(psl, canon, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE)) {
        return "TrustKit refuses TSKIncludeSubdomains for a public suffix";
    }
    return NULL;
}

static int is_ascii(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80) {
            return 0;
        }
    }
    return 1;
}

static pinset_err lose(struct tctx *t, const char *field, const char *reason)
{
    pinset_err err = pinset__fidelity_add(t->f, t->rule, t->host, field, "%s", reason);

    return err == PINSET_OK ? PINSET_OK : pinset__pj_fail(&t->c, err, "out of memory");
}

/* ---- import: one domain ---- */

static pinset_err want_bool(struct tctx *t, json_t *v, const char *key, int *out)
{
    pinset_err err;

    push_key(&t->c, key);
    err = pinset__pj_want(&t->c, v, JSON_TRUE, "a boolean");
    pop(&t->c);
    *out = json_is_true(v);
    return err;
}

/*
 * One hash: the base64 of 32 octets. Foundation's decoder (options 0)
 * ignores the unused bits of the last character ("BBBB...B="): so do we,
 * and store the canonical value, noted in the list.
 */
static pinset_err one_hash(struct tctx *t, json_t *v, pinset_pin *pin)
{
    char fixed[45];
    const char *s;
    size_t n;
    int last;
    pinset_err err = pinset__pj_want(&t->c, v, JSON_STRING, "a base64 sha-256 hash");

    if (err != PINSET_OK) {
        return err;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (pinset_pin_parse(pin, s, n, PINSET_PIN_SPKI, NULL) == PINSET_OK) {
        return PINSET_OK;
    }
    last = n == 44 ? pinset__b64_digit((unsigned char)s[42], 0) : -1;
    if (last >= 0 && s[43] == '=' && strlen(s) == n) {
        memcpy(fixed, s, 44);
        fixed[44] = '\0';
        fixed[42] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last & ~3];
        if (pinset_pin_parse(pin, fixed, 44, PINSET_PIN_SPKI, NULL) == PINSET_OK) {
            return lose(t, K_HASHES,
                        "non-canonical base64 (unused bits set, as Foundation's decoder "
                        "accepts): stored in canonical form");
        }
    }
    return pinset__pj_fail(&t->c, PINSET_E_PARSE,
                           "TrustKit refuses a pin that is not the base64 of 32 octets");
}

static pinset_err hashes(struct tctx *t, struct pinset_rule **rp, json_t *v)
{
    size_t n, i;
    json_t *h;
    pinset_err err = pinset__pj_want_array(&t->c, v, "an array of base64 hashes", "hashes",
                                           PINSET_MAX_PINS_PER_RULE, &n);

    json_array_foreach(v, i, h)
    {
        pinset_pin pin;
        int added;
        if (err != PINSET_OK) {
            break;
        }
        push_idx(&t->c, i);
        err = one_hash(t, h, &pin);
        pop(&t->c);
        if (err == PINSET_OK) {
            err = pinset__fmt_add_pin(t->c.p, *rp, &pin, PINSET_ROLE_ANY, &added);
            if (err != PINSET_OK) {
                err = pinset__pj_fail(&t->c, err, "out of memory");
            }
        }
    }
    return err;
}

static pinset_err report_uris(struct tctx *t, struct pinset_rule *r, json_t *v)
{
    size_t n, i;
    json_t *u;
    pinset_err err =
        pinset__pj_want_array(&t->c, v, "an array of uris", "report uris", MAX_URIS, &n);

    json_array_foreach(v, i, u)
    {
        struct pinset__uri pu;
        pinset_diag ud = PINSET_DIAG_INIT;
        uint32_t *slot;
        if (err != PINSET_OK) {
            break;
        }
        push_idx(&t->c, i);
        err = pinset__pj_want(&t->c, u, JSON_STRING, "a uri");
        if (err == PINSET_OK &&
            pinset__uri_parse(&pu, json_string_value(u), json_string_length(u), &ud) != PINSET_OK) {
            err =
                pinset__pj_fail(&t->c, PINSET_E_PARSE, "not an http(s) report uri: %s", ud.message);
        }
        if (err == PINSET_OK) {
            slot = pinset__policy_add_uri(t->c.p);
            err = slot == NULL ? PINSET_E_NOMEM
                               : pinset__policy_add_str(t->c.p, slot, json_string_value(u),
                                                        json_string_length(u));
            if (err != PINSET_OK) {
                err = pinset__pj_fail(&t->c, err, "out of memory");
            } else if (r->uris_count++ == 0) {
                r->uris_first = (uint32_t)(t->c.p->nuris - 1);
            }
        }
        pop(&t->c);
    }
    return err;
}

static pinset_err expiry(struct tctx *t, struct pinset_rule *r, json_t *v)
{
    const char *s = json_string_value(v);
    pinset_err err;

    push_key(&t->c, K_EXPIRES);
    err = pinset__pj_want(&t->c, v, JSON_STRING, "a date yyyy-MM-dd");
    /* TrustKit stores nil (no expiry) for a date it cannot read: refused here */
    if (err == PINSET_OK &&
        (json_string_length(v) != 10 || pinset__parse_time(s, 10, &r->expires) != 0)) {
        err = pinset__pj_fail(&t->c, PINSET_E_PARSE,
                              "expected a date yyyy-MM-dd (TrustKit would silently ignore it)");
    }
    pop(&t->c);
    r->on_expiry = PINSET_ON_EXPIRY_FAIL_OPEN; /* TrustKit stops pinning after the date */
    return err;
}

/* The keys TrustKit reads as they come; the others are listed. */
static pinset_err domain_key(struct tctx *t, struct pinset_rule **rp, const char *key, json_t *v,
                             int *disable_default)
{
    int b;
    pinset_err err;

    if (strcmp(key, K_HASHES) == 0) {
        push_key(&t->c, key);
        err = hashes(t, rp, v);
        pop(&t->c);
        return err;
    }
    if (strcmp(key, K_URIS) == 0) {
        push_key(&t->c, key);
        err = report_uris(t, *rp, v);
        pop(&t->c);
        return err;
    }
    if (strcmp(key, K_EXPIRES) == 0) {
        return expiry(t, *rp, v);
    }
    if (strcmp(key, K_SUBS) == 0 || strcmp(key, K_ENFORCE) == 0 || strcmp(key, K_NODEFAULT) == 0 ||
        strcmp(key, K_EXCLUDE) == 0) {
        err = want_bool(t, v, key, &b);
        if (strcmp(key, K_SUBS) == 0 && b) {
            (*rp)->flags |= RULE_F_SUBDOMAINS;
        } else if (strcmp(key, K_ENFORCE) == 0 && !b) {
            (*rp)->mode = PINSET_MODE_REPORT;
        } else if (strcmp(key, K_NODEFAULT) == 0) {
            *disable_default = b;
        }
        return err;
    }
    if (strcmp(key, "TSKPublicKeyAlgorithms") == 0 || strcmp(key, "kTSKPublicKeyAlgorithms") == 0) {
        return lose(t, key, "key algorithms are ignored since TrustKit 1.6: not needed");
    }
    return lose(t, key, "not a TrustKit domain key: ignored, as TrustKit does");
}

static pinset_err domain_fail(struct tctx *t, const char *why)
{
    pinset_err err;

    t->c.at_key = 1;
    err = pinset__pj_fail(&t->c, PINSET_E_PARSE, "%s", why);
    t->c.at_key = 0;
    return err;
}

static pinset_err domain_rule(struct tctx *t, const char *name, json_t *v)
{
    struct pinset_rule *r = pinset__policy_add_rule(t->c.p);
    json_t *ex = json_object_get(v, K_EXCLUDE), *val;
    const char *key, *why;
    int disable_default = 0;
    unsigned need;
    pinset_err err = PINSET_OK;

    if (r == NULL) {
        return pinset__pj_fail(&t->c, PINSET_E_NOMEM, "out of memory");
    }
    r->pinset = -1;
    r->index = (uint32_t)t->rule;
    r->mode = PINSET_MODE_ENFORCE;
    err = pinset__fmt_rule_host(t->c.p, r, name, NULL);
    if (err != PINSET_OK) {
        return err;
    }
    (void)snprintf(t->host_buf, sizeof(t->host_buf), "%s", pinset__policy_str(t->c.p, r->host));
    t->host = t->host_buf;
    why = domain_problem(t->host, (pinset_host_type)r->host_type, 0);
    if (why != NULL) {
        return domain_fail(t, why); /* TrustKit checks the domain before anything else */
    }
    if (ex != NULL && json_is_true(ex)) {
        if (json_object_size(v) > 1) {
            return pinset__pj_fail(&t->c, PINSET_E_PARSE,
                                   "TrustKit refuses any other key beside "
                                   "TSKExcludeSubdomainFromParentPolicy");
        }
        r->flags = RULE_F_EXCLUDE; /* TrustKit checks its parent policy: so does the model */
        return PINSET_OK;
    }
    json_object_foreach(v, key, val)
    {
        err = domain_key(t, &r, key, val, &disable_default);
        if (err != PINSET_OK) {
            return err;
        }
    }
    why = domain_problem(t->host, (pinset_host_type)r->host_type, r->flags & RULE_F_SUBDOMAINS);
    if (why != NULL) {
        return domain_fail(t, why);
    }
    need = r->mode == PINSET_MODE_ENFORCE ? 2 : 1;
    r->min_pins = (uint16_t)need;
    if (r->pins_count < need) {
        return pinset__pj_fail(&t->c, PINSET_E_PARSE,
                               "TrustKit refuses fewer than %u distinct pins here (%s): a backup "
                               "pin is required",
                               need, need == 2 ? "TSKEnforcePinning" : "report only");
    }
    if (!disable_default) {
        err = lose(t, K_NODEFAULT,
                   "TrustKit also reports to its default server unless TSKDisableDefaultReportUri "
                   "is set: pinset reports only to the listed uris");
    }
    return err;
}

static pinset_err one_domain(struct tctx *t, const char *name, json_t *v)
{
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;
    pinset_diag hd = PINSET_DIAG_INIT;
    pinset_err err;

    push_key(&t->c, name);
    t->host = NULL;
    t->c.at_key = 1;
    if (!is_ascii(name)) {
        err = pinset__pj_fail(&t->c, PINSET_E_PARSE,
                              "TrustKit does not convert internationalised names: write the "
                              "a-label (xn--) form");
    } else if (pinset_host_canon(canon, sizeof(canon), &type, name, strlen(name), &hd) !=
               PINSET_OK) {
        err = pinset__pj_fail(&t->c, hd.code, "%s", hd.message);
    } else {
        t->c.at_key = 0;
        err = pinset__pj_want(&t->c, v, JSON_OBJECT, "a domain policy object");
    }
    t->c.at_key = 0;
    if (err == PINSET_OK) {
        err = domain_rule(t, name, v);
    }
    pop(&t->c);
    t->rule++;
    return err;
}

/* ---- import: the document ---- */

static pinset_err global_key(struct tctx *t, const char *key, json_t *v)
{
    int b;
    pinset_err err;

    t->rule = SIZE_MAX;
    t->host = NULL;
    if (strcmp(key, "TSKSwizzleNetworkDelegates") == 0) {
        err = want_bool(t, v, key, &b);
        return err != PINSET_OK ? err
                                : lose(t, key,
                                       "a TrustKit runtime switch (delegate swizzling), not part "
                                       "of a pin policy");
    }
    if (strcmp(key, "TSKIgnorePinningForUserDefinedTrustAnchors") == 0) {
        err = want_bool(t, v, key, &b);
        return err != PINSET_OK ? err
                                : lose(t, key,
                                       "TrustKit (macOS) can skip pinning for user-installed "
                                       "trust anchors: pinset always checks the pins");
    }
    return lose(t, key, "not a TrustKit key: ignored, as TrustKit does");
}

static pinset_err config(struct tctx *t, json_t *cfg)
{
    json_t *domains = NULL, *val;
    const char *key;
    pinset_err err = pinset__pj_want(&t->c, cfg, JSON_OBJECT, "a TrustKit configuration object");

    if (err != PINSET_OK) {
        return err;
    }
    json_object_foreach(cfg, key, val)
    {
        if (strcmp(key, K_DOMAINS) == 0) {
            domains = val;
            continue;
        }
        err = global_key(t, key, val);
        if (err != PINSET_OK) {
            return err;
        }
    }
    if (domains == NULL) {
        return pinset__pj_fail(&t->c, PINSET_E_PARSE,
                               "TrustKit refuses a configuration with no pinned domains (no "
                               "TSKPinnedDomains)");
    }
    push_key(&t->c, K_DOMAINS);
    err = pinset__pj_want(&t->c, domains, JSON_OBJECT, "an object of domains");
    if (err == PINSET_OK && json_object_size(domains) == 0) {
        err = pinset__pj_fail(&t->c, PINSET_E_PARSE,
                              "TrustKit refuses a configuration with no pinned domains");
    }
    if (err == PINSET_OK && json_object_size(domains) > PINSET_MAX_RULES) {
        err = pinset__pj_fail(&t->c, PINSET_E_LIMIT, "more than %d domains", PINSET_MAX_RULES);
    }
    t->rule = 0;
    json_object_foreach(domains, key, val)
    {
        if (err != PINSET_OK) {
            break;
        }
        err = one_domain(t, key, val);
    }
    pop(&t->c);
    return err;
}

/* Finish the model; a clash (two spellings of one domain, an exclusion with no parent) at its key.
 */
static pinset_err finish(struct tctx *t, json_t *domains)
{
    size_t bad = SIZE_MAX, i = 0;
    const char *key;
    json_t *val;
    pinset_err err = pinset__policy_finish(t->c.p, &bad, NULL);

    if (err == PINSET_OK || bad == SIZE_MAX) {
        return err == PINSET_OK ? err : PINSET_DIAG(t->c.diag, err, "%s", pinset_strerror(err));
    }
    push_key(&t->c, K_DOMAINS);
    json_object_foreach(domains, key, val)
    {
        if (i++ == bad) {
            push_key(&t->c, key);
            break;
        }
    }
    t->c.at_key = 1;
    if (t->c.p->rules[bad].flags & RULE_F_EXCLUDE) {
        return pinset__pj_fail(&t->c, err,
                               "TrustKit refuses TSKExcludeSubdomainFromParentPolicy without a "
                               "parent domain with TSKIncludeSubdomains");
    }
    return pinset__pj_fail(&t->c, err, "another key names the same domain '%s'",
                           pinset__policy_str(t->c.p, t->c.p->rules[bad].host));
}

pinset_err pinset__trustkit_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf,
                                   size_t len, const pinset_convert_options *opts,
                                   pinset_diag *diag)
{
    struct tctx t;
    json_t *root = NULL;
    json_t *cfg;
    uint8_t *text = NULL;
    pinset_err err = pinset__fjson_load(&root, &text, buf, len, 0, diag);

    (void)opts; /* a TrustKit configuration names its domains */
    if (err != PINSET_OK) {
        return err;
    }
    memset(&t, 0, sizeof(t));
    t.c.buf = text;
    t.c.len = len;
    t.c.diag = diag;
    t.c.p = p;
    t.f = f;
    cfg = json_is_object(root) ? json_object_get(root, "TSKConfiguration") : NULL;
    if (cfg != NULL) {
        push_key(&t.c, "TSKConfiguration"); /* the Info.plist's own nesting */
    } else {
        cfg = root;
    }
    err = config(&t, cfg);
    if (err == PINSET_OK) {
        err = finish(&t, json_object_get(cfg, K_DOMAINS));
    }
    if (err != PINSET_OK) {
        pinset__fjson_clean(diag);
    }
    json_decref(root);
    pinset__free(text);
    return err;
}

/* ---- export ---- */

struct tout {
    pinset_fidelity *f;
    const pinset_policy *p;
    const struct pinset_rule *r;
    const char *host;
    pinset_diag *diag;
};

static pinset_err out_lose(struct tout *o, const char *field, const char *reason)
{
    return pinset__fidelity_add(o->f, o->r->index, o->host, field, "%s", reason);
}

static pinset_err set_new(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0 ? PINSET_OK : PINSET_E_NOMEM;
}

/* The rule's SPKI pins as TSKPublicKeyHashes; what TrustKit cannot say is listed. */
static pinset_err put_hashes(struct tout *o, json_t *dom, size_t *written)
{
    json_t *arr = json_array();
    char b64[PINSET_PIN_STR_MAX], field[48];
    pinset_err err = arr == NULL ? PINSET_E_NOMEM : PINSET_OK;

    *written = 0;
    for (size_t i = 0; err == PINSET_OK && i < pinset__fmt_pin_count(o->p, o->r); i++) {
        const struct pinset__pin_entry *e = pinset__fmt_pin(o->p, o->r, i);
        (void)snprintf(field, sizeof(field), "pins[%zu]", i);
        if (e->pin.kind != PINSET_PIN_SPKI) {
            err = out_lose(o, field, "TrustKit pins are key hashes: a cert pin is not written");
            continue;
        }
        if (e->role != PINSET_ROLE_ANY) {
            (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
            err = out_lose(o, field,
                           "TrustKit has no pin roles: the pin matches anywhere in the "
                           "chain");
        }
        if (err == PINSET_OK && e->not_after != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].not_after", i);
            err = out_lose(o, field, "TrustKit has no expiry date for a pin");
        }
        if (err == PINSET_OK) {
            err = pinset_pin_format(b64, sizeof(b64), &e->pin, PINSET_PIN_FMT_BASE64);
        }
        if (err == PINSET_OK) {
            err = json_array_append_new(arr, json_string(b64)) == 0 ? PINSET_OK : PINSET_E_NOMEM;
            (*written)++;
        }
    }
    if (err != PINSET_OK) {
        json_decref(arr);
        return err;
    }
    return set_new(dom, K_HASHES, arr);
}

static pinset_err put_expiry(struct tout *o, json_t *dom)
{
    char date[16];
    int64_t y;
    unsigned m, d;
    pinset_err err = PINSET_OK;

    if (o->r->expires == 0) {
        return PINSET_OK;
    }
    /* TrustKit stops pinning at midnight UTC of the date: never later than the model says */
    pinset__civil_from_days(o->r->expires / 86400, &y, &m, &d);
    (void)snprintf(date, sizeof(date), "%04lld-%02u-%02u", (long long)y, m, d);
    if (o->r->expires % 86400 != 0) {
        err = out_lose(o, "expires",
                       "TrustKit's expiration is a date (midnight UTC): written as the day the "
                       "rule expires, so pinning stops up to a day early");
    }
    if (err == PINSET_OK && o->r->on_expiry != PINSET_ON_EXPIRY_FAIL_OPEN) {
        err = out_lose(o, "on_expiry",
                       "TrustKit stops pinning after its expiration date "
                       "(fail-open)");
    }
    return err == PINSET_OK ? set_new(dom, K_EXPIRES, json_string(date)) : err;
}

static pinset_err put_uris(struct tout *o, json_t *dom)
{
    json_t *arr;

    if (o->r->uris_count == 0) {
        return PINSET_OK;
    }
    arr = json_array();
    if (arr == NULL) {
        return PINSET_E_NOMEM;
    }
    for (size_t i = 0; i < o->r->uris_count; i++) {
        const char *u = pinset__policy_str(o->p, o->p->uris[o->r->uris_first + i]);
        if (json_array_append_new(arr, json_string(u)) != 0) {
            json_decref(arr);
            return PINSET_E_NOMEM;
        }
    }
    return set_new(dom, K_URIS, arr);
}

static pinset_err put_rule(struct tout *o, json_t *dom)
{
    const char *why =
        domain_problem(o->host, (pinset_host_type)o->r->host_type, o->r->flags & RULE_F_SUBDOMAINS);
    unsigned need = o->r->mode == PINSET_MODE_ENFORCE ? 2 : 1;
    size_t written;
    pinset_err err;

    if (why != NULL) {
        return PINSET_DIAG(o->diag, PINSET_E_UNSUPPORTED, "rule %u (%s): %s", (unsigned)o->r->index,
                           o->host, why);
    }
    err = put_hashes(o, dom, &written);
    if (err == PINSET_OK && written < need) {
        return PINSET_DIAG(o->diag, PINSET_E_UNSUPPORTED,
                           "rule %u (%s): TrustKit refuses fewer than %u key pins here",
                           (unsigned)o->r->index, o->host, need);
    }
    if (err == PINSET_OK) {
        err = set_new(dom, K_SUBS, json_boolean(o->r->flags & RULE_F_SUBDOMAINS));
    }
    if (err == PINSET_OK) {
        err = set_new(dom, K_ENFORCE, json_boolean(o->r->mode == PINSET_MODE_ENFORCE));
    }
    if (err == PINSET_OK) {
        err = put_expiry(o, dom);
    }
    if (err == PINSET_OK) {
        err = put_uris(o, dom);
    }
    if (err == PINSET_OK) {
        /* pinset has no default report server: keep TrustKit from adding its own */
        err = set_new(dom, K_NODEFAULT, json_true());
    }
    if (err == PINSET_OK && o->r->min_pins != need) {
        err = out_lose(o, "min_pins",
                       "TrustKit's pin threshold is fixed (2, or 1 when not "
                       "enforced)");
    }
    return err == PINSET_OK ? pinset__fmt_lose_common(o->f, o->p, o->r, "TrustKit") : err;
}

static int dump_sink(const char *buf, size_t len, void *payload)
{
    return pinset__buf_append(payload, buf, len) == PINSET_OK ? 0 : -1;
}

pinset_err pinset__trustkit_export(pinset_fidelity *f, const pinset_policy *p,
                                   const pinset_convert_options *opts, struct pinset__buf *out,
                                   pinset_diag *diag)
{
    struct tout o = {f, p, NULL, NULL, diag};
    json_t *root = json_object(), *domains = json_object(), *dom;
    size_t first = 0, count = 0;
    pinset_err err = root == NULL || domains == NULL ? PINSET_E_NOMEM : PINSET_OK;

    if (err == PINSET_OK) {
        err = pinset__fmt_select(p, opts, &first, &count, diag);
    }
    if (err == PINSET_OK && count == 0) {
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                          "TrustKit refuses a configuration with no pinned domains");
    }
    for (size_t i = first; err == PINSET_OK && i < first + count; i++) {
        o.r = &p->rules[i];
        o.host = pinset__policy_str(p, o.r->host);
        if (o.r->flags & RULE_F_ONE_LABEL) {
            /* TrustKit's domain covers itself (and, with subdomains, every depth): never one label
             */
            err = out_lose(&o, "include_subdomains",
                           "TrustKit has no one-label scope: the rule is not written, so the "
                           "names one label below its host are not pinned by it");
            continue;
        }
        if (json_object_get(domains, o.host) != NULL) {
            err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                              "rule %u (%s): TrustKit has one entry per domain, and another rule "
                              "has this one",
                              (unsigned)o.r->index, o.host);
            break;
        }
        dom = json_object();
        err = set_new(domains, o.host, dom);
        if (err == PINSET_OK && (o.r->flags & RULE_F_EXCLUDE)) {
            err = set_new(dom, K_EXCLUDE, json_true());
        } else if (err == PINSET_OK) {
            err = put_rule(&o, dom);
        }
    }
    if (err == PINSET_OK && json_object_size(domains) == 0) {
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                          "TrustKit refuses a configuration with no pinned domains (no rule it "
                          "can hold)");
    }
    if (err == PINSET_OK) {
        err = set_new(root, K_DOMAINS, domains);
        domains = NULL;
    }
    if (err == PINSET_OK && (json_dump_callback(root, dump_sink, out, JSON_INDENT(2)) != 0 ||
                             pinset__buf_append(out, "\n", 1) != PINSET_OK)) {
        err = PINSET_E_NOMEM;
    }
    json_decref(domains);
    json_decref(root);
    return err;
}
