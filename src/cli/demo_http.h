/*
 * demo_http.h - a tiny loopback HTTP server for `pinset demo`: it serves
 * documents the demo hands it (the published update files), from memory, on
 * 127.0.0.1 and an ephemeral port (libmicrohttpd, one internal thread).
 *
 * Only GET of a path put with demo_http_put; anything else is 404 (405 for
 * another method). No files are read: the demo copies each document in.
 *
 * Caveats: for the demo only: plain HTTP, a handful of documents, each at
 * most DEMO_HTTP_DOC_MAX bytes.
 */
#ifndef PINSET_CLI_DEMO_HTTP_H
#define PINSET_CLI_DEMO_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define DEMO_HTTP_DOC_MAX (1u << 20)

typedef struct demo_http demo_http;

/* Start serving (signals stay with the calling thread). NULL with a one-line message in err. */
demo_http *demo_http_start(char *err, size_t errcap);
uint16_t demo_http_port(const demo_http *h);
/* Serve `data` at `path` (starting with '/'), replacing what was there. 0, or -1. */
int demo_http_put(demo_http *h, const char *path, const void *data, size_t len);
/* GET requests answered 200 so far. */
unsigned long demo_http_served(demo_http *h);
/* Stop the server, join its thread, free everything. NULL is a no-op. */
void demo_http_stop(demo_http *h);

#endif /* PINSET_CLI_DEMO_HTTP_H */
