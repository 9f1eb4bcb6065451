/*
 * test_updater.c - the updater (update.h: pinset_updater_apply,
 * pinset_updater_load) on a state directory: apply 1 then 2; a replay of 1
 * (rollback), 2 with another payload (equivocation), a higher serial
 * issued earlier (clock rolled back), a document that does not verify, a
 * stale current document, the state after a crash between the two writes,
 * an inconsistent or malformed state, refused directories, allocation
 * failures. Every refusal leaves the directory's files byte for byte as
 * they were.
 */
#define _POSIX_C_SOURCE 200809L /* chown */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include <pinset/policy.h>
#include <pinset/update.h>

#include "internal.h"
#include "tmpdir.h"
#include "util/buf.h"

/* 2026-11-27T00:00:00Z */
#define NOW 1795737600
#define DAY 86400

#define PIN_A "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\""
#define PIN_E "\"EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEA=\""

static const char policy_text[] =
    "{\"version\": 1, \"rules\": ["
    " {\"host\": \"api.example.com\", \"pins\": [{\"sha256\": " PIN_A "},"
    "  {\"sha256\": " PIN_E ", \"role\": \"backup\"}]}]}";

static EVP_PKEY *root_key, *other_key;

static int setup(void **state)
{
    (void)state;
    root_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    other_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return root_key != NULL && other_key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(other_key);
    return 0;
}

/* A document: serial, issued_at, expires_at; scope "api.example.com" when scoped (other payload).
 */
static void sign_doc(struct pinset__buf *b, EVP_PKEY *key, uint64_t serial, int64_t issued,
                     int64_t expires, int scoped)
{
    static const char *const scope[] = {"api.example.com"};
    pinset_update_sign_options o = PINSET_UPDATE_SIGN_OPTIONS_INIT;
    pinset_policy *p = NULL;

    assert_int_equal(
        pinset_policy_parse(&p, (const uint8_t *)policy_text, strlen(policy_text), NULL),
        PINSET_OK);
    o.serial = serial;
    o.issued_at = issued;
    o.expires_at = expires;
    o.scope = scoped ? scope : NULL;
    o.scope_count = scoped ? 1 : 0;
    pinset__buf_init(b, PINSET_UPDATE_MAX_SIZE, 0);
    assert_int_equal(pinset_update_sign(p, &o, key, pinset__buf_sink, b, NULL), PINSET_OK);
    pinset_policy_free(p);
}

/* The contents of dir/name into buf (NUL-terminated); the length, or -1 when absent. */
static long slurp(char *buf, size_t cap, const char *dir, const char *name)
{
    char path[256];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (long)n;
}

static pinset_err apply(pinset_updater_status *st, const char *dir, const struct pinset__buf *b,
                        int64_t now, pinset_diag *d)
{
    const EVP_PKEY *trusted[1] = {root_key};
    pinset_update *u = NULL;
    pinset_err err = pinset_updater_apply(&u, st, dir, b->p, b->len, trusted, 1, now, d);

    assert_true((err == PINSET_OK) == (u != NULL));
    pinset_update_free(u);
    return err;
}

static uint64_t loaded_serial(const char *dir, int64_t now, unsigned int *flags)
{
    const EVP_PKEY *trusted[1] = {root_key};
    pinset_update *u = NULL;
    uint64_t serial;

    assert_int_equal(pinset_updater_load(&u, flags, dir, trusted, 1, now, NULL), PINSET_OK);
    serial = pinset_update_serial(u);
    pinset_update_free(u);
    return serial;
}

/* Apply b, expect a refusal with status want and a message starting with prefix, and no change. */
static void refused_at(const char *dir, const struct pinset__buf *b, int64_t now,
                       pinset_updater_status want, pinset_err want_err, const char *prefix)
{
    static char st0[4096], cur0[16384], st1[4096], cur1[16384];
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_updater_status st = PINSET_UPDATER_APPLIED;
    long ls0 = slurp(st0, sizeof(st0), dir, PINSET_UPDATER_STATE);
    long lc0 = slurp(cur0, sizeof(cur0), dir, PINSET_UPDATER_CURRENT);

    assert_int_equal(apply(&st, dir, b, now, &d), want_err);
    assert_int_equal(st, want);
    assert_int_equal(strncmp(d.message, prefix, strlen(prefix)), 0);
    assert_int_equal(slurp(st1, sizeof(st1), dir, PINSET_UPDATER_STATE), ls0);
    assert_int_equal(slurp(cur1, sizeof(cur1), dir, PINSET_UPDATER_CURRENT), lc0);
    assert_string_equal(st0, st1);
    assert_memory_equal(cur0, cur1, lc0 > 0 ? (size_t)lc0 : 0);
}

