/*
 * chain_file.c - a certificate chain given on the command line (chain_file.h).
 */
#include "chain_file.h"

#include <stdint.h>

#include "input.h"
#include "out.h"

int cli_chain_read(STACK_OF(X509) * sent, const char *cmd, const char *path)
{
    pinset_load_opts lo = PINSET_LOAD_OPTS_INIT;
    pinset_bundle *b = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    char name[256];
    pinset_err err;
    int rc = -1;

    out_safe_copy(name, sizeof(name), path);
    lo.flags = 0;
    lo.max_input = CLI_CHAIN_FILE_MAX;
    d.input = cli_is_stdin(path) ? CLI_STDIN_NAME : path; /* names a buffer read from stdin */
    err = cli_bundle_read(&b, path, &lo, &d);
    if (err != PINSET_OK) {
        cli_err_diag(cmd, &d);
        return cli_exit_for(err) == EXIT_USAGE ? EXIT_INPUT : cli_exit_for(err);
    }
    for (size_t i = 0; i < pinset_bundle_count(b); i++) {
        const X509 *x = pinset_object_x509(pinset_bundle_get(b, i));
        if (x == NULL) {
            cli_err(cmd, "--chain %s: object %zu is not a certificate", name, i + 1);
            rc = EXIT_INPUT;
            break;
        }
        /* pinset_object_x509 returns a const borrowed pointer; take our own reference */
        if (X509_up_ref((X509 *)(uintptr_t)x) != 1 ||
            sk_X509_push(sent, (X509 *)(uintptr_t)x) <= 0) {
            cli_err(cmd, "out of memory");
            rc = EXIT_INTERNAL;
            break;
        }
    }
    if (rc < 0 && sk_X509_num(sent) == 0) {
        cli_err(cmd, "--chain %s: no certificate", name);
        rc = EXIT_INPUT;
    }
    pinset_bundle_free(b);
    return rc;
}

int cli_chain_der(pinset_cert *c, size_t *n, STACK_OF(X509) * sk)
{
    size_t count = (size_t)sk_X509_num(sk);

    *n = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(sk_X509_value(sk, (int)i), &der);
        if (len <= 0) {
            return 0;
        }
        c[i].der = der;
        c[i].len = (size_t)len;
        *n = i + 1;
    }
    return 1;
}
