/*
 * outfile.h - write a result file atomically: readers of FILE (node_exporter's
 * textfile collector, a monitoring agent, a web server) see the previous
 * content or the new one, whole, never a part.
 *
 * outfile_open creates a temporary file FILE.XXXXXX in FILE's directory
 * (mkstemp: a fresh name, mode 0600, never a file that existed); the caller
 * writes to o->f; outfile_commit flushes it, fsyncs it, sets mode 0644 (so
 * that a collector running as another user can read it), closes it and
 * renames it over FILE (rename(2) is atomic within one file system, hence
 * the same directory). outfile_abort removes the temporary and leaves FILE
 * as it was. Every failure leaves FILE untouched and no temporary behind.
 */
#ifndef PINSET_CLI_OUTFILE_H
#define PINSET_CLI_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct outfile {
    FILE *f;           /* write here between outfile_open and outfile_commit */
    char *tmp;         /* the temporary's path (heap) */
    char *path;        /* the final path (heap copy) */
    unsigned int mode; /* the file's mode at commit, with OUTFILE_MODE_SET; else 0644 */
} outfile;
/* Or'ed into outfile.mode (after outfile_open) to keep a mode, 0000 included. */
#define OUTFILE_MODE_SET 0x10000u
#define OUTFILE_INIT        \
    {                       \
        NULL, NULL, NULL, 0 \
    }

/* Create the temporary for `path`. 0, or -1 with a one-line message in err (nothing left). */
int outfile_open(outfile *o, const char *path, char *err, size_t errcap);
/*
 * Flush, fsync, chmod 0644 (or o->mode), close and rename over the final path. 0, or -1 with
 * a message; on failure the temporary is removed and the final path untouched.
 * The outfile is released either way.
 */
int outfile_commit(outfile *o, char *err, size_t errcap);
/* Remove the temporary (if any) and release the outfile; the final path is untouched. */
void outfile_abort(outfile *o);

#endif /* PINSET_CLI_OUTFILE_H */