static void refused(const char *dir, const struct pinset__buf *b, pinset_updater_status want,
                    pinset_err want_err, const char *prefix)
{
    refused_at(dir, b, NOW + 1, want, want_err, prefix);
}

static void apply_1_then_2_then_refusals(void **state)
{
    struct pinset__buf d1, d2, d2other, d3early, d3bad;
    pinset_updater_status st;
    unsigned int flags = 99;
    char *dir = testlib_tmpdir("updater");

    (void)state;
    assert_non_null(dir);
    sign_doc(&d1, root_key, 1, NOW - 100, NOW + DAY, 0);
    sign_doc(&d2, root_key, 2, NOW - 50, NOW + DAY, 0);
    sign_doc(&d2other, root_key, 2, NOW - 50, NOW + DAY, 1);
    sign_doc(&d3early, root_key, 3, NOW - 60, NOW + DAY, 0);
    sign_doc(&d3bad, other_key, 3, NOW, NOW + DAY, 0);

    assert_int_equal(loaded_serial(dir, NOW, &flags), 0);
    assert_int_equal(flags, PINSET_UPDATER_EMPTY);
    assert_int_equal(apply(&st, dir, &d1, NOW, NULL), PINSET_OK);
    assert_int_equal(st, PINSET_UPDATER_APPLIED);
    assert_int_equal(loaded_serial(dir, NOW, &flags), 1);
    assert_int_equal(flags, 0);
    assert_int_equal(apply(&st, dir, &d2, NOW, NULL), PINSET_OK);
    assert_int_equal(st, PINSET_UPDATER_APPLIED);
    assert_int_equal(loaded_serial(dir, NOW, &flags), 2);

    refused(dir, &d1, PINSET_UPDATER_ROLLBACK, PINSET_E_NO_MATCH,
            "rollback: serial 1 is below the applied serial 2");
    refused(dir, &d2other, PINSET_UPDATER_EQUIVOCATION, PINSET_E_NO_MATCH,
            "equivocation: serial 2 was applied with another payload");
    refused(dir, &d3early, PINSET_UPDATER_CLOCK_ROLLBACK, PINSET_E_NO_MATCH,
            "clock rolled back: serial 3 was issued before serial 2");
    refused(dir, &d3bad, PINSET_UPDATER_UNKNOWN_KEY, PINSET_E_NO_MATCH,
            "no signature by a trusted key");

    /* the same document again is not equivocation */
    assert_int_equal(apply(&st, dir, &d2, NOW, NULL), PINSET_OK);
    assert_int_equal(st, PINSET_UPDATER_UNCHANGED);
    assert_int_equal(loaded_serial(dir, NOW, &flags), 2);

    pinset__buf_free(&d1);
    pinset__buf_free(&d2);
    pinset__buf_free(&d2other);
    pinset__buf_free(&d3early);
    pinset__buf_free(&d3bad);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
}

