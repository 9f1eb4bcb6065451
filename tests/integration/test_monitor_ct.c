/*
 * test_monitor_ct.c - `pinset monitor` with Certificate Transparency logs in
 * its configuration (issue 14): each round runs one ct_watch_pass per log
 * against a log served on 127.0.0.1 (tests/testlib/ct_log.c), and what it
 * finds becomes the monitor's alerts (JSON lines).
 *
 * The log holds, for "example.com and its subdomains, pinned to the known
 * key":
 *   0 x509 www.example.com  known key    (no alert)
 *   1 x509 www.example.com  unknown key  ct_finding
 *   2 x509 other.test       another key  (not watched)
 * A second round finds nothing new (the position is kept); a log whose
 * tree-head signature is bad gives a ct_log alert, once while it stays so
 * (across restarts: the log's state is in the store), again when it breaks
 * otherwise, and ct_log_recovered once when it works again. Without
 * ct.state_dir the positions are the store's (ct_positions): a restarted
 * monitor resumes from the stored position; run again on PostgreSQL by
 * integration/test_monitor_ct_pg (tests/testlib/pg.sh starts the server).
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ct_log.h"
#include "pki.h"
#include "tmpdir.h"

static char tmp[512], url[128];
static testlib_ct_log *log_;
static testlib_pki pki;
static char alerts[1 << 16], err_text[1 << 16];
static const char *pg_url; /* PostgreSQL (tests/testlib/pg.sh run): the store test on it alone */

static const char *path_of(const char *name)
{
    return testlib_path(tmp, name);
}

/* One round of the monitor; the alerts file and stderr read back. Returns the exit status. */
static int round_once(void)
{
    const char *bin = getenv("PINSET_BIN");
    pid_t pid;
    int st = 0;

    assert_non_null(bin);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int e = open(path_of("err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(e, 2);
        alarm(120); /* bounded */
        execl(bin, bin, "monitor", "--config", path_of("mon.json"), "--once", "1", (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    testlib_slurp(path_of("alerts.jsonl"), alerts, sizeof(alerts));
    testlib_slurp(path_of("err"), err_text, sizeof(err_text));
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* The monitor running rounds (no --once) until killed; its pid. */
static pid_t monitor_start(void)
{
    const char *bin = getenv("PINSET_BIN");
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int e = open(path_of("err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

        dup2(e, 2);
        alarm(120); /* bounded */
        execl(bin, bin, "monitor", "--config", path_of("mon.json"), (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait (at most 60 s) until the alerts file holds `n` occurrences of `needle`. */
static void wait_alerts(const char *needle, int n)
{
    for (int i = 0; i < 600; i++) {
        testlib_slurp(path_of("alerts.jsonl"), alerts, sizeof(alerts));
        if (testlib_count(alerts, needle) >= n) {
            return;
        }
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    fail_msg("no %d of %s in the alerts: %s", n, needle, alerts);
}

/*
 * The monitor's configuration: its store `db`; `state` the ct object's state_dir member ("" for
 * none: the positions are then kept in the store). 0 or -1.
 */
static int write_config(const char *db, const char *state)
{
    FILE *f = fopen(path_of("mon.json"), "w");

    if (f == NULL) {
        return -1;
    }
    /* no server to probe (an empty targets file): the round is the CT pass alone */
    fprintf(f,
            "{\"inventory\": [{\"policy\": \"policy.json\", \"targets\": [\"none.txt\"]}],\n"
            " \"alerts\": {\"jsonl\": \"alerts.jsonl\"}, \"db\": \"%s\",\n"
            " \"ct\": {%s\"batch\": 2, \"timeout_seconds\": 10,\n"
            "        \"logs\": [{\"url\": \"%s\", \"key\": \"log.pem\", \"api\": \"rfc6962\"}]}}\n",
            db, state, url);
    return fclose(f) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    const char *base = getenv("TMPDIR");
    EVP_PKEY *other;
    X509 *x;
    char known[45];
    FILE *f;
    int bad = 0;

    (void)state;
    snprintf(tmp, sizeof(tmp), "%s/pinset-monct-XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(tmp) == NULL || testlib_pki_make(&pki, "www.example.com") != 0) {
        return -1;
    }
    other = EVP_EC_gen("P-256");
    log_ = testlib_ct_log_new();
    if (other == NULL || log_ == NULL) {
        return -1;
    }
    bad |= testlib_ct_log_add_x509(log_, pki.leaf, pki.inter, 1000);
    x = testlib_pki_leaf(&pki, NULL, "www.example.com", 11);
    bad |= x == NULL || testlib_ct_log_add_x509(log_, x, pki.inter, 1011);
    X509_free(x);
    x = testlib_pki_leaf(&pki, other, "other.test", 12);
    bad |= x == NULL || testlib_ct_log_add_x509(log_, x, pki.inter, 1012);
    X509_free(x);
    EVP_PKEY_free(other);
    if (bad || testlib_ct_log_write_key(log_, path_of("log.pem")) != 0 ||
        testlib_ct_log_start(log_, url, sizeof(url)) != 0) {
        return -1;
    }
    testlib_spki_b64(pki.leaf, known);
    f = fopen(path_of("policy.json"), "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f,
            "{\"version\": 1, \"rules\": [{\"host\": \"example.com\", \"include_subdomains\": "
            "true, \"pins\": [{\"sha256\": \"%s\", \"role\": \"leaf\"}]}]}\n",
            known);
    if (fclose(f) != 0 || (f = fopen(path_of("none.txt"), "w")) == NULL || fclose(f) != 0) {
        return -1;
    }
    return write_config("state.db", "\"state_dir\": \"ct\", ");
}

static int teardown(void **state)
{
    char cmd[700];

    (void)state;
    testlib_ct_log_free(log_);
    testlib_pki_free(&pki);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* A certificate for a pinned name on an unknown key is a ct_finding alert, once. */
static void test_ct_finding_once(void **state)
{
    (void)state;
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_finding\""), 1);
    assert_non_null(strstr(alerts, "\"alert\":\"unknown-key\""));
    assert_non_null(strstr(alerts, "\"index\":1,"));
    assert_non_null(strstr(alerts, "\"host\":\"www.example.com\""));
    assert_null(strstr(alerts, "other.test"));
    /* the next round starts where this one ended: nothing new */
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":"), 1);
}

/*
 * A log whose tree head does not verify: a ct_log alert naming the misbehaviour, once while it
 * stays broken, though each round is a new process (the state is in the store); again when it
 * breaks otherwise; ct_log_recovered once when it works again.
 */
static void test_ct_log_misbehaves(void **state)
{
    (void)state;
    testlib_ct_log_set_mode(log_, TESTLIB_CT_BAD_SIG, 0);
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_log\""), 1);
    assert_non_null(strstr(alerts, "\"alert\":\"log-bad-signature\""));
    /* still broken, the same way: the next round (a restart) says nothing new */
    assert_int_equal(round_once(), 0);
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_log\""), 1);
    /* broken otherwise (a forked tree): alerted again, naming the previous reason */
    testlib_ct_log_set_mode(log_, TESTLIB_CT_FORK, 1);
    assert_int_equal(round_once(), 0);
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_log\""), 2);
    assert_non_null(strstr(alerts, "\"previous\":\"log-bad-signature\""));
    /* works again: recovered, once */
    testlib_ct_log_set_mode(log_, TESTLIB_CT_NORMAL, 0);
    assert_int_equal(round_once(), 0);
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_log_recovered\""), 1);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_log\""), 2);
    assert_non_null(strstr(alerts, "\"alert\":\"log-recovered\""));
}

