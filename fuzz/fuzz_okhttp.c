/*
 * fuzz_okhttp.c - fuzz target for the OkHttp CertificatePinner converter.
 *
 * Target functions: pinset_policy_import with PINSET_FORMAT_OKHTTP and
 * pinset_policy_export with PINSET_FORMAT_OKHTTP, _OKHTTP_KOTLIN and
 * _OKHTTP_JAVA (src/lib/formats/okhttp.c), pinset_policy_write.
 * Properties checked (abort on violation): a failed import sets the diag's
 * code and a non-empty one-line message and returns neither policy nor
 * list; an imported list exports again, the export imports again, and both
 * give the same canonical policy (the union of pins is a fixed point); the
 * builder code is written whenever the list is; exports to the other formats
 * do not crash and fail only as documented.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/convert.h>
#include <pinset/policy.h>

#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pinset_policy *p = NULL;

    fuzz_convert_one(data, size, PINSET_FORMAT_OKHTTP);
    if (pinset_policy_import(&p, NULL, data, size, PINSET_FORMAT_OKHTTP, NULL, NULL) == PINSET_OK) {
        for (int fmt = PINSET_FORMAT_OKHTTP_KOTLIN; fmt <= PINSET_FORMAT_OKHTTP_JAVA; fmt++) {
            struct fuzz_sbuf s = {0};
            pinset_fidelity *f = NULL;
            if (pinset_policy_export(&f, p, (pinset_format)fmt, NULL, fuzz_sink, &s, NULL) !=
                PINSET_OK) {
                abort();
            }
            pinset_fidelity_free(f);
            free(s.b);
        }
        pinset_policy_free(p);
    }
    return 0;
}
