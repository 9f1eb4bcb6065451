/*
 * config.c - the monitor's configuration file (config.h): strict JSON.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <monitor/config.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <util/buf.h>
#include <util/read.h>

#include "common.h"

/* Where a key is refused: the file and the key's path. */
typedef struct cfg_ctx {
    const char *file;
    char *err;
    size_t cap;
    int failed;
} cfg_ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
bad(cfg_ctx *c, const char *path, const char *fmt, ...)
{
    char why[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (!c->failed) {
        snprintf(c->err, c->cap, "%s: %s: %s", c->file, path, why);
        c->failed = 1;
    }
    return -1;
}

/* Refuse any key of obj that is not in keys (NULL-terminated). */
static int only_keys(cfg_ctx *c, const char *path, json_t *obj, const char *const *keys)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj)) {
        return bad(c, path[0] != '\0' ? path : "(top level)", "expected an object");
    }
    json_object_foreach(obj, k, v)
    {
        size_t i;
        for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++) {
        }
        if (keys[i] == NULL) {
            char full[256];
            snprintf(full, sizeof(full), "%s%s%s", path, path[0] != '\0' ? "." : "", k);
            return bad(c, full, "unknown key");
        }
    }
    return 0;
}

static void join(char *out, size_t cap, const char *path, const char *key)
{
    snprintf(out, cap, "%s%s%s", path, path[0] != '\0' ? "." : "", key);
}

/* A path relative to the configuration file's directory. */
static char *path_in(const char *file, const char *p)
{
    const char *slash = strrchr(file, '/');
    size_t dl, pl = strlen(p);
    char *out;

    if (p[0] == '/' || slash == NULL) {
        return strdup(p);
    }
    dl = (size_t)(slash - file) + 1;
    out = malloc(dl + pl + 1);
    if (out != NULL) {
        memcpy(out, file, dl);
        memcpy(out + dl, p, pl + 1);
    }
    return out;
}

/* A non-empty string (a path when is_path); absent leaves *out as it is. */
static int get_str(cfg_ctx *c, json_t *obj, const char *path, const char *key, int is_path,
                   char **out)
{
    json_t *v = json_object_get(obj, key);
    char full[256];

    join(full, sizeof(full), path, key);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        return bad(c, full, "expected a non-empty string");
    }
    free(*out);
    *out = is_path ? path_in(c->file, json_string_value(v)) : strdup(json_string_value(v));
    if (*out == NULL) {
        return bad(c, full, "out of memory");
    }
    return 0;
}

static int get_uint(cfg_ctx *c, json_t *obj, const char *path, const char *key, long lo, long hi,
                    unsigned int *out)
{
    json_t *v = json_object_get(obj, key);
    char full[256];

    join(full, sizeof(full), path, key);
    if (v == NULL) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        return bad(c, full, "expected a whole number from %ld to %ld", lo, hi);
    }
    *out = (unsigned int)json_integer_value(v);
    return 0;
}

static int get_days(cfg_ctx *c, json_t *obj, const char *path, const char *key, long *out)
{
    unsigned int u;

    if (json_object_get(obj, key) == NULL) {
        return 0;
    }
    if (get_uint(c, obj, path, key, 0, 36500, &u) != 0) {
        return -1;
    }
    *out = (long)u;
    return 0;
}

/* An array of non-empty strings, at most max. */
static int get_strs(cfg_ctx *c, json_t *obj, const char *path, const char *key, int is_path,
                    char **out, size_t max, size_t *n)
{
    json_t *arr = json_object_get(obj, key), *v;
    char full[256];
    size_t i;

    join(full, sizeof(full), path, key);
    if (arr == NULL) {
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) > max) {
        return bad(c, full, "expected an array of at most %zu strings", max);
    }
    json_array_foreach(arr, i, v)
    {
        char item[280];
        snprintf(item, sizeof(item), "%s[%zu]", full, i);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            return bad(c, item, "expected a non-empty string");
        }
        out[i] = is_path ? path_in(c->file, json_string_value(v)) : strdup(json_string_value(v));
        if (out[i] == NULL) {
            return bad(c, item, "out of memory");
        }
        *n = i + 1;
    }
    return 0;
}

