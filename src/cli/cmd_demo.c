/*
 * cmd_demo.c - `pinset demo`: the offline tour, and an end-to-end smoke test.
 *
 * Generates a throw-away PKI in memory (demo_pki.c), starts three TLS
 * servers on 127.0.0.1 (demo_server.c): the genuine one, a rogue one whose
 * certificate a second trusted root mis-issued, and one after a key
 * rotation. Then it runs the real command handlers in-process, each step
 * headed by the command line a user would type, and checks that each one
 * behaved as expected (exit status, and what it printed). Names resolve only
 * through --connect-to to 127.0.0.1: no DNS, no network.
 *
 * Files (the trust anchors, the policies) live in a private directory made
 * with mkdtemp and removed at exit, also on error and on SIGINT, SIGTERM or
 * SIGHUP; with --keep DIR they are written to DIR and kept.
 *
 * Exit status: 0 when every step behaved as expected (steps whose command is
 * not in this build are skipped), 1 when a step did not (named on stderr),
 * 2 usage, 3 the --keep directory is unusable, 4 the loopback servers could
 * not start, 5 internal error.
 */
#define _GNU_SOURCE /* mkdtemp, O_CLOEXEC, O_NOFOLLOW */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <serve/server.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <store/store.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <pinset/openssl.h>
#include <pinset/reporter.h>

#include "cmd.h"
#include "common.h"
#include "demo_http.h"
#include "demo_pki.h"
#include "demo_server.h"
#include "out.h"

#define DEMO_HOST        "demo.pinset.test"
#define DEMO_PORT        443       /* the port users would name; the servers listen elsewhere */
#define DEMO_LIFETIME_MS 120000    /* each server stops by itself after this */
#define DEMO_CAPTURE_MAX (1 << 20) /* most output read back from one command */
#define DEMO_STEPS       12
#define DEMO_MAX_ARGS    24
#define DEMO_MAX_BAD     16

enum demo_opt { O_KEEP, O_STEP, O_FORMAT, O_COLOR, O_END };

static const opt_spec demo_opts[] = {
    [O_KEEP] = {"keep", 0, "DIR", "write the generated files to DIR and keep them"},
    [O_STEP] = {"step", 0, "N", "show only step N (1-12); the others still run, silently"},
    [O_FORMAT] = {"format", 'f', "FORMAT", "text (the only format)"},
    [O_COLOR] = OUT_OPT_COLOR,
    [O_END] = {NULL, 0, NULL, NULL},
};

const cmd_spec cmd_demo_spec = {
    "demo", "[options]",
    "Offline tour: a throw-away PKI, loopback servers, fetch, check, report mode, lint, app configs, reports, signed updates.",
    demo_opts};

/* The files the demo may create, by name inside its directory: all removed at exit. */
static const char *const demo_files[] = {"trust.pem",
                                         "root-ca.pem",
                                         "issuing-ca.pem",
                                         "leaf.pem",
                                         "rotated-leaf.pem",
                                         "rogue-root.pem",
                                         "rogue-leaf.pem",
                                         "backup-key.pub.pem",
                                         "starter.json",
                                         "leaf-only.json",
                                         "report.json",
                                         "fixed.json",
                                         "report-doc.json",
                                         "pinset-demo-spare.key.pem",
                                         "pinset-demo-spare.pub.pem",
                                         "pinset-demo-spare.csr.pem",
                                         "app.okhttp",
                                         "pinset-demo-update.key",
                                         "pinset-demo-update.key.pub",
                                         "update.dsse",
                                         "network_security_config.xml",
                                         "Info.plist",
                                         "report-live.json",
                                         "reports.sqlite",
                                         "reports.sqlite-wal",
                                         "reports.sqlite-shm",
                                         "reports.sqlite-journal",
                                         "pinset-demo-root.key",
                                         "pinset-demo-root.key.pub",
                                         "pinset-demo-signer.key",
                                         "pinset-demo-signer.key.pub",
                                         "signer.deleg",
                                         "update-1.dsse",
                                         "update-2.dsse",
                                         "site/updates/1.dsse",
                                         "site/updates/2.dsse",
                                         "site/index.json",
                                         "state/state",
                                         "state/current.dsse",
                                         ".capture-out",
                                         ".capture-err",
                                         NULL};

/* The directories the demo may create, deepest first: removed after demo_files. */
static const char *const demo_dirs[] = {"site/updates", "site", "state", NULL};

/* For the signal handler: the directory to empty and remove (absolute), and its fd. */
static char g_dir[PATH_MAX];
static int g_dirfd = -1;
static volatile sig_atomic_t g_remove_at_exit;

enum server_id { SRV_GENUINE, SRV_ROGUE, SRV_ROTATED, SRV_COUNT };

typedef struct demo {
    int color;
    int only_step; /* 0 = all */
    int keep;
    demo_pki pki;
    demo_server *srv[SRV_COUNT];
    char map[SRV_COUNT][80]; /* --connect-to value per server */
    char pin_root[PINSET_PIN_STR_MAX], pin_ca[PINSET_PIN_STR_MAX];
    char pin_leaf[PINSET_PIN_STR_MAX], pin_backup[PINSET_PIN_STR_MAX];
    char pin_rogue_root[PINSET_PIN_STR_MAX], pin_rogue_leaf[PINSET_PIN_STR_MAX];
    int cap_fd[2]; /* captured stdout, stderr of the command being run */
    char *cap[2];  /* what the last command printed (NUL-terminated) */
    int step;      /* the step being shown */
    const char *step_title;
    int step_bad; /* this step did not behave */
    int nskipped, nbad, internal;
    char bad[DEMO_MAX_BAD][400];
    pinset_report_fn forward; /* the pinned client also hands its reports here (step 11) */
    void *forward_payload;
} demo;

/* ---- files and clean-up ---- */

/*
 * Unlink every entry of the directory `fd`, and the directories in it with
 * their entries, `depth` levels down. Async-signal-safe: lseek, getdents64,
 * openat, unlinkat and close only.
 */
static void remove_entries(int fd, int depth)
{
    /* one buffer per level; 8-byte aligned: struct linux_dirent64 starts with a 64-bit inode */
    static _Alignas(8) char bufs[4][4096];
    char *buf = bufs[depth];

    if (lseek(fd, 0, SEEK_SET) != 0) {
        return;
    }
    for (int reads = 0; reads < 64; reads++) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof(bufs[0]));
        if (n <= 0) {
            return;
        }
        for (long off = 0; off < n;) {
            unsigned short reclen;
            const char *name = buf + off + 19; /* d_ino 8, d_off 8, d_reclen 2, d_type 1 */
            memcpy(&reclen, buf + off + 16, sizeof(reclen));
            if (reclen == 0) {
                return;
            }
            off += reclen;
            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || unlinkat(fd, name, 0) == 0 ||
                errno != EISDIR) {
                continue;
            }
            if (depth + 1 < 4) {
                int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0) {
                    remove_entries(sub, depth + 1);
                    close(sub);
                }
            }
            (void)unlinkat(fd, name, AT_REMOVEDIR);
        }
    }
}

/*
 * Remove every entry of the private directory, then the directory. By name
 * first (the demo's own files), then whatever the directory still holds: a
 * temporary of a command cut short, a database's journal. A file another
 * thread creates in between makes rmdir fail; a bounded number of rounds
 * then catches it. Async-signal-safe: lseek, getdents64, unlinkat and rmdir
 * only; used only for the private directory (never for --keep).
 */
static void remove_files(void)
{
    if (g_dirfd >= 0) {
        for (const char *const *f = demo_files; *f != NULL; f++) {
            (void)unlinkat(g_dirfd, *f, 0);
        }
        for (const char *const *f = demo_dirs; *f != NULL; f++) {
            (void)unlinkat(g_dirfd, *f, AT_REMOVEDIR);
        }
    }
    if (g_dir[0] != '/') {
        return;
    }
    for (int round = 0; round < 16; round++) {
        if (rmdir(g_dir) == 0 || (errno != ENOTEMPTY && errno != EEXIST) || g_dirfd < 0) {
            return;
        }
        remove_entries(g_dirfd, 0);
    }
    (void)rmdir(g_dir);
}

