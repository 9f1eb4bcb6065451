/* tmpdir.c - see tmpdir.h. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, strdup */

#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *testlib_tmpdir(const char *name)
{
    char tmpl[256], *dir;

    if (snprintf(tmpl, sizeof(tmpl), "/tmp/pinset-%s-XXXXXX", name) >= (int)sizeof(tmpl) ||
        mkdtemp(tmpl) == NULL) {
        return NULL;
    }
    if (chmod(tmpl, 0700) != 0 || (dir = strdup(tmpl)) == NULL) {
        (void)rmdir(tmpl);
        return NULL;
    }
    return dir;
}

int testlib_tmpdir_remove(char *dir)
{
    char cmd[512];
    int ok;

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ok = system(cmd) == 0;
    free(dir);
    return ok ? 0 : -1;
}
