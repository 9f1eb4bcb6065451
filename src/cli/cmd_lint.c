/*
 * cmd_lint.c - `pinset lint`: a policy's health, without touching the network.
 *
 * Each finding of pinset_lint_run() is printed like a compiler diagnostic
 * (`FILE: PATH: SEVERITY: ID: why; fix: how`) or as JSON. A file that cannot
 * be read or parsed is an input error (exit 3), reported on stderr with its
 * line, column and JSON path; otherwise findings of severity error give exit
 * 1, and warnings or notes alone exit 0. docs/lint-rules.md lists the rules.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "out.h"

enum { LINT_OPT_FORMAT, LINT_OPT_NOW, LINT_OPT_WARN_DAYS, LINT_OPT_COLOR, LINT_OPT_QUIET };

static const opt_spec lint_opts[] = {
    {"format", 'f', "FORMAT", "text (default) or json"},
    {"now", 0, "TIME", "judge expiry at this RFC 3339 time instead of the current time"},
    {"warn-days", 0, "N", "flag pins and rules expiring within N days (default 30)"},
    OUT_OPT_COLOR,
    {"quiet", 'q', NULL, "text: print errors only, not warnings or notes"},
    {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_lint_spec = {"lint", "[options] FILE... | -",
                                "Check policy files for risky or broken pinning, offline.",
                                lint_opts};

/* Most files on one command line. */
#define LINT_MAX_INPUTS 100000
/* Largest policy read from standard input (the library's bound for a policy file). */
#define LINT_MAX_STDIN ((size_t)256 * 1024 * 1024)

typedef struct lint_run {
    int json;
    int color;
    int quiet; /* -q: text shows errors only */
    pinset_lint_options opts;
    const char *file; /* the file being linted, as given */
    char name[512];   /* the same, safe to print */
    size_t counts[3]; /* findings by severity */
    size_t failed;    /* files that could not be read or parsed */
    json_t *findings; /* json: this file's findings */
    int oom;
} lint_run;

/* ---- findings ---- */

static const out_style severity_style[] = {OUT_CYAN, OUT_YELLOW, OUT_RED};

static int print_text(const pinset_lint_finding *f, pinset_lint_severity sev, lint_run *run)
{
    out_safe(stdout, run->name);
    fputs(": ", stdout);
    out_safe(stdout, pinset_lint_finding_path(f));
    printf(": %s%s%s: %s: ", out_sgr(run->color, severity_style[sev]),
           pinset_lint_severity_name(sev), out_sgr_reset(run->color), pinset_lint_finding_id(f));
    out_safe(stdout, pinset_lint_finding_message(f));
    fputs("; fix: ", stdout);
    out_safe(stdout, pinset_lint_finding_fix(f));
    fputc('\n', stdout);
    return 0;
}

