/*
 * store.h - where the collector keeps reports: one interface, one backend
 * per database behind a small table of functions (store_ops).
 *
 * store_open picks the backend by the target: a path is SQLite (WAL, one
 * file, store_sqlite.c); a `postgres://` or `postgresql://` URL is
 * PostgreSQL (libpq, store_pg.c), which several collectors can share. Every
 * backend keeps one schema, migrated by version (docs/collector.md):
 * a report row per dedup key with its count, first and last seen, and an
 * hourly count per row for the charts.
 *
 * Thread-safety: a store is used by one thread at a time (the collector
 * serialises calls with its own mutex).
 */
#ifndef PINSET_STORE_H
#define PINSET_STORE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Each backend's schema version: 1, the collector's tables; 2, with the monitor's (store_sqlite.c's
 * and store_pg.c's migration 1 -> 2); 3, the monitor's CT log states and its alert outbox
 * (migration 2 -> 3); 4, the CT logs' positions (ct_positions, migration 3 -> 4). Each backend
 * checks its count of migrations against it.
 */
#define STORE_SQLITE_SCHEMA_VERSION 4
#define STORE_PG_SCHEMA_VERSION     4

/* One report to record: every string NUL-terminated, already validated. */
typedef struct store_report {
    int64_t received;        /* the collector's clock, Unix seconds */
    const char *client;      /* truncated client address: IPv4 /24, IPv6 /48 */
    const char *format;      /* "rfc7469" or "trustkit" */
    const char *host;        /* hostname of the report */
    unsigned int port;       /* its port */
    const char *noted_host;  /* noted-hostname ("" when absent) */
    const char *class_name;  /* classify.h's name */
    const char *served_pins; /* spki pins (base64) of the served chain, leaf first, ' '-separated */
    const char *validated_pins; /* the same for the validated chain */
    const char *known_pins;     /* the report's known pins (base64), ' '-separated */
    int64_t client_time;        /* the report's date-time, Unix seconds */
    const char *detail;         /* a JSON object: the format's other fields and the chains' names */
    uint8_t dedup[32];          /* SHA-256 of the canonical fields (serve/report.h) */
} store_report;

/* What a query selects. */
typedef struct store_filter {
    int64_t since;    /* last_seen at or after this time; 0 = all */
    const char *host; /* one host; NULL = all */
} store_filter;

/* Per host and class. */
typedef struct store_group {
    const char *host;
    const char *class_name;
    int64_t reports; /* reports received (duplicates counted) */
    int64_t rows;    /* distinct reports (dedup keys) */
    int64_t first_seen, last_seen;
} store_group;

/* One stored row. */
typedef struct store_row {
    int64_t id;
    const char *format, *host, *noted_host, *class_name, *client;
    unsigned int port;
    const char *served_pins, *validated_pins, *known_pins, *detail;
    int64_t client_time, received, count, first_seen, last_seen;
} store_row;

/* One point of a series: reports of a class within [start, start + width). */
typedef struct store_point {
    int64_t start;
    const char *class_name;
    int64_t reports;
} store_point;

typedef int (*store_group_fn)(const store_group *g, void *payload);
typedef int (*store_row_fn)(const store_row *r, void *payload);
typedef int (*store_point_fn)(const store_point *p, void *payload);

/*
 * The monitor's state of one host (`pinset monitor`, schema version 2): what
 * the last round saw, compared with the next one. Strings NUL-terminated.
 */
typedef struct store_mon_host {
    const char *shard; /* "I/N" of the monitor that owns the host */
    const char *host;  /* canonical host name */
    unsigned int port;
    const char *outcome;     /* check's outcome name: PASS, FAIL, ... */
    const char *matched_pin; /* base64 of the pin that decided, "" when none */
    const char *leaf_spki;   /* base64 of the served leaf's spki pin, "" when none */
    const char *backup_live; /* base64 of a role-backup pin seen in the live chain, or "" */
    const char *error;       /* why the host could not be checked, or "" */
    int64_t leaf_not_after, pins_not_after, rule_expires; /* 0 = none */
    int expiry_flags;    /* the expiries under their thresholds (monitor.h's MON_EXP_*) */
    int64_t last_change; /* when outcome, matched_pin or leaf_spki last changed */
    int64_t last_round;  /* the round that last saw it (its start time) */
} store_mon_host;

