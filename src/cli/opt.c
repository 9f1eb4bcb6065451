/*
 * opt.c - table-driven option parsing for the pinset tool.
 */
#include "opt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "suggest.h"

void opt_init(opt_state *st, int argc, char **argv)
{
    st->argc = argc;
    st->argv = argv;
    st->next = 1;
    st->only_positional = 0;
}

static int find_long(const cmd_spec *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
        if (strlen(cmd->opts[i].name) == len && memcmp(cmd->opts[i].name, name, len) == 0) {
            return i;
        }
    }
    return -1;
}

/* The command's long option nearest to a mistyped one, or NULL. */
static const char *opt_nearest(const cmd_spec *cmd, const char *name, size_t len)
{
    suggest sg;

    suggest_init(&sg, name, len, 0);
    for (int i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
        suggest_offer(&sg, cmd->opts[i].name);
    }
    suggest_offer(&sg, "help");
    return suggest_result(&sg);
}

static int find_short(const cmd_spec *cmd, char c)
{
    for (int i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
        if (cmd->opts[i].short_name == c) {
            return i;
        }
    }
    return -1;
}

/* The last usage message, for a command that must also say it elsewhere (check's nagios line). */
static char last_usage[256];

const char *opt_last_usage(void)
{
    return last_usage;
}

void opt_set_last_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_usage, sizeof(last_usage), fmt, ap);
    va_end(ap);
}

int opt_usage_error(const cmd_spec *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_usage, sizeof(last_usage), fmt, ap);
    va_end(ap);
    fprintf(stderr, "pinset: %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: pinset %s %s\n(see 'pinset %s --help')\n", cmd->name, cmd->synopsis,
            cmd->name);
    return EXIT_USAGE;
}

static int take_value(opt_state *st, const cmd_spec *cmd, int idx, const char *inline_val,
                      const char **value)
{
    const opt_spec *o = &cmd->opts[idx];

    if (o->arg == NULL) {
        if (inline_val != NULL) {
            opt_usage_error(cmd, "option --%s takes no value", o->name);
            return OPT_ERROR;
        }
        *value = NULL;
        return idx;
    }
    if (inline_val != NULL) {
        *value = inline_val;
        return idx;
    }
    if (st->next >= st->argc) {
        opt_usage_error(cmd, "option --%s needs a value (%s)", o->name, o->arg);
        return OPT_ERROR;
    }
    *value = st->argv[st->next++];
    return idx;
}

int opt_next(opt_state *st, const cmd_spec *cmd, const char **value)
{
    const char *a;

    *value = NULL;
    if (st->next >= st->argc) {
        return OPT_END;
    }
    a = st->argv[st->next++];
    if (st->only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
        *value = a;
        return OPT_POSITIONAL;
    }
    if (strcmp(a, "--") == 0) {
        st->only_positional = 1;
        return opt_next(st, cmd, value);
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        return OPT_HELP;
    }
    if (a[1] == '-') {
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        int idx = find_long(cmd, name, len);
        if (idx < 0) {
            const char *near = opt_nearest(cmd, name, len);
            if (near != NULL) {
                opt_usage_error(cmd, "unknown option '--%.*s'; did you mean '--%s'?", (int)len,
                                name, near);
            } else {
                opt_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
            }
            return OPT_ERROR;
        }
        return take_value(st, cmd, idx, eq != NULL ? eq + 1 : NULL, value);
    }
    if (a[2] != '\0') {
        int idx = find_short(cmd, a[1]);
        if (idx >= 0 && cmd->opts[idx].arg != NULL) {
            *value = a + 2; /* -oVALUE */
            return idx;
        }
        opt_usage_error(cmd, "unknown option '%s'", a);
        return OPT_ERROR;
    }
    int idx = find_short(cmd, a[1]);
    if (idx < 0) {
        opt_usage_error(cmd, "unknown option '%s'", a);
        return OPT_ERROR;
    }
    return take_value(st, cmd, idx, NULL, value);
}

void opt_print_help(const cmd_spec *cmd)
{
    printf("usage: pinset %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->summary);
    if (cmd->opts == NULL || cmd->opts[0].name == NULL) {
        printf("\noptions:\n  -h, --help              show this help\n");
        return;
    }
    printf("\noptions:\n");
    for (int i = 0; cmd->opts[i].name != NULL; i++) {
        const opt_spec *o = &cmd->opts[i];
        char left[64];
        if (o->short_name != 0) {
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        } else {
            snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        }
        printf("  %-30s %s\n", left, o->help);
    }
    printf("  %-30s %s\n", "-h, --help", "show this help");
}

int opt_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    unsigned long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return -1;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

int opt_parse_seconds(const char *s, unsigned int *ms_out)
{
    unsigned long whole = 0, frac = 0, scale = 1000;
    const char *p = s;

    if (*p < '0' || *p > '9') {
        return -1;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (unsigned long)(*p - '0');
        if (whole > 86400) {
            return -1;
        }
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && scale > 1; p++) {
            scale /= 10;
            frac += (unsigned long)(*p - '0') * scale;
        }
    }
    if (*p != '\0' || whole * 1000 + frac == 0) {
        return -1;
    }
    *ms_out = (unsigned int)(whole * 1000 + frac);
    return 0;
}
