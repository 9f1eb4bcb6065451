/*
 * fuzz_ct_position.c - the text form of a CT log position (src/ct/state.c's
 * ct_position_parse), which the monitor reads back from a shared database's
 * ct_positions rows (src/store/ct_pos.c) and ct-watch from its directory: any
 * bytes, refused or read, never a read outside them; what it accepts is
 * written again by ct_position_format and read back the same.
 * Seeds: fuzz/corpus/ct_position/ (positions with and without a verified tree).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[CT_POSITION_TEXT_MAX];
    ct_position a, b;
    char *copy = malloc(size > 0 ? size : 1); /* exactly size bytes: ASan sees an overrun */

    if (copy == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(copy, data, size);
    }
    if (ct_position_parse(&a, copy, size) == 0) {
        if (ct_position_format(text, sizeof(text), &a) != 0 ||
            ct_position_parse(&b, text, strlen(text)) != 0 || memcmp(&a, &b, sizeof(a)) != 0) {
            abort();
        }
    }
    free(copy);
    return 0;
}
