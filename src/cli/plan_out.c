/*
 * plan_out.c - the plan of `pinset plan` as text (a matrix, then why each
 * version breaks), JSON (one object per version and host, and a summary) or
 * Markdown (a table for a change review). See plan.h.
 */
#include <jansson.h>

#include "out.h"
#include "plan.h"

/* Shares are fractions people write with few digits: print them so ("0.3", not 0.2999...). */
#define PLAN_REAL_DIGITS 10

static double rounded(double x)
{
    return (double)(int64_t)(x * 1e9 + 0.5) / 1e9; /* x is from 0 to PLAN_FLEET_VERSIONS */
}

/* "FAIL (no-match)", or the verdict alone when there is no reason. */
static void cell_word(char *buf, size_t cap, const plan_cell *c)
{
    if (c->reason == PINSET_REASON_NONE) {
        snprintf(buf, cap, "%s", pinset_verdict_name(c->verdict));
    } else {
        snprintf(buf, cap, "%s (%s)", pinset_verdict_name(c->verdict),
                 pinset_reason_name(c->reason));
    }
}

static void support_word(char *buf, size_t cap, const plan_version *v, int64_t at)
{
    if (v->eos_text[0] == '\0') {
        snprintf(buf, cap, "yes");
    } else if (plan_version_in_support(v, at)) {
        snprintf(buf, cap, "until %s", v->eos_text);
    } else {
        snprintf(buf, cap, "ended %s", v->eos_text);
    }
}

static void share_word(char *buf, size_t cap, const plan_version *v)
{
    if (v->has_share) {
        snprintf(buf, cap, "%.4g", v->share);
    } else {
        snprintf(buf, cap, "-");
    }
}

/* The names of the breaking versions in support, ", "-separated, into f (text: made safe). */
static void breaking_names(FILE *f, const plan_doc *d, int markdown)
{
    size_t said = 0;

    for (size_t v = 0; v < d->fleet->count; v++) {
        const plan_version *pv = &d->fleet->v[v];
        if (!plan_version_in_support(pv, d->at) || !plan_version_breaks(d, v)) {
            continue;
        }
        fprintf(f, "%s%s", said++ ? ", " : "", markdown ? "`" : "");
        out_safe(f, pv->name);
        fprintf(f, "%s", markdown ? "`" : "");
    }
}

static void summary_text(FILE *f, const plan_doc *d, int markdown)
{
    const char *b = markdown ? "**" : "";

    if (d->breaking == 0) {
        fprintf(f, "%sno version in support breaks%s: %zu of %zu in support at this date\n", b, b,
                d->in_support, d->fleet->count);
        return;
    }
    fprintf(
        f, "%sat risk: share %.4g%s: %zu of %zu version%s in support would refuse the chain: ", b,
        rounded(d->share_at_risk), b, d->breaking, d->in_support, d->in_support == 1 ? "" : "s");
    breaking_names(f, d, markdown);
    fprintf(f, "\n");
    if (d->share_unknown > 0) {
        fprintf(f, "%zu of them give%s no share: the share at risk is more than that\n",
                d->share_unknown, d->share_unknown == 1 ? "s" : "");
    }
}

/* ---- text ---- */

static void pad(size_t used, size_t width)
{
    for (size_t i = used; i < width + 2; i++) {
        fputc(' ', stdout);
    }
}

