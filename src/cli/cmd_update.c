/*
 * cmd_update.c - `pinset update --root ROOT.pub --state DIR [--now TIME] DOC`:
 * the library's updater (pinset_updater_apply, update.h) as a command, for
 * operators and tests: verify DOC, check it against the state in DIR
 * (rollback, equivocation, clock rolled back) and apply it crash-safely.
 *
 * Exit 0: applied, or the same document again (a summary on stdout); 1:
 * rejected (the reason on stderr; DIR left as it was); 2: usage; 3: DOC or
 * a key could not be read, or DIR is refused or cannot be written.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <util/buf.h>
#include <util/read.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <pinset/update.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "keyfile.h"
#include "out.h"

enum { O_ROOT, O_STATE, O_NOW, O_END };

static const opt_spec update_opts[] = {
    [O_ROOT] = {"root", 'r', "FILE", "a trusted public key (KEYFILE.pub); repeatable; required"},
    [O_STATE] = {"state", 's', "DIR", "the state directory (must exist, 0700); required"},
    [O_NOW] = {"now", 0, "TIME", "judge validity at this RFC 3339 time instead of now"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_update_spec = {"update", "--root ROOT.pub --state DIR [--now TIME] DOC | -",
                                  "Apply a signed policy update to a state directory.",
                                  update_opts};

/* Most --root options. */
#define UPDATE_MAX_ROOTS 16

static int print_summary(const pinset_update *u, pinset_updater_status st)
{
    const pinset_policy *p = pinset_update_policy(u);
    size_t n = pinset_policy_rule_count(p);

    printf("%s serial %llu: %zu rule%s", st == PINSET_UPDATER_UNCHANGED ? "unchanged" : "applied",
           (unsigned long long)pinset_update_serial(u), n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const pinset_rule *r = pinset_policy_rule(p, i);
        printf("%s%s%s", i == 0 ? ": " : " ",
               pinset_rule_scope(r) == PINSET_SCOPE_SUBDOMAINS  ? "**."
               : pinset_rule_scope(r) == PINSET_SCOPE_ONE_LABEL ? "*."
                                                                : "",
               pinset_rule_host(r));
    }
    printf("\n");
    return fflush(stdout) != 0 || ferror(stdout) ? cli_output_failed("update") : EXIT_OK;
}

static int exit_for(pinset_err e, pinset_updater_status st)
{
    if (e == PINSET_E_NOMEM) {
        return EXIT_INTERNAL;
    }
    return st == PINSET_UPDATER_STATE_ERROR ? EXIT_INPUT : EXIT_NEGATIVE;
}

static int run_update(const char *const *roots, size_t nroots, const char *dir, const char *doc,
                      int64_t now)
{
    EVP_PKEY *keys[UPDATE_MAX_ROOTS] = {NULL};
    struct pinset__buf in;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_update *u = NULL;
    pinset_updater_status st = PINSET_UPDATER_STATE_ERROR;
    const char *name = cli_is_stdin(doc) ? CLI_STDIN_NAME : doc;
    pinset_err e;
    int rc = EXIT_INPUT;

    pinset__buf_init(&in, 0, 0);
    for (size_t i = 0; i < nroots; i++) {
        keys[i] = keyfile_read("update", roots[i], 0);
        if (keys[i] == NULL) {
            goto out;
        }
    }
    e = cli_is_stdin(doc)
            ? pinset__read_fd(&in, STDIN_FILENO, CLI_STDIN_NAME, PINSET_UPDATE_MAX_SIZE, 30000, &d)
            : pinset__read_path(&in, doc, PINSET_UPDATE_MAX_SIZE, 0, 0, &d);
    if (e != PINSET_OK) {
        cli_err_diag("update", &d);
        rc = e == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
        goto out;
    }
    d.input = name; /* the library names the state directory for its own failures */
    e = pinset_updater_apply(&u, &st, dir, in.p, in.len, (const EVP_PKEY *const *)keys, nroots, now,
                             &d);
    if (e != PINSET_OK) {
        cli_err_diag("update", &d);
        rc = exit_for(e, st);
        goto out;
    }
    rc = print_summary(u, st);
out:
    pinset_update_free(u);
    pinset__buf_free(&in);
    for (size_t i = 0; i < nroots; i++) {
        EVP_PKEY_free(keys[i]);
    }
    ERR_clear_error();
    return rc;
}

int cmd_update(int argc, char **argv)
{
    const char *roots[UPDATE_MAX_ROOTS];
    const char *doc = NULL, *dir = NULL, *v;
    size_t nroots = 0;
    int64_t now = 0;
    opt_state st;
    int r;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_update_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_update_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            if (doc != NULL) {
                return opt_usage_error(&cmd_update_spec, "unexpected argument '%s' (one DOC)", v);
            }
            doc = v;
            break;
        case O_ROOT:
            if (nroots == UPDATE_MAX_ROOTS) {
                return opt_usage_error(&cmd_update_spec, "more than %d --root options",
                                       UPDATE_MAX_ROOTS);
            }
            roots[nroots++] = v;
            break;
        case O_STATE:
            dir = v;
            break;
        case O_NOW:
            if (out_parse_time(v, &now) != 0) {
                return opt_usage_error(&cmd_update_spec,
                                       "--now '%s': expected an RFC 3339 time, a date or @SECONDS",
                                       v);
            }
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (nroots == 0 || dir == NULL || doc == NULL) {
        return opt_usage_error(&cmd_update_spec, "--root FILE, --state DIR and DOC are required");
    }
    return run_update(roots, nroots, dir, doc, now != 0 ? now : (int64_t)time(NULL));
}
