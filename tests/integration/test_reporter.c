/*
 * test_reporter.c - report delivery from the library (issue 11, "Delivery,
 * in the library"): pinset_reporter (reporter.h, libpinset-curl) against a
 * real loopback HTTP receiver on libmicrohttpd (tests/testlib/report_receiver.c).
 *
 * The reports are real documents: pinset_check of an in-memory chain
 * against a report-mode rule, written by pinset_report_write with a port per
 * report (the port is one of the deduplication fields, so each is distinct).
 *
 * - delivery_down_slow_500_back: the receiver down, then answering 500, then
 *   too slow (the request times out), then slow but in time: every report
 *   delivered exactly once.
 * - queue_bound_drops_oldest: a bounded queue drops the oldest report, counted.
 * - dropped_report_not_deduplicated: a report dropped from the queue does
 *   not make a later identical one a duplicate.
 * - dedup_across_restart: identical reports are sent once; a restarted
 *   reporter reads the state file and does not send them again; past the
 *   window it does.
 * - hostile_state_file: garbage, oversized, deep, wrongly typed, far-future
 *   and FIFO state files are ignored (and replaced), never a crash.
 * - shutdown_with_receiver_down: close returns at its deadline with the
 *   receiver down or holding the request, and says what was undelivered.
 * - jsonl_concurrent_writers: four reporters on four threads append to one
 *   JSON-lines file; every line is one whole report.
 * - forward_callback_sink: the `forward` callback gets each new report once.
 * - proxy_only_when_given: the environment's proxy variables are not read;
 *   the `proxy` option is used.
 * - set_policy_routes_waiting_and_new_reports: after pinset_reporter_set_policy
 *   (a policy update), reports waiting for a retry and new ones go to the new
 *   policy's report URIs; the old URI (down) gets nothing.
 * - set_policy_concurrent_with_reports: four threads report while the main
 *   thread swaps the policy back and forth: every report arrives exactly
 *   once at one of the two receivers (ThreadSanitizer runs it in make matrix).
 * - jsonl_symlink_and_fifo_refused: a symbolic link planted at the JSON-lines
 *   path is not followed (its target stays untouched), and a FIFO there,
 *   with or without a reader, is refused at once instead of blocking the
 *   application: pinset_reporter_new says why, naming the file.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/x509.h>

#include <pinset/check.h>
#include <pinset/policy.h>
#include <pinset/report.h>
#include <pinset/reporter.h>

#include "pki.h"
#include "report_receiver.h"

#define HOST "app.example"
/* Pins that match nothing: the rule is in report mode, every check a REPORT_ONLY_FAIL. */
#define PIN1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define PIN2 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="

static testlib_pki pki;
static uint8_t *leaf_der, *int_der;
static size_t leaf_len, int_len;
static char tmpdir[256];

/* A policy for HOST in report mode, reporting to `uris` (a JSON array's inside, or ""). */
static pinset_policy *policy_with(const char *uris)
{
    char json[2048];
    pinset_policy *p = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    snprintf(json, sizeof(json),
             "{\"version\": 1, \"rules\": [{\"host\": \"" HOST "\", \"mode\": \"report\", "
             "\"pins\": [\"" PIN1 "\", \"" PIN2 "\"], \"report_uris\": [%s]}]}",
             uris);
    if (pinset_policy_parse(&p, (const uint8_t *)json, strlen(json), &d) != PINSET_OK) {
        fail_msg("policy: %s (%s)\n%s", d.message, d.path, json);
    }
    return p;
}

static pinset_policy *policy_to(const report_receiver *r)
{
    char uris[256];

    snprintf(uris, sizeof(uris), "\"http://127.0.0.1:%u/report\"", receiver_port(r));
    return policy_with(uris);
}

/* The report the verdict path writes for HOST's chain, with `port`. Free d.p. */
static struct receiver_doc report_doc(const pinset_policy *policy, unsigned int port)
{
    pinset_cert chain[2] = {{leaf_der, leaf_len}, {int_der, int_len}};
    pinset_report_input in = PINSET_REPORT_INPUT_INIT;
    pinset_result *res = NULL;
    struct receiver_doc d = {NULL, 0};

