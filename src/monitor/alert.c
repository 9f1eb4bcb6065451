/*
 * alert.c - the alert sinks of alert.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <monitor/alert.h>
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

static int webhook_once(const mon_config *cfg, const char *json, char *why, size_t cap)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    long status = 0;
    CURLcode rc;

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
        snprintf(why, cap, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(why, cap, "HTTP status %ld", status);
        return -1;
    }
    return 0;
}

static int webhook(const mon_config *cfg, const char *json)
{
    char why[256] = "";
    unsigned long wait = cfg->webhook_backoff_ms;

    for (unsigned int attempt = 0; attempt <= cfg->webhook_retries; attempt++) {
        if (attempt > 0) {
            sleep_ms(wait);
            wait = wait * 2 > 600000 ? 600000 : wait * 2;
        }
        if (webhook_once(cfg, json, why, sizeof(why)) == 0) {
            return 0;
        }
    }
    cli_err("monitor", "webhook: %s after %u attempts", why, cfg->webhook_retries + 1);
    return -1;
}

/* ---- command hook ---- */

/* Wait for pid until deadline (monotonic seconds); kill it after. 0 when it exited 0. */
static int reap(pid_t pid, unsigned int timeout)
{
    struct timespec start, now;
    int status = 0;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= (time_t)timeout) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            cli_err("monitor", "command hook: killed after %u seconds", timeout);
            return -1;
        }
        sleep_ms(20);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_err("monitor", "command hook: %s %d", WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

static int command(const mon_config *cfg, const char *json)
{
    int fds[2];
    pid_t pid;
    size_t len = strlen(json), off = 0;

    if (pipe(fds) != 0) {
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
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        execvp(cfg->command[0], cfg->command);
        _exit(127);
    }
    close(fds[0]);
    /* a hook that does not read its input gets EPIPE here, not SIGPIPE (ignored by the command) */
    while (off < len) {
        ssize_t w = write(fds[1], json + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
    }
    if (off == len) {
        ssize_t w = write(fds[1], "\n", 1);
        (void)w;
    }
    close(fds[1]);
    return reap(pid, cfg->command_timeout);
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

int mon_alert_deliver(const mon_config *cfg, const char *json)
{
    int failed = 0;

    if (cfg->jsonl != NULL && jsonl(cfg, json) != 0) {
        failed++;
    }
    if (cfg->command[0] != NULL && command(cfg, json) != 0) {
        failed++;
    }
    if (cfg->webhook_url != NULL && webhook(cfg, json) != 0) {
        failed++;
    }
    return failed;
}