/*
 * One alert as kept in the store (the JSON in `body`). Stored with its round before any sink is
 * given it (schema version 3: the outbox): `pending` holds the sinks still to take it.
 */
typedef struct store_mon_alert {
    int64_t time;
    const char *shard, *host;
    unsigned int port;
    const char *kind;     /* pin_drift, new_failure, expiry, backup_live, ct_finding, ... */
    const char *body;     /* the alert's JSON document */
    const char *alert_id; /* its idempotency key (also in body) */
    int pending;          /* sinks still to take it (alert.h's MON_SINK_*); 0 delivered */
} store_mon_alert;

/* An alert of the outbox: stored, some sink still to take it (schema version 3). */
typedef struct store_mon_outbox {
    int64_t id;
    const char *body;
    int pending;          /* sinks still to take it */
    int attempts;         /* delivery attempts made so far */
    int64_t next_attempt; /* not before this time (Unix milliseconds; at first the round's start) */
    int64_t time;         /* the alert's (its round's start, Unix seconds) */
} store_mon_outbox;

/* The state of one CT log as the last round of `shard` saw it (schema version 3). */
typedef struct store_mon_log {
    const char *shard;
    const char *url;
    const char *broken; /* "" when it worked; else why not: log-bad-signature, log-unreadable... */
    const char *detail; /* the reason in words, or "" */
    int64_t since;      /* when it entered this state */
    int64_t last_round; /* the round that last read it (its start time) */
} store_mon_log;

typedef int (*store_mon_host_fn)(const store_mon_host *h, void *payload);
typedef int (*store_mon_log_fn)(const store_mon_log *l, void *payload);
typedef int (*store_mon_outbox_fn)(const store_mon_outbox *a, void *payload);

typedef struct store store;

/*
 * A backend. Each function returns 0, or -1 with a one-line reason in
 * err (cap bytes). A callback returning non-zero stops a query, which
 * then returns that value.
 */
