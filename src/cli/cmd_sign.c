/*
 * cmd_sign.c - `pinset sign --key KEYFILE --serial N [--expires TIME]
 * [--scope HOST]... POLICY -o DOC`: a policy as a signed update document
 * (update.h, docs/update-protocol.md).
 *
 * POLICY is read in any format pinset reads and linted first: a policy
 * with a lint error is not signed (exit 1). DOC is written atomically
 * (outfile.h): readers see the old document or the new one, never a part.
 *
 * A signing key signs with --delegation DELEG (from `pinset delegate`),
 * carried in its signature. `--cosign DOC` adds a signature to a signed
 * document instead (for a threshold of signatures): no POLICY, no --serial.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include <pinset/update.h>

#include "cmd.h"
#include "common.h"
#include "input.h"
#include "keyfile.h"
#include "out.h"
#include "outfile.h"
#include "update_doc.h"

enum { O_KEY, O_SERIAL, O_EXPIRES, O_SCOPE, O_OUTPUT, O_NOW, O_DELEGATION, O_COSIGN, O_END };

static const opt_spec sign_opts[] = {
    [O_KEY] = {"key", 'k', "KEYFILE", "the private key (from 'pinset keygen'); required"},
    [O_SERIAL] = {"serial", 's', "N", "the document's serial, 1 to 2^63-1; required"},
    [O_EXPIRES] = {"expires", 'e', "TIME",
                   "when the document expires: RFC 3339 time, date, @SECONDS or Nd (default 30d)"},
    [O_SCOPE] = {"scope", 0, "HOST",
                 "a host (or *.domain) the document may speak for; repeatable (default: any)"},
    [O_OUTPUT] = {"output", 'o', "DOC", "the signed document to write; required"},
    [O_NOW] = {"now", 0, "TIME", "sign as of this time (issued_at, lint) instead of now"},
    [O_DELEGATION] = {"delegation", 'd', "DELEG",
                      "the root's delegation to --key (from 'pinset delegate'), carried in the "
                      "signature"},
    [O_COSIGN] = {"cosign", 0, "DOC",
                  "add a signature to the signed DOC instead of signing a POLICY"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_sign_spec = {"sign",
                                "--key KEYFILE [--delegation DELEG] (--serial N [options] POLICY "
                                "| --cosign DOC) -o OUT",
                                "Sign a policy as an update document that clients can verify.",
                                sign_opts};

/* Most --scope options (the library's bound). */
#define SIGN_MAX_SCOPE PINSET_UPDATE_MAX_SCOPE
/* Largest policy read from standard input. */
#define SIGN_MAX_STDIN ((size_t)16 * 1024 * 1024)

typedef struct sign_args {
    const char *key;
    const char *policy;
    const char *output;
    unsigned long serial;
    const char *expires;
    int64_t expires_at;
    int64_t now;
    const char *scope[SIGN_MAX_SCOPE];
    size_t nscope;
    const char *delegation; /* --delegation, or NULL */
    const char *cosign;     /* --cosign DOC, or NULL */
    struct pinset__buf deleg;
} sign_args;

typedef struct lint_count {
    const char *name;
    size_t errors;
} lint_count;

static int on_finding(const pinset_lint_finding *f, void *payload)
{
    lint_count *lc = payload;
    char path[512], msg[512];

    if (pinset_lint_finding_severity(f) != PINSET_LINT_ERROR) {
        return 0;
    }
    lc->errors++;
    out_safe_copy(path, sizeof(path), pinset_lint_finding_path(f));
    out_safe_copy(msg, sizeof(msg), pinset_lint_finding_message(f));
    cli_err("sign", "%s: %s: error: %s: %s", lc->name, path, pinset_lint_finding_id(f), msg);
    return 0;
}

/* --expires: a time as --now takes, or "Nd" days after now. 0 or -1. */
static int parse_expires(const char *s, int64_t now, int64_t *out)
{
    unsigned long days;
    size_t n = strlen(s);
    char num[32];

    if (n >= 2 && n < sizeof(num) && s[n - 1] == 'd') {
        memcpy(num, s, n - 1);
        num[n - 1] = '\0';
        if (opt_parse_uint(num, 36500, &days) != 0 || days == 0) {
            return -1;
        }
        *out = now + (int64_t)days * 86400;
        return 0;
    }
    return out_parse_time(s, out);
}

static int write_file(const char *buf, size_t len, void *payload)
{
    return fwrite(buf, 1, len, (FILE *)payload) == len ? 0 : 1;
}

