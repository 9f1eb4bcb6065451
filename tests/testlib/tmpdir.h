/*
 * tmpdir.h - a private temporary directory for a test, and its removal, one
 * copy for the tests that need a directory of their own (test-only).
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

#endif /* PINSET_TESTLIB_TMPDIR_H */
