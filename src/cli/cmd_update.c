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
#include <util/buf.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <pinset/update.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "out.h"
#include "update_doc.h"

enum { O_ROOT, O_STATE, O_NOW, O_THRESHOLD, O_END };

static const opt_spec update_opts[] = {
    [O_ROOT] = {"root", 'r', "FILE", "a trusted public key (KEYFILE.pub); repeatable; required"},
    [O_STATE] = {"state", 's', "DIR", "the state directory (must exist, 0700); required"},
    [O_NOW] = {"now", 0, "TIME", "judge validity at this RFC 3339 time instead of now"},
    [O_THRESHOLD] = {"threshold", 't', "N",
                     "require signatures by N distinct trusted keys (default 1)"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_update_spec = {
    "update", "--root ROOT.pub --state DIR [--threshold N] [--now TIME] DOC | -",
    "Apply a signed policy update to a state directory.", update_opts};

static int print_summary(const pinset_update *u, pinset_updater_status st)
{
    printf("%s serial %llu: ", st == PINSET_UPDATER_UNCHANGED ? "unchanged" : "applied",
           (unsigned long long)pinset_update_serial(u));
    update_doc_print_hosts(pinset_update_policy(u));
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

static int run_update(const update_args *a)
{
    EVP_PKEY *keys[UPDATE_DOC_MAX_ROOTS] = {NULL};
    struct pinset__buf in;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_update *u = NULL;
    pinset_updater_status st = PINSET_UPDATER_STATE_ERROR;
    pinset_err e;
    int rc = EXIT_INPUT;

    rc = update_doc_open(keys, &in, "update", a);
    if (rc != EXIT_OK) {
        goto out;
    }
    d.input =
        cli_is_stdin(a->doc) ? CLI_STDIN_NAME : a->doc; /* the library names the state directory */
    e = pinset_updater_apply_threshold(&u, &st, a->dir, in.p, in.len, (const EVP_PKEY *const *)keys,
                                       a->nroots, (unsigned int)a->threshold, a->now, &d);
    if (e != PINSET_OK) {
        cli_err_diag("update", &d);
        rc = exit_for(e, st);
        goto out;
    }
    rc = print_summary(u, st);
out:
    pinset_update_free(u);
    pinset__buf_free(&in);
    update_doc_free_keys(keys, a->nroots);
    ERR_clear_error();
    return rc;
}

int cmd_update(int argc, char **argv)
{
    update_args a;
    int rc = update_args_parse(&a, &cmd_update_spec, argc, argv, O_ROOT, O_NOW, O_STATE,
                               O_THRESHOLD, "--root FILE, --state DIR and DOC are required");

    return rc >= 0 ? rc : run_update(&a);
}
