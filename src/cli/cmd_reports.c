/*
 * cmd_reports.c - `pinset reports`: what a collector's database holds, per
 * host and class: counts over time (per day, UTC), the keys seen in the
 * chains, the client's known pins, and what to do (docs/collector.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <jansson.h>
#include <serve/classify.h>
#include <stdio.h>
#include <store/store.h>
#include <string.h>
#include <time.h>
#include <util/rfc3339.h>

#include "cmd.h"
#include "common.h"
#include "out.h"

enum { REP_OPT_DB, REP_OPT_SINCE, REP_OPT_HOST, REP_OPT_FORMAT };

static const opt_spec reports_opts[] = {
    {"db", 0, "PATH|URL", "the collector's database (a SQLite file or a postgres:// URL)"},
    {"since", 0, "TIME",
     "reports last seen at or after TIME: RFC 3339, or a duration ago (12h, 7d)"},
    {"host", 0, "HOST", "one host only"},
    {"format", 'f', "FORMAT", "text (default) or json"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_reports_spec = {"reports", "--db PATH|URL [options]",
                                   "Summarise a collector's pin-failure reports.", reports_opts};

#define REPORTS_MAX_ROWS 100000 /* rows read for the keys and the days */
#define REPORTS_MAX_KEYS 64     /* keys listed per host and class */

typedef struct reports_args {
    const char *db, *host;
    int64_t since;
    int json;
} reports_args;

static int parse_since(const char *v, int64_t now, int64_t *out)
{
    char *end;
    unsigned long long n;

    if (pinset__time_parse(out, v, strlen(v), 0) == 0) {
        return 0;
    }
    if (v[0] < '0' || v[0] > '9') {
        return -1;
    }
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno != 0 || n > 36500ULL * 24 || end[0] == '\0' || end[1] != '\0') {
        return -1;
    }
    switch (end[0]) {
    case 'd':
        *out = now - (int64_t)n * 86400;
        return 0;
    case 'h':
        *out = now - (int64_t)n * 3600;
        return 0;
    case 'm':
        *out = now - (int64_t)n * 60;
        return 0;
    default:
        return -1;
    }
}

static int parse_args(reports_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    int r;
    static char host[PINSET_HOST_MAX];

    memset(a, 0, sizeof(*a));
    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_reports_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_reports_spec);
            return -1;
        case OPT_POSITIONAL:
            return opt_usage_error(&cmd_reports_spec, "unexpected argument '%s'", v);
        case REP_OPT_DB:
            a->db = v;
            break;
        case REP_OPT_SINCE:
            if (parse_since(v, (int64_t)time(NULL), &a->since) != 0) {
                return opt_usage_error(&cmd_reports_spec,
                                       "--since wants an RFC 3339 time or a duration such as "
                                       "12h or 7d, got '%s'",
                                       v);
            }
            break;
        case REP_OPT_HOST:
            if (pinset_host_canon(host, sizeof(host), NULL, v, strlen(v), NULL) != PINSET_OK) {
                return opt_usage_error(&cmd_reports_spec, "--host: '%s' is not a host name", v);
            }
            a->host = host;
            break;
        case REP_OPT_FORMAT:
            if (strcmp(v, "json") == 0) {
                a->json = 1;
            } else if (strcmp(v, "text") != 0) {
                return opt_usage_error(&cmd_reports_spec, "unknown format '%s' (text or json)", v);
            }
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (a->db == NULL) {
        return opt_usage_error(&cmd_reports_spec, "--db is required");
    }
    return EXIT_OK;
}

static json_t *time_json(int64_t t)
{
    char buf[32];
    return pinset__time_write(buf, sizeof(buf), t) == 0 ? json_string(buf) : json_null();
}

typedef struct collect_ctx {
    json_t *groups; /* array, in the store's order */
    json_t *index;  /* "host class" -> the group object */
    int oom;
} collect_ctx;

