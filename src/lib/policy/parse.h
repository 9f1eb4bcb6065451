/*
 * parse.h - the policy parser's context and typed readers, shared by
 * parse.c (the document) and parse_rule.c (pins, pin-sets, rules).
 * Internal.
 */
#ifndef PINSET_POLICY_PARSE_H
#define PINSET_POLICY_PARSE_H

#include <jansson.h>

#include "policy/policy_int.h"
#include "util/jsonpath.h"

#define POLICY_VERSION    1
#define MAX_PATH_DEPTH    8
#define MAX_LABEL_LEN     256
#define MAX_URI_LEN       2048
#define MAX_URIS_PER_RULE 16
#define MAX_PINSET_NAME   64
#define MIN_TIME          1 /* 1970-01-01T00:00:01Z: 0 means "never" */

/* ---- the JSON path of the value being parsed ---- */

struct pctx {
    const uint8_t *buf;
    size_t len;
    pinset_diag *diag;
    pinset_policy *p;
    size_t depth;
    int at_key; /* the error is about the last key itself, not its value */
    struct pinset__jpath_elem path[MAX_PATH_DEPTH];
};

static inline void push_key(struct pctx *c, const char *key)
{
    if (c->depth < MAX_PATH_DEPTH) {
        c->path[c->depth].key = key;
        c->path[c->depth].idx = 0;
    }
    c->depth++;
}

static inline void push_idx(struct pctx *c, size_t idx)
{
    if (c->depth < MAX_PATH_DEPTH) {
        c->path[c->depth].key = NULL;
        c->path[c->depth].idx = idx;
    }
    c->depth++;
}

static inline void pop(struct pctx *c)
{
    c->depth--;
}

/*
 * Fail with `code`: the message is the reason; the JSON path of the current
 * value goes into diag.path, its position into diag.line and diag.column.
 */
pinset_err pinset__pj_fail(struct pctx *c, pinset_err code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- typed readers (each fails through pinset__pj_fail) ---- */

/* "an object", "a string"... for messages. */
const char *pinset__pj_type_name(const json_t *v);
pinset_err pinset__pj_want(struct pctx *c, const json_t *v, json_type t, const char *what);
/* An array of at most max elements ("%zu <noun> exceed the limit of <max>" otherwise). */
pinset_err pinset__pj_want_array(struct pctx *c, const json_t *v, const char *what,
                                 const char *noun, size_t max, size_t *n_out);
/* Matches a string value against a table; *out receives the index. */
pinset_err pinset__pj_want_enum(struct pctx *c, const json_t *v, const char *const *names, size_t n,
                                const char *what, int *out);
pinset_err pinset__pj_want_time(struct pctx *c, const json_t *v, int64_t *out);
/* A printable string of 1..max octets without control characters. */
pinset_err pinset__pj_want_text(struct pctx *c, const json_t *v, size_t max, const char *what);
pinset_err pinset__pj_unknown_key(struct pctx *c, const char *key, const char *allowed);

/* ---- the parts of a document (parse_rule.c) ---- */

pinset_err pinset__pj_pinsets(struct pctx *c, json_t *obj);
pinset_err pinset__pj_rules(struct pctx *c, const json_t *arr);

#endif /* PINSET_POLICY_PARSE_H */
