/*
 * test_cli_store_pg.c - the collector's store (src/store) on a real
 * PostgreSQL server: the assertions of test_cli_store.c (migrations and
 * the schema version, dedup with count, first and last seen, the queries,
 * read-only opening, a newer schema refused), and what a shared database
 * adds: two collectors starting together migrate once (the advisory lock),
 * two stores adding the same report at once lose no update, a batch is one
 * transaction (all or none), two stores' batches of the same reports in
 * opposite orders neither deadlock nor lose a count, a dropped
 * connection is reconnected, hostile strings are stored as they are
 * (parameters bound), every libpq error is one line, and a URL's password
 * is never printed. The monitor's tables (schema version 2): a version 1
 * database (the collector's) is migrated keeping its reports, a round
 * replaces its hosts' state per shard with its alerts (test_cli_store.c's
 * assertions), two monitors on different shards of one database keep
 * each other's hosts, and two on the same shard: the last round wins. The
 * CT logs' positions (schema version 4, ct_positions): test_cli_store.c's
 * assertions, and two monitors saving the same log: one row, whole, the
 * last writer's.
 *
 * The server: PINSET_PG_URL when set; otherwise this program runs itself
 * again under tests/testlib/pg.sh, which starts one (initdb in a temporary
 * directory, a free port on 127.0.0.1, as an unprivileged user when run as
 * root) and stops it at the end; exit 77 (skipped) where the PostgreSQL
 * server binaries are missing.
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

#include <libpq-fe.h>
#include <pthread.h>
#include <store/ct_pos.h>
#include <store/store.h>

static const char *url;

static PGconn *admin(void)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

static void exec_sql(const char *sql)
{
    PGconn *c = admin();
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    }
    PQclear(r);
    PQfinish(c);
}

static int64_t query_int(const char *sql)
{
    PGconn *c = admin();
    PGresult *r = PQexec(c, sql);
    int64_t v = -1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    }
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    PQfinish(c);
    return v;
}

/* Each test starts on an empty database. */
static int setup(void **state)
{
    (void)state;
    exec_sql("DROP TABLE IF EXISTS report_hours, reports, schema_version, other, monitor_rounds,"
             " monitor_hosts, monitor_alerts, monitor_ct_logs, ct_positions CASCADE");
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

static void open_creates_and_migrates(void **state)
{
    store *s = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_non_null(s);
    assert_string_equal(s->ops->name, "postgres");
    store_close(s);
    assert_int_equal(query_int("SELECT max(version) FROM schema_version"), STORE_PG_SCHEMA_VERSION);
    assert_int_equal(query_int("SELECT count(*) FROM schema_version"), STORE_PG_SCHEMA_VERSION);
    assert_int_equal(query_int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND"
                               " tablename IN ('reports', 'report_hours', 'schema_version')"),
                     3);
    assert_int_equal(query_int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND"
                               " tablename IN ('monitor_rounds', 'monitor_hosts',"
                               " 'monitor_alerts')"),
                     3);
    /* opening again migrates nothing */
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    store_close(s);
    assert_int_equal(query_int("SELECT count(*) FROM schema_version"), STORE_PG_SCHEMA_VERSION);
}

