/*
 * fuzz_chromium.c - fuzz target for the Chromium static pins JSON converter.
 *
 * Target functions: pinset_policy_import and pinset_policy_export with
 * PINSET_FORMAT_CHROMIUM (src/lib/formats/chromium.c, fjson.c), pinset_policy_write.
 * Properties checked (abort on violation): a failed import sets the diag's
 * code and a non-empty one-line message and returns neither policy nor
 * list; an imported document exports again, the export imports again, and
 * both give the same canonical policy; exports to the other formats do not
 * crash and fail only as documented.
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
    fuzz_convert_one(data, size, PINSET_FORMAT_CHROMIUM);
    return 0;
}