static int on_group(const store_group *g, void *payload)
{
    collect_ctx *x = payload;
    json_t *o = json_object();
    report_class k = classify_from_name(g->class_name);
    char key[600];

    snprintf(key, sizeof(key), "%s %s", g->host, g->class_name);
    if (o == NULL || out_json_set(o, "host", out_json_str(g->host)) ||
        out_json_set(o, "class", out_json_str(g->class_name)) ||
        out_json_set(o, "reports", json_integer(g->reports)) ||
        out_json_set(o, "distinct", json_integer(g->rows)) ||
        out_json_set(o, "first_seen", time_json(g->first_seen)) ||
        out_json_set(o, "last_seen", time_json(g->last_seen)) ||
        out_json_set(o, "per_day", json_object()) || out_json_set(o, "keys", json_object()) ||
        out_json_set(o, "known_pins", json_object()) ||
        out_json_set(o, "action",
                     json_string(classify_action(k == CLASS_COUNT ? CLASS_UNCLASSIFIED : k))) ||
        json_array_append(x->groups, o) != 0 || json_object_set(x->index, key, o) != 0) {
        json_decref(o);
        x->oom = 1;
        return 1;
    }
    json_decref(o);
    return 0;
}

/* Add n to obj[key] (an integer), up to REPORTS_MAX_KEYS keys. */
static int bump(json_t *obj, const char *key, int64_t n)
{
    json_t *v = json_object_get(obj, key);

    if (v != NULL) {
        return json_integer_set(v, json_integer_value(v) + n);
    }
    if (json_object_size(obj) >= REPORTS_MAX_KEYS) {
        return 0;
    }
    return json_object_set_new(obj, key, json_integer(n));
}

static int bump_list(json_t *obj, const char *list, int64_t n)
{
    char pin[64];
    const char *p = list;

    while (*p != '\0') {
        const char *sp = strchr(p, ' ');
        size_t len = sp != NULL ? (size_t)(sp - p) : strlen(p);
        if (len > 0 && len < sizeof(pin)) {
            memcpy(pin, p, len);
            pin[len] = '\0';
            if (bump(obj, pin, n) != 0) {
                return -1;
            }
        }
        p += len;
        if (*p == ' ') {
            p++;
        }
    }
    return 0;
}

static int on_row(const store_row *r, void *payload)
{
    collect_ctx *x = payload;
    char key[600];
    json_t *g;

    snprintf(key, sizeof(key), "%s %s", r->host, r->class_name);
    g = json_object_get(x->index, key);
    if (g == NULL) {
        return 0;
    }
    if (bump_list(json_object_get(g, "keys"),
                  r->served_pins[0] != '\0' ? r->served_pins : r->validated_pins, r->count) != 0 ||
        bump_list(json_object_get(g, "known_pins"), r->known_pins, r->count) != 0) {
        x->oom = 1;
        return 1;
    }
    return 0;
}

/* Days per host and class need the host: one series query per group. */
static int on_point(const store_point *p, void *payload)
{
    json_t *g = payload;
    char day[32];

    if (json_string_value(json_object_get(g, "class")) == NULL ||
        strcmp(json_string_value(json_object_get(g, "class")), p->class_name) != 0) {
        return 0;
    }
    if (pinset__time_write(day, sizeof(day), p->start) != 0) {
        return 0;
    }
    day[10] = '\0';
    return bump(json_object_get(g, "per_day"), day, p->reports) != 0 ? 1 : 0;
}

static void print_counts(const char *label, json_t *obj)
{
    const char *k;
    json_t *v;

    if (json_object_size(obj) == 0) {
        return;
    }
    printf("  %s:\n", label);
    json_object_foreach(obj, k, v)
    {
        printf("    ");
        out_safe(stdout, k);
        printf(" %lld\n", (long long)json_integer_value(v));
    }
}