/* A command that calls exit() still leaves nothing behind. */
static void remove_at_exit(void)
{
    if (g_remove_at_exit) {
        remove_files();
    }
}

/* Async-signal-safe: unlinkat, rmdir, signal and raise only. */
static void on_signal(int sig)
{
    if (g_remove_at_exit) {
        remove_files();
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_signals(void (*fn)(int))
{
    struct sigaction sa;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction old;
        /* a signal ignored by whoever started us (nohup, a background job) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) {
            continue;
        }
        (void)sigaction(sigs[i], &sa, NULL);
    }
}

/* Make the working directory (a fresh private one, or --keep DIR) and enter it. */
static int make_dir(const char *keep, char *err, size_t errcap)
{
    char tmpl[PATH_MAX], abs[PATH_MAX];
    const char *tmp = getenv("TMPDIR");

    if (keep != NULL) {
        if (mkdir(keep, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errcap, "--keep '%.200s': %s", keep, strerror(errno));
            return EXIT_INPUT;
        }
        if (realpath(keep, g_dir) == NULL) {
            snprintf(err, errcap, "--keep '%.200s': %s", keep, strerror(errno));
            return EXIT_INPUT;
        }
    } else {
        if (tmp == NULL || tmp[0] == '\0') {
            tmp = "/tmp";
        }
        if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/pinset-demo.XXXXXX", tmp) >= sizeof(tmpl) ||
            mkdtemp(tmpl) == NULL) {
            snprintf(err, errcap, "cannot make a private directory in %.200s: %s", tmp,
                     strerror(errno));
            return EXIT_INTERNAL;
        }
        if (realpath(tmpl, abs) == NULL) {
            snprintf(err, errcap, "%.200s: %s", tmpl, strerror(errno));
            (void)rmdir(tmpl);
            return EXIT_INTERNAL;
        }
        memcpy(g_dir, abs, sizeof(g_dir));
        g_remove_at_exit = 1;
        (void)atexit(remove_at_exit);
    }
    g_dirfd = open(g_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (g_dirfd < 0 || chdir(g_dir) != 0) {
        snprintf(err, errcap, "%.200s: %s", g_dir, strerror(errno));
        return keep != NULL ? EXIT_INPUT : EXIT_INTERNAL;
    }
    return EXIT_OK;
}

/* make_dir with the clean-up signals held, so that a signal never finds a half-made state. */
static int make_dir_guarded(const char *keep, char *err, size_t errcap)
{
    sigset_t block, old;
    int rc;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    rc = make_dir(keep, err, errcap);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static int write_file(const char *name, const void *data, size_t len)
{
    int fd = openat(g_dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    const char *p = data;

    if (fd < 0) {
        return -1;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

/* Write PEM certificates (and optionally one public key) to a file. */
static int write_pem(const char *name, X509 *a, X509 *b, EVP_PKEY *pub)
{
    BIO *m = BIO_new(BIO_s_mem());
    char *data;
    long len;
    int rc = -1;

    if (m == NULL) {
        return -1;
    }
    if ((a == NULL || PEM_write_bio_X509(m, a) == 1) &&
        (b == NULL || PEM_write_bio_X509(m, b) == 1) &&
        (pub == NULL || PEM_write_bio_PUBKEY(m, pub) == 1)) {
        len = BIO_get_mem_data(m, &data);
        rc = len > 0 ? write_file(name, data, (size_t)len) : -1;
    }
    BIO_free(m);
    return rc;
}

static int write_json(const char *name, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t n;
    char *t;
    int rc;

    if (s == NULL) {
        return -1;
    }
    n = strlen(s);
    t = realloc(s, n + 2);
    if (t == NULL) {
        free(s);
        return -1;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    rc = write_file(name, t, n + 1);
    free(t);
    return rc;
}

/* ---- output ---- */

static void heading(demo *d, int n, const char *title)
{
    d->step = n;
    d->step_title = title;
    d->step_bad = 0;
    printf("\n%s%s== Step %d/%d: %s ==%s\n", out_sgr(d->color, OUT_BOLD),
           out_sgr(d->color, OUT_CYAN), n, DEMO_STEPS, title, out_sgr_reset(d->color));
}

/* Explanatory text between commands. */
static void say(const char *text)
{
    printf("%s\n", text);
}

static int shown(const demo *d, int n)
{
    return d->only_step == 0 || d->only_step == n;
}

/* Record the outcome of one expectation of the current step. */
static void expect(demo *d, int ok, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void expect(demo *d, int ok, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (ok) {
        printf("  %s-> %s, as expected%s\n", out_sgr(d->color, OUT_GREEN), what,
               out_sgr_reset(d->color));
        return;
    }
    printf("  %s-> UNEXPECTED: %s%s\n", out_sgr(d->color, OUT_RED), what, out_sgr_reset(d->color));
    if (!d->step_bad && d->nbad < DEMO_MAX_BAD) {
        snprintf(d->bad[d->nbad], sizeof(d->bad[0]), "step %d (%s): %s", d->step, d->step_title,
                 what);
    }
    if (!d->step_bad) {
        d->nbad++;
    }
    d->step_bad = 1;
}

/* Print captured text, each line indented. */
static void print_indented(const char *text, const char *indent)
{
    const char *p = text;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        printf("%s%.*s\n", len > 0 ? indent : "", (int)len, p);
        p += len + (nl != NULL ? 1 : 0);
    }
}

/* ---- running a command in-process ---- */

typedef struct argv_buf {
    int argc;
    char *argv[DEMO_MAX_ARGS + 1];
    char store[2048];
    size_t used;
} argv_buf;

static void arg(argv_buf *a, const char *s)
{
    size_t n = strlen(s) + 1;

    if (a->argc >= DEMO_MAX_ARGS || a->used + n > sizeof(a->store)) {
        return; /* cannot happen with the demo's fixed arguments; the command then fails */
    }
    memcpy(a->store + a->used, s, n);
    a->argv[a->argc++] = a->store + a->used;
    a->argv[a->argc] = NULL;
    a->used += n;
}

/* arg() for each of a NULL-terminated list; args() supplies the NULL. */
static void args_list(argv_buf *a, ...)
{
    va_list ap;
    const char *s;

    va_start(ap, a);
    while ((s = va_arg(ap, const char *)) != NULL) {
        arg(a, s);
    }
    va_end(ap);
}
#define args(a, ...) args_list((a), __VA_ARGS__, (const char *)NULL)

static int open_capture(const char *name)
{
    int fd = openat(g_dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd >= 0) {
        (void)unlinkat(g_dirfd, name, 0); /* anonymous from now on */
    }
    return fd;
}

static char *read_back(int fd)
{
    off_t end = lseek(fd, 0, SEEK_END);
    size_t len = end > 0 ? (size_t)end : 0, got = 0;
    char *buf;

    if (len > DEMO_CAPTURE_MAX) {
        len = DEMO_CAPTURE_MAX;
    }
    buf = malloc(len + 1);
    if (buf == NULL || lseek(fd, 0, SEEK_SET) != 0) {
        free(buf);
        return NULL;
    }
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    return buf;
}

/*
 * Run `pinset <argv>` through the command table with stdout and stderr
 * captured. Returns its exit status, or -1 when the command is not in this
 * build, -2 on a local failure.
 */
static int run_captured(demo *d, argv_buf *a)
{
    const cmd_entry *c = cli_find_command(a->argv[0]);
    int saved[2] = {-1, -1}, rc = -2;

    for (int i = 0; i < 2; i++) {
        free(d->cap[i]);
        d->cap[i] = NULL;
    }
    if (c == NULL) {
        return -1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        /* The tour's own output has nowhere to go: stop here (quietly on a closed pipe). */
        remove_at_exit(); /* a SIGPIPE ending runs no atexit handler */
        exit(cli_output_failed("demo"));
    }
    fflush(stderr);
    for (int i = 0; i < 2; i++) {
        if (ftruncate(d->cap_fd[i], 0) != 0 || lseek(d->cap_fd[i], 0, SEEK_SET) != 0) {
            goto out;
        }
        saved[i] = dup(i + 1);
        if (saved[i] < 0 || dup2(d->cap_fd[i], i + 1) < 0) {
            goto out;
        }
    }
    rc = c->run(a->argc, a->argv);
    fflush(stdout);
    fflush(stderr);
out:
    for (int i = 0; i < 2; i++) {
        if (saved[i] >= 0) {
            (void)dup2(saved[i], i + 1);
            close(saved[i]);
        }
        d->cap[i] = read_back(d->cap_fd[i]);
    }
    if (d->cap[0] == NULL || d->cap[1] == NULL) {
        rc = -2;
    }
    return rc;
}

/* Show "$ pinset ...", run it, show what it printed; returns as run_captured. */
static int show_run(demo *d, argv_buf *a, const char *redirect)
{
    int rc;

    printf("%s$ pinset", out_sgr(d->color, OUT_BOLD));
    for (int i = 0; i < a->argc; i++) {
        printf(" %s", a->argv[i]);
    }
    printf("%s%s%s\n", redirect != NULL ? " > " : "", redirect != NULL ? redirect : "",
           out_sgr_reset(d->color));
    rc = run_captured(d, a);
    if (rc == -1) {
        printf("  %sskipped: pinset %s not available in this build%s\n",
               out_sgr(d->color, OUT_YELLOW), a->argv[0], out_sgr_reset(d->color));
        d->nskipped++;
        return rc;
    }
    if (rc == -2) {
        printf("  (cannot capture the output)\n");
        d->internal = 1;
        return rc;
    }
    if (redirect == NULL) {
        print_indented(d->cap[0], "    ");
    }
    print_indented(d->cap[1], "    "); /* stderr, as a terminal would show it */
    return rc;
}

/* Expect an exit status. */
static void expect_exit(demo *d, int rc, int want, const char *meaning)
{
    if (rc < 0) {
        return; /* skipped, or already reported */
    }
    if (rc == want) {
        expect(d, 1, "exit %d (%s)", rc, meaning);
    } else {
        expect(d, 0, "exit %d, expected %d (%s)", rc, want, meaning);
    }
}

/* Expect (or not) a string in the captured stdout. */
static void expect_out(demo *d, int rc, const char *needle, int want, const char *what)
{
    int has;

    if (rc < 0 || d->cap[0] == NULL) {
        return;
    }
    has = strstr(d->cap[0], needle) != NULL;
    expect(d, has == want, "%s %s",
           want ? (has ? "shows" : "does not show") : (has ? "still shows" : "no longer shows"),
           what);
}

/* Expect a string in the captured stderr. */
static void expect_err(demo *d, int rc, const char *needle, const char *what)
{
    if (rc < 0 || d->cap[1] == NULL) {
        return;
    }
    expect(d, strstr(d->cap[1], needle) != NULL, "%s %s",
           strstr(d->cap[1], needle) != NULL ? "names" : "does not name", what);
}

/* ---- set-up: pins, files, servers ---- */

static int pin_of(char *buf, const X509 *x, const EVP_PKEY *key)
{
    pinset_pin pin;
    pinset_err e = x != NULL ? pinset_pin_from_x509(&pin, x, PINSET_PIN_SPKI, NULL)
                             : pinset_pin_from_pkey(&pin, key, NULL);

    if (e != PINSET_OK ||
        pinset_pin_format(buf, PINSET_PIN_STR_MAX, &pin, PINSET_PIN_FMT_BASE64) != PINSET_OK) {
        return -1;
    }
    return 0;
}

static int compute_pins(demo *d)
{
    const demo_pki *k = &d->pki;

    if (pin_of(d->pin_root, k->root, NULL) != 0 || pin_of(d->pin_ca, k->ca, NULL) != 0 ||
        pin_of(d->pin_leaf, k->leaf, NULL) != 0 ||
        pin_of(d->pin_backup, NULL, k->backup_key) != 0 ||
        pin_of(d->pin_rogue_root, k->rogue_root, NULL) != 0 ||
        pin_of(d->pin_rogue_leaf, k->rogue_leaf, NULL) != 0) {
        return -1;
    }
    return 0;
}

/* The certificates for inspection, and the client's trust anchors (both roots). */
static int write_pki_files(demo *d)
{
    const demo_pki *k = &d->pki;

    if (write_pem("trust.pem", k->root, k->rogue_root, NULL) != 0 ||
        write_pem("root-ca.pem", k->root, NULL, NULL) != 0 ||
        write_pem("issuing-ca.pem", k->ca, NULL, NULL) != 0 ||
        write_pem("leaf.pem", k->leaf, NULL, NULL) != 0 ||
        write_pem("rotated-leaf.pem", k->rotated_leaf, NULL, NULL) != 0 ||
        write_pem("rogue-root.pem", k->rogue_root, NULL, NULL) != 0 ||
        write_pem("rogue-leaf.pem", k->rogue_leaf, NULL, NULL) != 0 ||
        write_pem("backup-key.pub.pem", NULL, NULL, k->backup_key) != 0) {
        return -1;
    }
    return 0;
}

static int start_servers(demo *d, char *err, size_t errcap)
{
    demo_pki *k = &d->pki;

    d->srv[SRV_GENUINE] =
        demo_server_start(k->leaf, k->leaf_key, k->ca, DEMO_LIFETIME_MS, err, errcap);
    if (d->srv[SRV_GENUINE] == NULL) {
        return -1;
    }
    d->srv[SRV_ROGUE] =
        demo_server_start(k->rogue_leaf, k->rogue_leaf_key, NULL, DEMO_LIFETIME_MS, err, errcap);
    if (d->srv[SRV_ROGUE] == NULL) {
        return -1;
    }
    d->srv[SRV_ROTATED] =
        demo_server_start(k->rotated_leaf, k->backup_key, k->ca, DEMO_LIFETIME_MS, err, errcap);
    if (d->srv[SRV_ROTATED] == NULL) {
        return -1;
    }
    for (int i = 0; i < SRV_COUNT; i++) {
        snprintf(d->map[i], sizeof(d->map[i]), "%s:%d:127.0.0.1:%u", DEMO_HOST, DEMO_PORT,
                 (unsigned int)demo_server_port(d->srv[i]));
    }
    return 0;
}

/* ---- policies ---- */

static json_t *pin_obj(const char *pin, const char *role, const char *label)
{
    return json_pack("{s:s, s:s, s:s}", "sha256", pin, "role", role, "label", label);
}

/* {"version": 1, "rules": [rule]}, stealing rule. */
static json_t *policy_doc(json_t *rule)
{
    if (rule == NULL) {
        return NULL;
    }
    return json_pack("{s:i, s:[o]}", "version", 1, "rules", rule);
}

/* The starter policy as `fetch --format policy` writes it (when fetch is not in this build). */
static int write_own_starter(demo *d)
{
    json_t *doc = policy_doc(json_pack(
        "{s:s, s:[o,o]}", "host", DEMO_HOST, "pins",
        pin_obj(d->pin_leaf, "leaf", "leaf key: CN=" DEMO_HOST ",O=pinset demo"),
        pin_obj(d->pin_ca, "ca", "issuing ca key: CN=pinset demo issuing CA,O=pinset demo")));
    int rc = doc != NULL ? write_json("starter.json", doc) : -1;

    json_decref(doc);
    return rc;
}

static int write_leaf_only(demo *d)
{
    json_t *doc = policy_doc(json_pack("{s:s, s:[o]}", "host", DEMO_HOST, "pins",
                                       pin_obj(d->pin_leaf, "leaf", "the live leaf key")));
    int rc = doc != NULL ? write_json("leaf-only.json", doc) : -1;

    json_decref(doc);
    return rc;
}

/*
 * Derive a policy from starter.json: its first rule with `mode` set (or
 * not), a report URI (or not), and an extra pin (or not).
 */
static int derive_policy(const char *name, const char *mode, const char *report_uri,
                         json_t *extra_pin)
{
    json_error_t jerr;
    json_t *doc = json_load_file("starter.json", JSON_REJECT_DUPLICATES, &jerr);
    json_t *rule = doc != NULL ? json_array_get(json_object_get(doc, "rules"), 0) : NULL;
    int rc = -1;

    if (rule == NULL || !json_is_object(rule)) {
        goto out;
    }
    if (mode != NULL && json_object_set_new(rule, "mode", json_string(mode)) != 0) {
        goto out;
    }
    if (report_uri != NULL &&
        json_object_set_new(rule, "report_uris", json_pack("[s]", report_uri)) != 0) {
        goto out;
    }
    if (extra_pin != NULL) {
        json_t *pins = json_object_get(rule, "pins");
        if (!json_is_array(pins) || json_array_append(pins, extra_pin) != 0) {
            goto out;
        }
    }
    rc = write_json(name, doc);
out:
    json_decref(extra_pin);
    json_decref(doc);
    return rc;
}

/* ---- a pinned client, through libpinset's OpenSSL hooks ---- */

/* Shorten each PEM of a chain array to its first line of base64, for the screen. */
static void shorten_chain(json_t *chain)
{
    size_t i;
    json_t *v;
    char buf[96];

    json_array_foreach(chain, i, v)
    {
        const char *pem = json_string_value(v);
        const char *b64 = pem != NULL ? strchr(pem, '\n') : NULL;
        if (b64 == NULL) {
            continue;
        }
        snprintf(buf, sizeof(buf), "-----BEGIN CERTIFICATE-----\n%.24s... (%zu bytes)", b64 + 1,
                 strlen(pem));
        (void)json_array_set_new(chain, i, json_string(buf));
    }
}

/* Print a report document (the whole of it goes to report-doc.json). */
static void show_report_doc(const char *report)
{
    json_t *doc = json_loads(report, 0, NULL);
    char *pretty = NULL;

    (void)write_file("report-doc.json", report, strlen(report));
    if (doc != NULL) {
        shorten_chain(json_object_get(doc, "served-certificate-chain"));
        shorten_chain(json_object_get(doc, "validated-certificate-chain"));
        pretty = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    printf("    the report (RFC 7469 section 3) a client would POST to the report URI\n"
           "    (certificates shortened here; the whole document is in report-doc.json):\n");
    print_indented(pretty != NULL ? pretty : report, "      ");
    free(pretty);
    json_decref(doc);
}

/*
 * Connect to server `id` with `policy_file` attached; expect the handshake
 * to be let through (want_pass) or refused, and the verdict `want`.
 */
static void client_step(demo *d, int id, const char *policy_file, int want_pass,
                        pinset_verdict want, int show_report)
{
    pinset_policy *pol = NULL;
    pinset_diag diag = PINSET_DIAG_INIT;
    demo_client_result r;
    char err[256];
    int passed;

    printf("%s[a client on libpinset's OpenSSL hooks, shipping %s, connects to %s:%d]%s\n",
           out_sgr(d->color, OUT_DIM), policy_file, DEMO_HOST, DEMO_PORT, out_sgr_reset(d->color));
    if (pinset_policy_load(&pol, policy_file, &diag) != PINSET_OK) {
        expect(d, 0, "%s loads: %s", policy_file, diag.message);
        return;
    }
    if (demo_client_run(&r, demo_server_port(d->srv[id]), DEMO_HOST, "trust.pem", pol, DEMO_PORT,
                        d->forward, d->forward_payload, err, sizeof(err)) != 0) {
        pinset_policy_free(pol);
        expect(d, 0, "%s", err);
        return;
    }
    passed = r.handshake_ok && r.gate_ok;
    printf("    handshake: %s%s%s%s%s\n", passed ? "accepted" : "refused",
           r.error[0] != '\0' ? " (" : "", r.error, r.error[0] != '\0' ? ")" : "",
           r.reports > 0 ? ", a report was built" : "");
    printf("    verdict:   %s\n",
           r.explain[0] != '\0' ? r.explain : pinset_verdict_name(r.verdict));
    if (show_report && r.report != NULL) {
        show_report_doc(r.report);
    }
    expect(d, passed == want_pass && r.verdict == want, "connection %s, verdict %s",
           passed ? "accepted" : "refused", pinset_verdict_name(r.verdict));
    if (show_report) {
        expect(d, r.report != NULL && strstr(r.report, "\"" DEMO_HOST "\"") != NULL,
               "%s report for %s", r.report != NULL ? "a" : "no", DEMO_HOST);
    }
    demo_client_result_free(&r);
    pinset_policy_free(pol);
}

/* ---- the steps ---- */

/* `fetch` of server id, with `format` (NULL for the default). */
static void fetch_args(argv_buf *a, const demo *d, int id, const char *format)
{
    char target[64];

    snprintf(target, sizeof(target), "%s:%d", DEMO_HOST, DEMO_PORT);
    arg(a, "fetch");
    if (format != NULL) {
        args(a, "--format", format);
    }
    args(a, "--cafile", "trust.pem", "--connect-to", d->map[id], target);
}

/* `check` or `explain` (they take the same options) of server id under a policy. */
static void check_args(argv_buf *a, const demo *d, const char *cmd, const char *policy, int id)
{
    char target[64];

    snprintf(target, sizeof(target), "%s:%d", DEMO_HOST, DEMO_PORT);
    args(a, cmd, "--policy", policy, "--cafile", "trust.pem", "--connect-to", d->map[id], target);
}

/* The verdict as pinset_result_explain() starts it ("FAIL (no-match): ..."). */
static void expect_verdict(demo *d, int rc, pinset_verdict v)
{
    char needle[48];

    snprintf(needle, sizeof(needle), "%s (", pinset_verdict_name(v));
    expect_out(d, rc, needle, 1, pinset_verdict_name(v));
}

static void run_check(demo *d, const char *policy, int id, pinset_verdict v, int want,
                      const char *meaning)
{
    argv_buf a = {0};
    int rc;

    check_args(&a, d, "check", policy, id);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, want, meaning);
    expect_verdict(d, rc, v);
}

static void run_explain(demo *d, const char *policy, int id, int want, const char *meaning)
{
    argv_buf a = {0};
    int rc;

    check_args(&a, d, "explain", policy, id);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, want, meaning);
    expect_verdict(d, rc, PINSET_VERDICT_FAIL);
}

static void cert_line(const char *what, const X509 *x, const char *pin)
{
    char cn[128] = "";

    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)sizeof(cn));
    printf("  %-16s %-26s spki %s\n", what, cn, pin);
}

/* Does `leaf` (with `ca` as the untrusted intermediate, if any) validate for the demo host? */
static int validates(X509_STORE *anchors, X509 *leaf, X509 *ca)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    int ok = 0;

    ERR_set_mark();
    if (ctx != NULL && untrusted != NULL && (ca == NULL || sk_X509_push(untrusted, ca) > 0) &&
        X509_STORE_CTX_init(ctx, anchors, leaf, untrusted) == 1 &&
        X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), DEMO_HOST, 0) == 1 &&
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) == 1) {
        ok = X509_verify_cert(ctx) == 1;
    }
    ERR_pop_to_mark();
    sk_X509_free(untrusted); /* the certificates are borrowed */
    X509_STORE_CTX_free(ctx);
    return ok;
}

/* What OpenSSL alone says of each leaf, against the client's trust anchors. */
static void show_validation(demo *d)
{
    X509_STORE *anchors = X509_STORE_new();
    demo_pki *k = &d->pki;

    if (anchors == NULL || X509_STORE_add_cert(anchors, k->root) != 1 ||
        X509_STORE_add_cert(anchors, k->rogue_root) != 1) {
        X509_STORE_free(anchors);
        d->internal = 1;
        return;
    }
    say("Path validation alone (OpenSSL, against trust.pem) accepts all three leaves:");
    expect(d, validates(anchors, k->leaf, k->ca), "the genuine leaf validates for " DEMO_HOST);
    expect(d, validates(anchors, k->rogue_leaf, NULL),
           "the mis-issued leaf validates for " DEMO_HOST " too");
    expect(d, validates(anchors, k->rotated_leaf, k->ca), "the rotated leaf validates");
    X509_STORE_free(anchors);
}

static void step_pki(demo *d)
{
    heading(d, 1, "a throw-away PKI and three servers, offline");
    say("Generated in memory (ECDSA P-256), with the files in a private directory:");
    cert_line("root CA", d->pki.root, d->pin_root);
    cert_line("issuing CA", d->pki.ca, d->pin_ca);
    cert_line("leaf (live)", d->pki.leaf, d->pin_leaf);
    printf("  %-16s %-26s spki %s\n", "backup key", "(not deployed yet)", d->pin_backup);
    cert_line("rogue root", d->pki.rogue_root, d->pin_rogue_root);
    cert_line("mis-issued leaf", d->pki.rogue_leaf, d->pin_rogue_leaf);
    say("The client trusts both roots (trust.pem): the rogue root stands for any CA in a");
    say("trust store that issues a certificate for a name it should not.");
    say("TLS servers for " DEMO_HOST ", on loopback only (--connect-to dials them):");
    printf("  genuine  127.0.0.1:%u  leaf + issuing CA\n",
           (unsigned int)demo_server_port(d->srv[SRV_GENUINE]));
    printf("  rogue    127.0.0.1:%u  the mis-issued leaf\n",
           (unsigned int)demo_server_port(d->srv[SRV_ROGUE]));
    printf("  rotated  127.0.0.1:%u  a new leaf on the backup key + issuing CA\n",
           (unsigned int)demo_server_port(d->srv[SRV_ROTATED]));
    show_validation(d);
}

static void step_fetch(demo *d)
{
    argv_buf a = {0};
    int rc;

    heading(d, 2, "fetch: what does the server present?");
    say("The chain the server sends, the chain OpenSSL validates, and the pin of each");
    say("certificate, with advice on which ones make good pins.");
    fetch_args(&a, d, SRV_GENUINE, NULL);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "validated");
    expect_out(d, rc, d->pin_leaf, 1, "the leaf pin");
    expect_out(d, rc, d->pin_ca, 1, "the issuing CA pin");
}