/*
 * Without ct.state_dir the positions are kept in the store (issue 14): the next process resumes
 * where the last one stopped, killed or not (entries checked before are not checked again: no
 * second alert), a new entry is checked once; another store (a fresh database) starts from the
 * beginning.
 */
static void test_ct_positions_in_the_store(void **state)
{
    X509 *x;
    pid_t pid;
    int st = 0;
    (void)state;

    unlink(path_of("alerts.jsonl"));
    assert_int_equal(write_config(pg_url != NULL ? pg_url : "pos.db", ""), 0);
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_finding\""), 1);
    assert_non_null(strstr(alerts, "\"index\":1,"));
    /* a restart: nothing new, nothing checked again */
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":"), 1);
    /* a new certificate for a pinned name on an unknown key: found once, by the next process */
    x = testlib_pki_leaf(&pki, NULL, "api.example.com", 13);
    assert_non_null(x);
    assert_int_equal(testlib_ct_log_add_x509(log_, x, pki.inter, 1013), 0);
    X509_free(x);
    /* the monitor running: killed (SIGKILL) once the round that found it is delivered */
    pid = monitor_start();
    wait_alerts("\"kind\":\"ct_finding\"", 2);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(testlib_count(alerts, "\"index\":1,"), 1);
    assert_int_equal(testlib_count(alerts, "\"index\":3,"), 1);
    /* restarted: it resumes from the stored position, nothing checked again */
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":"), 2);
    if (pg_url != NULL) {
        return;
    }
    /* the position is the store's: another (fresh) database starts from the beginning */
    assert_int_equal(write_config("pos2.db", ""), 0);
    assert_int_equal(round_once(), 0);
    assert_int_equal(testlib_count(alerts, "\"kind\":\"ct_finding\""), 4);
    assert_int_equal(testlib_count(alerts, "\"index\":1,"), 2);
    assert_int_equal(testlib_count(alerts, "\"index\":3,"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_finding_once),
        cmocka_unit_test(test_ct_log_misbehaves),
        cmocka_unit_test(test_ct_positions_in_the_store),
    };

    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test(test_ct_positions_in_the_store),
    };

    if (getenv("PINSET_BIN") == NULL) {
        return 77;
    }
    /* integration/test_monitor_ct_pg runs this under pg.sh, which sets PINSET_PG_URL */
    pg_url = getenv("PINSET_PG_URL");
    if (pg_url != NULL && pg_url[0] != '\0') {
        return cmocka_run_group_tests(pg_tests, setup, teardown);
    }
    pg_url = NULL;
    return cmocka_run_group_tests(tests, setup, teardown);
}
