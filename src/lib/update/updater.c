/*
 * updater.c - the client side of signed policy updates (update.h,
 * docs/update-protocol.md "The updater"): a state directory that holds the
 * applied document and the highest serial, the checks against it
 * (rollback, equivocation, clock rolled back) and crash-safe writes.
 *
 * Order of writes when a document is applied: `state` first (temporary,
 * fsync, rename, fsync of the directory), then `current.dsse` the same
 * way. A crash before the first rename leaves the old state; between the
 * two, the new serial with the old document (which load still accepts:
 * its serial is not above the persisted one, and applying the new
 * document again completes the update); after the second, the new state.
 * The persisted serial is never below that of the document in use.
 */
#define _DEFAULT_SOURCE /* openat, renameat, unlinkat, O_CLOEXEC; flock */

#include "update/updater.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <pinset/update.h>

#include "internal.h"
#include "util/hex.h"
#include "util/read.h"

/* The largest state file read. */
#define STATE_MAX 4096
/* The first line of a state file. */
#define STATE_MAGIC "pinset-updater-state 1"

/* What `state` holds. */
struct state {
    int present;
    uint64_t serial;
    int64_t issued_at;
    uint8_t digest[PINSET__SHA256_LEN];
    uint64_t deleg; /* the highest delegation serial accepted (0: none) */
};

/*
 * Open the state directory, refuse one that is not ours or that others
 * may write, and lock it (how: LOCK_EX or LOCK_SH). The descriptor, or -1.
 */
static int open_dir(const char *dir, int how, pinset_diag *diag)
{
    struct stat st;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        PINSET_DIAG(diag, PINSET_E_IO, "state directory: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        PINSET_DIAG(diag, PINSET_E_IO, "state directory: %s", strerror(errno));
    } else if (st.st_uid != geteuid()) {
        PINSET_DIAG(diag, PINSET_E_IO, "the state directory is owned by another user");
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        PINSET_DIAG(diag, PINSET_E_IO, "the state directory is writable by group or others");
    } else if (flock(fd, how) != 0) {
        PINSET_DIAG(diag, PINSET_E_IO, "the state directory cannot be locked: %s", strerror(errno));
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/*
 * Read name in dir into b (initialised here). PINSET_OK; PINSET_E_IO with
 * *missing set and diag untouched when it does not exist.
 */
static pinset_err read_at(struct pinset__buf *b, int dir, const char *name, size_t max,
                          int *missing, pinset_diag *diag)
{
    const char *keep;
    struct stat st;
    pinset_err err;
    int fd;

    pinset__buf_init(b, max, 0);
    *missing = 0;
    fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *missing = 1; /* not a failure for the callers: no diag */
        return PINSET_E_IO;
    }
    if (fd < 0) {
        return PINSET_DIAG(diag, PINSET_E_IO, "%s: %s", name, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return PINSET_DIAG(diag, PINSET_E_IO, "%s: not a regular file", name);
    }
    keep = diag != NULL ? diag->input : NULL;
    err = pinset__read_fd(b, fd, name, max, 0, diag);
    close(fd);
    if (err == PINSET_OK) {
        pinset__diag_input(diag, keep); /* the reader names what it read; keep the caller's */
    }
    return err;
}

/*
 * Parse "serial N\nissued_at N\ndigest HEX\n" after the magic line, exactly,
 * then the optional "delegation N\n" (written since delegations exist).
 */
static pinset_err parse_state(struct state *st, const uint8_t *p, size_t len, pinset_diag *diag)
{
    char text[STATE_MAX + 1], hex[2 * PINSET__SHA256_LEN + 1], tail;
    unsigned long long serial;
    long long issued;
    int n = 0;
    char *s;

    memcpy(text, p, len);
    text[len] = '\0';
    if (strlen(text) != len ||
        strncmp(text, STATE_MAGIC "\nserial ", strlen(STATE_MAGIC "\nserial ")) != 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "state: not a pinset updater state file");
    }
    s = text + strlen(STATE_MAGIC "\nserial ");
    if (*s < '0' || *s > '9') {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "state: bad serial");
    }
    errno = 0;
    serial = strtoull(s, &s, 10);
    if (errno != 0 || serial == 0 || serial > INT64_MAX || strncmp(s, "\nissued_at ", 11) != 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "state: bad serial");
    }
    issued = strtoll(s + 11, &s, 10);
    if (errno != 0 || strncmp(s, "\ndigest ", 8) != 0) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "state: bad issued_at");
    }
    s += 8;
    for (n = 0; n < 2 * PINSET__SHA256_LEN && pinset__hex_digit((unsigned char)s[n], 1) >= 0; n++) {
        hex[n] = s[n];
    }
    tail = s[n];
    if (n != 2 * PINSET__SHA256_LEN || tail != '\n') {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "state: bad digest");
    }
    s += n + 1;
    if (strncmp(s, "delegation ", 11) == 0) {
        unsigned long long deleg;
        s += 11;
        if (*s < '0' || *s > '9') {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "state: bad delegation serial");
        }
        deleg = strtoull(s, &s, 10);
        if (errno != 0 || deleg > INT64_MAX || *s != '\n') {
            return PINSET_DIAG(diag, PINSET_E_PARSE, "state: bad delegation serial");
        }
        st->deleg = deleg;
        s++;
    }
    if (*s != '\0') {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "state: unexpected content after the digest");
    }
    (void)pinset__hex_decode(st->digest, hex, PINSET__SHA256_LEN, 1); /* 64 digits, read above */
    st->serial = serial;
    st->issued_at = issued;
    st->present = 1;
    return PINSET_OK;
}

