/*
 * chain_file.h - a certificate chain given on the command line (`explain
 * --chain`, `plan --chain`): read once, the same way, by every command.
 */
#ifndef PINSET_CLI_CHAIN_FILE_H
#define PINSET_CLI_CHAIN_FILE_H

#include <stddef.h>

#include <openssl/x509.h>

#include <pinset/openssl.h>

#include "common.h"

/* The largest chain file read: a PEM bundle of a few certificates. */
#define CLI_CHAIN_FILE_MAX (1u << 20)

/*
 * Push every certificate of the file at `path` ("-": standard input), in
 * order, onto `sent` (new references). -1 on success; otherwise the exit
 * status, after a message "pinset: CMD: ..." naming the file: an object that
 * is not a certificate, no certificate, an unreadable file.
 */
int cli_chain_read(STACK_OF(X509) * sent, const char *cmd, const char *path);

/*
 * The DER of each certificate of `sk` into c[0..sk count) (the caller's
 * array, large enough; each der freed with OPENSSL_free); *n counts those
 * made. 1 on success, 0 when an encoding failed.
 */
int cli_chain_der(pinset_cert *c, size_t *n, STACK_OF(X509) * sk);

#endif /* PINSET_CLI_CHAIN_FILE_H */
