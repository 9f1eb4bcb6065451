/*
 * cmd_monitor.c - `pinset monitor --config FILE`: rounds of `check` over an
 * inventory, history in the store, alerts on change, /metrics, /healthz and
 * a status page (src/monitor, docs/monitor.md).
 *
 * It runs in the foreground. SIGHUP reloads the configuration (a bad one is
 * refused and the one in force kept; it applies from the next round);
 * SIGTERM or SIGINT stops: the round in progress finishes, or is abandoned
 * after stop_deadline_seconds; the exit status is then 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <errno.h>
#include <monitor/config.h>
#include <monitor/monitor.h>
#include <pthread.h>
#include <serve/httpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <store/store.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_out.h"
#include "cmd.h"
#include "common.h"
#include "targets.h"

enum { MO_CONFIG, MO_DB, MO_SHARD, MO_LISTEN, MO_ONCE, MO_CHECK_CONFIG, MO_TLS_CERT, MO_TLS_KEY };

static const opt_spec monitor_opts[] = {
    [MO_CONFIG] = {"config", 'c', "FILE", "the monitor's configuration (JSON; required)"},
    [MO_DB] = {"db", 0, "PATH|URL", "the state database (overrides \"db\"): a SQLite file"},
    [MO_SHARD] = {"shard", 0, "I/N",
                  "watch only the hosts whose index mod N is I (overrides \"shard\")"},
    [MO_LISTEN] = {"listen", 'l', "ADDR:PORT",
                   "serve /metrics, /healthz and / here (overrides \"listen\")"},
    [MO_ONCE] = {"once", 0, "N", "run N rounds one after the other, then exit"},
    [MO_CHECK_CONFIG] = {"check-config", 0, NULL,
                         "check the configuration, its policies, targets and TLS files, then exit"},
    [MO_TLS_CERT] = {"tls-cert", 0, "FILE",
                     "serve HTTPS with this PEM certificate chain (overrides \"tls_cert\")"},
    [MO_TLS_KEY] = {"tls-key", 0, "FILE",
                    "the PEM private key of --tls-cert (overrides \"tls_key\")"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_monitor_spec = {
    "monitor", "--config FILE [options]",
    "Watch servers against their pin policy: rounds of check, history, alerts on change.",
    monitor_opts};

typedef struct monitor_args {
    const char *config, *db, *shard, *listen, *tls_cert, *tls_key;
    unsigned long once;
    int check_only;
} monitor_args;

static int parse_args(monitor_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r;

    memset(a, 0, sizeof(*a));
    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_monitor_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_monitor_spec);
            return -1;
        case OPT_POSITIONAL:
            return opt_usage_error(&cmd_monitor_spec, "unexpected argument '%s'", v);
        case MO_CONFIG:
            a->config = v;
            break;
        case MO_DB:
            a->db = v;
            break;
        case MO_SHARD: {
            unsigned long i, n;
            if (mon_parse_shard(v, &i, &n) != 0) {
                return opt_usage_error(&cmd_monitor_spec,
                                       "--shard '%s': expected I/N with 0 <= I < N <= 1000000", v);
            }
            a->shard = v;
            break;
        }
        case MO_LISTEN:
            a->listen = v;
            break;
        case MO_ONCE:
            if (opt_parse_uint(v, 1000000, &a->once) != 0 || a->once == 0) {
                return opt_usage_error(&cmd_monitor_spec, "--once wants 1 to 1000000, got '%s'", v);
            }
            break;
        case MO_CHECK_CONFIG:
            a->check_only = 1;
            break;
        case MO_TLS_CERT:
            a->tls_cert = v;
            break;
        case MO_TLS_KEY:
            a->tls_key = v;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (a->config == NULL) {
        return opt_usage_error(&cmd_monitor_spec, "--config FILE is required");
    }
    if ((a->tls_cert == NULL) != (a->tls_key == NULL)) {
        return opt_usage_error(&cmd_monitor_spec, "--tls-cert and --tls-key go together");
    }
    return EXIT_OK;
}

/* ---- the configuration: loaded, overridden by the command line, checked ---- */

static int set_str(char **dst, const char *v)
{
    char *p = strdup(v);

    if (p == NULL) {
        return -1;
    }
    free(*dst);
    *dst = p;
    return 0;
}

