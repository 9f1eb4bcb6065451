/*
 * chromium.c - Chromium's static pins JSON (net/http/
 * transport_security_state_static_pins.json, formerly inside
 * transport_security_state_static.json), in and out of the model.
 *
 * The schema is the one the generator reads
 * (net/tools/transport_security_state_generator/input_file_parsers.cc,
 * ParseJSON): top-level "pinsets" [{name, static_spki_hashes,
 * bad_static_spki_hashes, report_uri}] and "entries" [{name, policy, mode,
 * include_subdomains, pins, ...}], with // comments allowed. Chromium names
 * its hashes in a separate .pins file; this converter takes the values
 * inline, "sha256/<base64>", and refuses a bare name (docs/formats.md).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include <pinset/convert.h>

#include "formats/formats.h"
#include "policy/parse.h"
#include "policy/uri.h"
#include "util/buf.h"

#define SHA_PREFIX     "sha256/"
#define SHA_PREFIX_LEN 7

/* One Chromium pinset, as read. */
struct cset {
    const char *name;
    json_t *obj;
    size_t at;        /* its index in "pinsets" */
    size_t refs;      /* entries that name it */
    const char *last; /* the last entry name that names it */
    int last_canon;   /* whether that name's canonical host is the set's name */
    int32_t model;    /* its model pin-set, or -1 (inlined, or not kept) */
};

struct cctx {
    struct pctx c;
    pinset_fidelity *f;
    struct cset *sets; /* sorted by name */
    size_t nsets;
    size_t *rule_entry; /* rule index -> entry index */
};

static pinset_err lose(struct cctx *k, size_t rule, const char *host, const char *field,
                       const char *reason)
{
    pinset_err err = pinset__fidelity_add(k->f, rule, host, field, "%s", reason);

    return err == PINSET_OK ? PINSET_OK : pinset__pj_fail(&k->c, err, "out of memory");
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);

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

static int cmp_set(const void *a, const void *b)
{
    return strcmp(((const struct cset *)a)->name, ((const struct cset *)b)->name);
}

static struct cset *find_set(struct cctx *k, const char *name)
{
    struct cset key = {name, NULL, 0, 0, NULL, 0, -1};

    return bsearch(&key, k->sets, k->nsets, sizeof(*k->sets), cmp_set);
}

/* "sha256/<base64 of 32 octets>"; a bare name needs the .pins file this converter does not read. */
static pinset_err one_hash(struct cctx *k, json_t *v, pinset_pin *pin)
{
    pinset_diag pd = PINSET_DIAG_INIT;
    const char *s;
    size_t n;
    pinset_err err = pinset__pj_want(&k->c, v, JSON_STRING, "a \"sha256/<base64>\" hash");

    if (err != PINSET_OK) {
        return err;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n < SHA_PREFIX_LEN || memcmp(s, SHA_PREFIX, SHA_PREFIX_LEN) != 0) {
        if (n > 0 && s[0] >= 'A' && s[0] <= 'Z') {
            return pinset__pj_fail(&k->c, PINSET_E_UNSUPPORTED,
                                   "'%.64s' is a name from Chromium's .pins file, which is not "
                                   "read: write the hash inline as sha256/<base64>",
                                   s);
        }
        return pinset__pj_fail(&k->c, PINSET_E_PARSE, "expected \"sha256/<base64>\"");
    }
    if (pinset_pin_parse(pin, s + SHA_PREFIX_LEN, n - SHA_PREFIX_LEN, PINSET_PIN_SPKI, &pd) !=
        PINSET_OK) {
        return pinset__pj_fail(&k->c, PINSET_E_PARSE, "%s", pd.message);
    }
    return PINSET_OK;
}

/* Check (pins == NULL) or read a hash list into pins[0..*n_out). */
static pinset_err hash_list(struct cctx *k, json_t *obj, const char *key, pinset_pin *pins,
                            size_t *n_out)
{
    json_t *arr = json_object_get(obj, key), *h;
    size_t n = 0, i;
    pinset_err err = PINSET_OK;

    *n_out = 0;
    if (arr == NULL) {
        return PINSET_OK;
    }
    push_key(&k->c, key);
    err = pinset__pj_want_array(&k->c, arr, "an array of hashes", "hashes",
                                PINSET_MAX_PINS_PER_RULE, &n);
    json_array_foreach(arr, i, h)
    {
        pinset_pin pin;
        if (err != PINSET_OK) {
            break;
        }
        push_idx(&k->c, i);
        err = one_hash(k, h, &pin);
        pop(&k->c);
        if (err == PINSET_OK && pins != NULL) {
            pins[i] = pin;
        }
    }
    pop(&k->c);
    *n_out = err == PINSET_OK ? n : 0;
    return err;
}

