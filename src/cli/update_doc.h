/*
 * update_doc.h - what `pinset verify` and `pinset update` share: the
 * trusted keys of their --root options, the document (a path or "-"),
 * and the list of a policy's hosts in their summaries.
 */
#ifndef PINSET_CLI_UPDATE_DOC_H
#define PINSET_CLI_UPDATE_DOC_H

#include <stddef.h>
#include <util/buf.h>

#include <openssl/evp.h>

#include <pinset/policy.h>

/* Most --root options. */
#define UPDATE_DOC_MAX_ROOTS 16

/*
 * Read the public keys at paths[0..n) into keys (n at most
 * UPDATE_DOC_MAX_ROOTS). 0, or -1 after `pinset: CMD: PATH: reason` (the
 * keys read so far stay in keys; free them with update_doc_free_keys).
 */
int update_doc_read_keys(const char *cmd, const char *const *paths, size_t n, EVP_PKEY **keys);
void update_doc_free_keys(EVP_PKEY **keys, size_t n);

/*
 * Read the document at path ("-": standard input, 30 s for a pipe) into in
 * (initialised here; the caller frees it), at most PINSET_UPDATE_MAX_SIZE.
 * EXIT_OK, or EXIT_INPUT / EXIT_INTERNAL after a message.
 */
int update_doc_read(struct pinset__buf *in, const char *cmd, const char *path);

/* ": host **.host *.host" for each rule of p, after "N rule(s)"; no newline. */
void update_doc_print_hosts(const pinset_policy *p);

#endif /* PINSET_CLI_UPDATE_DOC_H */