static int parse_inventory(cfg_ctx *c, mon_config *cfg, json_t *root)
{
    static const char *const keys[] = {"policy", "targets", NULL};
    json_t *arr = json_object_get(root, "inventory"), *v;
    size_t i;

    if (arr == NULL) {
        return bad(c, "inventory", "required: an array of {\"policy\": FILE, \"targets\": [FILE]}");
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > MON_MAX_INVENTORIES) {
        return bad(c, "inventory", "expected an array of 1 to %d objects", MON_MAX_INVENTORIES);
    }
    json_array_foreach(arr, i, v)
    {
        char path[64];
        mon_inventory *inv = &cfg->inv[i];
        snprintf(path, sizeof(path), "inventory[%zu]", i);
        cfg->ninv = i + 1;
        if (only_keys(c, path, v, keys) != 0 || get_str(c, v, path, "policy", 1, &inv->policy) ||
            get_strs(c, v, path, "targets", 1, inv->targets, MON_MAX_TARGETS, &inv->ntargets)) {
            return -1;
        }
        if (inv->policy == NULL) {
            char full[80];
            join(full, sizeof(full), path, "policy");
            return bad(c, full, "required");
        }
    }
    return 0;
}

static int parse_probe(cfg_ctx *c, mon_config *cfg, json_t *root)
{
    static const char *const keys[] = {"timeout_seconds",
                                       "connect_timeout_seconds",
                                       "concurrency",
                                       "cafile",
                                       "capath",
                                       "connect_to",
                                       NULL};
    json_t *o = json_object_get(root, "probe");

    if (o == NULL) {
        return 0;
    }
    return only_keys(c, "probe", o, keys) != 0 ||
                   get_uint(c, o, "probe", "timeout_seconds", 1, 600, &cfg->timeout) != 0 ||
                   get_uint(c, o, "probe", "connect_timeout_seconds", 1, 600,
                            &cfg->connect_timeout) != 0 ||
                   get_uint(c, o, "probe", "concurrency", 1, 10000, &cfg->concurrency) != 0 ||
                   get_str(c, o, "probe", "cafile", 1, &cfg->cafile) != 0 ||
                   get_str(c, o, "probe", "capath", 1, &cfg->capath) != 0 ||
                   get_strs(c, o, "probe", "connect_to", 0, cfg->connect_to, MON_MAX_MAPS,
                            &cfg->nconnect_to) != 0
               ? -1
               : 0;
}

static int parse_expiry(cfg_ctx *c, mon_config *cfg, json_t *root)
{
    static const char *const keys[] = {"leaf_days", "pins_days", "rule_days", NULL};
    json_t *o = json_object_get(root, "expiry");

    if (o == NULL) {
        return 0;
    }
    return only_keys(c, "expiry", o, keys) != 0 ||
                   get_days(c, o, "expiry", "leaf_days", &cfg->leaf_days) != 0 ||
                   get_days(c, o, "expiry", "pins_days", &cfg->pins_days) != 0 ||
                   get_days(c, o, "expiry", "rule_days", &cfg->rule_days) != 0
               ? -1
               : 0;
}

static int parse_webhook(cfg_ctx *c, mon_config *cfg, json_t *alerts)
{
    static const char *const keys[] = {
        "url", "retries", "backoff_ms", "timeout_seconds", "give_up_seconds", NULL};
    json_t *o = json_object_get(alerts, "webhook");
    const char *p = "alerts.webhook";

    if (o == NULL) {
        return 0;
    }
    if (only_keys(c, p, o, keys) != 0 || get_str(c, o, p, "url", 0, &cfg->webhook_url) != 0 ||
        get_uint(c, o, p, "retries", 0, 20, &cfg->webhook_retries) != 0 ||
        get_uint(c, o, p, "backoff_ms", 0, 600000, &cfg->webhook_backoff_ms) != 0 ||
        get_uint(c, o, p, "timeout_seconds", 1, 600, &cfg->webhook_timeout) != 0 ||
        get_uint(c, o, p, "give_up_seconds", 1, 604800, &cfg->webhook_give_up) != 0) {
        return -1;
    }
    if (cfg->webhook_url == NULL) {
        return bad(c, "alerts.webhook.url", "required");
    }
    if (strncmp(cfg->webhook_url, "http://", 7) != 0 &&
        strncmp(cfg->webhook_url, "https://", 8) != 0) {
        return bad(c, "alerts.webhook.url", "expected an http:// or https:// URL");
    }
    return 0;
}

static int parse_command(cfg_ctx *c, mon_config *cfg, json_t *alerts)
{
    static const char *const keys[] = {"argv", "timeout_seconds", NULL};
    json_t *o = json_object_get(alerts, "command");
    const char *p = "alerts.command";
    size_t n = 0;

    if (o == NULL) {
        return 0;
    }
    if (only_keys(c, p, o, keys) != 0 ||
        get_strs(c, o, p, "argv", 0, cfg->command, MON_MAX_ARGV, &n) != 0 ||
        get_uint(c, o, p, "timeout_seconds", 1, 600, &cfg->command_timeout) != 0) {
        return -1;
    }
    if (n == 0) {
        return bad(c, "alerts.command.argv", "required: the program and its arguments");
    }
    return 0;
}

