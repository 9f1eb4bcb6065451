/*
 * test_cli_store.c - the collector's store (src/store): the SQLite backend
 * on a real file: migrations and the schema version, dedup (one row, a
 * count, first and last seen), the queries of the web view and of
 * `pinset reports`, read-only opening, the refusals (a newer schema, a
 * file that is not a report database, an unknown URL scheme), a
 * PostgreSQL URL handed to that backend (tested in test_cli_store_pg), and
 * the monitor's tables (schema version 2): a round replaces its hosts'
 * state per shard; the CT logs' positions (schema version 4, ct_positions
 * through src/store/ct_pos.h's ct_store): round trip, overwrite, a log
 * without one, a failed save keeping the previous row, hostile rows refused
 * by ct_position_parse, and a version 3 database migrated keeping its rows.
 */
#define _POSIX_C_SOURCE 200809L

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
/* clang-format on */

#include <sqlite3.h>
#include <store/ct_pos.h>
#include <store/store.h>

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pinset-store-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/reports.sqlite", dir);
    return 0;
}

static int teardown(void **state)
{
    char p[160];
    (void)state;
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static store_report sample(uint8_t key, const char *host, const char *cls, int64_t t)
{
    store_report r;

    memset(&r, 0, sizeof(r));
    r.received = t;
    r.client = "192.0.2.0/24";
    r.format = "rfc7469";
    r.host = host;
    r.port = 443;
    r.noted_host = host;
    r.class_name = cls;
    r.served_pins = "AAAA BBBB";
    r.validated_pins = "";
    r.known_pins = "CCCC";
    r.client_time = t;
    r.detail = "{\"why\":\"test\"}";
    memset(r.dedup, key, sizeof(r.dedup));
    return r;
}

static int64_t query_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void exec_sql(const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void open_creates_and_migrates(void **state)
{
    store *s = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    assert_non_null(s);
    assert_string_equal(s->ops->name, "sqlite");
    store_close(s);
    assert_int_equal(query_int("SELECT max(version) FROM schema_version"),
                     STORE_SQLITE_SCHEMA_VERSION);
    assert_int_equal(query_int("SELECT count(*) FROM schema_version"), STORE_SQLITE_SCHEMA_VERSION);
    /* WAL mode is a property of the file */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* opening again migrates nothing */
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    store_close(s);
    assert_int_equal(query_int("SELECT count(*) FROM schema_version"), STORE_SQLITE_SCHEMA_VERSION);
}

static void dedup_counts_one_row(void **state)
{
    store *s = NULL;
    char err[256] = "";
    int64_t id1 = 0, id2 = 0, id3 = 0;
    store_report a = sample(1, "a.example", "interception", 1000000);
    store_report b = sample(2, "a.example", "interception", 1000000);

    (void)state;
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &a, &id1, err, sizeof(err)), 0);
    a.received = 1007200; /* two hours later */
    a.client = "198.51.100.0/24";
    assert_int_equal(store_add(s, &a, &id2, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &b, &id3, err, sizeof(err)), 0);
    assert_int_equal(id1, id2);
    assert_true(id3 != id1);
    store_close(s);
    assert_int_equal(query_int("SELECT count(*) FROM reports"), 2);
    assert_int_equal(query_int("SELECT count FROM reports WHERE id = 1"), 2);
    assert_int_equal(query_int("SELECT first_seen FROM reports WHERE id = 1"), 1000000);
    assert_int_equal(query_int("SELECT last_seen FROM reports WHERE id = 1"), 1007200);
    assert_int_equal(query_int("SELECT count(*) FROM report_hours WHERE report_id = 1"), 2);
    assert_int_equal(query_int("SELECT sum(count) FROM report_hours"), 3);
    assert_int_equal(query_int("SELECT client = '198.51.100.0/24' FROM reports WHERE id = 1"), 1);
}

static void batch_is_one_transaction(void **state)
{
    store *s = NULL;
    char err[256] = "";
    store_report a = sample(1, "a.example", "interception", 1000000);
    store_report b = sample(2, "b.example", "clock-skew", 1000000);
    const store_report *rows[3] = {&a, &b, &a}; /* a duplicate within the batch */
    int64_t ids[3] = {0, 0, 0};

    (void)state;
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    assert_int_equal(s->ops->add(s, rows, 3, ids, err, sizeof(err)), 0);
    assert_int_equal(ids[0], ids[2]);
    assert_true(ids[1] != ids[0]);
    store_close(s);
    assert_int_equal(query_int("SELECT count(*) FROM reports"), 2);
    assert_int_equal(query_int("SELECT count FROM reports WHERE host = 'a.example'"), 2);
    assert_int_equal(query_int("SELECT sum(count) FROM report_hours"), 3);
}

