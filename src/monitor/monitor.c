/*
 * monitor.c - the monitor's rounds (monitor.h): check's probe over each
 * inventory, the comparison with the stored state of each host, the alerts,
 * and what /metrics and the status page show.
 *
 * An alert is raised once per change: the state that raised it is stored
 * with the round, so the next round (and the next process) compares with it.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <monitor/alert.h>
#include <monitor/monitor.h>
#include <serve/web.h>
#include <stdio.h>
#include <stdlib.h>
#include <store/ct_pos.h>
#include <string.h>
#include <util/buf.h>
#include <util/read.h>
#include <util/rfc3339.h>

#include <openssl/rand.h>

#include "check_run.h"
#include "common.h"
#include "ct/match.h"
#include "ct/merkle.h"
#include "ct/state.h"
#include "ct/watch.h"
#include "out.h"

const char *const mon_alert_kind_names[MA_N] = {"pin_drift",        "new_failure", "expiry",
                                                "backup_live",      "ct_finding",  "ct_log",
                                                "ct_log_recovered", "recovered"};
_Static_assert(MA_N == 8, "a name for every alert kind");

void mon_free_hosts(mon_host *h, size_t n)
{
    for (size_t i = 0; h != NULL && i < n; i++) {
        free(h[i].host);
    }
    free(h);
}

void mon_free_logs(mon_log *l, size_t n)
{
    for (size_t i = 0; l != NULL && i < n; i++) {
        free(l[i].url);
    }
    free(l);
}

static int host_cmp(const void *pa, const void *pb)
{
    const mon_host *a = pa, *b = pb;
    int c = strcmp(a->host, b->host);

    if (c != 0) {
        return c;
    }
    return a->port < b->port ? -1 : a->port > b->port ? 1 : 0;
}

/* A growable array of hosts. */
typedef struct host_vec {
    mon_host *v;
    size_t n, cap;
} host_vec;

static mon_host *vec_push(host_vec *hv)
{
    if (hv->n == hv->cap) {
        size_t cap = hv->cap ? hv->cap * 2 : 64;
        mon_host *p = realloc(hv->v, cap * sizeof(*p));
        if (p == NULL) {
            return NULL;
        }
        hv->v = p;
        hv->cap = cap;
    }
    memset(&hv->v[hv->n], 0, sizeof(hv->v[0]));
    return &hv->v[hv->n++];
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* ---- the stored state ---- */

static int load_one(const store_mon_host *s, void *payload)
{
    host_vec *hv = payload;
    mon_host *h = vec_push(hv);

    if (h == NULL || (h->host = strdup(s->host)) == NULL) {
        if (h != NULL) {
            hv->n--;
        }
        return -2;
    }
    h->port = s->port;
    copy(h->outcome, sizeof(h->outcome), s->outcome);
    copy(h->matched, sizeof(h->matched), s->matched_pin);
    copy(h->leaf, sizeof(h->leaf), s->leaf_spki);
    copy(h->backup, sizeof(h->backup), s->backup_live);
    copy(h->error, sizeof(h->error), s->error);
    h->leaf_not_after = s->leaf_not_after;
    h->pins_not_after = s->pins_not_after;
    h->rule_expires = s->rule_expires;
    h->flags = s->expiry_flags;
    h->last_change = s->last_change;
    h->last_round = s->last_round;
    return 0;
}

/* A growable array of CT log states. */
typedef struct log_vec {
    mon_log *v;
    size_t n, cap;
} log_vec;

static mon_log *log_push(log_vec *lv, const char *url)
{
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 8;
        mon_log *p = realloc(lv->v, cap * sizeof(*p));
        if (p == NULL) {
            return NULL;
        }
        lv->v = p;
        lv->cap = cap;
    }
    memset(&lv->v[lv->n], 0, sizeof(lv->v[0]));
    if ((lv->v[lv->n].url = strdup(url)) == NULL) {
        return NULL;
    }
    return &lv->v[lv->n++];
}

static int load_log(const store_mon_log *s, void *payload)
{
    mon_log *l = log_push(payload, s->url);

    if (l == NULL) {
        return -2;
    }
    copy(l->broken, sizeof(l->broken), s->broken);
    copy(l->detail, sizeof(l->detail), s->detail);
    l->since = s->since;
    l->last_round = s->last_round;
    return 0;
}

int mon_load_state(mon *m, char *err, size_t cap)
{
    host_vec hv = {NULL, 0, 0};
    log_vec lv = {NULL, 0, 0};
    int rc = m->db->ops->mon_hosts(m->db, m->shard, load_one, &hv, err, cap);

    if (rc == 0) {
        rc = m->db->ops->mon_logs(m->db, m->shard, load_log, &lv, err, cap);
    }
    if (rc != 0) {
        mon_free_logs(lv.v, lv.n);
        if (rc == -2) {
            snprintf(err, cap, "out of memory");
        }
        mon_free_hosts(hv.v, hv.n);
        return -1;
    }
    if (hv.n > 1) {
        qsort(hv.v, hv.n, sizeof(*hv.v), host_cmp);
    }
    pthread_mutex_lock(&m->lock);
    mon_free_hosts(m->prev, m->nprev);
    m->prev = hv.v;
    m->nprev = hv.n;
    pthread_mutex_unlock(&m->lock);
    mon_free_logs(m->logs, m->nlogs);
    m->logs = lv.v;
    m->nlogs = lv.n;
    return 0;
}

