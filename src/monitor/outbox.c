/*
 * outbox.c - the alerts' outbox (monitor.h): delivery off the round's path,
 * durable across a crash.
 *
 * A round stores its alerts pending (store_mon_alert.pending: the sinks still
 * to take each) in the transaction that stores its state, then wakes this
 * thread. The thread has a store handle of its own (a store is used by one
 * thread at a time); it reads the outbox, gives each due alert to each
 * pending sink, one at a time, and marks the alert after each sink that took
 * it. So every alert reaches every sink at least once: a crash between a
 * sink's taking it and the mark gives that sink the alert again at the next
 * start (the alert_id in the document lets a receiver drop the duplicate),
 * and no alert is lost. At start-up every pending alert is tried at once
 * (its backoff was the last process's). Retries: the webhook is tried again after a failure,
 * backoff_ms then twice as long each time (at most 10 minutes), until
 * retries + 1 attempts or give_up_seconds after the alert's round, then
 * given up (counted, recorded in the row); the JSON-lines file and the
 * command hook are tried once, given up on a failure. A stop aborts a
 * webhook transfer in flight; what is pending stays so for the next start.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <monitor/alert.h>
#include <monitor/monitor.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* The longest wait between two looks at the outbox, milliseconds (a kick ends it sooner). */
#define OUTBOX_POLL_MS  60000
#define OUTBOX_MAX_WAIT 600000 /* the longest backoff, milliseconds */

struct mon_outbox {
    mon *m;
    store *db;
    char shard[32];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    mon_config cfg;  /* the thread's copy of the sinks' settings */
    mon_config next; /* a newer one (have_next), taken at the next look */
    int have_next, kicked, idle;
    int looked; /* a look has ended: the first, at start-up, takes every pending alert as due */
    atomic_int stop, done;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *p = s != NULL ? strdup(s) : NULL;

    *oom |= s != NULL && p == NULL;
    return p;
}

/* The sinks' settings of src into dst (a mon_config that mon_config_free releases). 0 or -1. */
static int copy_sinks(mon_config *dst, const mon_config *src)
{
    int oom = 0;

    memset(dst, 0, sizeof(*dst));
    dst->webhook_url = dup_or_null(src->webhook_url, &oom);
    dst->webhook_retries = src->webhook_retries;
    dst->webhook_backoff_ms = src->webhook_backoff_ms;
    dst->webhook_timeout = src->webhook_timeout;
    dst->webhook_give_up = src->webhook_give_up;
    for (size_t i = 0; src->command[i] != NULL && i < MON_MAX_ARGV; i++) {
        dst->command[i] = dup_or_null(src->command[i], &oom);
    }
    dst->command_timeout = src->command_timeout;
    dst->jsonl = dup_or_null(src->jsonl, &oom);
    dst->cafile = dup_or_null(src->cafile, &oom);
    if (oom) {
        mon_config_free(dst);
        return -1;
    }
    return 0;
}

/* The outbox's rows, copied (the store's strings live only in the callback). */
typedef struct row {
    int64_t id, next_attempt, time;
    int pending, attempts;
    char *body;
} row;

typedef struct rows {
    row *v;
    size_t n, cap;
} rows;

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].body);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static int take_row(const store_mon_outbox *a, void *payload)
{
    rows *r = payload;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        row *p = realloc(r->v, cap * sizeof(*p));
        if (p == NULL) {
            return -2;
        }
        r->v = p;
        r->cap = cap;
    }
    r->v[r->n] = (row){a->id, a->next_attempt, a->time, a->pending, a->attempts, strdup(a->body)};
    if (r->v[r->n].body == NULL) {
        return -2;
    }
    r->n++;
    return 0;
}

/* The wait after the n-th failed attempt (n >= 1), milliseconds. */
static int64_t backoff(const mon_config *cfg, int n)
{
    int64_t w = cfg->webhook_backoff_ms;

    for (int i = 1; i < n && w < OUTBOX_MAX_WAIT; i++) {
        w *= 2;
    }
    return w > OUTBOX_MAX_WAIT ? OUTBOX_MAX_WAIT : w;
}

/* One delivery given up (per alert and sink). */
static void count_given_up(mon_outbox *o)
{
    pthread_mutex_lock(&o->m->lock);
    o->m->alerts_failed++;
    pthread_mutex_unlock(&o->m->lock);
}