    assert_int_equal(pinset_result_new(&res, NULL), PINSET_OK);
    assert_int_equal(pinset_check(res, policy, HOST, strlen(HOST), chain, 2, time(NULL), NULL),
                     PINSET_OK);
    assert_int_equal(pinset_result_verdict(res), PINSET_VERDICT_REPORT_ONLY_FAIL);
    in.port = port;
    in.validated = chain;
    in.validated_count = 2;
    assert_int_equal(pinset_report_write(res, &in, receiver_doc_sink, &d, NULL), PINSET_OK);
    pinset_result_free(res);
    return d;
}

/* Hand the report for `port` to the reporter, as the hook would. */
static void report(pinset_reporter *rep, const pinset_policy *policy, unsigned int port)
{
    struct receiver_doc d = report_doc(policy, port);

    pinset_reporter_report(d.p, d.n, rep);
    free(d.p);
}

static size_t count_port(report_receiver *r, unsigned int port)
{
    char needle[32];

    snprintf(needle, sizeof(needle), "\"port\":%u,", port);
    return receiver_count(r, needle);
}

static pinset_reporter_stats stats_of(pinset_reporter *rep)
{
    pinset_reporter_stats st;

    pinset_reporter_get_stats(&st, rep);
    return st;
}

static pinset_reporter *reporter(pinset_policy *policy, const pinset_reporter_opts *o)
{
    pinset_reporter *rep = NULL;
    pinset_diag d = PINSET_DIAG_INIT;

    if (pinset_reporter_new(&rep, policy, o, &d) != PINSET_OK) {
        fail_msg("reporter: %s", d.message);
    }
    return rep;
}

/* Most tests' fixture: a plain loopback receiver and a policy reporting to it. */
struct fx {
    report_receiver *r;
    pinset_policy *policy;
};

static int fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    fx->r = receiver_start(NULL, NULL);
    assert_non_null(fx->r);
    fx->policy = policy_to(fx->r);
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *fx = *state;

    pinset_policy_free(fx->policy);
    receiver_stop(fx->r);
    free(fx);
    return 0;
}

static void delivery_down_slow_500_back(void **state)
{
    struct fx *fx = *state;
    report_receiver *r = fx->r;
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    unsigned int seen;

    o.timeout_ms = 2000; /* far above the in-time delay below: a loaded machine gets no duplicate */
    o.backoff_ms = 20;
    o.backoff_max_ms = 200;
    o.max_attempts = 100000;
    rep = reporter(policy, &o);

    /* down: connections refused; every report fails and is retried */
    assert_int_equal(receiver_down(r), 0);
    for (unsigned int i = 1; i <= 10; i++) {
        report(rep, policy, i);
    }
    RECEIVER_WAIT_FOR(stats_of(rep).retried >= 20);
    assert_int_equal(stats_of(rep).sent, 0);

    /* back, answering 500 */
    receiver_answer(r, 500, 0);
    assert_int_equal(receiver_up(r), 0);
    RECEIVER_WAIT_FOR(receiver_requests(r) >= 10);
    assert_int_equal(receiver_accepted(r), 0);
    assert_int_equal(stats_of(rep).sent, 0);

    /* too slow: each request times out before the (late) 503 */
    seen = receiver_requests(r);
    receiver_answer(r, 503, 4000);
    RECEIVER_WAIT_FOR(receiver_requests(r) >= seen + 3);
    assert_int_equal(receiver_accepted(r), 0);

    /* slow but in time: everything arrives, once */
    receiver_answer(r, 200, 50);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 10);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.queued, 0);
    assert_true(st.retried >= 20);
    assert_int_equal(receiver_accepted(r), 10);
    for (unsigned int i = 1; i <= 10; i++) {
        assert_int_equal(count_port(r, i), 1);
    }
    pinset_reporter_free(rep);
}

static void queue_bound_drops_oldest(void **state)
{
    struct fx *fx = *state;
    report_receiver *r = fx->r;
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;

    o.queue_max = 4;
    o.timeout_ms = 60000;
    rep = reporter(policy, &o);
    /* report 0 in flight, held by the receiver, while 10 more arrive */
    receiver_answer(r, 200, RECEIVER_HOLD);
    report(rep, policy, 100);
    RECEIVER_WAIT_FOR(receiver_holding(r) == 1);
    for (unsigned int i = 1; i <= 10; i++) {
        report(rep, policy, 100 + i);
    }
    st = stats_of(rep);
    assert_int_equal(st.received, 11);
    assert_int_equal(st.queued, 4); /* the one in flight and the three newest */
    assert_int_equal(st.dropped, 7);
    receiver_answer(r, 200, 0);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 4);
    assert_int_equal(count_port(r, 100), 1);
    for (unsigned int i = 1; i <= 7; i++) {
        assert_int_equal(count_port(r, 100 + i), 0);
    }
    for (unsigned int i = 8; i <= 10; i++) {
        assert_int_equal(count_port(r, 100 + i), 1);
    }
    pinset_reporter_free(rep);
}