/* ---- one host: its new state and its alerts ---- */

static int under(int64_t t, int64_t now, long days)
{
    return t != 0 && days >= 0 && chk_days(t, now) < days;
}

static int64_t rule_pins_not_after(const pinset_rule *rule)
{
    int64_t min = 0;

    for (size_t i = 0; rule != NULL && i < pinset_rule_pin_count(rule); i++) {
        int64_t t = pinset_rule_pin_not_after(rule, i);
        if (t != 0 && (min == 0 || t < min)) {
            min = t;
        }
    }
    return min;
}

static int is_failure(const char *outcome)
{
    return strcmp(outcome, "FAIL") == 0 || strcmp(outcome, "ERROR") == 0;
}

static void fill_host(mon_host *c, const host_report *h, const mon_config *cfg, int64_t now)
{
    c->port = h->t->port;
    copy(c->outcome, sizeof(c->outcome), check_outcome_names[h->outcome]);
    if (h->has_verdict && h->matched && h->rule != NULL &&
        h->pin_index < pinset_rule_pin_count(h->rule)) {
        chk_pin_text(c->matched, sizeof(c->matched), pinset_rule_pin(h->rule, h->pin_index));
    }
    copy(c->leaf, sizeof(c->leaf), h->leaf_spki);
    if (h->rot.analysed && h->rot.backup_live > 0 && h->rule != NULL) {
        chk_pin_text(c->backup, sizeof(c->backup),
                     pinset_rule_pin(h->rule, h->rot.first_backup_live));
    }
    if (check_host_unchecked(h) || h->outcome == R_ERROR) {
        copy(c->error, sizeof(c->error), h->error);
    }
    c->leaf_not_after = h->leaf_not_after;
    c->pins_not_after = rule_pins_not_after(h->rule);
    c->rule_expires = h->rule != NULL ? pinset_rule_expires(h->rule) : 0;
    c->flags = (under(c->leaf_not_after, now, cfg->leaf_days) ? MON_EXP_LEAF : 0) |
               (under(c->pins_not_after, now, cfg->pins_days) ? MON_EXP_PINS : 0) |
               (under(c->rule_expires, now, cfg->rule_days) ? MON_EXP_RULE : 0);
    c->last_round = now;
}