/* Read `state`; a missing one is no state (st->present 0). */
static pinset_err read_state(struct state *st, int dir, pinset_diag *diag)
{
    struct pinset__buf b;
    int missing;
    pinset_err err = read_at(&b, dir, PINSET_UPDATER_STATE, STATE_MAX, &missing, diag);

    memset(st, 0, sizeof(*st));
    if (err == PINSET_OK) {
        err = parse_state(st, b.p, b.len, diag);
    } else if (missing) {
        err = PINSET_OK;
    }
    pinset__buf_free(&b);
    return err;
}

/* Write buf to name in dir: a temporary, fsync, rename over name, fsync of the directory. */
static pinset_err write_at(int dir, const char *name, const void *buf, size_t len,
                           pinset_diag *diag)
{
    char tmp[64];
    const uint8_t *p = buf;
    int fd;

    snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
    fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return PINSET_DIAG(diag, PINSET_E_IO, "%s: %s", tmp, strerror(errno));
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            goto fail;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (renameat(dir, tmp, dir, name) != 0 || fsync(dir) != 0) {
        goto fail;
    }
    return PINSET_OK;
fail:
    PINSET_DIAG(diag, PINSET_E_IO, "cannot write %s: %s", name, strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    (void)unlinkat(dir, tmp, 0);
    return PINSET_E_IO;
}

/* The state after u: its serial, issued_at and digest, and the delegation floor deleg. */
static pinset_err write_state(int dir, const pinset_update *u,
                              const uint8_t digest[PINSET__SHA256_LEN], uint64_t deleg,
                              pinset_diag *diag)
{
    char text[320];
    int n = snprintf(text, sizeof(text),
                     STATE_MAGIC "\nserial %" PRIu64 "\nissued_at %" PRId64 "\ndigest ",
                     pinset_update_serial(u), pinset_update_issued_at(u));

    for (size_t i = 0; i < PINSET__SHA256_LEN; i++) {
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", digest[i]);
    }
    n += snprintf(text + n, sizeof(text) - (size_t)n, "\n");
    if (deleg > 0) {
        n += snprintf(text + n, sizeof(text) - (size_t)n, "delegation %" PRIu64 "\n", deleg);
    }
    return write_at(dir, PINSET_UPDATER_STATE, text, (size_t)n, diag);
}

/* Steps 3 to 5 of pinset_updater_apply. */
static pinset_updater_status judge(const struct state *st, const pinset_update *u,
                                   const uint8_t digest[PINSET__SHA256_LEN], pinset_diag *diag)
{
    uint64_t serial = pinset_update_serial(u);

    if (!st->present) {
        return PINSET_UPDATER_APPLIED;
    }
    if (serial < st->serial) {
        PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                    "rollback: serial %" PRIu64 " is below the applied serial %" PRIu64, serial,
                    st->serial);
        return PINSET_UPDATER_ROLLBACK;
    }
    if (serial == st->serial) {
        if (CRYPTO_memcmp(digest, st->digest, PINSET__SHA256_LEN) != 0) {
            PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                        "equivocation: serial %" PRIu64 " was applied with another payload",
                        serial);
            return PINSET_UPDATER_EQUIVOCATION;
        }
        return PINSET_UPDATER_UNCHANGED;
    }
    if (pinset_update_issued_at(u) < st->issued_at) {
        PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                    "clock rolled back: serial %" PRIu64 " was issued before serial %" PRIu64,
                    serial, st->serial);
        return PINSET_UPDATER_CLOCK_ROLLBACK;
    }
    return PINSET_UPDATER_APPLIED;
}

static int keys_ok(const char *state_dir, const EVP_PKEY *const *trusted, size_t ntrusted)
{
    return state_dir != NULL && trusted != NULL && ntrusted > 0;
}

