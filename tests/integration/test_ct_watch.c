/*
 * test_ct_watch.c - `pinset ct-watch` against a Certificate Transparency log
 * served on 127.0.0.1 (tests/testlib/ct_log.c): real Merkle trees, signed tree
 * heads, x509 and precert entries made from a test PKI at run time.
 *
 * The log holds, for the policy "example.com and its subdomains, pinned to
 * the known key, with a backup key":
 *   0 x509    www.example.com   known key        (no alert)
 *   1 x509    www.example.com   unknown key      ALERT
 *   2 x509    other.test        another key      (not watched)
 *   3 precert api.example.com   unknown key      ALERT
 *   4 x509    www.example.com   backup key       (no alert: backups count)
 *   5 x509    *.example.com     unknown key      ALERT (wildcard)
 *   6 x509    shop.example.com  known key        (no alert)
 *   7..11     other.test        fillers
 * Then the log misbehaves (bad signature, fork, rewind, entries not in its
 * tree): each is alerted, the exit status is 4, and the saved position does
 * not move.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ct_log.h"
#include "pki.h"
#include "tmpdir.h"

#define NENTRIES       12
#define STATIC_ENTRIES 600

static char tmp[512], url[128], static_url[128];
static testlib_ct_log *log_, *static_log;
static testlib_pki pki;
static EVP_PKEY *backup_key;
static char out_text[1 << 16], err_text[1 << 16];

static const char *path_of(const char *name)
{
    return testlib_path(tmp, name);
}

static int watch_api(const char *state, const char *format, const char *api);

/* Run `pinset ct-watch --once` with the test log, key, policy and state dir; its exit status. */
static int watch(const char *state, const char *format)
{
    return watch_api(state, format, "rfc6962");
}

