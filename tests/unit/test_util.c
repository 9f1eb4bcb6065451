/*
 * test_util.c - the utility layer (src/util): the DER TLV reader's bounds
 * and minimal-length rules, the bounded input reader (regular files, FIFOs,
 * pipes, size and time limits, refused kinds), the RFC 3339 parser and
 * writer, the growable buffer and the SHA-256 helpers.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, clock_gettime */

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

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "internal.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/der_tlv.h"
#include "util/digest.h"
#include "util/jsonpath.h"
#include "util/read.h"
#include "util/rfc3339.h"

/* ---- DER TLV reader ---- */

static enum pinset__der_status tlv_of(const uint8_t *buf, size_t len, struct pinset__tlv *t)
{
    struct pinset_cursor c;

    pinset__cursor_init(&c, buf, len);
    return pinset__der_read_tlv(&c, t);
}

static void tlv_reads_short_and_long_forms(void **state)
{
    static const uint8_t shortf[] = {0x04, 0x02, 0xaa, 0xbb, 0xff};
    uint8_t longf[3 + 0x80];
    struct pinset__tlv t;

    (void)state;
    assert_int_equal(tlv_of(shortf, sizeof(shortf), &t), PINSET__DER_OK);
    assert_int_equal(t.tag, 0x04);
    assert_int_equal(pinset__cursor_remaining(&t.body), 2);
    assert_ptr_equal(t.start, shortf);
    assert_int_equal(t.total, 4); /* the trailing 0xff is not part of it */
    memset(longf, 0x11, sizeof(longf));
    longf[0] = 0x30;
    longf[1] = 0x81;
    longf[2] = 0x80;
    assert_int_equal(tlv_of(longf, sizeof(longf), &t), PINSET__DER_OK);
    assert_int_equal(pinset__cursor_remaining(&t.body), 0x80);
    assert_int_equal(t.total, sizeof(longf));
}

static void tlv_refuses_what_der_forbids(void **state)
{
    static const struct {
        uint8_t b[8];
        size_t len;
        enum pinset__der_status want;
    } cases[] = {
        {{0}, 0, PINSET__DER_NO_TAG},
        {{0x1f, 0x01, 0x00}, 3, PINSET__DER_HIGH_TAG},
        {{0x30}, 1, PINSET__DER_NO_LENGTH},
        {{0x30, 0x80, 0x00, 0x00}, 4, PINSET__DER_INDEFINITE},
        {{0x30, 0x85, 1, 0, 0, 0, 0}, 7, PINSET__DER_LENGTH_TOO_LONG},
        {{0x30, 0x82, 0x01}, 3, PINSET__DER_LENGTH_TRUNCATED},
        {{0x30, 0x82, 0x00, 0x80}, 4, PINSET__DER_LENGTH_LEADING_ZERO},
        {{0x30, 0x81, 0x7f}, 3, PINSET__DER_LENGTH_SHORT_AS_LONG},
        {{0x30, 0x03, 0x01, 0x02}, 4, PINSET__DER_OVERRUN},
        {{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, 6, PINSET__DER_OVERRUN},
    };
    struct pinset__tlv t;

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(cases); i++) {
        assert_int_equal(tlv_of(cases[i].len ? cases[i].b : NULL, cases[i].len, &t), cases[i].want);
    }
}

static void tlv_stays_inside_a_sub_cursor(void **state)
{
    /* an inner element claiming more than its container holds */
    static const uint8_t buf[] = {0x30, 0x03, 0x04, 0x05, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    struct pinset__tlv outer, inner;
    struct pinset_cursor c;
    size_t len = 0;

    (void)state;
    assert_int_equal(tlv_of(buf, sizeof(buf), &outer), PINSET__DER_OK);
    assert_int_equal(pinset__der_read_tlv(&outer.body, &inner), PINSET__DER_OVERRUN);
    pinset__cursor_init(&c, buf + 1, 1);
    assert_int_equal(pinset__der_read_len(&c, &len), PINSET__DER_OK);
    assert_int_equal(len, 3);
}

/* ---- growable buffer ---- */

static void buf_grows_and_stays_terminated(void **state)
{
    struct pinset__buf b;
    char big[1000];

    (void)state;
    pinset__buf_init(&b, 100000, 0);
    assert_null(b.p);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(pinset__buf_append(&b, "ab", 2), PINSET_OK);
    }
    assert_int_equal(b.len, 2000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.p[b.len], 0);
    assert_memory_equal(b.p + 1998, "ab", 2);
    memset(big, 'x', sizeof(big));
    assert_int_equal(pinset__buf_sink(big, sizeof(big), &b), 0);
    assert_int_equal(b.len, 3000);
    assert_int_equal(pinset__buf_append(&b, NULL, 0), PINSET_OK);
    pinset__buf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    pinset__buf_free(&b); /* twice is harmless */
    pinset__buf_free(NULL);
}

