/*
 * curl_report.c - report delivery (include/pinset/reporter.h): the bounded
 * queue the hook's report callback fills, and the one background thread
 * that deduplicates, writes the JSON-lines file and POSTs each report with
 * libcurl, retrying with exponential backoff and full jitter.
 *
 * The callback copies the document and takes the mutex for a few pointer
 * moves: no I/O, no waiting on the thread. Everything else runs on the
 * thread, outside the mutex. Every request goes through pinset_curl_setup
 * (curl.c) with the reporter's policy, every rule made enforcing: a pinned
 * report host is reached only over a connection its own rule passed.
 *
 * libpinset-curl uses libpinset's public API only: plain malloc here.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <pinset/curl.h>
#include <pinset/host.h>
#include <pinset/reporter.h>

#include "curl_int.h"
#include "curl_report_int.h"
#include "util/diag.h"

/* The largest document queued (reports carry two chains of PEM). */
#define REPORT_DOC_MAX ((size_t)1 << 20)
/* The largest answer body read (and thrown away). */
#define REPORT_ANSWER_MAX ((size_t)64 << 10)
/* Report URIs per rule (the policy format allows 16). */
#define REPORT_URIS_MAX 16

enum outcome {
    OUT_DONE,    /* sent, or nothing (more) to do */
    OUT_RETRY,   /* a transient failure: try again later */
    OUT_HELD,    /* a pinned report host refused by its rule: wait */
    OUT_FAILED,  /* every URI refused it for good */
    OUT_STOPPED, /* the reporter is stopping */
};

struct item {
    struct item *prev, *next;
    size_t len;
    uint64_t born_ms, due_ms; /* monotonic */
    unsigned int attempts;    /* rounds that failed without a pin refusal */
    unsigned int rounds;      /* all rounds: the backoff exponent */
    int parsed;               /* key and rule known */
    int in_flight;            /* the thread works on it: never dropped */
    int held;
    int sent_checked;        /* set by the thread when sent over a pinned host's connection */
    uint32_t dead;           /* URIs that refused it for good (4xx) */
    const pinset_rule *rule; /* its rule in rep->policy, NULL: no URI */
    uint8_t key[32];
    char host[PINSET_HOST_MAX]; /* its hostname as the report gives it ("": none), for routing */
    char json[];                /* len octets and a NUL: one allocation on the handshake's path */
};

struct pinset_reporter {
    pinset_policy *policy;  /* routing: the rule of a report's host (the thread's) */
    pinset_policy *channel; /* the same rules, every one enforced: the requests' checks */
    /* pinset_reporter_set_policy's, under mu, until the thread adopts them (NULL: none) */
    pinset_policy *next_policy, *next_channel;
    pinset_reporter_opts o; /* strings below are our copies */
    char *state_path, *jsonl_path, *cafile, *proxy;
    struct curl_slist *resolve, *headers;
    int jsonl_fd;

    pthread_mutex_t mu;
    pthread_cond_t wake; /* the thread: a report arrived, or stop */
    pthread_cond_t idle; /* flush waiters: a report left the queue */
    pthread_t thread;
    int sync, started, closed, stop;
    atomic_int stopping; /* read by curl's progress callback */
    struct item *head, *tail;
    size_t count, held;
    pinset_reporter_stats st;

