/*
 * curl_report_int.h - what the reporter's files share (libpinset-curl):
 * curl_report.c (the queue, the thread, delivery) and curl_report_state.c
 * (the deduplication keys, the state file, the JSON-lines sink). The
 * deduplication table belongs to the reporter's thread alone: no lock.
 */
#ifndef PINSET_CURL_REPORT_INT_H
#define PINSET_CURL_REPORT_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Keys remembered at most; the oldest is forgotten first. */
#define REPORT_DEDUP_MAX 4096
/* The largest state file read; a larger one is ignored. */
#define REPORT_STATE_MAX ((size_t)1 << 20)
/* A sent key's time may be this far in the future (clock steps) and still count. */
#define REPORT_STATE_SKEW 300

struct report_key_entry {
    uint8_t key[32];
    int64_t at; /* wall-clock seconds when first seen */
    int sent;   /* 0: queued now; 1: sent (persisted) */
};

struct report_dedup {
    struct report_key_entry *e; /* REPORT_DEDUP_MAX slots */
    size_t n;
    int64_t window; /* seconds */
};

/*
 * The deduplication key of a report document: SHA-256 over hostname, port,
 * noted-hostname, validated-certificate-chain, known-pins and pinset-verdict
 * (absent members count as null). 0, or -1 when it cannot be computed.
 */
int pinset__report_key(uint8_t out[32], const json_t *doc);

/* Start empty; 0 or -1 (no memory). */
int pinset__dedup_init(struct report_dedup *d, int64_t window);
void pinset__dedup_free(struct report_dedup *d);

/* The entry for key seen within the window at `now`, or NULL. */
struct report_key_entry *pinset__dedup_find(struct report_dedup *d, const uint8_t key[32],
                                            int64_t now);

/* Remember key (forgetting the oldest entry when full): the new entry. */
struct report_key_entry *pinset__dedup_add(struct report_dedup *d, const uint8_t key[32],
                                           int64_t now, int sent);

/* Forget key (a report given up may be tried again). */
void pinset__dedup_remove(struct report_dedup *d, const uint8_t key[32]);

/*
 * Read the sent keys of the state file at path into d (within the window at
 * now). A missing, unreadable, oversized or malformed file leaves d empty:
 * 0 when loaded, -1 when ignored (ENOENT included).
 */
int pinset__dedup_load(struct report_dedup *d, const char *path, int64_t now);

/*
 * The same from the file's bytes (at most REPORT_STATE_MAX): the parser
 * that fuzz/fuzz_reporter_state.c targets.
 */
int pinset__dedup_parse(struct report_dedup *d, const char *buf, size_t len, int64_t now);

/*
 * Write the sent keys within the window atomically: a temporary file in the
 * same directory, fsync, rename over path, fsync of the directory. 0 or -1.
 */
int pinset__dedup_save(const struct report_dedup *d, const char *path, int64_t now);

/*
 * Append json and a newline to the JSON-lines file fd (opened O_APPEND) in
 * one write(2). A document holding a raw line break is refused. 0 or -1.
 */
int pinset__jsonl_append(int fd, const char *json, size_t len);

#endif /* PINSET_CURL_REPORT_INT_H */
