/*
 * read.h - the one bounded input reader: a regular file, a FIFO or a pipe,
 * read to its end with a size bound and (for FIFOs and pipes) a time bound
 * kept with poll(). Devices, directories and sockets given by path are
 * refused before they are opened. Messages name the input and say why.
 * Standard input is the tool's convention; the library reads paths only.
 * Internal; not installed.
 */
#ifndef PINSET_UTIL_READ_H
#define PINSET_UTIL_READ_H

#include <stddef.h>

#include <pinset/error.h>

#include "util/buf.h"

/* The monotonic clock in milliseconds: for deadlines and intervals. */
int64_t pinset__mono_ms(void);

/* Flags for pinset__read_path. */
#define PINSET__READ_FIFO 0x1u /* accept a FIFO too (else regular files only) */

/*
 * Read the file at path, at most max bytes, into *out (initialised here;
 * wiped when freed, since inputs may hold keys; the caller frees it with
 * pinset__buf_free, also on failure). A FIFO is opened without blocking, so
 * one with no writer is an empty input; it must reach its end within
 * timeout_ms. Returns PINSET_OK, PINSET_E_IO (missing, refused kind, read
 * error, time bound), PINSET_E_LIMIT (size bound) or PINSET_E_NOMEM.
 */
pinset_err pinset__read_path(struct pinset__buf *out, const char *path, size_t max, long timeout_ms,
                             unsigned flags, pinset_diag *diag);

/*
 * Read an open descriptor (a regular file, a pipe, a FIFO or a socket; not
 * a terminal or another device) to its end, as pinset__read_path; name is
 * used in messages ("standard input"). The descriptor is not closed.
 */
pinset_err pinset__read_fd(struct pinset__buf *out, int fd, const char *name, size_t max,
                           long timeout_ms, pinset_diag *diag);

#endif /* PINSET_UTIL_READ_H */