/* Every inventory's policy and targets files read as a round will (nothing is probed). */
static int check_inputs(const mon_config *cfg, const char *file, char *err, size_t cap)
{
    for (size_t i = 0; i < cfg->ninv; i++) {
        pinset_policy *p = NULL;
        target_list tl = TARGET_LIST_INIT;
        char msg[400];
        int rc = 0;

        if (chk_load_policy_msg("monitor", cfg->inv[i].policy, NULL, &p, msg, 0) != 0) {
            snprintf(err, cap, "%s: inventory[%zu].policy: cannot be read (above)", file, i);
            return -1;
        }
        for (size_t j = 0; j < cfg->inv[i].ntargets && rc == 0; j++) {
            rc = targets_load_file(&tl, cfg->inv[i].targets[j], NULL, 443, msg, sizeof(msg));
        }
        targets_free(&tl);
        pinset_policy_free(p);
        if (rc != 0) {
            snprintf(err, cap, "%s", msg);
            return -1;
        }
    }
    return 0;
}

static int load_config(mon_config *cfg, const monitor_args *a, char *err, size_t cap)
{
    if (mon_config_load(cfg, a->config, err, cap) != 0) {
        return -1;
    }
    if ((a->db != NULL && set_str(&cfg->db, a->db) != 0) ||
        (a->listen != NULL && set_str(&cfg->listen, a->listen) != 0) ||
        (a->tls_cert != NULL && set_str(&cfg->tls_cert, a->tls_cert) != 0) ||
        (a->tls_key != NULL && set_str(&cfg->tls_key, a->tls_key) != 0)) {
        snprintf(err, cap, "out of memory");
        mon_config_free(cfg);
        return -1;
    }
    if (a->shard != NULL) {
        mon_parse_shard(a->shard, &cfg->shard_i, &cfg->shard_n);
    }
    if (cfg->db == NULL) {
        snprintf(err, cap, "%s: db: no database: give \"db\" in the file or --db", a->config);
        mon_config_free(cfg);
        return -1;
    }
    if (cfg->listen != NULL) {
        struct sockaddr_storage ss;
        size_t len;
        if (serve_parse_listen(cfg->listen, &ss, &len) != 0) {
            snprintf(err, cap, "%s: listen: '%s' is not ADDR:PORT or [ADDR6]:PORT", a->config,
                     cfg->listen);
            mon_config_free(cfg);
            return -1;
        }
    }
    if (cfg->tls_cert != NULL && cfg->listen == NULL) {
        snprintf(err, cap, "%s: tls_cert: HTTPS without an address: give \"listen\" or --listen",
                 a->config);
        mon_config_free(cfg);
        return -1;
    }
    if (check_inputs(cfg, a->config, err, cap) != 0) {
        mon_config_free(cfg);
        return -1;
    }
    return 0;
}

/* ---- the round thread ---- */

typedef struct round_job {
    mon *m;
    pthread_t thread;
    int64_t started;
    double mono_start;
    atomic_int done;
    int rc;
    char err[512];
} round_job;