static int watch_api(const char *state, const char *format, const char *api)
{
    int is_static = strcmp(api, "static") == 0;

    const char *bin = getenv("PINSET_BIN");
    pid_t pid;
    int st = 0;

    assert_non_null(bin);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(path_of("out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(path_of("err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(o, 1);
        dup2(e, 2);
        execl(bin, bin, "ct-watch", "--log", is_static ? static_url : url, "--api", api,
              "--log-key", path_of(is_static ? "static.pem" : "log.pem"), "--policy",
              path_of("policy.json"), "--state", path_of(state), "--once", "--batch", "4",
              "--format", format, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    testlib_slurp(path_of("out"), out_text, sizeof(out_text));
    testlib_slurp(path_of("err"), err_text, sizeof(err_text));
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* The one position file of a state directory, whole ("" when there is none). */
static void position(const char *state, char *buf, size_t cap)
{
    DIR *d = opendir(path_of(state));
    struct dirent *de;

    buf[0] = '\0';
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (strstr(de->d_name, ".ctpos") != NULL &&
            strchr(de->d_name, '.') == strstr(de->d_name, ".ctpos")) {
            char p[1200];

            snprintf(p, sizeof(p), "%s/%s", path_of(state), de->d_name);
            testlib_slurp(p, buf, cap);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

static void serve(uint64_t size, testlib_ct_mode mode, uint64_t fork_at)
{
    testlib_ct_log_set_size(log_, size);
    testlib_ct_log_set_mode(log_, mode, fork_at);
}

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    EVP_PKEY *other;
    X509 *x;
    char known[45], backup[45];
    FILE *f;
    int bad = 0;

    (void)state;
    snprintf(tmp, sizeof(tmp), "%s/pinset-ct-XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(tmp) == NULL || testlib_pki_make(&pki, "www.example.com") != 0) {
        return -1;
    }
    backup_key = EVP_EC_gen("P-256");
    other = EVP_EC_gen("P-256");
    log_ = testlib_ct_log_new();
    if (backup_key == NULL || other == NULL || log_ == NULL) {
        return -1;
    }
    bad |= testlib_ct_log_add_x509(log_, pki.leaf, pki.inter, 1000);
#define ADD(kind, key, dns, serial)                                                   \
    x = testlib_pki_leaf(&pki, key, dns, serial);                                     \
    bad |= x == NULL || testlib_ct_log_add_##kind(log_, x, pki.inter, 1000 + serial); \
    X509_free(x)
    ADD(x509, NULL, "www.example.com", 11);
    ADD(x509, other, "other.test", 12);
    ADD(precert, NULL, "api.example.com", 13);
    ADD(x509, backup_key, "www.example.com", 14);
    ADD(x509, NULL, "*.example.com", 15);
    ADD(x509, pki.leaf_key, "shop.example.com", 16);
    for (int i = 7; i < NENTRIES; i++) {
        ADD(x509, other, "other.test", 10 + i * 10);
    }
#undef ADD
    /* The static-CT log: the same first entries, then fillers to 600 (two levels of tiles). */
    static_log = testlib_ct_log_new();
    if (static_log == NULL) {
        return -1;
    }
    bad |= testlib_ct_log_add_x509(static_log, pki.leaf, pki.inter, 1000);
#define ADD(kind, key, dns, serial)                                                         \
    x = testlib_pki_leaf(&pki, key, dns, serial);                                           \
    bad |= x == NULL || testlib_ct_log_add_##kind(static_log, x, pki.inter, 1000 + serial); \
    X509_free(x)
    ADD(x509, NULL, "www.example.com", 11);
    ADD(x509, other, "other.test", 12);
    ADD(precert, NULL, "api.example.com", 13);
    ADD(x509, backup_key, "www.example.com", 14);
    ADD(x509, NULL, "*.example.com", 15);
    ADD(x509, pki.leaf_key, "shop.example.com", 16);
#undef ADD
    x = testlib_pki_leaf(&pki, other, "other.test", 17);
    for (int i = 7; i < STATIC_ENTRIES && x != NULL; i++) {
        bad |= testlib_ct_log_add_x509(static_log, x, pki.inter, 2000 + (uint64_t)i);
    }
    X509_free(x);
    bad |= testlib_ct_log_count(static_log) != STATIC_ENTRIES ||
           testlib_ct_log_write_key(static_log, path_of("static.pem")) != 0 ||
           testlib_ct_log_start(static_log, static_url, sizeof(static_url)) != 0;
    EVP_PKEY_free(other);
    if (bad || testlib_ct_log_count(log_) != NENTRIES ||
        testlib_ct_log_write_key(log_, path_of("log.pem")) != 0 ||
        testlib_ct_log_start(log_, url, sizeof(url)) != 0) {
        return -1;
    }
    testlib_spki_b64(pki.leaf, known);
    x = testlib_pki_leaf(&pki, backup_key, "spare.example.com", 99);
    if (x == NULL) {
        return -1;
    }
    testlib_spki_b64(x, backup);
    X509_free(x);
    f = fopen(path_of("policy.json"), "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f,
            "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"include_subdomains\": "
            "true, \"pins\": [{\"sha256\": \"%s\", \"role\": \"leaf\"}, {\"sha256\": \"%s\", "
            "\"role\": \"backup\"}]}]}\n",
            known, backup);
    return fclose(f) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[700];

    (void)state;
    testlib_ct_log_free(log_);
    testlib_ct_log_free(static_log);
    testlib_pki_free(&pki);
    EVP_PKEY_free(backup_key);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Unknown keys for pinned names alert (x509, precert, wildcard); known and backup keys do not. */
static void test_unknown_keys_alert(void **state)
{
    (void)state;
    serve(NENTRIES, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-alert", "json"), 1);
    assert_int_equal(testlib_count(out_text, "\"alert\":\"unknown-key\""), 3);
    assert_non_null(strstr(out_text, "\"index\":1,\"entry_type\":\"x509\""));
    assert_non_null(strstr(out_text, "\"index\":3,\"entry_type\":\"precert\""));
    assert_non_null(strstr(out_text, "\"name\":\"api.example.com\""));
    assert_non_null(strstr(out_text, "\"index\":5,\"entry_type\":\"x509\""));
    assert_non_null(strstr(out_text, "\"name\":\"*.example.com\""));
    assert_null(strstr(out_text, "\"index\":0,"));
    assert_null(strstr(out_text, "\"index\":4,"));
    assert_null(strstr(out_text, "\"index\":6,"));
    assert_null(strstr(out_text, "other.test"));
    assert_non_null(strstr(out_text, "\"tree_size\":12,\"start\":0,\"end\":12,\"watched\":6"));
    /* Nothing new: nothing alerted again, exit 0. */
    assert_int_equal(watch("s-alert", "text"), 0);
    assert_null(strstr(out_text, "ALERT"));
    assert_non_null(strstr(out_text, "entries 12..12 checked"));
}

/* A log of known keys only: exit 0. */
static void test_known_keys_quiet(void **state)
{
    (void)state;
    serve(1, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-quiet", "text"), 0);
    assert_null(strstr(out_text, "ALERT"));
    assert_non_null(strstr(out_text, "tree_size 1, entries 0..1 checked, 1 watched, 0 alerts"));
}

/* Growing trees (5, then 11: neither a power of two) are proved consistent; no entry twice. */
static void test_resume_consistent(void **state)
{
    (void)state;
    serve(5, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-grow", "text"), 1);
    assert_int_equal(testlib_count(out_text, "ALERT unknown-key"), 2);
    assert_non_null(strstr(out_text, "index=1 type=x509 name=www.example.com"));
    assert_non_null(strstr(out_text, "index=3 type=precert name=api.example.com"));
    serve(11, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-grow", "text"), 1);
    assert_int_equal(testlib_count(out_text, "ALERT"), 1);
    assert_non_null(strstr(out_text, "index=5 type=x509 name=*.example.com"));
    assert_non_null(strstr(out_text, "entries 5..11 checked"));
}

/* A misbehaving log: alerted, exit 4, and the saved position is exactly what it was. */
static void misbehaves(const char *state, uint64_t size, testlib_ct_mode mode, uint64_t fork_at,
                       const char *alert)
{
    char before[8192], after[8192];

    position(state, before, sizeof(before));
    assert_true(before[0] != '\0');
    serve(size, mode, fork_at);
    assert_int_equal(watch(state, "text"), 4);
    assert_non_null(strstr(out_text, alert));
    position(state, after, sizeof(after));
    assert_string_equal(before, after);
    /* and again: never skipped */
    assert_int_equal(watch(state, "json"), 4);
    assert_non_null(strstr(out_text, "\"alert\":\"log-"));
}

static void test_bad_signature(void **state)
{
    (void)state;
    serve(5, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-sig", "text"), 1);
    misbehaves("s-sig", 11, TESTLIB_CT_BAD_SIG, 0, "ALERT log-bad-signature");
    /* a bad signature on the same tree head is caught too */
    misbehaves("s-sig", 5, TESTLIB_CT_BAD_SIG, 0, "ALERT log-bad-signature");
}

static void test_fork_inconsistent(void **state)
{
    (void)state;
    serve(5, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-fork", "text"), 1);
    misbehaves("s-fork", 11, TESTLIB_CT_FORK, 3, "ALERT log-inconsistent");
    /* the same size with another root */
    misbehaves("s-fork", 5, TESTLIB_CT_FORK, 3, "ALERT log-inconsistent");
    /* the honest log again: it goes on from where it was */
    serve(11, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-fork", "text"), 1);
    assert_non_null(strstr(out_text, "entries 5..11 checked"));
}

static void test_rewind(void **state)
{
    (void)state;
    serve(11, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-rewind", "text"), 1);
    misbehaves("s-rewind", 6, TESTLIB_CT_NORMAL, 0, "ALERT log-rewind");
}

/* Entries that do not make the signed root: alerted, and the position goes back. */
static void test_bad_entries(void **state)
{
    char pos[8192];

    (void)state;
    serve(4, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-entries", "text"), 1);
    serve(10, TESTLIB_CT_BAD_ENTRIES, 6);
    assert_int_equal(watch("s-entries", "text"), 4);
    assert_non_null(strstr(out_text, "ALERT log-bad-entries"));
    position("s-entries", pos, sizeof(pos));
    assert_non_null(strstr(pos, "sth_size 10\n"));
    assert_non_null(strstr(pos, "entries 4\n"));
    serve(10, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-entries", "text"), 1);
    assert_non_null(strstr(out_text, "entries 4..10 checked"));
}

/*
 * A get-entries response larger than 64 MiB is refused after 64 MiB were read (not buffered
 * whole, not parsed), the pass fails as the log's fault, and the position stays where it was.
 */
static void test_huge_response(void **state)
{
    char pos[8192];

    (void)state;
    serve(3, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-huge", "text"), 1);
    serve(7, TESTLIB_CT_HUGE_ENTRIES, 0);
    assert_int_equal(watch("s-huge", "text"), 4);
    assert_non_null(strstr(err_text, "response larger than 64 MiB"));
    position("s-huge", pos, sizeof(pos));
    assert_non_null(strstr(pos, "entries 3\n"));
    serve(7, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-huge", "text"), 1);
    assert_non_null(strstr(out_text, "entries 3..7 checked"));
}

/*
 * A log that fails in the middle of a pass (HTTP 503 from entry 8 on, batches of 4): the batches
 * checked before the failure are kept, so the next pass neither checks nor alerts them again,
 * and a log that fails within every second still advances.
 */
static void test_fails_mid_pass(void **state)
{
    char pos[8192];

    (void)state;
    serve(12, TESTLIB_CT_FAIL_ENTRIES, 8);
    assert_int_equal(watch("s-flaky", "text"), 4);
    assert_int_equal(testlib_count(out_text, "ALERT unknown-key"), 3);
    assert_non_null(strstr(err_text, "HTTP status 503"));
    position("s-flaky", pos, sizeof(pos));
    assert_non_null(strstr(pos, "sth_size 12\n"));
    assert_non_null(strstr(pos, "entries 8\n"));
    serve(12, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-flaky", "text"), 0);
    assert_null(strstr(out_text, "ALERT"));
    assert_non_null(strstr(out_text, "entries 8..12 checked"));
}

/*
 * Entries that are not the log's, saved part-way through a pass that then failed, are not kept:
 * when the next pass finds that the entries do not make the signed root, the position goes back
 * to the last verified tree, not to where that pass began (which holds them), so the honest log
 * is then read again from there and passes. Before, every later pass alerted log-bad-entries.
 */
static void test_bad_entries_not_kept(void **state)
{
    char pos[8192];

    (void)state;
    serve(4, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch("s-baked", "text"), 1);
    /* rewritten entries from 4 on, and 503 from 8 on: 4..7 checked and saved, then a failure */
    serve(12, TESTLIB_CT_BAD_ENTRIES, 4);
    testlib_ct_log_fail_entries_from(log_, 8);
    assert_int_equal(watch("s-baked", "text"), 4);
    position("s-baked", pos, sizeof(pos));
    assert_non_null(strstr(pos, "entries 8\n"));
    assert_non_null(strstr(pos, "verified 4\n"));
    /* the rest, rewritten too: the root does not match; back to the verified 4 */
    testlib_ct_log_fail_entries_from(log_, 0);
    assert_int_equal(watch("s-baked", "text"), 4);
    assert_non_null(strstr(out_text, "ALERT log-bad-entries"));
    position("s-baked", pos, sizeof(pos));
    assert_non_null(strstr(pos, "entries 4\n"));
    /* the honest log: read again from 4, and it makes the root */
    serve(12, TESTLIB_CT_NORMAL, 0);
    assert_int_not_equal(watch("s-baked", "text"), 4);
    assert_null(strstr(out_text, "log-bad-entries"));
    assert_non_null(strstr(out_text, "entries 4..12 checked"));
    position("s-baked", pos, sizeof(pos));
    assert_non_null(strstr(pos, "verified 12\n"));
}

/* A hostile entry is reported as unreadable (never silently skipped) and the pass goes on. */
static void test_unreadable_entry(void **state)
{
    static const uint8_t junk[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff};
    testlib_ct_log *saved = log_;
    X509 *x = testlib_pki_leaf(&pki, NULL, "www.example.com", 77);
    char saved_url[128];

    (void)state;
    assert_non_null(x);
    memcpy(saved_url, url, sizeof(url));
    log_ = testlib_ct_log_new();
    assert_non_null(log_);
    assert_int_equal(testlib_ct_log_add_raw(log_, junk, sizeof(junk)), 0);
    assert_int_equal(testlib_ct_log_add_x509(log_, x, pki.inter, 5), 0);
    X509_free(x);
    assert_int_equal(testlib_ct_log_write_key(log_, path_of("log.pem")), 0);
    assert_int_equal(testlib_ct_log_start(log_, url, sizeof(url)), 0);
    assert_int_equal(watch("s-junk", "text"), 1);
    assert_non_null(strstr(err_text, "entry 0: unreadable"));
    assert_non_null(strstr(out_text, "index=1 type=x509"));
    assert_non_null(strstr(out_text, "1 alerts, 1 unreadable"));
    testlib_ct_log_free(log_);
    log_ = saved;
    memcpy(url, saved_url, sizeof(url));
    assert_int_equal(testlib_ct_log_write_key(log_, path_of("log.pem")), 0);
}

/* ---- the static-CT API: checkpoints, hash tiles, data tiles ---- */

static void serve_static(uint64_t size, testlib_ct_mode mode, uint64_t fork_at)
{
    testlib_ct_log_set_size(static_log, size);
    testlib_ct_log_set_mode(static_log, mode, fork_at);
}

/* Alerts from data tiles; a tree grown from 300 to 600 proved consistent from its hash tiles. */
static void test_static_alerts_and_grows(void **state)
{
    (void)state;
    serve_static(300, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch_api("st-grow", "json", "static"), 1);
    assert_int_equal(testlib_count(out_text, "\"alert\":\"unknown-key\""), 3);
    assert_non_null(strstr(out_text, "\"index\":3,\"entry_type\":\"precert\""));
    assert_non_null(strstr(out_text, "\"tree_size\":300,\"start\":0,\"end\":300,\"watched\":6"));
    serve_static(600, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch_api("st-grow", "text", "static"), 0);
    assert_non_null(
        strstr(out_text, "tree_size 600, entries 300..600 checked, 0 watched, 0 alerts"));
    serve_static(517, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch_api("st-small", "text", "static"), 1);
    serve_static(600, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch_api("st-small", "text", "static"), 0);
    assert_non_null(strstr(out_text, "entries 517..600 checked"));
}

static void static_misbehaves(const char *st, uint64_t size, testlib_ct_mode mode, uint64_t fork_at,
                              const char *alert)
{
    char before[8192], after[8192];

    position(st, before, sizeof(before));
    assert_true(before[0] != '\0');
    serve_static(size, mode, fork_at);
    assert_int_equal(watch_api(st, "text", "static"), 4);
    assert_non_null(strstr(out_text, alert));
    position(st, after, sizeof(after));
    assert_string_equal(before, after);
}

static void test_static_misbehaviour(void **state)
{
    (void)state;
    serve_static(300, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch_api("st-bad", "text", "static"), 1);
    static_misbehaves("st-bad", 600, TESTLIB_CT_BAD_SIG, 0, "ALERT log-bad-signature");
    static_misbehaves("st-bad", 600, TESTLIB_CT_FORK, 100, "ALERT log-inconsistent");
    assert_non_null(
        strstr(out_text, "the tiles of tree_size 600 do not give the root of tree_size 300"));
    static_misbehaves("st-bad", 300, TESTLIB_CT_FORK, 299, "ALERT log-inconsistent");
    assert_non_null(strstr(out_text, "two different roots for tree_size 300"));
    static_misbehaves("st-bad", 299, TESTLIB_CT_NORMAL, 0, "ALERT log-rewind");
    /* data tiles that do not make the checkpoint's root */
    serve_static(600, TESTLIB_CT_BAD_ENTRIES, 400);
    assert_int_equal(watch_api("st-bad", "text", "static"), 4);
    assert_non_null(strstr(out_text, "ALERT log-bad-entries"));
    serve_static(600, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(watch_api("st-bad", "text", "static"), 0);
    assert_non_null(strstr(out_text, "entries 300..600 checked"));
}

/* ---- crash safety ---- */

/* `pinset ct-watch` on the 600-entry log over RFC 6962, killed with SIGKILL after `us` (0: not). */
static int run_killed(const char *st, long us)
{
    const char *bin = getenv("PINSET_BIN");
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(path_of("out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(o, 1);
        dup2(o, 2);
        execl(bin, bin, "ct-watch", "--log", static_url, "--log-key", path_of("static.pem"),
              "--policy", path_of("policy.json"), "--state", path_of(st), "--once", "--batch", "8",
              "--save-every", "0", "--format", "json", (char *)NULL);
        _exit(127);
    }
    if (us > 0) {
        struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

        for (int k = 0; k < 100 && nanosleep(&ts, &ts) != 0; k++) {
        }
        kill(pid, SIGKILL);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    testlib_slurp(path_of("out"), out_text, sizeof(out_text));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

/*
 * Killed at any point (20 runs, killed after 1 to 400 ms; the position saved after every batch,
 * --save-every 0, so that kills land after saves made part-way), a pass leaves a position that the
 * next pass reads and resumes from: it checks the rest of the log and ends at the tree head,
 * never exit 3 (a torn position file) or 4 (a position inconsistent with the log).
 */
static void test_crash_resumes(void **state)
{
    (void)state;
    serve_static(STATIC_ENTRIES, TESTLIB_CT_NORMAL, 0);
    for (int i = 0; i < 20; i++) {
        char st[32];
        int rc;

        snprintf(st, sizeof(st), "s-crash-%d", i);
        (void)run_killed(st, 1000 + i * 20000L);
        rc = run_killed(st, 0);
        assert_true(rc == 0 || rc == 1);
        assert_non_null(strstr(out_text, "\"tree_size\":600,"));
        assert_non_null(strstr(out_text, ",\"end\":600,"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_keys_alert),  cmocka_unit_test(test_known_keys_quiet),
        cmocka_unit_test(test_resume_consistent),   cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_fork_inconsistent),   cmocka_unit_test(test_rewind),
        cmocka_unit_test(test_bad_entries),         cmocka_unit_test(test_huge_response),
        cmocka_unit_test(test_fails_mid_pass),      cmocka_unit_test(test_bad_entries_not_kept),
        cmocka_unit_test(test_unreadable_entry),    cmocka_unit_test(test_static_alerts_and_grows),
        cmocka_unit_test(test_static_misbehaviour), cmocka_unit_test(test_crash_resumes),
    };

    if (getenv("PINSET_BIN") == NULL) {
        return 77;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
