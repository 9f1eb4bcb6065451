/*
 * cmd_policy.c - `pinset policy`: edit a policy file in place, so that a
 * rollout needs no hand-editing of JSON.
 *
 *   pinset policy fmt FILE [--check]
 *   pinset policy add-host FILE HOST [--include-subdomains] [--pinset NAME] [--mode MODE]
 *   pinset policy add-pin FILE (HOST | --pinset NAME) PIN [--kind K] [--role R] [--label L]
 *                 [--not-after TIME]
 *   pinset policy remove-pin FILE (HOST | --pinset NAME) PIN [--kind K]
 *   pinset policy set-mode FILE HOST enforce|report
 *
 * An edit is made on the policy's pinset JSON (jansson), then the result must
 * parse as a policy (the library's parser decides), is linted, and is written
 * atomically (a temporary file in the same directory, then rename) with the
 * file's mode, owner and group: in the canonical form for pinset's JSON, or
 * exported back to the file's own format (OkHttp, HPKP, curl, Chromium,
 * TrustKit) when that format can hold the edit, losing nothing that writing
 * the unedited policy does not lose already. An edit that brings more lint
 * errors is refused unless --force; a refused edit leaves the file as it was.
 * `fmt` writes the canonical form only; `fmt --check` says whether the file is
 * in it. Links are refused: a rename would leave the target as it was.
 */
#define _POSIX_C_SOURCE 200809L /* fstat, fchmod */

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <util/buf.h>
#include <util/read.h>

#include "cmd.h"
#include "common.h"
#include "out.h"
#include "outfile.h"

#define POLICY_FILE_MAX ((size_t)256 * 1024 * 1024) /* the library's bound for one policy */

enum {
    O_CHECK,
    O_INCLUDE_SUBDOMAINS,
    O_PINSET,
    O_MODE,
    O_KIND,
    O_ROLE,
    O_LABEL,
    O_NOT_AFTER,
    O_FORCE,
    O_DRY_RUN,
    O_END
};