static void buf_stops_at_its_maximum(void **state)
{
    struct pinset__buf b;

    (void)state;
    pinset__buf_init(&b, 10, 1);
    assert_int_equal(pinset__buf_append(&b, "0123456789", 10), PINSET_OK);
    assert_int_equal(b.cap, 11); /* never past max + 1 */
    assert_int_equal(pinset__buf_append(&b, "x", 1), PINSET_E_LIMIT);
    assert_int_equal(b.len, 10); /* unchanged */
    assert_string_equal((const char *)b.p, "0123456789");
    assert_int_equal(pinset__buf_sink("x", 1, &b), 1);
    /* sizes that would wrap size_t */
    assert_int_equal(pinset__buf_reserve(&b, SIZE_MAX), PINSET_E_LIMIT);
    assert_int_equal(pinset__buf_reserve(&b, SIZE_MAX - 5), PINSET_E_LIMIT);
    pinset__buf_free(&b);
    pinset__buf_init(&b, SIZE_MAX, 0);
    assert_int_equal(pinset__buf_append(&b, "a", 1), PINSET_OK);
    assert_int_equal(pinset__buf_reserve(&b, SIZE_MAX), PINSET_E_LIMIT);
    assert_int_equal(pinset__buf_reserve(&b, SIZE_MAX - 1), PINSET_E_LIMIT);
    pinset__buf_free(&b);
}

static void buf_reports_allocation_failure(void **state)
{
    struct pinset__buf b;

    (void)state;
    for (int wipe = 0; wipe <= 1; wipe++) {
        pinset__buf_init(&b, 1 << 20, wipe);
        assert_int_equal(pinset__buf_append(&b, "abc", 3), PINSET_OK);
        pinset__alloc_fail_at(1);
        assert_int_equal(pinset__buf_reserve(&b, 4096), PINSET_E_NOMEM);
        pinset__alloc_fail_at(0);
        assert_int_equal(b.len, 3); /* the content survives */
        assert_string_equal((const char *)b.p, "abc");
        pinset__buf_free(&b);
    }
}

/* ---- bounded reader ---- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A temporary file of n bytes of 'A'; the caller unlinks it. */
static void temp_file(char *path, size_t cap, size_t n)
{
    char block[4096];
    int fd;

    snprintf(path, cap, "/tmp/pinset-util-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    memset(block, 'A', sizeof(block));
    while (n > 0) {
        size_t k = n < sizeof(block) ? n : sizeof(block);
        assert_int_equal(write(fd, block, k), (ssize_t)k);
        n -= k;
    }
    close(fd);
}

static void read_regular_file_and_its_bound(void **state)
{
    struct pinset__buf b;
    pinset_diag d = PINSET_DIAG_INIT;
    char path[64];

    (void)state;
    temp_file(path, sizeof(path), 100000);
    assert_int_equal(pinset__read_path(&b, path, 100000, 1000, 0, &d), PINSET_OK);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.p[0], 'A');
    assert_int_equal(b.p[b.len], 0);
    pinset__buf_free(&b);
    /* one byte over: refused by its size before reading */
    assert_int_equal(pinset__read_path(&b, path, 99999, 1000, 0, &d), PINSET_E_LIMIT);
    assert_non_null(strstr(d.message, "file of 100000 bytes exceeds the limit of 99999 bytes"));
    assert_string_equal(d.input, path);
    assert_null(strstr(d.message, path));
    pinset__buf_free(&b);
    /* an empty file is an empty input, not an error */
    unlink(path);
    temp_file(path, sizeof(path), 0);
    assert_int_equal(pinset__read_path(&b, path, 10, 1000, 0, &d), PINSET_OK);
    assert_int_equal(b.len, 0);
    pinset__buf_free(&b);
    unlink(path);
    /* missing */
    assert_int_equal(pinset__read_path(&b, path, 10, 1000, 0, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "cannot open: "));
    pinset__buf_free(&b);
}

