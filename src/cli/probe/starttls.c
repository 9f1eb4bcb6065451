/*
 * starttls.c - the plain-text preambles before TLS: RFC 3207 smtp, RFC 2595
 * imap and pop3, RFC 4217 ftp, RFC 6120 xmpp and the PostgreSQL SSLRequest.
 *
 * Each protocol is a description in one table (what the client sends first,
 * then steps: what the server must answer and what the client sends next);
 * one small interpreter runs every one of them. After the last step, TLS
 * starts on the same socket. Replies are read with bounds: a line or chunk
 * of at most STARTTLS_BUF bytes, STARTTLS_MAX_BYTES in all.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "probe/conn.h"

/* How the server's answers are framed. */
enum framing {
    FRAME_LINES, /* CRLF lines, each judged on its own (smtp, imap, pop3, ftp) */
    FRAME_TEXT,  /* a growing text searched for markers (xmpp's XML stream) */
    FRAME_BYTE   /* exactly one byte, so nothing of the TLS stream is read (postgres) */
};

#define DIALOGUE_MAX_STEPS 3

/*
 * One step: wait for the server's answer, then send `send` (NULL: the last
 * step, TLS starts). FRAME_LINES: a line starting with `expect` is the answer;
 * with `multiline`, "<expect>-" continues a multi-line reply; a line starting
 * with `skip` is passed over; any other line is a refusal. FRAME_TEXT: the
 * text holds `expect` and `expect2` (if set); one holding `refuse` is a
 * refusal. FRAME_BYTE: the byte is expect[0]; any other is a refusal.
 */
struct step_desc {
    const char *expect;
    const char *expect2;
    const char *skip;
    const char *refuse;
    int multiline;
    const char *send;
};

struct dialogue {
    const char *name;
    uint16_t port; /* the protocol's usual port */
    enum framing framing;
    /* what the client sends first, if it speaks first: hello, or hello + the
       server name + hello_after_name when hello_after_name is set */
    const char *hello;
    size_t hello_len;
    const char *hello_after_name;
    struct step_desc steps[DIALOGUE_MAX_STEPS]; /* ends at expect == NULL */
};

/* SSLRequest: length 8, code 80877103 (PostgreSQL protocol, section 55.2.10) */
static const char pg_sslrequest[8] = {0, 0, 0, 8, 0x04, (char)0xd2, 0x16, 0x2f};

static const struct dialogue dialogues[] = {
    [PROBE_STARTTLS_NONE] = {.name = "none", .port = 443, .framing = FRAME_LINES},
    /* RFC 3207: 220 greeting, EHLO, 250, STARTTLS, 220 */
    [PROBE_STARTTLS_SMTP] =
        {.name = "smtp",
         .port = 25,
         .framing = FRAME_LINES,
         .steps = {{.expect = "220", .multiline = 1, .send = "EHLO localhost\r\n"},
                   {.expect = "250", .multiline = 1, .send = "STARTTLS\r\n"},
                   {.expect = "220", .multiline = 1}}},
    /* RFC 2595 section 3.1: untagged data may come before the tagged answer */
    [PROBE_STARTTLS_IMAP] = {.name = "imap",
                             .port = 143,
                             .framing = FRAME_LINES,
                             .steps = {{.expect = "* OK", .send = "P1 STARTTLS\r\n"},
                                       {.expect = "P1 OK", .skip = "*"}}},
    /* RFC 2595 section 4 */
    [PROBE_STARTTLS_POP3] = {.name = "pop3",
                             .port = 110,
                             .framing = FRAME_LINES,
                             .steps = {{.expect = "+OK", .send = "STLS\r\n"}, {.expect = "+OK"}}},
    /* RFC 4217 section 4 */
    [PROBE_STARTTLS_FTP] = {.name = "ftp",
                            .port = 21,
                            .framing = FRAME_LINES,
                            .steps = {{.expect = "220", .multiline = 1, .send = "AUTH TLS\r\n"},
                                      {.expect = "234", .multiline = 1}}},
    /* RFC 6120 section 5: the features must offer <starttls>, the answer must be <proceed> */
    [PROBE_STARTTLS_XMPP] = {.name = "xmpp",
                             .port = 5222,
                             .framing = FRAME_TEXT,
                             .hello = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                                      "xmlns:stream='http://etherx.jabber.org/streams' to='",
                             .hello_after_name = "' version='1.0'>",
                             .steps = {{.expect = "<starttls",
                                        .expect2 = "</stream:features>",
                                        .send =
                                            "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"},
                                       {.expect = "<proceed", .refuse = "<failure"}}},
    /* PostgreSQL: SSLRequest, then one byte, 'S' to go on */
    [PROBE_STARTTLS_POSTGRES] = {.name = "postgres",
                                 .port = 5432,
                                 .framing = FRAME_BYTE,
                                 .hello = pg_sslrequest,
                                 .hello_len = sizeof(pg_sslrequest),
                                 .steps = {{.expect = "S"}}},
};