/* A string member of g, or `none` when it is missing or null (a time pinset cannot write). */
static const char *member_str(const json_t *g, const char *key, const char *none)
{
    const char *v = json_string_value(json_object_get(g, key));
    return v != NULL ? v : none;
}

static void print_text(json_t *groups)
{
    size_t i;
    json_t *g;

    if (json_array_size(groups) == 0) {
        printf("no reports\n");
        return;
    }
    json_array_foreach(groups, i, g)
    {
        out_safe(stdout, json_string_value(json_object_get(g, "host")));
        printf(": ");
        out_safe(stdout, json_string_value(json_object_get(g, "class")));
        printf(": %lld reports (%lld distinct), first %s, last %s\n",
               (long long)json_integer_value(json_object_get(g, "reports")),
               (long long)json_integer_value(json_object_get(g, "distinct")),
               member_str(g, "first_seen", "unknown"), member_str(g, "last_seen", "unknown"));
        print_counts("per day", json_object_get(g, "per_day"));
        print_counts("keys seen (spki pins of the chains)", json_object_get(g, "keys"));
        print_counts("clients' known pins", json_object_get(g, "known_pins"));
        printf("  do: %s\n", member_str(g, "action", "unknown"));
    }
}

int cmd_reports(int argc, char **argv)
{
    reports_args a;
    collect_ctx x = {NULL, NULL, 0};
    store_filter f;
    store *db = NULL;
    char err[256], shown[512];
    int rc;

    rc = parse_args(&a, argc, argv);
    if (rc != EXIT_OK) {
        return rc < 0 ? EXIT_OK : rc;
    }
    if (store_open(&db, a.db, 1, err, sizeof(err)) != 0) {
        cli_err("reports", "%s: %s", store_target_shown(a.db, shown, sizeof(shown)), err);
        return EXIT_INPUT;
    }
    f.since = a.since;
    f.host = a.host;
    x.groups = json_array();
    x.index = json_object();
    rc = EXIT_INTERNAL;
    if (x.groups == NULL || x.index == NULL) {
        cli_err("reports", "out of memory");
        goto done;
    }
    if (db->ops->groups(db, &f, on_group, &x, err, sizeof(err)) < 0 ||
        db->ops->rows(db, &f, REPORTS_MAX_ROWS, on_row, &x, err, sizeof(err)) < 0) {
        cli_err("reports", "%s: %s", store_target_shown(a.db, shown, sizeof(shown)),
                x.oom ? "out of memory" : err);
        rc = x.oom ? EXIT_INTERNAL : EXIT_INPUT;
        goto done;
    }
    {
        size_t i;
        json_t *g;
        json_array_foreach(x.groups, i, g)
        {
            store_filter gf = {a.since, json_string_value(json_object_get(g, "host"))};
            if (db->ops->series(db, &gf, 86400, on_point, g, err, sizeof(err)) < 0) {
                cli_err("reports", "%s: %s", store_target_shown(a.db, shown, sizeof(shown)), err);
                rc = EXIT_INPUT;
                goto done;
            }
        }
    }
    if (a.json) {
        json_t *doc = json_object();
        if (doc == NULL ||
            out_json_set(doc, "db", out_json_str(store_target_shown(a.db, shown, sizeof(shown)))) ||
            out_json_set(doc, "since", a.since > 0 ? time_json(a.since) : json_null()) ||
            out_json_set(doc, "groups", json_incref(x.groups))) {
            json_decref(doc);
            cli_err("reports", "out of memory");
            goto done;
        }
        if (out_json_dump(stdout, doc) != 0) {
            json_decref(doc);
            rc = cli_output_failed("reports");
            goto done;
        }
        json_decref(doc);
    } else {
        print_text(x.groups);
    }
    rc = EXIT_OK;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        rc = cli_output_failed("reports");
    }
done:
    json_decref(x.groups);
    json_decref(x.index);
    store_close(db);
    return rc;
}