static void read_refuses_directories_and_devices(void **state)
{
    struct pinset__buf b;
    pinset_diag d = PINSET_DIAG_INIT;
    int fd;

    (void)state;
    assert_int_equal(pinset__read_path(&b, "/tmp", 10, 1000, PINSET__READ_FIFO, &d), PINSET_E_IO);
    assert_string_equal(d.message, "not a regular file (a directory)");
    pinset__buf_free(&b);
    assert_int_equal(pinset__read_path(&b, "/dev/zero", 10, 1000, PINSET__READ_FIFO, &d),
                     PINSET_E_IO);
    assert_string_equal(d.message, "not a regular file (a character device)");
    pinset__buf_free(&b);
    /* by descriptor too: a device is never read (standard input on a terminal, /dev/zero) */
    fd = open("/dev/zero", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pinset__read_fd(&b, fd, "standard input", 10, 1000, &d), PINSET_E_IO);
    assert_string_equal(d.message, "not a regular file or pipe (a character device)");
    pinset__buf_free(&b);
    close(fd);
}

/* A child that writes n bytes of 'B' to fd (then waits `hold` seconds before closing). */
static pid_t writer(int fd, size_t n, unsigned hold)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        char block[4096];

        memset(block, 'B', sizeof(block));
        while (n > 0) {
            size_t k = n < sizeof(block) ? n : sizeof(block);
            if (write(fd, block, k) != (ssize_t)k) {
                _exit(1);
            }
            n -= k;
        }
        sleep(hold);
        _exit(0);
    }
    return pid;
}