    /* the thread's own */
    CURL *curl;
    pinset_curl *pc;
    struct report_dedup dedup;
    uint64_t rng;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t wall(const pinset_reporter *rep)
{
    return rep->o.clock != NULL ? rep->o.clock(rep->o.clock_payload) : (int64_t)time(NULL);
}

/* Wait on cond until the monotonic time `until_ms` (0: no deadline). */
static void wait_until(pthread_cond_t *cond, pthread_mutex_t *mu, uint64_t until_ms)
{
    struct timespec ts;

    if (until_ms == 0) {
        (void)pthread_cond_wait(cond, mu);
        return;
    }
    ts.tv_sec = (time_t)(until_ms / 1000u);
    ts.tv_nsec = (long)(until_ms % 1000u) * 1000000L;
    (void)pthread_cond_timedwait(cond, mu, &ts);
}

/* ---- the queue (under rep->mu) ---- */

static void unlink_item(pinset_reporter *rep, struct item *it)
{
    if (it->prev != NULL) {
        it->prev->next = it->next;
    } else {
        rep->head = it->next;
    }
    if (it->next != NULL) {
        it->next->prev = it->prev;
    } else {
        rep->tail = it->prev;
    }
    rep->count--;
    if (it->held) {
        rep->held--;
    }
}

/* Drop the oldest report that is not in flight (and held, when held_only): 1 if one was. */
static int drop_oldest(pinset_reporter *rep, int held_only)
{
    for (struct item *it = rep->head; it != NULL; it = it->next) {
        if (!it->in_flight && (!held_only || it->held)) {
            unlink_item(rep, it);
            free(it);
            rep->st.dropped++;
            return 1;
        }
    }
    return 0;
}

void pinset_reporter_report(const char *json, size_t len, void *payload)
{
    pinset_reporter *rep = payload;
    struct item *it;

    if (rep == NULL) {
        return;
    }
    it = json != NULL && len > 0 && len <= REPORT_DOC_MAX ? malloc(sizeof(*it) + len + 1) : NULL;
    if (it != NULL) {
        memset(it, 0, sizeof(*it));
        memcpy(it->json, json, len);
        it->json[len] = '\0';
        it->len = len;
        it->born_ms = mono_ms();
        it->due_ms = it->born_ms;
    }
    (void)pthread_mutex_lock(&rep->mu);
    rep->st.received++;
    if (it == NULL || rep->closed || (rep->count >= rep->o.queue_max && !drop_oldest(rep, 0))) {
        rep->st.dropped++;
        (void)pthread_mutex_unlock(&rep->mu);
        free(it);
        return;
    }
    it->prev = rep->tail;
    if (rep->tail != NULL) {
        rep->tail->next = it;
    } else {
        rep->head = it;
    }
    rep->tail = it;
    rep->count++;
    (void)pthread_cond_signal(&rep->wake);
    (void)pthread_mutex_unlock(&rep->mu);
}

/* The first report due at `now`; else NULL and the earliest due time in *next_ms. */
static struct item *next_due(pinset_reporter *rep, uint64_t now, uint64_t *next_ms)
{
    *next_ms = 0;
    for (struct item *it = rep->head; it != NULL; it = it->next) {
        if (it->due_ms <= now) {
            return it;
        }
        if (*next_ms == 0 || it->due_ms < *next_ms) {
            *next_ms = it->due_ms;
        }
    }
    return NULL;
}

/* ---- one request ---- */

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t *seen = userdata;

    (void)ptr;
    *seen += size * nmemb;
    return *seen > REPORT_ANSWER_MAX ? 0 : size * nmemb;
}

static int progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                    curl_off_t ulnow)
{
    pinset_reporter *rep = clientp;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(&rep->stopping) ? 1 : 0;
}

enum sent {
    SENT_OK,        /* 2xx */
    SENT_TRANSIENT, /* no answer, timeout, 5xx, 408, 429, ... */
    SENT_REFUSED,   /* the pinned host's rule refused the connection: nothing was sent */
    SENT_REJECTED,  /* another 4xx: this URI will never take it */
    SENT_STOPPED,
};

/* The URI's host, canonical, without IPv6 brackets, into buf: 1, else 0. */
static int uri_host(char *buf, size_t cap, const char *uri)
{
    const char *h = NULL;
    size_t n = 0;
    char *host = pinset__curl_uri_host(uri, &h, &n);
    pinset_host_type type;
    int ok;

    ok = host != NULL && pinset_host_canon(buf, cap, &type, h, n, NULL) == PINSET_OK;
    curl_free(host);
    return ok;
}

/*
 * The helper's last handshake result, when it is this request's: a request
 * that made no handshake (plain http, no connection) leaves the previous
 * request's result in place, which says nothing about this one.
 */
static const pinset_result *this_result(const pinset_reporter *rep, const char *uri)
{
    const pinset_result *r = pinset_curl_result(rep->pc);
    const char *rh = r != NULL ? pinset_result_host(r) : NULL;
    char host[PINSET_HOST_MAX];

    if (rh == NULL || rh[0] == '\0' || !uri_host(host, sizeof(host), uri) ||
        strcmp(rh, host) != 0) {
        return NULL;
    }
    return r;
}

/* The request went over TLS (an https:// URI): 1, else 0. */
static int over_tls(CURL *c)
{
    char *scheme = NULL;

    return curl_easy_getinfo(c, CURLINFO_SCHEME, &scheme) == CURLE_OK && scheme != NULL &&
           strcasecmp(scheme, "https") == 0;
}

/* POST the report to one URI over the checked channel. */
static enum sent post(pinset_reporter *rep, const struct item *it, const char *uri, int *checked)
{
    CURL *c = rep->curl;
    size_t seen = 0;
    long code = 0;
    CURLcode res;
    const pinset_result *r;

