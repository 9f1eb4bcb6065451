/*
 * server.c - the collector's HTTP(S) server (server.h) on libmicrohttpd:
 * a thread pool reads requests; reports are parsed and classified outside
 * the store's lock, then recorded under it.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <serve/classify.h>
#include <serve/report.h>
#include <serve/server.h>
#include <serve/web.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <util/buf.h>

#include <openssl/rand.h>

#include "common.h"

#define RL_SLOTS    4096      /* client networks tracked by the rate limiter */
#define DISCARD_MAX (1 << 20) /* bytes of an over-size body read before hanging up */
#define NET_MAX     64
#define PER_IP_MAX  32 /* open connections per client address: one cannot hold all 512 */

typedef struct bucket {
    char net[NET_MAX]; /* "" = free */
    double tokens;
    double last; /* monotonic seconds */
} bucket;

/* A token bucket per client network, in a fixed table of RL_SLOTS (under the server's rl_lock). */
typedef struct limiter {
    bucket *slots;
    double rate; /* tokens per second */
    unsigned int burst;
} limiter;

/* Response codes counted in /metrics. */
static const unsigned int codes[] = {200, 201, 400, 404, 405, 413, 429, 500};
#define NCODES (sizeof(codes) / sizeof(codes[0]))
enum { REFUSED_MALFORMED, REFUSED_TOO_LARGE, REFUSED_RATE, REFUSED_COUNT };
static const char *const refused_names[REFUSED_COUNT] = {"malformed", "too-large", "rate-limited"};

struct serve {
    httpd *d;
    serve_config cfg;
    pthread_mutex_t db_lock;
    pthread_mutex_t rl_lock;
    limiter reports;  /* POST /report */
    limiter pages;    /* GET / and /host/NAME: each runs queries over the store under its lock */
    uint32_t rl_seed; /* random: which networks share a slot is not the sender's choice */
    atomic_ullong responses[NCODES];
    atomic_ullong stored[CLASS_COUNT];
    atomic_ullong refused[REFUSED_COUNT];
    atomic_ullong store_errors;
    report_cache *certs;      /* parsed certificates, shared by the threads */
    classify_cache *verified; /* chain verifications */
    /* group commit: handlers queue rows, one writer commits what queued in one transaction */
    pthread_mutex_t q_lock;
    pthread_cond_t q_ready, q_done;
    struct pending *head, *tail;
    int stopping, writer_started;
    pthread_t writer;
};

/* A row waiting for the writer; lives on its handler's stack until done. */
typedef struct pending {
    const store_report *row;
    int64_t id;
    int rc, done;
    char err[256];
    struct pending *next;
} pending;

typedef struct req {
    int report;  /* POST /report */
    int too_big; /* over REPORT_MAX_BODY */
    size_t discarded;
    char client[NET_MAX];
    struct pinset__buf body;
} req;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- addresses ---- */

void serve_truncate_addr(const struct sockaddr *sa, char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown");
    if (sa == NULL) {
        return;
    }
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        const uint8_t *a = (const uint8_t *)&in.sin_addr;
        snprintf(buf, cap, "%u.%u.%u.0/24", a[0], a[1], a[2]);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        const uint8_t *a = in6.sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            snprintf(buf, cap, "%u.%u.%u.0/24", a[12], a[13], a[14]);
        } else {
            snprintf(buf, cap, "%x:%x:%x::/48", (unsigned)(a[0] << 8 | a[1]),
                     (unsigned)(a[2] << 8 | a[3]), (unsigned)(a[4] << 8 | a[5]));
        }
    }
}

/* ---- the rate limiter: a token bucket per client network, in a fixed table ---- */

static uint32_t hash(uint32_t seed, const char *s)
{
    uint32_t h = 2166136261u ^ seed;
    for (; *s != '\0'; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return h;
}

static int rate_take(serve *s, limiter *l, const char *net)
{
    bucket *b = &l->slots[hash(s->rl_seed, net) % RL_SLOTS];
    double now = mono_now();
    int ok;

    pthread_mutex_lock(&s->rl_lock);
    if (b->net[0] == '\0') {
        /* a free slot: a full bucket */
        snprintf(b->net, sizeof(b->net), "%s", net);
        b->tokens = l->burst;
        b->last = now;
    } else if (strcmp(b->net, net) != 0) {
        /* another network in the slot takes it over with the tokens left, never a refill:
         * alternating two colliding networks gains nothing (and the seeded hash makes
         * collisions hard to choose) */
        snprintf(b->net, sizeof(b->net), "%s", net);
    }
    b->tokens += (now - b->last) * l->rate;
    if (b->tokens > l->burst) {
        b->tokens = l->burst;
    }
    b->last = now;
    ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    }
    pthread_mutex_unlock(&s->rl_lock);
    return ok;
}

