/*
 * report_receiver.h - a loopback HTTP(S) receiver of POSTed reports, on
 * libmicrohttpd, for the reporter's tests. Test-only.
 *
 * It listens on 127.0.0.1 (an ephemeral port, kept across down/up), one
 * thread per connection, and answers every POST with the status set by
 * receiver_answer, after its delay. Bodies answered 2xx are kept (they are
 * what was delivered); every complete request is counted. It can go down
 * (the port closed: connections refused) and come back on the same port.
 */
#ifndef PINSET_TEST_REPORT_RECEIVER_H
#define PINSET_TEST_REPORT_RECEIVER_H

#include <stddef.h>

typedef struct report_receiver report_receiver;

/* A delay meaning "until receiver_answer is called again" (at most 30 s). */
#define RECEIVER_HOLD 0xffffffffu

/*
 * Start answering 200 at once. cert_pem and key_pem (PEM text: the chain,
 * leaf first, and its key) make it HTTPS; NULL, NULL plain HTTP. NULL on
 * failure, with a message on stderr.
 */
report_receiver *receiver_start(const char *cert_pem, const char *key_pem);
/* The same on a given port (0: ephemeral), e.g. another server where one went down. */
report_receiver *receiver_start_at(const char *cert_pem, const char *key_pem, unsigned int port);

unsigned int receiver_port(const report_receiver *r);

/*
 * From now on answer `status` after `delay_ms`. A request keeps the answer
 * and delay it arrived under, except a held one (RECEIVER_HOLD), which takes
 * the new answer at once.
 */
void receiver_answer(report_receiver *r, int status, unsigned int delay_ms);

/* Stop listening (connections refused) / listen again on the same port: 0 or -1. */
int receiver_down(report_receiver *r);
int receiver_up(report_receiver *r);

/* Complete requests seen (any answer), and those waiting under RECEIVER_HOLD now. */
unsigned int receiver_requests(report_receiver *r);
unsigned int receiver_holding(report_receiver *r);

/* Bodies answered 2xx, and how many of them contain `needle`. */
size_t receiver_accepted(report_receiver *r);
size_t receiver_count(report_receiver *r, const char *needle);
/* A copy of the i-th accepted body (free it), or NULL. */
char *receiver_body(report_receiver *r, size_t i);

/* Stop, wake held requests, free everything. NULL is a no-op. */
void receiver_stop(report_receiver *r);

/* ---- what the reporter's tests share ---- */

void receiver_sleep_ms(unsigned int ms);

/* Poll (bounded: 60 s) until cond holds, else fail the test (cmocka's fail_msg). */
#define RECEIVER_WAIT_FOR(cond)                            \
    do {                                                   \
        int waited_ = 0;                                   \
        while (!(cond) && waited_++ < 6000) {              \
            receiver_sleep_ms(10);                         \
        }                                                  \
        if (!(cond)) {                                     \
            fail_msg("%s: not reached after 60 s", #cond); \
        }                                                  \
    } while (0)

/* A report document gathered in memory (p NUL-terminated; free p). */
struct receiver_doc {
    char *p;
    size_t n;
};

/* A pinset_write_fn sink appending to the struct receiver_doc given as payload: 0, or -1. */
int receiver_doc_sink(const char *buf, size_t len, void *payload);

#endif /* PINSET_TEST_REPORT_RECEIVER_H */