/* ---- import: pinsets ---- */

static pinset_err check_set(struct cctx *k, size_t i, json_t *v, struct cset *out)
{
    json_t *name, *val;
    const char *key;
    size_t n;
    pinset_err err;

    push_idx(&k->c, i);
    err = pinset__pj_want(&k->c, v, JSON_OBJECT, "a pinset object");
    json_object_foreach(v, key, val)
    {
        if (err != PINSET_OK) {
            break;
        }
        if (strcmp(key, "report_uri") == 0) {
            struct pinset__uri u;
            pinset_diag ud = PINSET_DIAG_INIT;
            push_key(&k->c, key);
            err = pinset__pj_want(&k->c, val, JSON_STRING, "a uri");
            if (err == PINSET_OK && pinset__uri_parse(&u, json_string_value(val),
                                                      json_string_length(val), &ud) != PINSET_OK) {
                err = pinset__pj_fail(&k->c, PINSET_E_PARSE, "not an http(s) report uri: %s",
                                      ud.message);
            }
            pop(&k->c);
        } else if (strcmp(key, "name") != 0 && strcmp(key, "static_spki_hashes") != 0 &&
                   strcmp(key, "bad_static_spki_hashes") != 0) {
            err = lose(k, SIZE_MAX, NULL, key,
                       "not a Chromium pinset key: ignored, as Chromium "
                       "does");
        }
    }
    name = json_object_get(v, "name");
    if (err == PINSET_OK && name == NULL) {
        err = pinset__pj_fail(&k->c, PINSET_E_PARSE, "missing key 'name'");
    }
    if (err == PINSET_OK) {
        push_key(&k->c, "name");
        err = pinset__pj_want(&k->c, name, JSON_STRING, "a pinset name");
        if (err == PINSET_OK && !name_ok(json_string_value(name))) {
            err = pinset__pj_fail(&k->c, PINSET_E_PARSE,
                                  "a pinset name is 1 to %d characters of letters, digits, '.', "
                                  "'_' and '-'",
                                  MAX_PINSET_NAME);
        }
        pop(&k->c);
    }
    if (err == PINSET_OK) {
        err = hash_list(k, v, "static_spki_hashes", NULL, &n);
    }
    if (err == PINSET_OK) {
        err = hash_list(k, v, "bad_static_spki_hashes", NULL, &n);
    }
    pop(&k->c);
    out->name = err == PINSET_OK ? json_string_value(name) : "";
    out->obj = v;
    out->at = i;
    out->model = -1;
    return err;
}

static pinset_err read_sets(struct cctx *k, json_t *arr)
{
    json_t *v;
    size_t n, i;
    pinset_err err =
        pinset__pj_want_array(&k->c, arr, "an array of pinsets", "pinsets", PINSET_MAX_RULES, &n);

    if (err != PINSET_OK) {
        return err;
    }
    k->sets = pinset__alloc_array(n + 1, sizeof(*k->sets));
    if (k->sets == NULL) {
        return pinset__pj_fail(&k->c, PINSET_E_NOMEM, "out of memory");
    }
    json_array_foreach(arr, i, v)
    {
        err = check_set(k, i, v, &k->sets[i]);
        if (err != PINSET_OK) {
            return err;
        }
    }
    k->nsets = n;
    qsort(k->sets, n, sizeof(*k->sets), cmp_set);
    for (i = 1; i < n; i++) {
        if (strcmp(k->sets[i - 1].name, k->sets[i].name) == 0) {
            size_t at = k->sets[i].at > k->sets[i - 1].at ? k->sets[i].at : k->sets[i - 1].at;
            push_idx(&k->c, at);
            push_key(&k->c, "name");
            return pinset__pj_fail(&k->c, PINSET_E_PARSE, "a second pinset named '%s'",
                                   k->sets[i].name);
        }
    }
    return PINSET_OK;
}

/*
 * A set named by one entry whose canonical host is the set's name is that
 * rule's own pins (what the exporter writes for a rule's own pins); the
 * others are pin-sets.
 */
static int inlined(const struct cset *s)
{
    return s->refs == 1 && s->last_canon;
}