static json_t *time_json(int64_t t)
{
    char buf[PINSET__TIME_TEXT_MAX];

    if (t == 0 || pinset__time_write(buf, sizeof(buf), t) != 0) {
        return json_null();
    }
    return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *state_json(const mon_host *h)
{
    if (h == NULL) {
        return json_null();
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "outcome", h->outcome, "matched_pin",
                     str_or_null(h->matched), "leaf_spki", str_or_null(h->leaf), "error",
                     str_or_null(h->error), "leaf_not_after", time_json(h->leaf_not_after));
}

/* The alerts of one round, as JSON documents. */
typedef struct alert_list {
    json_t *docs; /* array */
    size_t by_kind[MA_N];
} alert_list;

static int add_alert(alert_list *al, const mon *m, const char *policy, enum mon_alert_kind k,
                     const mon_host *p, const mon_host *c, int64_t now, const char *message,
                     json_t *extra)
{
    json_t *doc = json_pack(
        "{s:s, s:o, s:s, s:i, s:s, s:s, s:s, s:o, s:o}", "kind", mon_alert_kind_names[k], "time",
        time_json(now), "host", c->host, "port", (json_int_t)c->port, "shard", m->shard, "policy",
        policy, "message", message, "previous", state_json(p), "current", state_json(c));

    if (doc == NULL) {
        json_decref(extra);
        return -1;
    }
    if (extra != NULL && json_object_update(doc, extra) != 0) {
        json_decref(extra);
        json_decref(doc);
        return -1;
    }
    json_decref(extra);
    al->by_kind[k]++;
    return json_array_append_new(al->docs, doc);
}

static json_t *expiring_json(const mon_host *c, int flags, int64_t now)
{
    json_t *arr = json_array();
    static const struct {
        int flag;
        const char *what;
    } kinds[] = {{MON_EXP_LEAF, "leaf"}, {MON_EXP_PINS, "pins"}, {MON_EXP_RULE, "rule"}};

    for (size_t i = 0; arr != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        int64_t t = kinds[i].flag == MON_EXP_LEAF   ? c->leaf_not_after
                    : kinds[i].flag == MON_EXP_PINS ? c->pins_not_after
                                                    : c->rule_expires;
        if ((flags & kinds[i].flag) != 0) {
            json_array_append_new(arr,
                                  json_pack("{s:s, s:o, s:I}", "what", kinds[i].what, "not_after",
                                            time_json(t), "days", (json_int_t)chk_days(t, now)));
        }
    }
    return json_pack("{s:o}", "expiring", arr);
}

/* Compare c with p (NULL: a host never seen) and add the alerts of what changed. */
static int compare(alert_list *al, const mon *m, const char *policy, const mon_host *p, mon_host *c,
                   int64_t now)
{
    char msg[512];
    int rc = 0, newflags;

    if (p != NULL &&
        ((p->matched[0] != '\0' && c->matched[0] != '\0' && strcmp(p->matched, c->matched) != 0) ||
         (p->leaf[0] != '\0' && c->leaf[0] != '\0' && strcmp(p->leaf, c->leaf) != 0))) {
        snprintf(msg, sizeof(msg), "%s:%u: pin drift: %s", c->host, c->port,
                 strcmp(p->leaf, c->leaf) != 0 ? "the served leaf key changed"
                                               : "another pin of the rule matches now");
        rc |= add_alert(al, m, policy, MA_PIN_DRIFT, p, c, now, msg, NULL);
    }
    /* the rule of a CT log's state too: once when it fails, again when it fails otherwise (FAIL
       and ERROR), once when it works again */
    if (is_failure(c->outcome) &&
        (p == NULL || !is_failure(p->outcome) || strcmp(p->outcome, c->outcome) != 0)) {
        snprintf(msg, sizeof(msg), "%s:%u: %s (was %s)%s%s", c->host, c->port, c->outcome,
                 p != NULL ? p->outcome : "never seen", c->error[0] != '\0' ? ": " : "", c->error);
        rc |= add_alert(al, m, policy, MA_NEW_FAILURE, p, c, now, msg, NULL);
    }
    if (p != NULL && is_failure(p->outcome) && !is_failure(c->outcome)) {
        snprintf(msg, sizeof(msg), "%s:%u: recovered: %s (was %s)", c->host, c->port, c->outcome,
                 p->outcome);
        rc |= add_alert(al, m, policy, MA_RECOVERED, p, c, now, msg, NULL);
    }
    newflags = c->flags & ~(p != NULL ? p->flags : 0);
    if (newflags != 0) {
        snprintf(msg, sizeof(msg), "%s:%u: expiry under the threshold:%s%s%s", c->host, c->port,
                 (newflags & MON_EXP_LEAF) ? " leaf certificate" : "",
                 (newflags & MON_EXP_PINS) ? " pins" : "",
                 (newflags & MON_EXP_RULE) ? " rule" : "");
        rc |= add_alert(al, m, policy, MA_EXPIRY, p, c, now, msg, expiring_json(c, newflags, now));
    }
    if (c->backup[0] != '\0' && (p == NULL || strcmp(p->backup, c->backup) != 0)) {
        snprintf(msg, sizeof(msg), "%s:%u: the declared backup key %s is live", c->host, c->port,
                 c->backup);
        rc |= add_alert(al, m, policy, MA_BACKUP_LIVE, p, c, now, msg,
                        json_pack("{s:s}", "backup_pin", c->backup));
    }
    c->last_change = p == NULL ? now
                     : strcmp(p->outcome, c->outcome) != 0 || strcmp(p->matched, c->matched) != 0 ||
                             strcmp(p->leaf, c->leaf) != 0
                         ? now
                         : p->last_change;
    return rc;
}

static const mon_host *find_prev(const mon *m, const mon_host *key)
{
    return m->nprev == 0 ? NULL : bsearch(key, m->prev, m->nprev, sizeof(*m->prev), host_cmp);
}

/* ---- one inventory ---- */

static const char *const no_formats[] = {"text", NULL};

/* Targets per check_probe call: bounds the per-host reports held at once (about 1 KiB each). */
#define MON_PROBE_SLICE 4096

static int collect_targets(const mon_config *cfg, const mon_inventory *inv, check_args *a,
                           const pinset_policy *policy, target_list *tl, char *err, size_t cap)
{
    for (size_t i = 0; i < inv->ntargets; i++) {
        if (targets_load_file(tl, inv->targets[i], NULL, 443, err, cap) != 0) {
            return -1;
        }
    }
    if (inv->ntargets == 0 && check_targets_from_policy(tl, policy, err, cap) != 0) {
        return -1;
    }
    check_sort_and_shard(tl, cfg->shard_i, cfg->shard_n);
    for (size_t i = 0; i < cfg->nconnect_to; i++) {
        if (target_map_add_connect_to(a->net.map, cfg->connect_to[i], err, cap) != 0) {
            return -1;
        }
    }
    return targets_apply_map(tl, a->net.map, err, cap);
}

static int run_inventory(mon *m, const mon_inventory *inv, int64_t now, host_vec *out,
                         alert_list *al, char *err, size_t cap)
{
    const mon_config *cfg = &m->cfg;
    check_args a;
    check_run run;
    target_list tl = TARGET_LIST_INIT;
    char msg[400];
    int rc = -1;

    memset(&a, 0, sizeof(a));
    memset(&run, 0, sizeof(run));
    a.shard_n = 1;
    a.warn_days = a.crit_days = -1;
    a.cmd = "monitor";
    if (netopt_init(&a.net, no_formats) != 0) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    a.net.po.timeout_ms = cfg->timeout * 1000u;
    a.net.po.connect_timeout_ms = cfg->connect_timeout * 1000u;
    a.net.po.concurrency = cfg->concurrency;
    a.net.po.cafile = cfg->cafile;
    a.net.po.capath = cfg->capath;
    if (chk_load_policy_msg("monitor", inv->policy, NULL, &run.policy, msg, sizeof(msg)) != 0) {
        snprintf(err, cap, "%s", msg);
        goto out;
    }
    if (collect_targets(cfg, inv, &a, run.policy, &tl, err, cap) != 0) {
        goto out;
    }
    rc = 0;
    /* in slices: check's per-host reports of one slice at a time, not of the whole inventory */
    for (size_t off = 0; off < tl.count && rc == 0 && !atomic_load(&m->abandon);
         off += MON_PROBE_SLICE) {
        pinset_policy *policy = run.policy;
        target_list slice = tl;

        slice.items = tl.items + off;
        slice.count = tl.count - off < MON_PROBE_SLICE ? tl.count - off : MON_PROBE_SLICE;
        memset(&run, 0, sizeof(run));
        run.policy = policy;
        run.policy_path = inv->policy;
        run.now = now;
        if (check_probe(&run, &a, &slice) >= 0) {
            snprintf(err, cap, "%s: %s", inv->policy, a.why);
            check_run_release(&run);
            rc = -1;
            break;
        }
        for (size_t i = 0; i < run.n && rc == 0; i++) {
            mon_host *c = vec_push(out);
            if (c == NULL || (c->host = strdup(run.hosts[i].t->host)) == NULL) {
                snprintf(err, cap, "out of memory");
                rc = -1;
                break;
            }
            fill_host(c, &run.hosts[i], cfg, now);
            if (compare(al, m, inv->policy, find_prev(m, c), c, now) != 0) {
                snprintf(err, cap, "out of memory");
                rc = -1;
            }
        }
        check_run_release(&run);
    }
out:
    targets_free(&tl);
    netopt_free(&a.net);
    pinset_policy_free(run.policy);
    return rc;
}

/* ---- Certificate Transparency: one ct_watch_pass per log per round ---- */

#define CT_KEY_MAX ((size_t)64 * 1024)

typedef struct ct_ctx {
    alert_list *al;
    const mon *m;
    const mon_ct_log *log;
    int64_t now;
    int oom;
    char broken[48];  /* the pass's first misbehaviour ("" none) */
    char detail[256]; /* and its detail */
} ct_ctx;

static void ct_alert(ct_ctx *x, enum mon_alert_kind k, json_t *doc)
{
    if (doc == NULL || json_array_append_new(x->al->docs, doc) != 0) {
        x->oom = 1;
        return;
    }
    x->al->by_kind[k]++;
}

static void on_ct_event(const ct_event *ev, void *payload)
{
    ct_ctx *x = payload;
    char pin[PINSET_PIN_STR_MAX] = "", msg[512];

    if (ev->kind == CT_EV_UNREADABLE) {
        cli_err("monitor", "%s: entry %llu: unreadable, not checked: %s", x->log->url,
                (unsigned long long)ev->index, ev->detail);
        return;
    }
    if (ev->kind == CT_EV_MISBEHAVED) {
        /* the log's state for this round: alerted after the pass, when it changed */
        if (x->broken[0] == '\0') {
            copy(x->broken, sizeof(x->broken), ev->alert);
            copy(x->detail, sizeof(x->detail), ev->detail);
        }
        return;
    }
    if (pinset_pin_format(pin, sizeof(pin), &ev->finding->spki, PINSET_PIN_FMT_BASE64) !=
        PINSET_OK) {
        pin[0] = '\0';
    }
    snprintf(msg, sizeof(msg),
             "%s: entry %llu: a certificate for %s on a key the policy does not pin (%s)",
             x->log->url, (unsigned long long)ev->index, ev->finding->name, ev->alert);
    ct_alert(x, MA_CT_FINDING,
             json_pack("{s:s, s:o, s:o, s:i, s:s, s:s, s:o, s:I, s:s, s:o, s:s, s:o}", "kind",
                       mon_alert_kind_names[MA_CT_FINDING], "time", time_json(x->now), "host",
                       out_json_str(ev->finding->name), "port", (json_int_t)0, "shard", x->m->shard,
                       "alert", ev->alert, "log", out_json_str(x->log->url), "index",
                       (json_int_t)ev->index, "entry_type",
                       ev->leaf != NULL && ev->leaf->type == CT_ENTRY_PRECERT ? "precert" : "x509",
                       "rule", out_json_str(ev->finding->rule), "spki_sha256", pin, "message",
                       out_json_str(msg)));
}

static int read_log_key(ct_log_key *key, const char *path, char *err, size_t cap)
{
    struct pinset__buf b;
    pinset_diag d = PINSET_DIAG_INIT;
    char why[256];
    int rc;

    d.input = path;
    pinset__buf_init(&b, CT_KEY_MAX, 0);
    if (pinset__read_path(&b, path, CT_KEY_MAX, 10000, 0, &d) != PINSET_OK) {
        pinset__buf_free(&b);
        pinset_diag_format(err, cap, &d);
        return -1;
    }
    rc = ct_log_key_parse(key, b.p != NULL ? b.p : (const uint8_t *)"", b.len, why, sizeof(why));
    pinset__buf_free(&b);
    if (rc != 0) {
        snprintf(err, cap, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

/* The URL without scheme and final slashes: the static API's default origin. */
static void default_origin(char *out, size_t cap, const char *url)
{
    const char *p = strstr(url, "://");
    size_t n;

    snprintf(out, cap, "%s", p != NULL ? p + 3 : url);
    n = strlen(out);
    while (n > 0 && out[n - 1] == '/') {
        out[--n] = '\0';
    }
}

static const mon_log *find_log(const mon *m, const char *url)
{
    for (size_t i = 0; i < m->nlogs; i++) {
        if (strcmp(m->logs[i].url, url) == 0) {
            return &m->logs[i];
        }
    }
    return NULL;
}

/*
 * The log's state after this round's pass (broken with a reason, or working) against the stored
 * one: an alert when it broke or broke otherwise (ct_log), when it works again (ct_log_recovered),
 * none while it stays as it was. The new state is added to lv, stored with the round.
 */
static void ct_log_state(ct_ctx *x, log_vec *lv)
{
    const mon_log *p = find_log(x->m, x->log->url);
    int was = p != NULL && p->broken[0] != '\0', is = x->broken[0] != '\0';
    int changed = is ? !was || strcmp(p->broken, x->broken) != 0 : was;
    mon_log *l = log_push(lv, x->log->url);
    char msg[1400];

    if (l == NULL) {
        x->oom = 1;
        return;
    }
    copy(l->broken, sizeof(l->broken), x->broken);
    copy(l->detail, sizeof(l->detail), x->detail);
    l->since = changed || p == NULL ? x->now : p->since;
    l->last_round = x->now;
    if (!changed) {
        return;
    }
    if (is) {
        snprintf(msg, sizeof(msg), "%s: %s%s%s", x->log->url, x->broken, was ? ", was " : "",
                 was ? p->broken : "");
        ct_alert(x, MA_CT_LOG,
                 json_pack("{s:s, s:o, s:o, s:i, s:s, s:s, s:o, s:o, s:o, s:o}", "kind",
                           mon_alert_kind_names[MA_CT_LOG], "time", time_json(x->now), "host",
                           out_json_str(x->log->url), "port", (json_int_t)0, "shard", x->m->shard,
                           "alert", x->broken, "log", out_json_str(x->log->url), "message",
                           out_json_str(msg), "detail", out_json_str(x->detail), "previous",
                           was ? out_json_str(p->broken) : json_null()));
    } else {
        snprintf(msg, sizeof(msg), "%s: recovered (was %s since %lld)", x->log->url, p->broken,
                 (long long)p->since);
        ct_alert(x, MA_CT_LOG_RECOVERED,
                 json_pack("{s:s, s:o, s:o, s:i, s:s, s:s, s:o, s:o, s:o, s:o}", "kind",
                           mon_alert_kind_names[MA_CT_LOG_RECOVERED], "time", time_json(x->now),
                           "host", out_json_str(x->log->url), "port", (json_int_t)0, "shard",
                           x->m->shard, "alert", "log-recovered", "log", out_json_str(x->log->url),
                           "message", out_json_str(msg), "previous", out_json_str(p->broken),
                           "broken_since", time_json(p->since)));
    }
}

/* Every CT log of the configuration, once. A log that cannot be read is an alert, not an error. */
static int run_ct(mon *m, int64_t now, alert_list *al, log_vec *lv, char *err, size_t cap)
{
    const mon_config *cfg = &m->cfg;
    const char *policy_path = cfg->ct_policy != NULL ? cfg->ct_policy : cfg->inv[0].policy;
    pinset_policy *policy = NULL;
    ct_check *check = NULL;
    ct_store *st = NULL;
    char msg[400];
    int rc = -1;

    if (chk_load_policy_msg("monitor", policy_path, NULL, &policy, msg, sizeof(msg)) != 0) {
        snprintf(err, cap, "ct: %s", msg);
        return -1;
    }
    if (ct_check_new(&check, policy) != 0) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    /* the store's table ct_positions, unless a directory is configured (docs/monitor.md) */
    if ((cfg->ct_state != NULL ? ct_store_dir_open(&st, cfg->ct_state, err, cap)
                               : ct_store_db_open(&st, m->db, err, cap)) != 0) {
        goto out;
    }
    for (size_t i = 0; i < cfg->nct && !atomic_load(&m->abandon); i++) {
        const mon_ct_log *l = &cfg->ct[i];
        ct_ctx x = {al, m, l, now, 0, "", ""};
        ct_log_key key;
        ct_watch_result res;
        char origin[1024], why[1024] = "";
        int pass;

        memset(&key, 0, sizeof(key));
        if (read_log_key(&key, l->key, err, cap) != 0) {
            goto out;
        }
        default_origin(origin, sizeof(origin), l->url);
        ct_watch_opts o = {l->url,
                           (ct_api)l->api,
                           l->origin != NULL ? l->origin : origin,
                           &key,
                           check,
                           st,
                           cfg->ct_batch,
                           cfg->ct_timeout * 1000u,
                           CT_SAVE_EVERY_MS};
        pass = ct_watch_pass(&o, on_ct_event, &x, &res, why, sizeof(why));
        ct_log_key_free(&key);
        if (pass == CT_WATCH_INTERNAL || pass == CT_WATCH_INPUT) {
            snprintf(err, cap, "ct: %s: %s", l->url, why);
            goto out;
        }
        if (pass == CT_WATCH_LOG && (why[0] != '\0' || x.broken[0] == '\0')) {
            /* unreachable or unreadable: a state of the log as a misbehaviour is */
            on_ct_event(&(ct_event){CT_EV_MISBEHAVED, "log-unreadable", why, 0, NULL, NULL}, &x);
        }
        if (!x.oom) {
            ct_log_state(&x, lv);
        }
        if (x.oom) {
            snprintf(err, cap, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    if (st != NULL) {
        st->free(st);
    }
    ct_check_free(check);
    pinset_policy_free(policy);
    ct_merkle_cleanup();
    return rc;
}

/* ---- the round ---- */

/* Sort and drop a host that two inventories both name (the first one's state is kept). */
static void dedup(host_vec *hv)
{
    size_t w = 0;

    if (hv->n > 1) {
        qsort(hv->v, hv->n, sizeof(*hv->v), host_cmp);
    }
    for (size_t r = 0; r < hv->n; r++) {
        if (w > 0 && host_cmp(&hv->v[w - 1], &hv->v[r]) == 0) {
            free(hv->v[r].host);
            continue;
        }
        hv->v[w++] = hv->v[r];
    }
    hv->n = w;
}

static store_mon_host store_view(const mon *m, const mon_host *h)
{
    store_mon_host s;

    s.shard = m->shard;
    s.host = h->host;
    s.port = h->port;
    s.outcome = h->outcome;
    s.matched_pin = h->matched;
    s.leaf_spki = h->leaf;
    s.backup_live = h->backup;
    s.error = h->error;
    s.leaf_not_after = h->leaf_not_after;
    s.pins_not_after = h->pins_not_after;
    s.rule_expires = h->rule_expires;
    s.expiry_flags = h->flags;
    s.last_change = h->last_change;
    s.last_round = h->last_round;
    return s;
}

/* A random idempotency key for an alert: 32 hex digits. 0 or -1. */
static int new_alert_id(char out[33])
{
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(r); i++) {
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    }
    return 0;
}

/* Record the round with its alerts pending in the outbox, then wake the outbox. */
static int commit(mon *m, host_vec *hv, alert_list *al, const log_vec *lv, int64_t now, int64_t end,
                  char *err, size_t cap)
{
    size_t na = json_array_size(al->docs);
    int sinks = mon_alert_sinks(&m->cfg);
    store_mon_host *sh = calloc(hv->n ? hv->n : 1, sizeof(*sh));
    store_mon_alert *sa = calloc(na ? na : 1, sizeof(*sa));
    char **texts = calloc(na ? na : 1, sizeof(*texts));
    store_mon_log *sl = calloc(lv->n ? lv->n : 1, sizeof(*sl));
    int rc = -1;

    if (sh == NULL || sa == NULL || texts == NULL || sl == NULL) {
        snprintf(err, cap, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < hv->n; i++) {
        sh[i] = store_view(m, &hv->v[i]);
    }
    for (size_t i = 0; i < na; i++) {
        json_t *d = json_array_get(al->docs, i);
        char id[33];
        if (new_alert_id(id) != 0 || json_object_set_new(d, "alert_id", json_string(id)) != 0) {
            snprintf(err, cap, "no random alert_id");
            goto out;
        }
        texts[i] = json_dumps(d, JSON_COMPACT);
        if (texts[i] == NULL) {
            snprintf(err, cap, "out of memory");
            goto out;
        }
        sa[i].time = now;
        sa[i].shard = m->shard;
        sa[i].host = json_string_value(json_object_get(d, "host"));
        sa[i].port = (unsigned int)json_integer_value(json_object_get(d, "port"));
        sa[i].kind = json_string_value(json_object_get(d, "kind"));
        sa[i].body = texts[i];
        sa[i].alert_id = json_string_value(json_object_get(d, "alert_id"));
        sa[i].pending = sinks;
    }
    for (size_t i = 0; i < lv->n; i++) {
        sl[i] = (store_mon_log){m->shard,        lv->v[i].url,   lv->v[i].broken,
                                lv->v[i].detail, lv->v[i].since, lv->v[i].last_round};
    }
    rc = m->db->ops->mon_round(m->db, m->shard, now, end, sh, hv->n, sa, na, sl, lv->n, err, cap);
    if (rc != 0) {
        goto out;
    }
    if (na > 0 && sinks != 0) {
        mon_outbox_kick(m->outbox);
    }
    pthread_mutex_lock(&m->lock);
    for (int k = 0; k < MA_N; k++) {
        m->alerts[k] += al->by_kind[k];
    }
    pthread_mutex_unlock(&m->lock);
out:
    for (size_t i = 0; texts != NULL && i < na; i++) {
        free(texts[i]);
    }
    free(texts);
    free(sh);
    free(sa);
    free(sl);
    return rc;
}

int mon_round(mon *m, int64_t now, char *err, size_t cap)
{
    host_vec hv = {NULL, 0, 0};
    log_vec lv = {NULL, 0, 0};
    alert_list al;
    int rc = -1;
    int64_t end;

    memset(&al, 0, sizeof(al));
    al.docs = json_array();
    if (al.docs == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    pthread_mutex_lock(&m->lock);
    m->in_round = 1;
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < m->cfg.ninv; i++) {
        if (atomic_load(&m->abandon)) {
            break;
        }
        if (run_inventory(m, &m->cfg.inv[i], now, &hv, &al, err, cap) != 0) {
            goto out;
        }
    }
    if (m->cfg.nct > 0 && !atomic_load(&m->abandon) && run_ct(m, now, &al, &lv, err, cap) != 0) {
        goto out;
    }
    if (atomic_load(&m->abandon)) {
        rc = 1;
        goto out;
    }
    dedup(&hv);
    end = (int64_t)time(NULL);
    if (commit(m, &hv, &al, &lv, now, end, err, cap) != 0) {
        goto out;
    }
    mon_free_logs(m->logs, m->nlogs);
    m->logs = lv.v;
    m->nlogs = lv.n;
    lv.v = NULL;
    lv.n = 0;
    pthread_mutex_lock(&m->lock);
    mon_free_hosts(m->prev, m->nprev);
    m->prev = hv.v;
    m->nprev = hv.n;
    hv.v = NULL;
    hv.n = 0;
    m->last_start = now;
    m->last_finish = end;
    m->last_duration = (double)(end - now);
    pthread_mutex_unlock(&m->lock);
    rc = 0;
out:
    /* counted here, with last_finish, so that /metrics and /healthz agree */
    pthread_mutex_lock(&m->lock);
    if (rc == 0) {
        m->rounds_ok++;
    } else if (rc == 1) {
        m->rounds_abandoned++;
    } else {
        m->rounds_failed++;
    }
    m->in_round = 0;
    pthread_mutex_unlock(&m->lock);
    mon_free_hosts(hv.v, hv.n);
    mon_free_logs(lv.v, lv.n);
    json_decref(al.docs);
    return rc;
}

/* ---- /metrics ---- */

static void prom_host_labels(FILE *f, const mon_host *h)
{
    fputs("{host=\"", f);
    check_prom_label(f, h->host);
    fprintf(f, "\",port=\"%u\"", h->port);
}

static void prom_times(FILE *f, const mon_snapshot *s, const char *name, const char *help,
                       size_t field)
{
    check_prom_head(f, name, "gauge", help);
    for (size_t i = 0; i < s->n; i++) {
        int64_t t = *(const int64_t *)(const void *)((const char *)&s->hosts[i] + field);
        if (t != 0) {
            fputs(name, f);
            prom_host_labels(f, &s->hosts[i]);
            fprintf(f, "} %lld\n", (long long)t);
        }
    }
}

char *mon_metrics(mon *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    size_t counts[R_N] = {0};
    static const char *const round_results[] = {"ok", "failed", "abandoned"};

    if (f == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    mon_snapshot s = {m->prev, m->nprev};
    uint64_t rounds[3] = {m->rounds_ok, m->rounds_failed, m->rounds_abandoned};
    check_prom_head(f, "pinset_monitor_rounds_total", "counter",
                    "Monitor rounds since start, by how they ended.");
    for (int i = 0; i < 3; i++) {
        fprintf(f, "pinset_monitor_rounds_total{result=\"%s\"} %llu\n", round_results[i],
                (unsigned long long)rounds[i]);
    }
    check_prom_head(f, "pinset_monitor_round_in_progress", "gauge",
                    "Whether a round is running now (1) or not (0).");
    fprintf(f, "pinset_monitor_round_in_progress %d\n", m->in_round);
    check_prom_head(f, "pinset_monitor_last_round_timestamp_seconds", "gauge",
                    "When the last finished round ended (0: none yet).");
    fprintf(f, "pinset_monitor_last_round_timestamp_seconds %lld\n", (long long)m->last_finish);
    check_prom_head(f, "pinset_monitor_last_round_duration_seconds", "gauge",
                    "How long the last finished round took.");
    fprintf(f, "pinset_monitor_last_round_duration_seconds %.0f\n", m->last_duration);
    check_prom_head(f, "pinset_monitor_alerts_total", "counter",
                    "Alerts raised since start, by kind.");
    for (int k = 0; k < MA_N; k++) {
        fprintf(f, "pinset_monitor_alerts_total{kind=\"%s\"} %llu\n", mon_alert_kind_names[k],
                (unsigned long long)m->alerts[k]);
    }
    check_prom_head(f, "pinset_monitor_alert_delivery_failures_total", "counter",
                    "Deliveries given up, per alert and sink (after the retries).");
    fprintf(f, "pinset_monitor_alert_delivery_failures_total %llu\n",
            (unsigned long long)m->alerts_failed);
    check_prom_head(f, "pinset_monitor_alerts_pending", "gauge",
                    "Alerts stored, with a sink still to take them (the outbox's last look).");
    fprintf(f, "pinset_monitor_alerts_pending %zu\n", m->alerts_pending);
    check_prom_head(f, "pinset_monitor_host_result", "gauge",
                    "The host's result in the last round (1 for its result, 0 for the others).");
    for (size_t i = 0; i < s.n; i++) {
        for (int r = 0; r < R_N; r++) {
            int is = strcmp(s.hosts[i].outcome, check_outcome_names[r]) == 0;
            counts[r] += (size_t)is;
            fputs("pinset_monitor_host_result", f);
            prom_host_labels(f, &s.hosts[i]);
            fprintf(f, ",result=\"%s\"} %d\n", check_prom_results[r], is);
        }
    }
    check_prom_head(f, "pinset_monitor_hosts", "gauge", "Hosts by their result in the last round.");
    for (int r = 0; r < R_N; r++) {
        fprintf(f, "pinset_monitor_hosts{result=\"%s\"} %zu\n", check_prom_results[r], counts[r]);
    }
    prom_times(f, &s, "pinset_monitor_leaf_not_after_timestamp_seconds",
               "When the served leaf certificate expires.", offsetof(mon_host, leaf_not_after));
    prom_times(f, &s, "pinset_monitor_pins_not_after_timestamp_seconds",
               "When the first of the rule's pins expires.", offsetof(mon_host, pins_not_after));
    prom_times(f, &s, "pinset_monitor_rule_expires_timestamp_seconds",
               "When the host's rule expires.", offsetof(mon_host, rule_expires));
    prom_times(f, &s, "pinset_monitor_last_change_timestamp_seconds",
               "When the host's result, matched pin or leaf key last changed.",
               offsetof(mon_host, last_change));
    pthread_mutex_unlock(&m->lock);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- the status page ---- */

static int put(struct pinset__buf *b, const char *s)
{
    return pinset__buf_append(b, s, strlen(s)) == PINSET_OK ? 0 : -1;
}

static int put_time(struct pinset__buf *b, int64_t t, int64_t now, int days)
{
    char buf[PINSET__TIME_TEXT_MAX + 32];

    if (t == 0 || pinset__time_write(buf, PINSET__TIME_TEXT_MAX, t) != 0) {
        return put(b, "<td>-</td>");
    }
    if (days) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof(buf) - l, " (%lld d)", (long long)chk_days(t, now));
    }
    return put(b, "<td>") | web_escape(b, buf) | put(b, "</td>");
}

static int status_row(struct pinset__buf *b, const mon_host *h, int64_t now)
{
    char port[16];
    int rc;

    snprintf(port, sizeof(port), ":%u", h->port);
    rc = put(b, "<tr><td>") | web_escape(b, h->host) | put(b, port) | put(b, "</td><td>") |
         web_escape(b, h->outcome) | put(b, "</td><td><code>") | web_escape(b, h->matched) |
         put(b, "</code></td><td><code>") | web_escape(b, h->leaf) | put(b, "</code></td>");
    rc |= put_time(b, h->last_change, now, 0) | put_time(b, h->leaf_not_after, now, 1) |
          put_time(b, h->pins_not_after, now, 1) | put_time(b, h->rule_expires, now, 1);
    rc |= put(b, "<td>") | web_escape(b, h->error) | put(b, "</td></tr>\n");
    return rc;
}

int mon_status_page(mon *m, int64_t now, struct pinset__buf *out)
{
    struct pinset__buf b = *out;
    char line[256], when[PINSET__TIME_TEXT_MAX];
    int rc;

    pthread_mutex_lock(&m->lock);
    if (m->last_finish == 0 || pinset__time_write(when, sizeof(when), m->last_finish) != 0) {
        snprintf(when, sizeof(when), "none yet");
    }
    snprintf(line, sizeof(line),
             "<p>Shard %s. Last round finished: %s. Every %u s. Hosts: %zu.</p>\n", m->shard, when,
             m->interval, m->nprev);
    rc = web_head(&b, "pinset monitor") | put(&b, "<h1>pinset monitor</h1>\n") | put(&b, line) |
         put(&b, "<table><tr><th>host</th><th>result</th><th>matched pin</th><th>leaf key</th>"
                 "<th>last change</th><th>leaf expires</th><th>pins expire</th>"
                 "<th>rule expires</th><th>error</th></tr>\n");
    for (size_t i = 0; i < m->nprev && rc == 0; i++) {
        rc |= status_row(&b, &m->prev[i], now);
    }
    pthread_mutex_unlock(&m->lock);
    rc |= put(&b, "</table>\n</body></html>\n");
    *out = b;
    return rc != 0 ? -1 : 0;
}