static void mark(mon_outbox *o, const row *r, int gave_up)
{
    char err[256];

    if (o->db->ops->mon_outbox_mark(o->db, r->id, r->pending, r->attempts, r->next_attempt, gave_up,
                                    (int64_t)time(NULL), err, sizeof(err)) != 0) {
        /* it stays pending: given again later (the alert_id tells the duplicate) */
        cli_err("monitor", "outbox: alert %lld: %s", (long long)r->id, err);
    }
}

/*
 * One alert: every pending sink of `which` that is due, one at a time, each marked after. An
 * attempt is counted in the pass that includes the webhook (or the only pass). Returns when it
 * is due next (milliseconds; 0: nothing left pending).
 */
static int64_t deliver(mon_outbox *o, row *r, int which, int counts)
{
    const mon_config *cfg = &o->cfg;
    int configured = mon_alert_sinks(cfg), gave_up = 0;

    if ((r->pending & ~configured) != 0) {
        /* a sink taken out of the configuration is not given what it had pending */
        r->pending &= configured;
        mark(o, r, 0);
    }
    if (r->pending == 0) {
        return 0;
    }
    if (o->looked && r->next_attempt > now_ms()) {
        return r->next_attempt;
    }
    if ((r->pending & which) == 0) {
        return r->pending != 0 ? r->next_attempt : 0;
    }
    if ((r->pending & which & MON_SINK_WEBHOOK) != 0 &&
        (int64_t)time(NULL) >= r->time + (int64_t)cfg->webhook_give_up) {
        /* too old for another attempt (it waited in the store while no monitor ran) */
        cli_err("monitor", "alert %lld: webhook: given up, %u seconds after its round",
                (long long)r->id, cfg->webhook_give_up);
        r->pending &= ~MON_SINK_WEBHOOK;
        mark(o, r, MON_SINK_WEBHOOK);
        count_given_up(o);
        return r->pending != 0 ? r->next_attempt : 0;
    }
    r->attempts += counts;
    for (int sink = MON_SINK_JSONL; sink <= MON_SINK_WEBHOOK && !atomic_load(&o->stop);
         sink <<= 1) {
        if ((r->pending & sink & which) == 0) {
            continue;
        }
        if (mon_alert_try(cfg, r->body, sink, &o->stop) == 0) {
            r->pending &= ~sink;
        } else if (atomic_load(&o->stop)) {
            r->attempts -= counts; /* cut short by the stop: not an attempt */
            break;
        } else if (sink != MON_SINK_WEBHOOK || r->attempts > (int)cfg->webhook_retries ||
                   (int64_t)time(NULL) >= r->time + (int64_t)cfg->webhook_give_up) {
            cli_err("monitor", "alert %lld: %s: given up after %d attempt%s", (long long)r->id,
                    sink == MON_SINK_JSONL     ? "jsonl"
                    : sink == MON_SINK_COMMAND ? "command hook"
                                               : "webhook",
                    sink == MON_SINK_WEBHOOK ? r->attempts : 1,
                    sink == MON_SINK_WEBHOOK && r->attempts != 1 ? "s" : "");
            r->pending &= ~sink;
            gave_up |= sink;
        } else {
            r->next_attempt = now_ms() + backoff(cfg, r->attempts);
        }
        mark(o, r, gave_up);
    }
    for (int sink = MON_SINK_JSONL; sink <= MON_SINK_WEBHOOK; sink <<= 1) {
        if ((gave_up & sink) != 0) {
            count_given_up(o);
        }
    }
    return r->pending != 0 ? r->next_attempt : 0;
}

/* One look at the outbox: what is due delivered. Returns when to look next (ms). */
static int64_t look(mon_outbox *o, size_t *left)
{
    rows r = {NULL, 0, 0};
    char err[256];
    int64_t next = now_ms() + OUTBOX_POLL_MS;
    int rc = o->db->ops->mon_outbox(o->db, o->shard, take_row, &r, err, sizeof(err));

    *left = 0;
    if (rc != 0) {
        cli_err("monitor", "outbox: %s", rc == -2 ? "out of memory" : err);
        rows_free(&r);
        *left = 1; /* not known to be empty */
        return now_ms() + 1000;
    }
    /* the local sinks of every alert first: a slow webhook does not hold them */
    for (size_t i = 0; i < r.n && !atomic_load(&o->stop); i++) {
        int webhook = (r.v[i].pending & mon_alert_sinks(&o->cfg) & MON_SINK_WEBHOOK) != 0;
        deliver(o, &r.v[i], MON_SINK_JSONL | MON_SINK_COMMAND, !webhook);
    }
    for (size_t i = 0; i < r.n && !atomic_load(&o->stop); i++) {
        int64_t due = deliver(o, &r.v[i], MON_SINK_WEBHOOK, 1);
        if (due != 0) {
            (*left)++;
            next = due < next ? due : next;
        }
    }
    pthread_mutex_lock(&o->m->lock);
    o->m->alerts_pending = *left;
    pthread_mutex_unlock(&o->m->lock);
    rows_free(&r);
    o->looked = !atomic_load(&o->stop);
    return next;
}