static pinset_err add_model_sets(struct cctx *k)
{
    pinset_pin pins[PINSET_MAX_PINS_PER_RULE];
    pinset_err err = PINSET_OK;

    for (size_t i = 0; i < k->nsets && err == PINSET_OK; i++) {
        struct cset *s = &k->sets[i];
        struct pinset__pinset *ps;
        size_t n = 0, first = k->c.p->npins, kept = 0;
        uint32_t off;
        if (inlined(s)) {
            continue;
        }
        push_key(&k->c, "pinsets");
        push_idx(&k->c, s->at);
        err = hash_list(k, s->obj, "static_spki_hashes", pins, &n);
        pop(&k->c);
        pop(&k->c);
        for (size_t j = 0; err == PINSET_OK && j < n; j++) {
            int dup = 0;
            for (size_t q = first; q < k->c.p->npins; q++) {
                dup |= pinset_pin_equal(&k->c.p->pins[q].pin, &pins[j]);
            }
            struct pinset__pin_entry *e = dup ? NULL : pinset__policy_add_pin(k->c.p);
            if (!dup && e == NULL) {
                err = pinset__pj_fail(&k->c, PINSET_E_NOMEM, "out of memory");
            } else if (!dup) {
                e->pin = pins[j];
                e->role = PINSET_ROLE_ANY;
                kept++;
            }
        }
        if (err != PINSET_OK || kept == 0) {
            if (err == PINSET_OK && s->refs == 0) {
                err = lose(k, SIZE_MAX, NULL, s->name,
                           "pinset with no static hashes, named by "
                           "no entry: not kept");
            }
            continue; /* an entry that names it fails, at its pins */
        }
        err = pinset__policy_add_str(k->c.p, &off, s->name, strlen(s->name));
        ps = err == PINSET_OK ? pinset__policy_add_pinset(k->c.p) : NULL;
        if (ps == NULL) {
            return pinset__pj_fail(&k->c, PINSET_E_NOMEM, "out of memory");
        }
        ps->name = off;
        ps->first = (uint32_t)first;
        ps->count = (uint32_t)kept;
        s->model = (int32_t)(k->c.p->npinsets - 1);
        if (s->refs == 0 && (json_object_get(s->obj, "bad_static_spki_hashes") != NULL ||
                             json_object_get(s->obj, "report_uri") != NULL)) {
            err = lose(k, SIZE_MAX, NULL, s->name,
                       "pinset named by no entry: its bad hashes and report uri are not kept "
                       "(the model keeps them per rule)");
        }
    }
    return err;
}

/* ---- import: entries ---- */

static const char *const entry_keys[] = {
    "name",
    "policy",
    "mode",
    "include_subdomains",
    "include_subdomains_for_pinning",
    "pins",
    "expect_ct",
    "expect_ct_report_uri",
    "expect_staple",
    "expect_staple_report_uri",
    "include_subdomains_for_expect_staple",
    "hpkp_include_subdomains",
};

/* First pass: types and names, and which pinset each entry names. */
static pinset_err check_entry(struct cctx *k, size_t i, json_t *v)
{
    json_t *val;
    const char *key;
    pinset_err err;

    push_idx(&k->c, i);
    err = pinset__pj_want(&k->c, v, JSON_OBJECT, "an entry object");
    json_object_foreach(v, key, val)
    {
        size_t j = 0;
        while (j < PINSET_ARRAY_SIZE(entry_keys) && strcmp(key, entry_keys[j]) != 0) {
            j++;
        }
        if (err != PINSET_OK) {
            break;
        }
        if (j == PINSET_ARRAY_SIZE(entry_keys)) {
            /* Chromium's generator refuses an unknown field in an entry */
            err = pinset__pj_unknown_key(&k->c, key,
                                         "name, policy, mode, include_subdomains, "
                                         "include_subdomains_for_pinning, pins, expect_ct...");
        } else if (strncmp(key, "include_subdomains", 18) == 0 || strcmp(key, "expect_ct") == 0 ||
                   strcmp(key, "expect_staple") == 0 ||
                   strcmp(key, "hpkp_include_subdomains") == 0) {
            push_key(&k->c, key);
            err = pinset__pj_want(&k->c, val, JSON_TRUE, "a boolean");
            pop(&k->c);
        } else {
            push_key(&k->c, key);
            err = pinset__pj_want_text(&k->c, val, PINSET_URI_MAX, "a string");
            pop(&k->c);
        }
    }
    val = json_object_get(v, "name");
    if (err == PINSET_OK && val == NULL) {
        err = pinset__pj_fail(&k->c, PINSET_E_PARSE, "missing key 'name'");
    }
    val = json_object_get(v, "pins");
    if (err == PINSET_OK && val != NULL) {
        struct cset *s = find_set(k, json_string_value(val));
        push_key(&k->c, "pins");
        if (s == NULL) {
            err = pinset__pj_fail(&k->c, PINSET_E_PARSE, "no pinset named '%.64s'",
                                  json_string_value(val));
        } else {
            char canon[PINSET_HOST_MAX];
            pinset_host_type type;
            s->refs++;
            s->last = json_string_value(json_object_get(v, "name"));
            s->last_canon = pinset_host_canon(canon, sizeof(canon), &type, s->last, strlen(s->last),
                                              NULL) == PINSET_OK &&
                            strcmp(canon, s->name) == 0;
        }
        pop(&k->c);
    }
    pop(&k->c);
    return err;
}