static const opt_spec policy_opts[] = {
    [O_CHECK] = {"check", 0, NULL,
                 "fmt: exit 1 when FILE is not in the canonical form, write nothing"},
    [O_INCLUDE_SUBDOMAINS] = {"include-subdomains", 0, NULL,
                              "add-host: the rule covers subdomains"},
    [O_PINSET] = {"pinset", 0, "NAME",
                  "add-host: the rule's pin-set; add-pin, remove-pin: edit it"},
    [O_MODE] = {"mode", 0, "MODE", "add-host: enforce (default) or report"},
    [O_KIND] = {"kind", 'k', "KIND", "add-pin, remove-pin: spki (default) or cert"},
    [O_ROLE] = {"role", 'r', "ROLE", "add-pin: any (default), leaf, ca or backup"},
    [O_LABEL] = {"label", 'l', "TEXT", "add-pin: the pin's label"},
    [O_NOT_AFTER] = {"not-after", 0, "TIME", "add-pin: the pin stops counting at TIME"},
    [O_FORCE] = {"force", 0, NULL, "write even when the edit brings lint errors"},
    [O_DRY_RUN] = {"dry-run", 'n', NULL, "print the edited policy instead of writing FILE"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_policy_spec = {
    "policy", "fmt|add-host|add-pin|remove-pin|set-mode FILE [ARGS] [options]",
    "Edit a policy file in place, linted and written atomically in its canonical form.",
    policy_opts};

typedef struct policy_args {
    const char *action;
    const char *file;
    const char *arg[2]; /* the action's own arguments */
    size_t nargs;
    int check, subdomains, force, dry_run;
    const char *pinset, *mode, *role, *label, *not_after;
    pinset_pin_kind kind;
    int kind_given;
} policy_args;

/* ---- reading and writing ---- */

/* Count the lint errors of a policy (-1 when lint could not run). */
static int on_finding(const pinset_lint_finding *f, void *payload)
{
    size_t *errors = payload;

    *errors += pinset_lint_finding_severity(f) == PINSET_LINT_ERROR;
    return 0;
}

static long lint_errors(const pinset_policy *p)
{
    size_t n = 0;

    return pinset_lint_run(p, NULL, on_finding, &n, NULL) == PINSET_OK ? (long)n : -1;
}

/* Parse bytes as a policy, naming FILE on failure. 0, or an exit status after a message. */
static int parse_policy(pinset_policy **out, const char *file, const char *what, const uint8_t *p,
                        size_t len)
{
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    d.input = file;
    err = pinset_policy_parse(out, p, len, &d);
    if (err == PINSET_OK) {
        return 0;
    }
    if (what != NULL) {
        /* the edited document: its lines are not the file's */
        char name[512], msg[sizeof(d.path) + sizeof(d.message) + 2];
        out_safe_copy(name, sizeof(name), file);
        snprintf(msg, sizeof(msg), "%s%s%s", d.path, d.path[0] != '\0' ? ": " : "", d.message);
        out_safe_copy(msg, sizeof(msg), msg);
        cli_err("policy", "%s: %s would not be a valid policy: %s", name, what, msg);
        return EXIT_NEGATIVE;
    }
    cli_err_diag("policy", &d);
    return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
}

/*
 * Write `text` over FILE atomically, keeping the mode, owner and group of the
 * file that was read (`sb`). 0 or an exit status after a message.
 */
static int replace_file(const char *file, const char *name, const struct stat *sb,
                        const struct pinset__buf *text)
{
    outfile of;
    char err[512];

    if (outfile_open(&of, file, err, sizeof(err)) != 0) {
        cli_err("policy", "%s", err);
        return EXIT_INTERNAL;
    }
    of.mode = OUTFILE_MODE_SET | (unsigned int)(sb->st_mode & 07777);
    if (fchown(fileno(of.f), sb->st_uid, sb->st_gid) != 0) {
        cli_err("policy", "%s: cannot keep its owner and group: %s (nothing written)", name,
                strerror(errno));
        outfile_abort(&of);
        return EXIT_INTERNAL;
    }
    if (fwrite(text->p, 1, text->len, of.f) != text->len) {
        cli_err("policy", "cannot write %s: %s", name, strerror(errno));
        outfile_abort(&of);
        return EXIT_INTERNAL;
    }
    if (outfile_commit(&of, err, sizeof(err)) != 0) {
        cli_err("policy", "%s", err);
        return EXIT_INTERNAL;
    }
    return 0;
}

/* ---- edits on the JSON document ---- */

/* The canonical form of a host, for comparing rules (0 on success). */
static int canon(char *buf, size_t cap, const char *host)
{
    return pinset_host_canon(buf, cap, NULL, host, strlen(host), NULL) == PINSET_OK ? 0 : -1;
}

/* The rule object for HOST (compared canonical), or NULL. */
static json_t *find_rule(json_t *doc, const char *host)
{
    char want[PINSET_HOST_MAX], have[PINSET_HOST_MAX];
    json_t *rule;
    size_t i;

    if (canon(want, sizeof(want), host) != 0) {
        return NULL;
    }
    json_array_foreach(json_object_get(doc, "rules"), i, rule)
    {
        const char *h = json_string_value(json_object_get(rule, "host"));
        if (h != NULL && canon(have, sizeof(have), h) == 0 && strcmp(have, want) == 0) {
            return rule;
        }
    }
    return NULL;
}

/* The "pins" array of the edit's target (a rule, or a pin-set), created when asked. */
static json_t *target_pins(json_t *doc, const policy_args *a, const char *host, int create,
                           char *why, size_t cap)
{
    json_t *owner, *pins;

    if (a->pinset != NULL) {
        owner = json_object_get(json_object_get(doc, "pinsets"), a->pinset);
        if (owner == NULL) {
            snprintf(why, cap, "no pin-set '%s'", a->pinset);
            return NULL;
        }
    } else {
        owner = find_rule(doc, host);
        if (owner == NULL) {
            snprintf(why, cap, "no rule for '%s' (add it with: pinset policy add-host)", host);
            return NULL;
        }
    }
    pins = json_object_get(owner, "pins");
    if (pins == NULL && create) {
        pins = json_array();
        if (pins == NULL || json_object_set_new(owner, "pins", pins) != 0) {
            snprintf(why, cap, "out of memory");
            return NULL;
        }
    }
    if (pins == NULL || !json_is_array(pins)) {
        snprintf(why, cap, "it has no pins");
        return NULL;
    }
    return pins;
}

/* The pin-set a rule names, when the edit is on a rule (NULL otherwise). */
static json_t *rule_pinset(json_t *doc, const policy_args *a, const char *host, const char **name)
{
    json_t *rule = a->pinset == NULL ? find_rule(doc, host) : NULL;
    const char *n = rule != NULL ? json_string_value(json_object_get(rule, "pinset")) : NULL;

    *name = n;
    return n != NULL ? json_object_get(json_object_get(doc, "pinsets"), n) : NULL;
}

/* Whether pin entry `e` (a string or an object) is `pin`. */
static int entry_is(const json_t *e, const pinset_pin *pin)
{
    const char *v =
        json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "sha256"));
    const char *k = json_is_object(e) ? json_string_value(json_object_get(e, "kind")) : NULL;
    pinset_pin have;

    return v != NULL &&
           pinset_pin_parse(&have, v, strlen(v),
                            k != NULL && strcmp(k, "cert") == 0 ? PINSET_PIN_CERT : PINSET_PIN_SPKI,
                            NULL) == PINSET_OK &&
           pinset_pin_equal(&have, pin);
}

