/*
 * tls_server.h - a TLS server on 127.0.0.1 (ephemeral port) in a thread of
 * the test process, for the verdict path's attack tests. Test-only.
 *
 * Each connection: handshake, write a short HTTP/1.0 response whose body is
 * "hello\n" (so curl and plain TLS clients can both use it), read until the peer closes
 * (bounded by a 5 s receive timeout), close. Connections are served one at a
 * time; tls_server_stop() stops the thread and frees everything.
 */
#ifndef PINSET_TEST_TLS_SERVER_H
#define PINSET_TEST_TLS_SERVER_H

typedef struct tls_server tls_server;

/*
 * Start a server sending the PEM chain file `chain` (leaf first, sent as is)
 * with the key `key`. `version` is 0 (any), TLS1_2_VERSION or TLS1_3_VERSION.
 * Returns NULL on failure (with a message on stderr).
 */
tls_server *tls_server_start(const char *chain, const char *key, int version);

/* The port the server listens on. */
unsigned int tls_server_port(const tls_server *srv);

/* Number of handshakes the server completed, and how many of them were resumed. */
unsigned int tls_server_handshakes(const tls_server *srv);
unsigned int tls_server_resumed(const tls_server *srv);

/* Stop the thread, close the socket, free everything. NULL is a no-op. */
void tls_server_stop(tls_server *srv);

/*
 * A plain TCP connection to 127.0.0.1:port with 5 s send/receive timeouts;
 * -1 on failure.
 */
int tls_connect_tcp(unsigned int port);

#endif /* PINSET_TEST_TLS_SERVER_H */
