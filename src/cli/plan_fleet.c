/*
 * plan_fleet.c - the fleet file of `pinset plan` (see plan_fleet.h and
 * docs/fleet-format.md).
 *
 * jansson parses the file; jansson keeps no position for a value, so a
 * refusal of a well-formed value (a share that is not a number) finds the
 * value's line and column again with util/jsonpath over the same text,
 * which jansson has already found to be valid JSON.
 */
#include "plan_fleet.h"

#include <jansson.h>
#include <math.h>
#include <util/jsonpath.h>
#include <util/read.h>

#include "check_out.h"
#include "out.h"

typedef struct fleet_ctx {
    const char *cmd;
    const char *file;
    const char *text;
    size_t len;
} fleet_ctx;

/* ---- where a value is: util/jsonpath over the text jansson accepted ---- */

/*
 * The offset of the value at versions[index].key (index SIZE_MAX: the
 * versions array; key NULL: the element; top 1: the document), or of the
 * deepest part of that path the text holds.
 */
static size_t value_offset(const fleet_ctx *c, int top, size_t index, const char *key)
{
    const struct pinset__jpath_elem path[] = {{"versions", 0}, {NULL, index}, {key, 0}};
    size_t depth = top ? 0 : index == SIZE_MAX ? 1 : key == NULL ? 2 : 3;
    size_t off;

    /* depth 0, the document's value, is always found */
    while ((off = pinset__json_locate((const uint8_t *)c->text, c->len, path, depth, 0)) ==
           SIZE_MAX) {
        depth--;
    }
    return off;
}

/* Refuse the value at a path: "pinset: CMD: FILE:LINE:COL: PATH: message". Returns EXIT_INPUT. */
static int refuse(const fleet_ctx *c, int top, size_t index, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int refuse(const fleet_ctx *c, int top, size_t index, const char *key, const char *fmt, ...)
{
    pinset_diag d = PINSET_DIAG_INIT;
    size_t off = value_offset(c, top, index, key);
    va_list ap;

    d.code = PINSET_E_PARSE;
    d.input = c->file;
    pinset__json_pos((const uint8_t *)c->text, off, &d.line, &d.column);
    if (top) {
        d.path[0] = '\0';
    } else if (index == SIZE_MAX) {
        snprintf(d.path, sizeof(d.path), "versions");
    } else if (key == NULL) {
        snprintf(d.path, sizeof(d.path), "versions[%zu]", index);
    } else {
        snprintf(d.path, sizeof(d.path), "versions[%zu].%s", index, key);
    }
    va_start(ap, fmt);
    vsnprintf(d.message, sizeof(d.message), fmt, ap);
    va_end(ap);
    cli_err_diag(c->cmd, &d);
    return EXIT_INPUT;
}

/* ---- the fields of one version ---- */

static int has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* The folder of the fleet file joined with a relative policy path; NULL when out of memory. */
static char *resolve_path(const char *fleet, const char *rel)
{
    const char *slash = strrchr(fleet, '/');
    size_t dlen = slash != NULL ? (size_t)(slash - fleet) + 1 : 0;
    size_t rlen = strlen(rel);
    char *p;

    if (rel[0] == '/') {
        dlen = 0;
    }
    p = malloc(dlen + rlen + 1);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, fleet, dlen);
    memcpy(p + dlen, rel, rlen + 1);
    return p;
}

static int read_name(plan_version *v, const fleet_ctx *c, size_t i, json_t *j, const plan_fleet *f)
{
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);

    if (j == NULL) {
        return refuse(c, 0, i, NULL, "no \"name\": every version needs one");
    }
    if (!json_is_string(j) || n == 0 || n > PLAN_FLEET_NAME_MAX || strlen(s) != n ||
        has_control(s, n)) {
        return refuse(c, 0, i, "name",
                      "expected a string of 1 to %d bytes without control characters",
                      PLAN_FLEET_NAME_MAX);
    }
    for (size_t k = 0; k < i; k++) {
        if (strcmp(f->v[k].name, s) == 0) {
            return refuse(c, 0, i, "name", "\"%s\" is also the name of versions[%zu]", s, k);
        }
    }
    memcpy(v->name, s, n + 1);
    return 0;
}

static int read_policy_path(plan_version *v, const fleet_ctx *c, size_t i, json_t *j)
{
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);

    if (j == NULL) {
        return refuse(c, 0, i, NULL, "no \"policy\": every version needs its policy file");
    }
    if (!json_is_string(j) || n == 0 || n > PLAN_FLEET_POLICY_MAX || strlen(s) != n ||
        has_control(s, n)) {
        return refuse(c, 0, i, "policy", "expected a file path of 1 to %d bytes",
                      PLAN_FLEET_POLICY_MAX);
    }
    v->policy_path = resolve_path(c->file, s);
    if (v->policy_path == NULL) {
        cli_err(c->cmd, "out of memory");
        return EXIT_INTERNAL;
    }
    return 0;
}

static int read_share(plan_version *v, const fleet_ctx *c, size_t i, json_t *j)
{
    double x;

    if (j == NULL || json_is_null(j)) {
        return 0; /* unknown */
    }
    x = json_number_value(j);
    if (!json_is_number(j) || !isfinite(x) || x < 0.0 || x > 1.0) {
        return refuse(c, 0, i, "share", "expected a number from 0 to 1 (the share of users)");
    }
    v->share = x;
    v->has_share = 1;
    return 0;
}