static void expired_current_is_reported_stale(void **state)
{
    const EVP_PKEY *trusted[1] = {root_key};
    struct pinset__buf d1;
    pinset_update *u = NULL;
    unsigned int flags = 0;
    char *dir = testlib_tmpdir("updater");

    (void)state;
    assert_non_null(dir);
    sign_doc(&d1, root_key, 1, NOW - 100, NOW + DAY, 0);
    assert_int_equal(apply(NULL, dir, &d1, NOW, NULL), PINSET_OK);
    assert_int_equal(loaded_serial(dir, NOW + DAY - 1, &flags), 1);
    assert_int_equal(flags, 0);
    /* past expires_at: still returned, flagged, never silently fresh */
    assert_int_equal(pinset_updater_load(&u, &flags, dir, trusted, 1, NOW + DAY, NULL), PINSET_OK);
    assert_non_null(u);
    assert_int_equal(flags, PINSET_UPDATER_STALE);
    assert_int_equal(pinset_update_serial(u), 1);
    pinset_update_free(u);
    /* applying the expired document again is refused by verification */
    refused_at(dir, &d1, NOW + DAY, PINSET_UPDATER_INVALID, PINSET_E_EXPIRED,
               "the document expired");
    pinset__buf_free(&d1);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A crash between the state's rename and the document's: the new floor, the old document. */
static void crash_between_the_writes_is_recovered(void **state)
{
    const EVP_PKEY *trusted[1] = {root_key};
    struct pinset__buf d1, d2;
    pinset_updater_status st;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    unsigned int flags;
    char *dir = testlib_tmpdir("updater"), *dir2 = testlib_tmpdir("updater");
    char saved[4096], path[300];
    long n;

    (void)state;
    assert_non_null(dir);
    assert_non_null(dir2);
    sign_doc(&d1, root_key, 1, NOW - 100, NOW + DAY, 0);
    sign_doc(&d2, root_key, 2, NOW - 50, NOW + DAY, 0);
    assert_int_equal(apply(NULL, dir, &d1, NOW, NULL), PINSET_OK);
    assert_int_equal(apply(NULL, dir, &d2, NOW, NULL), PINSET_OK);
    n = slurp(saved, sizeof(saved), dir, PINSET_UPDATER_STATE);
    assert_true(n > 0);
    write_file(dir, PINSET_UPDATER_CURRENT, d1.p, d1.len);
    /* load: the old document, still in force; 1 is not accepted again */
    assert_int_equal(loaded_serial(dir, NOW, &flags), 1);
    refused(dir, &d1, PINSET_UPDATER_ROLLBACK, PINSET_E_NO_MATCH, "rollback:");
    /* applying 2 again completes the update */
    assert_int_equal(apply(&st, dir, &d2, NOW, NULL), PINSET_OK);
    assert_int_equal(st, PINSET_UPDATER_UNCHANGED);
    assert_int_equal(loaded_serial(dir, NOW, &flags), 2);

    /* a document above the state cannot come from our writes: refused at load */
    assert_int_equal(apply(NULL, dir2, &d1, NOW, NULL), PINSET_OK);
    write_file(dir2, PINSET_UPDATER_CURRENT, d2.p, d2.len);
    assert_int_equal(pinset_updater_load(&u, &flags, dir2, trusted, 1, NOW, &d), PINSET_E_PARSE);
    assert_null(u);
    assert_non_null(strstr(d.message, "does not match the state"));
    /* an empty state file is malformed; a document without a state is refused too */
    write_file(dir2, PINSET_UPDATER_STATE, "", 0);
    assert_int_equal(pinset_updater_load(&u, &flags, dir2, trusted, 1, NOW, &d), PINSET_E_PARSE);
    assert_non_null(strstr(d.message, "not a pinset updater state file"));
    snprintf(path, sizeof(path), "%s/%s", dir2, PINSET_UPDATER_STATE);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(pinset_updater_load(&u, &flags, dir2, trusted, 1, NOW, &d), PINSET_E_PARSE);
    assert_null(u);
    assert_string_equal(d.message, "state: missing while current.dsse exists");
    assert_string_equal(d.input, dir2);
    pinset__buf_free(&d1);
    pinset__buf_free(&d2);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
    assert_int_equal(testlib_tmpdir_remove(dir2), 0);
}

static void malformed_state_is_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "pinset-updater-state 1\nserial 0\nissued_at 1\ndigest "
        "0000000000000000000000000000000000000000000000000000000000000000\n",
        "pinset-updater-state 1\nserial -1\nissued_at 1\ndigest "
        "0000000000000000000000000000000000000000000000000000000000000000\n",
        "pinset-updater-state 1\nserial 1\nissued_at 1\ndigest 00\n",
        "pinset-updater-state 1\nserial 1\nissued_at 1\ndigest "
        "0000000000000000000000000000000000000000000000000000000000000000\nextra",
        "pinset-updater-state 2\nserial 1\nissued_at 1\ndigest "
        "0000000000000000000000000000000000000000000000000000000000000000\n",
    };
    struct pinset__buf d1;
    char *dir = testlib_tmpdir("updater");

    (void)state;
    assert_non_null(dir);
    sign_doc(&d1, root_key, 5, NOW - 100, NOW + DAY, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(dir, PINSET_UPDATER_STATE, bad[i], strlen(bad[i]));
        refused(dir, &d1, PINSET_UPDATER_STATE_ERROR, PINSET_E_PARSE, "state: ");
    }
    pinset__buf_free(&d1);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
}