    if (curl_easy_setopt(c, CURLOPT_URL, uri) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->len) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)it->json) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen) != CURLE_OK) {
        return SENT_TRANSIENT;
    }
    res = curl_easy_perform(c);
    if (atomic_load(&rep->stopping)) {
        return SENT_STOPPED;
    }
    /* a 2xx with an answer too long to read is still a 2xx */
    if ((res == CURLE_OK || res == CURLE_WRITE_ERROR) &&
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
        pinset_curl_check(rep->pc) == PINSET_OK) {
        r = over_tls(c) ? this_result(rep, uri) : NULL;
        *checked = r != NULL && pinset_result_verdict(r) == PINSET_VERDICT_PASS;
        if (code >= 200 && code < 300) {
            return SENT_OK;
        }
        if (code >= 400 && code < 500 && code != 408 && code != 429) {
            return SENT_REJECTED;
        }
        return SENT_TRANSIENT;
    }
    /*
     * The gate refused (a plain http:// request to a pinned host, or a
     * connection its rule did not pass), or the handshake failed on a
     * pinned host's pins: nothing of the report left. A failure on a host
     * the policy does not pin is an ordinary transient one.
     */
    /* no connection made: no handshake, whatever an earlier one to this host said */
    r = res != CURLE_COULDNT_CONNECT && res != CURLE_COULDNT_RESOLVE_HOST ? this_result(rep, uri)
                                                                          : NULL;
    if (res == CURLE_ABORTED_BY_CALLBACK ||
        (r != NULL && pinset_result_verdict(r) == PINSET_VERDICT_FAIL)) {
        return SENT_REFUSED;
    }
    return SENT_TRANSIENT;
}

/* The URI's host is the host of `rule` (the failing rule): 1, else 0. */
static int on_failing_host(const pinset_reporter *rep, const pinset_rule *rule, const char *uri)
{
    const char *h = NULL;
    size_t n = 0;
    char *host = pinset__curl_uri_host(uri, &h, &n);
    int same;

    same = host != NULL && pinset_policy_lookup(rep->policy, h, n, NULL) == rule;
    curl_free(host);
    return same;
}

/*
 * One round: the URIs in order, those on the failing host last, until one
 * takes the report.
 */
static enum outcome deliver(pinset_reporter *rep, struct item *it)
{
    size_t n = pinset_rule_report_uri_count(it->rule);
    int refused = 0, live = 0;

    if (n == 0) {
        return OUT_DONE; /* routed again to a rule without report URIs: nowhere to send it */
    }
    if (n > REPORT_URIS_MAX) {
        n = REPORT_URIS_MAX;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const char *uri = pinset_rule_report_uri(it->rule, i);
            int checked = 0;

            if ((it->dead & (1u << i)) != 0 || on_failing_host(rep, it->rule, uri) != pass) {
                continue;
            }
            switch (post(rep, it, uri, &checked)) {
            case SENT_OK:
                it->sent_checked = checked;
                return OUT_DONE;
            case SENT_STOPPED:
                return OUT_STOPPED;
            case SENT_REFUSED:
                refused = 1;
                live = 1;
                break;
            case SENT_REJECTED:
                it->dead |= 1u << i;
                break;
            case SENT_TRANSIENT:
            default:
                live = 1;
                break;
            }
        }
    }
    if (!live) {
        return OUT_FAILED;
    }
    return refused ? OUT_HELD : OUT_RETRY;
}

/*
 * Another report with the same key is in the queue: a key marked queued may
 * be stale, its report dropped from the queue (drop-oldest, held bound) by
 * the callback, which does not touch the thread's table.
 */
static int queued_twin(pinset_reporter *rep, const struct item *it)
{
    int found = 0;

    (void)pthread_mutex_lock(&rep->mu);
    for (const struct item *o = rep->head; o != NULL && !found; o = o->next) {
        found = o != it && o->parsed && memcmp(o->key, it->key, sizeof(it->key)) == 0;
    }
    (void)pthread_mutex_unlock(&rep->mu);
    return found;
}