/* ---- responses ---- */

static void count_code(serve *s, unsigned int code)
{
    for (size_t i = 0; i < NCODES; i++) {
        if (codes[i] == code) {
            atomic_fetch_add(&s->responses[i], 1);
        }
    }
}

static enum MHD_Result respond(serve *s, struct MHD_Connection *c, unsigned int code,
                               const char *type, const void *body, size_t len, const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Content-Security-Policy", web_csp());
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (code == 429) {
        MHD_add_response_header(r, "Retry-After", "1");
    }
    if (allow != NULL) {
        MHD_add_response_header(r, "Allow", allow);
    }
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    count_code(s, code);
    return ret;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static enum MHD_Result
respond_allow(serve *s, struct MHD_Connection *c, unsigned int code, const char *allow,
              const char *fmt, ...)
{
    char text[REPORT_REASON_MAX + 64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    return respond(s, c, code, "text/plain; charset=utf-8", text,
                   (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1, allow);
}

/* A text response; only 405 answers name what the path allows. */
#define respond_text(s, c, code, ...) respond_allow(s, c, code, NULL, __VA_ARGS__)

/* ---- the writer: group commit ---- */

#define BATCH_MAX 64

static void *writer_main(void *arg)
{
    serve *s = arg;
    pending *batch[BATCH_MAX];
    const store_report *rows[BATCH_MAX];
    int64_t ids[BATCH_MAX];
    char err[256];

    pthread_mutex_lock(&s->q_lock);
    for (;;) {
        size_t n = 0;
        int rc;
        while (s->head == NULL && !s->stopping) {
            pthread_cond_wait(&s->q_ready, &s->q_lock);
        }
        if (s->head == NULL) {
            break; /* stopping, nothing queued */
        }
        while (s->head != NULL && n < BATCH_MAX) {
            batch[n] = s->head;
            rows[n] = s->head->row;
            s->head = s->head->next;
            n++;
        }
        if (s->head == NULL) {
            s->tail = NULL;
        }
        pthread_mutex_unlock(&s->q_lock);
        pthread_mutex_lock(&s->db_lock);
        rc = s->cfg.db->ops->add(s->cfg.db, rows, n, ids, err, sizeof(err));
        pthread_mutex_unlock(&s->db_lock);
        pthread_mutex_lock(&s->q_lock);
        for (size_t i = 0; i < n; i++) {
            batch[i]->rc = rc;
            batch[i]->id = ids[i];
            if (rc != 0) {
                snprintf(batch[i]->err, sizeof(batch[i]->err), "%s", err);
            }
            batch[i]->done = 1;
        }
        pthread_cond_broadcast(&s->q_done);
    }
    pthread_mutex_unlock(&s->q_lock);
    return NULL;
}

/* Queue one row and wait until the writer has committed it (or failed). */
static int commit_row(serve *s, const store_report *row, int64_t *id, char *err, size_t cap)
{
    pending p;

    memset(&p, 0, sizeof(p));
    p.row = row;
    pthread_mutex_lock(&s->q_lock);
    if (s->tail != NULL) {
        s->tail->next = &p;
    } else {
        s->head = &p;
    }
    s->tail = &p;
    pthread_cond_signal(&s->q_ready);
    while (!p.done) {
        pthread_cond_wait(&s->q_done, &s->q_lock);
    }
    pthread_mutex_unlock(&s->q_lock);
    *id = p.id;
    if (p.rc != 0) {
        snprintf(err, cap, "%s", p.err);
    }
    return p.rc;
}

/* ---- POST /report ---- */

static json_t *chain_json(const report_chain *ch)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < ch->count; i++) {
        const report_cert *c = &ch->certs[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:I}", "subject", c->subject,
                                           "issuer", c->issuer, "pin", c->pin, "not-before",
                                           (json_int_t)c->not_before, "not-after",
                                           (json_int_t)c->not_after));
    }
    return a;
}