/* A report dropped from the queue does not make a later identical one a duplicate. */
static void dropped_report_not_deduplicated(void **state)
{
    struct fx *fx = *state;
    report_receiver *r = fx->r;
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;

    o.queue_max = 1;
    o.backoff_ms = 60000; /* the failed report waits (jitter: up to a minute) */
    o.max_attempts = 100;
    assert_int_equal(receiver_down(r), 0);
    rep = reporter(policy, &o);
    report(rep, policy, 300);
    RECEIVER_WAIT_FOR(stats_of(rep).retried >= 1);
    assert_int_equal(receiver_up(r), 0);
    report(rep, policy, 300); /* the queue is full: the waiting one is dropped */
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.deduplicated, 0);
    assert_int_equal(st.sent, 1);
    assert_int_equal(count_port(r, 300), 1);
    pinset_reporter_free(rep);
}

struct forwarded {
    unsigned int calls;
    int whole; /* every document handed over was one JSON object */
};

static void forward(const char *json, size_t len, void *payload)
{
    struct forwarded *f = payload;
    json_t *doc = json_loadb(json, len, 0, NULL);

    f->calls++;
    f->whole = f->whole && json_is_object(doc) && json[len] == '\0';
    json_decref(doc);
}

/* The existing callback as a sink: each new report once, on the reporter's thread. */
static void forward_callback_sink(void **state)
{
    struct fx *fx = *state;
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    struct forwarded f = {0, 1};
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;

    o.forward = forward;
    o.forward_payload = &f;
    rep = reporter(policy, &o);
    report(rep, policy, 400);
    report(rep, policy, 400);
    report(rep, policy, 401);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.deduplicated, 1);
    assert_int_equal(f.calls, 2);
    assert_true(f.whole);
    pinset_reporter_free(rep);
}

/* No proxy from the environment (the library reads none); the one given is used. */
static void proxy_only_when_given(void **state)
{
    struct fx *fx = *state;
    report_receiver *r = fx->r, *proxy = receiver_start(NULL, NULL);
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    char url[64];

    assert_non_null(proxy);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", receiver_port(proxy));
    assert_int_equal(setenv("http_proxy", url, 1), 0);
    assert_int_equal(setenv("HTTP_PROXY", url, 1), 0);
    rep = reporter(policy, &o);
    report(rep, policy, 500);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    pinset_reporter_free(rep);
    assert_int_equal(count_port(r, 500), 1);
    assert_int_equal(receiver_requests(proxy), 0);
    assert_int_equal(unsetenv("http_proxy"), 0);
    assert_int_equal(unsetenv("HTTP_PROXY"), 0);

    /* given: the request goes to the proxy (here a receiver taking it for itself) */
    o.proxy = url;
    rep = reporter(policy, &o);
    report(rep, policy, 501);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    pinset_reporter_free(rep);
    assert_int_equal(count_port(proxy, 501), 1);
    assert_int_equal(count_port(r, 501), 0);
    receiver_stop(proxy);
}

static int64_t later_clock(void *payload)
{
    return (int64_t)time(NULL) + *(const int64_t *)payload;
}

static void dedup_across_restart(void **state)
{
    struct fx *fx = *state;
    report_receiver *r = fx->r;
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    char path[512];
    struct stat sb;
    int64_t skip = 2 * 86400;

    snprintf(path, sizeof(path), "%s/dedup.state", tmpdir);
    o.state_path = path;
    rep = reporter(policy, &o);
    report(rep, policy, 1);
    report(rep, policy, 1); /* identical: queued once */
    report(rep, policy, 2);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    report(rep, policy, 2); /* identical to one sent */
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.deduplicated, 2);
    pinset_reporter_free(rep);
    assert_int_equal(stat(path, &sb), 0);

    /* restarted: the state file remembers 1 and 2 */
    rep = reporter(policy, &o);
    report(rep, policy, 1);
    report(rep, policy, 2);
    report(rep, policy, 3);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.deduplicated, 2);
    pinset_reporter_free(rep);
    assert_int_equal(count_port(r, 1), 1);
    assert_int_equal(count_port(r, 2), 1);
    assert_int_equal(count_port(r, 3), 1);

    /* two days later the window (24 h) is over: sent again */
    o.clock = later_clock;
    o.clock_payload = &skip;
    rep = reporter(policy, &o);
    report(rep, policy, 1);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    assert_int_equal(stats_of(rep).sent, 1);
    pinset_reporter_free(rep);
    assert_int_equal(count_port(r, 1), 2);
}

