/*
 * fuzz_curl_list.c - fuzz target for the curl --pinnedpubkey list converter.
 *
 * Target functions: pinset_policy_import and pinset_policy_export with
 * PINSET_FORMAT_CURL (src/lib/formats/curl.c), pinset_policy_write.
 * Properties checked (abort on violation): as fuzz_hpkp.c; in addition an
 * accepted list holds only leaf-role spki pins, each of which curl's own
 * comparison would match (the list contains "sha256//" + its base64 text).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/convert.h>
#include <pinset/policy.h>

#include "fuzz_convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* curl compares the text: every pin we accept must appear verbatim after "sha256//". */
static void check_curl_text(const uint8_t *data, size_t size)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_policy *p = NULL;
    char want[PINSET_PIN_STR_MAX];

    o.host = "example.com";
    if (pinset_policy_import(&p, NULL, data, size, PINSET_FORMAT_CURL, &o, NULL) != PINSET_OK) {
        return;
    }
    for (size_t i = 0; i < pinset_rule_pin_count(pinset_policy_rule(p, 0)); i++) {
        const pinset_rule *r = pinset_policy_rule(p, 0);
        size_t n;
        int found = 0;
        if (pinset_rule_pin_role(r, i) != PINSET_ROLE_LEAF ||
            pinset_pin_format(want, sizeof(want), pinset_rule_pin(r, i), PINSET_PIN_FMT_CURL) !=
                PINSET_OK) {
            abort();
        }
        n = strlen(want);
        for (size_t k = 0; k + n <= size && !found; k++) {
            found = memcmp(data + k, want, n) == 0;
        }
        if (!found) {
            abort();
        }
    }
    pinset_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_convert_one(data, size, PINSET_FORMAT_CURL);
    check_curl_text(data, size);
    return 0;
}