#define NDIALOGUES (sizeof(dialogues) / sizeof(dialogues[0]))

int probe_starttls_parse(const char *s, probe_starttls *out)
{
    for (size_t i = 0; i < NDIALOGUES; i++) {
        if (strcmp(s, dialogues[i].name) == 0) {
            *out = (probe_starttls)i;
            return 0;
        }
    }
    return -1;
}

const char *probe_starttls_name(probe_starttls p)
{
    return (size_t)p < NDIALOGUES ? dialogues[p].name : "unknown";
}

uint16_t probe_starttls_port(probe_starttls p)
{
    return (size_t)p < NDIALOGUES ? dialogues[p].port : 443;
}

static const struct dialogue *dialogue_of(const struct conn *c)
{
    return &dialogues[c->e->opts.starttls];
}

static void on_readable(evutil_socket_t fd, short what, void *arg);

static int send_bytes(struct conn *c, const void *data, size_t len)
{
    char ebuf[128];
    ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);

    if (w < 0 || (size_t)w != len) {
        int err = w < 0 ? errno : EAGAIN;
        if (probe__errno_status(err) == PROBE_E_RESET) {
            probe__finish(c, PROBE_E_RESET, "reset: %s reset the connection during starttls",
                          c->res.address);
        } else {
            probe__finish(c, PROBE_E_STARTTLS, "starttls: cannot send to %s: %s", c->res.address,
                          probe__strerror(err, ebuf, sizeof(ebuf)));
        }
        return -1;
    }
    return 0;
}

/* The server accepted the current step: send what follows, or start TLS. 0 or -1 (finished). */
static int step_done(struct conn *c, int *tls_now)
{
    const struct step_desc *s = &dialogue_of(c)->steps[c->st_state];

    *tls_now = s->send == NULL;
    if (*tls_now) {
        return 0;
    }
    if (send_bytes(c, s->send, strlen(s->send)) != 0) {
        return -1;
    }
    c->st_state++;
    return 0;
}

/* FRAME_LINES: 1 the step's answer, 0 a line to pass over, -1 a refusal. */
static int judge_line(const struct step_desc *s, const char *l, size_t n)
{
    size_t m = strlen(s->expect);

    if (n >= m && memcmp(l, s->expect, m) == 0) {
        return (s->multiline && n > m && l[m] == '-') ? 0 : 1;
    }
    if (s->skip != NULL && n >= strlen(s->skip) && memcmp(l, s->skip, strlen(s->skip)) == 0) {
        return 0;
    }
    return -1;
}

/* Handle every complete line in the buffer. */
static void run_lines(struct conn *c)
{
    const struct dialogue *d = dialogue_of(c);
    char shown[96];
    char *nl;
    int tls_now;

    while (c->blen > 0 && (nl = memchr(c->buf, '\n', c->blen)) != NULL) {
        size_t n = (size_t)(nl - c->buf) + 1;
        size_t ln = n - 1;
        int v;
        if (ln > 0 && c->buf[ln - 1] == '\r') {
            ln--;
        }
        v = judge_line(&d->steps[c->st_state], c->buf, ln);
        if (v < 0) {
            probe__printable(shown, sizeof(shown), c->buf, ln);
            probe__finish(c, PROBE_E_STARTTLS, "starttls: %s server %s refused: '%s'", d->name,
                          c->res.address, shown);
            return;
        }
        memmove(c->buf, c->buf + n, c->blen - n);
        c->blen -= n;
        if (v == 0) {
            continue;
        }
        if (step_done(c, &tls_now) != 0) {
            return;
        }
        if (tls_now) {
            if (c->blen > 0) {
                probe__finish(c, PROBE_E_STARTTLS, "starttls: %s sent data after its go-ahead",
                              c->res.address);
                return;
            }
            probe__tls_start(c);
            return;
        }
    }
    if (c->blen == sizeof(c->buf)) {
        probe__finish(c, PROBE_E_STARTTLS, "starttls: line from %s longer than %u bytes",
                      c->res.address, (unsigned int)sizeof(c->buf));
        return;
    }
    probe__wait_fd(c, EV_READ, on_readable);
}