/* The parts of a pinned entry that are HSTS or Expect-CT, not pins: listed. */
static pinset_err lose_entry_fields(struct cctx *k, json_t *v, size_t rule, const char *host)
{
    json_t *val;
    const char *key;
    pinset_err err = PINSET_OK;

    json_object_foreach(v, key, val)
    {
        if (err != PINSET_OK) {
            break;
        }
        if (strcmp(key, "mode") == 0) {
            err = lose(k, rule, host, key, "HSTS (force-https) is not part of a pin policy");
        } else if (strcmp(key, "policy") == 0) {
            err = lose(k, rule, host, key, "the preload list's maintenance category is not kept");
        } else if (strncmp(key, "expect_", 7) == 0 ||
                   strcmp(key, "include_subdomains_for_expect_staple") == 0) {
            err = lose(k, rule, host, key, "Expect-CT and Expect-Staple are not pins");
        } else if (strcmp(key, "include_subdomains") == 0 &&
                   json_object_get(v, "include_subdomains_for_pinning") != NULL) {
            err = lose(k, rule, host, key,
                       "HSTS scope: include_subdomains_for_pinning decides the pins' scope");
        }
    }
    return err;
}

static pinset_err rule_pins(struct cctx *k, struct pinset_rule *r, const struct cset *s)
{
    pinset_pin pins[PINSET_MAX_PINS_PER_RULE];
    size_t n = 0;
    int added;
    pinset_err err;

    if (inlined(s)) {
        err = hash_list(k, s->obj, "static_spki_hashes", pins, &n);
        for (size_t j = 0; err == PINSET_OK && j < n; j++) {
            err = pinset__fmt_add_pin(k->c.p, r, &pins[j], PINSET_ROLE_ANY, &added);
        }
    } else {
        err = PINSET_OK;
        r->pinset = s->model;
    }
    if (err == PINSET_OK) {
        err = hash_list(k, s->obj, "bad_static_spki_hashes", pins, &n);
    }
    for (size_t j = 0; err == PINSET_OK && j < n; j++) {
        pinset_pin *b = pinset__policy_add_blocked(k->c.p);
        int dup = 0;
        for (size_t q = 0; b != NULL && q < r->blocked_count; q++) {
            dup |= pinset_pin_equal(&k->c.p->blocked[r->blocked_first + q], &pins[j]);
        }
        if (b == NULL) {
            err = PINSET_E_NOMEM;
        } else if (dup) {
            k->c.p->nblocked--; /* the same bad hash twice counts once */
        } else {
            *b = pins[j];
            if (r->blocked_count++ == 0) {
                r->blocked_first = (uint32_t)(k->c.p->nblocked - 1);
            }
        }
    }
    return err == PINSET_OK ? err : pinset__pj_fail(&k->c, err, "%s", pinset_strerror(err));
}

static pinset_err rule_uri(struct cctx *k, struct pinset_rule *r, const struct cset *s)
{
    json_t *u = json_object_get(s->obj, "report_uri");
    uint32_t *slot;

    if (u == NULL) {
        return PINSET_OK;
    }
    slot = pinset__policy_add_uri(k->c.p);
    if (slot == NULL || pinset__policy_add_str(k->c.p, slot, json_string_value(u),
                                               json_string_length(u)) != PINSET_OK) {
        return pinset__pj_fail(&k->c, PINSET_E_NOMEM, "out of memory");
    }
    r->uris_first = (uint32_t)(k->c.p->nuris - 1);
    r->uris_count = 1;
    return PINSET_OK;
}

