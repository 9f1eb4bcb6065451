/*
 * cmd_ct_watch.c - `pinset ct-watch --log URL --log-key FILE --policy FILE
 * --state DIR [--once]`: tail a Certificate Transparency log (RFC 6962, or
 * the static-CT API with --api static) and
 * alert on every certificate or precertificate for a pinned name whose key
 * is not among the rule's pins or backups (src/ct, docs/ct.md).
 *
 * Exit codes: 0 no alert; 1 alerts (unknown or blocked keys); 2 usage;
 * 3 input (policy, log key, state directory); 4 the log misbehaved (bad
 * tree-head signature, rewind, inconsistency, entries not in its tree) or
 * could not be read; 5 internal.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, nanosleep */

#include <ct/match.h>
#include <ct/merkle.h>
#include <ct/state.h>
#include <ct/sth.h>
#include <ct/watch.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <util/read.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "out.h"

enum {
    O_LOG,
    O_API,
    O_ORIGIN,
    O_LOG_KEY,
    O_POLICY,
    O_STATE,
    O_ONCE,
    O_INTERVAL,
    O_BATCH,
    O_SAVE_EVERY,
    O_TIMEOUT,
    O_FORMAT,
    O_END
};

static const opt_spec watch_opts[] = {
    [O_LOG] = {"log", 0, "URL", "the log's base URL (RFC 6962: URL/ct/v1/get-sth ...)"},
    [O_API] = {"api", 0, "API",
               "rfc6962 (default: get-sth, get-entries) or static (checkpoint and tiles)"},
    [O_ORIGIN] = {"origin", 0, "NAME",
                  "static: the checkpoint origin (default: --log without scheme and final /)"},
    [O_LOG_KEY] = {"log-key", 0, "FILE",
                   "the log's public key: PEM, or the base64 DER of a log list entry's key"},
    [O_POLICY] = {"policy", 'p', "FILE",
                  "the pin policy (any format pinset reads): its names are watched"},
    [O_STATE] = {"state", 0, "DIR", "where the position in each log is kept (created if missing)"},
    [O_ONCE] = {"once", 0, NULL, "one pass up to the current tree head, then exit"},
    [O_INTERVAL] = {"interval", 0, "SECONDS", "between passes without --once (default 60)"},
    [O_BATCH] = {"batch", 0, "N", "entries per get-entries request, 1 to 1000 (default 256)"},
    [O_SAVE_EVERY] = {"save-every", 0, "SECONDS",
                      "save the position at most this often in a pass (default 1; 0: every batch)"},
    [O_TIMEOUT] = {"timeout", 0, "SECONDS", "per HTTP request (default 30)"},
    [O_FORMAT] = {"format", 0, "FORMAT", "text (default) or json (JSON lines)"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_ct_watch_spec = {
    "ct-watch", "--log URL --log-key FILE --policy FILE --state DIR [--once]",
    "Watch a Certificate Transparency log for certificates on keys the policy does not pin.",
    watch_opts};

#define KEY_MAX    ((size_t)1 << 20)
#define POLICY_MAX ((size_t)256 * 1024 * 1024)

typedef struct run {
    const char *url;
    int json;
    int alerts;     /* findings and misbehaviour printed */
    int out_failed; /* stdout could not be written */
} run;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void emit_json(run *r, json_t *o)
{
    if (o == NULL || json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
        fputc('\n', stdout) == EOF) {
        r->out_failed = 1;
    }
    json_decref(o);
}

static void on_event(const ct_event *ev, void *payload)
{
    run *r = payload;
    char pin[PINSET_PIN_STR_MAX] = "";
    const char *type = ev->leaf == NULL                     ? NULL
                       : ev->leaf->type == CT_ENTRY_PRECERT ? "precert"
                                                            : "x509";

    if (ev->kind == CT_EV_UNREADABLE) {
        cli_err("ct-watch", "%s: entry %llu: unreadable, not checked: %s", r->url,
                (unsigned long long)ev->index, ev->detail);
        if (r->json) {
            json_t *o = json_object();

            out_json_set(o, "event", json_string(ev->alert));
            out_json_set(o, "log", out_json_str(r->url));
            out_json_set(o, "index", json_integer((json_int_t)ev->index));
            out_json_set(o, "detail", out_json_str(ev->detail));
            emit_json(r, o);
        }
        return;
    }
    r->alerts++;
    if (ev->kind == CT_EV_MISBEHAVED) {
        if (r->json) {
            json_t *o = json_object();

            out_json_set(o, "alert", json_string(ev->alert));
            out_json_set(o, "log", out_json_str(r->url));
            out_json_set(o, "detail", out_json_str(ev->detail));
            emit_json(r, o);
        } else {
            printf("ALERT %s log=", ev->alert);
            out_safe(stdout, r->url);
            printf(": %s\n", ev->detail);
        }
        return;
    }
    if (pinset_pin_format(pin, sizeof(pin), &ev->finding->spki, PINSET_PIN_FMT_BASE64) !=
        PINSET_OK) {
        pin[0] = '\0';
    }
    if (r->json) {
        json_t *o = json_object();

        out_json_set(o, "alert", json_string(ev->alert));
        out_json_set(o, "log", out_json_str(r->url));
        out_json_set(o, "index", json_integer((json_int_t)ev->index));
        out_json_set(o, "entry_type", json_string(type));
        out_json_set(o, "timestamp", json_integer((json_int_t)ev->leaf->timestamp));
        out_json_set(o, "name", out_json_str(ev->finding->name));
        out_json_set(o, "name_from", json_string(ev->finding->from_cn ? "cn" : "san"));
        out_json_set(o, "rule", out_json_str(ev->finding->rule));
        out_json_set(o, "spki_sha256", json_string(pin));
        emit_json(r, o);
        return;
    }
    printf("ALERT %s log=", ev->alert);
    out_safe(stdout, r->url);
    printf(" index=%llu type=%s name=", (unsigned long long)ev->index, type);
    out_safe(stdout, ev->finding->name);
    printf(" rule=");
    out_safe(stdout, ev->finding->rule);
    printf(" spki=%s\n", pin);
}

static void summary(run *r, const ct_watch_result *res)
{
    if (r->json) {
        json_t *o = json_object();

        out_json_set(o, "log", out_json_str(r->url));
        out_json_set(o, "tree_size", json_integer((json_int_t)res->tree_size));
        out_json_set(o, "start", json_integer((json_int_t)res->start));
        out_json_set(o, "end", json_integer((json_int_t)res->end));
        out_json_set(o, "watched", json_integer((json_int_t)res->watched));
        out_json_set(o, "alerts", json_integer((json_int_t)res->findings));
        out_json_set(o, "unreadable", json_integer((json_int_t)res->unreadable));
        emit_json(r, o);
    } else {
        out_safe(stdout, r->url);
        printf(": tree_size %llu, entries %llu..%llu checked, %llu watched, %llu alerts, %llu "
               "unreadable\n",
               (unsigned long long)res->tree_size, (unsigned long long)res->start,
               (unsigned long long)res->end, (unsigned long long)res->watched,
               (unsigned long long)res->findings, (unsigned long long)res->unreadable);
    }
}

static int read_key(ct_log_key *key, const char *path)
{
    struct pinset__buf b;
    pinset_diag d;
    char why[256];
    int rc;

    pinset_diag_init(&d);
    d.input = path;
    if (pinset__read_path(&b, path, KEY_MAX, 30000, 0, &d) != PINSET_OK) {
        pinset__buf_free(&b);
        cli_err_diag("ct-watch", &d);
        return EXIT_INPUT;
    }
    rc = ct_log_key_parse(key, b.p != NULL ? b.p : (const uint8_t *)"", b.len, why, sizeof(why));
    pinset__buf_free(&b);
    if (rc != 0) {
        cli_err("ct-watch", "%s: %s", path, why);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

static void sleep_ms(unsigned int ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

typedef struct ct_args {
    const char *log, *key, *policy, *state, *origin;
    int once, json, api;
    unsigned int interval_ms, timeout_ms, save_every_ms;
    unsigned long batch;
} ct_args;

static int watch(const ct_args *a)
{
    ct_log_key key;
    pinset_policy *policy = NULL;
    ct_check *check = NULL;
    ct_store *store = NULL;
    pinset_diag d;
    char err[1024] = "";
    run r = {a->log, a->json, 0, 0};
    int rc, worst = EXIT_OK;

    memset(&key, 0, sizeof(key));
    if ((rc = read_key(&key, a->key)) != EXIT_OK) {
        return rc;
    }
    pinset_diag_init(&d);
    d.input = cli_is_stdin(a->policy) ? CLI_STDIN_NAME : a->policy;
    if (cli_policy_read(&policy, "ct-watch", a->policy, POLICY_MAX, NULL, &d) != PINSET_OK) {
        cli_err_diag("ct-watch", &d);
        rc = EXIT_INPUT;
        goto out;
    }
    if (ct_check_new(&check, policy) != 0) {
        rc = EXIT_INTERNAL;
        goto out;
    }
    if (ct_store_dir_open(&store, a->state, err, sizeof(err)) != 0) {
        cli_err("ct-watch", "%s", err);
        rc = EXIT_INPUT;
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = EXIT_INTERNAL;
        goto out;
    }
    for (;;) {
        ct_watch_opts o = {
            a->log,        (ct_api)a->api,  a->origin, &key, check, store, (unsigned int)a->batch,
            a->timeout_ms, a->save_every_ms};
        ct_watch_result res;
        int pass;

        r.alerts = 0;
        pass = ct_watch_pass(&o, on_event, &r, &res, err, sizeof(err));
        if (pass == CT_WATCH_OK) {
            summary(&r, &res);
            rc = r.alerts > 0 ? EXIT_NEGATIVE : EXIT_OK;
        } else {
            if (err[0] != '\0') {
                cli_err("ct-watch", "%s", err);
            }
            rc = pass == CT_WATCH_LOG     ? EXIT_NETWORK
                 : pass == CT_WATCH_INPUT ? EXIT_INPUT
                                          : EXIT_INTERNAL;
        }
        err[0] = '\0';
        if (fflush(stdout) != 0 || r.out_failed) {
            rc = worst = cli_output_failed("ct-watch");
            break;
        }
        if (rc > worst) {
            worst = rc;
        }
        if (a->once || stop_requested) {
            break;
        }
        sleep_ms(a->interval_ms);
        if (stop_requested) {
            break;
        }
    }
    rc = a->once ? rc : worst;
    curl_global_cleanup();
out:
    if (store != NULL) {
        store->free(store);
    }
    ct_check_free(check);
    pinset_policy_free(policy);
    ct_log_key_free(&key);
    ct_merkle_cleanup();
    return rc;
}

int cmd_ct_watch(int argc, char **argv)
{
    ct_args a = {NULL, NULL, NULL, NULL, NULL, 0, 0, CT_API_RFC6962, 60000, 30000, CT_SAVE_EVERY_MS,
                 256};
    char origin[1024];
    struct sigaction sa;
    const char *v;
    opt_state st;
    int r;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_ct_watch_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_ct_watch_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            return opt_usage_error(&cmd_ct_watch_spec, "unexpected argument '%s'", v);
        case O_LOG:
            a.log = v;
            break;
        case O_API:
            if (strcmp(v, "rfc6962") != 0 && strcmp(v, "static") != 0) {
                return opt_usage_error(&cmd_ct_watch_spec, "--api '%s': expected rfc6962 or static",
                                       v);
            }
            a.api = strcmp(v, "static") == 0 ? CT_API_STATIC : CT_API_RFC6962;
            break;
        case O_ORIGIN:
            a.origin = v;
            break;
        case O_LOG_KEY:
            a.key = v;
            break;
        case O_POLICY:
            a.policy = v;
            break;
        case O_STATE:
            a.state = v;
            break;
        case O_ONCE:
            a.once = 1;
            break;
        case O_INTERVAL:
            if (opt_parse_seconds(v, &a.interval_ms) != 0) {
                return opt_usage_error(&cmd_ct_watch_spec, "--interval '%s': expected seconds", v);
            }
            break;
        case O_TIMEOUT:
            if (opt_parse_seconds(v, &a.timeout_ms) != 0) {
                return opt_usage_error(&cmd_ct_watch_spec, "--timeout '%s': expected seconds", v);
            }
            break;
        case O_BATCH:
            if (opt_parse_uint(v, 1000, &a.batch) != 0 || a.batch == 0) {
                return opt_usage_error(&cmd_ct_watch_spec, "--batch '%s': expected 1 to 1000", v);
            }
            break;
        case O_SAVE_EVERY:
            if (strcmp(v, "0") == 0) {
                a.save_every_ms = 0;
            } else if (opt_parse_seconds(v, &a.save_every_ms) != 0) {
                return opt_usage_error(&cmd_ct_watch_spec,
                                       "--save-every '%s': expected seconds, or 0", v);
            }
            break;
        case O_FORMAT:
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                return opt_usage_error(&cmd_ct_watch_spec, "--format '%s': expected text or json",
                                       v);
            }
            a.json = strcmp(v, "json") == 0;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (a.log == NULL || a.key == NULL || a.policy == NULL || a.state == NULL) {
        return opt_usage_error(&cmd_ct_watch_spec, "%s is required",
                               a.log == NULL      ? "--log"
                               : a.key == NULL    ? "--log-key"
                               : a.policy == NULL ? "--policy"
                                                  : "--state");
    }
    if (a.origin == NULL) {
        /* static-ct-api: the origin is the submission prefix without scheme and final slash. */
        const char *p = strstr(a.log, "://");
        size_t n;

        snprintf(origin, sizeof(origin), "%s", p != NULL ? p + 3 : a.log);
        n = strlen(origin);
        while (n > 0 && origin[n - 1] == '/') {
            origin[--n] = '\0';
        }
        a.origin = origin;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (!a.once) {
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)sigaction(SIGINT, &sa, NULL);
    }
    return watch(&a);
}