static void dedup_counts_one_row(void **state)
{
    store *s = NULL;
    char err[256] = "";
    int64_t id1 = 0, id2 = 0, id3 = 0;
    store_report a = sample(1, "a.example", "interception", 1000000);
    store_report b = sample(2, "a.example", "interception", 1000000);
    char sql[128];

    (void)state;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &a, &id1, err, sizeof(err)), 0);
    a.received = 1007200; /* two hours later */
    a.client = "198.51.100.0/24";
    assert_int_equal(store_add(s, &a, &id2, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &b, &id3, err, sizeof(err)), 0);
    assert_int_equal(id1, id2);
    assert_true(id3 != id1);
    store_close(s);
    assert_int_equal(query_int("SELECT count(*) FROM reports"), 2);
    snprintf(sql, sizeof(sql), "SELECT count FROM reports WHERE id = %lld", (long long)id1);
    assert_int_equal(query_int(sql), 2);
    snprintf(sql, sizeof(sql), "SELECT first_seen FROM reports WHERE id = %lld", (long long)id1);
    assert_int_equal(query_int(sql), 1000000);
    snprintf(sql, sizeof(sql), "SELECT last_seen FROM reports WHERE id = %lld", (long long)id1);
    assert_int_equal(query_int(sql), 1007200);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM report_hours WHERE report_id = %lld",
             (long long)id1);
    assert_int_equal(query_int(sql), 2);
    assert_int_equal(query_int("SELECT sum(count) FROM report_hours"), 3);
    snprintf(sql, sizeof(sql),
             "SELECT (client = '198.51.100.0/24')::int FROM reports WHERE id = %lld",
             (long long)id1);
    assert_int_equal(query_int(sql), 1);
    /* the key is the 32 bytes as given */
    assert_int_equal(query_int("SELECT count(*) FROM reports WHERE dedup_key = "
                               "decode(repeat('01', 32), 'hex')"),
                     1);
}

typedef struct seen {
    int n;
    char host[4][64], cls[4][64];
    int64_t reports[4], rows[4];
} seen;

static int on_group(const store_group *g, void *payload)
{
    seen *x = payload;
    if (x->n < 4) {
        snprintf(x->host[x->n], 64, "%s", g->host);
        snprintf(x->cls[x->n], 64, "%s", g->class_name);
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
        snprintf(x->host[x->n], 64, "%s", r->host);
        snprintf(x->cls[x->n], 64, "%s", r->served_pins);
        x->reports[x->n] = r->count;
        x->rows[x->n] = r->port;
    }
    x->n++;
    return 0;
}

static int on_point(const store_point *p, void *payload)
{
    seen *x = payload;
    if (x->n < 4) {
        snprintf(x->cls[x->n], 64, "%s", p->class_name);
        x->rows[x->n] = p->start;
        x->reports[x->n] = p->reports;
    }
    x->n++;
    return 0;
}

static int stop_at_first(const store_row *r, void *payload)
{
    (void)r;
    (*(int *)payload)++;
    return 7;
}