static void step_policy(demo *d)
{
    argv_buf a = {0};
    int rc;

    heading(d, 3, "fetch --format policy: a starter policy");
    say("A first policy for the host: the leaf key and the issuing CA key. No backup pin");
    say("yet; step 8 shows what lint says about that.");
    fetch_args(&a, d, SRV_GENUINE, "policy");
    rc = show_run(d, &a, "starter.json");
    if (rc >= 0) {
        if (write_file("starter.json", d->cap[0], strlen(d->cap[0])) != 0) {
            d->internal = 1;
        }
        printf("  starter.json:\n");
        print_indented(d->cap[0], "    ");
        expect_exit(d, rc, EXIT_OK, "policy written");
        expect_out(d, rc, d->pin_leaf, 1, "the leaf pin");
        expect_out(d, rc, d->pin_ca, 1, "the issuing CA pin");
    }
    if (rc != EXIT_OK) {
        say("  (the demo writes the same starter policy itself)");
        if (write_own_starter(d) != 0) {
            d->internal = 1;
        }
    }
}

static void step_pass(demo *d)
{
    heading(d, 4, "check: the genuine server passes");
    say("check probes the host and runs the same verdict code as a pinned client.");
    run_check(d, "starter.json", SRV_GENUINE, PINSET_VERDICT_PASS, EXIT_OK, "PASS");
    client_step(d, SRV_GENUINE, "starter.json", 1, PINSET_VERDICT_PASS, 0);
}