static int edit_add_host(json_t *doc, const policy_args *a, char *why, size_t cap)
{
    json_t *rules = json_object_get(doc, "rules"), *rule;
    char c[PINSET_HOST_MAX];

    if (canon(c, sizeof(c), a->arg[0]) != 0) {
        snprintf(why, cap, "'%s' is not a host name or address", a->arg[0]);
        return -1;
    }
    if (find_rule(doc, a->arg[0]) != NULL) {
        snprintf(why, cap, "a rule for '%s' exists already", c);
        return -1;
    }
    rule = json_object();
    if (!json_is_array(rules) || rule == NULL || out_json_set(rule, "host", json_string(c)) ||
        (a->subdomains && out_json_set(rule, "include_subdomains", json_true())) ||
        (a->mode != NULL && out_json_set(rule, "mode", json_string(a->mode))) ||
        (a->pinset != NULL && out_json_set(rule, "pinset", json_string(a->pinset))) ||
        json_array_append_new(rules, rule) != 0) {
        snprintf(why, cap, "cannot add the rule");
        return -1;
    }
    return 0;
}

static int edit_add_pin(json_t *doc, const policy_args *a, const pinset_pin *pin, char *why,
                        size_t cap)
{
    char b64[PINSET_PIN_STR_MAX];
    const char *setname;
    json_t *set = rule_pinset(doc, a, a->arg[0], &setname);
    json_t *pins = target_pins(doc, a, a->arg[0], 1, why, cap), *e, *p;
    size_t i;

    if (pins == NULL) {
        return -1;
    }
    json_array_foreach(json_object_get(set, "pins"), i, e)
    {
        if (entry_is(e, pin)) {
            snprintf(why, cap, "the rule has the pin already, through its pin-set '%s'", setname);
            return -1;
        }
    }
    json_array_foreach(pins, i, e)
    {
        if (entry_is(e, pin)) {
            snprintf(why, cap, "the pin is there already (pins[%zu])", i);
            return -1;
        }
    }
    if (pinset_pin_format(b64, sizeof(b64), pin, PINSET_PIN_FMT_BASE64) != PINSET_OK ||
        (p = json_object()) == NULL) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    if (out_json_set(p, "sha256", json_string(b64)) ||
        (pin->kind == PINSET_PIN_CERT && out_json_set(p, "kind", json_string("cert"))) ||
        (a->role != NULL && out_json_set(p, "role", json_string(a->role))) ||
        (a->label != NULL && out_json_set(p, "label", out_json_str(a->label))) ||
        (a->not_after != NULL && out_json_set(p, "not_after", json_string(a->not_after))) ||
        json_array_append_new(pins, p) != 0) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    return 0;
}

static int edit_remove_pin(json_t *doc, const policy_args *a, const pinset_pin *pin, char *why,
                           size_t cap)
{
    const char *setname;
    json_t *set = rule_pinset(doc, a, a->arg[0], &setname), *e;
    json_t *pins = target_pins(doc, a, a->arg[0], 0, why, cap);
    size_t i, removed = 0;

    json_array_foreach(json_object_get(set, "pins"), i, e)
    {
        if (entry_is(e, pin)) {
            /* removing it from the rule would change nothing: it would still be trusted */
            snprintf(why, cap,
                     "the pin comes from the rule's pin-set '%s': remove it there (--pinset %s), "
                     "or stop naming the pin-set",
                     setname, setname);
            return -1;
        }
    }
    if (pins == NULL) {
        return -1;
    }
    for (i = json_array_size(pins); i-- > 0;) { /* every copy: a pin listed twice goes too */
        if (entry_is(json_array_get(pins, i), pin)) {
            if (json_array_remove(pins, i) != 0) {
                snprintf(why, cap, "out of memory");
                return -1;
            }
            removed++;
        }
    }
    if (removed == 0) {
        snprintf(why, cap, "no such pin");
        return -1;
    }
    return 0;
}