static void queries_group_filter_and_bucket(void **state)
{
    store *s = NULL;
    char err[256] = "";
    int64_t day = 86400 * 20000;
    store_report r1 = sample(1, "a.example", "interception", day + 10);
    store_report r2 = sample(2, "a.example", "rotation-drift", day + 20);
    store_report r3 = sample(3, "b.example", "clock-skew", day + 86400 + 30);
    store_report r4 = sample(4, "B.example", "clock-skew", day + 86400 + 30);
    seen x;
    store_filter f = {0, NULL};
    int calls = 0;

    (void)state;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
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
    assert_int_equal(x.rows[0], 443);
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

    /* a callback's stop is returned, and the connection serves the next query */
    assert_int_equal(s->ops->rows(s, &f, 0, stop_at_first, &calls, err, sizeof(err)), 7);
    assert_int_equal(calls, 1);
    /* text sorts by code point, as in SQLite, whatever the database's locale */
    assert_int_equal(store_add(s, &r4, NULL, err, sizeof(err)), 0);
    memset(&x, 0, sizeof(x));
    assert_int_equal(s->ops->groups(s, &f, on_group, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 4);
    assert_string_equal(x.host[0], "B.example");
    assert_string_equal(x.host[1], "a.example");
    store_close(s);
}

static void read_only_reads_and_refuses_foreign_databases(void **state)
{
    store *s = NULL;
    char err[256] = "";
    store_report r = sample(1, "a.example", "interception", 1000000);
    seen x;

    (void)state;
    /* an empty database: refused, nothing created */
    assert_int_equal(store_open(&s, url, 1, err, sizeof(err)), -1);
    assert_null(s);
    assert_non_null(strstr(err, "not a pinset report database"));
    assert_int_equal(query_int("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 0);
    /* a database of something else */
    exec_sql("CREATE TABLE other (x int)");
    assert_int_equal(store_open(&s, url, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a pinset report database"));

    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r, NULL, err, sizeof(err)), 0);
    store_close(s);
    assert_int_equal(store_open(&s, url, 1, err, sizeof(err)), 0);
    memset(&x, 0, sizeof(x));
    assert_int_equal(s->ops->groups(s, NULL, on_group, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 1);
    /* read-only means it: an add is refused by the server */
    assert_int_equal(store_add(s, &r, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "read-only"));
    assert_null(strchr(err, '\n'));
    store_close(s);
    assert_int_equal(query_int("SELECT count FROM reports"), 1);
}

static void newer_schema_refused(void **state)
{
    store *s = NULL;
    char err[256] = "";

    (void)state;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    store_close(s);
    exec_sql("INSERT INTO schema_version (version, applied) VALUES (99, 0)");
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "schema version 99 is newer"));
    assert_int_equal(store_open(&s, url, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "schema version 99 is newer"));
    assert_null(s);
    /* the migration that failed left the database as it was */
    assert_int_equal(query_int("SELECT count(*) FROM schema_version"), STORE_PG_SCHEMA_VERSION + 1);
}

typedef struct worker {
    int64_t adds;
    int rc;
    store *s;
    char err[256];
} worker;

static void *open_worker(void *p)
{
    worker *w = p;
    w->rc = store_open(&w->s, url, 0, w->err, sizeof(w->err));
    return NULL;
}

static void *add_worker(void *p)
{
    worker *w = p;
    store_report r = sample(9, "shared.example", "interception", 1000000);

    for (int64_t i = 0; i < w->adds && w->rc == 0; i++) {
        r.received = 1000000 + i;
        w->rc = store_add(w->s, &r, NULL, w->err, sizeof(w->err));
    }
    return NULL;
}

static void two_collectors_share_one_database(void **state)
{
    enum { N = 4, ADDS = 150 };
    pthread_t t[N];
    worker w[N];
    seen x;
    store_report a = sample(1, "a.example", "interception", 2000000);

    (void)state;
    /* N collectors starting at once on an empty database: all open, one migration */
    memset(w, 0, sizeof(w));
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, open_worker, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (w[i].rc != 0) {
            fail_msg("store %d: %s", i, w[i].err);
        }
    }
    assert_int_equal(query_int("SELECT count(*) FROM schema_version"), STORE_PG_SCHEMA_VERSION);

    /* a report added by one is read by another */
    assert_int_equal(store_add(w[0].s, &a, NULL, w[0].err, sizeof(w[0].err)), 0);
    memset(&x, 0, sizeof(x));
    assert_int_equal(w[1].s->ops->groups(w[1].s, NULL, on_group, &x, w[1].err, 256), 0);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.host[0], "a.example");

    /* the same report from N collectors at once: one row, every copy counted */
    for (int i = 0; i < N; i++) {
        w[i].adds = ADDS;
        assert_int_equal(pthread_create(&t[i], NULL, add_worker, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (w[i].rc != 0) {
            fail_msg("store %d: %s", i, w[i].err);
        }
    }
    assert_int_equal(query_int("SELECT count(*) FROM reports WHERE host = 'shared.example'"), 1);
    assert_int_equal(query_int("SELECT count FROM reports WHERE host = 'shared.example'"),
                     N * ADDS);
    assert_int_equal(query_int("SELECT sum(h.count) FROM report_hours h JOIN reports r ON"
                               " r.id = h.report_id WHERE r.host = 'shared.example'"),
                     N * ADDS);
    assert_int_equal(query_int("SELECT first_seen FROM reports WHERE host = 'shared.example'"),
                     1000000);
    assert_int_equal(query_int("SELECT last_seen FROM reports WHERE host = 'shared.example'"),
                     1000000 + ADDS - 1);
    for (int i = 0; i < N; i++) {
        store_close(w[i].s);
    }
}

static void batch_is_one_transaction(void **state)
{
    store *s = NULL;
    char err[256] = "";
    store_report a = sample(1, "a.example", "interception", 1000000);
    store_report b = sample(2, "b.example", "clock-skew", 1000000);
    store_report bad = sample(3, "c.example", "clock-skew", 1000000);
    const store_report *rows[3] = {&b, &a, &b}; /* a duplicate within the batch, keys unsorted */
    const store_report *with_bad[2] = {&a, &bad};
    int64_t ids[3] = {0, 0, 0};

    (void)state;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_int_equal(s->ops->add(s, rows, 3, ids, err, sizeof(err)), 0);
    assert_int_equal(ids[0], ids[2]); /* ids in the caller's order, whatever the order of work */
    assert_true(ids[1] != ids[0]);
    assert_int_equal(query_int("SELECT count(*) FROM reports"), 2);
    assert_int_equal(query_int("SELECT count FROM reports WHERE host = 'b.example'"), 2);
    assert_int_equal(query_int("SELECT count FROM reports WHERE host = 'a.example'"), 1);
    assert_int_equal(query_int("SELECT sum(count) FROM report_hours"), 3);
    /* all or none: a report the server refuses (invalid UTF-8) takes the batch with it */
    bad.detail = "{\"why\":\"\xff\"}";
    assert_int_equal(s->ops->add(s, with_bad, 2, NULL, err, sizeof(err)), -1);
    assert_true(strncmp(err, "insert: ", 8) == 0);
    assert_null(strpbrk(err, "\n\t"));
    assert_int_equal(query_int("SELECT count FROM reports WHERE host = 'a.example'"), 1);
    assert_int_equal(query_int("SELECT count(*) FROM reports WHERE host = 'c.example'"), 0);
    /* and the session goes on */
    assert_int_equal(s->ops->add(s, with_bad, 1, NULL, err, sizeof(err)), 0);
    assert_int_equal(query_int("SELECT count FROM reports WHERE host = 'a.example'"), 2);
    store_close(s);
}

typedef struct batcher {
    store *s;
    int reverse, rc;
    char err[256];
} batcher;

static void *batch_worker(void *p)
{
    batcher *w = p;
    store_report r[8];
    const store_report *rows[8];

    for (int i = 0; i < 8; i++) {
        r[i] = sample((uint8_t)(20 + i), "batch.example", "interception", 4000000);
        rows[w->reverse ? 7 - i : i] = &r[i];
    }
    for (int k = 0; k < 100 && w->rc == 0; k++) {
        w->rc = w->s->ops->add(w->s, rows, 8, NULL, w->err, sizeof(w->err));
    }
    return NULL;
}

static void batches_in_opposite_orders_do_not_deadlock(void **state)
{
    pthread_t t[2];
    batcher w[2];
    char err[256] = "";

    (void)state;
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_open(&w[i].s, url, 0, err, sizeof(err)), 0);
        w[i].reverse = i;
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, batch_worker, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        if (w[i].rc != 0) {
            fail_msg("collector %d: %s", i, w[i].err);
        }
    }
    /* 8 rows, each counted once per batch of each collector */
    assert_int_equal(query_int("SELECT count(*) FROM reports WHERE host = 'batch.example'"), 8);
    assert_int_equal(query_int("SELECT min(count) FROM reports WHERE host = 'batch.example'"), 200);
    assert_int_equal(query_int("SELECT max(count) FROM reports WHERE host = 'batch.example'"), 200);
    for (int i = 0; i < 2; i++) {
        store_close(w[i].s);
    }
}

