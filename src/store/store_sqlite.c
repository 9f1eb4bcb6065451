/*
 * store_sqlite.c - the SQLite backend of store.h: one file in WAL mode,
 * migrations by version (the schema_version table), prepared statements.
 *
 * Durability: the reports of one add() call are one transaction, committed
 * before add() returns; synchronous=NORMAL in WAL mode keeps every commit across a crash
 * of the process (kill -9), and loses at most the last commits on a power
 * failure (docs/collector.md).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <store/store.h>
#include <string.h>

#include "common.h"

/* Each migration takes the schema from version i to i + 1. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE reports ("
    " id INTEGER PRIMARY KEY,"
    " dedup_key BLOB NOT NULL UNIQUE,"
    " format TEXT NOT NULL,"
    " host TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " noted_host TEXT NOT NULL,"
    " class TEXT NOT NULL,"
    " served_pins TEXT NOT NULL,"
    " validated_pins TEXT NOT NULL,"
    " known_pins TEXT NOT NULL,"
    " client TEXT NOT NULL,"
    " client_time INTEGER NOT NULL,"
    " received INTEGER NOT NULL,"
    " detail TEXT NOT NULL,"
    " count INTEGER NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL);"
    "CREATE INDEX reports_host_class ON reports(host, class);"
    "CREATE INDEX reports_last_seen ON reports(last_seen);"
    "CREATE TABLE report_hours ("
    " report_id INTEGER NOT NULL REFERENCES reports(id),"
    " hour INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " PRIMARY KEY (report_id, hour)) WITHOUT ROWID;",
    /* 1 -> 2: the monitor (pinset monitor): its rounds, the last state of each host, alerts */
    "CREATE TABLE monitor_rounds ("
    " id INTEGER PRIMARY KEY,"
    " shard TEXT NOT NULL,"
    " started INTEGER NOT NULL,"
    " finished INTEGER NOT NULL,"
    " hosts INTEGER NOT NULL,"
    " alerts INTEGER NOT NULL);"
    "CREATE INDEX monitor_rounds_shard ON monitor_rounds(shard, started);"
    "CREATE TABLE monitor_hosts ("
    " host TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " shard TEXT NOT NULL,"
    " outcome TEXT NOT NULL,"
    " matched_pin TEXT NOT NULL,"
    " leaf_spki TEXT NOT NULL,"
    " backup_live TEXT NOT NULL,"
    " error TEXT NOT NULL,"
    " leaf_not_after INTEGER NOT NULL,"
    " pins_not_after INTEGER NOT NULL,"
    " rule_expires INTEGER NOT NULL,"
    " expiry_flags INTEGER NOT NULL,"
    " last_change INTEGER NOT NULL,"
    " last_round INTEGER NOT NULL,"
    " PRIMARY KEY (host, port)) WITHOUT ROWID;"
    "CREATE INDEX monitor_hosts_shard ON monitor_hosts(shard);"
    "CREATE TABLE monitor_alerts ("
    " id INTEGER PRIMARY KEY,"
    " time INTEGER NOT NULL,"
    " shard TEXT NOT NULL,"
    " host TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE INDEX monitor_alerts_host ON monitor_alerts(host, time);",
    /*
     * 2 -> 3: the state of each CT log (an alert when it breaks, when the reason changes and
     * when it recovers: never each round), and the alerts' outbox: an alert is stored pending
     * before any sink is given it (the alerts stored before were delivered: pending 0)
     */
    "CREATE TABLE monitor_ct_logs ("
    " shard TEXT NOT NULL,"
    " url TEXT NOT NULL,"
    " broken TEXT NOT NULL,"
    " detail TEXT NOT NULL,"
    " since INTEGER NOT NULL,"
    " last_round INTEGER NOT NULL,"
    " PRIMARY KEY (shard, url)) WITHOUT ROWID;"
    "ALTER TABLE monitor_alerts ADD COLUMN alert_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE monitor_alerts ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE monitor_alerts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE monitor_alerts ADD COLUMN next_attempt INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE monitor_alerts ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE monitor_alerts ADD COLUMN gave_up INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX monitor_alerts_pending ON monitor_alerts(shard, id) WHERE pending != 0;",
    /*
     * 3 -> 4: each CT log's position (ct/state.h's text form), kept in the store rather than a
     * directory (ct.state_dir), so that monitors sharing a database share it
     */
    "CREATE TABLE ct_positions ("
    " log_id TEXT NOT NULL PRIMARY KEY,"
    " position TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL) WITHOUT ROWID;",
};
#define MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
_Static_assert(MIGRATIONS == STORE_SQLITE_SCHEMA_VERSION,
               "store.h's schema version is the count of migrations");

