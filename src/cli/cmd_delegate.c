/*
 * cmd_delegate.c - `pinset delegate --root-key ROOT --key SIGNER.pub
 * --expires TIME [--serial N] [--not-before TIME] -o DELEG`: a delegation
 * from a root key to a signing key (update.h pinset_update_delegate,
 * docs/update-protocol.md "Signing keys and delegations"). The signing key
 * then signs with `pinset sign --delegation DELEG`, and clients that trust
 * the root accept its documents until the delegation expires, or until
 * they have seen a delegation with a higher serial.
 *
 * Exit 0: written (a summary on stdout); 2: usage; 3: a key could not be
 * read or DELEG could not be written; 5: internal error.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <pinset/update.h>

#include "cmd.h"
#include "common.h"
#include "keyfile.h"
#include "out.h"
#include "outfile.h"

enum { O_ROOT_KEY, O_KEY, O_EXPIRES, O_SERIAL, O_NOT_BEFORE, O_SCOPE, O_OUTPUT, O_END };

static const opt_spec delegate_opts[] = {
    [O_ROOT_KEY] = {"root-key", 0, "KEYFILE", "the root's private key that delegates; required"},
    [O_KEY] = {"key", 'k', "FILE",
               "the signing key's public key (KEYFILE.pub) to authorise; required"},
    [O_EXPIRES] = {"expires", 'e', "TIME",
                   "when the signing key expires: RFC 3339 time, date, @SECONDS; required"},
    [O_SERIAL] = {"serial", 's', "N",
                  "the delegation's serial (generation), 1 to 2^63-1 (default: the current "
                  "time in seconds)"},
    [O_NOT_BEFORE] = {"not-before", 0, "TIME", "valid from this time (default: now)"},
    [O_SCOPE] = {"scope", 0, "HOST",
                 "a host (or *.domain) the key may sign for; repeatable (default: any)"},
    [O_OUTPUT] = {"output", 'o', "DELEG", "the delegation to write; required"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_delegate_spec = {
    "delegate", "--root-key ROOT --key SIGNER.pub --expires TIME [--serial N] -o DELEG",
    "Authorise a signing key to sign policy updates for a root key.", delegate_opts};

typedef struct delegate_args {
    const char *root_key, *key, *output;
    pinset_update_delegate_options o;
    const char *scope[PINSET_UPDATE_MAX_SCOPE];
} delegate_args;

static int write_file(const char *buf, size_t len, void *payload)
{
    return fwrite(buf, 1, len, (FILE *)payload) == len ? 0 : 1;
}

static int run_delegate(const delegate_args *a)
{
    EVP_PKEY *root = NULL, *signer = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    outfile of = OUTFILE_INIT;
    char err[512], keyid[PINSET_UPDATE_KEYID_MAX], exp[OUT_TIME_MAX];
    pinset_err e;
    int rc = EXIT_INPUT;

    root = keyfile_read("delegate", a->root_key, 1);
    signer = root != NULL ? keyfile_read("delegate", a->key, 0) : NULL;
    if (root == NULL || signer == NULL) {
        goto out;
    }
    if (outfile_open(&of, a->output, err, sizeof(err)) != 0) {
        cli_err("delegate", "%s", err);
        goto out;
    }
    e = pinset_update_delegate(signer, &a->o, root, write_file, of.f, &d);
    if (e != PINSET_OK) {
        outfile_abort(&of);
        cli_err_diag("delegate", &d);
        rc = e == PINSET_E_UNSUPPORTED ? EXIT_INPUT
             : e == PINSET_E_PARSE     ? EXIT_USAGE /* a --scope that is not a host */
                                       : cli_exit_for(e);
        goto out;
    }
    if (outfile_commit(&of, err, sizeof(err)) != 0) {
        cli_err("delegate", "%s", err);
        goto out;
    }
    if (pinset_update_keyid(keyid, sizeof(keyid), signer, NULL) != PINSET_OK) {
        keyid[0] = '\0';
    }
    (void)out_time_iso(exp, sizeof(exp), a->o.expires_at);
    printf("delegation: ");
    out_safe(stdout, a->output);
    printf("\nserial: %llu\nkeyid: %s\nexpires: %s\nscope: ", (unsigned long long)a->o.serial,
           keyid, exp);
    if (a->o.scope_count == 0) {
        printf("any host");
    }
    for (size_t i = 0; i < a->o.scope_count; i++) {
        printf("%s", i > 0 ? " " : "");
        out_safe(stdout, a->scope[i]);
    }
    printf("\n");
    rc = fflush(stdout) != 0 || ferror(stdout) ? cli_output_failed("delegate") : EXIT_OK;
out:
    EVP_PKEY_free(root);
    EVP_PKEY_free(signer);
    ERR_clear_error();
    return rc;
}

int cmd_delegate(int argc, char **argv)
{
    delegate_args a;
    opt_state st;
    const char *v;
    unsigned long serial = 0;
    int r;

    memset(&a, 0, sizeof(a));
    a.o = (pinset_update_delegate_options)PINSET_UPDATE_DELEGATE_OPTIONS_INIT;
    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_delegate_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_delegate_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            return opt_usage_error(&cmd_delegate_spec, "unexpected argument '%s'", v);
        case O_ROOT_KEY:
            a.root_key = v;
            break;
        case O_KEY:
            a.key = v;
            break;
        case O_EXPIRES:
            if (out_parse_time(v, &a.o.expires_at) != 0) {
                return opt_usage_error(&cmd_delegate_spec,
                                       "--expires '%s': expected an RFC 3339 time, a date or "
                                       "@SECONDS",
                                       v);
            }
            break;
        case O_SERIAL:
            if (opt_parse_uint(v, (unsigned long)INT64_MAX, &serial) != 0 || serial == 0) {
                return opt_usage_error(&cmd_delegate_spec,
                                       "--serial '%s': expected a whole number from 1 to 2^63-1",
                                       v);
            }
            break;
        case O_NOT_BEFORE:
            if (out_parse_time(v, &a.o.not_before) != 0) {
                return opt_usage_error(&cmd_delegate_spec,
                                       "--not-before '%s': expected an RFC 3339 time, a date or "
                                       "@SECONDS",
                                       v);
            }
            break;
        case O_SCOPE:
            if (a.o.scope_count == PINSET_UPDATE_MAX_SCOPE) {
                return opt_usage_error(&cmd_delegate_spec, "more than %d --scope options",
                                       PINSET_UPDATE_MAX_SCOPE);
            }
            a.scope[a.o.scope_count++] = v;
            break;
        case O_OUTPUT:
            a.output = v;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (a.root_key == NULL || a.key == NULL || a.o.expires_at == 0 || a.output == NULL) {
        return opt_usage_error(&cmd_delegate_spec,
                               "--root-key, --key, --expires and -o DELEG are required");
    }
    if (a.o.not_before == 0) {
        a.o.not_before = (int64_t)time(NULL);
    }
    if (a.o.expires_at <= a.o.not_before) {
        return opt_usage_error(&cmd_delegate_spec, "--expires: not after --not-before (or now)");
    }
    a.o.serial = serial != 0 ? (uint64_t)serial : (uint64_t)time(NULL);
    a.o.scope = a.o.scope_count > 0 ? a.scope : NULL;
    return run_delegate(&a);
}
