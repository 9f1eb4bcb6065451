/*
 * probe_server.c - the TLS endpoints of the probe benchmark (bench/bench_probe.sh):
 * ONE process (a libevent loop in a child) listening on N loopback ports,
 * half serving an EC P-256 leaf and half an RSA-2048 leaf, each with its
 * intermediate, answering one HTTP request per connection (for curl).
 *
 * An in-process server stands in for the nginx of issue 4 (nginx is not
 * installed here); it is the same server the probe tests use
 * (tests/integration/reliability/server.c).
 *
 * usage: probe_server PKIDIR N
 * Prints "PORT ec|rsa" lines on stdout, then serves until its standard input
 * reaches end of file (or SRV_MAX_SECONDS pass).
 */
#include <stdio.h>
#include <stdlib.h>

#include "probe_servers.h"

int main(int argc, char **argv)
{
    srv s;
    srv_kind *kinds;
    unsigned long n;
    char buf[64];

    if (argc != 3 || (n = strtoul(argv[2], NULL, 10)) == 0 || n > 20000) {
        fprintf(stderr, "usage: probe_server PKIDIR N (1..20000)\n");
        return 2;
    }
    kinds = calloc(n, sizeof(*kinds));
    if (kinds == NULL) {
        return 1;
    }
    for (unsigned long i = 0; i < n; i++) {
        kinds[i] = i % 2 == 0 ? SRV_TLS_EC : SRV_TLS_RSA;
    }
    if (srv_start(&s, kinds, n, argv[1]) != 0) {
        fprintf(stderr, "probe_server: cannot start\n");
        return 1;
    }
    for (unsigned long i = 0; i < n; i++) {
        printf("%u %s\n", (unsigned int)s.ports[i], i % 2 == 0 ? "ec" : "rsa");
    }
    fflush(stdout);
    while (fgets(buf, sizeof(buf), stdin) != NULL) {
    }
    srv_stop(&s);
    free(kinds);
    return 0;
}