static int parse_alerts(cfg_ctx *c, mon_config *cfg, json_t *root)
{
    static const char *const keys[] = {"webhook", "command", "jsonl", NULL};
    json_t *o = json_object_get(root, "alerts");

    if (o == NULL) {
        return 0;
    }
    return only_keys(c, "alerts", o, keys) != 0 || parse_webhook(c, cfg, o) != 0 ||
                   parse_command(c, cfg, o) != 0 ||
                   get_str(c, o, "alerts", "jsonl", 1, &cfg->jsonl) != 0
               ? -1
               : 0;
}

static int parse_ct_log(cfg_ctx *c, mon_ct_log *l, json_t *v, const char *path)
{
    static const char *const keys[] = {"url", "key", "api", "origin", NULL};
    char *api = NULL;
    char full[80];

    if (only_keys(c, path, v, keys) != 0 || get_str(c, v, path, "url", 0, &l->url) != 0 ||
        get_str(c, v, path, "key", 1, &l->key) != 0 ||
        get_str(c, v, path, "origin", 0, &l->origin) != 0 ||
        get_str(c, v, path, "api", 0, &api) != 0) {
        free(api);
        return -1;
    }
    if (api != NULL && strcmp(api, "rfc6962") != 0 && strcmp(api, "static") != 0) {
        free(api);
        join(full, sizeof(full), path, "api");
        return bad(c, full, "expected \"rfc6962\" or \"static\"");
    }
    l->api = api != NULL && strcmp(api, "static") == 0;
    free(api);
    if (l->url == NULL || l->key == NULL) {
        join(full, sizeof(full), path, l->url == NULL ? "url" : "key");
        return bad(c, full, "required");
    }
    if (strncmp(l->url, "http://", 7) != 0 && strncmp(l->url, "https://", 8) != 0) {
        join(full, sizeof(full), path, "url");
        return bad(c, full, "expected an http:// or https:// URL");
    }
    return 0;
}

static int parse_ct(cfg_ctx *c, mon_config *cfg, json_t *root)
{
    static const char *const keys[] = {"logs",  "state_dir",       "policy",
                                       "batch", "timeout_seconds", NULL};
    json_t *o = json_object_get(root, "ct"), *arr, *v;
    size_t i;

    if (o == NULL) {
        return 0;
    }
    if (only_keys(c, "ct", o, keys) != 0 ||
        get_str(c, o, "ct", "state_dir", 1, &cfg->ct_state) != 0 ||
        get_str(c, o, "ct", "policy", 1, &cfg->ct_policy) != 0 ||
        get_uint(c, o, "ct", "batch", 1, 1000, &cfg->ct_batch) != 0 ||
        get_uint(c, o, "ct", "timeout_seconds", 1, 600, &cfg->ct_timeout) != 0) {
        return -1;
    }
    arr = json_object_get(o, "logs");
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > MON_MAX_CT_LOGS) {
        return bad(c, "ct.logs", "required: an array of 1 to %d objects", MON_MAX_CT_LOGS);
    }
    json_array_foreach(arr, i, v)
    {
        char path[64];
        snprintf(path, sizeof(path), "ct.logs[%zu]", i);
        cfg->nct = i + 1;
        if (parse_ct_log(c, &cfg->ct[i], v, path) != 0) {
            return -1;
        }
    }
    return 0;
}