static void hostile_strings_bound_not_interpolated(void **state)
{
    store *s = NULL;
    char err[256] = "";
    store_report r = sample(5, "x'); DROP TABLE reports; --", "interception", 1000000);
    seen x;
    store_filter f = {0, "x'); DROP TABLE reports; --"};

    (void)state;
    r.detail = "{\"why\":\"$1 \\\\ '' \\\" <script>\"}";
    r.served_pins = "\xc3\xa9t\xc3\xa9 '\"";
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r, NULL, err, sizeof(err)), 0);
    memset(&x, 0, sizeof(x));
    assert_int_equal(s->ops->rows(s, &f, 0, on_row, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.host[0], r.host);
    assert_string_equal(x.cls[0], r.served_pins);
    store_close(s);
    assert_int_equal(
        query_int("SELECT count(*) FROM reports WHERE detail = '{\"why\":\"$1 \\\\ '''' \\\" "
                  "<script>\"}'"),
        1);
}

static void lost_connection_reconnected(void **state)
{
    store *s = NULL;
    char err[256] = "";
    store_report r = sample(6, "a.example", "interception", 1000000);
    seen x;

    (void)state;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &r, NULL, err, sizeof(err)), 0);
    /* the server ends the store's session (a restart, a failover, an idle timeout) */
    assert_true(query_int("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM"
                          " pg_stat_activity WHERE application_name = 'pinset') t") >= 1);
    assert_int_equal(store_add(s, &r, NULL, err, sizeof(err)), 0);
    assert_int_equal(query_int("SELECT count FROM reports"), 2);
    assert_true(query_int("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM"
                          " pg_stat_activity WHERE application_name = 'pinset') t") >= 1);
    memset(&x, 0, sizeof(x));
    assert_int_equal(s->ops->groups(s, NULL, on_group, &x, err, sizeof(err)), 0);
    assert_int_equal(x.n, 1);
    store_close(s);
}