static pinset_err entry_rule(struct cctx *k, size_t i, json_t *v)
{
    json_t *sub = json_object_get(v, "include_subdomains_for_pinning");
    const char *name = json_string_value(json_object_get(v, "name"));
    struct cset *s = find_set(k, json_string_value(json_object_get(v, "pins")));
    struct pinset_rule *r;
    char canon[PINSET_HOST_MAX];
    pinset_host_type type;
    pinset_diag hd = PINSET_DIAG_INIT;
    pinset_err err;

    if (s->model < 0 && !inlined(s)) {
        push_key(&k->c, "pins");
        err = pinset__pj_fail(&k->c, PINSET_E_PARSE, "pinset '%s' has no static hashes", s->name);
        pop(&k->c);
        return err;
    }
    push_key(&k->c, "name");
    err = pinset_host_canon(canon, sizeof(canon), &type, name, strlen(name), &hd);
    if (err != PINSET_OK) {
        err = pinset__pj_fail(&k->c, err, "%s", hd.message);
    }
    pop(&k->c);
    r = err == PINSET_OK ? pinset__policy_add_rule(k->c.p) : NULL;
    if (err != PINSET_OK || r == NULL) {
        return err != PINSET_OK ? err : pinset__pj_fail(&k->c, PINSET_E_NOMEM, "out of memory");
    }
    r->index = (uint32_t)(k->c.p->nrules - 1);
    r->pinset = -1;
    r->mode = PINSET_MODE_ENFORCE; /* Chromium's static pins have no report-only mode */
    r->min_pins = 2;
    k->rule_entry[r->index] = i;
    if (sub == NULL) {
        sub = json_object_get(v, "include_subdomains");
    }
    r->flags = json_is_true(sub) ? RULE_F_SUBDOMAINS : 0;
    err = pinset__fmt_rule_host(k->c.p, r, canon, k->c.diag);
    if (err == PINSET_OK) {
        err = rule_pins(k, r, s);
    }
    if (err == PINSET_OK && r->pins_count == 0 && r->pinset < 0) {
        push_key(&k->c, "pins");
        err = pinset__pj_fail(&k->c, PINSET_E_PARSE, "pinset '%s' has no static hashes", s->name);
        pop(&k->c);
    }
    if (err == PINSET_OK) {
        err = rule_uri(k, r, s);
    }
    return err == PINSET_OK ? lose_entry_fields(k, v, r->index, canon) : err;
}

static pinset_err read_entries(struct cctx *k, json_t *arr)
{
    json_t *v;
    size_t n, i;
    char field[40];
    pinset_err err =
        pinset__pj_want_array(&k->c, arr, "an array of entries", "entries", PINSET_MAX_RULES, &n);

    k->rule_entry = err == PINSET_OK ? pinset__alloc_array(n + 1, sizeof(size_t)) : NULL;
    if (err == PINSET_OK && k->rule_entry == NULL) {
        return pinset__pj_fail(&k->c, PINSET_E_NOMEM, "out of memory");
    }
    json_array_foreach(arr, i, v)
    {
        if (err != PINSET_OK) {
            break;
        }
        err = check_entry(k, i, v);
    }
    if (err == PINSET_OK) {
        pop(&k->c);
        err = add_model_sets(k);
        push_key(&k->c, "entries");
    }
    json_array_foreach(arr, i, v)
    {
        if (err != PINSET_OK) {
            break;
        }
        if (json_object_get(v, "pins") == NULL) {
            (void)snprintf(field, sizeof(field), "entries[%zu]", i);
            err = lose(k, SIZE_MAX, json_string_value(json_object_get(v, "name")), field,
                       "an entry without pins is HSTS only: not a pin rule");
            continue;
        }
        push_idx(&k->c, i);
        err = entry_rule(k, i, v);
        pop(&k->c);
    }
    return err;
}

/* ---- import: the document ---- */

static pinset_err finish(struct cctx *k)
{
    size_t bad = SIZE_MAX;
    pinset_err err = pinset__policy_finish(k->c.p, &bad, NULL);

    if (err == PINSET_OK || bad == SIZE_MAX) {
        return err == PINSET_OK ? err : PINSET_DIAG(k->c.diag, err, "%s", pinset_strerror(err));
    }
    push_key(&k->c, "entries");
    push_idx(&k->c, k->rule_entry[bad]);
    push_key(&k->c, "name");
    return pinset__pj_fail(&k->c, err, "a second entry for '%s'",
                           pinset__policy_str(k->c.p, k->c.p->rules[bad].host));
}

static pinset_err top(struct cctx *k, json_t *root)
{
    json_t *sets = NULL, *entries = NULL, *val;
    const char *key;
    pinset_err err = pinset__pj_want(&k->c, root, JSON_OBJECT, "an object with pinsets, entries");

    json_object_foreach(root, key, val)
    {
        if (err != PINSET_OK) {
            break;
        }
        if (strcmp(key, "pinsets") == 0) {
            sets = val;
        } else if (strcmp(key, "entries") == 0) {
            entries = val;
        } else {
            err = lose(k, SIZE_MAX, NULL, key, "not read: only pinsets and entries are");
        }
    }
    if (err == PINSET_OK && (sets == NULL || entries == NULL)) {
        err = pinset__pj_fail(&k->c, PINSET_E_PARSE, "missing key '%s'",
                              sets == NULL ? "pinsets" : "entries");
    }
    if (err == PINSET_OK) {
        push_key(&k->c, "pinsets");
        err = read_sets(k, sets);
        pop(&k->c);
    }
    if (err == PINSET_OK) {
        push_key(&k->c, "entries");
        err = read_entries(k, entries);
        pop(&k->c);
    }
    return err == PINSET_OK ? finish(k) : err;
}

