/*
 * cmd_update.c - `pinset update --root ROOT.pub --state DIR [--now TIME]
 * (DOC | URL)`: the library's updater (pinset_updater_apply_threshold,
 * update.h) as a command, for operators and tests: verify DOC, check it
 * against the state in DIR (rollback, equivocation, clock rolled back,
 * delegations) and apply it crash-safely. An http:// or https:// URL is
 * fetched by libpinset-curl (curl_update.h) with its size cap, timeouts
 * and no redirects. With --index the URL is that of an index.json
 * (`pinset publish`): libpinset-curl reads it, stops when its serial is not
 * above the applied one ("up to date"), else fetches the document it names,
 * checks its SHA-256 against the index and applies it
 * (pinset_curl_update_apply_index). A flag, not a guess from the URL or the
 * body: an index and a document have different size caps and rules, and a
 * server must not be able to switch a client from one to the other.
 *
 * Exit 0: applied, the same document again, or up to date (a summary on stdout); 1:
 * rejected (the reason on stderr; DIR left as it was), an oversize
 * document included; 2: usage; 3: DOC or a key could not be read (the
 * transfer failed), or DIR is refused or cannot be written.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <util/buf.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <pinset/curl_update.h>
#include <pinset/update.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "out.h"
#include "update_doc.h"

enum { O_ROOT, O_STATE, O_NOW, O_THRESHOLD, O_CAFILE, O_TIMEOUT, O_MAX_REDIRECTS, O_INDEX, O_END };

static const opt_spec update_opts[] = {
    [O_ROOT] = {"root", 'r', "FILE", "a trusted public key (KEYFILE.pub); repeatable; required"},
    [O_STATE] = {"state", 's', "DIR", "the state directory (must exist, 0700); required"},
    [O_NOW] = {"now", 0, "TIME", "judge validity at this RFC 3339 time instead of now"},
    [O_THRESHOLD] = {"threshold", 't', "N",
                     "require signatures by N distinct trusted keys (default 1)"},
    [O_CAFILE] = {"cafile", 0, "FILE",
                  "CA certificates (PEM) that verify the server of a URL (default: the system's)"},
    [O_TIMEOUT] = {"timeout", 0, "SECONDS", "give up fetching a URL after this long (default 30)"},
    [O_MAX_REDIRECTS] = {"max-redirects", 0, "N",
                         "follow at most N redirects (0 to 5; default 0: refused)"},
    [O_INDEX] = {"index", 0, NULL,
                 "URL is an index.json (pinset publish): fetch the document it names when newer"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_update_spec = {
    "update",
    "--root ROOT.pub --state DIR [--threshold N] [--now TIME] DOC | - | URL | --index URL",
    "Apply a signed policy update to a state directory.", update_opts};

static int print_summary(const pinset_update *u, pinset_updater_status st)
{
    printf("%s serial %llu: ", st == PINSET_UPDATER_UNCHANGED ? "unchanged" : "applied",
           (unsigned long long)pinset_update_serial(u));
    update_doc_print_hosts(pinset_update_policy(u));
    printf("\n");
    return fflush(stdout) != 0 || ferror(stdout) ? cli_output_failed("update") : EXIT_OK;
}

/* --index, and nothing newer: the serial in force and the index's. */
static int print_up_to_date(const pinset_update *u, const pinset_curl_update_index *ix)
{
    if (u != NULL) {
        printf("up to date serial %llu: the index names serial %llu\n",
               (unsigned long long)pinset_update_serial(u), (unsigned long long)ix->serial);
    } else {
        printf("up to date: the index names serial %llu\n", (unsigned long long)ix->serial);
    }
    return fflush(stdout) != 0 || ferror(stdout) ? cli_output_failed("update") : EXIT_OK;
}

static int exit_for(pinset_err e, pinset_updater_status st)
{
    if (e == PINSET_E_NOMEM) {
        return EXIT_INTERNAL;
    }
    /* PINSET_E_IO without a state error: the transfer failed (the document could not be read) */
    return st == PINSET_UPDATER_STATE_ERROR || e == PINSET_E_IO ? EXIT_INPUT : EXIT_NEGATIVE;
}

/* DOC is a URL: fetch it (libpinset-curl) and apply it; with --index, follow the index. */
static pinset_err fetch_apply(pinset_update **u, pinset_updater_status *st,
                              pinset_curl_update_index *ix, const update_args *a, EVP_PKEY **keys,
                              pinset_diag *d)
{
    pinset_curl_update_options o = PINSET_CURL_UPDATE_OPTIONS_INIT;

    o.cafile = a->cafile;
    o.timeout_ms = a->timeout > 0 ? (long)a->timeout * 1000 : 0;
    o.max_redirects = (long)a->max_redirects;
    o.threshold = (unsigned int)a->threshold;
    o.now = a->now;
    if (a->index) {
        return pinset_curl_update_apply_index(u, st, ix, a->doc, a->dir,
                                              (const EVP_PKEY *const *)keys, a->nroots, &o, d);
    }
    return pinset_curl_update_apply(u, st, a->doc, a->dir, (const EVP_PKEY *const *)keys, a->nroots,
                                    &o, d);
}

static int run_update(const update_args *a)
{
    EVP_PKEY *keys[UPDATE_DOC_MAX_ROOTS] = {NULL};
    struct pinset__buf in;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_curl_update_index ix;
    pinset_update *u = NULL;
    pinset_updater_status st = PINSET_UPDATER_STATE_ERROR;
    pinset_err e;
    int rc = EXIT_INPUT;

    if (update_doc_is_url(a->doc)) {
        pinset__buf_init(&in, 0, 0);
        if (update_doc_read_keys("update", a->roots, a->nroots, keys) != 0) {
            rc = EXIT_INPUT;
            goto out;
        }
        d.input = a->doc;
        e = fetch_apply(&u, &st, &ix, a, keys, &d);
    } else {
        rc = update_doc_open(keys, &in, "update", a);
        if (rc != EXIT_OK) {
            goto out;
        }
        /* the library names the state directory itself */
        d.input = cli_is_stdin(a->doc) ? CLI_STDIN_NAME : a->doc;
        e = pinset_updater_apply_threshold(&u, &st, a->dir, in.p, in.len,
                                           (const EVP_PKEY *const *)keys, a->nroots,
                                           (unsigned int)a->threshold, a->now, &d);
    }
    if (e != PINSET_OK) {
        cli_err_diag("update", &d);
        rc = exit_for(e, st);
        goto out;
    }
    rc = st == PINSET_UPDATER_UP_TO_DATE ? print_up_to_date(u, &ix) : print_summary(u, st);
out:
    pinset_update_free(u);
    pinset__buf_free(&in);
    update_doc_free_keys(keys, a->nroots);
    ERR_clear_error();
    return rc;
}

int cmd_update(int argc, char **argv)
{
    static const update_opt_ids ids = {O_ROOT,   O_NOW,     O_STATE,         O_THRESHOLD,
                                       O_CAFILE, O_TIMEOUT, O_MAX_REDIRECTS, O_INDEX};
    update_args a;
    int rc = update_args_parse(&a, &cmd_update_spec, argc, argv, &ids,
                               "--root FILE, --state DIR and DOC (or URL) are required");

    if (rc >= 0) {
        return rc;
    }
    if (a.index && !update_doc_is_url(a.doc)) {
        return opt_usage_error(&cmd_update_spec, "--index: '%s' is not an http:// or https:// URL",
                               a.doc);
    }
    return run_update(&a);
}
