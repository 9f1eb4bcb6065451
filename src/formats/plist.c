/*
 * plist.c - TrustKit's TSKConfiguration and Apple ATS's NSPinnedDomains in
 * property lists (libplist, XML or binary), in and out of the one model.
 *
 * TrustKit: the TSKConfiguration dictionary becomes the JSON dictionary that
 * libpinset's TrustKit importer reads (PINSET_FORMAT_TRUSTKIT), so that
 * TrustKit's rules live in one place; the export is that importer's
 * counterpart's JSON, turned back into property-list nodes.
 * ATS: NSAppTransportSecurity.NSPinnedDomains, read and written here.
 * docs/formats.md says what maps to what.
 */
#include <plist/plist.h>
#include <stdarg.h>
#include <stdio.h>

#include <pinset/host.h>
#include <pinset/pin.h>

#include "plist_bound.h"
#include "xf.h"

/* An Info.plist is kilobytes; this is generous. */
#define PL_MAX_DOC ((size_t)64 * 1024 * 1024)
/* Seconds from the Unix epoch to the property-list epoch, 2001-01-01T00:00:00Z. */
#define PL_EPOCH 978307200LL

#define K_ATS     "NSAppTransportSecurity"
#define K_PINNED  "NSPinnedDomains"
#define K_SUBS    "NSIncludesSubdomains"
#define K_LEAF    "NSPinnedLeafIdentities"
#define K_CA      "NSPinnedCAIdentities"
#define K_SPKI    "SPKI-SHA256-BASE64"
#define K_TSK     "TSKConfiguration"
#define K_EXPIRES "TSKExpirationDate"

/* ---- the key path of an error ---- */

struct pl_path {
    char s[1024];
    size_t n;
};

static size_t path_key(struct pl_path *p, const char *key)
{
    size_t saved = p->n, k;
    int bare = key[0] != '\0';

    for (k = 0; key[k] != '\0' && bare; k++) {
        char c = key[k];
        bare = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    }
    if (bare) {
        (void)snprintf(p->s + p->n, sizeof(p->s) - p->n, "%s%s", p->n > 0 ? "." : "", key);
    } else {
        (void)snprintf(p->s + p->n, sizeof(p->s) - p->n, "[\"%s\"]", key);
    }
    p->n += strlen(p->s + p->n);
    return saved;
}

static size_t path_index(struct pl_path *p, size_t i)
{
    size_t saved = p->n;

    (void)snprintf(p->s + p->n, sizeof(p->s) - p->n, "[%zu]", i);
    p->n += strlen(p->s + p->n);
    return saved;
}

static void path_pop(struct pl_path *p, size_t saved)
{
    p->n = saved;
    p->s[saved] = '\0';
}

static void set_path(pinset_diag *diag, const char *path)
{
    size_t n = strlen(path);

    if (diag == NULL) {
        return;
    }
    if (n < sizeof(diag->path)) {
        memcpy(diag->path, path, n + 1);
    } else {
        size_t keep = sizeof(diag->path) - 4;
        memcpy(diag->path, "...", 3);
        memcpy(diag->path + 3, path + n - keep, keep + 1);
    }
}

static pinset_err fail(pinset_diag *diag, pinset_err code, const struct pl_path *p, const char *fmt,
                       ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static pinset_err fail(pinset_diag *diag, pinset_err code, const struct pl_path *p, const char *fmt,
                       ...)
{
    char msg[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)PINSET_DIAG(diag, code, "%s", msg);
    set_path(diag, p->s);
    return code;
}

static const char *type_name(plist_t node)
{
    switch (plist_get_node_type(node)) {
    case PLIST_BOOLEAN:
        return "a <true/> or <false/>";
    case PLIST_UINT:
        return "an <integer>";
    case PLIST_REAL:
        return "a <real>";
    case PLIST_STRING:
        return "a <string>";
    case PLIST_ARRAY:
        return "an <array>";
    case PLIST_DICT:
        return "a <dict>";
    case PLIST_DATE:
        return "a <date>";
    case PLIST_DATA:
        return "a <data>";
    case PLIST_UID:
        return "a UID";
    case PLIST_KEY:
    case PLIST_NONE:
    default:
        return "an unknown value";
    }
}

/* ---- reading ---- */

/* *root: the document's root dictionary, read by libplist within the bounds. */
static pinset_err load(plist_t *root, const uint8_t *buf, size_t len, pinset_diag *diag)
{
    static const struct pl_path none = {{0}, 0};
    int bin = len >= 8 && memcmp(buf, "bplist00", 8) == 0;
    pinset_err err;

    *root = NULL;
    if (len > PL_MAX_DOC) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "property list of %zu octets: over the %zu limit",
                           len, PL_MAX_DOC);
    }
    err = bin ? pl_bound_bin(buf, len, diag) : pl_bound_xml(buf, len, diag);
    if (err != PINSET_OK) {
        return err;
    }
    if (bin) {
        plist_from_bin((const char *)buf, (uint32_t)len, root);
    } else if (len > 0) {
        plist_from_xml((const char *)buf, (uint32_t)len, root);
    }
    if (*root == NULL) {
        /* libplist 2.2 says neither why nor where */
        return fail(diag, PINSET_E_PARSE, &none,
                    "not a valid %s property list (libplist refused it)", bin ? "binary" : "XML");
    }
    if (plist_get_node_type(*root) != PLIST_DICT) {
        err = fail(diag, PINSET_E_PARSE, &none, "the property list's root is %s, not a <dict>",
                   type_name(*root));
        plist_free(*root);
        *root = NULL;
    }
    return err;
}