pinset_err pinset__chromium_import(pinset_policy *p, pinset_fidelity *f, const uint8_t *buf,
                                   size_t len, const pinset_convert_options *opts,
                                   pinset_diag *diag)
{
    struct cctx k;
    json_t *root = NULL;
    uint8_t *text = NULL;
    pinset_err err = pinset__fjson_load(&root, &text, buf, len, 1, diag);

    (void)opts; /* the entries name their hosts */
    if (err != PINSET_OK) {
        return err;
    }
    memset(&k, 0, sizeof(k));
    k.c.buf = text;
    k.c.len = len;
    k.c.diag = diag;
    k.c.p = p;
    k.f = f;
    err = top(&k, root);
    if (err != PINSET_OK) {
        pinset__fjson_clean(diag);
    }
    pinset__free(k.sets);
    pinset__free(k.rule_entry);
    json_decref(root);
    pinset__free(text);
    return err;
}

/* ---- export ---- */

struct cout {
    pinset_fidelity *f;
    const pinset_policy *p;
    const struct pinset_rule *r;
    const char *host;
    json_t *sets; /* name -> pinset object, in the order written */
    pinset_diag *diag;
};

static pinset_err out_lose(struct cout *o, const char *field, const char *reason)
{
    return pinset__fidelity_add(o->f, o->r != NULL ? o->r->index : SIZE_MAX, o->host, field, "%s",
                                reason);
}

static pinset_err set_new(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0 ? PINSET_OK : PINSET_E_NOMEM;
}

/* Set obj[key] = v when err is PINSET_OK; v is consumed either way. */
static pinset_err steal(pinset_err err, json_t *obj, const char *key, json_t *v)
{
    if (err != PINSET_OK) {
        json_decref(v);
        return err;
    }
    return set_new(obj, key, v);
}

static pinset_err append_hash(json_t *arr, const pinset_pin *pin)
{
    char b64[PINSET_PIN_STR_MAX], s[PINSET_PIN_STR_MAX + SHA_PREFIX_LEN];
    pinset_err err = pinset_pin_format(b64, sizeof(b64), pin, PINSET_PIN_FMT_BASE64);

    if (err != PINSET_OK) {
        return err;
    }
    (void)snprintf(s, sizeof(s), SHA_PREFIX "%s", b64);
    return json_array_append_new(arr, json_string(s)) == 0 ? PINSET_OK : PINSET_E_NOMEM;
}

/* The pins of entries [first, first + count) of a pin array; what Chromium cannot say, listed. */
static pinset_err put_static(struct cout *o, json_t *arr, const struct pinset__pin_entry *e,
                             size_t count, size_t base)
{
    char field[48];
    pinset_err err = PINSET_OK;

    for (size_t i = 0; i < count && err == PINSET_OK; i++) {
        (void)snprintf(field, sizeof(field), "pins[%zu]", base + i);
        if (e[i].pin.kind != PINSET_PIN_SPKI) {
            err = out_lose(o, field, "Chromium pins are key hashes: a cert pin is not written");
            continue;
        }
        if (e[i].role != PINSET_ROLE_ANY) {
            (void)snprintf(field, sizeof(field), "pins[%zu].role", base + i);
            err = out_lose(o, field,
                           "Chromium has no pin roles: the pin matches anywhere in the "
                           "chain");
        }
        if (err == PINSET_OK && e[i].not_after != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].not_after", base + i);
            err = out_lose(o, field, "Chromium has no expiry date for a pin");
        }
        if (err == PINSET_OK && e[i].label != 0) {
            (void)snprintf(field, sizeof(field), "pins[%zu].label", base + i);
            err = out_lose(o, field, "Chromium has no pin labels");
        }
        if (err == PINSET_OK) {
            err = append_hash(arr, &e[i].pin);
        }
    }
    return err;
}