static void errors_are_one_line(void **state)
{
    store *s = NULL;
    char err[256] = "", target[300];
    const char *p;

    (void)state;
    /* nothing listens on port 1 */
    assert_int_equal(store_open(&s, "postgres://pinset@127.0.0.1:1/pinset?connect_timeout=5", 0,
                                err, sizeof(err)),
                     -1);
    assert_null(s);
    assert_true(strncmp(err, "connect: ", 9) == 0);
    assert_non_null(strstr(err, "127.0.0.1"));
    assert_null(strpbrk(err, "\n\t"));
    /* a database that does not exist, on the real server */
    p = strrchr(url, '/');
    assert_non_null(p);
    snprintf(target, sizeof(target), "%.*s/no_such_db", (int)(p - url), url);
    assert_int_equal(store_open(&s, target, 0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no_such_db"));
    assert_null(strpbrk(err, "\n\t"));
    /* a malformed URL */
    assert_int_equal(store_open(&s, "postgresql://[::1/x", 0, err, sizeof(err)), -1);
    assert_true(strncmp(err, "connect: ", 9) == 0);
    assert_null(strpbrk(err, "\n\t"));
}

static void password_never_shown(void **state)
{
    char buf[128];

    (void)state;
    assert_string_equal(store_target_shown("postgres://u:s3cret@db.example:5432/r", buf, 128),
                        "postgres://u:***@db.example:5432/r");
    assert_string_equal(store_target_shown("postgresql://db.example/r?sslmode=require&"
                                           "password=s3cret&user=u",
                                           buf, 128),
                        "postgresql://db.example/r?sslmode=require&password=***&user=u");
    assert_string_equal(store_target_shown("postgres://u@db.example/r", buf, 128),
                        "postgres://u@db.example/r");
    assert_string_equal(store_target_shown("postgres://[::1]:5432/r", buf, 128),
                        "postgres://[::1]:5432/r");
    assert_string_equal(store_target_shown("/var/lib/a:b@c.sqlite", buf, 128),
                        "/var/lib/a:b@c.sqlite");
    assert_string_equal(store_target_shown("postgres://u:s3cret@db", buf, 16), "postgres://u:**");
    assert_string_equal(store_target_shown("postgres://db/r?password=s3cret", buf, 30),
                        "postgres://db/r?password=***");
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
    char hosts[8][48], outcomes[8][16];
    int64_t rounds[8];
    unsigned int ports[8];
    size_t n;
} mon_seen;

static int collect_mon(const store_mon_host *h, void *payload)
{
    mon_seen *m = payload;

    if (m->n < 8) {
        snprintf(m->hosts[m->n], sizeof(m->hosts[0]), "%s", h->host);
        snprintf(m->outcomes[m->n], sizeof(m->outcomes[0]), "%s", h->outcome);
        m->rounds[m->n] = h->last_round;
        m->ports[m->n] = h->port;
        m->n++;
    }
    return 0;
}

/* A version 1 database (the collector's tables only) gains the monitor's, keeping its reports. */
static void version_1_database_migrated_to_2(void **state)
{
    store *s = NULL;
    char err[256] = "";
    store_report a = sample(1, "a.example", "interception", 1000000);

    (void)state;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_int_equal(store_add(s, &a, NULL, err, sizeof(err)), 0);
    store_close(s);
    /* back to what a pinset before the monitor left */
    exec_sql(
        "DROP TABLE monitor_rounds, monitor_hosts, monitor_alerts, monitor_ct_logs, ct_positions");
    exec_sql("DELETE FROM schema_version WHERE version >= 2");
    assert_int_equal(store_open(&s, url, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "schema version 1 is older"));
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_true(store_mon_ready(s));
    store_close(s);
    assert_int_equal(query_int("SELECT max(version) FROM schema_version"), 4);
    assert_int_equal(query_int("SELECT count(*) FROM reports"), 1);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_hosts"), 0);
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

    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
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

/* Several hosts of one shard, by host then port; hostile strings stored as they are. */
static void monitor_hosts_ordered_and_bound(void **state)
{
    store *s = NULL;
    char err[256];
    mon_seen seen;
    (void)state;
    store_mon_host r[] = {mon_sample("0/1", "b.example", "PASS", 100),
                          mon_sample("0/1", "a.example", "PASS", 100),
                          mon_sample("0/1", "a.example", "PASS", 100),
                          mon_sample("0/1", "x'); DROP TABLE monitor_hosts; --", "FAIL", 100)};
    store_mon_alert al = {100,      "0/1", "a.example", 8443, "expiry", "{\"q\":\"'\\\"$1\"}",
                          "'); --", 1};

    r[1].port = 8443;
    assert_int_equal(store_open(&s, url, 0, err, sizeof(err)), 0);
    assert_int_equal(s->ops->mon_round(s, "0/1", 100, 101, r, 4, &al, 1, NULL, 0, err, sizeof(err)),
                     0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(s->ops->mon_hosts(s, "0/1", collect_mon, &seen, err, sizeof(err)), 0);
    assert_int_equal(seen.n, 4);
    assert_string_equal(seen.hosts[0], "a.example");
    assert_int_equal(seen.ports[0], 443);
    assert_string_equal(seen.hosts[1], "a.example");
    assert_int_equal(seen.ports[1], 8443);
    assert_string_equal(seen.hosts[2], "b.example");
    assert_string_equal(seen.hosts[3], "x'); DROP TABLE monitor_hosts; --");
    store_close(s);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_alerts WHERE"
                               " body = '{\"q\":\"''\\\"$1\"}' AND port = 8443"),
                     1);
}

typedef struct mon_worker {
    store *s;
    const char *shard;
    const char *hosts[3];
    int reverse; /* upsert its hosts in the opposite order */
    int rounds;
    int rc;
    char err[256];
} mon_worker;

static void *mon_round_worker(void *p)
{
    mon_worker *w = p;

    for (int i = 1; i <= w->rounds && w->rc == 0; i++) {
        store_mon_host h[3];
        for (int j = 0; j < 3; j++) {
            int k = w->reverse ? 2 - j : j;
            h[j] = mon_sample(w->shard, w->hosts[k], i % 2 ? "PASS" : "FAIL", i);
        }
        w->rc = w->s->ops->mon_round(w->s, w->shard, i, i + 1, h, 3, NULL, 0, NULL, 0, w->err,
                                     sizeof(w->err));
    }
    return NULL;
}

static void run_mon_workers(mon_worker *w, size_t n)
{
    pthread_t t[2];

    assert_true(n <= 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(store_open(&w[i].s, url, 0, w[i].err, sizeof(w[i].err)), 0);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, mon_round_worker, &w[i]), 0);
    }
    for (size_t i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        if (w[i].rc != 0) {
            fail_msg("monitor %zu: %s", i, w[i].err);
        }
    }
}