/*
 * A state file others may write is not trusted: whoever planted its keys
 * could silence the reports they name (the key of an interception's report
 * is computable from the interceptor's own chain). It is ignored, and
 * replaced (0600) at the next delivery.
 */
static void state_file_others_may_write(void **state)
{
    struct fx *fx = *state;
    report_receiver *r = fx->r;
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    char path[512];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/writable.state", tmpdir);
    o.state_path = path;
    rep = reporter(policy, &o);
    report(rep, policy, 600);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    assert_int_equal(stats_of(rep).sent, 1);
    pinset_reporter_free(rep);
    assert_int_equal(chmod(path, 0666), 0);

    /* restarted: the file is not believed, so the report goes again */
    rep = reporter(policy, &o);
    report(rep, policy, 600);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.deduplicated, 0);
    pinset_reporter_free(rep);
    assert_int_equal(count_port(r, 600), 2);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* replaced */
}

static void write_file(const char *path, const char *buf, size_t len)
{
    FILE *f;

    (void)unlink(path);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = calloc(1, (size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* With the state file as given, report `port`: it must be sent, and the file be valid again. */
static void sends_despite(pinset_policy *policy, const char *path, unsigned int port)
{
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_reporter *rep;
    json_t *doc;
    size_t len;
    char *text;

    o.state_path = path;
    rep = reporter(policy, &o);
    report(rep, policy, port);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    assert_int_equal(stats_of(rep).sent, 1);
    assert_int_equal(stats_of(rep).deduplicated, 0);
    pinset_reporter_free(rep);
    text = read_file(path, &len);
    doc = json_loadb(text, len, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
    assert_int_equal(json_array_size(json_object_get(doc, "sent")), 1);
    json_decref(doc);
    free(text);
}

static void hostile_state_file(void **state)
{
    static const char *const bad[] = {
        "",
        "\x00\xff garbage",
        "{\"version\": 1, \"sent\": [[\"zz\", 1]]}",
        "{\"version\": 2, \"sent\": []}",
        "{\"version\": 1, \"sent\": {}}",
        "{\"version\": 1, \"sent\": [[1, \"0000\"]]}",
        "{\"version\": 1, \"sent\": [], \"extra\": true}",
        "{\"version\": 1, \"version\": 1, \"sent\": []}",
    };
    struct fx *fx = *state;
    report_receiver *r = fx->r;
    pinset_policy *policy = fx->policy;
    char path[512], *big, *text, *at;
    unsigned int port = 1000;
    size_t len;

    snprintf(path, sizeof(path), "%s/hostile.state", tmpdir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, bad[i], i == 1 ? 11 : strlen(bad[i]));
        sends_despite(policy, path, port++);
    }
    /* deep nesting */
    big = malloc(200000);
    assert_non_null(big);
    memset(big, '[', 200000);
    write_file(path, big, 200000);
    free(big);
    sends_despite(policy, path, port++);
    /* a FIFO: never blocks, ignored, replaced */
    (void)unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    sends_despite(policy, path, port++);

    /* a valid file that remembers `port`, made larger than the bound: ignored whole */
    (void)unlink(path);
    sends_despite(policy, path, port);
    text = read_file(path, &len);
    big = malloc(len + (2u << 20));
    assert_non_null(big);
    memcpy(big, text, len);
    memset(big + len, ' ', 2u << 20);
    write_file(path, big, len + (2u << 20));
    free(big);
    free(text);
    sends_despite(policy, path, port);
    assert_int_equal(count_port(r, port), 2);
    port++;

    /* the key of a sent report with a time far in the future: ignored, sent again */
    (void)unlink(path);
    sends_despite(policy, path, port);
    text = read_file(path, &len);
    at = strrchr(text, ',');
    assert_non_null(at);
    write_file(path, text, (size_t)(at - text));
    {
        char tail[64];
        FILE *f = fopen(path, "ab");

        assert_non_null(f);
        snprintf(tail, sizeof(tail), ",%lld]]}", (long long)time(NULL) + 10 * 86400);
        fputs(tail, f);
        fclose(f);
    }
    free(text);
    sends_despite(policy, path, port);
    assert_int_equal(count_port(r, port), 2);
}

static void shutdown_with_receiver_down(void **state)
{
    struct fx *fx = *state;
    report_receiver *r = fx->r;
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = fx->policy;
    pinset_reporter *rep;
    pinset_reporter_stats st;

    o.timeout_ms = 200;
    o.backoff_ms = 10;
    o.backoff_max_ms = 50;
    o.max_attempts = 100000;
    assert_int_equal(receiver_down(r), 0);
    rep = reporter(policy, &o);
    for (unsigned int i = 1; i <= 3; i++) {
        report(rep, policy, i);
    }
    RECEIVER_WAIT_FOR(stats_of(rep).retried >= 3);
    assert_int_equal(pinset_reporter_close(rep, 300, &st), PINSET_E_IO);
    assert_int_equal(st.undelivered, 3);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.queued, 0);
    report(rep, policy, 4); /* after close: dropped */
    st = stats_of(rep);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(pinset_reporter_close(rep, 300, &st), PINSET_E_IO);
    pinset_reporter_free(rep);

    /* the receiver up but holding the request past the deadline: aborted, counted */
    assert_int_equal(receiver_up(r), 0);
    receiver_answer(r, 200, RECEIVER_HOLD);
    o.timeout_ms = 60000;
    rep = reporter(policy, &o);
    report(rep, policy, 5);
    RECEIVER_WAIT_FOR(receiver_holding(r) == 1);
    assert_int_equal(pinset_reporter_close(rep, 100, &st), PINSET_E_IO);
    assert_int_equal(st.undelivered, 1);
    assert_int_equal(st.sent, 0);
    pinset_reporter_free(rep);
}

#define WRITERS     4
#define PER_WRITER  250
#define JSONL_PORTS 20000

/* A thread's share of reports: ports first .. first + count - 1, to rep. */
struct writer {
    pinset_reporter *rep;
    const pinset_policy *policy;
    unsigned int first, count;
};

static void *write_reports(void *arg)
{
    struct writer *w = arg;

    for (unsigned int i = 0; i < w->count; i++) {
        report(w->rep, w->policy, w->first + i);
    }
    return NULL;
}

static void jsonl_concurrent_writers(void **state)
{
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = policy_with(""); /* no report URI: the file only */
    struct writer w[WRITERS];
    pthread_t t[WRITERS];
    char path[512], *text, *line, *save = NULL;
    unsigned char *seen = calloc(JSONL_PORTS, 1);
    size_t len, lines = 0;
    uint64_t written = 0;

    (void)state;
    assert_non_null(seen);
    snprintf(path, sizeof(path), "%s/reports.jsonl", tmpdir);
    (void)unlink(path);
    o.jsonl_path = path;
    o.queue_max = 1024;
    for (int i = 0; i < WRITERS; i++) {
        w[i].rep = reporter(policy, &o);
        w[i].policy = policy;
        w[i].first = 10000 + (unsigned int)i * PER_WRITER;
        w[i].count = PER_WRITER;
    }
    for (int i = 0; i < WRITERS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, write_reports, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pinset_reporter_stats st;

        assert_int_equal(pinset_reporter_flush(w[i].rep, 60000), PINSET_OK);
        st = stats_of(w[i].rep);
        assert_int_equal(st.dropped, 0);
        assert_int_equal(st.sent, 0);
        written += st.written;
        pinset_reporter_free(w[i].rep);
    }
    assert_int_equal(written, WRITERS * PER_WRITER);
    text = read_file(path, &len);
    assert_true(len > 0 && text[len - 1] == '\n');
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_error_t err;
        json_t *doc = json_loads(line, JSON_REJECT_DUPLICATES, &err);
        json_int_t port;

        if (doc == NULL) {
            fail_msg("line %zu is not whole JSON: %s", lines + 1, err.text);
        }
        assert_string_equal(json_string_value(json_object_get(doc, "hostname")), HOST);
        port = json_integer_value(json_object_get(doc, "port"));
        assert_true(port >= 10000 && port < JSONL_PORTS);
        assert_int_equal(seen[port], 0);
        seen[port] = 1;
        json_decref(doc);
        lines++;
    }
    assert_int_equal(lines, WRITERS * PER_WRITER);
    free(text);
    free(seen);
    pinset_policy_free(policy);
}

static void set_policy(pinset_reporter *rep, pinset_policy *policy)
{
    pinset_diag d = PINSET_DIAG_INIT;

    if (pinset_reporter_set_policy(rep, policy, &d) != PINSET_OK) {
        fail_msg("set_policy: %s", d.message);
    }
}

/* A policy update: what waits and what comes next goes where the new rules say. */
static void set_policy_routes_waiting_and_new_reports(void **state)
{
    report_receiver *old_r = receiver_start(NULL, NULL), *new_r = receiver_start(NULL, NULL);
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *old_p, *new_p;
    pinset_reporter *rep;
    pinset_reporter_stats st;

    (void)state;
    assert_non_null(old_r);
    assert_non_null(new_r);
    old_p = policy_to(old_r);
    new_p = policy_to(new_r);
    assert_int_equal(pinset_reporter_set_policy(NULL, new_p, NULL), PINSET_E_INVALID_ARG);
    o.backoff_ms = 20;
    o.backoff_max_ms = 100;
    o.max_attempts = 100000;
    rep = reporter(old_p, &o);
    assert_int_equal(pinset_reporter_set_policy(rep, NULL, NULL), PINSET_E_INVALID_ARG);

    /* the old policy's URI is down: both reports wait for a retry */
    assert_int_equal(receiver_down(old_r), 0);
    report(rep, old_p, 700);
    report(rep, old_p, 701);
    RECEIVER_WAIT_FOR(stats_of(rep).retried >= 4);
    assert_int_equal(stats_of(rep).sent, 0);

    /* the update: the caller may drop its reference at once */
    set_policy(rep, new_p);
    pinset_policy_free(new_p);
    report(rep, old_p, 702);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.failed, 0);
    assert_int_equal(receiver_accepted(new_r), 3);
    for (unsigned int port = 700; port <= 702; port++) {
        assert_int_equal(count_port(new_r, port), 1);
    }
    /* the old URI, back, gets nothing more */
    assert_int_equal(receiver_up(old_r), 0);
    report(rep, old_p, 703);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    assert_int_equal(count_port(new_r, 703), 1);
    assert_int_equal(receiver_requests(old_r), 0);
    pinset_reporter_free(rep);
    pinset_policy_free(old_p);
    receiver_stop(old_r);
    receiver_stop(new_r);
}