static void step_rogue(demo *d)
{
    heading(d, 5, "a mis-issued certificate is blocked");
    say("The rogue server's chain validates (its root is trusted), so TLS alone accepts");
    say("it. Its key is in no pin of the policy: check reports FAIL, and a pinned client");
    say("refuses the handshake.");
    run_check(d, "starter.json", SRV_ROGUE, PINSET_VERDICT_FAIL, EXIT_NEGATIVE, "FAIL");
    say("explain shows why, step by step: the chain validates, but no certificate in it");
    say("carries a pinned key.");
    run_explain(d, "starter.json", SRV_ROGUE, EXIT_NEGATIVE, "FAIL: no pin in the chain");
    client_step(d, SRV_ROGUE, "starter.json", 0, PINSET_VERDICT_FAIL, 0);
}

static void step_report(demo *d)
{
    heading(d, 6, "report mode: the same certificate, reported, not blocked");
    say("report.json is starter.json with \"mode\": \"report\" and a report URI: a safe way");
    say("to roll pinning out. The mismatch lets the connection through and builds an");
    say("RFC 7469 report.");
    if (derive_policy("report.json", "report", "https://reports.pinset.test/pins", NULL) != 0) {
        d->internal = 1;
        expect(d, 0, "report.json written");
        return;
    }
    run_check(d, "report.json", SRV_ROGUE, PINSET_VERDICT_REPORT_ONLY_FAIL, EXIT_OK,
              "REPORT_ONLY_FAIL lets it through");
    client_step(d, SRV_ROGUE, "report.json", 1, PINSET_VERDICT_REPORT_ONLY_FAIL, 1);
}