static char *detail_json(const report *r, const char *why)
{
    json_t *d = json_object();
    char *text;

    if (d == NULL) {
        return NULL;
    }
    json_object_set_new(d, "why", json_string(why));
    json_object_set_new(d, "served", chain_json(&r->served));
    json_object_set_new(d, "validated", chain_json(&r->validated));
    if (r->format == REPORT_TRUSTKIT) {
        json_object_set_new(d, "app",
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "app-bundle-id",
                                      r->app_bundle_id, "app-version", r->app_version,
                                      "app-platform", r->app_platform, "app-platform-version",
                                      r->app_platform_version, "app-vendor-id", r->app_vendor_id,
                                      "trustkit-version", r->trustkit_version, "validation-result",
                                      report_trustkit_result_name(r->validation_result)));
    } else if (r->pinset_verdict[0] != '\0') {
        json_object_set_new(d, "pinset",
                            json_pack("{s:s, s:s, s:s}", "verdict", r->pinset_verdict, "reason",
                                      r->pinset_reason, "mode", r->pinset_mode));
    }
    text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return text;
}

static enum MHD_Result ingest(serve *s, struct MHD_Connection *c, req *q)
{
    report *r = malloc(sizeof(*r));
    char reason[REPORT_REASON_MAX], why[256];
    char served[REPORT_MAX_CHAIN * REPORT_PIN_B64], validated[REPORT_MAX_CHAIN * REPORT_PIN_B64];
    char known[REPORT_MAX_PINS * REPORT_PIN_B64], err[256], body[128];
    store_report row;
    report_class k;
    char *detail;
    int64_t id = 0, now = (int64_t)time(NULL);
    int rc;
    enum MHD_Result ret;

    if (r == NULL) {
        return respond_text(s, c, 500, "pinset collect: out of memory\n");
    }
    rc = report_parse_cached(r, q->body.p != NULL ? q->body.p : (const uint8_t *)"", q->body.len,
                             s->certs, reason, sizeof(reason));
    if (rc != 0) {
        free(r);
        atomic_fetch_add(&s->refused[rc == -2 ? REFUSED_TOO_LARGE : REFUSED_MALFORMED], 1);
        return respond_text(s, c, rc == -2 ? 413 : 400, "pinset collect: %s\n", reason);
    }
    k = classify_report_cached(r, s->cfg.policy, s->cfg.trust, s->verified, now, why, sizeof(why));
    report_chain_pins(&r->served, served, sizeof(served));
    report_chain_pins(&r->validated, validated, sizeof(validated));
    report_known_pins(r, known, sizeof(known));
    detail = detail_json(r, why);
    memset(&row, 0, sizeof(row));
    row.received = now;
    row.client = q->client;
    row.format = report_format_name(r->format);
    row.host = r->host;
    row.port = r->port;
    row.noted_host = r->noted_host;
    row.class_name = classify_name(k);
    row.served_pins = served;
    row.validated_pins = validated;
    row.known_pins = known;
    row.client_time = r->date_time;
    row.detail = detail;
    if (detail == NULL || report_dedup_key(row.dedup, r, row.class_name) != 0) {
        rc = -1;
        snprintf(err, sizeof(err), "out of memory");
    } else {
        rc = commit_row(s, &row, &id, err, sizeof(err));
    }
    free(detail);
    report_clear(r);
    free(r);
    if (rc != 0) {
        atomic_fetch_add(&s->store_errors, 1);
        fprintf(stderr, "pinset: collect: store: %s\n", err);
        return respond_text(s, c, 500, "pinset collect: the report could not be stored\n");
    }
    atomic_fetch_add(&s->stored[k], 1);
    rc = snprintf(body, sizeof(body), "{\"stored\":true,\"class\":\"%s\",\"id\":%lld}\n",
                  classify_name(k), (long long)id);
    ret = respond(s, c, 201, "application/json", body, (size_t)rc, NULL);
    return ret;
}

/* ---- GET ---- */

static enum MHD_Result metrics(serve *s, struct MHD_Connection *c)
{
    struct pinset__buf b;
    char line[256];
    enum MHD_Result ret;
    int ok = 1;

