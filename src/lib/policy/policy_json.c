/*
 * policy_json.c - the native policy format (JSON, docs/policy-format.md):
 * a strict parser on jansson and the canonical writer.
 *
 * jansson 2.14 reports line and column for syntax errors only; it keeps no
 * position per value. For a semantic error we know the JSON path of the
 * failing value, and locate() re-scans the (already valid) text along that
 * path to find the value's line and column.
 */
#define _POSIX_C_SOURCE 200809L /* open, fstat, read */

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pinset/policy.h>

#include "internal.h"
#include "policy/policy_int.h"
#include "util/read.h"
#include "util/rfc3339.h"

#define POLICY_VERSION    1
#define MAX_PATH_DEPTH    8
#define MAX_LABEL_LEN     256
#define MAX_URI_LEN       2048
#define MAX_URIS_PER_RULE 16
#define MAX_PINSET_NAME   64
#define MIN_TIME          1 /* 1970-01-01T00:00:01Z: 0 means "never" */

/* ---- the JSON path of the value being parsed ---- */

struct jpath_elem {
    const char *key; /* NULL: an array index */
    size_t idx;
};

struct pctx {
    const uint8_t *buf;
    size_t len;
    pinset_diag *diag;
    pinset_policy *p;
    size_t depth;
    int at_key; /* the error is about the last key itself, not its value */
    struct jpath_elem path[MAX_PATH_DEPTH];
};

static void push_key(struct pctx *c, const char *key)
{
    if (c->depth < MAX_PATH_DEPTH) {
        c->path[c->depth].key = key;
        c->path[c->depth].idx = 0;
    }
    c->depth++;
}

static void push_idx(struct pctx *c, size_t idx)
{
    if (c->depth < MAX_PATH_DEPTH) {
        c->path[c->depth].key = NULL;
        c->path[c->depth].idx = idx;
    }
    c->depth++;
}

static void pop(struct pctx *c)
{
    c->depth--;
}

static int simple_key(const char *k)
{
    if (*k == '\0') {
        return 0;
    }
    for (; *k != '\0'; k++) {
        unsigned char ch = (unsigned char)*k;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-')) {
            return 0;
        }
    }
    return 1;
}

static void format_path(const struct pctx *c, char *out, size_t cap)
{
    size_t n = 0;
    size_t depth = c->depth < MAX_PATH_DEPTH ? c->depth : MAX_PATH_DEPTH;

    out[0] = '\0';
    for (size_t i = 0; i < depth && n < cap; i++) {
        const struct jpath_elem *e = &c->path[i];
        int w;
        if (e->key == NULL) {
            w = snprintf(out + n, cap - n, "[%zu]", e->idx);
        } else if (simple_key(e->key)) {
            w = snprintf(out + n, cap - n, "%s%s", n == 0 ? "" : ".", e->key);
        } else {
            w = snprintf(out + n, cap - n, "[\"%s\"]", e->key);
        }
        if (w < 0) {
            break;
        }
        n += (size_t)w;
    }
}

/* ---- locating a value in valid JSON text (for semantic errors) ---- */

static size_t skip_ws(const uint8_t *b, size_t n, size_t i)
{
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
        i++;
    }
    return i;
}

/* i at the opening quote; returns the index after the closing quote */
static size_t skip_string(const uint8_t *b, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (b[i] == '\\') {
            i++;
        } else if (b[i] == '"') {
            return i + 1;
        }
    }
    return n;
}

static size_t skip_value(const uint8_t *b, size_t n, size_t i)
{
    size_t depth = 0;

    i = skip_ws(b, n, i);
    while (i < n) {
        uint8_t ch = b[i];
        if (ch == '"') {
            i = skip_string(b, n, i);
            if (depth == 0) {
                return i;
            }
            continue;
        }
        if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0) {
                return i; /* end of the enclosing container: a scalar ended here */
            }
            if (--depth == 0) {
                return i + 1;
            }
        } else if (depth == 0 &&
                   (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')) {
            return i;
        }
        i++;
    }
    return n;
}