/* The Chromium pinset a rule names: its blocked pins and first report uri go with it. */
static pinset_err rule_set(struct cout *o, const char *name, json_t **out)
{
    const struct pinset_rule *r = o->r;
    json_t *set = json_object(), *st = json_array(), *bad = json_array();
    pinset_err err = set == NULL || st == NULL || bad == NULL ? PINSET_E_NOMEM : PINSET_OK;

    if (err == PINSET_OK && r->pinset >= 0) {
        const struct pinset__pinset *ps = &o->p->pinsets[r->pinset];
        err = put_static(o, st, &o->p->pins[ps->first], ps->count, 0);
    }
    if (err == PINSET_OK) {
        err = put_static(o, st, &o->p->pins[r->pins_first], r->pins_count,
                         pinset__fmt_pin_count(o->p, r) - r->pins_count);
    }
    for (size_t i = 0; err == PINSET_OK && i < r->blocked_count; i++) {
        err = append_hash(bad, &o->p->blocked[r->blocked_first + i]);
    }
    if (err == PINSET_OK && json_array_size(st) == 0) {
        err = PINSET_DIAG(o->diag, PINSET_E_UNSUPPORTED,
                          "rule %u (%s): no key pin: Chromium can use none of its pins",
                          (unsigned)r->index, o->host);
    }
    err = err == PINSET_OK ? set_new(set, "name", json_string(name)) : err;
    err = steal(err, set, "static_spki_hashes", st);
    st = NULL;
    if (err == PINSET_OK && json_array_size(bad) > 0) {
        err = set_new(set, "bad_static_spki_hashes", bad);
        bad = NULL;
    }
    for (size_t i = 0; err == PINSET_OK && i < r->uris_count; i++) {
        const char *u = pinset__policy_str(o->p, o->p->uris[r->uris_first + i]);
        struct pinset__uri pu;
        char field[40];
        (void)snprintf(field, sizeof(field), "report_uris[%zu]", i);
        if (json_object_get(set, "report_uri") != NULL) {
            err = out_lose(o, field, "a Chromium pinset has one report_uri: not written");
        } else if (pinset__uri_parse(&pu, u, strlen(u), NULL) != PINSET_OK) {
            err = out_lose(o, field, "not an absolute http(s) uri: not written");
        } else {
            err = set_new(set, "report_uri", json_string(u));
        }
    }
    json_decref(st);
    json_decref(bad);
    if (err != PINSET_OK) {
        json_decref(set);
        return err;
    }
    *out = set;
    return PINSET_OK;
}

/* Whether r is the only rule that names its pin-set. */
static int sole_user(const pinset_policy *p, const struct pinset_rule *r)
{
    for (size_t i = 0; i < p->nrules; i++) {
        if (p->rules[i].pinset == r->pinset && i != r->index) {
            return 0;
        }
    }
    return 1;
}

/*
 * Name the rule's Chromium pinset: a rule that only names a pin-set shares
 * it (when the pin-set's other rules have the same blocked pins and report
 * uri); any other rule gets a pinset of its own, named after its host (the
 * importer reads that back as the rule's own pins).
 */
static pinset_err place_rule(struct cout *o, const char **name_out)
{
    const struct pinset_rule *r = o->r;
    const char *name = o->host;
    json_t *set = NULL, *old;
    pinset_err err;

    if (r->pins_count == 0 && r->pinset >= 0) {
        name = pinset__policy_str(o->p, o->p->pinsets[r->pinset].name);
        if (strcmp(name, o->host) == 0 && sole_user(o->p, r)) {
            err = out_lose(o, "pinset",
                           "a pinset named after the host of its only entry reads back as the "
                           "rule's own pins");
            if (err != PINSET_OK) {
                return err;
            }
        }
    } else if (r->pinset >= 0) {
        err = out_lose(o, "pinset",
                       "the pins of the pin-set and the rule's own are written as one Chromium "
                       "pinset named after the host");
        if (err != PINSET_OK) {
            return err;
        }
    }
    err = rule_set(o, name, &set);
    old = err == PINSET_OK ? json_object_get(o->sets, name) : NULL;
    if (old != NULL && !json_equal(old, set) && name != o->host) {
        name = o->host; /* same pin-set, other blocked pins or uri: a pinset of its own */
        json_decref(set);
        set = NULL;
        err = out_lose(o, "pinset",
                       "Chromium keeps blocked keys and the report uri per pinset, and the "
                       "pin-set's first rule has others: its pins are written as a pinset named "
                       "after the host");
        err = err == PINSET_OK ? rule_set(o, name, &set) : err;
        old = err == PINSET_OK ? json_object_get(o->sets, name) : NULL;
    }
    if (err == PINSET_OK && old != NULL && !json_equal(old, set)) {
        err = PINSET_DIAG(o->diag, PINSET_E_UNSUPPORTED,
                          "rule %u (%s): a pin-set of that name has other pins: Chromium pinset "
                          "names would clash",
                          (unsigned)r->index, o->host);
    }
    if (err == PINSET_OK && old == NULL) {
        err = set_new(o->sets, name, set);
        set = NULL;
    }
    json_decref(set);
    *name_out = name;
    return err;
}

static pinset_err lose_rule(struct cout *o)
{
    const struct pinset_rule *r = o->r;
    pinset_err err = PINSET_OK;

    if (r->mode == PINSET_MODE_REPORT) {
        err = out_lose(o, "mode", "Chromium's static pins are enforced: no report-only mode");
    }
    if (err == PINSET_OK && r->expires != 0) {
        err = out_lose(o, "expires",
                       "Chromium has no expiry per entry (the whole list expires "
                       "with the browser build)");
    }
    if (err == PINSET_OK && r->min_pins != 2) {
        err = out_lose(o, "min_pins", "Chromium has no min_pins");
    }
    return err;
}

