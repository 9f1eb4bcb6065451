/*
 * keyfile.c - key files: reading signing keys for keygen, sign and verify;
 * creating key files for keygen and backup-key.
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC, O_NOFOLLOW, fdopen */

#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <util/buf.h>
#include <util/read.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common.h"
#include "out.h"

EVP_PKEY *keyfile_read(const char *cmd, const char *path, int private_key)
{
    struct pinset__buf in;
    pinset_diag d = PINSET_DIAG_INIT;
    EVP_PKEY *key = NULL;
    BIO *bio;
    char name[512], no_pass[1] = {0}; /* never a prompt: an encrypted key is refused */

    out_safe_copy(name, sizeof(name), path);
    if (pinset__read_path(&in, path, KEYFILE_MAX, 0, 0, &d) != PINSET_OK) {
        pinset__buf_free(&in);
        cli_err_diag(cmd, &d);
        return NULL;
    }
    bio = in.len > 0 ? BIO_new_mem_buf(in.p, (int)in.len) : NULL;
    if (bio != NULL) {
        key = PEM_read_bio_PrivateKey(bio, NULL, NULL, no_pass);
        if (key == NULL && !private_key) {
            (void)BIO_reset(bio);
            key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        }
        BIO_free(bio);
    }
    pinset__buf_free(&in);
    ERR_clear_error();
    if (key == NULL) {
        cli_err(cmd, "%s: not a PEM %s key (an unencrypted one from 'pinset keygen')", name,
                private_key ? "private" : "public");
        return NULL;
    }
    if (keyfile_type(key) == NULL) {
        cli_err(cmd, "%s: not an ed25519 or ec p-256 key", name);
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

const char *keyfile_type(const EVP_PKEY *key)
{
    char group[64];
    const char *t = NULL;

    if (EVP_PKEY_is_a(key, "ED25519")) {
        return "ed25519";
    }
    if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) == 1 &&
        (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)) {
        t = "p256";
    }
    ERR_clear_error();
    return t;
}

FILE *keyfile_create(const char *cmd, const char *path, unsigned int mode, const char *exists_hint,
                     int *made)
{
    char name[512];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    FILE *f;

    out_safe_copy(name, sizeof(name), path);
    if (fd < 0) {
        cli_err(cmd, "%s: %s%s", name, strerror(errno), errno == EEXIST ? exists_hint : "");
        return NULL;
    }
    *made = 1;
    if (fchmod(fd, (mode_t)mode) != 0 || (f = fdopen(fd, "w")) == NULL) {
        cli_err(cmd, "%s: %s", name, strerror(errno));
        close(fd);
        return NULL;
    }
    return f;
}

int keyfile_finish(const char *cmd, FILE *f, int ok, const char *path)
{
    char name[512];
    int e;

    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    e = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        out_safe_copy(name, sizeof(name), path);
        cli_err(cmd, "cannot write %s: %s", name, e != 0 ? strerror(e) : "error");
        return -1;
    }
    return 0;
}