/* FRAME_TEXT: the text so far (NUL-terminated) against the current step. */
static void run_text(struct conn *c)
{
    const struct dialogue *d = dialogue_of(c);
    const struct step_desc *s = &d->steps[c->st_state];
    int tls_now;

    c->buf[c->blen < sizeof(c->buf) ? c->blen : sizeof(c->buf) - 1] = '\0';
    if (strstr(c->buf, s->expect) != NULL &&
        (s->expect2 == NULL || strstr(c->buf, s->expect2) != NULL)) {
        if (step_done(c, &tls_now) != 0) {
            return;
        }
        if (tls_now) {
            probe__tls_start(c);
            return;
        }
        c->blen = 0; /* the next answer is judged on its own */
    } else if (s->refuse != NULL && strstr(c->buf, s->refuse) != NULL) {
        probe__finish(c, PROBE_E_STARTTLS, "starttls: %s server %s refused starttls", d->name,
                      c->res.address);
        return;
    }
    if (c->blen >= sizeof(c->buf) - 1) {
        probe__finish(c, PROBE_E_STARTTLS, "starttls: %s features from %s longer than %u bytes",
                      d->name, c->res.address, (unsigned int)sizeof(c->buf) - 1);
        return;
    }
    probe__wait_fd(c, EV_READ, on_readable);
}

/* FRAME_BYTE: one byte, the answer or a refusal. */
static void run_byte(struct conn *c)
{
    const struct dialogue *d = dialogue_of(c);
    int tls_now;

    if (c->buf[0] != d->steps[c->st_state].expect[0]) {
        probe__finish(c, PROBE_E_STARTTLS, "starttls: %s server %s does not accept tls", d->name,
                      c->res.address);
        return;
    }
    if (step_done(c, &tls_now) != 0) {
        return;
    }
    if (tls_now) {
        probe__tls_start(c);
        return;
    }
    c->blen = 0;
    probe__wait_fd(c, EV_READ, on_readable);
}

static size_t read_room(const struct conn *c)
{
    switch (dialogue_of(c)->framing) {
    case FRAME_BYTE:
        return 1; /* never read into the TLS stream */
    case FRAME_TEXT:
        return sizeof(c->buf) - 1 - c->blen; /* room for the NUL */
    case FRAME_LINES:
    default:
        return sizeof(c->buf) - c->blen;
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    ssize_t r;

    (void)what;
    r = recv(fd, c->buf + c->blen, read_room(c), 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (r <= 0) {
        int err = r < 0 ? errno : 0;
        if (err != 0 && probe__errno_status(err) == PROBE_E_RESET) {
            probe__finish(c, PROBE_E_RESET, "reset: %s reset the connection during starttls",
                          c->res.address);
        } else {
            probe__finish(c, PROBE_E_CLOSED, "closed: %s closed the connection during starttls",
                          c->res.address);
        }
        return;
    }
    c->blen += (size_t)r;
    c->total_in += (size_t)r;
    if (c->total_in > STARTTLS_MAX_BYTES) {
        probe__finish(c, PROBE_E_STARTTLS, "starttls: %s sent more than %u bytes before tls",
                      c->res.address, (unsigned int)STARTTLS_MAX_BYTES);
        return;
    }
    switch (dialogue_of(c)->framing) {
    case FRAME_BYTE:
        run_byte(c);
        return;
    case FRAME_TEXT:
        run_text(c);
        return;
    case FRAME_LINES:
    default:
        run_lines(c);
        return;
    }
}

/* The client's first words, for protocols where the client speaks first. 0 or -1 (finished). */
static int send_hello(struct conn *c)
{
    const struct dialogue *d = dialogue_of(c);
    const char *name = c->t->servername != NULL ? c->t->servername : c->t->host;
    char hello[512];
    int n;

    if (d->hello == NULL) {
        return 0;
    }
    if (d->hello_after_name == NULL) {
        return send_bytes(c, d->hello, d->hello_len);
    }
    n = snprintf(hello, sizeof(hello), "%s%s%s", d->hello, name, d->hello_after_name);
    if (n < 0 || (size_t)n >= sizeof(hello)) {
        probe__finish(c, PROBE_E_INTERNAL, "internal: %s stream header too long", d->name);
        return -1;
    }
    return send_bytes(c, hello, (size_t)n);
}

void probe__starttls_begin(struct conn *c)
{
    c->step = STEP_STARTTLS;
    c->st_state = 0;
    c->blen = 0;
    c->total_in = 0;
    probe__arm_timer(c, c->e->opts.handshake_timeout_ms);
    if (send_hello(c) != 0) {
        return;
    }
    probe__wait_fd(c, EV_READ, on_readable);
}
