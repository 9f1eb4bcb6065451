/*
 * fuzz_host.c - fuzz target for host canonicalisation.
 *
 * Target functions: pinset_host_canon (and the internal fast-path test
 * pinset__host_is_canonical_dns).
 * Properties checked (abort on violation): on success the result is a
 * NUL-terminated string of at most 253 octets of lower-case ASCII, and
 * canonicalising it again gives the same string and type (idempotence); a
 * name the fast path calls canonical canonicalises to itself; on failure the
 * output is empty and the diag carries the code and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pinset/host.h>

#include "core/host_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char once[PINSET_HOST_MAX], twice[PINSET_HOST_MAX];
    pinset_host_type t1 = PINSET_HOST_DNS, t2 = PINSET_HOST_DNS;
    pinset_diag d = PINSET_DIAG_INIT;
    const char *in = (const char *)data;
    pinset_err err = pinset_host_canon(once, sizeof(once), &t1, in, size, &d);
    size_t n;

    if (err != PINSET_OK) {
        if (once[0] != '\0' || d.code != err || d.message[0] == '\0') {
            abort();
        }
        if (pinset__host_is_canonical_dns(in, size)) {
            abort(); /* the fast path must never accept what the slow path refuses */
        }
        return 0;
    }
    n = strlen(once);
    if (n == 0 || n > 253) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)once[i];
        if (c >= 0x80 || (c >= 'A' && c <= 'Z')) {
            abort();
        }
    }
    if (pinset_host_canon(twice, sizeof(twice), &t2, once, n, NULL) != PINSET_OK ||
        strcmp(once, twice) != 0 || t1 != t2) {
        abort();
    }
    if (pinset__host_is_canonical_dns(in, size) && (n != size || memcmp(once, in, n) != 0)) {
        abort();
    }
    return 0;
}
