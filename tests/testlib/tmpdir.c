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

const char *testlib_path(const char *dir, const char *name)
{
    static char buf[8][1200];
    static int next;
    char *p = buf[next++ % 8];

    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

void testlib_slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, cap - 1, f) : 0;

    buf[n] = '\0';
    if (f != NULL) {
        fclose(f);
    }
}

int testlib_count(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
        n++;
    }
    return n;
}