static void *outbox_main(void *arg)
{
    mon_outbox *o = arg;

    pthread_mutex_lock(&o->lock);
    while (!atomic_load(&o->stop)) {
        int64_t next, wait;
        size_t left;

        if (o->have_next) {
            mon_config_free(&o->cfg);
            o->cfg = o->next;
            memset(&o->next, 0, sizeof(o->next));
            o->have_next = 0;
        }
        o->kicked = 0;
        pthread_mutex_unlock(&o->lock);
        next = look(o, &left);
        pthread_mutex_lock(&o->lock);
        o->idle = left == 0 && !o->kicked;
        pthread_cond_broadcast(&o->cond);
        wait = next - now_ms();
        if (!o->kicked && !atomic_load(&o->stop) && wait > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(wait / 1000);
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&o->cond, &o->lock, &ts);
        }
    }
    pthread_mutex_unlock(&o->lock);
    atomic_store(&o->done, 1);
    return NULL;
}

int mon_outbox_start(mon_outbox **out, mon *m, char *err, size_t cap)
{
    mon_outbox *o = calloc(1, sizeof(*o));

    *out = NULL;
    if (o == NULL || copy_sinks(&o->cfg, &m->cfg) != 0) {
        free(o);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    o->m = m;
    snprintf(o->shard, sizeof(o->shard), "%s", m->shard);
    if (store_open(&o->db, m->cfg.db, 0, err, cap) != 0) {
        mon_config_free(&o->cfg);
        free(o);
        return -1;
    }
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->cond, NULL);
    if (pthread_create(&o->thread, NULL, outbox_main, o) != 0) {
        snprintf(err, cap, "cannot start the outbox thread");
        store_close(o->db);
        mon_config_free(&o->cfg);
        pthread_mutex_destroy(&o->lock);
        pthread_cond_destroy(&o->cond);
        free(o);
        return -1;
    }
    *out = o;
    return 0;
}

void mon_outbox_config(mon_outbox *o, const mon_config *cfg)
{
    mon_config next;

    if (o == NULL || copy_sinks(&next, cfg) != 0) {
        return;
    }
    pthread_mutex_lock(&o->lock);
    if (o->have_next) {
        mon_config_free(&o->next);
    }
    o->next = next;
    o->have_next = 1;
    o->kicked = 1;
    o->idle = 0;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

void mon_outbox_kick(mon_outbox *o)
{
    if (o == NULL) {
        return;
    }
    pthread_mutex_lock(&o->lock);
    o->kicked = 1;
    o->idle = 0;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

int mon_outbox_idle(mon_outbox *o)
{
    int idle;

    if (o == NULL) {
        return 1;
    }
    pthread_mutex_lock(&o->lock);
    idle = o->idle;
    pthread_mutex_unlock(&o->lock);
    return idle;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int mon_outbox_stop(mon_outbox *o, double deadline)
{
    if (o == NULL) {
        return 0;
    }
    pthread_mutex_lock(&o->lock);
    atomic_store(&o->stop, 1);
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
    /* a webhook in flight is aborted at once; a command hook runs to its timeout at most */
    while (!atomic_load(&o->done) && mono() < deadline) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    if (!atomic_load(&o->done)) {
        return -1; /* the caller leaves without it: what is pending stays in the store */
    }
    pthread_join(o->thread, NULL);
    store_close(o->db);
    mon_config_free(&o->cfg);
    if (o->have_next) {
        mon_config_free(&o->next);
    }
    pthread_mutex_destroy(&o->lock);
    pthread_cond_destroy(&o->cond);
    free(o);
    return 0;
}