/* Two monitors on shards 0/2 and 1/2 of one database, rounds at once: neither loses a host. */
static void monitors_on_two_shards_keep_their_hosts(void **state)
{
    enum { ROUNDS = 40 };
    mon_worker w[2] = {
        {NULL, "0/2", {"a.example", "c.example", "e.example"}, 0, ROUNDS, 0, ""},
        {NULL, "1/2", {"b.example", "d.example", "f.example"}, 0, ROUNDS, 0, ""},
    };
    mon_seen seen;
    char err[256];

    (void)state;
    run_mon_workers(w, 2);
    for (int i = 0; i < 2; i++) {
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(
            w[i].s->ops->mon_hosts(w[i].s, w[i].shard, collect_mon, &seen, err, sizeof(err)), 0);
        assert_int_equal(seen.n, 3);
        for (int j = 0; j < 3; j++) {
            assert_string_equal(seen.hosts[j], w[i].hosts[j]);
            assert_int_equal(seen.rounds[j], ROUNDS);
            assert_string_equal(seen.outcomes[j], "FAIL"); /* round ROUNDS is even */
        }
        store_close(w[i].s);
    }
    assert_int_equal(query_int("SELECT count(*) FROM monitor_hosts"), 6);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_hosts WHERE shard = '0/2'"), 3);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_rounds"), 2 * ROUNDS);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_rounds WHERE shard = '1/2'"), ROUNDS);
}

