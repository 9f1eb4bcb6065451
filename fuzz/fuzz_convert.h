/*
 * fuzz_convert.h - the properties every converter's fuzz target checks
 * (fuzz_hpkp.c, fuzz_curl_list.c, fuzz_okhttp.c, fuzz_chromium.c,
 * fuzz_trustkit.c): import, export, import again.
 */
#ifndef PINSET_FUZZ_CONVERT_H
#define PINSET_FUZZ_CONVERT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/convert.h>
#include <pinset/policy.h>

#include "fuzz_sink.h"

#define FUZZ_NOW 1795737600 /* 2026-11-27T00:00:00Z */

static void fuzz_check_failure(pinset_err err, const pinset_diag *d, const pinset_policy *p,
                               const pinset_fidelity *f)
{
    if (p != NULL || f != NULL || d->code != err || d->message[0] == '\0' ||
        strchr(d->message, '\n') != NULL) {
        abort();
    }
}

/* Other formats: no crash; a failure is one of the documented refusals. */
static void fuzz_export_others(const pinset_policy *p, const pinset_convert_options *o)
{
    static const pinset_format fmts[] = {PINSET_FORMAT_NATIVE,        PINSET_FORMAT_HPKP,
                                         PINSET_FORMAT_CURL,          PINSET_FORMAT_OKHTTP,
                                         PINSET_FORMAT_OKHTTP_KOTLIN, PINSET_FORMAT_OKHTTP_JAVA,
                                         PINSET_FORMAT_CHROMIUM,      PINSET_FORMAT_TRUSTKIT};

    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        struct fuzz_sbuf s = {0};
        pinset_fidelity *f = NULL;
        pinset_err err = pinset_policy_export(&f, p, fmts[i], o, fuzz_sink, &s, NULL);
        if (err != PINSET_OK && err != PINSET_E_UNSUPPORTED) {
            abort();
        }
        pinset_fidelity_free(f);
        free(s.b);
    }
}

static void fuzz_convert_one(const uint8_t *data, size_t size, pinset_format fmt)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_policy *p = NULL, *q = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    struct fuzz_sbuf mid = {0}, one = {0}, two = {0};
    pinset_err err;

    /* the JSON formats name their hosts: export them whole */
    o.host = fmt == PINSET_FORMAT_CHROMIUM || fmt == PINSET_FORMAT_TRUSTKIT ? NULL : "example.com";
    o.now = FUZZ_NOW;
    err = pinset_policy_import(&p, &f, data, size, fmt, &o, &d);
    if (err != PINSET_OK) {
        fuzz_check_failure(err, &d, p, f);
        return;
    }
    pinset_fidelity_free(f);
    f = NULL;
    fuzz_export_others(p, &o);
    if (pinset_policy_rule_count(p) == 0) {
        pinset_policy_free(p); /* HPKP max-age=0: the host is not pinned, nothing to write */
        return;
    }
    if (pinset_policy_export(&f, p, fmt, &o, fuzz_sink, &mid, NULL) != PINSET_OK) {
        abort();
    }
    pinset_fidelity_free(f);
    if (pinset_policy_import(&q, NULL, (const uint8_t *)mid.b, mid.n, fmt, &o, NULL) != PINSET_OK ||
        pinset_policy_write(p, fuzz_sink, &one) != PINSET_OK ||
        pinset_policy_write(q, fuzz_sink, &two) != PINSET_OK || one.n != two.n ||
        memcmp(one.b, two.b, one.n) != 0) {
        abort();
    }
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(mid.b);
    free(one.b);
    free(two.b);
}

#endif /* PINSET_FUZZ_CONVERT_H */