static const char add_sql[] =
    "INSERT INTO reports (dedup_key, format, host, port, noted_host, class, served_pins,"
    " validated_pins, known_pins, client, client_time, received, detail, count, first_seen,"
    " last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?12, ?12)"
    " ON CONFLICT (dedup_key) DO UPDATE SET count = count + 1,"
    " last_seen = max(last_seen, excluded.last_seen), received = excluded.received,"
    " client = excluded.client, client_time = excluded.client_time"
    " RETURNING id";
static const char hour_sql[] =
    "INSERT INTO report_hours (report_id, hour, count) VALUES (?1, ?2, 1)"
    " ON CONFLICT (report_id, hour) DO UPDATE SET count = count + 1";
/* ?1 since, ?2 host (NULL = all) */
static const char groups_sql[] =
    "SELECT host, class, sum(count), count(*), min(first_seen), max(last_seen) FROM reports"
    " WHERE last_seen >= ?1 AND (?2 IS NULL OR host = ?2) GROUP BY host, class"
    " ORDER BY host, class";
static const char rows_sql[] =
    "SELECT id, format, host, port, noted_host, class, client, served_pins, validated_pins,"
    " known_pins, detail, client_time, received, count, first_seen, last_seen FROM reports"
    " WHERE last_seen >= ?1 AND (?2 IS NULL OR host = ?2)"
    " ORDER BY host, class, count DESC, id LIMIT ?3";
/* ?1 since, ?2 host, ?3 width in hours */
static const char series_sql[] =
    "SELECT (h.hour / ?3) * ?3 * 3600 AS t, r.class, sum(h.count) FROM report_hours h"
    " JOIN reports r ON r.id = h.report_id"
    " WHERE h.hour * 3600 + 3599 >= ?1 AND (?2 IS NULL OR r.host = ?2)"
    " GROUP BY t, r.class ORDER BY t, r.class";

typedef struct sqlite_store {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *add, *hour, *begin, *commit, *rollback;
} sqlite_store;

static int fail(sqlite_store *s, char *err, size_t cap, const char *what)
{
    snprintf(err, cap, "%s: %s", what, s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
    return -1;
}

static int prepare(sqlite_store *s, const char *sql, sqlite3_stmt **out, char *err, size_t cap)
{
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
        return fail(s, err, cap, "prepare");
    }
    return 0;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_STATIC);
}

static int bind_filter(sqlite3_stmt *st, const store_filter *f)
{
    int rc = sqlite3_bind_int64(st, 1, f != NULL ? f->since : 0);

    if (rc == SQLITE_OK) {
        rc = f != NULL && f->host != NULL ? sqlite3_bind_text(st, 2, f->host, -1, SQLITE_STATIC)
                                          : sqlite3_bind_null(st, 2);
    }
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t != NULL ? (const char *)t : "";
}

/* Insert or count one report and its hour, inside the caller's transaction. */
static int add_one(sqlite_store *s, const store_report *r, int64_t *id_out)
{
    sqlite3_stmt *st = s->add;
    int64_t id = 0;
    int rc;

    rc = sqlite3_bind_blob(st, 1, r->dedup, sizeof(r->dedup), SQLITE_STATIC);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 2, r->format);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 3, r->host);
    rc = rc != SQLITE_OK ? rc : sqlite3_bind_int64(st, 4, (sqlite3_int64)r->port);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 5, r->noted_host);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 6, r->class_name);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 7, r->served_pins);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 8, r->validated_pins);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 9, r->known_pins);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 10, r->client);
    rc = rc != SQLITE_OK ? rc : sqlite3_bind_int64(st, 11, r->client_time);
    rc = rc != SQLITE_OK ? rc : sqlite3_bind_int64(st, 12, r->received);
    rc = rc != SQLITE_OK ? rc : bind_text(st, 13, r->detail != NULL ? r->detail : "{}");
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    } else {
        rc = SQLITE_ERROR;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_OK) {
        sqlite3_stmt *h = s->hour;
        rc = sqlite3_bind_int64(h, 1, id);
        rc = rc != SQLITE_OK ? rc : sqlite3_bind_int64(h, 2, r->received / 3600);
        rc = rc != SQLITE_OK || sqlite3_step(h) != SQLITE_DONE ? SQLITE_ERROR : SQLITE_OK;
        sqlite3_reset(h);
    }
    if (id_out != NULL) {
        *id_out = id;
    }
    return rc == SQLITE_OK ? 0 : -1;
}

