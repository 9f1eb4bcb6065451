/*
 * formats_test.h - what the converter tests share: a fixed output buffer
 * with its pinset_write_fn sink, the corpus vectors of
 * tests/corpora/vectors/, parsing a native policy, importing and exporting
 * into the buffer, finding a fidelity entry, and the allocation-failure
 * walks over one import and one export. Include after <cmocka.h>.
 */
#ifndef PINSET_TESTS_FORMATS_TEST_H
#define PINSET_TESTS_FORMATS_TEST_H

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/convert.h>
#include <pinset/pin.h>
#include <pinset/policy.h>

#include "internal.h"

struct sbuf {
    char b[65536];
    size_t n;
};

static inline int sink(const char *buf, size_t len, void *payload)
{
    struct sbuf *s = payload;

    if (s->n + len >= sizeof(s->b)) {
        return 1;
    }
    memcpy(s->b + s->n, buf, len);
    s->n += len;
    s->b[s->n] = '\0';
    return 0;
}

static inline json_t *load_vectors(const char *name)
{
    const char *src = getenv("PINSET_SOURCE_DIR");
    char path[1024];
    json_error_t jerr;
    json_t *v;

    if (src == NULL) {
        fail_msg("PINSET_SOURCE_DIR is not set (run through ctest)");
    }
    (void)snprintf(path, sizeof(path), "%s/tests/corpora/vectors/%s", src, name);
    v = json_load_file(path, 0, &jerr);
    if (v == NULL) {
        fail_msg("%s: %s", path, jerr.text);
    }
    return v;
}

/* The native policy `doc`, parsed; a refusal fails the test, naming the reason and the path. */
static inline pinset_policy *formats_parse_native(const char *doc)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    if (pinset_policy_parse(&p, (const uint8_t *)doc, strlen(doc), &d) != PINSET_OK) {
        fail_msg("native policy refused: %s (%s)\n%s", d.message, d.path, doc);
    }
    return p;
}