static void *round_main(void *arg)
{
    round_job *j = arg;

    j->rc = mon_round(j->m, j->started, j->err, sizeof(j->err));
    atomic_store(&j->done, 1);
    return NULL;
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The round has ended: count it and say so. Returns its status (0 ok, 1 abandoned, -1 failed). */
static int round_ended(mon *m, round_job *j)
{
    pthread_join(j->thread, NULL);
    if (j->rc == 0) {
        fprintf(stderr, "pinset: monitor: round done: %zu hosts in %.1f s\n", m->nprev,
                mono() - j->mono_start);
    } else if (j->rc == 1) {
        cli_err("monitor", "round abandoned: its results were not kept");
    } else {
        cli_err("monitor", "round failed: %s", j->err);
    }
    return j->rc;
}

static void apply_config(mon *m, mon_config *next)
{
    /* db, shard, listen and the TLS files are the process's: they take effect at a restart */
    char *db = m->cfg.db, *listen = m->cfg.listen;
    char *tls_cert = m->cfg.tls_cert, *tls_key = m->cfg.tls_key;
    unsigned long si = m->cfg.shard_i, sn = m->cfg.shard_n;

    m->cfg.db = NULL;
    m->cfg.listen = NULL;
    m->cfg.tls_cert = NULL;
    m->cfg.tls_key = NULL;
    mon_config_free(&m->cfg);
    free(next->db);
    free(next->listen);
    free(next->tls_cert);
    free(next->tls_key);
    m->cfg = *next;
    m->cfg.db = db;
    m->cfg.listen = listen;
    m->cfg.tls_cert = tls_cert;
    m->cfg.tls_key = tls_key;
    m->cfg.shard_i = si;
    m->cfg.shard_n = sn;
    memset(next, 0, sizeof(*next));
    pthread_mutex_lock(&m->lock);
    m->interval = m->cfg.interval;
    pthread_mutex_unlock(&m->lock);
    mon_outbox_config(m->outbox, &m->cfg);
}

typedef struct loop_state {
    round_job job;
    int running, stopping, have_next;
    mon_config next;
    double next_start, stop_at;
    unsigned long rounds;
    int failed;
} loop_state;

static void reload(loop_state *ls, const monitor_args *a)
{
    mon_config cfg;
    char err[512];

    if (load_config(&cfg, a, err, sizeof(err)) != 0) {
        cli_err("monitor", "SIGHUP: configuration refused, the one in force is kept: %s", err);
        return;
    }
    if (ls->have_next) {
        mon_config_free(&ls->next);
    }
    ls->next = cfg;
    ls->have_next = 1;
    fprintf(stderr, "pinset: monitor: SIGHUP: configuration reloaded (from the next round)\n");
}

static int run_loop(mon *m, const monitor_args *a, const sigset_t *set)
{
    loop_state ls;

    memset(&ls, 0, sizeof(ls));
    ls.next_start = mono();
    for (;;) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        double now = mono();
        int sig;

        if (!ls.running && ls.have_next) {
            apply_config(m, &ls.next);
            ls.have_next = 0;
        }
        /* with --once, the alerts delivered (or given up) before the exit */
        if (!ls.running &&
            (ls.stopping || (a->once != 0 && ls.rounds >= a->once && mon_outbox_idle(m->outbox)))) {
            break;
        }
        if (!ls.running && now >= ls.next_start && (a->once == 0 || ls.rounds < a->once)) {
            memset(&ls.job, 0, sizeof(ls.job));
            ls.job.m = m;
            ls.job.started = (int64_t)time(NULL);
            ls.job.mono_start = now;
            atomic_store(&m->abandon, 0);
            if (pthread_create(&ls.job.thread, NULL, round_main, &ls.job) != 0) {
                cli_err("monitor", "cannot start a round thread");
                return EXIT_INTERNAL;
            }
            ls.running = 1;
            ls.next_start = a->once != 0 ? now : now + m->cfg.interval;
        }
        sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGHUP) {
            reload(&ls, a);
        } else if ((sig == SIGTERM || sig == SIGINT) && !ls.stopping) {
            ls.stopping = 1;
            ls.stop_at = mono() + m->cfg.stop_deadline;
            fprintf(stderr, "pinset: monitor: %s: stopping%s\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM",
                    ls.running ? " after the round in progress" : "");
        }
        if (ls.running && atomic_load(&ls.job.done)) {
            ls.running = 0;
            ls.rounds++;
            ls.failed |= round_ended(m, &ls.job) < 0;
        } else if (ls.running && !atomic_load(&m->abandon) &&
                   mono() - ls.job.mono_start > (double)m->cfg.round_deadline) {
            atomic_store(&m->abandon, 1);
            cli_err("monitor", "round over its deadline (%u s): abandoned", m->cfg.round_deadline);
        }
        if (ls.stopping && ls.running && mono() >= ls.stop_at) {
            /* the probes in flight cannot be cut short: leave without them (nothing was stored) */
            cli_err("monitor", "stop deadline (%u s) reached: the round in progress is abandoned",
                    m->cfg.stop_deadline);
            fflush(NULL);
            _exit(EXIT_OK);
        }
    }
    if (ls.have_next) {
        mon_config_free(&ls.next);
    }
    /* the outbox: a webhook in flight aborted, a command hook waited for until the stop deadline */
    if (mon_outbox_stop(m->outbox, ls.stopping ? ls.stop_at : mono() + m->cfg.stop_deadline) != 0) {
        cli_err("monitor",
                "stop deadline (%u s) reached: alerts still pending are delivered at "
                "the next start",
                m->cfg.stop_deadline);
        fflush(NULL);
        _exit(a->once != 0 && ls.failed ? EXIT_INPUT : EXIT_OK);
    }
    m->outbox = NULL;
    return a->once != 0 && ls.failed ? EXIT_INPUT : EXIT_OK;
}