static void bad_state_dirs_are_refused(void **state)
{
    struct pinset__buf d1;
    pinset_diag d = PINSET_DIAG_INIT;
    pinset_updater_status st;
    char *dir = testlib_tmpdir("updater");
    char missing[300];

    (void)state;
    assert_non_null(dir);
    sign_doc(&d1, root_key, 1, NOW - 100, NOW + DAY, 0);
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    assert_int_equal(apply(&st, missing, &d1, NOW, &d), PINSET_E_IO);
    assert_int_equal(st, PINSET_UPDATER_STATE_ERROR);
    assert_non_null(strstr(d.message, "No such file"));

    assert_int_equal(chmod(dir, 0770), 0);
    assert_int_equal(apply(&st, dir, &d1, NOW, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "writable by group or others"));
    assert_int_equal(chmod(dir, 0702), 0);
    assert_int_equal(apply(&st, dir, &d1, NOW, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "writable by group or others"));
    assert_int_equal(chmod(dir, 0700), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_int_equal(apply(&st, dir, &d1, NOW, &d), PINSET_E_IO);
        assert_non_null(strstr(d.message, "owned by another user"));
        assert_int_equal(chown(dir, 0, 0), 0);
    }
    assert_int_equal(apply(&st, dir, &d1, NOW, &d), PINSET_OK);
    assert_int_equal(st, PINSET_UPDATER_APPLIED);
    pinset__buf_free(&d1);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
}