static void step_rotate(demo *d)
{
    heading(d, 7, "a key rotation: bricked without a backup pin");
    say("The server now presents a new leaf on a NEW key (the backup key from step 1).");
    say("A client shipping only the old leaf pin refuses it until the app is updated:");
    if (write_leaf_only(d) != 0 ||
        derive_policy("fixed.json", NULL, NULL,
                      pin_obj(d->pin_backup, "backup", "offline backup key")) != 0) {
        d->internal = 1;
        expect(d, 0, "leaf-only.json and fixed.json written");
        return;
    }
    run_check(d, "leaf-only.json", SRV_ROTATED, PINSET_VERDICT_FAIL, EXIT_NEGATIVE,
              "FAIL: bricked");
    client_step(d, SRV_ROTATED, "leaf-only.json", 0, PINSET_VERDICT_FAIL, 0);
    say("The starter policy survives: its issuing CA pin is still in the chain.");
    run_check(d, "starter.json", SRV_ROTATED, PINSET_VERDICT_PASS, EXIT_OK, "PASS on the CA pin");
    say("fixed.json adds the backup key as a pin (role backup): the rotation was planned.");
    run_check(d, "fixed.json", SRV_ROTATED, PINSET_VERDICT_PASS, EXIT_OK, "PASS");
    client_step(d, SRV_ROTATED, "fixed.json", 1, PINSET_VERDICT_PASS, 0);
}

static void run_lint(demo *d, const char *file, int want, const char *meaning, int backup_finding)
{
    argv_buf a = {0};
    int rc;

    args(&a, "lint", file);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, want, meaning);
    expect_out(d, rc, "no-backup-pin", backup_finding, "no-backup-pin");
}

static void step_lint(demo *d)
{
    heading(d, 8, "lint: is the policy safe to ship?");
    say("Offline checks of a policy's health. The starter policy has no declared backup");
    say("pin (a warning: both of its keys are live), the leaf-only one cannot survive a");
    say("rotation (an error), the fixed one is ready.");
    run_lint(d, "starter.json", EXIT_OK, "warnings only", 1);
    run_lint(d, "leaf-only.json", EXIT_NEGATIVE, "errors", 1);
    run_lint(d, "fixed.json", EXIT_OK, "clean", 0);
}

/* `pinset convert fixed.json --to FORMAT --host DEMO_HOST`, expecting `shows` in the output. */
static int run_convert(demo *d, const char *to, const char *shows, const char *what)
{
    argv_buf a = {0};
    int rc;

    args(&a, "convert", "fixed.json", "--to", to, "--host", DEMO_HOST);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "converted");
    expect_out(d, rc, shows, 1, what);
    return rc;
}