/* First sight of a report: parse, route, deduplicate, write to the file. */
static enum outcome first_sight(pinset_reporter *rep, struct item *it, int *dup)
{
    json_t *doc = json_loadb(it->json, it->len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *h = json_object_get(doc, "hostname");
    int64_t now = wall(rep);
    struct report_key_entry *seen;

    *dup = 0;
    if (doc == NULL || pinset__report_key(it->key, doc) != 0) {
        json_decref(doc);
        return OUT_FAILED;
    }
    /* a name with a NUL inside is no host name: no rule, as the lookup of all of it would say */
    if (json_is_string(h) && json_string_length(h) < sizeof(it->host) &&
        strlen(json_string_value(h)) == json_string_length(h)) {
        memcpy(it->host, json_string_value(h), json_string_length(h) + 1);
        it->rule = pinset_policy_lookup(rep->policy, it->host, strlen(it->host), NULL);
    }
    json_decref(doc);
    it->parsed = 1;
    seen = pinset__dedup_find(&rep->dedup, it->key, now);
    if (seen != NULL && (seen->sent || queued_twin(rep, it))) {
        *dup = 1;
        return OUT_DONE;
    }
    (void)pinset__dedup_add(&rep->dedup, it->key, now, 0);
    if (rep->jsonl_fd >= 0 && pinset__jsonl_append(rep->jsonl_fd, it->json, it->len) == 0) {
        (void)pthread_mutex_lock(&rep->mu);
        rep->st.written++;
        (void)pthread_mutex_unlock(&rep->mu);
    }
    if (rep->o.forward != NULL) {
        rep->o.forward(it->json, it->len, rep->o.forward_payload);
    }
    if (it->rule == NULL || pinset_rule_report_uri_count(it->rule) == 0) {
        return OUT_DONE; /* nowhere to send it: the file and the callback (if any) have it */
    }
    return OUT_RETRY;
}

/* Remember the outcome in the deduplication state (the thread's own). */
static void remember(pinset_reporter *rep, const struct item *it, enum outcome out)
{
    int64_t now = wall(rep);
    struct report_key_entry *e;

    if (out == OUT_FAILED) {
        pinset__dedup_remove(&rep->dedup, it->key); /* a later one may try again */
        return;
    }
    if (out != OUT_DONE) {
        return;
    }
    e = pinset__dedup_find(&rep->dedup, it->key, now);
    if (e == NULL) {
        e = pinset__dedup_add(&rep->dedup, it->key, now, 1);
    }
    e->sent = 1;
    if (rep->state_path != NULL) {
        (void)pinset__dedup_save(&rep->dedup, rep->state_path, now);
    }
}

static enum outcome process(pinset_reporter *rep, struct item *it, int *dup)
{
    enum outcome out;