#define SWAP_THREADS 4
#define SWAP_EACH    100
#define SWAP_FIRST   20000
#define SWAPS        60

/* set_policy while reports arrive and go out: nothing lost, nothing twice, no race. */
static void set_policy_concurrent_with_reports(void **state)
{
    report_receiver *a = receiver_start(NULL, NULL), *b = receiver_start(NULL, NULL);
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *pa, *pb;
    pinset_reporter *rep;
    pinset_reporter_stats st;
    struct writer w[SWAP_THREADS];
    pthread_t t[SWAP_THREADS];

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    pa = policy_to(a);
    pb = policy_to(b);
    o.queue_max = SWAP_THREADS * SWAP_EACH;
    rep = reporter(pa, &o);
    for (int i = 0; i < SWAP_THREADS; i++) {
        w[i].rep = rep;
        w[i].policy = pa;
        w[i].first = SWAP_FIRST + (unsigned int)i * SWAP_EACH;
        w[i].count = SWAP_EACH;
        assert_int_equal(pthread_create(&t[i], NULL, write_reports, &w[i]), 0);
    }
    for (int i = 0; i < SWAPS; i++) {
        set_policy(rep, i % 2 == 0 ? pb : pa);
    }
    for (int i = 0; i < SWAP_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    st = stats_of(rep);
    assert_int_equal(st.received, SWAP_THREADS * SWAP_EACH);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.sent, SWAP_THREADS * SWAP_EACH);
    assert_int_equal(receiver_accepted(a) + receiver_accepted(b), SWAP_THREADS * SWAP_EACH);
    for (unsigned int p = SWAP_FIRST; p < SWAP_FIRST + SWAP_THREADS * SWAP_EACH; p++) {
        assert_int_equal(count_port(a, p) + count_port(b, p), 1);
    }
    /* the last call set pa (SWAPS is even): a new report goes there */
    report(rep, pa, 1);
    assert_int_equal(pinset_reporter_flush(rep, 60000), PINSET_OK);
    assert_int_equal(count_port(a, 1), 1);
    assert_int_equal(count_port(b, 1), 0);
    pinset_reporter_free(rep);
    pinset_policy_free(pa);
    pinset_policy_free(pb);
    receiver_stop(a);
    receiver_stop(b);
}