static int edit_set_mode(json_t *doc, const policy_args *a, char *why, size_t cap)
{
    json_t *rule = find_rule(doc, a->arg[0]), *min;
    const char *was;

    if (rule == NULL) {
        snprintf(why, cap, "no rule for '%s'", a->arg[0]);
        return -1;
    }
    if (strcmp(a->arg[1], "enforce") != 0 && strcmp(a->arg[1], "report") != 0) {
        snprintf(why, cap, "mode '%s': expected enforce or report", a->arg[1]);
        return -1;
    }
    was = json_string_value(json_object_get(rule, "mode"));
    min = json_object_get(rule, "min_pins");
    /* min_pins at the old mode's default (2 enforce, 1 report) follows the mode */
    if (json_is_integer(min) &&
        json_integer_value(min) == (was != NULL && strcmp(was, "report") == 0 ? 1 : 2) &&
        json_object_set_new(rule, "min_pins",
                            json_integer(strcmp(a->arg[1], "report") == 0 ? 1 : 2)) != 0) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    return out_json_set(rule, "mode", json_string(a->arg[1])) == 0 ? 0 : -1;
}

/* ---- the command ---- */

static int usage_of(const policy_args *a)
{
    static const struct {
        const char *name;
        size_t nargs;
    } actions[] = {{"fmt", 0},        {"add-host", 1}, {"add-pin", 2},
                   {"remove-pin", 2}, {"set-mode", 2}, {NULL, 0}};
    size_t want = SIZE_MAX;

    for (size_t i = 0; actions[i].name != NULL; i++) {
        if (strcmp(actions[i].name, a->action) == 0) {
            want = actions[i].nargs;
        }
    }
    if (want == SIZE_MAX) {
        return opt_usage_error(&cmd_policy_spec,
                               "unknown action '%s' (fmt, add-host, add-pin, remove-pin or "
                               "set-mode)",
                               a->action);
    }
    /* add-pin and remove-pin name a pin-set instead of a host: one argument less */
    if ((strcmp(a->action, "add-pin") == 0 || strcmp(a->action, "remove-pin") == 0) &&
        a->pinset != NULL) {
        want = 1;
    }
    if (a->nargs != want) {
        return opt_usage_error(&cmd_policy_spec, "%s takes %zu argument%s after FILE, got %zu",
                               a->action, want, want == 1 ? "" : "s", a->nargs);
    }
    return -1;
}

/* ---- other formats: edited in pinset's JSON, written back in theirs ---- */

/* The host a format that names none (HPKP, curl) is read for: the edit's HOST. */
static const char *import_host(const policy_args *a, pinset_format fmt)
{
    if (fmt != PINSET_FORMAT_HPKP && fmt != PINSET_FORMAT_CURL) {
        return NULL;
    }
    return a->pinset == NULL && a->nargs > 0 ? a->arg[0] : NULL;
}

/* Read FILE in its format into *out, and its pinset JSON into *native. 0 or an exit status. */
static int import_foreign(pinset_policy **out, struct pinset__buf *native, const policy_args *a,
                          pinset_format fmt, const char *name, const struct pinset__buf *in)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_err err;

    o.host = import_host(a, fmt);
    if ((fmt == PINSET_FORMAT_HPKP || fmt == PINSET_FORMAT_CURL) && o.host == NULL) {
        cli_err("policy",
                "%s: a %s policy names no host: only an edit that names one (add-pin, "
                "remove-pin, set-mode with HOST) can read it",
                name, pinset_format_name(fmt));
        return EXIT_USAGE;
    }
    d.input = a->file;
    err = pinset_formats_import(out, NULL, in->p, in->len, fmt, &o, &d);
    if (err != PINSET_OK) {
        cli_err_diag("policy", &d);
        return err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
    }
    if (pinset_policy_write(*out, pinset__buf_sink, native) != PINSET_OK) {
        cli_err("policy", "out of memory");
        return EXIT_INTERNAL;
    }
    return 0;
}

