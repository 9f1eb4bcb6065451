/*
 * fuzz_android.c - fuzz target for the Android Network Security Config
 * converter (libpinset-formats: src/formats/android.c, android_out.c).
 *
 * Target functions: pinset_formats_import and pinset_formats_export with
 * PINSET_FORMAT_ANDROID, pinset_policy_write. Properties checked (abort on
 * violation): a failed import sets the diag's code, a non-empty one-line
 * message and a line (every error of an XML input has one) and returns
 * neither policy nor list; an imported document exports, the export imports,
 * and from there the round trip is a fixed point (export and import again
 * give the same canonical policy); exports to libpinset's formats do not
 * crash and fail only as documented.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/convert.h>
#include <pinset/formats.h>
#include <pinset/policy.h>

#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* android -> model -> android -> model; *q receives the second model. */
static int cycle(const pinset_policy *p, pinset_policy **q)
{
    struct fuzz_sbuf x = {0};
    pinset_fidelity *f = NULL;
    int ok = pinset_formats_export(&f, p, PINSET_FORMAT_ANDROID, NULL, fuzz_sink, &x, NULL) ==
                 PINSET_OK &&
             pinset_formats_import(q, NULL, (const uint8_t *)x.b, x.n, PINSET_FORMAT_ANDROID, NULL,
                                   NULL) == PINSET_OK;

    pinset_fidelity_free(f);
    free(x.b);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_policy *p = NULL, *q = NULL, *r = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    struct fuzz_sbuf one = {0}, two = {0};
    pinset_err err = pinset_formats_import(&p, &f, data, size, PINSET_FORMAT_ANDROID, NULL, &d);

    if (err != PINSET_OK) {
        fuzz_check_failure(err, &d, p, f);
        if (d.line == 0) {
            abort();
        }
        return 0;
    }
    pinset_fidelity_free(f);
    o.now = FUZZ_NOW;
    fuzz_export_others(p, &o);
    if (!cycle(p, &q) || !cycle(q, &r) || pinset_policy_write(q, fuzz_sink, &one) != PINSET_OK ||
        pinset_policy_write(r, fuzz_sink, &two) != PINSET_OK || one.n != two.n ||
        memcmp(one.b, two.b, one.n) != 0) {
        abort();
    }
    pinset_policy_free(p);
    pinset_policy_free(q);
    pinset_policy_free(r);
    free(one.b);
    free(two.b);
    return 0;
}
