/*
 * entries.h - a get-entries response (RFC 6962 §4.6) read into a batch of
 * entries: the JSON with simdjson (DOM: the whole document is validated,
 * UTF-8 included, before any field is read), each entry's leaf_input and
 * extra_data decoded from strict base64 into one arena per batch.
 *
 * simdjson is C++; entries.cpp is the one C++ file of the tool and this is
 * its C interface. It is here, and not jansson, because this one response
 * is the CT monitor's hot path: a thousand entries of about a kilobyte each,
 * which jansson reads at about 80 MB/s and simdjson at several GB/s (see
 * bench/README.md, the CT benchmark).
 */
#ifndef PINSET_CT_ENTRIES_H
#define PINSET_CT_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Readable bytes a caller must have after the document's last one (SIMDJSON_PADDING). */
#define CT_JSON_PADDING 64

/* One entry, decoded; the bytes belong to the batch. extra is NULL for a data tile's entries. */
typedef struct ct_raw_entry {
    uint8_t *leaf;
    size_t leaf_len;
    uint8_t *extra;
    size_t extra_len;
} ct_raw_entry;

typedef struct ct_batch {
    ct_raw_entry *e;
    size_t n;
    uint8_t *arena; /* when set, every entry's bytes are in it; else each is malloc'd */
} ct_batch;

void ct_batch_free(ct_batch *b);

/* A reusable reader (its buffers grow to the largest document read). */
typedef struct ct_entries_reader ct_entries_reader;

/* A reader for documents of at most max_len bytes. 0, or -1 (out of memory). */
int ct_entries_reader_new(ct_entries_reader **out, size_t max_len);
void ct_entries_reader_free(ct_entries_reader *r);

/*
 * Read the get-entries response body buf[0..len), which must be followed by
 * CT_JSON_PADDING readable bytes, into *out: at least one entry and at most
 * `max` (the number asked for). `first` is the index of the first entry
 * (for messages). Every entry must be an object with exactly one string
 * "leaf_input" and one string "extra_data", both strict padded base64; other
 * members are ignored, at the top level and in entries, but "entries",
 * "leaf_input" and "extra_data" may not appear twice in one object.
 * 0, or -1 with the reason in err (and *out empty).
 */
int ct_entries_read(ct_entries_reader *r, ct_batch *out, const uint8_t *buf, size_t len,
                    uint64_t first, uint64_t max, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif

#endif /* PINSET_CT_ENTRIES_H */
