/*
 * keyfile.h - signing keys for `pinset keygen`, `sign` and `verify`: read a
 * PEM private or public key with the bounded reader, and name a key's type.
 */
#ifndef PINSET_CLI_KEYFILE_H
#define PINSET_CLI_KEYFILE_H

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

#endif /* PINSET_CLI_KEYFILE_H */
