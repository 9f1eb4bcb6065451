/*
 * store.c - store_open: the backend by the target's form; store_target_shown: a
 * target fit to print (a URL's password masked).
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

int store_schema_check(int64_t v, int64_t known, int need_current, char *err, size_t cap)
{
    if (need_current && v == 0) {
        snprintf(err, cap, "not a pinset report database (no schema_version table)");
        return -1;
    }
    if (v > known) {
        snprintf(err, cap, "schema version %lld is newer than this pinset knows (%d)", (long long)v,
                 (int)known);
        return -1;
    }
    if (need_current && v < known) {
        snprintf(
            err, cap,
            "schema version %lld is older than this pinset's (%d): run pinset collect on it once",
            (long long)v, (int)known);
        return -1;
    }
    return 0;
}

int store_open(store **out, const char *target, int read_only, char *err, size_t cap)
{
    *out = NULL;
    if (target == NULL || target[0] == '\0') {
        snprintf(err, cap, "no database given");
        return -1;
    }
    if (store_is_postgres(target)) {
        return store_pg_open(out, target, read_only, err, cap);
    }
    if (strstr(target, "://") != NULL) {
        snprintf(err, cap, "unknown database URL scheme (give a file path for SQLite)");
        return -1;
    }
    return store_sqlite_open(out, target, read_only, err, cap);
}

/* Replace what follows `from` up to the first of `ends` (or the end) in buf with "***". */
static void mask(char *buf, size_t cap, char *from, const char *ends)
{
    size_t n = strcspn(from, ends), rest = strlen(from + n), room = cap - (size_t)(from - buf);

    if (room < 4) {
        *from = '\0';
        return;
    }
    if (rest > room - 4) {
        rest = room - 4;
    }
    memmove(from + 3, from + n, rest);
    memcpy(from, "***", 3);
    from[3 + rest] = '\0';
}

const char *store_target_shown(const char *target, char *buf, size_t cap)
{
    const char *auth, *at = NULL, *colon;
    char *p;

    if (target == NULL || !store_is_postgres(target) || cap == 0) {
        return target;
    }
    /* user:password@ in the authority: cut from the original, so that no truncation shows it */
    auth = strstr(target, "://") + 3;
    for (const char *q = auth; *q != '\0' && *q != '/' && *q != '?'; q++) {
        at = *q == '@' ? q : at;
    }
    colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon != NULL) {
        snprintf(buf, cap, "%.*s***%s", (int)(colon + 1 - target), target, at);
    } else {
        snprintf(buf, cap, "%s", target);
    }
    for (p = buf; (p = strstr(p, "password=")) != NULL; p += 9) {
        if (p > buf && (p[-1] == '?' || p[-1] == '&')) {
            mask(buf, cap, p + 9, "&");
        }
    }
    return buf;
}
