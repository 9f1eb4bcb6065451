/*
 * cmd_collect.c - `pinset collect`: receive pin-failure reports (RFC 7469
 * and TrustKit) over HTTP or HTTPS, classify them against a policy, keep
 * them in a database, and show them in a web view (src/serve, src/store).
 *
 * It prints one line on standard output when it listens ("listening on
 * URL"), then serves until SIGINT or SIGTERM, and exits 0 after finishing
 * the requests in progress. docs/collector.md describes the whole.
 */
#define _POSIX_C_SOURCE 200809L

#include <serve/server.h>
#include <signal.h>
#include <stdio.h>
#include <store/store.h>
#include <string.h>
#include <util/buf.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "netopt.h"

enum {
    COL_OPT_LISTEN,
    COL_OPT_DB,
    COL_OPT_POLICY,
    COL_OPT_CAFILE,
    COL_OPT_TLS_CERT,
    COL_OPT_TLS_KEY,
    COL_OPT_RATE,
    COL_OPT_BURST,
    COL_OPT_THREADS,
    COL_OPT_PAGE_RATE,
    COL_OPT_PAGE_BURST
};

static const opt_spec collect_opts[] = {
    {"listen", 'l', "ADDR:PORT",
     "address and port to listen on ([ADDR6]:PORT for IPv6; port 0: any free one)"},
    {"db", 0, "PATH|URL",
     "the report database: a SQLite file (created when missing) or a postgres:// URL"},
    {"policy", 'p', "FILE", "classify reports against this policy (any format pinset reads)"},
    {"cafile", 0, "FILE",
     "trust anchors that make a chain valid and public (default: the system's)"},
    {"tls-cert", 0, "FILE", "serve HTTPS with this PEM certificate chain"},
    {"tls-key", 0, "FILE",
     "the PEM private key of --tls-cert (unencrypted, not open to other users)"},
    {"rate", 0, "N", "reports per second per client network (/24, /48) (default 20)"},
    {"burst", 0, "N", "reports a client network may send at once (default 100)"},
    {"threads", 0, "N", "server threads (default 4)"},
    {"page-rate", 0, "N", "web pages (/, /host/NAME) per second per client network (default 2)"},
    {"page-burst", 0, "N", "web pages a client network may load at once (default 30)"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_collect_spec = {"collect", "--listen ADDR:PORT --db PATH|URL [options]",
                                   "Receive, classify and show pin-failure reports.", collect_opts};

#define COLLECT_MAX_POLICY ((size_t)256 * 1024 * 1024)

typedef struct collect_args {
    const char *listen, *db, *policy, *cafile, *tls_cert, *tls_key;
    unsigned long rate, burst, threads, page_rate, page_burst;
} collect_args;

static int parse_args(collect_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r;

    memset(a, 0, sizeof(*a));
    a->rate = 20;
    a->burst = 100;
    a->threads = 4;
    a->page_rate = SERVE_PAGE_RATE;
    a->page_burst = SERVE_PAGE_BURST;
    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_collect_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_collect_spec);
            return -1;
        case OPT_POSITIONAL:
            return opt_usage_error(&cmd_collect_spec, "unexpected argument '%s'", v);
        case COL_OPT_LISTEN:
            a->listen = v;
            break;
        case COL_OPT_DB:
            a->db = v;
            break;
        case COL_OPT_POLICY:
            a->policy = v;
            break;
        case COL_OPT_CAFILE:
            a->cafile = v;
            break;
        case COL_OPT_TLS_CERT:
            a->tls_cert = v;
            break;
        case COL_OPT_TLS_KEY:
            a->tls_key = v;
            break;
        case COL_OPT_RATE:
            if (opt_parse_uint(v, 1000000, &a->rate) != 0 || a->rate == 0) {
                return opt_usage_error(&cmd_collect_spec, "--rate wants 1 to 1000000, got '%s'", v);
            }
            break;
        case COL_OPT_BURST:
            if (opt_parse_uint(v, 1000000, &a->burst) != 0 || a->burst == 0) {
                return opt_usage_error(&cmd_collect_spec, "--burst wants 1 to 1000000, got '%s'",
                                       v);
            }
            break;
        case COL_OPT_THREADS:
            if (opt_parse_uint(v, 64, &a->threads) != 0 || a->threads == 0) {
                return opt_usage_error(&cmd_collect_spec, "--threads wants 1 to 64, got '%s'", v);
            }
            break;
        case COL_OPT_PAGE_RATE:
            if (opt_parse_uint(v, 1000000, &a->page_rate) != 0 || a->page_rate == 0) {
                return opt_usage_error(&cmd_collect_spec,
                                       "--page-rate wants 1 to 1000000, got '%s'", v);
            }
            break;
        case COL_OPT_PAGE_BURST:
            if (opt_parse_uint(v, 1000000, &a->page_burst) != 0 || a->page_burst == 0) {
                return opt_usage_error(&cmd_collect_spec,
                                       "--page-burst wants 1 to 1000000, got '%s'", v);
            }
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (a->listen == NULL) {
        return opt_usage_error(&cmd_collect_spec, "--listen is required");
    }
    {
        struct sockaddr_storage ss;
        size_t len;
        if (serve_parse_listen(a->listen, &ss, &len) != 0) {
            return opt_usage_error(&cmd_collect_spec,
                                   "--listen wants ADDR:PORT or [ADDR6]:PORT with a numeric "
                                   "address, got '%s'",
                                   a->listen);
        }
    }
    if (a->db == NULL) {
        return opt_usage_error(&cmd_collect_spec, "--db is required");
    }
    if ((a->tls_cert == NULL) != (a->tls_key == NULL)) {
        return opt_usage_error(&cmd_collect_spec, "--tls-cert and --tls-key go together");
    }
    return EXIT_OK;
}

static X509_STORE *trust_store(const char *cafile)
{
    X509_STORE *st;
    char why[300];

    /* a FIFO would block OpenSSL's read of the file */
    if (cafile != NULL && netopt_anchors_usable(cafile, 0, why, sizeof(why)) != 0) {
        return NULL;
    }
    st = X509_STORE_new();
    if (st == NULL) {
        return NULL;
    }
    ERR_set_mark();
    /* the system's anchors are loaded into memory once: the hashed directory lookup of
     * X509_STORE_set_default_paths reads the directory on every verification */
    if (X509_STORE_load_file(st, cafile != NULL ? cafile : X509_get_default_cert_file()) != 1 &&
        (cafile != NULL || X509_STORE_set_default_paths(st) != 1)) {
        ERR_pop_to_mark();
        X509_STORE_free(st);
        return NULL;
    }
    ERR_pop_to_mark();
    return st;
}

int cmd_collect(int argc, char **argv)
{
    collect_args a;
    serve_config cfg;
    httpd_tls tls;
    pinset_policy *policy = NULL;
    X509_STORE *trust = NULL;
    store *db = NULL;
    serve *srv = NULL;
    sigset_t set;
    char err[512], shown[512];
    int rc, sig = 0;

    rc = parse_args(&a, argc, argv);
    if (rc != EXIT_OK) {
        return rc < 0 ? EXIT_OK : rc;
    }
    memset(&tls, 0, sizeof(tls));
    rc = EXIT_INPUT;
    if (a.policy != NULL) {
        pinset_diag d = PINSET_DIAG_INIT;
        if (cli_policy_read(&policy, "collect", a.policy, COLLECT_MAX_POLICY, NULL, &d) !=
            PINSET_OK) {
            cli_err_diag("collect", &d);
            goto done;
        }
    }
    trust = trust_store(a.cafile);
    if (trust == NULL) {
        cli_err("collect", "%s: cannot load trust anchors",
                a.cafile != NULL ? a.cafile : "the system's trust store");
        goto done;
    }
    if (a.tls_cert != NULL && httpd_tls_load(&tls, a.tls_cert, a.tls_key, err, sizeof(err)) != 0) {
        cli_err("collect", "%s", err);
        goto done;
    }
    if (store_open(&db, a.db, 0, err, sizeof(err)) != 0) {
        cli_err("collect", "%s: %s", store_target_shown(a.db, shown, sizeof(shown)), err);
        goto done;
    }
    /* SIGINT and SIGTERM are taken by sigwait below; the server's threads inherit the mask */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    memset(&cfg, 0, sizeof(cfg));
    cfg.listen = a.listen;
    cfg.db = db;
    cfg.policy = policy;
    cfg.trust = trust;
    cfg.tls = a.tls_cert != NULL ? &tls : NULL;
    cfg.rate = (double)a.rate;
    cfg.burst = (unsigned int)a.burst;
    cfg.threads = (unsigned int)a.threads;
    cfg.page_rate = (double)a.page_rate;
    cfg.page_burst = (unsigned int)a.page_burst;
    if (serve_start(&srv, &cfg, err, sizeof(err)) != 0) {
        cli_err("collect", "%s", err);
        rc = EXIT_NETWORK;
        goto done;
    }
    httpd_url(shown, sizeof(shown), a.listen, serve_port(srv), a.tls_cert != NULL);
    printf("listening on %s\n", shown);
    if (fflush(stdout) != 0) {
        rc = cli_output_failed("collect");
        goto done;
    }
    while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM)) {
    }
    fprintf(stderr, "pinset: collect: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = EXIT_OK;
done:
    serve_stop(srv);
    store_close(db);
    X509_STORE_free(trust);
    pinset_policy_free(policy);
    httpd_tls_free(&tls);
    return rc;
}
