/*
 * state.h - where a CT watcher keeps its position in each log, behind a tiny
 * interface: load and save one ct_position per log ID.
 *
 * Two implementations: the monitor's store (SQLite / PostgreSQL, the table
 * ct_positions: src/store/ct_pos.h), which the monitor uses unless
 * ct.state_dir is given; and here a directory of small text files, one per
 * log (`<log ID hex>.ctpos`), each written atomically: a temporary in the
 * same directory, fsync, rename over the old file, fsync of the directory.
 * A reader sees the old position or the new one, whole; a crash loses at
 * most the batch in progress, which is fetched and checked again.
 */
#ifndef PINSET_CT_STATE_H
#define PINSET_CT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "ct/merkle.h"

/*
 * A log position: the last tree head verified (size, root, timestamp), and how
 * far the entries were processed (`range`: the right edge of the tree of the
 * first range.size entries, so that their root can be checked against the next
 * tree head without fetching them again).
 */
typedef struct ct_position {
    uint64_t sth_size;
    uint64_t sth_timestamp;
    uint8_t sth_root[CT_HASH_LEN];
    ct_range range;
    /*
     * The right edge of the last tree whose root a pass checked against a
     * signed tree head (its entries are the log's); when have_verified. A
     * pass whose entries do not make the signed root goes back to it, never
     * to a position saved part-way through a pass, which may hold entries
     * that are not the log's. A position written before it existed has none.
     */
    int have_verified;
    ct_range verified;
} ct_position;

typedef struct ct_store ct_store;
struct ct_store {
    /* 1 and *out when the log has a position, 0 when it has none, -1 with err. */
    int (*load)(ct_store *s, const uint8_t log_id[CT_HASH_LEN], ct_position *out, char *err,
                size_t errcap);
    /* 0, or -1 with err: the previous position is then still there. */
    int (*save)(ct_store *s, const uint8_t log_id[CT_HASH_LEN], const ct_position *pos, char *err,
                size_t errcap);
    void (*free)(ct_store *s);
};

/* The directory store: dir is created (0700) when missing. 0, or -1 with err. */
int ct_store_dir_open(ct_store **out, const char *dir, char *err, size_t errcap);

/* The most bytes the text form of a position takes (twice 64 hashes of 71 bytes and the header). */
#define CT_POSITION_TEXT_MAX 16384

/*
 * The text form of a position (the directory's files, the store's rows, tests): one definition.
 * 0, or -1 (malformed: any text, as long as len says, is refused or read, never overrun).
 */
int ct_position_format(char *buf, size_t cap, const ct_position *pos);
int ct_position_parse(ct_position *out, const char *text, size_t len);

#endif /* PINSET_CT_STATE_H */