/* Lint, then sign into DOC. An exit status. */
static int sign_policy(const sign_args *a, pinset_policy *policy, EVP_PKEY *key, const char *name)
{
    pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
    pinset_lint_options lo = PINSET_LINT_OPTIONS_INIT;
    lint_count lc = {name, 0};
    pinset_diag d = PINSET_DIAG_INIT;
    outfile of = OUTFILE_INIT;
    char err[512], keyid[PINSET_UPDATE_KEYID_MAX], exp[OUT_TIME_MAX];
    pinset_err e;

    lo.now = a->now;
    if (pinset_lint_run(policy, &lo, on_finding, &lc, &d) != PINSET_OK) {
        cli_err_diag("sign", &d);
        return EXIT_INTERNAL;
    }
    if (lc.errors > 0) {
        cli_err("sign", "%s: %zu lint error%s: not signed (see 'pinset lint')", name, lc.errors,
                lc.errors == 1 ? "" : "s");
        return EXIT_NEGATIVE;
    }
    o.serial = a->serial;
    o.issued_at = a->now;
    o.expires_at = a->expires_at;
    o.scope = a->scope;
    o.scope_count = a->nscope;
    o.delegation = a->delegation != NULL ? a->deleg.p : NULL;
    o.delegation_len = a->delegation != NULL ? a->deleg.len : 0;
    if (outfile_open(&of, a->output, err, sizeof(err)) != 0) {
        cli_err("sign", "%s", err);
        return EXIT_INPUT;
    }
    e = pinset_update_sign(policy, &o, key, write_file, of.f, &d);
    if (e != PINSET_OK) {
        int in_deleg = strcmp(d.path, "delegation") == 0;
        outfile_abort(&of);
        d.input = in_deleg ? a->delegation : e == PINSET_E_NO_MATCH ? name : NULL;
        cli_err_diag("sign", &d);
        if (in_deleg && e != PINSET_E_NO_MATCH && e != PINSET_E_NOMEM) {
            return EXIT_INPUT; /* DELEG is not a delegation pinset can read */
        }
        if (e == PINSET_E_NO_MATCH) {
            return EXIT_NEGATIVE; /* a rule outside --scope: refused, as lint errors are */
        }
        return e == PINSET_E_PARSE ? EXIT_USAGE : cli_exit_for(e);
    }
    if (outfile_commit(&of, err, sizeof(err)) != 0) {
        cli_err("sign", "%s", err);
        return EXIT_INPUT;
    }
    if (pinset_update_keyid(keyid, sizeof(keyid), key, NULL) != PINSET_OK) {
        keyid[0] = '\0';
    }
    (void)out_time_iso(exp, sizeof(exp), o.expires_at);
    printf("signed: ");
    out_safe(stdout, a->output);
    printf("\nserial: %lu\nexpires: %s\nkeyid: %s\n", a->serial, exp, keyid);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return cli_output_failed("sign");
    }
    return EXIT_OK;
}

/* --cosign DOC: one more signature on DOC, into -o. An exit status. */
static int cosign_doc(const sign_args *a, EVP_PKEY *key)
{
    struct pinset__buf in;
    pinset_diag d = PINSET_DIAG_INIT;
    outfile of = OUTFILE_INIT;
    char err[512], keyid[PINSET_UPDATE_KEYID_MAX];
    pinset_err e;
    int rc = update_doc_read(&in, "sign", a->cosign);

    if (rc != EXIT_OK) {
        pinset__buf_free(&in);
        return rc;
    }
    if (outfile_open(&of, a->output, err, sizeof(err)) != 0) {
        cli_err("sign", "%s", err);
        pinset__buf_free(&in);
        return EXIT_INPUT;
    }
    e = pinset_update_cosign(in.p, in.len, key, a->delegation != NULL ? a->deleg.p : NULL,
                             a->delegation != NULL ? a->deleg.len : 0, write_file, of.f, &d);
    pinset__buf_free(&in);
    if (e != PINSET_OK) {
        outfile_abort(&of);
        d.input = strcmp(d.path, "delegation") == 0 ? a->delegation : a->cosign;
        cli_err_diag("sign", &d);
        if (e == PINSET_E_PARSE || e == PINSET_E_LIMIT || e == PINSET_E_UNSUPPORTED) {
            return EXIT_INPUT; /* DOC or DELEG is not what pinset reads */
        }
        return e == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_NEGATIVE;
    }
    if (outfile_commit(&of, err, sizeof(err)) != 0) {
        cli_err("sign", "%s", err);
        return EXIT_INPUT;
    }
    if (pinset_update_keyid(keyid, sizeof(keyid), key, NULL) != PINSET_OK) {
        keyid[0] = '\0';
    }
    printf("cosigned: ");
    out_safe(stdout, a->output);
    printf("\nkeyid: %s\n", keyid);
    return fflush(stdout) != 0 || ferror(stdout) ? cli_output_failed("sign") : EXIT_OK;
}

