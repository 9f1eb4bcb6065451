/*
 * tmpdir.h - a private temporary directory for a test, and its removal, one
 * copy for the tests that need a directory of their own, and the small file
 * helpers those tests share (test-only).
 */
#ifndef PINSET_TESTLIB_TMPDIR_H
#define PINSET_TESTLIB_TMPDIR_H

/*
 * A new directory /tmp/pinset-NAME-XXXXXX, mode 0700, its path malloc'd
 * (testlib_tmpdir_remove removes and frees it); NULL when it cannot be made.
 */
char *testlib_tmpdir(const char *name);

/* `rm -rf` of dir and free(dir); 0, or -1 when the removal failed. */
int testlib_tmpdir_remove(char *dir);

#include <stddef.h>

/*
 * "DIR/NAME" in one of 8 static buffers used in turn (so that a few can be
 * passed to one call); the path is cut at 1199 characters.
 */
const char *testlib_path(const char *dir, const char *name);

/* The file at path into buf (at most cap - 1 bytes, NUL-terminated); "" when it cannot be read. */
void testlib_slurp(const char *path, char *buf, size_t cap);

/* How many times needle occurs in hay (overlapping occurrences counted). */
int testlib_count(const char *hay, const char *needle);

#endif /* PINSET_TESTLIB_TMPDIR_H */