static void step_ship(demo *d)
{
    argv_buf a = {0};
    int rc;

    heading(d, 9, "ship it: a spare key, other clients' forms, a signed update");
    /* backup-key never overwrites: a kept directory of an earlier tour has these already */
    for (const char *const *f = demo_files; *f != NULL; f++) {
        if (strncmp(*f, "pinset-demo-", 12) == 0) {
            (void)unlinkat(g_dirfd, *f, 0);
        }
    }
    say("The next backup key is made now and kept offline: backup-key writes the key pair");
    say("(the private key 0600, never overwriting) and a CSR, and prints the pin to add");
    say("with role backup.");
    args(&a, "backup-key", "new", "--out", ".", "--name", "pinset-demo-spare", "--subject",
         "/CN=" DEMO_HOST);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "key pair and CSR written");
    expect_out(d, rc, "\"role\": \"backup\"", 1, "a policy entry with role backup");
    say("The same policy for clients that do not read pinset's JSON. convert names what");
    say("a form cannot hold: curl checks only the leaf key, so the CA and backup pins stay");
    say("behind; an HPKP header has no labels and no roles.");
    (void)run_convert(d, "hpkp", d->pin_backup, "an HPKP header with the backup pin");
    rc = run_convert(d, "curl", d->pin_leaf, "curl's leaf-key pin");
    expect_out(d, rc, d->pin_ca, 0, "the CA pin, which curl would never match");
    say("An Android app on OkHttp ships the pins as a CertificatePinner list. Every command");
    say("reads every format pinset knows: check judges the server against the app's list.");
    memset(&a, 0, sizeof(a));
    args(&a, "convert", "fixed.json", "--to", "okhttp", "-o", "app.okhttp");
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "app.okhttp written");
    run_check(d, "app.okhttp", SRV_GENUINE, PINSET_VERDICT_PASS, EXIT_OK,
              "PASS from the OkHttp list");
    say("Pins that change without an app release: the policy as a signed update. Clients");
    say("that hold the public key accept the document only with a good signature, in date.");
    memset(&a, 0, sizeof(a));
    args(&a, "keygen", "pinset-demo-update.key");
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "key pair written");
    memset(&a, 0, sizeof(a));
    args(&a, "sign", "--key", "pinset-demo-update.key", "--serial", "1", "fixed.json", "-o",
         "update.dsse");
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "update.dsse signed");
    memset(&a, 0, sizeof(a));
    args(&a, "verify", "--root", "pinset-demo-update.key.pub", "update.dsse");
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "the signature verifies");
}

/* A whole small file of the demo directory (malloc'd, NUL-terminated), or NULL. */
static char *slurp(const char *name, size_t *len_out)
{
    int fd = openat(g_dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    char *text = fd >= 0 ? read_back(fd) : NULL;

    if (fd >= 0) {
        close(fd);
    }
    if (text != NULL && len_out != NULL) {
        *len_out = strlen(text);
    }
    return text;
}

static void show_file(const char *name)
{
    char *text = slurp(name, NULL);

    printf("  %s:\n", name);
    print_indented(text != NULL ? text : "(unreadable)\n", "    ");
    free(text);
}

/* `pinset convert fixed.json --to FORMAT -o OUT`, expecting `lost` among the losses named. */
static void run_convert_to_file(demo *d, const char *to, const char *out, const char *lost,
                                const char *what)
{
    argv_buf a = {0};
    int rc;

    args(&a, "convert", "fixed.json", "--to", to, "-o", out);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "written");
    expect_err(d, rc, lost, what);
}

static void step_app_config(demo *d)
{
    argv_buf a = {0};
    int rc;

    heading(d, 10, "the app's own pin configuration: Android, iOS, Envoy");
    say("Apps ship pins in their platform's own file. convert writes the policy as an");
    say("Android Network Security Config and as an iOS Info.plist (App Transport Security),");
    say("and names, one line each, what the form cannot express.");
    run_convert_to_file(d, "android", "network_security_config.xml", "Android has no backup pins",
                        "the backup role Android cannot keep");
    show_file("network_security_config.xml");
    run_convert_to_file(d, "ats", "Info.plist", "ATS is stricter",
                        "that ATS wants a leaf and a CA identity both");
    say("check reads the app's file as it ships, without converting it back: the genuine");
    say("server passes, the mis-issued certificate fails.");
    run_check(d, "network_security_config.xml", SRV_GENUINE, PINSET_VERDICT_PASS, EXIT_OK,
              "PASS from the Network Security Config");
    run_check(d, "network_security_config.xml", SRV_ROGUE, PINSET_VERDICT_FAIL, EXIT_NEGATIVE,
              "FAIL from the Network Security Config");
    run_check(d, "Info.plist", SRV_GENUINE, PINSET_VERDICT_PASS, EXIT_OK, "PASS from the plist");
    say("A service mesh: Envoy's upstream TLS context checks the leaf key only.");
    args(&a, "convert", "fixed.json", "--to", "envoy", "--host", DEMO_HOST);
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "converted");
    expect_out(d, rc, d->pin_leaf, 1, "the leaf pin in verify_certificate_spki");
    expect_out(d, rc, d->pin_ca, 0, "the CA pin, which Envoy would never match");
}

/* Block the clean-up signals in threads started between hold and release. */
static void hold_signals(sigset_t *old)
{
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, old);
}

