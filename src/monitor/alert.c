/*
 * alert.c - the alert sinks of alert.h.
 */
#define _GNU_SOURCE /* pipe2 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <monitor/alert.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static void sleep_ms(unsigned long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
    (void)p;
    (void)u;
    return size * n;
}

/* ---- webhook ---- */

/* What the progress callback looks at. */
typedef struct stop_ref {
    atomic_int *stop;
} stop_ref;

/* libcurl's progress callback: a transfer in flight is aborted once *stop is set. */
static int stop_check(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const stop_ref *r = p;

    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return r->stop != NULL && atomic_load(r->stop) ? 1 : 0;
}

/* One POST (no retry: the outbox retries). 0, or -1 with the reason in why. */
static int webhook_once(const mon_config *cfg, const char *json, atomic_int *stop, char *why,
                        size_t cap)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    long status = 0;
    CURLcode rc;
    stop_ref ref = {stop};

    if (c == NULL || (h = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
        curl_easy_cleanup(c);
        snprintf(why, cap, "out of memory");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, cfg->webhook_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->webhook_timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pinset-monitor");
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stop_check);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &ref);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (cfg->cafile != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->cafile);
    }
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(why, cap, "%s",
                 rc == CURLE_ABORTED_BY_CALLBACK ? "stopped" : curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(why, cap, "HTTP status %ld", status);
        return -1;
    }
    return 0;
}

/* ---- command hook ---- */

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Kill the hook (its process group, then itself) and reap it. */
static void kill_hook(pid_t pid)
{
    int status;

    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

/*
 * Give the hook its input (json and a newline) through the non-blocking pipe fd, under the
 * deadline: poll(2) for room, never a blocking write. 0 written or the hook closed its input
 * (EPIPE: it does not want it), -1 deadline reached, -2 another error.
 */
static int feed(int fd, const char *json, double deadline)
{
    size_t len = strlen(json), off = 0;

    while (off < len + 1) {
        const char *p = off < len ? json + off : "\n";
        size_t n = off < len ? len - off : 1;
        struct pollfd pfd = {fd, POLLOUT, 0};
        double left = deadline - mono_now();
        ssize_t w;
        int r;

        if (left <= 0) {
            return -1;
        }
        r = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -2;
        }
        if (r == 0) {
            continue; /* the deadline is checked above */
        }
        w = write(fd, p, n);
        if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }
        if (w < 0) {
            return errno == EPIPE ? 0 : -2;
        }
        off += (size_t)w;
    }
    return 0;
}

/* Wait for the hook until the deadline. 0 exited 0; -1 killed at the deadline; 1 failed. */
static int reap(pid_t pid, double deadline)
{
    int status = 0;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return 1;
        }
        if (mono_now() >= deadline) {
            kill_hook(pid);
            return -1;
        }
        sleep_ms(10);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_err("monitor", "command hook: %s %d", WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return 1;
    }
    return 0;
}

/*
 * The hook gets the document on its standard input; writing it, and waiting for the hook to
 * exit, both run under the one timeout (a hook that never reads cannot hold the monitor). The
 * pipe is O_CLOEXEC: no other child of the monitor inherits it (the hook's stdin would never
 * see its end). The hook runs in a process group of its own, all of it killed at the timeout.
 */
static int command(const mon_config *cfg, const char *json)
{
    int fds[2], rc;
    pid_t pid;
    double deadline = mono_now() + (double)cfg->command_timeout;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        cli_err("monitor", "command hook: pipe: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        cli_err("monitor", "command hook: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* the monitor blocks its signals; the hook not */
        signal(SIGPIPE, SIG_DFL);              /* the monitor ignores it; the hook not */
        setpgid(0, 0);
        if (dup2(fds[0], 0) < 0) { /* dup2's copy is not close-on-exec */
            _exit(127);
        }
        execvp(cfg->command[0], cfg->command);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: kill(-pid) finds the group whichever runs first */
    close(fds[0]);
    if (fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0) {
        rc = -2;
    } else {
        rc = feed(fds[1], json, deadline);
    }
    close(fds[1]);
    if (rc == -2) {
        cli_err("monitor", "command hook: write: %s", strerror(errno));
    }
    if (rc == -1) {
        kill_hook(pid); /* the deadline came while it was given its input */
    } else {
        rc = reap(pid, deadline); /* kills it at the deadline */
    }
    if (rc == -1) {
        cli_err("monitor", "command hook: killed after %u seconds", cfg->command_timeout);
        return -1;
    }
    return rc == 0 ? 0 : -1;
}

/* ---- JSON lines ---- */

static int jsonl(const mon_config *cfg, const char *json)
{
    size_t len = strlen(json);
    char *line = malloc(len + 2);
    int fd, rc = -1;

    if (line == NULL) {
        cli_err("monitor", "%s: out of memory", cfg->jsonl);
        return -1;
    }
    memcpy(line, json, len);
    line[len] = '\n';
    fd = open(cfg->jsonl, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        cli_err("monitor", "%s: %s", cfg->jsonl, strerror(errno));
        goto out;
    }
    /* one write of the whole line on O_APPEND: readers never see half a line from us */
    if (write(fd, line, len + 1) != (ssize_t)(len + 1) || fdatasync(fd) != 0) {
        cli_err("monitor", "%s: cannot append: %s", cfg->jsonl, strerror(errno));
    } else {
        rc = 0;
    }
    close(fd);
out:
    free(line);
    return rc;
}

int mon_alert_sinks(const mon_config *cfg)
{
    return (cfg->jsonl != NULL ? MON_SINK_JSONL : 0) |
           (cfg->command[0] != NULL ? MON_SINK_COMMAND : 0) |
           (cfg->webhook_url != NULL ? MON_SINK_WEBHOOK : 0);
}

int mon_alert_try(const mon_config *cfg, const char *json, int sink, atomic_int *stop)
{
    char why[256] = "";

    switch (sink & mon_alert_sinks(cfg)) {
    case MON_SINK_JSONL:
        return jsonl(cfg, json);
    case MON_SINK_COMMAND:
        return command(cfg, json);
    case MON_SINK_WEBHOOK:
        if (webhook_once(cfg, json, stop, why, sizeof(why)) == 0) {
            return 0;
        }
        if (stop == NULL || !atomic_load(stop)) {
            cli_err("monitor", "webhook: %s", why);
        }
        return -1;
    default:
        return -1;
    }
}

int mon_alert_deliver(const mon_config *cfg, const char *json)
{
    int failed = 0;

    for (int sink = 1; sink <= MON_SINK_WEBHOOK; sink <<= 1) {
        if ((mon_alert_sinks(cfg) & sink) != 0 && mon_alert_try(cfg, json, sink, NULL) != 0) {
            failed++;
        }
    }
    return failed;
}
