/*
 * cmd_verify.c - `pinset verify --root ROOT.pub [--now TIME] DOC`: check a
 * signed update document (update.h, docs/update-protocol.md) the way a
 * client does, and say what it holds or why it is refused.
 *
 * Exit 0: valid (a summary on stdout); 1: rejected (the reason on
 * stderr); 2: usage; 3: DOC or a key could not be read. Verification does
 * not know which serial a client last applied: a valid older document is
 * still valid here.
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

enum { O_ROOT, O_NOW, O_THRESHOLD, O_END };

static const opt_spec verify_opts[] = {
    [O_ROOT] = {"root", 'r', "FILE", "a trusted public key (KEYFILE.pub); repeatable; required"},
    [O_NOW] = {"now", 0, "TIME", "judge validity at this RFC 3339 time instead of now"},
    [O_THRESHOLD] = {"threshold", 't', "N",
                     "require signatures by N distinct trusted keys (default 1)"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_verify_spec = {"verify", "--root ROOT.pub [--threshold N] [--now TIME] DOC | -",
                                  "Verify a signed policy update document.", verify_opts};

static void print_time(const char *label, int64_t t, int64_t now)
{
    char iso[OUT_TIME_MAX], rel[OUT_TIME_MAX];

    (void)out_time_iso(iso, sizeof(iso), t);
    out_time_relative(rel, sizeof(rel), t, now);
    printf("%-11s %s (%s)\n", label, iso, rel);
}

static int print_summary(const char *name, const pinset_update *u, int64_t now)
{
    printf("valid:      ");
    out_safe(stdout, name);
    printf("\nserial:     %llu\n", (unsigned long long)pinset_update_serial(u));
    print_time("issued at:", pinset_update_issued_at(u), now);
    print_time("expires at:", pinset_update_expires_at(u), now);
    printf("signed by:  %s", pinset_update_keyid_used(u));
    if (pinset_update_signer_count(u) > 1) {
        printf(" and %zu more", pinset_update_signer_count(u) - 1);
    }
    if (pinset_update_delegation_serial(u) > 0) {
        char t[OUT_TIME_MAX];
        (void)out_time_iso(t, sizeof(t), pinset_update_key_expires_at(u));
        printf(" (delegation serial %llu, key expires %s)",
               (unsigned long long)pinset_update_delegation_serial(u), t);
    }
    printf("\nscope:      ");
    if (pinset_update_scope_count(u) == 0) {
        printf("any host");
    }
    for (size_t i = 0; i < pinset_update_scope_count(u); i++) {
        printf("%s%s", i > 0 ? " " : "", pinset_update_scope(u, i));
    }
    printf("\nhosts:      ");
    update_doc_print_hosts(pinset_update_policy(u));
    printf("\n");
    return fflush(stdout) != 0 || ferror(stdout) ? cli_output_failed("verify") : EXIT_OK;
}

static int run_verify(const update_args *a)
{
    EVP_PKEY *keys[UPDATE_DOC_MAX_ROOTS] = {NULL};
    struct pinset__buf in;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_update *u = NULL;
    const char *name = cli_is_stdin(a->doc) ? CLI_STDIN_NAME : a->doc;
    pinset_err e;
    int rc = EXIT_INPUT;

    rc = update_doc_open(keys, &in, "verify", a);
    if (rc != EXIT_OK) {
        goto out;
    }
    d.input = name;
    e = pinset_update_verify_threshold(&u, NULL, in.p, in.len, (const EVP_PKEY *const *)keys,
                                       a->nroots, (unsigned int)a->threshold, a->now, &d);
    if (e != PINSET_OK) {
        cli_err_diag("verify", &d);
        rc = e == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_NEGATIVE;
        goto out;
    }
    rc = print_summary(name, u, a->now);
out:
    pinset_update_free(u);
    pinset__buf_free(&in);
    update_doc_free_keys(keys, a->nroots);
    ERR_clear_error();
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    static const update_opt_ids ids = {O_ROOT, O_NOW, -1, O_THRESHOLD, -1, -1, -1, -1};
    update_args a;
    int rc = update_args_parse(&a, &cmd_verify_spec, argc, argv, &ids,
                               "--root FILE and DOC are required");

    return rc >= 0 ? rc : run_verify(&a);
}
