/*
 * fuzz_ct_entries.c - a CT log's get-entries response as the tool reads it
 * (src/ct/entries.cpp, simdjson): any bytes, with the padding the reader
 * needs after them. No crash, no leak; on success every entry's leaf and
 * extra_data lie inside the batch's arena, which is never larger than the
 * document; on failure the batch is empty. Seeds: fuzz/corpus/ct_entries/
 * (responses of the test log, and escaped and unusual ones); dictionary
 * fuzz/ct_entries.dict.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct/entries.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *p, size_t n, const uint8_t *lo, size_t cap)
{
    return n == 0 || (p >= lo && p <= lo + cap && n <= (size_t)(lo + cap - p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ct_entries_reader *r;
    uint8_t *buf;
    ct_batch b;
    char err[256];

    if (r == NULL && ct_entries_reader_new(&r, 1 << 20) != 0) {
        abort();
    }
    buf = malloc(size + CT_JSON_PADDING);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    memset(buf + size, 0, CT_JSON_PADDING);
    if (ct_entries_read(r, &b, buf, size, 0, 1000, err, sizeof(err)) == 0) {
        size_t cap = size / 4 * 3 + 1;

        if (b.n == 0 || b.n > 1000 || b.arena == NULL) {
            abort();
        }
        for (size_t i = 0; i < b.n; i++) {
            if (!inside(b.e[i].leaf, b.e[i].leaf_len, b.arena, cap) ||
                !inside(b.e[i].extra, b.e[i].extra_len, b.arena, cap)) {
                abort();
            }
        }
        ct_batch_free(&b);
    } else if (b.e != NULL || b.n != 0 || b.arena != NULL || err[0] == '\0') {
        abort();
    }
    free(buf);
    return 0;
}
