/*
 * update_doc.h - what `pinset verify` and `pinset update` share: the
 * trusted keys of their --root options, the document (a path or "-"),
 * and the list of a policy's hosts in their summaries.
 */
#ifndef PINSET_CLI_UPDATE_DOC_H
#define PINSET_CLI_UPDATE_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <util/buf.h>

#include <openssl/evp.h>

#include <pinset/policy.h>

#include "opt.h"

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

/* What verify, update and publish take alike. */
typedef struct update_args {
    const char *roots[UPDATE_DOC_MAX_ROOTS]; /* --root, repeatable */
    size_t nroots;
    const char *dir;             /* the command's own directory option (--state, --out), or NULL */
    const char *doc;             /* the one DOC ("-": standard input) */
    int64_t now;                 /* --now, else the current time */
    unsigned long threshold;     /* --threshold, else 1 */
    const char *cafile;          /* --cafile, or NULL */
    unsigned long timeout;       /* --timeout in seconds, or 0 */
    unsigned long max_redirects; /* --max-redirects, or 0 */
    int index;                   /* --index: DOC is the URL of an index.json (pinset publish) */
} update_args;

/* Where a command's table has each option update_args_parse reads; -1: none. */
typedef struct update_opt_ids {
    int root, now, dir, threshold, cafile, timeout, max_redirects, index;
} update_opt_ids;

/*
 * Parse argv for a command whose table has its options at ids (the
 * directory option is the command's own --state or --out): the roots, the
 * time, the threshold, the transfer's --cafile and --timeout, the one
 * DOC. -1 to go on; otherwise the exit status (after --help, or a usage
 * error; `required` is the message when --root, the directory or DOC is
 * missing).
 */
int update_args_parse(update_args *a, const cmd_spec *spec, int argc, char **argv,
                      const update_opt_ids *ids, const char *required);

/* 1 when doc is an http:// or https:// URL (fetched, not read). */
int update_doc_is_url(const char *doc);

/*
 * The trusted keys (into keys) and the document (into in) of a. EXIT_OK, or
 * the exit status after a message; keys read so far stay in keys and in is
 * initialised either way.
 */
int update_doc_open(EVP_PKEY **keys, struct pinset__buf *in, const char *cmd, const update_args *a);

/* ": host **.host *.host" for each rule of p, after "N rule(s)"; no newline. */
void update_doc_print_hosts(const pinset_policy *p);

#endif /* PINSET_CLI_UPDATE_DOC_H */