pinset_err pinset_updater_apply(pinset_update **update_out, pinset_updater_status *status_out,
                                const char *state_dir, const uint8_t *doc, size_t len,
                                const EVP_PKEY *const *trusted, size_t ntrusted, int64_t now,
                                pinset_diag *diag)
{
    return pinset_updater_apply_threshold(update_out, status_out, state_dir, doc, len, trusted,
                                          ntrusted, 1, now, diag);
}

pinset_err pinset_updater_apply_threshold(pinset_update **update_out,
                                          pinset_updater_status *status_out, const char *state_dir,
                                          const uint8_t *doc, size_t len,
                                          const EVP_PKEY *const *trusted, size_t ntrusted,
                                          unsigned int threshold, int64_t now, pinset_diag *diag)
{
    struct pinset__verify_args va = {trusted, ntrusted, threshold, 0, now, 1};
    uint64_t deleg;
    pinset_updater_status status = PINSET_UPDATER_STATE_ERROR;
    uint8_t digest[PINSET__SHA256_LEN];
    pinset_update *u = NULL;
    struct state st;
    pinset_err err;
    int dir = -1;

    if (update_out != NULL) {
        *update_out = NULL;
    }
    if (update_out == NULL || !keys_ok(state_dir, trusted, ntrusted) || (doc == NULL && len > 0)) {
        err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
        goto out;
    }
    dir = open_dir(state_dir, LOCK_EX, diag);
    if (dir < 0) {
        err = PINSET_E_IO;
        goto out;
    }
    err = read_state(&st, dir, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    va.deleg_floor = st.deleg;
    err = pinset__update_verify(&u, digest, &status, doc, len, &va, diag);
    if (err != PINSET_OK) {
        goto out;
    }
    status = judge(&st, u, digest, diag);
    if (status != PINSET_UPDATER_APPLIED && status != PINSET_UPDATER_UNCHANGED) {
        err = PINSET_E_NO_MATCH;
        goto out;
    }
    deleg = pinset_update_delegation_serial(u) > st.deleg ? pinset_update_delegation_serial(u)
                                                          : st.deleg;
    /*
     * The serial (and the delegation floor) first: a crash between the two
     * leaves the new floor and the old document. The same document in a new
     * envelope with a newer delegation raises the delegation floor.
     */
    err = status == PINSET_UPDATER_APPLIED || deleg > st.deleg
              ? write_state(dir, u, digest, deleg, diag)
              : PINSET_OK;
    if (err == PINSET_OK) {
        /* Unchanged: rewriting the document completes an update a crash interrupted. */
        err = write_at(dir, PINSET_UPDATER_CURRENT, doc, len, diag);
    }
    if (err != PINSET_OK) {
        status = PINSET_UPDATER_STATE_ERROR;
        goto out;
    }
    *update_out = u;
    u = NULL;
out:
    if (err != PINSET_OK && status == PINSET_UPDATER_STATE_ERROR && state_dir != NULL) {
        pinset__diag_input(diag, state_dir); /* where: the directory, not the document */
    }
    if (status_out != NULL) {
        *status_out = status;
    }
    if (dir >= 0) {
        close(dir);
    }
    pinset_update_free(u);
    return err;
}

/* The loaded document agrees with the state: not above its serial; at it, its payload. */
static pinset_err consistent(const struct state *st, const pinset_update *u,
                             const uint8_t digest[PINSET__SHA256_LEN], pinset_diag *diag)
{
    uint64_t serial = pinset_update_serial(u);

    if (!st->present) {
        return PINSET_DIAG(diag, PINSET_E_PARSE, "state: missing while %s exists",
                           PINSET_UPDATER_CURRENT);
    }
    if (serial > st->serial ||
        (serial == st->serial && CRYPTO_memcmp(digest, st->digest, PINSET__SHA256_LEN) != 0)) {
        return PINSET_DIAG(diag, PINSET_E_PARSE,
                           "state: %s (serial %" PRIu64
                           ") does not match the state (serial %" PRIu64 ")",
                           PINSET_UPDATER_CURRENT, serial, st->serial);
    }
    return PINSET_OK;
}

pinset_err pinset_updater_load(pinset_update **update_out, unsigned int *flags_out,
                               const char *state_dir, const EVP_PKEY *const *trusted,
                               size_t ntrusted, int64_t now, pinset_diag *diag)
{
    return pinset_updater_load_threshold(update_out, flags_out, state_dir, trusted, ntrusted, 1,
                                         now, diag);
}

/* The clock is behind what the state has seen, beyond the allowed skew. */
static int clock_behind(const struct state *st, const pinset_update *u, int64_t now)
{
    int64_t seen =
        pinset_update_issued_at(u) > st->issued_at ? pinset_update_issued_at(u) : st->issued_at;

    return seen > now && (uint64_t)seen - (uint64_t)now > PINSET_UPDATE_CLOCK_SKEW;
}

pinset_err pinset_updater_load_threshold(pinset_update **update_out, unsigned int *flags_out,
                                         const char *state_dir, const EVP_PKEY *const *trusted,
                                         size_t ntrusted, unsigned int threshold, int64_t now,
                                         pinset_diag *diag)
{
    struct pinset__verify_args va = {trusted, ntrusted, threshold, 0, now, 0};
    pinset_updater_status why;
    uint8_t digest[PINSET__SHA256_LEN];
    struct pinset__buf b;
    pinset_update *u = NULL;
    unsigned int flags = 0;
    struct state st;
    pinset_err err;
    int dir = -1, missing = 0;

    pinset__buf_init(&b, 0, 0);
    if (update_out != NULL) {
        *update_out = NULL;
    }
    if (update_out == NULL || !keys_ok(state_dir, trusted, ntrusted)) {
        err = PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument");
        goto out;
    }
    if (now == 0) {
        now = (int64_t)time(NULL);
    }
    dir = open_dir(state_dir, LOCK_SH, diag);
    if (dir < 0) {
        err = PINSET_E_IO;
        goto out;
    }
    err = read_state(&st, dir, diag);
    if (err == PINSET_OK) {
        err = read_at(&b, dir, PINSET_UPDATER_CURRENT, PINSET_UPDATE_MAX_SIZE, &missing, diag);
    }
    if (err != PINSET_OK && missing) {
        /* Nothing applied yet, or a crash before the first document was written. */
        flags = PINSET_UPDATER_EMPTY;
        err = PINSET_OK;
        goto out;
    }
    if (err != PINSET_OK) {
        goto out;
    }
    /*
     * Untimed, and no delegation floor: after a crash between the two writes
     * of an apply, the document in force may rely on a delegation below the
     * floor the state already holds. Its serial is checked against the state.
     */
    va.now = now;
    err = pinset__update_verify(&u, digest, &why, b.p, b.len, &va, diag);
    if (err == PINSET_OK) {
        err = consistent(&st, u, digest, diag);
    }
    if (err != PINSET_OK) {
        goto out;
    }
    if (pinset_update_expires_at(u) <= now ||
        (pinset_update_key_expires_at(u) != 0 && pinset_update_key_expires_at(u) <= now)) {
        flags |= PINSET_UPDATER_STALE;
    }
    if (clock_behind(&st, u, now)) {
        flags |= PINSET_UPDATER_CLOCK_BEHIND;
    }
    *update_out = u;
    u = NULL;
out:
    if (err != PINSET_OK && state_dir != NULL) {
        pinset__diag_input(diag, state_dir);
    }
    if (flags_out != NULL) {
        *flags_out = flags;
    }
    if (dir >= 0) {
        close(dir);
    }
    pinset_update_free(u);
    pinset__buf_free(&b);
    return err;
}

pinset_err pinset_updater_choose(pinset_policy **out, int *stale_out, const pinset_update *current,
                                 pinset_policy *bootstrap, pinset_updater_on_stale on_stale,
                                 int64_t grace, int64_t now, pinset_diag *diag)
{
    int stale;

    if (out != NULL) {
        *out = NULL;
    }
    if (stale_out != NULL) {
        *stale_out = 0;
    }
    if (out == NULL || grace < 0 || (unsigned)on_stale > PINSET_ON_STALE_FAIL_CLOSED) {
        return PINSET_DIAG(diag, PINSET_E_INVALID_ARG, "null argument, bad grace or on_stale");
    }
    if (now == 0) {
        now = (int64_t)time(NULL);
    }
    if (current == NULL) {
        if (bootstrap == NULL) {
            return PINSET_DIAG(diag, PINSET_E_NO_MATCH,
                               "no update applied and no bootstrap policy");
        }
        *out = pinset_policy_ref(bootstrap);
        return PINSET_OK;
    }
    stale = pinset_update_expires_at(current) <= now;
    if (stale_out != NULL) {
        *stale_out = stale;
    }
    /* Within grace: expires_at + grace > now, written so that it cannot overflow. */
    if (!stale || now - pinset_update_expires_at(current) < grace ||
        on_stale == PINSET_ON_STALE_KEEP) {
        *out = pinset_policy_ref(pinset_update_policy(current));
        return PINSET_OK;
    }
    if (on_stale == PINSET_ON_STALE_BOOTSTRAP && bootstrap != NULL) {
        *out = pinset_policy_ref(bootstrap);
        return PINSET_OK;
    }
    return PINSET_DIAG(diag, PINSET_E_EXPIRED,
                       "the update is stale beyond its grace period and on_stale is %s",
                       on_stale == PINSET_ON_STALE_BOOTSTRAP ? "bootstrap with no bootstrap policy"
                                                             : "fail-closed");
}