static int parse_root(cfg_ctx *c, mon_config *cfg, json_t *root)
{
    static const char *const keys[] = {"inventory",
                                       "interval_seconds",
                                       "round_deadline_seconds",
                                       "stop_deadline_seconds",
                                       "probe",
                                       "expiry",
                                       "alerts",
                                       "listen",
                                       "tls_cert",
                                       "tls_key",
                                       "db",
                                       "shard",
                                       "ct",
                                       NULL};
    char *shard = NULL;
    int rc;

    if (only_keys(c, "", root, keys) != 0 || parse_inventory(c, cfg, root) != 0 ||
        get_uint(c, root, "", "interval_seconds", 1, 86400 * 7, &cfg->interval) != 0 ||
        get_uint(c, root, "", "round_deadline_seconds", 1, 86400, &cfg->round_deadline) != 0 ||
        get_uint(c, root, "", "stop_deadline_seconds", 0, 3600, &cfg->stop_deadline) != 0 ||
        parse_probe(c, cfg, root) != 0 || parse_expiry(c, cfg, root) != 0 ||
        parse_alerts(c, cfg, root) != 0 || get_str(c, root, "", "listen", 0, &cfg->listen) != 0 ||
        get_str(c, root, "", "tls_cert", 1, &cfg->tls_cert) != 0 ||
        get_str(c, root, "", "tls_key", 1, &cfg->tls_key) != 0 ||
        get_str(c, root, "", "db", 0, &cfg->db) != 0 ||
        get_str(c, root, "", "shard", 0, &shard) != 0 || parse_ct(c, cfg, root) != 0) {
        free(shard);
        return -1;
    }
    /* HTTPS is a certificate and its key, on the listen address */
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        free(shard);
        return bad(c, cfg->tls_cert == NULL ? "tls_cert" : "tls_key",
                   "required with \"%s\" (HTTPS needs both)",
                   cfg->tls_cert == NULL ? "tls_key" : "tls_cert");
    }
    /* a database URL is no path; a file name is taken from the file's directory */
    if (cfg->db != NULL && strstr(cfg->db, "://") == NULL) {
        char *p = path_in(c->file, cfg->db);
        free(cfg->db);
        cfg->db = p;
        if (p == NULL) {
            return bad(c, "db", "out of memory");
        }
    }
    rc = shard != NULL && mon_parse_shard(shard, &cfg->shard_i, &cfg->shard_n) != 0
             ? bad(c, "shard", "expected \"I/N\" with 0 <= I < N <= 1000000")
             : 0;
    free(shard);
    return rc;
}

int mon_parse_shard(const char *s, unsigned long *i, unsigned long *n)
{
    char *end;
    unsigned long a, b;

    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    a = strtoul(s, &end, 10);
    if (*end != '/' || end[1] < '0' || end[1] > '9') {
        return -1;
    }
    b = strtoul(end + 1, &end, 10);
    if (*end != '\0' || b == 0 || b > 1000000 || a >= b) {
        return -1;
    }
    *i = a;
    *n = b;
    return 0;
}

int mon_config_load(mon_config *cfg, const char *path, char *err, size_t cap)
{
    struct pinset__buf b;
    pinset_diag d = PINSET_DIAG_INIT;
    json_error_t je;
    json_t *root = NULL;
    cfg_ctx c = {path, err, cap, 0};
    int rc = -1;

    memset(cfg, 0, sizeof(*cfg));
    cfg->interval = 300;
    cfg->round_deadline = 0; /* the interval, below */
    cfg->stop_deadline = 10;
    cfg->timeout = 10;
    cfg->connect_timeout = 5;
    cfg->concurrency = 64;
    cfg->leaf_days = 21;
    cfg->pins_days = 30;
    cfg->rule_days = 30;
    cfg->webhook_retries = 3;
    cfg->webhook_backoff_ms = 1000;
    cfg->webhook_timeout = 10;
    cfg->webhook_give_up = 86400;
    cfg->command_timeout = 10;
    cfg->shard_n = 1;
    cfg->ct_batch = 256;
    cfg->ct_timeout = 30;
    pinset__buf_init(&b, MON_CONFIG_MAX, 0);
    if (pinset__read_path(&b, path, MON_CONFIG_MAX, 10000, 0, &d) != PINSET_OK) {
        char msg[256];
        pinset_diag_format(msg, sizeof(msg), &d);
        snprintf(err, cap, "%s", msg);
        goto out;
    }
    root = json_loadb(b.p != NULL ? (const char *)b.p : "", b.len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        snprintf(err, cap, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        goto out;
    }
    if (parse_root(&c, cfg, root) != 0) {
        goto out;
    }
    if (cfg->round_deadline == 0) {
        cfg->round_deadline = cfg->interval;
    }
    rc = 0;
out:
    json_decref(root);
    pinset__buf_free(&b);
    if (rc != 0) {
        mon_config_free(cfg);
    }
    return rc;
}

void mon_config_free(mon_config *cfg)
{
    for (size_t i = 0; i < cfg->ninv; i++) {
        free(cfg->inv[i].policy);
        for (size_t j = 0; j < cfg->inv[i].ntargets; j++) {
            free(cfg->inv[i].targets[j]);
        }
    }
    for (size_t i = 0; i < cfg->nconnect_to; i++) {
        free(cfg->connect_to[i]);
    }
    for (size_t i = 0; cfg->command[i] != NULL; i++) {
        free(cfg->command[i]);
    }
    for (size_t i = 0; i < cfg->nct; i++) {
        free(cfg->ct[i].url);
        free(cfg->ct[i].key);
        free(cfg->ct[i].origin);
    }
    free(cfg->ct_state);
    free(cfg->ct_policy);
    free(cfg->cafile);
    free(cfg->capath);
    free(cfg->webhook_url);
    free(cfg->jsonl);
    free(cfg->listen);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->db);
    memset(cfg, 0, sizeof(*cfg));
}