int plan_print_text(const plan_doc *d)
{
    const plan_fleet *f = d->fleet;
    size_t wname = strlen("version"), wsup = strlen("support"), wshare = strlen("share");
    size_t wh[PLAN_HOSTS_MAX];
    char t[OUT_TIME_MAX], w[64];

    for (size_t h = 0; h < d->host_count; h++) {
        wh[h] = strlen(d->hosts[h]);
    }
    for (size_t v = 0; v < f->count; v++) {
        size_t n = strlen(f->v[v].name);
        wname = n > wname ? n : wname;
        support_word(w, sizeof(w), &f->v[v], d->at);
        wsup = strlen(w) > wsup ? strlen(w) : wsup;
        share_word(w, sizeof(w), &f->v[v]);
        wshare = strlen(w) > wshare ? strlen(w) : wshare;
        for (size_t h = 0; h < d->host_count; h++) {
            cell_word(w, sizeof(w), plan_cell_at(d, v, h));
            wh[h] = strlen(w) > wh[h] ? strlen(w) : wh[h];
        }
    }
    (void)out_time_iso(t, sizeof(t), d->at);
    printf("plan: %s", d->key_file != NULL ? "" : "chain "); /* else "a new leaf on KEY under" */
    out_safe(stdout, d->chain_file);
    printf(" at %s: %zu version%s, %zu host%s\n", t, f->count, f->count == 1 ? "" : "s",
           d->host_count, d->host_count == 1 ? "" : "s");
    printf("version");
    pad(strlen("version"), wname);
    printf("support");
    pad(strlen("support"), wsup);
    printf("share");
    pad(strlen("share"), wshare);
    for (size_t h = 0; h < d->host_count; h++) {
        printf("%s", d->hosts[h]);
        if (h + 1 < d->host_count) {
            pad(strlen(d->hosts[h]), wh[h]);
        }
    }
    printf("\n");
    for (size_t v = 0; v < f->count; v++) {
        out_safe(stdout, f->v[v].name);
        pad(strlen(f->v[v].name), wname);
        support_word(w, sizeof(w), &f->v[v], d->at);
        printf("%s", w);
        pad(strlen(w), wsup);
        share_word(w, sizeof(w), &f->v[v]);
        printf("%s", w);
        pad(strlen(w), wshare);
        for (size_t h = 0; h < d->host_count; h++) {
            cell_word(w, sizeof(w), plan_cell_at(d, v, h));
            printf("%s", w);
            if (h + 1 < d->host_count) {
                pad(strlen(w), wh[h]);
            }
        }
        printf("\n");
    }
    for (size_t v = 0; v < f->count; v++) {
        for (size_t h = 0; h < d->host_count; h++) {
            const plan_cell *c = plan_cell_at(d, v, h);
            if (c->verdict == PINSET_VERDICT_PASS || c->verdict == PINSET_VERDICT_NOT_PINNED) {
                continue;
            }
            printf("  ");
            out_safe(stdout, f->v[v].name);
            printf(" on %s: ", d->hosts[h]);
            out_safe(stdout, c->explain);
            printf("\n");
        }
    }
    summary_text(stdout, d, 0);
    return 0;
}

/* ---- JSON ---- */