    *dup = 0;
    if (!it->parsed) {
        out = first_sight(rep, it, dup);
        if (out != OUT_RETRY) {
            if (!*dup) {
                remember(rep, it, out);
            }
            return out;
        }
    }
    out = deliver(rep, it);
    remember(rep, it, out);
    return out;
}

/* Full jitter: a uniform delay in [0, min(cap, base * 2^(rounds-1))]. */
static uint64_t backoff(pinset_reporter *rep, unsigned int rounds)
{
    uint64_t ceil = rep->o.backoff_ms;
    uint64_t x = rep->rng;

    for (unsigned int i = 1; i < rounds && ceil < rep->o.backoff_max_ms; i++) {
        ceil *= 2;
    }
    if (ceil > rep->o.backoff_max_ms) {
        ceil = rep->o.backoff_max_ms;
    }
    /* xorshift64: the jitter needs spread, not secrecy */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rep->rng = x;
    return x % (ceil + 1);
}

/* Apply the outcome (under rep->mu); the item leaves the queue unless it waits again. */
static void settle(pinset_reporter *rep, struct item *it, enum outcome out, int dup)
{
    uint64_t now = mono_ms();
    int too_old = now - it->born_ms > (uint64_t)rep->o.max_age_s * 1000u;

    if (out == OUT_STOPPED) {
        return;
    }
    if (out == OUT_RETRY || out == OUT_HELD) {
        it->rounds++;
        if (out == OUT_RETRY) {
            it->attempts++;
        }
        if (out == OUT_HELD && !it->held) {
            rep->held++;
        } else if (out == OUT_RETRY && it->held) {
            rep->held--;
        }
        it->held = out == OUT_HELD;
        if (it->attempts >= rep->o.max_attempts || too_old) {
            out = OUT_FAILED;
        } else {
            it->due_ms = now + backoff(rep, it->rounds);
            rep->st.retried++;
            while (rep->held > rep->o.held_max && drop_oldest(rep, 1)) {
            }
            return;
        }
    }
    unlink_item(rep, it);
    if (dup) {
        rep->st.deduplicated++;
    } else if (out == OUT_FAILED) {
        rep->st.failed++;
    } else if (it->parsed && it->rule != NULL && pinset_rule_report_uri_count(it->rule) > 0) {
        rep->st.sent++;
        rep->st.checked += it->sent_checked ? 1u : 0u;
    }
    free(it);
}

/*
 * Adopt the policy pinset_reporter_set_policy left (under rep->mu, between
 * two reports: none is in flight): the reports waiting are routed again
 * under it, each from the start of its URIs; held ones are due at once, since
 * the new rules may pass their report host. The old policies go to *old_out
 * and *old_channel_out, to be freed outside the mutex.
 */
static void adopt(pinset_reporter *rep, pinset_policy **old_out, pinset_policy **old_channel_out)
{
    uint64_t now = mono_ms();

    *old_out = rep->policy;
    *old_channel_out = rep->channel;
    rep->policy = rep->next_policy;
    rep->channel = rep->next_channel;
    rep->next_policy = rep->next_channel = NULL;
    /* the checked channel: a request made from now on is checked under the new rules */
    if (pinset_ossl_set_policy(pinset_curl_ossl(rep->pc), rep->channel) != PINSET_OK) {
        /* only with a NULL argument or a lock that failed; the old channel stays in force */
    }
    for (struct item *it = rep->head; it != NULL; it = it->next) {
        if (!it->parsed) {
            continue; /* routed at first sight, under rep->policy */
        }
        it->rule = it->host[0] != '\0'
                       ? pinset_policy_lookup(rep->policy, it->host, strlen(it->host), NULL)
                       : NULL;
        it->dead = 0;
        if (it->held) {
            it->due_ms = now;
        }
    }
}

static void *run(void *arg)
{
    pinset_reporter *rep = arg;
    pinset_policy *old, *old_channel;
    uint64_t next_ms;
    struct item *it;
    enum outcome out;
    int dup;

    (void)pthread_mutex_lock(&rep->mu);
    while (!rep->stop) {
        if (rep->next_policy != NULL) {
            adopt(rep, &old, &old_channel);
            (void)pthread_mutex_unlock(&rep->mu);
            pinset_policy_free(old);
            pinset_policy_free(old_channel);
            (void)pthread_mutex_lock(&rep->mu);
            continue;
        }
        it = next_due(rep, mono_ms(), &next_ms);
        if (it == NULL) {
            wait_until(&rep->wake, &rep->mu, next_ms);
            continue;
        }
        it->in_flight = 1;
        (void)pthread_mutex_unlock(&rep->mu);
        out = process(rep, it, &dup);
        (void)pthread_mutex_lock(&rep->mu);
        it->in_flight = 0;
        settle(rep, it, out, dup);
        (void)pthread_cond_broadcast(&rep->idle);
    }
    (void)pthread_mutex_unlock(&rep->mu);
    return NULL;
}

/* ---- life cycle ---- */

struct growbuf {
    char *p;
    size_t n, cap;
};

static int sink(const char *buf, size_t len, void *payload)
{
    struct growbuf *b = payload;

    if (len > b->cap - b->n) {
        size_t cap = (b->cap + len) * 2;
        char *p = realloc(b->p, cap);

        if (p == NULL) {
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, buf, len);
    b->n += len;
    return 0;
}

/*
 * The policy the requests are checked under: the same rules, each enforced
 * (mode "report" and on_expiry "report" would let a failing connection
 * carry the report).
 */
static pinset_err channel_policy(pinset_policy **out, const pinset_policy *policy,
                                 pinset_diag *diag)
{
    struct growbuf b = {NULL, 0, 0};
    json_t *doc = NULL, *rules, *rule;
    char *text = NULL;
    size_t i;
    pinset_err err = PINSET_E_NOMEM;

    if (pinset_policy_write(policy, sink, &b) != PINSET_OK) {
        goto out;
    }
    doc = json_loadb(b.p, b.n, 0, NULL);
    rules = json_object_get(doc, "rules");
    json_array_foreach(rules, i, rule)
    {
        const char *mode = json_string_value(json_object_get(rule, "mode"));
        const char *exp = json_string_value(json_object_get(rule, "on_expiry"));

        if ((mode != NULL && strcmp(mode, "report") == 0 &&
             json_object_set_new(rule, "mode", json_string("enforce")) != 0) ||
            (exp != NULL && strcmp(exp, "report") == 0 &&
             json_object_set_new(rule, "on_expiry", json_string("fail-closed")) != 0)) {
            goto out;
        }
    }
    text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        goto out;
    }
    err = pinset_policy_parse(out, (const uint8_t *)text, strlen(text), diag);
out:
    free(text);
    json_decref(doc);
    free(b.p);
    if (err == PINSET_E_NOMEM) {
        return PINSET_DIAG(diag, err, "reporter: cannot derive the channel policy");
    }
    return err;
}

static void set_defaults(pinset_reporter_opts *o)
{
    o->queue_max = o->queue_max != 0 ? o->queue_max : 256;
    o->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : 10000;
    o->max_attempts = o->max_attempts != 0 ? o->max_attempts : 8;
    o->backoff_ms = o->backoff_ms != 0 ? o->backoff_ms : 1000;
    o->backoff_max_ms = o->backoff_max_ms != 0 ? o->backoff_max_ms : 300000;
    if (o->backoff_max_ms < o->backoff_ms) {
        o->backoff_max_ms = o->backoff_ms;
    }
    o->max_age_s = o->max_age_s != 0 ? o->max_age_s : 86400;
    o->dedup_window_s = o->dedup_window_s != 0 ? o->dedup_window_s : 86400;
    o->held_max = o->held_max != 0 ? o->held_max : 64;
    o->shutdown_ms = o->shutdown_ms != 0 ? o->shutdown_ms : 5000;
}

static int copy_str(char **out, const char *s)
{
    *out = NULL;
    if (s == NULL) {
        return 0;
    }
    *out = strdup(s);
    return *out == NULL ? -1 : 0;
}

/*
 * Open the JSON-lines file for appending: a regular file only. Not through a
 * symbolic link (one planted at the path by whoever can write its directory
 * would redirect the appends to any file the application may write), and
 * without blocking: an open for writing waits for a reader on a FIFO (and a
 * device may block too), which would hang pinset_reporter_new. O_NONBLOCK
 * makes a FIFO without a reader fail with ENXIO; whatever opens is checked
 * with fstat, and a regular file's descriptor goes back to blocking.
 */
static pinset_err open_jsonl(int *out, const char *path, pinset_diag *diag)
{
    struct stat st;
    const char *why = NULL;
    int fd, flags, e = 0;

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
              0600);
    if (fd < 0) {
        e = errno;
        /* ELOOP: the last component is a symbolic link; ENXIO: a FIFO without a reader, a socket */
        if (e == ELOOP) {
            why = "reporter: the json-lines file is a symbolic link";
        } else if (e == ENXIO) {
            why = "reporter: the json-lines file is not a regular file";
        }
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = "reporter: the json-lines file is not a regular file";
    } else {
        flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0) {
            *out = fd;
            return PINSET_OK;
        }
        e = errno;
    }
    if (fd >= 0) {
        (void)close(fd);
    }
    pinset__diag_input(diag, path);
    if (why != NULL) {
        return PINSET_DIAG(diag, PINSET_E_IO, "%s", why);
    }
    return PINSET_DIAG(diag, PINSET_E_IO, "reporter: cannot open the json-lines file: %s",
                       strerror(e));
}