static int read_eos(plan_version *v, const fleet_ctx *c, size_t i, json_t *j)
{
    const char *s = json_string_value(j);
    int64_t t;

    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_string(j) || json_string_length(j) >= sizeof(v->eos_text) ||
        strlen(s) != json_string_length(j) || s[0] == '@' || out_parse_time(s, &t) != 0) {
        return refuse(c, 0, i, "end_of_support",
                      "expected a date (2027-06-30) or an RFC 3339 time (2027-06-30T00:00:00Z)");
    }
    /* a date: supported through that whole day (UTC) */
    v->end_of_support = strlen(s) == 10 ? t + 86400 : t;
    memcpy(v->eos_text, s, strlen(s) + 1);
    return 0;
}

static int read_version(plan_fleet *f, const fleet_ctx *c, size_t i, json_t *o)
{
    static const char *const keys[] = {"name", "policy", "share", "end_of_support", NULL};
    plan_version *v = &f->v[i];
    const char *key;
    json_t *val;
    int rc;

    if (!json_is_object(o)) {
        return refuse(c, 0, i, NULL, "expected an object (name, policy, share, end_of_support)");
    }
    json_object_foreach(o, key, val)
    {
        size_t k = 0;
        while (keys[k] != NULL && strcmp(keys[k], key) != 0) {
            k++;
        }
        if (keys[k] == NULL) {
            char shown[64];
            out_safe_copy(shown, sizeof(shown), key);
            return refuse(c, 0, i, NULL,
                          "unknown member \"%s\" (expected name, policy, share, end_of_support)",
                          shown);
        }
    }
    rc = read_name(v, c, i, json_object_get(o, "name"), f);
    if (rc == 0) {
        rc = read_policy_path(v, c, i, json_object_get(o, "policy"));
    }
    if (rc == 0) {
        rc = read_share(v, c, i, json_object_get(o, "share"));
    }
    if (rc == 0) {
        rc = read_eos(v, c, i, json_object_get(o, "end_of_support"));
    }
    return rc;
}

static int read_doc(plan_fleet *f, const fleet_ctx *c, json_t *doc)
{
    json_t *vs = json_object_get(doc, "versions");
    const char *key;
    json_t *val;
    size_t n;

    if (!json_is_object(doc)) {
        return refuse(c, 1, 0, NULL, "expected an object with \"versions\"");
    }
    json_object_foreach(doc, key, val)
    {
        if (strcmp(key, "versions") != 0) {
            char shown[64];
            out_safe_copy(shown, sizeof(shown), key);
            return refuse(c, 1, 0, NULL, "unknown member \"%s\" (expected versions)", shown);
        }
    }
    if (vs == NULL) {
        return refuse(c, 1, 0, NULL, "no \"versions\": the list of client versions");
    }
    n = json_array_size(vs);
    if (!json_is_array(vs) || n == 0) {
        return refuse(c, 0, SIZE_MAX, NULL, "expected a non-empty array of versions");
    }
    if (n > PLAN_FLEET_VERSIONS) {
        return refuse(c, 0, SIZE_MAX, NULL, "%zu versions, more than %d", n, PLAN_FLEET_VERSIONS);
    }
    f->v = calloc(n, sizeof(*f->v));
    if (f->v == NULL) {
        cli_err(c->cmd, "out of memory");
        return EXIT_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = read_version(f, c, i, json_array_get(vs, i));
        f->count = i + 1;
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int parse_fleet(plan_fleet *f, const fleet_ctx *c)
{
    json_error_t je;
    json_t *doc;
    int rc;

    doc = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        pinset_diag d = PINSET_DIAG_INIT;
        d.code = PINSET_E_PARSE;
        d.input = c->file;
        d.line = je.line > 0 ? (size_t)je.line : 0;
        d.column = je.column > 0 ? (size_t)je.column : 0;
        snprintf(d.message, sizeof(d.message), "invalid JSON: %s", je.text);
        cli_err_diag(c->cmd, &d);
        return EXIT_INPUT;
    }
    rc = read_doc(f, c, doc);
    json_decref(doc);
    return rc;
}

int plan_fleet_load(plan_fleet *out, const char *cmd, const char *path, const char *host)
{
    struct pinset__buf buf;
    pinset_diag d = PINSET_DIAG_INIT;
    fleet_ctx c;
    pinset_err err;
    int rc;

    memset(out, 0, sizeof(*out));
    err = pinset__read_path(&buf, path, PLAN_FLEET_FILE_MAX, 0, 0, &d);
    if (err != PINSET_OK) {
        d.input = path;
        cli_err_diag(cmd, &d);
        pinset__buf_free(&buf);
        return cli_exit_for(err) == EXIT_USAGE ? EXIT_INPUT : cli_exit_for(err);
    }
    c.cmd = cmd;
    c.file = path;
    c.text = buf.p != NULL ? (const char *)buf.p : "";
    c.len = buf.len;
    rc = parse_fleet(out, &c);
    pinset__buf_free(&buf);
    for (size_t i = 0; rc == 0 && i < out->count; i++) {
        rc = chk_load_policy(cmd, out->v[i].policy_path, host, &out->v[i].policy);
        if (rc != 0) {
            char shown[PLAN_FLEET_NAME_MAX + 1];
            out_safe_copy(shown, sizeof(shown), out->v[i].name);
            cli_err(cmd, "%s: versions[%zu] (\"%s\"): its policy cannot be loaded", path, i, shown);
        }
    }
    return rc;
}

void plan_fleet_free(plan_fleet *f)
{
    for (size_t i = 0; f != NULL && f->v != NULL && i < f->count; i++) {
        free(f->v[i].policy_path);
        pinset_policy_free(f->v[i].policy);
    }
    if (f != NULL) {
        free(f->v);
        f->v = NULL;
        f->count = 0;
    }
}

int plan_version_in_support(const plan_version *v, int64_t t)
{
    return v->end_of_support == 0 || t < v->end_of_support;
}