typedef struct seen {
    int n;
    char host[4][32], cls[4][32];
    int64_t reports[4], rows[4];
} seen;

static int on_group(const store_group *g, void *payload)
{
    seen *x = payload;
    if (x->n < 4) {
        snprintf(x->host[x->n], 32, "%s", g->host);
        snprintf(x->cls[x->n], 32, "%s", g->class_name);
        x->reports[x->n] = g->reports;
        x->rows[x->n] = g->rows;
    }
    x->n++;
    return 0;
}

static int on_row(const store_row *r, void *payload)
{
    seen *x = payload;
    if (x->n < 4) {
        snprintf(x->host[x->n], 32, "%s", r->host);
        snprintf(x->cls[x->n], 32, "%s", r->served_pins);
        x->reports[x->n] = r->count;
    }
    x->n++;
    return 0;
}

static int on_point(const store_point *p, void *payload)
{
    seen *x = payload;
    if (x->n < 4) {
        snprintf(x->cls[x->n], 32, "%s", p->class_name);
        x->rows[x->n] = p->start;
        x->reports[x->n] = p->reports;
    }
    x->n++;
    return 0;
}

static void queries_group_filter_and_bucket(void **state)
{
    store *s = NULL;
    char err[256] = "";
    int64_t day = 86400 * 20000;
    store_report r1 = sample(1, "a.example", "interception", day + 10);
    store_report r2 = sample(2, "a.example", "rotation-drift", day + 20);
    store_report r3 = sample(3, "b.example", "clock-skew", day + 86400 + 30);
    seen x;
    store_filter f = {0, NULL};

    (void)state;
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r1, NULL, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r1, NULL, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r2, NULL, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r3, NULL, err, sizeof(err)), 0);

    memset(&x, 0, sizeof(x));
    assert_int_equal(s->ops->groups(s, &f, on_group, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 3);
    assert_string_equal(x.host[0], "a.example");
    assert_string_equal(x.cls[0], "interception");
    assert_int_equal(x.reports[0], 2);
    assert_int_equal(x.rows[0], 1);
    assert_string_equal(x.cls[1], "rotation-drift");
    assert_string_equal(x.host[2], "b.example");

    memset(&x, 0, sizeof(x));
    f.host = "b.example";
    assert_int_equal(s->ops->groups(s, &f, on_group, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.cls[0], "clock-skew");

    memset(&x, 0, sizeof(x));
    f.host = NULL;
    f.since = day + 86400;
    assert_int_equal(s->ops->groups(s, &f, on_group, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 1);

    memset(&x, 0, sizeof(x));
    f.since = 0;
    f.host = "a.example";
    assert_int_equal(s->ops->rows(s, &f, 0, on_row, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.cls[0], "AAAA BBBB");
    assert_int_equal(x.reports[0], 2);
    memset(&x, 0, sizeof(x));
    assert_int_equal(s->ops->rows(s, &f, 1, on_row, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 1);

    memset(&x, 0, sizeof(x));
    f.host = NULL;
    assert_int_equal(s->ops->series(s, &f, 86400, on_point, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 3); /* day 1: interception, rotation-drift; day 2: clock-skew */
    assert_int_equal(x.rows[0], day);
    assert_string_equal(x.cls[0], "interception");
    assert_int_equal(x.reports[0], 2);
    assert_int_equal(x.rows[2], day + 86400);
    store_close(s);
}

static void read_only_reads_and_refuses_foreign_files(void **state)
{
    store *s = NULL;
    char err[256] = "";
    store_report r = sample(1, "a.example", "interception", 1000000);
    seen x;

    (void)state;
    /* a missing file: not created */
    assert_int_equal(store_open(&s, path, 1, err, sizeof(err)), -1);
    assert_null(s);
    assert_int_equal(access(path, F_OK), -1);
    /* a SQLite file of something else */
    exec_sql("CREATE TABLE other (x)");
    assert_int_equal(store_open(&s, path, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a pinset report database"));
    teardown(NULL);
    setup(NULL);
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r, NULL, err, sizeof(err)), 0);
    store_close(s);
    assert_int_equal(store_open(&s, path, 1, err, sizeof(err)), 0);
    memset(&x, 0, sizeof(x));
    assert_int_equal(s->ops->groups(s, NULL, on_group, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 1);
    store_close(s);
}

static void newer_schema_refused_and_postgres_dispatched(void **state)
{
    store *s = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    store_close(s);
    exec_sql("INSERT INTO schema_version (version, applied) VALUES (99, 0)");
    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "schema version 99 is newer"));
    assert_int_equal(store_open(&s, path, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "schema version 99 is newer"));

    /* a postgres:// URL goes to the PostgreSQL backend (test_cli_store_pg): nothing listens here */
    assert_int_equal(
        store_open(&s, "postgres://collector@127.0.0.1:1/reports", 0, err, sizeof(err)), -1);
    assert_true(strncmp(err, "connect: ", 9) == 0);
    assert_int_equal(store_open(&s, "postgresql://collector@127.0.0.1:1/y", 1, err, sizeof(err)),
                     -1);
    assert_true(strncmp(err, "connect: ", 9) == 0);
    assert_int_equal(store_open(&s, "mysql://x/y", 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown database URL scheme"));
    assert_int_equal(store_open(&s, "", 0, err, sizeof(err)), -1);
    assert_null(s);
}

/* ---- the monitor's tables (schema version 2; pinset monitor) ---- */

static store_mon_host mon_sample(const char *shard, const char *host, const char *outcome,
                                 int64_t round)
{
    store_mon_host h;

    memset(&h, 0, sizeof(h));
    h.shard = shard;
    h.host = host;
    h.port = 443;
    h.outcome = outcome;
    h.matched_pin = "bZ2bdpv5bmJqHFLMB01i1UkvN6GzdQlAnodmCyxzKAo=";
    h.leaf_spki = "S35JLnkMvuGiC7Jixyh2kV/GVb5X0jL6zak92/5HRPY=";
    h.backup_live = "";
    h.error = "";
    h.leaf_not_after = 1800000000;
    h.expiry_flags = 1;
    h.last_change = round;
    h.last_round = round;
    return h;
}

typedef struct mon_seen {
    char hosts[8][32], outcomes[8][16];
    size_t n;
} mon_seen;

static int collect_mon(const store_mon_host *h, void *payload)
{
    mon_seen *m = payload;

    if (m->n < 8) {
        snprintf(m->hosts[m->n], sizeof(m->hosts[0]), "%s", h->host);
        snprintf(m->outcomes[m->n], sizeof(m->outcomes[0]), "%s", h->outcome);
        m->n++;
    }
    return 0;
}

/* A round replaces its hosts' state (keyed by host and port), per shard, with its alerts. */
static void monitor_round_replaces_state_by_shard(void **state)
{
    store *s = NULL;
    char err[256];
    mon_seen seen;
    (void)state;
    store_mon_host r1[] = {mon_sample("0/2", "b.example", "PASS", 100),
                           mon_sample("0/2", "a.example", "PASS", 100)};
    store_mon_host other[] = {mon_sample("1/2", "c.example", "PASS", 100)};
    store_mon_host r2[] = {mon_sample("0/2", "a.example", "FAIL", 200)};
    store_mon_alert al = {200, "0/2", "a.example", 443, "new_failure", "{\"kind\":\"new_failure\"}",
                          "",  0};

    assert_int_equal(store_open(&s, path, 0, err, sizeof(err)), 0);
    assert_true(store_mon_ready(s));
    assert_int_equal(
        s->ops->mon_round(s, "0/2", 100, 101, r1, 2, NULL, 0, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(
        s->ops->mon_round(s, "1/2", 100, 101, other, 1, NULL, 0, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(
        s->ops->mon_round(s, "0/2", 200, 201, r2, 1, &al, 1, NULL, 0, err, sizeof(err)), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(s->ops->mon_hosts(s, "0/2", collect_mon, &seen, err, sizeof(err)), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.hosts[0], "a.example"); /* by host */
    assert_string_equal(seen.outcomes[0], "FAIL");   /* the second round's */
    assert_string_equal(seen.hosts[1], "b.example");
    assert_string_equal(seen.outcomes[1], "PASS");
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(s->ops->mon_hosts(s, "1/2", collect_mon, &seen, err, sizeof(err)), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.hosts[0], "c.example");
    store_close(s);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_rounds"), 3);
    assert_int_equal(query_int("SELECT alerts FROM monitor_rounds WHERE started = 200"), 1);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_alerts WHERE kind = 'new_failure'"),
                     1);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_hosts"), 3);
}

#define STORE_OPEN(s, err) store_open(s, path, 0, err, sizeof(err))

/* ---- schema version 3: the CT logs' state and the alerts' outbox ---- */

typedef struct seen_logs {
    size_t n;
    char urls[4][64], broken[4][32];
    int64_t since[4];
} seen_logs;

static int collect_log(const store_mon_log *l, void *payload)
{
    seen_logs *s = payload;

    if (s->n < 4) {
        snprintf(s->urls[s->n], sizeof(s->urls[0]), "%s", l->url);
        snprintf(s->broken[s->n], sizeof(s->broken[0]), "%s", l->broken);
        s->since[s->n] = l->since;
        s->n++;
    }
    return 0;
}

typedef struct seen_outbox {
    size_t n;
    int64_t ids[4];
    int pending[4], attempts[4];
    int64_t next[4];
    char body[4][64];
} seen_outbox;

static int collect_outbox(const store_mon_outbox *a, void *payload)
{
    seen_outbox *s = payload;

    if (s->n < 4) {
        s->ids[s->n] = a->id;
        s->pending[s->n] = a->pending;
        s->attempts[s->n] = a->attempts;
        s->next[s->n] = a->next_attempt;
        snprintf(s->body[s->n], sizeof(s->body[0]), "%s", a->body);
        s->n++;
    }
    return 0;
}

/*
 * A round stores its CT logs' state (replaced per shard and URL) and its alerts pending; the
 * outbox lists the pending ones, oldest first, until marked delivered.
 */
static void monitor_ct_logs_and_outbox(void **state)
{
    store *s = NULL;
    char err[256];
    seen_logs sl;
    seen_outbox so;
    (void)state;
    store_mon_log l1[] = {{"0/1", "http://b.test/", "log-bad-signature", "bad", 100, 100},
                          {"0/1", "http://a.test/", "", "", 100, 100}};
    store_mon_log l2[] = {{"0/1", "http://b.test/", "", "", 200, 200}};
    store_mon_log other[] = {{"1/2", "http://b.test/", "log-rewind", "", 150, 150}};
    store_mon_alert al[] = {{100, "0/1", "http://b.test/", 0, "ct_log", "{\"n\":1}", "id-1", 5},
                            {100, "0/1", "x.test", 443, "expiry", "{\"n\":2}", "id-2", 4}};

    assert_int_equal(STORE_OPEN(&s, err), 0);
    assert_int_equal(s->ops->mon_round(s, "0/1", 100, 101, NULL, 0, al, 2, l1, 2, err, sizeof(err)),
                     0);
    assert_int_equal(
        s->ops->mon_round(s, "1/2", 150, 151, NULL, 0, NULL, 0, other, 1, err, sizeof(err)), 0);
    memset(&sl, 0, sizeof(sl));
    assert_int_equal(s->ops->mon_logs(s, "0/1", collect_log, &sl, err, sizeof(err)), 0);
    assert_int_equal(sl.n, 2);
    assert_string_equal(sl.urls[0], "http://a.test/"); /* by URL */
    assert_string_equal(sl.broken[1], "log-bad-signature");
    assert_int_equal(
        s->ops->mon_round(s, "0/1", 200, 201, NULL, 0, NULL, 0, l2, 1, err, sizeof(err)), 0);
    memset(&sl, 0, sizeof(sl));
    assert_int_equal(s->ops->mon_logs(s, "0/1", collect_log, &sl, err, sizeof(err)), 0);
    assert_int_equal(sl.n, 2);
    assert_string_equal(sl.broken[1], ""); /* replaced: recovered */
    assert_int_equal(sl.since[1], 200);
    memset(&sl, 0, sizeof(sl));
    assert_int_equal(s->ops->mon_logs(s, "1/2", collect_log, &sl, err, sizeof(err)), 0);
    assert_int_equal(sl.n, 1); /* the other shard's, untouched */
    assert_string_equal(sl.broken[0], "log-rewind");

    memset(&so, 0, sizeof(so));
    assert_int_equal(s->ops->mon_outbox(s, "0/1", collect_outbox, &so, err, sizeof(err)), 0);
    assert_int_equal(so.n, 2);
    assert_true(so.ids[0] < so.ids[1]); /* oldest first */
    assert_int_equal(so.pending[0], 5);
    assert_int_equal(so.attempts[0], 0);
    assert_int_equal(so.next[0], 100000); /* milliseconds */
    assert_string_equal(so.body[1], "{\"n\":2}");
    /* one sink took the first, another is to try again later; the second delivered */
    assert_int_equal(s->ops->mon_outbox_mark(s, so.ids[0], 4, 1, 130, 0, 120, err, sizeof(err)), 0);
    assert_int_equal(s->ops->mon_outbox_mark(s, so.ids[1], 0, 1, 0, 0, 120, err, sizeof(err)), 0);
    memset(&so, 0, sizeof(so));
    assert_int_equal(s->ops->mon_outbox(s, "0/1", collect_outbox, &so, err, sizeof(err)), 0);
    assert_int_equal(so.n, 1);
    assert_int_equal(so.pending[0], 4);
    assert_int_equal(so.attempts[0], 1);
    assert_int_equal(so.next[0], 130);
    /* it gives up: no sink left pending, the one that gave up recorded */
    assert_int_equal(s->ops->mon_outbox_mark(s, so.ids[0], 0, 4, 0, 4, 200, err, sizeof(err)), 0);
    memset(&so, 0, sizeof(so));
    assert_int_equal(s->ops->mon_outbox(s, "0/1", collect_outbox, &so, err, sizeof(err)), 0);
    assert_int_equal(so.n, 0);
    store_close(s);
    assert_int_equal(query_int("SELECT gave_up FROM monitor_alerts WHERE alert_id = 'id-1'"), 4);
    assert_int_equal(query_int("SELECT delivered FROM monitor_alerts WHERE alert_id = 'id-2'"),
                     120);
}

/* A version 2 database (the monitor without the outbox) is migrated: its alerts are not pending. */
static void version_2_database_migrated_to_3(void **state)
{
    store *s = NULL;
    char err[256];
    seen_outbox so;
    (void)state;
    store_mon_alert al = {100, "0/1", "x.test", 443, "expiry", "{}", "", 0};

    assert_int_equal(STORE_OPEN(&s, err), 0);
    store_close(s);
    /* back to what a pinset before version 3 left, with one alert delivered */
    exec_sql("DROP TABLE monitor_ct_logs");
    exec_sql("DROP TABLE ct_positions");
    exec_sql("DROP INDEX monitor_alerts_pending");
    exec_sql("ALTER TABLE monitor_alerts DROP COLUMN alert_id");
    exec_sql("ALTER TABLE monitor_alerts DROP COLUMN pending");
    exec_sql("ALTER TABLE monitor_alerts DROP COLUMN attempts");
    exec_sql("ALTER TABLE monitor_alerts DROP COLUMN next_attempt");
    exec_sql("ALTER TABLE monitor_alerts DROP COLUMN delivered");
    exec_sql("ALTER TABLE monitor_alerts DROP COLUMN gave_up");
    exec_sql("INSERT INTO monitor_alerts (time, shard, host, port, kind, body)"
             " VALUES (1, '0/1', 'old.test', 443, 'expiry', '{}')");
    exec_sql("DELETE FROM schema_version WHERE version >= 3");
    assert_int_equal(STORE_OPEN(&s, err), 0);
    assert_true(store_mon_ready(s));
    memset(&so, 0, sizeof(so));
    assert_int_equal(s->ops->mon_outbox(s, "0/1", collect_outbox, &so, err, sizeof(err)), 0);
    assert_int_equal(so.n, 0); /* delivered before: not again */
    al.pending = 1;
    assert_int_equal(
        s->ops->mon_round(s, "0/1", 100, 101, NULL, 0, &al, 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(s->ops->mon_outbox(s, "0/1", collect_outbox, &so, err, sizeof(err)), 0);
    assert_int_equal(so.n, 1);
    store_close(s);
    assert_int_equal(query_int("SELECT max(version) FROM schema_version"), 4);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_ct_logs"), 0);
}

#define STORE_TARGET path
/* the database refuses (a trigger) any position of a tree of 9 entries */
#define REFUSE_SIZE_9_SQL                                                                       \
    "CREATE TRIGGER refuse BEFORE UPDATE ON ct_positions WHEN NEW.position LIKE '%sth_size 9%'" \
    " BEGIN SELECT RAISE(ABORT, 'refused'); END"
/* rows written behind pinset's back: each must be refused by ct_position_parse, not crash it */
#define HOSTILE_ROWS                                                                              \
    {                                                                                             \
        "UPDATE ct_positions SET position = 'garbage'", "UPDATE ct_positions SET position = ''",  \
            "UPDATE ct_positions SET position = 'pinset-ct-position 1\nsth_size "                 \
            "99999999999999999999999\n'",                                                         \
            "UPDATE ct_positions SET position = replace(position, 'sth_size 7', 'sth_size 1')",   \
            "UPDATE ct_positions SET position = position || char(0) || 'junk'",                   \
            "UPDATE ct_positions SET position = X'70696e7365742d63742d706f736974696f6e00310a'",   \
            "UPDATE ct_positions SET position = position || 'range ' || printf('%.*c', 64, '0')", \
            "UPDATE ct_positions SET position = printf('%.*c', 20000, 'x')",                      \
    }

/* ---- schema version 4: the CT logs' positions (ct_positions, src/store/ct_pos.h) ---- */

static const uint8_t log_a[CT_HASH_LEN] = {0xab, 0xcd, 1, 2, 3};
static const uint8_t log_b[CT_HASH_LEN] = {0x01, 0x02, 9, 9, 9};
#define LOG_A_HEX "abcd010203000000000000000000000000000000000000000000000000000000"

/* A position of a tree of `size` entries, `done` of them processed, `verified` checked (or 0). */
static ct_position sample_pos(uint64_t size, uint64_t done, uint64_t verified, uint8_t fill)
{
    ct_position p;

    memset(&p, 0, sizeof(p));
    p.sth_size = size;
    p.sth_timestamp = 1700000000000ull + size;
    memset(p.sth_root, fill, sizeof(p.sth_root));
    p.range.size = done;
    for (uint64_t s = done; s != 0; s &= s - 1) {
        memset(p.range.hash[p.range.count], fill + 1 + (int)p.range.count, CT_HASH_LEN);
        p.range.count++;
    }
    if (verified > 0) {
        p.have_verified = 1;
        p.verified.size = verified;
        for (uint64_t s = verified; s != 0; s &= s - 1) {
            memset(p.verified.hash[p.verified.count++], fill + 9, CT_HASH_LEN);
        }
    }
    return p;
}

/* Saved, loaded back whole; saved again, replaced (one row per log); another log has none. */
static void ct_positions_round_trip_and_overwrite(void **state)
{
    store *s = NULL;
    ct_store *cs = NULL;
    ct_position a = sample_pos(7, 5, 4, 0x10), b = sample_pos(9, 8, 0, 0x30), got;
    char err[256] = "", text[CT_POSITION_TEXT_MAX];
    (void)state;

    assert_int_equal(STORE_OPEN(&s, err), 0);
    assert_true(store_ct_ready(s));
    assert_int_equal(ct_store_db_open(&cs, s, err, sizeof(err)), 0);
    /* a log never saved has no position */
    assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), 0);
    assert_int_equal(cs->save(cs, log_a, &a, err, sizeof(err)), 0);
    memset(&got, 0x55, sizeof(got));
    assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), 1);
    assert_memory_equal(&got, &a, sizeof(a));
    assert_int_equal(cs->load(cs, log_b, &got, err, sizeof(err)), 0);
    /* overwritten: the new one, not the old, and still one row */
    assert_int_equal(cs->save(cs, log_a, &b, err, sizeof(err)), 0);
    assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), 1);
    assert_memory_equal(&got, &b, sizeof(b));
    assert_int_equal(cs->save(cs, log_b, &a, err, sizeof(err)), 0);
    assert_int_equal(cs->load(cs, log_b, &got, err, sizeof(err)), 1);
    assert_memory_equal(&got, &a, sizeof(a));
    cs->free(cs);
    store_close(s);
    /* the stored value is the text form (ct_position_format), keyed by the log ID in hex */
    assert_int_equal(ct_position_format(text, sizeof(text), &b), 0);
    assert_int_equal(query_int("SELECT count(*) FROM ct_positions"), 2);
    assert_int_equal(query_int("SELECT count(*) FROM ct_positions WHERE log_id = '" LOG_A_HEX
                               "' AND position LIKE 'pinset-ct-position 1%sth_size 9%'"
                               " AND updated_at > 1600000000"),
                     1);
}

/* A save that fails (the database refuses it) leaves the previous position. */
static void ct_position_failed_save_keeps_previous(void **state)
{
    store *s = NULL;
    ct_store *cs = NULL;
    ct_position a = sample_pos(7, 5, 4, 0x10), b = sample_pos(9, 8, 0, 0x30), got;
    char err[256] = "";
    (void)state;

    assert_int_equal(STORE_OPEN(&s, err), 0);
    assert_int_equal(ct_store_db_open(&cs, s, err, sizeof(err)), 0);
    assert_int_equal(cs->save(cs, log_a, &a, err, sizeof(err)), 0);
    exec_sql(REFUSE_SIZE_9_SQL);
    err[0] = '\0';
    assert_int_equal(cs->save(cs, log_a, &b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "save the CT position"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), 1);
    assert_memory_equal(&got, &a, sizeof(a));
    cs->free(cs);
    store_close(s);
}

/* Stored text that is not a position (damaged, hostile, too long) is refused, naming the log. */
static void ct_position_hostile_rows_refused(void **state)
{
    static const char *const hostile[] = HOSTILE_ROWS;
    store *s = NULL;
    ct_store *cs = NULL;
    ct_position a = sample_pos(7, 5, 4, 0x10), got;
    char err[256] = "";
    (void)state;

    assert_int_equal(STORE_OPEN(&s, err), 0);
    assert_int_equal(ct_store_db_open(&cs, s, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        assert_int_equal(cs->save(cs, log_a, &a, err, sizeof(err)), 0);
        exec_sql(hostile[i]);
        err[0] = '\0';
        assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), -1);
        assert_non_null(strstr(err, LOG_A_HEX));
    }
    /* a good save puts it right */
    assert_int_equal(cs->save(cs, log_a, &a, err, sizeof(err)), 0);
    assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), 1);
    assert_memory_equal(&got, &a, sizeof(a));
    cs->free(cs);
    store_close(s);
}

/* A version 3 database (positions in a directory) gains ct_positions, keeping what it held. */
static void version_3_database_migrated_to_4(void **state)
{
    store *s = NULL;
    ct_store *cs = NULL;
    ct_position a = sample_pos(7, 5, 4, 0x10), got;
    char err[256] = "";
    store_mon_log l = {"0/1", "https://log.test/", "", "", 100, 100};
    store_report r = sample(1, "a.example", "interception", 1000000);
    (void)state;

    assert_int_equal(STORE_OPEN(&s, err), 0);
    assert_int_equal(store_add(s, &r, NULL, err, sizeof(err)), 0);
    assert_int_equal(
        s->ops->mon_round(s, "0/1", 100, 101, NULL, 0, NULL, 0, &l, 1, err, sizeof(err)), 0);
    store_close(s);
    /* back to what a pinset before version 4 left */
    exec_sql("DROP TABLE ct_positions");
    exec_sql("DELETE FROM schema_version WHERE version = 4");
    assert_int_equal(store_open(&s, STORE_TARGET, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "schema version 3 is older"));
    assert_int_equal(STORE_OPEN(&s, err), 0);
    assert_true(store_ct_ready(s));
    assert_int_equal(ct_store_db_open(&cs, s, err, sizeof(err)), 0);
    assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), 0);
    assert_int_equal(cs->save(cs, log_a, &a, err, sizeof(err)), 0);
    assert_int_equal(cs->load(cs, log_a, &got, err, sizeof(err)), 1);
    cs->free(cs);
    store_close(s);
    assert_int_equal(query_int("SELECT max(version) FROM schema_version"), 4);
    assert_int_equal(query_int("SELECT count(*) FROM schema_version"), 4);
    assert_int_equal(query_int("SELECT count(*) FROM reports"), 1);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_ct_logs"), 1);
    assert_int_equal(query_int("SELECT count(*) FROM ct_positions"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_creates_and_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(dedup_counts_one_row, setup, teardown),
        cmocka_unit_test_setup_teardown(batch_is_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(queries_group_filter_and_bucket, setup, teardown),
        cmocka_unit_test_setup_teardown(read_only_reads_and_refuses_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_schema_refused_and_postgres_dispatched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(monitor_round_replaces_state_by_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(monitor_ct_logs_and_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(version_2_database_migrated_to_3, setup, teardown),
        cmocka_unit_test_setup_teardown(ct_positions_round_trip_and_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(ct_position_failed_save_keeps_previous, setup, teardown),
        cmocka_unit_test_setup_teardown(ct_position_hostile_rows_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(version_3_database_migrated_to_4, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