/* The strings, the JSON-lines file and the deduplication state. */
static pinset_err setup_files(pinset_reporter *rep, const pinset_reporter_opts *o,
                              pinset_diag *diag)
{
    if (copy_str(&rep->state_path, o->state_path) != 0 ||
        copy_str(&rep->jsonl_path, o->jsonl_path) != 0 || copy_str(&rep->cafile, o->cafile) != 0 ||
        copy_str(&rep->proxy, o->proxy) != 0 ||
        pinset__dedup_init(&rep->dedup, (int64_t)rep->o.dedup_window_s) != 0) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "reporter: out of memory");
    }
    if (rep->jsonl_path != NULL) {
        pinset_err err = open_jsonl(&rep->jsonl_fd, o->jsonl_path, diag);

        if (err != PINSET_OK) {
            return err;
        }
    }
    if (rep->state_path != NULL) {
        (void)pinset__dedup_load(&rep->dedup, rep->state_path, wall(rep));
    }
    return PINSET_OK;
}

/* The easy handle, reused for every request, checked by the channel policy. */
static pinset_err setup_curl(pinset_reporter *rep, const pinset_reporter_opts *o, pinset_diag *diag)
{
    CURL *c;
    pinset_err err;

    for (size_t i = 0; i < o->resolve_count; i++) {
        struct curl_slist *l = curl_slist_append(rep->resolve, o->resolve[i]);

        if (l == NULL) {
            return PINSET_DIAG(diag, PINSET_E_NOMEM, "reporter: out of memory");
        }
        rep->resolve = l;
    }
    rep->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (rep->headers != NULL) {
        struct curl_slist *l = curl_slist_append(rep->headers, "Expect:");

        rep->headers = l != NULL ? l : rep->headers;
    }
    rep->curl = c = curl_easy_init();
    if (rep->headers == NULL || c == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "reporter: cannot make a curl handle");
    }
    err = pinset_curl_new(&rep->pc, rep->channel, NULL, diag);
    if (err == PINSET_OK) {
        err = pinset_curl_setup(rep->pc, c, diag);
    }
    if (err != PINSET_OK) {
        return err;
    }
    if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, rep->headers) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        /* "" turns off the environment's proxy variables: the library reads no environment */
        curl_easy_setopt(c, CURLOPT_PROXY, rep->proxy != NULL ? rep->proxy : "") != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, rep) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