/* ---- the command ---- */

static int open_store(mon *m, const char *config)
{
    char err[512], shown[512];
    const char *db = store_target_shown(m->cfg.db, shown, sizeof(shown)); /* no password */

    if (store_open(&m->db, m->cfg.db, 0, err, sizeof(err)) != 0) {
        cli_err("monitor", "%s: db %s: %s", config, db, err);
        return EXIT_INPUT;
    }
    if (!store_mon_ready(m->db)) {
        cli_err("monitor", "db %s: the %s backend does not keep the monitor's tables yet", db,
                m->db->ops->name);
        return EXIT_INPUT;
    }
    if (mon_load_state(m, err, sizeof(err)) != 0) {
        cli_err("monitor", "db %s: %s", db, err);
        return EXIT_INPUT;
    }
    return 0;
}

int cmd_monitor(int argc, char **argv)
{
    monitor_args a;
    mon *m = NULL;
    mon_http *http = NULL;
    httpd_tls tls;
    sigset_t set;
    char err[512];
    int rc;

    rc = parse_args(&a, argc, argv);
    if (rc != EXIT_OK) {
        return rc < 0 ? EXIT_OK : rc;
    }
    memset(&tls, 0, sizeof(tls));
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        cli_err("monitor", "out of memory");
        return EXIT_INTERNAL;
    }
    pthread_mutex_init(&m->lock, NULL);
    if (load_config(&m->cfg, &a, err, sizeof(err)) != 0) {
        cli_err("monitor", "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    if (m->cfg.tls_cert != NULL &&
        httpd_tls_load(&tls, m->cfg.tls_cert, m->cfg.tls_key, err, sizeof(err)) != 0) {
        cli_err("monitor", "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    if (a.check_only) {
        printf("%s: ok (%zu inventories)\n", a.config, m->cfg.ninv);
        rc = fflush(stdout) != 0 ? cli_output_failed("monitor") : EXIT_OK;
        goto out;
    }
    snprintf(m->shard, sizeof(m->shard), "%lu/%lu", m->cfg.shard_i, m->cfg.shard_n);
    m->interval = m->cfg.interval;
    rc = open_store(m, a.config);
    if (rc != 0) {
        goto out;
    }
    /* every thread started from here on inherits the mask: only sigtimedwait sees these */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (m->cfg.listen != NULL) {
        int https = m->cfg.tls_cert != NULL;
        if (mon_http_start(&http, m, m->cfg.listen, https ? &tls : NULL, err, sizeof(err)) != 0) {
            cli_err("monitor", "%s", err);
            rc = EXIT_NETWORK;
            goto out;
        }
        httpd_url(err, sizeof(err), m->cfg.listen, mon_http_port(http), https);
        printf("listening on %s/\n", err);
        if (fflush(stdout) != 0) {
            rc = cli_output_failed("monitor");
            goto out;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_err("monitor", "cannot initialise libcurl");
        rc = EXIT_INTERNAL;
        goto out;
    }
    /* after curl_global_init (not thread-safe) and the signal mask (inherited) */
    if (mon_outbox_start(&m->outbox, m, err, sizeof(err)) != 0) {
        cli_err("monitor", "outbox: %s", err);
        curl_global_cleanup();
        rc = EXIT_INPUT;
        goto out;
    }
    rc = run_loop(m, &a, &set);
    curl_global_cleanup();
out:
    mon_http_stop(http);
    httpd_tls_free(&tls);
    if (m != NULL) {
        store_close(m->db);
        mon_free_hosts(m->prev, m->nprev);
        mon_free_logs(m->logs, m->nlogs);
        mon_config_free(&m->cfg);
        pthread_mutex_destroy(&m->lock);
        free(m);
    }
    return rc;
}