/* Offset of the value at path[0..depth) starting from the value at i, or SIZE_MAX. */
static size_t locate(const uint8_t *b, size_t n, const struct jpath_elem *path, size_t depth,
                     int at_key, size_t i)
{
    for (size_t d = 0; d < depth; d++) {
        const struct jpath_elem *e = &path[d];
        i = skip_ws(b, n, i);
        if (i >= n) {
            return SIZE_MAX;
        }
        if (e->key == NULL) {
            if (b[i] != '[') {
                return SIZE_MAX;
            }
            i++;
            for (size_t k = 0; k < e->idx; k++) {
                i = skip_ws(b, n, skip_value(b, n, i));
                if (i >= n || b[i] != ',') {
                    return SIZE_MAX;
                }
                i++;
            }
            i = skip_ws(b, n, i);
            continue;
        }
        if (b[i] != '{') {
            return SIZE_MAX;
        }
        i++;
        for (;;) {
            size_t ks, ke, klen = strlen(e->key);
            i = skip_ws(b, n, i);
            if (i >= n || b[i] != '"') {
                return SIZE_MAX;
            }
            ks = i + 1;
            ke = skip_string(b, n, i) - 1;
            i = skip_ws(b, n, ke + 1);
            if (i >= n || b[i] != ':') {
                return SIZE_MAX;
            }
            i = skip_ws(b, n, i + 1);
            /* keys written with escapes are not matched: position unknown */
            if (ke - ks == klen && memcmp(b + ks, e->key, klen) == 0) {
                if (at_key && d + 1 == depth) {
                    return ks - 1; /* the key's opening quote */
                }
                break;
            }
            i = skip_ws(b, n, skip_value(b, n, i));
            if (i >= n || b[i] != ',') {
                return SIZE_MAX;
            }
            i++;
        }
    }
    return skip_ws(b, n, i);
}

static void offset_to_pos(const uint8_t *b, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;

    for (size_t i = 0; i < off; i++) {
        if (b[i] == '\n') {
            l++;
            c = 1;
        } else if ((b[i] & 0xC0) != 0x80) {
            c++; /* columns count characters, as jansson's do */
        }
    }
    *line = l;
    *col = c;
}

static pinset_err fail(struct pctx *c, pinset_err code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static pinset_err fail(struct pctx *c, pinset_err code, const char *fmt, ...)
{
    char path[PINSET_DIAG_PATH_MAX];
    char msg[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;
    size_t off, line = 0, col = 0;

    if (c->diag == NULL) {
        return code;
    }
    format_path(c, path, sizeof(path));
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)PINSET_DIAG(c->diag, code, "%s%s%s", path, path[0] != '\0' ? ": " : "", msg);
    pinset__diag_path(c->diag, path);
    off = c->depth <= MAX_PATH_DEPTH ? locate(c->buf, c->len, c->path, c->depth, c->at_key, 0)
                                     : SIZE_MAX;
    if (off != SIZE_MAX && off < c->len) {
        offset_to_pos(c->buf, off, &line, &col);
        pinset__diag_pos(c->diag, SIZE_MAX, line, col, off);
    }
    return code;
}

/* ---- typed readers ---- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    default:
        return "an unknown value";
    }
}

static pinset_err want(struct pctx *c, const json_t *v, json_type t, const char *what)
{
    int ok = t == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == t;

    if (!ok) {
        return fail(c, PINSET_E_PARSE, "expected %s, got %s", what, type_name(v));
    }
    return PINSET_OK;
}

/* An array of at most max elements ("%zu <noun> exceed the limit of <max>" otherwise). */
static pinset_err want_array(struct pctx *c, const json_t *v, const char *what, const char *noun,
                             size_t max, size_t *n_out)
{
    pinset_err err = want(c, v, JSON_ARRAY, what);

    if (err != PINSET_OK) {
        return err;
    }
    *n_out = json_array_size(v);
    if (*n_out > max) {
        return fail(c, PINSET_E_LIMIT, "%zu %s exceed the limit of %zu", *n_out, noun, max);
    }
    return PINSET_OK;
}

/* Matches a string value against a table; *out receives the index. */
static pinset_err want_enum(struct pctx *c, const json_t *v, const char *const *names, size_t n,
                            const char *what, int *out)
{
    pinset_err err = want(c, v, JSON_STRING, what);

    if (err != PINSET_OK) {
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        if (strlen(names[i]) == json_string_length(v) &&
            strcmp(names[i], json_string_value(v)) == 0) {
            *out = (int)i;
            return PINSET_OK;
        }
    }
    return fail(c, PINSET_E_PARSE, "expected %s, got '%.64s'", what, json_string_value(v));
}

/* The policy format's times: strict RFC 3339 UTC (util/rfc3339.c), after the epoch. */
int pinset__parse_time(const char *s, size_t len, int64_t *out)
{
    if (pinset__time_parse(out, s, len, 0) != 0) {
        return -1;
    }
    return *out < MIN_TIME ? -1 : 0;
}

static pinset_err want_time(struct pctx *c, const json_t *v, int64_t *out)
{
    pinset_err err = want(c, v, JSON_STRING, "an rfc 3339 utc time");

    if (err != PINSET_OK) {
        return err;
    }
    if (pinset__parse_time(json_string_value(v), json_string_length(v), out) != 0) {
        return fail(c, PINSET_E_PARSE,
                    "expected an rfc 3339 utc time such as 2027-01-01T00:00:00Z or a date "
                    "such as 2027-01-01, got '%.40s'",
                    json_string_value(v));
    }
    return PINSET_OK;
}

/* A printable string of 1..max octets without control characters. */
static pinset_err want_text(struct pctx *c, const json_t *v, size_t max, const char *what)
{
    pinset_err err = want(c, v, JSON_STRING, what);
    const char *s;
    size_t n;

    if (err != PINSET_OK) {
        return err;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0) {
        return fail(c, PINSET_E_PARSE, "expected %s, got an empty string", what);
    }
    if (n > max) {
        return fail(c, PINSET_E_LIMIT, "%s of %zu octets exceeds %zu", what, n, max);
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return fail(c, PINSET_E_PARSE, "control character in %s", what);
        }
    }
    return PINSET_OK;
}