static int add(store *base, const store_report *const *rows, size_t n, int64_t *ids, char *err,
               size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    int rc = 0;

    if (sqlite3_step(s->begin) != SQLITE_DONE) {
        sqlite3_reset(s->begin);
        return fail(s, err, cap, "begin");
    }
    sqlite3_reset(s->begin);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = add_one(s, rows[i], ids != NULL ? &ids[i] : NULL);
    }
    if (rc == 0 && sqlite3_step(s->commit) == SQLITE_DONE) {
        sqlite3_reset(s->commit);
        return 0;
    }
    fail(s, err, cap, "insert");
    sqlite3_reset(s->commit);
    sqlite3_step(s->rollback);
    sqlite3_reset(s->rollback);
    return -1;
}

/* Step a query to its end, calling `row` on each; finalises st. */
static int run_query(sqlite_store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *, void *),
                     void *ctx, char *err, size_t cap)
{
    int rc, stop = 0;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((stop = row(st, ctx)) != 0) {
            break;
        }
    }
    if (stop == 0 && rc != SQLITE_DONE) {
        fail(s, err, cap, "query");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    return stop;
}

typedef struct group_ctx {
    store_group_fn fn;
    void *payload;
} group_ctx;

static int group_row(sqlite3_stmt *st, void *p)
{
    group_ctx *c = p;
    store_group g = {col_text(st, 0),
                     col_text(st, 1),
                     sqlite3_column_int64(st, 2),
                     sqlite3_column_int64(st, 3),
                     sqlite3_column_int64(st, 4),
                     sqlite3_column_int64(st, 5)};
    return c->fn(&g, c->payload);
}

static int groups(store *base, const store_filter *f, store_group_fn fn, void *payload, char *err,
                  size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    group_ctx c = {fn, payload};

    if (prepare(s, groups_sql, &st, err, cap) != 0) {
        return -1;
    }
    if (bind_filter(st, f) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(s, err, cap, "bind");
    }
    return run_query(s, st, group_row, &c, err, cap);
}

typedef struct row_ctx {
    store_row_fn fn;
    void *payload;
} row_ctx;

static int row_row(sqlite3_stmt *st, void *p)
{
    row_ctx *c = p;
    store_row r;

    r.id = sqlite3_column_int64(st, 0);
    r.format = col_text(st, 1);
    r.host = col_text(st, 2);
    r.port = (unsigned int)sqlite3_column_int64(st, 3);
    r.noted_host = col_text(st, 4);
    r.class_name = col_text(st, 5);
    r.client = col_text(st, 6);
    r.served_pins = col_text(st, 7);
    r.validated_pins = col_text(st, 8);
    r.known_pins = col_text(st, 9);
    r.detail = col_text(st, 10);
    r.client_time = sqlite3_column_int64(st, 11);
    r.received = sqlite3_column_int64(st, 12);
    r.count = sqlite3_column_int64(st, 13);
    r.first_seen = sqlite3_column_int64(st, 14);
    r.last_seen = sqlite3_column_int64(st, 15);
    return c->fn(&r, c->payload);
}

static int rows(store *base, const store_filter *f, size_t limit, store_row_fn fn, void *payload,
                char *err, size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    row_ctx c = {fn, payload};

    if (prepare(s, rows_sql, &st, err, cap) != 0) {
        return -1;
    }
    if (bind_filter(st, f) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, limit == 0 ? -1 : (sqlite3_int64)limit) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(s, err, cap, "bind");
    }
    return run_query(s, st, row_row, &c, err, cap);
}