static json_t *finding_json(const pinset_lint_finding *f)
{
    json_t *o = json_object();
    size_t rule = pinset_lint_finding_rule(f);

    if (o == NULL ||
        out_json_set(o, "severity",
                     json_string(pinset_lint_severity_name(pinset_lint_finding_severity(f)))) ||
        out_json_set(o, "id", json_string(pinset_lint_finding_id(f))) ||
        out_json_set(o, "path", out_json_str(pinset_lint_finding_path(f))) ||
        out_json_set(o, "rule", rule == SIZE_MAX ? json_null() : json_integer((json_int_t)rule)) ||
        out_json_set(o, "host", out_json_str(pinset_lint_finding_host(f))) ||
        out_json_set(o, "message", out_json_str(pinset_lint_finding_message(f))) ||
        out_json_set(o, "fix", out_json_str(pinset_lint_finding_fix(f)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int on_finding(const pinset_lint_finding *f, void *payload)
{
    lint_run *run = payload;
    pinset_lint_severity sev = pinset_lint_finding_severity(f);

    if ((unsigned)sev > PINSET_LINT_ERROR) {
        sev = PINSET_LINT_ERROR; /* a newer library's severity: count it as the worst */
    }
    run->counts[sev]++;
    if (!run->json) {
        return run->quiet && sev != PINSET_LINT_ERROR ? 0 : print_text(f, sev, run);
    }
    if (json_array_append_new(run->findings, finding_json(f)) != 0) {
        run->oom = 1;
        return 1;
    }
    return 0;
}

/* ---- one file ---- */

static void report_load_error(lint_run *run, const pinset_diag *d, json_t *entry)
{
    const char *msg = d->message[0] != '\0' ? d->message : pinset_strerror(d->code);

    cli_err_diag("lint", d);
    if (entry == NULL) {
        return;
    }
    json_t *e = json_object();
    if (e == NULL || out_json_set(e, "code", json_string(pinset_err_name(d->code))) ||
        out_json_set(e, "message", out_json_str(msg)) ||
        out_json_set(e, "line", d->line > 0 ? json_integer((json_int_t)d->line) : json_null()) ||
        out_json_set(e, "column",
                     d->column > 0 ? json_integer((json_int_t)d->column) : json_null()) ||
        out_json_set(e, "path", d->path[0] != '\0' ? out_json_str(d->path) : json_null()) ||
        out_json_set(entry, "status", json_string("error")) || out_json_set(entry, "error", e)) {
        run->oom = 1;
    }
}

/* Lint one file. Returns EXIT_OK, EXIT_INPUT (unreadable or unparsable) or EXIT_INTERNAL. */
static int lint_file(lint_run *run, const char *file, json_t *files)
{
    pinset_policy *policy = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    json_t *entry = NULL;
    pinset_err err;
    int rc = EXIT_OK;

    run->file = file;
    out_safe_copy(run->name, sizeof(run->name), strcmp(file, "-") == 0 ? "standard input" : file);
    if (files != NULL) {
        entry = json_object();
        run->findings = json_array();
        if (entry == NULL || run->findings == NULL || json_array_append_new(files, entry) != 0 ||
            out_json_set(entry, "file", out_json_str(file))) {
            json_decref(run->findings);
            run->findings = NULL;
            return EXIT_INTERNAL;
        }
    }
    d.input = cli_is_stdin(file) ? CLI_STDIN_NAME : file; /* names a buffer read from stdin */
    err = cli_policy_read(&policy, "lint", file, LINT_MAX_STDIN, NULL, &d);
    if (err != PINSET_OK) {
        report_load_error(run, &d, entry);
        run->failed++;
        rc = err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
        goto out;
    }
    pinset_diag_init(&d);
    err = pinset_lint_run(policy, &run->opts, on_finding, run, &d);
    if (err != PINSET_OK || run->oom) {
        cli_err("lint", "%s: %s", run->name, run->oom ? "out of memory" : d.message);
        rc = EXIT_INTERNAL;
        goto out;
    }
    if (entry != NULL && out_json_set(entry, "status", json_string("ok"))) {
        rc = EXIT_INTERNAL;
    }
out:
    if (entry != NULL && out_json_set(entry, "findings", run->findings) && rc == EXIT_OK) {
        rc = EXIT_INTERNAL;
    }
    run->findings = NULL;
    if (run->oom && rc == EXIT_OK) {
        rc = EXIT_INTERNAL;
    }
    pinset_policy_free(policy);
    return rc;
}

/* ---- arguments ---- */

static int parse_args(lint_run *run, int argc, char **argv, const char **inputs, size_t *n)
{
    out_color_mode color = OUT_COLOR_AUTO;
    unsigned long days;
    int stdin_seen = 0;
    opt_state st;
    const char *v;
    int r;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_lint_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_lint_spec);
            return -1;
        case OPT_POSITIONAL:
            if (strcmp(v, "-") == 0 && stdin_seen++) {
                return opt_usage_error(&cmd_lint_spec, "standard input ('-') given twice");
            }
            if (*n >= LINT_MAX_INPUTS) {
                return opt_usage_error(&cmd_lint_spec, "more than %d files", LINT_MAX_INPUTS);
            }
            inputs[(*n)++] = v;
            break;
        case LINT_OPT_FORMAT:
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                return opt_usage_error(&cmd_lint_spec, "unknown format '%s' (text or json)", v);
            }
            run->json = strcmp(v, "json") == 0;
            break;
        case LINT_OPT_NOW:
            if (out_parse_time(v, &run->opts.now) != 0) {
                return opt_usage_error(
                    &cmd_lint_spec,
                    "--now wants an RFC 3339 time after 1970, such as 2027-01-01T00:00:00Z, got '%s'",
                    v);
            }
            break;
        case LINT_OPT_WARN_DAYS:
            if (opt_parse_uint(v, 36500, &days) != 0) {
                return opt_usage_error(&cmd_lint_spec, "--warn-days wants 0 to 36500, got '%s'", v);
            }
            run->opts.warn_days = (unsigned int)days;
            break;
        case LINT_OPT_COLOR:
            if (out_color_parse(v, &color) != 0) {
                return opt_usage_error(&cmd_lint_spec,
                                       "--color '%s': expected auto, never or always", v);
            }
            break;
        case LINT_OPT_QUIET:
            run->quiet = 1;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (*n == 0) {
        return opt_usage_error(&cmd_lint_spec,
                               "no policy file given (give FILE, or - for standard input)");
    }
    run->color = !run->json && out_color_enabled(stdout, color);
    return EXIT_OK;
}

static json_t *summary_json(const lint_run *run, json_t *files)
{
    char now[OUT_TIME_MAX];
    json_t *doc = json_object();

    (void)out_time_iso(now, sizeof(now), run->opts.now);
    if (doc == NULL || out_json_set(doc, "now", json_string(now)) ||
        out_json_set(doc, "warn_days", json_integer(run->opts.warn_days)) ||
        out_json_set(doc, "files", json_incref(files)) ||
        out_json_set(doc, "errors", json_integer((json_int_t)run->counts[PINSET_LINT_ERROR])) ||
        out_json_set(doc, "warnings", json_integer((json_int_t)run->counts[PINSET_LINT_WARNING])) ||
        out_json_set(doc, "infos", json_integer((json_int_t)run->counts[PINSET_LINT_INFO])) ||
        out_json_set(doc, "failed_files", json_integer((json_int_t)run->failed))) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int cmd_lint(int argc, char **argv)
{
    lint_run run;
    const char **inputs;
    json_t *files = NULL, *doc;
    size_t n = 0;
    int rc, worst = EXIT_OK;

    memset(&run, 0, sizeof(run));
    run.opts = (pinset_lint_options)PINSET_LINT_OPTIONS_INIT;
    inputs = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*inputs));
    if (inputs == NULL) {
        cli_err("lint", "out of memory");
        return EXIT_INTERNAL;
    }
    rc = parse_args(&run, argc, argv, inputs, &n);
    if (rc != EXIT_OK) {
        free(inputs);
        return rc < 0 ? EXIT_OK : rc; /* -1: --help was printed */
    }
    if (run.opts.now == 0) {
        run.opts.now = (int64_t)time(NULL); /* one instant for every file */
    }
    if (run.json && (files = json_array()) == NULL) {
        cli_err("lint", "out of memory");
        free(inputs);
        return EXIT_INTERNAL;
    }
    for (size_t i = 0; i < n && worst != EXIT_INTERNAL; i++) {
        rc = lint_file(&run, inputs[i], files);
        if (rc == EXIT_INTERNAL || (rc == EXIT_INPUT && worst == EXIT_OK)) {
            worst = rc;
        }
    }
    if (run.json && worst != EXIT_INTERNAL) {
        doc = summary_json(&run, files);
        if (doc == NULL) {
            cli_err("lint", "out of memory");
            worst = EXIT_INTERNAL;
        } else if (out_json_dump(stdout, doc) != 0) {
            worst = cli_output_failed("lint");
        }
        json_decref(doc);
    }
    json_decref(files);
    free(inputs);
    if ((fflush(stdout) != 0 || ferror(stdout)) && worst == EXIT_OK) {
        worst = cli_output_failed("lint");
    }
    if (worst != EXIT_OK) {
        return worst;
    }
    return run.counts[PINSET_LINT_ERROR] > 0 ? EXIT_NEGATIVE : EXIT_OK;
}