/* Whether two fidelity fields name the same kind of thing: "pins[3].role" ~ "pins[0].role". */
static int same_field(const char *x, const char *y)
{
    while (*x != '\0' && *y != '\0') {
        if (*x == '[' && *y == '[') {
            x += strcspn(x, "]");
            y += strcspn(y, "]");
            continue;
        }
        if (*x++ != *y++) {
            return 0;
        }
    }
    return *x == *y;
}

/*
 * Whether fidelity entry i of `f` is a loss `base` has already: the same
 * host, reason and kind of field (a new pin of a kind the format already
 * drops is not a new loss).
 */
static int lost_before(const pinset_fidelity *base, const pinset_fidelity *f, size_t i)
{
    const char *h = pinset_fidelity_host(f, i);

    for (size_t j = 0; j < pinset_fidelity_count(base); j++) {
        const char *bh = pinset_fidelity_host(base, j);
        if (same_field(pinset_fidelity_field(base, j), pinset_fidelity_field(f, i)) &&
            strcmp(pinset_fidelity_reason(base, j), pinset_fidelity_reason(f, i)) == 0 &&
            (h == NULL ? bh == NULL : bh != NULL && strcmp(h, bh) == 0)) {
            return 1;
        }
    }
    return 0;
}

/*
 * `after` written in FILE's format into *out, keeping the format where it can
 * hold the change: the edit may lose nothing that writing the policy as it was
 * does not lose already. 0 or an exit status after a message.
 */
static int export_foreign(struct pinset__buf *out, const pinset_policy *before,
                          const pinset_policy *after, const policy_args *a, pinset_format fmt,
                          const char *name)
{
    pinset_convert_options o = PINSET_CONVERT_OPTIONS_INIT;
    struct pinset__buf scratch;
    pinset_fidelity *base = NULL, *f = NULL;
    pinset_err err;
    int rc = 0;

    o.host = import_host(a, fmt);
    pinset__buf_init(&scratch, POLICY_FILE_MAX, 0);
    err = pinset_formats_export(&base, before, fmt, &o, pinset__buf_sink, &scratch, NULL);
    if (err == PINSET_OK) {
        err = pinset_formats_export(&f, after, fmt, &o, pinset__buf_sink, out, NULL);
    }
    if (err != PINSET_OK) {
        cli_err("policy",
                "%s: %s: the %s form cannot hold the edited policy: convert it to "
                "pinset's JSON first (pinset convert --to native)",
                name, a->action, pinset_format_name(fmt));
        rc = err == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_NEGATIVE;
    }
    for (size_t i = 0; rc == 0 && i < pinset_fidelity_count(f); i++) {
        if (!lost_before(base, f, i)) {
            char why[512];
            out_safe_copy(why, sizeof(why), pinset_fidelity_reason(f, i));
            cli_err("policy",
                    "%s: %s: the %s form cannot hold this edit (%s: %s): convert it to "
                    "pinset's JSON first (pinset convert --to native)",
                    name, a->action, pinset_format_name(fmt), pinset_fidelity_field(f, i), why);
            rc = EXIT_NEGATIVE;
        }
    }
    pinset_fidelity_free(base);
    pinset_fidelity_free(f);
    pinset__buf_free(&scratch);
    return rc;
}

/* Options that the action does not take are a usage error, not silently ignored. */
static int options_fit(const policy_args *a)
{
    const char *act = a->action;
    int is_fmt = strcmp(act, "fmt") == 0, is_host = strcmp(act, "add-host") == 0;
    int is_add = strcmp(act, "add-pin") == 0, is_rm = strcmp(act, "remove-pin") == 0;
    const char *bad = NULL;

    if (a->check && !is_fmt) {
        bad = "--check";
    } else if (a->check && a->dry_run) {
        bad = "--dry-run (with --check)";
    } else if (a->force && is_fmt) {
        bad = "--force";
    } else if (a->subdomains && !is_host) {
        bad = "--include-subdomains";
    } else if (a->mode != NULL && !is_host) {
        bad = "--mode";
    } else if (a->pinset != NULL && !is_host && !is_add && !is_rm) {
        bad = "--pinset";
    } else if (a->kind_given && !is_add && !is_rm) {
        bad = "--kind";
    } else if ((a->role != NULL || a->label != NULL || a->not_after != NULL) && !is_add) {
        bad = a->role != NULL ? "--role" : a->label != NULL ? "--label" : "--not-after";
    }
    if (bad != NULL) {
        return opt_usage_error(&cmd_policy_spec, "%s does not go with %s", bad, act);
    }
    return -1;
}

