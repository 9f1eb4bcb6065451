/*
 * parse.c - the native policy format (JSON, docs/policy-format.md): a
 * strict parser on jansson. This file holds the document level (limits,
 * syntax, the top-level object, the final checks), the failure path and the
 * typed readers; parse_rule.c parses pins, pin-sets and rules. It builds
 * the model through the builder of policy_int.h.
 *
 * A failure's message is the reason only; the JSON path of the failing value
 * goes into diag.path and its position into diag.line and diag.column
 * (locate.c finds it for semantic errors, jansson for syntax errors).
 */
#include "policy/parse.h"

#include <stdarg.h>
#include <stdio.h>

#include <pinset/policy.h>

#include "util/rfc3339.h"

pinset_err pinset__pj_fail(struct pctx *c, pinset_err code, const char *fmt, ...)
{
    char path[PINSET_DIAG_PATH_MAX];
    char msg[PINSET_DIAG_MESSAGE_MAX];
    va_list ap;
    size_t off, line = 0, col = 0;

    if (c->diag == NULL) {
        return code;
    }
    pinset__jpath_format(c->path, c->depth < MAX_PATH_DEPTH ? c->depth : MAX_PATH_DEPTH, path,
                         sizeof(path));
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)PINSET_DIAG(c->diag, code, "%s", msg);
    pinset__diag_path(c->diag, path);
    off = c->depth <= MAX_PATH_DEPTH
              ? pinset__json_locate(c->buf, c->len, c->path, c->depth, c->at_key)
              : SIZE_MAX;
    if (off != SIZE_MAX && off < c->len) {
        pinset__json_pos(c->buf, off, &line, &col);
        pinset__diag_pos(c->diag, SIZE_MAX, line, col, off);
    }
    return code;
}

/* ---- typed readers ---- */

const char *pinset__pj_type_name(const json_t *v)
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

pinset_err pinset__pj_want(struct pctx *c, const json_t *v, json_type t, const char *what)
{
    int ok = t == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == t;

    if (!ok) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "expected %s, got %s", what,
                               pinset__pj_type_name(v));
    }
    return PINSET_OK;
}

pinset_err pinset__pj_want_array(struct pctx *c, const json_t *v, const char *what,
                                 const char *noun, size_t max, size_t *n_out)
{
    pinset_err err = pinset__pj_want(c, v, JSON_ARRAY, what);

    if (err != PINSET_OK) {
        return err;
    }
    *n_out = json_array_size(v);
    if (*n_out > max) {
        return pinset__pj_fail(c, PINSET_E_LIMIT, "%zu %s exceed the limit of %zu", *n_out, noun,
                               max);
    }
    return PINSET_OK;
}

pinset_err pinset__pj_want_enum(struct pctx *c, const json_t *v, const char *const *names, size_t n,
                                const char *what, int *out)
{
    pinset_err err = pinset__pj_want(c, v, JSON_STRING, what);

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
    return pinset__pj_fail(c, PINSET_E_PARSE, "expected %s, got '%.64s'", what,
                           json_string_value(v));
}

/* The policy format's times: strict RFC 3339 UTC (util/rfc3339.c), after the epoch. */
int pinset__parse_time(const char *s, size_t len, int64_t *out)
{
    if (pinset__time_parse(out, s, len, 0) != 0) {
        return -1;
    }
    return *out < MIN_TIME ? -1 : 0;
}

pinset_err pinset__pj_want_time(struct pctx *c, const json_t *v, int64_t *out)
{
    pinset_err err = pinset__pj_want(c, v, JSON_STRING, "an rfc 3339 utc time");

    if (err != PINSET_OK) {
        return err;
    }
    if (pinset__parse_time(json_string_value(v), json_string_length(v), out) != 0) {
        return pinset__pj_fail(
            c, PINSET_E_PARSE,
            "expected an rfc 3339 utc time such as 2027-01-01T00:00:00Z or a date "
            "such as 2027-01-01, got '%.40s'",
            json_string_value(v));
    }
    return PINSET_OK;
}

pinset_err pinset__pj_want_text(struct pctx *c, const json_t *v, size_t max, const char *what)
{
    pinset_err err = pinset__pj_want(c, v, JSON_STRING, what);
    const char *s;
    size_t n;

    if (err != PINSET_OK) {
        return err;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "expected %s, got an empty string", what);
    }
    if (n > max) {
        return pinset__pj_fail(c, PINSET_E_LIMIT, "%s of %zu octets exceeds %zu", what, n, max);
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return pinset__pj_fail(c, PINSET_E_PARSE, "control character in %s", what);
        }
    }
    return PINSET_OK;
}

pinset_err pinset__pj_unknown_key(struct pctx *c, const char *key, const char *allowed)
{
    pinset_err err;

    push_key(c, key);
    c->at_key = 1;
    err = pinset__pj_fail(c, PINSET_E_PARSE, "unknown key '%.48s' (expected one of: %s)", key,
                          allowed);
    c->at_key = 0;
    pop(c);
    return err;
}
static pinset_err parse_top(struct pctx *c, json_t *root)
{
    json_t *version = NULL, *pinsets = NULL, *rules = NULL, *val;
    const char *key;
    pinset_err err = pinset__pj_want(c, root, JSON_OBJECT, "a policy object");

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
            return pinset__pj_unknown_key(c, key, "version, pinsets, rules");
        }
    }
    if (version == NULL) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "missing key 'version'");
    }
    push_key(c, "version");
    if (!json_is_integer(version)) {
        err = pinset__pj_fail(c, PINSET_E_PARSE, "expected the integer %d, got %s", POLICY_VERSION,
                              pinset__pj_type_name(version));
    } else if (json_integer_value(version) != POLICY_VERSION) {
        err = pinset__pj_fail(c, PINSET_E_UNSUPPORTED,
                              "policy format version %lld is not supported (expected %d)",
                              (long long)json_integer_value(version), POLICY_VERSION);
    }
    pop(c);
    if (err != PINSET_OK) {
        return err;
    }
    if (rules == NULL) {
        return pinset__pj_fail(c, PINSET_E_PARSE, "missing key 'rules'");
    }
    if (pinsets != NULL) {
        push_key(c, "pinsets");
        err = pinset__pj_pinsets(c, pinsets);
        pop(c);
    }
    if (err == PINSET_OK) {
        push_key(c, "rules");
        err = pinset__pj_rules(c, rules);
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
                pinset__json_pos(b, i, &line, &col);
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
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
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
        return PINSET_DIAG(diag, err, "invalid json: %s", jerr.text);
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
            (void)pinset__pj_fail(&c, err,
                                  "exclusion for '%s' has no parent rule with include_subdomains",
                                  pinset__policy_str(p, p->rules[bad].host));
        } else if (err == PINSET_E_PARSE && bad != SIZE_MAX) {
            (void)pinset__pj_fail(&c, err, "duplicate rule for host '%s'",
                                  pinset__policy_str(p, p->rules[bad].host));
        } else {
            (void)PINSET_DIAG(diag, err, "%s", pinset_strerror(err));
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