static void read_pipes_under_both_bounds(void **state)
{
    struct pinset__buf b;
    pinset_diag d = PINSET_DIAG_INIT;
    int fds[2], status;
    double t0;
    pid_t pid;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    /* a pipe read to its end */
    assert_int_equal(pipe(fds), 0);
    pid = writer(fds[1], 300000, 0);
    close(fds[1]);
    assert_int_equal(pinset__read_fd(&b, fds[0], "standard input", 1 << 20, 10000, &d), PINSET_OK);
    assert_int_equal(b.len, 300000);
    assert_int_equal(b.p[299999], 'B');
    pinset__buf_free(&b);
    close(fds[0]);
    waitpid(pid, &status, 0);
    /* more than the bound: refused without reading it all */
    assert_int_equal(pipe(fds), 0);
    pid = writer(fds[1], 10 << 20, 0);
    close(fds[1]);
    assert_int_equal(pinset__read_fd(&b, fds[0], "standard input", 100000, 10000, &d),
                     PINSET_E_LIMIT);
    assert_string_equal(d.message, "input exceeds the limit of 100000 bytes");
    assert_string_equal(d.input, "standard input");
    pinset__buf_free(&b);
    close(fds[0]);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    /* a writer that never finishes: the time bound */
    assert_int_equal(pipe(fds), 0);
    pid = writer(fds[1], 10, 30);
    close(fds[1]);
    t0 = now_s();
    assert_int_equal(pinset__read_fd(&b, fds[0], "standard input", 1000, 300, &d), PINSET_E_IO);
    assert_true(now_s() - t0 < 3.0);
    assert_string_equal(d.message, "no end of input within 300 ms");
    pinset__buf_free(&b);
    close(fds[0]);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static void read_fifos(void **state)
{
    char dir[] = "/tmp/pinset-util-fifo-XXXXXX";
    char fifo[256];
    struct pinset__buf b;
    pinset_diag d = PINSET_DIAG_INIT;
    int hold, status;
    double t0;
    pid_t pid;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/f", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    /* refused unless asked for */
    assert_int_equal(pinset__read_path(&b, fifo, 1000, 1000, 0, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "not a regular file (a fifo)"));
    pinset__buf_free(&b);
    /* no writer: an empty input at once, never a hang in open() */
    t0 = now_s();
    assert_int_equal(pinset__read_path(&b, fifo, 1000, 5000, PINSET__READ_FIFO, &d), PINSET_OK);
    assert_int_equal(b.len, 0);
    assert_true(now_s() - t0 < 1.0);
    pinset__buf_free(&b);
    /* a writer that stays silent: the time bound */
    hold = open(fifo, O_RDWR | O_NONBLOCK); /* Linux: a FIFO end that never closes */
    assert_true(hold >= 0);
    assert_int_equal(write(hold, "xyz", 3), 3);
    t0 = now_s();
    assert_int_equal(pinset__read_path(&b, fifo, 1000, 300, PINSET__READ_FIFO, &d), PINSET_E_IO);
    assert_non_null(strstr(d.message, "no end of input within 300 ms"));
    assert_true(now_s() - t0 < 3.0);
    pinset__buf_free(&b);
    close(hold);
    /* a writer that finishes: read whole (the writer connects after our open, so retry) */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int w = open(fifo, O_WRONLY);
        _exit(w >= 0 && write(w, "hello", 5) == 5 ? 0 : 1);
    }
    /* the child may be slow to start on a loaded machine: retry for up to 30 s (bounded) */
    t0 = now_s();
    for (;;) {
        assert_int_equal(pinset__read_path(&b, fifo, 1000, 5000, PINSET__READ_FIFO, &d), PINSET_OK);
        if (b.len > 0 || now_s() - t0 > 30.0) {
            break;
        }
        pinset__buf_free(&b);
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    assert_int_equal(b.len, 5);
    assert_string_equal((const char *)b.p, "hello");
    pinset__buf_free(&b);
    waitpid(pid, &status, 0);
    unlink(fifo);
    rmdir(dir);
}

/* ---- RFC 3339 ---- */

static void time_round_trips(void **state)
{
    static const int64_t times[] = {0,
                                    1,
                                    59,
                                    86399,
                                    86400,
                                    951782400,
                                    1000000000,
                                    4107542400LL,
                                    253402300799LL,
                                    -1,
                                    -62167219200LL};
    char buf[PINSET__TIME_TEXT_MAX];
    int64_t t;

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(times); i++) {
        assert_int_equal(pinset__time_write(buf, sizeof(buf), times[i]), 0);
        assert_int_equal(strlen(buf), 20);
        assert_int_equal(pinset__time_parse(&t, buf, 20, PINSET__TIME_LENIENT), 0);
        assert_int_equal(t, times[i]);
        if (times[i] >= 0) {
            assert_int_equal(pinset__time_parse(&t, buf, 20, 0), 0);
            assert_int_equal(t, times[i]);
        }
    }
    assert_int_equal(pinset__time_write(buf, sizeof(buf), 951782400), 0);
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    assert_int_equal(pinset__time_write(buf, sizeof(buf), -1), 0);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    /* the calendar both ways, over four centuries and across the epoch */
    for (int64_t days = -200000; days < 200000; days += 97) {
        int64_t y;
        unsigned m, d;

        pinset__civil_from_days(days, &y, &m, &d);
        assert_int_equal(pinset__days_from_civil(y, m, d), days);
    }
}

static void time_parse_forms(void **state)
{
    int64_t t = 0;

    (void)state;
    assert_int_equal(pinset__time_parse(&t, "2000-02-29", 10, 0), 0);
    assert_int_equal(t, 951782400);
    assert_int_equal(pinset__time_parse(&t, "1970-01-01t00:00:01z", 20, 0), 0);
    assert_int_equal(t, 1);
    /* lenient: fractions, offsets, a space, the leap second */
    assert_int_equal(pinset__time_parse(&t, "2001-09-09T01:46:40.123Z", 24, PINSET__TIME_LENIENT),
                     0);
    assert_int_equal(t, 1000000000);
    assert_int_equal(pinset__time_parse(&t, "2001-09-09T03:46:40+02:00", 25, PINSET__TIME_LENIENT),
                     0);
    assert_int_equal(t, 1000000000);
    assert_int_equal(pinset__time_parse(&t, "2001-09-08 23:46:40-02:00", 25, PINSET__TIME_LENIENT),
                     0);
    assert_int_equal(t, 1000000000);
    assert_int_equal(pinset__time_parse(&t, "2016-12-31T23:59:60Z", 20, PINSET__TIME_LENIENT), 0);
    assert_int_equal(t, 1483228799);
    /* ...which strict parsing refuses */
    assert_int_equal(pinset__time_parse(&t, "2001-09-09T01:46:40.123Z", 24, 0), -1);
    assert_int_equal(pinset__time_parse(&t, "2001-09-09T03:46:40+02:00", 25, 0), -1);
    assert_int_equal(pinset__time_parse(&t, "2001-09-08 23:46:40Z", 20, 0), -1);
    assert_int_equal(pinset__time_parse(&t, "2016-12-31T23:59:60Z", 20, 0), -1);
    assert_int_equal(pinset__time_parse(&t, "1969-12-31T23:59:59Z", 20, 0), -1);
}