typedef struct point_ctx {
    store_point_fn fn;
    void *payload;
} point_ctx;

static int point_row(sqlite3_stmt *st, void *p)
{
    point_ctx *c = p;
    store_point pt = {sqlite3_column_int64(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2)};
    return c->fn(&pt, c->payload);
}

static int series(store *base, const store_filter *f, int64_t width, store_point_fn fn,
                  void *payload, char *err, size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    point_ctx c = {fn, payload};
    int64_t hours = width / 3600 > 0 ? width / 3600 : 1;

    if (prepare(s, series_sql, &st, err, cap) != 0) {
        return -1;
    }
    if (bind_filter(st, f) != SQLITE_OK || sqlite3_bind_int64(st, 3, hours) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(s, err, cap, "bind");
    }
    return run_query(s, st, point_row, &c, err, cap);
}

/* ---- the monitor (schema version 2) ---- */

static const char mon_hosts_sql[] =
    "SELECT shard, host, port, outcome, matched_pin, leaf_spki, backup_live, error,"
    " leaf_not_after, pins_not_after, rule_expires, expiry_flags, last_change, last_round"
    " FROM monitor_hosts WHERE shard = ?1 ORDER BY host, port";
static const char mon_host_put_sql[] =
    "INSERT OR REPLACE INTO monitor_hosts (shard, host, port, outcome, matched_pin, leaf_spki,"
    " backup_live, error, leaf_not_after, pins_not_after, rule_expires, expiry_flags,"
    " last_change, last_round) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
    " ?14)";
static const char mon_alert_put_sql[] =
    "INSERT INTO monitor_alerts (time, shard, host, port, kind, body, alert_id, pending,"
    " next_attempt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?1 * 1000)";
static const char mon_log_put_sql[] =
    "INSERT OR REPLACE INTO monitor_ct_logs (shard, url, broken, detail, since, last_round)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char mon_logs_sql[] =
    "SELECT shard, url, broken, detail, since, last_round FROM monitor_ct_logs WHERE shard = ?1"
    " ORDER BY url";
static const char mon_outbox_sql[] =
    "SELECT id, body, pending, attempts, next_attempt, time FROM monitor_alerts"
    " WHERE shard = ?1 AND pending != 0 ORDER BY id";
static const char mon_outbox_mark_sql[] =
    "UPDATE monitor_alerts SET pending = ?2, attempts = ?3, next_attempt = ?4,"
    " gave_up = gave_up | ?5, delivered = CASE WHEN ?2 = 0 THEN ?6 ELSE delivered END"
    " WHERE id = ?1";
static const char mon_round_put_sql[] =
    "INSERT INTO monitor_rounds (shard, started, finished, hosts, alerts)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";

typedef struct mon_ctx {
    store_mon_host_fn fn;
    void *payload;
} mon_ctx;

static int mon_host_row(sqlite3_stmt *st, void *p)
{
    const mon_ctx *c = p;
    store_mon_host h;

    h.shard = col_text(st, 0);
    h.host = col_text(st, 1);
    h.port = (unsigned int)sqlite3_column_int64(st, 2);
    h.outcome = col_text(st, 3);
    h.matched_pin = col_text(st, 4);
    h.leaf_spki = col_text(st, 5);
    h.backup_live = col_text(st, 6);
    h.error = col_text(st, 7);
    h.leaf_not_after = sqlite3_column_int64(st, 8);
    h.pins_not_after = sqlite3_column_int64(st, 9);
    h.rule_expires = sqlite3_column_int64(st, 10);
    h.expiry_flags = (int)sqlite3_column_int64(st, 11);
    h.last_change = sqlite3_column_int64(st, 12);
    h.last_round = sqlite3_column_int64(st, 13);
    return c->fn(&h, c->payload);
}