    pinset__buf_init(&b, 1 << 20, 0);
#define ADD(...)                                                            \
    do {                                                                    \
        int n_ = snprintf(line, sizeof(line), __VA_ARGS__);                 \
        ok = ok && n_ > 0 && pinset__buf_append(&b, line, (size_t)n_) == 0; \
    } while (0)
    ADD("# HELP pinset_collect_responses_total HTTP responses sent, by status code.\n");
    ADD("# TYPE pinset_collect_responses_total counter\n");
    for (size_t i = 0; i < NCODES; i++) {
        ADD("pinset_collect_responses_total{code=\"%u\"} %llu\n", codes[i],
            (unsigned long long)atomic_load(&s->responses[i]));
    }
    ADD("# HELP pinset_collect_reports_stored_total Reports stored since start, by class.\n");
    ADD("# TYPE pinset_collect_reports_stored_total counter\n");
    for (int k = 0; k < CLASS_COUNT; k++) {
        ADD("pinset_collect_reports_stored_total{class=\"%s\"} %llu\n", classify_name(k),
            (unsigned long long)atomic_load(&s->stored[k]));
    }
    ADD("# HELP pinset_collect_reports_refused_total Reports refused since start, by reason.\n");
    ADD("# TYPE pinset_collect_reports_refused_total counter\n");
    for (int k = 0; k < REFUSED_COUNT; k++) {
        ADD("pinset_collect_reports_refused_total{reason=\"%s\"} %llu\n", refused_names[k],
            (unsigned long long)atomic_load(&s->refused[k]));
    }
    ADD("# HELP pinset_collect_store_errors_total Reports the store failed to record.\n");
    ADD("# TYPE pinset_collect_store_errors_total counter\n");
    ADD("pinset_collect_store_errors_total %llu\n",
        (unsigned long long)atomic_load(&s->store_errors));
#undef ADD
    if (!ok) {
        pinset__buf_free(&b);
        return respond_text(s, c, 500, "pinset collect: metrics too large\n");
    }
    ret = respond(s, c, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len, NULL);
    pinset__buf_free(&b);
    return ret;
}

static enum MHD_Result page(serve *s, struct MHD_Connection *c, const char *url)
{
    struct pinset__buf b;
    char err[256];
    int rc;
    enum MHD_Result ret;
    int64_t now = (int64_t)time(NULL);

    pinset__buf_init(&b, WEB_PAGE_MAX, 0);
    if (strcmp(url, "/") == 0) {
        pthread_mutex_lock(&s->db_lock);
        rc = web_index(&b, s->cfg.db, now, err, sizeof(err));
        pthread_mutex_unlock(&s->db_lock);
    } else {
        char host[PINSET_HOST_MAX];
        const char *name = url + 6; /* after "/host/" */
        if (pinset_host_canon(host, sizeof(host), NULL, name, strlen(name), NULL) != PINSET_OK) {
            pinset__buf_free(&b);
            return respond_text(s, c, 404, "pinset collect: not a host name\n");
        }
        pthread_mutex_lock(&s->db_lock);
        rc = web_host(&b, s->cfg.db, host, now, err, sizeof(err));
        pthread_mutex_unlock(&s->db_lock);
        if (rc == 1) {
            pinset__buf_free(&b);
            return respond_text(s, c, 404, "pinset collect: no report for this host\n");
        }
    }
    if (rc != 0) {
        pinset__buf_free(&b);
        fprintf(stderr, "pinset: collect: web view: %s\n", err);
        return respond_text(s, c, 500, "pinset collect: %s\n", err);
    }
    ret = respond(s, c, 200, "text/html; charset=utf-8", b.p, b.len, NULL);
    pinset__buf_free(&b);
    return ret;
}