#endif
        (rep->resolve != NULL && curl_easy_setopt(c, CURLOPT_RESOLVE, rep->resolve) != CURLE_OK) ||
        (rep->cafile != NULL && curl_easy_setopt(c, CURLOPT_CAINFO, rep->cafile) != CURLE_OK)) {
        return PINSET_DIAG(diag, PINSET_E_UNSUPPORTED, "reporter: libcurl refused an option");
    }
    return PINSET_OK;
}

static pinset_err start(pinset_reporter *rep, pinset_diag *diag)
{
    pthread_condattr_t ca;
    int ok;

    if (pthread_mutex_init(&rep->mu, NULL) != 0) {
        return PINSET_DIAG(diag, PINSET_E_INTERNAL, "reporter: cannot make a mutex");
    }
    ok = pthread_condattr_init(&ca) == 0;
    ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&rep->wake, &ca) == 0;
    ok = ok && pthread_cond_init(&rep->idle, &ca) == 0;
    (void)pthread_condattr_destroy(&ca);
    if (!ok) {
        return PINSET_DIAG(diag, PINSET_E_INTERNAL, "reporter: cannot make a condition variable");
    }
    rep->sync = 1;
    if (pthread_create(&rep->thread, NULL, run, rep) != 0) {
        return PINSET_DIAG(diag, PINSET_E_INTERNAL, "reporter: cannot start the thread");
    }
    rep->started = 1;
    return PINSET_OK;
}

pinset_err pinset_reporter_new(pinset_reporter **out, pinset_policy *policy,
                               const pinset_reporter_opts *opts, pinset_diag *diag)
{
    pinset_reporter_opts defaults = PINSET_REPORTER_OPTS_INIT;
    pinset_reporter *rep;
    pinset_err err;

    if (out == NULL || policy == NULL || (opts != NULL && opts->version != 1) ||
        (opts != NULL && opts->resolve_count > 0 && opts->resolve == NULL)) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG,
                           "reporter: null argument or bad options version");
    }
    *out = NULL;
    rep = calloc(1, sizeof(*rep));
    if (rep == NULL) {
        return PINSET_DIAG(diag, PINSET_E_NOMEM, "reporter: out of memory");
    }
    rep->o = opts != NULL ? *opts : defaults;
    set_defaults(&rep->o);
    rep->jsonl_fd = -1;
    rep->policy = pinset_policy_ref(policy);
    atomic_init(&rep->stopping, 0);
    if (RAND_bytes((unsigned char *)&rep->rng, sizeof(rep->rng)) != 1 || rep->rng == 0) {
        rep->rng = (uint64_t)mono_ms() | 1u;
    }
    err = channel_policy(&rep->channel, policy, diag);
    if (err == PINSET_OK) {
        err = setup_files(rep, &rep->o, diag);
    }
    if (err == PINSET_OK) {
        err = setup_curl(rep, opts != NULL ? opts : &rep->o, diag);
    }
    if (err == PINSET_OK) {
        err = start(rep, diag);
    }
    if (err != PINSET_OK) {
        rep->closed = 1;
        pinset_reporter_free(rep);
        return err;
    }
    /* the copies: the caller's strings may go now */
    rep->o.state_path = rep->state_path;
    rep->o.jsonl_path = rep->jsonl_path;
    rep->o.cafile = rep->cafile;
    rep->o.proxy = rep->proxy;
    rep->o.resolve = NULL;
    rep->o.resolve_count = 0;
    *out = rep;
    return PINSET_OK;
}

