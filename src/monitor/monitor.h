/*
 * monitor.h - `pinset monitor` (docs/monitor.md): rounds of `check`'s probe
 * (check_run.h) over an inventory, the state of each host kept in the store
 * (store.h's mon_* functions), alerts on change, delivered by alert.c, and
 * the HTTP side (http.c: /metrics, /healthz, the status page).
 *
 * Threads: the command's main thread handles signals and starts one round
 * thread at a time; the HTTP server's threads read the last round's
 * snapshot under mon->lock. The store is used by the round thread only.
 */
#ifndef PINSET_MONITOR_MONITOR_H
#define PINSET_MONITOR_MONITOR_H

#include <monitor/config.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <store/store.h>

/* Which expiries are under their thresholds (store_mon_host.expiry_flags). */
#define MON_EXP_LEAF 1 /* the served leaf certificate */
#define MON_EXP_PINS 2 /* the rule's pins (their not_after) */
#define MON_EXP_RULE 4 /* the rule itself (expires) */

enum mon_alert_kind {
    MA_PIN_DRIFT,
    MA_NEW_FAILURE,
    MA_EXPIRY,
    MA_BACKUP_LIVE,
    MA_CT_FINDING,       /* a CT log holds a certificate for a pinned name on a key not pinned */
    MA_CT_LOG,           /* a CT log broke (misbehaved or could not be read), or broke otherwise */
    MA_CT_LOG_RECOVERED, /* a CT log that was broken was read without fault */
    MA_RECOVERED,        /* a host whose result was FAIL or ERROR is neither now */
    MA_N
};
extern const char *const mon_alert_kind_names[MA_N];

/* The state of one host: what a round saw (owned strings). */
typedef struct mon_host {
    char *host;
    unsigned int port;
    char outcome[24];
    char matched[48]; /* the pin that decided, base64; "" none */
    char leaf[48];    /* the served leaf's spki pin; "" none */
    char backup[48];  /* a role-backup pin seen live; "" none */
    char error[128];
    int64_t leaf_not_after, pins_not_after, rule_expires;
    int flags; /* MON_EXP_* */
    int64_t last_change, last_round;
} mon_host;

/* The state of one CT log: what the last round saw (owned strings; store_mon_log). */
typedef struct mon_log {
    char *url;
    char broken[48];  /* "" worked; else why not: log-bad-signature, log-unreadable, ... */
    char detail[256]; /* the reason in words */
    int64_t since, last_round;
} mon_log;

/* The last finished round, as the HTTP side shows it. */
typedef struct mon_snapshot {
    mon_host *hosts; /* by host, then port */
    size_t n;
} mon_snapshot;

typedef struct mon {
    mon_config cfg; /* the configuration in force (swapped between rounds) */
    store *db;
    char shard[32]; /* "I/N" */
    mon_host *prev; /* the stored state of this shard's hosts, by host then port */
    size_t nprev;
    mon_log *logs; /* the stored state of this shard's CT logs, by URL (round thread only) */
    size_t nlogs;
    /* shared with the HTTP threads, under lock */
    pthread_mutex_t lock;
    mon_snapshot snap;
    int64_t last_start, last_finish; /* of the last round that finished; 0 none */
    uint64_t rounds_ok, rounds_failed, rounds_abandoned;
    uint64_t alerts[MA_N], alerts_failed;
    size_t alerts_pending; /* in the outbox at its last look */
    double last_duration;
    int in_round;          /* a round is running (set and cleared by mon_round) */
    unsigned int interval; /* copy of cfg.interval for /healthz */
    /* set by the main thread: results of the round in progress are thrown away */
    atomic_int abandon;
    struct mon_outbox *outbox; /* woken after each round's commit; NULL: none (set before rounds) */
} mon;

/* Load the stored state of m->shard's hosts into m->prev, of its CT logs into m->logs. 0 or -1
   with err. */
int mon_load_state(mon *m, char *err, size_t cap);

/*
 * One round: every inventory's probe, the comparison with the stored state,
 * the alerts (stored pending with the round, then m->outbox woken: it
 * delivers them). `now` is the round's
 * start. Returns 0, or -1 with the reason in err (the stored state is then
 * unchanged). A round abandoned meanwhile (m->abandon) changes nothing and
 * returns 1.
 */
int mon_round(mon *m, int64_t now, char *err, size_t cap);

void mon_free_hosts(mon_host *h, size_t n);
void mon_free_logs(mon_log *l, size_t n);

/* The Prometheus text of the monitor's state into a malloc'd string (NULL: out of memory). */
char *mon_metrics(mon *m);
/* The status page (HTML) appended to b (pinset__buf_init'd by the caller). 0, or -1 when it does
   not fit or memory ran out. */
struct pinset__buf;
int mon_status_page(mon *m, int64_t now, struct pinset__buf *b);

/* ---- outbox.c: the alerts' delivery, off the round's path (see there) ---- */
typedef struct mon_outbox mon_outbox;
/* Open a store handle of its own on m->cfg.db and start the delivery thread, which first delivers
   what an earlier process left pending. 0, or -1 with err. */
int mon_outbox_start(mon_outbox **out, mon *m, char *err, size_t cap);
/* The sinks' settings of cfg from the next look on (after SIGHUP). */
void mon_outbox_config(mon_outbox *o, const mon_config *cfg);
/* New alerts are pending (a round committed). */
void mon_outbox_kick(mon_outbox *o);
/* Whether the last look found nothing pending and nothing came since (for --once). */
int mon_outbox_idle(mon_outbox *o);
/* Stop it: a webhook in flight is aborted; waits until `deadline` (CLOCK_MONOTONIC seconds).
   0 stopped and freed; -1 still busy (a command hook): the caller exits without it. */
int mon_outbox_stop(mon_outbox *o, double deadline);

/* ---- http.c ---- */
typedef struct mon_http mon_http;
struct httpd_tls;
/*
 * Serve /metrics, /healthz and / on listen (ADDR:PORT), over HTTPS when tls
 * is not NULL (its key is wiped once the daemon has it). 0, or -1 with err.
 */
int mon_http_start(mon_http **out, mon *m, const char *listen, struct httpd_tls *tls, char *err,
                   size_t cap);
unsigned int mon_http_port(const mon_http *h);
void mon_http_stop(mon_http *h);

#endif /* PINSET_MONITOR_MONITOR_H */
