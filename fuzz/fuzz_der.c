/*
 * fuzz_der.c - pinset__der_cert_spki (der.c) alone: no crash, no read
 * outside the input, and on success a span inside the input that starts
 * with a SEQUENCE tag. Much faster than fuzz_der_diff, so it explores the
 * walker's framing code deeper. Seeds: fuzz/corpus/der/.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    pinset_err err;

    if (data == NULL) {
        return 0;
    }
    err = pinset__der_cert_spki(data, size, &spki, &spki_len);
    if (err == PINSET_OK) {
        if (spki < data || spki_len < 2 || spki_len > size ||
            (size_t)(spki - data) > size - spki_len || spki[0] != 0x30) {
            abort();
        }
    } else if (spki != NULL || spki_len != 0) {
        abort();
    }
    return 0;
}