static pinset_err put_entry(struct cout *o, json_t *entries)
{
    json_t *e;
    const char *name = NULL;
    pinset_err err;

    if (o->r->flags & RULE_F_EXCLUDE) {
        return out_lose(o, "exclude", "Chromium has no exclusions: the rule is not written");
    }
    if (o->r->flags & RULE_F_ONE_LABEL) {
        return out_lose(o, "include_subdomains",
                        "Chromium has no one-label scope: the rule is not written, so the names "
                        "one label below its host are not pinned by it");
    }
    err = lose_rule(o);
    if (err == PINSET_OK) {
        err = place_rule(o, &name);
    }
    e = err == PINSET_OK ? json_object() : NULL;
    if (err == PINSET_OK && e == NULL) {
        err = PINSET_E_NOMEM;
    }
    err = err == PINSET_OK ? set_new(e, "name", json_string(o->host)) : err;
    err = err == PINSET_OK
              ? set_new(e, "include_subdomains", json_boolean(o->r->flags & RULE_F_SUBDOMAINS))
              : err;
    err = err == PINSET_OK ? set_new(e, "pins", json_string(name)) : err;
    if (err == PINSET_OK) {
        return json_array_append_new(entries, e) == 0 ? PINSET_OK : PINSET_E_NOMEM;
    }
    json_decref(e);
    return err;
}

/* A pin-set no written rule names: its pins (written when the whole policy is). */
static pinset_err put_unused_set(struct cout *o, size_t i)
{
    const struct pinset__pinset *ps = &o->p->pinsets[i];
    const char *name = pinset__policy_str(o->p, ps->name);
    json_t *set, *st;
    pinset_err err;

    if (json_object_get(o->sets, name) != NULL) {
        return PINSET_OK;
    }
    set = json_object();
    st = json_array();
    o->r = NULL;
    o->host = NULL;
    err = set == NULL || st == NULL ? PINSET_E_NOMEM : PINSET_OK;
    err = err == PINSET_OK ? put_static(o, st, &o->p->pins[ps->first], ps->count, 0) : err;
    err = err == PINSET_OK ? set_new(set, "name", json_string(name)) : err;
    err = steal(err, set, "static_spki_hashes", st);
    return steal(err, o->sets, name, set);
}

static int dump_sink(const char *buf, size_t len, void *payload)
{
    return pinset__buf_append(payload, buf, len) == PINSET_OK ? 0 : -1;
}

static pinset_err write_doc(json_t *sets, json_t *entries, struct pinset__buf *out)
{
    json_t *root = json_object(), *arr = json_array(), *v;
    const char *key;
    pinset_err err = root == NULL || arr == NULL ? PINSET_E_NOMEM : PINSET_OK;

    json_object_foreach(sets, key, v)
    {
        if (err == PINSET_OK && json_array_append(arr, v) != 0) {
            err = PINSET_E_NOMEM;
        }
    }
    err = steal(err, root, "pinsets", arr);
    arr = NULL;
    if (err == PINSET_OK && json_object_set(root, "entries", entries) != 0) {
        err = PINSET_E_NOMEM;
    }
    if (err == PINSET_OK && (json_dump_callback(root, dump_sink, out, JSON_INDENT(2)) != 0 ||
                             pinset__buf_append(out, "\n", 1) != PINSET_OK)) {
        err = PINSET_E_NOMEM;
    }
    json_decref(arr);
    json_decref(root);
    return err;
}

pinset_err pinset__chromium_export(pinset_fidelity *f, const pinset_policy *p,
                                   const pinset_convert_options *opts, struct pinset__buf *out,
                                   pinset_diag *diag)
{
    struct cout o = {f, p, NULL, NULL, json_object(), diag};
    json_t *entries = json_array();
    size_t first = 0, count = 0;
    pinset_err err = o.sets == NULL || entries == NULL ? PINSET_E_NOMEM : PINSET_OK;

    if (err == PINSET_OK) {
        err = pinset__fmt_select(p, opts, &first, &count, diag);
    }
    for (size_t i = first; err == PINSET_OK && i < first + count; i++) {
        o.r = &p->rules[i];
        o.host = pinset__policy_str(p, o.r->host);
        err = put_entry(&o, entries);
    }
    for (size_t i = 0; err == PINSET_OK && opts->host == NULL && i < p->npinsets; i++) {
        err = put_unused_set(&o, i);
    }
    if (err == PINSET_OK) {
        err = write_doc(o.sets, entries, out);
    }
    json_decref(entries);
    json_decref(o.sets);
    return err;
}