/*
 * Two monitors on the same shard (a misconfiguration, or one replacing another): rounds at once
 * with the hosts in opposite orders neither fail nor deadlock, and the last round wins.
 */
static void same_shard_last_round_wins(void **state)
{
    enum { ROUNDS = 40 };
    mon_worker w[2] = {
        {NULL, "0/1", {"a.example", "b.example", "c.example"}, 0, ROUNDS, 0, ""},
        {NULL, "0/1", {"a.example", "b.example", "c.example"}, 1, ROUNDS, 0, ""},
    };
    store_mon_host h1 = mon_sample("0/1", "a.example", "PASS", 500);
    store_mon_host h2 = mon_sample("0/1", "a.example", "FAIL", 400);
    mon_seen seen;
    char err[256];

    (void)state;
    run_mon_workers(w, 2);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_hosts"), 3);
    assert_int_equal(query_int("SELECT count(*) FROM monitor_rounds"), 2 * ROUNDS);
    /* one after the other: the second's state stays, whatever its times */
    assert_int_equal(
        w[0].s->ops->mon_round(w[0].s, "0/1", 500, 501, &h1, 1, NULL, 0, NULL, 0, err, sizeof(err)),
        0);
    assert_int_equal(
        w[1].s->ops->mon_round(w[1].s, "0/1", 400, 401, &h2, 1, NULL, 0, NULL, 0, err, sizeof(err)),
        0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(w[0].s->ops->mon_hosts(w[0].s, "0/1", collect_mon, &seen, err, sizeof(err)),
                     0);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.hosts[0], "a.example");
    assert_string_equal(seen.outcomes[0], "FAIL");
    assert_int_equal(seen.rounds[0], 400);
    store_close(w[0].s);
    store_close(w[1].s);
}

#define STORE_OPEN(s, err) store_open(s, url, 0, err, sizeof(err))

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

#define STORE_TARGET url
/* the database refuses (a constraint) any position of a tree of 9 entries */
#define REFUSE_SIZE_9_SQL \
    "ALTER TABLE ct_positions ADD CONSTRAINT refuse CHECK (position NOT LIKE '%sth_size 9%')"