/* Index of the first fidelity entry whose field is `field`, or -1. */
static inline long formats_find_loss(const pinset_fidelity *f, const char *field)
{
    for (size_t i = 0; i < pinset_fidelity_count(f); i++) {
        if (strcmp(pinset_fidelity_field(f, i), field) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* Whether rule r has the SPKI pin b64 (base64; a malformed one fails the test). */
static inline int formats_has_pin(const pinset_rule *r, const char *b64)
{
    pinset_pin want;

    assert_int_equal(pinset_pin_parse(&want, b64, strlen(b64), PINSET_PIN_SPKI, NULL), PINSET_OK);
    for (size_t i = 0; i < pinset_rule_pin_count(r); i++) {
        if (pinset_pin_equal(pinset_rule_pin(r, i), &want)) {
            return 1;
        }
    }
    return 0;
}

/* pinset_policy_export of p in fmt, options host and now, into out (emptied first). */
static inline pinset_err formats_export(const pinset_policy *p, pinset_format fmt, const char *host,
                                        int64_t now, pinset_fidelity **f, struct sbuf *out,
                                        pinset_diag *d)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;

    o.host = host;
    o.now = now;
    out->n = 0;
    out->b[0] = '\0';
    return pinset_policy_export(f, p, fmt, &o, sink, out, d);
}

/*
 * Fails allocation k = 1, 2, ... in pinset_policy_import of doc and in
 * pinset_policy_export of lossy (host NULL), both in format fmt, until
 * each has succeeded once: every failure is PINSET_E_NOMEM with nothing
 * handed back, and the import that succeeds reports want_import_losses.
 */
static inline void alloc_fail_import_export(pinset_format fmt, const char *doc,
                                            size_t want_import_losses, const pinset_policy *lossy)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    struct sbuf *out = calloc(1, sizeof(*out));
    int done_import = 0, done_export = 0;

    assert_non_null(out);
    for (unsigned long k = 1; k < 300 && !(done_import && done_export); k++) {
        pinset_policy *p = NULL;
        pinset_fidelity *f = NULL;
        pinset_err err;
        pinset__alloc_fail_at(k);
        err = pinset_policy_import(&p, &f, (const uint8_t *)doc, strlen(doc), fmt, NULL, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        if (err == PINSET_OK) {
            assert_int_equal(pinset_fidelity_count(f), want_import_losses);
            done_import = 1;
        } else {
            assert_null(p);
            assert_null(f);
        }
        pinset_fidelity_free(f);
        pinset_policy_free(p);
        f = NULL;
        out->n = 0;
        out->b[0] = '\0';
        pinset__alloc_fail_at(k);
        err = pinset_policy_export(&f, lossy, fmt, &o, sink, out, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        if (err == PINSET_OK) {
            done_export = 1;
        } else {
            assert_null(f);
        }
        pinset_fidelity_free(f);
    }
    assert_true(done_import && done_export);
    free(out);
}

/* pinset_policy_import and pinset_formats_import; the same for export */
typedef pinset_err (*formats_import_fn)(pinset_policy **out, pinset_fidelity **fidelity_out,
                                        const uint8_t *buf, size_t len, pinset_format format,
                                        const pinset_convert_options *opts, pinset_diag *diag);
typedef pinset_err (*formats_export_fn)(pinset_fidelity **fidelity_out, const pinset_policy *policy,
                                        pinset_format format, const pinset_convert_options *opts,
                                        pinset_write_fn write, void *payload, pinset_diag *diag);

/* text imported by import_fn from fmt (options NULL); a refusal fails the test with its position.
 */
static inline pinset_policy *formats_import_ok(formats_import_fn import_fn, pinset_format fmt,
                                               const char *text, pinset_fidelity **f)
{
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err = import_fn(&p, f, (const uint8_t *)text, strlen(text), fmt, NULL, &d);

    if (err != PINSET_OK) {
        fail_msg("import of '%s': %s: %s (line %zu col %zu)", text, pinset_err_name(err), d.message,
                 d.line, d.column);
    }
    return p;
}

/*
 * p exported by export_fn to fmt (options o) into mid, emptied first: the
 * export must succeed and lose nothing (the first half of a round trip).
 */
static inline void formats_export_whole(formats_export_fn export_fn, const pinset_policy *p,
                                        pinset_format fmt, const pinset_convert_options *o,
                                        struct sbuf *mid)
{
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    mid->n = 0;
    mid->b[0] = '\0';
    err = export_fn(&f, p, fmt, o, sink, mid, &d);
    if (err != PINSET_OK) {
        fail_msg("%s: export: %s: %s", pinset_format_name(fmt), pinset_err_name(err), d.message);
    }
    if (pinset_fidelity_count(f) != 0) {
        fail_msg("%s: lost %s: %s", pinset_format_name(fmt), pinset_fidelity_field(f, 0),
                 pinset_fidelity_reason(f, 0));
    }
    pinset_fidelity_free(f);
}

/*
 * buf (len octets; shown, text, in a failure) imported by import_fn from fmt
 * (options o): the import must succeed and lose nothing (the second half of a
 * round trip). The policy, for the caller to free.
 */
static inline pinset_policy *formats_import_whole(formats_import_fn import_fn, const void *buf,
                                                  size_t len, pinset_format fmt,
                                                  const pinset_convert_options *o,
                                                  const char *shown)
{
    pinset_policy *q = NULL;
    pinset_fidelity *g = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    if (import_fn(&q, &g, buf, len, fmt, o, &d) != PINSET_OK) {
        fail_msg("%s: '%s' does not import: %s (%s)", pinset_format_name(fmt), shown, d.message,
                 d.path != NULL ? d.path : "");
    }
    assert_int_equal(pinset_fidelity_count(g), 0);
    pinset_fidelity_free(g);
    return q;
}

/* a and b write the same native text. */
static inline void formats_assert_same(const pinset_policy *a, const pinset_policy *b)
{
    struct sbuf *x = calloc(1, sizeof(*x)), *y = calloc(1, sizeof(*y));

    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(pinset_policy_write(a, sink, x), PINSET_OK);
    assert_int_equal(pinset_policy_write(b, sink, y), PINSET_OK);
    assert_string_equal(x->b, y->b);
    free(x);
    free(y);
}

/*
 * Fails allocation n = 1, 2, ... in import_fn(doc, from) until it succeeds,
 * then, with doc imported, in export_fn(to) until it succeeds (options NULL):
 * every failure is PINSET_E_NOMEM with nothing handed back.
 */
static inline void alloc_fail_until_ok(formats_import_fn import_fn, pinset_format from,
                                       const char *doc, formats_export_fn export_fn,
                                       pinset_format to)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_policy *p = NULL;
    pinset_err err;
    int done = 0;

    for (unsigned long n = 1; n < 10000 && !done; n++) {
        pinset_policy *q = NULL;
        pinset_fidelity *f = NULL;
        pinset__alloc_fail_at(n);
        err = import_fn(&q, &f, (const uint8_t *)doc, strlen(doc), from, NULL, NULL);
        pinset__alloc_fail_at(0);
        if (err == PINSET_OK) {
            done = 1;
            pinset_fidelity_free(f);
            pinset_policy_free(q);
            break;
        }
        assert_int_equal(err, PINSET_E_NOMEM);
        assert_null(q);
        assert_null(f);
    }
    assert_true(done);
    done = 0;
    err = import_fn(&p, NULL, (const uint8_t *)doc, strlen(doc), from, NULL, &d);
    if (err != PINSET_OK) {
        fail_msg("import of '%s': %s: %s (line %zu col %zu)", doc, pinset_err_name(err), d.message,
                 d.line, d.column);
    }
    for (unsigned long n = 1; n < 10000 && !done; n++) {
        pinset_fidelity *f = NULL;
        struct sbuf out;
        out.n = 0;
        pinset__alloc_fail_at(n);
        err = export_fn(&f, p, to, NULL, sink, &out, NULL);
        pinset__alloc_fail_at(0);
        if (err == PINSET_OK) {
            done = 1;
            pinset_fidelity_free(f);
            break;
        }
        assert_int_equal(err, PINSET_E_NOMEM);
        assert_null(f);
    }
    pinset_policy_free(p);
    assert_true(done);
}

#endif /* PINSET_TESTS_FORMATS_TEST_H */