/* A certificate's ASN1_TIME, UTCTime or GeneralizedTime, as seconds; unreadable ones refused. */
static void time_from_asn1(void **state)
{
    ASN1_TIME *t = ASN1_TIME_new();
    int64_t v = 0;

    (void)state;
    assert_non_null(t);
    assert_int_equal(ASN1_TIME_set_string(t, "491231235959Z"), 1); /* UTCTime */
    assert_int_equal(pinset__time_from_asn1(&v, t), 0);
    assert_int_equal(v, 2524607999LL);
    assert_int_equal(ASN1_TIME_set_string(t, "20500101000000Z"), 1); /* GeneralizedTime */
    assert_int_equal(pinset__time_from_asn1(&v, t), 0);
    assert_int_equal(v, 2524608000LL);
    ERR_clear_error();
    assert_int_equal(pinset__time_from_asn1(&v, NULL), -1);
    assert_int_equal(ASN1_STRING_set(t, "2050-01-01", 10), 1); /* not an ASN.1 time */
    assert_int_equal(pinset__time_from_asn1(&v, t), -1);
    assert_int_equal(ERR_peek_error(), 0); /* the error queue is left as it was */
    ASN1_TIME_free(t);
}

static void time_hostile_inputs(void **state)
{
    static const char *bad[] = {
        "",
        "2027",
        "2027-01-0",
        "2027-13-01",
        "2027-00-01",
        "2027-01-00",
        "2027-01-32",
        "2100-02-29",
        "2027-02-29",
        "2027-04-31",
        "2027-01-01T",
        "2027-01-01T24:00:00Z",
        "2027-01-01T00:60:00Z",
        "2027-01-01T00:00:61Z",
        "2027-01-01T00:00:00",
        "2027-01-01T00:00:00ZZ",
        "2027-01-01T00:00:00+24:00",
        "2027-01-01T00:00:00+01:60",
        "2027-01-01T00:00:00+0100",
        "2027-01-01T00:00:00.",
        "2027-01-01T00:00:00.5",
        "2027-01-01X00:00:00Z",
        "+027-01-01",
        "2027/01/01",
        "２０２７-01-01",
        "2027-01-01T0a:00:00Z",
    };
    char buf[PINSET__TIME_TEXT_MAX];
    char tiny[8];
    int64_t t = 42;

    (void)state;
    for (size_t i = 0; i < PINSET_ARRAY_SIZE(bad); i++) {
        assert_int_equal(pinset__time_parse(&t, bad[i], strlen(bad[i]), PINSET__TIME_LENIENT), -1);
        assert_int_equal(pinset__time_parse(&t, bad[i], strlen(bad[i]), 0), -1);
    }
    assert_int_equal(t, 42); /* untouched on failure */
    /* the length bounds the read: no NUL needed, none read past */
    assert_int_equal(pinset__time_parse(&t, "2027-01-01T00:00:00Zjunk", 20, 0), 0);
    assert_int_equal(pinset__time_parse(&t, "2027-01-01", 9, 0), -1);
    assert_int_equal(pinset__time_parse(&t, NULL, 0, 0), -1);
    /* the writer: years 0000..9999 only, and a buffer that fits */
    assert_int_equal(pinset__time_write(buf, sizeof(buf), 253402300800LL), -1);
    assert_string_equal(buf, "");
    assert_int_equal(pinset__time_write(buf, sizeof(buf), INT64_MAX), -1);
    assert_int_equal(pinset__time_write(buf, sizeof(buf), INT64_MIN), -1);
    assert_int_equal(pinset__time_write(tiny, sizeof(tiny), 0), -1);
    assert_string_equal(tiny, "");
}

