/*
 * watch.h - one pass over a CT log: fetch and verify its tree head, check it
 * against the stored position (no rewind, consistent), fetch the new entries
 * in bounded batches, check each against the policy, save the position after
 * whole batches (at most once a second, when a batch cannot be fetched, and
 * at the end), and check at the end that the entries make the tree head's
 * root. The monitor (`pinset monitor --config`) runs the same pass per log.
 */
#ifndef PINSET_CT_WATCH_H
#define PINSET_CT_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ct/leaf.h"
#include "ct/match.h"
#include "ct/state.h"
#include "ct/sth.h"

/* How a log is read. */
typedef enum ct_api {
    CT_API_RFC6962 = 0, /* get-sth, get-sth-consistency, get-entries */
    CT_API_STATIC = 1   /* c2sp.org/static-ct-api: checkpoint, hash tiles, data tiles */
} ct_api;

typedef struct ct_watch_opts {
    const char *url; /* RFC 6962: the log's base; static: its monitoring prefix */
    ct_api api;
    const char *origin; /* static: the checkpoint origin (the submission prefix without scheme) */
    const ct_log_key *key;
    ct_check *check;
    ct_store *store;
    unsigned int batch;      /* entries asked for per get-entries request */
    unsigned int timeout_ms; /* per HTTP request */
    /* While a pass catches up, the position is saved after whole batches at most this often
     * (0: after every batch), and always at the end: CT_SAVE_EVERY_MS unless a user says. */
    unsigned int save_every_ms;
} ct_watch_opts;

/* The default of ct_watch_opts.save_every_ms. */
#define CT_SAVE_EVERY_MS 1000u

/* What the pass reports as it goes. */
typedef enum ct_event_kind {
    CT_EV_FINDING = 0,    /* an entry's key is not among a watched name's pins */
    CT_EV_MISBEHAVED = 1, /* the log: bad signature, rewind, inconsistency, bad entries */
    CT_EV_UNREADABLE = 2  /* an entry that could not be read (the pass goes on) */
} ct_event_kind;

typedef struct ct_event {
    ct_event_kind kind;
    const char *alert; /* finding kind, or "log-bad-signature", "log-rewind", "log-inconsistent",
                          "log-bad-entries"; "unreadable-entry" */
    const char *detail;
    uint64_t index; /* the entry (findings, unreadable) */
    const ct_leaf *leaf;
    const ct_finding *finding;
} ct_event;

typedef void (*ct_event_cb)(const ct_event *ev, void *payload);

typedef struct ct_watch_result {
    uint64_t tree_size, start, end; /* entries [start, end) processed */
    uint64_t watched, findings, unreadable;
} ct_watch_result;

enum { CT_WATCH_OK = 0, CT_WATCH_INPUT = 3, CT_WATCH_LOG = 4, CT_WATCH_INTERNAL = 5 };

/*
 * One pass. Returns CT_WATCH_OK (findings, if any, were given to cb),
 * CT_WATCH_LOG (the log misbehaved: an event said how; or it could not be
 * read: err says why), CT_WATCH_INPUT (the stored position is unreadable) or
 * CT_WATCH_INTERNAL, with err.
 */
int ct_watch_pass(const ct_watch_opts *o, ct_event_cb cb, void *payload, ct_watch_result *res,
                  char *err, size_t errcap);

#endif /* PINSET_CT_WATCH_H */