static pinset_err unknown_key(struct pctx *c, const char *key, const char *allowed)
{
    pinset_err err;

    push_key(c, key);
    c->at_key = 1;
    err = fail(c, PINSET_E_PARSE, "unknown key '%.48s' (expected one of: %s)", key, allowed);
    c->at_key = 0;
    pop(c);
    return err;
}

/* ---- pins ---- */

static const char *const kind_names[] = {"spki", "cert"};
static const char *const role_names[] = {"any", "leaf", "ca", "backup"};
static const char *const mode_names[] = {"enforce", "report"};
static const char *const expiry_names[] = {"none", "fail-open", "fail-closed", "report"};

static pinset_err parse_sha256(struct pctx *c, const json_t *v, pinset_pin_kind kind,
                               pinset_pin *out)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = want(c, v, JSON_STRING, "a sha-256 pin string");

    if (err != PINSET_OK) {
        return err;
    }
    err = pinset_pin_parse(out, json_string_value(v), json_string_length(v), kind, &d);
    if (err != PINSET_OK) {
        return fail(c, err, "%s", d.message[0] != '\0' ? d.message : pinset_strerror(err));
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
        return fail(c, PINSET_E_PARSE, "expected a pin (a string or an object), got %s",
                    type_name(v));
    }
    json_object_foreach(v, key, val)
    {
        push_key(c, key);
        if (strcmp(key, "sha256") == 0) {
            sha = val;
        } else if (strcmp(key, "kind") == 0) {
            err = want_enum(c, val, kind_names, 2, "'spki' or 'cert'", &kind);
        } else if (!blocked && strcmp(key, "role") == 0) {
            err = want_enum(c, val, role_names, 4, "'any', 'leaf', 'ca' or 'backup'", &role);
        } else if (!blocked && strcmp(key, "label") == 0) {
            err = want_text(c, val, MAX_LABEL_LEN, "a label");
            if (err == PINSET_OK) {
                err = pinset__policy_add_str(c->p, &out->label, json_string_value(val),
                                             json_string_length(val));
                if (err != PINSET_OK) {
                    err = fail(c, err, "out of memory");
                }
            }
        } else if (!blocked && strcmp(key, "not_after") == 0) {
            err = want_time(c, val, &out->not_after);
        } else {
            pop(c);
            return unknown_key(c, key, blocked ? BLOCKED_KEYS : PIN_KEYS);
        }
        pop(c);
        if (err != PINSET_OK) {
            return err;
        }
    }
    if (sha == NULL) {
        return fail(c, PINSET_E_PARSE, "missing key 'sha256'");
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
    pinset_err err = want_array(c, arr, "an array of pins", "pins", max, &n);

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
                err = fail(c, PINSET_E_NOMEM, "out of memory");
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
    pinset_err err =
        want_array(c, arr, "an array of pins", "blocked pins", PINSET_MAX_PINS_PER_RULE, &n);

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
                err = fail(c, PINSET_E_NOMEM, "out of memory");
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
    pinset_err err =
        want_array(c, arr, "an array of report uris", "report uris", MAX_URIS_PER_RULE, &n);

    if (err != PINSET_OK) {
        return err;
    }
    r->uris_first = (uint32_t)c->p->nuris;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        uint32_t *slot;
        push_idx(c, i);
        err = want_text(c, v, MAX_URI_LEN, "an http or https uri");
        if (err == PINSET_OK && !uri_ok(json_string_value(v), json_string_length(v))) {
            err =
                fail(c, PINSET_E_PARSE, "expected an http or https uri without spaces, got '%.64s'",
                     json_string_value(v));
        }
        if (err == PINSET_OK) {
            slot = pinset__policy_add_uri(c->p);
            if (slot == NULL) {
                err = fail(c, PINSET_E_NOMEM, "out of memory");
            } else {
                err =
                    pinset__policy_add_str(c->p, slot, json_string_value(v), json_string_length(v));
                if (err != PINSET_OK) {
                    err = fail(c, err, "out of memory");
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
        return fail(c, PINSET_E_PARSE,
                    "a pin-set name is 1 to %d characters of letters, digits, '.', '_' and '-'",
                    MAX_PINSET_NAME);
    }
    err = want(c, v, JSON_OBJECT, "a pin-set object");
    if (err != PINSET_OK) {
        return err;
    }
    json_object_foreach(v, key, val)
    {
        if (strcmp(key, "pins") != 0) {
            return unknown_key(c, key, "pins");
        }
        pins = val;
    }
    if (pins == NULL) {
        return fail(c, PINSET_E_PARSE, "missing key 'pins'");
    }
    push_key(c, "pins");
    err = parse_pin_array(c, pins, PINSET_MAX_PINS_PER_RULE, &first, &count);
    if (err == PINSET_OK && count == 0) {
        err = fail(c, PINSET_E_PARSE, "a pin-set needs at least one pin");
    }
    pop(c);
    if (err != PINSET_OK) {
        return err;
    }
    err = pinset__policy_add_str(c->p, &off, name, strlen(name));
    ps = err == PINSET_OK ? pinset__policy_add_pinset(c->p) : NULL;
    if (ps == NULL) {
        return fail(c, err == PINSET_OK ? PINSET_E_NOMEM : err, "out of memory");
    }
    ps->name = off;
    ps->first = first;
    ps->count = count;
    return PINSET_OK;
}

static pinset_err parse_pinsets(struct pctx *c, json_t *obj)
{
    const char **names = NULL;
    const char *key;
    const json_t *val;
    size_t n, i = 0;
    pinset_err err = want(c, obj, JSON_OBJECT, "an object of named pin-sets");

    if (err != PINSET_OK || json_object_size(obj) == 0) {
        return err;
    }
    n = json_object_size(obj);
    names = pinset__alloc_array(n, sizeof(*names));
    if (names == NULL) {
        return fail(c, PINSET_E_NOMEM, "out of memory");
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
            return unknown_key(c, key, RULE_KEYS);
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
    err = want(c, v, JSON_STRING, "a host name or ip address");
    if (err == PINSET_OK) {
        err = pinset_host_canon(canon, sizeof(canon), &type, json_string_value(v),
                                json_string_length(v), &d);
        if (err != PINSET_OK) {
            err = fail(c, err, "%s", d.message);
        }
    }
    if (err == PINSET_OK) {
        err = pinset__policy_add_str(c->p, &r->host, canon, strlen(canon));
        if (err != PINSET_OK) {
            err = fail(c, err, "out of memory");
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
    err = want(c, v, JSON_TRUE, "true or false");
    pop(c);
    *out = json_is_true(v);
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
            err = fail(c, PINSET_E_PARSE,
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
        err = want(c, k->pinset, JSON_STRING, "the name of a pin-set");
        if (err == PINSET_OK) {
            r->pinset = pinset__policy_find_pinset(c->p, json_string_value(k->pinset),
                                                   json_string_length(k->pinset));
            if (r->pinset < 0) {
                err = fail(c, PINSET_E_PARSE, "unknown pin-set '%.64s'",
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
        err = fail(c, PINSET_E_PARSE, "a rule needs pins: name a 'pinset' or list 'pins'");
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
        err = want_enum(c, k->mode, mode_names, 2, "'enforce' or 'report'", &v);
        pop(c);
        r->mode = (uint8_t)v;
    }
    /* the backup-pin rule's default: enforcing wants two pins, reporting one */
    r->min_pins = r->mode == PINSET_MODE_ENFORCE ? 2 : 1;
    if (err == PINSET_OK && k->min_pins != NULL) {
        push_key(c, "min_pins");
        if (!json_is_integer(k->min_pins) || json_integer_value(k->min_pins) < 0 ||
            json_integer_value(k->min_pins) > PINSET_MAX_PINS_PER_RULE) {
            err = fail(c, PINSET_E_PARSE, "expected an integer from 0 to %d",
                       PINSET_MAX_PINS_PER_RULE);
        } else {
            r->min_pins = (uint16_t)json_integer_value(k->min_pins);
        }
        pop(c);
    }
    if (err == PINSET_OK && k->expires != NULL) {
        push_key(c, "expires");
        err = want_time(c, k->expires, &r->expires);
        pop(c);
    }
    if (err == PINSET_OK && k->on_expiry != NULL) {
        push_key(c, "on_expiry");
        err = want_enum(c, k->on_expiry, expiry_names + 1, 3,
                        "'fail-open', 'fail-closed' or 'report'", &v);
        r->on_expiry = (uint8_t)(v + 1);
        if (err == PINSET_OK && k->expires == NULL) {
            err = fail(c, PINSET_E_PARSE, "'on_expiry' without 'expires'");
        }
        pop(c);
    }
    if (err == PINSET_OK && k->expires != NULL && k->on_expiry == NULL) {
        push_key(c, "expires");
        err = fail(c, PINSET_E_PARSE,
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
    int sub = 0, excl = 0;

    err = want(c, v, JSON_OBJECT, "a rule object");
    if (err == PINSET_OK) {
        err = collect_rule_keys(c, v, &k);
    }
    if (err != PINSET_OK) {
        return err;
    }
    if (k.host == NULL) {
        return fail(c, PINSET_E_PARSE, "missing key 'host'");
    }
    r = pinset__policy_add_rule(c->p);
    if (r == NULL) {
        return fail(c, c->p->nrules >= PINSET_MAX_RULES ? PINSET_E_LIMIT : PINSET_E_NOMEM,
                    c->p->nrules >= PINSET_MAX_RULES ? "too many rules" : "out of memory");
    }
    err = parse_host(c, k.host, r);
    if (err == PINSET_OK) {
        err = want_bool(c, k.subdomains, "include_subdomains", &sub);
    }
    if (err == PINSET_OK) {
        err = want_bool(c, k.exclude, "exclude", &excl);
    }
    if (err == PINSET_OK && sub && r->host_type != PINSET_HOST_DNS) {
        push_key(c, "include_subdomains");
        err = fail(c, PINSET_E_PARSE, "an ip address has no subdomains");
        pop(c);
    }
    r->flags = (uint8_t)((sub ? RULE_F_SUBDOMAINS : 0) | (excl ? RULE_F_EXCLUDE : 0));
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

static pinset_err parse_rules(struct pctx *c, const json_t *arr)
{
    size_t n = 0;
    pinset_err err = want_array(c, arr, "an array of rules", "rules", PINSET_MAX_RULES, &n);

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

static pinset_err parse_top(struct pctx *c, json_t *root)
{
    json_t *version = NULL, *pinsets = NULL, *rules = NULL, *val;
    const char *key;
    pinset_err err = want(c, root, JSON_OBJECT, "a policy object");

    if (err != PINSET_OK) {
        return err;
    }
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "version") == 0) {
            version = val;
        } else if (strcmp(key, "pinsets") == 0) {
            pinsets = val;
        } else if (strcmp(key, "rules") == 0) {
            rules = val;
        } else {
            return unknown_key(c, key, "version, pinsets, rules");
        }
    }
    if (version == NULL) {
        return fail(c, PINSET_E_PARSE, "missing key 'version'");
    }
    push_key(c, "version");
    if (!json_is_integer(version)) {
        err = fail(c, PINSET_E_PARSE, "expected the integer %d, got %s", POLICY_VERSION,
                   type_name(version));
    } else if (json_integer_value(version) != POLICY_VERSION) {
        err = fail(c, PINSET_E_UNSUPPORTED,
                   "policy format version %lld is not supported (expected %d)",
                   (long long)json_integer_value(version), POLICY_VERSION);
    }
    pop(c);
    if (err != PINSET_OK) {
        return err;
    }
    if (rules == NULL) {
        return fail(c, PINSET_E_PARSE, "missing key 'rules'");
    }
    if (pinsets != NULL) {
        push_key(c, "pinsets");
        err = parse_pinsets(c, pinsets);
        pop(c);
    }
    if (err == PINSET_OK) {
        push_key(c, "rules");
        err = parse_rules(c, rules);
        pop(c);
    }
    return err;
}

/* Nesting depth check before jansson recurses (its own limit is 2048). */
static pinset_err check_depth(const uint8_t *b, size_t n, pinset_diag *diag)
{
    size_t depth = 0, line, col;
    int in_str = 0;

    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (b[i] == '\\') {
                i++;
            } else if (b[i] == '"') {
                in_str = 0;
            }
        } else if (b[i] == '"') {
            in_str = 1;
        } else if (b[i] == '{' || b[i] == '[') {
            if (++depth > PINSET_MAX_POLICY_DEPTH) {
                offset_to_pos(b, i, &line, &col);
                pinset__diag_pos(diag, SIZE_MAX, line, col, i);
                return PINSET_DIAG(diag, PINSET_E_LIMIT, "json nesting deeper than %d",
                                   PINSET_MAX_POLICY_DEPTH);
            }
        } else if ((b[i] == '}' || b[i] == ']') && depth > 0) {
            depth--;
        }
    }
    return PINSET_OK;
}

/* Messages quote the input: keep them one line of printable text. */
static void one_line(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = '?';
        }
    }
}

static pinset_err parse_doc(pinset_policy **out, const uint8_t *buf, size_t len, pinset_diag *diag);

pinset_err pinset_policy_parse(pinset_policy **out, const uint8_t *buf, size_t len,
                               pinset_diag *diag)
{
    pinset_err err = parse_doc(out, buf, len, diag);

    if (err != PINSET_OK && diag != NULL) {
        one_line(diag->message);
        one_line(diag->path);
    }
    return err;
}

static pinset_err parse_doc(pinset_policy **out, const uint8_t *buf, size_t len, pinset_diag *diag)
{
    struct pctx c;
    json_error_t jerr;
    json_t *root = NULL;
    pinset_policy *p = NULL;
    pinset_err err;
    size_t bad = SIZE_MAX;

    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || (buf == NULL && len != 0)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "policy: null argument");
    }
    if (len > PINSET_MAX_POLICY_SIZE) {
        return PINSET_DIAG(diag, PINSET_E_LIMIT, "policy of %zu octets exceeds %zu", len,
                           PINSET_MAX_POLICY_SIZE);
    }
    err = check_depth(buf, len, diag);
    if (err != PINSET_OK) {
        return err;
    }
    root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        err = json_error_code(&jerr) == json_error_out_of_memory ? PINSET_E_NOMEM : PINSET_E_PARSE;
        pinset__diag_pos(diag, SIZE_MAX, jerr.line > 0 ? (size_t)jerr.line : 0,
                         jerr.column > 0 ? (size_t)jerr.column : 0, jerr.position);
        return PINSET_DIAG(diag, err, "policy: invalid json: %s", jerr.text);
    }
    err = pinset__policy_new(&p);
    if (err != PINSET_OK) {
        (void)PINSET_DIAG(diag, err, "out of memory");
        goto out;
    }
    memset(&c, 0, sizeof(c));
    c.buf = buf;
    c.len = len;
    c.diag = diag;
    c.p = p;
    err = parse_top(&c, root);
    if (err != PINSET_OK) {
        goto out;
    }
    err = pinset__policy_finish(p, &bad, NULL);
    if (err != PINSET_OK) {
        push_key(&c, "rules");
        if (bad != SIZE_MAX) {
            push_idx(&c, bad);
            push_key(&c, "host");
        }
        if (err == PINSET_E_PARSE && bad != SIZE_MAX && (p->rules[bad].flags & RULE_F_EXCLUDE)) {
            (void)fail(&c, err, "exclusion for '%s' has no parent rule with include_subdomains",
                       pinset__policy_str(p, p->rules[bad].host));
        } else if (err == PINSET_E_PARSE && bad != SIZE_MAX) {
            (void)fail(&c, err, "duplicate rule for host '%s'",
                       pinset__policy_str(p, p->rules[bad].host));
        } else {
            (void)PINSET_DIAG(diag, err, "policy: %s", pinset_strerror(err));
        }
        goto out;
    }
    *out = p;
    p = NULL;
out:
    pinset_policy_free(p);
    json_decref(root);
    return err;
}

/* ---- loading a file ---- */

static pinset_err load_file(pinset_policy **out, const char *path, pinset_diag *diag);

pinset_err pinset_policy_load(pinset_policy **out, const char *path, pinset_diag *diag)
{
    pinset_err err = load_file(out, path, diag);

    if (err != PINSET_OK && diag != NULL) {
        one_line(diag->message); /* the file name may hold control characters too */
    }
    return err;
}

static pinset_err load_file(pinset_policy **out, const char *path, pinset_diag *diag)
{
    struct pinset__buf buf;
    pinset_err err;

    if (out != NULL) {
        *out = NULL;
    }
    if (out == NULL || path == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "policy: null argument");
    }
    /* regular files only: a policy is a document, not a stream */
    err = pinset__read_path(&buf, path, PINSET_MAX_POLICY_SIZE, 0, 0, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    err = pinset_policy_parse(out, buf.p, buf.len, diag);
    if (err != PINSET_OK && diag != NULL) {
        char msg[PINSET_DIAG_MESSAGE_MAX];
        (void)snprintf(msg, sizeof(msg), "%s", diag->message);
        (void)snprintf(diag->message, sizeof(diag->message), "%.96s: %.150s", path, msg);
    }
out:
    pinset__buf_free(&buf);
    return err;
}

/* ---- the canonical writer ---- */

struct wbuf {
    pinset_write_fn write;
    void *payload;
    int failed;
    size_t n;
    char b[4096];
};

static void wflush(struct wbuf *w)
{
    if (!w->failed && w->n > 0 && w->write(w->b, w->n, w->payload) != 0) {
        w->failed = 1;
    }
    w->n = 0;
}

static void wput(struct wbuf *w, const char *s, size_t len)
{
    while (len > 0 && !w->failed) {
        size_t k = sizeof(w->b) - w->n;
        if (k > len) {
            k = len;
        }
        memcpy(w->b + w->n, s, k);
        w->n += k;
        s += k;
        len -= k;
        if (w->n == sizeof(w->b)) {
            wflush(w);
        }
    }
}

static void wstr(struct wbuf *w, const char *s)
{
    wput(w, s, strlen(s));
}

/* Decodes one UTF-8 sequence; returns its length, *cp = U+FFFD when malformed. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) ? 0xFFFD : c;
    return len;
}

/* A JSON string in ASCII only: one spelling per value, so one digest per model. */
static void wjson_str(struct wbuf *w, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    char esc[16];

    wput(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(u + i, n - i, &cp);
        i += k;
        if (cp == '"' || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            wput(w, esc, 2);
        } else if (cp >= 0x20 && cp < 0x7f) {
            esc[0] = (char)cp;
            wput(w, esc, 1);
        } else if (cp < 0x10000) {
            (void)snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
            wstr(w, esc);
        } else {
            cp -= 0x10000;
            (void)snprintf(esc, sizeof(esc), "\\u%04x\\u%04x", (unsigned)(0xD800 + (cp >> 10)),
                           (unsigned)(0xDC00 + (cp & 0x3FF)));
            wstr(w, esc);
        }
    }
    wput(w, "\"", 1);
}

static void wtime(struct wbuf *w, int64_t t)
{
    char s[PINSET__TIME_TEXT_MAX];

    /* the parser keeps times within 1970..9999, and so does this clamp */
    if (t < 0) {
        t = 0;
    } else if (t > 253402300799LL) {
        t = 253402300799LL;
    }
    if (pinset__time_write(s, sizeof(s), t) != 0) {
        w->failed = 1;
        return;
    }
    wput(w, "\"", 1);
    wstr(w, s);
    wput(w, "\"", 1);
}

static void wpin_value(struct wbuf *w, const pinset_pin *pin)
{
    char b64[PINSET_PIN_STR_MAX];

    if (pinset_pin_format(b64, sizeof(b64), pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        w->failed = 1;
        return;
    }
    wstr(w, "{\"sha256\": \"");
    wstr(w, b64);
    wstr(w, "\", \"kind\": \"");
    wstr(w, kind_names[pin->kind == PINSET_PIN_CERT ? 1 : 0]);
    wstr(w, "\"");
}

static void wpins(struct wbuf *w, const pinset_policy *p, size_t first, size_t count,
                  const char *indent)
{
    wstr(w, "[");
    for (size_t i = 0; i < count; i++) {
        const struct pinset__pin_entry *e = &p->pins[first + i];
        wstr(w, i == 0 ? "\n" : ",\n");
        wstr(w, indent);
        wpin_value(w, &e->pin);
        wstr(w, ", \"role\": \"");
        wstr(w, role_names[e->role < 4 ? e->role : 0]);
        wstr(w, "\"");
        if (e->label != 0) {
            wstr(w, ", \"label\": ");
            wjson_str(w, pinset__policy_str(p, e->label));
        }
        if (e->not_after != 0) {
            wstr(w, ", \"not_after\": ");
            wtime(w, e->not_after);
        }
        wstr(w, "}");
    }
    wstr(w, "]");
}

/* Decimal digits without printf: the writer runs once per rule at parse time. */
static void wuint(struct wbuf *w, unsigned v, char *tmp, size_t cap)
{
    size_t i = cap;

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    wput(w, tmp + i, cap - i);
}

static void wrule(struct wbuf *w, const pinset_policy *p, const struct pinset_rule *r)
{
    char num[32];

    wstr(w, "    {\n      \"host\": ");
    wjson_str(w, pinset__policy_str(p, r->host));
    if (r->flags & RULE_F_EXCLUDE) {
        wstr(w, ",\n      \"exclude\": true");
    }
    wstr(w, (r->flags & RULE_F_SUBDOMAINS) ? ",\n      \"include_subdomains\": true"
                                           : ",\n      \"include_subdomains\": false");
    if (r->flags & RULE_F_EXCLUDE) {
        wstr(w, "\n    }");
        return;
    }
    wstr(w, ",\n      \"mode\": \"");
    wstr(w, mode_names[r->mode == PINSET_MODE_REPORT ? 1 : 0]);
    wstr(w, "\"");
    if (r->pinset >= 0) {
        wstr(w, ",\n      \"pinset\": ");
        wjson_str(w, pinset__policy_str(p, p->pinsets[r->pinset].name));
    }
    if (r->pins_count > 0) {
        wstr(w, ",\n      \"pins\": ");
        wpins(w, p, r->pins_first, r->pins_count, "        ");
    }
    if (r->blocked_count > 0) {
        wstr(w, ",\n      \"blocked\": [");
        for (size_t i = 0; i < r->blocked_count; i++) {
            wstr(w, i == 0 ? "\n        " : ",\n        ");
            wpin_value(w, &p->blocked[r->blocked_first + i]);
            wstr(w, "}");
        }
        wstr(w, "]");
    }
    wstr(w, ",\n      \"min_pins\": ");
    wuint(w, r->min_pins, num, sizeof(num));
    if (r->expires != 0) {
        wstr(w, ",\n      \"expires\": ");
        wtime(w, r->expires);
        wstr(w, ",\n      \"on_expiry\": \"");
        wstr(w, expiry_names[r->on_expiry < 4 ? r->on_expiry : 0]);
        wstr(w, "\"");
    }
    if (r->uris_count > 0) {
        wstr(w, ",\n      \"report_uris\": [");
        for (size_t i = 0; i < r->uris_count; i++) {
            wstr(w, i == 0 ? "" : ", ");
            wjson_str(w, pinset__policy_str(p, p->uris[r->uris_first + i]));
        }
        wstr(w, "]");
    }
    wstr(w, "\n    }");
}

pinset_err pinset__policy_serialize(const pinset_policy *p, pinset_write_fn write, void *payload)
{
    struct wbuf *w = pinset__alloc(sizeof(*w));
    pinset_err err;

    if (w == NULL) {
        return PINSET_E_NOMEM;
    }
    w->write = write;
    w->payload = payload;
    wstr(w, "{\n  \"version\": 1");
    if (p->npinsets > 0) {
        wstr(w, ",\n  \"pinsets\": {");
        for (size_t i = 0; i < p->npinsets; i++) {
            const struct pinset__pinset *ps = &p->pinsets[i];
            wstr(w, i == 0 ? "\n    " : ",\n    ");
            wjson_str(w, pinset__policy_str(p, ps->name));
            wstr(w, ": {\"pins\": ");
            wpins(w, p, ps->first, ps->count, "      ");
            wstr(w, "}");
        }
        wstr(w, "\n  }");
    }
    wstr(w, ",\n  \"rules\": [");
    for (size_t i = 0; i < p->nrules; i++) {
        wstr(w, i == 0 ? "\n" : ",\n");
        wrule(w, p, &p->rules[i]);
    }
    wstr(w, p->nrules > 0 ? "\n  ]\n}\n" : "]\n}\n");
    wflush(w);
    err = w->failed ? PINSET_E_IO : PINSET_OK;
    pinset__free(w);
    return err;
}

pinset_err pinset_policy_write(const pinset_policy *policy, pinset_write_fn write, void *payload)
{
    if (policy == NULL || write == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    return pinset__policy_serialize(policy, write, payload);
}