/* ---- SHA-256 ---- */

/* FIPS 180-2 appendix B.1: SHA-256("abc"). */
static const uint8_t sha_abc[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

static void sha256_every_way_agrees(void **state)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t out[PINSET__SHA256_LEN];

    (void)state;
    assert_non_null(md);
    assert_non_null(ctx);
    assert_int_equal(pinset__sha256(out, (const uint8_t *)"abc", 3, NULL, NULL), 1);
    assert_memory_equal(out, sha_abc, 32);
    memset(out, 0, sizeof(out));
    assert_int_equal(pinset__sha256(out, (const uint8_t *)"abc", 3, md, NULL), 1);
    assert_memory_equal(out, sha_abc, 32);
    for (int i = 0; i < 3; i++) { /* the context is reused */
        memset(out, 0, sizeof(out));
        assert_int_equal(pinset__sha256(out, (const uint8_t *)"abc", 3, md, ctx), 1);
        assert_memory_equal(out, sha_abc, 32);
    }
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
}

/* An "encoder" writing `len` bytes of "abc..." (len <= 0: failure), like an i2d. */
static int abc_len;

static int i2d_abc(const void *obj, unsigned char **pp)
{
    (void)obj;
    if (abc_len > 0 && pp != NULL && *pp != NULL) {
        memcpy(*pp, "abc", (size_t)abc_len);
        *pp += abc_len;
    }
    return abc_len;
}

static void sha256_of_an_encoding(void **state)
{
    uint8_t out[PINSET__SHA256_LEN], scratch[8];

    (void)state;
    abc_len = 3;
    /* in the scratch buffer (no allocation), and on the heap */
    pinset__alloc_fail_at(1);
    assert_int_equal(pinset__sha256_i2d(out, i2d_abc, NULL, NULL, scratch, sizeof(scratch), 1),
                     PINSET__DIGEST_OK);
    pinset__alloc_fail_at(0);
    assert_memory_equal(out, sha_abc, 32);
    assert_int_equal(scratch[0], 0); /* wiped */
    memset(out, 0, sizeof(out));
    assert_int_equal(pinset__sha256_i2d(out, i2d_abc, NULL, NULL, scratch, 2, 0),
                     PINSET__DIGEST_OK);
    assert_memory_equal(out, sha_abc, 32);
    pinset__alloc_fail_at(1);
    assert_int_equal(pinset__sha256_i2d(out, i2d_abc, NULL, NULL, NULL, 0, 1),
                     PINSET__DIGEST_NOMEM);
    pinset__alloc_fail_at(0);
    abc_len = -1;
    assert_int_equal(pinset__sha256_i2d(out, i2d_abc, NULL, NULL, scratch, sizeof(scratch), 0),
                     PINSET__DIGEST_ENCODE);
}

/* ---- pinset__emit: a document to a sink in chunks of at most 4096 octets ---- */

struct chunks {
    size_t calls, total, largest;
    size_t refuse_at; /* refuse the call with this number (1-based); 0: never */
};

static int chunk_sink(const char *buf, size_t len, void *payload)
{
    struct chunks *c = payload;

    (void)buf;
    c->calls++;
    if (c->refuse_at != 0 && c->calls == c->refuse_at) {
        return 1;
    }
    c->total += len;
    c->largest = len > c->largest ? len : c->largest;
    return 0;
}

static void emit_chunks(void **state)
{
    static char doc[10000];
    struct chunks c = {0, 0, 0, 0};

    (void)state;
    assert_int_equal(pinset__emit(chunk_sink, &c, doc, sizeof(doc)), PINSET_OK);
    assert_int_equal(c.calls, 3); /* 4096 + 4096 + 1808 */
    assert_int_equal(c.total, sizeof(doc));
    assert_int_equal(c.largest, 4096);
    memset(&c, 0, sizeof(c));
    assert_int_equal(pinset__emit(chunk_sink, &c, doc, 0), PINSET_OK);
    assert_int_equal(c.calls, 0);
    memset(&c, 0, sizeof(c));
    c.refuse_at = 2;
    assert_int_equal(pinset__emit(chunk_sink, &c, doc, sizeof(doc)), PINSET_E_IO);
    assert_int_equal(c.calls, 2); /* nothing more after a refusal */
}