static int mon_hosts(store *base, const char *shard, store_mon_host_fn fn, void *payload, char *err,
                     size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    mon_ctx c = {fn, payload};

    if (prepare(s, mon_hosts_sql, &st, err, cap) != 0) {
        return -1;
    }
    if (bind_text(st, 1, shard) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(s, err, cap, "bind");
    }
    return run_query(s, st, mon_host_row, &c, err, cap);
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int mon_put_host(sqlite3_stmt *st, const store_mon_host *h)
{
    int rc = bind_text(st, 1, h->shard) | bind_text(st, 2, h->host) |
             sqlite3_bind_int64(st, 3, h->port) | bind_text(st, 4, h->outcome) |
             bind_text(st, 5, h->matched_pin) | bind_text(st, 6, h->leaf_spki) |
             bind_text(st, 7, h->backup_live) | bind_text(st, 8, h->error) |
             sqlite3_bind_int64(st, 9, h->leaf_not_after) |
             sqlite3_bind_int64(st, 10, h->pins_not_after) |
             sqlite3_bind_int64(st, 11, h->rule_expires) |
             sqlite3_bind_int64(st, 12, h->expiry_flags) |
             sqlite3_bind_int64(st, 13, h->last_change) | sqlite3_bind_int64(st, 14, h->last_round);

    return rc != SQLITE_OK ? -1 : step_done(st);
}

static int mon_put_alert(sqlite3_stmt *st, const store_mon_alert *a)
{
    int rc = sqlite3_bind_int64(st, 1, a->time) | bind_text(st, 2, a->shard) |
             bind_text(st, 3, a->host) | sqlite3_bind_int64(st, 4, a->port) |
             bind_text(st, 5, a->kind) | bind_text(st, 6, a->body) | bind_text(st, 7, a->alert_id) |
             sqlite3_bind_int64(st, 8, a->pending);

    return rc != SQLITE_OK ? -1 : step_done(st);
}

static int mon_put_log(sqlite3_stmt *st, const store_mon_log *l)
{
    int rc = bind_text(st, 1, l->shard) | bind_text(st, 2, l->url) | bind_text(st, 3, l->broken) |
             bind_text(st, 4, l->detail) | sqlite3_bind_int64(st, 5, l->since) |
             sqlite3_bind_int64(st, 6, l->last_round);

    return rc != SQLITE_OK ? -1 : step_done(st);
}

typedef struct log_ctx {
    store_mon_log_fn fn;
    void *payload;
} log_ctx;

static int mon_log_row(sqlite3_stmt *st, void *p)
{
    const log_ctx *c = p;
    store_mon_log l = {col_text(st, 0),
                       col_text(st, 1),
                       col_text(st, 2),
                       col_text(st, 3),
                       sqlite3_column_int64(st, 4),
                       sqlite3_column_int64(st, 5)};

    return c->fn(&l, c->payload);
}

static int mon_logs(store *base, const char *shard, store_mon_log_fn fn, void *payload, char *err,
                    size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    log_ctx c = {fn, payload};

    if (prepare(s, mon_logs_sql, &st, err, cap) != 0) {
        return -1;
    }
    if (bind_text(st, 1, shard) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(s, err, cap, "bind");
    }
    return run_query(s, st, mon_log_row, &c, err, cap);
}

typedef struct outbox_ctx {
    store_mon_outbox_fn fn;
    void *payload;
} outbox_ctx;

static int mon_outbox_row(sqlite3_stmt *st, void *p)
{
    const outbox_ctx *c = p;
    store_mon_outbox a = {sqlite3_column_int64(st, 0),      col_text(st, 1),
                          (int)sqlite3_column_int64(st, 2), (int)sqlite3_column_int64(st, 3),
                          sqlite3_column_int64(st, 4),      sqlite3_column_int64(st, 5)};

    return c->fn(&a, c->payload);
}

static int mon_outbox(store *base, const char *shard, store_mon_outbox_fn fn, void *payload,
                      char *err, size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    outbox_ctx c = {fn, payload};

    if (prepare(s, mon_outbox_sql, &st, err, cap) != 0) {
        return -1;
    }
    if (bind_text(st, 1, shard) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(s, err, cap, "bind");
    }
    return run_query(s, st, mon_outbox_row, &c, err, cap);
}

static int mon_outbox_mark(store *base, int64_t id, int pending, int attempts, int64_t next_attempt,
                           int gave_up, int64_t now, char *err, size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (prepare(s, mon_outbox_mark_sql, &st, err, cap) != 0) {
        return -1;
    }
    rc = sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int64(st, 2, pending) |
         sqlite3_bind_int64(st, 3, attempts) | sqlite3_bind_int64(st, 4, next_attempt) |
         sqlite3_bind_int64(st, 5, gave_up) | sqlite3_bind_int64(st, 6, now);
    rc = rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE ? fail(s, err, cap, "mark the alert")
                                                            : 0;
    sqlite3_finalize(st);
    return rc;
}

static int mon_round(store *base, const char *shard, int64_t started, int64_t finished,
                     const store_mon_host *hosts, size_t nhosts, const store_mon_alert *alerts,
                     size_t nalerts, const store_mon_log *logs, size_t nlogs, char *err, size_t cap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *hst = NULL, *ast = NULL, *rst = NULL, *lst = NULL;
    int rc = -1;

    if (prepare(s, mon_host_put_sql, &hst, err, cap) != 0 ||
        prepare(s, mon_alert_put_sql, &ast, err, cap) != 0 ||
        prepare(s, mon_log_put_sql, &lst, err, cap) != 0 ||
        prepare(s, mon_round_put_sql, &rst, err, cap) != 0) {
        goto out;
    }
    if (sqlite3_step(s->begin) != SQLITE_DONE) {
        sqlite3_reset(s->begin);
        fail(s, err, cap, "begin");
        goto out;
    }
    sqlite3_reset(s->begin);
    for (size_t i = 0; i < nhosts; i++) {
        if (mon_put_host(hst, &hosts[i]) != 0) {
            goto rollback;
        }
    }
    for (size_t i = 0; i < nalerts; i++) {
        if (mon_put_alert(ast, &alerts[i]) != 0) {
            goto rollback;
        }
    }
    for (size_t i = 0; i < nlogs; i++) {
        if (mon_put_log(lst, &logs[i]) != 0) {
            goto rollback;
        }
    }
    if (bind_text(rst, 1, shard) != SQLITE_OK || sqlite3_bind_int64(rst, 2, started) ||
        sqlite3_bind_int64(rst, 3, finished) || sqlite3_bind_int64(rst, 4, (int64_t)nhosts) ||
        sqlite3_bind_int64(rst, 5, (int64_t)nalerts) || step_done(rst) != 0) {
        goto rollback;
    }
    if (sqlite3_step(s->commit) != SQLITE_DONE) {
        sqlite3_reset(s->commit);
        goto rollback;
    }
    sqlite3_reset(s->commit);
    rc = 0;
    goto out;
rollback:
    fail(s, err, cap, "record the round");
    sqlite3_step(s->rollback);
    sqlite3_reset(s->rollback);
out:
    sqlite3_finalize(hst);
    sqlite3_finalize(ast);
    sqlite3_finalize(rst);
    sqlite3_finalize(lst);
    return rc;
}

/* ---- the CT logs' positions (schema version 4) ---- */

static const char ct_pos_load_sql[] = "SELECT position FROM ct_positions WHERE log_id = ?1";
static const char ct_pos_save_sql[] =
    "INSERT INTO ct_positions (log_id, position, updated_at)"
    " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))"
    " ON CONFLICT (log_id) DO UPDATE SET position = excluded.position,"
    " updated_at = excluded.updated_at";

static int ct_pos_load(store *base, const char *log_id, char *buf, size_t cap, size_t *len,
                       char *err, size_t errcap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    *len = 0;
    if (prepare(s, ct_pos_load_sql, &st, err, errcap) != 0) {
        return -1;
    }
    if (bind_text(st, 1, log_id) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(s, err, errcap, "bind");
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = 0;
    } else if (rc != SQLITE_ROW) {
        rc = fail(s, err, errcap, "read the CT position");
    } else {
        /* the bytes as stored (a hostile row may hold a NUL or be a blob): the caller parses */
        const void *t = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n >= cap) {
            snprintf(err, errcap, "the stored CT position of %s is too long (%zu bytes)", log_id,
                     n);
            rc = -1;
        } else {
            if (n > 0) {
                memcpy(buf, t, n);
            }
            buf[n] = '\0';
            *len = n;
            rc = 1;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int ct_pos_save(store *base, const char *log_id, const char *text, char *err, size_t errcap)
{
    sqlite_store *s = (sqlite_store *)base;
    sqlite3_stmt *st = NULL;
    int rc;

    if (prepare(s, ct_pos_save_sql, &st, err, errcap) != 0) {
        return -1;
    }
    rc = bind_text(st, 1, log_id) | bind_text(st, 2, text);
    rc = rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE
             ? fail(s, err, errcap, "save the CT position")
             : 0;
    sqlite3_finalize(st);
    return rc;
}

static void sqlite_close(store *base)
{
    sqlite_store *s = (sqlite_store *)base;

    sqlite3_finalize(s->add);
    sqlite3_finalize(s->hour);
    sqlite3_finalize(s->begin);
    sqlite3_finalize(s->commit);
    sqlite3_finalize(s->rollback);
    sqlite3_close_v2(s->db);
    free(s);
}

static const store_ops sqlite_ops = {"sqlite",        add,         groups,     rows,     series,
                                     sqlite_close,    mon_hosts,   mon_round,  mon_logs, mon_outbox,
                                     mon_outbox_mark, ct_pos_load, ct_pos_save};

/* The schema's version: 0 for a new file. */
static int schema_version(sqlite_store *s, int64_t *out, char *err, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *out = 0;
    if (prepare(s,
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                "'schema_version'",
                &st, err, cap) != 0) {
        return -1;
    }
    rc = sqlite3_step(st);
    int exists = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        return fail(s, err, cap, "read schema");
    }
    if (!exists) {
        return 0;
    }
    if (prepare(s, "SELECT max(version) FROM schema_version", &st, err, cap) != 0) {
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return 0;
}

static int exec(sqlite_store *s, const char *sql, char *err, size_t cap, const char *what)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return fail(s, err, cap, what);
    }
    return 0;
}

static int migrate(sqlite_store *s, char *err, size_t cap)
{
    int64_t v;

    if (exec(s, "BEGIN IMMEDIATE", err, cap, "begin migration") != 0) {
        return -1;
    }
    if (schema_version(s, &v, err, cap) != 0) {
        goto bad;
    }
    if (store_schema_check(v, (int64_t)MIGRATIONS, 0, err, cap) != 0) {
        goto bad;
    }
    if (v == 0 &&
        exec(s, "CREATE TABLE schema_version (version INTEGER NOT NULL, applied INTEGER NOT NULL)",
             err, cap, "create schema_version") != 0) {
        goto bad;
    }
    for (; v < (int64_t)MIGRATIONS; v++) {
        char sql[128];
        if (exec(s, migrations[v], err, cap, "migrate") != 0) {
            goto bad;
        }
        snprintf(sql, sizeof(sql),
                 "INSERT INTO schema_version (version, applied) VALUES (%lld, unixepoch())",
                 (long long)(v + 1));
        if (exec(s, sql, err, cap, "record migration") != 0) {
            goto bad;
        }
    }
    return exec(s, "COMMIT", err, cap, "commit migration");
bad:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_sqlite_open(store **out, const char *path, int read_only, char *err, size_t cap)
{
    sqlite_store *s = calloc(1, sizeof(*s));
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int64_t v = 0;

    *out = NULL;
    if (s == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    s->base.ops = &sqlite_ops;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        fail(s, err, cap, "open");
        goto bad;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    if (read_only) {
        if (schema_version(s, &v, err, cap) != 0) {
            goto bad;
        }
        if (store_schema_check(v, (int64_t)MIGRATIONS, 1, err, cap) != 0) {
            goto bad;
        }
        *out = &s->base;
        return 0;
    }
    if (exec(s, "PRAGMA journal_mode=WAL", err, cap, "set WAL") != 0 ||
        exec(s, "PRAGMA synchronous=NORMAL", err, cap, "set synchronous") != 0 ||
        exec(s, "PRAGMA foreign_keys=ON", err, cap, "set foreign keys") != 0 ||
        migrate(s, err, cap) != 0 || prepare(s, add_sql, &s->add, err, cap) != 0 ||
        prepare(s, hour_sql, &s->hour, err, cap) != 0 ||
        prepare(s, "BEGIN IMMEDIATE", &s->begin, err, cap) != 0 ||
        prepare(s, "COMMIT", &s->commit, err, cap) != 0 ||
        prepare(s, "ROLLBACK", &s->rollback, err, cap) != 0) {
        goto bad;
    }
    *out = &s->base;
    return 0;
bad:
    sqlite_close(&s->base);
    return -1;
}