/* rows written behind pinset's back: each must be refused by ct_position_parse, not crash it */
#define HOSTILE_ROWS                                                                             \
    {                                                                                            \
        "UPDATE ct_positions SET position = 'garbage'", "UPDATE ct_positions SET position = ''", \
            "UPDATE ct_positions SET position = E'pinset-ct-position 1\\nsth_size "              \
            "99999999999999999999999\\n'",                                                       \
            "UPDATE ct_positions SET position = replace(position, 'sth_size 7', 'sth_size 1')",  \
            "UPDATE ct_positions SET position = position || E'\\x01junk'",                       \
            "UPDATE ct_positions SET position = position || repeat('range ' || repeat('0', 64) " \
            "|| E'\\n', 70)",                                                                    \
            "UPDATE ct_positions SET position = repeat('x', 20000)",                             \
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

/*
 * Two monitors on one database watching the same log: each save replaces the row whole (one
 * upsert); the last to commit wins, even when it had the older position (documented: the next
 * pass checks those entries again, none is skipped).
 */
static void two_monitors_same_log_last_writer_wins(void **state)
{
    store *s1 = NULL, *s2 = NULL;
    ct_store *c1 = NULL, *c2 = NULL;
    ct_position older = sample_pos(7, 5, 4, 0x10), newer = sample_pos(9, 8, 0, 0x30), got;
    char err[256] = "";
    (void)state;

    assert_int_equal(STORE_OPEN(&s1, err), 0);
    assert_int_equal(STORE_OPEN(&s2, err), 0);
    assert_int_equal(ct_store_db_open(&c1, s1, err, sizeof(err)), 0);
    assert_int_equal(ct_store_db_open(&c2, s2, err, sizeof(err)), 0);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(c1->save(c1, log_a, &older, err, sizeof(err)), 0);
        assert_int_equal(c2->save(c2, log_a, &newer, err, sizeof(err)), 0);
    }
    assert_int_equal(c1->load(c1, log_a, &got, err, sizeof(err)), 1);
    assert_memory_equal(&got, &newer, sizeof(newer));
    /* the older writer saves last: its position is the row's (never a mix of the two) */
    assert_int_equal(c1->save(c1, log_a, &older, err, sizeof(err)), 0);
    assert_int_equal(c2->load(c2, log_a, &got, err, sizeof(err)), 1);
    assert_memory_equal(&got, &older, sizeof(older));
    assert_int_equal(query_int("SELECT count(*) FROM ct_positions"), 1);
    c1->free(c1);
    c2->free(c2);
    store_close(s1);
    store_close(s2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(open_creates_and_migrates, setup),
        cmocka_unit_test_setup(dedup_counts_one_row, setup),
        cmocka_unit_test_setup(queries_group_filter_and_bucket, setup),
        cmocka_unit_test_setup(read_only_reads_and_refuses_foreign_databases, setup),
        cmocka_unit_test_setup(newer_schema_refused, setup),
        cmocka_unit_test_setup(two_collectors_share_one_database, setup),
        cmocka_unit_test_setup(batch_is_one_transaction, setup),
        cmocka_unit_test_setup(batches_in_opposite_orders_do_not_deadlock, setup),
        cmocka_unit_test_setup(hostile_strings_bound_not_interpolated, setup),
        cmocka_unit_test_setup(lost_connection_reconnected, setup),
        cmocka_unit_test_setup(errors_are_one_line, setup),
        cmocka_unit_test(password_never_shown),
        cmocka_unit_test_setup(version_1_database_migrated_to_2, setup),
        cmocka_unit_test_setup(monitor_round_replaces_state_by_shard, setup),
        cmocka_unit_test_setup(monitor_hosts_ordered_and_bound, setup),
        cmocka_unit_test_setup(monitors_on_two_shards_keep_their_hosts, setup),
        cmocka_unit_test_setup(same_shard_last_round_wins, setup),
        cmocka_unit_test_setup(monitor_ct_logs_and_outbox, setup),
        cmocka_unit_test_setup(version_2_database_migrated_to_3, setup),
        cmocka_unit_test_setup(ct_positions_round_trip_and_overwrite, setup),
        cmocka_unit_test_setup(ct_position_failed_save_keeps_previous, setup),
        cmocka_unit_test_setup(ct_position_hostile_rows_refused, setup),
        cmocka_unit_test_setup(version_3_database_migrated_to_4, setup),
        cmocka_unit_test_setup(two_monitors_same_log_last_writer_wins, setup),
    };
    const char *src = getenv("PINSET_SOURCE_DIR");
    char helper[512];

    (void)argc;
    url = getenv("PINSET_PG_URL");
    if (url == NULL || url[0] == '\0') {
        /* start a server: run again under the helper, which sets PINSET_PG_URL */
        if (src == NULL) {
            fprintf(stderr, "test_cli_store_pg: set PINSET_PG_URL or PINSET_SOURCE_DIR\n");
            return 1;
        }
        snprintf(helper, sizeof(helper), "%s/tests/testlib/pg.sh", src);
        execlp("bash", "bash", helper, "run", argv[0], (char *)NULL);
        perror("test_cli_store_pg: bash");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