static int run_edit(const policy_args *a)
{
    struct pinset__buf in = {0}, out = {0};
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_policy *before = NULL, *after = NULL;
    json_t *doc = NULL;
    json_error_t jerr;
    struct stat sb;
    char why[512] = "", name[512];
    char *text = NULL;
    pinset_format fmt;
    struct pinset__buf native;
    int rc;

    out_safe_copy(name, sizeof(name), a->file);
    pinset__buf_init(&out, POLICY_FILE_MAX, 0);
    pinset__buf_init(&native, POLICY_FILE_MAX, 0);
    /*
     * The file itself, not a link: rename(2) would replace a symbolic link by a
     * file and leave its target as it was, and split a hard link in two.
     */
    if (lstat(a->file, &sb) == 0 && (S_ISLNK(sb.st_mode) || sb.st_nlink > 1)) {
        cli_err("policy", "%s: %s: edit the file it names itself, so that every name sees the edit",
                name, S_ISLNK(sb.st_mode) ? "a symbolic link" : "a file with several hard links");
        return EXIT_INPUT;
    }
    d.input = a->file;
    if (pinset__read_path(&in, a->file, POLICY_FILE_MAX, 0, 0, &d) != PINSET_OK) {
        cli_err_diag("policy", &d);
        return EXIT_INPUT;
    }
    fmt = pinset_format_detect(in.p, in.len, a->file);
    if (fmt == PINSET_FORMAT_UNKNOWN) {
        fmt = PINSET_FORMAT_NATIVE; /* the parser says what is wrong with it */
    }
    rc = fmt == PINSET_FORMAT_NATIVE ? parse_policy(&before, a->file, NULL, in.p, in.len)
                                     : import_foreign(&before, &native, a, fmt, name, &in);
    if (rc != 0) {
        goto out;
    }
    if (strcmp(a->action, "fmt") != 0) {
        pinset_pin pin;
        const char *pintext = a->pinset != NULL ? a->arg[0] : a->arg[1];
        int e = 0;

        /* a foreign policy is edited in pinset's JSON, then written back in its format */
        doc = fmt == PINSET_FORMAT_NATIVE
                  ? json_loadb((const char *)in.p, in.len, JSON_REJECT_DUPLICATES, &jerr)
                  : json_loadb((const char *)native.p, native.len, JSON_REJECT_DUPLICATES, &jerr);
        if (doc == NULL) {
            cli_err("policy", "%s: %s", name, jerr.text);
            rc = EXIT_INPUT;
            goto out;
        }
        if (strcmp(a->action, "add-pin") == 0 || strcmp(a->action, "remove-pin") == 0) {
            pinset_diag pd = PINSET_DIAG_INIT;
            if (pinset_pin_parse(&pin, pintext, strlen(pintext), a->kind, &pd) != PINSET_OK) {
                char safe[128];
                out_safe_copy(safe, sizeof(safe), pintext);
                cli_err("policy", "pin '%s': %s", safe, pd.message);
                rc = EXIT_USAGE;
                goto out;
            }
            e = strcmp(a->action, "add-pin") == 0 ? edit_add_pin(doc, a, &pin, why, sizeof(why))
                                                  : edit_remove_pin(doc, a, &pin, why, sizeof(why));
        } else if (strcmp(a->action, "add-host") == 0) {
            e = edit_add_host(doc, a, why, sizeof(why));
        } else {
            e = edit_set_mode(doc, a, why, sizeof(why));
        }
        text = e == 0 ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (e != 0 || text == NULL) {
            char safe[512];
            out_safe_copy(safe, sizeof(safe), why[0] ? why : "out of memory");
            cli_err("policy", "%s: %s: %s", name, a->action, safe);
            rc = e != 0 ? EXIT_NEGATIVE : EXIT_INTERNAL;
            goto out;
        }
        rc = parse_policy(&after, a->file, a->action, (const uint8_t *)text, strlen(text));
        if (rc != 0) {
            goto out;
        }
    } else {
        after = pinset_policy_ref(before);
    }
    if (fmt == PINSET_FORMAT_NATIVE) {
        if (pinset_policy_write(after, pinset__buf_sink, &out) != PINSET_OK) {
            cli_err("policy", "out of memory");
            rc = EXIT_INTERNAL;
            goto out;
        }
    } else {
        rc = export_foreign(&out, before, after, a, fmt, name);
        if (rc != 0) {
            goto out;
        }
    }
    if (a->check) {
        int same = out.len == in.len && memcmp(out.p, in.p, in.len) == 0;
        if (!same) {
            cli_err("policy", "%s: not in the canonical form (pinset policy fmt %s)", name, name);
        }
        rc = same ? EXIT_OK : EXIT_NEGATIVE;
        goto out;
    }
    if (strcmp(a->action, "fmt") != 0 && !a->force) {
        long eb = lint_errors(before), ea = lint_errors(after);
        if (eb < 0 || ea < 0) {
            cli_err("policy", "%s: %s: cannot lint the result (out of memory)", name, a->action);
            rc = EXIT_INTERNAL;
            goto out;
        }
        if (ea > eb) {
            cli_err("policy",
                    "%s: %s: refused: the policy would have %ld lint error%s, %ld now (pinset "
                    "lint shows them; --force writes it anyway)",
                    name, a->action, ea, ea == 1 ? "" : "s", eb);
            rc = EXIT_NEGATIVE;
            goto out;
        }
    }
    if (a->dry_run) {
        rc = fwrite(out.p, 1, out.len, stdout) == out.len && fflush(stdout) == 0
                 ? EXIT_OK
                 : cli_output_failed("policy");
        goto out;
    }
    if (out.len == in.len && memcmp(out.p, in.p, in.len) == 0) {
        rc = EXIT_OK; /* nothing to change: the file is left alone */
    } else if (stat(a->file, &sb) != 0) {
        cli_err("policy", "%s: %s", name, strerror(errno));
        rc = EXIT_INPUT;
    } else {
        rc = replace_file(a->file, name, &sb, &out);
    }
out:
    free(text);
    json_decref(doc);
    pinset_policy_free(before);
    pinset_policy_free(after);
    pinset__buf_free(&in);
    pinset__buf_free(&out);
    pinset__buf_free(&native);
    return rc;
}