static json_t *cell_json(const plan_doc *d, size_t v, size_t h)
{
    const plan_version *pv = &d->fleet->v[v];
    const plan_cell *c = plan_cell_at(d, v, h);
    json_t *o = json_object();
    int bad = o == NULL;

    bad |= out_json_set(o, "version", out_json_str(pv->name));
    bad |= out_json_set(o, "host", json_string(d->hosts[h]));
    bad |= out_json_set(o, "verdict", json_string(pinset_verdict_name(c->verdict)));
    bad |= out_json_set(o, "reason", json_string(pinset_reason_name(c->reason)));
    bad |= out_json_set(o, "blocks", json_boolean(c->blocks));
    bad |= out_json_set(o, "share", pv->has_share ? json_real(pv->share) : json_null());
    bad |= out_json_set(o, "in_support", json_boolean(plan_version_in_support(pv, d->at)));
    bad |= out_json_set(o, "end_of_support",
                        pv->eos_text[0] ? json_string(pv->eos_text) : json_null());
    bad |= out_json_set(o, "explain", out_json_str(c->explain));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *summary_json(const plan_doc *d)
{
    json_t *o = json_object(), *names = json_array();
    int bad = o == NULL || names == NULL;

    for (size_t v = 0; !bad && v < d->fleet->count; v++) {
        if (plan_version_in_support(&d->fleet->v[v], d->at) && plan_version_breaks(d, v)) {
            bad |= json_array_append_new(names, out_json_str(d->fleet->v[v].name)) != 0;
        }
    }
    if (bad) {
        json_decref(o);
        json_decref(names);
        return NULL;
    }
    bad |= out_json_set(o, "versions", json_integer((json_int_t)d->fleet->count));
    bad |= out_json_set(o, "in_support", json_integer((json_int_t)d->in_support));
    bad |= out_json_set(o, "breaking", names);
    bad |= out_json_set(o, "share_at_risk", json_real(rounded(d->share_at_risk)));
    bad |= out_json_set(o, "share_unknown", json_integer((json_int_t)d->share_unknown));
    bad |= out_json_set(o, "safe", json_boolean(d->breaking == 0));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int plan_print_json(const plan_doc *d)
{
    json_t *o = json_object(), *hosts = json_array(), *cells = json_array();
    char t[OUT_TIME_MAX];
    int bad = o == NULL || hosts == NULL || cells == NULL;

    for (size_t h = 0; !bad && h < d->host_count; h++) {
        bad |= json_array_append_new(hosts, json_string(d->hosts[h])) != 0;
    }
    for (size_t v = 0; !bad && v < d->fleet->count; v++) {
        for (size_t h = 0; !bad && h < d->host_count; h++) {
            bad |= json_array_append_new(cells, cell_json(d, v, h)) != 0;
        }
    }
    if (bad) {
        json_decref(o);
        json_decref(hosts);
        json_decref(cells);
        return -1;
    }
    (void)out_time_iso(t, sizeof(t), d->at);
    bad |= out_json_set(o, "fleet", out_json_str(d->fleet_file));
    bad |= out_json_set(o, "chain", out_json_str(d->chain_file));
    bad |= out_json_set(o, "key", d->key_file != NULL ? out_json_str(d->key_file) : json_null());
    bad |= out_json_set(o, "at", json_string(t));
    bad |= out_json_set(o, "hosts", hosts);
    bad |= out_json_set(o, "results", cells);
    bad |= out_json_set(o, "summary", summary_json(d));
    /* as out_json_dump, with shares printed as written */
    bad |= bad ||
           json_dumpf(o, stdout,
                      JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                          JSON_REAL_PRECISION(PLAN_REAL_DIGITS)) != 0 ||
           fputc('\n', stdout) == EOF;
    json_decref(o);
    return bad ? -1 : 0;
}

/* ---- Markdown ---- */

/* Text in a table cell: no '|' that would end it, no control character. */
static void md_cell(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '|') {
            fputs("\\|", stdout);
        } else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            fputc('?', stdout);
        } else {
            fputc(*s, stdout);
        }
    }
}

int plan_print_markdown(const plan_doc *d)
{
    char t[OUT_TIME_MAX], w[64];

    (void)out_time_iso(t, sizeof(t), d->at);
    printf("### pinset plan: `");
    md_cell(d->chain_file);
    printf("` at %s\n\n| Version | Support | Share |", t);
    for (size_t h = 0; h < d->host_count; h++) {
        printf(" %s |", d->hosts[h]);
    }
    printf("\n|---|---|---|");
    for (size_t h = 0; h < d->host_count; h++) {
        printf("---|");
    }
    printf("\n");
    for (size_t v = 0; v < d->fleet->count; v++) {
        const plan_version *pv = &d->fleet->v[v];
        printf("| ");
        md_cell(pv->name);
        support_word(w, sizeof(w), pv, d->at);
        printf(" | %s | ", w);
        share_word(w, sizeof(w), pv);
        printf("%s |", w);
        for (size_t h = 0; h < d->host_count; h++) {
            const plan_cell *c = plan_cell_at(d, v, h);
            cell_word(w, sizeof(w), c);
            printf(c->blocks ? " **%s** |" : " %s |", w);
        }
        printf("\n");
    }
    printf("\n");
    summary_text(stdout, d, 1);
    return 0;
}