static void misuse_is_refused(void **state)
{
    const EVP_PKEY *trusted[1] = {root_key};
    pinset_update *u = NULL;
    uint8_t doc[1] = {0};

    (void)state;
    assert_int_equal(pinset_updater_apply(NULL, NULL, "/tmp", doc, 1, trusted, 1, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_updater_apply(&u, NULL, NULL, doc, 1, trusted, 1, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_updater_apply(&u, NULL, "/tmp", doc, 1, NULL, 0, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_updater_load(NULL, NULL, "/tmp", trusted, 1, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(pinset_updater_load(&u, NULL, NULL, trusted, 1, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_null(u);
}

static void allocation_failures_are_clean(void **state)
{
    struct pinset__buf d1, d2;
    char *dir = testlib_tmpdir("updater");
    char buf[16384];
    int done = 0;

    (void)state;
    assert_non_null(dir);
    sign_doc(&d1, root_key, 1, NOW - 100, NOW + DAY, 0);
    sign_doc(&d2, root_key, 2, NOW - 50, NOW + DAY, 0);
    assert_int_equal(apply(NULL, dir, &d1, NOW, NULL), PINSET_OK);
    for (unsigned long k = 1; k < 300 && !done; k++) {
        pinset_err err;
        pinset__alloc_fail_at(k);
        err = apply(NULL, dir, &d2, NOW, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        done = err == PINSET_OK;
        if (!done) {
            unsigned int flags;
            assert_int_equal(loaded_serial(dir, NOW, &flags), 1);
        }
    }
    assert_true(done);
    done = 0;
    for (unsigned long k = 1; k < 300 && !done; k++) {
        const EVP_PKEY *trusted[1] = {root_key};
        pinset_update *u = NULL;
        pinset_err err;
        pinset__alloc_fail_at(k);
        err = pinset_updater_load(&u, NULL, dir, trusted, 1, NOW, NULL);
        pinset__alloc_fail_at(0);
        assert_true(err == PINSET_OK || err == PINSET_E_NOMEM);
        done = err == PINSET_OK;
        if (done) {
            assert_int_equal(pinset_update_serial(u), 2);
        }
        pinset_update_free(u);
    }
    assert_true(done);
    assert_true(slurp(buf, sizeof(buf), dir, PINSET_UPDATER_CURRENT) > 0);
    pinset__buf_free(&d1);
    pinset__buf_free(&d2);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
}

static void on_stale_choice_is_applied(void **state)
{
    static const char empty_policy[] = "{\"version\": 1, \"rules\": []}";
    const EVP_PKEY *trusted[1] = {root_key};
    struct pinset__buf d1;
    pinset_policy *boot = NULL, *got = NULL;
    pinset_update *u = NULL;
    pinset_diag d = PINSET_DIAG_INIT;
    int stale = -1;
    char *dir = testlib_tmpdir("updater");

    (void)state;
    assert_non_null(dir);
    assert_int_equal(
        pinset_policy_parse(&boot, (const uint8_t *)empty_policy, strlen(empty_policy), NULL),
        PINSET_OK);
    sign_doc(&d1, root_key, 1, NOW - 100, NOW + DAY, 0);
    /* nothing applied: the bootstrap policy, or a refusal without one */
    assert_int_equal(
        pinset_updater_choose(&got, &stale, NULL, boot, PINSET_ON_STALE_KEEP, 0, NOW, NULL),
        PINSET_OK);
    assert_ptr_equal(got, boot);
    assert_int_equal(stale, 0);
    pinset_policy_free(got);
    assert_int_equal(
        pinset_updater_choose(&got, NULL, NULL, NULL, PINSET_ON_STALE_KEEP, 0, NOW, &d),
        PINSET_E_NO_MATCH);
    assert_null(got);
    assert_int_equal(apply(NULL, dir, &d1, NOW, NULL), PINSET_OK);
    assert_int_equal(pinset_updater_load(&u, NULL, dir, trusted, 1, NOW + 2 * DAY, NULL),
                     PINSET_OK);
    /* fresh: the document's policy whatever the choice */
    for (int c = PINSET_ON_STALE_KEEP; c <= PINSET_ON_STALE_FAIL_CLOSED; c++) {
        assert_int_equal(
            pinset_updater_choose(&got, &stale, u, boot, (pinset_updater_on_stale)c, 0, NOW, NULL),
            PINSET_OK);
        assert_ptr_equal(got, pinset_update_policy(u));
        assert_int_equal(stale, 0);
        pinset_policy_free(got);
    }
    /* stale within grace: still the document's policy, reported stale */
    assert_int_equal(pinset_updater_choose(&got, &stale, u, boot, PINSET_ON_STALE_FAIL_CLOSED, 3600,
                                           NOW + DAY + 3599, NULL),
                     PINSET_OK);
    assert_ptr_equal(got, pinset_update_policy(u));
    assert_int_equal(stale, 1);
    pinset_policy_free(got);
    /* beyond grace: keep, bootstrap, fail closed */
    assert_int_equal(pinset_updater_choose(&got, &stale, u, boot, PINSET_ON_STALE_KEEP, 3600,
                                           NOW + DAY + 3600, NULL),
                     PINSET_OK);
    assert_ptr_equal(got, pinset_update_policy(u));
    assert_int_equal(stale, 1);
    pinset_policy_free(got);
    assert_int_equal(pinset_updater_choose(&got, &stale, u, boot, PINSET_ON_STALE_BOOTSTRAP, 3600,
                                           NOW + DAY + 3600, NULL),
                     PINSET_OK);
    assert_ptr_equal(got, boot);
    pinset_policy_free(got);
    assert_int_equal(pinset_updater_choose(&got, &stale, u, NULL, PINSET_ON_STALE_BOOTSTRAP, 3600,
                                           NOW + DAY + 3600, &d),
                     PINSET_E_EXPIRED);
    assert_null(got);
    assert_int_equal(pinset_updater_choose(&got, &stale, u, boot, PINSET_ON_STALE_FAIL_CLOSED, 3600,
                                           NOW + DAY + 3600, &d),
                     PINSET_E_EXPIRED);
    assert_null(got);
    assert_string_equal(d.message,
                        "the update is stale beyond its grace period and on_stale is fail-closed");
    assert_int_equal(stale, 1);
    /* misuse */
    assert_int_equal(pinset_updater_choose(NULL, NULL, u, boot, PINSET_ON_STALE_KEEP, 0, NOW, NULL),
                     PINSET_E_INVALID_ARG);
    assert_int_equal(
        pinset_updater_choose(&got, NULL, u, boot, PINSET_ON_STALE_KEEP, -1, NOW, NULL),
        PINSET_E_INVALID_ARG);
    assert_int_equal(
        pinset_updater_choose(&got, NULL, u, boot, (pinset_updater_on_stale)7, 0, NOW, NULL),
        PINSET_E_INVALID_ARG);
    pinset_update_free(u);
    pinset_policy_free(boot);
    pinset__buf_free(&d1);
    assert_int_equal(testlib_tmpdir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(apply_1_then_2_then_refusals),
        cmocka_unit_test(expired_current_is_reported_stale),
        cmocka_unit_test(crash_between_the_writes_is_recovered),
        cmocka_unit_test(malformed_state_is_refused),
        cmocka_unit_test(bad_state_dirs_are_refused),
        cmocka_unit_test(misuse_is_refused),
        cmocka_unit_test(on_stale_choice_is_applied),
        cmocka_unit_test(allocation_failures_are_clean),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