static int run_sign(sign_args *a)
{
    pinset_policy *policy = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    EVP_PKEY *key;
    char name[512];
    pinset_err e;
    int rc;

    key = keyfile_read("sign", a->key, 1);
    if (key == NULL) {
        return EXIT_INPUT;
    }
    pinset__buf_init(&a->deleg, 0, 0);
    if (a->delegation != NULL) {
        rc = update_doc_read(&a->deleg, "sign", a->delegation);
        if (rc != EXIT_OK) {
            EVP_PKEY_free(key);
            pinset__buf_free(&a->deleg);
            return rc;
        }
    }
    if (a->cosign != NULL) {
        rc = cosign_doc(a, key);
        EVP_PKEY_free(key);
        pinset__buf_free(&a->deleg);
        ERR_clear_error();
        return rc;
    }
    out_safe_copy(name, sizeof(name), cli_is_stdin(a->policy) ? CLI_STDIN_NAME : a->policy);
    d.input = cli_is_stdin(a->policy) ? CLI_STDIN_NAME : a->policy;
    e = cli_policy_read(&policy, "sign", a->policy, SIGN_MAX_STDIN, NULL, &d);
    if (e != PINSET_OK) {
        cli_err_diag("sign", &d);
        EVP_PKEY_free(key);
        pinset__buf_free(&a->deleg);
        return e == PINSET_E_NOMEM ? EXIT_INTERNAL : EXIT_INPUT;
    }
    rc = sign_policy(a, policy, key, name);
    pinset_policy_free(policy);
    EVP_PKEY_free(key);
    pinset__buf_free(&a->deleg);
    ERR_clear_error();
    return rc;
}

int cmd_sign(int argc, char **argv)
{
    sign_args a;
    opt_state st;
    const char *v;
    int r, have_serial = 0;

    memset(&a, 0, sizeof(a));
    a.expires = "30d";
    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_sign_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_sign_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            if (a.policy != NULL) {
                return opt_usage_error(&cmd_sign_spec, "unexpected argument '%s' (one POLICY)", v);
            }
            a.policy = v;
            break;
        case O_KEY:
            a.key = v;
            break;
        case O_SERIAL:
            if (opt_parse_uint(v, (unsigned long)INT64_MAX, &a.serial) != 0 || a.serial == 0) {
                return opt_usage_error(
                    &cmd_sign_spec, "--serial '%s': expected a whole number from 1 to 2^63-1", v);
            }
            have_serial = 1;
            break;
        case O_EXPIRES:
            a.expires = v;
            break;
        case O_SCOPE:
            if (a.nscope == SIGN_MAX_SCOPE) {
                return opt_usage_error(&cmd_sign_spec, "more than %d --scope options",
                                       SIGN_MAX_SCOPE);
            }
            a.scope[a.nscope++] = v;
            break;
        case O_OUTPUT:
            a.output = v;
            break;
        case O_DELEGATION:
            a.delegation = v;
            break;
        case O_COSIGN:
            a.cosign = v;
            break;
        case O_NOW:
            if (out_parse_time(v, &a.now) != 0) {
                return opt_usage_error(
                    &cmd_sign_spec, "--now '%s': expected an RFC 3339 time, a date or @SECONDS", v);
            }
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (a.cosign != NULL) {
        if (a.key == NULL || a.output == NULL || a.policy != NULL || have_serial || a.nscope > 0) {
            return opt_usage_error(&cmd_sign_spec,
                                   "--cosign DOC takes --key, -o OUT and --delegation only");
        }
        return run_sign(&a);
    }
    if (a.key == NULL || !have_serial || a.output == NULL || a.policy == NULL) {
        return opt_usage_error(&cmd_sign_spec, "--key, --serial, -o DOC and POLICY are required");
    }
    if (a.now == 0) {
        a.now = (int64_t)time(NULL);
    }
    if (parse_expires(a.expires, a.now, &a.expires_at) != 0 || a.expires_at <= a.now) {
        return opt_usage_error(&cmd_sign_spec,
                               "--expires '%s': expected a time after the signing time, or Nd",
                               a.expires);
    }
    return run_sign(&a);
}
