/*
 * test_cli_monitor_alert.c - the monitor's command hook (src/monitor/alert.c, issue 14) with real
 * child processes:
 *   hook_not_reading_is_killed   a hook that never reads its input and never exits, given an
 *                                alert larger than a pipe holds: the delivery returns (failed),
 *                                the hook killed and reaped (no child left)
 *   hook_reads_its_input         a hook that reads: the document and a newline on its stdin
 * Every wait is bounded (alarm); no timing is asserted.
 */
#define _GNU_SOURCE

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h before it: keep this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
/* clang-format on */

#include <monitor/alert.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pinset-alert-XXXXXX");
    signal(SIGPIPE, SIG_IGN); /* as cmd_monitor does */
    alarm(120);               /* every test bounded: a blocked delivery ends the program */
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    alarm(0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void hook_config(mon_config *cfg, const char *script, unsigned int timeout)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->command[0] = (char *)"sh";
    cfg->command[1] = (char *)"-c";
    cfg->command[2] = (char *)script;
    cfg->command[3] = NULL;
    cfg->command_timeout = timeout;
}

/* A JSON document of about n bytes. */
static char *big_doc(size_t n)
{
    char *s = malloc(n + 16);

    assert_non_null(s);
    memcpy(s, "{\"x\":\"", 6);
    memset(s + 6, 'a', n);
    memcpy(s + 6 + n, "\"}", 3);
    return s;
}

static void hook_not_reading_is_killed(void **state)
{
    mon_config cfg;
    char *doc = big_doc(1u << 20); /* 1 MiB: more than any pipe buffer */
    int st;

    (void)state;
    hook_config(&cfg, "exec sleep 600", 1);
    assert_int_equal(mon_alert_deliver(&cfg, doc), 1);
    /* killed and reaped: the monitor has no child left */
    errno = 0;
    assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
    free(doc);
}

static void hook_reads_its_input(void **state)
{
    mon_config cfg;
    char script[256], path[128], got[256] = "";
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/in", dir);
    snprintf(script, sizeof(script), "cat > '%s'", path);
    hook_config(&cfg, script, 30);
    assert_int_equal(mon_alert_deliver(&cfg, "{\"kind\":\"expiry\"}"), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(got, sizeof(got), f));
    fclose(f);
    assert_string_equal(got, "{\"kind\":\"expiry\"}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hook_not_reading_is_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(hook_reads_its_input, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
