/*
 * fuzz_plist.c - fuzz target for the property-list converters of
 * libpinset-formats (src/formats/plist.c, plist_bound.c) and the Envoy
 * writer (envoy.c).
 *
 * Target functions: pinset_formats_import with PINSET_FORMAT_TRUSTKIT_PLIST
 * and PINSET_FORMAT_ATS on the same input (XML or binary; libplist 2.2
 * behind plist_bound.c's walk), pinset_formats_export to the same format and
 * to PINSET_FORMAT_ENVOY.
 * Properties checked (abort on violation): a failed import sets the diag's
 * code and a non-empty one-line message and returns neither policy nor
 * list; an imported policy exports again (or is refused as documented,
 * PINSET_E_UNSUPPORTED), the export imports again, and both give the same
 * canonical policy; the Envoy export fails only as documented.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/convert.h>
#include <pinset/formats.h>
#include <pinset/policy.h>

#include "fuzz_sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(pinset_err err, const pinset_diag *d, const pinset_policy *p,
                          const pinset_fidelity *f)
{
    if (p != NULL || f != NULL || d->code != err || d->message[0] == '\0' ||
        strchr(d->message, '\n') != NULL) {
        abort();
    }
}

static void one(const uint8_t *data, size_t size, pinset_format fmt)
{
    pinset_policy *p = NULL, *q = NULL;
    pinset_fidelity *f = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    struct fuzz_sbuf mid = {0}, one_ = {0}, two = {0}, env = {0};
    pinset_err err = pinset_formats_import(&p, &f, data, size, fmt, NULL, &d);

    if (err != PINSET_OK) {
        check_failure(err, &d, p, f);
        return;
    }
    pinset_fidelity_free(f);
    f = NULL;
    err = pinset_formats_export(&f, p, fmt, NULL, fuzz_sink, &mid, &d);
    pinset_fidelity_free(f);
    f = NULL;
    if (err == PINSET_OK) {
        err = pinset_formats_import(&q, NULL, (const uint8_t *)mid.b, mid.n, fmt, NULL, &d);
        if (err != PINSET_OK || pinset_policy_write(p, fuzz_sink, &one_) != PINSET_OK ||
            pinset_policy_write(q, fuzz_sink, &two) != PINSET_OK || one_.n != two.n ||
            memcmp(one_.b, two.b, one_.n) != 0) {
            abort();
        }
    } else if (err != PINSET_E_UNSUPPORTED) {
        abort();
    }
    err = pinset_formats_export(&f, p, PINSET_FORMAT_ENVOY, NULL, fuzz_sink, &env, &d);
    if (err != PINSET_OK && err != PINSET_E_UNSUPPORTED) {
        abort();
    }
    pinset_fidelity_free(f);
    pinset_policy_free(p);
    pinset_policy_free(q);
    free(mid.b);
    free(one_.b);
    free(two.b);
    free(env.b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, PINSET_FORMAT_TRUSTKIT_PLIST);
    one(data, size, PINSET_FORMAT_ATS);
    return 0;
}