/* The i-th key and value of a dictionary, in document order; *key is malloc'd by libplist. */
struct dict_it {
    plist_dict_iter it;
    plist_t dict;
};

static int dict_next(struct dict_it *d, char **key, plist_t *val)
{
    *key = NULL;
    *val = NULL;
    plist_dict_next_item(d->dict, d->it, key, val);
    return *key != NULL;
}

static void dict_begin(struct dict_it *d, plist_t dict)
{
    d->dict = dict;
    d->it = NULL;
    plist_dict_new_iter(dict, &d->it);
}

static void dict_end(struct dict_it *d)
{
    free(d->it);
}

/* Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

struct tk {
    pinset_fidelity *f;
    pinset_diag *diag;
    struct pl_path path;
};

/* A value of the TSKConfiguration dictionary as JSON (*out), or an error at its key path. */
static pinset_err tk_value(struct tk *t, plist_t node, const char *key, unsigned depth,
                           json_t **out)
{
    pinset_err err = PINSET_OK;

    *out = NULL;
    if (depth > 16) {
        return fail(t->diag, PINSET_E_LIMIT, &t->path, "nested deeper than 16 levels");
    }
    switch (plist_get_node_type(node)) {
    case PLIST_BOOLEAN: {
        uint8_t b = 0;
        plist_get_bool_val(node, &b);
        *out = json_boolean(b);
        break;
    }
    case PLIST_UINT: {
        uint64_t v = 0;
        plist_get_uint_val(node, &v);
        if (v > (uint64_t)INT64_MAX) {
            return fail(t->diag, PINSET_E_PARSE, &t->path, "an <integer> out of range");
        }
        *out = json_integer((json_int_t)v);
        break;
    }
    case PLIST_STRING: {
        char *s = NULL;
        plist_get_string_val(node, &s);
        *out = s != NULL ? json_string(s) : NULL;
        if (s != NULL && *out == NULL) {
            free(s);
            return fail(t->diag, PINSET_E_PARSE, &t->path, "a <string> that is not UTF-8");
        }
        free(s);
        break;
    }
    case PLIST_DATE:
        if (key != NULL && strcmp(key, K_EXPIRES) == 0) {
            int32_t sec = 0, usec = 0;
            int64_t y;
            unsigned m, d;
            char date[32];
            int64_t when;
            plist_get_date_val(node, &sec, &usec);
            when = PL_EPOCH + (int64_t)sec;
            civil((when >= 0 ? when : when - 86399) / 86400, &y, &m, &d);
            (void)snprintf(date, sizeof(date), "%04lld-%02u-%02u", (long long)y, m, d);
            *out = json_string(date);
            err = pinset_fidelity_add(t->f, SIZE_MAX, NULL, t->path.s,
                                      "a <date>: TrustKit reads the string 'yyyy-MM-dd' here; "
                                      "taken as its UTC date");
            break;
        }
        return fail(t->diag, PINSET_E_PARSE, &t->path,
                    "a <date>: TrustKit reads strings, booleans, arrays and dictionaries (a "
                    "date only as %s's string 'yyyy-MM-dd')",
                    K_EXPIRES);
    case PLIST_ARRAY: {
        uint32_t n = plist_array_get_size(node);
        *out = json_array();
        for (uint32_t i = 0; err == PINSET_OK && *out != NULL && i < n; i++) {
            size_t saved = path_index(&t->path, i);
            json_t *v = NULL;
            err = tk_value(t, plist_array_get_item(node, i), NULL, depth + 1, &v);
            if (err == PINSET_OK && json_array_append_new(*out, v) != 0) {
                err = PINSET_E_NOMEM;
            }
            path_pop(&t->path, saved);
        }
        break;
    }
    case PLIST_DICT: {
        struct dict_it it;
        char *k = NULL;
        plist_t v = NULL;
        *out = json_object();
        dict_begin(&it, node);
        while (err == PINSET_OK && *out != NULL && dict_next(&it, &k, &v)) {
            size_t saved = path_key(&t->path, k);
            json_t *jv = NULL;
            err = tk_value(t, v, k, depth + 1, &jv);
            if (err == PINSET_OK && json_object_set_new(*out, k, jv) != 0) {
                err = fail(t->diag, PINSET_E_PARSE, &t->path, "a key that is not UTF-8");
            }
            path_pop(&t->path, saved);
            free(k);
            k = NULL;
        }
        free(k);
        dict_end(&it);
        break;
    }
    case PLIST_REAL:
    case PLIST_DATA:
    case PLIST_KEY:
    case PLIST_UID:
    case PLIST_NONE:
    default:
        return fail(t->diag, PINSET_E_PARSE, &t->path,
                    "%s: TrustKit reads strings, booleans, integers, arrays and dictionaries",
                    type_name(node));
    }
    if (err == PINSET_OK && *out == NULL) {
        err = PINSET_DIAG(t->diag, PINSET_E_NOMEM, "out of memory");
    }
    if (err != PINSET_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return err;
}

/* Copy a fidelity list's entries into f. */
static pinset_err copy_fidelity(pinset_fidelity *f, const pinset_fidelity *from)
{
    pinset_err err = PINSET_OK;

    for (size_t i = 0; err == PINSET_OK && i < pinset_fidelity_count(from); i++) {
        err = pinset_fidelity_add(f, pinset_fidelity_rule(from, i), pinset_fidelity_host(from, i),
                                  pinset_fidelity_field(from, i), pinset_fidelity_reason(from, i));
    }
    return err;
}

static pinset_err tk_import(pinset_policy **out, pinset_fidelity *f, plist_t root,
                            const pinset_convert_options *opts, pinset_diag *diag)
{
    struct tk t;
    plist_t cfg = plist_dict_get_item(root, K_TSK), ats;
    json_t *doc = NULL, *jcfg = NULL;
    pinset_fidelity *f2 = NULL;
    char *text = NULL;
    pinset_err err;

    memset(&t, 0, sizeof(t));
    t.f = f;
    t.diag = diag;
    ats = plist_dict_get_item(root, K_ATS);
    if (ats != NULL && plist_get_node_type(ats) == PLIST_DICT &&
        plist_dict_get_item(ats, K_PINNED) != NULL &&
        pinset_fidelity_add(f, SIZE_MAX, NULL, K_ATS "." K_PINNED,
                            "ATS pins beside TrustKit's in one property list: not read with "
                            "them (convert with --from ats)") != PINSET_OK) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (cfg == NULL) {
        return fail(diag, PINSET_E_PARSE, &t.path, "no %s dictionary", K_TSK);
    }
    (void)path_key(&t.path, K_TSK);
    if (plist_get_node_type(cfg) != PLIST_DICT) {
        return fail(diag, PINSET_E_PARSE, &t.path, "%s, not a <dict>", type_name(cfg));
    }
    err = tk_value(&t, cfg, NULL, 0, &jcfg);
    if (err != PINSET_OK) {
        return err;
    }
    doc = json_object();
    if (doc == NULL || json_object_set_new(doc, K_TSK, jcfg) != 0 ||
        (text = json_dumps(doc, JSON_COMPACT)) == NULL) {
        json_decref(doc);
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    json_decref(doc);
    err = pinset_policy_import(out, &f2, (const uint8_t *)text, strlen(text),
                               PINSET_FORMAT_TRUSTKIT, opts, diag);
    free(text);
    if (err != PINSET_OK) {
        /* the path is the property list's; the generated JSON's line and column would mislead */
        pinset__diag_pos(diag, SIZE_MAX, 0, 0, 0);
        return err;
    }
    err = copy_fidelity(f, f2);
    pinset_fidelity_free(f2);
    if (err != PINSET_OK) {
        return PINSET_DIAG(diag, err, "out of memory");
    }
    return PINSET_OK;
}

/* ---- ATS: reading ---- */

struct ats {
    pinset_fidelity *f;
    pinset_diag *diag;
    struct pl_path path;
    json_t *seen; /* canonical host -> true */
};

static pinset_err lose(struct ats *a, const char *reason)
{
    pinset_err err = pinset_fidelity_add(a->f, SIZE_MAX, NULL, a->path.s, reason);
    return err == PINSET_OK ? PINSET_OK : PINSET_DIAG(a->diag, err, "out of memory");
}

/*
 * One identity's SPKI-SHA256-BASE64 into *pin (canonical base64). Foundation's
 * decoder ignores the two unused bits of the last character: accepted,
 * stored canonical and listed.
 */
static pinset_err ats_pin(struct ats *a, plist_t id, char pin[64])
{
    plist_t v;
    char *s = NULL, tmp[48];
    pinset_pin p;
    pinset_err err;
    size_t n;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    if (plist_get_node_type(id) != PLIST_DICT) {
        return fail(a->diag, PINSET_E_PARSE, &a->path, "%s, not a <dict> with %s", type_name(id),
                    K_SPKI);
    }
    v = plist_dict_get_item(id, K_SPKI);
    if (v == NULL) {
        return fail(a->diag, PINSET_E_PARSE, &a->path, "no %s", K_SPKI);
    }
    if (plist_dict_get_size(id) > 1) {
        err = lose(a, "keys other than " K_SPKI " are not read (ATS knows no other)");
        if (err != PINSET_OK) {
            return err;
        }
    }
    (void)path_key(&a->path, K_SPKI);
    if (plist_get_node_type(v) != PLIST_STRING) {
        return fail(a->diag, PINSET_E_PARSE, &a->path, "%s, not a <string>", type_name(v));
    }
    plist_get_string_val(v, &s);
    n = s != NULL ? strlen(s) : 0;
    if (n != 44 || s[43] != '=' || strspn(s, b64) != 43) {
        free(s);
        return fail(a->diag, PINSET_E_PARSE, &a->path,
                    "not the base64 of a SHA-256 digest (44 characters ending in '=')");
    }
    memcpy(tmp, s, 45);
    free(s);
    err = pinset_pin_parse(&p, tmp, 44, PINSET_PIN_SPKI, NULL);
    if (err != PINSET_OK) {
        /* the last character's two unused bits set */
        const char *c = strchr(b64, tmp[42]);
        tmp[42] = b64[(c - b64) & ~3];
        if (pinset_pin_parse(&p, tmp, 44, PINSET_PIN_SPKI, NULL) != PINSET_OK) {
            return fail(a->diag, PINSET_E_PARSE, &a->path, "not valid base64");
        }
        err = lose(a, "not canonical base64 (unused bits set, which Foundation ignores): "
                      "stored canonical");
        if (err != PINSET_OK) {
            return err;
        }
    }
    memcpy(pin, tmp, 45);
    return PINSET_OK;
}

/* One of NSPinnedLeafIdentities / NSPinnedCAIdentities into pins; *count identities. */
static pinset_err ats_ids(struct ats *a, plist_t list, const char *role, json_t *pins,
                          size_t *count)
{
    uint32_t n;

    *count = 0;
    if (plist_get_node_type(list) != PLIST_ARRAY) {
        return fail(a->diag, PINSET_E_PARSE, &a->path, "%s, not an <array>", type_name(list));
    }
    n = plist_array_get_size(list);
    if (n > 256) {
        return fail(a->diag, PINSET_E_LIMIT, &a->path,
                    "%u identities: over the 256 pins a rule may hold", (unsigned)n);
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t saved = path_index(&a->path, i), k;
        char pin[64];
        json_t *o, *e;
        int dup = 0;
        pinset_err err = ats_pin(a, plist_array_get_item(list, i), pin);
        path_pop(&a->path, saved);
        if (err != PINSET_OK) {
            return err;
        }
        json_array_foreach(pins, k, e)
        {
            dup |= strcmp(json_string_value(json_object_get(e, "sha256")), pin) == 0;
        }
        if (dup) {
            (void)path_index(&a->path, i);
            err = lose(a, "a key named twice for one domain: kept once (the first)");
            path_pop(&a->path, saved);
            if (err != PINSET_OK) {
                return err;
            }
            continue;
        }
        o = json_pack("{s:s, s:s, s:s}", "sha256", pin, "kind", "spki", "role", role);
        if (o == NULL || json_array_append_new(pins, o) != 0) {
            return PINSET_DIAG(a->diag, PINSET_E_NOMEM, "out of memory");
        }
        (*count)++;
    }
    return PINSET_OK;
}

static pinset_err ats_domain(struct ats *a, const char *name, plist_t d, json_t *rules)
{
    char host[PINSET_HOST_MAX];
    pinset_host_type type = PINSET_HOST_DNS;
    pinset_diag hd = PINSET_DIAG_INIT;
    struct dict_it it;
    char *k = NULL;
    plist_t v = NULL;
    int subs = 0;
    size_t nleaf = 0, nca = 0, saved;
    json_t *pins = NULL, *rule;
    pinset_err err = PINSET_OK;

    if (plist_get_node_type(d) != PLIST_DICT) {
        return fail(a->diag, PINSET_E_PARSE, &a->path, "%s, not a <dict>", type_name(d));
    }
    if (pinset_host_canon(host, sizeof(host), &type, name, strlen(name), &hd) != PINSET_OK) {
        return fail(a->diag, hd.code == PINSET_E_LIMIT ? PINSET_E_LIMIT : PINSET_E_PARSE, &a->path,
                    "not a domain name or IP address: %s", hd.message);
    }
    if (json_object_get(a->seen, host) != NULL) {
        return fail(a->diag, PINSET_E_PARSE, &a->path, "a second entry for the domain '%s'", host);
    }
    if (json_object_set_new(a->seen, host, json_true()) != 0 || (pins = json_array()) == NULL) {
        return PINSET_DIAG(a->diag, PINSET_E_NOMEM, "out of memory");
    }
    dict_begin(&it, d);
    while (err == PINSET_OK && dict_next(&it, &k, &v)) {
        saved = path_key(&a->path, k);
        if (strcmp(k, K_SUBS) == 0) {
            uint8_t b = 0;
            if (plist_get_node_type(v) != PLIST_BOOLEAN) {
                err = fail(a->diag, PINSET_E_PARSE, &a->path, "%s, not <true/> or <false/>",
                           type_name(v));
            } else {
                plist_get_bool_val(v, &b);
                subs = b != 0;
            }
        } else if (strcmp(k, K_LEAF) == 0) {
            err = ats_ids(a, v, "leaf", pins, &nleaf);
        } else if (strcmp(k, K_CA) == 0) {
            err = ats_ids(a, v, "ca", pins, &nca);
        } else {
            err = lose(a, "not an NSPinnedDomains key: not read");
        }
        path_pop(&a->path, saved);
        free(k);
        k = NULL;
    }
    free(k);
    dict_end(&it);
    if (err == PINSET_OK && nleaf + nca == 0) {
        err = fail(a->diag, PINSET_E_PARSE, &a->path,
                   "no identity: ATS needs %s or %s with at least one %s", K_LEAF, K_CA, K_SPKI);
    }
    if (err == PINSET_OK && nleaf > 0 && nca > 0) {
        err = lose(a, "ATS requires a match in each of " K_LEAF " and " K_CA
                      "; pinset requires one pin of either: the rule is wider than ATS's");
    }
    if (err == PINSET_OK && subs && type != PINSET_HOST_DNS) {
        saved = path_key(&a->path, K_SUBS);
        err = lose(a, "an IP address has no subdomains: ignored, as ATS does");
        path_pop(&a->path, saved);
        subs = 0;
    }
    if (err == PINSET_OK) {
        rule = json_pack("{s:s, s:b, s:O}", "host", host, "include_subdomains", 0, "pins", pins);
        if (rule == NULL || json_array_append_new(rules, rule) != 0) {
            err = PINSET_DIAG(a->diag, PINSET_E_NOMEM, "out of memory");
        }
    }
    if (err == PINSET_OK && subs) {
        /* ATS: the domain and the names one label below it, not deeper */
        rule = json_pack("{s:s, s:s, s:O}", "host", host, "include_subdomains", "one-label", "pins",
                         pins);
        if (rule == NULL || json_array_append_new(rules, rule) != 0) {
            err = PINSET_DIAG(a->diag, PINSET_E_NOMEM, "out of memory");
        }
    }
    json_decref(pins);
    return err;
}

static pinset_err ats_import(pinset_policy **out, pinset_fidelity *f, plist_t root,
                             pinset_diag *diag)
{
    struct ats a;
    plist_t ats = plist_dict_get_item(root, K_ATS), pinned;
    struct dict_it it;
    char *k = NULL;
    plist_t v = NULL;
    json_t *doc = NULL, *rules = NULL;
    pinset_err err = PINSET_OK;

    memset(&a, 0, sizeof(a));
    a.f = f;
    a.diag = diag;
    if (plist_dict_get_item(root, K_TSK) != NULL &&
        pinset_fidelity_add(f, SIZE_MAX, NULL, K_TSK,
                            "TrustKit's pins beside ATS's in one property list: not read with "
                            "them (convert with --from trustkit-plist)") != PINSET_OK) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (ats == NULL) {
        return fail(diag, PINSET_E_PARSE, &a.path,
                    "no %s dictionary: the property list pins nothing", K_ATS);
    }
    (void)path_key(&a.path, K_ATS);
    if (plist_get_node_type(ats) != PLIST_DICT) {
        return fail(diag, PINSET_E_PARSE, &a.path, "%s, not a <dict>", type_name(ats));
    }
    pinned = plist_dict_get_item(ats, K_PINNED);
    if (pinned == NULL) {
        return fail(diag, PINSET_E_PARSE, &a.path, "no %s: the property list pins nothing",
                    K_PINNED);
    }
    dict_begin(&it, ats);
    while (err == PINSET_OK && dict_next(&it, &k, &v)) {
        if (strcmp(k, K_PINNED) != 0) {
            size_t saved = path_key(&a.path, k);
            err = lose(&a, "an ATS setting that is not pinning: not part of a pin policy");
            path_pop(&a.path, saved);
        }
        free(k);
        k = NULL;
    }
    free(k);
    dict_end(&it);
    (void)path_key(&a.path, K_PINNED);
    if (err == PINSET_OK && plist_get_node_type(pinned) != PLIST_DICT) {
        err = fail(diag, PINSET_E_PARSE, &a.path, "%s, not a <dict>", type_name(pinned));
    }
    if (err != PINSET_OK) {
        return err;
    }
    a.seen = json_object();
    rules = json_array();
    doc = json_pack("{s:i, s:o}", "version", 1, "rules", rules);
    if (a.seen == NULL || doc == NULL) {
        json_decref(a.seen);
        json_decref(doc);
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    dict_begin(&it, pinned);
    while (err == PINSET_OK && dict_next(&it, &k, &v)) {
        size_t saved = path_key(&a.path, k);
        err = ats_domain(&a, k, v, rules);
        path_pop(&a.path, saved);
        free(k);
        k = NULL;
    }
    free(k);
    dict_end(&it);
    if (err == PINSET_OK) {
        err = xf_finish(out, doc, diag);
    }
    json_decref(a.seen);
    json_decref(doc);
    return err;
}

pinset_err xf_plist_import(pinset_policy **out, pinset_fidelity *f, pinset_format format,
                           const uint8_t *buf, size_t len, const pinset_convert_options *opts,
                           pinset_diag *diag)
{
    plist_t root = NULL;
    pinset_err err = load(&root, buf, len, diag);

    if (err != PINSET_OK) {
        return err;
    }
    if (format == PINSET_FORMAT_TRUSTKIT_PLIST) {
        err = tk_import(out, f, root, opts, diag);
    } else {
        err = ats_import(out, f, root, diag);
    }
    plist_free(root);
    return err;
}

/* ---- writing ---- */

/* A JSON value (TrustKit's export) as property-list nodes. */
static plist_t to_plist(json_t *v)
{
    plist_t n = NULL;

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        n = plist_new_dict();
        json_object_foreach(v, k, e)
        {
            plist_t c = to_plist(e);
            if (c == NULL) {
                plist_free(n);
                return NULL;
            }
            plist_dict_set_item(n, k, c);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        n = plist_new_array();
        json_array_foreach(v, i, e)
        {
            plist_t c = to_plist(e);
            if (c == NULL) {
                plist_free(n);
                return NULL;
            }
            plist_array_append_item(n, c);
        }
        break;
    }
    case JSON_STRING:
        n = plist_new_string(json_string_value(v));
        break;
    case JSON_TRUE:
        n = plist_new_bool(1);
        break;
    case JSON_FALSE:
        n = plist_new_bool(0);
        break;
    case JSON_INTEGER:
        n = json_integer_value(v) >= 0 ? plist_new_uint((uint64_t)json_integer_value(v)) : NULL;
        break;
    case JSON_REAL:
    case JSON_NULL:
    default:
        break; /* TrustKit's export writes no real and no null */
    }
    return n;
}

/* The whole document as XML, appended to out. Takes root. */
static pinset_err put_xml(plist_t root, struct pinset__buf *out, pinset_diag *diag)
{
    char *xml = NULL;
    uint32_t n = 0;
    pinset_err err;

    plist_to_xml(root, &xml, &n);
    plist_free(root);
    if (xml == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    err = pinset__buf_append(out, xml, n);
    plist_to_xml_free(xml);
    return err == PINSET_OK ? PINSET_OK : PINSET_DIAG(diag, err, "out of memory or over the limit");
}

static pinset_err tk_export(pinset_fidelity *f, const pinset_policy *p,
                            const pinset_convert_options *opts, struct pinset__buf *out,
                            pinset_diag *diag)
{
    struct pinset__buf js;
    pinset_fidelity *f2 = NULL;
    json_t *doc;
    plist_t root, cfg;
    pinset_err err;

    pinset__buf_init(&js, XF_MAX_DOC, 0);
    err = pinset_policy_export(&f2, p, PINSET_FORMAT_TRUSTKIT, opts, pinset__buf_sink, &js, diag);
    if (err != PINSET_OK) {
        pinset__buf_free(&js);
        return err;
    }
    doc = json_loadb((const char *)js.p, js.len, 0, NULL);
    pinset__buf_free(&js);
    cfg = doc != NULL ? to_plist(doc) : NULL;
    json_decref(doc);
    err = copy_fidelity(f, f2);
    pinset_fidelity_free(f2);
    if (cfg == NULL || err != PINSET_OK) {
        plist_free(cfg);
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    root = plist_new_dict();
    plist_dict_set_item(root, K_TSK, cfg);
    return put_xml(root, out, diag);
}

/* ---- ATS: writing ---- */

struct aout {
    pinset_fidelity *f;
    const pinset_rule *r;
    pinset_diag *diag;
};

static pinset_err alose(struct aout *o, const char *field, const char *reason)
{
    pinset_err err =
        pinset_fidelity_add(o->f, pinset_rule_index(o->r), pinset_rule_host(o->r), field, reason);
    return err == PINSET_OK ? PINSET_OK : PINSET_DIAG(o->diag, err, "out of memory");
}

/* Whether two rules hold the same pins with the same roles, in the same order. */
static int same_pins(const pinset_rule *a, const pinset_rule *b)
{
    if (pinset_rule_pin_count(a) != pinset_rule_pin_count(b)) {
        return 0;
    }
    for (size_t i = 0; i < pinset_rule_pin_count(a); i++) {
        if (!pinset_pin_equal(pinset_rule_pin(a, i), pinset_rule_pin(b, i)) ||
            pinset_rule_pin_role(a, i) != pinset_rule_pin_role(b, i)) {
            return 0;
        }
    }
    return 1;
}

/* What ATS cannot say about a rule, besides its pins. */
static pinset_err rule_losses(struct aout *o)
{
    const pinset_rule *r = o->r;
    pinset_err err = PINSET_OK;
    size_t def = pinset_rule_mode(r) == PINSET_MODE_REPORT ? 1 : 2;

    if (pinset_rule_mode(r) == PINSET_MODE_REPORT) {
        err = alose(o, "mode", "ATS has no report-only mode: written enforcing");
    }
    if (err == PINSET_OK && pinset_rule_expires(r) != 0) {
        err = alose(o, "expires", "ATS pins do not expire");
    }
    if (err == PINSET_OK && pinset_rule_report_uri_count(r) > 0) {
        err = alose(o, "report_uris", "ATS sends no reports");
    }
    if (err == PINSET_OK && pinset_rule_blocked_count(r) > 0) {
        err = alose(o, "blocked", "ATS has no blocked keys");
    }
    if (err == PINSET_OK && pinset_rule_min_pins(r) != def) {
        err = alose(o, "min_pins", "ATS has no backup-pin count");
    }
    if (err == PINSET_OK && pinset_rule_pinset_name(r) != NULL) {
        err = alose(o, "pinset", "ATS has no named pin-sets: the pins are written inline");
    }
    return err;
}

/* The rule's SPKI pins as NSPinnedLeafIdentities / NSPinnedCAIdentities of d. */
static pinset_err put_ids(struct aout *o, plist_t d, size_t *written)
{
    const pinset_rule *r = o->r;
    plist_t leaf = plist_new_array(), ca = plist_new_array();
    char b64[128], field[48];
    pinset_err err = PINSET_OK;

    *written = 0;
    for (size_t i = 0; err == PINSET_OK && i < pinset_rule_pin_count(r); i++) {
        const pinset_pin *pin = pinset_rule_pin(r, i);
        pinset_role role = pinset_rule_pin_role(r, i);
        plist_t id;
        (void)snprintf(field, sizeof(field), "pins[%zu]", i);
        if (pin->kind != PINSET_PIN_SPKI) {
            err = alose(o, field, "ATS pins are key (SPKI) hashes: a cert pin is not written");
            continue;
        }
        if (role == PINSET_ROLE_ANY || role == PINSET_ROLE_BACKUP) {
            (void)snprintf(field, sizeof(field), "pins[%zu].role", i);
            err = alose(o, field,
                        "ATS pins a key as the leaf's or a CA's: a pin for any position is "
                        "written as a leaf identity");
        }
        if (err == PINSET_OK && pinset_rule_pin_label(r, i) != NULL) {
            (void)snprintf(field, sizeof(field), "pins[%zu].label", i);
            err = alose(o, field, "ATS identities have no label");
        }
        if (err == PINSET_OK && pinset_rule_pin_not_after(r, i) != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].not_after", i);
            err = alose(o, field, "ATS identities do not expire");
        }
        if (err == PINSET_OK) {
            err = pinset_pin_format(b64, sizeof(b64), pin, PINSET_PIN_FMT_BASE64);
        }
        if (err != PINSET_OK) {
            break;
        }
        id = plist_new_dict();
        plist_dict_set_item(id, K_SPKI, plist_new_string(b64));
        plist_array_append_item(role == PINSET_ROLE_CA ? ca : leaf, id);
        (*written)++;
    }
    if (err == PINSET_OK && plist_array_get_size(leaf) > 0 && plist_array_get_size(ca) > 0) {
        err = alose(o, "pins",
                    "ATS requires a match in each of " K_LEAF " and " K_CA
                    ", pinset one pin of either: ATS is stricter");
    }
    if (err == PINSET_OK && plist_array_get_size(leaf) > 0) {
        plist_dict_set_item(d, K_LEAF, leaf);
        leaf = NULL;
    }
    if (err == PINSET_OK && plist_array_get_size(ca) > 0) {
        plist_dict_set_item(d, K_CA, ca);
        ca = NULL;
    }
    plist_free(leaf);
    plist_free(ca);
    return err;
}

static pinset_err ats_export(pinset_fidelity *f, const pinset_policy *p,
                             const pinset_convert_options *opts, struct pinset__buf *out,
                             pinset_diag *diag)
{
    char want[PINSET_HOST_MAX] = "";
    size_t n = pinset_policy_rule_count(p), selected = 0;
    json_t *onel = json_object(), *other = json_object(), *merged = json_object();
    plist_t root = plist_new_dict(), ats = plist_new_dict(), pinned = plist_new_dict();
    pinset_err err = PINSET_OK;

    plist_dict_set_item(ats, K_PINNED, pinned);
    plist_dict_set_item(root, K_ATS, ats);
    if (onel == NULL || other == NULL || merged == NULL) {
        err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
    }
    if (err == PINSET_OK && opts->host != NULL &&
        pinset_host_canon(want, sizeof(want), NULL, opts->host, strlen(opts->host), diag) !=
            PINSET_OK) {
        err = diag != NULL ? diag->code : PINSET_E_INVALID_ARG;
    }
    /* which hosts have a one-label rule, and which another rule */
    for (size_t i = 0; err == PINSET_OK && i < n; i++) {
        const pinset_rule *r = pinset_policy_rule(p, i);
        if (!pinset_rule_is_exclusion(r)) {
            json_t *into = pinset_rule_scope(r) == PINSET_SCOPE_ONE_LABEL ? onel : other;
            if (json_object_set_new(into, pinset_rule_host(r), json_integer((json_int_t)i)) != 0) {
                err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
            }
        }
    }
    for (size_t i = 0; err == PINSET_OK && i < n; i++) {
        struct aout o = {f, pinset_policy_rule(p, i), diag};
        const char *host = pinset_rule_host(o.r);
        pinset_scope scope = pinset_rule_scope(o.r);
        json_t *partner;
        plist_t d;
        size_t written = 0;
        int subs = 0;

        if (want[0] != '\0' && strcmp(host, want) != 0) {
            continue;
        }
        selected++;
        if (pinset_rule_is_exclusion(o.r)) {
            err = alose(&o, "exclude",
                        "ATS has no exclusions: not written (the parent's pins "
                        "apply to the excluded names)");
            continue;
        }
        if (scope == PINSET_SCOPE_ONE_LABEL) {
            if (json_object_get(merged, host) != NULL) {
                continue; /* written with the host's own rule */
            }
            if (json_object_get(other, host) != NULL) {
                err = alose(&o, "include_subdomains",
                            "not written: an ATS domain gives its names one label below the "
                            "same pins as itself, and the host's rule has other pins");
                continue;
            }
            err = alose(&o, "include_subdomains",
                        "ATS's NSIncludesSubdomains covers the domain itself too: the host is "
                        "pinned as well");
            subs = 1;
        } else if (scope == PINSET_SCOPE_SUBDOMAINS) {
            err = alose(&o, "include_subdomains",
                        "ATS's NSIncludesSubdomains covers one label below the domain only: "
                        "deeper names are not pinned");
            subs = 1;
        } else if ((partner = json_object_get(onel, host)) != NULL) {
            const pinset_rule *pr = pinset_policy_rule(p, (size_t)json_integer_value(partner));
            if (same_pins(o.r, pr) && pinset_rule_mode(o.r) == pinset_rule_mode(pr) &&
                pinset_rule_expires(o.r) == pinset_rule_expires(pr)) {
                /* the one-label rule is written with this one: what it loses is listed too */
                struct aout po = {f, pr, diag};
                plist_t scratch = plist_new_dict();
                size_t unused = 0;
                subs = 1;
                err = rule_losses(&po);
                if (err == PINSET_OK) {
                    err = put_ids(&po, scratch, &unused);
                }
                plist_free(scratch);
                if (err == PINSET_OK && json_object_set_new(merged, host, json_true()) != 0) {
                    err = PINSET_DIAG(diag, PINSET_E_NOMEM, "out of memory");
                }
            }
        }
        if (err == PINSET_OK) {
            err = rule_losses(&o);
        }
        d = plist_new_dict();
        plist_dict_set_item(d, K_SUBS, plist_new_bool(subs));
        if (err == PINSET_OK) {
            err = put_ids(&o, d, &written);
        }
        if (err == PINSET_OK && written == 0) {
            err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED,
                              "rules[%zu] ('%s'): no key pin that ATS can carry", i, host);
        }
        if (err != PINSET_OK) {
            plist_free(d);
            break;
        }
        if (plist_dict_get_item(pinned, host) != NULL) {
            plist_free(d); /* a one-label rule's host already written: listed above */
            continue;
        }
        plist_dict_set_item(pinned, host, d);
    }
    if (err == PINSET_OK && want[0] != '\0' && selected == 0) {
        err = PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "no rule for the host '%s'", want);
    }
    json_decref(onel);
    json_decref(other);
    json_decref(merged);
    if (err != PINSET_OK) {
        plist_free(root);
        return err;
    }
    return put_xml(root, out, diag);
}

pinset_err xf_plist_export(pinset_fidelity *f, const pinset_policy *p, pinset_format format,
                           const pinset_convert_options *opts, struct pinset__buf *out,
                           pinset_diag *diag)
{
    if (format == PINSET_FORMAT_TRUSTKIT_PLIST) {
        return tk_export(f, p, opts, out, diag);
    }
    return ats_export(f, p, opts, out, diag);
}
