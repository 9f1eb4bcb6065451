/*
 * cmd_keygen.c - `pinset keygen [--type ed25519|p256] KEYFILE`: a key pair
 * for signing policy updates (update.h, docs/update-protocol.md).
 *
 * It writes KEYFILE (the private key, PKCS#8 PEM, mode 0600) and
 * KEYFILE.pub (the public key, SubjectPublicKeyInfo PEM, the file clients
 * trust), each created with O_EXCL: an existing file is never overwritten,
 * and a run that fails removes what it created. It prints the keyid, the
 * hex SHA-256 of the public key's SubjectPublicKeyInfo, as signatures name it.
 */
#define _POSIX_C_SOURCE 200809L /* unlink */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <pinset/update.h>

#include "cmd.h"
#include "common.h"
#include "keyfile.h"
#include "out.h"

enum { O_TYPE, O_END };

static const opt_spec keygen_opts[] = {
    [O_TYPE] = {"type", 't', "TYPE", "ed25519 (default) or p256 (ECDSA P-256 with SHA-256)"},
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_keygen_spec = {"keygen", "[--type ed25519|p256] KEYFILE",
                                  "Make a key pair for signing policy updates.", keygen_opts};

#define EXISTS_HINT " (a key is never overwritten: choose another KEYFILE)"

/* The two files of one run, removed again if the run fails. */
typedef struct key_files {
    char path[2][4096];
    int made[2];
} key_files;

static int make_keys(const char *file, int p256)
{
    key_files k;
    EVP_PKEY *key = NULL;
    char keyid[PINSET_UPDATE_KEYID_MAX];
    FILE *f;
    int rc = EXIT_INTERNAL, w;

    memset(&k, 0, sizeof(k));
    w = snprintf(k.path[0], sizeof(k.path[0]), "%s", file);
    if (w < 0 || (size_t)w + 4 >= sizeof(k.path[0])) {
        cli_err("keygen", "KEYFILE is too long a path");
        return EXIT_USAGE;
    }
    snprintf(k.path[1], sizeof(k.path[1]), "%s.pub", file);
    key = p256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
               : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL || pinset_update_keyid(keyid, sizeof(keyid), key, NULL) != PINSET_OK) {
        cli_err("keygen", "cannot generate a %s key", p256 ? "p256" : "ed25519");
        goto out;
    }
    rc = EXIT_INPUT; /* from here on: the files */
    if ((f = keyfile_create("keygen", k.path[0], 0600, EXISTS_HINT, &k.made[0])) == NULL ||
        keyfile_finish("keygen", f, PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1,
                       k.path[0]) != 0) {
        goto out;
    }
    if ((f = keyfile_create("keygen", k.path[1], 0644, EXISTS_HINT, &k.made[1])) == NULL ||
        keyfile_finish("keygen", f, PEM_write_PUBKEY(f, key) == 1, k.path[1]) != 0) {
        goto out;
    }
    printf("private key: ");
    out_safe(stdout, k.path[0]);
    printf(" (mode 0600: keep it secret, offline when it is a root key)\npublic key:  ");
    out_safe(stdout, k.path[1]);
    printf(" (give it to 'pinset verify --root' and to clients)\nkeyid:       %s (%s)\n", keyid,
           p256 ? "p256" : "ed25519");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        rc = cli_output_failed("keygen");
        goto out;
    }
    memset(&k.made, 0, sizeof(k.made)); /* done: keep them */
    rc = EXIT_OK;
out:
    for (int i = 0; i < 2; i++) {
        if (k.made[i]) {
            (void)unlink(k.path[i]);
        }
    }
    ERR_clear_error();
    EVP_PKEY_free(key);
    return rc;
}

int cmd_keygen(int argc, char **argv)
{
    const char *file = NULL, *v;
    opt_state st;
    int r, p256 = 0;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_keygen_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_keygen_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            if (file != NULL) {
                return opt_usage_error(&cmd_keygen_spec, "unexpected argument '%s'", v);
            }
            file = v;
            break;
        case O_TYPE:
            if (strcmp(v, "ed25519") != 0 && strcmp(v, "p256") != 0) {
                return opt_usage_error(&cmd_keygen_spec, "--type '%s': expected ed25519 or p256",
                                       v);
            }
            p256 = strcmp(v, "p256") == 0;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (file == NULL || file[0] == '\0') {
        return opt_usage_error(&cmd_keygen_spec, "KEYFILE is required");
    }
    return make_keys(file, p256);
}