pinset_err pinset_reporter_flush(pinset_reporter *rep, unsigned int timeout_ms)
{
    uint64_t until;
    size_t left;

    if (rep == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    until = mono_ms() + timeout_ms;
    (void)pthread_mutex_lock(&rep->mu);
    while (rep->count > 0 && !rep->stop && mono_ms() < until) {
        wait_until(&rep->idle, &rep->mu, until);
    }
    left = rep->count;
    (void)pthread_mutex_unlock(&rep->mu);
    return left == 0 ? PINSET_OK : PINSET_E_IO;
}

static void fill_stats(pinset_reporter_stats *out, const pinset_reporter *rep)
{
    *out = rep->st;
    out->version = PINSET_REPORTER_STATS_VERSION;
    out->queued = rep->count;
    out->held = rep->held;
}

pinset_err pinset_reporter_close(pinset_reporter *rep, unsigned int timeout_ms,
                                 pinset_reporter_stats *out)
{
    struct item *it;
    int already;

    if (rep == NULL) {
        return PINSET_E_INVALID_ARG;
    }
    (void)pthread_mutex_lock(&rep->mu);
    already = rep->closed;
    rep->closed = 1; /* later reports are dropped */
    (void)pthread_mutex_unlock(&rep->mu);
    if (!already && rep->started) {
        if (pinset_reporter_flush(rep, timeout_ms) != PINSET_OK) {
            /* the deadline passed: what is left is counted below */
        }
        (void)pthread_mutex_lock(&rep->mu);
        rep->stop = 1;
        atomic_store(&rep->stopping, 1); /* aborts a request in flight */
        (void)pthread_cond_signal(&rep->wake);
        (void)pthread_cond_broadcast(&rep->idle);
        (void)pthread_mutex_unlock(&rep->mu);
        (void)pthread_join(rep->thread, NULL);
        rep->started = 0;
        (void)pthread_mutex_lock(&rep->mu);
        while ((it = rep->head) != NULL) {
            unlink_item(rep, it);
            free(it);
            rep->st.undelivered++;
        }
        (void)pthread_mutex_unlock(&rep->mu);
    }
    (void)pthread_mutex_lock(&rep->mu);
    if (out != NULL) {
        fill_stats(out, rep);
    }
    already = rep->st.undelivered != 0;
    (void)pthread_mutex_unlock(&rep->mu);
    return already ? PINSET_E_IO : PINSET_OK;
}

void pinset_reporter_free(pinset_reporter *rep)
{
    struct item *it;

    if (rep == NULL) {
        return;
    }
    if (rep->started) {
        if (pinset_reporter_close(rep, rep->o.shutdown_ms, NULL) != PINSET_OK) {
            /* undelivered reports are lost with the reporter (counted in its stats) */
        }
    }
    if (rep->sync) {
        (void)pthread_cond_destroy(&rep->wake);
        (void)pthread_cond_destroy(&rep->idle);
        (void)pthread_mutex_destroy(&rep->mu);
    }
    while ((it = rep->head) != NULL) {
        rep->head = it->next;
        free(it);
    }
    curl_easy_cleanup(rep->curl);
    pinset_curl_free(rep->pc);
    curl_slist_free_all(rep->resolve);
    curl_slist_free_all(rep->headers);
    if (rep->jsonl_fd >= 0) {
        (void)close(rep->jsonl_fd);
    }
    pinset__dedup_free(&rep->dedup);
    free(rep->state_path);
    free(rep->jsonl_path);
    free(rep->cafile);
    free(rep->proxy);
    pinset_policy_free(rep->next_channel);
    pinset_policy_free(rep->next_policy);
    pinset_policy_free(rep->channel);
    pinset_policy_free(rep->policy);
    free(rep);
}

pinset_err pinset_reporter_set_policy(pinset_reporter *rep, pinset_policy *policy,
                                      pinset_diag *diag)
{
    pinset_policy *channel = NULL, *old, *old_channel;
    pinset_err err;

    if (rep == NULL || policy == NULL) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "reporter: null argument");
    }
    /* derived here, on the caller's thread: the reporter's thread only swaps pointers */
    err = channel_policy(&channel, policy, diag);
    if (err != PINSET_OK) {
        return err;
    }
    (void)pthread_mutex_lock(&rep->mu);
    /* a policy set before and not adopted yet is replaced: the last one wins */
    old = rep->next_policy;
    old_channel = rep->next_channel;
    rep->next_policy = pinset_policy_ref(policy);
    rep->next_channel = channel;
    (void)pthread_cond_signal(&rep->wake);
    (void)pthread_mutex_unlock(&rep->mu);
    pinset_policy_free(old);
    pinset_policy_free(old_channel);
    return PINSET_OK;
}

void pinset_reporter_get_stats(pinset_reporter_stats *out, pinset_reporter *rep)
{
    if (out == NULL) {
        return;
    }
    if (rep == NULL) {
        memset(out, 0, sizeof(*out));
        out->version = PINSET_REPORTER_STATS_VERSION;
        return;
    }
    (void)pthread_mutex_lock(&rep->mu);
    fill_stats(out, rep);
    (void)pthread_mutex_unlock(&rep->mu);
}