typedef struct store_ops {
    const char *name; /* "sqlite", "postgres" */
    /*
     * Record n reports in one transaction, committed before it returns (all
     * or none); ids (n entries, or NULL) receive their rows. The collector
     * hands it the reports that arrived while the previous batch committed.
     */
    int (*add)(store *s, const store_report *const *rows, size_t n, int64_t *ids, char *err,
               size_t cap);
    /* Per host and class, by host then class. */
    int (*groups)(store *s, const store_filter *f, store_group_fn fn, void *payload, char *err,
                  size_t cap);
    /* Rows, by host, class, then count (most first); at most `limit` (0 = all). */
    int (*rows)(store *s, const store_filter *f, size_t limit, store_row_fn fn, void *payload,
                char *err, size_t cap);
    /* Reports per `width` seconds (a multiple of 3600) and class, oldest first. */
    int (*series)(store *s, const store_filter *f, int64_t width, store_point_fn fn, void *payload,
                  char *err, size_t cap);
    void (*close)(store *s);
    /*
     * The monitor (schema version 2; added after the collector's functions,
     * so that a backend written before may leave them NULL: store_mon_ready).
     * mon_hosts: the stored state of every host of `shard`, by host then port.
     */
    int (*mon_hosts)(store *s, const char *shard, store_mon_host_fn fn, void *payload, char *err,
                     size_t cap);
    /*
     * Record one round in one transaction (all or none): the round row
     * (started, finished, hosts, alerts), the new state of its hosts
     * (replacing the old, keyed by host and port), its alerts (pending in
     * the outbox) and the new state of its CT logs (keyed by shard and URL).
     */
    int (*mon_round)(store *s, const char *shard, int64_t started, int64_t finished,
                     const store_mon_host *hosts, size_t nhosts, const store_mon_alert *alerts,
                     size_t nalerts, const store_mon_log *logs, size_t nlogs, char *err,
                     size_t cap);
    /* The stored state of every CT log of `shard`, by URL (schema version 3). */
    int (*mon_logs)(store *s, const char *shard, store_mon_log_fn fn, void *payload, char *err,
                    size_t cap);
    /* The outbox of `shard`: its alerts with a sink still to take them, oldest first. */
    int (*mon_outbox)(store *s, const char *shard, store_mon_outbox_fn fn, void *payload, char *err,
                      size_t cap);
    /*
     * After a delivery attempt of alert `id`: the sinks still pending (0: delivered, at time
     * `now`), the attempts made, when to try next, and the sinks that gave up (added to those
     * recorded). One statement, committed before it returns.
     */
    int (*mon_outbox_mark)(store *s, int64_t id, int pending, int attempts, int64_t next_attempt,
                           int gave_up, int64_t now, char *err, size_t cap);
    /*
     * The position of CT log `log_id` (its ID in lowercase hex; schema version 4, the table
     * ct_positions): its text (ct/state.h's ct_position_format, not checked here) in buf, *len
     * bytes and NUL-terminated. 1 when the log has one, 0 when not, -1 with err (also when the
     * stored text does not fit in cap bytes with its NUL).
     */
    int (*ct_pos_load)(store *s, const char *log_id, char *buf, size_t cap, size_t *len, char *err,
                       size_t errcap);
    /*
     * Replace the position of CT log `log_id` with `text` (updated_at: the database's clock).
     * One statement (an upsert, committed before it returns): a save that fails leaves the
     * previous row; of two monitors saving the same log, the last to commit wins.
     */
    int (*ct_pos_save)(store *s, const char *log_id, const char *text, char *err, size_t errcap);
} store_ops;

/* Every backend's handle starts with this. */
struct store {
    const store_ops *ops;
};

/*
 * Open (creating and migrating when needed) the store named by `target`.
 * read_only: open an existing store for queries (`pinset reports`).
 * Returns 0 with *out set, or -1 with the reason in err.
 */
int store_open(store **out, const char *target, int read_only, char *err, size_t cap);
/* The SQLite backend (store_sqlite.c). */
int store_sqlite_open(store **out, const char *path, int read_only, char *err, size_t cap);
/* The PostgreSQL backend (store_pg.c): `url` as libpq reads a connection URI. */
int store_pg_open(store **out, const char *url, int read_only, char *err, size_t cap);
/*
 * Check a store's schema version v against the `known` migrations: newer is
 * refused; with need_current (a read-only open, which never migrates) so are
 * no schema at all and an older one. Returns 0, or -1 with the reason in err.
 */
int store_schema_check(int64_t v, int64_t known, int need_current, char *err, size_t cap);
/* Whether a target names a PostgreSQL database. */
int store_is_postgres(const char *target);
/*
 * The target as it may be printed: a URL's password (user:PASSWORD@ or
 * password=...) masked with "***" in buf; other targets returned as they are.
 */
const char *store_target_shown(const char *target, char *buf, size_t cap);

static inline int store_add(store *s, const store_report *r, int64_t *id_out, char *err, size_t cap)
{
    return s->ops->add(s, &r, 1, id_out, err, cap);
}
/* Whether the backend keeps the monitor's tables. */
static inline int store_mon_ready(const store *s)
{
    return s->ops->mon_hosts != NULL && s->ops->mon_round != NULL && s->ops->mon_logs != NULL &&
           s->ops->mon_outbox != NULL && s->ops->mon_outbox_mark != NULL;
}
/* Whether the backend keeps the CT logs' positions (schema version 4). */
static inline int store_ct_ready(const store *s)
{
    return s->ops->ct_pos_load != NULL && s->ops->ct_pos_save != NULL;
}
static inline void store_close(store *s)
{
    if (s != NULL) {
        s->ops->close(s);
    }
}

#endif /* PINSET_STORE_H */