static void release_signals(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* The collector of step 11, in-process: what `pinset collect` runs (src/serve, src/store). */
typedef struct demo_collector {
    store *db;
    serve *srv;
    X509_STORE *trust;
    pinset_policy *policy;
} demo_collector;

static void collector_stop(demo_collector *c)
{
    serve_stop(c->srv); /* finishes the requests in progress, as on SIGTERM */
    store_close(c->db);
    X509_STORE_free(c->trust);
    pinset_policy_free(c->policy);
    memset(c, 0, sizeof(*c));
}

static int collector_start(demo_collector *c, char *err, size_t errcap)
{
    serve_config cfg;
    pinset_diag diag = PINSET_DIAG_INIT;
    sigset_t old;
    int rc;

    memset(c, 0, sizeof(*c));
    if (pinset_policy_load(&c->policy, "starter.json", &diag) != PINSET_OK) {
        snprintf(err, errcap, "starter.json: %s", diag.message);
        return -1;
    }
    c->trust = X509_STORE_new();
    ERR_set_mark();
    rc = c->trust != NULL && X509_STORE_load_file(c->trust, "root-ca.pem") == 1 ? 0 : -1;
    ERR_pop_to_mark();
    if (rc != 0) {
        snprintf(err, errcap, "root-ca.pem: cannot load the trust anchor");
        return -1;
    }
    if (store_open(&c->db, "reports.sqlite", 0, err, errcap) != 0) {
        return -1;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.listen = "127.0.0.1:0";
    cfg.db = c->db;
    cfg.policy = c->policy;
    cfg.trust = c->trust;
    cfg.rate = 20;
    cfg.burst = 100;
    cfg.threads = 2;
    hold_signals(&old);
    rc = serve_start(&c->srv, &cfg, err, errcap);
    release_signals(&old);
    return rc;
}

static void step_collect(demo *d)
{
    demo_collector col;
    pinset_reporter *rep = NULL;
    pinset_reporter_opts ro = PINSET_REPORTER_OPTS_INIT;
    pinset_reporter_stats st;
    pinset_policy *pol = NULL;
    pinset_diag diag = PINSET_DIAG_INIT;
    argv_buf a = {0};
    char err[256], uri[96];
    sigset_t old;
    pinset_err e;
    int rc;

    heading(d, 11, "a report arrives: pinset collect, pinset reports");
    say("Report mode is only as good as the reports that arrive. pinset collect is the");
    say("server a policy's report URI names: it classifies each report against the");
    say("policy and keeps it in SQLite. A client in report mode meets the rogue server");
    say("again, and libpinset-curl's reporter POSTs the report to the collector.");
    for (const char *const *f = demo_files; *f != NULL; f++) {
        if (strncmp(*f, "reports.sqlite", 14) == 0) {
            (void)unlinkat(g_dirfd, *f, 0); /* a kept directory's database of an earlier tour */
        }
    }
    printf("%s$ pinset collect --listen 127.0.0.1:0 --db reports.sqlite --policy starter.json "
           "--cafile root-ca.pem &%s\n",
           out_sgr(d->color, OUT_BOLD), out_sgr_reset(d->color));
    if (collector_start(&col, err, sizeof(err)) != 0) {
        collector_stop(&col);
        expect(d, 0, "the collector starts: %s", err);
        return;
    }
    printf("    listening on http://127.0.0.1:%u\n", serve_port(col.srv));
    expect(d, 1, "the collector listens on loopback");
    snprintf(uri, sizeof(uri), "http://127.0.0.1:%u/report", serve_port(col.srv));
    say("report-live.json is report.json with the collector as its report URI.");
    if (derive_policy("report-live.json", "report", uri, NULL) != 0 ||
        pinset_policy_load(&pol, "report-live.json", &diag) != PINSET_OK) {
        collector_stop(&col);
        d->internal = 1;
        expect(d, 0, "report-live.json written");
        return;
    }
    ro.timeout_ms = 5000;
    ro.max_attempts = 3;
    ro.backoff_ms = 100;
    ro.shutdown_ms = 5000;
    hold_signals(&old);
    e = pinset_reporter_new(&rep, pol, &ro, &diag);
    release_signals(&old);
    if (e != PINSET_OK) {
        pinset_policy_free(pol);
        collector_stop(&col);
        expect(d, 0, "the reporter starts: %s", diag.message);
        return;
    }
    d->forward = pinset_reporter_report;
    d->forward_payload = rep;
    client_step(d, SRV_ROGUE, "report-live.json", 1, PINSET_VERDICT_REPORT_ONLY_FAIL, 0);
    d->forward = NULL;
    d->forward_payload = NULL;
    memset(&st, 0, sizeof(st));
    e = pinset_reporter_close(rep, 10000, &st);
    pinset_reporter_free(rep);
    pinset_policy_free(pol);
    printf("    reporter: %llu report%s sent to %s, %llu failed\n", (unsigned long long)st.sent,
           st.sent == 1 ? "" : "s", uri, (unsigned long long)st.failed);
    expect(d, e == PINSET_OK && st.sent == 1, "the report was delivered (201 after its commit)");
    say("The collector stops as on SIGTERM: it finishes the requests in progress. pinset");
    say("reports reads the database: the report arrived, and the class says what it is.");
    collector_stop(&col);
    args(&a, "reports", "--db", "reports.sqlite");
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, EXIT_OK, "read");
    expect_out(d, rc, DEMO_HOST, 1, "the host");
    expect_out(d, rc, "interception", 1,
               "the class interception (a chain to a root the collector does not trust)");
}

/* Remove what an earlier tour left in a kept directory: the keys, the site, the state. */
static void clear_update_files(void)
{
    for (const char *const *f = demo_files; *f != NULL; f++) {
        if (strncmp(*f, "pinset-demo-root.", 17) == 0 ||
            strncmp(*f, "pinset-demo-signer.", 19) == 0 || strncmp(*f, "site/", 5) == 0 ||
            strncmp(*f, "state/", 6) == 0) {
            (void)unlinkat(g_dirfd, *f, 0);
        }
    }
    for (const char *const *f = demo_dirs; *f != NULL; f++) {
        (void)unlinkat(g_dirfd, *f, AT_REMOVEDIR);
    }
}

/* Serve the published file `name` (under site/) at /`name`; 0 or -1. */
static int serve_published(demo_http *h, const char *name)
{
    char path[128], url[128];
    size_t len = 0;
    char *text;
    int rc;

    snprintf(path, sizeof(path), "site/%s", name);
    snprintf(url, sizeof(url), "/%s", name);
    text = slurp(path, &len);
    rc = text != NULL ? demo_http_put(h, url, text, len) : -1;
    free(text);
    return rc;
}

static int run_cmd(demo *d, const char *const *argv, int want, const char *meaning)
{
    argv_buf a = {0};
    int rc;

    for (; *argv != NULL; argv++) {
        arg(&a, *argv);
    }
    rc = show_run(d, &a, NULL);
    expect_exit(d, rc, want, meaning);
    return rc;
}

static void step_update(demo *d)
{
    demo_http *h;
    char err[256], expires[32], url1[96], url2[96];
    int rc;

    heading(d, 12, "a signed update over HTTP, from a delegated signing key");
    say("The root key, the one clients trust, stays offline: it delegates to a signing");
    say("key used day to day. The signing key signs serial 1 and serial 2, publish lays");
    say("them out as plain files, and a web server on loopback serves them.");
    clear_update_files();
    snprintf(expires, sizeof(expires), "@%lld", (long long)time(NULL) + 30LL * 86400);
    {
        const char *const k1[] = {"keygen", "pinset-demo-root.key", NULL};
        const char *const k2[] = {"keygen", "pinset-demo-signer.key", NULL};
        const char *const dl[] = {"delegate",
                                  "--root-key",
                                  "pinset-demo-root.key",
                                  "--key",
                                  "pinset-demo-signer.key.pub",
                                  "--serial",
                                  "1",
                                  "--expires",
                                  expires,
                                  "-o",
                                  "signer.deleg",
                                  NULL};
        const char *const s1[] = {
            "sign",     "--key", "pinset-demo-signer.key", "--delegation", "signer.deleg",
            "--serial", "1",     "starter.json",           "-o",           "update-1.dsse",
            NULL};
        const char *const s2[] = {"sign",
                                  "--key",
                                  "pinset-demo-signer.key",
                                  "--delegation",
                                  "signer.deleg",
                                  "--serial",
                                  "2",
                                  "fixed.json",
                                  "-o",
                                  "update-2.dsse",
                                  NULL};
        const char *const p1[] = {"publish", "--root", "pinset-demo-root.key.pub",
                                  "--out",   "site",   "update-1.dsse",
                                  NULL};
        const char *const p2[] = {"publish", "--root", "pinset-demo-root.key.pub",
                                  "--out",   "site",   "update-2.dsse",
                                  NULL};
        (void)run_cmd(d, k1, EXIT_OK, "the root key pair written");
        (void)run_cmd(d, k2, EXIT_OK, "the signing key pair written");
        (void)run_cmd(d, dl, EXIT_OK, "the root delegates to the signing key");
        (void)run_cmd(d, s1, EXIT_OK, "serial 1 signed (the starter policy)");
        (void)run_cmd(d, s2, EXIT_OK, "serial 2 signed (the fixed policy)");
        printf("%s$ mkdir site%s\n", out_sgr(d->color, OUT_BOLD), out_sgr_reset(d->color));
        if (mkdirat(g_dirfd, "site", 0755) != 0) {
            d->internal = 1;
            expect(d, 0, "site/ made: %s", strerror(errno));
            return;
        }
        (void)run_cmd(d, p1, EXIT_OK, "serial 1 published");
        rc = run_cmd(d, p2, EXIT_OK, "serial 2 published");
        if (rc < 0) {
            return; /* not in this build: skipped */
        }
    }
    h = demo_http_start(err, sizeof(err));
    if (h == NULL) {
        expect(d, 0, "the web server starts: %s", err);
        return;
    }
    if (serve_published(h, "index.json") != 0 || serve_published(h, "updates/1.dsse") != 0 ||
        serve_published(h, "updates/2.dsse") != 0) {
        demo_http_stop(h);
        expect(d, 0, "site/ holds index.json, updates/1.dsse and updates/2.dsse");
        return;
    }
    printf("%s[a web server on 127.0.0.1:%u serves site/]%s\n", out_sgr(d->color, OUT_DIM),
           (unsigned int)demo_http_port(h), out_sgr_reset(d->color));
    say("A client holds only the root's public key and a state directory (mode 0700).");
    say("update reads index.json, fetches the serial it names (2), checks its SHA-256");
    say("and the signature through the delegation it carries, and applies it:");
    printf("%s$ mkdir -m 700 state%s\n", out_sgr(d->color, OUT_BOLD), out_sgr_reset(d->color));
    if (mkdirat(g_dirfd, "state", 0700) != 0) {
        demo_http_stop(h);
        d->internal = 1;
        expect(d, 0, "state/ made: %s", strerror(errno));
        return;
    }
    snprintf(url1, sizeof(url1), "http://127.0.0.1:%u/updates/1.dsse",
             (unsigned int)demo_http_port(h));
    snprintf(url2, sizeof(url2), "http://127.0.0.1:%u/index.json", (unsigned int)demo_http_port(h));
    {
        const char *const u2[] = {"update",  "--root", "pinset-demo-root.key.pub",
                                  "--state", "state",  "--index",
                                  url2,      NULL};
        const char *const u1[] = {
            "update", "--root", "pinset-demo-root.key.pub", "--state", "state", url1, NULL};
        rc = run_cmd(d, u2, EXIT_OK, "serial 2 applied");
        expect_out(d, rc, "serial 2", 1, "serial 2");
        say("An attacker on the path replays the older, validly signed serial 1: refused.");
        rc = run_cmd(d, u1, EXIT_NEGATIVE, "rejected");
        expect_err(d, rc, "rollback", "a rollback");
    }
    expect(d, demo_http_served(h) == 3, "the index and both documents were fetched over HTTP");
    demo_http_stop(h);
}

static void (*const demo_steps[DEMO_STEPS])(demo *d) = {
    step_pki,    step_fetch, step_policy, step_pass,       step_rogue,   step_report,
    step_rotate, step_lint,  step_ship,   step_app_config, step_collect, step_update,
};

/* ---- the command ---- */

typedef struct demo_args {
    const char *keep;
    int only_step;
    out_color_mode color;
} demo_args;

/* Returns -1 to go on, or an exit status. */
static int parse_args(demo_args *a, int argc, char **argv)
{
    opt_state st;
    const char *v;
    unsigned long n;
    int r;

    opt_init(&st, argc, argv);
    while ((r = opt_next(&st, &cmd_demo_spec, &v)) != OPT_END) {
        switch (r) {
        case OPT_HELP:
            opt_print_help(&cmd_demo_spec);
            return EXIT_OK;
        case OPT_POSITIONAL:
            return opt_usage_error(&cmd_demo_spec, "unexpected argument '%s'", v);
        case O_KEEP:
            if (v[0] == '\0') {
                return opt_usage_error(&cmd_demo_spec, "--keep wants a directory");
            }
            a->keep = v;
            break;
        case O_STEP:
            if (opt_parse_uint(v, DEMO_STEPS, &n) != 0 || n == 0) {
                return opt_usage_error(&cmd_demo_spec, "--step '%s': expected 1 to %d", v,
                                       DEMO_STEPS);
            }
            a->only_step = (int)n;
            break;
        case O_FORMAT:
            if (strcmp(v, "text") != 0) {
                return opt_usage_error(&cmd_demo_spec, "--format '%s': the demo has text only", v);
            }
            break;
        case O_COLOR:
            if (out_color_parse(v, &a->color) != 0) {
                return opt_usage_error(&cmd_demo_spec,
                                       "--color '%s': expected auto, never or always", v);
            }
            break;
        default:
            return EXIT_USAGE;
        }
    }
    return -1;
}

/* PKI, files, captures, servers. Returns EXIT_OK or an exit status (message in err). */
static int set_up(demo *d, char *err, size_t errcap)
{
    if (demo_pki_generate(&d->pki, DEMO_HOST, err, errcap) != 0) {
        return EXIT_INTERNAL;
    }
    if (compute_pins(d) != 0) {
        snprintf(err, errcap, "cannot compute the demo pins");
        return EXIT_INTERNAL;
    }
    if (write_pki_files(d) != 0) {
        snprintf(err, errcap, "%.200s: cannot write the certificates: %s", g_dir, strerror(errno));
        return d->keep ? EXIT_INPUT : EXIT_INTERNAL;
    }
    d->cap_fd[0] = open_capture(".capture-out");
    d->cap_fd[1] = open_capture(".capture-err");
    if (d->cap_fd[0] < 0 || d->cap_fd[1] < 0) {
        snprintf(err, errcap, "%.200s: cannot make capture files: %s", g_dir, strerror(errno));
        return d->keep ? EXIT_INPUT : EXIT_INTERNAL;
    }
    if (start_servers(d, err, errcap) != 0) {
        return EXIT_NETWORK;
    }
    return EXIT_OK;
}

static void run_steps(demo *d)
{
    for (int i = 0; i < DEMO_STEPS; i++) {
        int saved = -1;
        if (!shown(d, i + 1)) {
            /* the step still runs (later steps use its files), silently */
            int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
            fflush(stdout);
            saved = null >= 0 ? dup(STDOUT_FILENO) : -1;
            if (saved >= 0) {
                (void)dup2(null, STDOUT_FILENO);
            }
            if (null >= 0) {
                close(null);
            }
        }
        demo_steps[i](d);
        if (saved >= 0) {
            fflush(stdout);
            (void)dup2(saved, STDOUT_FILENO);
            close(saved);
        }
    }
}

static int summary(demo *d)
{
    printf("\n");
    if (d->keep) {
        printf("The files are kept in %s.\n", g_dir);
    }
    if (d->nbad > 0) {
        printf("%sdemo: %d of %d steps did not behave as expected%s\n", out_sgr(d->color, OUT_RED),
               d->nbad, DEMO_STEPS, out_sgr_reset(d->color));
        for (int i = 0; i < d->nbad && i < DEMO_MAX_BAD; i++) {
            cli_err("demo", "%s", d->bad[i]);
        }
        return EXIT_NEGATIVE;
    }
    if (d->internal) {
        cli_err("demo", "internal error while running the tour");
        return EXIT_INTERNAL;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        remove_at_exit(); /* a SIGPIPE ending runs no atexit handler */
        return cli_output_failed("demo");
    }
    printf("%sdemo: all %d steps behaved as expected%s", out_sgr(d->color, OUT_GREEN), DEMO_STEPS,
           out_sgr_reset(d->color));
    if (d->nskipped > 0) {
        printf(" (%d command%s skipped: not in this build)", d->nskipped,
               d->nskipped == 1 ? "" : "s");
    }
    printf("\n");
    return EXIT_OK;
}

static void tear_down(demo *d, int cwd)
{
    for (int i = 0; i < SRV_COUNT; i++) {
        demo_server_stop(d->srv[i]);
    }
    for (int i = 0; i < 2; i++) {
        if (d->cap_fd[i] >= 0) {
            close(d->cap_fd[i]);
        }
        free(d->cap[i]);
    }
    demo_pki_free(&d->pki);
    if ((cwd < 0 || fchdir(cwd) != 0) && chdir("/") != 0) {
        cwd = -1; /* nowhere to go back to; the directory is removed below by its path */
    }
    if (g_remove_at_exit) {
        remove_files();
    }
    g_remove_at_exit = 0;
    if (g_dirfd >= 0) {
        close(g_dirfd);
        g_dirfd = -1;
    }
    set_signals(SIG_DFL);
}

int cmd_demo(int argc, char **argv)
{
    demo_args a = {NULL, 0, OUT_COLOR_AUTO};
    demo d;
    char err[512];
    int rc, cwd;

    rc = parse_args(&a, argc, argv);
    if (rc >= 0) {
        return rc;
    }
    memset(&d, 0, sizeof(d));
    d.cap_fd[0] = d.cap_fd[1] = -1;
    d.only_step = a.only_step;
    d.keep = a.keep != NULL;
    d.color = out_color_enabled(stdout, a.color);
    signal(SIGPIPE, SIG_IGN); /* a peer that hangs up must not kill the tour */
    cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    set_signals(on_signal);
    rc = make_dir_guarded(a.keep, err, sizeof(err));
    if (rc == EXIT_OK) {
        rc = set_up(&d, err, sizeof(err));
    }
    if (rc != EXIT_OK) {
        cli_err("demo", "%s", err);
        goto out;
    }
    printf("%spinset demo%s: pinning, shown on loopback servers (no DNS, no network)\n",
           out_sgr(d.color, OUT_BOLD), out_sgr_reset(d.color));
    printf("  working in %s (%s)\n", g_dir, d.keep ? "kept" : "removed at exit");
    run_steps(&d);
    rc = summary(&d);
out:
    tear_down(&d, cwd);
    if (cwd >= 0) {
        close(cwd);
    }
    return rc;
}
