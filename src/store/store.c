/*
 * store.c - store_open: the backend by the target's form.
 */
#include <stdio.h>
#include <store/store.h>
#include <string.h>
#include <strings.h>

#include "common.h"

int store_is_postgres(const char *target)
{
    return target != NULL && (strncasecmp(target, "postgres://", 11) == 0 ||
                              strncasecmp(target, "postgresql://", 13) == 0);
}

int store_open(store **out, const char *target, int read_only, char *err, size_t cap)
{
    *out = NULL;
    if (target == NULL || target[0] == '\0') {
        snprintf(err, cap, "no database given");
        return -1;
    }
    if (store_is_postgres(target)) {
        snprintf(err, cap,
                 "PostgreSQL is not supported yet (this build stores reports in SQLite: give a "
                 "file path)");
        return -1;
    }
    if (strstr(target, "://") != NULL) {
        snprintf(err, cap, "unknown database URL scheme (give a file path for SQLite)");
        return -1;
    }
    return store_sqlite_open(out, target, read_only, err, cap);
}