int cmd_policy(int argc, char **argv)
{
    policy_args a;
    opt_state st;
    const char *v;
    int r, rc;

    memset(&a, 0, sizeof(a));
    a.kind = PINSET_PIN_SPKI;
    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_policy_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_policy_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            if (a.action == NULL) {
                a.action = v;
            } else if (a.file == NULL) {
                a.file = v;
            } else if (a.nargs < 2) {
                a.arg[a.nargs++] = v;
            } else {
                return opt_usage_error(&cmd_policy_spec, "unexpected argument '%s'", v);
            }
            break;
        case O_CHECK:
            a.check = 1;
            break;
        case O_INCLUDE_SUBDOMAINS:
            a.subdomains = 1;
            break;
        case O_PINSET:
            a.pinset = v;
            break;
        case O_MODE:
            if (strcmp(v, "enforce") != 0 && strcmp(v, "report") != 0) {
                return opt_usage_error(&cmd_policy_spec, "--mode '%s': expected enforce or report",
                                       v);
            }
            a.mode = v;
            break;
        case O_KIND:
            if (strcmp(v, "spki") != 0 && strcmp(v, "cert") != 0) {
                return opt_usage_error(&cmd_policy_spec, "--kind '%s': expected spki or cert", v);
            }
            a.kind = strcmp(v, "cert") == 0 ? PINSET_PIN_CERT : PINSET_PIN_SPKI;
            a.kind_given = 1;
            break;
        case O_ROLE:
            if (strcmp(v, "any") != 0 && strcmp(v, "leaf") != 0 && strcmp(v, "ca") != 0 &&
                strcmp(v, "backup") != 0) {
                return opt_usage_error(&cmd_policy_spec,
                                       "--role '%s': expected any, leaf, ca or backup", v);
            }
            a.role = v;
            break;
        case O_LABEL:
            a.label = v;
            break;
        case O_NOT_AFTER:
            a.not_after = v;
            break;
        case O_FORCE:
            a.force = 1;
            break;
        case O_DRY_RUN:
            a.dry_run = 1;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (a.action == NULL || a.file == NULL) {
        return opt_usage_error(&cmd_policy_spec, "say what to do, and to which FILE");
    }
    rc = usage_of(&a);
    if (rc >= 0) {
        return rc;
    }
    rc = options_fit(&a);
    if (rc >= 0) {
        return rc;
    }
    return run_edit(&a);
}