/* ---- the handler ---- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    serve *s = cls;
    req *q = *con_cls;

    (void)version;
    if (q == NULL) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        q = calloc(1, sizeof(*q));
        if (q == NULL) {
            return MHD_NO;
        }
        *con_cls = q;
        serve_truncate_addr(ci != NULL ? ci->client_addr : NULL, q->client, sizeof(q->client));
        if (strcmp(url, "/report") != 0) {
            int known = strcmp(url, "/") == 0 || strcmp(url, "/healthz") == 0 ||
                        strcmp(url, "/metrics") == 0 || strncmp(url, "/host/", 6) == 0;
            if (!known) {
                return respond_text(s, c, 404, "pinset collect: not found\n");
            }
            if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
                return respond_allow(s, c, 405, "GET, HEAD", "pinset collect: %s wants GET\n", url);
            }
            if (strcmp(url, "/healthz") == 0) {
                return respond_text(s, c, 200, "ok\n");
            }
            if (strcmp(url, "/metrics") == 0) {
                return metrics(s, c);
            }
            /* "/" or "/host/...", the rest of `known`: queries over the store, under its lock */
            if (!rate_take(s, &s->pages, q->client)) {
                return respond_text(s, c, 429, "pinset collect: too many page views from %s\n",
                                    q->client);
            }
            return page(s, c, url);
        }
        if (strcmp(method, "POST") != 0) {
            return respond_allow(s, c, 405, "POST", "pinset collect: POST reports to /report\n");
        }
        if (!rate_take(s, &s->reports, q->client)) {
            atomic_fetch_add(&s->refused[REFUSED_RATE], 1);
            return respond_text(s, c, 429, "pinset collect: too many reports from %s\n", q->client);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > REPORT_MAX_BODY) {
            atomic_fetch_add(&s->refused[REFUSED_TOO_LARGE], 1);
            return respond_text(s, c, 413, "pinset collect: report over %d bytes\n",
                                REPORT_MAX_BODY);
        }
        q->report = 1;
        pinset__buf_init(&q->body, REPORT_MAX_BODY, 0);
        return MHD_YES;
    }
    if (!q->report) {
        *upload_size = 0; /* a response is queued already */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!q->too_big && pinset__buf_append(&q->body, upload, *upload_size) != PINSET_OK) {
            q->too_big = 1;
        }
        if (q->too_big) {
            q->discarded += *upload_size;
            if (q->discarded > DISCARD_MAX) {
                return MHD_NO;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    q->report = 0;
    if (q->too_big) {
        atomic_fetch_add(&s->refused[REFUSED_TOO_LARGE], 1);
        return respond_text(s, c, 413, "pinset collect: report over %d bytes\n", REPORT_MAX_BODY);
    }
    return ingest(s, c, q);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    req *q = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (q != NULL) {
        pinset__buf_free(&q->body);
        free(q);
        *con_cls = NULL;
    }
}

int serve_start(serve **out, const serve_config *cfg, char *err, size_t cap)
{
    httpd_config hc;
    serve *s;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->reports.slots = calloc(RL_SLOTS, sizeof(bucket))) == NULL ||
        (s->pages.slots = calloc(RL_SLOTS, sizeof(bucket))) == NULL ||
        (s->certs = report_cache_new()) == NULL || (s->verified = classify_cache_new()) == NULL) {
        if (s != NULL) {
            report_cache_free(s->certs);
            free(s->reports.slots);
            free(s->pages.slots);
        }
        free(s);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    s->cfg = *cfg;
    s->cfg.tls = NULL; /* the key is gone once the daemon has it */
    s->reports.rate = cfg->rate;
    s->reports.burst = cfg->burst;
    s->pages.rate = cfg->page_rate > 0 ? cfg->page_rate : SERVE_PAGE_RATE;
    s->pages.burst = cfg->page_burst > 0 ? cfg->page_burst : SERVE_PAGE_BURST;
    if (RAND_bytes((unsigned char *)&s->rl_seed, sizeof(s->rl_seed)) != 1) {
        s->rl_seed = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)s;
    }
    pthread_mutex_init(&s->db_lock, NULL);
    pthread_mutex_init(&s->rl_lock, NULL);
    pthread_mutex_init(&s->q_lock, NULL);
    pthread_cond_init(&s->q_ready, NULL);
    pthread_cond_init(&s->q_done, NULL);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, cap, "cannot start the writer thread");
        serve_stop(s);
        return -1;
    }
    s->writer_started = 1;
    (void)web_csp(); /* computed once, before any thread reads it */
    memset(&hc, 0, sizeof(hc));
    hc.listen = cfg->listen;
    hc.threads = cfg->threads > 0 ? cfg->threads : 4u;
    hc.connection_limit = 512;
    hc.per_ip_limit = PER_IP_MAX;
    hc.timeout = 15;
    hc.handler = handle;
    hc.handler_cls = s;
    hc.completed = completed;
    hc.completed_cls = s;
    hc.tls = cfg->tls;
    if (httpd_start(&s->d, &hc, err, cap) != 0) {
        serve_stop(s);
        return -1;
    }
    *out = s;
    return 0;
}

unsigned int serve_port(const serve *s)
{
    return httpd_port(s->d);
}

void serve_stop(serve *s)
{
    if (s == NULL) {
        return;
    }
    httpd_stop(s->d); /* finishes the requests in progress: their rows commit first */
    if (s->writer_started) {
        pthread_mutex_lock(&s->q_lock);
        s->stopping = 1;
        pthread_cond_signal(&s->q_ready);
        pthread_mutex_unlock(&s->q_lock);
        pthread_join(s->writer, NULL);
    }
    pthread_mutex_destroy(&s->q_lock);
    pthread_cond_destroy(&s->q_ready);
    pthread_cond_destroy(&s->q_done);
    pthread_mutex_destroy(&s->db_lock);
    pthread_mutex_destroy(&s->rl_lock);
    free(s->reports.slots);
    free(s->pages.slots);
    report_cache_free(s->certs);
    classify_cache_free(s->verified);
    free(s);
}
