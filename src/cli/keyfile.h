/*
 * keyfile.h - key files for `pinset keygen`, `sign`, `verify` and
 * `backup-key`: read a PEM private or public key with the bounded reader,
 * name a signing key's type, and create key files that never overwrite.
 */
#ifndef PINSET_CLI_KEYFILE_H
#define PINSET_CLI_KEYFILE_H

#include <stdio.h>

#include <openssl/evp.h>

/* Largest key file read. */
#define KEYFILE_MAX ((size_t)64 * 1024)

/*
 * Read a PEM private key (private = 1: PKCS#8 or traditional, unencrypted)
 * or a PEM public key (SubjectPublicKeyInfo; a private key file is also
 * taken, its public half used) from path. NULL after a message on stderr
 * as `pinset: CMD: PATH: reason`. The file's bytes are wiped once read.
 */
EVP_PKEY *keyfile_read(const char *cmd, const char *path, int private_key);

/* "ed25519", "p256" or NULL when the key is neither (not a signing key pinset takes). */
const char *keyfile_type(const EVP_PKEY *key);

/*
 * Create path for writing with O_EXCL and O_NOFOLLOW (an existing file is
 * never overwritten) and exactly `mode`. *made is set to 1 once the file
 * exists, so that a caller that fails later removes it. NULL after
 * `pinset: CMD: PATH: reason` on stderr, with exists_hint appended when the
 * file exists.
 */
FILE *keyfile_create(const char *cmd, const char *path, unsigned int mode, const char *exists_hint,
                     int *made);

/* Flush, fsync and close f; ok 0 means a write failed. 0, or -1 after a message. */
int keyfile_finish(const char *cmd, FILE *f, int ok, const char *path);

#endif /* PINSET_CLI_KEYFILE_H */