/* pinset_reporter_new with the JSON-lines file at path: its error, the diag's reason and input. */
static pinset_err new_with_jsonl(const char *path, pinset_diag *d)
{
    pinset_reporter_opts o = PINSET_REPORTER_OPTS_INIT;
    pinset_policy *policy = policy_with("");
    pinset_reporter *rep = NULL;
    pinset_err err;

    o.jsonl_path = path;
    err = pinset_reporter_new(&rep, policy, &o, d);
    pinset_reporter_free(rep);
    pinset_policy_free(policy);
    return err;
}

/*
 * The JSON-lines path is not followed through a symbolic link (another user
 * who can write the directory would redirect the appends to any file the
 * application may write), and a FIFO there is refused without blocking.
 */
static void jsonl_symlink_and_fifo_refused(void **state)
{
    char target[512], link[512], fifo[512];
    pinset_diag d = PINSET_DIAG_INIT;
    struct stat sb;
    pid_t pid;
    int status = 0, reader;

    (void)state;
    snprintf(target, sizeof(target), "%s/victim", tmpdir);
    snprintf(link, sizeof(link), "%s/planted.jsonl", tmpdir);
    snprintf(fifo, sizeof(fifo), "%s/fifo.jsonl", tmpdir);
    write_file(target, "", 0);
    (void)unlink(link);
    assert_int_equal(symlink(target, link), 0);

    /* a symbolic link: refused, named, its target untouched */
    assert_int_equal(new_with_jsonl(link, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "json-lines file"));
    assert_non_null(d.input);
    assert_string_equal(d.input, link);
    assert_int_equal(stat(target, &sb), 0);
    assert_int_equal(sb.st_size, 0);

    /* a FIFO with a reader: opening it would not block, but it is no file of lines */
    (void)unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    reader = open(fifo, O_RDONLY | O_NONBLOCK);
    assert_true(reader >= 0);
    pinset_diag_init(&d);
    assert_int_equal(new_with_jsonl(fifo, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "not a regular file"));
    assert_string_equal(d.input, fifo);
    close(reader);

    /*
     * A FIFO without a reader: an open for writing would wait for one
     * forever. In a child under an alarm, so that a blocking open fails the
     * test (killed by SIGALRM) instead of hanging it.
     */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pinset_diag cd = PINSET_DIAG_INIT;

        alarm(20);
        _exit(new_with_jsonl(fifo, &cd) == PINSET_E_IO ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        fail_msg("pinset_reporter_new blocked on a FIFO (signal %d)", WTERMSIG(status));
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* a regular file still works: created 0600, appended to */
    (void)unlink(target);
    pinset_diag_init(&d);
    assert_int_equal(new_with_jsonl(target, &d), PINSET_OK);
    assert_int_equal(stat(target, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static int der_of(X509 *x, uint8_t **out, size_t *len)
{
    unsigned char *p = NULL;
    int n = i2d_X509(x, &p);

    if (n <= 0) {
        return -1;
    }
    *out = p;
    *len = (size_t)n;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pinset-reporter-XXXXXX");
    if (mkdtemp(tmpdir) == NULL || testlib_pki_make(&pki, HOST) != 0 ||
        der_of(pki.leaf, &leaf_der, &leaf_len) != 0 || der_of(pki.inter, &int_der, &int_len) != 0) {
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[512];

    (void)state;
    OPENSSL_free(leaf_der);
    OPENSSL_free(int_der);
    testlib_pki_free(&pki);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(delivery_down_slow_500_back, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(queue_bound_drops_oldest, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(dropped_report_not_deduplicated, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(dedup_across_restart, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(state_file_others_may_write, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(hostile_state_file, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(shutdown_with_receiver_down, fx_setup, fx_teardown),
        cmocka_unit_test(jsonl_concurrent_writers),
        cmocka_unit_test_setup_teardown(forward_callback_sink, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(proxy_only_when_given, fx_setup, fx_teardown),
        cmocka_unit_test(jsonl_symlink_and_fifo_refused),
        cmocka_unit_test(set_policy_routes_waiting_and_new_reports),
        cmocka_unit_test(set_policy_concurrent_with_reports),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