/* ---- util/jsonpath: where a value of valid JSON text is ---- */

static void jsonpath_locate_and_pos(void **state)
{
    static const char doc[] =
        "{\"a\": 1,\n \"versions\": [{\"name\": \"v1\"},\n  {\"na\\u006de\": 2, "
        "\"share\": \"x\u00e9\", \"eos\": 3}]}";
    const uint8_t *b = (const uint8_t *)doc;
    const struct pinset__jpath_elem path[] = {{"versions", 0}, {NULL, 1}, {"eos", 0}};
    const struct pinset__jpath_elem esc[] = {{"versions", 0}, {NULL, 1}, {"name", 0}};
    const struct pinset__jpath_elem past[] = {{"versions", 0}, {NULL, 2}};
    size_t n = strlen(doc), off, line, col;
    char text[64];

    (void)state;
    assert_int_equal(pinset__json_locate(b, n, path, 0, 0), 0); /* the document */
    off = pinset__json_locate(b, n, path, 3, 0);
    assert_true(off != SIZE_MAX);
    assert_memory_equal(doc + off, "3}", 2);
    pinset__json_pos(b, off, &line, &col);
    assert_int_equal(line, 3);
    assert_int_equal(col, 42); /* columns count characters: the é (2 octets) is one */
    off = pinset__json_locate(b, n, path, 3, 1);
    assert_memory_equal(doc + off, "\"eos\"", 5);
    /* a key written with an escape, an index past the end: not found as written */
    assert_int_equal(pinset__json_locate(b, n, esc, 3, 0), SIZE_MAX);
    assert_int_equal(pinset__json_locate(b, n, past, 2, 0), SIZE_MAX);
    pinset__jpath_format(path, 3, text, sizeof(text));
    assert_string_equal(text, "versions[1].eos");
}

/* ---- util/base64: one character's value ---- */

static void b64_digit_values(void **state)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    (void)state;
    for (int i = 0; i < 64; i++) {
        assert_int_equal(pinset__b64_digit((unsigned char)alphabet[i], 0), i);
        assert_int_equal(pinset__b64_digit((unsigned char)alphabet[i], 1), i);
    }
    /* the URL-safe characters only when asked for */
    assert_int_equal(pinset__b64_digit('-', 0), -1);
    assert_int_equal(pinset__b64_digit('_', 0), -1);
    assert_int_equal(pinset__b64_digit('-', 1), 62);
    assert_int_equal(pinset__b64_digit('_', 1), 63);
    /* nothing else is a digit: padding, blanks, NUL, high octets */
    for (int c = 0; c < 256; c++) {
        if (strchr(alphabet, c) == NULL || c == 0) {
            assert_int_equal(pinset__b64_digit((unsigned char)c, 0), -1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64_digit_values),
        cmocka_unit_test(jsonpath_locate_and_pos),
        cmocka_unit_test(emit_chunks),
        cmocka_unit_test(tlv_reads_short_and_long_forms),
        cmocka_unit_test(tlv_refuses_what_der_forbids),
        cmocka_unit_test(tlv_stays_inside_a_sub_cursor),
        cmocka_unit_test(buf_grows_and_stays_terminated),
        cmocka_unit_test(buf_stops_at_its_maximum),
        cmocka_unit_test(buf_reports_allocation_failure),
        cmocka_unit_test(read_regular_file_and_its_bound),
        cmocka_unit_test(read_refuses_directories_and_devices),
        cmocka_unit_test(read_pipes_under_both_bounds),
        cmocka_unit_test(read_fifos),
        cmocka_unit_test(time_round_trips),
        cmocka_unit_test(time_parse_forms),
        cmocka_unit_test(time_hostile_inputs),
        cmocka_unit_test(time_from_asn1),
        cmocka_unit_test(sha256_every_way_agrees),
        cmocka_unit_test(sha256_of_an_encoding),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
